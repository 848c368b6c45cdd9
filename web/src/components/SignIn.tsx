import { useState, type FormEvent } from 'react';
import { setToken, getToken } from '../lib/token';

/** Shown on any 401: explains how to get a token and takes one. */
export function SignIn({ reason, title }: { reason?: string; title?: string }) {
  const [value, setValue] = useState('');
  const had = getToken() !== null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = value.trim();
    if (!t) return;
    setToken(t);
    location.reload();
  };
  return (
    <main className="center-page">
      <form className="panel signin" onSubmit={submit}>
        <div className="brand brand-lg">
          <Logo /> livedash
        </div>
        <h1>{had ? 'Your token was not accepted' : (title ?? 'This dashboard needs a token')}</h1>
        <p className="muted">Ask your admin for a link with a token, or make one on the server:</p>
        <pre className="cmd">
          <code>livedash token --sub you --subscribe '&gt;'</code>
        </pre>
        <p className="muted small">
          Then open <code>/?token=…</code> once: the token is kept in this browser.
        </p>
        {had && reason ? <p className="muted small">The server said: {reason}</p> : null}
        <label htmlFor="token">Paste a token</label>
        <div className="row">
          <input
            id="token"
            type="password"
            autoComplete="off"
            spellCheck={false}
            placeholder="eyJhbGciOiJIUzI1NiIs…"
            value={value}
            onChange={(e) => setValue(e.target.value)}
            autoFocus
          />
          <button className="btn primary" type="submit" disabled={!value.trim()}>
            Sign in
          </button>
        </div>
        {had ? (
          <button
            type="button"
            className="btn link"
            onClick={() => {
              setToken(null);
              location.reload();
            }}
          >
            Forget the saved token
          </button>
        ) : null}
      </form>
    </main>
  );
}

export function Logo({ size = 22 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
      <rect width="32" height="32" rx="7" fill="var(--accent)" />
      <path d="M5 20h5l3-9 4 14 3-9h7" fill="none" stroke="#fff" strokeWidth="2.6" strokeLinecap="round" strokeLinejoin="round" />
    </svg>
  );
}

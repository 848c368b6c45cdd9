import { useEffect, useState } from 'react';
import { api, ApiError } from '../api/api';
import { Header } from '../components/Header';
import { NotifyTestButton } from '../components/NotifyTestButton';
import { Link } from '../components/Link';
import type { Dashboard } from '../lib/dashboard';
import { dashboardPath, editPath, embedPath } from '../lib/route';
import { isAdminToken } from '../lib/editor';
import { getToken, setToken } from '../lib/token';
import { SignIn } from '../components/SignIn';
import { TopicList, useLiveTopics } from '../components/TopicList';

const TYPE_ICONS: Record<string, string> = { stat: '#', chart: '∿', gauge: '◔', table: '☰', feed: '≡', alerts: '!' };

export function IndexPage() {
  const [list, setList] = useState<Dashboard[] | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const live = useLiveTopics();
  useEffect(() => {
    document.title = 'livedash';
    api.dashboards().then(
      (l) => setList([...(l ?? [])].sort((a, b) => (a.title || a.name).localeCompare(b.title || b.name))),
      (e) => setErr(e instanceof ApiError ? e : new ApiError(0, String(e))),
    );
  }, []);

  const copy = async (name: string) => {
    const url = location.origin + embedPath(name);
    try {
      await navigator.clipboard.writeText(`<iframe src="${url}" width="100%" height="600" frameborder="0"></iframe>`);
      setCopied(name);
      setTimeout(() => setCopied(null), 1500);
    } catch {
      prompt('Embed URL', url);
    }
  };

  if (err?.status === 401) return null;
  // Without a token the server lists only dashboards on public topics: when
  // there are none, signing in is the way forward, not an empty page.
  if (list && list.length === 0 && live.store.loaded && live.store.size === 0 && !getToken()) return <SignIn title="Sign in to see your dashboards" />;
  return (
    <>
      <Header stream={live.stream ?? undefined}>
        <NotifyTestButton />
        {isAdminToken(getToken()) ? (
          <Link to={editPath(null)} className="btn small primary">
            New dashboard
          </Link>
        ) : null}
      </Header>
      <main className="page index">
        <div className="index-layout">
        <TopicList live={live} />
        <section className="dashboards" aria-label="Dashboards">
        <div className="section-head">
          <h2>Dashboards</h2>
          {getToken() ? (
            <button
              className="btn link small"
              onClick={() => {
                setToken(null);
                location.reload();
              }}
            >
              Sign out
            </button>
          ) : null}
        </div>
        {err ? (
          <div className="panel">
            <h2>Dashboards could not be loaded</h2>
            <p className="muted">{err.message}</p>
          </div>
        ) : null}
        {!list && !err ? <div className="loading-page">Loading…</div> : null}
        {list && list.length === 0 ? (
          <div className="panel">
            <h2>No dashboards yet</h2>
            <p className="muted">
              Put YAML files in the directory named by <code>dashboards_dir</code> in the server config (see docs/dashboards.md), or
              start the server with <code>--demo</code> to see the built-in ones.
            </p>
          </div>
        ) : null}
        <div className="index-grid">
          {list?.map((d) => {
            const types = [...new Set((d.widgets ?? []).map((w) => w.type))];
            return (
              <article key={d.name} className="card index-card">
                <Link to={dashboardPath(d.name)} className="index-link">
                  <h2>{d.title || d.name}</h2>
                  <p className="muted small">
                    /d/{d.name} · {(d.widgets ?? []).length} widget{(d.widgets ?? []).length === 1 ? '' : 's'}
                  </p>
                  <div className="type-chips">
                    {types.map((t) => (
                      <span key={t} className="chip" title={t}>
                        <span aria-hidden="true">{TYPE_ICONS[t] ?? '·'}</span> {t}
                      </span>
                    ))}
                  </div>
                </Link>
                <div className="index-actions">
                  <Link to={dashboardPath(d.name)} className="btn small primary">
                    Open
                  </Link>
                  <button className="btn small" onClick={() => copy(d.name)} title="Copy an iframe snippet for this dashboard">
                    {copied === d.name ? 'Copied' : 'Copy embed'}
                  </button>
                </div>
              </article>
            );
          })}
        </div>
        </section>
        </div>
      </main>
    </>
  );
}

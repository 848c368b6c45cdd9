import { useEffect, useState } from 'react';
import { api, type NotifyOutcome } from '../api/api';
import { getToken, tokenClaims } from '../lib/token';

function describe(o: NotifyOutcome): string {
  switch (o.outcome) {
    case 'sent':
      return `Sent to ${o.receiver}${o.status ? ` (${o.status})` : ''}`;
    case 'pending':
      return `Queued for ${o.receiver}; no answer yet`;
    case 'retry':
      return `${o.receiver} ${o.status ? `answered ${o.status}` : 'failed'}; retrying`;
    default:
      return `${o.receiver}: ${o.error || (o.status ? `answered ${o.status}` : 'failed')}`;
  }
}

/**
 * For admins of a server with alert receivers: sends a test notification
 * through the same queue and retries as alerts, and says what happened.
 */
export function NotifyTestButton() {
  const admin = tokenClaims(getToken())?.admin === true;
  const [receivers, setReceivers] = useState<string[]>([]);
  const [receiver, setReceiver] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    if (!admin) return;
    let alive = true;
    api.notifyReceivers().then(
      (r) => {
        if (!alive) return;
        setReceivers(r.receivers ?? []);
        setReceiver((r.receivers ?? [])[0] ?? '');
      },
      () => {}, // no receivers, or not allowed: no button
    );
    return () => {
      alive = false;
    };
  }, [admin]);
  useEffect(() => {
    if (!result) return;
    const t = setTimeout(() => setResult(null), 6000);
    return () => clearTimeout(t);
  }, [result]);
  if (!admin || receivers.length === 0) return null;
  const send = async () => {
    setBusy(true);
    try {
      const o = await api.notifyTest(receiver);
      setResult({ ok: o.outcome === 'sent' || o.outcome === 'pending', text: describe(o) });
    } catch (e) {
      setResult({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="notify-test">
      {result ? (
        <span className={`notify-result ${result.ok ? 'ok' : 'bad'}`} role="status">
          {result.text}
        </span>
      ) : null}
      {receivers.length > 1 ? (
        <select aria-label="Receiver" value={receiver} onChange={(e) => setReceiver(e.target.value)}>
          {receivers.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      ) : null}
      <button className="btn small" onClick={send} disabled={busy} title={`Send a test notification to ${receiver}`}>
        {busy ? 'Sending…' : 'Test notification'}
      </button>
    </div>
  );
}

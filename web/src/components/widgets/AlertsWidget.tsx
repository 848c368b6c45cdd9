import { useRef, useState } from 'react';
import { optNum, type Widget } from '../../lib/dashboard';
import { formatAgo } from '../../lib/duration';
import type { Envelope } from '../../lib/envelope';
import { useTick } from '../hooks';
import { timeOf, useNewestList, WidgetNote } from './common';

interface AlertData {
  severity?: string;
  message?: unknown;
  state?: string;
  [k: string]: unknown;
}

const SEVERITIES = ['critical', 'warning', 'info'];

function canNotify(): boolean {
  return typeof Notification !== 'undefined';
}

/** Alert messages, newest first, coloured by severity, with their state. */
export function AlertsWidget({ widget }: { widget: Widget }) {
  const limit = optNum(widget.options, 'limit') ?? 50;
  const now = useTick(5000);
  const [notify, setNotify] = useState(() => canNotify() && Notification.permission === 'granted' && localStorage.getItem('livedash_notify') === '1');
  const notifyRef = useRef(notify);
  notifyRef.current = notify;

  const { list, loading, error } = useNewestList<Envelope<AlertData>>(
    widget,
    limit,
    (m) => m.type === 'alert',
    (m) => notifyRef.current && showNotification(m),
  );

  const toggleNotify = async () => {
    if (notify) {
      setNotify(false);
      localStorage.removeItem('livedash_notify');
      return;
    }
    const p = await Notification.requestPermission();
    if (p === 'granted') {
      setNotify(true);
      localStorage.setItem('livedash_notify', '1');
    }
  };

  // Only the newest message of a topic says whether that alert still fires.
  const newestOfTopic = new Set<string>();
  const latest = new Map<string, string>();
  for (const a of list) if (!latest.has(a.topic)) latest.set(a.topic, a.id);
  for (const id of latest.values()) newestOfTopic.add(id);
  const firing = [...latest.keys()].filter((t) => {
    const a = list.find((x) => x.topic === t);
    return a && (a.data?.state ?? 'firing') === 'firing';
  }).length;

  return (
    <div className="alerts">
      <div className="list-toolbar">
        <span className={`pill ${firing ? 'pill-bad' : 'pill-ok'}`}>{firing ? `${firing} firing` : 'All clear'}</span>
        {canNotify() && Notification.permission !== 'denied' ? (
          <button className="btn small" onClick={toggleNotify} title="Browser notifications for new alerts">
            {notify ? 'Notifications on' : 'Notify me'}
          </button>
        ) : null}
      </div>
      <ul className="list" hidden={list.length === 0}>
        {list.map((a) => {
          const sev = SEVERITIES.includes(String(a.data?.severity)) ? String(a.data.severity) : 'info';
          const state = typeof a.data?.state === 'string' ? a.data.state : 'firing';
          const old = !newestOfTopic.has(a.id);
          return (
            <li key={a.id} className={`alert sev-${sev} state-${state}${old ? ' superseded' : ''}`}>
              <span className="sev-bar" />
              <div className="alert-body">
                <div className="alert-line">
                  <span className={`sev-tag sev-${sev}`}>{sev}</span>
                  {state !== 'firing' ? <span className={`state-tag state-${state}`}>{state}</span> : null}
                  <span className="alert-msg">{a.data?.message === undefined ? a.topic : String(a.data.message)}</span>
                </div>
                <div className="meta">
                  <span>{a.topic}</span>
                  <span title={new Date(a.ts).toLocaleString()}>
                    {timeOf(a.ts)} · {formatAgo(now - a.ts)}
                  </span>
                </div>
              </div>
            </li>
          );
        })}
      </ul>
      {list.length === 0 ? (
        <div className="list-empty">
          {!loading && !error ? (
            <svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" className="empty-icon">
              <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" strokeWidth="1.6" />
              <path d="M7.5 12.5l3 3 6-6.5" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
            </svg>
          ) : null}
          <WidgetNote loading={loading} error={error} empty="No alerts" />
        </div>
      ) : error ? (
        <WidgetNote loading={false} error={error} />
      ) : null}
    </div>
  );
}

function showNotification(a: Envelope<AlertData>) {
  if (!canNotify() || Notification.permission !== 'granted') return;
  const sev = String(a.data?.severity ?? 'info');
  const state = String(a.data?.state ?? 'firing');
  try {
    new Notification(`${state === 'resolved' ? 'Resolved' : sev.toUpperCase()}: ${a.topic}`, {
      body: a.data?.message === undefined ? '' : String(a.data.message),
      tag: a.topic,
    });
  } catch {
    /* some browsers only allow notifications from a service worker */
  }
}

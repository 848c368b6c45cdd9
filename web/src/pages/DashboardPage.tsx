import { useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api/api';
import { Header } from '../components/Header';
import { StreamContext, useSize } from '../components/hooks';
import { Link } from '../components/Link';
import { WidgetCard } from '../components/WidgetCard';
import { RangePicker, TimeRangeContext, useUrlTimeRange } from '../components/TimeRange';
import { ConnectionBadge } from '../components/ConnectionBadge';
import { columnsFor, span, type Dashboard } from '../lib/dashboard';
import type { StreamClient } from '../lib/stream';
import { useDashboardStream } from '../components/useDashboardStream';
import { isAdminToken } from '../lib/editor';
import { getToken } from '../lib/token';
import { nextBoard, parseKiosk } from '../lib/kiosk';
import { dashboardPath, editPath, navigate } from '../lib/route';

/** How often an open dashboard asks whether its definition changed. */
const DEFINITION_POLL_MS = 1500;

export function DashboardPage({ name, embed = false, widgetId }: { name: string; embed?: boolean; widgetId?: string }) {
  const [dash, setDash] = useState<Dashboard | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [gridRef, size] = useSize<HTMLDivElement>();
  const kiosk = useMemo(() => (embed ? null : parseKiosk(location.search)), [embed]);
  const timeRange = useUrlTimeRange();
  const etag = useRef('');

  // Load the definition, then keep asking (cheaply: 304 until it changes)
  // so an edit made anywhere, on any node, shows within seconds.
  useEffect(() => {
    let alive = true;
    const load = () =>
      api.dashboardIfChanged(name, etag.current).then(
        (r) => {
          if (!alive || !r) return;
          etag.current = r.etag;
          setDash({ ...r.dash, widgets: r.dash.widgets ?? [] });
          setErr(null);
        },
        (e) => alive && setErr(e instanceof ApiError ? e : new ApiError(0, String(e))),
      );
    load();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') load();
    }, DEFINITION_POLL_MS);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [name]);

  // Kiosk rotation: after cycle, the next dashboard of the list (or of all).
  useEffect(() => {
    if (!kiosk?.cycleMs) return;
    const timer = setTimeout(async () => {
      const boards = kiosk.boards.length ? kiosk.boards : (await api.dashboards().catch(() => [])).map((d) => d.name);
      const next = nextBoard(boards, name);
      if (next && next !== name) navigate(dashboardPath(next) + location.search);
    }, kiosk.cycleMs);
    return () => clearTimeout(timer);
  }, [kiosk, name]);

  useEffect(() => {
    if (dash) document.title = `${dash.title || dash.name} · livedash`;
  }, [dash]);

  const widgets = dash ? (widgetId ? dash.widgets.filter((w) => w.id === widgetId) : dash.widgets) : [];
  // The stream depends only on what the widgets read: a definition that
  // changes titles or layout does not interrupt it.
  const stream = useDashboardStream(widgets, dash !== null);

  if (err) {
    if (err.status === 401) return null; // the sign-in panel takes over
    return (
      <Shell embed={embed} title={name}>
        <div className="panel center-panel">
          <h2>{err.status === 404 ? `No dashboard named “${name}”` : 'This dashboard could not be loaded'}</h2>
          <p className="muted">{err.status === 404 ? 'It may have been renamed or deleted.' : err.message}</p>
          {!embed ? <Link to="/">All dashboards</Link> : null}
        </div>
      </Shell>
    );
  }
  if (!dash) {
    return (
      <Shell embed={embed} title={name}>
        <div className="loading-page">Loading dashboard…</div>
      </Shell>
    );
  }
  if (widgetId && widgets.length === 0) {
    return (
      <Shell embed={embed} title={dash.title}>
        <div className="panel center-panel">
          <h2>No widget “{widgetId}” in {dash.title}</h2>
          <p className="muted">Widget ids: {dash.widgets.map((w) => w.id).join(', ') || 'none'}.</p>
        </div>
      </Shell>
    );
  }

  if (embed && widgetId) {
    return (
      <StreamContext.Provider value={stream}>
        <TimeRangeContext.Provider value={timeRange}>
          <main className="embed-single">{stream ? <WidgetCard widget={widgets[0]} badge={<ConnectionBadge stream={stream} compact />} /> : null}</main>
        </TimeRangeContext.Provider>
      </StreamContext.Provider>
    );
  }

  const cols = columnsFor(size.width || window.innerWidth, dash.columns);
  return (
    <StreamContext.Provider value={stream}>
      <TimeRangeContext.Provider value={timeRange}>
        <Shell embed={embed} kiosk={kiosk?.on} title={dash.title || dash.name} stream={stream} tools={
            <>
              <RangePicker />
              {isAdminToken(getToken()) ? (
                <Link to={editPath(name)} className="btn small" title="Edit this dashboard">
                  Edit
                </Link>
              ) : null}
            </>
          }>
          {widgets.length === 0 ? (
            <div className="panel center-panel">
              <h2>This dashboard has no widgets yet</h2>
              <p className="muted">
                {isAdminToken(getToken()) ? (
                  <>
                    Add widgets in the <Link to={editPath(name)}>editor</Link>, or in its YAML file (see docs/dashboards.md).
                  </>
                ) : (
                  'Add widgets to its YAML file; see docs/dashboards.md.'
                )}
              </p>
            </div>
          ) : null}
          <div ref={gridRef} className="grid" style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
            {stream
              ? widgets.map((w) => {
                  const s = span(w, cols);
                  return (
                    <div key={w.id} className="cell" style={{ gridColumn: `span ${s.col}`, gridRow: `span ${s.row}` }}>
                      <WidgetCard widget={w} />
                    </div>
                  );
                })
              : null}
          </div>
        </Shell>
      </TimeRangeContext.Provider>
    </StreamContext.Provider>
  );
}

function Shell({ embed, kiosk, title, stream, tools, children }: { embed: boolean; kiosk?: boolean; title: string; stream?: StreamClient | null; tools?: React.ReactNode; children: React.ReactNode }) {
  if (kiosk) {
    return (
      <main className="page kiosk">
        <div className="kiosk-bar">
          <h1 className="kiosk-title">{title}</h1>
          {stream ? <ConnectionBadge stream={stream} compact /> : null}
          <Clock />
        </div>
        {children}
      </main>
    );
  }
  if (embed) {
    return (
      <main className="page embed">
        {stream ? (
          <div className="embed-badge">
            <ConnectionBadge stream={stream} compact />
          </div>
        ) : null}
        {children}
      </main>
    );
  }
  return (
    <>
      <Header title={title} stream={stream === undefined ? undefined : stream}>
        {tools}
      </Header>
      <main className="page">{children}</main>
    </>
  );
}

/** The time of day, for wall screens. */
function Clock() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const t = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(t);
  }, []);
  return <time className="kiosk-clock">{now.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}</time>;
}

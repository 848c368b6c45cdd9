import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/api';
import { Header } from '../components/Header';
import { RangePicker, TimeRangeContext, useUrlTimeRange } from '../components/TimeRange';
import { StreamContext, useSize } from '../components/hooks';
import { Link } from '../components/Link';
import { WidgetCard } from '../components/WidgetCard';
import { columnsFor, span } from '../lib/dashboard';
import { dashboardNameFor, explorePlan, planDashboard, type ExploreTopic } from '../lib/explore';
import { isValidPattern } from '../lib/pattern';
import { dashboardPath, explorePath, navigate } from '../lib/route';
import { StreamClient } from '../lib/stream';
import { getToken, tokenClaims } from '../lib/token';
import { numericFields } from '../lib/values';

/** A topic changes what explore shows when it is new, changes type, or (stats) changes its numeric fields. */
function changesPlan(old: ExploreTopic | undefined, t: ExploreTopic): boolean {
  if (!old || old.type !== t.type) return true;
  if (t.type !== 'stats') return false;
  const keys = (d: unknown) => numericFields(d).map(([k]) => k).join('\n');
  return keys(old.data) !== keys(t.data);
}

/**
 * /explore?topic=PATTERN[&topic=…]: every topic that matches, with a widget
 * chosen by the type of its messages (see lib/explore.ts), backfilled from
 * history and then live. Topics that appear later join the page.
 */
export function ExplorePage({ patterns }: { patterns: string[] }) {
  const bad = patterns.filter((p) => !isValidPattern(p));
  const [topics, setTopics] = useState<Map<string, ExploreTopic> | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [stream, setStream] = useState<StreamClient | null>(null);
  const [gridRef, size] = useSize<HTMLDivElement>();
  const timeRange = useUrlTimeRange();
  const key = patterns.join('\n');

  useEffect(() => {
    document.title = `${patterns.join(', ') || 'Explore'} · livedash`;
    if (patterns.length === 0 || bad.length) return;
    let alive = true;
    const s = new StreamClient({
      patterns,
      // The last message of each topic, so the header knows the stream is
      // flowing (widgets apply each once).
      backlog: 1,
      onGiveUp: () => void api.topics(patterns[0]).catch(() => {}),
    });
    // Only what changes the plan becomes state: most messages change nothing here.
    let known: Map<string, ExploreTopic> | null = null;
    const learn = (ts: ExploreTopic[], listed = false) => {
      let next: Map<string, ExploreTopic> | null = listed && !known ? new Map() : null;
      for (const t of ts) {
        if (!changesPlan(known?.get(t.topic), t)) continue;
        next ??= new Map(known ?? []);
        next.set(t.topic, t);
      }
      if (!next) return;
      known = next;
      setTopics(next);
    };
    s.subscribe({ patterns, onMessage: (m) => learn([{ topic: m.topic, type: m.type, data: m.data, ts: m.ts }]) });
    Promise.all(patterns.map((p) => api.topics(p))).then(
      (lists) => {
        if (!alive) return;
        const ts: ExploreTopic[] = [];
        for (const l of lists) for (const t of l ?? []) ts.push({ topic: t.topic, type: t.last?.type ?? 'point', data: t.last?.data, ts: t.last?.ts });
        learn(ts, true);
      },
      (e) => alive && setErr(e instanceof ApiError ? e : new ApiError(0, String(e))),
    );
    setStream(s);
    s.start();
    return () => {
      alive = false;
      s.close();
      setStream(null);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  // The plan is fixed at the time each topic was learnt, so a widget's
  // window does not change under it as time passes.
  const plan = useMemo(() => explorePlan(patterns, [...(topics?.values() ?? [])], Date.now()), [topics, key]); // eslint-disable-line react-hooks/exhaustive-deps

  const title = patterns.length ? patterns.join(', ') : 'Explore';
  let body;
  if (patterns.length === 0) {
    body = (
      <div className="panel center-panel">
        <h2>Explore topics</h2>
        <p className="muted">
          Type a topic or a pattern above: <code>shop.*</code> is one segment, <code>shop.&gt;</code> everything under <code>shop</code>.
        </p>
      </div>
    );
  } else if (bad.length) {
    body = (
      <div className="panel center-panel">
        <h2>Not a topic pattern: {bad.join(', ')}</h2>
        <p className="muted">
          Segments are letters, digits, <code>_</code> and <code>-</code>, separated by dots; <code>*</code> is one whole segment and a final <code>&gt;</code> the rest.
        </p>
      </div>
    );
  } else if (err) {
    if (err.status === 401) return null; // the sign-in panel takes over
    body = (
      <div className="panel center-panel">
        <h2>{err.status === 403 ? 'Your token may not read these topics' : 'These topics could not be loaded'}</h2>
        <p className="muted">{err.message}</p>
        <Link to="/">All topics</Link>
      </div>
    );
  } else if (!topics) {
    body = <div className="loading-page">Loading…</div>;
  } else if (topics.size === 0) {
    body = (
      <div className="panel center-panel">
        <h2>No topic matches {title} yet</h2>
        <p className="muted">This page is live: the first message on a matching topic shows up here.</p>
      </div>
    );
  } else {
    const cols = columnsFor(size.width || window.innerWidth, 4);
    body = (
      <>
        <p className="explore-summary muted small">
          {summaryText([...topics.values()])}
          {plan.hidden.length ? ` · ${plan.hidden.length} more not shown (${plan.hidden.slice(0, 3).join(', ')}${plan.hidden.length > 3 ? ', …' : ''}): narrow the pattern` : ''}
        </p>
        <div ref={gridRef} className="grid" style={{ gridTemplateColumns: `repeat(${cols}, minmax(0, 1fr))` }}>
          {stream
            ? plan.widgets.map((w) => {
                const s = span(w, cols);
                return (
                  <div key={w.id} className="cell" style={{ gridColumn: `span ${s.col}`, gridRow: `span ${s.row}` }} data-widget={w.type}>
                    <WidgetCard widget={w} />
                  </div>
                );
              })
            : null}
        </div>
      </>
    );
  }

  return (
    <StreamContext.Provider value={stream}>
      <TimeRangeContext.Provider value={timeRange}>
        <Header title={`Explore · ${title}`} stream={stream}>
          <RangePicker />
          {tokenClaims(getToken())?.admin && topics && topics.size > 0 ? <SaveButton patterns={patterns} plan={plan} /> : null}
        </Header>
        <main className="page explore">
          <PatternForm patterns={patterns} />
          {body}
        </main>
      </TimeRangeContext.Provider>
    </StreamContext.Provider>
  );
}

function summaryText(ts: ExploreTopic[]): string {
  const by = new Map<string, number>();
  for (const t of ts) by.set(t.type, (by.get(t.type) ?? 0) + 1);
  const parts = [...by].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${n} ${t}`);
  return `${ts.length} topic${ts.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

function PatternForm({ patterns }: { patterns: string[] }) {
  const [value, setValue] = useState(patterns.join(' '));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ps = value.split(/[\s,]+/).filter(Boolean);
    navigate(explorePath(ps));
  };
  return (
    <form className="explore-form" onSubmit={submit}>
      <input
        className="filter"
        type="search"
        aria-label="Topic patterns"
        placeholder="Topics or patterns, e.g. shop.> host.*.cpu"
        value={value}
        onChange={(e) => setValue(e.target.value)}
        spellCheck={false}
      />
      <button className="btn primary" type="submit">
        Explore
      </button>
      <Link to="/" className="btn">
        All topics
      </Link>
    </form>
  );
}

/** Admins: save what explore shows as a dashboard (PUT /api/v1/dashboards/{name}). */
function SaveButton({ patterns, plan }: { patterns: string[]; plan: ReturnType<typeof explorePlan> }) {
  const [msg, setMsg] = useState<string | null>(null);
  const save = async () => {
    const name = prompt('Save as dashboard named (A-Z a-z 0-9 _ -):', dashboardNameFor(patterns));
    if (!name) return;
    try {
      await api.putDashboard(planDashboard(name.trim(), patterns.join(', '), plan));
      navigate(dashboardPath(name.trim()));
    } catch (e) {
      setMsg(e instanceof Error ? e.message : String(e));
    }
  };
  return (
    <>
      {msg ? (
        <span className="save-error small" title={msg}>
          Not saved: {msg}
        </span>
      ) : null}
      <button className="btn small" onClick={save} title="Save these widgets as a dashboard">
        Save as dashboard
      </button>
    </>
  );
}

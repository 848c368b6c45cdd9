import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api, ApiError } from '../api/api';
import { formatAgo } from '../lib/duration';
import { EMPTY, formatValue } from '../lib/format';
import { explorePath } from '../lib/route';
import { StreamClient } from '../lib/stream';
import { getToken, readPatterns, tokenClaims } from '../lib/token';
import { heldRows, makeFilter, selectRows, SORTS, sparkValue, summarize, summaryParts, TopicStore, type SortKey, type TopicRow } from '../lib/topics';
import { useTick } from './hooks';
import { Link } from './Link';
import { Sparkline } from './widgets/Sparkline';

/** Messages per topic a fresh stream starts with: the sparklines' backfill. */
const BACKLOG = 20;
const ROW_H = 44;
const OVERSCAN = 6;
const SORT_KEY = 'livedash_topic_sort';

export interface LiveTopics {
  store: TopicStore;
  version: number;
  stream: StreamClient | null;
  error: ApiError | null;
}

/**
 * Every topic the viewer may read, live: the server's list, then one stream
 * for the token's read grants (`>` and `sys.>` for an admin). Messages are
 * applied once per animation frame. The list is fetched again every 30 s
 * (every 5 s for a viewer with no grants, who cannot stream `>`): it brings
 * topics the stream cannot cover (public ones) and message types the
 * stream did not listen for yet.
 */
export function useLiveTopics(): LiveTopics {
  const [store, setStore] = useState(() => new TopicStore());
  const [version, setVersion] = useState(0);
  const [stream, setStream] = useState<StreamClient | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    const st = new TopicStore();
    setStore(st);
    let alive = true;
    let frame = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const run = () => {
      frame = 0;
      timer = null;
      if (alive && st.flush()) setVersion(st.version);
    };
    const schedule = () => {
      if (frame || timer) return;
      if (document.visibilityState === 'visible') frame = requestAnimationFrame(run);
      else timer = setTimeout(run, 250);
    };
    const load = () =>
      api.topics().then(
        (list) => {
          if (!alive) return;
          st.snapshot(list ?? []);
          setError(null);
          setVersion(st.version);
        },
        (e) => alive && setError(e instanceof ApiError ? e : new ApiError(0, String(e))),
      );
    let s: StreamClient | null = null;
    let poll: ReturnType<typeof setInterval> | undefined;
    // One stream for everything the viewer may read (GET /access: the public
    // patterns and the token's grants), so a new topic shows within a second
    // for viewers without a token too; the list is fetched again now and then.
    const begin = (patterns: string[]) => {
      if (!alive) return;
      s =
        patterns.length > 0
          ? new StreamClient({
              patterns,
              backlog: BACKLOG,
              onGiveUp: () => void api.topics().catch(() => {}),
            })
          : null;
      if (s) {
        s.subscribe({
          patterns,
          onMessage: (m) => {
            st.push(m);
            schedule();
          },
          onReset: () => void load(),
        });
        s.start();
      }
      setStream(s);
      poll = setInterval(() => document.visibilityState === 'visible' && load(), s ? 30_000 : 5_000);
    };
    load();
    api.access().then(
      (a) => begin(a.read ?? []),
      () => begin(readPatterns(tokenClaims(getToken()))),
    );
    return () => {
      alive = false;
      clearInterval(poll);
      if (frame) cancelAnimationFrame(frame);
      if (timer) clearTimeout(timer);
      s?.close();
    };
  }, []);
  return { store, version, stream, error };
}

function typeClass(t: string): string {
  return ['point', 'stats', 'event', 'alert'].includes(t) ? `type-${t}` : 'type-other';
}

/** The data of a message on one line: keys muted, values plain. */
function Summary({ m }: { m: TopicRow['last'] }) {
  return (
    <span className="topic-text" title={summarize(m, 400)}>
      {summaryParts(m).map((p, i) => (
        <span key={i} className="part">
          {p.k !== null ? <span className="k">{p.k}</span> : null}
          {p.v}
        </span>
      ))}
    </span>
  );
}

function Value({ row }: { row: TopicRow }) {
  const m = row.last;
  if (!m) return <span className="muted">{EMPTY}</span>;
  if (m.type === 'alert') {
    const d = (m.data ?? {}) as Record<string, unknown>;
    const sev = ['critical', 'warning', 'info'].includes(String(d.severity)) ? String(d.severity) : 'info';
    return (
      <>
        <span className={`sev-tag sev-${sev}`}>{sev}</span>
        <Summary m={m} />
      </>
    );
  }
  const v = sparkValue(m);
  if (v !== null) {
    const isNumber = typeof m.data === 'number' || (m.data !== null && typeof m.data === 'object' && 'value' in (m.data as object));
    return (
      <>
        <span className="topic-spark">
          <Sparkline ts={row.spark.map((p) => p.ts)} vs={row.spark.map((p) => p.v)} height={22} />
        </span>
        {isNumber ? <span className="topic-num">{formatValue(v)}</span> : <Summary m={m} />}
      </>
    );
  }
  return <Summary m={m} />;
}

/** The live, filterable, virtualised list of topics on the index page. */
export function TopicList({ live }: { live: LiveTopics }) {
  const { store, version, error } = live;
  // The filter is in the address (?filter=), so a filtered list can be shared.
  const [text, setText] = useState(() => new URLSearchParams(location.search).get('filter') ?? '');
  useEffect(() => {
    const u = new URL(location.href);
    if (text.trim()) u.searchParams.set('filter', text.trim());
    else u.searchParams.delete('filter');
    const next = u.pathname + u.search.replace(/%3E/g, '>').replace(/%2A/g, '*') + u.hash;
    if (next !== location.pathname + location.search + location.hash) history.replaceState(history.state, '', next);
  }, [text]);
  // "/" focuses the filter, as in most consoles.
  const filterRef = useRef<HTMLInputElement>(null);
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || (t && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      e.preventDefault();
      filterRef.current?.focus();
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, []);
  const [sort, setSort] = useState<SortKey>(() => {
    const s = localStorage.getItem(SORT_KEY);
    return SORTS.some((x) => x.key === s) ? (s as SortKey) : 'recent';
  });
  const filter = useMemo(() => makeFilter(text), [text]);
  // While the pointer is over the list, rows keep their places (values still
  // update, new topics go to the end): nothing moves under a click.
  const [hover, setHover] = useState(false);
  const order = useRef<{ topics: string[]; filter: typeof filter; sort: SortKey }>({ topics: [], filter, sort });
  const rows = useMemo(() => {
    const prev = order.current;
    const out = hover && prev.filter === filter && prev.sort === sort ? heldRows(prev.topics, store.all(), filter, sort) : selectRows(store.all(), filter, sort);
    order.current = { topics: out.map((r) => r.topic), filter, sort };
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [store, version, filter, sort, hover]);
  const now = useTick(1000);

  // The scroll box comes and goes (loading, no match): measure it whenever it mounts.
  const [boxH, setBoxH] = useState(0);
  const ro = useRef<ResizeObserver | null>(null);
  const box = useRef<HTMLDivElement | null>(null);
  const boxRef = useCallback((el: HTMLDivElement | null) => {
    ro.current?.disconnect();
    ro.current = null;
    box.current = el;
    if (!el) return;
    ro.current = new ResizeObserver(([e]) => setBoxH(Math.round(e.contentRect.height)));
    ro.current.observe(el);
  }, []);
  const [scrollTop, setScrollTop] = useState(0);
  // A new filter or order starts at the top (a shorter list would otherwise show blank).
  useEffect(() => {
    if (box.current) box.current.scrollTop = 0;
    setScrollTop(0);
  }, [filter, sort]);
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + (boxH || window.innerHeight)) / ROW_H) + OVERSCAN);

  const chooseSort = (k: SortKey) => {
    setSort(k);
    localStorage.setItem(SORT_KEY, k);
  };

  const total = store.size;
  const empty = store.loaded && total === 0;
  return (
    // data-version counts the store's applied batches (for tests: one per frame, not per message).
    <section className="topics" aria-label="Topics" data-version={version} data-topics={total}>
      <div className="section-head">
        <h2>
          Topics <span className="count muted">{store.loaded ? formatValue(total) : ''}</span>
        </h2>
        <div className="topics-tools">
          <input
            ref={filterRef}
            className="filter"
            type="search"
            placeholder="Filter: text, or a pattern like shop.* or shop.>"
            title="Filter topics (press / to come here)"
            aria-keyshortcuts="/"
            aria-label="Filter topics"
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
          />
          <div className="seg" role="group" aria-label="Sort topics">
            {SORTS.map((s) => (
              <button key={s.key} className={`seg-btn${sort === s.key ? ' on' : ''}`} aria-pressed={sort === s.key} onClick={() => chooseSort(s.key)}>
                {s.label}
              </button>
            ))}
          </div>
        </div>
      </div>
      {filter.kind !== 'all' ? (
        <p className="filter-note muted small">
          {filter.note ? `${filter.note}. ` : ''}
          {formatValue(rows.length)} of {formatValue(total)} topics {filter.kind === 'pattern' ? 'match the pattern' : 'contain the text'}
          {filter.kind === 'pattern' ? (
            <>
              {' · '}
              <Link to={explorePath([text.trim()])}>Explore {text.trim()}</Link>
            </>
          ) : null}
        </p>
      ) : null}
      {error && error.status !== 401 ? (
        <div className="panel">
          <h2>Topics could not be loaded</h2>
          <p className="muted">{error.message}</p>
        </div>
      ) : null}
      {!store.loaded && !error ? <div className="loading-page">Loading topics…</div> : null}
      {empty ? <FirstPoint /> : null}
      {store.loaded && !empty ? (
        <div className="card topic-table">
          <div className="topic-row topic-head" aria-hidden="true">
            <span>Topic</span>
            <span>Type</span>
            <span>Last value</span>
            <span className="num">Messages</span>
            <span className="num">Last message</span>
          </div>
          {rows.length === 0 ? (
            <p className="topic-none muted">No topic matches “{text.trim()}”.</p>
          ) : (
            <div
              ref={boxRef}
              className="topic-scroll"
              style={{ height: `max(min(${rows.length * ROW_H}px, calc(100vh - 190px)), ${Math.min(rows.length, 5) * ROW_H}px)` }}
              onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
              onPointerEnter={() => setHover(true)}
              onPointerLeave={() => setHover(false)}
            >
              <div className="topic-spacer" style={{ height: rows.length * ROW_H }} role="list">
                {rows.slice(first, last).map((r, i) => (
                  <Link
                    key={r.topic}
                    to={explorePath([r.topic])}
                    className="topic-row"
                    role="listitem"
                    style={{ transform: `translateY(${(first + i) * ROW_H}px)` }}
                    data-topic={r.topic}
                    data-count={r.count}
                    title={`Explore ${r.topic}`}
                  >
                    <span className="topic-name">{r.topic}</span>
                    <span>{r.type ? <span className={`type-chip ${typeClass(r.type)}`}>{r.type}</span> : null}</span>
                    <span className="topic-value">
                      <Value row={r} />
                    </span>
                    <span className="num topic-count">{formatValue(r.count)}</span>
                    <span className="num topic-ago muted" title={r.last ? new Date(r.last.ts).toLocaleString() : undefined}>
                      {r.last ? formatAgo(now - r.last.ts) : 'never'}
                    </span>
                  </Link>
                ))}
              </div>
            </div>
          )}
        </div>
      ) : null}
    </section>
  );
}

/** The empty server: how to publish the first point, with this page's own address. */
function FirstPoint() {
  const cmd = `curl -d 42 -H "Authorization: Bearer $LIVEDASH_TOKEN" ${location.origin}/api/v1/topics/orders.count`;
  return (
    <div className="panel first-point">
      <h2>No topics yet</h2>
      <p className="muted">Publish the first point: it shows up here within a second.</p>
      <pre className="cmd">
        <code>{cmd}</code>
      </pre>
      <p className="muted small">
        Make a token on the server with <code>livedash token --sub me --publish '&gt;'</code> and put it in <code>LIVEDASH_TOKEN</code>.
      </p>
    </div>
  );
}

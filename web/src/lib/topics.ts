// The live topic list of the index page: every topic the viewer may read,
// with its last message, message count and a short history of values for a
// sparkline. It starts from the server's list (GET /api/v1/topics) and
// follows the stream. Messages are queued by push() and applied together by
// flush(), once per animation frame, so a burst of messages costs one
// render. A message counts once: one no newer than the topic's last known
// message (the stream's backlog repeats what the list already counted) only
// adds to the sparkline.

import type { Envelope } from './envelope';
import { compareIds } from './ids';
import { EMPTY, formatValue } from './format';
import { isValidPattern, matchTopic } from './pattern';
import { numericFields, numericValue } from './values';

/** What GET /api/v1/topics returns per topic. */
export interface TopicSnapshot {
  topic: string;
  last: Envelope | null;
  count: number;
}

export interface TopicRow {
  topic: string;
  /** The type of the last message ('' before any). */
  type: string;
  last: Envelope | null;
  count: number;
  /** Recent numeric values of point topics, oldest first, at most SPARK_POINTS. */
  spark: { id: string; ts: number; v: number }[];
}

export const SPARK_POINTS = 60;

/** Reports whether m is newer than last (by id; by ts where ids do not compare). */
function isNewer(m: Envelope, last: Envelope | null): boolean {
  if (!last) return true;
  const c = compareIds(m.id, last.id);
  return c === null ? m.ts >= last.ts && m.id !== last.id : c > 0;
}

/** The number a point message contributes to its sparkline: the number, or its value key, or its first numeric field. */
export function sparkValue(m: Envelope): number | null {
  if (m.type !== 'point') return null;
  const v = numericValue(m.data);
  if (v !== null) return v;
  const f = numericFields(m.data);
  return f.length ? f[0][1] : null;
}

function addSpark(row: TopicRow, m: Envelope): void {
  const v = sparkValue(m);
  if (v === null) return;
  const s = row.spark;
  for (const p of s) if (p.id === m.id) return;
  let i = s.length;
  while (i > 0 && s[i - 1].ts > m.ts) i--;
  if (i === 0 && s.length >= SPARK_POINTS) return; // older than everything kept
  s.splice(i, 0, { id: m.id, ts: m.ts, v });
  if (s.length > SPARK_POINTS) s.splice(0, s.length - SPARK_POINTS);
}

export class TopicStore {
  private rows = new Map<string, TopicRow>();
  private queue: Envelope[] = [];
  private ready = false;
  /** Grows on every change that is visible: new rows, counts, values. */
  version = 0;

  /** Queues a message from the stream; applied by the next flush(). */
  push(m: Envelope): void {
    this.queue.push(m);
  }

  /** Messages waiting for flush(). */
  get pending(): number {
    return this.queue.length;
  }

  /** Whether the server's list arrived: until then flush() holds messages back. */
  get loaded(): boolean {
    return this.ready;
  }

  /**
   * Applies the server's list. The server's count is taken unless this
   * store has already seen a newer message of the topic (a list that
   * raced with the stream), in which case the larger count is kept.
   */
  snapshot(list: readonly TopicSnapshot[]): void {
    for (const t of list) {
      const row = this.rows.get(t.topic);
      if (!row) {
        const r: TopicRow = { topic: t.topic, type: t.last?.type ?? '', last: t.last, count: t.count, spark: [] };
        if (t.last) addSpark(r, t.last);
        this.rows.set(t.topic, r);
        continue;
      }
      if (t.last && isNewer(t.last, row.last)) {
        row.last = t.last;
        row.type = t.last.type;
        row.count = t.count;
        addSpark(row, t.last);
      } else {
        row.count = Math.max(row.count, t.count);
      }
    }
    this.ready = true;
    this.version++;
    this.flush();
  }

  /** Applies the queued messages; reports whether anything changed. */
  flush(): boolean {
    if (!this.ready || this.queue.length === 0) return false;
    const q = this.queue;
    this.queue = [];
    for (const m of q) this.apply(m);
    this.version++;
    return true;
  }

  private apply(m: Envelope): void {
    let row = this.rows.get(m.topic);
    if (!row) {
      row = { topic: m.topic, type: m.type, last: null, count: 0, spark: [] };
      this.rows.set(m.topic, row);
    }
    if (isNewer(m, row.last)) {
      row.count++;
      row.last = m;
      row.type = m.type;
    }
    addSpark(row, m);
  }

  get size(): number {
    return this.rows.size;
  }

  get(topic: string): TopicRow | undefined {
    return this.rows.get(topic);
  }

  all(): TopicRow[] {
    return [...this.rows.values()];
  }
}

export type SortKey = 'recent' | 'name' | 'count';

export const SORTS: { key: SortKey; label: string }[] = [
  { key: 'recent', label: 'Most recent' },
  { key: 'name', label: 'Name' },
  { key: 'count', label: 'Most messages' },
];

export interface Filter {
  kind: 'all' | 'substring' | 'pattern';
  test(topic: string): boolean;
  /** Set when the text looks like a pattern but is not a valid one. */
  note?: string;
}

/**
 * The filter for the text typed in the filter box: a NATS pattern when it
 * has a `*` or `>` segment (`shop.*`, `shop.>`, `sys.>`), else a
 * case-insensitive substring of the topic.
 */
export function makeFilter(text: string): Filter {
  const t = text.trim();
  if (t === '') return { kind: 'all', test: () => true };
  const wild = t.split('.').some((s) => s === '*' || s === '>');
  if (wild && isValidPattern(t)) return { kind: 'pattern', test: (topic) => matchTopic(t, topic) };
  const needle = t.toLowerCase();
  const f: Filter = { kind: 'substring', test: (topic) => topic.toLowerCase().includes(needle) };
  if (/[*>]/.test(t)) f.note = '* is one whole segment and > the last one (shop.*, shop.>): matching as text';
  return f;
}

function byName(a: TopicRow, b: TopicRow): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0;
}

export function compareRows(sort: SortKey): (a: TopicRow, b: TopicRow) => number {
  switch (sort) {
    case 'name':
      return byName;
    case 'count':
      return (a, b) => b.count - a.count || byName(a, b);
    default:
      return (a, b) => (b.last?.ts ?? -Infinity) - (a.last?.ts ?? -Infinity) || byName(a, b);
  }
}

/** The rows to show: filtered, then sorted. */
export function selectRows(rows: readonly TopicRow[], filter: Filter, sort: SortKey): TopicRow[] {
  const out = filter.kind === 'all' ? [...rows] : rows.filter((r) => filter.test(r.topic));
  return out.sort(compareRows(sort));
}

/**
 * The rows to show while the order is held (the pointer is over the list):
 * the topics of prev keep their places, with their new values; topics that
 * are new, or newly match, go after them, sorted.
 */
export function heldRows(prev: readonly string[], rows: readonly TopicRow[], filter: Filter, sort: SortKey): TopicRow[] {
  const pos = new Map(prev.map((t, i) => [t, i]));
  const kept: TopicRow[] = [];
  const added: TopicRow[] = [];
  for (const r of rows) if (filter.test(r.topic)) (pos.has(r.topic) ? kept : added).push(r);
  kept.sort((a, b) => pos.get(a.topic)! - pos.get(b.topic)!);
  return [...kept, ...added.sort(compareRows(sort))];
}

function short(v: unknown): string {
  if (typeof v === 'number') return formatValue(v, { compact: Math.abs(v) >= 1e6 });
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return EMPTY;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 39) + '…' : s;
}

/** A message's data as up to 6 (key, value) parts for one line: key null for data that is not an object. */
export function summaryParts(m: Envelope | null): { k: string | null; v: string }[] {
  if (!m) return [];
  const d = m.data;
  if (m.type === 'alert' && d && typeof d === 'object') {
    const a = d as Record<string, unknown>;
    const out: { k: string | null; v: string }[] = [];
    if (a.state && a.state !== 'firing') out.push({ k: null, v: String(a.state) });
    if (a.message !== undefined) out.push({ k: null, v: short(a.message) });
    return out;
  }
  if (d && typeof d === 'object' && !Array.isArray(d)) {
    return Object.entries(d as Record<string, unknown>)
      .slice(0, 6)
      .map(([k, v]) => ({ k, v: short(v) }));
  }
  return [{ k: null, v: short(d) }];
}

/** A one-line summary of a message's data for the list: `k v · k v`, the alert message, or compact JSON. */
export function summarize(m: Envelope | null, max = 120): string {
  const s = summaryParts(m)
    .map((p) => (p.k === null ? p.v : `${p.k} ${p.v}`))
    .join(' · ');
  return s.length > max ? s.slice(0, max - 1) + '…' : s;
}

// The time range of a dashboard or explore view, and its place in the URL.
//
//   (nothing)            live, each chart over its own window
//   ?range=1h            live, every chart over the last hour
//   ?from=MS&to=MS       a fixed range of history (unix ms), not live
//   ?from=MS             live, from then on (the contract's "without to")
//
// Long ranges are drawn from server-side buckets whose step keeps the
// number of points at or under the chart's width in pixels.

import { parseDuration } from './duration';

export type TimeRange = { kind: 'live'; span: number | null } | { kind: 'fixed'; from: number; to: number };

export const LIVE: TimeRange = { kind: 'live', span: null };

/** The picker's presets, in order. */
export const PRESETS: { label: string; span: number }[] = [
  { label: '5m', span: 5 * 60_000 },
  { label: '15m', span: 15 * 60_000 },
  { label: '1h', span: 3_600_000 },
  { label: '6h', span: 6 * 3_600_000 },
  { label: '24h', span: 24 * 3_600_000 },
  { label: '7d', span: 7 * 86_400_000 },
];

/** The shortest range a zoom may pick. */
export const MIN_SPAN_MS = 1000;

function ms(v: string | null): number | null {
  if (v === null || !/^[0-9]{1,16}$/.test(v)) return null;
  return Number(v);
}

/** Reads the range from a query string; anything malformed is live. */
export function parseRange(search: string, now = Date.now()): TimeRange {
  const q = new URLSearchParams(search);
  const from = ms(q.get('from'));
  const to = ms(q.get('to'));
  if (from !== null && to !== null) return to - from >= MIN_SPAN_MS ? { kind: 'fixed', from, to } : LIVE;
  if (from !== null && from < now) return { kind: 'live', span: now - from };
  const span = parseDuration(q.get('range') ?? '');
  return span >= MIN_SPAN_MS ? { kind: 'live', span } : LIVE;
}

/** The query string of search with range in it (other parameters kept). */
export function withRange(search: string, r: TimeRange): string {
  const q = new URLSearchParams(search);
  for (const k of ['from', 'to', 'range']) q.delete(k);
  if (r.kind === 'fixed') {
    q.set('from', String(Math.round(r.from)));
    q.set('to', String(Math.round(r.to)));
  } else if (r.span !== null) {
    const p = PRESETS.find((x) => x.span === r.span);
    q.set('range', p ? p.label : `${Math.round(r.span / 1000)}s`);
  }
  const s = q.toString().replace(/=(?=&|$)/g, ''); // ?kiosk, not ?kiosk=
  return s ? `?${s}` : '';
}

// Steps a bucket may have, as the server's `step` takes them.
const STEPS: [number, string][] = [
  [1000, '1s'], [2000, '2s'], [5000, '5s'], [10_000, '10s'], [15_000, '15s'], [30_000, '30s'],
  [60_000, '1m'], [120_000, '2m'], [300_000, '5m'], [600_000, '10m'], [900_000, '15m'], [1_800_000, '30m'],
  [3_600_000, '1h'], [7_200_000, '2h'], [10_800_000, '3h'], [21_600_000, '6h'], [43_200_000, '12h'], [86_400_000, '24h'],
];

/** The smallest step that gives at most maxPoints buckets over span: [ms, as the API writes it]. */
export function stepFor(span: number, maxPoints: number): [number, string] {
  const need = span / Math.max(1, Math.floor(maxPoints));
  for (const s of STEPS) if (s[0] >= need) return s;
  const days = Math.ceil(need / 86_400_000);
  return [days * 86_400_000, `${days * 24}h`];
}

/** Words for a range: "Live", "Last 1h", or the two ends. */
export function describeRange(r: TimeRange): string {
  if (r.kind === 'live') {
    if (r.span === null) return 'Live';
    const p = PRESETS.find((x) => x.span === r.span);
    return `Last ${p ? p.label : `${Math.round(r.span / 60_000)}m`}`;
  }
  const a = new Date(r.from);
  const b = new Date(r.to);
  const sameDay = a.toDateString() === b.toDateString();
  const t = (d: Date) => d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const day = (d: Date) => d.toLocaleDateString([], { month: 'short', day: 'numeric' });
  return sameDay ? `${day(a)} ${t(a)} – ${t(b)}` : `${day(a)} ${t(a)} – ${day(b)} ${t(b)}`;
}

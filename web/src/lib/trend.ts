// Trend arrows and threshold colours for stat, gauge and table widgets.

export interface Threshold {
  value: number;
  color: string;
}

/** Reads options.thresholds, dropping malformed items, sorted by value. */
export function readThresholds(v: unknown): Threshold[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((t) => t && typeof t === 'object' && typeof t.value === 'number' && typeof t.color === 'string')
    .map((t) => ({ value: t.value as number, color: t.color as string }))
    .sort((a, b) => a.value - b.value);
}

/**
 * The colour for value v: the threshold with the largest value ≤ v (v ≥
 * value → colour). With invert (lower is worse) the threshold with the
 * smallest value ≥ v (v ≤ value → colour). Undefined when none applies.
 */
export function thresholdColor(v: number | null | undefined, thresholds: Threshold[], invert = false): string | undefined {
  if (v === null || v === undefined || !isFinite(v)) return undefined;
  let hit: Threshold | undefined;
  if (!invert) {
    for (const t of thresholds) if (v >= t.value) hit = t;
  } else {
    for (let i = thresholds.length - 1; i >= 0; i--) if (v <= thresholds[i].value) hit = thresholds[i];
  }
  return hit?.color;
}

const NAMED: Record<string, string> = {
  red: 'var(--red)',
  amber: 'var(--amber)',
  orange: 'var(--amber)',
  yellow: 'var(--yellow)',
  green: 'var(--green)',
  blue: 'var(--blue)',
  purple: 'var(--purple)',
  gray: 'var(--muted)',
  grey: 'var(--muted)',
};

/** Maps a colour name of the dashboard format to a CSS colour. */
export function cssColor(name: string | undefined): string | undefined {
  if (!name) return undefined;
  if (NAMED[name]) return NAMED[name];
  return /^#[0-9A-Fa-f]{3,8}$/.test(name) || /^[a-z]{3,20}$/.test(name) ? name : undefined;
}

export type Trend = 'up' | 'down' | 'flat';

/** Direction from prev to cur; flat within a relative epsilon. */
export function trendOf(cur: number | null, prev: number | null, epsilon = 1e-9): Trend | null {
  if (cur === null || prev === null || !isFinite(cur) || !isFinite(prev)) return null;
  const d = cur - prev;
  if (Math.abs(d) <= epsilon * Math.max(1, Math.abs(prev))) return 'flat';
  return d > 0 ? 'up' : 'down';
}

/** The change from prev to cur in percent of prev; null where undefined. */
export function changePct(cur: number | null, prev: number | null): number | null {
  if (cur === null || prev === null || prev === 0) return null;
  return ((cur - prev) / Math.abs(prev)) * 100;
}

/**
 * RecentValues keeps a bounded, time-ordered list of (ts, value) for
 * sparklines and trends over a window.
 */
export class RecentValues {
  ts: number[] = [];
  vs: number[] = [];
  constructor(
    public keepMs: number,
    public maxPoints = 600,
  ) {}

  push(ts: number, v: number): void {
    const n = this.ts.length;
    if (n === 0 || ts >= this.ts[n - 1]) {
      this.ts.push(ts);
      this.vs.push(v);
    } else {
      let i = n;
      while (i > 0 && this.ts[i - 1] > ts) i--;
      this.ts.splice(i, 0, ts);
      this.vs.splice(i, 0, v);
    }
    this.trim(Math.max(ts, this.ts[this.ts.length - 1]));
  }

  trim(now: number): void {
    const cut = now - this.keepMs;
    let drop = 0;
    while (drop < this.ts.length - 1 && this.ts[drop] < cut) drop++;
    drop = Math.max(drop, this.ts.length - this.maxPoints);
    if (drop > 0) {
      this.ts.splice(0, drop);
      this.vs.splice(0, drop);
    }
  }

  get last(): number | null {
    return this.vs.length ? this.vs[this.vs.length - 1] : null;
  }

  get previous(): number | null {
    return this.vs.length > 1 ? this.vs[this.vs.length - 2] : null;
  }

  /** The last value at or before ts; the oldest one when all are after. */
  valueAt(ts: number): number | null {
    if (!this.ts.length) return null;
    let v = this.vs[0];
    for (let i = 0; i < this.ts.length && this.ts[i] <= ts; i++) v = this.vs[i];
    return v;
  }

  clear(): void {
    this.ts = [];
    this.vs = [];
  }
}

// A sliding time window of several series, aligned on one x axis, in the
// shape uPlot draws: [xs, ys1, ys2, …]. Points older than the window are
// dropped and the row count is capped, so memory stays bounded however long
// the page is open. With a step, samples are aggregated into buckets of that
// size (start aligned to a multiple of the step, like the server's history
// step API).

export type Agg = 'avg' | 'sum' | 'min' | 'max' | 'last' | 'count';

interface Cell {
  sum: number;
  count: number;
  min: number;
  max: number;
  last: number;
}

export class SeriesWindow {
  readonly xs: number[] = []; // unix ms, ascending, unique
  private cols: (Cell | null)[][] = [];
  readonly keys: string[] = [];
  private index = new Map<string, number>();

  constructor(
    public windowMs: number,
    public step = 0,
    public agg: Agg = 'avg',
    public maxRows = 20_000,
  ) {}

  /** The index of series key, adding it when new. */
  series(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.keys.length;
      this.keys.push(key);
      this.index.set(key, i);
      this.cols.push(new Array(this.xs.length).fill(null));
    }
    return i;
  }

  private row(x: number): number {
    const xs = this.xs;
    const n = xs.length;
    if (n === 0 || x > xs[n - 1]) {
      xs.push(x);
      for (const c of this.cols) c.push(null);
      return n;
    }
    // Binary search: most samples land at the end, backfill may not.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    if (xs[lo] !== x) {
      xs.splice(lo, 0, x);
      for (const c of this.cols) c.splice(lo, 0, null);
    }
    return lo;
  }

  /** Adds one sample of series key at ts (unix ms). */
  add(ts: number, key: string, value: number): void {
    if (!isFinite(ts) || !isFinite(value)) return;
    const x = this.step > 0 ? Math.floor(ts / this.step) * this.step : ts;
    const s = this.series(key);
    const r = this.row(x);
    const cell = this.cols[s][r];
    if (!cell || this.step <= 0) {
      this.cols[s][r] = { sum: value, count: 1, min: value, max: value, last: value };
    } else {
      cell.sum += value;
      cell.count++;
      cell.min = Math.min(cell.min, value);
      cell.max = Math.max(cell.max, value);
      cell.last = value;
    }
  }

  /** Sets a whole bucket from the server's step aggregation. */
  setBucket(t: number, key: string, b: { count: number; sum: number; min: number; max: number; last: number }): void {
    const s = this.series(key);
    const r = this.row(t);
    this.cols[s][r] = { sum: b.sum, count: b.count, min: b.min, max: b.max, last: b.last };
  }

  /** Drops rows older than the window ending at now, and rows over the cap. */
  trim(now: number): void {
    const cut = now - this.windowMs - this.step;
    let drop = 0;
    while (drop < this.xs.length && this.xs[drop] < cut) drop++;
    drop = Math.max(drop, this.xs.length - this.maxRows);
    if (drop > 0) {
      this.xs.splice(0, drop);
      for (const c of this.cols) c.splice(0, drop);
    }
  }

  clear(): void {
    this.xs.length = 0;
    this.keys.length = 0;
    this.cols = [];
    this.index.clear();
  }

  private value(c: Cell | null): number | null {
    if (!c) return null;
    switch (this.agg) {
      case 'sum':
        return c.sum;
      case 'count':
        return c.count;
      case 'min':
        return c.min;
      case 'max':
        return c.max;
      case 'last':
        return c.last;
      default:
        return c.sum / c.count;
    }
  }

  /** The value of series i at row r, aggregated. */
  at(i: number, r: number): number | null {
    return this.value(this.cols[i]?.[r] ?? null);
  }

  /** The newest value of series i. */
  lastValue(i: number): number | null {
    const c = this.cols[i];
    for (let r = c.length - 1; r >= 0; r--) if (c[r]) return this.value(c[r]);
    return null;
  }

  /** uPlot data: x in seconds, then one array per series (null for gaps). */
  data(): [number[], ...(number | null)[][]] {
    const xs = this.xs.map((x) => x / 1000);
    const ys = this.cols.map((c) => c.map((cell) => this.value(cell)));
    return [xs, ...ys];
  }

  get rows(): number {
    return this.xs.length;
  }
}

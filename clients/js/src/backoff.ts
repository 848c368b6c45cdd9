// Exponential backoff with full jitter: the n-th retry (from 0) waits a
// uniformly random time in [0, min(max, base·2^n)), and at least what the
// server asked for in Retry-After.

export interface BackoffOptions {
  /** First ceiling, ms (default 1000). */
  base?: number;
  /** Largest ceiling, ms (default 30000). */
  max?: number;
}

export function backoffDelay(attempt: number, o: BackoffOptions = {}, random: () => number = Math.random, retryAfterMs = 0): number {
  const base = o.base ?? 1000;
  const max = o.max ?? 30_000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.max(retryAfterMs, Math.floor(random() * ceiling));
}

/** Parses Retry-After (seconds, or an HTTP date) into ms; 0 when absent or bad. */
export function parseRetryAfter(v: string | null | undefined, now = Date.now()): number {
  if (!v) return 0;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return isNaN(t) ? 0 : Math.max(0, t - now);
}

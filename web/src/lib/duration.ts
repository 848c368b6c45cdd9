// Durations as written in dashboard options: 500ms, 30s, 5m, 1h30m, 7d.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration into milliseconds; NaN when s is not one. */
export function parseDuration(s: unknown): number {
  if (typeof s === 'number') return s >= 0 ? s * 1000 : NaN; // bare numbers are seconds
  if (typeof s !== 'string') return NaN;
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    total += parseFloat(m[1]) * UNIT_MS[m[2]];
    pos = re.lastIndex;
  }
  return pos > 0 && pos === s.length ? total : NaN;
}

/** "just now", "5s ago", "3m ago", "2h ago", "4d ago". */
export function formatAgo(ms: number): string {
  if (!isFinite(ms) || ms < 0) ms = 0;
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

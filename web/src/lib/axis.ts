// Axis helpers for uPlot charts: readable time ticks and byte-friendly steps.

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Labels for time ticks (splits in seconds, incr the tick spacing in
 * seconds): HH:MM, with seconds when ticks are under a minute apart, and the
 * day when they are a day or more apart. Uses the viewer's 12/24 h clock.
 */
export function timeTicks(splits: number[], incr: number, locale?: string): string[] {
  const withSec = incr < 60;
  const days = incr >= 86_400;
  const fmt = new Intl.DateTimeFormat(locale, days ? { month: 'short', day: 'numeric' } : { hour: 'numeric', minute: '2-digit', second: withSec ? '2-digit' : undefined });
  return splits.map((s) => (s == null ? '' : fmt.format(new Date(s * 1000))));
}

/** HH:MM:SS in 24 h, for compact legends in tests and tooltips. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Tick increments for byte values: 1, 2, 5, 10, 20, 50, 100, 200, 500 times
 * a power of 1024, so that ticks read 512 MiB, 1 GiB, 2 GiB… rather than
 * 4.7 GiB, 9.3 GiB.
 */
export function byteIncrs(): number[] {
  const out: number[] = [];
  for (let k = 0; k <= 6; k++) for (const m of [1, 2, 5, 10, 20, 50, 100, 200, 500]) out.push(m * 1024 ** k);
  return [...new Set(out)].sort((a, b) => a - b);
}

/** Display name of a table column or field key: used_pct → used %, rx_bps → rx bps. */
export function columnLabel(key: string): string {
  return key
    .replace(/(^|_)pct$/, '$1%')
    .replace(/_/g, ' ')
    .trim();
}

// Number formatting for widgets, with Intl: thousands separators, currency,
// percent (values 0–100), bytes (IEC: KiB, MiB…) and durations (values in
// milliseconds). `scale` multiplies the value first; `unit` is appended.

export type Format = 'number' | 'currency' | 'percent' | 'bytes' | 'duration';

export interface FormatOptions {
  format?: Format;
  currency?: string;
  decimals?: number;
  unit?: string;
  compact?: boolean;
  scale?: number;
  locale?: string;
}

export const EMPTY = '—';

const cache = new Map<string, Intl.NumberFormat>();
function nf(locale: string | undefined, o: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = (locale ?? '') + JSON.stringify(o);
  let f = cache.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, o);
    } catch {
      f = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 }); // e.g. a bad currency code
    }
    cache.set(key, f);
  }
  return f;
}

function fractionDigits(v: number, decimals: number | undefined): Intl.NumberFormatOptions {
  if (decimals !== undefined) {
    const d = Math.max(0, Math.min(10, Math.round(decimals)));
    return { minimumFractionDigits: d, maximumFractionDigits: d };
  }
  const a = Math.abs(v);
  if (a === 0 || a >= 100) return { maximumFractionDigits: 0 };
  if (a >= 1) return { maximumFractionDigits: 2 };
  return { maximumSignificantDigits: 3 };
}

function withUnit(s: string, unit: string | undefined): string {
  if (!unit) return s;
  return /^[/%°]/.test(unit) ? s + unit : `${s} ${unit}`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

export function formatBytes(v: number, decimals?: number, locale?: string): string {
  const neg = v < 0;
  let a = Math.abs(v);
  let i = 0;
  while (a >= 1024 && i < BYTE_UNITS.length - 1) {
    a /= 1024;
    i++;
  }
  const d = decimals ?? (i === 0 || a >= 100 ? 0 : 1);
  const s = nf(locale, { minimumFractionDigits: i === 0 ? 0 : d, maximumFractionDigits: i === 0 ? 0 : d }).format(a);
  return `${neg ? '-' : ''}${s} ${BYTE_UNITS[i]}`;
}

export function formatDuration(ms: number, decimals?: number, locale?: string): string {
  const neg = ms < 0;
  const a = Math.abs(ms);
  let s: string;
  if (a < 1000) {
    const d = decimals ?? (a < 10 && a !== 0 ? 1 : 0);
    s = nf(locale, { maximumFractionDigits: d, minimumFractionDigits: 0 }).format(a) + ' ms';
  } else if (a < 60_000) {
    const d = decimals ?? (a < 10_000 ? 2 : 1);
    s = nf(locale, { maximumFractionDigits: d, minimumFractionDigits: 0 }).format(a / 1000) + ' s';
  } else if (a < 3_600_000) {
    const m = Math.floor(a / 60_000);
    s = `${m}m ${String(Math.floor((a % 60_000) / 1000)).padStart(2, '0')}s`;
  } else if (a < 86_400_000) {
    const h = Math.floor(a / 3_600_000);
    s = `${h}h ${String(Math.floor((a % 3_600_000) / 60_000)).padStart(2, '0')}m`;
  } else {
    s = `${Math.floor(a / 86_400_000)}d ${Math.floor((a % 86_400_000) / 3_600_000)}h`;
  }
  return (neg ? '-' : '') + s;
}

/** Formats v for display; "—" for a missing or non-finite value. */
export function formatValue(v: number | null | undefined, o: FormatOptions = {}): string {
  if (v === null || v === undefined || typeof v !== 'number' || !isFinite(v)) return EMPTY;
  if (o.scale !== undefined && isFinite(o.scale)) v *= o.scale;
  const compact = o.compact ? { notation: 'compact' as const } : {};
  switch (o.format) {
    case 'currency': {
      const base: Intl.NumberFormatOptions = { style: 'currency', currency: o.currency || 'USD', ...compact };
      if (o.decimals !== undefined) Object.assign(base, fractionDigits(v, o.decimals));
      else if (o.compact) base.maximumFractionDigits = 1;
      return withUnit(nf(o.locale, base).format(v), o.unit);
    }
    case 'percent': {
      const d = o.decimals ?? (Math.abs(v) >= 100 ? 0 : 1);
      return withUnit(
        nf(o.locale, { style: 'percent', minimumFractionDigits: o.decimals ?? 0, maximumFractionDigits: d }).format(v / 100),
        o.unit,
      );
    }
    case 'bytes':
      return withUnit(formatBytes(v, o.decimals, o.locale), o.unit);
    case 'duration':
      return withUnit(formatDuration(v, o.decimals, o.locale), o.unit);
    default:
      return withUnit(nf(o.locale, { ...fractionDigits(v, o.decimals), ...compact }).format(v), o.unit);
  }
}

/** Formats an axis tick: compact for large plain numbers, no unit repetition for ms. */
export function formatAxis(v: number, o: FormatOptions = {}): string {
  if (o.format === undefined || o.format === 'number') {
    const a = Math.abs(v * (o.scale ?? 1));
    return formatValue(v, { ...o, compact: a >= 10_000, decimals: a >= 10_000 ? undefined : o.decimals });
  }
  if (o.format === 'currency') return formatValue(v, { ...o, compact: Math.abs(v) >= 10_000, decimals: o.decimals ?? (Math.abs(v) >= 100 ? 0 : undefined) });
  return formatValue(v, o);
}

/** Formats any JSON value for a feed or table cell. */
export function formatAny(v: unknown, o: FormatOptions = {}): string {
  if (v === null || v === undefined) return EMPTY;
  if (typeof v === 'number') return formatValue(v, o);
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) {
    if (v.length > 0 && v.every((x) => typeof x !== 'object' || x === null)) return v.map((x) => formatAny(x)).join(', ');
    return `${v.length} item${v.length === 1 ? '' : 's'}`;
  }
  return JSON.stringify(v);
}

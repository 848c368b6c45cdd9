// Reading numbers out of message data.

/** The value at a dotted path (a.b.c) of an object, or undefined. */
export function getPath(data: unknown, path: string): unknown {
  let cur: unknown = data;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number' && isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && isFinite(Number(v))) return Number(v);
  return null;
}

/**
 * The number a message carries: data itself when it is a number, else the
 * field (a dotted path) of object data, else the `value` key of object data.
 */
export function numericValue(data: unknown, field?: string): number | null {
  if (field) return toNumber(getPath(data, field));
  if (typeof data === 'number') return isFinite(data) ? data : null;
  if (data && typeof data === 'object') return toNumber((data as Record<string, unknown>).value);
  return null;
}

/** The numeric fields of object data, in key order. */
export function numericFields(data: unknown): [string, number][] {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (typeof v === 'number' && isFinite(v)) out.push([k, v]);
  }
  return out;
}

export interface SeriesSample {
  key: string; // topic, or topic|field
  topic: string;
  field?: string;
  value: number;
}

/**
 * The chart samples of one message: one per field in fields (object data),
 * one for a number, or one per numeric key of object data when no fields are
 * given. With count, every message is one sample of value 1 (count per step).
 */
export function samples(topic: string, data: unknown, fields?: string[], count = false): SeriesSample[] {
  if (count) return [{ key: topic, topic, value: 1 }];
  if (fields && fields.length > 0) {
    const out: SeriesSample[] = [];
    for (const f of fields) {
      const v = numericValue(data, f);
      if (v !== null) out.push({ key: `${topic}|${f}`, topic, field: f, value: v });
    }
    return out;
  }
  if (typeof data === 'number') return isFinite(data) ? [{ key: topic, topic, value: data }] : [];
  return numericFields(data).map(([f, v]) => ({ key: `${topic}|${f}`, topic, field: f, value: v }));
}

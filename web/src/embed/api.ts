// The few reads the elements make besides the stream.

import type { Envelope } from 'livedash';

export async function getJSON<T>(server: string, token: string | undefined, path: string): Promise<T> {
  const res = await fetch(server + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  if (!res.ok) throw new Error((body as { error?: string } | null)?.error ?? `HTTP ${res.status}`);
  return body as T;
}

function q(pattern: string, extra: Record<string, string | number>): string {
  const p = new URLSearchParams({ topic: pattern });
  for (const [k, v] of Object.entries(extra)) p.set(k, String(v));
  return p.toString();
}

/** GET /api/v1/history: from (unix ms) on, or the newest limit. */
export async function history(server: string, token: string | undefined, pattern: string, o: { from?: number; limit: number }): Promise<Envelope[]> {
  const extra: Record<string, string | number> = { limit: o.limit };
  if (o.from !== undefined) extra.from = o.from;
  const r = await getJSON<{ messages?: Envelope[] }>(server, token, `/api/v1/history?${q(pattern, extra)}`);
  return r.messages ?? [];
}

/** GET /api/v1/topics: the last message of each matching topic. */
export async function lastOf(server: string, token: string | undefined, pattern: string): Promise<Envelope[]> {
  const r = await getJSON<{ last?: Envelope }[]>(server, token, `/api/v1/topics?${q(pattern, {})}`);
  return (r ?? []).flatMap((t) => (t.last ? [t.last] : []));
}

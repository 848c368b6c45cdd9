import { api } from '../../api/api';
import type { Envelope } from '../../lib/envelope';

/** The last message of every topic matching the patterns (GET /topics). */
export async function loadLast(patterns: readonly string[]): Promise<Envelope[]> {
  const lists = await Promise.all(patterns.map((p) => api.topics(p)));
  const out: Envelope[] = [];
  for (const l of lists) for (const t of l ?? []) if (t.last) out.push(t.last);
  return out;
}

/**
 * History of the patterns. With from: the messages since then, and when the
 * limit cuts them short, the newest limit instead (so the recent end of a
 * busy window is never the missing part). Without from: the newest limit.
 */
export async function loadHistory(patterns: readonly string[], o: { from?: number; limit: number }): Promise<Envelope[]> {
  const lists = await Promise.all(
    patterns.map(async (p) => {
      const r = await api.history(p, { from: o.from, limit: o.limit });
      const ms = r?.messages ?? [];
      if (o.from !== undefined && ms.length >= o.limit) {
        const newest = await api.history(p, { limit: o.limit });
        return (newest?.messages ?? []).filter((m) => m.ts >= o.from!);
      }
      return ms;
    }),
  );
  return lists.flat();
}

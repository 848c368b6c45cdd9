// The message envelope, as the server stores and delivers it.
export interface Envelope<D = unknown> {
  id: string;
  topic: string;
  type: string;
  ts: number; // unix ms
  data: D;
}

/** Parses an SSE data payload; null when it is not an envelope. */
export function parseEnvelope(text: string): Envelope | null {
  try {
    const m = JSON.parse(text);
    if (m && typeof m === 'object' && typeof m.id === 'string' && typeof m.topic === 'string') {
      return { id: m.id, topic: m.topic, type: typeof m.type === 'string' ? m.type : 'point', ts: Number(m.ts) || Date.now(), data: m.data };
    }
  } catch {
    /* not JSON */
  }
  return null;
}

/** A message as the server stores and delivers it. */
export interface Envelope<D = unknown> {
  id: string;
  topic: string;
  type: string;
  /** unix ms */
  ts: number;
  data: D;
}

/** The server could not resume exactly: what it said, for which patterns. */
export interface ResetInfo {
  topics: string[];
  reason: string;
}

/** Why a connection ended. */
export type Failure =
  | { kind: 'http'; status: number; retryAfter: number; message: string }
  | { kind: 'network' | 'end' | 'expired' | 'timeout'; message: string };

/** What one transport connection asks for. */
export interface StreamRequest {
  url: string;
  patterns: string[];
  since?: string;
  backlog?: number;
  token?: string;
}

/** A transport reports to these; end is called once, last. */
export interface StreamHandlers {
  open(): void;
  bytes(): void;
  message(m: Envelope): void;
  reset(r: ResetInfo): void;
  end(f: Failure): void;
}

export interface Conn {
  close(): void;
}

export function parseEnvelope(v: unknown): Envelope | null {
  const m = v as Record<string, unknown> | null;
  if (!m || typeof m !== 'object' || typeof m.id !== 'string' || typeof m.topic !== 'string') return null;
  return { id: m.id, topic: m.topic, type: typeof m.type === 'string' ? m.type : 'point', ts: Number(m.ts) || 0, data: m.data };
}

export function parseReset(v: unknown): ResetInfo {
  const d = v as { topics?: unknown; reason?: unknown } | null;
  return { topics: Array.isArray(d?.topics) ? d!.topics.map(String) : [], reason: String(d?.reason ?? '') };
}

/** Reads a JSON error body's "error" field, else the status text. */
export async function errorText(res: Response): Promise<string> {
  try {
    const b = JSON.parse(await res.text());
    if (b && typeof b.error === 'string') return b.error;
  } catch {
    /* not JSON */
  }
  return res.statusText || `HTTP ${res.status}`;
}

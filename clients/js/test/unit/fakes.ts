// Fakes for the unit tests: a fetch whose responses the test drives, and a
// WebSocket the test plays the server of.
import { vi } from 'vitest';

export interface FakeStream {
  url: URL;
  headers: Record<string, string>;
  push(text: string): void;
  end(): void;
  aborted: boolean;
}

/** A fetch that answers each request with the next queued answer: a status (with headers) or an open stream. */
export function fakeFetch() {
  const requests: FakeStream[] = [];
  const answers: ({ status: number; headers?: Record<string, string>; body?: string } | 'stream')[] = [];
  const fn = vi.fn(async (input: string, init: RequestInit = {}) => {
    const headers = { ...(init.headers as Record<string, string>) };
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
    const enc = new TextEncoder();
    const req: FakeStream = {
      url: new URL(input),
      headers,
      aborted: false,
      push: (t) => ctl.enqueue(enc.encode(t)),
      end: () => ctl.close(),
    };
    init.signal?.addEventListener('abort', () => {
      req.aborted = true;
      try {
        ctl.error(new DOMException('aborted', 'AbortError'));
      } catch {
        /* closed */
      }
    });
    requests.push(req);
    const a = answers.shift() ?? 'stream';
    if (a === 'stream') return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
    // A plain object, not a Response: undici reads bodies on real macrotasks, which fake timers never yield to.
    const text = a.body ?? JSON.stringify({ error: `status ${a.status}` });
    return { ok: a.status < 300, status: a.status, statusText: '', headers: new Headers(a.headers), body: null, text: async () => text, json: async () => JSON.parse(text) } as unknown as Response;
  });
  return { fn: fn as unknown as typeof fetch, requests, answers, last: () => requests[requests.length - 1] };
}

/** Lets promise chains (fetch, stream reads) run. */
export async function tick(n = 30): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

export function sseMessage(id: string, topic: string, data: unknown, type = 'point'): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, topic, type, ts: 1, data })}\n\n`;
}

function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** An unsigned JWT with exp in unix seconds. */
export function jwt(exp: number, sub = 'x'): string {
  return `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub, exp })}.sig`;
}

export class FakeWS {
  static all: FakeWS[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: Record<string, unknown>[] = [];
  closed = false;
  constructor(readonly url: string) {
    FakeWS.all.push(this);
  }
  send(d: string) {
    this.sent.push(JSON.parse(d));
  }
  close() {
    this.closed = true;
  }
  // The server's side:
  open() {
    this.onopen?.({});
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code: number, reason = '') {
    this.onclose?.({ code, reason });
  }
}

/** Runs due timers (a 0 ms timer is due after 1 ms, as in Node) and promise chains, for 20 ms. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await tick();
    await vi.advanceTimersByTimeAsync(1);
  }
}

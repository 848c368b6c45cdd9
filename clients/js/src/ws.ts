// The WebSocket transport: one subscribe op for the union of patterns, a
// ping op every heartbeat (browsers do not expose the server's control
// pings, so the client makes its own traffic to watch).

import { type Conn, type StreamHandlers, type StreamRequest, parseEnvelope, parseReset } from './types.js';

/** The part of the WebSocket API the client uses (the browser's, or the ws package's). */
export interface WebSocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

const HTTP_OF: Record<string, number> = { unauthorized: 401, forbidden: 403, bad_request: 400, too_large: 413, rate_limited: 429 };

export function wsURL(r: StreamRequest): string {
  const u = r.url.replace(/^http/, 'ws') + '/api/v1/ws';
  return r.token ? `${u}?token=${encodeURIComponent(r.token)}` : u;
}

export function openWS(r: StreamRequest, h: StreamHandlers, WS: WebSocketConstructor, pingMs: number): Conn {
  const ws = new WS(wsURL(r));
  let done = false;
  let opened = false;
  let pinger: ReturnType<typeof setInterval> | undefined;
  const end: StreamHandlers['end'] = (f) => {
    if (done) return;
    done = true;
    clearInterval(pinger);
    try {
      ws.close(1000);
    } catch {
      /* not open yet */
    }
    h.end(f);
  };
  ws.onopen = () => {
    const op: Record<string, unknown> = { op: 'subscribe', ref: 1, topics: r.patterns };
    if (r.since) op.since = r.since;
    if (r.backlog !== undefined) op.backlog = r.backlog;
    ws.send(JSON.stringify(op));
    let ref = 1;
    pinger = setInterval(() => ws.send(JSON.stringify({ op: 'ping', ref: ++ref })), pingMs);
  };
  ws.onmessage = (ev) => {
    if (done) return;
    h.bytes();
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (f.op === 'message') {
      const m = parseEnvelope(f);
      if (m) h.message(m);
    } else if (f.op === 'reset') h.reset(parseReset(f));
    else if (f.op === 'ok' && f.ref === 1) {
      opened = true;
      h.open();
    } else if (f.op === 'error' && f.ref === 1) {
      end({ kind: 'http', status: HTTP_OF[String(f.code)] ?? 400, retryAfter: 0, message: String(f.message ?? f.code) });
    }
  };
  ws.onerror = () => {};
  ws.onclose = (ev) => {
    if (ev.code === 4001) end({ kind: 'expired', message: 'token expired' });
    else if (!opened) end({ kind: 'network', message: `WebSocket closed before it opened (${ev.code})` });
    else end({ kind: 'end', message: `WebSocket closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})` });
  };
  return {
    close() {
      done = true;
      clearInterval(pinger);
      try {
        ws.close(1000);
      } catch {
        /* not open yet */
      }
    },
  };
}

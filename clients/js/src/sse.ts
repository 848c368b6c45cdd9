// Server-Sent Events over fetch streaming, so the token travels in the
// Authorization header (EventSource cannot send one) and every HTTP error is
// ours to handle (EventSource gives up for good after one).

import { parseRetryAfter } from './backoff.js';
import { type Conn, type Envelope, type ResetInfo, type StreamHandlers, type StreamRequest, errorText, parseEnvelope, parseReset } from './types.js';

/** Splits an event stream into events; feed it text as it arrives. */
export class SSEParser {
  private buf = '';
  private event = '';
  private data: string[] = [];

  constructor(private onEvent: (type: string, data: string) => void) {}

  push(text: string): void {
    this.buf += text;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length) this.onEvent(this.event || 'message', this.data.join('\n'));
      this.event = '';
      this.data = [];
      return;
    }
    if (line[0] === ':') return; // a comment: the heartbeat
    const c = line.indexOf(':');
    const field = c < 0 ? line : line.slice(0, c);
    let value = c < 0 ? '' : line.slice(c + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
  }
}

/** The stream URL of a request: since= rather than Last-Event-ID, so a request without a token needs no CORS preflight. */
export function streamURL(r: StreamRequest): string {
  const q = new URLSearchParams();
  for (const p of r.patterns) q.append('topic', p);
  if (r.since) q.set('since', r.since);
  if (r.backlog !== undefined) q.set('backlog', String(r.backlog));
  return `${r.url}/api/v1/stream?${q}`;
}

/** Dispatches one SSE event: a reset, or a message envelope. */
export function dispatch(type: string, data: string, h: { message(m: Envelope): void; reset(r: ResetInfo): void }): void {
  let v: unknown;
  try {
    v = JSON.parse(data);
  } catch {
    return;
  }
  if (type === 'reset') {
    h.reset(parseReset(v));
    return;
  }
  const m = parseEnvelope(v);
  if (m) h.message(m);
}

export function openSSE(r: StreamRequest, h: StreamHandlers, fetchFn: typeof fetch): Conn {
  const ctl = new AbortController();
  let done = false;
  const end: StreamHandlers['end'] = (f) => {
    if (!done) {
      done = true;
      h.end(f);
    }
  };
  (async () => {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (r.token) headers.Authorization = `Bearer ${r.token}`;
    const res = await fetchFn(streamURL(r), { headers, signal: ctl.signal, cache: 'no-store' });
    if (!res.ok || !res.body) {
      const message = await errorText(res);
      end({ kind: 'http', status: res.status, retryAfter: parseRetryAfter(res.headers.get('Retry-After')), message });
      return;
    }
    h.open();
    const parser = new SSEParser((type, data) => !done && dispatch(type, data, h));
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done: eof } = await reader.read();
      if (eof || done) break;
      h.bytes();
      parser.push(dec.decode(value, { stream: true }));
    }
    end({ kind: 'end', message: 'the server ended the stream' });
  })().catch((e) => end({ kind: 'network', message: String((e as Error)?.message ?? e) }));
  return {
    close() {
      done = true;
      ctl.abort();
    },
  };
}

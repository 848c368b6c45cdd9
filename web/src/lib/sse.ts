// Server-Sent Events over fetch(), for pages that must see every message
// type: a browser's EventSource delivers an `event: deploy` message only to
// a listener for "deploy", so a page that lists every topic would miss a
// topic whose type it has never heard of. FetchEventSource behaves like
// EventSource (same readyState values, retries with Last-Event-ID after the
// server's `retry:` delay, gives up on an HTTP error) but hands a type no
// listener asked for to onmessage, and sends the token in a header instead
// of the URL.

import type { EventSourceLike } from './stream';

export interface SSEEvent {
  type: string;
  data: string;
  id: string;
}

/** An incremental text/event-stream parser (the WHATWG rules: fields, comments, CR/LF/CRLF line ends). */
export class SSEParser {
  private buf = '';
  private data: string[] = [];
  private type = '';
  /** The server's reconnection delay (`retry:`), when it sent one. */
  retry: number | null = null;

  constructor(public lastId = '') {}

  /** Parses a chunk; returns the events it completed. */
  feed(chunk: string): SSEEvent[] {
    const out: SSEEvent[] = [];
    const b = this.buf + chunk;
    let start = 0;
    for (let i = 0; i < b.length; i++) {
      const c = b.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 13 && i + 1 === b.length) break; // a CR at the end: is an LF next?
      const line = b.slice(start, i);
      if (c === 13 && b.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      this.line(line, out);
    }
    this.buf = b.slice(start);
    return out;
  }

  private line(line: string, out: SSEEvent[]): void {
    if (line === '') {
      const data = this.data.join('\n');
      if (this.data.length && data !== '') out.push({ type: this.type || 'message', data, id: this.lastId });
      this.data = [];
      this.type = '';
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' a comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.retry = Number(value);
        break;
    }
  }
}

type Handler = (ev: MessageEvent) => void;
type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

export class FetchEventSource implements EventSourceLike {
  readyState = CONNECTING;
  onopen: ((ev: Event) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessage: Handler | null = null;
  private listeners = new Map<string, Handler[]>();
  private ctrl: AbortController | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastId = '';
  private retryMs = 2000;

  constructor(
    private url: string,
    private headers: () => Record<string, string> = () => ({}),
    private fetchFn: FetchLike = (u, i) => fetch(u, i),
  ) {
    void this.connect();
  }

  addEventListener(type: string, fn: Handler): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }

  close(): void {
    this.readyState = CLOSED;
    this.ctrl?.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private dispatch(ev: SSEEvent): void {
    const e = { type: ev.type, data: ev.data, lastEventId: ev.id } as MessageEvent;
    const fns = this.listeners.get(ev.type);
    if (fns) for (const f of fns) f(e);
    else if (ev.type !== 'reset') this.onmessage?.(e);
  }

  private async connect(): Promise<void> {
    const ctrl = new AbortController();
    this.ctrl = ctrl;
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...this.headers() };
    if (this.lastId) headers['Last-Event-ID'] = this.lastId;
    let refused = false;
    try {
      const res = await this.fetchFn(this.url, { headers, signal: ctrl.signal, credentials: 'same-origin', cache: 'no-store' });
      if (!res.ok || !res.body || !(res.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
        refused = true;
        throw new Error(`HTTP ${res.status}`);
      }
      if (this.readyState === CLOSED) return;
      this.readyState = OPEN;
      this.onopen?.(new Event('open'));
      const parser = new SSEParser(this.lastId);
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.readyState === CLOSED) break;
        for (const ev of parser.feed(dec.decode(value, { stream: true }))) {
          this.lastId = ev.id;
          if (this.readyState === CLOSED) break;
          this.dispatch(ev);
        }
        if (parser.retry !== null) this.retryMs = parser.retry;
        this.lastId = parser.lastId;
      }
    } catch {
      /* a network error, a refusal, or close() */
    }
    if (this.readyState === CLOSED) return;
    if (refused) {
      // Like EventSource: an HTTP error is final; the owner decides what next.
      this.readyState = CLOSED;
      this.onerror?.(new Event('error'));
      return;
    }
    this.readyState = CONNECTING;
    this.onerror?.(new Event('error'));
    if (this.readyState !== CONNECTING) return; // closed by the handler
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.readyState === CONNECTING) void this.connect();
    }, this.retryMs);
  }
}

// One shared Server-Sent Events stream per page. The stream subscribes to the
// union of the widgets' patterns and routes each message to the widgets whose
// patterns match its topic, once: a per-topic last-seen id drops anything
// delivered twice (the browser resumes with Last-Event-ID by itself; when it
// gives up, we reconnect with since=<last id>). `event: reset` clears the
// affected state and tells the widgets to reload their history.

import { type Envelope, parseEnvelope } from './envelope';
import { LastSeen, compareIds } from './ids';
import { matchAny, matchTopic } from './pattern';

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export const KNOWN_TYPES = ['point', 'stats', 'alert', 'event'];

export interface Subscriber {
  patterns: readonly string[];
  onMessage(m: Envelope): void;
  /** Called on `event: reset` for these patterns: clear state, reload history. */
  onReset?(reason: string): void;
}

export interface ResetInfo {
  topics: string[];
  reason: string;
}

/** The subset of EventSource the client uses, so tests can pass a fake. */
export interface EventSourceLike {
  readyState: number;
  onopen: ((ev: Event) => void) | null;
  onerror: ((ev: Event) => void) | null;
  onmessage: ((ev: MessageEvent) => void) | null;
  addEventListener(type: string, fn: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface StreamOptions {
  patterns: readonly string[];
  /** Extra message types to listen for, besides the well-known ones. */
  types?: readonly string[];
  /** Builds the stream URL for the patterns, resuming after since when given. */
  url(patterns: readonly string[], since?: string): string;
  open?(url: string): EventSourceLike;
  /** Called when the browser gave up; may check the token (a 401) before we retry. */
  onGiveUp?(): void;
  now?(): number;
  setTimeout?(fn: () => void, ms: number): unknown;
  clearTimeout?(t: unknown): void;
}

const CLOSED = 2;
const CONNECTING = 0;

export class StreamClient {
  private es: EventSourceLike | null = null;
  private subs = new Set<Subscriber>();
  private seen = new LastSeen();
  private lastId: string | undefined;
  private listeners = new Set<() => void>();
  private retryTimer: unknown = null;
  private retries = 0;
  private errorsSinceOpen = 0;
  private closed = false;
  private types: Set<string>;
  private onData = (ev: MessageEvent) => this.handle(String(ev.data), ev.lastEventId);
  state: ConnState = 'connecting';
  lastMessageAt: number | null = null;
  lastReset: ResetInfo | null = null;
  received = 0;
  duplicates = 0;

  constructor(private opts: StreamOptions) {
    this.types = new Set([...KNOWN_TYPES, ...(opts.types ?? [])]);
  }

  /**
   * Also receives messages of these types, from now on and after
   * reconnects: SSE delivers each type as its own event, and only the
   * types listened for reach the page.
   */
  listen(types: Iterable<string>): void {
    for (const t of types) {
      if (this.types.has(t) || t === 'reset' || t === '') continue;
      this.types.add(t);
      this.es?.addEventListener(t, this.onData);
    }
  }

  get patterns(): readonly string[] {
    return this.opts.patterns;
  }

  /** Routes messages matching sub.patterns to sub; returns the unsubscribe. */
  subscribe(sub: Subscriber): () => void {
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  /** Calls fn on every change of state or lastMessageAt. */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  private setState(s: ConnState): void {
    if (this.state !== s) {
      this.state = s;
      this.emit();
    }
  }

  start(): void {
    this.closed = false;
    if (this.opts.patterns.length === 0) {
      this.setState('live');
      return;
    }
    this.connect();
  }

  private connect(): void {
    const open = this.opts.open ?? ((u: string) => new EventSource(u) as unknown as EventSourceLike);
    const es = open(this.opts.url(this.opts.patterns, this.lastId));
    this.es = es;
    es.onopen = () => {
      this.retries = 0;
      this.errorsSinceOpen = 0;
      this.setState('live');
    };
    es.onerror = () => {
      if (this.es !== es || this.closed) return;
      if (es.readyState === CONNECTING) {
        // The browser retries by itself, with Last-Event-ID. After a few
        // failed tries in a row the server is down as far as a user cares.
        this.errorsSinceOpen++;
        this.setState(this.errorsSinceOpen >= 3 ? 'offline' : 'reconnecting');
        return;
      }
      if (es.readyState === CLOSED) this.giveUp(es);
    };
    es.onmessage = this.onData; // messages without an event: line
    for (const t of this.types) es.addEventListener(t, this.onData);
    es.addEventListener('reset', (ev: MessageEvent) => this.handleReset(String(ev.data)));
  }

  private giveUp(es: EventSourceLike): void {
    es.close();
    this.es = null;
    this.setState('offline');
    this.opts.onGiveUp?.();
    const delay = Math.min(30_000, 1000 * 2 ** this.retries) * (0.75 + Math.random() * 0.5);
    this.retries = Math.min(this.retries + 1, 10);
    const st = this.opts.setTimeout ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.retryTimer = st(() => {
      this.retryTimer = null;
      if (!this.closed) {
        this.setState('reconnecting');
        this.connect();
      }
    }, delay);
  }

  /** Retry now (e.g. after a new token was entered). */
  reconnect(): void {
    if (this.retryTimer !== null) (this.opts.clearTimeout ?? clearTimeout)(this.retryTimer as never);
    this.retryTimer = null;
    this.es?.close();
    this.es = null;
    this.retries = 0;
    this.setState('reconnecting');
    this.connect();
  }

  /** Handles one data payload; exported behaviour for tests via the fake. */
  handle(text: string, lastEventId?: string): void {
    const m = parseEnvelope(text);
    if (!m) return;
    this.received++;
    if (!this.seen.accept(m.topic, m.id)) {
      this.duplicates++;
      return;
    }
    const id = m.id || lastEventId;
    if (id && (this.lastId === undefined || (compareIds(id, this.lastId) ?? 1) > 0)) this.lastId = id;
    this.lastMessageAt = (this.opts.now ?? Date.now)();
    if (this.state !== 'live') this.state = 'live';
    for (const s of this.subs) {
      if (matchAny(s.patterns, m.topic)) {
        try {
          s.onMessage(m);
        } catch (e) {
          console.error('livedash: widget failed on a message', e);
        }
      }
    }
    this.emit();
  }

  handleReset(text: string): void {
    let info: ResetInfo = { topics: [], reason: '' };
    try {
      const d = JSON.parse(text);
      info = { topics: Array.isArray(d?.topics) ? d.topics.map(String) : [], reason: String(d?.reason ?? '') };
    } catch {
      /* a reset without data resets everything */
    }
    this.lastReset = info;
    const all = info.topics.length === 0 || !info.topics.some((p) => this.opts.patterns.includes(p));
    const affected = (patterns: readonly string[]) => all || patterns.some((p) => info.topics.includes(p));
    // Forget what we saw on the affected topics: the backlog that follows may
    // reuse ids of a new epoch, or start before what we had.
    this.seen.forget((t) => all || info.topics.some((p) => matchTopic(p, t)));
    this.lastId = undefined;
    for (const s of this.subs) if (affected(s.patterns)) s.onReset?.(info.reason);
    this.emit();
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) (this.opts.clearTimeout ?? clearTimeout)(this.retryTimer as never);
    this.es?.close();
    this.es = null;
    this.subs.clear();
    this.listeners.clear();
  }
}

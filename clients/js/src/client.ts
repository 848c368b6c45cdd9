// The livedash client: one connection (SSE over fetch, or WebSocket) that
// carries the union of its subscriptions' patterns, resumes exactly from the
// last id after every reconnect, and keeps its token fresh.

import { type BackoffOptions, backoffDelay, parseRetryAfter } from './backoff.js';
import { compareIds, isAfter } from './ids.js';
import { matchAny } from './pattern.js';
import { openSSE } from './sse.js';
import { refreshAt, tokenExpiry } from './token.js';
import { type Conn, type Envelope, type Failure, type ResetInfo, type StreamRequest, errorText } from './types.js';
import { type WebSocketConstructor, openWS } from './ws.js';

export type State = 'connecting' | 'live' | 'reconnecting' | 'closed';
export type Transport = 'sse' | 'ws' | 'auto';

export interface ConnectOptions {
  /** The server, e.g. https://live.example.com (default: the page's origin). */
  url?: string;
  /** A fixed token. */
  token?: string;
  /** Called for a token at the start, before the current one expires, and after a 401. */
  getToken?: () => string | Promise<string>;
  /** 'auto' (the default) is SSE where fetch can stream, else WebSocket. */
  transport?: Transport;
  /** The server's heartbeat interval, ms (default 15000): no byte for 2.5× this is a dead connection. */
  heartbeat?: number;
  backoff?: BackoffOptions;
  /** A WebSocket constructor where there is no global one (Node 20: the ws package). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** For tests: the jitter's random source. */
  random?: () => number;
}

export interface SubscribeOptions {
  /** Start after this id (a previous session's lastId). */
  since?: string;
  /** Messages per topic to send first on a fresh start (server default 50). */
  backlog?: number;
  onMessage?: (m: Envelope, sub: Subscription) => void;
  /** The server could not resume exactly: clear what you hold; a fresh backlog follows. */
  onReset?: (r: ResetInfo, sub: Subscription) => void;
  /** Handlers by message type: { point(m) {…}, alert(m) {…} }. */
  on?: Record<string, (m: Envelope) => void>;
}

export interface Subscription {
  readonly patterns: readonly string[];
  /** The id of the newest message this subscription has seen its stream carry. */
  readonly lastId: string | undefined;
  /** Adds a handler for messages of one type; returns its remover. */
  on(type: string, fn: (m: Envelope) => void): () => void;
  unsubscribe(): void;
}

export interface StateChange {
  state: State;
  reason: string;
}

export interface PublishMessage {
  topic: string;
  type?: string;
  data: unknown;
  ts?: number | string;
}

/** An HTTP error the client gave up on. */
export class LivedashError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LivedashError';
  }
}

type Listener<T> = (v: T) => void;

class Sub implements Subscription {
  cursor: string | undefined;
  readonly handlers = new Map<string, Set<(m: Envelope) => void>>();
  constructor(
    readonly patterns: readonly string[],
    readonly opts: SubscribeOptions,
    private readonly client: Client,
  ) {
    this.cursor = opts.since || undefined;
    for (const [t, fn] of Object.entries(opts.on ?? {})) this.on(t, fn);
  }
  get lastId(): string | undefined {
    return this.cursor;
  }
  on(type: string, fn: (m: Envelope) => void): () => void {
    let s = this.handlers.get(type);
    if (!s) this.handlers.set(type, (s = new Set()));
    s.add(fn);
    return () => s!.delete(fn);
  }
  unsubscribe(): void {
    this.client.drop(this);
  }
  deliver(m: Envelope): void {
    guard(() => this.opts.onMessage?.(m, this));
    for (const fn of this.handlers.get(m.type) ?? []) guard(() => fn(m));
  }
}

function guard(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    console.error('livedash: a handler failed', e);
  }
}

/** The patterns of subs, distinct and sorted. */
function union(subs: Iterable<Sub>): string[] {
  const s = new Set<string>();
  for (const sub of subs) for (const p of sub.patterns) s.add(p);
  return [...s].sort();
}

/** The oldest cursor of subs (the first one where ids of different epochs meet). */
function oldest(subs: Sub[]): string | undefined {
  let min: string | undefined;
  for (const s of subs) if (s.cursor !== undefined && (min === undefined || (compareIds(s.cursor, min) ?? 0) < 0)) min = s.cursor;
  return min;
}

export class Client {
  state: State = 'connecting';
  reason = '';
  /** The id of the newest message received. */
  lastId: string | undefined;
  readonly stats = { messages: 0, duplicates: 0, resets: 0, reconnects: 0 };

  private readonly url: string;
  private readonly transport: 'sse' | 'ws';
  private readonly timeoutMs: number;
  private subs: Sub[] = [];
  private inStream = new Set<Sub>();
  private streamPatterns = '';
  private conn: Conn | null = null;
  private gen = 0;
  private attempt = 0;
  private pending = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private watchdog: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private token: string | undefined;
  private tokenExp: number | undefined;
  private afterUnauthorized = false;
  private lastByte = 0;
  private readonly listeners = { state: new Set<Listener<StateChange>>(), message: new Set<Listener<Envelope>>(), reset: new Set<Listener<ResetInfo>>() };
  private readonly detach: () => void;

  constructor(private readonly o: ConnectOptions) {
    const base = o.url ?? (typeof location !== 'undefined' ? location.origin : '');
    if (!base) throw new Error('livedash: connect needs a url');
    this.url = base.replace(/\/+$/, '');
    const t = o.transport ?? 'auto';
    this.transport = t === 'auto' ? (typeof ReadableStream !== 'undefined' && typeof fetch !== 'undefined' ? 'sse' : 'ws') : t;
    if (this.transport === 'ws' && !this.wsCtor()) throw new Error('livedash: no WebSocket here; pass one as the WebSocket option (Node: the ws package)');
    this.timeoutMs = 2.5 * (o.heartbeat ?? 15_000);
    this.token = o.token;
    this.detach = this.watchPage();
  }

  /** Listens for state changes, every new message, or resets; returns the remover. */
  on(event: 'state', fn: Listener<StateChange>): () => void;
  on(event: 'message', fn: Listener<Envelope>): () => void;
  on(event: 'reset', fn: Listener<ResetInfo>): () => void;
  on(event: 'state' | 'message' | 'reset', fn: Listener<never>): () => void {
    const s = this.listeners[event] as Set<Listener<never>>;
    s.add(fn);
    return () => s.delete(fn);
  }

  /** Subscribes to patterns (a topic or pattern, or a list) on the shared connection. */
  subscribe(patterns: string | readonly string[], opts: SubscribeOptions = {}): Subscription {
    const list = typeof patterns === 'string' ? [patterns] : [...patterns];
    if (list.length === 0) throw new Error('livedash: subscribe needs at least one pattern');
    const sub = new Sub(list, opts, this);
    this.subs.push(sub);
    this.changed();
    return sub;
  }

  /** Publishes one message or a batch; retries on 429 and 503 (never stored), after Retry-After. Resolves to the ids. */
  async publish(messages: PublishMessage | PublishMessage[], o: { retries?: number } = {}): Promise<string[]> {
    const body = JSON.stringify(messages);
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const token = await this.currentToken();
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      const res = await this.fetch(`${this.url}/api/v1/publish`, { method: 'POST', headers, body });
      if (res.ok) return ((await res.json()) as { ids: string[] }).ids;
      if (res.status === 401 && this.o.getToken && !refreshed) {
        refreshed = true;
        this.token = undefined;
        continue;
      }
      if ((res.status === 429 || res.status === 503) && attempt < (o.retries ?? 5)) {
        const ms = backoffDelay(attempt, this.o.backoff, this.o.random, parseRetryAfter(res.headers.get('Retry-After')));
        await new Promise((r) => setTimeout(r, ms));
        continue;
      }
      throw new LivedashError(res.status, await errorText(res));
    }
  }

  /** Ends the connection and every timer; the client cannot be used again. */
  close(): void {
    this.shut('closed by the client');
  }

  /** Called by Subscription.unsubscribe. */
  drop(sub: Sub): void {
    this.subs = this.subs.filter((s) => s !== sub);
    this.inStream.delete(sub);
    this.changed();
  }

  private fetch(input: string, init: RequestInit): Promise<Response> {
    return (this.o.fetch ?? fetch)(input, init);
  }

  private wsCtor(): WebSocketConstructor | undefined {
    return this.o.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  }

  private setState(state: State, reason = ''): void {
    if (this.state === state && this.reason === reason) return;
    this.state = state;
    this.reason = reason;
    for (const fn of this.listeners.state) guard(() => fn({ state, reason }));
  }

  /** Subscriptions changed: apply them once, after the caller's current task. */
  private changed(): void {
    if (this.pending || this.state === 'closed') return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      this.apply();
    });
  }

  private apply(): void {
    if (this.state === 'closed') return;
    const joining = this.subs.filter((s) => !this.inStream.has(s));
    if (this.conn && union(this.subs).join(',') === this.streamPatterns && joining.every((s) => s.cursor === undefined)) {
      for (const s of joining) this.inStream.add(s); // the stream already carries them
      return;
    }
    if (this.retryTimer !== undefined) return; // the next attempt takes the new set
    this.stop();
    if (this.subs.length) void this.start(true);
  }

  private stop(): void {
    this.gen++;
    this.conn?.close();
    this.conn = null;
    clearTimeout(this.watchdog);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Opens a connection for the current subscriptions. */
  private async start(quiet = false): Promise<void> {
    this.stop();
    const gen = this.gen;
    if (!quiet || this.state !== 'live') this.setState(this.state === 'connecting' ? 'connecting' : 'reconnecting', this.reason);
    let token: string | undefined;
    try {
      token = await this.currentToken();
    } catch (e) {
      if (gen === this.gen) this.fail({ kind: 'network', message: `getToken failed: ${(e as Error)?.message ?? e}` });
      return;
    }
    if (gen !== this.gen || this.state === 'closed') return;
    const subs = [...this.subs];
    if (!subs.length) return;
    // One stream resumes from one id: a subscription whose since is of
    // another epoch than this server's (or than the other subscriptions')
    // cannot resume on it, and is told so, as the server would tell it.
    const ref = this.lastId ?? subs.find((s) => s.cursor !== undefined)?.cursor;
    for (const s of subs) {
      if (s.cursor !== undefined && ref !== undefined && s.cursor !== ref && compareIds(s.cursor, ref) === null) {
        s.cursor = undefined;
        this.stats.resets++;
        guard(() => s.opts.onReset?.({ topics: [...s.patterns], reason: 'unknown id' }, s));
      }
    }
    const since = oldest(subs);
    const backlogs = subs.map((s) => s.opts.backlog).filter((b): b is number => b !== undefined);
    const req: StreamRequest = { url: this.url, patterns: union(subs), since, backlog: since || !backlogs.length ? undefined : Math.max(...backlogs), token };
    this.inStream = new Set(subs);
    this.streamPatterns = req.patterns.join(',');
    const live = () => gen === this.gen;
    const h = {
      open: () => live() && this.opened(),
      bytes: () => live() && this.alive(),
      message: (m: Envelope) => live() && this.message(m),
      reset: (r: ResetInfo) => live() && this.resetOf(r),
      end: (f: Failure) => live() && this.fail(f),
    };
    this.conn = this.transport === 'ws' ? openWS(req, h, this.wsCtor()!, this.o.heartbeat ?? 15_000) : openSSE(req, h, (i, init) => this.fetch(String(i), init ?? {}));
    this.alive();
  }

  private opened(): void {
    this.attempt = 0;
    this.afterUnauthorized = false;
    this.alive();
    this.setState('live');
  }

  /** A byte arrived (or a connection began): restart the heartbeat watch. */
  private alive(): void {
    this.lastByte = Date.now();
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => this.fail({ kind: 'timeout', message: `no data for ${this.timeoutMs} ms` }), this.timeoutMs);
  }

  private message(m: Envelope): void {
    this.stats.messages++;
    let matched = false;
    let delivered = false;
    for (const s of this.inStream) {
      if (matchAny(s.patterns, m.topic)) {
        matched = true;
        if (isAfter(m.id, s.cursor)) {
          s.cursor = m.id;
          s.deliver(m);
          delivered = true;
        }
      } else if (isAfter(m.id, s.cursor)) {
        s.cursor = m.id; // the stream carried everything up to here for s too
      }
    }
    if (matched && !delivered) this.stats.duplicates++;
    if (isAfter(m.id, this.lastId)) {
      this.lastId = m.id;
      for (const fn of this.listeners.message) guard(() => fn(m));
    }
  }

  private resetOf(r: ResetInfo): void {
    this.stats.resets++;
    this.lastId = undefined;
    for (const s of this.inStream) {
      if (r.topics.length === 0 || s.patterns.some((p) => r.topics.includes(p))) {
        s.cursor = undefined;
        guard(() => s.opts.onReset?.(r, s));
      }
    }
    for (const fn of this.listeners.reset) guard(() => fn(r));
  }

  /** The connection ended: retry after a backoff, refresh the token, or stop for good. */
  private fail(f: Failure): void {
    this.stop();
    if (this.state === 'closed') return;
    let wait = -1;
    if (f.kind === 'http' && f.status === 401) {
      if (!this.o.getToken || this.afterUnauthorized) {
        this.shut(`unauthorized: ${f.message}`);
        return;
      }
      this.afterUnauthorized = true; // one fresh token; a 401 on it is final
      this.token = undefined;
      wait = 0;
    } else if (f.kind === 'http' && f.status !== 429 && f.status < 500) {
      this.shut(`${f.status}: ${f.message}`);
      return;
    } else if (f.kind === 'expired' || (this.tokenExp !== undefined && Date.now() >= this.tokenExp - 1000)) {
      this.token = this.o.getToken ? undefined : this.token;
      wait = 0;
    }
    if (wait < 0) wait = backoffDelay(this.attempt++, this.o.backoff, this.o.random, f.kind === 'http' ? f.retryAfter : 0);
    this.stats.reconnects++;
    this.setState('reconnecting', f.kind === 'http' ? `HTTP ${f.status}: ${f.message}` : f.message);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.start();
    }, wait);
  }

  private shut(reason: string): void {
    if (this.state === 'closed') return;
    this.stop();
    clearTimeout(this.refreshTimer);
    this.detach();
    this.setState('closed', reason);
  }

  private async currentToken(): Promise<string | undefined> {
    if (!this.o.getToken) return this.token;
    if (this.token !== undefined && !(this.tokenExp !== undefined && Date.now() >= this.tokenExp - 1000)) return this.token;
    this.useToken(await this.o.getToken());
    return this.token;
  }

  private useToken(t: string): void {
    this.token = t;
    this.tokenExp = tokenExpiry(t);
    clearTimeout(this.refreshTimer);
    if (this.tokenExp !== undefined) {
      const now = Date.now();
      this.refreshTimer = setTimeout(() => void this.refresh(), refreshAt(this.tokenExp, now) - now);
    }
  }

  /** Before the token expires: fetch a fresh one and move the stream onto it, from where it was. */
  private async refresh(): Promise<void> {
    try {
      const t = await this.o.getToken!();
      if (this.state === 'closed') return;
      this.useToken(t);
    } catch {
      this.refreshTimer = setTimeout(() => void this.refresh(), 1000);
      return;
    }
    if (this.conn) void this.start(true);
  }

  /** Browsers: retry at once when the network comes back or the tab wakes with a stale connection. */
  private watchPage(): () => void {
    const w = typeof window !== 'undefined' ? window : undefined;
    const d = typeof document !== 'undefined' ? document : undefined;
    if (!w?.addEventListener) return () => {};
    const wake = () => {
      if (d && d.visibilityState === 'hidden') return;
      if (this.state === 'reconnecting' && this.retryTimer !== undefined) {
        this.attempt = 0;
        void this.start();
      } else if (this.conn && Date.now() - this.lastByte > this.timeoutMs) {
        this.fail({ kind: 'timeout', message: 'stale after the page woke up' });
      }
    };
    w.addEventListener('online', wake);
    d?.addEventListener('visibilitychange', wake);
    return () => {
      w.removeEventListener('online', wake);
      d?.removeEventListener('visibilitychange', wake);
    };
  }
}

/** Creates a client; it connects with its first subscription. */
export function connect(o: ConnectOptions = {}): Client {
  return new Client(o);
}

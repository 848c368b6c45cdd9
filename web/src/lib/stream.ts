// One shared stream per page, over the livedash JavaScript client
// (clients/js, the same code other sites load as /livedash.js): the client
// keeps the connection (SSE over fetch, the token in a header), resumes by
// id across every reconnect with no duplicate and no gap, backs off, and
// says when it had to reset. This adapter routes each message to the
// widgets whose patterns match its topic, turns the client's states into
// the badge's, and tells the widgets of a reset so they reload history.

import { connect, type ConnectOptions, type ResetInfo, type State } from 'livedash';
import type { Envelope } from './envelope';
import { matchAny } from './pattern';
import { getToken } from './token';

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';
export type { ResetInfo };

export interface Subscriber {
  patterns: readonly string[];
  onMessage(m: Envelope): void;
  /** Called on a reset of these patterns: clear state, reload history. */
  onReset?(reason: string): void;
}

/** What the adapter needs of the client, so tests can pass a fake. */
export interface ClientLike {
  on(event: 'state', fn: (s: { state: State; reason: string }) => void): () => void;
  subscribe(patterns: readonly string[], o: { backlog?: number; onMessage(m: Envelope): void; onReset(r: ResetInfo): void }): { unsubscribe(): void };
  readonly stats: { reconnects: number };
  close(): void;
}

export interface StreamOptions {
  patterns: readonly string[];
  /** Messages per topic a fresh stream starts with (the server's default is 50). */
  backlog?: number;
  /** Called when the client gave up (a 401, a bad request); the page may check the token. */
  onGiveUp?(reason: string): void;
  /** Makes the client; the default connects to this page's server with the app's token. */
  connect?(o: ConnectOptions): ClientLike;
  now?(): number;
}

/** Reconnect attempts in a row after which the badge says offline. */
const OFFLINE_AFTER = 3;

export class StreamClient {
  private client: ClientLike | null = null;
  private subs = new Set<Subscriber>();
  private listeners = new Set<() => void>();
  state: ConnState = 'connecting';
  reason = '';
  lastMessageAt: number | null = null;
  lastReset: ResetInfo | null = null;
  received = 0;

  constructor(private opts: StreamOptions) {}

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
    if (this.opts.patterns.length === 0) {
      this.setState('live');
      return;
    }
    this.open();
  }

  private open(): void {
    const make = this.opts.connect ?? ((o: ConnectOptions) => connect(o) as unknown as ClientLike);
    const token = getToken() ?? undefined;
    const c = make({ token }); // the page's own server
    this.client = c;
    c.on('state', ({ state, reason }) => {
      if (this.client !== c) return;
      this.reason = reason;
      switch (state) {
        case 'live':
          this.setState('live');
          break;
        case 'reconnecting':
          this.setState(c.stats.reconnects >= OFFLINE_AFTER ? 'offline' : 'reconnecting');
          break;
        case 'closed':
          this.setState('offline');
          this.opts.onGiveUp?.(reason);
          break;
        default:
          this.setState('connecting');
      }
    });
    c.subscribe(this.opts.patterns, {
      backlog: this.opts.backlog,
      onMessage: (m) => this.handle(m),
      onReset: (r) => this.handleReset(r),
    });
  }

  /** Starts over with a fresh connection (e.g. after a new token was entered). */
  reconnect(): void {
    this.client?.close();
    this.client = null;
    this.setState('reconnecting');
    this.open();
  }

  /** Routes one message (the client has dropped repeats already). */
  handle(m: Envelope): void {
    this.received++;
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

  /** Tells the widgets whose patterns the reset names (all, when it names none of ours). */
  handleReset(info: ResetInfo): void {
    this.lastReset = info;
    const all = info.topics.length === 0 || !info.topics.some((p) => this.opts.patterns.includes(p));
    for (const s of this.subs) if (all || s.patterns.some((p) => info.topics.includes(p))) s.onReset?.(info.reason);
    this.emit();
  }

  close(): void {
    this.client?.close();
    this.client = null;
    this.subs.clear();
    this.listeners.clear();
  }
}

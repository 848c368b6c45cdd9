import { describe, expect, it, vi } from 'vitest';
import type { ResetInfo, State } from 'livedash';
import type { Envelope } from './envelope';
import { StreamClient, type ClientLike } from './stream';

/** A stand-in for the livedash client: the test drives its states, messages and resets. */
class FakeClient implements ClientLike {
  stats = { reconnects: 0 };
  closed = false;
  subs: { patterns: readonly string[]; backlog?: number; onMessage(m: Envelope): void; onReset(r: ResetInfo): void }[] = [];
  private stateFns = new Set<(s: { state: State; reason: string }) => void>();
  on(_e: 'state', fn: (s: { state: State; reason: string }) => void) {
    this.stateFns.add(fn);
    return () => this.stateFns.delete(fn);
  }
  subscribe(patterns: readonly string[], o: { backlog?: number; onMessage(m: Envelope): void; onReset(r: ResetInfo): void }) {
    const s = { patterns, ...o };
    this.subs.push(s);
    return { unsubscribe: () => (this.subs = this.subs.filter((x) => x !== s)) };
  }
  close() {
    this.closed = true;
  }
  state(state: State, reason = '') {
    for (const fn of this.stateFns) fn({ state, reason });
  }
  message(topic: string, id: string, data: unknown = 1) {
    for (const s of this.subs) s.onMessage({ id, topic, type: 'point', ts: 1, data });
  }
  reset(topics: string[], reason = 'history trimmed') {
    for (const s of this.subs) s.onReset({ topics, reason });
  }
}

function setup(patterns = ['shop.>', 'host.*.cpu'], o: Partial<ConstructorParameters<typeof StreamClient>[0]> = {}) {
  const fakes: FakeClient[] = [];
  const s = new StreamClient({
    patterns,
    connect: () => {
      const f = new FakeClient();
      fakes.push(f);
      return f;
    },
    now: () => 42,
    ...o,
  });
  s.start();
  return { s, fakes, fake: () => fakes[fakes.length - 1] };
}

describe('StreamClient over the livedash client', () => {
  it('subscribes once to the page patterns, with the backlog asked for, and routes by pattern', () => {
    const { s, fakes, fake } = setup(['shop.>', 'host.*.cpu'], { backlog: 7 });
    expect(fakes).toHaveLength(1);
    expect(fake().subs.map((x) => [x.patterns, x.backlog])).toEqual([[['shop.>', 'host.*.cpu'], 7]]);
    const shop: string[] = [];
    const cpu: string[] = [];
    s.subscribe({ patterns: ['shop.orders'], onMessage: (m) => shop.push(m.id) });
    s.subscribe({ patterns: ['host.*.cpu'], onMessage: (m) => cpu.push(m.id) });
    fake().message('shop.orders', '1-e');
    fake().message('host.a.cpu', '2-e');
    fake().message('shop.revenue', '3-e');
    expect(shop).toEqual(['1-e']);
    expect(cpu).toEqual(['2-e']);
    expect(s.received).toBe(3);
    expect(s.lastMessageAt).toBe(42);
  });

  it('maps the client states onto the badge: live, reconnecting, offline after three tries', () => {
    const { s, fake } = setup();
    const seen: string[] = [];
    s.onChange(() => seen.push(s.state));
    fake().state('live');
    fake().stats.reconnects = 1;
    fake().state('reconnecting', 'network');
    fake().stats.reconnects = 3;
    fake().state('reconnecting', 'network');
    fake().state('live');
    expect(seen).toEqual(['live', 'reconnecting', 'offline', 'live']);
    expect(s.reason).toBe('');
  });

  it('tells the page when the client gave up, with the reason', () => {
    const onGiveUp = vi.fn();
    const { s, fake } = setup(['a'], { onGiveUp });
    fake().state('closed', 'unauthorized: token expired');
    expect(s.state).toBe('offline');
    expect(onGiveUp).toHaveBeenCalledWith('unauthorized: token expired');
  });

  it('on a reset, tells the widgets whose patterns it names, or all when it names none of ours', () => {
    const { s, fake } = setup(['shop.>', 'host.*.cpu']);
    const resets: string[] = [];
    s.subscribe({ patterns: ['shop.>'], onMessage() {}, onReset: (r) => resets.push(`shop:${r}`) });
    s.subscribe({ patterns: ['host.*.cpu'], onMessage() {}, onReset: (r) => resets.push(`cpu:${r}`) });
    fake().reset(['shop.>']);
    expect(resets).toEqual(['shop:history trimmed']);
    fake().reset(['other.>'], 'unknown id');
    expect(resets).toEqual(['shop:history trimmed', 'shop:unknown id', 'cpu:unknown id']);
    expect(s.lastReset).toEqual({ topics: ['other.>'], reason: 'unknown id' });
  });

  it('survives a widget that throws, and stops on close', () => {
    const { s, fake } = setup(['a']);
    const got: string[] = [];
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    s.subscribe({ patterns: ['a'], onMessage: () => { throw new Error('boom'); } });
    s.subscribe({ patterns: ['a'], onMessage: (m) => got.push(m.id) });
    fake().message('a', '1-e');
    expect(got).toEqual(['1-e']);
    expect(err).toHaveBeenCalled();
    s.close();
    expect(fake().closed).toBe(true);
    err.mockRestore();
  });

  it('reconnect starts a fresh client; no patterns needs none', () => {
    const { s, fakes } = setup(['a']);
    s.reconnect();
    expect(fakes).toHaveLength(2);
    expect(fakes[0].closed).toBe(true);
    const empty = setup([]);
    expect(empty.fakes).toHaveLength(0);
    expect(empty.s.state).toBe('live');
  });
});

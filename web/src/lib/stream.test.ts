import { describe, expect, it } from 'vitest';
import type { Envelope } from './envelope';
import { StreamClient, type EventSourceLike } from './stream';

class FakeES implements EventSourceLike {
  readyState = 0;
  onopen: ((ev: Event) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  listeners = new Map<string, ((ev: MessageEvent) => void)[]>();
  closed = false;
  constructor(public url: string) {}
  addEventListener(type: string, fn: (ev: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  error(state: number) {
    this.readyState = state;
    this.onerror?.(new Event('error'));
  }
  send(type: string, data: unknown) {
    const ev = { data: typeof data === 'string' ? data : JSON.stringify(data), lastEventId: '' } as MessageEvent;
    const fns = this.listeners.get(type);
    if (fns) fns.forEach((f) => f(ev));
    else if (type === 'message') this.onmessage?.(ev);
  }
}

const env = (id: string, topic: string, type = 'point', data: unknown = 1): Envelope => ({ id, topic, type, ts: 1, data });

function setup(patterns = ['shop.>', 'host.*.cpu'], types: string[] = []) {
  const sources: FakeES[] = [];
  const timers: (() => void)[] = [];
  let gaveUp = 0;
  const c = new StreamClient({
    patterns,
    types,
    url: (ps, since) => `/api/v1/stream?${ps.map((p) => 'topic=' + encodeURIComponent(p)).join('&')}${since ? '&since=' + since : ''}`,
    open: (u) => {
      const es = new FakeES(u);
      sources.push(es);
      return es;
    },
    onGiveUp: () => gaveUp++,
    setTimeout: (fn) => timers.push(fn),
    clearTimeout: () => {},
  });
  c.start();
  return { c, sources, timers, gaveUp: () => gaveUp };
}

describe('StreamClient', () => {
  it('opens one stream for the union and routes by pattern', () => {
    const { c, sources } = setup();
    expect(sources).toHaveLength(1);
    expect(sources[0].url).toBe('/api/v1/stream?topic=shop.%3E&topic=host.*.cpu');
    const shop: string[] = [];
    const cpu: string[] = [];
    c.subscribe({ patterns: ['shop.orders'], onMessage: (m) => shop.push(m.id) });
    c.subscribe({ patterns: ['host.*.cpu'], onMessage: (m) => cpu.push(m.id) });
    sources[0].open();
    sources[0].send('event', env('1-e', 'shop.orders', 'event'));
    sources[0].send('point', env('2-e', 'host.a.cpu'));
    sources[0].send('point', env('3-e', 'shop.revenue'));
    expect(shop).toEqual(['1-e']);
    expect(cpu).toEqual(['2-e']);
    expect(c.state).toBe('live');
    expect(c.lastMessageAt).not.toBeNull();
  });
  it('never applies a message twice', () => {
    const { c, sources } = setup();
    const got: string[] = [];
    c.subscribe({ patterns: ['shop.>'], onMessage: (m) => got.push(m.id) });
    const es = sources[0];
    es.send('point', env('1-e', 'shop.a'));
    es.send('point', env('2-e', 'shop.a'));
    es.send('point', env('2-e', 'shop.a')); // resent after a resume
    es.send('point', env('1-e', 'shop.a'));
    es.send('point', env('10-e', 'shop.a')); // 10 > 2 numerically
    expect(got).toEqual(['1-e', '2-e', '10-e']);
    expect(c.duplicates).toBe(2);
  });
  it('listens for the well-known types, declared types and unnamed messages', () => {
    const { c, sources } = setup(['x.>'], ['deploy']);
    const got: string[] = [];
    c.subscribe({ patterns: ['x.>'], onMessage: (m) => got.push(m.type) });
    for (const [i, t] of ['point', 'stats', 'alert', 'event', 'deploy'].entries()) sources[0].send(t, env(`${i + 1}-e`, 'x.y', t));
    sources[0].send('message', env('9-e', 'x.y', 'custom'));
    expect(got).toEqual(['point', 'stats', 'alert', 'event', 'deploy', 'custom']);
  });
  it('listens for more types on demand, also after a reconnect', () => {
    const { c, sources, timers } = setup(['x.>']);
    const got: string[] = [];
    c.subscribe({ patterns: ['x.>'], onMessage: (m) => got.push(m.type) });
    sources[0].send('deploy', env('1-e', 'x.y', 'deploy'));
    c.listen(['deploy', 'point', 'reset']);
    sources[0].send('deploy', env('2-e', 'x.y', 'deploy'));
    expect(got).toEqual(['deploy']);
    expect(sources[0].listeners.get('point')).toHaveLength(1);
    sources[0].error(2);
    timers[0]();
    sources[1].send('deploy', env('3-e', 'x.y', 'deploy'));
    expect(got).toEqual(['deploy', 'deploy']);
  });
  it('shows reconnecting, then offline, from readyState and errors', () => {
    const { c, sources } = setup();
    sources[0].open();
    sources[0].error(0);
    expect(c.state).toBe('reconnecting');
    sources[0].open();
    expect(c.state).toBe('live');
    sources[0].error(0);
    sources[0].error(0);
    sources[0].error(0);
    expect(c.state).toBe('offline');
  });
  it('reconnects with since=<last id> when the browser gives up', () => {
    const { c, sources, timers, gaveUp } = setup(['shop.>']);
    c.subscribe({ patterns: ['shop.>'], onMessage: () => {} });
    sources[0].open();
    sources[0].send('point', env('9-e', 'shop.a'));
    sources[0].send('point', env('12-e', 'shop.b'));
    sources[0].error(2);
    expect(c.state).toBe('offline');
    expect(gaveUp()).toBe(1);
    expect(sources[0].closed).toBe(true);
    timers[0]();
    expect(sources).toHaveLength(2);
    expect(sources[1].url).toContain('&since=12-e');
  });
  it('on reset, forgets seen ids and tells the affected widgets', () => {
    const { c, sources } = setup(['shop.>', 'host.*.cpu']);
    const got: string[] = [];
    const resets: string[] = [];
    c.subscribe({ patterns: ['shop.>'], onMessage: (m) => got.push(m.id), onReset: (r) => resets.push('shop:' + r) });
    c.subscribe({ patterns: ['host.*.cpu'], onMessage: () => {}, onReset: () => resets.push('host') });
    sources[0].send('point', env('5-e', 'shop.a'));
    sources[0].send('reset', { topics: ['shop.>'], reason: 'history trimmed' });
    expect(resets).toEqual(['shop:history trimmed']);
    sources[0].send('point', env('5-e', 'shop.a')); // backlog again after the reset
    expect(got).toEqual(['5-e', '5-e']);
  });
  it('a reset naming no known pattern resets everyone', () => {
    const { c, sources } = setup(['a']);
    let n = 0;
    c.subscribe({ patterns: ['a'], onMessage: () => {}, onReset: () => n++ });
    sources[0].send('reset', 'not json');
    expect(n).toBe(1);
  });
  it('ignores payloads that are not envelopes and survives a failing widget', () => {
    const { c, sources } = setup(['a']);
    const got: string[] = [];
    c.subscribe({ patterns: ['a'], onMessage: () => { throw new Error('boom'); } });
    c.subscribe({ patterns: ['a'], onMessage: (m) => got.push(m.id) });
    sources[0].send('point', 'nope');
    sources[0].send('point', { hello: 1 });
    const err = console.error;
    console.error = () => {};
    sources[0].send('point', env('1-e', 'a'));
    console.error = err;
    expect(got).toEqual(['1-e']);
  });
});

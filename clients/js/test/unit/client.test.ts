import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { connect, type Envelope, type StateChange } from '../../src/index';
import { FakeWS, fakeFetch, jwt, settle, sseMessage, tick } from './fakes';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(o: Parameters<typeof connect>[0] = {}) {
  const f = fakeFetch();
  const c = connect({ url: 'http://live.test/', fetch: f.fn, random: () => 0.5, ...o });
  const states: StateChange[] = [];
  c.on('state', (s) => states.push(s));
  return { f, c, states };
}

describe('resume bookkeeping', () => {
  it('resumes from the last id after every reconnect, drops duplicates, no gap', async () => {
    const { f, c } = setup();
    const got: string[] = [];
    const sub = c.subscribe('a.>', { backlog: 10, onMessage: (m) => got.push(m.id) });
    await tick();
    expect(f.requests).toHaveLength(1);
    expect(f.last().url.searchParams.get('since')).toBeNull();
    expect(f.last().url.searchParams.get('backlog')).toBe('10');
    expect(f.last().headers.Authorization).toBeUndefined();
    f.last().push('retry: 2000\n\n' + sseMessage('1-e', 'a.x', 1) + sseMessage('2-e', 'a.y', 2));
    await tick();
    expect(got).toEqual(['1-e', '2-e']);
    expect(c.state).toBe('live');

    f.last().end(); // the server went away
    await tick();
    expect(c.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(f.requests).toHaveLength(2);
    expect(f.last().url.searchParams.get('since')).toBe('2-e');
    expect(f.last().url.searchParams.get('backlog')).toBeNull();
    // A server that repeats the last one (or a proxy replay): applied once.
    f.last().push(sseMessage('2-e', 'a.y', 2) + sseMessage('3-e', 'a.x', 3));
    await tick();
    expect(got).toEqual(['1-e', '2-e', '3-e']);
    expect(c.stats.duplicates).toBe(1);
    expect(sub.lastId).toBe('3-e');
    expect(c.lastId).toBe('3-e');
    c.close();
  });

  it('tells the caller about a reset, then takes the fresh backlog', async () => {
    const { f, c } = setup();
    const got: string[] = [];
    const resets: string[] = [];
    c.subscribe(['b.*'], { since: '7-old', onMessage: (m) => got.push(m.id), onReset: (r) => resets.push(r.reason) });
    await tick();
    expect(f.last().url.searchParams.get('since')).toBe('7-old');
    f.last().push('event: reset\ndata: {"topics":["b.*"],"reason":"unknown id"}\n\n' + sseMessage('3-new', 'b.x', 1));
    await tick();
    expect(resets).toEqual(['unknown id']);
    expect(got).toEqual(['3-new']);
    expect(c.stats.resets).toBe(1);
    c.close();
  });

  it('resets a subscription whose since is of another epoch than the stream, and only that one', async () => {
    const { f, c } = setup();
    const resets: string[] = [];
    c.subscribe('a', { onReset: () => resets.push('a') });
    await tick();
    f.last().push(sseMessage('5-e', 'a', 1));
    await tick();
    const got: string[] = [];
    c.subscribe('b', { since: '9-other', onMessage: (m) => got.push(m.id), onReset: (r) => resets.push(`b ${r.reason}`) });
    await tick();
    expect(resets).toEqual(['b unknown id']);
    expect(f.last().url.searchParams.get('since')).toBe('5-e');
    f.last().push(sseMessage('6-e', 'b', 1));
    await tick();
    expect(got).toEqual(['6-e']);
    c.close();
  });

  it('carries every subscription on one stream and resubscribes with the union as they come and go', async () => {
    const { f, c } = setup();
    const a: string[] = [];
    const b: string[] = [];
    const sa = c.subscribe('a.x', { onMessage: (m) => a.push(m.id) });
    const sb = c.subscribe(['b.>', 'a.x'], { on: { point: (m: Envelope) => b.push(m.id) } });
    await tick();
    expect(f.requests).toHaveLength(1);
    expect(f.last().url.searchParams.getAll('topic')).toEqual(['a.x', 'b.>']);
    f.last().push(sseMessage('1-e', 'a.x', 1) + sseMessage('2-e', 'b.q', 2) + sseMessage('3-e', 'b.q', 3, 'event'));
    await tick();
    expect(a).toEqual(['1-e']);
    expect(b).toEqual(['1-e', '2-e']); // its point handler: not the event
    sb.unsubscribe();
    await tick();
    expect(f.requests).toHaveLength(2);
    expect(f.requests[0].aborted).toBe(true);
    expect(f.last().url.searchParams.getAll('topic')).toEqual(['a.x']);
    expect(f.last().url.searchParams.get('since')).toBe('3-e');
    expect(c.state).toBe('live'); // a resubscribe is not an outage
    sa.unsubscribe();
    c.close();
  });
});

describe('state and retries', () => {
  it('goes connecting → live → reconnecting → live → closed, with reasons', async () => {
    const { f, c, states } = setup();
    c.subscribe('a');
    expect(c.state).toBe('connecting');
    await tick();
    expect(c.state).toBe('live'); // the server answered 200
    f.last().push(': hi\n\n');
    await tick();
    f.answers.push({ status: 503, headers: { 'Retry-After': '3' }, body: '{"error":"server is shutting down"}' });
    f.last().end();
    await tick();
    await vi.advanceTimersByTimeAsync(500); // attempt 0: 0.5 × 1000
    expect(f.requests).toHaveLength(2);
    expect(c.state).toBe('reconnecting');
    expect(c.reason).toBe('HTTP 503: server is shutting down');
    await vi.advanceTimersByTimeAsync(2999); // Retry-After 3 s beats the 1 s jitter
    expect(f.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(f.requests).toHaveLength(3);
    await tick();
    expect(c.state).toBe('live');
    c.close();
    expect(states.map((s) => s.state)).toEqual(['live', 'reconnecting', 'reconnecting', 'live', 'closed']);
    expect(states[1].reason).toBe('the server ended the stream');
    expect(states.at(-1)!.reason).toBe('closed by the client');
    expect(f.last().aborted).toBe(true);
  });

  it('backs off exponentially on network errors and resets the backoff once live', async () => {
    const f = fakeFetch();
    let fail = true;
    const fetchFn = vi.fn(async (u: string, i: RequestInit) => {
      if (fail) throw new TypeError('fetch failed');
      return f.fn(u, i);
    }) as unknown as typeof fetch;
    const c = connect({ url: 'http://live.test', fetch: fetchFn, random: () => 0.999, backoff: { base: 100, max: 1000 } });
    c.subscribe('a');
    await tick();
    const times: number[] = [];
    const t0 = Date.now();
    for (let i = 0; i < 6; i++) {
      const n = (fetchFn as unknown as { mock: { calls: unknown[] } }).mock.calls.length;
      while ((fetchFn as unknown as { mock: { calls: unknown[] } }).mock.calls.length === n) await vi.advanceTimersByTimeAsync(1);
      times.push(Date.now() - t0);
    }
    const gaps = times.map((t, i) => t - (i ? times[i - 1] : 0));
    expect(gaps).toEqual([99, 199, 399, 799, 999, 999]); // just under each ceiling, capped
    expect(c.reason).toBe('fetch failed');
    fail = false;
    await vi.advanceTimersByTimeAsync(1000);
    await tick();
    expect(c.state).toBe('live');
    f.last().end();
    await tick();
    const before = f.requests.length;
    await vi.advanceTimersByTimeAsync(100); // attempt 0 again
    expect(f.requests.length).toBe(before + 1);
    c.close();
  });

  it('stops for good on a 403 and says why', async () => {
    const { f, c } = setup();
    f.answers.push({ status: 403, body: '{"error":"token may not subscribe to x"}' });
    c.subscribe('x');
    await tick();
    expect(c.state).toBe('closed');
    expect(c.reason).toBe('403: token may not subscribe to x');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(f.requests).toHaveLength(1);
  });
});

describe('heartbeat', () => {
  it('reconnects when no byte came for 2.5× the heartbeat; pings keep it alive', async () => {
    const { f, c } = setup({ heartbeat: 1000 });
    c.subscribe('a');
    await tick();
    f.last().push(sseMessage('1-e', 'a', 1));
    await tick();
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(2000);
      f.last().push(': ping\n\n');
      await tick();
    }
    expect(c.state).toBe('live');
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2499);
    expect(c.state).toBe('live');
    await vi.advanceTimersByTimeAsync(1);
    expect(c.state).toBe('reconnecting');
    expect(c.reason).toBe('no data for 2500 ms');
    expect(f.requests[0].aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(500);
    expect(f.requests).toHaveLength(2);
    expect(f.last().url.searchParams.get('since')).toBe('1-e');
    c.close();
  });

  it('defaults to the server default of 15 s (37.5 s of silence)', async () => {
    const { f, c } = setup();
    c.subscribe('a');
    await tick();
    f.last().push(': x\n\n');
    await tick();
    await vi.advanceTimersByTimeAsync(37_499);
    expect(c.state).toBe('live');
    await vi.advanceTimersByTimeAsync(1);
    expect(c.state).toBe('reconnecting');
    c.close();
  });
});

describe('tokens', () => {
  it('calls getToken before exp and continues the stream from where it was', async () => {
    const now = () => Math.floor(Date.now() / 1000);
    const getToken = vi.fn(() => jwt(now() + 60));
    const { f, c, states } = setup({ getToken });
    c.subscribe('a');
    await tick();
    expect(getToken).toHaveBeenCalledTimes(1);
    const first = f.last().headers.Authorization;
    expect(first).toMatch(/^Bearer ey/);
    f.last().push(sseMessage('4-e', 'a', 1));
    await tick();
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(10_000);
      f.last().push(': ping\n\n');
      await tick();
    }
    await vi.advanceTimersByTimeAsync(7999); // a fifth of 60 s before exp
    expect(getToken).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    await tick();
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(f.requests).toHaveLength(2);
    expect(f.requests[0].aborted).toBe(true);
    expect(f.last().headers.Authorization).not.toBe(first);
    expect(f.last().url.searchParams.get('since')).toBe('4-e');
    expect(f.last().url.searchParams.has('token')).toBe(false);
    f.last().push(': ok\n\n');
    await tick();
    expect(states.map((s) => s.state)).toEqual(['live']); // no outage shown
    c.close();
  });

  it('after a 401 asks for a fresh token once; a 401 on that one is final', async () => {
    const getToken = vi.fn(() => 'opaque-token');
    const { f, c } = setup({ getToken });
    f.answers.push({ status: 401, body: '{"error":"token expired"}' });
    c.subscribe('a');
    await tick();
    await vi.advanceTimersByTimeAsync(0);
    await tick();
    expect(getToken).toHaveBeenCalledTimes(2);
    expect(f.requests).toHaveLength(2);
    expect(c.state).toBe('live');
    f.last().push(sseMessage('9-e', 'a', 1));
    await tick();
    f.answers.push({ status: 401, body: '{"error":"token expired"}' }, { status: 401, body: '{"error":"invalid token"}' });
    f.last().end();
    await settle();
    await vi.advanceTimersByTimeAsync(500);
    await settle();
    expect(getToken).toHaveBeenCalledTimes(3);
    expect(f.requests).toHaveLength(4);
    expect(f.requests[3].url.searchParams.get('since')).toBe('9-e');
    expect(c.state).toBe('closed');
    expect(c.reason).toBe('unauthorized: invalid token');
  });

  it('a fixed token that the server refuses stops at once', async () => {
    const { f, c } = setup({ token: 't' });
    f.answers.push({ status: 401, body: '{"error":"invalid token"}' });
    c.subscribe('a');
    await tick();
    expect(f.last().headers.Authorization).toBe('Bearer t');
    expect(c.state).toBe('closed');
    expect(c.reason).toBe('unauthorized: invalid token');
  });
});

describe('publish', () => {
  it('retries 429 and 503 after Retry-After, then resolves to the ids', async () => {
    const { f, c } = setup({ token: 'p' });
    f.answers.push({ status: 429, headers: { 'Retry-After': '2' } }, { status: 503 }, { status: 200, body: '{"ids":["1-e"]}' });
    const p = c.publish({ topic: 'a', data: 1 });
    await tick();
    expect(f.requests).toHaveLength(1);
    expect(f.last().headers.Authorization).toBe('Bearer p');
    await vi.advanceTimersByTimeAsync(1999);
    expect(f.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await tick();
    expect(f.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    await expect(p).resolves.toEqual(['1-e']);
    expect(f.requests).toHaveLength(3);
  });

  it('does not retry a 400 (nothing stored, nothing will change)', async () => {
    const { f, c } = setup();
    f.answers.push({ status: 400, body: '{"error":"bad topic","index":0}' });
    await expect(c.publish([{ topic: '..', data: 1 }])).rejects.toMatchObject({ status: 400, message: 'bad topic' });
    expect(f.requests).toHaveLength(1);
  });
});

describe('WebSocket transport', () => {
  it('subscribes with since on reconnect, pings, and refreshes on a 4001 close', async () => {
    FakeWS.all = [];
    let n = 0;
    const getToken = vi.fn(() => `tok${++n}`);
    const c = connect({ url: 'https://live.test', transport: 'ws', WebSocket: FakeWS, getToken, heartbeat: 1000, random: () => 0 });
    const got: string[] = [];
    c.subscribe('a.>', { backlog: 5, onMessage: (m) => got.push(m.id) });
    await tick();
    const w = FakeWS.all[0];
    expect(w.url).toBe('wss://live.test/api/v1/ws?token=tok1');
    w.open();
    expect(w.sent[0]).toEqual({ op: 'subscribe', ref: 1, topics: ['a.>'], backlog: 5 });
    w.frame({ op: 'ok', ref: 1 });
    expect(c.state).toBe('live');
    w.frame({ op: 'message', id: '1-e', topic: 'a.b', type: 'point', ts: 1, data: 1 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.sent[1]).toMatchObject({ op: 'ping' });
    w.frame({ op: 'pong', ref: 2 });
    w.drop(4001, 'token expired');
    await vi.advanceTimersByTimeAsync(0);
    await tick();
    expect(getToken).toHaveBeenCalledTimes(2);
    const w2 = FakeWS.all[1];
    expect(w2.url).toBe('wss://live.test/api/v1/ws?token=tok2');
    w2.open();
    expect(w2.sent[0]).toEqual({ op: 'subscribe', ref: 1, topics: ['a.>'], since: '1-e' });
    w2.frame({ op: 'ok', ref: 1 });
    w2.frame({ op: 'message', id: '1-e', topic: 'a.b', type: 'point', ts: 1, data: 1 });
    w2.frame({ op: 'message', id: '2-e', topic: 'a.b', type: 'point', ts: 1, data: 2 });
    expect(got).toEqual(['1-e', '2-e']);
    w2.frame({ op: 'error', ref: 1, code: 'forbidden', message: 'no' });
    expect(c.state).toBe('closed');
    expect(c.reason).toBe('403: no');
  });

  it('refuses to start without a WebSocket constructor', () => {
    expect(() => connect({ url: 'http://x', transport: 'ws', WebSocket: undefined })).toThrow(/WebSocket/);
  });
});

describe('browser wake-ups', () => {
  it('retries at once when the browser is back online, and checks a stale stream when the tab wakes', async () => {
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
    vi.stubGlobal('window', win);
    vi.stubGlobal('document', doc);
    try {
      const { f, c } = setup({ backoff: { base: 10_000, max: 60_000 } });
      c.subscribe('a');
      await tick();
      f.last().push(sseMessage('1-e', 'a', 1));
      await tick();
      f.last().end();
      await tick();
      expect(c.state).toBe('reconnecting'); // waiting 5 s (0.5 × 10 s)
      win.dispatchEvent(new Event('online'));
      await tick();
      expect(f.requests).toHaveLength(2);
      expect(f.last().url.searchParams.get('since')).toBe('1-e');
      await tick();
      expect(c.state).toBe('live');

      // A tab asleep for a minute: its timers did not run; on wake the stream is known stale.
      const realNow = Date.now;
      vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 60_000);
      doc.dispatchEvent(new Event('visibilitychange'));
      expect(c.state).toBe('reconnecting');
      expect(c.reason).toBe('stale after the page woke up');
      vi.mocked(Date.now).mockRestore();
      c.close();
      // close() removed the listeners: no retry after it.
      win.dispatchEvent(new Event('online'));
      await tick();
      expect(f.requests).toHaveLength(2);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { FetchEventSource, SSEParser } from './sse';

describe('SSEParser', () => {
  it('parses events, types, ids, retry and comments, across chunk boundaries', () => {
    const p = new SSEParser();
    const text = 'retry: 1500\n: ping\n\nid: 1-e\nevent: point\ndata: {"a":1}\n\nid: 2-e\ndata: x\ndata:y\n\n';
    const out = [];
    for (let i = 0; i < text.length; i += 3) out.push(...p.feed(text.slice(i, i + 3)));
    expect(out).toEqual([
      { type: 'point', data: '{"a":1}', id: '1-e' },
      { type: 'message', data: 'x\ny', id: '2-e' },
    ]);
    expect(p.retry).toBe(1500);
    expect(p.lastId).toBe('2-e');
  });
  it('takes CR, LF and CRLF line ends, also a CRLF split between chunks', () => {
    const p = new SSEParser();
    expect(p.feed('event: a\r\ndata: 1\r')).toEqual([]);
    expect(p.feed('\n\r\ndata: 2\r\r')).toEqual([{ type: 'a', data: '1', id: '' }]);
    // The last CR may be the start of a CRLF: the event ends with the next byte.
    expect(p.feed(': ping\n')).toEqual([{ type: 'message', data: '2', id: '' }]);
  });
  it('skips events without data and keeps an id without one', () => {
    const p = new SSEParser('0-e');
    expect(p.feed('event: x\n\nid: 5-e\n\ndata\n\n')).toEqual([]);
    expect(p.lastId).toBe('5-e');
  });
});

/** A fetch that answers each call with the next scripted response; a body stays open until end(). */
function fakeFetch() {
  const calls: { url: string; headers: Record<string, string> }[] = [];
  const streams: { push(s: string): void; end(): void }[] = [];
  const answers: (number | 'stream')[] = [];
  const fn = async (url: string, init: RequestInit) => {
    calls.push({ url, headers: init.headers as Record<string, string> });
    const a = answers.shift() ?? 'stream';
    if (a !== 'stream') return new Response('{"error":"no"}', { status: a, headers: { 'Content-Type': 'application/json' } });
    let ctl!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (ctl = c) });
    const enc = new TextEncoder();
    streams.push({ push: (s) => ctl.enqueue(enc.encode(s)), end: () => ctl.close() });
    init.signal?.addEventListener('abort', () => ctl.error(new Error('aborted')));
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  };
  return { fn, calls, streams, answers };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('FetchEventSource', () => {
  it('delivers typed events to their listeners and every other type to onmessage; the token goes in a header', async () => {
    const f = fakeFetch();
    const es = new FetchEventSource('/s', () => ({ Authorization: 'Bearer T' }), f.fn);
    const got: string[] = [];
    es.addEventListener('point', (e) => got.push('point:' + e.data));
    es.onmessage = (e) => got.push('other:' + e.data + '@' + e.lastEventId);
    let opened = 0;
    es.onopen = () => opened++;
    await until(() => f.streams.length === 1);
    f.streams[0].push('id: 1-e\nevent: point\ndata: 1\n\nid: 2-e\nevent: deploy\ndata: 2\n\nevent: reset\ndata: {}\n\n');
    await until(() => got.length === 2);
    expect(got).toEqual(['point:1', 'other:2@2-e']);
    expect(opened).toBe(1);
    expect(es.readyState).toBe(1);
    expect(f.calls[0].headers).toMatchObject({ Authorization: 'Bearer T', Accept: 'text/event-stream' });
    es.close();
  });

  it('after a drop: CONNECTING, then retries after the server’s delay with Last-Event-ID', async () => {
    const f = fakeFetch();
    const es = new FetchEventSource('/s', undefined, f.fn);
    const states: number[] = [];
    es.onerror = () => states.push(es.readyState);
    es.onmessage = () => {};
    await until(() => f.streams.length === 1);
    f.streams[0].push('retry: 10\nid: 7-e\ndata: x\n\n');
    f.streams[0].end();
    await until(() => f.calls.length === 2);
    expect(states).toEqual([0]);
    expect(f.calls[1].headers['Last-Event-ID']).toBe('7-e');
    es.close();
  });

  it('an HTTP error is final: CLOSED, one error, no retry', async () => {
    const f = fakeFetch();
    f.answers.push(401);
    const es = new FetchEventSource('/s', undefined, f.fn);
    const states: number[] = [];
    es.onerror = () => states.push(es.readyState);
    await until(() => states.length === 1);
    expect(states).toEqual([2]);
    await new Promise((r) => setTimeout(r, 50));
    expect(f.calls).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import type { Envelope } from './envelope';
import { heldRows, makeFilter, selectRows, SPARK_POINTS, summarize, TopicStore, type TopicSnapshot } from './topics';

const env = (seq: number, topic: string, data: unknown = seq, type = 'point', ts = seq * 1000): Envelope => ({
  id: `${seq}-e1`,
  topic,
  type,
  ts,
  data,
});

function loaded(list: TopicSnapshot[] = [{ topic: 'shop.orders', last: env(5, 'shop.orders', { id: 1 }, 'event'), count: 5 }]) {
  const s = new TopicStore();
  s.snapshot(list);
  return s;
}

describe('TopicStore', () => {
  it('starts from the server list', () => {
    const s = loaded([
      { topic: 'host.cpu', last: env(3, 'host.cpu', 42), count: 3 },
      { topic: 'empty', last: null, count: 0 },
    ]);
    expect(s.size).toBe(2);
    expect(s.get('host.cpu')).toMatchObject({ type: 'point', count: 3, last: { data: 42 } });
    expect(s.get('host.cpu')!.spark.map((p) => p.v)).toEqual([42]);
    expect(s.get('empty')).toMatchObject({ type: '', count: 0, last: null });
  });

  it('inserts a new topic on its first message, with count 1', () => {
    const s = loaded();
    s.push(env(9, 'orders.count', 42));
    expect(s.get('orders.count')).toBeUndefined(); // not before the flush
    expect(s.flush()).toBe(true);
    expect(s.get('orders.count')).toMatchObject({ count: 1, type: 'point', last: { data: 42 } });
    const rows = selectRows(s.all(), makeFilter(''), 'recent');
    expect(rows[0].topic).toBe('orders.count');
  });

  it('counts each new message once and takes the last', () => {
    const s = loaded();
    s.push(env(6, 'shop.orders', { id: 2 }, 'event'));
    s.push(env(7, 'shop.orders', { id: 3 }, 'event'));
    s.push(env(7, 'shop.orders', { id: 3 }, 'event')); // delivered twice
    s.flush();
    expect(s.get('shop.orders')).toMatchObject({ count: 7, last: { id: '7-e1', data: { id: 3 } } });
  });

  it('does not count the backlog the server list already counted', () => {
    const s = new TopicStore();
    // The stream's backlog arrives before the list: held, then compared with it.
    for (let i = 1; i <= 5; i++) s.push(env(i, 'host.cpu', i * 10));
    expect(s.flush()).toBe(false);
    expect(s.size).toBe(0);
    s.snapshot([{ topic: 'host.cpu', last: env(4, 'host.cpu', 40), count: 4 }]);
    // 1–4 were in the list's count, 5 is new.
    expect(s.get('host.cpu')).toMatchObject({ count: 5, last: { data: 50 } });
    // The backlog fills the sparkline, oldest first, each value once.
    expect(s.get('host.cpu')!.spark.map((p) => p.v)).toEqual([10, 20, 30, 40, 50]);
  });

  it('a later list keeps counts that the stream has moved past', () => {
    const s = loaded([{ topic: 'a', last: env(2, 'a'), count: 2 }]);
    s.push(env(3, 'a'));
    s.flush();
    s.snapshot([{ topic: 'a', last: env(2, 'a'), count: 2 }]); // stale
    expect(s.get('a')!.count).toBe(3);
    s.snapshot([{ topic: 'a', last: env(9, 'a'), count: 9 }]); // newer
    expect(s.get('a')).toMatchObject({ count: 9, last: { id: '9-e1' } });
  });

  it('batches: many messages, one flush, one version step', () => {
    const s = loaded();
    const v0 = s.version;
    for (let i = 10; i < 2010; i++) s.push(env(i, `t.${i % 500}`, i));
    expect(s.pending).toBe(2000);
    expect(s.version).toBe(v0);
    s.flush();
    expect(s.version).toBe(v0 + 1);
    expect(s.pending).toBe(0);
    expect(s.size).toBe(501);
    expect(s.get('t.7')!.count).toBe(4);
    expect(s.flush()).toBe(false); // nothing queued: no render
    expect(s.version).toBe(v0 + 1);
  });

  it('keeps a bounded sparkline of point values in time order, none for other types', () => {
    const s = loaded();
    for (let i = 100; i < 100 + SPARK_POINTS + 20; i++) s.push(env(i, 'p', { value: i }));
    s.push(env(200, 'p', 'x'));
    s.push(env(201, 'obj', { p50: 3, p99: 9 }));
    s.flush();
    const sp = s.get('p')!.spark;
    expect(sp.length).toBe(SPARK_POINTS);
    expect(sp[sp.length - 1].v).toBe(100 + SPARK_POINTS + 19);
    expect(sp.every((p, i) => i === 0 || p.ts > sp[i - 1].ts)).toBe(true);
    expect(s.get('obj')!.spark.map((p) => p.v)).toEqual([3]);
    expect(s.get('shop.orders')!.spark).toEqual([]);
  });
});

describe('filter and sort', () => {
  const s = loaded([
    { topic: 'shop.orders', last: env(5, 'shop.orders', {}, 'event'), count: 50 },
    { topic: 'shop.eu.revenue', last: env(9, 'shop.eu.revenue'), count: 3 },
    { topic: 'host.a.cpu', last: env(7, 'host.a.cpu'), count: 900 },
    { topic: 'Shopping', last: null, count: 0 },
    { topic: 'sys.connections', last: env(8, 'sys.connections', {}, 'event'), count: 2 },
  ]);
  const names = (text: string, sort: 'recent' | 'name' | 'count' = 'name') => selectRows(s.all(), makeFilter(text), sort).map((r) => r.topic);

  it('sorts by most recent (default), by name and by count', () => {
    expect(names('', 'recent')).toEqual(['shop.eu.revenue', 'sys.connections', 'host.a.cpu', 'shop.orders', 'Shopping']);
    expect(names('', 'name')).toEqual(['Shopping', 'host.a.cpu', 'shop.eu.revenue', 'shop.orders', 'sys.connections']);
    expect(names('', 'count')).toEqual(['host.a.cpu', 'shop.orders', 'shop.eu.revenue', 'sys.connections', 'Shopping']);
  });

  it('filters by substring, ignoring case', () => {
    expect(makeFilter('  ').kind).toBe('all');
    expect(names('shop')).toEqual(['Shopping', 'shop.eu.revenue', 'shop.orders']);
    expect(names('CPU')).toEqual(['host.a.cpu']);
    expect(names('nothing')).toEqual([]);
  });

  it('filters by NATS pattern', () => {
    expect(makeFilter('shop.*').kind).toBe('pattern');
    expect(names('shop.*')).toEqual(['shop.orders']);
    expect(names('shop.>')).toEqual(['shop.eu.revenue', 'shop.orders']);
    expect(names('*.*.cpu')).toEqual(['host.a.cpu']);
    // Like the server: only a sys. pattern matches the server's own topics.
    expect(names('>')).not.toContain('sys.connections');
    expect(names('sys.>')).toEqual(['sys.connections']);
  });

  it('while held, rows keep their places and new ones go last', () => {
    const shown = names('', 'recent');
    const st = loaded(s.all().map((r) => ({ topic: r.topic, last: r.last, count: r.count })));
    st.push(env(20, 'Shopping', 1)); // now the most recent
    st.push(env(21, 'a.new', 1));
    st.flush();
    const held = heldRows(shown, st.all(), makeFilter(''), 'recent').map((r) => r.topic);
    expect(held).toEqual([...shown, 'a.new']);
    expect(selectRows(st.all(), makeFilter(''), 'recent')[0].topic).toBe('a.new'); // released: re-sorted
    // The filter still applies to the held rows.
    expect(heldRows(shown, st.all(), makeFilter('shop'), 'recent').map((r) => r.topic)).toEqual(['shop.eu.revenue', 'shop.orders', 'Shopping']);
  });

  it('falls back to text for an invalid pattern, and says so', () => {
    const f = makeFilter('sho*');
    expect(f.kind).toBe('substring');
    expect(f.note).toBeTruthy();
    expect(names('sho*')).toEqual([]);
  });
});

describe('summarize', () => {
  it('says what a message holds in one line', () => {
    expect(summarize(env(1, 'a', { id: 17, total: 42.5, who: 'ann' }, 'event'))).toBe('id 17 · total 42.5 · who ann');
    expect(summarize(env(1, 'a', { severity: 'critical', message: 'disk full' }, 'alert'))).toBe('disk full');
    expect(summarize(env(1, 'a', { severity: 'info', message: 'ok', state: 'resolved' }, 'alert'))).toBe('resolved · ok');
    expect(summarize(env(1, 'a', [1, 2], 'build'))).toBe('[1,2]');
    expect(summarize(env(1, 'a', 'x'.repeat(300), 'log')).length).toBe(120);
    expect(summarize(null)).toBe('');
    expect(summarize(env(1, 'a', { used: 14_487_248_896, pct: 14.8123, ok: true, none: null }, 'point'))).toBe('used 14B · pct 14.81 · ok yes · none —');
  });
});

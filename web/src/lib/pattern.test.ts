import { describe, expect, it } from 'vitest';
import { isValidPattern, matchTopic, seriesLabels, shortLabels, unionPatterns } from './pattern';

describe('matchTopic', () => {
  const cases: [string, string, boolean][] = [
    ['shop.orders', 'shop.orders', true],
    ['shop.orders', 'shop.order', false],
    ['shop.*', 'shop.orders', true],
    ['shop.*', 'shop', false],
    ['shop.*', 'shop.orders.eu', false],
    ['shop.>', 'shop.orders', true],
    ['shop.>', 'shop.orders.eu', true],
    ['shop.>', 'shop', false],
    ['*.orders', 'shop.orders', true],
    ['host.*.net.>', 'host.a.net.eth0', true],
    ['host.*.net.>', 'host.a.net', false],
    ['>', 'a', true],
    ['>', 'a.b.c', true],
    ['>', 'sys.connections', false],
    ['*', 'sys', true],
    ['*.*', 'sys.alerts', false],
    ['sys.>', 'sys.alerts', true],
    ['sys.*', 'sys.alerts', true],
    ['a.b.c', 'a.b', false],
  ];
  it.each(cases)('%s ~ %s = %s', (p, t, want) => {
    expect(matchTopic(p, t)).toBe(want);
  });
});

describe('isValidPattern', () => {
  it.each([
    ['shop.orders', true],
    ['shop.*', true],
    ['shop.>', true],
    ['>', true],
    ['shop.>.x', false],
    ['shop..x', false],
    ['', false],
    ['shop orders', false],
    ['a'.repeat(201), false],
  ])('%s → %s', (p, want) => expect(isValidPattern(p)).toBe(want));
});

describe('unionPatterns', () => {
  it('dedupes and sorts', () => {
    expect(unionPatterns([['b', 'a'], ['a', 'c'], []])).toEqual(['a', 'b', 'c']);
  });
});

describe('shortLabels', () => {
  it('keeps the segments that differ', () => {
    const m = shortLabels(['host.a.net.eth0', 'host.a.net.wlan0']);
    expect(m.get('host.a.net.eth0')).toBe('eth0');
    expect(m.get('host.a.net.wlan0')).toBe('wlan0');
  });
  it('keeps middle segments', () => {
    const m = shortLabels(['host.a.cpu', 'host.b.cpu']);
    expect([...m.values()]).toEqual(['a', 'b']);
  });
  it('uses the last segment of a single topic', () => {
    expect(shortLabels(['shop.latency']).get('shop.latency')).toBe('latency');
  });
});

describe('seriesLabels', () => {
  it('names series by field, topic, or both', () => {
    expect(seriesLabels(['shop.latency|p50', 'shop.latency|p99'])).toEqual(['p50', 'p99']);
    expect(seriesLabels(['host.a.net.eth0|rx_bps', 'host.a.net.lo|rx_bps'])).toEqual(['eth0 rx_bps', 'lo rx_bps']);
    expect(seriesLabels(['shop.revenue'])).toEqual(['revenue']);
  });
});

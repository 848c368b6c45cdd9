import { describe, expect, it } from 'vitest';
import { embedPath, explorePath, parseRoute } from './route';

describe('parseRoute', () => {
  it.each([
    ['/', { page: 'index' }],
    ['/index.html', { page: 'index' }],
    ['/d/shop', { page: 'dashboard', name: 'shop' }],
    ['/d/shop/', { page: 'dashboard', name: 'shop' }],
    ['/d/shop/edit', { page: 'edit', name: 'shop' }],
    ['/new', { page: 'edit', name: null }],
    ['/embed/shop', { page: 'embed', name: 'shop' }],
    ['/embed/shop/latency', { page: 'embed', name: 'shop', widget: 'latency' }],
    ['/x', { page: 'notfound', path: '/x' }],
    ['/d/a/b', { page: 'notfound', path: '/d/a/b' }],
  ])('%s', (p, want) => expect(parseRoute(p)).toEqual(want));
  it('reads /explore?topic=… patterns, in order, once each', () => {
    expect(parseRoute('/explore', '?topic=shop.>&topic=host.*.cpu&topic=shop.>&topic=')).toEqual({ page: 'explore', patterns: ['shop.>', 'host.*.cpu'] });
    expect(parseRoute('/explore/', '')).toEqual({ page: 'explore', patterns: [] });
    expect(parseRoute('/explore/x', '')).toEqual({ page: 'notfound', path: '/explore/x' });
  });
  it('builds explore paths that round-trip', () => {
    const p = explorePath(['shop.>', 'a b', 'x&y']);
    expect(p).toBe('/explore?topic=shop.>&topic=a+b&topic=x%26y');
    const u = new URL(p, 'http://h');
    expect(parseRoute(u.pathname, u.search)).toEqual({ page: 'explore', patterns: ['shop.>', 'a b', 'x&y'] });
  });
  it('builds embed paths', () => expect(embedPath('shop', 'w 1')).toBe('/embed/shop/w%201'));
});

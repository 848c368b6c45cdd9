import { describe, expect, it } from 'vitest';
import { embedPath, parseRoute } from './route';

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
  it('builds embed paths', () => expect(embedPath('shop', 'w 1')).toBe('/embed/shop/w%201'));
});

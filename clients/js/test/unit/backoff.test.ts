import { describe, expect, it } from 'vitest';
import { backoffDelay, parseRetryAfter } from '../../src/backoff';
import { refreshAt, tokenExpiry } from '../../src/token';
import { jwt } from './fakes';

describe('backoffDelay', () => {
  it('stays within [0, min(max, base·2^n)) and honours Retry-After', () => {
    const o = { base: 1000, max: 30_000 };
    for (let n = 0; n < 12; n++) {
      const ceiling = Math.min(30_000, 1000 * 2 ** n);
      expect(backoffDelay(n, o, () => 0)).toBe(0);
      expect(backoffDelay(n, o, () => 0.999999)).toBe(ceiling - 1);
      expect(backoffDelay(n, o, () => 0.5)).toBe(ceiling / 2);
    }
    expect(backoffDelay(50, o, () => 0.999999)).toBeLessThan(30_000);
    expect(backoffDelay(0, o, () => 0.1, 7000)).toBe(7000);
    expect(backoffDelay(4, o, () => 0.5, 7000)).toBe(8000);
    expect(backoffDelay(5, o, () => 0.5, 7000)).toBe(15_000);
  });

  it('is full jitter: spread over the whole range', () => {
    const ds = Array.from({ length: 2000 }, () => backoffDelay(3, { base: 1000, max: 30_000 }));
    expect(Math.min(...ds)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ds)).toBeLessThan(8000);
    expect(Math.min(...ds)).toBeLessThan(800); // not "ceiling ± a bit"
    expect(Math.max(...ds)).toBeGreaterThan(7200);
    const mean = ds.reduce((a, b) => a + b, 0) / ds.length;
    expect(mean).toBeGreaterThan(3500);
    expect(mean).toBeLessThan(4500);
    expect(new Set(ds).size).toBeGreaterThan(1000);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(null)).toBe(0);
    expect(parseRetryAfter('soon')).toBe(0);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
  });
});

describe('tokens', () => {
  it('reads exp and refreshes a fifth of the lifetime early, 1–30 s', () => {
    expect(tokenExpiry(jwt(1_900_000_000))).toBe(1_900_000_000_000);
    expect(tokenExpiry('not a jwt')).toBeUndefined();
    expect(tokenExpiry('a.!!!.c')).toBeUndefined();
    expect(refreshAt(60_000, 0)).toBe(48_000);
    expect(refreshAt(5000, 0)).toBe(4000);
    expect(refreshAt(3_600_000, 0)).toBe(3_570_000);
    expect(refreshAt(500, 0)).toBe(0);
  });
});

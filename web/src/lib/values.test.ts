import { describe, expect, it } from 'vitest';
import { getPath, numericValue, samples } from './values';

describe('values', () => {
  it('reads numbers', () => {
    expect(numericValue(42)).toBe(42);
    expect(numericValue({ total: 12.5 }, 'total')).toBe(12.5);
    expect(numericValue({ a: { b: 3 } }, 'a.b')).toBe(3);
    expect(numericValue({ value: 7 })).toBe(7);
    expect(numericValue({ x: 'n/a' }, 'x')).toBeNull();
    expect(numericValue('hello')).toBeNull();
    expect(getPath(null, 'a')).toBeUndefined();
  });
  it('makes chart samples', () => {
    expect(samples('t', 5)).toEqual([{ key: 't', topic: 't', value: 5 }]);
    expect(samples('t', { p50: 1, p99: 9, name: 'x' }).map((s) => s.key)).toEqual(['t|p50', 't|p99']);
    expect(samples('t', { p50: 1, p99: 9 }, ['p99']).map((s) => s.value)).toEqual([9]);
    expect(samples('t', { order: 'x' }, undefined, true)).toEqual([{ key: 't', topic: 't', value: 1 }]);
  });
});

import { describe, expect, it } from 'vitest';
import { formatAny, formatBytes, formatDuration, formatValue } from './format';
import { formatAgo, parseDuration } from './duration';

const L = 'en-US';

describe('formatValue', () => {
  it.each([
    [1234567, {}, '1,234,567'],
    [1234.567, { decimals: 2 }, '1,234.57'],
    [3.14159, {}, '3.14'],
    [0.004567, {}, '0.00457'],
    [0, {}, '0'],
    [1234.5, { format: 'currency', currency: 'USD' }, '$1,234.50'],
    [1234.5, { format: 'currency', currency: 'EUR', decimals: 0 }, '€1,235'],
    [1500000, { format: 'currency', currency: 'USD', compact: true }, '$1.5M'],
    [12.34, { format: 'percent' }, '12.3%'],
    [5, { format: 'percent', decimals: 2 }, '5.00%'],
    [1536, { format: 'bytes' }, '1.5 KiB'],
    [1536, { format: 'bytes', unit: '/s' }, '1.5 KiB/s'],
    [250, { format: 'duration' }, '250 ms'],
    [42, { unit: 'ms' }, '42 ms'],
    [2, { scale: 1000, format: 'duration' }, '2 s'],
    [25000, { compact: true }, '25K'],
  ] as const)('%s %j → %s', (v, o, want) => {
    expect(formatValue(v, { ...o, locale: L })).toBe(want);
  });
  it('shows a dash for no value', () => {
    expect(formatValue(null)).toBe('—');
    expect(formatValue(undefined)).toBe('—');
    expect(formatValue(NaN)).toBe('—');
  });
  it('survives a bad currency code', () => {
    expect(formatValue(5, { format: 'currency', currency: 'XX', locale: L })).not.toBe('');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1,023 B'],
    [1024, '1.0 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
    [512 * 1024 ** 2, '512 MiB'],
  ])('%s → %s', (v, want) => expect(formatBytes(v, undefined, L)).toBe(want));
});

describe('formatDuration', () => {
  it.each([
    [1.5, '1.5 ms'],
    [999, '999 ms'],
    [1234, '1.23 s'],
    [61_000, '1m 01s'],
    [3_723_000, '1h 02m'],
    [90_000_000, '1d 1h'],
  ])('%s → %s', (v, want) => expect(formatDuration(v, undefined, L)).toBe(want));
});

describe('formatAny', () => {
  it('formats cells', () => {
    expect(formatAny('x')).toBe('x');
    expect(formatAny(true)).toBe('yes');
    expect(formatAny([1, 2])).toBe('1, 2');
    expect(formatAny([{ a: 1 }])).toBe('1 item');
    expect(formatAny(null)).toBe('—');
  });
});

describe('durations', () => {
  it.each([
    ['5m', 300_000],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1.5s', 1500],
    ['2d', 172_800_000],
  ])('%s = %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));
  it.each(['', '5', '5 m', 'm', '5x', '5m3'])('%j is not a duration', (s) => expect(parseDuration(s)).toBeNaN());
  it('says how long ago', () => {
    expect(formatAgo(400)).toBe('just now');
    expect(formatAgo(5_000)).toBe('5s ago');
    expect(formatAgo(125_000)).toBe('2m ago');
  });
});

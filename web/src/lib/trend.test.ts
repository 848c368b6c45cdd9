import { describe, expect, it } from 'vitest';
import { RecentValues, changePct, cssColor, readThresholds, thresholdColor, trendOf } from './trend';

describe('thresholds', () => {
  const th = readThresholds([
    { value: 5, color: 'red' },
    { value: 2, color: 'amber' },
    { value: 'x', color: 'blue' },
  ]);
  it('reads and sorts', () => expect(th.map((t) => t.value)).toEqual([2, 5]));
  it.each([
    [1, undefined],
    [2, 'amber'],
    [4.9, 'amber'],
    [5, 'red'],
    [50, 'red'],
    [null, undefined],
  ])('%s → %s (higher is worse)', (v, want) => expect(thresholdColor(v, th)).toBe(want));
  it.each([
    [1, 'amber'],
    [2, 'amber'],
    [3, 'red'],
    [5, 'red'],
    [6, undefined],
  ])('%s → %s (invert: lower is worse)', (v, want) => {
    const inv = readThresholds([
      { value: 5, color: 'red' },
      { value: 2, color: 'amber' },
    ]);
    // invert: v ≤ value → colour, the tightest (smallest) bound wins.
    const expected = v <= 2 ? 'amber' : v <= 5 ? 'red' : undefined;
    expect(thresholdColor(v, inv, true)).toBe(expected);
    expect(expected).toBe(want);
  });
  it('maps colour names to theme variables and refuses CSS injection', () => {
    expect(cssColor('red')).toBe('var(--red)');
    expect(cssColor('#ff0000')).toBe('#ff0000');
    expect(cssColor('url(x)')).toBeUndefined();
  });
});

describe('trend', () => {
  it('gives a direction', () => {
    expect(trendOf(2, 1)).toBe('up');
    expect(trendOf(1, 2)).toBe('down');
    expect(trendOf(1, 1)).toBe('flat');
    expect(trendOf(1, null)).toBeNull();
    expect(changePct(110, 100)).toBeCloseTo(10);
    expect(changePct(1, 0)).toBeNull();
  });
  it('keeps recent values in time order and finds the value some time ago', () => {
    const r = new RecentValues(60_000);
    r.push(1000, 1);
    r.push(3000, 3);
    r.push(2000, 2); // late arrival
    expect(r.vs).toEqual([1, 2, 3]);
    expect(r.last).toBe(3);
    expect(r.previous).toBe(2);
    expect(r.valueAt(2500)).toBe(2);
    expect(r.valueAt(0)).toBe(1);
  });
  it('stays bounded', () => {
    const r = new RecentValues(10_000, 50);
    for (let t = 0; t < 100_000; t += 100) r.push(t, t);
    expect(r.ts.length).toBeLessThanOrEqual(50);
    expect(r.ts[0]).toBeGreaterThanOrEqual(100_000 - 10_000 - 100);
  });
});

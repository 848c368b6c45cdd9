import { describe, expect, it } from 'vitest';
import { SeriesWindow } from './window';

describe('SeriesWindow', () => {
  it('aligns series on one x axis with gaps', () => {
    const w = new SeriesWindow(60_000);
    w.add(1000, 'a', 1);
    w.add(2000, 'b', 2);
    w.add(3000, 'a', 3);
    expect(w.data()).toEqual([
      [1, 2, 3],
      [1, null, 3],
      [null, 2, null],
    ]);
  });
  it('inserts out-of-order samples in place (backfill after live)', () => {
    const w = new SeriesWindow(60_000);
    w.add(3000, 'a', 3);
    w.add(1000, 'a', 1);
    w.add(2000, 'a', 2);
    expect(w.data()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
  });
  it('drops points older than the window', () => {
    const w = new SeriesWindow(10_000);
    for (let t = 0; t <= 60_000; t += 1000) w.add(t, 'a', t);
    w.trim(60_000);
    expect(w.xs[0]).toBe(50_000);
    expect(w.rows).toBe(11);
  });
  it('caps rows however many arrive', () => {
    const w = new SeriesWindow(1e12, 0, 'avg', 100);
    for (let t = 0; t < 1000; t++) w.add(t, 'a', t);
    w.trim(1000);
    expect(w.rows).toBe(100);
    expect(w.xs[0]).toBe(900);
  });
  it('aggregates into step buckets', () => {
    const sum = new SeriesWindow(60_000, 10_000, 'sum');
    const count = new SeriesWindow(60_000, 10_000, 'count');
    const avg = new SeriesWindow(60_000, 10_000, 'avg');
    for (const [t, v] of [
      [10_001, 5],
      [15_000, 7],
      [20_000, 1],
    ]) {
      sum.add(t, 's', v);
      count.add(t, 's', v);
      avg.add(t, 's', v);
    }
    expect(sum.data()).toEqual([[10, 20], [12, 1]]);
    expect(count.data()[1]).toEqual([2, 1]);
    expect(avg.data()[1]).toEqual([6, 1]);
    expect(sum.lastValue(0)).toBe(1);
  });
  it('takes server buckets', () => {
    const w = new SeriesWindow(60_000, 10_000, 'max');
    w.setBucket(10_000, 's', { count: 2, sum: 3, min: 1, max: 2, last: 2 });
    w.add(12_000, 's', 9); // live sample into the same bucket
    expect(w.data()[1]).toEqual([9]);
  });
  it('a new point at the same ts replaces the old one without step', () => {
    const w = new SeriesWindow(60_000);
    w.add(1000, 'a', 1);
    w.add(1000, 'a', 5);
    expect(w.data()).toEqual([[1], [5]]);
  });
});

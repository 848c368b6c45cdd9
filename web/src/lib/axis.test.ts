import { describe, expect, it } from 'vitest';
import { byteIncrs, columnLabel, timeTicks } from './axis';
import { formatAxis } from './format';

describe('axis', () => {
  it('labels minutes without a date, seconds only for short spacing', () => {
    const t = Date.UTC(2026, 10, 23, 18, 42, 30) / 1000;
    const [m] = timeTicks([t], 60, 'en-GB');
    expect(m).toMatch(/^\d\d:\d\d$/);
    const [s] = timeTicks([t], 10, 'en-GB');
    expect(s).toMatch(/^\d\d:\d\d:\d\d$/);
    const [d] = timeTicks([t], 86_400, 'en-GB');
    expect(d).toMatch(/Nov/);
  });
  it('steps bytes by binary-friendly increments', () => {
    const incrs = byteIncrs();
    expect(incrs).toContain(1024 ** 3);
    expect(incrs).toContain(5 * 1024 ** 3);
    expect(incrs).not.toContain(1000);
    expect([...incrs].sort((a, b) => a - b)).toEqual(incrs);
  });
  it('names columns', () => {
    expect(columnLabel('used_pct')).toBe('used %');
    expect(columnLabel('rx_bps')).toBe('rx bps');
    expect(columnLabel('total')).toBe('total');
  });
});

describe('formatAxis', () => {
  it('keeps whole currency ticks whole when asked', () => {
    expect(formatAxis(0, { format: 'currency', currency: 'USD', decimals: 0 })).not.toMatch(/\.00/);
    expect(formatAxis(500, { format: 'currency', currency: 'USD' })).not.toMatch(/\.00/);
  });
});

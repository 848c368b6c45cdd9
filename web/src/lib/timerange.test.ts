import { describe, expect, it } from 'vitest';
import { describeRange, LIVE, parseRange, PRESETS, stepFor, withRange } from './timerange';

const NOW = 1_732_262_400_000;

describe('parseRange', () => {
  it.each([
    ['', LIVE],
    ['?range=1h', { kind: 'live', span: 3_600_000 }],
    ['?range=7d', { kind: 'live', span: 7 * 86_400_000 }],
    [`?from=${NOW - 60_000}&to=${NOW}`, { kind: 'fixed', from: NOW - 60_000, to: NOW }],
    [`?from=${NOW - 60_000}`, { kind: 'live', span: 60_000 }], // from without to: live
    [`?from=${NOW}&to=${NOW - 5}`, LIVE], // backwards
    [`?from=${NOW}&to=${NOW + 10}`, LIVE], // shorter than a second
    ['?from=-5&to=10', LIVE],
    ['?from=abc&to=1', LIVE],
    ['?range=soon', LIVE],
    ['?range=10ms', LIVE],
  ])('%s', (search, want) => expect(parseRange(search, NOW)).toEqual(want));
});

describe('withRange', () => {
  it('writes a fixed range as from and to, keeping other parameters', () =>
    expect(withRange('?kiosk&token=x', { kind: 'fixed', from: 1000, to: 5000.4 })).toBe('?kiosk&token=x&from=1000&to=5000'));
  it('writes a preset as range', () => expect(withRange('?from=1&to=2', { kind: 'live', span: 3_600_000 })).toBe('?range=1h'));
  it('drops everything for plain live', () => expect(withRange('?range=1h&theme=dark', LIVE)).toBe('?theme=dark'));
  it('round-trips every preset', () => {
    for (const p of PRESETS) expect(parseRange(withRange('', { kind: 'live', span: p.span }), NOW)).toEqual({ kind: 'live', span: p.span });
  });
  it('round-trips a fixed range', () => {
    const r = { kind: 'fixed', from: NOW - 3_600_000, to: NOW } as const;
    expect(parseRange(withRange('', r), NOW)).toEqual(r);
  });
});

describe('stepFor', () => {
  it('never gives more buckets than points allowed', () => {
    for (const span of [60_000, 3_600_000, 6 * 3_600_000, 86_400_000, 7 * 86_400_000, 90 * 86_400_000]) {
      for (const width of [200, 640, 1200, 2400]) {
        const [step] = stepFor(span, width);
        expect(Math.ceil(span / step)).toBeLessThanOrEqual(width);
      }
    }
  });
  it('picks the smallest step that fits', () => {
    expect(stepFor(3_600_000, 1000)).toEqual([5000, '5s']); // 3.6 s needed
    expect(stepFor(7 * 86_400_000, 800)).toEqual([900_000, '15m']); // 756 s needed
    expect(stepFor(60_000, 1000)).toEqual([1000, '1s']);
  });
  it('goes past a day for very long spans', () => expect(stepFor(400 * 86_400_000, 100)[1]).toBe('96h'));
});

describe('describeRange', () => {
  it('names live views', () => {
    expect(describeRange(LIVE)).toBe('Live');
    expect(describeRange({ kind: 'live', span: 3_600_000 })).toBe('Last 1h');
  });
  it('names both ends of a fixed range', () => expect(describeRange({ kind: 'fixed', from: NOW - 60_000, to: NOW })).toMatch(/–/));
});

import { describe, expect, it } from 'vitest';
import { MIN_CYCLE_MS, nextBoard, parseKiosk } from './kiosk';

describe('parseKiosk', () => {
  it.each([
    ['', { on: false, cycleMs: null, boards: [] }],
    ['?kiosk', { on: true, cycleMs: null, boards: [] }],
    ['?kiosk=1', { on: true, cycleMs: null, boards: [] }],
    ['?kiosk=0', { on: false, cycleMs: null, boards: [] }],
    ['?kiosk&cycle=30s', { on: true, cycleMs: 30_000, boards: [] }],
    ['?kiosk&cycle=1m&boards=shop,host', { on: true, cycleMs: 60_000, boards: ['shop', 'host'] }],
    ['?kiosk&cycle=30s&boards=shop&boards=host,shop', { on: true, cycleMs: 30_000, boards: ['shop', 'host'] }],
    ['?cycle=30s', { on: false, cycleMs: null, boards: [] }], // rotation is a kiosk feature
    ['?kiosk&cycle=often', { on: true, cycleMs: null, boards: [] }],
    ['?kiosk&cycle=100ms', { on: true, cycleMs: MIN_CYCLE_MS, boards: [] }],
  ])('%s', (search, want) => expect(parseKiosk(search)).toEqual(want));
});

describe('nextBoard', () => {
  it('goes round the list', () => {
    expect(nextBoard(['a', 'b', 'c'], 'a')).toBe('b');
    expect(nextBoard(['a', 'b', 'c'], 'c')).toBe('a');
  });
  it('starts at the first when the current one is not in the list', () => expect(nextBoard(['a', 'b'], 'x')).toBe('a'));
  it('stays on a list of one', () => expect(nextBoard(['a'], 'a')).toBe('a'));
  it('has nothing to go to in an empty list', () => expect(nextBoard([], 'a')).toBeNull());
});

import { describe, expect, it } from 'vitest';
import { LastSeen, compareIds, compareSeq, parseId, sortById } from './ids';

describe('ids', () => {
  it('parses <seq>-<epoch>', () => {
    expect(parseId('42-abc')).toEqual({ seq: '42', epoch: 'abc' });
    expect(parseId('007-abc')).toEqual({ seq: '7', epoch: 'abc' });
    for (const bad of ['', '42', '-abc', '42-', 'x-abc']) expect(parseId(bad)).toBeNull();
  });
  it('compares seq numerically, beyond 2^53', () => {
    expect(compareSeq('9', '10')).toBeLessThan(0);
    expect(compareSeq('10', '9')).toBeGreaterThan(0);
    expect(compareSeq('18446744073709551615', '18446744073709551614')).toBeGreaterThan(0);
    expect(compareIds('9-e', '10-e')).toBeLessThan(0);
    expect(compareIds('10-e', '10-e')).toBe(0);
    expect(compareIds('10-e', '9-f')).toBeNull();
  });
  it('sorts by id, ts where ids do not compare', () => {
    const msgs = [
      { id: '10-e', ts: 1 },
      { id: '9-e', ts: 2 },
      { id: '100-e', ts: 0 },
    ];
    expect(sortById(msgs).map((m) => m.id)).toEqual(['9-e', '10-e', '100-e']);
  });
});

describe('LastSeen', () => {
  it('applies each message once per topic', () => {
    const s = new LastSeen();
    expect(s.accept('a', '9-e')).toBe(true);
    expect(s.accept('a', '9-e')).toBe(false); // again
    expect(s.accept('a', '8-e')).toBe(false); // older
    expect(s.accept('a', '10-e')).toBe(true); // 10 > 9 numerically
    expect(s.accept('b', '5-e')).toBe(true); // other topic, own last
  });
  it('starts over on a new epoch', () => {
    const s = new LastSeen();
    s.accept('a', '100-old');
    expect(s.accept('a', '1-new')).toBe(true);
    expect(s.accept('a', '1-new')).toBe(false);
  });
  it('forgets topics', () => {
    const s = new LastSeen();
    s.accept('a', '5-e');
    s.accept('b', '5-e');
    s.forget((t) => t === 'a');
    expect(s.accept('a', '5-e')).toBe(true);
    expect(s.accept('b', '5-e')).toBe(false);
  });
});

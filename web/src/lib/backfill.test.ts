import { describe, expect, it } from 'vitest';
import { BackfillGate } from './backfill';
import type { Envelope } from './envelope';

const msg = (id: string, topic = 't'): Envelope => ({ id, topic, type: 'point', ts: Number(id.split('-')[0]), data: 1 });
const ids = (ms: Envelope[] | null) => (ms ?? []).map((m) => m.id);

describe('BackfillGate', () => {
  it('holds live messages while history loads, then applies each once', () => {
    const g = new BackfillGate();
    const gen = g.begin();
    expect(g.live(msg('3-e'))).toBeNull(); // held: also in history
    expect(g.live(msg('4-e'))).toBeNull(); // held: newer than history
    const out = g.history(gen, [msg('3-e'), msg('1-e'), msg('2-e')]);
    expect(ids(out)).toEqual(['1-e', '2-e', '3-e', '4-e']);
    expect(g.live(msg('4-e'))).toBeNull(); // duplicate (backlog after reconnect)
    expect(g.live(msg('5-e'))?.id).toBe('5-e');
  });
  it('dedupes per topic', () => {
    const g = new BackfillGate();
    const gen = g.begin();
    g.history(gen, [msg('5-e', 'a')]);
    expect(g.live(msg('3-e', 'b'))?.id).toBe('3-e'); // older id, other topic: new
    expect(g.live(msg('3-e', 'a'))).toBeNull();
  });
  it('ignores a stale history answer after a reset', () => {
    const g = new BackfillGate();
    const first = g.begin();
    const second = g.begin(); // reset while the first request was in flight
    expect(g.history(first, [msg('1-e')])).toBeNull();
    expect(ids(g.history(second, [msg('1-new')]))).toEqual(['1-new']);
  });
  it('after a reset, accepts ids of a new epoch that look older', () => {
    const g = new BackfillGate();
    g.history(g.begin(), [msg('100-old')]);
    const gen = g.begin();
    expect(ids(g.history(gen, [msg('1-new')]))).toEqual(['1-new']);
  });
  it('opens with empty history (fetch failed)', () => {
    const g = new BackfillGate();
    const gen = g.begin();
    g.live(msg('1-e'));
    expect(ids(g.history(gen, []))).toEqual(['1-e']);
    expect(g.isLoading).toBe(false);
  });
});

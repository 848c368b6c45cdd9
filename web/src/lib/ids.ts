// Message ids are opaque to users but ordered: "<seq>-<epoch>", seq growing
// with publish order across all topics of one server (or cluster). Two ids
// compare only within one epoch; a new epoch means the server's log changed.

import { compareIds } from 'livedash';

export interface ParsedId {
  seq: string; // decimal digits, no leading zeros (may exceed 2^53)
  epoch: string;
}

export function parseId(id: string): ParsedId | null {
  const dash = id.indexOf('-');
  if (dash <= 0 || dash === id.length - 1) return null;
  const seq = id.slice(0, dash);
  if (!/^[0-9]+$/.test(seq)) return null;
  return { seq: seq.replace(/^0+(?=\d)/, ''), epoch: id.slice(dash + 1) };
}

/** Compares two decimal digit strings numerically. */
export function compareSeq(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Compares ids a and b: negative, zero or positive when a is before, the
 * same as or after b; null when they cannot be compared (another epoch, or
 * malformed). The client's rule, one in the codebase.
 */
export { compareIds };

/**
 * LastSeen keeps the newest id seen per topic, so that a message delivered
 * twice (history and live, backlog after reconnect) is applied once.
 */
export class LastSeen {
  private last = new Map<string, ParsedId>();

  /** Reports whether the message is new for its topic, without recording it. */
  isNew(topic: string, id: string): boolean {
    const p = parseId(id);
    const prev = this.last.get(topic);
    if (!p || !prev) return true;
    if (p.epoch !== prev.epoch) return true; // the server's log changed: start over
    return compareSeq(p.seq, prev.seq) > 0;
  }

  /** Records the message and reports whether it was new for its topic. */
  accept(topic: string, id: string): boolean {
    if (!this.isNew(topic, id)) return false;
    const p = parseId(id);
    if (p) this.last.set(topic, p);
    return true;
  }

  /** Forgets the topics for which pred holds. */
  forget(pred: (topic: string) => boolean): void {
    for (const t of [...this.last.keys()]) if (pred(t)) this.last.delete(t);
  }

  clear(): void {
    this.last.clear();
  }

  get size(): number {
    return this.last.size;
  }
}

/** Sorts envelopes by id (ts, then arrival order, where ids don't compare). */
export function sortById<M extends { id: string; ts: number }>(msgs: M[]): M[] {
  return msgs
    .map((m, i) => ({ m, i }))
    .sort((x, y) => compareIds(x.m.id, y.m.id) ?? (x.m.ts - y.m.ts || x.i - y.i))
    .map((x) => x.m);
}

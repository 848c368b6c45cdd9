// Joining history with the live stream. While a widget loads its history,
// live messages are held back; once history arrives it is applied first,
// then the held messages that are newer, per topic, by id. From then on
// every live message is applied once. A reset (or remount) starts over with
// a new generation, and a history answer of an older generation is ignored.

import { type Envelope } from './envelope';
import { LastSeen, sortById } from './ids';

export class BackfillGate<M extends Envelope = Envelope> {
  private gen = 0;
  private loading = false;
  private held: M[] = [];
  private seen = new LastSeen();
  maxHeld = 10_000;

  /** Starts loading; returns the generation to pass to history(). */
  begin(): number {
    this.gen++;
    this.loading = true;
    this.held = [];
    this.seen.clear();
    return this.gen;
  }

  get isLoading(): boolean {
    return this.loading;
  }

  /**
   * Takes the history of generation gen (any order, may overlap the live
   * stream) and returns what to apply, in id order: history, then the held
   * live messages that are newer. Returns null for a stale generation.
   */
  history(gen: number, msgs: M[]): M[] | null {
    if (gen !== this.gen || !this.loading) return null;
    this.loading = false;
    const out: M[] = [];
    for (const m of sortById([...msgs])) if (this.seen.accept(m.topic, m.id)) out.push(m);
    for (const m of this.held) if (this.seen.accept(m.topic, m.id)) out.push(m);
    this.held = [];
    return out;
  }

  /** Takes one live message; returns it to apply now, or null (held or seen). */
  live(m: M): M | null {
    if (this.loading) {
      if (this.held.length >= this.maxHeld) this.held.shift();
      this.held.push(m);
      return null;
    }
    return this.seen.accept(m.topic, m.id) ? m : null;
  }
}

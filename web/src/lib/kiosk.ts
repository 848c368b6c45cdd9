// Kiosk (TV) mode, read from a dashboard URL's query:
//   /d/shop?kiosk                          no chrome, larger type
//   /d/shop?kiosk&cycle=30s&boards=shop,host  and every 30 s the next
//                                          dashboard of the list, round and round
// Without boards, cycle goes through every dashboard the viewer may see.

import { parseDuration } from './duration';

export interface Kiosk {
  on: boolean;
  /** Milliseconds between dashboards; null: no rotation. */
  cycleMs: number | null;
  /** The rotation, in order; empty: every dashboard. */
  boards: string[];
}

/** The shortest rotation period accepted: a wall screen, not a slideshow. */
export const MIN_CYCLE_MS = 5_000;

export function parseKiosk(search: string): Kiosk {
  const q = new URLSearchParams(search);
  const flag = q.get('kiosk');
  const on = flag !== null && flag !== '0' && flag !== 'false';
  const cycle = parseDuration(q.get('cycle') ?? '');
  const boards = q
    .getAll('boards')
    .flatMap((b) => b.split(','))
    .map((b) => b.trim())
    .filter(Boolean);
  return { on, cycleMs: on && cycle > 0 ? Math.max(cycle, MIN_CYCLE_MS) : null, boards: [...new Set(boards)] };
}

/** The dashboard after current in the rotation (the first when current is not in it). */
export function nextBoard(boards: string[], current: string): string | null {
  if (boards.length === 0) return null;
  const i = boards.indexOf(current);
  return boards[(i + 1) % boards.length];
}

// Message ids are "<seq>-<epoch>": seq grows with publish order across all
// topics of a server (or cluster). Two ids compare only within one epoch.

/** Compares ids: <0, 0, >0 when a is before, equal to or after b; null when they do not compare. */
export function compareIds(a: string, b: string): number | null {
  const i = a.indexOf('-');
  const j = b.indexOf('-');
  if (i <= 0 || j <= 0 || a.slice(i) !== b.slice(j)) return null;
  const x = a.slice(0, i).replace(/^0+(?=\d)/, '');
  const y = b.slice(0, j).replace(/^0+(?=\d)/, '');
  if (!/^\d+$/.test(x) || !/^\d+$/.test(y)) return null;
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Reports whether id is after cursor; ids that do not compare count as new. */
export function isAfter(id: string, cursor: string | undefined): boolean {
  if (cursor === undefined) return true;
  const c = compareIds(id, cursor);
  return c === null || c > 0;
}

import type { Envelope } from '../../lib/envelope';
import { compareIds } from '../../lib/ids';

/** A small note under a widget: loading, or why history is missing. */
export function WidgetNote({ loading, error, empty }: { loading: boolean; error: string | null; empty?: string | false }) {
  if (error) return <p className="widget-note error" title={error}>{error}</p>;
  if (loading) return <p className="widget-note">Loading…</p>;
  if (empty) return <p className="widget-note">{empty}</p>;
  return null;
}

/**
 * Newest first, by ts, then by id (publish order: a batch shares one ts),
 * then by arrival for ids that do not compare.
 */
export function newestFirst<M extends Envelope>(list: M[]): M[] {
  return list.sort((a, b) => b.ts - a.ts || -(compareIds(a.id, b.id) ?? 0));
}

export function timeOf(ts: number): string {
  const d = new Date(ts);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

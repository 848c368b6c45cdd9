import { useRef } from 'react';
import type { Envelope } from '../../lib/envelope';
import { compareIds } from '../../lib/ids';
import type { Widget } from '../../lib/dashboard';
import { useFrameRender, useWidgetFeed } from '../hooks';
import { loadHistory } from './load';

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

/**
 * The newest limit messages of a widget's topics that accept keeps (history,
 * then live), newest first, re-rendered at most once a frame: what the feed,
 * alerts and raw widgets show. onLive sees each kept live message.
 */
export function useNewestList<M extends Envelope>(
  widget: Widget,
  limit: number,
  accept: (m: Envelope) => boolean,
  onLive?: (m: M) => void,
): { list: M[]; loading: boolean; error: string | null } {
  const list = useRef<M[]>([]);
  const render = useFrameRender();
  const keep = useRef({ accept, onLive });
  keep.current = { accept, onLive };
  const { loading, error } = useWidgetFeed(widget.topics, {
    load: () => loadHistory(widget.topics, { limit }),
    apply: (msgs, live) => {
      for (const m of msgs) {
        if (!keep.current.accept(m)) continue;
        list.current.push(m as M);
        if (live) keep.current.onLive?.(m as M);
      }
      newestFirst(list.current);
      if (list.current.length > limit) list.current.length = limit;
      render();
    },
    clear: () => {
      list.current = [];
      render();
    },
  });
  return { list: list.current, loading, error };
}


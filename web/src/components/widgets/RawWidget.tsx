import { useRef } from 'react';
import { optNum, optStrings, type Widget } from '../../lib/dashboard';
import { formatAgo } from '../../lib/duration';
import type { Envelope } from '../../lib/envelope';
import { useFrameRender, useTick, useWidgetFeed } from '../hooks';
import { newestFirst, timeOf, WidgetNote } from './common';
import { loadHistory } from './load';

/** Messages of any type as raw JSON, newest first (explore's view of types without a widget). */
export function RawWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const limit = optNum(o, 'limit') ?? 50;
  const types = new Set(optStrings(o, 'types'));
  const list = useRef<Envelope[]>([]);
  const render = useFrameRender();
  const now = useTick(5000);

  const { loading, error } = useWidgetFeed(widget.topics, {
    load: () => loadHistory(widget.topics, { limit }),
    apply: (msgs) => {
      for (const m of msgs) if (types.size === 0 || types.has(m.type)) list.current.push(m);
      newestFirst(list.current);
      if (list.current.length > limit) list.current.length = limit;
      render();
    },
    clear: () => {
      list.current = [];
      render();
    },
  });

  return (
    <div className="feed raw">
      <ul className="list" hidden={list.current.length === 0}>
        {list.current.map((m) => (
          <li key={m.id} className="raw-item">
            <div className="meta">
              <span>
                {m.topic} <span className="chip">{m.type}</span>
              </span>
              <span title={new Date(m.ts).toLocaleString()}>{now - m.ts < 3_600_000 ? formatAgo(now - m.ts) : timeOf(m.ts)}</span>
            </div>
            <pre className="raw-json">{JSON.stringify(m.data)}</pre>
          </li>
        ))}
      </ul>
      {list.current.length === 0 ? (
        <div className="list-empty">
          <WidgetNote loading={loading} error={error} empty="No messages yet" />
        </div>
      ) : error ? (
        <WidgetNote loading={false} error={error} />
      ) : null}
    </div>
  );
}

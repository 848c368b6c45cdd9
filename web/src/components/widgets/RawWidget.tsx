import { optNum, optStrings, type Widget } from '../../lib/dashboard';
import { formatAgo } from '../../lib/duration';
import { useTick } from '../hooks';
import { timeOf, useNewestList, WidgetNote } from './common';

/** Messages of any type as raw JSON, newest first (explore's view of types without a widget). */
export function RawWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const limit = optNum(o, 'limit') ?? 50;
  const types = new Set(optStrings(o, 'types'));
  const now = useTick(5000);

  const { list, loading, error } = useNewestList(widget, limit, (m) => types.size === 0 || types.has(m.type));

  return (
    <div className="feed raw">
      <ul className="list" hidden={list.length === 0}>
        {list.map((m) => (
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
      {list.length === 0 ? (
        <div className="list-empty">
          <WidgetNote loading={loading} error={error} empty="No messages yet" />
        </div>
      ) : error ? (
        <WidgetNote loading={false} error={error} />
      ) : null}
    </div>
  );
}

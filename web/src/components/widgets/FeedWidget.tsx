import { formatOptions, optNum, optStrings, type Widget } from '../../lib/dashboard';
import { formatAgo } from '../../lib/duration';
import { formatAny } from '../../lib/format';
import { getPath } from '../../lib/values';
import { useTick } from '../hooks';
import { timeOf, useNewestList, WidgetNote } from './common';

/** Recent event messages (and options.types), newest first. */
export function FeedWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const limit = optNum(o, 'limit') ?? 50;
  const fields = optStrings(o, 'fields');
  const types = new Set(['event', ...optStrings(o, 'types')]);
  const now = useTick(5000);
  const multi = widget.topics.length > 1 || widget.topics.some((t) => t.includes('*') || t.includes('>'));

  const { list, loading, error } = useNewestList(widget, limit, (m) => types.has(m.type));

  return (
    <div className="feed">
      <ul className="list" hidden={list.length === 0}>
        {list.map((m) => {
          const data = (m.data && typeof m.data === 'object' ? m.data : { value: m.data }) as Record<string, unknown>;
          const keys = fields.length ? fields : Object.keys(data).slice(0, 4);
          return (
            <li key={m.id} className="feed-item">
              <div className="feed-row">
              <div className="feed-fields">
                {keys.map((k, i) => {
                  const v = getPath(data, k);
                  const fo = formatOptions(o, k);
                  if (fo.format === 'currency' && typeof data.currency === 'string') fo.currency = data.currency;
                  return (
                    <span key={k} className={i === 0 ? 'feed-primary' : 'feed-field'}>
                      {i === 0 ? null : <span className="feed-key">{k}</span>}
                      {formatAny(v, fo)}
                    </span>
                  );
                })}
              </div>
                <span className="feed-time" title={new Date(m.ts).toLocaleString()}>
                  {now - m.ts < 3_600_000 ? formatAgo(now - m.ts) : timeOf(m.ts)}
                </span>
              </div>
              {multi ? <div className="meta">{m.topic}</div> : null}
            </li>
          );
        })}
      </ul>
      {list.length === 0 ? (
        <div className="list-empty">
          <WidgetNote loading={loading} error={error} empty="No events yet" />
        </div>
      ) : error ? (
        <WidgetNote loading={false} error={error} />
      ) : null}
    </div>
  );
}

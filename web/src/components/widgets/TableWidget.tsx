import { useRef } from 'react';
import { formatOptions, optBool, optStr, optStrings, thresholds, type Widget } from '../../lib/dashboard';
import type { Envelope } from '../../lib/envelope';
import { columnLabel } from '../../lib/axis';
import { formatAny } from '../../lib/format';
import { shortLabels } from '../../lib/pattern';
import { cssColor, thresholdColor } from '../../lib/trend';
import { getPath } from '../../lib/values';
import { useFrameRender, useWidgetFeed } from '../hooks';
import { WidgetNote } from './common';
import { loadLast } from './load';

/**
 * Either the latest object of one topic (a stats snapshot) as key/value
 * rows, or, with options.fields or several topics, one row per topic with
 * the last value (or those fields) as columns.
 */
export function TableWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const fields = optStrings(o, 'fields');
  const colorField = optStr(o, 'field');
  const th = thresholds(o);
  const invert = optBool(o, 'invert');
  const last = useRef(new Map<string, Envelope>());
  const render = useFrameRender();

  const { loading, error } = useWidgetFeed(widget.topics, {
    load: () => loadLast(widget.topics),
    apply: (msgs) => {
      for (const m of msgs) {
        const prev = last.current.get(m.topic);
        if (!prev || m.ts >= prev.ts) last.current.set(m.topic, m);
      }
      render();
    },
    clear: () => {
      last.current.clear();
      render();
    },
  });

  const topics = [...last.current.keys()].sort();
  const first = topics.length === 1 ? last.current.get(topics[0])! : null;
  const colour = (v: unknown) => (typeof v === 'number' ? cssColor(thresholdColor(v, th, invert)) : undefined);
  let table;
  if (first && fields.length === 0 && first.data && typeof first.data === 'object' && !Array.isArray(first.data)) {
    const data = first.data as Record<string, unknown>;
    table = (
      <table className="kv">
        <tbody>
          {Object.keys(data).map((k) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td className="num" style={{ color: colour(data[k]) }}>
                {formatAny(data[k], formatOptions(o, k))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    );
  } else if (topics.length > 0) {
    const labels = shortLabels(topics);
    const cols = fields.length ? fields : ['value'];
    table = (
      <table className="kv">
        {fields.length ? (
          <thead>
            <tr>
              <th />
              {cols.map((c) => (
                <th key={c} className="num" title={c}>
                  {columnLabel(c)}
                </th>
              ))}
            </tr>
          </thead>
        ) : null}
        <tbody>
          {topics.map((t) => {
            const m = last.current.get(t)!;
            return (
              <tr key={t}>
                <th scope="row" title={t}>
                  {labels.get(t)}
                </th>
                {cols.map((c) => {
                  const v = fields.length ? getPath(m.data, c) : m.data;
                  const colored = !fields.length || !colorField || c === colorField;
                  return (
                    <td key={c} className="num" style={{ color: colored ? colour(v) : undefined }}>
                      {formatAny(v, formatOptions(o, c))}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    );
  }
  return (
    <div className="table-widget">
      {table}
      {topics.length === 0 ? <WidgetNote loading={loading} error={error} empty="Waiting for data" /> : error ? <WidgetNote loading={false} error={error} /> : null}
    </div>
  );
}

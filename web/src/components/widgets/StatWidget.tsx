import { useRef } from 'react';
import type { Envelope } from '../../lib/envelope';
import { formatOptions, optBool, optDuration, optStr, thresholds, type Widget } from '../../lib/dashboard';
import { formatValue } from '../../lib/format';
import { changePct, cssColor, RecentValues, thresholdColor, trendOf } from '../../lib/trend';
import { numericValue } from '../../lib/values';
import { useFrameRender, useWidgetFeed } from '../hooks';
import { WidgetNote } from './common';
import { loadHistory, loadLast } from './load';
import { Sparkline } from './Sparkline';

const SPARK_MS = 5 * 60_000;

/** One big number: the latest value, trend arrow, threshold colour, sparkline. */
export function StatWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const field = optStr(o, 'field');
  const trendWindow = optDuration(o, 'trend_window', 0);
  const keep = Math.max(SPARK_MS, trendWindow * 1.5);
  const spark = optBool(o, 'sparkline');
  const recent = useRef(new RecentValues(keep));
  const lastTs = useRef<number | null>(null);
  const render = useFrameRender();

  const { loading, error } = useWidgetFeed(widget.topics, {
    load: async () => {
      const [last, hist] = await Promise.all([
        loadLast(widget.topics),
        spark || trendWindow ? loadHistory(widget.topics, { from: Date.now() - keep, limit: 2000 }) : Promise.resolve([] as Envelope[]),
      ]);
      return [...hist, ...last];
    },
    apply: (msgs) => {
      for (const m of msgs) {
        const v = numericValue(m.data, field);
        if (v === null) continue;
        recent.current.push(m.ts, v);
        if (lastTs.current === null || m.ts >= lastTs.current) lastTs.current = m.ts;
      }
      render();
    },
    clear: () => {
      recent.current.clear();
      lastTs.current = null;
      render();
    },
  });

  const r = recent.current;
  const value = r.last;
  const prev = trendWindow && lastTs.current !== null ? r.valueAt(lastTs.current - trendWindow) : r.previous;
  const trend = trendOf(value, prev);
  const pct = changePct(value, prev);
  const color = cssColor(thresholdColor(value, thresholds(o), optBool(o, 'invert')));
  const fmt = formatOptions(o);
  const good = optStr(o, 'good');
  const trendClass = !trend || trend === 'flat' || !good ? 'neutral' : (trend === good ? 'good' : 'bad');
  const text = formatValue(value, { ...fmt, unit: undefined });

  return (
    <div className="stat">
      <div className="stat-main">
        <span className="stat-value" style={color ? { color } : undefined} title={value === null ? 'No data yet' : String(value)}>
          {text}
        </span>
        {fmt.unit && value !== null ? <span className="stat-unit">{fmt.unit}</span> : null}
      </div>
      <div className="stat-sub">
        {trend && value !== null ? (
          <span className={`trend ${trendClass}`} title={`vs ${formatValue(prev, fmt)}${trendWindow ? ` ${o?.trend_window} ago` : ' before'}`}>
            {trend === 'up' ? '▲' : trend === 'down' ? '▼' : '■'} {pct === null ? '' : `${Math.abs(pct).toFixed(Math.abs(pct) < 10 ? 1 : 0)}%`}
          </span>
        ) : null}
        {value === null ? <WidgetNote loading={loading} error={error} empty="Waiting for data" /> : error ? <WidgetNote loading={false} error={error} /> : null}
      </div>
      {spark ? <Sparkline ts={r.ts} vs={r.vs} color={color ?? 'var(--accent)'} /> : null}
    </div>
  );
}

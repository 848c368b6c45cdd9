import { useRef } from 'react';
import { formatOptions, optBool, optNum, optStr, thresholds, type Widget } from '../../lib/dashboard';
import { formatValue } from '../../lib/format';
import { cssColor, thresholdColor } from '../../lib/trend';
import { numericValue } from '../../lib/values';
import { useFrameRender, useWidgetFeed } from '../hooks';
import { WidgetNote } from './common';
import { loadLast } from './load';

const SWEEP = 240; // degrees of the arc
const START = 150; // where the arc starts, clockwise from 3 o'clock

function polar(cx: number, cy: number, r: number, deg: number): [number, number] {
  const a = (deg * Math.PI) / 180;
  return [cx + r * Math.cos(a), cy + r * Math.sin(a)];
}

function arc(cx: number, cy: number, r: number, from: number, to: number): string {
  const [x1, y1] = polar(cx, cy, r, from);
  const [x2, y2] = polar(cx, cy, r, to);
  const large = to - from > 180 ? 1 : 0;
  return `M${x1.toFixed(2)},${y1.toFixed(2)}A${r},${r} 0 ${large} 1 ${x2.toFixed(2)},${y2.toFixed(2)}`;
}

/** A bounded value (options.min..max) drawn as an SVG arc, coloured by threshold. */
export function GaugeWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const field = optStr(o, 'field');
  const min = optNum(o, 'min') ?? 0;
  const max = optNum(o, 'max') ?? 100;
  const last = useRef<{ ts: number; v: number } | null>(null);
  const render = useFrameRender();
  const { loading, error } = useWidgetFeed(widget.topics, {
    load: () => loadLast(widget.topics),
    apply: (msgs) => {
      for (const m of msgs) {
        const v = numericValue(m.data, field);
        if (v !== null && (!last.current || m.ts >= last.current.ts)) last.current = { ts: m.ts, v };
      }
      render();
    },
    clear: () => {
      last.current = null;
      render();
    },
  });
  const value = last.current?.v ?? null;
  const th = thresholds(o);
  const color = cssColor(thresholdColor(value, th, optBool(o, 'invert'))) ?? 'var(--accent)';
  const frac = value === null ? 0 : Math.max(0, Math.min(1, (value - min) / (max - min || 1)));
  const fmt = formatOptions(o);
  const cx = 60;
  const cy = 58;
  const r = 46;
  return (
    <div className="gauge">
      <svg viewBox="0 0 120 100" className="gauge-svg" role="img" aria-label={`${widget.title ?? ''} ${formatValue(value, fmt)}`}>
        <path d={arc(cx, cy, r, START, START + SWEEP)} className="gauge-track" />
        {th.map((t) => {
          const f = (t.value - min) / (max - min || 1);
          if (f <= 0 || f >= 1) return null;
          const [x1, y1] = polar(cx, cy, r + 7, START + SWEEP * f);
          const [x2, y2] = polar(cx, cy, r + 3, START + SWEEP * f);
          return <line key={t.value} x1={x1} y1={y1} x2={x2} y2={y2} stroke={cssColor(t.color)} strokeWidth="2" />;
        })}
        {value !== null && frac > 0 ? <path d={arc(cx, cy, r, START, START + SWEEP * Math.max(frac, 0.005))} className="gauge-bar" style={{ stroke: color }} /> : null}
        <text x={cx} y={cy + 4} className="gauge-value" textAnchor="middle" style={value !== null ? { fill: color } : undefined}>
          {formatValue(value, fmt)}
        </text>
        <text x={polar(cx, cy, r, START)[0]} y={94} className="gauge-bound" textAnchor="middle">
          {formatValue(min, { ...fmt, decimals: 0 })}
        </text>
        <text x={polar(cx, cy, r, START + SWEEP)[0]} y={94} className="gauge-bound" textAnchor="middle">
          {formatValue(max, { ...fmt, decimals: 0 })}
        </text>
      </svg>
      {value === null || error ? <WidgetNote loading={loading} error={error} empty={value === null && 'Waiting for data'} /> : null}
    </div>
  );
}

import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import { api } from '../../api/api';
import { formatOptions, optDuration, optNum, optStr, optStrings, type Widget } from '../../lib/dashboard';
import { formatAxis, formatValue } from '../../lib/format';
import { byteIncrs, timeTicks } from '../../lib/axis';
import { seriesLabels } from '../../lib/pattern';
import { samples } from '../../lib/values';
import { SeriesWindow, type Agg } from '../../lib/window';
import { useSize, useWidgetFeed } from '../hooks';
import { useTimeRange } from '../TimeRange';
import { MIN_SPAN_MS, stepFor } from '../../lib/timerange';
import { useTheme } from '../theme';
import { WidgetNote } from './common';
import { loadHistory } from './load';

const PALETTE = {
  light: ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#db2777', '#65a30d'],
  dark: ['#60a5fa', '#4ade80', '#fbbf24', '#c084fc', '#f87171', '#22d3ee', '#f472b6', '#a3e635'],
};

function alpha(hex: string, a: number): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${a})`;
}

/**
 * A time-series chart over a sliding window, drawn with uPlot: one series
 * per matching topic, or per options.fields of object data. Backfilled from
 * history, then appended live; redraws at most once per animation frame.
 */
export function ChartWidget({ widget }: { widget: Widget }) {
  const o = widget.options;
  const { range, setRange } = useTimeRange();
  const fixed = range.kind === 'fixed' ? range : null;
  const liveSpan = range.kind === 'live' ? range.span : null;
  // The page's range wins over the widget's window; a fixed range (or a
  // long live one) is drawn from buckets at most one per pixel.
  const windowMs = fixed ? fixed.to - fixed.from : (liveSpan ?? optDuration(o, 'window', 5 * 60_000));
  const ownStep = optDuration(o, 'step', 0);
  const [boxRef, size] = useSize<HTMLDivElement>();
  const autoStep = fixed || windowMs > 30 * 60_000 ? stepFor(windowMs, Math.max(size.width || 0, 300)) : null;
  const stepMs = ownStep || (autoStep ? autoStep[0] : 0);
  const stepParam = ownStep ? String(o?.step) : autoStep ? autoStep[1] : '';
  const agg = (optStr(o, 'agg') ?? (stepMs ? 'avg' : 'last')) as Agg;
  const fields = optStrings(o, 'fields');
  const kind = optStr(o, 'kind') ?? 'line';
  const fmt = formatOptions(o);
  const yMin = optNum(o, 'min');
  const yMax = optNum(o, 'max');
  const count = agg === 'count';

  const win = useRef<SeriesWindow>(null as unknown as SeriesWindow);
  const shape = `${windowMs}|${stepMs}|${agg}|${fixed ? `${fixed.from}-${fixed.to}` : 'live'}`;
  const shapeRef = useRef('');
  if (shapeRef.current !== shape) {
    // Another range: a new window, and (through reloadKey) its history.
    win.current = new SeriesWindow(windowMs, stepMs, agg);
    shapeRef.current = shape;
  }
  const setRangeRef = useRef(setRange);
  setRangeRef.current = setRange;
  // draw runs from timers set up by earlier renders: it reads the range here.
  const view = useRef({ fixed, windowMs, stepMs });
  view.current = { fixed, windowMs, stepMs };
  const stepSince = useRef(0); // live messages older than this are already in server buckets
  const [keys, setKeys] = useState('');
  const [rows, setRows] = useState(0);
  const plot = useRef<uPlot | null>(null);
  const frame = useRef(0);
  const { theme } = useTheme();

  const draw = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const { fixed, windowMs, stepMs } = view.current;
      const now = fixed ? fixed.to : Date.now();
      const w = win.current;
      w.trim(now);
      const p = plot.current;
      if (!p) return;
      const data = w.data();
      // For tests and debugging: how many values the plot holds, and the newest.
      const box = boxRef.current;
      if (box) {
        let n = 0;
        let newest: number | null = null;
        for (let i = 1; i < data.length; i++) {
          const col = data[i];
          for (let r = 0; r < col.length; r++) if (col[r] != null) n++;
          for (let r = col.length - 1; r >= 0 && newest === null && i === 1; r--) if (col[r] != null) newest = col[r] as number;
        }
        box.dataset.points = String(n);
        box.dataset.last = newest === null ? '' : String(newest);
      }
      p.batch(() => {
        p.setData(data as uPlot.AlignedData, false);
        p.setScale('x', { min: (now - windowMs) / 1000, max: (stepMs && !fixed ? Math.ceil(now / stepMs) * stepMs : now) / 1000 });
      });
      // Not hovering: the legend shows each series' newest value.
      if (p.cursor.left == null || p.cursor.left < 0) {
        const idxs = data.map((col, i) => {
          if (i === 0) return col.length - 1;
          for (let r = col.length - 1; r >= 0; r--) if (col[r] != null) return r;
          return null;
        });
        p.setLegend({ idx: data[0].length - 1, idxs }, false);
      }
    });
  };

  const syncKeys = () => {
    const k = win.current.keys.join('\n');
    setKeys((old) => (old === k ? old : k));
    setRows(win.current.rows);
    draw();
  };

  const { loading, error } = useWidgetFeed(
    widget.topics,
    {
      load: async () => {
        const to = fixed ? fixed.to : undefined;
        const from = fixed ? fixed.from : Date.now() - windowMs;
        if (stepMs && !count && (fixed || windowMs >= 30 * 60_000)) {
          // Long windows and history: let the server aggregate (GET /history?step=).
          stepSince.current = Date.now();
          const fs = fields.length ? fields : [undefined];
          for (const p of widget.topics) {
            for (const f of fs) {
              const r = await api.historyStep(p, { from, to, step: stepParam, field: f });
              for (const s of r?.series ?? []) for (const b of s.buckets) win.current.setBucket(b.t, f ? `${s.topic}|${f}` : s.topic, b);
            }
          }
          syncKeys(); // the buckets are in the window already: no messages to apply
          return [];
        }
        stepSince.current = 0;
        const msgs = await loadHistory(widget.topics, { from, limit: 10_000 });
        return to === undefined ? msgs : msgs.filter((m) => m.ts < to);
      },
      apply: (msgs) => {
        for (const m of msgs) {
          if (m.ts < stepSince.current || (fixed && m.ts >= fixed.to)) continue;
          for (const s of samples(m.topic, m.data, fields, count)) win.current.add(m.ts, s.key, s.value);
        }
        syncKeys();
      },
      clear: () => {
        win.current.clear();
        syncKeys();
      },
    },
    shape,
  );

  // (Re)build the plot when the series, the theme or the kind change.
  useEffect(() => {
    const el = boxRef.current;
    if (!el || size.width === 0) return;
    const keyList = keys ? keys.split('\n') : [];
    const colors = PALETTE[theme];
    const css = getComputedStyle(document.documentElement);
    const muted = css.getPropertyValue('--muted').trim() || '#6b7280';
    const grid = css.getPropertyValue('--grid').trim() || 'rgba(0,0,0,.06)';
    // Canvas text does not resolve CSS variables: use the font's real value.
    const font = `11px ${css.getPropertyValue('--font').trim() || 'sans-serif'}`;
    const labels = seriesLabels(keyList);
    const bars = kind === 'bar' ? uPlot.paths.bars!({ size: [0.75, 48], align: stepMs ? 1 : 0 }) : undefined;
    const opts: uPlot.Options = {
      width: size.width,
      height: Math.max(60, size.height - 30),
      // Drag across the chart to zoom the page into that range of history.
      cursor: { drag: { x: true, y: false, setScale: false }, points: { size: 7 } },
      hooks: {
        setSelect: [
          (u) => {
            const { left, width } = u.select;
            if (width >= 4) {
              const from = u.posToVal(left, 'x') * 1000;
              const to = u.posToVal(left + width, 'x') * 1000;
              if (to - from >= MIN_SPAN_MS) setRangeRef.current({ kind: 'fixed', from: Math.floor(from), to: Math.ceil(to) });
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
      },
      legend: { show: true, live: true },
      scales: {
        x: { time: true },
        y: {
          range: (_u, lo, hi) => {
            if (lo === null || hi === null || !isFinite(lo) || !isFinite(hi)) return [yMin ?? 0, yMax ?? 1];
            const [a, b] = uPlot.rangeNum(lo, hi, 0.1, true) as [number, number];
            const low = yMin ?? a;
            const high = yMax ?? b;
            return [low, high > low ? high : low + 1];
          },
        },
      },
      axes: [
        {
          stroke: muted,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          font,
          space: 70,
          size: 34, // the default 50 leaves a gap between the labels and the legend
          gap: 9, // clear of the lowest y label
          values: (_u, splits, _ax, _space, incr) => timeTicks(splits, incr),
        },
        {
          stroke: muted,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          font,
          incrs: fmt.format === 'bytes' && !fmt.scale ? byteIncrs() : undefined,
          values: (_u, splits) => {
            // Whole numbers on a currency axis: $500, not $500.00.
            const whole = fmt.format === 'currency' && splits.every((v) => Number.isInteger(v));
            return splits.map((v) => formatAxis(v, whole ? { ...fmt, decimals: 0 } : fmt));
          },
          size: (_u, values) => (values ? Math.max(...values.map((v) => String(v).length)) * 6.5 + 16 : 40),
        },
      ],
      series: [
        { value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString()) },
        ...keyList.map((_k, i) => {
          const c = colors[i % colors.length];
          return {
            label: labels[i],
            stroke: c,
            width: kind === 'bar' ? 0 : 1.75,
            fill: kind === 'area' ? alpha(c, 0.14) : kind === 'bar' ? alpha(c, 0.75) : undefined,
            paths: bars,
            points: { show: false },
            spanGaps: kind !== 'bar',
            value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatValue(v, fmt)),
          } as uPlot.Series;
        }),
      ],
    };
    const p = new uPlot(opts, win.current.data() as uPlot.AlignedData, el);
    plot.current = p;
    draw();
    return () => {
      p.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [keys, theme, kind, size.width > 0, shape]);

  // Follow the card's size without rebuilding: the canvas takes what the
  // legend (one or more lines, depending on the series) leaves.
  useEffect(() => {
    const p = plot.current;
    if (!p || size.width === 0) return;
    const fit = () => {
      const legend = p.root.querySelector('.u-legend') as HTMLElement | null;
      const lh = legend ? legend.getBoundingClientRect().height : 0;
      const h = Math.max(60, size.height - (lh > 0 && lh < size.height / 2 ? lh : 24) - 4);
      if (p.width !== size.width || p.height !== h) p.setSize({ width: size.width, height: h });
    };
    fit();
    const f = requestAnimationFrame(fit);
    return () => cancelAnimationFrame(f);
  }, [size, keys]);

  // Slide the window every second even when no data arrives.
  useEffect(() => {
    const t = setInterval(draw, 1000);
    return () => {
      clearInterval(t);
      if (frame.current) cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return (
    <div className="chart">
      <div className="chart-box" ref={boxRef} />
      {rows === 0 || error ? (
        <div className="chart-overlay">
          <WidgetNote loading={loading} error={error} empty={rows === 0 && (fixed ? 'No data in this range' : `No data in the last ${liveSpan ? formatSpan(liveSpan) : (o?.window ?? '5m')}`)} />
        </div>
      ) : null}
    </div>
  );
}

function formatSpan(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return `${Math.round(ms / 60_000)}m`;
}

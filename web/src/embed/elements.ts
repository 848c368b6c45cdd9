// <livedash-stat>, <livedash-chart>, <livedash-feed>, <livedash-alerts>.

import type { Envelope } from 'livedash';
import uPlot from 'uplot';
import uplotCSS from 'uplot/dist/uPlot.min.css?inline';
import { timeTicks } from '../lib/axis';
import { parseDuration } from '../lib/duration';
import { compareIds } from '../lib/ids';
import { formatAny, formatAxis, formatValue } from '../lib/format';
import { seriesLabels } from '../lib/pattern';
import { getPath, numericValue, samples } from '../lib/values';
import { SeriesWindow } from '../lib/window';
import { history, lastOf } from './api';
import { LivedashElement, timeOf } from './base';

/** The newest value of a topic (or of field in its object data), formatted. */
export class LivedashStat extends LivedashElement {
  private value: number | null = null;
  private ts = -Infinity;
  private readonly valueEl = document.createElement('span');

  constructor() {
    super();
    this.valueEl.className = 'value';
    this.valueEl.setAttribute('part', 'value');
    this.body.append(this.valueEl);
    this.render();
  }

  protected load(server: string, token: string | undefined, topic: string): Promise<Envelope[]> {
    return lastOf(server, token, topic);
  }

  protected apply(msgs: Envelope[]): void {
    const field = this.attr('field');
    for (const m of msgs) {
      const v = numericValue(m.data, field);
      if (v !== null && m.ts >= this.ts) {
        this.value = v;
        this.ts = m.ts;
      }
    }
    this.render();
  }

  protected clear(): void {
    this.value = null;
    this.ts = -Infinity;
    this.render();
  }

  private render(): void {
    this.valueEl.textContent = formatValue(this.value, this.fmt);
    this.valueEl.dataset.value = this.value === null ? '' : String(this.value);
  }
}

const PALETTE = {
  light: ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'],
  dark: ['#60a5fa', '#4ade80', '#fbbf24', '#c084fc', '#f87171', '#22d3ee'],
};

/** A live line chart over a sliding window (attribute window, default 5m), backfilled from history. */
export class LivedashChart extends LivedashElement {
  private win = new SeriesWindow(5 * 60_000);
  private plot: uPlot | null = null;
  private keys = '';
  private frame = 0;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private readonly box2 = document.createElement('div');
  private readonly sizer = new ResizeObserver(() => this.resize());

  constructor() {
    super();
    this.box2.className = 'chart';
    this.box2.setAttribute('part', 'chart');
    this.body.append(this.box2);
  }

  protected css(): string {
    return uplotCSS;
  }

  private get windowMs(): number {
    const ms = parseDuration(this.attr('window') ?? '5m');
    return isFinite(ms) && ms > 0 ? ms : 5 * 60_000;
  }

  connectedCallback(): void {
    super.connectedCallback();
    this.sizer.observe(this.box2);
    this.tickTimer = setInterval(() => this.draw(), 1000);
  }

  disconnectedCallback(): void {
    super.disconnectedCallback();
    this.sizer.disconnect();
    clearInterval(this.tickTimer);
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.plot?.destroy();
    this.plot = null;
    this.keys = '';
  }

  protected load(server: string, token: string | undefined, topic: string): Promise<Envelope[]> {
    return history(server, token, topic, { from: Date.now() - this.windowMs, limit: 10_000 });
  }

  protected apply(msgs: Envelope[]): void {
    const field = this.attr('field');
    for (const m of msgs) for (const s of samples(m.topic, m.data, field ? [field] : undefined)) this.win.add(m.ts, s.key, s.value);
    if (this.win.keys.join('\n') !== this.keys) this.build();
    this.draw();
  }

  protected clear(): void {
    this.win = new SeriesWindow(this.windowMs);
    this.build();
  }

  protected themeChanged(): void {
    if (this.plot) this.build();
  }

  private size(): { width: number; height: number } {
    const r = this.box2.getBoundingClientRect();
    return { width: Math.max(100, Math.floor(r.width)), height: Math.max(80, Math.floor(r.height) - 28) };
  }

  private resize(): void {
    if (this.plot) this.plot.setSize(this.size());
  }

  /** (Re)creates the plot for the current series and theme. */
  private build(): void {
    this.plot?.destroy();
    this.keys = this.win.keys.join('\n');
    const keys = [...this.win.keys];
    const colors = PALETTE[this.theme];
    const fmt = this.fmt;
    const muted = this.theme === 'dark' ? '#9ca3af' : '#6b7280';
    const grid = this.theme === 'dark' ? 'rgba(255,255,255,.08)' : 'rgba(0,0,0,.06)';
    const font = '11px system-ui, sans-serif';
    const labels = seriesLabels(keys);
    const opts: uPlot.Options = {
      ...this.size(),
      cursor: { drag: { x: false, y: false } },
      legend: { show: keys.length > 0, live: true },
      scales: { x: { time: true } },
      axes: [
        { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { show: false }, font, space: 70, size: 30, values: (_u, splits, _a, _s, incr) => timeTicks(splits, incr) },
        {
          stroke: muted,
          grid: { stroke: grid, width: 1 },
          ticks: { show: false },
          font,
          values: (_u, splits) => splits.map((v) => formatAxis(v, fmt)),
          size: (_u, values) => (values ? Math.max(...values.map((v) => String(v).length)) * 6.5 + 14 : 40),
        },
      ],
      series: [
        { value: (_u, v) => (v == null ? '—' : new Date(v * 1000).toLocaleTimeString()) },
        ...keys.map((_k, i) => ({
          label: labels[i],
          stroke: colors[i % colors.length],
          width: 1.75,
          points: { show: false },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v == null ? '—' : formatValue(v, fmt)),
        })),
      ],
    };
    this.plot = new uPlot(opts, this.win.data() as uPlot.AlignedData, this.box2);
    this.draw();
  }

  private draw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const p = this.plot;
      if (!p) return;
      const now = Date.now();
      this.win.trim(now);
      const data = this.win.data();
      let n = 0;
      for (let i = 1; i < data.length; i++) for (const v of data[i]) if (v != null) n++;
      this.box2.dataset.points = String(n);
      const last = this.win.keys.length ? this.win.lastValue(0) : null;
      this.box2.dataset.last = last === null ? '' : String(last);
      p.batch(() => {
        p.setData(data as uPlot.AlignedData, false);
        p.setScale('x', { min: (now - this.windowMs) / 1000, max: now / 1000 });
      });
    });
  }
}

/** A list of the newest messages, newest first. */
class ListElement extends LivedashElement {
  protected items: Envelope[] = [];
  protected readonly list = document.createElement('ul');
  protected limit = 50;

  constructor() {
    super();
    this.list.className = 'list';
    this.list.setAttribute('part', 'list');
    this.body.append(this.list);
  }

  protected keep(_m: Envelope): boolean {
    return true;
  }

  protected load(server: string, token: string | undefined, topic: string): Promise<Envelope[]> {
    return history(server, token, topic, { limit: this.limit * 4 });
  }

  protected apply(msgs: Envelope[]): void {
    for (const m of msgs) if (this.keep(m)) this.items.push(m);
    this.items.sort((a, b) => b.ts - a.ts || -(compareIds(a.id, b.id) ?? 0));
    this.items.length = Math.min(this.items.length, this.limit);
    this.render();
  }

  protected clear(): void {
    this.items = [];
    this.render();
  }

  protected text(m: Envelope): string {
    const field = this.attr('field');
    const d = m.data as Record<string, unknown> | null;
    if (field) return formatAny(getPath(d, field), this.fmt);
    if (d && typeof d === 'object' && typeof d.message === 'string') return d.message;
    if (d && typeof d === 'object' && typeof d.title === 'string') return d.title;
    return formatAny(d, this.fmt);
  }

  protected row(li: HTMLLIElement, m: Envelope): void {
    const t = document.createElement('span');
    t.className = 'time';
    t.textContent = timeOf(m.ts);
    const x = document.createElement('span');
    x.className = 'text';
    x.textContent = this.text(m);
    li.append(t, x);
  }

  private render(): void {
    this.list.replaceChildren(
      ...this.items.map((m) => {
        const li = document.createElement('li');
        li.dataset.id = m.id;
        li.title = m.topic;
        this.row(li, m);
        return li;
      }),
    );
    if (this.items.length === 0) this.note('Nothing yet');
    else if (this.list.isConnected) this.note('');
  }
}

/** An activity feed: the newest messages of the topic. */
export class LivedashFeed extends ListElement {}

/** Alerts (messages of type alert): severity and message, newest first. */
export class LivedashAlerts extends ListElement {
  protected keep(m: Envelope): boolean {
    return m.type === 'alert';
  }

  protected row(li: HTMLLIElement, m: Envelope): void {
    const sev = String((m.data as { severity?: unknown } | null)?.severity ?? 'info');
    const s = document.createElement('span');
    s.className = `sev ${sev}`;
    s.textContent = sev;
    li.append(s);
    super.row(li, m);
  }
}

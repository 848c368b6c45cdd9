// /explore: what to show for the topics that match some patterns, chosen by
// the type of their messages: point → a chart (one series per numeric
// field), stats → a stat card per numeric field (and a table for the other
// fields), event → a feed, alert → an alerts list, any other type → a raw
// JSON feed. Pure functions, so the choice is tested without a browser.

import type { Dashboard, Widget } from './dashboard';
import { numericFields } from './values';

export type ExploreKind = 'chart' | 'stats' | 'feed' | 'alerts' | 'raw';

/** The widget for messages of a type. */
export function widgetKindFor(type: string): ExploreKind {
  switch (type) {
    case 'point':
      return 'chart';
    case 'stats':
      return 'stats';
    case 'event':
      return 'feed';
    case 'alert':
      return 'alerts';
    default:
      return 'raw';
  }
}

/** A matching topic as explore knows it: its last message's type, data and time. */
export interface ExploreTopic {
  topic: string;
  type: string;
  data?: unknown;
  ts?: number;
}

export interface ExplorePlan {
  widgets: Widget[];
  /** Topics left out (more charts or cards than a page shows): narrow the pattern. */
  hidden: string[];
}

export const MAX_CHARTS = 12;
export const MAX_STAT_CARDS = 24;
/** Up to this many topics, a list widget reads them by name; beyond, by the page's patterns. */
export const MAX_NAMED = 8;

/** A chart window that shows the topic's last message: 5m, or longer for a quiet topic. */
export function windowFor(ageMs: number): string {
  if (!(ageMs <= 4 * 60_000)) {
    if (ageMs <= 55 * 60_000) return '1h';
    if (ageMs <= 23 * 3_600_000) return '1d';
    return '7d';
  }
  return '5m';
}

/** The numeric fields of stats data, and whether it has other fields too. */
function statsFields(data: unknown): { numeric: string[]; other: boolean } {
  const numeric = numericFields(data).map(([k]) => k);
  const all = data && typeof data === 'object' && !Array.isArray(data) ? Object.keys(data) : [];
  return { numeric, other: all.length > numeric.length || all.length === 0 };
}

/**
 * The widgets for the matching topics: charts first (a point topic each),
 * then stat cards, alerts, the event feed and the raw feed. Ids are stable
 * for a topic and field, so a plan recomputed when a new topic appears
 * keeps the widgets already on the page.
 */
export function explorePlan(patterns: readonly string[], topics: readonly ExploreTopic[], now: number): ExplorePlan {
  const byKind = new Map<ExploreKind, ExploreTopic[]>();
  for (const t of [...topics].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0))) {
    const k = widgetKindFor(t.type);
    byKind.set(k, [...(byKind.get(k) ?? []), t]);
  }
  const widgets: Widget[] = [];
  const hidden: string[] = [];
  // A list widget reads its topics by name when there are few, else the patterns.
  const source = (ts: ExploreTopic[]) => (ts.length <= MAX_NAMED ? ts.map((t) => t.topic) : [...patterns]);

  const points = byKind.get('chart') ?? [];
  points.forEach((t, i) => {
    if (i >= MAX_CHARTS) {
      hidden.push(t.topic);
      return;
    }
    widgets.push({
      id: `chart:${t.topic}`,
      type: 'chart',
      title: t.topic,
      topics: [t.topic],
      options: { window: windowFor(now - (t.ts ?? now)) },
      w: 2,
      h: 2,
    });
  });

  const stats = byKind.get('stats') ?? [];
  let cards = 0;
  for (const t of stats) {
    const f = statsFields(t.data);
    if (cards >= MAX_STAT_CARDS) {
      hidden.push(t.topic);
      continue;
    }
    for (const field of f.numeric.slice(0, MAX_STAT_CARDS - cards)) {
      cards++;
      widgets.push({ id: `stat:${t.topic}|${field}`, type: 'stat', title: stats.length === 1 ? field : `${t.topic} ${field}`, topics: [t.topic], options: { field } });
    }
    if (f.other) widgets.push({ id: `table:${t.topic}`, type: 'table', title: t.topic, topics: [t.topic], w: 2, h: 2 });
  }

  const alerts = byKind.get('alerts') ?? [];
  if (alerts.length) widgets.push({ id: 'alerts', type: 'alerts', title: 'Alerts', topics: source(alerts), options: { limit: 100 }, w: 2, h: 2 });

  const events = byKind.get('feed') ?? [];
  if (events.length) widgets.push({ id: 'events', type: 'feed', title: events.length === 1 ? events[0].topic : 'Events', topics: source(events), options: { limit: 100 }, w: 2, h: 2 });

  const raw = byKind.get('raw') ?? [];
  if (raw.length) {
    const types = [...new Set(raw.map((t) => t.type))].sort();
    widgets.push({ id: 'raw', type: 'raw', title: `Messages: ${types.join(', ')}`, topics: source(raw), options: { types, limit: 100 }, w: 2, h: 2 });
  }
  return { widgets, hidden };
}

/** A dashboard name from patterns: shop.> → shop, host.*.cpu → host-cpu. */
export function dashboardNameFor(patterns: readonly string[]): string {
  const base = patterns
    .join('-')
    .replace(/[.>*]+/g, '-')
    .replace(/[^A-Za-z0-9_-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 64);
  return base || 'explore';
}

/**
 * The plan as a dashboard document for PUT /api/v1/dashboards/{name}: the
 * raw feed becomes a feed of those types, and the server numbers the ids.
 */
export function planDashboard(name: string, title: string, plan: ExplorePlan): Dashboard {
  return {
    name,
    title,
    columns: 4,
    widgets: plan.widgets.map((w) => {
      const { id: _id, ...rest } = w;
      return rest.type === 'raw' ? { ...rest, type: 'feed' } : rest;
    }) as Widget[],
  };
}

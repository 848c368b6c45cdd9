// The dashboard definition, as GET /api/v1/dashboards/{name} returns it (see
// the Go package dashboard and docs/dashboards.md), and typed option access.

import { parseDuration } from './duration';
import type { FormatOptions, Format } from './format';
import { unionPatterns } from './pattern';
import { readThresholds, type Threshold } from './trend';

export type WidgetType = 'stat' | 'chart' | 'alerts' | 'feed' | 'table' | 'gauge';

export interface Widget {
  id: string;
  type: WidgetType | string;
  title?: string;
  topics: string[];
  options?: Record<string, unknown>;
  w?: number;
  h?: number;
}

export interface Dashboard {
  name: string;
  title: string;
  columns?: number;
  widgets: Widget[];
}

export const DEFAULT_COLUMNS = 4;

/** The patterns of all widgets, for the one stream of the page. */
export function dashboardPatterns(widgets: readonly Widget[]): string[] {
  return unionPatterns(widgets.map((w) => w.topics ?? []));
}

export function optNum(o: Record<string, unknown> | undefined, key: string): number | undefined {
  const v = o?.[key];
  return typeof v === 'number' && isFinite(v) ? v : undefined;
}

export function optStr(o: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = o?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function optBool(o: Record<string, unknown> | undefined, key: string): boolean {
  return o?.[key] === true;
}

export function optStrings(o: Record<string, unknown> | undefined, key: string): string[] {
  const v = o?.[key];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** A duration option in ms, or def when absent or malformed. */
export function optDuration(o: Record<string, unknown> | undefined, key: string, def: number): number {
  const ms = parseDuration(o?.[key]);
  return isFinite(ms) && ms > 0 ? ms : def;
}

const FORMATS = ['number', 'currency', 'percent', 'bytes', 'duration'];

/** The format options of a widget (or of one field, via options.formats). */
export function formatOptions(o: Record<string, unknown> | undefined, field?: string): FormatOptions {
  let format = optStr(o, 'format');
  const per = o?.formats;
  if (field && per && typeof per === 'object' && typeof (per as Record<string, unknown>)[field] === 'string') {
    format = (per as Record<string, string>)[field];
  }
  return {
    format: format && FORMATS.includes(format) ? (format as Format) : undefined,
    currency: optStr(o, 'currency'),
    decimals: optNum(o, 'decimals'),
    unit: optStr(o, 'unit'),
    compact: optBool(o, 'compact'),
    scale: optNum(o, 'scale'),
  };
}

export function thresholds(o: Record<string, unknown> | undefined): Threshold[] {
  return readThresholds(o?.thresholds);
}

/** Grid span of a widget in a grid of cols columns. */
export function span(w: Widget, cols: number): { col: number; row: number } {
  const c = Math.max(1, Math.min(cols, Math.round(w.w ?? 1) || 1));
  const r = Math.max(1, Math.min(8, Math.round(w.h ?? 1) || 1));
  return { col: c, row: r };
}

/** Columns to use for a container width, never more than the dashboard asks for. */
export function columnsFor(width: number, wanted: number | undefined): number {
  const want = Math.max(1, Math.min(12, wanted || DEFAULT_COLUMNS));
  const fit = width < 640 ? 1 : width < 1000 ? 2 : width < 1400 ? Math.min(want, 4) : want;
  return Math.max(1, Math.min(want, fit));
}

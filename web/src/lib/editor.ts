// The dashboard editor's state: a pure reducer over the document being
// edited, with undo and redo of every edit, and validation that mirrors the
// server's (dashboard/dashboard.go) so that errors show on the field they
// concern before a save; mapServerError puts the server's own 400 message on
// the widget and field it names.

import { DEFAULT_COLUMNS, type Dashboard, type Widget } from './dashboard';
import { isValidPattern } from './pattern';

export const WIDGET_TYPES = ['stat', 'chart', 'alerts', 'feed', 'table', 'gauge'] as const;
export const MAX_COLUMNS = 12;
export const MAX_WIDGETS = 100;
export const MAX_TOPICS = 20;
export const MAX_HEIGHT = 8;
export const MAX_TITLE = 200;
export const FORMATS = ['number', 'currency', 'percent', 'bytes', 'duration'];
export const CHART_KINDS = ['line', 'area', 'bar'];
export const AGGS = ['avg', 'sum', 'min', 'max', 'last', 'count'];
export const COLORS = ['red', 'amber', 'yellow', 'green', 'blue', 'purple', 'gray'];
const HISTORY = 200;

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const DURATION_RE = /^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$/;
const CURRENCY_RE = /^[A-Z]{3}$/;
const COLOR_RE = /^(#[0-9A-Fa-f]{3,8}|[a-z]{3,20})$/;

export interface EditorState {
  doc: Dashboard;
  past: Dashboard[];
  future: Dashboard[];
  /** The selected widget's index, or null. */
  selected: number | null;
  /** The coalescing key of the last edit: edits with the same key (typing in one field, one drag) are one undo step. */
  lastKey: string | null;
}

export type Action =
  | { type: 'load'; doc: Dashboard }
  | { type: 'replace'; doc: Dashboard; key?: string }
  | { type: 'title'; title: string }
  | { type: 'columns'; columns: number }
  | { type: 'add'; widgetType: string; topics?: string[] }
  | { type: 'remove'; index: number }
  | { type: 'duplicate'; index: number }
  | { type: 'move'; from: number; to: number }
  | { type: 'moveBy'; index: number; dx: number; dy: number; cols: number }
  | { type: 'resize'; index: number; w: number; h: number; key?: string }
  | { type: 'resizeBy'; index: number; dw: number; dh: number }
  | { type: 'widget'; index: number; patch: Partial<Widget>; key?: string }
  | { type: 'option'; index: number; name: string; value: unknown; key?: string }
  | { type: 'select'; index: number | null }
  | { type: 'undo' }
  | { type: 'redo' };

export function initEditor(doc: Dashboard): EditorState {
  return { doc: { ...doc, widgets: doc.widgets ?? [] }, past: [], future: [], selected: null, lastKey: null };
}

export function emptyDashboard(name = ''): Dashboard {
  return { name, title: '', columns: DEFAULT_COLUMNS, widgets: [] };
}

export function columnsOf(doc: Dashboard): number {
  return Math.max(1, Math.min(MAX_COLUMNS, doc.columns || DEFAULT_COLUMNS));
}

/** A widget id not used in widgets: base, or base-2, base-3…; for base "w": w1, w2… */
export function freshId(widgets: readonly Widget[], base = 'w'): string {
  const used = new Set(widgets.map((w) => w.id));
  if (base !== 'w' && !used.has(base)) return base;
  for (let n = base === 'w' ? 1 : 2; ; n++) {
    const id = base === 'w' ? `w${n}` : `${base}-${n}`;
    if (!used.has(id)) return id;
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v));

function withWidgets(doc: Dashboard, widgets: Widget[]): Dashboard {
  return { ...doc, widgets };
}

function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const out = list.slice();
  const [x] = out.splice(from, 1);
  out.splice(to, 0, x);
  return out;
}

/** The edit an action makes: the new document and selection, or null when it changes nothing. */
function apply(s: EditorState, a: Action): { doc: Dashboard; selected: number | null } | null {
  const { doc } = s;
  const ws = doc.widgets;
  const valid = (i: number) => Number.isInteger(i) && i >= 0 && i < ws.length;
  switch (a.type) {
    case 'replace':
      return { doc: { ...a.doc, widgets: a.doc.widgets ?? [] }, selected: s.selected !== null && s.selected < (a.doc.widgets ?? []).length ? s.selected : null };
    case 'title':
      return { doc: { ...doc, title: a.title }, selected: s.selected };
    case 'columns': {
      const columns = clamp(Math.round(a.columns) || DEFAULT_COLUMNS, 1, MAX_COLUMNS);
      return { doc: { ...doc, columns }, selected: s.selected };
    }
    case 'add': {
      if (ws.length >= MAX_WIDGETS) return null;
      const w: Widget = { id: freshId(ws), type: a.widgetType, title: '', topics: a.topics ?? [], w: 1, h: 1 };
      if (a.widgetType === 'chart' || a.widgetType === 'alerts' || a.widgetType === 'feed') {
        w.w = Math.min(2, columnsOf(doc));
        w.h = 2;
      }
      return { doc: withWidgets(doc, [...ws, w]), selected: ws.length };
    }
    case 'remove': {
      if (!valid(a.index)) return null;
      const next = ws.filter((_, i) => i !== a.index);
      const sel = next.length === 0 ? null : Math.min(a.index, next.length - 1);
      return { doc: withWidgets(doc, next), selected: sel };
    }
    case 'duplicate': {
      if (!valid(a.index) || ws.length >= MAX_WIDGETS) return null;
      const src = ws[a.index];
      const copy: Widget = structuredClone(src);
      copy.id = freshId(ws, `${src.id}-copy`.slice(0, 64));
      const next = ws.slice();
      next.splice(a.index + 1, 0, copy);
      return { doc: withWidgets(doc, next), selected: a.index + 1 };
    }
    case 'move': {
      if (!valid(a.from)) return null;
      const to = clamp(a.to, 0, ws.length - 1);
      if (to === a.from) return null;
      return { doc: withWidgets(doc, moved(ws, a.from, to)), selected: to };
    }
    case 'moveBy': {
      // Widgets flow in order, so a move left or right is one place, a move
      // up or down one row of cols places; at an edge nothing moves.
      if (!valid(a.index)) return null;
      const to = a.index + a.dx + a.dy * Math.max(1, a.cols);
      if (to < 0 || to >= ws.length || to === a.index) return null;
      return { doc: withWidgets(doc, moved(ws, a.index, to)), selected: to };
    }
    case 'resize':
    case 'resizeBy': {
      if (!valid(a.index)) return null;
      const cur = ws[a.index];
      const wantW = a.type === 'resize' ? a.w : (cur.w || 1) + a.dw;
      const wantH = a.type === 'resize' ? a.h : (cur.h || 1) + a.dh;
      const w = clamp(Math.round(wantW), 1, columnsOf(doc));
      const h = clamp(Math.round(wantH), 1, MAX_HEIGHT);
      if (w === (cur.w || 1) && h === (cur.h || 1)) return null;
      const next = ws.slice();
      next[a.index] = { ...cur, w, h };
      return { doc: withWidgets(doc, next), selected: a.index };
    }
    case 'widget': {
      if (!valid(a.index)) return null;
      const next = ws.slice();
      next[a.index] = { ...ws[a.index], ...a.patch };
      return { doc: withWidgets(doc, next), selected: a.index };
    }
    case 'option': {
      if (!valid(a.index)) return null;
      const cur = ws[a.index];
      const options: Record<string, unknown> = { ...(cur.options ?? {}) };
      const empty = a.value === undefined || a.value === '' || (Array.isArray(a.value) && a.value.length === 0);
      if (empty) delete options[a.name];
      else options[a.name] = a.value;
      const next = ws.slice();
      next[a.index] = { ...cur, options };
      if (Object.keys(options).length === 0) delete next[a.index].options;
      return { doc: withWidgets(doc, next), selected: a.index };
    }
  }
  return null;
}

export function editorReducer(s: EditorState, a: Action): EditorState {
  switch (a.type) {
    case 'load':
      return initEditor(a.doc);
    case 'select':
      return { ...s, selected: a.index !== null && a.index >= 0 && a.index < s.doc.widgets.length ? a.index : null, lastKey: null };
    case 'undo': {
      if (s.past.length === 0) return s;
      const doc = s.past[s.past.length - 1];
      return { doc, past: s.past.slice(0, -1), future: [s.doc, ...s.future], selected: fitSel(s.selected, doc), lastKey: null };
    }
    case 'redo': {
      if (s.future.length === 0) return s;
      const doc = s.future[0];
      return { doc, past: [...s.past, s.doc], future: s.future.slice(1), selected: fitSel(s.selected, doc), lastKey: null };
    }
  }
  const r = apply(s, a);
  if (!r) return s;
  const key = 'key' in a && a.key ? a.key : a.type === 'title' ? 'title' : null;
  // A continued edit (the same field typed into, the same drag) replaces the
  // last step instead of adding one.
  const coalesce = key !== null && key === s.lastKey && s.past.length > 0;
  const past = coalesce ? s.past : [...s.past, s.doc].slice(-HISTORY);
  return { doc: r.doc, past, future: [], selected: r.selected, lastKey: key };
}

function fitSel(sel: number | null, doc: Dashboard): number | null {
  if (sel === null || doc.widgets.length === 0) return null;
  return Math.min(sel, doc.widgets.length - 1);
}

// ---- Validation ----

/** Field-level errors: a path ("name", "title", "columns", "widgets", "widgets.2.topics", "widgets.0.options.format") to a message. */
export type Errors = Record<string, string>;

export function widgetPath(index: number, field: string): string {
  return `widgets.${index}.${field}`;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function oneOf(v: unknown, allowed: string[]): string | null {
  return typeof v === 'string' && allowed.includes(v) ? null : `is ${describe(v)}; use one of ${allowed.join(', ')}`;
}

function match(v: unknown, re: RegExp, what: string): string | null {
  return typeof v === 'string' && re.test(v) ? null : `is ${describe(v)}; use ${what}`;
}

function numberIn(v: unknown, lo: number, hi: number): string | null {
  if (!isNum(v)) return `must be a number, not ${describe(v)}`;
  return v < lo || v > hi ? `is ${v}; use ${lo} to ${hi}` : null;
}

function strings(v: unknown): string | null {
  if (!Array.isArray(v)) return `must be a list of strings, not ${describe(v)}`;
  const i = v.findIndex((x) => typeof x !== 'string');
  return i < 0 ? null : `item ${i + 1} must be a string, not ${describe(v[i])}`;
}

/** The problem with one option, as the server words it, or null. */
export function checkOption(key: string, v: unknown): string | null {
  switch (key) {
    case 'field':
    case 'unit':
    case 'label':
      return typeof v === 'string' ? null : `must be a string, not ${describe(v)}`;
    case 'fields':
    case 'types':
    case 'colors':
      return strings(v);
    case 'format':
      return oneOf(v, FORMATS);
    case 'currency':
      return match(v, CURRENCY_RE, 'a 3-letter currency code such as USD');
    case 'decimals':
      return numberIn(v, 0, 10);
    case 'min':
    case 'max':
    case 'scale':
      return numberIn(v, -Infinity, Infinity);
    case 'limit':
      return numberIn(v, 1, 1000);
    case 'invert':
    case 'sparkline':
    case 'compact':
    case 'stacked':
    case 'notify':
      return typeof v === 'boolean' ? null : `must be true or false, not ${describe(v)}`;
    case 'window':
    case 'trend_window':
      return match(v, DURATION_RE, 'a duration such as 30s, 5m or 1h');
    case 'step':
      return match(v, DURATION_RE, 'a duration such as 10s or 1m');
    case 'kind':
      return oneOf(v, CHART_KINDS);
    case 'good':
      return oneOf(v, ['up', 'down']);
    case 'agg':
      return oneOf(v, AGGS);
    case 'formats': {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return `must be an object of field: format, not ${describe(v)}`;
      for (const [k, f] of Object.entries(v)) {
        const e = oneOf(f, FORMATS);
        if (e) return `${k} ${e}`;
      }
      return null;
    }
    case 'thresholds': {
      if (!Array.isArray(v)) return `must be a list of {value, color}, not ${describe(v)}`;
      for (let i = 0; i < v.length; i++) {
        const t = v[i];
        if (!t || typeof t !== 'object' || Array.isArray(t)) return `item ${i + 1} must be {value: N, color: NAME}, not ${describe(t)}`;
        const { value, color } = t as Record<string, unknown>;
        if (!isNum(value)) return `item ${i + 1}: value must be a number, not ${describe(value)}`;
        const e = match(color, COLOR_RE, 'a colour name (red, amber, green, blue, …) or #rrggbb');
        if (e) return `item ${i + 1}: color ${e}`;
      }
      return null;
    }
  }
  return null;
}

/** Every problem of the document, by field (the server reports only the first). */
const DASHBOARD_KEYS = ['name', 'title', 'columns', 'widgets'];
const WIDGET_KEYS = ['id', 'type', 'title', 'topics', 'options', 'w', 'h'];

/** The first key of o not in known, as the server (which decodes known fields only) refuses it. */
function unknownKey(o: object, known: string[]): string | null {
  const k = Object.keys(o).find((x) => !known.includes(x));
  return k === undefined ? null : `unknown field "${k}" (use ${known.join(', ')})`;
}

export function validate(doc: Dashboard): Errors {
  const errs: Errors = {};
  const extra = unknownKey(doc, DASHBOARD_KEYS);
  if (extra) errs.dashboard = extra;
  if (!NAME_RE.test(doc.name ?? '')) errs.name = 'use 1 to 64 characters of A-Z a-z 0-9 _ -';
  if ([...(doc.title ?? '')].length > MAX_TITLE) errs.title = `title is longer than ${MAX_TITLE} characters`;
  const c = doc.columns ?? 0;
  if (!Number.isInteger(c) || c < 0 || c > MAX_COLUMNS) errs.columns = `columns is ${c}; use 1 to ${MAX_COLUMNS}`;
  const ws = Array.isArray(doc.widgets) ? doc.widgets : [];
  if (!Array.isArray(doc.widgets)) errs.widgets = 'widgets must be a list';
  if (ws.length > MAX_WIDGETS) errs.widgets = `${ws.length} widgets; the limit is ${MAX_WIDGETS}`;
  const seen = new Map<string, number>();
  ws.forEach((w, i) => {
    const p = (f: string) => widgetPath(i, f);
    if (!w || typeof w !== 'object') {
      errs[p('id')] = 'a widget must be an object';
      return;
    }
    const extraW = unknownKey(w, WIDGET_KEYS);
    if (extraW) errs[p('unknown')] = extraW;
    if (!w.id) errs[p('id')] = 'id is required';
    else if (!NAME_RE.test(w.id)) errs[p('id')] = 'id must be 1 to 64 characters of A-Z a-z 0-9 _ -';
    else if (seen.has(w.id)) errs[p('id')] = `id "${w.id}" is already used by widget ${seen.get(w.id)! + 1}`;
    else seen.set(w.id, i);
    if (!(WIDGET_TYPES as readonly string[]).includes(w.type)) {
      errs[p('type')] = w.type ? `unknown type "${w.type}" (use one of ${WIDGET_TYPES.join(', ')})` : `type is required (one of ${WIDGET_TYPES.join(', ')})`;
    }
    if ([...(w.title ?? '')].length > MAX_TITLE) errs[p('title')] = `title is longer than ${MAX_TITLE} characters`;
    const topics = Array.isArray(w.topics) ? w.topics : [];
    if (topics.length === 0) errs[p('topics')] = 'give at least one topic pattern such as "shop.orders" or "host.*.cpu"';
    else if (topics.length > MAX_TOPICS) errs[p('topics')] = `${topics.length} topics; the limit is ${MAX_TOPICS}`;
    else {
      const bad = topics.find((t) => typeof t !== 'string' || !isValidPattern(t));
      if (bad !== undefined) errs[p('topics')] = `"${bad}" is not a valid topic pattern (segments of A-Z a-z 0-9 _ -, * for one, a final > for the rest)`;
    }
    for (const [dim, max] of [['w', MAX_COLUMNS], ['h', MAX_HEIGHT]] as const) {
      const v = w[dim] ?? 0;
      if (!Number.isInteger(v) || v < 0 || v > max) errs[p(dim)] = `${dim} is ${v}; use 1 to ${max}`;
    }
    const o = w.options ?? {};
    for (const [k, v] of Object.entries(o)) {
      const e = checkOption(k, v);
      if (e) errs[p(`options.${k}`)] = e;
    }
    if (w.type === 'gauge') {
      const lo = isNum(o.min) ? o.min : 0;
      const hi = isNum(o.max) ? o.max : 100;
      if (lo >= hi && !errs[p('options.min')]) errs[p('options.min')] = `min (${lo}) must be less than max (${hi})`;
    }
  });
  return errs;
}

/**
 * The field a server 400 message names (dashboard/dashboard.go words them
 * `dashboard "x": widget 2 ("w2"): options.format: is "x"; use one of …`),
 * as a path of Errors and the message to show there. A message that names no
 * field goes on "dashboard".
 */
export function mapServerError(message: string): { path: string; message: string } {
  let rest = message.replace(/^dashboard "(?:[^"\\]|\\.)*": /, '');
  const w = /^widget (\d+)(?: \("(?:[^"\\]|\\.)*"\))?: /.exec(rest);
  if (w) {
    const i = Number(w[1]) - 1;
    rest = rest.slice(w[0].length);
    const opt = /^(options\.[A-Za-z0-9_]+)(?:[^:]*)?: ?(.*)$/.exec(rest);
    if (opt) return { path: widgetPath(i, opt[1]), message: opt[2] || rest };
    const gauge = /^options\.(min|max) \(/.exec(rest);
    if (gauge) return { path: widgetPath(i, 'options.min'), message: rest };
    const field = /^(?:unknown )?(id|type|title|topics|w|h)\b/.exec(rest) ?? (/^\d+ topics/.test(rest) ? [rest, 'topics'] : null);
    if (field) return { path: widgetPath(i, field[1]), message: rest.replace(/^topics: /, '') };
    return { path: widgetPath(i, 'id'), message: rest };
  }
  const top = /^(title|columns)\b/.exec(rest) ?? (/^\d+ widgets/.test(rest) ? [rest, 'widgets'] : null);
  if (top) return { path: top[1], message: rest };
  if (/^name "/.test(rest) || /^dashboard name/.test(message)) return { path: 'name', message: rest };
  return { path: 'dashboard', message: rest };
}

/** The document to save: the editor's draft with empty titles left for the server to fill. */
export function toSave(doc: Dashboard): Dashboard {
  return { ...doc, title: doc.title.trim() || doc.name };
}

/** Whether a JWT's payload says admin (the server decides; this only hides controls). */
export function isAdminToken(token: string | null): boolean {
  const part = token?.split('.')[1];
  if (!part) return false;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
    return (JSON.parse(json) as { admin?: unknown }).admin === true;
  } catch {
    return false;
  }
}

/** Object keys of recent data, for field autocomplete (dotted paths one level deep). */
export function fieldsOf(data: readonly unknown[]): string[] {
  const set = new Set<string>();
  for (const d of data) {
    if (!d || typeof d !== 'object' || Array.isArray(d)) continue;
    for (const [k, v] of Object.entries(d)) {
      if (v && typeof v === 'object' && !Array.isArray(v)) for (const k2 of Object.keys(v)) set.add(`${k}.${k2}`);
      else set.add(k);
    }
  }
  return [...set].sort();
}

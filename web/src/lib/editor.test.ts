import { describe, expect, it } from 'vitest';
import type { Dashboard } from './dashboard';
import { editorReducer, fieldsOf, initEditor, isAdminToken, mapServerError, validate, type Action, type EditorState } from './editor';

const doc = (): Dashboard => ({
  name: 'd',
  title: 'D',
  columns: 3,
  widgets: [
    { id: 'a', type: 'stat', topics: ['t.a'] },
    { id: 'b', type: 'stat', topics: ['t.b'] },
    { id: 'c', type: 'chart', topics: ['t.c'], w: 2, h: 2 },
    { id: 'd', type: 'gauge', topics: ['t.d'] },
  ],
});
const run = (s: EditorState, ...as: Action[]) => as.reduce(editorReducer, s);
const ids = (s: EditorState) => s.doc.widgets.map((w) => w.id).join(',');

describe('editor reducer', () => {
  it('adds widgets with fresh ids and selects them', () => {
    const s = run(initEditor({ name: 'x', title: '', widgets: [] }), { type: 'add', widgetType: 'stat' }, { type: 'add', widgetType: 'chart' });
    expect(ids(s)).toBe('w1,w2');
    expect(s.selected).toBe(1);
    expect(s.doc.widgets[1]).toMatchObject({ type: 'chart', w: 2, h: 2, topics: [] });
  });

  it('removes, keeping a selection in range', () => {
    const s = run(initEditor(doc()), { type: 'remove', index: 3 });
    expect(ids(s)).toBe('a,b,c');
    expect(s.selected).toBe(2);
    expect(run(s, { type: 'remove', index: 9 })).toBe(s);
  });

  it('duplicates after the original with a new id and a deep copy', () => {
    const s0 = run(initEditor(doc()), { type: 'option', index: 2, name: 'fields', value: ['p50'] });
    const s = run(s0, { type: 'duplicate', index: 2 }, { type: 'duplicate', index: 2 });
    expect(ids(s)).toBe('a,b,c,c-copy-2,c-copy,d');
    (s.doc.widgets[3].options!.fields as string[]).push('p99');
    expect(s.doc.widgets[2].options!.fields).toEqual(['p50']);
  });

  it('moves by drag (index to index) and by keyboard, a row being `columns` places', () => {
    const s = initEditor(doc());
    expect(ids(run(s, { type: 'move', from: 0, to: 2 }))).toBe('b,c,a,d');
    expect(ids(run(s, { type: 'moveBy', index: 1, dx: 1, dy: 0, cols: 3 }))).toBe('a,c,b,d');
    expect(ids(run(s, { type: 'moveBy', index: 0, dx: 0, dy: 1, cols: 3 }))).toBe('b,c,d,a');
    expect(run(s, { type: 'moveBy', index: 3, dx: 0, dy: -1, cols: 3 }).selected).toBe(0);
  });

  it('does nothing (and records no undo step) for a move past a grid edge', () => {
    const s = initEditor(doc());
    for (const a of [
      { type: 'moveBy', index: 0, dx: -1, dy: 0, cols: 3 },
      { type: 'moveBy', index: 3, dx: 1, dy: 0, cols: 3 },
      { type: 'moveBy', index: 1, dx: 0, dy: -1, cols: 3 },
      { type: 'moveBy', index: 2, dx: 0, dy: 1, cols: 3 },
      { type: 'move', from: 3, to: 99 },
    ] as Action[]) {
      const n = run(s, a);
      if (a.type === 'move') expect(ids(n)).toBe('a,b,c,d'); // clamped to the last place: where it is
      else expect(n).toBe(s);
      expect(n.past).toHaveLength(0);
    }
  });

  it('keeps sizes within 1..columns and 1..8', () => {
    const s = initEditor(doc());
    expect(run(s, { type: 'resize', index: 2, w: 7, h: 20 }).doc.widgets[2]).toMatchObject({ w: 3, h: 8 });
    expect(run(s, { type: 'resize', index: 2, w: 0, h: -3 }).doc.widgets[2]).toMatchObject({ w: 1, h: 1 });
    expect(run(s, { type: 'resizeBy', index: 0, dw: 1, dh: 1 }).doc.widgets[0]).toMatchObject({ w: 2, h: 2 });
    expect(run(s, { type: 'resizeBy', index: 0, dw: -1, dh: 0 })).toBe(s);
    expect(run(s, { type: 'resize', index: 2, w: 2.4, h: 2 })).toBe(s);
  });

  it('undoes and redoes every edit, and a new edit drops the redo steps', () => {
    const s0 = initEditor(doc());
    const s = run(s0, { type: 'add', widgetType: 'feed' }, { type: 'title', title: 'New' }, { type: 'moveBy', index: 0, dx: 1, dy: 0, cols: 3 });
    expect(s.past).toHaveLength(3);
    const u = run(s, { type: 'undo' }, { type: 'undo' }, { type: 'undo' });
    expect(u.doc).toEqual(s0.doc);
    expect(run(u, { type: 'undo' })).toBe(u);
    const r = run(u, { type: 'redo' }, { type: 'redo' }, { type: 'redo' });
    expect(r.doc).toEqual(s.doc);
    expect(run(r, { type: 'redo' })).toBe(r);
    const branched = run(u, { type: 'redo' }, { type: 'remove', index: 0 });
    expect(branched.future).toHaveLength(0);
  });

  it('coalesces typing in one field into one undo step', () => {
    let s = initEditor(doc());
    for (const t of ['N', 'Ne', 'New']) s = run(s, { type: 'title', title: t });
    s = run(s, { type: 'widget', index: 0, patch: { title: 'x' }, key: 'w0.title' }, { type: 'widget', index: 0, patch: { title: 'xy' }, key: 'w0.title' });
    expect(s.past).toHaveLength(2);
    expect(run(s, { type: 'undo' }).doc.widgets[0].title).toBeUndefined();
    expect(run(s, { type: 'undo' }, { type: 'undo' }).doc.title).toBe('D');
  });

  it('removes an option set to empty', () => {
    const s = run(initEditor(doc()), { type: 'option', index: 0, name: 'unit', value: 'ms' }, { type: 'option', index: 0, name: 'unit', value: '' });
    expect(s.doc.widgets[0].options).toBeUndefined();
  });
});

describe('validate', () => {
  it('accepts a good document', () => {
    expect(validate(doc())).toEqual({});
  });

  it('puts each problem on its field', () => {
    const d = doc();
    d.name = 'bad name';
    d.columns = 13;
    d.widgets[0].topics = [];
    d.widgets[1].id = 'a';
    d.widgets[2].options = { format: 'money', thresholds: [{ value: 1, color: 'not a colour' }], window: '5 min' };
    d.widgets[3].options = { min: 10, max: 5 };
    d.widgets.push({ id: 'e', type: 'pie', topics: ['a..b'], h: 9, colour: 'red' } as never);
    (d as unknown as Record<string, unknown>).colums = 3;
    expect(validate(d)).toEqual({
      dashboard: 'unknown field "colums" (use name, title, columns, widgets)',
      'widgets.4.unknown': 'unknown field "colour" (use id, type, title, topics, options, w, h)',
      name: 'use 1 to 64 characters of A-Z a-z 0-9 _ -',
      columns: 'columns is 13; use 1 to 12',
      'widgets.0.topics': 'give at least one topic pattern such as "shop.orders" or "host.*.cpu"',
      'widgets.1.id': 'id "a" is already used by widget 1',
      'widgets.2.options.format': 'is "money"; use one of number, currency, percent, bytes, duration',
      'widgets.2.options.thresholds': 'item 1: color is "not a colour"; use a colour name (red, amber, green, blue, …) or #rrggbb',
      'widgets.2.options.window': 'is "5 min"; use a duration such as 30s, 5m or 1h',
      'widgets.3.options.min': 'min (10) must be less than max (5)',
      'widgets.4.type': 'unknown type "pie" (use one of stat, chart, alerts, feed, table, gauge)',
      'widgets.4.topics': '"a..b" is not a valid topic pattern (segments of A-Z a-z 0-9 _ -, * for one, a final > for the rest)',
      'widgets.4.h': 'h is 9; use 1 to 8',
    });
  });
});

describe('mapServerError', () => {
  it.each([
    ['dashboard "x": widget 2 ("w2"): options.format: is "money"; use one of number, currency', 'widgets.1.options.format', 'is "money"; use one of number, currency'],
    ['dashboard "x": widget 1 ("w1"): topics is empty; give at least one topic pattern', 'widgets.0.topics', 'topics is empty; give at least one topic pattern'],
    ['dashboard "x": widget 3 ("c"): topics: invalid pattern "a..b"', 'widgets.2.topics', 'invalid pattern "a..b"'],
    ['dashboard "x": widget 1 ("w1"): unknown type "pie" (use one of stat)', 'widgets.0.type', 'unknown type "pie" (use one of stat)'],
    ['dashboard "x": widget 4 ("g"): options.min (10) must be less than options.max (5)', 'widgets.3.options.min', 'options.min (10) must be less than options.max (5)'],
    ['dashboard "x": widget 2: id "a" is already used by widget 1', 'widgets.1.id', 'id "a" is already used by widget 1'],
    ['dashboard "x": widget 1 ("w1"): h is 9; use 1 to 8', 'widgets.0.h', 'h is 9; use 1 to 8'],
    ['dashboard "x": widget 1 ("w1"): 21 topics; the limit is 20', 'widgets.0.topics', '21 topics; the limit is 20'],
    ['dashboard "x": columns is 13; use 1 to 12 (or leave it out for 4)', 'columns', 'columns is 13; use 1 to 12 (or leave it out for 4)'],
    ['dashboard "x": title is longer than 200 characters', 'title', 'title is longer than 200 characters'],
    ['dashboard "x": json: unknown field "widget"', 'dashboard', 'json: unknown field "widget"'],
    ['dashboard "x": unmarshal errors:\n  line 1: field colour not found in type dashboard.Widget', 'dashboard', 'unmarshal errors:\n  line 1: field colour not found in type dashboard.Widget'],
    ['dashboard name "a b" must be 1 to 64 characters of A-Z a-z 0-9 _ -', 'name', 'dashboard name "a b" must be 1 to 64 characters of A-Z a-z 0-9 _ -'],
  ])('%s', (msg, path, message) => {
    expect(mapServerError(msg)).toEqual({ path, message });
  });
});

describe('helpers', () => {
  const jwt = (payload: object) => `h.${btoa(JSON.stringify(payload)).replace(/=+$/, '')}.s`;
  it('reads the admin claim', () => {
    expect(isAdminToken(jwt({ sub: 'a', admin: true }))).toBe(true);
    expect(isAdminToken(jwt({ sub: 'v' }))).toBe(false);
    expect(isAdminToken('not-a-jwt')).toBe(false);
    expect(isAdminToken(null)).toBe(false);
  });
  it('lists the keys of recent data', () => {
    expect(fieldsOf([{ p50: 1, p99: 2 }, 3, { net: { rx: 1 } }, null])).toEqual(['net.rx', 'p50', 'p99']);
  });
});

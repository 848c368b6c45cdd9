import { describe, expect, it } from 'vitest';
import { dashboardNameFor, explorePlan, MAX_CHARTS, MAX_NAMED, planDashboard, widgetKindFor, windowFor } from './explore';

const NOW = 1_800_000_000_000;

describe('widgetKindFor', () => {
  it.each([
    ['point', 'chart'],
    ['stats', 'stats'],
    ['event', 'feed'],
    ['alert', 'alerts'],
    ['deploy', 'raw'],
    ['', 'raw'],
  ])('%s → %s', (type, kind) => expect(widgetKindFor(type)).toBe(kind));
});

describe('explorePlan', () => {
  it('a point topic gets a chart of its numeric fields', () => {
    const { widgets, hidden } = explorePlan(['shop.latency'], [{ topic: 'shop.latency', type: 'point', data: { p50: 1, p99: 4 }, ts: NOW - 1000 }], NOW);
    expect(widgets).toEqual([
      { id: 'chart:shop.latency', type: 'chart', title: 'shop.latency', topics: ['shop.latency'], options: { window: '5m' }, w: 2, h: 2 },
    ]);
    expect(hidden).toEqual([]);
  });

  it('a stats topic gets a card per numeric field, and a table for the rest', () => {
    const w = explorePlan(['inv'], [{ topic: 'inv', type: 'stats', data: { apples: 3, pears: 9, note: 'x' } }], NOW).widgets;
    expect(w.map((x) => [x.type, x.title, x.options])).toEqual([
      ['stat', 'apples', { field: 'apples' }],
      ['stat', 'pears', { field: 'pears' }],
      ['table', 'inv', undefined],
    ]);
    const only = explorePlan(['inv'], [{ topic: 'inv', type: 'stats', data: { a: 1 } }], NOW).widgets;
    expect(only.map((x) => x.type)).toEqual(['stat']);
  });

  it('events → one feed, alerts → one alerts list, other types → one raw feed listening for them', () => {
    const w = explorePlan(
      ['x.>'],
      [
        { topic: 'x.orders', type: 'event' },
        { topic: 'x.alerts.disk', type: 'alert' },
        { topic: 'x.alerts.cpu', type: 'alert' },
        { topic: 'x.deploys', type: 'deploy' },
        { topic: 'x.builds', type: 'build' },
      ],
      NOW,
    ).widgets;
    expect(w.map((x) => [x.type, x.topics])).toEqual([
      ['alerts', ['x.alerts.cpu', 'x.alerts.disk']],
      ['feed', ['x.orders']],
      ['raw', ['x.builds', 'x.deploys']],
    ]);
    expect(w[1].title).toBe('x.orders');
    expect(w[2].options).toEqual({ types: ['build', 'deploy'], limit: 100 });
  });

  it('orders charts, stat cards, alerts, events, raw; ids stay the same when a topic is added', () => {
    const topics = [
      { topic: 'b.ev', type: 'event' },
      { topic: 'a.cpu', type: 'point', ts: NOW },
      { topic: 'a.st', type: 'stats', data: { n: 1 } },
      { topic: 'c.al', type: 'alert' },
      { topic: 'd.x', type: 'custom' },
    ];
    const a = explorePlan(['>'], topics, NOW).widgets;
    expect(a.map((w) => w.type)).toEqual(['chart', 'stat', 'alerts', 'feed', 'raw']);
    const b = explorePlan(['>'], [...topics, { topic: 'a.mem', type: 'point', ts: NOW }], NOW).widgets;
    expect(b.map((w) => w.id)).toEqual(['chart:a.cpu', 'chart:a.mem', ...a.slice(1).map((w) => w.id)]);
  });

  it('many topics: lists read the patterns, charts stop at MAX_CHARTS and say what is hidden', () => {
    const evs = Array.from({ length: MAX_NAMED + 1 }, (_, i) => ({ topic: `e.${i}`, type: 'event' }));
    expect(explorePlan(['e.*'], evs, NOW).widgets[0].topics).toEqual(['e.*']);
    const pts = Array.from({ length: MAX_CHARTS + 3 }, (_, i) => ({ topic: `p.${String(i).padStart(2, '0')}`, type: 'point', ts: NOW }));
    const plan = explorePlan(['p.*'], pts, NOW);
    expect(plan.widgets).toHaveLength(MAX_CHARTS);
    expect(plan.hidden).toEqual(['p.12', 'p.13', 'p.14']);
  });

  it('a quiet topic gets a window that still shows its last value', () => {
    expect(windowFor(1000)).toBe('5m');
    expect(windowFor(30 * 60_000)).toBe('1h');
    expect(windowFor(5 * 3_600_000)).toBe('1d');
    expect(windowFor(3 * 86_400_000)).toBe('7d');
    expect(windowFor(NaN)).toBe('7d');
    const w = explorePlan(['q'], [{ topic: 'q', type: 'point', ts: NOW - 2 * 3_600_000 }], NOW).widgets[0];
    expect(w.options).toEqual({ window: '1d' });
  });
});

describe('saving as a dashboard', () => {
  it('names it after the patterns', () => {
    expect(dashboardNameFor(['shop.>'])).toBe('shop');
    expect(dashboardNameFor(['host.*.cpu', 'x'])).toBe('host-cpu-x');
    expect(dashboardNameFor(['>'])).toBe('explore');
  });
  it('writes widgets the server accepts: no ids, raw becomes a feed of those types', () => {
    const plan = explorePlan(['x.>'], [{ topic: 'x.a', type: 'point', ts: NOW }, { topic: 'x.d', type: 'deploy' }], NOW);
    const d = planDashboard('x', 'x.>', plan);
    expect(d).toMatchObject({ name: 'x', title: 'x.>', columns: 4 });
    expect(d.widgets.map((w) => [w.id, w.type])).toEqual([
      [undefined, 'chart'],
      [undefined, 'feed'],
    ]);
    expect(d.widgets[1].options).toEqual({ types: ['deploy'], limit: 100 });
  });
});

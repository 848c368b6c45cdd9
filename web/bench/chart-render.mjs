// Benchmark: how long a chart takes to render 10,000 points in headless
// Chromium. Not part of `npm run e2e`. Run from web/ after `make build`:
//
//   LIVEDASH_BIN=$PWD/../bin/livedash node bench/chart-render.mjs
//
// Two numbers:
//  1. uPlot alone: new uPlot(...) with 10,000 points on a 1000×300 canvas,
//     and a setData() redraw of them (what a live update costs), median of runs.
//  2. The real app end to end: 10,000 points published to the real binary,
//     a dashboard with one chart opened; time from navigation start until the
//     chart holds all 10,000 points (history fetch, JSON parse, window, draw).
import { createRequire } from 'node:module';
import { launchBrowser, newPage, Server } from '../e2e/lib/harness.mjs';

const require = createRequire(import.meta.url);
const N = 10_000;
const RUNS = 15;

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const fmt = (ms) => `${ms.toFixed(1)} ms`;

async function uplotAlone(browser) {
  const page = await newPage(browser, { viewport: { width: 1200, height: 500 } });
  await page.setContent('<!doctype html><html><body><div id="c"></div></body></html>');
  await page.addStyleTag({ path: require.resolve('uplot/dist/uPlot.min.css') });
  await page.addScriptTag({ path: require.resolve('uplot/dist/uPlot.iife.min.js') });
  const r = await page.evaluate(
    async ({ n, runs }) => {
      const now = Date.now() / 1000;
      const xs = new Float64Array(n);
      const ys = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        xs[i] = now - (n - i) * 0.03;
        ys[i] = 50 + 20 * Math.sin(i / 300) + Math.random() * 5;
      }
      const data = [Array.from(xs), Array.from(ys)];
      // uPlot draws in a microtask after new uPlot()/setData(): time until its draw hook ran.
      let drawn = null;
      const opts = {
        width: 1000,
        height: 300,
        scales: { x: { time: true } },
        series: [{}, { stroke: '#2563eb', width: 1.75, fill: 'rgba(37,99,235,.14)' }],
        hooks: { draw: [() => drawn && drawn(performance.now())] },
      };
      const nextDraw = () => new Promise((r) => (drawn = r));
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const create = [];
      const update = [];
      for (let k = 0; k < runs; k++) {
        const el = document.getElementById('c');
        el.textContent = '';
        await frame();
        let p = nextDraw();
        const t0 = performance.now();
        const u = new uPlot(opts, data, el);
        const t1 = await p;
        const shifted = [data[0].map((x) => x + 1), data[1]];
        p = nextDraw();
        const t2 = performance.now();
        u.setData(shifted);
        const t3 = await p;
        create.push(t1 - t0);
        update.push(t3 - t2);
        u.destroy();
      }
      return { create, update };
    },
    { n: N, runs: RUNS },
  );
  await page.context().close();
  return { create: median(r.create), update: median(r.update) };
}

async function realApp(browser) {
  const server = await Server.create({ args: ['--host-metrics', 'off'] });
  try {
    const admin = await server.token();
    await server.api('PUT', '/api/v1/dashboards/bench', {
      token: admin,
      body: { name: 'bench', title: 'Bench', columns: 2, widgets: [{ id: 'c', type: 'chart', title: '10k points', topics: ['bench.x'], w: 2, h: 3, options: { window: '5m' } }] },
    });
    const now = Date.now();
    for (let b = 0; b < N / 1000; b++) {
      const batch = [];
      for (let i = 0; i < 1000; i++) {
        const k = b * 1000 + i;
        batch.push({ topic: 'bench.x', type: 'point', ts: now - 270_000 + k * 25, data: 50 + 20 * Math.sin(k / 300) });
      }
      await server.publish(admin, batch);
    }
    const times = [];
    for (let k = 0; k < 5; k++) {
      const page = await newPage(browser, { viewport: { width: 1440, height: 900 } });
      await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' }); // store the token
      await page.goto(`${server.url}/d/bench`, { waitUntil: 'commit' });
      await page.locator(`.chart-box[data-points="${N}"]`).waitFor({ state: 'attached', timeout: 20_000 });
      // ms since navigation start, and the part spent in the history request.
      const t = await page.evaluate(() => ({
        total: performance.now(),
        history: Math.max(0, ...performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/history')).map((e) => e.duration)),
      }));
      times.push(t);
      if (page.errors.length) throw new Error(page.errors.join('\n'));
      await page.context().close();
    }
    return { total: median(times.map((t) => t.total)), history: median(times.map((t) => t.history)) };
  } finally {
    await server.destroy();
  }
}

const browser = await launchBrowser();
try {
  const a = await uplotAlone(browser);
  const e2e = await realApp(browser);
  const chromium = browser.version();
  console.log(`Chromium ${chromium}, ${N} points`);
  console.log(`uPlot create + first draw (median of ${RUNS}): ${fmt(a.create)}`);
  console.log(`uPlot setData redraw    (median of ${RUNS}): ${fmt(a.update)}`);
  console.log(`real app: navigation to chart holding ${N} points (median of 5): ${fmt(e2e.total)}, of which GET /history: ${fmt(e2e.history)}`);
} finally {
  await browser.close();
}

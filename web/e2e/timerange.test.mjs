// Time ranges: presets and the range in the URL; drag to zoom a chart into
// history (server buckets, never more points than pixels); back to live
// with no gap and no duplicate, checked on the values the chart holds.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, putTestDashboard, startServer, stopAll, waitFor } from './lib/harness.mjs';

let server, browser, admin, page;
const CHART = '.chart-box';

before(async () => {
  ({ server, admin } = await startServer());
  await putTestDashboard(server, admin, {
    name: 'range',
    title: 'Range checks',
    columns: 2,
    widgets: [{ id: 'c', type: 'chart', title: 'Values', topics: ['r.v'], w: 2, h: 2, options: { window: '5m' } }],
  });
  // 40 points of history over the last 4 minutes, values 1…40.
  const now = Date.now();
  await server.publish(admin, Array.from({ length: 40 }, (_, i) => ({ topic: 'r.v', type: 'point', ts: now - (40 - i) * 6000, data: i + 1 })));
  browser = await launchBrowser();
  page = await newPage(browser, { viewport: { width: 1200, height: 800 } });
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

const points = async () => Number((await page.locator(CHART).getAttribute('data-points')) ?? '0');

test('zoom into history and back to live: no gap, no duplicate', { timeout: 40_000 }, async () => {
  await page.goto(`${server.url}/d/range?token=${admin}`, { waitUntil: 'load' });
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await waitFor(async () => (await points()) === 40, { timeout: 5000, what: 'the 40 points of history' });

  // Drag across the middle of the plot.
  const box = await page.locator(`${CHART} .u-over`).boundingBox();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
  await page.locator('.range-picker button', { hasText: 'Back to live' }).waitFor({ timeout: 5000 });
  const url = new URL(page.url());
  const from = Number(url.searchParams.get('from'));
  const to = Number(url.searchParams.get('to'));
  assert.ok(from > 0 && to > from, `from/to in the URL: ${url.search}`);
  await waitFor(async () => {
    const n = await points();
    return n > 0 && n < 40;
  }, { timeout: 5000, what: 'the zoomed range, fewer points than the whole window' });
  const width = box.width;
  assert.ok((await points()) <= width, 'never more points than pixels');

  // Messages published while zoomed (at distinct times: the chart holds one
  // value per series and millisecond) are not drawn into the history view…
  const zoomed = await points();
  const t = Date.now();
  await server.publish(admin, Array.from({ length: 5 }, (_, i) => ({ topic: 'r.v', type: 'point', ts: t + i * 10, data: 100 + i }))); // one x each
  await page.waitForTimeout(300);
  assert.equal(await points(), zoomed, 'a fixed range does not move');

  // …and are there, once each, back in live.
  await page.locator('.range-picker button', { hasText: 'Back to live' }).click();
  let n = 0;
  await waitFor(async () => (n = await points()) === 45, { timeout: 5000, what: '40 + 5 points after back to live' }).catch((e) => {
    throw new Error(`${e.message}: the chart holds ${n}`);
  });
  assert.equal(new URL(page.url()).searchParams.get('from'), null, 'the URL is live again');
  await server.publish(admin, { topic: 'r.v', type: 'point', data: 200 });
  await waitFor(async () => (await points()) === 46 && (await page.locator(CHART).getAttribute('data-last')) === '200', { timeout: 3000, what: 'the next live point' });
  await page.waitForTimeout(300);
  assert.equal(await points(), 46, 'no duplicate arrives later');
});

test('a shared link opens the same fixed range; presets set a live span', { timeout: 30_000 }, async () => {
  const now = Date.now();
  const from = now - 90_000;
  const to = now - 30_000; // points 26…35 (one every 6 s)
  await page.goto(`${server.url}/d/range?token=${admin}&from=${from}&to=${to}`, { waitUntil: 'load' });
  await page.locator('.range-picker .range-label').waitFor({ timeout: 5000 });
  await waitFor(async () => (await points()) > 0, { timeout: 5000, what: 'buckets of the linked range' });
  await page.locator('.range-picker button', { hasText: 'Back to live' }).click();
  await page.locator('.segmented button', { hasText: '1h' }).click();
  assert.equal(new URL(page.url()).searchParams.get('range'), '1h');
  await waitFor(async () => (await points()) > 0, { timeout: 5000, what: 'the last hour' });
  assert.ok((await points()) <= (await page.locator(CHART).boundingBox()).width, 'the last hour in buckets, at most one per pixel');
});

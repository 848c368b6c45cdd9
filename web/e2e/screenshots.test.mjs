// Screenshots of every page a person sees, saved under
// test-artifacts/screenshots/ at the repo root, with checks that each page
// rendered (no console errors, no failed widget, no empty grid).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Server, launchBrowser, newPage, putTestDashboard, screenshot, sleep, stopAll } from './lib/harness.mjs';

let server, browser, admin, started;

before(async () => {
  started = Date.now();
  server = await Server.create({ args: ['--demo', '--host-metrics', '1s'] });
  admin = await server.token();
  await putTestDashboard(server, admin);
  // Some history for the test dashboard: a temperature curve over the last
  // four minutes, a few events and alerts of each severity.
  const now = Date.now();
  const pts = [];
  for (let i = 48; i >= 0; i--) pts.push({ topic: 'e2e.temp', type: 'point', ts: now - i * 5000, data: Math.round((21 + 2.5 * Math.sin(i / 7) + (i % 3) * 0.2) * 10) / 10 });
  pts.push({ topic: 'e2e.requests', type: 'point', ts: now - 60_000, data: 118_200 }, { topic: 'e2e.requests', type: 'point', data: 124_532 });
  await server.publish(admin, pts);
  await server.publish(admin, [
    { topic: 'e2e.alerts.backup', type: 'alert', ts: now - 600_000, data: { severity: 'info', message: 'Nightly backup finished' } },
    { topic: 'e2e.alerts.cert', type: 'alert', ts: now - 300_000, data: { severity: 'warning', message: 'TLS certificate expires in 9 days' } },
    { topic: 'e2e.alerts.disk', type: 'alert', ts: now - 120_000, data: { severity: 'critical', message: 'disk full on /var' } },
    { topic: 'e2e.alerts.queue', type: 'alert', ts: now - 240_000, data: { severity: 'warning', message: 'queue depth above 1,000', state: 'acknowledged' } },
    { topic: 'e2e.deploys', type: 'deploy', ts: now - 90_000, data: { service: 'api', version: 'v2.14.0', by: 'ci' } },
    { topic: 'e2e.deploys', type: 'deploy', ts: now - 30_000, data: { service: 'web', version: 'v3.2.1', by: 'ana' } },
    ...Array.from({ length: 8 }, (_, i) => ({ topic: 'e2e.events', type: 'event', ts: now - (8 - i) * 20_000, data: { n: `deploy #${140 + i}`, note: ['api', 'web', 'worker'][i % 3] } })),
  ]);
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

async function settle(page) {
  // Widgets load, charts draw on the next frames.
  await page.locator('.loading-page').waitFor({ state: 'detached', timeout: 5000 });
  await page.waitForTimeout(700);
}

async function checkDashboard(page) {
  assert.equal(await page.locator('.widget-error').count(), 0, 'no widget failed');
  assert.ok((await page.locator('section.card').count()) > 0, 'has widgets');
  assert.deepEqual(page.errors, []);
}

test('screenshots: index, explore, host, shop (light, dark, phone), test dashboard, embeds, sign-in', { timeout: 90_000 }, async () => {
  // Let the demo and host metrics publish for ~5 s.
  await sleep(Math.max(0, 5500 - (Date.now() - started)));

  const page = await newPage(browser);
  await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
  await page.locator('.index-card').first().waitFor({ timeout: 5000 });
  // The live topic list: the demo's, the host's, the test's and the server's own.
  await page.locator('.topic-row[data-topic="shop.revenue"]').waitFor({ timeout: 5000 });
  await page.locator('.topic-row[data-topic^="sys."]').first().waitFor({ timeout: 5000 });
  await page.waitForTimeout(600);
  await screenshot(page, 'index.png');

  // Explore: the demo's shop topics, each with the widget for its type.
  await page.goto(`${server.url}/explore?topic=shop.>`, { waitUntil: 'load' });
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await page.locator('.cell[data-widget="chart"] .chart-box[data-points]:not([data-points="0"])').first().waitFor({ state: 'attached', timeout: 5000 });
  await settle(page);
  await checkDashboard(page);
  for (const type of ['chart', 'stat', 'feed']) assert.ok((await page.locator(`.cell[data-widget="${type}"]`).count()) > 0, `explore shop.> has a ${type}`);
  await screenshot(page, 'explore-shop.png');

  for (const name of ['host', 'shop', 'e2e']) {
    await page.goto(`${server.url}/d/${name}`, { waitUntil: 'load' });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    await settle(page);
    await checkDashboard(page);
    await screenshot(page, `${name}.png`);
  }
  // The host dashboard got its metrics: the CPU gauge and chart have values.
  await page.goto(`${server.url}/d/host`, { waitUntil: 'load' });
  await page.locator('.chart-box[data-points]:not([data-points="0"])').first().waitFor({ state: 'attached', timeout: 5000 });

  const dark = await newPage(browser, { colorScheme: 'dark' });
  await dark.goto(`${server.url}/d/shop?token=${admin}`, { waitUntil: 'load' });
  await dark.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await settle(dark);
  assert.equal(await dark.evaluate(() => document.documentElement.dataset.theme), 'dark');
  await checkDashboard(dark);
  await screenshot(dark, 'shop-dark.png');
  await dark.goto(`${server.url}/d/host`, { waitUntil: 'load' });
  await settle(dark);
  await screenshot(dark, 'host-dark.png');
  // Kiosk (wall screen), dark and light, at a TV's size.
  for (const [pg, name] of [[dark, 'kiosk-shop-dark.png'], [page, 'kiosk-shop.png']]) {
    await pg.setViewportSize({ width: 1920, height: 1080 });
    await pg.goto(`${server.url}/d/shop?kiosk`, { waitUntil: 'load' });
    await pg.locator('.kiosk-bar .badge-live').waitFor({ timeout: 5000 });
    await settle(pg);
    await checkDashboard(pg);
    await screenshot(pg, name);
    await pg.setViewportSize({ width: 1440, height: 900 });
  }
  await dark.goto(`${server.url}/`, { waitUntil: 'load' });
  await dark.locator('.topic-row[data-topic="shop.revenue"]').waitFor({ timeout: 5000 });
  await dark.waitForTimeout(600);
  assert.deepEqual(dark.errors, []);
  await screenshot(dark, 'index-dark.png');
  // Every kind of widget explore picks: charts, alerts, the event feed, raw JSON.
  await dark.goto(`${server.url}/explore?topic=e2e.>`, { waitUntil: 'load' });
  await dark.locator('.cell[data-widget="chart"] .chart-box[data-points]:not([data-points="0"])').first().waitFor({ state: 'attached', timeout: 5000 });
  await dark.locator('.cell[data-widget="raw"] .raw-json').first().waitFor({ timeout: 5000 });
  await settle(dark);
  await checkDashboard(dark);
  for (const type of ['chart', 'alerts', 'feed', 'raw']) assert.ok((await dark.locator(`.cell[data-widget="${type}"]`).count()) > 0, `explore e2e.> has ${type}`);
  await screenshot(dark, 'explore-e2e-dark.png');

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await phone.goto(`${server.url}/d/shop?token=${admin}`, { waitUntil: 'load' });
  await settle(phone);
  await checkDashboard(phone);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling on a phone (${overflow}px)`);
  await screenshot(phone, 'shop-phone.png');
  await phone.goto(`${server.url}/`, { waitUntil: 'load' });
  await phone.locator('.topic-row[data-topic="shop.revenue"]').waitFor({ timeout: 5000 });
  await phone.waitForTimeout(300);
  const overflowIndex = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflowIndex <= 0, `no horizontal scrolling of the index on a phone (${overflowIndex}px)`);
  await screenshot(phone, 'index-phone.png');

  const embed = await newPage(browser, { viewport: { width: 1200, height: 700 } });
  await embed.goto(`${server.url}/embed/shop?token=${admin}`, { waitUntil: 'load' });
  await settle(embed);
  await checkDashboard(embed);
  await screenshot(embed, 'embed-shop.png');
  await embed.setViewportSize({ width: 600, height: 320 });
  await embed.goto(`${server.url}/embed/e2e/temp-chart?theme=light`, { waitUntil: 'load' });
  await settle(embed);
  await checkDashboard(embed);
  await screenshot(embed, 'embed-widget.png');
  await embed.goto(`${server.url}/embed/shop/alerts?theme=dark`, { waitUntil: 'load' });
  await settle(embed);
  await screenshot(embed, 'embed-alerts-dark.png');

  const anon = await newPage(browser, { ignore: [/status of 401/] });
  await anon.goto(`${server.url}/d/shop`, { waitUntil: 'load' });
  await anon.locator('form.signin').waitFor({ timeout: 5000 });
  await anon.waitForTimeout(200);
  assert.deepEqual(anon.errors, []);
  await screenshot(anon, 'signin.png');

  assert.deepEqual(page.errors, []);
});

// Live data on a test dashboard: a point published over HTTP reaches a stat
// card and a chart within a second; an alert shows with its severity; the
// embed routes render without the header.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, putTestDashboard, startServer, stopAll } from './lib/harness.mjs';

let server, browser, admin, page;

before(async () => {
  ({ server, admin } = await startServer());
  await putTestDashboard(server, admin);
  browser = await launchBrowser();
  page = await newPage(browser);
  await page.goto(`${server.url}/d/e2e?token=${admin}`, { waitUntil: 'load' });
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

const card = (title) => page.locator('section.card', { has: page.locator('.card-title', { hasText: title }) });

test('a published point reaches the stat card and the chart within a second', { timeout: 20_000 }, async () => {
  const stat = card('Temperature').locator('.stat-value');
  assert.equal((await stat.textContent()).trim(), '—', 'stat empty before any data');
  const chartBox = card('Temperature over time').locator('.chart-box');
  assert.equal((await chartBox.getAttribute('data-points')) ?? '0', '0', 'chart empty before any data');

  await server.publish(admin, { topic: 'e2e.temp', type: 'point', data: 21.5 });
  await stat.filter({ hasText: '21.5' }).waitFor({ timeout: 1000 });
  await page.locator('.chart-box[data-points="1"][data-last="21.5"]').waitFor({ state: 'attached', timeout: 1000 });

  await server.api('POST', '/api/v1/topics/e2e.temp?type=point', { token: admin, body: '23.25', raw: true });
  await stat.filter({ hasText: '23.3' }).waitFor({ timeout: 1000 });
  await page.locator('.chart-box[data-points="2"][data-last="23.25"]').waitFor({ state: 'attached', timeout: 1000 });
  // The legend shows the newest value, formatted with the widget's unit.
  const legend = card('Temperature over time').locator('.u-legend .u-series').nth(1).locator('.u-value');
  await legend.filter({ hasText: '23.3' }).waitFor({ timeout: 1000 });
  assert.match(await legend.textContent(), /23\.3\s*°C/);
  // The canvas got sized and drawn.
  const canvas = await card('Temperature over time').locator('canvas').boundingBox();
  assert.ok(canvas && canvas.width > 200 && canvas.height > 100, `canvas size ${JSON.stringify(canvas)}`);
  // The trend arrow compares with the previous value.
  assert.match(await card('Temperature').locator('.trend').textContent(), /▲/);
  assert.deepEqual(page.errors, []);
});

test('a critical alert appears with the critical styling', { timeout: 20_000 }, async () => {
  const alerts = card('Alerts');
  await alerts.locator('.pill-ok', { hasText: 'All clear' }).waitFor({ timeout: 2000 });
  await server.publish(admin, { topic: 'e2e.alerts.disk', type: 'alert', data: { severity: 'critical', message: 'disk full' } });
  const item = alerts.locator('li.alert', { hasText: 'disk full' });
  await item.waitFor({ timeout: 1000 });
  assert.match(await item.getAttribute('class'), /\bsev-critical\b/);
  assert.equal((await item.locator('.sev-tag').textContent()).trim().toLowerCase(), 'critical');
  // Red: the bar and the tag use the theme's --red.
  const colors = await item.evaluate((li) => {
    const red = getComputedStyle(document.documentElement).getPropertyValue('--red').trim();
    const probe = document.createElement('span');
    probe.style.color = red;
    document.body.appendChild(probe);
    const want = getComputedStyle(probe).color;
    probe.remove();
    return { want, bar: getComputedStyle(li.querySelector('.sev-bar')).backgroundColor, tag: getComputedStyle(li.querySelector('.sev-tag')).color };
  });
  assert.equal(colors.bar, colors.want, 'severity bar is red');
  assert.equal(colors.tag, colors.want, 'severity tag is red');
  await alerts.locator('.pill-bad', { hasText: '1 firing' }).waitFor({ timeout: 1000 });

  // A resolved message for the same topic: the header says all clear again.
  await server.publish(admin, { topic: 'e2e.alerts.disk', type: 'alert', data: { severity: 'info', message: 'disk ok', state: 'resolved' } });
  await alerts.locator('.pill-ok', { hasText: 'All clear' }).waitFor({ timeout: 1000 });
  assert.equal(await alerts.locator('li.alert').count(), 2);
  assert.deepEqual(page.errors, []);
});

test('embeds render without the header chrome', { timeout: 20_000 }, async () => {
  const p = await newPage(browser);
  try {
    await p.goto(`${server.url}/embed/shop?token=${admin}`, { waitUntil: 'load' });
    await p.locator('section.card').first().waitFor({ timeout: 5000 });
    assert.equal(await p.locator('.topbar').count(), 0, 'no header on /embed/shop');
    assert.equal(await p.locator('.brand').count(), 0, 'no brand on /embed/shop');
    assert.ok((await p.locator('section.card').count()) >= 10, 'all shop widgets');
    assert.equal(new URL(p.url()).searchParams.get('token'), null);

    await p.goto(`${server.url}/embed/e2e/temp-chart`, { waitUntil: 'load' });
    await p.locator('section.card').first().waitFor({ timeout: 5000 });
    assert.equal(await p.locator('.topbar').count(), 0, 'no header on a widget embed');
    assert.equal(await p.locator('section.card').count(), 1, 'exactly one widget');
    assert.equal((await p.locator('.card-title').textContent()).trim(), 'Temperature over time');
    // Fills the frame and shows the data published earlier (from history).
    await p.locator('.chart-box[data-points="2"]').waitFor({ state: 'attached', timeout: 2000 });
    const box = await p.locator('section.card').boundingBox();
    assert.ok(box.width >= 1400 && box.height >= 850, `widget fills the frame: ${JSON.stringify(box)}`);

    await p.goto(`${server.url}/embed/e2e/nope`, { waitUntil: 'load' });
    await p.locator('h2', { hasText: 'No widget “nope”' }).waitFor({ timeout: 5000 });
    assert.deepEqual(p.errors, []);
  } finally {
    await p.context().close();
  }
});

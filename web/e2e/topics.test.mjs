// The live topic list on / and /explore: a topic appears on / within a
// second of its first message, with its count and last value; a viewer sees
// only what its token may read; explore picks the widget by message type,
// shows the backfill, then live values.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, startServer, stopAll, waitFor } from './lib/harness.mjs';

let server, browser, admin;

before(async () => {
  ({ server, admin } = await startServer());
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

const row = (page, topic) => page.locator(`.topic-row[data-topic="${topic}"]`);
const text = async (loc) => (await loc.textContent()).trim();

/** POST /api/v1/topics/{topic} with the data as the body, like the README's curl line. */
const publishData = (topic, body, type) =>
  server.api('POST', `/api/v1/topics/${topic}${type ? `?type=${type}` : ''}`, { token: admin, body, raw: true });

test('an empty server says how to publish; a new topic appears within a second with its count and value', { timeout: 30_000 }, async () => {
  const page = await newPage(browser);
  try {
    await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    const hint = page.locator('.first-point');
    await hint.waitFor({ timeout: 5000 });
    assert.equal(
      await text(hint.locator('pre code')),
      `curl -d 42 -H "Authorization: Bearer $LIVEDASH_TOKEN" ${server.url}/api/v1/topics/orders.count`,
    );
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });

    const t0 = Date.now();
    await publishData('orders.count', '42');
    await row(page, 'orders.count').waitFor({ timeout: 1000 });
    const took = Date.now() - t0;
    assert.ok(took < 1000, `appeared after ${took} ms`);
    const r = row(page, 'orders.count');
    assert.equal(await r.getAttribute('data-count'), '1');
    assert.equal(await text(r.locator('.topic-count')), '1');
    assert.equal(await text(r.locator('.topic-num')), '42');
    assert.equal(await text(r.locator('.type-chip')), 'point');
    assert.match(await text(r.locator('.topic-ago')), /just now|\ds ago/);
    assert.equal(await page.locator('.first-point').count(), 0, 'the hint is gone');

    await publishData('orders.count', '43.5');
    await r.locator('.topic-num', { hasText: '43.5' }).waitFor({ timeout: 1000 });
    assert.equal(await text(r.locator('.topic-count')), '2');
    // Two values: the sparkline has a line.
    await r.locator('.topic-spark svg path').first().waitFor({ state: 'attached', timeout: 1000 });

    // Another type of message, and the row links to explore.
    await server.publish(admin, { topic: 'shop.orders', type: 'event', data: { id: 17, total: 42.5 } });
    const ev = row(page, 'shop.orders');
    await ev.waitFor({ timeout: 1000 });
    assert.equal(await text(ev.locator('.type-chip')), 'event');
    assert.equal(await ev.locator('.topic-text').getAttribute('title'), 'id 17 · total 42.5');
    assert.deepEqual(await ev.locator('.topic-text .k').allTextContents(), ['id', 'total']);
    assert.equal(await ev.getAttribute('href'), '/explore?topic=shop.orders');
    // Most recent first.
    assert.equal(await page.locator('.topic-row[data-topic]').first().getAttribute('data-topic'), 'shop.orders');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

test('a topic whose first message has a type the page never saw appears within a second too', { timeout: 20_000 }, async () => {
  const page = await newPage(browser);
  try {
    await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    await page.locator('.first-point, .topic-row[data-topic]').first().waitFor({ timeout: 5000 });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    await server.publish(admin, { topic: 'ci.deploys', type: 'deploy', data: { version: 'v9' } });
    await row(page, 'ci.deploys').waitFor({ timeout: 1000 });
    assert.equal(await text(row(page, 'ci.deploys').locator('.type-chip')), 'deploy');
    await server.publish(admin, { topic: 'ci.deploys', type: 'deploy', data: { version: 'v10' } });
    await row(page, 'ci.deploys').locator('.topic-text', { hasText: 'v10' }).waitFor({ timeout: 1000 });
    assert.equal(await text(row(page, 'ci.deploys').locator('.topic-count')), '2');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

test('the filter takes text and NATS patterns; sorting by name', { timeout: 20_000 }, async () => {
  // Each test publishes what it needs, so that one failure does not cascade.
  await server.publish(admin, [
    { topic: 'shop.orders', type: 'event', data: { id: 18, total: 9.5 } },
    { topic: 'shop.eu.revenue', data: 5 },
    { topic: 'host.a.cpu', data: 12 },
  ]);
  const page = await newPage(browser);
  try {
    await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    await row(page, 'host.a.cpu').waitFor({ timeout: 5000 });
    const names = () => page.locator('.topic-row[data-topic]').evaluateAll((els) => els.map((e) => e.dataset.topic));
    const filter = page.getByLabel('Filter topics');
    await filter.fill('shop.*');
    await waitFor(async () => JSON.stringify(await names()) === '["shop.orders"]', { timeout: 2000, what: 'shop.* filter' });
    await filter.fill('shop.>');
    await page.getByRole('button', { name: 'Name' }).click();
    await waitFor(async () => JSON.stringify(await names()) === '["shop.eu.revenue","shop.orders"]', { timeout: 2000, what: 'shop.> by name' });
    assert.match(await text(page.locator('.filter-note')), /^2 of \d+ topics match the pattern/);
    // The filter is in the address, to share; a reload keeps it.
    assert.equal(new URL(page.url()).searchParams.get('filter'), 'shop.>');
    await page.reload({ waitUntil: 'load' });
    await waitFor(async () => JSON.stringify(await names()) === '["shop.eu.revenue","shop.orders"]', { timeout: 5000, what: 'filter from the URL' });
    assert.equal(await filter.inputValue(), 'shop.>');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Filter topics');
    await filter.fill('CPU');
    await waitFor(async () => JSON.stringify(await names()) === '["host.a.cpu"]', { timeout: 2000, what: 'substring filter' });
    // A topic published while filtered shows when it matches.
    await server.publish(admin, { topic: 'host.b.cpu', data: 3 });
    await waitFor(async () => JSON.stringify(await names()) === '["host.a.cpu","host.b.cpu"]', { timeout: 1000, what: 'new matching topic' });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

test('a viewer sees the topics its token may read, live; an admin also sees sys. topics', { timeout: 20_000 }, async () => {
  await server.publish(admin, [{ topic: 'shop.orders', type: 'event', data: { id: 19 } }, { topic: 'orders.count', data: 1 }]);
  const viewer = await server.token(['--sub', 'viewer', '--subscribe', 'shop.>']);
  const page = await newPage(browser);
  try {
    await page.goto(`${server.url}/?token=${viewer}`, { waitUntil: 'load' });
    await row(page, 'shop.orders').waitFor({ timeout: 5000 });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    assert.equal(await row(page, 'orders.count').count(), 0, 'no topic outside the grant');
    await server.publish(admin, [{ topic: 'shop.new', data: 7 }, { topic: 'other.new', data: 8 }]);
    await row(page, 'shop.new').waitFor({ timeout: 1000 });
    assert.equal(await text(row(page, 'shop.new').locator('.topic-num')), '7');
    await page.waitForTimeout(300);
    assert.equal(await row(page, 'other.new').count(), 0);
    assert.equal(await page.locator('.topic-row[data-topic^="sys."]').count(), 0);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
  const a = await newPage(browser);
  try {
    await a.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    // The server reports connections on sys. topics: the admin's own page opens one.
    await a.locator('.topic-row[data-topic^="sys."]').first().waitFor({ timeout: 5000 });
    assert.deepEqual(a.errors, []);
  } finally {
    await a.context().close();
  }
});

test('explore picks the widget by type: backfill, then live', { timeout: 40_000 }, async () => {
  const now = Date.now();
  await server.publish(admin, [
    { topic: 'ex.temp', data: 20.5, ts: now - 20_000 },
    { topic: 'ex.temp', data: 21.25, ts: now - 10_000 },
    { topic: 'ex.orders', type: 'event', data: { customer: 'ann', total: 12 } },
    { topic: 'ex.alerts.disk', type: 'alert', data: { severity: 'warning', message: 'disk at 91%' } },
    { topic: 'ex.inv', type: 'stats', data: { apples: 31, pears: 7 } },
    { topic: 'ex.deploys', type: 'deploy', data: { version: 'v1.2.3' } },
  ]);
  const page = await newPage(browser);
  const cell = (type) => page.locator(`.cell[data-widget="${type}"]`);
  try {
    // Point → a chart with both backfilled values, then the live one.
    await page.goto(`${server.url}/explore?topic=ex.temp&token=${admin}`, { waitUntil: 'load' });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    const chart = cell('chart').locator('.chart-box');
    await page.locator('.cell[data-widget="chart"] .chart-box[data-points="2"][data-last="21.25"]').waitFor({ state: 'attached', timeout: 3000 });
    assert.equal(await page.locator('.cell').count(), 1);
    assert.equal(await text(cell('chart').locator('.card-title')), 'ex.temp');
    await publishData('ex.temp', '22.75');
    await page.locator('.cell[data-widget="chart"] .chart-box[data-points="3"][data-last="22.75"]').waitFor({ state: 'attached', timeout: 1000 });
    assert.ok(await chart.count());

    // Event → a feed.
    await page.goto(`${server.url}/explore?topic=ex.orders`, { waitUntil: 'load' });
    const feed = cell('feed');
    await feed.locator('.feed-item', { hasText: 'ann' }).waitFor({ timeout: 3000 });
    await server.publish(admin, { topic: 'ex.orders', type: 'event', data: { customer: 'bob', total: 30 } });
    await feed.locator('.feed-item', { hasText: 'bob' }).waitFor({ timeout: 1000 });
    assert.equal(await feed.locator('.feed-item').count(), 2);
    assert.match(await text(feed.locator('.feed-item').first()), /^bob/);

    // Alert → the alerts list.
    await page.goto(`${server.url}/explore?topic=ex.alerts.>`, { waitUntil: 'load' });
    const alerts = cell('alerts');
    await alerts.locator('li.alert.sev-warning', { hasText: 'disk at 91%' }).waitFor({ timeout: 3000 });
    await server.publish(admin, { topic: 'ex.alerts.cpu', type: 'alert', data: { severity: 'critical', message: 'cpu on fire' } });
    await alerts.locator('li.alert.sev-critical', { hasText: 'cpu on fire' }).waitFor({ timeout: 1000 });
    await alerts.locator('.pill-bad', { hasText: '2 firing' }).waitFor({ timeout: 1000 });

    // Stats → a stat card per field.
    await page.goto(`${server.url}/explore?topic=ex.inv`, { waitUntil: 'load' });
    const card = (field) => page.locator('.cell[data-widget="stat"]', { has: page.locator('.card-title', { hasText: field }) }).locator('.stat-value');
    await card('apples').filter({ hasText: '31' }).waitFor({ timeout: 3000 });
    assert.equal(await text(card('pears')), '7');
    assert.equal(await page.locator('.cell[data-widget="stat"]').count(), 2);
    await server.publish(admin, { topic: 'ex.inv', type: 'stats', data: { apples: 30, pears: 6 } });
    await card('apples').filter({ hasText: '30' }).waitFor({ timeout: 1000 });
    assert.equal(await text(card('pears')), '6');

    // Other types → raw JSON; several patterns on one page.
    await page.goto(`${server.url}/explore?topic=ex.deploys&topic=ex.temp`, { waitUntil: 'load' });
    const raw = cell('raw');
    await raw.locator('.raw-json', { hasText: '{"version":"v1.2.3"}' }).waitFor({ timeout: 3000 });
    await server.publish(admin, { topic: 'ex.deploys', type: 'deploy', data: { version: 'v1.2.4' } });
    await raw.locator('.raw-json', { hasText: '{"version":"v1.2.4"}' }).waitFor({ timeout: 1000 });
    assert.equal(await cell('chart').count(), 1);

    // A new topic matching the pattern joins the page live.
    await page.goto(`${server.url}/explore?topic=ex.live.*`, { waitUntil: 'load' });
    await page.locator('h2', { hasText: 'No topic matches ex.live.* yet' }).waitFor({ timeout: 3000 });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    await server.publish(admin, { topic: 'ex.live.one', data: 5 });
    await page.locator('.cell[data-widget="chart"] .chart-box[data-last="5"]').waitFor({ state: 'attached', timeout: 2000 });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

test('an admin saves an explore view as a dashboard; a viewer has no such button', { timeout: 20_000 }, async () => {
  const page = await newPage(browser);
  try {
    await page.goto(`${server.url}/explore?topic=ex.>&token=${admin}`, { waitUntil: 'load' });
    await page.locator('.cell[data-widget="chart"]').first().waitFor({ timeout: 5000 });
    const want = await page.locator('.cell[data-widget]').count();
    page.once('dialog', (d) => {
      assert.equal(d.defaultValue(), 'ex');
      void d.accept('ex-saved');
    });
    await page.getByRole('button', { name: 'Save as dashboard' }).click();
    await page.waitForURL(/\/d\/ex-saved$/, { timeout: 5000 });
    await page.locator('section.card').first().waitFor({ timeout: 5000 });
    assert.equal(await page.locator('section.card').count(), want);
    const d = await server.api('GET', '/api/v1/dashboards/ex-saved', { token: admin });
    assert.equal(d.title, 'ex.>');
    assert.deepEqual([...new Set(d.widgets.map((w) => w.type))].sort(), ['alerts', 'chart', 'feed', 'stat']);
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
  const viewer = await server.token(['--sub', 'viewer', '--subscribe', 'ex.>']);
  const v = await newPage(browser);
  try {
    await v.goto(`${server.url}/explore?topic=ex.>&token=${viewer}`, { waitUntil: 'load' });
    await v.locator('.cell[data-widget="chart"]').first().waitFor({ timeout: 5000 });
    assert.equal(await v.getByRole('button', { name: 'Save as dashboard' }).count(), 0);
    assert.deepEqual(v.errors, []);
  } finally {
    await v.context().close();
  }
});

test('a topic on / opens explore', { timeout: 20_000 }, async () => {
  const page = await newPage(browser);
  try {
    await publishData('nav.temp', '7.5');
    await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    await row(page, 'nav.temp').click();
    await page.waitForURL(/\/explore\?topic=nav\.temp$/, { timeout: 3000 });
    await page.locator('.cell[data-widget="chart"] .chart-box[data-last="7.5"]').waitFor({ state: 'attached', timeout: 3000 });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

test('after a server restart the list is live again and counts each message once', { timeout: 40_000 }, async () => {
  await publishData('orders.count', '41');
  const page = await newPage(browser, { ignore: [/Failed to load resource/, /ERR_CONNECTION_REFUSED/] });
  try {
    await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    const r = row(page, 'orders.count');
    await r.waitFor({ timeout: 5000 });
    const before = Number(await r.getAttribute('data-count'));
    await server.stop();
    await page.locator('.topbar .badge-reconnecting, .topbar .badge-offline').waitFor({ timeout: 10_000 });
    await server.start();
    await page.locator('.topbar .badge-live').waitFor({ timeout: 15_000 });
    await publishData('orders.count', '44');
    await r.locator('.topic-num', { hasText: '44' }).waitFor({ timeout: 2000 });
    assert.equal(Number(await r.getAttribute('data-count')), before + 1);
    await publishData('restart.new', '1');
    await row(page, 'restart.new').waitFor({ timeout: 1000 });
    assert.equal(await row(page, 'restart.new').getAttribute('data-count'), '1');
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

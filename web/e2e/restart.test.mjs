// A server restart with the page open: the header goes Reconnecting…/Offline,
// then Live again, and every event published before the stop and right
// after the restart is shown exactly once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, putTestDashboard, startServer, stopAll, waitFor } from './lib/harness.mjs';

let server, browser, admin, page;

before(async () => {
  ({ server, admin } = await startServer());
  await putTestDashboard(server, admin);
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

const ev = (n) => ({ topic: 'e2e.events', type: 'event', data: { n: `event ${n}`, note: `#${n}` } });

async function shownEvents() {
  return page
    .locator('section.card', { has: page.locator('.card-title', { hasText: 'Events' }) })
    .locator('li.feed-item .feed-primary')
    .allTextContents();
}

function counts(list) {
  const m = new Map();
  for (const x of list) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

test('after a restart the page is Live again and shows every message exactly once', { timeout: 60_000 }, async () => {
  // Some history before the page opens, some live while it is open.
  await server.publish(admin, [1, 2, 3].map(ev));
  page = await newPage(browser, {
    // While the server is down, the browser logs its failed stream requests.
    ignore: [/net::ERR_CONNECTION_REFUSED/, /Failed to load resource/, /EventSource/],
  });
  await page.goto(`${server.url}/d/e2e?token=${admin}`, { waitUntil: 'load' });
  const badge = page.locator('.topbar .badge');
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await server.publish(admin, [4, 5, 6].map(ev));
  await waitFor(async () => (await shownEvents()).length === 6, { timeout: 2000, what: '6 events before the stop' });

  const stopped = await server.stop();
  assert.equal(stopped.code, 0, `clean exit on SIGTERM, got ${JSON.stringify(stopped)}\n${server.log}`);
  await page.locator('.topbar .badge-reconnecting, .topbar .badge-offline').waitFor({ timeout: 5000 });
  assert.match(await badge.textContent(), /Reconnecting…|Offline/);

  await server.start();
  // Published before the page has reconnected: it must resume from its last id.
  await server.publish(admin, [7, 8, 9].map(ev));
  await page.locator('.topbar .badge-live').waitFor({ timeout: 10_000 });
  await server.publish(admin, [10, 11, 12].map(ev));

  const want = Array.from({ length: 12 }, (_, i) => `event ${i + 1}`);
  let got = [];
  try {
    await waitFor(async () => (got = await shownEvents()).length >= 12, { timeout: 3000, what: '12 events' });
  } catch {
    /* asserted below, with the list */
  }
  await page.waitForTimeout(300); // a late duplicate would show up now
  got = await shownEvents();
  const c = counts(got);
  const missing = want.filter((w) => !c.has(w));
  const twice = [...c].filter(([, n]) => n > 1).map(([k]) => k);
  assert.deepEqual({ missing, twice, extra: got.length - want.length }, { missing: [], twice: [], extra: 0 }, `shown: ${got.join(', ')}`);
  // Newest first.
  assert.deepEqual(got, [...want].reverse());
  assert.match(await badge.textContent(), /Live/);
  assert.deepEqual(page.errors, []);
});

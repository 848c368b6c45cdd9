// The app works under its content security policy (no violation reported
// while the index, a live dashboard with a chart and an embed render), app
// pages may not be framed by another origin, and /embed/ pages may.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, putTestDashboard, startServer, waitFor } from './lib/harness.mjs';

let server, browser, admin, framer;

before(async () => {
  ({ server, admin } = await startServer());
  await putTestDashboard(server, admin);
  browser = await launchBrowser();
  // Another origin (localhost, not 127.0.0.1) whose page frames the app and an embed.
  framer = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><iframe id="app" src="${server.url}/d/e2e?token=${admin}"></iframe>
<iframe id="embed" src="${server.url}/embed/e2e/temp-chart?token=${admin}"></iframe>`);
  });
  await new Promise((resolve) => framer.listen(0, 'localhost', resolve));
}, { timeout: 30_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await server?.destroy();
  await new Promise((resolve) => (framer ? framer.close(resolve) : resolve()));
}, { timeout: 20_000 });

/** A page that records every CSP violation, as events and as console messages. */
async function cspPage() {
  const page = await newPage(browser);
  page.violations = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) page.violations.push(`console: ${m.text()}`);
  });
  await page.exposeFunction('__cspViolation', (v) => page.violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  return page;
}

test('the app reports no CSP violation on the index, a live dashboard and an embed', { timeout: 40_000 }, async () => {
  const page = await cspPage();
  const index = await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
  const csp = index.headers()['content-security-policy'] ?? '';
  assert.match(csp, /frame-ancestors 'self'/, `app page policy: ${csp}`);
  assert.match(csp, /default-src 'self'/, `app page policy: ${csp}`);
  assert.equal(index.headers()['x-frame-options'], 'SAMEORIGIN');
  assert.equal(index.headers()['referrer-policy'], 'no-referrer');
  await page.locator('.index-card h2').first().waitFor({ state: 'visible' });

  // A dashboard with a live chart (uPlot), stats and a feed, over SSE.
  await page.goto(`${server.url}/d/e2e`, { waitUntil: 'load' });
  await page.locator('.badge-live').waitFor({ timeout: 5000 });
  await server.publish(admin, [{ topic: 'e2e.temp', data: 21.5 }, { topic: 'e2e.events', type: 'event', data: { n: 1, note: 'csp' } }]);
  await waitFor(async () => (await page.locator('.chart-box[data-points]').first().getAttribute('data-points')) !== '0', { what: 'chart points' });

  const embed = await page.goto(`${server.url}/embed/e2e`, { waitUntil: 'load' });
  const ecsp = embed.headers()['content-security-policy'] ?? '';
  assert.match(ecsp, /frame-ancestors \*/, `embed policy: ${ecsp}`);
  assert.equal(embed.headers()['x-frame-options'], undefined, 'no X-Frame-Options on /embed/');
  await page.locator('.stat-value').first().waitFor({ timeout: 5000 });

  await page.waitForTimeout(300); // late violations
  assert.deepEqual(page.violations, [], 'no CSP violations');
  assert.deepEqual(page.errors, [], 'no console errors');
});

test('another origin cannot frame the app but can frame an embed', { timeout: 30_000 }, async () => {
  const page = await newPage(browser, { ignore: [/frame-ancestors|Refused to (frame|display)/i] });
  const { port } = framer.address();
  await page.goto(`http://localhost:${port}/`, { waitUntil: 'load' });
  const embedFrame = await (await page.$('#embed')).contentFrame();
  await embedFrame.locator('.chart-box').first().waitFor({ timeout: 5000 });
  // A frame the policy blocks shows Chromium's error page, not the app.
  const appFrame = await (await page.$('#app')).contentFrame();
  await waitFor(() => appFrame.url().startsWith('chrome-error:'), { what: `app frame blocked (at ${appFrame.url()})` });
  assert.equal(await appFrame.locator('#root').count(), 0, 'the app rendered inside another origin');
});

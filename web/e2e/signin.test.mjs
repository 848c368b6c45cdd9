// Without a token (and no public patterns), a dashboard page explains how to
// sign in instead of showing a blank page; pasting a token gets you in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, startServer, stopAll } from './lib/harness.mjs';

let server, browser, admin;

before(async () => {
  ({ server, admin } = await startServer());
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

// The browser itself logs each 401 response as a console error.
const ignore = [/status of 401/];

test('a dashboard without a token shows the sign-in panel, and a pasted token works', { timeout: 30_000 }, async () => {
  const page = await newPage(browser, { ignore });
  await page.goto(`${server.url}/d/shop`, { waitUntil: 'load' });
  const heading = page.locator('form.signin h1');
  await heading.waitFor({ timeout: 5000 });
  assert.equal((await heading.textContent()).trim(), 'This dashboard needs a token');
  assert.match(await page.locator('form.signin').textContent(), /livedash token --sub you/);
  assert.ok(await page.locator('#token').isVisible(), 'token field');
  assert.ok(await page.locator('button[type=submit]').isDisabled(), 'sign in disabled while empty');
  const text = (await page.locator('body').innerText()).trim();
  assert.ok(text.length > 80, 'not a blank page');
  assert.deepEqual(page.errors, []);

  await page.fill('#token', admin);
  await Promise.all([page.waitForEvent('load', { timeout: 10_000 }), page.click('button[type=submit]')]);
  await page.locator('.topbar .title', { hasText: 'Shop' }).waitFor({ timeout: 5000 });
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  assert.equal(await page.locator('form.signin').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a bad token is refused with the server’s reason and can be forgotten', { timeout: 30_000 }, async () => {
  const page = await newPage(browser, { ignore });
  await page.goto(`${server.url}/d/shop?token=not-a-jwt`, { waitUntil: 'load' });
  const heading = page.locator('form.signin h1');
  await heading.waitFor({ timeout: 5000 });
  assert.equal((await heading.textContent()).trim(), 'Your token was not accepted');
  assert.match(await page.locator('form.signin').textContent(), /The server said:/);
  await Promise.all([page.waitForEvent('load', { timeout: 10_000 }), page.click('text=Forget the saved token')]);
  await page.locator('form.signin h1', { hasText: 'This dashboard needs a token' }).waitFor({ timeout: 5000 });
  assert.equal(await page.evaluate(() => localStorage.getItem('livedash_token')), null);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the index without a token shows the sign-in panel too', { timeout: 20_000 }, async () => {
  const page = await newPage(browser, { ignore });
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  await page.locator('form.signin h1', { hasText: 'Sign in to see your dashboards' }).waitFor({ timeout: 5000 });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

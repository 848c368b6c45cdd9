// The index page loads cleanly with a token in the URL, lists the shipped
// dashboards, and takes the token out of the address bar.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, startServer, stopAll } from './lib/harness.mjs';

let server, browser, admin;

before(async () => {
  ({ server, admin } = await startServer());
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

test('index lists host and shop, no console errors, token leaves the URL', { timeout: 30_000 }, async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
  const cards = page.locator('.index-card h2');
  await cards.first().waitFor({ state: 'visible', timeout: 5000 });
  const titles = await cards.allTextContents();
  assert.ok(titles.includes('Host'), `index lists Host: ${titles}`);
  assert.ok(titles.includes('Shop'), `index lists Shop: ${titles}`);
  const hrefs = await page.locator('.index-card a.index-link').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  assert.ok(hrefs.includes('/d/host') && hrefs.includes('/d/shop'), `links: ${hrefs}`);

  const url = new URL(page.url());
  assert.equal(url.searchParams.get('token'), null, `token removed from ${page.url()}`);
  assert.equal(url.pathname, '/');
  assert.equal(await page.evaluate(() => localStorage.getItem('livedash_token')), admin, 'token kept in localStorage');

  // Navigating into a dashboard and back keeps working with the stored token.
  await page.click('a.index-link[href="/d/shop"]');
  await page.locator('.topbar .title', { hasText: 'Shop' }).waitFor({ timeout: 5000 });
  await page.locator('.badge-live').waitFor({ timeout: 5000 });
  await page.goBack();
  await cards.first().waitFor({ state: 'visible', timeout: 5000 });

  await page.waitForTimeout(300); // late errors (a failed fetch, a render error)
  assert.deepEqual(page.errors, [], 'no console errors');
});

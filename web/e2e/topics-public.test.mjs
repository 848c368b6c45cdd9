// A viewer with no token on a server with public topics: the home page
// streams the public patterns (GET /api/v1/access), so a new public topic
// shows within a second, and a private one never does.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Server, launchBrowser, newPage, stopAll, tempDir } from './lib/harness.mjs';

let server, browser, admin;

before(async () => {
  const dir = await tempDir();
  const cfg = path.join(dir, 'livedash.yaml');
  await writeFile(cfg, 'public: ["pub.>"]\n');
  server = await Server.create({ args: ['--host-metrics', 'off', '--config', cfg] });
  admin = await server.token();
  await server.publish(admin, { topic: 'pub.first', data: 1 });
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

test('a new public topic reaches a viewer without a token within a second; private ones never', { timeout: 30_000 }, async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/`, { waitUntil: 'load' });
  await page.locator('.topic-row[data-topic="pub.first"]').waitFor({ timeout: 5000 });
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await server.publish(admin, [{ topic: 'secret.x', data: 7 }, { topic: 'pub.new', data: 42 }]);
  await page.locator('.topic-row[data-topic="pub.new"]').waitFor({ timeout: 1000 });
  assert.equal(await page.locator('.topic-row[data-topic="secret.x"]').count(), 0);
  await page.close();
});

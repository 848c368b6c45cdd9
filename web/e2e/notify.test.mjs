// The admin's "Test notification" button on /: it sends a test through the
// server's real queue to a real local HTTP receiver and shows the outcome;
// a viewer has no such button.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, Server, tempDir, waitFor } from './lib/harness.mjs';

let server, browser, admin, receiver;
const got = [];

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const dir = await tempDir();
  const cfg = path.join(dir, 'livedash.yaml');
  await writeFile(cfg, `notify:\n  - name: ops\n    url: http://127.0.0.1:${receiver.address().port}/hook\n    secret: s3cret\n`);
  server = await Server.create({ args: ['--host-metrics', 'off', '--config', cfg] });
  admin = await server.token();
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await server?.destroy();
  receiver?.close();
}, { timeout: 20_000 });

test('an admin sends a test notification from / and sees it delivered', { timeout: 30_000 }, async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
  const button = page.locator('.notify-test button', { hasText: 'Test notification' });
  await button.waitFor({ timeout: 5000 });
  await button.click();
  await page.locator('.notify-result.ok', { hasText: 'Sent to ops (200)' }).waitFor({ timeout: 15_000 });
  await waitFor(() => got.length === 1, { timeout: 5000, what: 'the receiver got one request' });
  assert.equal(got[0].body.state, 'test');
  assert.match(got[0].headers['x-livedash-signature'], /^sha256=[0-9a-f]{64}$/);
  await page.close();
});

test('a viewer sees no test button', { timeout: 20_000 }, async () => {
  const viewer = await server.token(['--sub', 'v', '--subscribe', 'e2e.>']);
  const page = await newPage(browser);
  await page.goto(`${server.url}/?token=${viewer}`, { waitUntil: 'load' });
  await page.locator('.topics').waitFor({ timeout: 5000 });
  assert.equal(await page.locator('.notify-test').count(), 0);
  const r = await fetch(`${server.url}/api/v1/notify/test?receiver=ops`, { method: 'POST', headers: { Authorization: `Bearer ${viewer}` } });
  assert.equal(r.status, 403);
  await page.close();
});

// embed.js on another site: a page served from a second local port embeds
// <livedash-chart> and <livedash-stat> on a public topic (config `public`,
// and `cors_origins` naming the page's origin), with no token. Values show
// live, both elements share one stream, and the page's aggressive CSS does
// not reach into the shadow roots (nor ours out of them).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, newPage, Server, tempDir, waitFor } from './lib/harness.mjs';

let server, browser, site, admin, page;
const streams = [];

const AGGRESSIVE = `* { color: red !important; font-size: 40px !important; display: block; font-family: serif !important;
  line-height: 3 !important; background: yellow; border: 3px solid lime; padding: 9px; }`;

function blogPage(serverURL) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>A blog post</title>
<style>${AGGRESSIVE}</style>
<script type="module" src="${serverURL}/embed.js"></script></head>
<body><h1>Live numbers in a post</h1><p class="value" id="outside">page text</p>
<livedash-stat id="stat" topic="blog.count" label="Readers" format="number"></livedash-stat>
<livedash-chart id="chart" topic="blog.views" field="v" window="5m"></livedash-chart>
<livedash-stat id="dark" topic="blog.count" theme="dark"></livedash-stat>
</body></html>`;
}

before(async () => {
  const sitePort = await freePort();
  const siteOrigin = `http://127.0.0.1:${sitePort}`;
  const dir = await tempDir('livedash-embed-cfg-');
  const cfg = path.join(dir, 'livedash.yaml');
  await writeFile(cfg, `public: ["blog.>"]\ncors_origins: ["${siteOrigin}"]\n`);
  server = await Server.create({ args: ['--config', cfg, '--host-metrics', 'off'] });
  admin = await server.token();
  site = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(blogPage(server.url));
  });
  await new Promise((r) => site.listen(sitePort, '127.0.0.1', r));
  site.url = siteOrigin;
  // History the chart backfills from.
  const now = Date.now();
  await server.publish(admin, [1, 2, 3].map((i) => ({ topic: 'blog.views', data: { v: i * 10 }, ts: now - (4 - i) * 1000 })));
  await server.publish(admin, { topic: 'blog.count', data: 1200 });
  browser = await launchBrowser();
  page = await newPage(browser);
  page.on('request', (r) => {
    if (r.url().includes('/api/v1/stream')) streams.push({ url: new URL(r.url()), headers: r.headers() });
  });
  await page.goto(site.url + '/post', { waitUntil: 'load' });
}, { timeout: 30_000 });

after(async () => {
  await browser?.close().catch(() => {});
  site?.closeAllConnections();
  site?.close();
  await server?.destroy();
}, { timeout: 20_000 });

test('a chart and a stat on a public topic show history, then live values, with no token', { timeout: 20_000 }, async () => {
  await page.locator('#stat .value[data-value="1200"]').waitFor({ timeout: 5000 });
  assert.equal((await page.locator('#stat .value').textContent()).trim(), '1,200');
  await page.locator('#chart .chart[data-points="3"][data-last="30"]').waitFor({ state: 'attached', timeout: 5000 });
  await page.locator('#chart [state="live"], #chart[state="live"]').first().waitFor({ state: 'attached', timeout: 5000 });

  await server.publish(admin, [{ topic: 'blog.views', data: { v: 42 } }, { topic: 'blog.count', data: 1201 }]);
  await page.locator('#chart .chart[data-points="4"][data-last="42"]').waitFor({ state: 'attached', timeout: 2000 });
  await page.locator('#stat .value[data-value="1201"]').waitFor({ timeout: 2000 });
  await page.locator('#dark .value[data-value="1201"]').waitFor({ timeout: 2000 });
  assert.ok(await page.locator('#chart canvas').count() >= 1, 'uPlot drew a canvas');

  // One stream for the page, the union of the elements' topics, no token anywhere.
  assert.equal(streams.length, 1, streams.map((s) => s.url.search).join('\n'));
  assert.deepEqual(streams[0].url.searchParams.getAll('topic'), ['blog.count', 'blog.views']);
  assert.equal(streams[0].url.searchParams.get('token'), null);
  assert.equal(streams[0].headers.authorization, undefined);
  assert.deepEqual(page.errors, []);
});

test("the page's CSS does not change the widgets, and theirs does not leak out", { timeout: 10_000 }, async () => {
  const styles = await page.evaluate(() => {
    const pick = (el) => {
      const s = getComputedStyle(el);
      return { color: s.color, fontSize: s.fontSize, fontFamily: s.fontFamily, lineHeight: s.lineHeight, background: s.backgroundColor, display: s.display, border: s.borderTopWidth, padding: s.paddingTop };
    };
    const q = (id, sel) => document.getElementById(id).shadowRoot.querySelector(sel);
    return {
      root: pick(q('stat', '.root')),
      value: pick(q('stat', '.value')),
      label: pick(q('stat', '.label')),
      dot: pick(q('stat', '.dot')),
      chartRoot: pick(q('chart', '.root')),
      darkRoot: pick(q('dark', '.root')),
      outside: pick(document.getElementById('outside')),
    };
  });
  const red = 'rgb(255, 0, 0)';
  for (const [k, s] of Object.entries({ root: styles.root, value: styles.value, label: styles.label, chartRoot: styles.chartRoot })) {
    assert.notEqual(s.color, red, `${k}: color leaked in`);
    assert.notEqual(s.fontSize, '40px', `${k}: font-size leaked in`);
    assert.doesNotMatch(s.fontFamily, /^serif$/, `${k}: font-family leaked in`);
  }
  assert.equal(styles.root.fontSize, '14px');
  assert.equal(styles.root.color, 'rgb(17, 24, 39)');
  assert.equal(styles.root.background, 'rgb(255, 255, 255)');
  assert.equal(styles.root.border, '1px');
  assert.equal(styles.root.padding, '10px');
  assert.equal(styles.value.fontSize, '32px');
  assert.equal(styles.label.fontSize, '12px');
  assert.equal(styles.dot.display, 'block');
  assert.equal(styles.dot.border, '0px');
  // theme="dark" on a light page.
  assert.equal(styles.darkRoot.background, 'rgb(17, 24, 39)');
  assert.equal(styles.darkRoot.color, 'rgb(229, 231, 235)');
  // Ours stays inside: the page's own .value keeps the page's rules.
  assert.equal(styles.outside.fontSize, '40px');
  assert.equal(styles.outside.color, red);
});

test('light and dark follow the page (prefers-color-scheme)', { timeout: 15_000 }, async () => {
  const dark = await newPage(browser, { colorScheme: 'dark' });
  try {
    await dark.goto(site.url + '/post', { waitUntil: 'load' });
    await dark.locator('#stat .value[data-value]').first().waitFor({ timeout: 5000 });
    const bg = await dark.evaluate(() => getComputedStyle(document.getElementById('stat').shadowRoot.querySelector('.root')).backgroundColor);
    assert.equal(bg, 'rgb(17, 24, 39)');
    await dark.evaluate(() => document.getElementById('stat').setAttribute('theme', 'light'));
    const bg2 = await dark.evaluate(() => getComputedStyle(document.getElementById('stat').shadowRoot.querySelector('.root')).backgroundColor);
    assert.equal(bg2, 'rgb(255, 255, 255)');
    assert.deepEqual(dark.errors, []);
  } finally {
    await dark.context().close();
  }
});

test('elements that come and go resubscribe the one stream, from where it was', { timeout: 20_000 }, async () => {
  const before = streams.length;
  await page.evaluate(() => {
    const f = document.createElement('livedash-feed');
    f.id = 'feed';
    f.setAttribute('topic', 'blog.events');
    document.body.append(f);
  });
  await server.publish(admin, { topic: 'blog.events', type: 'event', data: { message: 'a new comment' } });
  await page.locator('#feed li', { hasText: 'a new comment' }).waitFor({ timeout: 3000 });
  assert.equal(streams.length, before + 1);
  const added = streams.at(-1).url.searchParams;
  assert.deepEqual(added.getAll('topic'), ['blog.count', 'blog.events', 'blog.views']);
  assert.match(added.get('since') ?? '', /^\d+-/, 'the new stream resumes from the last id');

  await page.evaluate(() => document.getElementById('chart').remove());
  await waitFor(() => streams.length >= before + 2, { timeout: 3000, what: 'a stream without the chart' });
  assert.deepEqual(streams.at(-1).url.searchParams.getAll('topic'), ['blog.count', 'blog.events']);
  // Still live on what is left, each message once.
  await server.publish(admin, [{ topic: 'blog.count', data: 1300 }, { topic: 'blog.events', type: 'event', data: { message: 'second' } }]);
  await page.locator('#stat .value[data-value="1300"]').waitFor({ timeout: 3000 });
  await page.locator('#feed li', { hasText: 'second' }).waitFor({ timeout: 3000 });
  assert.equal(await page.locator('#feed li').count(), 2);

  // A changed attribute restarts just that element.
  await server.publish(admin, { topic: 'blog.other', data: 7 });
  await page.evaluate(() => document.getElementById('dark').setAttribute('topic', 'blog.other'));
  await page.locator('#dark .value[data-value="7"]').waitFor({ timeout: 3000 });
  assert.deepEqual(streams.at(-1).url.searchParams.getAll('topic'), ['blog.count', 'blog.events', 'blog.other']);
  assert.deepEqual(page.errors, []);
});

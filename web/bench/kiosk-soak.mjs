// Soak: a kiosk dashboard in headless Chromium for a long time at a steady
// message rate, sampling the page's JS heap (after a forced GC, through the
// DevTools protocol) and its DOM size, so a leak shows as growth between the
// first and the last samples. Not part of `npm run e2e`. From web/ after
// `make build`:
//
//   LIVEDASH_BIN=$PWD/../bin/livedash node bench/kiosk-soak.mjs [minutes=60] [rate=10]
//
// The page is the test dashboard (two stats, a chart, alerts, a feed) in
// kiosk mode; the rate is spread over its topics (points, events, alerts).
// Prints one line per sample and a JSON summary at the end.
import { launchBrowser, newPage, putTestDashboard, Server, sleep } from '../e2e/lib/harness.mjs';

const minutes = Number(process.argv[2] ?? 60);
const rate = Number(process.argv[3] ?? 10);
const SAMPLE_MS = Math.min(5 * 60_000, (minutes * 60_000) / 6);

const server = await Server.create({ args: ['--host-metrics', 'off'] });
const browser = await launchBrowser();
try {
  const admin = await server.token();
  await putTestDashboard(server, admin);
  const page = await newPage(browser, { viewport: { width: 1920, height: 1080 } });
  await page.goto(`${server.url}/d/e2e?token=${admin}&kiosk`, { waitUntil: 'load' });
  await page.locator('.kiosk-bar .badge-live').waitFor({ timeout: 10_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.enable');
  const sample = async (t) => {
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = await cdp.send('Runtime.getHeapUsage');
    const dom = await page.evaluate(() => document.getElementsByTagName('*').length);
    return { minute: +(t / 60_000).toFixed(1), heapUsedMB: +(heap.usedSize / 2 ** 20).toFixed(2), heapTotalMB: +(heap.totalSize / 2 ** 20).toFixed(2), domNodes: dom };
  };

  let sent = 0;
  let failed = 0;
  const start = Date.now();
  const end = start + minutes * 60_000;
  const samples = [await sample(0)];
  console.log(JSON.stringify(samples[0]));
  let nextSample = start + SAMPLE_MS;
  // rate messages a second on average, sent every 100 ms: each tick sends
  // what the clock says is due, so a slow publish does not lower the rate.
  while (Date.now() < end) {
    const due = Math.floor(((Date.now() - start) / 1000) * rate) - sent - failed;
    const msgs = [];
    for (let k = 0; k < due; k++) {
      const i = sent + msgs.length;
      const kind = i % 10;
      if (kind < 6) msgs.push({ topic: 'e2e.temp', type: 'point', data: Math.round((21 + 3 * Math.sin(i / 50)) * 100) / 100 });
      else if (kind < 8) msgs.push({ topic: 'e2e.requests', type: 'point', data: 1000 + i });
      else if (kind < 9) msgs.push({ topic: 'e2e.events', type: 'event', data: { n: `event ${i}`, note: 'soak' } });
      else msgs.push({ topic: `e2e.alerts.a${i % 7}`, type: 'alert', data: { severity: ['info', 'warning', 'critical'][i % 3], message: `alert ${i}` } });
    }
    if (msgs.length) {
      try {
        await server.publish(admin, msgs);
        sent += msgs.length;
      } catch {
        failed += msgs.length;
      }
    }
    if (Date.now() >= nextSample) {
      const s = await sample(Date.now() - start);
      samples.push(s);
      console.log(JSON.stringify(s));
      nextSample += SAMPLE_MS;
    }
    await sleep(100);
  }
  const last = await sample(Date.now() - start);
  samples.push(last);
  console.log(JSON.stringify(last));
  const live = await page.locator('.kiosk-bar .badge-live').count();
  console.log(JSON.stringify({ minutes, rate, sent, failed, stillLive: live === 1, first: samples[0], last, samples }));
} finally {
  await browser.close().catch(() => {});
  await server.destroy();
}

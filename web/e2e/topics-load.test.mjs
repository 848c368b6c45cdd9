// The topic list with 2,000 topics and 200 messages/s: the page renders a
// window of rows (not 2,000), applies messages in batches (far fewer
// renders than messages), keeps counts exact, and the main thread keeps
// painting.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, sleep, startServer, stopAll, waitFor } from './lib/harness.mjs';

const TOPICS = 2000;
let server, browser, admin;

before(async () => {
  ({ server, admin } = await startServer());
  const name = (i) => `load.g${String(i % 20).padStart(2, '0')}.t${String(i).padStart(4, '0')}`;
  for (let b = 0; b < TOPICS; b += 1000) {
    await server.publish(admin, Array.from({ length: 1000 }, (_, i) => ({ topic: name(b + i), data: b + i })));
  }
  browser = await launchBrowser();
}, { timeout: 60_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

test('2,000 topics and 200 messages/s: a window of rows, batched renders, exact counts, smooth frames', { timeout: 60_000 }, async () => {
  const page = await newPage(browser);
  try {
    await page.goto(`${server.url}/?token=${admin}`, { waitUntil: 'load' });
    const list = page.locator('section.topics');
    await waitFor(async () => Number(await list.getAttribute('data-topics')) >= TOPICS, { timeout: 10_000, what: `${TOPICS} topics listed` });
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    const rendered = await page.locator('.topic-row[data-topic]').count();
    assert.ok(rendered > 10 && rendered < 80, `rendered ${rendered} rows of ${TOPICS}`);

    // Frame gaps: first for 1.5 s with no messages (what this machine gives
    // a page right now: it is shared), then while the messages arrive.
    await page.evaluate(() => {
      window.__gaps = [];
      let last = performance.now();
      const loop = (t) => {
        window.__gaps.push(t - last);
        last = t;
        if (!window.__stop) requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
    });
    await sleep(1500);
    const idle = await page.evaluate(() => window.__gaps.splice(0));
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const m0 = await metric();
    const v0 = Number(await list.getAttribute('data-version'));
    // 200 messages/s for 3 s: 20 every 100 ms, 30 of them to one topic.
    const target = 'load.g07.t0007';
    let sent = 0;
    const start = Date.now();
    for (let tick = 0; tick < 30; tick++) {
      const batch = Array.from({ length: 20 }, (_, i) => ({ topic: i === 0 ? target : `load.g${String(i).padStart(2, '0')}.t${String((tick * 20 + i) % 100 * 20 + i).padStart(4, '0')}`, data: tick * 20 + i }));
      await server.publish(admin, batch);
      sent += batch.length;
      const wait = start + (tick + 1) * 100 - Date.now();
      if (wait > 0) await sleep(wait);
    }
    // Every message counted once: the target topic had 1 and got 30 more.
    await page.locator(`.topic-row[data-topic="${target}"][data-count="31"]`).waitFor({ timeout: 3000 }).catch(async () => {
      // Not in the visible window: filter to it.
      await page.getByLabel('Filter topics').fill(target);
      await page.locator(`.topic-row[data-topic="${target}"][data-count="31"]`).waitFor({ timeout: 3000 });
    });
    const v1 = Number(await list.getAttribute('data-version'));
    const m1 = await metric();
    const script = m1.ScriptDuration - m0.ScriptDuration;
    const layout = m1.LayoutDuration + m1.RecalcStyleDuration - m0.LayoutDuration - m0.RecalcStyleDuration;
    const gaps = await page.evaluate(() => {
      window.__stop = true;
      return window.__gaps;
    });
    const batches = v1 - v0;
    assert.ok(batches > 0 && batches <= sent / 4, `${sent} messages applied in ${batches} batches`);
    const p95 = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.95)] ?? Infinity;
    const busy = p95(gaps);
    const base = p95(idle);
    const long = gaps.filter((g) => g > 250).length;
    const took = Date.now() - start;
    console.log(
      `# ${sent} messages, ${batches} batches, ${gaps.length} frames; p95 frame gap ${busy.toFixed(1)} ms (idle ${base.toFixed(1)} ms), ${long} over 250 ms; script ${(script * 1000).toFixed(0)} ms, style+layout ${(layout * 1000).toFixed(0)} ms over ${took} ms`,
    );
    // Smooth, on a machine shared with other work (frame times are measured
    // in wall time, so the bounds are loose; a quiet machine gives a p95 of
    // one frame, 16.7 ms): the page's own main-thread work stays well under
    // the time it takes, and frames stay within a few times the idle ones.
    // Rendering 2,000 rows, or rendering once per message, breaks these.
    assert.ok((script + layout) * 1000 < 0.6 * took, `main thread busy ${((script + layout) * 1000).toFixed(0)} ms of ${took} ms`);
    assert.ok(busy <= Math.max(200, 3 * base), `p95 frame gap ${busy.toFixed(1)} ms while busy, ${base.toFixed(1)} ms idle`);
    assert.ok(long <= Math.max(5, idle.filter((g) => g > 250).length * 2 + 5), `${long} frames over 250 ms`);

    // Filter by pattern over the 2,000: one group of 100.
    await page.getByLabel('Filter topics').fill('load.g03.*');
    await waitFor(async () => /^100 of 2,0\d\d topics match/.test((await page.locator('.filter-note').textContent()).trim()), { timeout: 2000, what: 'pattern filter' });
    assert.deepEqual(page.errors, []);
  } finally {
    await page.context().close();
  }
});

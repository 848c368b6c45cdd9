// A server that answers 503 for 10 s (a proxy in front of the real one),
// then forwards again: the client comes back by itself, from where it was.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';
import { checkExact, collector, connect, freePort, publisher, serverWith, sleep, waitFor } from './lib.mjs';

let server;
let proxy;
after(async () => {
  proxy?.closeAllConnections();
  proxy?.close();
  await server?.destroy();
});

/** Forwards to target, or answers 503 while down; going down cuts the open streams. */
async function flakyProxy(target) {
  const up = new URL(target);
  let down = false;
  const open = new Set();
  const p = http.createServer((req, res) => {
    if (down) {
      res.writeHead(503, { 'Content-Type': 'application/json', 'Retry-After': '1' });
      res.end('{"error":"down for maintenance"}');
      return;
    }
    const fwd = http.request({ host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    fwd.on('error', () => res.destroy());
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      fwd.destroy();
    });
    req.pipe(fwd);
  });
  const port = await freePort();
  await new Promise((r) => p.listen(port, '127.0.0.1', r));
  p.url = `http://127.0.0.1:${port}`;
  p.setDown = (v) => {
    down = v;
    if (v) for (const res of open) res.destroy();
  };
  p.hits503 = 0;
  return p;
}

test('comes back by itself after 10 s of 503', { timeout: 60_000 }, async () => {
  server = await serverWith('heartbeat: 2s\n');
  proxy = await flakyProxy(server.url);
  const admin = await server.token(['--sub', 'pub', '--admin']);
  const reader = await server.token(['--sub', 'r', '--subscribe', 'u.>']);
  const c = connect({ url: proxy.url, token: reader, heartbeat: 2000, backoff: { base: 500, max: 4000 } });
  const states = [];
  c.on('state', (s) => states.push(`${s.state}${s.reason ? ' ' + s.reason : ''}`));
  const got = collector(c, 'u.>', { backlog: 0 });
  await waitFor(() => c.state === 'live', { what: 'live' });
  const pub = publisher(server, admin, 'u.seq', 50); // straight to the server: it keeps storing
  try {
    await waitFor(() => got.ns.length > 10, { what: 'messages before the outage' });
    proxy.setDown(true);
    await sleep(10_000);
    assert.equal(c.state, 'reconnecting');
    assert.ok(states.some((s) => s.includes('HTTP 503: down for maintenance')), states.join('\n'));
    proxy.setDown(false);
    const t0 = Date.now();
    await waitFor(() => c.state === 'live', { timeout: 8000, what: 'live again' });
    const back = Date.now() - t0;
    await pub.stop();
    const last = pub.acked.at(-1);
    await waitFor(() => got.ns.includes(last), { timeout: 5000, what: 'the last message' });
    checkExact(assert, got, pub, 'after 503');
    assert.ok(back < 5000, `came back after ${back} ms`);
  } finally {
    await pub.stop();
    c.close();
  }
});

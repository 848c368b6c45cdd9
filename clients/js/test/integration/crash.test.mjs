// kill -9 mid-stream and a restart on the same data dir and port: both
// transports resume with no gap and no duplicate.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocket, checkExact, collector, connect, crashAndRestart, publisher, serverWith, waitFor } from './lib.mjs';

let server;
after(() => server?.destroy());

test('resumes exactly after the server is killed and restarted', async () => {
  server = await serverWith('heartbeat: 2s\n');
  const admin = await server.token(['--sub', 'pub', '--admin']);
  const reader = await server.token(['--sub', 'reader', '--subscribe', 'crash.>']);
  const opts = { url: server.url, token: reader, heartbeat: 2000, backoff: { base: 200, max: 1000 } };
  const sse = connect({ ...opts, transport: 'sse' });
  const ws = connect({ ...opts, transport: 'ws', WebSocket });
  const states = [];
  sse.on('state', (s) => states.push(s.state));
  const a = collector(sse, 'crash.>', { backlog: 0 });
  const b = collector(ws, 'crash.>', { backlog: 0 });
  await waitFor(() => sse.state === 'live' && ws.state === 'live', { what: 'both clients live' });
  const pub = publisher(server, admin, 'crash.seq');
  try {
    await waitFor(() => a.ns.length > 20 && b.ns.length > 20, { timeout: 10_000, what: 'messages before the crash' });
    await crashAndRestart(server);
    const mark = pub.acked.length;
    await waitFor(() => pub.acked.length > mark + 20, { timeout: 10_000, what: 'publishes after the restart' });
    await pub.stop();
    const last = pub.acked.at(-1);
    await waitFor(() => a.ns.includes(last) && b.ns.includes(last), { timeout: 10_000, what: 'the last message on both clients' });
    assert.ok(states.includes('reconnecting'), `states: ${states}`);
    assert.equal(sse.state, 'live');
    assert.equal(ws.state, 'live');
    checkExact(assert, a, pub, 'sse');
    checkExact(assert, b, pub, 'ws');
    assert.deepEqual(a.resets, []);
    assert.deepEqual(b.resets, []);
    assert.ok(sse.stats.reconnects >= 1 && ws.stats.reconnects >= 1);
  } finally {
    await pub.stop();
    sse.close();
    ws.close();
  }
});

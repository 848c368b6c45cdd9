// A token that expires every 5 s, for a minute: getToken mints fresh ones
// (`livedash token --ttl 5s`), the server ends each stream at its token's
// exp, and neither transport loses or repeats a message.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { WebSocket, checkExact, collector, connect, publisher, serverWith, sleep, waitFor } from './lib.mjs';

let server;
after(() => server?.destroy());

test('a 5 s token refreshed for a minute: no gap, no duplicate', { timeout: 120_000 }, async () => {
  server = await serverWith('heartbeat: 5s\n');
  const admin = await server.token(['--sub', 'pub', '--admin', '--ttl', '10m']);
  let minted = 0;
  const getToken = async () => {
    minted++;
    return server.token(['--sub', 'x', '--subscribe', 'p.>', '--ttl', '5s']);
  };
  const opts = { url: server.url, getToken, heartbeat: 5000, backoff: { base: 200, max: 1000 } };
  const sse = connect({ ...opts, transport: 'sse' });
  const ws = connect({ ...opts, transport: 'ws', WebSocket });
  const closed = [];
  for (const c of [sse, ws]) c.on('state', (s) => s.state === 'closed' && closed.push(s.reason));
  const a = collector(sse, 'p.>', { backlog: 0 });
  const b = collector(ws, 'p.>', { backlog: 0 });
  await waitFor(() => sse.state === 'live' && ws.state === 'live', { what: 'both clients live' });
  const pub = publisher(server, admin, 'p.seq', 50);
  try {
    await sleep(60_000);
    await pub.stop();
    const last = pub.acked.at(-1);
    await waitFor(() => a.ns.includes(last) && b.ns.includes(last), { timeout: 10_000, what: 'the last message on both clients' });
    assert.deepEqual(closed, []);
    assert.ok(pub.acked.length > 500, `published ${pub.acked.length}`);
    assert.equal(pub.uncertain.size, 0);
    checkExact(assert, a, pub, 'sse');
    checkExact(assert, b, pub, 'ws');
    // About one token per 4 s and client: refreshed ahead of exp, not only after a cut.
    assert.ok(minted >= 2 * 12, `getToken called ${minted} times`);
    assert.deepEqual(a.resets, []);
    assert.deepEqual(b.resets, []);
  } finally {
    await pub.stop();
    sse.close();
    ws.close();
  }
});

// A reset when the server cannot resume: history trimmed by retention (the
// messages are older than max_age and a restart runs retention at once),
// and an id of another epoch.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { connect, serverWith, waitFor } from './lib.mjs';

let server;
after(() => server?.destroy());

test('reports a reset when history was trimmed, then the fresh backlog', async () => {
  server = await serverWith('retention: {max_age: 1h}\n');
  const admin = await server.token(['--sub', 'pub', '--admin']);
  const old = Date.now() - 2 * 3_600_000;
  const ids = await server.publish(admin, [1, 2, 3, 4, 5].map((n) => ({ topic: 'old.a', data: { n }, ts: old + n })));
  await server.stop();
  await server.start(); // retention runs at start: all but the topic's last message go
  await waitFor(async () => (await server.api('GET', '/api/v1/history?topic=old.a', { token: admin })).messages.length === 1, { what: 'trimmed history' });

  const c = connect({ url: server.url, token: admin });
  const resets = [];
  const got = [];
  const sub = c.subscribe('old.a', { since: ids[0], onReset: (r) => resets.push(r), onMessage: (m) => got.push(m.id) });
  try {
    await waitFor(() => got.length === 1, { what: 'the backlog after the reset' });
    assert.deepEqual(resets, [{ topics: ['old.a'], reason: 'history trimmed' }]);
    assert.deepEqual(got, [ids[4]]);
    assert.equal(sub.lastId, ids[4]);
    assert.equal(c.stats.resets, 1);

    // An id from another epoch (another server's log): a reset too.
    const other = [];
    c.subscribe('old.a', { since: '3-anotherepoch', onReset: (r) => other.push(r.reason) });
    await waitFor(() => other.length === 1, { what: 'the reset for another epoch' });
    assert.deepEqual(other, ['unknown id']);
  } finally {
    c.close();
  }
});

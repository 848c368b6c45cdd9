// Helpers for the client's integration tests: the real binary (through the
// browser tests' harness), the client as built (dist/livedash.js), and a
// publisher that knows which of its messages the server acknowledged.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import WebSocket from 'ws';
import { connect } from '../../dist/livedash.js';
import { Server, freePort, sleep, tempDir, waitFor } from '../../../../web/e2e/lib/harness.mjs';

export { Server, WebSocket, connect, freePort, sleep, tempDir, waitFor };

/** A server started with a config file holding yaml. */
export async function serverWith(yaml, args = []) {
  const dir = await tempDir('livedash-client-cfg-');
  const file = path.join(dir, 'livedash.yaml');
  await writeFile(file, yaml);
  const s = new Server({ port: await freePort(), dataDir: await tempDir('livedash-client-'), args: ['--config', file, ...args] });
  await s.start();
  return s;
}

/** kill -9, then the same binary again on the same port and data dir. */
export async function crashAndRestart(server, downMs = 500) {
  const proc = server.proc;
  server.proc = null;
  proc.kill('SIGKILL');
  await proc.exited;
  await sleep(downMs);
  await server.start();
}

/**
 * Publishes {n} on topic every ms until stop(): acked holds the n the
 * server answered 200 to, uncertain those whose request failed (a crash
 * may have stored one without answering).
 */
export function publisher(server, token, topic, ms = 20) {
  const acked = [];
  const uncertain = new Set();
  let n = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const k = ++n;
      try {
        const r = await fetch(`${server.url}/api/v1/publish`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ topic, data: { n: k } }),
          signal: AbortSignal.timeout(2000),
        });
        if (r.ok) acked.push(k);
        else uncertain.add(k);
        await r.arrayBuffer();
      } catch {
        uncertain.add(k);
      }
      await sleep(ms);
    }
  })();
  return {
    acked,
    uncertain,
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Subscribes c to topic, collecting the n of each message and every id. */
export function collector(c, topic, opts = {}) {
  const got = { ns: [], ids: [], resets: [] };
  got.sub = c.subscribe(topic, {
    ...opts,
    onMessage: (m) => {
      got.ns.push(m.data.n);
      got.ids.push(m.id);
    },
    onReset: (r) => got.resets.push(r),
  });
  return got;
}

/**
 * Checks what a client got against what was published: every acked n, in
 * order, none twice, nothing else but maybe an uncertain one; and no id twice.
 */
export function checkExact(assert, got, pub, what) {
  assert.equal(new Set(got.ids).size, got.ids.length, `${what}: an id delivered twice`);
  for (let i = 1; i < got.ns.length; i++) assert.ok(got.ns[i] > got.ns[i - 1], `${what}: out of order or repeated at ${i}: ${got.ns[i - 1]} then ${got.ns[i]}`);
  const have = new Set(got.ns);
  const missing = pub.acked.filter((n) => !have.has(n));
  assert.deepEqual(missing, [], `${what}: acknowledged messages missing (a gap)`);
  const extra = got.ns.filter((n) => !pub.acked.includes(n) && !pub.uncertain.has(n));
  assert.deepEqual(extra, [], `${what}: messages nobody published`);
}

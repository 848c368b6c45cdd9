// `npm pack` gives a working package: its tarball, installed where another
// project would have it, imports as an ES module and type-checks a consumer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { tempDir } from './lib.mjs';

const run = promisify(execFile);
const PKG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('npm pack: a tarball that imports and type-checks', { timeout: 90_000 }, async () => {
  const dir = await tempDir('livedash-pack-');
  try {
    const { stdout } = await run('npm', ['pack', '--pack-destination', dir, '--json'], { cwd: PKG });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('[')));
    const files = info.files.map((f) => f.path).sort();
    assert.ok(files.includes('dist/livedash.js') && files.includes('dist/index.d.ts'), files.join(' '));
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), files.join(' '));
    const mod = path.join(dir, 'consumer', 'node_modules', 'livedash');
    await mkdir(mod, { recursive: true });
    await run('tar', ['xzf', path.join(dir, info.filename), '-C', mod, '--strip-components=1']);
    const pkg = JSON.parse(await readFile(path.join(mod, 'package.json'), 'utf8'));
    assert.equal(pkg.type, 'module');
    assert.deepEqual(pkg.dependencies ?? {}, {}, 'no runtime dependencies');
    // The budget: under 6 KB on the wire.
    const gz = gzipSync(await readFile(path.join(mod, 'dist', 'livedash.js')), { level: 9 }).length;
    assert.ok(gz < 6 * 1024, `livedash.js is ${gz} bytes gzipped`);
    const lib = await import(pathToFileURL(path.join(mod, 'dist', 'livedash.js')).href);
    assert.equal(typeof lib.connect, 'function');
    const c = lib.connect({ url: 'http://127.0.0.1:1' });
    assert.equal(c.state, 'connecting');
    c.close();
    assert.equal(c.state, 'closed');
    const consumer = path.join(dir, 'consumer');
    await writeFile(
      path.join(consumer, 'use.ts'),
      `import { connect, type Envelope, type StateChange } from 'livedash';
const c = connect({ url: 'https://live.example.com', getToken: async () => 'jwt', transport: 'auto' });
c.on('state', (s: StateChange) => console.log(s.state, s.reason));
const sub = c.subscribe(['shop.>'], { backlog: 10, onMessage: (m: Envelope) => m.id.length, on: { alert: (m) => m.data } });
const ids: Promise<string[]> = c.publish({ topic: 'shop.orders', data: 1 });
void ids; sub.unsubscribe(); c.close();
// @ts-expect-error: transport is one of three
connect({ url: 'x', transport: 'carrier-pigeon' });
`,
    );
    await writeFile(path.join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [] }, files: ['use.ts'] }));
    await writeFile(path.join(consumer, 'package.json'), '{"type":"module"}');
    await run(process.execPath, [path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer]).catch((e) => assert.fail(`the consumer does not type-check:\n${e.stdout}`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

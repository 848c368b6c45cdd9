// Which browser the tests drive: CHROMIUM_PATH, else the first known name
// on PATH, else a clear error (no path is assumed).
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { browserPath } from './lib/harness.mjs';

test('browserPath: CHROMIUM_PATH, else the first browser on PATH, else an error', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'livedash-browser-'));
  const other = await mkdtemp(path.join(tmpdir(), 'livedash-browser-'));
  try {
    for (const [d, name] of [[dir, 'google-chrome'], [other, 'chromium-browser']]) {
      await writeFile(path.join(d, name), '#!/bin/sh\n');
      await chmod(path.join(d, name), 0o755);
    }
    await writeFile(path.join(dir, 'chromium'), 'not executable');
    const PATH = [path.join(dir, 'missing'), dir, other].join(path.delimiter);
    assert.equal(browserPath({ PATH }), path.join(other, 'chromium-browser'), 'chromium-browser comes before google-chrome');
    assert.equal(browserPath({ PATH: dir }), path.join(dir, 'google-chrome'), 'a file that is not executable is skipped');
    assert.equal(browserPath({ PATH, CHROMIUM_PATH: '/opt/x/chrome' }), '/opt/x/chrome');
    assert.throws(() => browserPath({ PATH: path.join(dir, 'missing') }), /install chromium or set CHROMIUM_PATH/);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(other, { recursive: true, force: true });
  }
});

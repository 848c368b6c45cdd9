// Shared helpers for the browser end-to-end tests: start the real livedash
// binary on a free 127.0.0.1 port, mint tokens, publish over HTTP, and drive
// Debian's Chromium through playwright-core. Every wait is bounded; every
// process started here is killed when the test file ends (after hooks, and a
// last-resort exit handler).

import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const SECRET = 'e2e-secret-0123456789abcdef0123456789abcdef';
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// `make screenshots` points this at docs/screenshots, the ones the docs show.
export const SCREENSHOTS = process.env.LIVEDASH_SCREENSHOTS || path.join(REPO_ROOT, 'test-artifacts', 'screenshots');

export function binPath() {
  const bin = process.env.LIVEDASH_BIN || path.join(REPO_ROOT, 'bin', 'livedash');
  if (!path.isAbsolute(bin)) return path.resolve(process.cwd(), bin);
  return bin;
}

const live = new Set(); // child processes still running, killed on exit
process.on('exit', () => {
  for (const c of live) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
});

// Interrupted (Ctrl-C, the runner's own timeout): kill the servers, then exit.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    for (const c of live) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    process.exit(130);
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolves fn() once it returns a truthy value; throws after ms. */
export async function waitFor(fn, { timeout = 5000, interval = 50, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(interval);
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export async function tempDir(prefix = 'livedash-e2e-') {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/**
 * A livedash server process. start() launches it and waits for /healthz;
 * stop() sends SIGTERM and waits (SIGKILL after a few seconds). It can be
 * started again on the same port and data dir.
 */
export class Server {
  constructor({ port, dataDir, args = [] }) {
    this.port = port;
    this.dataDir = dataDir;
    this.args = args;
    this.proc = null;
    this.log = '';
    this.url = `http://127.0.0.1:${port}`;
  }

  static async create({ args = [] } = {}) {
    const s = new Server({ port: await freePort(), dataDir: await tempDir(), args });
    await s.start();
    return s;
  }

  async start() {
    const proc = spawn(binPath(), ['serve', '--addr', `127.0.0.1:${this.port}`, '--data', this.dataDir, ...this.args], {
      env: { ...process.env, LIVEDASH_SECRET: SECRET },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    live.add(proc);
    const exited = new Promise((resolve) => proc.once('exit', (code, sig) => resolve({ code, sig })));
    proc.exited = exited;
    exited.then(() => live.delete(proc));
    const keep = (b) => {
      this.log += b.toString();
      if (this.log.length > 200_000) this.log = this.log.slice(-100_000);
    };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let gone = null;
    exited.then((r) => (gone = r));
    await waitFor(
      async () => {
        if (gone) throw new Error(`server exited (${gone.code ?? gone.sig}) before it was healthy:\n${this.log}`);
        const r = await fetch(this.url + '/healthz', { signal: AbortSignal.timeout(1000) });
        return r.ok;
      },
      { timeout: 10_000, interval: 50, what: `${this.url}/healthz` },
    ).catch((e) => {
      if (gone) throw new Error(`server exited (${gone.code ?? gone.sig}) before it was healthy:\n${this.log}`);
      throw e;
    });
    return this;
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs = 8000) {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exited;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    const r = await proc.exited;
    clearTimeout(t);
    return r;
  }

  async destroy() {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true }).catch(() => {});
  }

  /** A token signed with the test secret, from `livedash token`. */
  token(args = ['--sub', 'e2e', '--admin']) {
    return new Promise((resolve, reject) => {
      execFile(binPath(), ['token', ...args], { env: { ...process.env, LIVEDASH_SECRET: SECRET }, timeout: 5000 }, (err, out, errOut) => {
        if (err) reject(new Error(`livedash token: ${err.message} ${errOut}`));
        else resolve(out.trim());
      });
    });
  }

  async api(method, p, { token, body, raw = false } = {}) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(this.url + p, {
      method,
      headers,
      body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await r.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return json;
  }

  /** POST /api/v1/publish with one message or an array; returns the ids. */
  async publish(token, msgs) {
    const r = await this.api('POST', '/api/v1/publish', { token, body: msgs });
    return r.ids;
  }
}

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// The Chromium (or Chrome) the tests drive: CHROMIUM_PATH when set, else
// the first of these names found on PATH (Debian, Ubuntu and Google's).
export const BROWSER_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

export function browserPath(env = process.env) {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  for (const name of BROWSER_NAMES) {
    for (const dir of (env.PATH || '').split(path.delimiter)) {
      if (!dir) continue;
      const file = path.join(dir, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // not here
      }
    }
  }
  throw new Error(`no browser: none of ${BROWSER_NAMES.join(', ')} is on PATH; install chromium or set CHROMIUM_PATH`);
}

// startServer starts a fresh server (args) and mints its admin token.
export async function startServer(args = ['--host-metrics', 'off']) {
  const server = await Server.create({ args });
  return { server, admin: await server.token() };
}

// stopAll closes what a test file's before() started.
export async function stopAll(server, browser) {
  await browser?.close().catch(() => {});
  await server?.destroy();
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: browserPath(),
    args: CHROMIUM_ARGS,
    timeout: 20_000,
  });
}

/**
 * A new page in a fresh context, collecting console errors and uncaught page
 * errors in page.errors.
 */
export async function newPage(browser, { viewport = { width: 1440, height: 900 }, colorScheme = 'light', ignore = [] } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, deviceScaleFactor: 1 });
  context.setDefaultTimeout(5000);
  context.setDefaultNavigationTimeout(10_000);
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (ignore.some((re) => re.test(text))) return;
    page.errors.push(`console: ${text}`);
  });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  return page;
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, name);
  // Show the whole page in view, as a tall screen would: rows out of view
  // are not rendered (content-visibility), so a full-page capture of a
  // short viewport would show them blank.
  const vp = page.viewportSize();
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (vp && height > vp.height) {
    await page.setViewportSize({ width: vp.width, height });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  }
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled', timeout: 10_000 });
  if (vp && height > vp.height) await page.setViewportSize(vp);
  return file;
}

/** The test dashboard: a stat, a chart, alerts and a feed on e2e.* topics. */
export const TEST_DASHBOARD = {
  name: 'e2e',
  title: 'E2E checks',
  columns: 4,
  widgets: [
    { id: 'temp', type: 'stat', title: 'Temperature', topics: ['e2e.temp'], options: { decimals: 1, unit: '°C', sparkline: true } },
    { id: 'requests', type: 'stat', title: 'Requests', topics: ['e2e.requests'], options: { decimals: 0, compact: true } },
    { id: 'temp-chart', type: 'chart', title: 'Temperature over time', topics: ['e2e.temp'], w: 2, h: 2, options: { window: '5m', decimals: 1, unit: '°C' } },
    { id: 'alerts', type: 'alerts', title: 'Alerts', topics: ['e2e.alerts.>'], w: 2, h: 2 },
    { id: 'events', type: 'feed', title: 'Events', topics: ['e2e.events'], w: 2, h: 2, options: { fields: ['n', 'note'], limit: 200 } },
  ],
};

export async function putTestDashboard(server, token, d = TEST_DASHBOARD) {
  await server.api('PUT', `/api/v1/dashboards/${d.name}`, { token, body: d });
}

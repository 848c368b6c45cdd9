// The dashboard editor in Chromium against a real server: a dashboard built
// from nothing (three widgets, live while editing, saved, reloaded and still
// live); keyboard moves and undo; a validation error on its field with the
// save refused; a built-in dashboard copied to edit; a viewer token with no
// edit controls and a 403 when it PUTs anyway; screenshots, light and dark.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { SCREENSHOTS, launchBrowser, newPage, putTestDashboard, startServer, stopAll, waitFor } from './lib/harness.mjs';

let server, browser, admin, viewer;

before(async () => {
  ({ server, admin } = await startServer());
  viewer = await server.token(['--sub', 'v', '--subscribe', 'e2e.>']);
  browser = await launchBrowser();
}, { timeout: 30_000 });

after(() => stopAll(server, browser), { timeout: 20_000 });

const order = (page) => page.locator('.edit-cell').evaluateAll((els) => els.map((e) => e.getAttribute('data-widget')).join(','));

/** Adds a widget of type with one topic through the editor's controls. */
async function addWidget(page, type, topic) {
  await page.getByRole('button', { name: `+ ${type}`, exact: true }).click();
  const side = page.locator('.editor-side');
  await side.getByLabel('Topics').fill(topic);
  await side.getByLabel('Topics').press('Enter');
  await side.locator('.chip-edit', { hasText: topic }).waitFor();
}

test('build a dashboard from nothing: three widgets, live while editing, saved, reloaded, still live', { timeout: 60_000 }, async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/?token=${admin}`);
  await page.getByRole('link', { name: 'New dashboard' }).click();
  await page.waitForURL('**/new');
  await page.getByLabel('Name (in the URL)').fill('built');
  await page.locator('.editor-bar').getByLabel('Title').fill('Built in the editor');

  await addWidget(page, 'stat', 'e2e.ed.temp');
  await page.locator('.editor-side').getByLabel('Title').fill('Temperature');
  await page.locator('.editor-side').getByLabel('Unit').fill('°C');
  await page.locator('.editor-side').getByLabel('Decimals').fill('2');
  await addWidget(page, 'chart', 'e2e.ed.temp');
  await page.locator('.editor-side').getByLabel('Title').fill('Temperature, last 5 minutes');
  await page.locator('.editor-side').getByLabel('Window').fill('5m');
  await addWidget(page, 'feed', 'e2e.ed.events');
  await page.locator('.editor-side').getByLabel('Title').fill('Events');
  assert.equal(await order(page), 'w1,w2,w3');

  // The preview is live while editing.
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await server.publish(admin, { topic: 'e2e.ed.temp', type: 'point', data: 21.5 });
  await page.locator('.edit-cell[data-widget="w1"] .stat-value', { hasText: '21.50' }).waitFor({ timeout: 5000 });

  // Keyboard: Alt+Left on the focused feed moves it before the chart; at
  // the left edge a further move does nothing; undo puts it back.
  const feed = page.locator('.edit-cell[data-widget="w3"]');
  await feed.focus();
  await page.keyboard.press('Alt+ArrowLeft');
  assert.equal(await order(page), 'w1,w3,w2');
  await page.keyboard.press('Alt+ArrowLeft');
  await page.keyboard.press('Alt+ArrowLeft');
  assert.equal(await order(page), 'w3,w1,w2', 'stops at the first place');
  await page.keyboard.press('Alt+Shift+ArrowDown');
  assert.equal(await page.locator('.edit-cell[data-widget="w3"] .edit-size').textContent(), '2×3');
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('button', { name: 'Undo' }).click();
  assert.equal(await order(page), 'w1,w2,w3');
  assert.equal(await page.locator('.edit-cell[data-widget="w3"] .edit-size').textContent(), '2×2');
  await page.locator('.edit-cell[data-widget="w2"]').focus();
  await page.keyboard.press('Alt+Delete');
  assert.equal(await order(page), 'w1,w3');
  await page.getByRole('button', { name: 'Undo' }).click();
  assert.equal(await order(page), 'w1,w2,w3');
  // The stream was not interrupted by any of it.
  assert.equal(await page.locator('.edit-cell[data-widget="w1"] .stat-value').textContent(), '21.50');

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.notice.ok', { hasText: 'Saved' }).waitFor();
  const saved = await server.api('GET', '/api/v1/dashboards/built', { token: admin });
  assert.equal(saved.title, 'Built in the editor');
  assert.deepEqual(saved.widgets.map((w) => [w.id, w.type, w.topics[0]]), [
    ['w1', 'stat', 'e2e.ed.temp'],
    ['w2', 'chart', 'e2e.ed.temp'],
    ['w3', 'feed', 'e2e.ed.events'],
  ]);
  assert.deepEqual(saved.widgets[0].options, { unit: '°C', decimals: 2 });

  await page.goto(`${server.url}/d/built`);
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  assert.equal(await page.locator('.grid .card').count(), 3);
  await server.publish(admin, [
    { topic: 'e2e.ed.temp', type: 'point', data: 22.25 },
    { topic: 'e2e.ed.events', type: 'event', data: { note: 'after reload' } },
  ]);
  await page.locator('.stat-value', { hasText: '22.25' }).waitFor({ timeout: 5000 });
  await page.locator('.feed', { hasText: 'after reload' }).waitFor({ timeout: 5000 });
  // An admin sees the Edit button, which opens the editor on this dashboard.
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.waitForURL('**/d/built/edit');
  await page.locator('.edit-cell').nth(2).waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('mouse: drag a widget to move it, drag its corner to resize it; a server 400 lands on its field', { timeout: 40_000 }, async () => {
  const page = await newPage(browser, { ignore: [/status of 400/] });
  await page.goto(`${server.url}/d/built/edit?token=${admin}`);
  await page.locator('.edit-cell[data-widget="w3"]').waitFor();
  assert.equal(await order(page), 'w1,w2,w3');
  await page.dragAndDrop('.edit-cell[data-widget="w3"] .edit-shield', '.edit-cell[data-widget="w1"] .edit-shield');
  await waitFor(async () => (await order(page)) === 'w3,w1,w2', { what: 'the order after a drag' });

  const handle = await page.locator('.edit-cell[data-widget="w1"] .edit-resize').boundingBox();
  const cell = await page.locator('.edit-cell[data-widget="w1"]').boundingBox();
  await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
  await page.mouse.down();
  await page.mouse.move(handle.x + cell.width * 1.1, handle.y + cell.height * 1.1, { steps: 6 });
  await page.mouse.up();
  assert.equal(await page.locator('.edit-cell[data-widget="w1"] .edit-size').textContent(), '2×2');
  // One drag is one undo step.
  await page.getByRole('button', { name: 'Undo' }).click();
  assert.equal(await page.locator('.edit-cell[data-widget="w1"] .edit-size').textContent(), '1×1');
  await page.getByRole('button', { name: 'Undo' }).click();
  assert.equal(await order(page), 'w1,w2,w3');

  // Autocomplete: the known topics, and the fields of the last message of the selected widget's topics.
  await waitFor(async () => (await page.locator('#editor-topics option[value="e2e.ed.events"]').count()) === 1, { what: 'the topic in the datalist' });
  await page.locator('.edit-cell[data-widget="w3"]').click();
  await page.locator('.editor-side .chip-add', { hasText: 'note' }).click();
  await page.locator('.editor-side [data-field="widgets.2.options.fields"] .chip-edit', { hasText: 'note' }).waitFor();
  await page.getByRole('button', { name: 'Undo' }).click();

  // The server's own 400 (here one the client would have caught, answered
  // by a stand-in so the mapping is what is tested) goes on the field it names.
  const msg = 'dashboard "built": widget 2 ("w2"): options.window: is "later"; use a duration such as 30s, 5m or 1h';
  await page.route('**/api/v1/dashboards/built', (route) =>
    route.request().method() === 'PUT' ? route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ error: msg }) }) : route.continue(),
  );
  await page.locator('.editor-bar').getByLabel('Title').fill('Built, edited');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const err = page.locator('.editor-side [data-field="widgets.1.options.window"] .field-error');
  await err.waitFor();
  assert.equal(await err.textContent(), 'is "later"; use a duration such as 30s, 5m or 1h');
  assert.equal(await page.locator('.edit-cell.selected').getAttribute('data-widget'), 'w2', 'the widget named is selected');
  assert.equal((await server.api('GET', '/api/v1/dashboards/built', { token: admin })).title, 'Built in the editor');

  // Unsaved changes: leaving by an in-app link asks first.
  page.once('dialog', (d) => d.dismiss());
  await page.locator('.topbar').getByRole('link', { name: 'View' }).click();
  assert.match(page.url(), /\/d\/built\/edit$/, 'dismissed: still in the editor');
  page.once('dialog', (d) => d.accept());
  await page.locator('.topbar').getByRole('link', { name: 'View' }).click();
  await page.waitForURL('**/d/built');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a validation error shows on its field and the save is refused', { timeout: 40_000 }, async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/new?token=${admin}`);
  await page.getByLabel('Name (in the URL)').fill('invalid');
  await page.getByRole('button', { name: '+ chart', exact: true }).click();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  const topicErr = page.locator('.editor-side [data-field="widgets.0.topics"] .field-error');
  await topicErr.waitFor();
  assert.match(await topicErr.textContent(), /at least one topic/);
  await page.locator('.notice.bad', { hasText: 'Not saved' }).waitFor();

  // A bad option: the window field says what is wrong as soon as it is typed.
  const side = page.locator('.editor-side');
  await side.getByLabel('Topics').fill('e2e.ed.x');
  await side.getByLabel('Topics').press('Enter');
  await side.getByLabel('Window').fill('5 minutes');
  const windowErr = side.locator('[data-field="widgets.0.options.window"] .field-error');
  await windowErr.waitFor();
  assert.match(await windowErr.textContent(), /a duration such as 30s, 5m or 1h/);
  assert.equal(await topicErr.count(), 0, 'the topics error is gone once a topic is given');
  assert.equal(await page.locator('.edit-cell.has-error').count(), 1, 'the widget is marked');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.notice.bad', { hasText: '1 problem' }).waitFor();
  await assert.rejects(server.api('GET', '/api/v1/dashboards/invalid', { token: admin }), /404/);

  // The same rule in the JSON mode.
  await page.getByRole('button', { name: 'JSON', exact: true }).click();
  await page.locator('.json-errors [data-error-for="widgets.0.options.window"]').waitFor();
  await page.getByLabel('Dashboard JSON').fill('{"name":"invalid","title":"","widgets":[{"id":"a","type":"pie","topics":["x"]}]}');
  await page.locator('.json-errors [data-error-for="widgets.0.type"]', { hasText: 'unknown type "pie"' }).waitFor();
  await page.getByLabel('Dashboard JSON').fill('{"name":"invalid","title":"Fixed","widgets":[{"id":"a","type":"stat","topics":["e2e.ed.x"]}]}');
  await page.locator('.field-ok', { hasText: 'Valid' }).waitFor();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.notice.ok', { hasText: 'Saved' }).waitFor();
  assert.equal((await server.api('GET', '/api/v1/dashboards/invalid', { token: admin })).title, 'Fixed');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a built-in dashboard is read-only: copy to edit saves an API copy, which can be renamed and deleted', { timeout: 30_000 }, async () => {
  const page = await newPage(browser);
  await page.goto(`${server.url}/d/shop/edit?token=${admin}`);
  await page.locator('.notice.warn', { hasText: 'read-only' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Delete…' }).count(), 0);
  await page.getByLabel('New name').fill('shop mine');
  await page.getByRole('button', { name: 'Save copy' }).click();
  await page.locator('.notice.warn [data-error-for="copyName"]', { hasText: 'A-Z a-z 0-9' }).waitFor();
  await page.getByLabel('New name').fill('shop');
  await page.getByRole('button', { name: 'Save copy' }).click();
  await page.locator('.notice.warn [data-error-for="copyName"]', { hasText: 'already exists' }).waitFor();
  await page.getByLabel('New name').fill('shop-mine');
  await page.getByRole('button', { name: 'Save copy' }).click();
  await page.locator('.notice.ok', { hasText: 'Saved' }).waitFor();
  await page.waitForURL('**/d/shop-mine/edit');
  const copy = await server.api('GET', '/api/v1/dashboards/shop-mine', { token: admin });
  const shop = await server.api('GET', '/api/v1/dashboards/shop', { token: admin });
  assert.equal(copy.widgets.length, shop.widgets.length);

  // The copy can be renamed: the new name answers, the old one is gone.
  await page.getByRole('button', { name: 'Rename…' }).click();
  await page.getByRole('group', { name: 'Rename' }).getByLabel('New name').fill('shop');
  await page.getByRole('group', { name: 'Rename' }).getByRole('button', { name: 'Rename' }).click();
  await page.locator('[data-error-for="copyName"]', { hasText: 'already exists' }).waitFor();
  await page.getByRole('group', { name: 'Rename' }).getByLabel('New name').fill('shop-ours');
  await page.getByRole('group', { name: 'Rename' }).getByRole('button', { name: 'Rename' }).click();
  await page.locator('.notice.ok', { hasText: 'Renamed “shop-mine” to “shop-ours”' }).waitFor();
  await page.waitForURL('**/d/shop-ours/edit');
  assert.equal((await server.api('GET', '/api/v1/dashboards/shop-ours', { token: admin })).widgets.length, shop.widgets.length);
  await assert.rejects(server.api('GET', '/api/v1/dashboards/shop-mine', { token: admin }), /404/);

  // The copy can be deleted, after a confirmation.
  await page.getByRole('button', { name: 'Delete…' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${server.url}/`);
  await assert.rejects(server.api('GET', '/api/v1/dashboards/shop-ours', { token: admin }), /404/);
  await page.context().close();
});

test('a viewer sees no edit controls, and a PUT with its token is a 403', { timeout: 30_000 }, async () => {
  await putTestDashboard(server, admin);
  const page = await newPage(browser);
  await page.goto(`${server.url}/d/e2e?token=${viewer}`);
  await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
  await page.locator('.grid .card').first().waitFor();
  assert.equal(await page.getByRole('link', { name: 'Edit' }).count(), 0);
  await page.goto(`${server.url}/`);
  await page.locator('section.dashboards').waitFor();
  assert.equal(await page.getByRole('link', { name: 'New dashboard' }).count(), 0);
  await page.goto(`${server.url}/d/e2e/edit`);
  await page.getByText('Editing dashboards needs an admin token').waitFor();
  assert.equal(await page.locator('.edit-cell, .editor-bar').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Save' }).count(), 0);

  // Trying anyway, from the page with the viewer's token: refused.
  const status = await page.evaluate(async (token) => {
    const r = await fetch('/api/v1/dashboards/e2e', { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ title: 'hacked', widgets: [] }) });
    return r.status;
  }, viewer);
  assert.equal(status, 403);
  assert.equal((await server.api('GET', '/api/v1/dashboards/e2e', { token: admin })).title, 'E2E checks');
  await page.context().close();
});

test('screenshots: the editor, light and dark', { timeout: 40_000 }, async () => {
  const dir = SCREENSHOTS; // docs/screenshots with make screenshots
  await mkdir(dir, { recursive: true });
  const now = Date.now();
  await server.publish(admin, Array.from({ length: 30 }, (_, i) => ({ topic: 'e2e.ed.temp', type: 'point', ts: now - (30 - i) * 5000, data: 20 + Math.sin(i / 4) * 3 })));
  await server.publish(admin, [
    { topic: 'e2e.ed.temp', type: 'point', data: 22.3 },
    { topic: 'e2e.ed.events', type: 'event', data: { note: 'deploy finished', by: 'ci' } },
    { topic: 'e2e.ed.events', type: 'event', data: { note: 'cache warmed', by: 'ops' } },
  ]);
  for (const scheme of ['light', 'dark']) {
    const page = await newPage(browser, { colorScheme: scheme, viewport: { width: 1440, height: 1000 } });
    await page.goto(`${server.url}/d/built/edit?token=${admin}`);
    await page.locator('.topbar .badge-live').waitFor({ timeout: 5000 });
    await page.locator('.edit-cell[data-widget="w1"]').click();
    await page.locator('.editor-side').getByRole('button', { name: 'Add threshold' }).click();
    await waitFor(async () => (await page.locator('.edit-cell[data-widget="w2"] .chart-box canvas').count()) > 0, { what: 'the chart' });
    await page.mouse.move(0, 0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(dir, `editor-${scheme}.png`), animations: 'disabled' });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});

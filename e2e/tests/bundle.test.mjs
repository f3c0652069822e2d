// The split bundle in a real browser: a direct link loads the main module and its own page
// group's chunk (preloaded by the page), never another group's; navigating to a page of
// another group loads that group then; the back and forward buttons return to pages that
// still work; every answer carries its group's preloads (ARCHITECTURE.md, "The browser
// bundle").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminSession, hydrated } from './harness.mjs';

const ADMIN = { email: 'bundle-admin@example.com', password: 'e2e-admin-Pangolin-5821' };
const VALID = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'templates', 'crm-basic-api-key.xml');

let session;
let portal;
let page;
let requested = [];

before(async () => {
  session = await adminSession('bundle', ADMIN);
  ({ portal, page } = session);
  page.on('request', (request) => requested.push(new URL(request.url()).pathname));
});

after(async () => {
  await session?.stop();
});

const groupsLoaded = () => [...new Set(requested
  .map((path) => /^\/pkg\/split_([a-z]+)_pages_/.exec(path)?.[1])
  .filter(Boolean))].sort();

test('a direct link loads its own page group only', async () => {
  requested = [];
  await page.goto(`${portal.base}/templates/crm`);
  await hydrated(page);
  await page.getByRole('heading', { name: 'No CRM templates yet' }).waitFor();
  assert.deepEqual(groupsLoaded(), ['template']);
  const preloads = await page.locator('link[rel=preload][href*="/pkg/split_"]').evaluateAll(
    (links) => links.map((link) => new URL(link.href).pathname));
  assert.equal(preloads.length, 1, `one group chunk preloaded, got ${preloads}`);
  assert.match(preloads[0], /^\/pkg\/split_template_pages_/);
});

// Pages rendered whole before they are sent (SsrMode::Async) once lost their preloads about
// one time in six (app/src/root.rs, preload_page_group): every answer must carry them, once.
test('every answer for a page carries its group\'s preloads, each once', async () => {
  for (const [path, group] of [['/templates/crm', 'template'], ['/calls', 'agent'], ['/accounts', 'operations']]) {
    for (let i = 0; i < 15; i++) {
      const html = await (await page.context().request.get(`${portal.base}${path}`)).text();
      const preloads = [...html.matchAll(/<link[^>]*rel="preload"[^>]*>/g)]
        .map(([link]) => /href="([^"]+)"/.exec(link)[1]);
      const groups = preloads.map((href) => /\/pkg\/split_([a-z]+)_pages_/.exec(href)?.[1]).filter(Boolean);
      assert.deepEqual(groups, [group], `${path}, answer ${i + 1}: ${preloads}`);
      assert.equal(new Set(preloads).size, preloads.length, `${path}: a preload repeated`);
      assert.ok(preloads.filter((href) => /\/pkg\/chunk_\d+\./.test(href)).length > 0, `${path}: the group's shared chunks`);
    }
  }
});

test('another group loads when navigated to, and back and forward keep both pages working', async () => {
  requested = [];
  await page.goto(`${portal.base}/templates/crm`);
  await hydrated(page);
  await page.getByRole('link', { name: 'CRM integrations' }).click();
  await page.waitForURL(`${portal.base}/integrations/crm`);
  await page.getByRole('heading', { name: /Integrations › CRM/ }).waitFor();
  assert.deepEqual(groupsLoaded(), ['integration', 'template']);
  assert.equal(requested.filter((path) => path.startsWith('/integrations')).length, 0,
    'client-side navigation: no page request to the server');

  await page.goBack();
  await page.waitForURL(`${portal.base}/templates/crm`);
  await page.getByRole('heading', { name: 'No CRM templates yet' }).waitFor();
  // The page came back alive: an upload goes through and the list follows.
  await page.locator('input[type=file]').setInputFiles([VALID]);
  await page.locator('.upload-results li[data-status="stored"]').waitFor();
  await page.getByTestId('template-counter').filter({ hasText: '1 / 10' }).waitFor();

  await page.goForward();
  await page.waitForURL(`${portal.base}/integrations/crm`);
  await page.getByRole('heading', { name: /Integrations › CRM/ }).waitFor();
  assert.deepEqual(groupsLoaded(), ['integration', 'template']);
  const fetches = requested.filter((path) => path.startsWith('/pkg/split_'));
  assert.equal(fetches.length, 2, `each group fetched once: ${fetches}`);
});

test('the agents\' page loads none of the administrators\' groups', async () => {
  requested = [];
  await page.goto(`${portal.base}/calls`);
  await hydrated(page);
  assert.deepEqual(groupsLoaded(), ['agent']);
});

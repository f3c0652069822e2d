// The split bundle in a real browser: a direct link loads the main module and its own page
// group's pack (preloaded by the page: the group's chunks in one file), never another group's
// code; navigating to a page of another group loads that group then, from its pack or as the
// chunks it lacks, whichever costs less; the back and forward buttons return to pages that
// still work; every answer carries its group's preload (ARCHITECTURE.md, "The browser
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

// A group's own chunk (split_<group>_pages_<n>) comes alone or in its pack (pack_<group>_pages).
const groupsLoaded = () => [...new Set(requested
  .map((path) => /^\/pkg\/(?:split|pack)_([a-z]+)_pages[_.]/.exec(path)?.[1])
  .filter(Boolean))].sort();
const wasmRequests = () => requested.filter((path) => /^\/pkg\/.*\.(wasm|bin)$/.test(path));
const assertNoFileFetchedTwice = () => {
  const fetches = wasmRequests();
  assert.equal(new Set(fetches).size, fetches.length, `a file fetched twice: ${fetches}`);
};

test('a direct link loads its own page group only, in one file', async () => {
  requested = [];
  await page.goto(`${portal.base}/templates/crm`);
  await hydrated(page);
  await page.getByRole('heading', { name: 'No CRM templates yet' }).waitFor();
  assert.deepEqual(groupsLoaded(), ['template']);
  const preloads = await page.locator('link[rel=preload][href*="/pkg/pack_"]').evaluateAll(
    (links) => links.map((link) => new URL(link.href).pathname));
  assert.equal(preloads.length, 1, `one pack preloaded, got ${preloads}`);
  assert.match(preloads[0], /^\/pkg\/pack_template_pages\.[0-9a-f]{16}\.bin$/);
  // The main module and the pack: no chunk fetched on its own, the pack fetched once.
  const wasm = wasmRequests();
  assert.equal(wasm.length, 2, `the main module and the pack only: ${wasm}`);
  assert.deepEqual(wasm.filter((path) => path.startsWith('/pkg/pack_')), preloads);
});

// Pages rendered whole before they are sent (SsrMode::Async) once lost their preloads about
// one time in six (app/src/root.rs, preload_page_group): every answer must carry them, once.
test('every answer for a page carries its group\'s preload, once', async () => {
  for (const [path, group] of [['/templates/crm', 'template'], ['/calls', 'agent'], ['/accounts', 'directory']]) {
    for (let i = 0; i < 15; i++) {
      const html = await (await page.context().request.get(`${portal.base}${path}`)).text();
      const preloads = [...html.matchAll(/<link[^>]*rel="preload"[^>]*>/g)]
        .map(([link]) => /href="([^"]+)"/.exec(link)[1]);
      const packs = preloads.map((href) => /\/pkg\/pack_([a-z]+)_pages\./.exec(href)?.[1]).filter(Boolean);
      assert.deepEqual(packs, [group], `${path}, answer ${i + 1}: ${preloads}`);
      assert.equal(new Set(preloads).size, preloads.length, `${path}: a preload repeated`);
      assert.equal(preloads.filter((href) => /\/pkg\/(chunk|split)_/.test(href)).length, 0, `${path}: a chunk preloaded on its own`);
    }
  }
});

test('another group loads when navigated to, and back and forward keep both pages working', async () => {
  requested = [];
  await page.goto(`${portal.base}/templates/crm`);
  await hydrated(page);
  await page.getByRole('link', { name: 'Activity', exact: true }).click();
  await page.waitForURL(`${portal.base}/activity`);
  await page.getByRole('heading', { name: 'Activity', exact: true }).waitFor();
  assert.deepEqual(groupsLoaded(), ['operations', 'template']);
  assert.equal(requested.filter((path) => path.startsWith('/activity')).length, 0,
    'client-side navigation: no page request to the server');

  await page.goBack();
  await page.waitForURL(`${portal.base}/templates/crm`);
  await page.getByRole('heading', { name: 'No CRM templates yet' }).waitFor();
  // The page came back alive: an upload goes through and the list follows.
  await page.locator('input[type=file]').setInputFiles([VALID]);
  await page.locator('.upload-results li[data-status="stored"]').waitFor();
  await page.getByTestId('template-counter').filter({ hasText: '1 / 10' }).waitFor();

  await page.goForward();
  await page.waitForURL(`${portal.base}/activity`);
  await page.getByRole('heading', { name: 'Activity', exact: true }).waitFor();
  assert.deepEqual(groupsLoaded(), ['operations', 'template']);
  assertNoFileFetchedTwice();
});

// Navigating on, a group's chunks come from its pack or one by one, whichever costs less
// (.ci/name-bundle.mjs); either way each chunk reaches the page once, and the page works.
test('navigating through every group fetches no file twice', async () => {
  requested = [];
  await page.goto(`${portal.base}/calls`);
  await hydrated(page);
  const link = (name) => page.getByRole('link', { name, exact: true }).first();
  for (const [to, heading] of [
    [link('Overview'), /Overview/],
    [link('Extensions'), /Extensions/],
    [link('CRM templates'), /Templates › CRM/],
    [link('CRM integrations'), /Integrations › CRM/],
    [page.locator('.integration-link').first(), /Pipeline CRM/],
    [page.getByRole('navigation', { name: 'This integration' }).getByRole('link', { name: 'Tests' }), /Pipeline CRM/],
  ]) {
    await to.click();
    await page.getByRole('heading', { name: heading }).first().waitFor();
  }
  await page.waitForURL(`${portal.base}/integrations/crm/pipeline_basic/tests`);
  await page.getByText(/Test cases and the test console run against the connected CRM/).waitFor();
  assert.deepEqual(groupsLoaded(), ['agent', 'directory', 'operations', 'settings', 'template', 'testing']);
  assertNoFileFetchedTwice();
});

test('the agents\' page loads none of the administrators\' groups', async () => {
  requested = [];
  await page.goto(`${portal.base}/calls`);
  await hydrated(page);
  assert.deepEqual(groupsLoaded(), ['agent']);
});

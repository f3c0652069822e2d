// The front end's weight, enforced (README "The front end's weight"): each main page's first visit
// in Chromium with an empty cache, against the release site (.ci/budgets builds it), counted as
// the browser received it (compressed, headers included); then the same visits on a slow link
// (150 ms round trip, 1.6 Mbit/s down) timed to the app's `data-hydrated` marker, or to the
// load event on pages that ship no WebAssembly.
//
// Fails when a byte budget is passed; the times are printed beside their targets, not asserted
// (a busy machine would make them flaky; bytes are what the times follow from).
import { readdirSync, statSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPortal, hydrated, signIn, uploadTemplate } from './tests/harness.mjs';

export const BUDGET_SIGN_IN_BYTES = 200 * 1024;
export const BUDGET_PAGE_BYTES = 400 * 1024;
export const BUDGET_LAZY_CHUNK_BROTLI_BYTES = 250 * 1024;
const TARGET_SIGN_IN_MS = 2000;
const TARGET_PAGE_MS = 3000;
const SLOW_LINK = { offline: false, latency: 150, downloadThroughput: 1_600_000 / 8, uploadThroughput: 750_000 / 8 };

const ADMIN = { email: 'budgets-admin@example.com', password: 'budgets-admin-Okapi-4417' };
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'templates');
const TEMPLATE_KEY_FILE = 'crm-basic-api-key.xml';

// Signed-in pages with their time target; `/login` is visited signed out.
function pages(key) {
  return [
    ['/', TARGET_PAGE_MS],
    ['/templates/crm', TARGET_PAGE_MS],
    ['/templates/crm/new', TARGET_PAGE_MS],
    [`/templates/crm/${key}/edit`, TARGET_PAGE_MS],
    [`/templates/crm/${key}/history`, TARGET_PAGE_MS],
    ['/integrations/crm', TARGET_PAGE_MS],
    [`/integrations/crm/${key}`, TARGET_PAGE_MS],
    [`/integrations/crm/${key}/tests`, TARGET_PAGE_MS],
    ['/activity', TARGET_PAGE_MS],
    ['/calls', TARGET_PAGE_MS],
    ['/extensions', TARGET_PAGE_MS],
    ['/phone-system', TARGET_PAGE_MS],
    ['/accounts', TARGET_PAGE_MS],
    ['/docs', TARGET_PAGE_MS],
  ];
}

// One first visit in a fresh context (empty cache) carrying `cookies`: bytes received by the
// time the page is ready, and when it was ready (ms after navigation started).
async function visit(browser, url, { cookies = [], slow = false } = {}) {
  const context = await browser.newContext();
  if (cookies.length) await context.addCookies(cookies);
  await context.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === 'true') {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  if (slow) await cdp.send('Network.emulateNetworkConditions', SLOW_LINK);
  let bytes = 0;
  const files = [];
  const urls = new Map();
  cdp.on('Network.requestWillBeSent', (event) => urls.set(event.requestId, event.request.url));
  cdp.on('Network.loadingFinished', (event) => {
    bytes += event.encodedDataLength;
    files.push([urls.get(event.requestId), event.encodedDataLength]);
  });
  await page.goto(url, { waitUntil: 'load', timeout: 120_000 });
  const ships = await page.evaluate(() => !!document.querySelector('link[rel=modulepreload], script[type=module]'));
  if (ships) await hydrated(page);
  await page.waitForLoadState('networkidle');
  const readyAt = await page.evaluate(() =>
    window.__hydratedAt ?? performance.getEntriesByType('navigation')[0].loadEventEnd);
  await context.close();
  return { bytes, readyAt: Math.round(readyAt), ships, files };
}

// The files .ci/build-site made of what it split off the main bundle, as served (brotli): the
// chunks (chunk_N, split_<page group>) or the packs (pack_<page group>: a group's chunks in
// one file, which a direct visit preloads and which the loader takes later only within
// BUDGET_LAZY_CHUNK_BROTLI_BYTES, .ci/name-bundle.mjs).
function splitFiles(siteRoot, pattern) {
  const pkg = join(siteRoot, 'pkg');
  return readdirSync(pkg)
    .filter((name) => pattern.test(name))
    .map((name) => [name, statSync(join(pkg, name)).size]);
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

async function main() {
  const portal = await startPortal({ adminEmail: ADMIN.email, adminPassword: ADMIN.password });
  const failures = [];
  const rows = [];
  try {
    const context = await portal.browser.newContext();
    const page = await context.newPage();
    await signIn(page, portal.base, ADMIN.email, ADMIN.password);
    const text = readFileSync(join(FIXTURES, TEMPLATE_KEY_FILE), 'utf8');
    await uploadTemplate(page, portal.base, 'crm', 'budget', text);
    const key = await page.locator('tr[data-key]').first().getAttribute('data-key');
    const cookies = await context.cookies();
    await context.close();

    const visits = [['/login', TARGET_SIGN_IN_MS, BUDGET_SIGN_IN_BYTES, []],
      ...pages(key).map(([path, target]) => [path, target, BUDGET_PAGE_BYTES, cookies])];
    for (const [path, target, budget, jar] of visits) {
      const fast = await visit(portal.browser, portal.base + path, { cookies: jar });
      const slow = await visit(portal.browser, portal.base + path, { cookies: jar, slow: true });
      rows.push({ path, ...fast, slowReady: slow.readyAt, target, budget });
      if (fast.bytes > budget) {
        failures.push(`${path}: ${kb(fast.bytes)} on a first visit, over ${kb(budget)}: `
          + fast.files.map(([url, size]) => `${new URL(url).pathname} ${kb(size)}`).join(', '));
      }
    }
  } finally {
    await portal.stop();
  }
  const chunks = splitFiles(process.env.PATCHBAY_SITE_ROOT, /^(chunk|split)_.*\.wasm\.br$/);
  const packs = splitFiles(process.env.PATCHBAY_SITE_ROOT, /^pack_.*\.bin\.br$/);
  for (const [name, size] of chunks) {
    if (size > BUDGET_LAZY_CHUNK_BROTLI_BYTES) {
      failures.push(`lazily loaded ${name}: ${kb(size)} brotli, over ${kb(BUDGET_LAZY_CHUNK_BROTLI_BYTES)}`);
    }
  }

  console.log('| page | first visit | budget | wasm | hydrated, slow link | target |');
  console.log('|---|---:|---:|---|---:|---:|');
  for (const row of rows) {
    const over = row.bytes > row.budget ? ' (over)' : '';
    console.log(`| \`${row.path}\` | ${kb(row.bytes)}${over} | ${kb(row.budget)} | ${row.ships ? 'yes' : 'none'} | `
      + `${(row.slowReady / 1000).toFixed(2)} s${row.ships ? '' : ' (load)'} | ${(row.target / 1000).toFixed(1)} s |`);
  }
  const largest = chunks.reduce((max, [, size]) => Math.max(max, size), 0);
  console.log(`lazily loaded chunks: ${chunks.length}, the largest ${kb(largest)} brotli (budget ${kb(BUDGET_LAZY_CHUNK_BROTLI_BYTES)})`);
  console.log(`the page groups' packs, brotli: ${packs.map(([name, size]) => `${name.split('.')[0].slice('pack_'.length)} ${kb(size)}`).join(', ')}`);
  if (failures.length) {
    console.error(`budgets passed:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  console.log('budgets: every page within its budget');
}

await main();

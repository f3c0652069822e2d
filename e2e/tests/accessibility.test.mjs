// Every page, as axe-core 4 sees it (WCAG 2 A/AA and best practice): no serious or critical
// finding, signed out, signed in as an administrator, and on the pages an integration and a
// template open. Each finding is reported with its rule, its impact and where it is.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPortal, hydrated, signIn, uploadTemplate } from './harness.mjs';

const ADMIN = { email: 'a11y-admin@example.com', password: 'e2e-admin-Tapir-6620' };
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'templates');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const RULE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];
const BLOCKING = new Set(['serious', 'critical']);

let portal;
let page;
let key;

before(async () => {
  portal = await startPortal({ adminEmail: ADMIN.email, adminPassword: ADMIN.password });
  // axe is injected as a script: the page's CSP (nonces only) would refuse it.
  const context = await portal.browser.newContext({ viewport: { width: 1366, height: 768 }, bypassCSP: true });
  page = await context.newPage();
});

after(async () => {
  await portal?.stop();
});

// The serious and critical findings on the page at `path`, one line each.
async function findings(path) {
  await page.goto(`${portal.base}${path}`);
  const ships = await page.evaluate(() => !!document.querySelector('link[rel=modulepreload], script[type=module]'));
  if (ships) await hydrated(page);
  await page.waitForLoadState('networkidle');
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), RULE_TAGS);
  return results.violations
    .filter((violation) => BLOCKING.has(violation.impact))
    .flatMap((violation) => violation.nodes.map((node) =>
      `${path}: ${violation.id} (${violation.impact}) at ${node.target.join(' ')}: ${node.failureSummary.replace(/\s+/g, ' ')}`));
}

test('the sign-in page, a reset link\'s page and a page that does not exist have no serious finding', async () => {
  assert.deepEqual(await findings('/login'), []);
  assert.deepEqual(await findings('/reset-password?token=not-issued'), []);
  assert.deepEqual(await findings('/reset-password?error=token'), []);
  assert.deepEqual(await findings('/no-such-page'), []);
});

test('every page an administrator opens has no serious finding', async () => {
  await signIn(page, portal.base, ADMIN.email, ADMIN.password);
  await uploadTemplate(page, portal.base, 'crm', 'a11y', readFileSync(join(FIXTURES, 'crm-basic-api-key.xml'), 'utf8'));
  key = await page.locator('tr[data-key]').first().getAttribute('data-key');
  const paths = [
    '/', '/templates/crm', '/templates/helpdesk', '/templates/crm/new', `/templates/crm/${key}/edit`,
    `/templates/crm/${key}/history`, '/integrations/crm', `/integrations/crm/${key}`, `/integrations/crm/${key}/tests`, '/activity',
    '/calls', '/extensions', '/phone-system', '/accounts', '/docs', '/docs/template-format',
    '/no-such-page',
  ];
  const all = [];
  for (const path of paths) all.push(...(await findings(path)));
  assert.deepEqual(all, [], `axe-core found:\n${all.join('\n')}`);
});

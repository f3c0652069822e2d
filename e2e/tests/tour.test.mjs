// The README's tour: what an administrator sees, from a template to a lookup in the test
// console, Activity, the accounts and the API reference, against a real REST API (npm
// json-server as a helpdesk). Each step's screenshot is written to docs/tour/ (the images
// the README shows), and the README must show every one of them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminSession, crmFixture, hydrated, startJsonServer, uploadTemplate } from './harness.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOUR_DIR = join(ROOT, 'docs', 'tour');
const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Okapi-5151' };
const API_KEY = 'desk-Key-Quoll-2626';
const KEY = 'json_desk';

let session;
let page;
let desk;
let deskBase;
const taken = [];

before(async () => {
  mkdirSync(TOUR_DIR, { recursive: true });
  ({ server: desk, base: deskBase } = await startJsonServer({
    authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
    data: {
      me: { id: 'agent-1', department: 'd-3' },
      contacts: [{ id: 7, first: 'Grace', last: 'Hopper', phone: '5550100', note: '' }],
      calls: [],
      tickets: [],
      comments: [],
    },
  }));
  session = await adminSession('tour', ADMIN);
  page = session.page;
});

after(async () => {
  await session?.stop();
  desk?.close();
});

// The screenshot of this step, as the README shows it.
async function shot(name) {
  await page.waitForLoadState('networkidle');
  const file = `${name}.jpg`;
  await page.screenshot({ path: join(TOUR_DIR, file), type: 'jpeg', quality: 70 });
  taken.push(file);
}

async function open(path) {
  await page.goto(`${session.portal.base}${path}`);
  await hydrated(page);
}

test('the tour: a template, its integration, a lookup, Activity, accounts, the API', async () => {
  const base = session.portal.base;
  await uploadTemplate(page, base, 'helpdesk', 'json-desk', crmFixture('json-desk.xml', { crm: deskBase }));
  await shot('1-templates');

  await open(`/templates/helpdesk/${KEY}/edit`);
  await shot('2-editor');

  await open(`/integrations/helpdesk/${KEY}`);
  await page.getByLabel('API key').fill(API_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.page-head [data-status="connected"]').waitFor();
  await page.reload();
  await hydrated(page);
  await shot('3-integration');

  await open(`/integrations/helpdesk/${KEY}/tests`);
  await page.getByLabel('Scenario').selectOption('SyncContactAuto');
  await page.getByLabel('Phone number').fill('5550100');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const trace = page.locator('[data-testid="console-trace"]');
  await trace.waitFor();
  assert.match(await trace.locator('[data-testid="console-contact"]').textContent(), /Grace/);
  await trace.scrollIntoViewIfNeeded();
  await shot('4-console');

  await open('/activity');
  await page.locator('table tbody tr').first().waitFor();
  await shot('5-activity');

  await open('/accounts');
  await shot('6-accounts');

  await page.goto(`${base}/docs/api`);
  assert.match(await page.textContent('main'), /PUT \/api\/v1\/integrations\/\{provider\}\/\{key\}\/settings/);
  await shot('7-api-reference');

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const shown = [...readme.matchAll(/\(docs\/tour\/([^)]+)\)/g)].map((m) => m[1]).sort();
  assert.deepEqual(shown, [...taken].sort(), 'the README shows every screenshot of the tour, and only those');
});

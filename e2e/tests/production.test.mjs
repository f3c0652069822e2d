// Running an integration in production, in a real browser against npm json-server 0.17 as
// the helpdesk: a console run saved as a test case, a template revision that breaks the
// lookup stopped at Apply with what was expected and got, applied anyway, then rolled back;
// the template's History compares the two revisions side by side.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminSession, crmFixture, hydrated, OUTPUT_DIR, uploadTemplate } from './harness.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Ocelot-3131' };
const API_KEY = 'desk-Key-Caracal-5151';
const KEY = 'json_desk';

let session;
let page;
let desk;
let deskBase;

function startDesk() {
  const app = jsonServer.create();
  const expected = `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`;
  app.use((req, res, next) => {
    if (req.headers.authorization !== expected) {
      res.status(401).json({ error: 'invalid api key' });
      return;
    }
    next();
  });
  app.use(jsonServer.bodyParser);
  app.use(jsonServer.router({
    me: { id: 'agent-1', department: 'd-3' },
    contacts: [{ id: 7, first: 'Grace', last: 'Hopper', phone: '5550100', note: '' }],
    calls: [],
    tickets: [],
    comments: [],
  }));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

before(async () => {
  desk = await startDesk();
  deskBase = `http://127.0.0.1:${desk.address().port}`;
  session = await adminSession('production', ADMIN);
  page = session.page;
  await uploadTemplate(page, session.portal.base, 'helpdesk', 'json-desk', crmFixture('json-desk.xml', { crm: deskBase }));
  await openIntegration();
  await page.getByLabel('API key').fill(API_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.page-head [data-status="connected"]').waitFor();
  await openIntegration();
});

after(async () => {
  await session?.stop();
  desk?.close();
});

async function openIntegration() {
  await page.goto(`${session.portal.base}/integrations/helpdesk/${KEY}`);
  await hydrated(page);
}

const cases = () => page.locator('[data-testid="test-cases"]');

test('a console run is saved as a test case, which passes', async () => {
  await page.getByLabel('Scenario', { exact: true }).selectOption('SyncContactAuto');
  await page.getByLabel('Phone number').fill('5550100');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.locator('[data-testid="console-contact"]').waitFor();
  await page.getByLabel('Test case name').fill('Grace is found');
  await page.getByRole('button', { name: 'Save as test case' }).click();
  await cases().locator('td').getByText('Grace is found').waitFor();
  assert.match(await cases().textContent(), /ContactsId is “7”/);
  await cases().getByRole('button', { name: 'Run all' }).click();
  await cases().getByText('All 1 test cases passed against revision 1.').waitFor();
});

test('a revision that breaks the lookup is stopped at Apply, applied anyway, then rolled back', async () => {
  // The new revision asks /people, which the helpdesk does not have.
  const broken = crmFixture('json-desk.xml', { crm: deskBase })
    .replace('Version="1.0.0"', 'Version="1.1.0"')
    .replace(`${deskBase}/contacts?phone=`, `${deskBase}/people?phone=`);
  const file = join(mkdtempSync(join(tmpdir(), 'patchbay-broken-')), 'json-desk.xml');
  writeFileSync(file, broken);
  await page.goto(`${session.portal.base}/templates/helpdesk`);
  await hydrated(page);
  await page.locator('input[type=file]').setInputFiles([file]);
  await page.locator('.upload-results li[data-status="exists"]').getByRole('button', { name: 'Replace…' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Replace' }).click();
  await page.locator('.upload-results li[data-status="replaced"]').waitFor();

  await page.getByRole('button', { name: 'Apply JSON Desk to its integration' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Apply' }).click();
  const stopped = page.locator('[data-testid="apply-stopped"]');
  await stopped.getByText('1 of 1 test cases failed against revision 2.').waitFor();
  const text = await stopped.textContent();
  assert.match(text, /Grace is found/);
  assert.match(text, /finds a contact/);
  assert.match(text, /found nobody/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'production-apply-stopped.png'), fullPage: true });
  await openIntegration();
  await page.locator('[data-testid="running-revision"]').getByText('Runs revision 1 of 2.').waitFor();

  await page.goto(`${session.portal.base}/templates/helpdesk`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Apply JSON Desk to its integration' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Apply' }).click();
  await stopped.getByRole('button', { name: 'Apply anyway' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Apply anyway' }).click();
  await page.getByText('The integration now runs revision 2. Test cases failed; applying anyway was recorded.').waitFor();

  await openIntegration();
  await page.locator('[data-testid="running-revision"]').getByText('Runs revision 2 of 2. It ran revision 1 before.').waitFor();
  await page.getByRole('button', { name: 'Roll back to revision 1' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Roll back' }).click();
  await page.getByText('The integration runs revision 1 again.').waitFor();
  await page.locator('[data-testid="running-revision"]').getByText('Runs revision 1 of 2. It ran revision 2 before.').waitFor();
  await cases().getByRole('button', { name: 'Run all' }).click();
  await cases().getByText('All 1 test cases passed against revision 1.').waitFor();

  await page.goto(`${session.portal.base}/activity`);
  await hydrated(page);
  const activity = await page.locator('[data-testid="activity"]').textContent();
  assert.match(activity, /revision 2 → 1 rolled back by admin@example\.com/);
  assert.match(activity, /revision 1 → 2 applied by admin@example\.com although 1 of 1 test cases failed/);
});

test("the template's History compares two revisions side by side", async () => {
  await page.goto(`${session.portal.base}/templates/helpdesk/${KEY}/history`);
  await hydrated(page);
  const revisions = page.locator('[data-testid="revisions"]');
  await revisions.getByText('runs it').waitFor();
  assert.match(await revisions.textContent(), /admin@example\.com/);
  const diff = page.locator('[data-testid="diff"]');
  await diff.waitFor();
  assert.match(await diff.locator('tr.diff-changed').first().textContent(), /1\.0\.0/);
  assert.match(await diff.textContent(), /\/people\?phone=/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'production-history.png'), fullPage: true });
});

// New CRM template › Import a 3CX CRM template in a real browser: the file picked is converted
// on the server, the editor's form fills with the result, the report lists each 3CX element
// with its line and outcome, and Save stores it as a template that validates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { adminSession, hydrated, OUTPUT_DIR } from './harness.mjs';

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Weta-6161' };
const FIXTURE = new URL('../../server/tests/fixtures/3cx/rest-json-api-key.xml', import.meta.url).pathname;

let session;
let page;

before(async () => {
  session = await adminSession('import3cx', ADMIN);
  page = session.page;
});

after(async () => {
  await session?.stop();
});

test('a 3CX template is converted into the editor with its report, then saved', async () => {
  const base = session.portal.base;
  await page.goto(`${base}/templates/crm/new`);
  await hydrated(page);
  await page.getByText('Import a 3CX CRM template').click();
  await page.locator('#f-import-3cx').setInputFiles(FIXTURE);
  const report = page.getByRole('table', { name: 'Conversion report' });
  await report.waitFor();
  const rows = await report.locator('tbody tr').allTextContents();
  assert.ok(rows.some((r) => r.startsWith('93') && r.includes('approximated') && r.includes('ReportCallMissed')), rows.join('\n'));
  assert.ok(rows.some((r) => r.startsWith('11') && r.includes('converted') && r.includes('ApiKey')), rows.join('\n'));
  assert.equal(await page.locator('#f-name').inputValue(), 'Acme REST CRM');
  await page.screenshot({ path: join(OUTPUT_DIR, 'import-3cx.png'), fullPage: true });

  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/templates\/crm\/acme-rest-crm-3cx\/edit$/);
  await page.goto(`${base}/templates/crm`);
  await hydrated(page);
  await page.locator('tr[data-key="acme-rest-crm-3cx"]').waitFor();
});

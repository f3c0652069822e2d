// Template Management lists in a real browser: upload (valid and malformed in one go, then a
// confirmed replacement), download one (byte-equal) and several (a zip), delete one and
// several through the confirmation, and the 10-template limit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminSession, hydrated, OUTPUT_DIR } from './harness.mjs';

const ADMIN = { email: 'templates-admin@example.com', password: 'e2e-admin-Capybara-7731' };
const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'templates');
const VALID = join(FIXTURES, 'crm-basic-api-key.xml');
const SECOND = join(FIXTURES, 'crm-bearer-follow-ups.xml');
const MALFORMED = join(FIXTURES, 'malformed-raw-ampersand.xml');
const scratch = mkdtempSync(join(tmpdir(), 'patchbay-e2e-templates-'));

let session;
let portal;
let page;

before(async () => {
  session = await adminSession('templates', ADMIN);
  ({ portal, page } = session);
});

after(async () => {
  await session?.stop();
});

async function openList(provider = 'crm') {
  await page.goto(`${portal.base}/templates/${provider}`);
  await hydrated(page);
}

const counter = () => page.getByTestId('template-counter');
// The counter follows the list a moment after the rows change.
const counterShows = (text) => page.getByTestId('template-counter').filter({ hasText: text }).waitFor();
const fileInput = () => page.locator('input[type=file]');
const result = (file) => page.locator(`.upload-results li[data-file="${file}"]`);

test('an empty list says what to do, and the navigation reaches it', async () => {
  await page.goto(`${portal.base}/`);
  await hydrated(page);
  await page.getByRole('link', { name: 'CRM templates' }).click();
  await page.waitForURL(`${portal.base}/templates/crm`);
  await hydrated(page);
  await page.getByRole('heading', { name: 'No CRM templates yet' }).waitFor();
  assert.equal((await counter().textContent()).trim(), '0 / 10');
  assert.equal(await page.getByRole('button', { name: 'Download', exact: true }).isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).isDisabled(), true);
});

test('a valid and a malformed file uploaded together get one result each', async () => {
  await openList();
  await fileInput().setInputFiles([VALID, MALFORMED]);
  await result('crm-basic-api-key.xml').waitFor();
  assert.equal(await result('crm-basic-api-key.xml').getAttribute('data-status'), 'stored');
  const refused = result('malformed-raw-ampersand.xml');
  assert.equal(await refused.getAttribute('data-status'), 'refused');
  assert.match(await refused.textContent(), /line \d+ column \d+/);
  await page.locator('tr[data-key="pipeline_basic"]').waitFor();
  await counterShows('1 / 10');
  await page.screenshot({ path: join(OUTPUT_DIR, 'templates-upload-results.png'), fullPage: true });
});

test('uploading an existing Key asks before replacing it', async () => {
  await openList();
  await fileInput().setInputFiles([VALID]);
  const line = result('crm-basic-api-key.xml');
  await line.and(page.locator('[data-status="exists"]')).waitFor();
  await line.getByRole('button', { name: 'Replace…' }).click();
  const dialog = page.getByRole('alertdialog');
  assert.match(await dialog.textContent(), /pipeline_basic/);
  await dialog.getByRole('button', { name: 'Replace' }).click();
  await page.locator('.upload-results li[data-status="replaced"]').waitFor();
  await counterShows('1 / 10');
});

test('one selected template downloads as its exact bytes, several as a zip', async () => {
  await openList();
  await fileInput().setInputFiles([SECOND]);
  await page.locator('tr[data-key]').nth(1).waitFor();
  await page.getByRole('checkbox', { name: 'Select Pipeline CRM (API key)' }).check();
  const [one] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download', exact: true }).click(),
  ]);
  const onePath = join(scratch, 'one.xml');
  await one.saveAs(onePath);
  assert.ok(readFileSync(onePath).equals(readFileSync(VALID)), 'the download is byte-equal to the upload');
  assert.match(one.suggestedFilename(), /\.xml$/);

  await page.getByRole('checkbox', { name: 'Select all' }).check();
  const [several] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download', exact: true }).click(),
  ]);
  const zipPath = join(scratch, 'several.zip');
  await several.saveAs(zipPath);
  assert.equal(readFileSync(zipPath).subarray(0, 2).toString(), 'PK');
  assert.match(several.suggestedFilename(), /\.zip$/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'templates-list.png'), fullPage: true });
});

test('delete one from its row and several by selection, each after a confirmation', async () => {
  await openList();
  const rows = page.locator('tr[data-key]');
  assert.equal(await rows.count(), 2);
  await page.getByRole('button', { name: 'Delete Pipeline CRM (API key)' }).click();
  const dialog = page.getByRole('alertdialog');
  assert.match(await dialog.textContent(), /“Pipeline CRM \(API key\)” will be deleted/);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await rows.count(), 2, 'cancel deletes nothing');
  await page.getByRole('button', { name: 'Delete Pipeline CRM (API key)' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').getByText('Template deleted.').waitFor();
  await page.locator('tr[data-key="pipeline_basic"]').waitFor({ state: 'detached' });

  await fileInput().setInputFiles([VALID]);
  await page.locator('tr[data-key="pipeline_basic"]').waitFor();
  await page.getByRole('checkbox', { name: 'Select all' }).check();
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  assert.match(await page.getByRole('alertdialog').textContent(), /Delete 2 templates\?/);
  await page.getByRole('alertdialog').getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'No CRM templates yet' }).waitFor();
  await counterShows('0 / 10');
});

test('at 10 templates Add and Upload are disabled and the reason is shown', async () => {
  await openList();
  const original = readFileSync(VALID, 'utf8');
  const files = [];
  for (let i = 0; i < 10; i++) {
    const path = join(scratch, `limit-${i}.xml`);
    writeFileSync(path, original.replace('Key="pipeline_basic"', `Key="limit_${i}"`).replace('Name="Pipeline CRM (API key)"', `Name="Limit ${i}"`));
    files.push(path);
  }
  await fileInput().setInputFiles(files);
  await page.locator('tr[data-key]').nth(9).waitFor();
  await counterShows('10 / 10');
  assert.equal(await page.getByRole('button', { name: 'Add' }).isDisabled(), true);
  assert.equal(await fileInput().isDisabled(), true);
  await page.getByText('CRM has the maximum of 10 templates; delete one to add another.').waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'templates-full.png'), fullPage: true });
});

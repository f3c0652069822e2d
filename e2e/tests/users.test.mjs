// CRM user sync in a real browser from a real REST API: npm json-server 0.17 listing users
// page by page (`_page`/`_limit`) with its `Link` headers, which the template follows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { adminSession, crmFixture, hydrated, OUTPUT_DIR, uploadTemplate } from './harness.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Tarsier-6363' };
const KEY = 'json_users';
const NAMES = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth', 'Frances Allen'];

let session;
let page;
let crm;
const userPages = [];

function startCrm() {
  const app = jsonServer.create();
  app.use((req, res, next) => {
    if (req.path === '/users') userPages.push(req.url);
    next();
  });
  app.use(jsonServer.router({
    me: { id: 'owner-1' },
    users: NAMES.map((name, i) => {
      const [first, last] = name.split(' ');
      return { id: `u${i + 1}`, first, last, email: `${first.toLowerCase()}@crm.example` };
    }),
  }));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function template(base) {
  return crmFixture('json-users.xml', { crm: base });
}

before(async () => {
  crm = await startCrm();
  const base = `http://127.0.0.1:${crm.address().port}`;
  session = await adminSession('users', ADMIN);
  page = session.page;
  await uploadTemplate(page, session.portal.base, 'crm', 'json-users', template(base));
  await page.goto(`${session.portal.base}/integrations/crm/${KEY}`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.page-head [data-status="connected"]').waitFor();
  await page.reload();
  await hydrated(page);
});

after(async () => {
  await session?.stop();
  crm?.close();
});

test('Sync follows the Link headers through every page and lists the users', async () => {
  await page.locator('.empty').getByText('No CRM users yet').waitFor();
  await page.getByRole('button', { name: 'Sync users' }).click();
  const result = page.locator('[data-testid="sync-result"]');
  await result.waitFor();
  assert.match(await result.textContent(), /7 users from 3 page\(s\): 7 added, 0 updated, 0 removed/);
  assert.deepEqual(userPages.map((url) => new URL(url, 'http://x').searchParams.get('_page')), ['1', '2', '3']);
  const rows = page.locator('[data-testid="crm-users"] tbody tr');
  await rows.nth(6).waitFor();
  assert.equal(await rows.count(), 7);
  assert.match(await rows.first().textContent(), /u1.*Ada Lovelace.*ada@crm\.example/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'users-synced.png'), fullPage: true });

  await page.getByLabel('Search users').fill('hopper');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="crm-users"] tbody tr').length === 1);
  assert.match(await rows.first().textContent(), /Grace Hopper/);
});

test('a second sync finds nothing new and a reload keeps the users', async () => {
  await page.getByRole('button', { name: 'Sync users' }).click();
  await page.locator('[data-testid="sync-result"]').getByText(/0 added, 0 updated, 0 removed/).waitFor();
  await page.reload();
  await hydrated(page);
  await page.locator('[data-testid="crm-users"] tbody tr').nth(6).waitFor();
});

// The extension directory, then the association: a CSV with a byte-order mark, quoted
// names with commas and an upper-case e-mail, refused first for a duplicate number.
const TEAM_CSV = '\ufeffnumber,first_name,last_name,email\r\n'
  + '1001,Ada,Lovelace,ada@crm.example\r\n'
  + '1002,Grace,Hopper,GRACE@crm.example\r\n'
  + '1003,Alan,Turing,alan@crm.example\r\n'
  + '1004,Edsger,Dijkstra,edsger@crm.example\r\n'
  + '1005,Barbara,Liskov,barbara@crm.example\r\n'
  + '1006,"Knuth, Don",Knuth,donald@crm.example\r\n'
  + '2001,Front,Desk,\r\n';

function csvFile(name, text) {
  return { name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') };
}

async function extensionRows() {
  const rows = page.locator('[data-testid="extensions"] tbody tr');
  await rows.first().waitFor();
  return rows;
}

test('the Extensions page previews a CSV import row by row, then imports it', async () => {
  await page.goto(`${session.portal.base}/extensions`);
  await hydrated(page);
  await page.locator('.empty-state').getByText('No extensions yet').waitFor();

  // A duplicate number: refused with both lines, nothing imported.
  await page.locator('#extensions-import').setInputFiles(csvFile('dup.csv', TEAM_CSV + '1003,Al,Dup,\r\n'));
  const panel = page.locator('[data-testid="import-panel"]');
  await panel.getByText('Import refused').waitFor();
  const refused = await panel.locator('[data-outcome="refused"]').allTextContents();
  assert.equal(refused.length, 2, refused.join('\n'));
  assert.match(refused.join("\n"), /number 1003 appears on lines 4 and 9/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'extensions-import-refused.png'), fullPage: true });
  await panel.getByRole('button', { name: 'Close' }).click();
  assert.equal(await page.locator('[data-testid="extensions"]').count(), 0, 'nothing imported');

  // The good file: a preview first, then the import.
  await page.locator('#extensions-import').setInputFiles(csvFile('team.csv', TEAM_CSV));
  await panel.locator('[data-testid="import-summary"]').getByText('7 new, 0 changed, 0 unchanged').waitFor();
  assert.equal(await panel.locator('[data-outcome="new"]').count(), 7);
  await page.screenshot({ path: join(OUTPUT_DIR, 'extensions-import-preview.png'), fullPage: true });
  await panel.getByRole('button', { name: 'Import 7 extension(s)' }).click();
  const rows = await extensionRows();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="extensions"] tbody tr').length === 7);
  assert.match(await rows.nth(1).textContent(), /1002GraceHoppergrace@crm\.example/);
  assert.match(await page.locator('tr[data-number="1006"]').textContent(), /Knuth, Don/);

  // The same file again changes nothing.
  await page.locator('#extensions-import').setInputFiles(csvFile('team.csv', TEAM_CSV));
  await panel.locator('[data-testid="import-summary"]').getByText('0 new, 0 changed, 7 unchanged').waitFor();
  await panel.getByRole('button', { name: 'Cancel' }).click();

  // Sorted by last name, searched, exported.
  const firstNumber = (number) => page.waitForFunction(
    (n) => document.querySelector('[data-testid="extensions"] tbody tr')?.dataset.number === n, number);
  await page.getByRole('button', { name: /^Last name/ }).click();
  await firstNumber('2001'); // Desk
  await page.getByRole('button', { name: /^Last name/ }).click();
  await firstNumber('1003'); // Turing, descending
  assert.equal(await page.locator('th[aria-sort="descending"]').textContent(), 'Last name ▼');
  await page.getByLabel('Search extensions').fill('KNUTH');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="extensions"] tbody tr').length === 1);
  await page.getByLabel('Search extensions').fill('');
  const exported = await page.request.get(`${session.portal.base}/api/v1/extensions?format=csv`);
  assert.match(await exported.text(), /1006,"Knuth, Don",Knuth,donald@crm\.example/);

  // Add, edit, and delete after a confirmation.
  await page.getByRole('button', { name: 'Add extension' }).click();
  const form = page.locator('[data-testid="extension-form"]');
  await form.getByLabel('Number').fill('2002');
  await form.getByLabel('First name').fill('Back');
  await form.getByLabel('E-mail').fill('not-an-address');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByRole('alert').getByText(/not-an-address/).waitFor();
  await form.getByLabel('E-mail').fill('');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.locator('tr[data-number="2002"]').waitFor();
  await page.locator('tr[data-number="2002"]').getByRole('button', { name: 'Edit' }).click();
  await form.getByLabel('Last name').fill('Office');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.locator('tr[data-number="2002"]').getByText('Office').waitFor();
  await page.locator('tr[data-number="2002"]').getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('alertdialog');
  assert.match(await dialog.textContent(), /Extension 2002 leaves the directory/);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.locator('tr[data-number="2002"]').waitFor({ state: 'detached' });

  // A group of the front desk.
  await page.getByRole('button', { name: 'New group' }).click();
  await page.getByLabel('Name', { exact: true }).fill('Front');
  await page.getByLabel(/Members/).fill('2001');
  await page.getByRole('button', { name: 'Save group' }).click();
  await page.locator('tr[data-group="Front"]').getByText('2001').waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'extensions-directory.png'), fullPage: true });
});

test('Associate Automatically after its confirmation, one fixed by hand, kept after a reload', async () => {
  await page.goto(`${session.portal.base}/integrations/crm/${KEY}`);
  await hydrated(page);
  await page.locator('[data-testid="crm-users"] tbody tr').nth(6).waitFor();
  await page.getByTestId('associate-automatically').click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /6 extension\(s\) will be associated with 6 CRM user\(s\) by e-mail; 1 user\(s\) stay unmatched/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'association-confirm.png'), fullPage: true });
  await dialog.getByRole('button', { name: 'Associate 6' }).click();
  const user = (id) => page.locator(`tr[data-crm-id="${id}"]`);
  await user('u2').locator('[data-testid="user-extensions"]').getByText('1002').waitFor();
  assert.equal((await user('u7').locator('[data-testid="user-extensions"]').textContent()).trim(), '');

  // Frances Allen (no extension shares her e-mail) gets the front desk group by hand; Ada's
  // 1001 is refused with who has it, until it is taken off the list.
  await user('u7').getByRole('button', { name: 'Associate…' }).click();
  const picker = page.getByTestId('picker');
  await picker.getByLabel('Find extensions or groups').fill('front');
  await picker.getByRole('button', { name: 'Add Group: Front (1)' }).click();
  await picker.getByLabel('Find extensions or groups').fill('1001');
  await picker.getByRole('button', { name: 'Add 1001 Ada Lovelace' }).click();
  await picker.locator('[data-testid="picked"] [data-number="1001"]').waitFor();
  await picker.getByRole('button', { name: 'Save' }).click();
  const conflict = picker.getByTestId('picker-error');
  await conflict.waitFor();
  assert.match(await conflict.textContent(), /1001 is associated with Ada Lovelace/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'association-conflict.png'), fullPage: true });
  await picker.getByRole('button', { name: 'Remove 1001' }).click();
  await picker.getByRole('button', { name: 'Save' }).click();
  await picker.waitFor({ state: 'detached' });
  await user('u7').locator('[data-testid="user-extensions"]').getByText('2001').waitFor();

  await page.reload();
  await hydrated(page);
  await user('u7').locator('[data-testid="user-extensions"]').getByText('2001').waitFor();
  assert.equal((await user('u1').locator('[data-testid="user-extensions"]').textContent()).trim(), '1001');
  await page.screenshot({ path: join(OUTPUT_DIR, 'association-kept.png'), fullPage: true });
});

// Sign-in, hydration, account management, sign-out and throttling in a real browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startPortal, hydrated, signIn, OUTPUT_DIR } from './harness.mjs';

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Pangolin-5521' };
const USER = { email: 'ada@example.com', password: 'e2e-user-Axolotl-8830' };

let portal;
let context;
let page;
// Secrets shown to the admin in the page, checked against the server log at the end.
const secretsSeen = [];

before(async () => {
  portal = await startPortal({ adminEmail: ADMIN.email, adminPassword: ADMIN.password });
  context = await portal.browser.newContext({ viewport: { width: 1366, height: 768 } });
  page = await context.newPage();
});

after(async () => {
  const log = portal?.serverLog() ?? '';
  await portal?.stop();
  for (const secret of [ADMIN.password, USER.password, '$argon2', ...secretsSeen]) {
    assert.ok(!log.includes(secret), `${secret} appeared in the server log`);
  }
});

test('the sign-in page is a plain form that loads no WebAssembly, and its Show button works', async () => {
  const html = await (await fetch(`${portal.base}/login`)).text();
  assert.match(html, /<form method="post" action="\/login"/);

  const fetched = [];
  page.on('request', (request) => fetched.push(request.url()));
  await page.goto(`${portal.base}/login`);
  await hydrated(page);
  assert.deepEqual(fetched.filter((url) => /\.(wasm|js)$/.test(url)), [], 'no bundle on the sign-in page');
  const password = page.getByLabel('Password', { exact: true });
  assert.equal(await password.getAttribute('type'), 'password');
  await page.getByRole('button', { name: 'Show' }).click();
  assert.equal(await password.getAttribute('type'), 'text');
  await page.getByRole('button', { name: 'Hide' }).click();
  assert.equal(await password.getAttribute('type'), 'password');
  await page.screenshot({ path: join(OUTPUT_DIR, 'login.png') });
});

test('an admin signs in and creates an account', async () => {
  await signIn(page, portal.base, ADMIN.email, ADMIN.password);
  await page.waitForURL(`${portal.base}/`);
  assert.equal(await page.getByTestId('signed-in-as').textContent(), ADMIN.email);

  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await page.waitForURL(`${portal.base}/accounts`);
  await hydrated(page);
  await page.getByRole('button', { name: 'New account' }).click();
  await page.getByLabel('E-mail').fill(USER.email);
  await page.getByLabel('Password').fill(USER.password);
  await page.getByLabel('Role').selectOption('user');
  await page.getByRole('button', { name: 'Create account' }).click();

  await page.getByRole('status').getByText(`Account ${USER.email} created.`).waitFor();
  const row = page.locator(`tr[data-email="${USER.email}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /user.*Active/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'accounts.png') });
});

test('signing out returns to the sign-in page', async () => {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login\?msg=signed_out$/);
  await page.getByText('You have signed out.').waitFor();
  await page.goto(`${portal.base}/accounts`);
  await page.waitForURL(`${portal.base}/login`);
});

test('the new account signs in and sees no admin sections', async () => {
  await signIn(page, portal.base, USER.email, USER.password);
  await page.waitForURL(`${portal.base}/`);
  assert.equal(await page.getByTestId('signed-in-as').textContent(), USER.email);
  assert.equal(await page.getByRole('link', { name: 'Accounts', exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/login/);
});

test('a wrong password is refused and repeated failures are throttled', async () => {
  await signIn(page, portal.base, USER.email, 'not-the-right-password');
  await page.getByText('The e-mail address or password is not correct.').waitFor();
  for (let attempt = 2; attempt <= 5; attempt += 1) {
    await signIn(page, portal.base, USER.email, 'not-the-right-password');
  }
  await signIn(page, portal.base, USER.email, USER.password);
  await page.getByText(/Too many failed attempts\. Wait \d+ seconds/).waitFor();
  assert.match(page.url(), /\/login\?msg=throttled/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'throttled.png') });
});

test('an admin deletes an account after confirming', async () => {
  await signIn(page, portal.base, ADMIN.email, ADMIN.password);
  await page.goto(`${portal.base}/accounts`);
  await hydrated(page);
  const row = page.locator(`tr[data-email="${USER.email}"]`);
  await row.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('alertdialog');
  await dialog.waitFor();
  assert.match(await dialog.textContent(), new RegExp(USER.email));
  await page.screenshot({ path: join(OUTPUT_DIR, 'confirm-delete.png') });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').getByText('Account deleted.').waitFor();
  await row.waitFor({ state: 'detached' });
});

test('an admin creates an API token, sees it once, and revokes it', async () => {
  await page.goto(`${portal.base}/accounts`);
  await hydrated(page);
  await page.getByLabel('Token name').fill('Template CI');
  await page.getByRole('button', { name: 'Create token' }).click();
  const field = page.getByLabel('New API token');
  await field.waitFor();
  const token = await field.inputValue();
  secretsSeen.push(token);
  assert.match(token, /^pbt_/);
  const row = page.locator('tr[data-token="Template CI"]');
  await row.waitFor();
  assert.ok(!(await row.textContent()).includes(token), 'the list shows only a prefix');
  await page.screenshot({ path: join(OUTPUT_DIR, 'api-token.png') });

  const api = () => fetch(`${portal.base}/api/v1/templates/crm`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal((await api()).status, 200);
  await row.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('alertdialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('status').getByText('API token revoked.').waitFor();
  await row.waitFor({ state: 'detached' });
  assert.equal((await api()).status, 401);
});

// Connecting a Basic-auth template in a real browser to a real REST API: npm json-server
// 0.17 serving the CRM's data, behind a check of the Authorization header as a CRM does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { adminSession, crmFixture, hydrated, OUTPUT_DIR, uploadTemplate } from './harness.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Capybara-3141' };
const CRM_USER = 'ann';
const CRM_PASSWORD = 'crm-Pass-Kinkajou-2718';
const WRONG_PASSWORD = 'wrong-Pass-Tapir-1618';

let session;
let page;
let crm;
let crmBase;
const seenAuthorizations = [];

function startCrm() {
  const app = jsonServer.create();
  const expected = `Basic ${Buffer.from(`${CRM_USER}:${CRM_PASSWORD}`).toString('base64')}`;
  app.use((req, res, next) => {
    seenAuthorizations.push(req.headers.authorization ?? '');
    if (req.headers.authorization !== expected) {
      res.status(401).json({ error: 'invalid credentials' });
      return;
    }
    next();
  });
  app.use(jsonServer.router({
    me: { id: 'owner-7', org: { name: 'Acme Ltd' } },
    contacts: [{ id: 1, first: 'Grace', phone: '5550100' }],
  }));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function template(base) {
  return crmFixture('acme-rest.xml', { crm: base });
}

before(async () => {
  crm = await startCrm();
  crmBase = `http://127.0.0.1:${crm.address().port}`;
  session = await adminSession('integrations', ADMIN);
  page = session.page;
  await uploadTemplate(page, session.portal.base, 'crm', 'acme-rest', template(crmBase));
});

after(async () => {
  const log = session?.portal.serverLog() ?? '';
  await session?.stop();
  crm?.close();
  for (const secret of [CRM_PASSWORD, WRONG_PASSWORD]) {
    assert.ok(!log.includes(secret), `${secret} appeared in the server log`);
  }
});

const statusBadge = () => page.locator('.page-head [data-status]');

test('the grid shows the template with its logo and status', async () => {
  await page.goto(`${session.portal.base}/`);
  await hydrated(page);
  await page.getByRole('link', { name: 'CRM integrations' }).click();
  await page.waitForURL(`${session.portal.base}/integrations/crm`);
  const tile = page.locator('.integration-tile[data-key="acme_rest"]');
  await tile.waitFor();
  assert.match(await tile.textContent(), /Acme REST.*Not connected/);
  assert.equal(await tile.locator('img.logo').evaluate((img) => img.naturalWidth > 0), true, 'the logo loads');
  await page.screenshot({ path: join(OUTPUT_DIR, 'integrations-grid.png') });
});

test('a wrong password is refused and the page says so', async () => {
  await page.locator('.integration-tile[data-key="acme_rest"] a').click();
  await page.waitForURL(`${session.portal.base}/integrations/crm/acme_rest`);
  await hydrated(page);
  await page.getByLabel('User name').fill(CRM_USER);
  await page.getByLabel('Password').fill(WRONG_PASSWORD);
  await page.getByRole('button', { name: 'Save' }).click();
  const alert = page.locator('.settings-form [role="alert"]');
  await alert.waitFor();
  assert.match(await alert.textContent(), /refused the credentials.*HTTP 401/);
  assert.equal(await statusBadge().textContent(), 'Not connected');
  assert.ok(seenAuthorizations.length > 0, 'the CRM was asked');
});

test('the right password connects, and a reload keeps it without showing the password', async () => {
  await page.getByLabel('Password').fill(CRM_PASSWORD);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.settings-form [role="status"]').getByText('Connected.').waitFor();
  await page.locator('.page-head [data-status="connected"]').waitFor();

  await page.reload();
  await hydrated(page);
  assert.equal(await statusBadge().textContent(), 'Connected');
  assert.equal(await page.getByLabel('User name').inputValue(), CRM_USER);
  // The stored password is shown as set, never as its value.
  assert.equal(await page.locator('input[type="password"]').count(), 0);
  await page.locator('.secret-set').getByText('Set').waitFor();
  const html = await page.content();
  assert.ok(!html.includes(CRM_PASSWORD), 'the password is not in the page');
  await page.screenshot({ path: join(OUTPUT_DIR, 'integration-settings.png'), fullPage: true });

  await page.getByRole('button', { name: 'Replace' }).click();
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'Replace starts empty');
});

test('the template list marks the template as in use', async () => {
  await page.goto(`${session.portal.base}/templates/crm`);
  await hydrated(page);
  const row = page.locator('tr[data-key="acme_rest"]');
  assert.match(await row.textContent(), /In use · Connected/);
});

// Templates › Add from gallery in a real browser: the gallery lists the provider's ready-made
// templates with what each needs, Add copies one into the list, and the copy connects to a
// stand-in of its CRM (Pipedrive's persons search, as its API reference shapes it, behind its
// x-api-token header) and finds a contact in the test console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { adminSession, createToken, hydrated, OUTPUT_DIR, startJsonServer } from './harness.mjs';

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Kiwi-7373' };
const TOKEN = 'pd-token-Tuatara-5050';

let session;
let page;
let crm;
let crmBase;

before(async () => {
  ({ server: crm, base: crmBase } = await startJsonServer({
    data: {},
    routes: (app) => {
      app.use((req, res, next) => {
        if (req.headers['x-api-token'] !== TOKEN) {
          res.status(401).json({ success: false, error: 'unauthorized access', errorCode: 401 });
          return;
        }
        next();
      });
      app.get('/acme/api/v1/persons/search', (req, res) => {
        const found = req.query.term === '5550100' && req.query.fields === 'phone';
        res.json({
          success: true,
          data: {
            items: found
              ? [{ result_score: 1, item: { id: 42, type: 'person', name: 'Grace Hopper', phones: ['5550100'], emails: ['grace@navy.example'], organization: { id: 3, name: 'US Navy' } } }]
              : [],
          },
        });
      });
    },
  }));
  session = await adminSession('gallery', ADMIN);
  page = session.page;
});

after(async () => {
  await session?.stop();
  crm?.close();
});

test('a gallery template is added, connected to its CRM and finds a contact in the console', async () => {
  const base = session.portal.base;
  await page.goto(`${base}/templates/crm`);
  await hydrated(page);
  await page.getByText('Add from gallery').click();
  const entry = page.locator('[data-gallery="pipedrive"]');
  await entry.waitFor();
  assert.match(await entry.textContent(), /What you need: .*API token/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'gallery.png'), fullPage: true });
  await entry.getByRole('button', { name: 'Add Pipedrive' }).click();
  await page.locator('tr[data-key="pipedrive"]').waitFor();

  // The copy's API requests go to the stand-in (an administrator's script, through the API).
  const token = await createToken(page, base, 'gallery-e2e', 'admin');
  const at = `${base}/api/v1/templates/crm/pipedrive`;
  const xml = await (await fetch(`${at}?format=xml`, { headers: { authorization: `Bearer ${token}` } })).text();
  const moved = xml.replaceAll('https://{{.company_domain}}.pipedrive.com/api/v1', `${crmBase}/{{.company_domain}}/api/v1`);
  assert.notEqual(moved, xml);
  const put = await fetch(at, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, body: moved });
  assert.equal(put.status, 200, await put.text());

  await page.goto(`${base}/integrations/crm/pipedrive`);
  await hydrated(page);
  await page.getByLabel('Company domain (acme for acme.pipedrive.com)').fill('acme');
  await page.getByLabel('Personal API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.page-head [data-status="connected"]').waitFor();
  await page.goto(`${base}/integrations/crm/pipedrive/tests`);
  await hydrated(page);

  await page.getByLabel('Scenario').selectOption('SyncContactAuto');
  await page.getByLabel('Phone number').fill('5550100');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const contact = page.locator('[data-testid="console-contact"]');
  await contact.waitFor();
  const text = await contact.textContent();
  assert.match(text, /Grace Hopper/);
  assert.match(text, /US Navy/);
  assert.match(text, /https:\/\/acme\.pipedrive\.com\/person\/42/);
  assert.ok(!(await page.content()).includes(TOKEN), 'the token is not in the page');
});

// Running an integration in production, in a real browser against npm json-server 0.17 as
// the helpdesk: a console run saved as a test case, a template revision that breaks the
// lookup stopped at Apply with what was expected and got, applied anyway, then rolled back;
// the template's History compares the two revisions side by side; the helpdesk renames a
// field and the lookup's output is flagged as drift, notified to a loopback webhook signed
// with its secret; shadow mode journals nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  adminSession, createToken, crmFixture, hydrated, OUTPUT_DIR, startJsonServer, uploadTemplate,
} from './harness.mjs';


const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Ocelot-3131' };
const API_KEY = 'desk-Key-Caracal-5151';
const KEY = 'json_desk';

const HOOK_SECRET = 'hook-Secret-Fennec-6262';

let session;
let page;
let desk;
let deskBase;
let router;
let hooks;
const received = [];

// The webhook receiver: keeps each notification with whether its signature is right.
function startHooks() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = createHmac('sha256', HOOK_SECRET).update(body).digest('base64');
      received.push({ valid: req.headers['x-signature'] === expected, body: JSON.parse(body.toString()) });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

before(async () => {
  ({ server: desk, router, base: deskBase } = await startJsonServer({
    authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
    data: {
      me: { id: 'agent-1', department: 'd-3' },
      contacts: [{ id: 7, first: 'Grace', last: 'Hopper', phone: '5550100', note: '' }],
      calls: [],
      tickets: [],
      comments: [],
    },
  }));
  hooks = await startHooks();
  session = await adminSession('production', ADMIN, {
    env: {
      PATCHBAY_NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${hooks.address().port}/patchbay`,
      PATCHBAY_NOTIFY_WEBHOOK_SECRET: HOOK_SECRET,
      PATCHBAY_NOTIFY_INTERVAL_SECS: '1',
    },
  });
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
  hooks?.close();
});

async function openIntegration() {
  await page.goto(`${session.portal.base}/integrations/helpdesk/${KEY}`);
  await hydrated(page);
}

// The integration's Tests page (its test cases and the test console), through its tab.
async function openTests() {
  await openIntegration();
  await page.getByRole('navigation', { name: 'This integration' }).getByRole('link', { name: 'Tests' }).click();
  await page.waitForURL(`${session.portal.base}/integrations/helpdesk/${KEY}/tests`);
  await cases().waitFor();
}

const cases = () => page.locator('[data-testid="test-cases"]');

test('a console run is saved as a test case, which passes', async () => {
  await openTests();
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
  await openTests();
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

// The console's server function, as the page calls it, with the page's CSRF token.
async function consoleRun(input) {
  return page.evaluate(async ({ key, input }) => {
    const csrf = JSON.parse(document.querySelector('meta[name="patchbay-viewer"]').content).csrf_token;
    const response = await fetch('/api/run_console', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csrf_token: csrf, provider: 'helpdesk', key, input }),
    });
    return response.json();
  }, { key: KEY, input });
}

test('a field the helpdesk renames is flagged as drift and notified to the signed webhook', async () => {
  await openIntegration();
  const lookup = { scenario: 'SyncContactAuto', phone: '5550100' };
  for (let n = 0; n < 3; n += 1) await consoleRun(lookup);
  // The helpdesk renames `first`.
  router.db.get('contacts').find({ id: 7 }).assign({ first: undefined, given_name: 'Grace' }).write();
  for (let n = 0; n < 20; n += 1) {
    const report = await consoleRun(lookup);
    assert.equal(report.contact?.fields?.ContactsId, '7');
  }
  await openIntegration();
  const drift = page.locator('[data-testid="drift"]');
  await drift.waitFor();
  assert.match(await drift.textContent(), /FirstName \(SyncContactAuto\/contacts\) read nothing on the last 20 answers; it read a value on 100 % before/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'production-drift.png'), fullPage: true });
  // The check runs every second here: the drift arrives at the webhook, signed.
  const deadline = Date.now() + 15_000;
  while (!received.some((r) => r.body.condition.startsWith('drift:')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const notified = received.find((r) => r.body.condition.startsWith('drift:'));
  assert.ok(notified, `no drift notification among ${JSON.stringify(received)}`);
  assert.equal(notified.valid, true, 'the signature matches the secret');
  assert.equal(notified.body.integration, 'JSON Desk');
  assert.match(notified.body.message, /FirstName/);
  await openIntegration();
  await page.locator('[data-testid="notifications"]').getByText(/webhook HTTP 204/).first().waitFor();
});

test('shadow mode records what a journal would write and writes nothing', async () => {
  await openIntegration();
  await page.getByLabel('Write a journal for each call').check();
  await page.getByLabel(/Shadow mode/).check();
  await page.getByRole('button', { name: 'Save features' }).click();
  await page.getByRole('status').getByText('Features saved.').waitFor();
  const before = router.db.get('calls').value().length;
  const token = await createToken(page, session.portal.base, 'pbx', 'events');
  const end = JSON.stringify({
    type: 30012,
    sn: '3631A2124XXX',
    msg: JSON.stringify({
      call_id: '1700000000.9', time_start: '2023-11-14 22:13:20', call_from: '5550100', call_to: '1001',
      call_duration: 65, talk_duration: 60, status: 'ANSWERED', type: 'Inbound', recording: '',
    }),
  });
  const response = await fetch(`${session.portal.base}/api/v1/events/yeastar`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: end,
  });
  assert.equal(response.status, 202);
  await page.goto(`${session.portal.base}/activity`);
  await hydrated(page);
  const deadline = Date.now() + 15_000;
  let text = '';
  while (!/Shadow mode, not sent: POST/.test(text) && Date.now() < deadline) {
    await page.reload();
    await hydrated(page);
    text = (await page.locator('[data-testid="activity"]').textContent()) ?? '';
  }
  assert.match(text, /Shadow mode, not sent: POST http:\/\/127\.0\.0\.1:\d+\/calls/);
  assert.equal(router.db.get('calls').value().length, before, 'nothing was written to the helpdesk');
});

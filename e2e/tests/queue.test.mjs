// Call events in a real browser's view: a phone system posts Yeastar webhook events with an
// `events` token made on the Accounts page; the journals land in a real REST API (npm
// json-server 0.17), each step shows in Activity, and a journal the CRM refused while it
// was down is Failed in Activity › Queue, retried there after a confirmation, and arrives;
// the contacts the journals looked up fill the integration's Phonebook.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OUTPUT_DIR, adminSession, connectWithJournals, createToken, crmFixture, hydrated, uploadTemplate } from './harness.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Caracal-5151' };
const KEY = 'json_calls';

let session;
let page;
let crm;
let router;
let token;
let crmDown = false;

function startCrm() {
  const app = jsonServer.create();
  app.post('/journals', (req, res, next) => {
    if (crmDown) {
      res.status(400).json({ error: 'journal refused: owner unknown' });
      return;
    }
    next();
  });
  app.use(jsonServer.bodyParser);
  router = jsonServer.router({
    contacts: [{ id: 7, first: 'Grace', last: 'Hopper', phone: '5550100' }],
    journals: [],
  });
  app.use(router);
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function template(base) {
  return crmFixture('json-calls.xml', { crm: base });
}

function cdr(callId, talk) {
  const msg = JSON.stringify({
    call_id: callId, time_start: '2026-11-29 10:00:00', call_from: '5550100', call_to: '1001',
    call_duration: talk + 5, talk_duration: talk, status: 'ANSWERED', type: 'Inbound', recording: '',
  });
  // As the PBX sends it: `msg` is a JSON document inside a string.
  return JSON.stringify({ type: 30012, sn: '3631A2124XXX', msg });
}

async function postEvent(body) {
  const response = await fetch(`${session.portal.base}/api/v1/events/yeastar`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body,
  });
  return { status: response.status, body: await response.json() };
}

before(async () => {
  crm = await startCrm();
  const base = `http://127.0.0.1:${crm.address().port}`;
  session = await adminSession('queue', ADMIN);
  page = session.page;
  await uploadTemplate(page, session.portal.base, 'crm', 'json-calls', template(base));
  await connectWithJournals(page, session.portal.base, KEY);

  token = await createToken(page, session.portal.base, 'PBX webhook', 'events');
});

after(async () => {
  await session?.stop();
  crm?.close();
});

test('a call event becomes a journal in the CRM and a row in Activity', async () => {
  const accepted = await postEvent(cdr('1700000000.1', 60));
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  assert.deepEqual(accepted.body, { replay: false, jobs: 1 });
  const deadline = Date.now() + 15000;
  while (router.db.get('journals').value().length === 0) {
    assert.ok(Date.now() < deadline, 'no journal arrived');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(router.db.get('journals').value()[0],
    { contactId: '7', subject: 'Call with Grace', seconds: '60', status: 'Incoming Call', id: 1 });
  // The same event again changes nothing.
  assert.deepEqual((await postEvent(cdr('1700000000.1', 60))).body, { replay: true, jobs: 0 });

  await page.goto(`${session.portal.base}/activity`);
  await hydrated(page);
  const runs = page.locator('[data-testid="activity"] tbody tr');
  await runs.first().waitFor();
  assert.match(await runs.first().textContent(), /JSON Calls.*CallJournal.*call.*success/);
  await page.locator('.empty').getByText('Nothing waiting.').waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'queue-journal-in-activity.png'), fullPage: true });
});

test('a refused journal is Failed in the queue, retried after a confirmation, and arrives', async () => {
  crmDown = true;
  assert.equal((await postEvent(cdr('1700000000.2', 42))).status, 202);
  await page.goto(`${session.portal.base}/activity`);
  await hydrated(page);
  const failed = page.locator('[data-testid="queue"] tr[data-state="failed"]');
  const deadline = Date.now() + 15000;
  while (await failed.count() === 0) {
    assert.ok(Date.now() < deadline, 'the job never failed');
    await page.reload();
    await hydrated(page);
  }
  const text = await failed.first().textContent();
  assert.match(text, /1700000000\.2/);
  assert.match(text, /journal/);
  assert.match(text, /HTTP 400/);
  assert.match(text, /owner unknown/);
  await page.locator('[data-testid="queue-counts"] [data-state="failed"]').getByText('failed: 1').waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'queue-failed.png'), fullPage: true });

  crmDown = false;
  await failed.first().getByRole('button', { name: 'Retry' }).click();
  const dialog = page.getByRole('alertdialog');
  assert.match(await dialog.textContent(), /journal of call 1700000000\.2 in JSON Calls is sent again now/);
  await dialog.getByRole('button', { name: 'Retry' }).click();
  await page.getByRole('status').getByText('The job will be tried again now.').waitFor();
  const arrived = Date.now() + 15000;
  while (router.db.get('journals').value().length < 2) {
    assert.ok(Date.now() < arrived, 'the retried journal never arrived');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(router.db.get('journals').value()[1].seconds, '42');
  await page.reload();
  await hydrated(page);
  await page.locator('.empty').getByText('Nothing waiting.').waitFor();
});

test('the contacts the journals looked up fill the Phonebook, searchable and clearable', async () => {
  await page.goto(`${session.portal.base}/integrations/crm/${KEY}`);
  await hydrated(page);
  const phonebook = page.getByTestId('phonebook');
  await phonebook.waitFor();
  const row = phonebook.locator('tbody tr');
  assert.equal(await row.count(), 1);
  assert.match(await row.first().textContent(), /5550100.*Grace.*contacts/);
  await page.getByLabel('Search by name or number').fill('nobody');
  await page.locator('.phonebook .empty').getByText('No cached contacts.').waitFor();
  await page.getByLabel('Search by name or number').fill('GRA');
  await phonebook.waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'phonebook.png'), fullPage: true });
  await page.getByRole('button', { name: 'Clear the phonebook' }).click();
  await page.getByRole('status').getByText('1 cached contact(s) cleared.').waitFor();
  await page.locator('.phonebook .empty').getByText('No cached contacts.').waitFor();
});

// The test console and Activity in a real browser against a real REST API: npm json-server
// 0.17 serving a helpdesk's contacts, calls and tickets (its filtering, its nested
// `/tickets/:id/comments`), behind an API key check as a helpdesk does. The helpdesk echoes
// the key back in one contact's note: the console must show it masked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  adminSession, crmFixture, hydrated, OUTPUT_DIR, startJsonServer, uploadTemplate,
} from './harness.mjs';


const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Margay-9191' };
const API_KEY = 'desk-Key-Serval-4040';
const KEY = 'json_desk';

let session;
let page;
let desk;
let deskBase;
let router;
let refuseNewContacts = false;

function template(base) {
  return crmFixture('json-desk.xml', { crm: base });
}

before(async () => {
  ({ server: desk, router, base: deskBase } = await startJsonServer({
    authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`,
    // A helpdesk under maintenance refuses new contacts.
    routes: (app) => app.post('/contacts', (req, res, next) => {
      if (refuseNewContacts) {
        res.status(503).json({ error: 'down for maintenance' });
        return;
      }
      next();
    }),
    data: {
      me: { id: 'agent-1', department: 'd-3' },
      contacts: [
        { id: 7, first: 'Grace', last: 'Hopper', phone: '5550100', note: `synced with key ${API_KEY}` },
        { id: 8, first: 'Ada', last: 'Lovelace', phone: '5550101', note: '' },
      ],
      calls: [],
      tickets: [],
      comments: [],
    },
  }));
  session = await adminSession('console', ADMIN);
  page = session.page;
  await uploadTemplate(page, session.portal.base, 'helpdesk', 'json-desk', template(deskBase));
  await page.goto(`${session.portal.base}/integrations/helpdesk/${KEY}`);
  await hydrated(page);
  await page.getByLabel('API key').fill(API_KEY);
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('.page-head [data-status="connected"]').waitFor();
  await page.goto(`${session.portal.base}/integrations/helpdesk/${KEY}/tests`);
  await hydrated(page);
});

after(async () => {
  const log = session?.portal.serverLog() ?? '';
  await session?.stop();
  desk?.close();
  assert.ok(!log.includes(API_KEY), 'the API key appeared in the server log');
});

async function run(button = 'Run') {
  await page.getByRole('button', { name: button, exact: true }).click();
  const trace = page.locator('[data-testid="console-trace"]');
  await trace.waitFor();
  return trace;
}

test('a lookup shows each step, the contact, the popup URL, and the key masked', async () => {
  await page.getByLabel('Scenario').selectOption('SyncContactAuto');
  await page.getByLabel('Phone number').fill('5550100');
  const trace = await run();
  await trace.locator('.trace-step h3').getByText('SyncContactAuto/contacts').waitFor();
  const text = await trace.textContent();
  assert.match(text, /GET http:\/\/127\.0\.0\.1:\d+\/contacts\?phone=5550100/);
  assert.match(text, /Authorization: Basic ••••••/);
  assert.match(text, /HTTP 200/);
  assert.match(text, /synced with key ••••••/);
  const contact = trace.locator('[data-testid="console-contact"]');
  assert.match(await contact.textContent(), /Grace/);
  assert.match(await contact.textContent(), new RegExp(`${deskBase.replace(/[.]/g, '\\.')}/contacts/7`));
  assert.ok(!(await page.content()).includes(API_KEY), 'the key is not in the page');
  await trace.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUTPUT_DIR, 'console-lookup-masked.png'), fullPage: true });
});

test('a call journal looks the contact up first and writes the call', async () => {
  await page.getByLabel('Scenario').selectOption('CallJournal');
  await page.getByLabel('Caller number').fill('5550101');
  await page.getByLabel('Talk time (s)').fill('125');
  const trace = await run();
  await trace.locator('.trace-step h3').getByText('CallJournal/CallJournal').waitFor();
  const calls = router.db.get('calls').value();
  assert.equal(calls.length, 1);
  assert.deepEqual(
    { subject: calls[0].subject, description: calls[0].description, contactId: calls[0].contactId, agent: calls[0].agent, start: calls[0].start },
    { subject: 'Call with 5550101', description: 'Incoming Call, 00:02:05', contactId: '8', agent: 'agent-1', start: '2022-12-31T23:59:59Z' },
  );
  assert.match(await trace.textContent(), /CallId/);
  await page.screenshot({ path: join(OUTPUT_DIR, 'console-journal-trace.png'), fullPage: true });
});

test('a dry run renders the requests and sends nothing', async () => {
  const before = router.db.get('tickets').value().length;
  await page.getByLabel('Scenario').selectOption('CreateNewTicket');
  const trace = await run('Dry run');
  await trace.getByText(/Dry run: 1 request\(s\) rendered, nothing sent/).waitFor();
  assert.match(await trace.textContent(), /"department": "d-3"/, 'the global variable from GetGlobalInfo');
  assert.equal(router.db.get('tickets').value().length, before);
});

test('a ticket is created, then updated with its TicketId', async () => {
  await page.getByLabel('Scenario').selectOption('CreateNewTicket');
  const trace = await run();
  await trace.locator('.trace-step h3').getByText('CreateNewTicket/UpdateTicket').waitFor();
  const tickets = router.db.get('tickets').value();
  assert.equal(tickets.length, 1);
  assert.match(tickets[0].subject, /^Inbound Completed - from 5550101$/);
  const comments = router.db.get('comments').value();
  assert.equal(comments.length, 1);
  assert.equal(String(comments[0].ticketId), String(tickets[0].id));
});

test('a failing step says which and why', async () => {
  await page.getByLabel('Scenario').selectOption('CreateNewContact');
  await page.getByLabel('Phone number').fill('5550199');
  refuseNewContacts = true;
  const trace = await run();
  await trace.locator('.trace-error').first().waitFor();
  assert.match(await trace.textContent(), /CreateNewContact\/contacts was answered HTTP 503: \{\s*"error": "down for maintenance"\s*\}/);
  refuseNewContacts = false;
});

test('Activity lists the runs and filters them', async () => {
  await page.getByRole('link', { name: 'Activity', exact: true }).click();
  await page.waitForURL(`${session.portal.base}/activity`);
  await hydrated(page);
  const rows = page.locator('[data-testid="activity"] tbody tr');
  await rows.first().waitFor();
  assert.ok((await rows.count()) >= 4, 'the console runs are listed');
  assert.match(await page.locator('[data-testid="activity"]').textContent(), /CallJournal.*console.*success/s);
  await page.getByLabel('Outcome').selectOption('failed');
  // The newest run was the failed one, so wait for the list to shrink, not for its text.
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="activity"] tbody tr').length === 1);
  await page.locator('[data-testid="activity"] tbody tr').first().getByText('CreateNewContact', { exact: true }).waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'activity-failed.png'), fullPage: true });
});

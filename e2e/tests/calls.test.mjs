// Agents see the call, in a real browser: an administrator makes two agent accounts on the
// Accounts page and gives each an extension; each agent's Calls page is open in its own
// browser. A phone system posts Yeastar events with an `events` token; the CRM is a real
// REST API (npm json-server 0.17) that knows Ada Lovelace at 5550100. The popup is pushed
// to the right agent only, appears at Ring, Answered or Call End as set, opens the record
// by itself (Automatically) or offers the link (Manually), offers Create contact for an
// unknown caller, and the recent calls show the journal done.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OUTPUT_DIR, adminSession, connectWithJournals, createToken, crmFixture, hydrated, signIn, uploadTemplate } from './harness.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Caracal-5151' };
const AGENT_PASSWORD = 'e2e-agent-Numbat-2626';
const KEY = 'popup_crm';

let session;
let crm;
let crmBase;
let router;
let token;
const agents = {};

function startCrm() {
  const app = jsonServer.create();
  app.use(jsonServer.bodyParser);
  router = jsonServer.router({
    contacts: [{ id: 7, first: 'Ada', last: 'Lovelace', company: 'Acme', phone: '5550100' }],
    journals: [],
  });
  app.use(router);
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function status(callId, from, extension, trunkStatus, extensionStatus) {
  const msg = JSON.stringify({
    call_id: callId,
    members: [
      { inbound: { from, to: '6001', trunk_name: 'SIP', channel_id: 'a', member_status: trunkStatus } },
      { extension: { number: extension, channel_id: 'b', member_status: extensionStatus } },
    ],
  });
  return JSON.stringify({ type: 30011, sn: '3631A2124XXX', msg });
}

const ring = (callId, from, extension) => status(callId, from, extension, 'ALERT', 'RING');
const answer = (callId, from, extension) => status(callId, from, extension, 'ANSWERED', 'ANSWER');

function cdr(callId, from, extension) {
  const msg = JSON.stringify({
    call_id: callId, time_start: '2026-12-03 10:00:00', call_from: from, call_to: extension,
    call_duration: 65, talk_duration: 60, status: 'ANSWERED', type: 'Inbound', recording: '',
  });
  return JSON.stringify({ type: 30012, sn: '3631A2124XXX', msg });
}

async function post(body) {
  const response = await fetch(`${session.portal.base}/api/v1/events/yeastar`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body,
  });
  assert.equal(response.status, 202, await response.text());
}

// An agent account made on the Accounts page, answering `extension`, signed in on its own
// browser context with the Calls page open and live.
async function agent(email, extension) {
  const page = session.page;
  await page.goto(`${session.portal.base}/accounts`);
  await hydrated(page);
  await page.getByRole('button', { name: 'New account' }).click();
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(AGENT_PASSWORD);
  await page.getByLabel('Role').selectOption('agent');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('status').getByText(`Account ${email} created.`).waitFor();
  const field = page.getByTestId(`extensions-of-${email}`);
  await field.fill(extension);
  await page.locator(`tr[data-email="${email}"]`).getByRole('button', { name: 'Save' }).click();
  await page.getByRole('status').getByText(`The account answers ${extension}.`).waitFor();

  const context = await session.portal.browser.newContext({ viewport: { width: 1366, height: 900 } });
  const agentPage = await context.newPage();
  await signIn(agentPage, session.portal.base, email, AGENT_PASSWORD);
  assert.equal(new URL(agentPage.url()).pathname, '/calls', 'an agent lands on Calls');
  await hydrated(agentPage);
  await agentPage.locator('[data-testid="calls-live"][data-live="true"]').waitFor();
  return { context, page: agentPage };
}

async function setPopup(page, extension, { method, trigger }) {
  if (method) {
    await page.getByTestId(`popup-method-${extension}`).selectOption(method);
    await page.getByRole('status').getByText('Popup settings saved.').last().waitFor();
  }
  if (trigger) {
    await page.getByTestId(`popup-trigger-${extension}`).selectOption(trigger);
    await page.getByRole('status').getByText('Popup settings saved.').last().waitFor();
  }
}

const popupOf = (page, callId) => page.locator(`[data-testid="call-popup"][data-call="${callId}"]`);

// Nothing shows for `ms`: the popup of `callId` stays away.
async function staysAway(page, callId, ms = 1500) {
  await page.waitForTimeout(ms);
  assert.equal(await popupOf(page, callId).count(), 0, `no popup for ${callId} yet`);
}

before(async () => {
  crm = await startCrm();
  crmBase = `http://127.0.0.1:${crm.address().port}`;
  // The agents allow pop-ups for Patchbay, as the Automatically method asks.
  session = await adminSession('calls', ADMIN, { browserArgs: ['--disable-popup-blocking'] });
  const page = session.page;
  await uploadTemplate(page, session.portal.base, 'crm', 'popup-crm', crmFixture('popup-crm.xml', { crm: crmBase }));
  await connectWithJournals(page, session.portal.base, KEY, { contactType: 'Contacts' });

  await page.goto(`${session.portal.base}/extensions`);
  await hydrated(page);
  const csv = 'number,first_name,last_name,email\n1001,Ann,Lee,ann@example.com\n1002,Bob,Chan,bob@example.com\n';
  const csrf = await page.evaluate(() => JSON.parse(document.querySelector('meta[name="patchbay-viewer"]').content).csrf_token);
  const imported = await page.request.post(`${session.portal.base}/api/v1/extensions/import`, {
    headers: { 'x-csrf-token': csrf, 'content-type': 'text/csv' },
    data: csv,
  });
  assert.equal(imported.status(), 200, await imported.text());

  token = await createToken(page, session.portal.base, 'PBX webhook', 'events');

  agents.ann = await agent('ann@example.com', '1001');
  agents.bob = await agent('bob@example.com', '1002');
});

after(async () => {
  for (const one of Object.values(agents)) await one.context.close();
  await session?.stop();
  crm?.close();
});

test('a ring for one agent shows the popup with the CRM contact on that agent\'s page only', async () => {
  const ann = agents.ann.page;
  await post(ring('c1', '5550100', '1001'));
  const popup = popupOf(ann, 'c1');
  await popup.waitFor();
  await popup.getByTestId('popup-contact').getByText('Ada Lovelace').waitFor();
  assert.match(await popup.textContent(), /Incoming call.*5550100.*Ringing.*extension 1001.*Popup CRM.*Ada Lovelace.*Acme.*Contacts/s);
  assert.equal(await popup.getByTestId('open-in-crm').getAttribute('href'), `${crmBase}/contacts/7`);
  await ann.screenshot({ path: join(OUTPUT_DIR, 'calls-popup.png'), fullPage: true });
  await staysAway(agents.bob.page, 'c1', 500);
  assert.equal(await agents.bob.page.locator('[data-testid="recent-call"][data-call="c1"]').count(), 0);
});

test('Answered and Call End make the popup wait for the answer and the end', async () => {
  const ann = agents.ann.page;
  await setPopup(ann, '1001', { trigger: 'answered' });
  await post(ring('c2', '5550100', '1001'));
  await ann.locator('[data-testid="recent-call"][data-call="c2"]').waitFor();
  await staysAway(ann, 'c2');
  await post(answer('c2', '5550100', '1001'));
  await popupOf(ann, 'c2').waitFor();
  assert.equal(await popupOf(ann, 'c2').getByTestId('popup-state').textContent(), 'Talking');

  await setPopup(ann, '1001', { trigger: 'end' });
  await post(ring('c3', '5550100', '1001'));
  await post(answer('c3', '5550100', '1001'));
  await ann.locator('[data-testid="recent-call"][data-call="c3"]').waitFor();
  await staysAway(ann, 'c3');
  await post(cdr('c3', '5550100', '1001'));
  await popupOf(ann, 'c3').waitFor();
  assert.equal(await popupOf(ann, 'c3').getByTestId('popup-state').textContent(), 'Ended');
  await setPopup(ann, '1001', { trigger: 'ring' });
});

test('Automatically opens the record in a new tab; Manually shows a button instead', async () => {
  const ann = agents.ann.page;
  await setPopup(ann, '1001', { method: 'automatic' });
  const opened = agents.ann.context.waitForEvent('page', { timeout: 15000 });
  await post(ring('c4', '5550100', '1001'));
  const tab = await opened;
  await tab.waitForLoadState();
  assert.equal(tab.url(), `${crmBase}/contacts/7`);
  await tab.close();

  await setPopup(ann, '1001', { method: 'manual' });
  let another = false;
  const watch = () => { another = true; };
  agents.ann.context.on('page', watch);
  await post(ring('c5', '5550100', '1001'));
  const popup = popupOf(ann, 'c5');
  await popup.getByTestId('open-in-crm').waitFor();
  await ann.waitForTimeout(1000);
  agents.ann.context.off('page', watch);
  assert.equal(another, false, 'Manually opens nothing by itself');
});

test('an unknown caller offers Create contact, the contact arrives in the CRM and the journal shows done', async () => {
  const ann = agents.ann.page;
  await post(ring('c6', '5550199', '1001'));
  const popup = popupOf(ann, 'c6');
  await popup.getByTestId('popup-unknown').waitFor();
  await popup.getByTestId('create-contact').click();
  const form = popup.getByTestId('create-contact-form');
  await form.getByLabel('First name').fill('Grace');
  await form.getByLabel('Last name').fill('Hopper');
  await ann.screenshot({ path: join(OUTPUT_DIR, 'calls-create-contact.png'), fullPage: true });
  await form.getByRole('button', { name: 'Save contact' }).click();
  await ann.getByRole('status').getByText('The contact is created.').waitFor();
  const created = router.db.get('contacts').value().find((c) => c.phone === '5550199');
  assert.deepEqual({ ...created, id: undefined }, { phone: '5550199', first: 'Grace', last: 'Hopper', company: '', id: undefined });
  await popup.getByTestId('popup-contact').getByText('Grace Hopper').waitFor();

  await post(answer('c6', '5550199', '1001'));
  await post(cdr('c6', '5550199', '1001'));
  const row = ann.locator('[data-testid="recent-call"][data-call="c6"]');
  await row.locator('[data-testid="call-work"][data-step="journal"][data-state="done"]').waitFor({ timeout: 20000 });
  assert.match(await row.textContent(), /5550199.*Grace Hopper.*Ended.*Popup CRM journal: done/s);
  const journals = router.db.get('journals').value();
  const journal = journals.find((j) => j.contactId === String(created.id));
  assert.ok(journal, JSON.stringify(journals));
  assert.match(journal.subject, /Grace/);
  await ann.screenshot({ path: join(OUTPUT_DIR, 'calls-recent.png'), fullPage: true });
});

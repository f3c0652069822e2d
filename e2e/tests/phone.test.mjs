// The Phone system page in a real browser against a stand-in Yeastar PBX (tests/pbx.mjs,
// written from the vendor's guide): an administrator enters the PBX's address and Open API
// credentials, sees "Connected" and the PBX's extensions in the directory, and a call the
// PBX reports over the WebSocket ends as a journal in a real REST API (json-server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OUTPUT_DIR, adminSession, connectWithJournals, crmFixture, hydrated, uploadTemplate } from './harness.mjs';
import { startPbx, CLIENT_ID, CLIENT_SECRET, WEBHOOK_SECRET } from './pbx.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Ocelot-6262' };
const KEY = 'json_calls';

let session;
let page;
let crm;
let router;
let pbx;

function startCrm() {
  const app = jsonServer.create();
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

before(async () => {
  crm = await startCrm();
  pbx = await startPbx({
    extensions: [
      ['1001', 'Ann Lee', 'ann@example.com'],
      ['1002', 'Bob Stone', 'bob@example.com'],
      ['1003', 'Cy Young', ''],
    ],
  });
  session = await adminSession('phone', ADMIN);
  page = session.page;
  const base = `http://127.0.0.1:${crm.address().port}`;
  await uploadTemplate(page, session.portal.base, 'crm', 'json-calls', crmFixture('json-calls.xml', { crm: base }));
  await connectWithJournals(page, session.portal.base, KEY);
});

after(async () => {
  await session?.stop();
  crm?.close();
  pbx?.close();
});

test('the Phone system page connects to the PBX, fills the directory and journals a call from the WebSocket', async () => {
  await page.goto(`${session.portal.base}/phone-system`);
  await hydrated(page);
  await page.getByLabel('Events arrive by').selectOption('websocket');
  await page.getByLabel('Webhook Secret').fill(WEBHOOK_SECRET);
  await page.getByLabel('PBX address').fill(pbx.base);
  await page.getByLabel('Client ID').fill(CLIENT_ID);
  await page.getByLabel('Client Secret').fill(CLIENT_SECRET);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').getByText("The phone system's settings are saved.").waitFor();
  // The secrets are set, never shown.
  await page.locator('#pbx-client-secret[placeholder^="Set"]').waitFor();
  assert.equal(await page.getByLabel('Client Secret').inputValue(), '');
  assert.equal(await page.getByLabel('Webhook Secret').inputValue(), '');

  const status = page.getByTestId('pbx-status');
  const deadline = Date.now() + 20000;
  while ((await status.getAttribute('data-state')) !== 'connected') {
    assert.ok(Date.now() < deadline, `never connected: ${await page.getByTestId('pbx-status-detail').textContent()}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await page.getByRole('button', { name: 'Refresh' }).click();
  }
  assert.deepEqual(pbx.seen.subscriptions[0], [30011, 30012]);
  await page.getByRole('button', { name: 'Sync extensions now' }).click();
  await page.getByRole('status').getByText(/Extensions synced: 3 extensions on the PBX/).waitFor();
  await page.getByTestId('pbx-webhook-url').getByText('/api/v1/events/yeastar').waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'phone-system-connected.png'), fullPage: true });

  await page.goto(`${session.portal.base}/extensions`);
  await hydrated(page);
  const rows = page.locator('[data-testid="extensions"] tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 3);
  assert.match(await rows.first().textContent(), /1001.*Ann.*Lee.*ann@example\.com.*PBX/);

  const msg = JSON.stringify({
    call_id: '1700000100.1', time_start: '2026-12-03 10:00:00', call_from: '5550100', call_to: '1001',
    call_duration: 47, talk_duration: 42, status: 'ANSWERED', type: 'Inbound', recording: '',
  });
  const record = JSON.stringify({ type: 30012, sn: '3631A2124XXX', msg });
  pbx.push(record);
  pbx.push(record); // a PBX may repeat itself: one journal
  const arrived = Date.now() + 15000;
  while (router.db.get('journals').value().length === 0) {
    assert.ok(Date.now() < arrived, 'no journal arrived');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(router.db.get('journals').value(),
    [{ contactId: '7', subject: 'Call with Grace', seconds: '42', status: 'Incoming Call', id: 1 }]);

  await page.goto(`${session.portal.base}/phone-system`);
  await hydrated(page);
  await page.getByTestId('pbx-last-event').getByText(/30012 by websocket/).waitFor({ timeout: 10000 });
});

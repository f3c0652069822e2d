// CRM user sync in a real browser from a real REST API: npm json-server 0.17 listing users
// page by page (`_page`/`_limit`) with its `Link` headers, which the template follows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { adminSession, hydrated, OUTPUT_DIR, uploadTemplate } from './harness.mjs';

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
  return `<?xml version="1.0" encoding="UTF-8"?>
<Information Provider="crm" Name="JSON Users" Key="${KEY}" Version="1.0.0" AuthType="none" MaxConcurrentRequest="2" UserAssociation="1" CallJournal="0" CreateNewContact="0">
  <Scenarios>
    <Scenario Id="AuthMethod" Type="AUTH"><Parameters><Parameter Name="AuthMethod" Value="none"/></Parameters></Scenario>
    <Scenario Id="GetGlobalInfo" Type="REST"><Requests><Request Name="Me" Method="GET" URLFormat="${base}/me"><Outputs><Output Name="OwnerId" Path="id"/></Outputs></Request></Requests></Scenario>
    <Scenario Id="UserAssociation" Type="REST">
      <Parameters><Parameter Name="PaginationType" Value="link"/><Parameter Name="NextPageLinkPath" Value=""/></Parameters>
      <Requests>
        <Request Name="UserAssociation" Method="GET" URLFormat="${base}/users?_page=1&amp;_limit=3">
          <Outputs>
            <Output Name="UserUniqueId" Path="#.id"/>
            <Output Name="FirstName" Path="#.first"/>
            <Output Name="LastName" Path="#.last"/>
            <Output Name="Email" Path="#.email"/>
          </Outputs>
        </Request>
      </Requests>
    </Scenario>
  </Scenarios>
</Information>
`;
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

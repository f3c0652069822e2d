// The template editor in a real browser: templates created through the form for every auth
// method and a helpdesk with tickets, reopened with every value, a field edit that changes the
// download only there, a hand-written element that survives form edits, and a field error
// that marks its field and blocks Save. Screenshots of the editor go to e2e/output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminSession, hydrated, OUTPUT_DIR } from './harness.mjs';

const ADMIN = { email: 'editor-admin@example.com', password: 'e2e-admin-Quokka-4410' };
const scratch = mkdtempSync(join(tmpdir(), 'patchbay-e2e-editor-'));

let session;
let portal;
let page;

before(async () => {
  session = await adminSession('editor', ADMIN);
  ({ portal, page } = session);
});

after(async () => {
  await session?.stop();
});

const field = (id) => page.locator(`#f-${id.replaceAll('.', '-')}`);

async function openNew(provider) {
  await page.goto(`${portal.base}/templates/${provider}/new`);
  await hydrated(page);
  // The Key is generated in the browser.
  await page.waitForFunction(() => document.querySelector('#f-key')?.value.length === 32);
}

async function fillContacts(name) {
  await field('name').fill(name);
  await field('remark').fill(`${name} remark`);
  await page.getByRole('button', { name: 'Add contact type' }).click();
  await field('contacts.types.0.name').fill('Contacts');
  await field('contacts.types.0.url').fill('https://crm.example/api/contacts?phone={{UrlEncode .Phone}}');
  await field('contacts.fields.0.path').fill('data.#.id');
  await field('contacts.fields.1.path').fill('data.#.first_name');
  await field('contacts.fields.5.enabled').check();
  await field('contacts.fields.5.path').fill('data.#.phone');
}

// Toasts of earlier saves may still be up: wait for one more.
async function save() {
  const saved = page.getByRole('status').getByText('Template saved.');
  const before = await saved.count();
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await saved.nth(before).waitFor();
}

async function saveNew(provider) {
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(new RegExp(`/templates/${provider}/[0-9a-f]{32}/edit$`));
  await page.getByRole('heading', { name: /^Edit template/ }).waitFor();
  return page.url().split('/').at(-2);
}

test('a CRM template with no authentication is created through the form', async () => {
  await openNew('crm');
  await fillContacts('No Auth CRM');
  await page.screenshot({ path: join(OUTPUT_DIR, 'editor-new.png'), fullPage: true });
  const key = await saveNew('crm');
  assert.equal(await field('name').inputValue(), 'No Auth CRM');
  assert.equal(await field('key').inputValue(), key);
});

test('basic, OAuth2 and bearer templates are created with their own settings', async () => {
  const methods = {
    basic: async () => {
      await field('auth.credential_type').selectOption('api_key');
      await field('auth.credential').fill('{{.api_key}}:');
    },
    oauth2: async () => {
      await field('auth.auth_endpoint').fill('https://accounts.example/oauth/v2/auth');
      await field('auth.token_endpoint').fill('https://accounts.example/oauth/v2/token');
      await field('auth.scope').fill('contacts.read,calls.write');
      await field('auth.refresh_time').fill('30');
    },
    bearer: async () => {
      await field('auth.token_endpoint').fill('https://crm.example/oauth/token');
      await field('auth.token_content_type').selectOption('application/json');
    },
  };
  for (const [method, fill] of Object.entries(methods)) {
    await openNew('crm');
    await fillContacts(`CRM ${method}`);
    await field('auth.method').selectOption(method);
    await page.getByRole('button', { name: 'Add custom field' }).click();
    await field('auth.custom_fields.0.name').fill('api_key');
    await field('auth.custom_fields.0.title').fill('API key');
    await fill();
    await saveNew('crm');
    assert.equal(await field('auth.method').inputValue(), method);
  }
  await page.screenshot({ path: join(OUTPUT_DIR, 'editor-bearer.png'), fullPage: true });
});

test('a helpdesk template creates tickets, and reopening shows every value', async () => {
  await openNew('helpdesk');
  await fillContacts('Desk');
  await field('ticket.enabled').check();
  await field('ticket.url').fill('https://desk.example/api/v2/tickets');
  await field('ticket.body').fill('{"subject":"{{JsonEscape .Subject}}"}');
  await field('ticket.subject').fill('Call from {{.CallerNumber}}');
  await field('call_journal.enabled').check();
  await field('call_journal.url').fill('https://desk.example/api/v2/calls');
  await field('call_journal.body').fill('{"from":"{{JsonEscape .Call_From}}"}');
  await page.getByRole('button', { name: 'Add header' }).click();
  await field('headers.0.name').fill('X-Api-Version');
  await field('headers.0.value').fill('2');
  const key = await saveNew('helpdesk');

  await page.goto(`${portal.base}/templates/helpdesk/${key}/edit`);
  await hydrated(page);
  const expected = {
    name: 'Desk', remark: 'Desk remark', 'contacts.types.0.url': 'https://crm.example/api/contacts?phone={{UrlEncode .Phone}}',
    'contacts.fields.5.path': 'data.#.phone', 'ticket.url': 'https://desk.example/api/v2/tickets',
    'ticket.body': '{"subject":"{{JsonEscape .Subject}}"}', 'ticket.subject': 'Call from {{.CallerNumber}}',
    'call_journal.url': 'https://desk.example/api/v2/calls', 'headers.0.name': 'X-Api-Version', 'headers.0.value': '2',
  };
  for (const [id, value] of Object.entries(expected)) {
    assert.equal(await field(id).inputValue(), value, id);
  }
  assert.equal(await field('ticket.enabled').isChecked(), true);
  await page.screenshot({ path: join(OUTPUT_DIR, 'editor-helpdesk-every-section.png'), fullPage: true });
});

async function download(provider, key) {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate((url) => { window.location.href = url; }, `/api/v1/templates/${provider}/${key}?format=xml`),
  ]);
  const path = join(scratch, `${key}-${Date.now()}.xml`);
  await file.saveAs(path);
  return readFileSync(path, 'utf8');
}

test('editing one field changes the downloaded XML only there', async () => {
  await openNew('crm');
  await fillContacts('Diff CRM');
  const key = await saveNew('crm');
  const before = await download('crm', key);
  await field('remark').fill('A new remark');
  await save();
  const after = await download('crm', key);
  const a = before.split('\n');
  const b = after.split('\n');
  assert.equal(a.length, b.length);
  const changed = a.map((line, i) => [line, b[i]]).filter(([x, y]) => x !== y);
  assert.equal(changed.length, 1, JSON.stringify(changed));
  assert.match(changed[0][1], /Remark="A new remark"/);
});

test('a hand-written element added in the XML view survives a form edit', async () => {
  await openNew('crm');
  await fillContacts('Extended CRM');
  const key = await saveNew('crm');
  await page.getByRole('button', { name: 'XML', exact: true }).click();
  const xml = page.locator('#template-xml');
  const text = await xml.inputValue();
  await xml.fill(text.replace('</Information>', '  <Extension Kind="hand-written">kept</Extension>\n</Information>'));
  await page.screenshot({ path: join(OUTPUT_DIR, 'editor-xml.png'), fullPage: true });
  await save();
  await page.getByRole('button', { name: 'Form', exact: true }).click();
  await field('remark').fill('Edited in the form');
  await save();
  const downloaded = await download('crm', key);
  assert.match(downloaded, /<Extension Kind="hand-written">kept<\/Extension>/);
  assert.match(downloaded, /Remark="Edited in the form"/);
});

test('a field error marks its field and blocks Save', async () => {
  await openNew('crm');
  await fillContacts('Broken CRM');
  await field('call_journal.enabled').check();
  await field('call_journal.url').fill('https://crm.example/calls/{{.Broken');
  const url = field('call_journal.url');
  assert.equal(await url.getAttribute('aria-invalid'), 'true');
  const message = page.locator('#f-call_journal-url-help .field-error');
  assert.match(await message.textContent(), /unclosed action/);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').getByText(/Not saved/).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-call_journal-url');
  assert.match(page.url(), /\/templates\/crm\/new$/, 'nothing was saved');
  await page.screenshot({ path: join(OUTPUT_DIR, 'editor-field-error.png'), fullPage: true });
  // Nothing typed is lost: fixing the field lets it save.
  await url.fill('https://crm.example/calls/{{.ContactId}}');
  await field('call_journal.body').fill('{}');
  await saveNew('crm');
  assert.equal(await field('name').inputValue(), 'Broken CRM');
});

test('a password custom field default never comes back to the page in clear', async () => {
  const secret = 'Default-S3cret-77';
  await openNew('crm');
  await fillContacts('Masked CRM');
  await field('auth.method').selectOption('basic');
  await field('auth.credential').fill('{{.user}}:{{.password}}');
  await page.getByRole('button', { name: 'Add custom field' }).click();
  await field('auth.custom_fields.0.editor').selectOption('password');
  await field('auth.custom_fields.0.name').fill('password');
  await field('auth.custom_fields.0.title').fill('Password');
  await field('auth.custom_fields.0.value').fill(secret);
  const key = await saveNew('crm');

  const bodies = [];
  const collect = async (response) => { try { bodies.push(await response.text()); } catch { /* redirects, downloads */ } };
  page.on('response', collect);
  await page.goto(`${portal.base}/templates/crm/${key}/edit`);
  await hydrated(page);
  assert.equal(await field('auth.custom_fields.0.value').inputValue(), '••••••••');
  await field('remark').fill('Edited without touching the password');
  await save();
  page.off('response', collect);
  assert.ok(bodies.length > 0);
  for (const body of bodies) assert.ok(!body.includes(secret), 'a response carried the password default');
  assert.ok(!(await page.content()).includes(secret));
  // A download in the browser is masked too; the stored template keeps the default the
  // author gave, as a script with an admin API token downloads it.
  const shown = await download('crm', key);
  assert.ok(!shown.includes(secret));
  assert.match(shown, /Value="••••••••"/);
  const stored = await page.evaluate(async (url) => {
    const viewer = JSON.parse(document.querySelector('meta[name="patchbay-viewer"]').content);
    const form = new URLSearchParams({
      csrf_token: viewer.csrf_token, name: 'e2e backup', scope: 'admin', expires_in_days: '30',
    });
    const created = await (await fetch('/api/create_api_token', { method: 'POST', body: form })).json();
    const file = await fetch(url, { headers: { authorization: `Bearer ${created.token}` } });
    return file.text();
  }, `/api/v1/templates/crm/${key}?format=xml`);
  assert.match(stored, new RegExp(`Value="${secret}"`));
  assert.match(stored, /Remark="Edited without touching the password"/);
});

test('a logo is checked, previewed and carried in the XML; broken XML is refused with line and column', async () => {
  await openNew('crm');
  await fillContacts('Logo CRM');
  const notAnImage = join(scratch, 'logo.png');
  writeFileSync(notAnImage, 'this is not a picture');
  await page.locator('#f-logo').setInputFiles(notAnImage);
  await page.getByRole('status').getByText(/logo\.png: /).waitFor();
  const png = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'assets', 'default-logo.png');
  await page.locator('#f-logo').setInputFiles(png);
  await page.getByRole('img', { name: 'Logo preview' }).waitFor();
  const key = await saveNew('crm');
  // The browser encodes the picked file's bytes (btoa), every byte as it is.
  const carried = /<LogoImage MediaType="image\/png">([A-Za-z0-9+/=]+)<\/LogoImage>/.exec(await download('crm', key));
  assert.equal(carried?.[1], readFileSync(png).toString('base64'));

  await page.getByRole('button', { name: 'XML', exact: true }).click();
  const xml = page.locator('#template-xml');
  await xml.fill((await xml.inputValue()).replace('<Scenarios>', '<Scenarios attr="unclosed>'));
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('status').getByText(/Not saved/).waitFor();
  assert.match(await page.locator('#editor-errors').textContent(), /line \d+, column \d+/);
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'template-xml');
});

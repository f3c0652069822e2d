// The app hydrates and works under the Content-Security-Policy (no violation on any page),
// and its assets arrive precompressed under content-hashed, immutable names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, hydrated, signIn } from './harness.mjs';

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Manatee-3307' };

let portal;
let page;
const violations = [];
const consoleErrors = [];
const assets = [];

before(async () => {
  portal = await startPortal({ adminEmail: ADMIN.email, adminPassword: ADMIN.password });
  const context = await portal.browser.newContext({ viewport: { width: 1366, height: 768 } });
  // Reported by the browser for every blocked script, style, image or connection.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (event) => {
      window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.url().includes('/pkg/')) assets.push(response);
  });
});

after(async () => {
  await portal?.stop();
});

async function collectViolations() {
  violations.push(...(await page.evaluate(() => window.__cspViolations)));
}

test('every page hydrates and works with no CSP violation', async () => {
  await page.goto(`${portal.base}/login`);
  await hydrated(page);
  await collectViolations();
  await signIn(page, portal.base, ADMIN.email, ADMIN.password);
  for (const path of ['/', '/accounts', '/templates/crm', '/templates/crm/new', '/templates/helpdesk']) {
    await page.goto(`${portal.base}${path}`);
    await hydrated(page);
    await collectViolations();
  }
  // A server function round trip and a client-side update, under the policy.
  await page.goto(`${portal.base}/accounts`);
  await hydrated(page);
  await page.getByLabel('Token name').fill('CSP check');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.getByLabel('New API token').waitFor();
  await collectViolations();
  assert.deepEqual(violations, []);
  assert.deepEqual(
    consoleErrors.filter((text) => /Content Security Policy|Refused to/i.test(text)),
    [],
  );
});

test('assets are content-hashed, cached for a year and sent compressed', async () => {
  const wasm = assets.find((response) => /\/pkg\/patchbay\.[0-9a-f]{16}\.wasm$/.test(response.url()));
  assert.ok(wasm, `the page loads a content-hashed bundle: ${assets.map((r) => r.url()).join(', ')}`);
  const headers = await wasm.allHeaders();
  assert.equal(headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(headers['content-encoding'], 'br');
  const css = assets.find((response) => /\/pkg\/patchbay\.[0-9a-f]{16}\.css$/.test(response.url()));
  assert.ok(css, 'the stylesheet is content-hashed too');
});

test('a first visit to /login transfers its bytes compressed', async () => {
  const context = await portal.browser.newContext();
  const fresh = await context.newPage();
  const client = await context.newCDPSession(fresh);
  await client.send('Network.enable');
  let transferred = 0;
  client.on('Network.loadingFinished', (event) => { transferred += event.encodedDataLength; });
  await fresh.goto(`${portal.base}/login`);
  await hydrated(fresh);
  await fresh.waitForLoadState('networkidle');
  console.log(`first visit to /login: ${transferred} bytes transferred`);
  assert.ok(transferred > 0);
  await context.close();
});

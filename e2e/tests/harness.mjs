// Starts a real Patchbay server (fresh SQLite database in a temp dir, random loopback port)
// and a headless Debian Chromium driven by playwright-core.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const jsonServer = createRequire(import.meta.url)('json-server');

export const OUTPUT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'output');

// The CRM templates the Rust tests and benches share (fixtures/crm/): each names its CRM
// FIXTURE_CRM and its OAuth 2.0 server FIXTURE_AUTH; a test points them at its own servers.
const CRM_FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'crm');
export const FIXTURE_CRM = 'https://crm.example.com';
export const FIXTURE_AUTH = 'https://auth.example.com';

export function crmFixture(name, { crm, auth }) {
  let text = readFileSync(join(CRM_FIXTURES, name), 'utf8').replaceAll(FIXTURE_CRM, crm);
  if (auth) text = text.replaceAll(FIXTURE_AUTH, auth);
  return text;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForHealth(base, server, log) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`patchbay exited early:\n${log()}`);
    try {
      const response = await fetch(`${base}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`patchbay did not become healthy in 30 s:\n${log()}`);
}

export async function startPortal({ adminEmail, adminPassword, browserArgs = [], env = {} }) {
  const binary = process.env.PATCHBAY_BIN;
  const siteRoot = process.env.PATCHBAY_SITE_ROOT;
  if (!binary || !siteRoot) throw new Error('PATCHBAY_BIN and PATCHBAY_SITE_ROOT must be set (make test-e2e sets them)');
  const dataDir = mkdtempSync(join(tmpdir(), 'patchbay-e2e-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = '';
  const server = spawn(binary, ['serve'], {
    env: {
      ...process.env,
      PATCHBAY_BIND: `127.0.0.1:${port}`,
      PATCHBAY_DATA_DIR: dataDir,
      PATCHBAY_SITE_ROOT: siteRoot,
      PATCHBAY_ADMIN_EMAIL: adminEmail,
      PATCHBAY_ADMIN_PASSWORD: adminPassword,
      PATCHBAY_LOG: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (chunk) => { output += chunk; });
  server.stderr.on('data', (chunk) => { output += chunk; });
  // Whatever happens to the tests, the server must not outlive them.
  process.on('exit', () => server.kill('SIGKILL'));
  const cleanUp = () => {
    server.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  let browser;
  try {
    await waitForHealth(base, server, () => output);
    mkdirSync(OUTPUT_DIR, { recursive: true });
    // playwright gives every launch a fresh, empty profile directory of its own.
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        ...browserArgs,
      ],
    });
  } catch (error) {
    cleanUp();
    throw error;
  }
  return {
    base,
    browser,
    serverLog: () => output,
    async stop() {
      await browser.close();
      cleanUp();
    },
  };
}

// A REST data API as a CRM or a helpdesk serves it (npm json-server 0.17) on a loopback port:
// `data` its collections; with `authorization`, a request with another Authorization header is
// answered 401; `routes(app)` is mounted first (a refusal to simulate, a header to record).
export async function startJsonServer({ data, authorization, routes } = {}) {
  const app = jsonServer.create();
  routes?.(app);
  if (authorization) {
    app.use((req, res, next) => {
      if (req.headers.authorization !== authorization) {
        res.status(401).json({ error: 'invalid credentials' });
        return;
      }
      next();
    });
  }
  app.use(jsonServer.bodyParser);
  const router = jsonServer.router(data);
  app.use(router);
  const server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { server, router, base: `http://127.0.0.1:${server.address().port}` };
}

// Uploads `text` as `<name>.xml` through the provider's Templates page, as an administrator
// does, and waits until it is stored.
export async function uploadTemplate(page, base, provider, name, text) {
  const file = join(mkdtempSync(join(tmpdir(), `patchbay-${name}-`)), `${name}.xml`);
  writeFileSync(file, text);
  await page.goto(`${base}/templates/${provider}`);
  await hydrated(page);
  await page.locator('input[type=file]').setInputFiles([file]);
  await page.locator('.upload-results li[data-status="stored"]').waitFor();
}

// Clicks before hydration finishes are lost: every page waits for the app's marker.
export async function hydrated(page) {
  await page.waitForSelector('body[data-hydrated="true"]', { timeout: 30_000 });
}

export async function signIn(page, base, email, password) {
  await page.goto(`${base}/login`);
  await hydrated(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
}

// A portal with one admin signed in on a 1366×768 page that accepts downloads. `stop()` also
// keeps the server's log as `<name>-server.log` in the output for whoever reads a failure.
export async function adminSession(name, admin, { browserArgs = [], env = {} } = {}) {
  const portal = await startPortal({ adminEmail: admin.email, adminPassword: admin.password, browserArgs, env });
  const context = await portal.browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  const page = await context.newPage();
  await signIn(page, portal.base, admin.email, admin.password);
  return {
    portal,
    page,
    async stop() {
      writeFileSync(join(OUTPUT_DIR, `${name}-server.log`), portal.serverLog());
      await portal.stop();
    },
  };
}

// Connects the CRM integration `key` (a template that needs no values) and ticks journals in
// its Features; `contactType` also names Create New Contact's type.
export async function connectWithJournals(page, base, key, { contactType } = {}) {
  await page.goto(`${base}/integrations/crm/${key}`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.locator('.page-head [data-status="connected"]').waitFor();
  await page.reload();
  await hydrated(page);
  await page.getByLabel('Write a journal for each call').check();
  if (contactType) await page.getByLabel('Contact type').selectOption(contactType);
  await page.getByRole('button', { name: 'Save features' }).click();
  await page.getByRole('status').getByText('Features saved.').waitFor();
}

// Makes an API token of `scope` on the Accounts page, as an administrator does; answers it.
export async function createToken(page, base, name, scope) {
  await page.goto(`${base}/accounts`);
  await hydrated(page);
  await page.getByLabel('Token name').fill(name);
  await page.getByLabel('Scope').selectOption(scope);
  await page.getByRole('button', { name: 'Create token' }).click();
  const field = page.getByLabel('New API token');
  await field.waitFor();
  return field.inputValue();
}

// Connecting an OAuth 2.0 template through a real authorization server: npm oidc-provider
// (PKCE required, refresh tokens rotated, a reused refresh token revokes the whole grant, its
// own sign-in and consent pages, access tokens that live 15 s), and behind it a CRM API
// (json-server) that accepts only that provider's live access tokens, asked by token
// introspection. Connected is proven by a working request; a double refresh would revoke the
// grant and show as a failure.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Provider from 'oidc-provider';
import { adminSession, crmFixture, hydrated, OUTPUT_DIR } from './harness.mjs';

const require = createRequire(import.meta.url);
const jsonServer = require('json-server');

const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-Quoll-5772' };
const CLIENT_ID = 'patchbay';
const CLIENT_SECRET = 'client-Secret-Numbat-6021';
const API_CLIENT = { id: 'crm-api', secret: 'api-Secret-Bilby-1123' };
const KEY = 'oidc_crm';
const ACCESS_TOKEN_SECONDS = 15;

let session;
let page;
let issuer;
let authServer;
let crm;
const grants = { refresh: 0, code: 0, errors: [] };
const issued = [];

function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function startAuthorizationServer(redirectUri) {
  const port = await freePort();
  issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: API_CLIENT.id,
        client_secret: API_CLIENT.secret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
    ],
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: { AccessToken: ACCESS_TOKEN_SECONDS, RefreshToken: 3600, Grant: 3600, Session: 3600, Interaction: 600, IdToken: 3600, AuthorizationCode: 60 },
    features: {
      devInteractions: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    cookies: { keys: ['e2e-cookie-key-Wallaby-4471'] },
  });
  provider.on('grant.success', (ctx) => {
    const type = ctx.oidc.params.grant_type;
    if (type === 'refresh_token') grants.refresh += 1;
    if (type === 'authorization_code') grants.code += 1;
    const body = ctx.body ?? {};
    for (const token of [body.access_token, body.refresh_token]) if (token) issued.push(token);
  });
  provider.on('grant.error', (ctx, error) => grants.errors.push(`${ctx.oidc.params?.grant_type}: ${error.message}`));
  return new Promise((resolve) => {
    const server = provider.listen(port, '127.0.0.1', () => resolve(server));
  });
}

// The CRM's REST API: json-server, behind a check that asks the provider whether the bearer
// token is active, as a resource server does (RFC 7662).
async function startCrm() {
  const app = jsonServer.create();
  const apiCredentials = Buffer.from(`${API_CLIENT.id}:${API_CLIENT.secret}`).toString('base64');
  app.use(async (req, res, next) => {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const answer = await fetch(`${issuer}/token/introspection`, {
      method: 'POST',
      headers: { authorization: `Basic ${apiCredentials}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }),
    }).then((r) => r.json());
    if (!answer.active) {
      res.status(401).json({ error: 'invalid_token' });
      return;
    }
    next();
  });
  app.use(jsonServer.router({ me: { id: 'owner-1', org: { name: 'Provider Ltd' } } }));
  return listen(app);
}

function template(crmBase) {
  return crmFixture('oidc-crm.xml', { crm: crmBase, auth: issuer });
}

async function uploadTemplate(text) {
  return page.evaluate(async ({ text }) => {
    const csrf = JSON.parse(document.querySelector('meta[name="patchbay-viewer"]').content).csrf_token;
    const form = new FormData();
    form.append('file', new Blob([text], { type: 'application/xml' }), 'oidc.xml');
    const response = await fetch('/api/v1/templates/crm', { method: 'POST', headers: { 'x-csrf-token': csrf }, body: form });
    return { status: response.status, body: await response.json() };
  }, { text });
}

// Several Check connection calls at once from the page, as concurrent users would.
async function checksAtOnce(n) {
  return page.evaluate(async ({ n, key }) => {
    const csrf = JSON.parse(document.querySelector('meta[name="patchbay-viewer"]').content).csrf_token;
    const one = () => fetch('/api/check_integration', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf_token: csrf, provider: 'crm', key }),
    }).then(async (r) => ({ status: r.status, body: await r.text() }));
    return Promise.all(Array.from({ length: n }, one));
  }, { n, key: KEY });
}

before(async () => {
  session = await adminSession('oauth', ADMIN);
  page = session.page;
  authServer = await startAuthorizationServer(`${session.portal.base}/integration/callback/api/crm/${KEY}/`);
  crm = await startCrm();
});

after(async () => {
  await session?.stop();
  authServer?.close();
  crm?.close();
});

test('an OAuth 2.0 integration connects through a real authorization server and stays connected across refreshes', async (t) => {
  const base = session.portal.base;
  const crmBase = `http://127.0.0.1:${crm.address().port}`;
  await page.goto(`${base}/templates/crm`);
  await hydrated(page);
  const uploaded = await uploadTemplate(template(crmBase));
  assert.equal(uploaded.status, 200, JSON.stringify(uploaded.body));

  await page.goto(`${base}/integrations/crm/${KEY}`);
  await hydrated(page);
  await page.locator('#network-redirect').waitFor();
  assert.equal(
    await page.locator('#network-redirect').inputValue(),
    `${base}/integration/callback/api/crm/${KEY}/`,
  );
  await page.getByLabel('Client ID').fill(CLIENT_ID);
  await page.getByLabel('Client Secret').fill(CLIENT_SECRET);
  await page.screenshot({ path: join(OUTPUT_DIR, 'oauth-settings.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save and authorize' }).click();

  // The provider's own sign-in page, then its consent page.
  await page.waitForURL((url) => url.href.startsWith(issuer));
  await page.locator('input[name="login"]').fill('ann@example.com');
  await page.locator('input[name="password"]').fill('any-password');
  await page.locator('button[type="submit"]').click();
  await page.waitForLoadState('load');
  await page.getByText(/authorize|consent/i).first().waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'oauth-consent.png'), fullPage: true });
  await page.locator('button[type="submit"]').click();

  await page.waitForURL((url) => url.pathname.startsWith('/integration/callback/api/crm/'));
  await page.getByRole('heading', { name: 'Authorization succeeded!' }).waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'oauth-callback.png'), fullPage: true });
  assert.equal(grants.code, 1);

  await page.getByRole('link', { name: 'Back to the integration' }).click();
  await hydrated(page);
  await page.locator('[data-status="connected"]').waitFor();

  // Past the access token's life: traffic from several requests at once refreshes it, once
  // per expiry, and every request goes through with the provider's live token.
  for (let round = 1; round <= 2; round += 1) {
    await new Promise((r) => setTimeout(r, (ACCESS_TOKEN_SECONDS + 1) * 1000));
    const before = grants.refresh;
    const answers = await checksAtOnce(6);
    for (const answer of answers) assert.equal(answer.status, 200, answer.body);
    assert.ok(grants.refresh - before <= 1, `round ${round}: ${grants.refresh - before} refreshes`);
    assert.ok(grants.refresh >= round, `round ${round}: the token was refreshed`);
  }
  assert.deepEqual(grants.errors, [], 'no refresh token was used twice (that would revoke the grant)');
  t.diagnostic(`token requests: ${grants.code} code exchange, ${grants.refresh} refreshes over 2 expiries with 6 requests at once each`);

  await page.reload();
  await hydrated(page);
  await page.locator('[data-status="connected"]').waitFor();
  await page.getByText(/^issued .*, expires /).waitFor();
  await page.screenshot({ path: join(OUTPUT_DIR, 'oauth-connected.png'), fullPage: true });

  // Nothing the provider issued, nor the client secret, reached a page or the server's log.
  const html = await page.content();
  const log = session.portal.serverLog();
  for (const secret of [...issued, CLIENT_SECRET]) {
    assert.ok(!html.includes(secret), 'a token in the page');
    assert.ok(!log.includes(secret), 'a token in the log');
  }
});

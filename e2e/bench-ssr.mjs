// Server-side rendering under load (README "The front end's weight"): a release server on SQLite
// with 10 CRM templates, an administrator signed in; then `wrk -t2 -c64 -d10s` against the
// stylesheet, /healthz (with and without the session cookie), the template list and the
// calls page, one after another in one run. Prints each rate and p99 and the pages' rates as
// a share of the stylesheet's. A measurement, not a test: `make bench-ssr` runs it.
//
// PATCHBAY_BIN (a release build) and PATCHBAY_SITE_ROOT name what to serve; wrk is Debian's.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPortal, signIn, hydrated } from './tests/harness.mjs';

const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-Quokka-5521' };
const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'templates', 'crm-basic-api-key.xml');
const TEMPLATES = 10;
const WRK = ['-t2', '-c64', '-d10s', '--latency'];

function tenTemplates() {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-'));
  const text = readFileSync(FIXTURE, 'utf8');
  return Array.from({ length: TEMPLATES }, (_, i) => {
    const file = join(dir, `bench-${i}.xml`);
    writeFileSync(file, text.replace('Key="pipeline_basic"', `Key="bench_${i}"`)
      .replace('Name="Pipeline CRM (API key)"', `Name="Bench CRM ${i}"`));
    return file;
  });
}

// wrk's requests per second and 99th percentile latency (ms) for `url`. Asynchronous: the
// server's log is read by this process, and a blocked reader would stall the server.
async function wrk(url, cookie) {
  const args = [...WRK, ...(cookie ? ['-H', `Cookie: ${cookie}`] : []), url];
  const { stdout: out } = await promisify(execFile)('wrk', args, { encoding: 'utf8' });
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const [, value, unit] = /\s99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = Number(value) * { us: 0.001, ms: 1, s: 1000 }[unit];
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0';
  return { rate, p99, non2xx };
}

const portal = await startPortal({ adminEmail: ADMIN.email, adminPassword: ADMIN.password });
try {
  const context = await portal.browser.newContext();
  const page = await context.newPage();
  await signIn(page, portal.base, ADMIN.email, ADMIN.password);
  await page.goto(`${portal.base}/templates/crm`);
  await hydrated(page);
  await page.locator('input[type=file]').setInputFiles(tenTemplates());
  await page.getByTestId('template-counter').filter({ hasText: `${TEMPLATES} / 10` }).waitFor();
  const css = await page.evaluate(() => document.querySelector('link[rel=stylesheet]').getAttribute('href'));
  const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  await context.close();

  const rows = [];
  for (const [name, path, jar] of [
    ['stylesheet', css, null],
    ['stylesheet, with the session cookie', css, cookie],
    ['/healthz', '/healthz', null],
    ['/healthz, with the session cookie', '/healthz', cookie],
    ['template list (10 templates), signed in', '/templates/crm', cookie],
    ['calls page, signed in', '/calls', cookie],
  ]) rows.push({ name, ...(await wrk(portal.base + path, jar)) });
  const base = rows[0].rate;
  console.log(`wrk ${WRK.join(' ')} (release, SQLite)`);
  console.log('| what | req/s | × stylesheet | p99 | non-2xx |');
  console.log('|---|---:|---:|---:|---:|');
  for (const row of rows) {
    console.log(`| ${row.name} | ${Math.round(row.rate)} | ${(row.rate / base).toFixed(2)} | ${row.p99.toFixed(1)} ms | ${row.non2xx} |`);
  }
} finally {
  await portal.stop();
}

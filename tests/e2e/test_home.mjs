// test_home.mjs — what a person sees of Tianbao's home and login pages, in the system Chromium.
//
// Run by `make check` as `node tests/e2e/test_home.mjs` (cwd: the build directory) with
// TIANBAO_SRCDIR and TIANBAO_BUILDDIR set; by hand from the repository root it works too.
// Starts its own stack (scripts/stack) on a free loopback port, drives /usr/bin/chromium
// through playwright-core (installed by `cd tests/e2e && npm ci`; it never downloads a
// browser), and stops everything in `finally`. Exit 0: all passed; 1: a failure;
// 77: playwright-core or Chromium missing (automake SKIP), which is a failure when CI is set.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SRCDIR = path.resolve(process.env.TIANBAO_SRCDIR || path.join(HERE, '..', '..'));
const BUILDDIR = path.resolve(process.env.TIANBAO_BUILDDIR || path.join(SRCDIR, 'build'));
const STACK = path.join(SRCDIR, 'scripts', 'stack');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const HEADING = '学校办学条件与师资年度填报';
const SANITIZER_MARKERS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'];
const WATCHDOG_MS = 120_000;

function unavailable(why) {
  if (process.env.CI) {
    console.error(`FAIL: ${why} (required when CI is set)`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

// ---- prerequisites ----
let chromium;
try {
  const require = createRequire((process.env.TIANBAO_NODE_MODULES || path.join(SRCDIR, 'tests', 'e2e', 'node_modules')) + path.sep);
  ({ chromium } = require('playwright-core'));
} catch (e) {
  unavailable(`playwright-core not found under ${SRCDIR}/tests/e2e/node_modules ` +
    `(run: cd tests/e2e && npm ci): ${e.code || e.message}`);
}
try {
  fs.accessSync(CHROMIUM, fs.constants.X_OK);
} catch {
  unavailable(`${CHROMIUM} is not installed (apt-get install chromium)`);
}

// ---- helpers ----
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function stackEnv() {
  return { ...process.env, TIANBAO_SRCDIR: SRCDIR, TIANBAO_BUILDDIR: BUILDDIR };
}

function stackRun(...args) {
  return spawnSync('sh', [STACK, ...args], {
    env: stackEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, encoding: 'utf8',
  });
}

let stackDir = null;
let stackStopped = true;
function stopStack() {
  if (stackStopped || !stackDir) return;
  stackStopped = true;
  stackRun('stop', stackDir);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---- the checks ----
const results = [];
async function check(name, fn) {
  try {
    await withTimeout(Promise.resolve().then(fn), 30_000, name);
    results.push([name, null]);
    console.log(`ok   ${name}`);
  } catch (e) {
    results.push([name, e]);
    console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianbao-e2e-'));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tianbao-e2e-profile-'));
let context = null;

// A hung browser or stack must not hang `make check`.
const watchdog = setTimeout(() => {
  console.error(`FAIL: the whole test took longer than ${WATCHDOG_MS / 1000} s`);
  stopStack();
  process.exit(1); // playwright kills the browser it launched on exit
}, WATCHDOG_MS);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    stopStack();
    process.exit(1);
  });
}

let fatal = null;
try {
  // the stack
  const port = await freePort();
  stackDir = path.join(tmp, 'stack');
  stackStopped = false;
  const st = stackRun('start', stackDir, String(port));
  if (st.status !== 0) {
    throw new Error(`scripts/stack start failed (${st.status ?? st.signal}): ${st.stderr}${st.stdout}`);
  }
  const base = `http://127.0.0.1:${port}`;

  // the browser
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 800 },
    timeout: 30_000,
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);

  // Everything the page says or breaks, and a fence: nothing but our own server.
  const consoleErrors = [];
  const badResponses = [];
  const offsite = [];
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' && u.port === String(port)) return route.continue();
    offsite.push(u.href);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (err) => consoleErrors.push(`uncaught: ${err.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) badResponses.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    if (!offsite.includes(r.url())) badResponses.push(`failed ${r.url()}: ${r.failure()?.errorText}`);
  });

  let homeResponse = null;
  await check('home page loads with 200', async () => {
    homeResponse = await page.goto(`${base}/`, { waitUntil: 'load' });
    assert(homeResponse && homeResponse.status() === 200, `status ${homeResponse?.status()}`);
  });
  await check('title contains 填报', async () => {
    const title = await page.title();
    assert(title.includes('填报'), `title is ${JSON.stringify(title)}`);
  });
  await check(`visible h1 is ${HEADING}`, async () => {
    const h1 = page.locator('h1').first();
    assert(await h1.isVisible(), 'h1 not visible');
    const t = (await h1.innerText()).trim();
    assert(t === HEADING, `h1 is ${JSON.stringify(t)}`);
  });
  await check('stylesheet applied (header has a background colour)', async () => {
    const bg = await page.locator('header').first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert(bg && bg !== 'transparent' && bg !== 'rgba(0, 0, 0, 0)', `header background is ${bg}`);
  });
  await page.screenshot({ path: path.join(tmp, 'home-1280.png'), fullPage: true })
    .catch((e) => console.log(`(screenshot failed: ${e.message})`));
  await check('登录填报 link is visible and leads to /login', async () => {
    const link = page.getByRole('link', { name: '登录填报', exact: true });
    assert(await link.isVisible(), 'link 登录填报 not visible');
    await Promise.all([page.waitForURL(`${base}/login`), link.click()]);
    assert(new URL(page.url()).pathname === '/login', `now at ${page.url()}`);
  });
  await check('login page shows 用户名 and a 密码 field', async () => {
    const user = page.getByLabel('用户名', { exact: true });
    assert(await user.isVisible(), 'no visible field labelled 用户名');
    const label = page.locator('label', { hasText: '用户名' });
    assert(await label.isVisible(), 'label 用户名 not visible');
    const pw = page.getByLabel('密码', { exact: true });
    assert(await pw.isVisible(), 'no visible field labelled 密码');
    const type = await pw.getAttribute('type');
    assert(type === 'password', `密码 field has type ${type}`);
  });
  await check('no horizontal scrollbar at 375 px (home and login)', async () => {
    await page.setViewportSize({ width: 375, height: 740 });
    for (const p of ['/', '/login']) {
      await page.goto(`${base}${p}`, { waitUntil: 'load' });
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(w <= 375, `${p}: scrollWidth ${w} > 375`);
      if (p === '/') {
        await page.screenshot({ path: path.join(tmp, 'home-375.png'), fullPage: true });
      }
    }
  });
  await check('no console errors and no CSP violations', async () => {
    const uniq = [...new Set(consoleErrors)].map((m) => (m.length > 240 ? `${m.slice(0, 240)}…` : m));
    assert(uniq.length === 0, `${uniq.length} distinct: ${uniq.join(' | ')}`);
  });
  await check('every request answered (no 4xx/5xx), nothing fetched off-site', async () => {
    assert(badResponses.length === 0, [...new Set(badResponses)].join(' | '));
    assert(offsite.length === 0, `off-site requests: ${offsite.join(' ')}`);
  });
} catch (e) {
  fatal = e;
} finally {
  if (context) await withTimeout(context.close(), 15_000, 'closing the browser').catch(() => {});
  stopStack();
  fs.rmSync(profile, { recursive: true, force: true });
}

if (fatal) {
  console.log(`FAIL setup: ${fatal.message}`);
  results.push(['setup', fatal]);
}
// After the stop the workers have exited and LeakSanitizer has written what it found.
if (stackDir && fs.existsSync(path.join(stackDir, 'fcgi.log'))) {
  const log = fs.readFileSync(path.join(stackDir, 'fcgi.log'), 'utf8');
  const hit = SANITIZER_MARKERS.find((m) => log.includes(m));
  if (hit) {
    const i = log.indexOf(hit);
    console.log(`FAIL sanitizer report in ${stackDir}/fcgi.log:\n${log.slice(Math.max(0, i - 300), i + 3000)}`);
    results.push(['sanitizers', new Error(hit)]);
  } else {
    console.log('ok   no sanitizer report in fcgi.log');
    results.push(['sanitizers', null]);
  }
}
const failed = results.filter(([, e]) => e).length;
const passed = results.length - failed;
if (failed === 0 && !process.env.TIANBAO_KEEP) {
  fs.rmSync(stackDir, { recursive: true, force: true });
} else {
  console.log(`kept ${stackDir}`);
}
console.log(`screenshots: ${tmp}/home-1280.png ${tmp}/home-375.png`);
clearTimeout(watchdog);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

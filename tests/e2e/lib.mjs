// lib.mjs — what the end-to-end tests share: locating playwright-core and Chromium, a private
// stack on a free loopback port, the demo city loaded into it, the browser with a watch on
// everything the pages say or break and a fence around the stack, logging in through the form,
// checks with timeouts, the sanitizer scan and the closing line.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SRCDIR = path.resolve(process.env.TIANBAO_SRCDIR || path.join(HERE, '..', '..'));
export const BUILDDIR = path.resolve(process.env.TIANBAO_BUILDDIR || path.join(SRCDIR, 'build'));
const STACK = path.join(SRCDIR, 'scripts', 'stack');
const DEMO_DATA = path.join(SRCDIR, 'scripts', 'demo-data');
export const DEMO_CSV = path.join(SRCDIR, 'db', 'demo', 'orgunits.csv');
// How long scripts/demo-data may take.
export const DEMO_TIMEOUT_MS = 120_000;
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const SANITIZER_MARKERS = ['AddressSanitizer', 'LeakSanitizer', 'runtime error:'];

// Exit 77 (automake SKIP) for a missing prerequisite, or 1 when CI is set.
function unavailable(why) {
  if (process.env.CI) {
    console.error(`FAIL: ${why} (required when CI is set)`);
    process.exit(1);
  }
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

// playwright-core's chromium driver, from $TIANBAO_NODE_MODULES or tests/e2e/node_modules.
export function loadChromium() {
  const modules = process.env.TIANBAO_NODE_MODULES || path.join(SRCDIR, 'tests', 'e2e', 'node_modules');
  let chromium;
  try {
    ({ chromium } = createRequire(modules + path.sep)('playwright-core'));
  } catch (e) {
    unavailable(`playwright-core not found under ${modules} (run: cd tests/e2e && npm ci): ${e.code || e.message}`);
  }
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    unavailable(`${CHROMIUM} is not installed (apt-get install chromium)`);
  }
  return chromium;
}

// The environment scripts/stack and scripts/demo-data need.
export function stackEnv() {
  return { ...process.env, TIANBAO_SRCDIR: SRCDIR, TIANBAO_BUILDDIR: BUILDDIR };
}

function stackRun(...args) {
  return spawnSync('sh', [STACK, ...args], {
    env: stackEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, encoding: 'utf8',
  });
}

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

// Reject when `promise` has not settled within `ms`.
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// The units of the demo city (db/demo/orgunits.csv, whose names hold no commas or quotes), as
// objects keyed by the CSV's header: code, name, kind, parent_code, school_type, ...
export function demoUnits() {
  const lines = fs.readFileSync(DEMO_CSV, 'utf8').split('\n').filter((l) => l.trim());
  const head = lines[0].split(',');
  return lines.slice(1).map((l) => {
    const f = l.split(',');
    return Object.fromEntries(head.map((h, i) => [h, f[i]]));
  });
}

// A screenshot of the whole page into `file`; a failure is only reported.
export function screenshot(page, file) {
  return page.screenshot({ path: file, fullPage: true })
    .catch((e) => console.log(`(screenshot failed: ${e.message})`));
}

// Open `url` in `page` and expect a 200; the response.
export async function gotoOk(page, url) {
  const r = await page.goto(url, { waitUntil: 'load' });
  assert(r && r.status() === 200, `status ${r?.status()}`);
  return r;
}

// Fill in the login form `page` shows and press 登录; resolves once the browser is at base/.
export async function submitLogin(page, base, login, password) {
  await page.getByLabel('用户名', { exact: true }).fill(login);
  await page.getByLabel('密码', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL(`${base}/`),
    page.getByRole('button', { name: '登录', exact: true }).click(),
  ]);
}

// Everything the pages of a browser say or break, and a fence: nothing but the stack at `base`
// is fetched. attach() arms a context (CSP violations become console errors, the fence);
// watchPage() records a page's console errors, uncaught exceptions, answers of 400 and more
// and failed requests; verify() is the two closing checks. `expected` ({ url, status } or
// null) is the one refusal a step provokes on purpose, not counted while it is set.
export class Watcher {
  constructor(base) {
    this.port = new URL(base).port;
    this.consoleErrors = [];
    this.badResponses = [];
    this.offsite = [];
    this.expected = null;
    this.fence = (route) => {
      const u = new URL(route.request().url());
      if (u.hostname === '127.0.0.1' && u.port === String(this.port)) return route.continue();
      this.offsite.push(u.href);
      return route.abort();
    };
  }

  async attach(context) {
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
      });
    });
    await context.route('**/*', this.fence);
  }

  // Whether a response (or the console message it caused) is the expected refusal.
  isExpected(status, url) {
    return this.expected !== null && status === this.expected.status && url === this.expected.url;
  }

  // Record the answers of 400 and more of `page` (all a page without JavaScript can break).
  watchResponses(page) {
    page.on('response', (r) => {
      if (this.isExpected(r.status(), r.url())) return;
      if (r.status() >= 400) this.badResponses.push(`${r.status()} ${r.url()}`);
    });
  }

  watchPage(page) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (this.expected && msg.location().url === this.expected.url &&
        msg.text().includes(`status of ${this.expected.status}`)) return;
      this.consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => this.consoleErrors.push(`uncaught: ${err.message}`));
    this.watchResponses(page);
    page.on('requestfailed', (r) => {
      if (!this.offsite.includes(r.url())) this.badResponses.push(`failed ${r.url()}: ${r.failure()?.errorText}`);
    });
  }

  async verify(check) {
    await check('no console errors and no CSP violations', async () => {
      const uniq = [...new Set(this.consoleErrors)].map((m) => (m.length > 240 ? `${m.slice(0, 240)}…` : m));
      assert(uniq.length === 0, `${uniq.length} distinct: ${uniq.join(' | ')}`);
    });
    await check('every request answered (no 4xx/5xx), nothing fetched off-site', async () => {
      assert(this.badResponses.length === 0, [...new Set(this.badResponses)].join(' | '));
      assert(this.offsite.length === 0, `off-site requests: ${this.offsite.join(' ')}`);
    });
  }
}

// One test run: temp dirs, a watchdog, named checks, the stack, and the summary.
export class Run {
  constructor(watchdogMs) {
    this.results = [];
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianbao-e2e-'));
    this.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tianbao-e2e-profile-'));
    this.stackDir = null;
    this.context = null; // what finish() closes: the browser context of open(), or a browser
    this.stopped = true;
    this.check = this.check.bind(this);
    // A hung browser or stack must not hang `make check`.
    this.watchdog = setTimeout(() => {
      console.error(`FAIL: the whole test took longer than ${watchdogMs / 1000} s`);
      this.stopStack();
      process.exit(1); // playwright kills the browser it launched on exit
    }, watchdogMs);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.on(sig, () => {
        this.stopStack();
        process.exit(1);
      });
    }
  }

  // Run one named check with a 30 s limit and record its outcome.
  async check(name, fn) {
    try {
      await withTimeout(Promise.resolve().then(fn), 30_000, name);
      this.results.push([name, null]);
      console.log(`ok   ${name}`);
    } catch (e) {
      this.results.push([name, e]);
      console.log(`FAIL ${name}: ${e && e.message ? e.message.split('\n')[0] : e}`);
    }
  }

  // Start a private stack; returns its base URL.
  async startStack() {
    const port = await freePort();
    this.stackDir = path.join(this.tmp, 'stack');
    this.stopped = false;
    const st = stackRun('start', this.stackDir, String(port));
    if (st.status !== 0) {
      throw new Error(`scripts/stack start failed (${st.status ?? st.signal}): ${st.stderr}${st.stdout}`);
    }
    return `http://127.0.0.1:${port}`;
  }

  // Load the demo city into the stack with scripts/demo-data; the demo accounts' password and
  // the text of DIR/ACCOUNTS.txt.
  loadDemo() {
    const started = Date.now();
    const demo = spawnSync('sh', [DEMO_DATA, this.stackDir, 'yes'], {
      env: stackEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: DEMO_TIMEOUT_MS, encoding: 'utf8',
    });
    if (demo.status !== 0) {
      throw new Error(`scripts/demo-data failed (${demo.status ?? demo.signal ?? demo.error}): ` +
        `${demo.stderr}${demo.stdout}`);
    }
    console.log(`(demo data loaded in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const accounts = fs.readFileSync(path.join(this.stackDir, 'ACCOUNTS.txt'), 'utf8');
    const pw = /password:\s*(\S+)/.exec(accounts);
    if (!pw) throw new Error(`no password in ${this.stackDir}/ACCOUNTS.txt`);
    return { password: pw[1], accounts };
  }

  // Chromium with this run's profile, 1280×800, 10 s for actions and 15 s for navigations.
  async launch(chromium) {
    const context = await chromium.launchPersistentContext(this.profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      timeout: 30_000,
    });
    context.setDefaultTimeout(10_000);
    context.setDefaultNavigationTimeout(15_000);
    return context;
  }

  // The browser (launch) with a Watcher fenced to `base` on its context and its first page:
  // { context, watcher, page }. finish() closes it.
  async open(chromium, base) {
    const context = await this.launch(chromium);
    this.context = context;
    const watcher = new Watcher(base);
    await watcher.attach(context);
    const page = context.pages()[0] || (await context.newPage());
    watcher.watchPage(page);
    return { context, watcher, page };
  }

  stopStack() {
    if (this.stopped || !this.stackDir) return;
    this.stopped = true;
    stackRun('stop', this.stackDir);
  }

  // Close the browser and the stack, scan the log for sanitizer reports, print the
  // closing line and exit.
  async finish(fatal, note) {
    const context = this.context;
    if (context) await withTimeout(context.close(), 15_000, 'closing the browser').catch(() => {});
    this.stopStack();
    fs.rmSync(this.profile, { recursive: true, force: true });
    if (fatal) {
      console.log(`FAIL setup: ${fatal.message}`);
      this.results.push(['setup', fatal]);
    }
    // After the stop the workers have exited and LeakSanitizer has written what it found.
    const logPath = this.stackDir && path.join(this.stackDir, 'fcgi.log');
    if (logPath && fs.existsSync(logPath)) {
      const log = fs.readFileSync(logPath, 'utf8');
      const hit = SANITIZER_MARKERS.find((m) => log.includes(m));
      if (hit) {
        const i = log.indexOf(hit);
        console.log(`FAIL sanitizer report in ${logPath}:\n${log.slice(Math.max(0, i - 300), i + 3000)}`);
        this.results.push(['sanitizers', new Error(hit)]);
      } else {
        console.log('ok   no sanitizer report in fcgi.log');
        this.results.push(['sanitizers', null]);
      }
    }
    const failed = this.results.filter(([, e]) => e).length;
    const passed = this.results.length - failed;
    if (this.stackDir) {
      if (failed === 0 && !process.env.TIANBAO_KEEP) fs.rmSync(this.stackDir, { recursive: true, force: true });
      else console.log(`kept ${this.stackDir}`);
    }
    if (note) console.log(note);
    clearTimeout(this.watchdog);
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }
}

// lib.mjs — what the end-to-end tests share: locating playwright-core and Chromium, a private
// stack on a free loopback port, checks with timeouts, the sanitizer scan and the closing line.
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

// One test run: temp dirs, a watchdog, named checks, the stack, and the summary.
export class Run {
  constructor(watchdogMs) {
    this.results = [];
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tianbao-e2e-'));
    this.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tianbao-e2e-profile-'));
    this.stackDir = null;
    this.stopped = true;
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

  stopStack() {
    if (this.stopped || !this.stackDir) return;
    this.stopped = true;
    stackRun('stop', this.stackDir);
  }

  // Close the browser and the stack, scan the log for sanitizer reports, print the
  // closing line and exit.
  async finish(context, fatal, note) {
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

// test_reviewer.mjs — a county reviewer's round trip through Tianbao in the system Chromium:
// log in through the form, see the county's schools, open one, log out with 退出.
//
// Run by `make check` as `node tests/e2e/test_reviewer.mjs` (cwd: the build directory) with
// TIANBAO_SRCDIR and TIANBAO_BUILDDIR set; by hand from the repository root it works too.
// Starts its own stack (scripts/stack) on a free loopback port, loads the demo city with
// scripts/demo-data (db/demo/orgunits.csv and one account per unit, password in
// DIR/ACCOUNTS.txt), drives /usr/bin/chromium through playwright-core (installed by
// `cd tests/e2e && npm ci`; it never downloads a browser), and stops everything in `finally`.
// Exit 0: all passed; 1: a failure; 77: playwright-core or Chromium missing (automake SKIP),
// which is a failure when CI is set.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { CHROMIUM, CHROMIUM_ARGS, Run, SRCDIR, assert, loadChromium, stackEnv, withTimeout } from './lib.mjs';

const DEMO_DATA = path.join(SRCDIR, 'scripts', 'demo-data');
const DEMO_CSV = path.join(SRCDIR, 'db', 'demo', 'orgunits.csv');
const COUNTY = '990121'; // 青山县: its schools include 教学点
const REVIEWER = `rev-${COUNTY}`;
const HEADING = '学校办学条件与师资年度填报';
const DEMO_TIMEOUT_MS = 120_000;
const WATCHDOG_MS = DEMO_TIMEOUT_MS + 120_000;

const chromium = loadChromium();
const run = new Run(WATCHDOG_MS);
const check = run.check.bind(run);
const tmp = run.tmp;
let context = null;

// The demo city's schools of one county, from the CSV demo-data imports (demo names hold no
// commas or quotes): code -> { name, type }.
function demoSchools(county) {
  const lines = fs.readFileSync(DEMO_CSV, 'utf8').split('\n').filter((l) => l.trim());
  const head = lines[0].split(',');
  const col = (n) => head.indexOf(n);
  const schools = new Map();
  let countyName = null;
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[col('code')] === county) countyName = f[col('name')];
    if (f[col('kind')] === 'school' && f[col('parent_code')] === county) {
      schools.set(f[col('code')], { name: f[col('name')], type: f[col('school_type')] });
    }
  }
  return { countyName, schools };
}

let fatal = null;
try {
  const { countyName, schools } = demoSchools(COUNTY);
  if (!countyName || schools.size < 10) {
    throw new Error(`${DEMO_CSV}: county ${COUNTY} missing or with fewer than 10 schools`);
  }

  // the stack, with the demo city
  const base = await run.startStack();
  const port = new URL(base).port;
  const stackDir = run.stackDir;
  const started = Date.now();
  const demo = spawnSync('sh', [DEMO_DATA, stackDir, 'yes'], {
    env: stackEnv(), stdio: ['ignore', 'pipe', 'pipe'], timeout: DEMO_TIMEOUT_MS, encoding: 'utf8',
  });
  if (demo.status !== 0) {
    throw new Error(`scripts/demo-data failed (${demo.status ?? demo.signal ?? demo.error}): ` +
      `${demo.stderr}${demo.stdout}`);
  }
  console.log(`(demo data loaded in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const accounts = fs.readFileSync(path.join(stackDir, 'ACCOUNTS.txt'), 'utf8');
  const pw = /password:\s*(\S+)/.exec(accounts);
  if (!pw) throw new Error(`no password in ${stackDir}/ACCOUNTS.txt`);
  if (!new RegExp(`^\\s*${REVIEWER}\\s`, 'm').test(accounts)) {
    throw new Error(`${REVIEWER} is not in ${stackDir}/ACCOUNTS.txt`);
  }
  const password = pw[1];

  // the browser
  context = await chromium.launchPersistentContext(run.profile, {
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

  const sessionCookie = async () =>
    (await context.cookies(base)).find((c) => c.name === 'tb_session');

  await check('login page loads', async () => {
    const r = await page.goto(`${base}/login`, { waitUntil: 'load' });
    assert(r && r.status() === 200, `status ${r?.status()}`);
    assert(!(await sessionCookie()), 'a session cookie before logging in');
  });
  await check(`${REVIEWER} logs in through the form and lands on /`, async () => {
    await page.getByLabel('用户名', { exact: true }).fill(REVIEWER);
    await page.getByLabel('密码', { exact: true }).fill(password);
    await Promise.all([
      page.waitForURL(`${base}/`),
      page.getByRole('button', { name: '登录', exact: true }).click(),
    ]);
    const c = await sessionCookie();
    assert(c, 'no tb_session cookie after the login');
    assert(c.httpOnly, 'tb_session is not HttpOnly');
    assert(c.sameSite === 'Lax', `tb_session SameSite=${c.sameSite}`);
    assert(/^[A-Za-z0-9_-]{43}$/.test(c.value), 'tb_session is not a 43-character token');
  });
  await check(`heading names the county (${countyName})`, async () => {
    const h1 = (await page.locator('h1').first().innerText()).trim();
    assert(h1.includes(countyName), `h1 is ${JSON.stringify(h1)}`);
    assert(h1.includes('学校列表'), `h1 is ${JSON.stringify(h1)}`);
  });
  let rows = [];
  const listed = `table lists the county's ${schools.size} schools, 10-digit codes, a 教学点 among them`;
  await check(listed, async () => {
    rows = await page.locator('table#schools tbody tr').evaluateAll((trs) => trs.map((tr) => {
      const td = [...tr.querySelectorAll('td')].map((c) => c.innerText.trim());
      const link = tr.querySelector('a')?.getAttribute('href');
      return { code: td[0], name: td[1], type: td[2], link };
    }));
    assert(rows.length >= 10, `${rows.length} rows`);
    assert(rows.length === schools.size,
      `${rows.length} rows, the county has ${schools.size} schools`);
    const bad = rows.filter((r) => !/^\d{10}$/.test(r.code));
    assert(bad.length === 0, `codes not of 10 digits: ${bad.map((r) => r.code).join(' ')}`);
    for (const r of rows) {
      const s = schools.get(r.code);
      assert(s, `${r.code} ${r.name} is not a school of ${countyName}`);
      assert(r.name === s.name, `${r.code}: name ${r.name}, expected ${s.name}`);
      assert(r.link === `/schools/${r.code}`, `${r.code}: link ${r.link}`);
    }
    assert(rows.some((r) => r.type.includes('教学点')), 'no 教学点 row');
    assert(await page.locator('table#schools').isVisible(), 'the table is not visible');
  });
  await page.screenshot({ path: path.join(tmp, 'reviewer-home.png'), fullPage: true })
    .catch((e) => console.log(`(screenshot failed: ${e.message})`));
  await check('clicking a 教学点 opens its page, with its 中心校', async () => {
    const point = rows.find((r) => r.type.includes('教学点'));
    assert(point, 'no 教学点 row to click');
    await Promise.all([
      page.waitForURL(`${base}/schools/${point.code}`),
      page.getByRole('link', { name: point.code, exact: true }).click(),
    ]);
    const h1 = (await page.locator('h1').first().innerText()).trim();
    assert(h1 === point.name, `h1 is ${JSON.stringify(h1)}, expected ${point.name}`);
    const kv = await page.locator('table.kv').innerText();
    assert(kv.includes(point.code), `the page does not show ${point.code}`);
    assert(kv.includes(countyName), `the page does not name ${countyName}`);
    assert(kv.includes('中心校'), 'no 中心校 row for a 教学点');
  });
  await check('back on the list, a school of another county is not reachable (404)', async () => {
    await page.goBack({ waitUntil: 'load' });
    assert(new URL(page.url()).pathname === '/', `now at ${page.url()}`);
    const other = fs.readFileSync(DEMO_CSV, 'utf8').split('\n')
      .map((l) => l.split(',')).find((f) => f[2] === 'school' && f[3] && f[3] !== COUNTY);
    const r = await page.request.get(`${base}/schools/${other[0]}`, { maxRedirects: 0 });
    assert(r.status() === 404, `GET /schools/${other[0]} (${other[1]}): ${r.status()}`);
  });
  await check('退出 logs out to the login page with 您已安全退出', async () => {
    await Promise.all([
      page.waitForURL(`${base}/login?bye=1`),
      page.getByRole('button', { name: '退出', exact: true }).click(),
    ]);
    const notice = page.getByText('您已安全退出', { exact: false });
    assert(await notice.isVisible(), 'no visible 您已安全退出');
    assert(!(await sessionCookie()), 'the session cookie is still there');
  });
  await check('/ shows the public home page again', async () => {
    const r = await page.goto(`${base}/`, { waitUntil: 'load' });
    assert(r && r.status() === 200, `status ${r?.status()}`);
    const h1 = (await page.locator('h1').first().innerText()).trim();
    assert(h1 === HEADING, `h1 is ${JSON.stringify(h1)}`);
    assert(await page.getByRole('link', { name: '登录填报', exact: true }).isVisible(), 'no 登录填报 link');
    assert(await page.getByRole('button', { name: '退出' }).count() === 0, 'still a 退出 button');
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
}
await run.finish(context, fatal, `screenshot: ${tmp}/reviewer-home.png`);

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
import path from 'node:path';

import {
  DEMO_CSV, DEMO_TIMEOUT_MS, Run, assert, demoUnits, gotoOk, loadChromium, screenshot,
  submitLogin,
} from './lib.mjs';

const COUNTY = '990121'; // 青山县: its schools include 教学点
const REVIEWER = `rev-${COUNTY}`;
const HEADING = '学校办学条件与师资年度填报';
const WATCHDOG_MS = DEMO_TIMEOUT_MS + 120_000;

const chromium = loadChromium();
const run = new Run(WATCHDOG_MS);
const { check, tmp } = run;

// The demo city's schools of one county, from the CSV demo-data imports: code -> { name, type }.
function demoSchools(county) {
  const units = demoUnits();
  const countyName = units.find((u) => u.code === county)?.name ?? null;
  const schools = new Map(units.filter((u) => u.kind === 'school' && u.parent_code === county)
    .map((u) => [u.code, { name: u.name, type: u.school_type }]));
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
  const { password, accounts } = run.loadDemo();
  if (!new RegExp(`^\\s*${REVIEWER}\\s`, 'm').test(accounts)) {
    throw new Error(`${REVIEWER} is not in ${run.stackDir}/ACCOUNTS.txt`);
  }

  // the browser, watched and fenced in: nothing but our own server
  const { context, watcher, page } = await run.open(chromium, base);

  const sessionCookie = async () =>
    (await context.cookies(base)).find((c) => c.name === 'tb_session');

  await check('login page loads', async () => {
    await gotoOk(page, `${base}/login`);
    assert(!(await sessionCookie()), 'a session cookie before logging in');
  });
  await check(`${REVIEWER} logs in through the form and lands on /`, async () => {
    await submitLogin(page, base, REVIEWER, password);
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
  await screenshot(page, path.join(tmp, 'reviewer-home.png'));
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
    const other = demoUnits()
      .find((u) => u.kind === 'school' && u.parent_code && u.parent_code !== COUNTY);
    const r = await page.request.get(`${base}/schools/${other.code}`, { maxRedirects: 0 });
    assert(r.status() === 404, `GET /schools/${other.code} (${other.name}): ${r.status()}`);
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
    await gotoOk(page, `${base}/`);
    const h1 = (await page.locator('h1').first().innerText()).trim();
    assert(h1 === HEADING, `h1 is ${JSON.stringify(h1)}`);
    assert(await page.getByRole('link', { name: '登录填报', exact: true }).isVisible(), 'no 登录填报 link');
    assert(await page.getByRole('button', { name: '退出' }).count() === 0, 'still a 退出 button');
  });
  await watcher.verify(check);
} catch (e) {
  fatal = e;
}
await run.finish(fatal, `screenshot: ${tmp}/reviewer-home.png`);

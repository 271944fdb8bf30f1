// test_home.mjs — what a person sees of Tianbao's home and login pages, in the system Chromium.
//
// Run by `make check` as `node tests/e2e/test_home.mjs` (cwd: the build directory) with
// TIANBAO_SRCDIR and TIANBAO_BUILDDIR set; by hand from the repository root it works too.
// Starts its own stack (scripts/stack) on a free loopback port, drives /usr/bin/chromium
// through playwright-core (installed by `cd tests/e2e && npm ci`; it never downloads a
// browser), and stops everything in `finally`. Exit 0: all passed; 1: a failure;
// 77: playwright-core or Chromium missing (automake SKIP), which is a failure when CI is set.
import path from 'node:path';

import { Run, assert, gotoOk, loadChromium, screenshot } from './lib.mjs';

const HEADING = '学校办学条件与师资年度填报';
const WATCHDOG_MS = 120_000;

const chromium = loadChromium();
const run = new Run(WATCHDOG_MS);
const { check, tmp } = run;

let fatal = null;
try {
  // the stack
  const base = await run.startStack();

  // the browser, watched and fenced in: nothing but our own server
  const { watcher, page } = await run.open(chromium, base);

  await check('home page loads with 200', async () => {
    await gotoOk(page, `${base}/`);
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
  await screenshot(page, path.join(tmp, 'home-1280.png'));
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
  await watcher.verify(check);
} catch (e) {
  fatal = e;
}
await run.finish(fatal, `screenshots: ${tmp}/home-1280.png ${tmp}/home-375.png`);

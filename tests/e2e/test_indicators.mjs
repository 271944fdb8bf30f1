// test_indicators.mjs — a county reviewer opens the county's indicator dashboard and follows a
// failing school's link to its submission, in the system Chromium.
//
// Run by `make check` as `node tests/e2e/test_indicators.mjs` (cwd: the build directory) with
// TIANBAO_SRCDIR and TIANBAO_BUILDDIR set; by hand from the repository root it works too.
// Starts its own stack (scripts/stack) on a free loopback port, loads the demo city with
// scripts/demo-data (period 2025: every school's figures approved), drives /usr/bin/chromium
// through playwright-core (installed by `cd tests/e2e && npm ci`; it never downloads a browser),
// and stops everything at the end. The reviewer of 白水县 (rev-990122) logs in, clicks 指标 in the
// header, picks 2025学年 in the filter form and presses 查看; the page shows the county's
// 优质均衡 table for 小学 and 初中 (seven indicators each, the standard, the county value, the
// schools meeting it, the CV and its verdict, the number of schools passing) with an SVG chart
// per stage (role img, one bar per indicator, the limit line), and the targets table. The
// reviewer opens the list of schools that miss the verdict (a <details>), clicks a school and
// lands on the review page of that school's submission (/schools/CODE/2025/FORM/review). Back on
// the dashboard, the print stylesheet hides the filter form (page.emulateMedia print).
// Exit 0: all passed; 1: a failure; 77: playwright-core or Chromium missing (automake SKIP),
// which is a failure when CI is set.
import fs from 'node:fs';
import path from 'node:path';

import {
  DEMO_TIMEOUT_MS, Run, SRCDIR, assert, demoUnits, gotoOk, loadChromium, screenshot,
  submitLogin,
} from './lib.mjs';

const COUNTY = '990122'; // 白水县: most of its schools miss the 优质均衡 standards
const REVIEWER = `rev-${COUNTY}`;
const PERIOD = '2025';
const STAGES = ['小学', '初中'];
const FORMS = ['basic', 'students', 'staff', 'facilities'];
const YZJH = JSON.parse(fs.readFileSync(path.join(SRCDIR, 'db', 'indicators', 'yzjh.json'), 'utf8'));
const FORM_NAMES = Object.fromEntries(FORMS.map((f) => [f,
  JSON.parse(fs.readFileSync(path.join(SRCDIR, 'db', 'forms', `${f}.json`), 'utf8')).name]));
const WATCHDOG_MS = DEMO_TIMEOUT_MS + 90_000;

const chromium = loadChromium();
const run = new Run(WATCHDOG_MS);
const { check, tmp } = run;

let fatal = null;
try {
  const units = demoUnits();
  const countyName = units.find((u) => u.code === COUNTY)?.name;
  const schools = new Map(units.filter((u) => u.kind === 'school' && u.parent_code === COUNTY)
    .map((u) => [u.code, u.name]));
  if (!countyName || schools.size < 5) throw new Error(`the demo city has no county ${COUNTY}`);

  // the stack, with the demo city
  const base = await run.startStack();
  const { password } = run.loadDemo();

  // the browser, watched and fenced in: nothing but our own server
  const { watcher, page } = await run.open(chromium, base);
  const dashboardUrl = `${base}/indicators?period=${PERIOD}`;
  let target = null; // the failing school followed: { code, name, href }

  await check(`${REVIEWER} logs in, clicks 指标 and picks ${PERIOD}学年 in the filter form`, async () => {
    await gotoOk(page, `${base}/login`);
    await submitLogin(page, base, REVIEWER, password);
    await Promise.all([
      page.waitForURL(/\/indicators(\?.*)?$/),
      page.locator('header .nav').getByRole('link', { name: '指标', exact: true }).click(),
    ]);
    const h1 = (await page.locator('h1').innerText()).trim();
    assert(h1 === `${countyName} · 指标监测`, `h1 is ${JSON.stringify(h1)}`);
    await page.locator('form.filters select[name="period"]').selectOption(PERIOD);
    await Promise.all([
      page.waitForURL(dashboardUrl),
      page.locator('form.filters').getByRole('button', { name: '查看', exact: true }).click(),
    ]);
    const facts = await page.locator('p.facts').innerText();
    assert(facts.includes(`${PERIOD}学年`) && facts.includes(`共 ${schools.size} 所学校，${schools.size} 所有已审核数据`),
      `the facts say ${JSON.stringify(facts)}`);
  });

  await check('the 优质均衡 table of each stage: seven indicators, values, CVs, passing schools', async () => {
    const blocks = page.locator('div.stage-block');
    assert(await blocks.count() === STAGES.length, `${await blocks.count()} stage blocks`);
    for (let i = 0; i < STAGES.length; i++) {
      const block = blocks.nth(i);
      const h3 = (await block.locator('h3').innerText()).trim();
      assert(h3.startsWith(`${STAGES[i]}：资源配置`) && /(达标|未达标)$/.test(h3), `h3 is ${JSON.stringify(h3)}`);
      const line = await block.locator('p').first().innerText();
      const m = /参评学校 (\d+) 所：达标 (\d+) 所，未达标 (\d+) 所，缺少数据 (\d+) 所/.exec(line);
      assert(m && Number(m[1]) > 0 && Number(m[1]) === Number(m[2]) + Number(m[3]) + Number(m[4]),
        `the counts say ${JSON.stringify(line)}`);
      const rows = block.locator('table.balance tbody tr');
      assert(await rows.count() === YZJH.indicators.length, `${STAGES[i]}: ${await rows.count()} rows`);
      for (let k = 0; k < YZJH.indicators.length; k++) {
        const cells = (await rows.nth(k).locator('td, th').allInnerTexts()).map((t) => t.trim());
        const ind = YZJH.indicators[k];
        assert(cells[1] === `${ind.name}（${ind.unit}）`, `row ${k + 1} is ${JSON.stringify(cells[1])}`);
        assert(/^≥ [\d.]+$/.test(cells[2]), `standard ${JSON.stringify(cells[2])}`);
        assert(/^\d+(\.\d{1,2})?$/.test(cells[3]), `${ind.name}: value ${JSON.stringify(cells[3])}`);
        const met = /^(\d+)\/(\d+)$/.exec(cells[4]);
        assert(met && Number(met[1]) <= Number(met[2]) && Number(met[2]) === Number(m[1]),
          `${ind.name}: schools meeting it ${JSON.stringify(cells[4])} of ${m[1]}`);
        assert(/^\d+(\.\d{1,3})?$/.test(cells[5]), `${ind.name}: CV ${JSON.stringify(cells[5])}`);
        assert(['达标', '未达标'].includes(cells[6]), `${ind.name}: CV verdict ${JSON.stringify(cells[6])}`);
      }
    }
    assert(await page.locator('table.targets tbody tr:not(.chart-row)').count() >= 10, 'no targets table');
  });

  await check('an SVG chart per stage: role img, one bar per indicator, the limit line', async () => {
    for (const stage of STAGES) {
      const chart = page.getByRole('img', { name: `${stage} 各项指标校际差异系数` });
      assert(await chart.count() === 1, `${await chart.count()} charts for ${stage}`);
      assert(await chart.isVisible(), `the ${stage} chart is not visible`);
      const box = await chart.boundingBox();
      assert(box && box.width > 100 && box.height > 100, `the ${stage} chart is ${JSON.stringify(box)}`);
      const bars = chart.locator('rect.bar');
      assert(await bars.count() === YZJH.indicators.length, `${await bars.count()} bars`);
      const classes = await bars.evaluateAll((rs) => rs.map((r) => r.getAttribute('class')));
      assert(classes.every((c) => /^bar (ok|bad)$/.test(c)), `bar classes ${classes.join(', ')}`);
      const heights = await bars.evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('height'))));
      assert(heights.some((h) => h > 0), `no bar has a height: ${heights.join(', ')}`);
      assert(await chart.locator('line.limit').count() === 1, 'no limit line');
      const limit = (await chart.locator('text.lt').textContent()).trim();
      assert(limit === `标准 ${YZJH.cv_limits[stage === '小学' ? 'pri' : 'jun']}`, `the limit says ${limit}`);
    }
  });

  await check('the list of schools missing the verdict opens and links to their submissions', async () => {
    const details = page.locator('details.failing').first();
    assert(await details.count() === 1, 'no list of failing schools');
    const links = details.locator('li a');
    assert(!(await links.first().isVisible()), 'the list is open before the click');
    await details.locator('summary').click();
    assert(await links.first().isVisible(), 'the list did not open');
    const n = await links.count();
    assert(n >= 1, 'nobody in the list');
    for (let i = 0; i < n; i++) {
      const href = await links.nth(i).getAttribute('href');
      const m = new RegExp(`^/schools/(\\d{10})/${PERIOD}/(${FORMS.join('|')})/review$`).exec(href);
      assert(m && schools.has(m[1]), `link ${JSON.stringify(href)}`);
      const li = (await links.nth(i).locator('xpath=..').innerText()).trim();
      assert(li.startsWith(`${schools.get(m[1])}（${m[1]}）`), `the item says ${JSON.stringify(li)}`);
      if (!target) target = { code: m[1], name: schools.get(m[1]), href, form: m[2] };
    }
  });

  await check('clicking a failing school opens the review page of its submission', async () => {
    assert(target, 'no school to follow');
    await Promise.all([
      page.waitForURL(`${base}${target.href}`),
      page.locator('details.failing').first().getByRole('link', { name: target.name, exact: true }).click(),
    ]);
    const h1 = (await page.locator('h1').innerText()).trim();
    assert(h1.startsWith(`审核：${FORM_NAMES[target.form]}`) && h1.includes('已审核'), `h1 is ${JSON.stringify(h1)}`);
    const facts = await page.locator('p.facts').innerText();
    assert(facts.includes(`${target.name}（${target.code}）`) && facts.includes(`${PERIOD}学年`),
      `the page is about ${JSON.stringify(facts)}`);
    await screenshot(page, path.join(tmp, 'indicators-review.png'));
  });

  await check('printing hides the filter form and keeps the tables and charts', async () => {
    await gotoOk(page, dashboardUrl);
    const filters = page.locator('form.filters');
    assert(await filters.isVisible(), 'the filters are not visible on screen');
    await page.emulateMedia({ media: 'print' });
    try {
      assert(!(await filters.isVisible()), 'the filters are visible in print');
      assert(await page.locator('table.balance').first().isVisible(), 'the 优质均衡 table is hidden in print');
      assert(await page.getByRole('img', { name: `${STAGES[0]} 各项指标校际差异系数` }).isVisible(),
        'the chart is hidden in print');
      await screenshot(page, path.join(tmp, 'indicators-print.png'));
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
    assert(await filters.isVisible(), 'the filters stay hidden on screen');
  });

  await check('printing shows the lists of failing schools (closed <details> printed open)', async () => {
    // the print stylesheet shows the content of closed <details> so that the printed report
    // names the failing schools; on screen the list stays closed
    const links = page.locator('details.failing').first().locator('li a');
    assert(!(await links.first().evaluate((a) => a.checkVisibility())), 'the list is open on screen');
    await page.emulateMedia({ media: 'print' });
    try {
      // checkVisibility(): false while the element is not rendered (display none, or inside
      // the content of a closed <details>, which Chromium skips however the children are styled)
      const shown = await page.locator('details.failing li a').evaluateAll((as) =>
        as.filter((a) => a.checkVisibility()).length);
      const all = await page.locator('details.failing li a').count();
      assert(all > 0 && shown === all, `${shown} of ${all} failing schools printed`);
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  await watcher.verify(check);
} catch (e) {
  fatal = e;
}
await run.finish(fatal, `screenshots: ${tmp}/indicators-review.png ${tmp}/indicators-print.png`);

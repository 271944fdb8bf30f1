// test_review.mjs — a reviewer returns a submission with a field comment and a school user sees
// the comment beside the field, fixes it and submits again; the reviewer sees the change
// highlighted and approves. Two browser contexts (two people) in the system Chromium.
//
// Run by `make check` as `node tests/e2e/test_review.mjs` (cwd: the build directory) with
// TIANBAO_SRCDIR and TIANBAO_BUILDDIR set; by hand from the repository root it works too.
// Starts its own stack (scripts/stack) on a free loopback port, loads the demo city with
// scripts/demo-data (where 2199210001, 青山县实验小学, has submitted its forms and the county's
// reviewer has not decided on them yet), drives /usr/bin/chromium through playwright-core
// (installed by `cd tests/e2e && npm ci`; it never downloads a browser), and stops everything
// at the end. The reviewer (rev-990121) opens the overview, clicks the school's 学生与班级
// (已上报), types a reason and a comment on 小学 在校生数, clicks 退回学校修改; the school logs in
// (a second context), sees the unread badge, opens the form from the notice, sees the reason at
// the top and the comment in the line under the grid row of 在校生数, corrects the number and
// submits again; the reviewer sees that row highlighted (tr.changed, with the old value) and
// approves; the school sees 已审核.
// Exit 0: all passed; 1: a failure; 77: playwright-core or Chromium missing (automake SKIP),
// which is a failure when CI is set.
import fs from 'node:fs';
import path from 'node:path';

import {
  CHROMIUM, CHROMIUM_ARGS, DEMO_TIMEOUT_MS, Run, SRCDIR, Watcher, assert, demoUnits, gotoOk,
  loadChromium, submitLogin,
} from './lib.mjs';

const SCHOOL = '2199210001'; // 青山县实验小学 (小学): submitted by the demo, not yet reviewed
const PERIOD = '2026';
const FORM = 'students';
const FORM_NAME = JSON.parse(fs.readFileSync(path.join(SRCDIR, 'db', 'forms', `${FORM}.json`), 'utf8')).name;
const FIELD = 'pri_students'; // 小学 在校生数: a cell of the grid
const REASON = '小学在校生数与学籍系统9月1日的数据不一致，请核对后重新上报。';
const COMMENT = '学籍系统为准：请核对转入转出的学生。';
const EXPLANATION = '已与学籍系统核对，数字无误。';
const WATCHDOG_MS = DEMO_TIMEOUT_MS + 60_000;

const chromium = loadChromium();
const run = new Run(WATCHDOG_MS);
const { check, tmp } = run;
let browser = null;

let fatal = null;
try {
  const unit = demoUnits().find((u) => u.code === SCHOOL);
  if (!unit || unit.kind !== 'school') throw new Error(`${SCHOOL} is not a school of the demo city`);
  const SCHOOL_NAME = unit.name;
  const REVIEWER = `rev-${unit.parent_code}`;

  // the stack, with the demo city
  const base = await run.startStack();
  const { password } = run.loadDemo();

  // one browser, one context per person, both watched and fenced in
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  const watcher = new Watcher(base);
  const dialogs = [];
  const person = async (who) => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(10_000);
    ctx.setDefaultNavigationTimeout(15_000);
    await watcher.attach(ctx);
    const page = await ctx.newPage();
    watcher.watchPage(page);
    page.on('dialog', (d) => {
      dialogs.push(`${who}: ${d.type()}`);
      d.dismiss().catch(() => {});
    });
    return page;
  };
  const rev = await person(REVIEWER);
  const school = await person(SCHOOL);

  const formUrl = `${base}/schools/${SCHOOL}/${PERIOD}/${FORM}`;
  const reviewUrl = `${formUrl}/review`;
  const login = async (page, user) => {
    await gotoOk(page, `${base}/login`);
    await submitLogin(page, base, user, password);
  };
  // The unread count in the header (0 without a badge).
  const badge = async (page) => {
    const b = page.locator('header .nav a.notices .badge');
    return (await b.count()) ? Number((await b.innerText()).trim()) : 0;
  };
  const okNotice = (page) => page.locator('p.msg.ok').first().innerText({ timeout: 2_000 }).catch(() => '');

  let before = null; // the value the school had submitted
  let fixed = null;

  await check(`${REVIEWER} logs in and opens the overview: ${SCHOOL_NAME}'s ${FORM_NAME} is 已上报`, async () => {
    await login(rev, REVIEWER);
    await Promise.all([
      rev.waitForURL(`${base}/review`),
      rev.locator('header .nav').getByRole('link', { name: '填报情况', exact: true }).click(),
    ]);
    const heads = await rev.locator('table#schools thead th').allInnerTexts();
    const col = heads.map((h) => h.trim()).indexOf(FORM_NAME);
    assert(col >= 0, `no column ${FORM_NAME}: ${heads.join(' | ')}`);
    const row = rev.locator('table#schools tbody tr').filter({ has: rev.locator(`a[href="/schools/${SCHOOL}"]`) });
    assert(await row.count() === 1, `${await row.count()} rows of ${SCHOOL}`);
    const cell = row.locator('td').nth(col).locator('a.state');
    const state = (await cell.innerText()).trim();
    assert(state === '已上报', `${FORM_NAME} of ${SCHOOL} is ${state}`);
    assert(await cell.getAttribute('href') === `/schools/${SCHOOL}/${PERIOD}/${FORM}/review`,
      `the cell links to ${await cell.getAttribute('href')}`);
    await Promise.all([rev.waitForURL(reviewUrl), cell.click()]);
    const h1 = (await rev.locator('h1').innerText()).trim();
    assert(h1.includes(FORM_NAME) && h1.includes('已上报'), `h1 is ${JSON.stringify(h1)}`);
  });

  await check(`the reviewer types a reason and a comment on ${FIELD} and clicks 退回学校修改`, async () => {
    before = (await rev.locator(`tr#r-${FIELD} td.num`).first().innerText()).trim();
    assert(/^\d+$/.test(before), `the review page shows ${FIELD} as ${JSON.stringify(before)}`);
    await rev.locator('textarea#reason').fill(REASON);
    const input = rev.locator(`tr#r-${FIELD} input[name="c.${FIELD}"]`);
    assert(await input.count() === 1, `no comment input in the row of ${FIELD}`);
    await input.fill(COMMENT);
    await Promise.all([
      rev.waitForURL(`${reviewUrl}?done=returned`),
      rev.getByRole('button', { name: '退回学校修改', exact: true }).click(),
    ]);
    const n = await okNotice(rev);
    assert(n.includes('已退回'), `notice ${JSON.stringify(n)}`);
    const h1 = (await rev.locator('h1').innerText()).trim();
    assert(h1.includes('已退回'), `h1 is ${JSON.stringify(h1)}`);
  });

  await check(`${SCHOOL} logs in (a second context) and sees the unread badge`, async () => {
    await login(school, SCHOOL);
    const n = await badge(school);
    assert(n >= 1, `the badge shows ${n}`);
    const row = school.locator('table.tasks tbody tr').filter({ hasText: FORM_NAME });
    const state = (await row.locator('.state').innerText()).trim();
    assert(state === '已退回', `the task list shows ${FORM_NAME} ${state}`);
  });

  await check('the notice names the return and its reason, and opens the form', async () => {
    await Promise.all([
      school.waitForURL(`${base}/notices`),
      school.locator('header .nav a.notices').click(),
    ]);
    const item = school.locator('ul.notices li.unread').filter({ hasText: REASON });
    assert(await item.count() === 1, `${await item.count()} unread notices with the reason`);
    const text = await item.innerText();
    assert(text.includes(FORM_NAME) && text.includes('退回'), `notice ${JSON.stringify(text)}`);
    await Promise.all([school.waitForURL(formUrl), item.locator('a').click()]);
  });

  await check('the form shows the reason at the top and the comment in the line under the row', async () => {
    const box = school.locator('.msg.returned');
    assert(await box.isVisible(), 'no returned box');
    const text = await box.innerText();
    assert(text.includes(`原因：${REASON}`), `the box says ${JSON.stringify(text)}`);
    const top = await box.boundingBox();
    const form = await school.locator('#entry-form').boundingBox();
    assert(top && form && top.y < form.y, 'the reason is not above the form');
    // the cell's row, then the line under it
    const under = await school.locator(`#f-${FIELD}`).evaluate((el) => {
      const tr = el.closest('tr');
      const next = tr && tr.nextElementSibling;
      return next ? { cls: next.className, text: next.textContent.trim() } : null;
    });
    assert(under && under.cls === 'row-issues', `the line under the row: ${JSON.stringify(under)}`);
    assert(under.text.includes(`审核意见（小学）：${COMMENT}`), `the line under the row says ${JSON.stringify(under.text)}`);
    const remark = school.locator('tr.row-issues .remark', { hasText: COMMENT });
    assert(await remark.isVisible(), 'the comment is not visible');
    assert(await school.locator('#entry-form[data-editable="1"]').count() === 1, 'the form is not editable');
    assert(await school.locator(`#f-${FIELD}`).inputValue() === before,
      `#f-${FIELD} shows ${await school.locator(`#f-${FIELD}`).inputValue()}, submitted ${before}`);
  });

  await check(`the school corrects ${FIELD} and submits again (已上报)`, async () => {
    fixed = String(Number(before) - 3);
    await school.locator(`#f-${FIELD}`).fill(fixed);
    for (let round = 0; round < 2; round++) {
      await Promise.all([
        school.waitForURL(/[?&](submitted|blocked)=1$/),
        school.getByRole('button', { name: '检查并上报', exact: true }).click(),
      ]);
      if (school.url().endsWith('submitted=1')) break;
      const errors = await school.locator('li.issue.error').allInnerTexts();
      assert(errors.length === 0, `blocked by errors: ${errors.join(' | ')}`);
      const empty = school.locator('input[name^="x."]');
      let filled = 0;
      for (let i = 0; i < await empty.count(); i++) {
        if (await empty.nth(i).inputValue() !== '') continue;
        await empty.nth(i).fill(EXPLANATION);
        filled++;
      }
      assert(filled, `blocked, and nothing to explain: ${await school.locator('p.msg').first().innerText()}`);
    }
    assert(school.url() === `${formUrl}?submitted=1`, `now at ${school.url()}`);
    const h1 = (await school.locator('h1').innerText()).trim();
    assert(h1.includes('已上报'), `h1 is ${JSON.stringify(h1)}`);
    assert(await school.locator(`#f-${FIELD}`).inputValue() === fixed, 'the corrected value is not shown');
  });

  await check('the reviewer sees the changed field highlighted (tr.changed) with the old value', async () => {
    await rev.goto(reviewUrl, { waitUntil: 'load' });
    const h1 = (await rev.locator('h1').innerText()).trim();
    assert(h1.includes('已上报'), `h1 is ${JSON.stringify(h1)}`);
    const changed = await rev.locator('tr.changed').evaluateAll((trs) => trs.map((t) => t.id));
    assert(changed.join() === `r-${FIELD}`, `rows marked changed: ${JSON.stringify(changed)}`);
    const cell = (await rev.locator(`tr#r-${FIELD} td.num`).first().innerText()).trim();
    assert(cell.startsWith(fixed) && cell.includes(`原 ${before}`), `the row shows ${JSON.stringify(cell)}`);
    const bg = await rev.locator(`tr#r-${FIELD} td`).first().evaluate((el) => getComputedStyle(el).backgroundColor);
    const plain = await rev.locator('table.review-values tbody tr:not(.changed) td').first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    assert(bg !== plain, `the changed row looks like the others (${bg})`);
    const note = await rev.locator('p.msg.warn').first().innerText();
    assert(note.includes(REASON) && note.includes('学校此后修改了 1 项'), `note ${JSON.stringify(note)}`);
  });

  await check('the reviewer approves (已审核) and the school sees it', async () => {
    await Promise.all([
      rev.waitForURL(`${reviewUrl}?done=approved`),
      rev.getByRole('button', { name: '审核通过', exact: true }).click(),
    ]);
    const n = await okNotice(rev);
    assert(n.includes('已审核通过'), `notice ${JSON.stringify(n)}`);
    const h1 = (await rev.locator('h1').innerText()).trim();
    assert(h1.includes('已审核'), `h1 is ${JSON.stringify(h1)}`);
    assert(await rev.getByRole('button', { name: '审核通过' }).count() === 0, 'still an approve button');
    await school.goto(`${base}/`, { waitUntil: 'load' });
    const row = school.locator('table.tasks tbody tr').filter({ hasText: FORM_NAME });
    const state = (await row.locator('.state').innerText()).trim();
    assert(state === '已审核', `the task list shows ${FORM_NAME} ${state}`);
    assert(await badge(school) >= 1, 'no unread notice of the approval');
  });

  await check('no dialogs (nothing asked before leaving a page)', async () => {
    assert(dialogs.length === 0, `dialogs: ${dialogs.join(' ')}`);
  });
  await watcher.verify(check);
} catch (e) {
  fatal = e;
}
// the empty temporary directory of the run goes too (it stays when a failed stack is kept)
process.on('exit', () => {
  try {
    fs.rmdirSync(tmp);
  } catch {
    // not empty: kept for inspection
  }
});
run.context = browser; // finish() closes it
await run.finish(fatal);

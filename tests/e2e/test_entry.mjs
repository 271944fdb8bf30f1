// test_entry.mjs — a school user fills the four forms of a 九年一贯制 school with realistic numbers
// and submits them, in the system Chromium; and one save without JavaScript.
//
// Run by `make check` as `node tests/e2e/test_entry.mjs` (cwd: the build directory) with
// TIANBAO_SRCDIR and TIANBAO_BUILDDIR set; by hand from the repository root it works too.
// Starts its own stack (scripts/stack) on a free loopback port, loads the demo city with
// scripts/demo-data (which leaves 2199210007, 青山县石门乡九年一贯制学校, untouched for this test),
// takes the school's figures from db/demo/values.py, drives /usr/bin/chromium through
// playwright-core (installed by `cd tests/e2e && npm ci`; it never downloads a browser), and
// stops everything in `finally`. Of static/entry.js it covers the number hints while typing, the
// count of required fields left, and the warning before leaving unsaved input (also the input a
// save after the deadline gave back, data-unsaved); of the pages, the names of the 是/否 groups
// (role=radiogroup, aria-labelledby) and aria-required; of the server, saving values as typed
// (full-width digits, separators), a 说明 for a warning (one teacher without a certificate: the
// one figure changed from values.py), submission, and one save with JavaScript disabled.
// Exit 0: all passed; 1: a failure; 77: playwright-core or Chromium missing (automake SKIP),
// which is a failure when CI is set.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  BUILDDIR, CHROMIUM, CHROMIUM_ARGS, DEMO_TIMEOUT_MS, Run, SRCDIR, assert, demoUnits, gotoOk,
  loadChromium, screenshot, submitLogin, withTimeout,
} from './lib.mjs';

const VALUES = path.join(SRCDIR, 'db', 'demo', 'values.py');
const FORMS_DIR = path.join(SRCDIR, 'db', 'forms');
const SCHOOL = '2199210007'; // 青山县石门乡九年一贯制学校: 小学 + 初中, untouched by the demo
const PERIOD = '2026';
const FORMS = ['basic', 'students', 'staff', 'facilities'];
// Typed the way people type them (full-width digits, separators); the value is the same.
const AS_TYPED = {
  principal_birth_year: (v) => fullWidth(v),
  jun_students: (v) => fullWidth(v),
  staff_total: (v) => fullWidth(v),
  land_area: (v) => thousands(v, ','),
  building_area: (v) => thousands(v, '，'),
};
// One realistic departure from the generated figures, so that a warning asks for a 说明: one
// 小学 teacher without a teacher's certificate (rule all_teachers_certified, a warning).
const ADJUST = { pri_t_certified: (v) => String(Number(v) - 1) };
const EXPLAINED = { staff: 'x.all_teachers_certified.pri' };
const EXPLANATION = '1名新入职教师的教师资格证正在认定中。';
const WATCHDOG_MS = DEMO_TIMEOUT_MS + 120_000;

const chromium = loadChromium();
const run = new Run(WATCHDOG_MS);
const { check, tmp } = run;
let noJsBrowser = null;

// ASCII digits to full-width ones (１２３).
function fullWidth(s) {
  return s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
}

// A thousands separator in the integer part ("15690.11" -> "15,690.11").
function thousands(s, sep) {
  const [int, frac] = s.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+$)/g, sep);
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

// The school's figures for the period: form -> [[field, value]] in db/demo/values.py's order.
function schoolValues() {
  const r = spawnSync('python3', [VALUES, '--period', PERIOD, '--schools', SCHOOL], {
    stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, encoding: 'utf8', maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`db/demo/values.py failed (${r.status ?? r.signal}): ${r.stderr}`);
  const byForm = new Map();
  for (const set of JSON.parse(r.stdout).dataValueSets) {
    if (set.orgUnit !== SCHOOL || set.period !== PERIOD) continue;
    byForm.set(set.dataSet, set.dataValues.map((v) =>
      [v.dataElement, ADJUST[v.dataElement] ? ADJUST[v.dataElement](v.value) : v.value]));
  }
  return byForm;
}

// Move the closing time of PERIOD (China Standard Time, 'YYYY-MM-DD HH:MM') with tianbao-admin.
function setClosing(stackDir, closes) {
  const r = spawnSync(path.join(BUILDDIR, 'tianbao-admin'),
    ['-c', path.join(stackDir, 'tianbao.ini'), 'period', 'extend', PERIOD, '--closes', closes],
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`period extend ${PERIOD} --closes ${closes}: ${r.stderr}${r.stdout}`);
}

// The form's name as the task list shows it.
function formName(code) {
  return JSON.parse(fs.readFileSync(path.join(FORMS_DIR, `${code}.json`), 'utf8')).name;
}

// The other schools of SCHOOL's county (db/demo/orgunits.csv), to find one with a form still
// open for the check without JavaScript.
function otherSchools() {
  const units = demoUnits();
  const county = units.find((u) => u.code === SCHOOL)?.parent_code;
  return units.filter((u) => u.kind === 'school' && u.parent_code === county && u.code !== SCHOOL)
    .map((u) => u.code);
}

let fatal = null;
try {
  const values = schoolValues();
  for (const f of FORMS) {
    if (!values.get(f)?.length) throw new Error(`db/demo/values.py gave no values of ${f} for ${SCHOOL}`);
  }

  // the stack, with the demo city
  const base = await run.startStack();
  const { password } = run.loadDemo();

  // the browser, watched and fenced in: nothing but our own server; `watcher.expected` is the
  // one refusal a step provokes on purpose (a save after the deadline)
  const { watcher, page } = await run.open(chromium, base);
  // Dialogs: recorded, then answered as the step in progress wants (dismissed by default).
  const dialogs = [];
  let answerDialog = 'dismiss';
  page.on('dialog', (d) => {
    dialogs.push(d.type());
    (answerDialog === 'accept' ? d.accept() : d.dismiss()).catch(() => {});
  });

  const formUrl = (f) => `${base}/schools/${SCHOOL}/${PERIOD}/${f}`;
  // The task list's rows: form name, state, link.
  const tasks = () => page.locator('table.tasks tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    name: tr.querySelector('td a')?.textContent.trim(),
    state: tr.querySelector('.state')?.textContent.trim(),
    link: tr.querySelector('td a')?.getAttribute('href'),
    button: tr.querySelector('a.button')?.textContent.trim(),
  })));
  const requiredLeft = () => page.locator('#required-left').textContent();
  const notice = () => page.locator('p.msg.ok').first().textContent({ timeout: 2_000 }).catch(() => '');
  const hintOf = (id) => page.locator(`#${id} + .js-hint`); // right after the input
  // The text of the hint after an input, or null when there is none.
  const hintText = (id) => page.locator(`#${id}`).evaluate((el) => {
    const h = el.nextElementSibling;
    return h && h.classList.contains('js-hint') ? h.textContent.trim() : null;
  });
  // Click 首页 and expect the beforeunload dialog; dismissed, the page stays.
  const leaveDismissed = async (f) => {
    dialogs.length = 0;
    const [d] = await Promise.all([
      page.waitForEvent('dialog', { timeout: 5_000 }),
      page.locator('.crumbs a', { hasText: '首页' }).click({ noWaitAfter: true }),
    ]);
    assert(d.type() === 'beforeunload', `a ${d.type()} dialog`);
    await page.waitForTimeout(200);
    assert(dialogs.join() === 'beforeunload', `dialogs: ${JSON.stringify(dialogs)}`);
    assert(page.url().startsWith(formUrl(f)), `now at ${page.url()}`);
  };

  await check(`${SCHOOL} logs in through the form and lands on /`, async () => {
    await gotoOk(page, `${base}/login`);
    await submitLogin(page, base, SCHOOL, password);
    const h1 = (await page.locator('h1').first().innerText()).trim();
    assert(h1 === '青山县石门乡九年一贯制学校', `h1 is ${JSON.stringify(h1)}`);
  });

  let deadline = null;
  await check('the task list shows the four forms 未填写, with the deadline', async () => {
    const d = (await page.locator('#tasks .deadline').innerText()).trim();
    const m = /^填报截止时间：(\d{4}-\d{2}-\d{2} \d{2}:\d{2})（还剩 (\d+) 天）$/.exec(d);
    assert(m, `deadline line is ${JSON.stringify(d)}`);
    assert(Number(m[2]) >= 1, `days left ${m[2]}`);
    deadline = m[1];
    const rows = await tasks();
    assert(rows.length === 4, `${rows.length} rows`);
    FORMS.forEach((f, i) => {
      const r = rows[i];
      assert(r.name === formName(f), `row ${i + 1} is ${r.name}, expected ${formName(f)}`);
      assert(r.state === '未填写', `${r.name}: ${r.state}`);
      assert(r.link === `/schools/${SCHOOL}/${PERIOD}/${f}`, `${r.name}: link ${r.link}`);
      assert(r.button === '开始填报', `${r.name}: button ${r.button}`);
    });
  });

  for (const f of FORMS) {
    const name = formName(f);
    const vals = values.get(f);
    let requiredIds = [];

    await check(`${name}: opens from the task list, editable, ${vals.length} fields to fill`, async () => {
      if (new URL(page.url()).pathname !== '/') await page.goto(`${base}/`, { waitUntil: 'load' });
      await Promise.all([
        page.waitForURL(formUrl(f)),
        page.locator('table.tasks tbody tr').filter({ hasText: name }).getByRole('link', { name: '开始填报' }).click(),
      ]);
      const h1 = (await page.locator('h1').innerText()).trim();
      assert(h1.startsWith(name) && h1.includes('未填写'), `h1 is ${JSON.stringify(h1)}`);
      const facts = await page.locator('p.facts').innerText();
      assert(deadline && facts.includes(`截止 ${deadline}`), `facts: ${facts}`);
      assert(await page.locator('#entry-form[data-editable="1"]').count() === 1, 'the form is not editable');
      requiredIds = await page.locator('#entry-form [data-required="1"]').evaluateAll((els) => els.map((e) => e.id));
      const left = await page.locator('#required-left').getAttribute('data-left');
      assert(Number(left) === requiredIds.length,
        `the server counts ${left} required fields left, the page marks ${requiredIds.length}`);
      for (const [code] of vals) {
        assert(await page.locator(`#f-${code}`).count() === 1, `no #f-${code} on the page`);
      }
    });

    if (f === 'basic') {
      await check(`${name}: each 是/否 group is a radio group named by its label; required is aria-required`, async () => {
        const groups = await page.locator('#entry-form .yesno').evaluateAll((els) => els.map((e) => e.id));
        assert(groups.length > 0, 'no 是/否 group on the page');
        for (const id of groups) {
          const label = (await page.locator(`#${id}-label`).innerText()).replace('*', '').trim();
          const group = page.getByRole('radiogroup', { name: label, exact: true });
          assert(await group.count() === 1, `${await group.count()} radio groups named ${label}`);
          assert(await group.getAttribute('id') === id, `the group named ${label} is not #${id}`);
          assert(await group.getAttribute('aria-required') === 'true', `${label}: not aria-required`);
        }
        const unmarked = await page.locator('#entry-form [data-required="1"]:not([aria-required="true"])')
          .evaluateAll((els) => els.map((e) => e.id));
        assert(unmarked.length === 0, `required without aria-required: ${unmarked.join(' ')}`);
        const html = await page.locator('#entry-form [required]').count();
        assert(html === 0, `${html} controls with the HTML required attribute (drafts must save)`);
      });

      await check(`${name}: a bad number gets a hint while typing, removed when corrected`, async () => {
        const id = 'f-principal_birth_year';
        const input = page.locator(`#${id}`);
        const before = await requiredLeft();
        for (const [typed, hint] of [['19８1a', '请输入数字'], ['-1981', '不能为负数'],
          ['1981.5', '只能填写整数'], ['1981。', '请输入数字']]) {
          await input.fill(typed);
          assert(await hintOf(id).count() === 1, `${typed}: ${await hintOf(id).count()} hints`);
          const got = await hintText(id);
          assert(got === hint, `${typed}: hint ${JSON.stringify(got)}, expected ${hint}`);
          assert(await input.getAttribute('aria-invalid') === 'true', `${typed}: no aria-invalid`);
          assert(await hintOf(id).isVisible(), `${typed}: the hint is not visible`);
          assert(await input.inputValue() === typed, `${typed}: the input now holds ${await input.inputValue()}`);
          assert(await requiredLeft() === before, `${typed}: the count moved to ${await requiredLeft()}`);
        }
        await input.fill('1981.0'); // trailing zeros do not count as decimals
        assert(await hintOf(id).count() === 0, '1981.0: still a hint');
        // the range (1940 to 2010) is judged once the number is complete: on leaving the field
        await input.fill('1890');
        assert(await hintOf(id).count() === 0, '1890 while typing: already a hint');
        await input.blur();
        const range = await hintText(id);
        assert(range === '应在 1940～2010 之间', `1890 (left): hint ${JSON.stringify(range)}`);
        assert(await requiredLeft() === before, `1890: counted as filled (${await requiredLeft()})`);
        await input.fill('');
        assert(await hintOf(id).count() === 0, 'empty: still a hint');
        assert(await input.getAttribute('aria-invalid') === null, 'empty: still aria-invalid');
      });

      await check(`${name}: a number the server refused stays invalid and uncounted until changed`, async () => {
        const id = 'f-principal_birth_year';
        const input = page.locator(`#${id}`);
        await input.fill('1890');
        await Promise.all([
          page.waitForURL(`${formUrl(f)}?saved=1`),
          page.getByRole('button', { name: '保存草稿', exact: true }).click(),
        ]);
        assert(await input.inputValue() === '1890', `the saved draft shows ${await input.inputValue()}`);
        assert(await input.getAttribute('aria-invalid') === 'true', 'the server did not mark 1890 invalid');
        assert(await input.getAttribute('data-server-invalid') === '1', 'no data-server-invalid');
        const left = async () => Number(await page.locator('#required-left').getAttribute('data-left'));
        await input.fill('1981');
        assert(await input.getAttribute('aria-invalid') === null, '1981: still aria-invalid');
        const valid = await left();
        // typed back (an input event: no range check while typing), the server's verdict holds
        await input.fill('1890');
        assert(await hintOf(id).count() === 0, '1890 while typing: a hint');
        assert(await input.getAttribute('aria-invalid') === 'true', '1890 again: not aria-invalid');
        assert(await left() === valid + 1, `1890 again: ${await left()} left, ${valid} with 1981`);
        await input.fill('');
        assert(await input.getAttribute('aria-invalid') === null, 'empty: still aria-invalid');
        assert(await left() === requiredIds.length, `empty: ${await left()} left of ${requiredIds.length}`);
      });
    }
    if (f === 'facilities') {
      await check(`${name}: decimals and thousands separators are checked as the server does`, async () => {
        const id = 'f-land_area';
        const input = page.locator(`#${id}`);
        const expect = async (typed, want, blur) => {
          await input.fill(typed);
          if (blur) await input.blur();
          const got = await hintText(id);
          assert(got === want, `${typed}${blur ? ' (left)' : ''}: hint ${JSON.stringify(got)}, expected ${want}`);
          assert(await input.getAttribute('aria-invalid') === (want ? 'true' : null),
            `${typed}: aria-invalid ${await input.getAttribute('aria-invalid')}`);
        };
        await expect('15690.123', '最多 2 位小数');
        await expect('15690.120', null); // a trailing zero does not count
        await expect('15,69', null); // still being typed: no hint yet …
        await expect('15,69', '请输入数字', true); // … but on leaving the field
        await expect('156,90.11', '请输入数字');
        await expect('１５，６９０．１１', null);
        await expect('1.5e4', '请输入数字');
        await expect('', null);
      });
    }

    await check(`${name}: every value typed, the required count goes down to 必填项已全部填写`, async () => {
      const filled = new Set();
      let last = requiredIds.length;
      for (const [code, value] of vals) {
        const id = `f-${code}`;
        const el = page.locator(`#${id}`);
        const kind = await el.getAttribute('data-kind');
        if (kind === 'yesno') {
          assert(value === 'true' || value === 'false', `${code}: yes/no value ${value}`);
          await el.getByLabel(value === 'true' ? '是' : '否', { exact: true }).check();
        } else if (kind === 'choice') {
          await el.selectOption(value);
        } else {
          const typed = AS_TYPED[code] ? AS_TYPED[code](value) : value;
          await el.fill(typed);
          assert(await el.inputValue() === typed, `${code}: typed ${typed}, the input holds ${await el.inputValue()}`);
          const hint = await hintText(id);
          assert(hint === null, `${code}: hint ${hint} for ${typed}`);
        }
        if (requiredIds.includes(id)) filled.add(id);
        const left = requiredIds.length - filled.size;
        const want = left ? `，还有 ${left} 项未填` : '，必填项已全部填写';
        const got = await requiredLeft();
        assert(got === want, `after ${code}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
        const line = await page.locator('p.progress').innerText();
        const head = `必填项已填 ${filled.size} / ${requiredIds.length}${want}`;
        assert(line.startsWith(head), `after ${code}: ${JSON.stringify(line)}, expected ${JSON.stringify(head)}…`);
        assert(left <= last, `after ${code}: the count went up`);
        last = left;
      }
      assert(last === 0, `${last} required fields left after typing every value`);
    });

    if (f === 'basic') {
      await check(`${name}: leaving with unsaved changes asks first (beforeunload), dismissed stays`, async () => {
        await leaveDismissed(f);
        const [code, value] = vals.find(([, v]) => /^\d+$/.test(v));
        const v = await page.locator(`#f-${code}`).inputValue();
        assert(v === (AS_TYPED[code] ? AS_TYPED[code](value) : value), `#f-${code} now holds ${v}`);
      });
    }

    if (f === 'facilities') {
      await check(`${name}: a save after the deadline → 403, the input kept and still unsaved`, async () => {
        // The period closes while the user types (a minute ago, China Standard Time) …
        const cst = new Date(Date.now() + 8 * 3600_000 - 60_000).toISOString();
        setClosing(run.stackDir, `${cst.slice(0, 10)} ${cst.slice(11, 16)}`);
        watcher.expected = { url: formUrl(f), status: 403 };
        let r;
        try {
          [r] = await Promise.all([
            page.waitForResponse((x) => x.url() === formUrl(f) && x.request().method() === 'POST'),
            page.getByRole('button', { name: '保存草稿', exact: true }).click(),
          ]);
          await page.waitForLoadState('load');
        } finally {
          setClosing(run.stackDir, deadline); // … and the bureau gives the time back
        }
        assert(r.status() === 403, `the late save answered ${r.status()}`);
        const err = await page.locator('p.msg.error').innerText();
        assert(err.includes('没有保存'), `error ${JSON.stringify(err)}`);
        assert(await page.locator('#entry-form[data-unsaved="1"]').count() === 1, 'no data-unsaved="1"');
        for (const [code, value] of vals.filter(([c]) => AS_TYPED[c])) {
          const v = await page.locator(`#f-${code}`).inputValue();
          assert(v === AS_TYPED[code](value), `#f-${code} shows ${v}, typed ${AS_TYPED[code](value)}`);
        }
        // Nothing typed on this page, yet leaving it asks: the input shown was not saved.
        await leaveDismissed(f);
        watcher.expected = null;
      });
    }

    await check(`${name}: 保存草稿 saves (已保存) without a leave warning, values as typed`, async () => {
      dialogs.length = 0;
      await Promise.all([
        page.waitForURL(`${formUrl(f)}?saved=1`),
        page.getByRole('button', { name: '保存草稿', exact: true }).click(),
      ]);
      assert(dialogs.length === 0, `dialogs while saving: ${JSON.stringify(dialogs)}`);
      const n = await notice();
      assert(n.includes('已保存'), `notice ${JSON.stringify(n)}`);
      assert((await page.locator('h1').innerText()).includes('草稿'), 'the state is not 草稿');
      for (const [code, value] of vals) {
        if (!AS_TYPED[code]) continue;
        const v = await page.locator(`#f-${code}`).inputValue();
        assert(v === AS_TYPED[code](value), `#f-${code} shows ${v}, typed ${AS_TYPED[code](value)}`);
      }
      assert(await page.locator('#required-left').getAttribute('data-left') === '0',
        `the server counts ${await page.locator('#required-left').getAttribute('data-left')} required fields left`);
    });

    if (f === 'staff') {
      await check(`${name}: an unsaved change, left with the warning accepted, is not kept`, async () => {
        const [code, value] = vals.find(([c, v]) => !AS_TYPED[c] && /^\d+$/.test(v));
        await page.locator(`#f-${code}`).fill(String(Number(value) + 1));
        dialogs.length = 0;
        answerDialog = 'accept';
        try {
          await Promise.all([
            page.waitForURL(`${base}/`),
            page.locator('.crumbs a', { hasText: '首页' }).click(),
          ]);
        } finally {
          answerDialog = 'dismiss';
        }
        assert(dialogs.join() === 'beforeunload', `dialogs: ${JSON.stringify(dialogs)}`);
        const row = (await tasks()).find((r) => r.name === name);
        assert(row?.state === '草稿' && row.button === '继续填报', `task row ${JSON.stringify(row)}`);
        await Promise.all([
          page.waitForURL(formUrl(f)),
          page.locator('table.tasks tbody tr').filter({ hasText: name }).getByRole('link', { name: '继续填报' }).click(),
        ]);
        const v = await page.locator(`#f-${code}`).inputValue();
        assert(v === value, `#f-${code} holds ${v}, saved was ${value}`);
      });
    }

    await check(`${name}: 检查并上报 submits (说明 given where a warning asks) → 已上报, read-only`, async () => {
      const explained = [];
      for (let round = 0; round < 2; round++) {
        await Promise.all([
          page.waitForURL(/[?&](submitted|blocked)=1$/),
          page.getByRole('button', { name: '检查并上报', exact: true }).click(),
        ]);
        if (page.url().endsWith('submitted=1')) break;
        const errors = await page.locator('li.issue.error').allInnerTexts();
        assert(errors.length === 0, `blocked by errors: ${errors.join(' | ')}`);
        const empty = page.locator('input[name^="x."]');
        for (let i = 0; i < await empty.count(); i++) {
          if (await empty.nth(i).inputValue() !== '') continue;
          await empty.nth(i).fill(EXPLANATION);
          explained.push(await empty.nth(i).getAttribute('name'));
        }
        assert(explained.length, `blocked, and nothing to explain: ${await page.locator('p.msg').first().innerText()}`);
      }
      if (EXPLAINED[f]) {
        assert(explained.includes(EXPLAINED[f]), `说明 given: ${JSON.stringify(explained)}, expected ${EXPLAINED[f]}`);
      }
      if (explained.length) {
        const shown = await page.locator('.explained').allInnerTexts();
        assert(shown.some((t) => t.includes(EXPLANATION)), `the 说明 is not shown: ${JSON.stringify(shown)}`);
      }
      assert(page.url() === `${formUrl(f)}?submitted=1`, `now at ${page.url()}`);
      const n = await notice();
      assert(n.includes('已上报'), `notice ${JSON.stringify(n)}`);
      assert((await page.locator('h1').innerText()).includes('已上报'), 'the state is not 已上报');
      assert(await page.locator('#entry-form[data-editable]').count() === 0, 'the form is still data-editable');
      const writable = await page.locator('#entry-form input.num, #entry-form input.txt')
        .evaluateAll((els) => els.filter((e) => !e.readOnly).map((e) => e.id));
      assert(writable.length === 0, `inputs not readonly: ${writable.join(' ')}`);
      const radios = await page.locator('#entry-form input[type=radio]')
        .evaluateAll((els) => els.filter((e) => !e.disabled).length);
      assert(radios === 0, `${radios} radios still enabled`);
      assert(await page.getByRole('button', { name: '保存草稿' }).count() === 0, 'still a 保存草稿 button');
    });
    if (f === 'facilities') {
      await screenshot(page, path.join(tmp, 'entry-submitted.png'));
    }
  }

  await check('the task list shows all four forms 已上报', async () => {
    dialogs.length = 0;
    await page.goto(`${base}/`, { waitUntil: 'load' });
    assert(dialogs.length === 0, `dialogs leaving a submitted form: ${JSON.stringify(dialogs)}`);
    const rows = await tasks();
    assert(rows.length === 4, `${rows.length} rows`);
    for (const r of rows) {
      assert(r.state === '已上报', `${r.name}: ${r.state}`);
      assert(r.button === '查看', `${r.name}: button ${r.button}`);
    }
  });

  await check('without JavaScript another school saves a value and sees it', async () => {
    noJsBrowser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    const ctx = await noJsBrowser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 } });
    ctx.setDefaultTimeout(10_000);
    await ctx.route('**/*', watcher.fence);
    const p = await ctx.newPage();
    watcher.watchResponses(p);
    // The first other school of the county with a form still open (the demo has submitted some).
    let url = null;
    for (const code of otherSchools()) {
      await p.goto(`${base}/login`);
      await submitLogin(p, base, code, password);
      const open = p.locator('table.tasks tbody tr').filter({ has: p.getByRole('link', { name: /开始填报|继续填报/ }) });
      if (await open.count()) {
        url = await open.first().locator('td a').first().getAttribute('href');
        break;
      }
      await p.getByRole('button', { name: '退出', exact: true }).click();
    }
    assert(url, 'no school of the county has a form left to fill');
    await p.goto(`${base}${url}`);
    // A number field and last period's figure (上期), typed again in full-width digits.
    const input = p.locator('#entry-form input.num').first();
    const id = await input.getAttribute('id');
    const prev = /上期 ([\d.]+)/.exec(await p.locator(`#${id} ~ .prev`).innerText().catch(() => ''));
    const typed = fullWidth(prev ? prev[1] : '12');
    await input.fill(typed);
    await Promise.all([
      p.waitForURL(`${base}${url}?saved=1`),
      p.getByRole('button', { name: '保存草稿', exact: true }).click(),
    ]);
    const n = await p.locator('p.msg.ok').textContent();
    assert(n.includes('已保存'), `notice ${JSON.stringify(n)}`);
    const v = await p.locator(`#${id}`).inputValue();
    assert(v === typed, `#${id} shows ${JSON.stringify(v)} after the save, typed ${typed}`);
    assert(await p.locator(`#${id}`).getAttribute('aria-invalid') === null, `${typed} refused by the server`);
    await p.goto(`${base}${url}`);
    assert(await p.locator(`#${id}`).inputValue() === typed, 'the value is gone on reloading');
    assert(await p.locator('.js-hint').count() === 0, 'a .js-hint without JavaScript');
    await ctx.close();
  });

  await watcher.verify(check);
} catch (e) {
  fatal = e;
}
if (noJsBrowser) await withTimeout(noJsBrowser.close(), 15_000, 'closing the second browser').catch(() => {});
await run.finish(fatal, `screenshot: ${tmp}/entry-submitted.png`);

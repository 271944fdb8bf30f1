#!/usr/bin/env python3
"""test_entry.py — data entry over real HTTP: saving, submitting, conflicts, kept saves, scope.

One private stack (tblib.Stack) gets the demo city from scripts/demo-data: 示范市 with one
account per unit (password tianbao-demo), the four forms, period 2025 (closed, approved) and
period 2026 (open; every second school submitted, every fourth with drafts of basic and
students, the rest not started — the lists are computed here exactly as scripts/demo-data
computes them).  Each test works on a school of its own, mostly one the demo leaves not
started, so that the tests do not see each other's saves.

A browser-like client (http.client, Cookie header by hand, no redirects followed, Origin
of the stack on POSTs) reads each page's forms with html.parser and posts them back the way
a browser would (successful controls only, plus the button pressed), so the tests post what
the pages offer: the CSRF token, the hidden `version`, the inputs `v.<field>` and the
说明 inputs `x.<rule>`.  Realistic valid values come from db/demo/values.py.  The database
(DIR/tianbao.db) is read to check what was stored (value.raw/norm, value_history, audit,
pending_post) and written only to set situations up (a period's window, a session's
last_seen, a write lock); tianbao-admin runs the CLI commands (period extend, values import).

What the tests check is docs/entry.md: a draft keeps input exactly as typed; a submission is
blocked by an error, an unexplained warning or a missing required field; a submitted form and
a closed period refuse changes and keep the user's input; a stale version answers 409 with
both versions and never overwrites silently; a save posted after the session expired is kept
and applied after the next login of the same user; one school cannot read or write another's
forms; a failed database write answers 503 with the input kept; the history of a field; the
task list; `values import`; security headers and escaping.  Every response is checked for the
security headers.  Run by `make check`, or by hand:
  cd build && TIANBAO_SRCDIR=.. TIANBAO_BUILDDIR=. python3 ../tests/integration/test_entry.py
"""

import datetime as dt
import html
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import exprlib  # noqa: E402
import tblib  # noqa: E402
from tblib import FORMS_DIR, STAGE_NAMES, VALUES_PY  # noqa: E402

PASSWORD = "tianbao-demo"
PERIOD = "2026"
CST = dt.timezone(dt.timedelta(hours=8))
CJK_RE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")



STACK = None


# ---- the demo city, as scripts/demo-data loads it ----

UNITS = tblib.demo_units()
_SCHOOLS = sorted(c for c, r in UNITS.items() if r["kind"] == "school" and c != "2199210007")
SUBMITTED = [c for i, c in enumerate(_SCHOOLS) if i % 4 in (0, 1)]
DRAFTS = [c for i, c in enumerate(_SCHOOLS) if i % 4 == 2]
NOT_STARTED = [c for i, c in enumerate(_SCHOOLS) if i % 4 == 3] + ["2199210007"]

# Each test's own school (not started by the demo unless said otherwise).
S_DRAFT = "2199210007"        # 九年一贯制 (pri + jun), never touched by the demo
S_SUBMIT = "2199020004"       # 小学
S_REQUIRED = "1199210001"     # 幼儿园
S_SUBMITTED = "2199210001"    # submitted by the demo
S_CLOSED = "3199020002"       # 初中
S_STALE = "3199220001"        # 初中
S_EXPIRED = "3499020002"      # 高中
S_EXPIRED_CONFLICT = "3199210002"  # 初中, drafts of basic and students by the demo
S_SCOPE_A = "2199210004"      # 教学点 of 青山县
S_SCOPE_B = "2199220001"      # drafts of basic and students by the demo, 白水县
S_BUSY = "5199210001"         # 特教
S_HISTORY = "3699220001"      # 中职
S_TASKS = "2199220002"        # 小学
S_IMPORT = "3499220002"       # pri + jun + sen
S_IMPORT_SUBMITTED = "2199020001"  # submitted by the demo
S_HOSTILE = "1199220002"      # 幼儿园
S_GENERAL = "3199020001"      # 初中, drafts of basic and students by the demo (staff untouched)
S_MARKUP = "3499220001"       # 高中, drafts of basic and students by the demo


def stages_of(code):
    return exprlib.SCHOOL_TYPES[UNITS[code]["school_type"]]


def county_of(code):
    return UNITS[code]["parent_code"]


# ---- the form definitions ----

FORMS = exprlib.load_forms(FORMS_DIR)


def form_fields(form, school):
    """The fields of `form` that apply to `school`: code -> (label as the pages show it,
    required, type), in page order."""
    st = stages_of(school)
    stype = UNITS[school]["school_type"]
    out = {}
    for sec in FORMS[form]["sections"]:
        if "grid" in sec:
            rows = [s for s in exprlib.STAGES if s in sec["grid"]["rows"] and s in st]
            for col in sec["grid"]["columns"]:
                for s in rows:
                    if "stages" in col and s not in col["stages"]:
                        continue
                    out["%s_%s" % (s, col["code"])] = ("%s %s" % (STAGE_NAMES[s], col["label"]),
                                                       bool(col.get("required")), col["type"])
        else:
            for fld in sec["fields"]:
                if "stages" in fld and not set(fld["stages"]) & set(st):
                    continue
                if "school_types" in fld and stype not in fld["school_types"]:
                    continue
                out[fld["code"]] = (fld["label"], bool(fld.get("required")), fld["type"])
    return out


def required_total(form, school):
    return sum(1 for _, req, _ in form_fields(form, school).values() if req)


def label(form, school, field):
    return form_fields(form, school)[field][0]


# ---- realistic values (db/demo/values.py) ----

_VALUES_CACHE = {}


def values_json(schools, forms, period=PERIOD):
    """The DHIS2 dataValueSets document values.py makes."""
    key = (tuple(schools), tuple(forms), period)
    if key not in _VALUES_CACHE:
        p = subprocess.run([sys.executable, VALUES_PY, "--period", period, "--schools",
                            ",".join(schools), "--forms", ",".join(forms)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=True)
        _VALUES_CACHE[key] = p.stdout.decode("utf-8")
    return json.loads(_VALUES_CACHE[key])


def demo_values(school, form, period=PERIOD):
    """field -> value as the web form posts it (yes/no as "1"/"0")."""
    doc = values_json([school], [form], period)
    sets = [s for s in doc["dataValueSets"] if s["orgUnit"] == school and s["dataSet"] == form]
    assert len(sets) == 1, "values.py gave %d sets for %s/%s" % (len(sets), school, form)
    out = {}
    for v in sets[0]["dataValues"]:
        val = v["value"]
        out[v["dataElement"]] = {"true": "1", "false": "0"}.get(val, val)
    return out


def import_values(school, form, period=PERIOD):
    """field -> value exactly as values.py writes it for an import (yes/no as "true"/"false")."""
    doc = values_json([school], [form], period)
    sets = [s for s in doc["dataValueSets"] if s["orgUnit"] == school and s["dataSet"] == form]
    return {v["dataElement"]: v["value"] for v in sets[0]["dataValues"]}


def web(values):
    """{field: value} -> {"v.field": value}."""
    return {"v." + k: v for k, v in values.items()}


# ---- the stack ----

def setUpModule():
    global STACK
    STACK = Base.stack = tblib.Stack(prefix="tianbao-entry-").start()
    try:
        STACK.demo_data()
    except Exception:
        STACK.failed = True
        raise


def tearDownModule():
    tblib.finish_stack(STACK)


# ---- the database, read and nudged directly ----

def query(sql, args=()):
    return STACK.query(sql, args)


def execute(sql, args=()):
    STACK.execute(sql, args)


def user_id(login):
    return query("SELECT id FROM user WHERE login = ?", (login,))[0][0]


def submission(school, form, period=PERIOD):
    """The submission row as a dict, or None when the form was never started."""
    rows = query(
        "SELECT s.id, s.state, s.version, s.submitted_at, s.updated_at, s.errors, s.warnings,"
        " s.unexplained, s.required_total, s.required_filled FROM submission s"
        " JOIN org_unit o ON o.id = s.school_id JOIN period p ON p.id = s.period_id"
        " WHERE o.code = ? AND p.code = ? AND s.form_code = ?", (school, period, form))
    if not rows:
        return None
    keys = ("id", "state", "version", "submitted_at", "updated_at", "errors", "warnings",
            "unexplained", "required_total", "required_filled")
    return dict(zip(keys, rows[0]))


def stored(school, form, period=PERIOD):
    """field -> (raw, norm) of the stored values."""
    return {f: (r, n) for f, r, n in query(
        "SELECT v.field_code, v.raw, v.norm FROM value v JOIN submission s ON s.id = v.submission_id"
        " JOIN org_unit o ON o.id = s.school_id JOIN period p ON p.id = s.period_id"
        " WHERE o.code = ? AND p.code = ? AND s.form_code = ?", (school, period, form))}


def as_shown(school, form, period=PERIOD):
    """field -> what the entry page must show for the stored values: the raw text, for
    yes/no the radio of the stored norm."""
    kinds = form_fields(form, school)
    return {f: (n if kinds[f][2] == "yesno" else r)
            for f, (r, n) in stored(school, form, period).items()}


def history(sub_id):
    """(field, old_raw, new_raw, user_id, version) in order."""
    return query("SELECT field_code, old_raw, new_raw, user_id, version FROM value_history"
                 " WHERE submission_id = ? ORDER BY id", (sub_id,))


def explanations(sub_id):
    return dict(query("SELECT rule_code, text FROM explanation WHERE submission_id = ?", (sub_id,)))


def audit_since(mark):
    """(actor, action, object, detail) of the audit rows after `mark`."""
    return STACK.audit_since(mark, detail=True)


def pending_rows(login):
    return query("SELECT id, path, body FROM pending_post WHERE user_id = ? ORDER BY id",
                 (user_id(login),))


def snapshot(school):
    """Everything stored about a school's period-2026 forms (for "nothing changed")."""
    subs = query("SELECT s.form_code, s.state, s.version, s.updated_at, s.submitted_at"
                 " FROM submission s JOIN org_unit o ON o.id = s.school_id"
                 " JOIN period p ON p.id = s.period_id WHERE o.code = ? AND p.code = ?"
                 " ORDER BY s.form_code", (school, PERIOD))
    vals = query("SELECT s.form_code, v.field_code, v.raw, v.norm FROM value v"
                 " JOIN submission s ON s.id = v.submission_id JOIN org_unit o ON o.id = s.school_id"
                 " JOIN period p ON p.id = s.period_id WHERE o.code = ? AND p.code = ?"
                 " ORDER BY 1, 2", (school, PERIOD))
    hist = query("SELECT count(*) FROM value_history h JOIN submission s ON s.id = h.submission_id"
                 " JOIN org_unit o ON o.id = s.school_id WHERE o.code = ?", (school,))
    expl = query("SELECT s.form_code, x.rule_code, x.text FROM explanation x"
                 " JOIN submission s ON s.id = x.submission_id JOIN org_unit o ON o.id = s.school_id"
                 " WHERE o.code = ? ORDER BY 1, 2", (school,))
    return subs, vals, hist, expl


def period_window(code=PERIOD):
    return query("SELECT opens_at, closes_at FROM period WHERE code = ?", (code,))[0]


def cst(t):
    """A unix time as the pages show it (China Standard Time)."""
    return dt.datetime.fromtimestamp(t, CST).strftime("%Y-%m-%d %H:%M")


def days_left(closes_at, now):
    return 0 if closes_at <= now else (closes_at - now + 86399) // 86400


# ---- pages: forms and inputs as a browser sees them ----

class Page(tblib.Page):
    """An entry page: tblib.Page with the form's inputs and the values they show."""

    def inputs(self, prefix="v."):
        """name -> attrs of the <input> controls whose name starts with prefix (text ones)."""
        out = {}
        for c in self.controls:
            a = c["attrs"]
            if c["tag"] == "input" and a.get("name", "").startswith(prefix) \
                    and a.get("type", "text") == "text":
                out[a["name"]] = a
        return out

    def shown(self):
        """field -> the value shown in its control (text input value, checked radio)."""
        out = {}
        for c in self.controls:
            a = c["attrs"]
            name = a.get("name", "")
            if not name.startswith("v.") or c["tag"] != "input":
                continue
            t = a.get("type", "text")
            if t == "text":
                out[name[2:]] = a.get("value", "")
            elif t == "radio":
                out.setdefault(name[2:], "")
                if "checked" in a:
                    out[name[2:]] = a.get("value", "")
        return out


def summary_entries(text):
    """The summary's entries: [(kind, anchor, message)] (message unescaped)."""
    m = re.search(r'<div class="summary" id="summary">(.*?)</div>', text, re.S)
    if not m:
        return []
    return [(k, a, html.unescape(msg)) for k, a, msg in re.findall(
        r'<li class="issue (error|warning)" id="s-\d+"><a href="#([^"]*)">(.*?)</a>', m.group(1),
        re.S)]


def field_issues(text):
    """The messages shown beside fields: id -> (kind, message) (message unescaped)."""
    return {i: (k, html.unescape(re.sub(r"<.*", "", msg, flags=re.S))) for k, i, msg in re.findall(
        r'<p class="issue (error|warning)" id="(i-\d+)">(.*?)</p>', text, re.S)}


def entry_form_html(text):
    """The markup of <form id="entry-form"> (what a browser that ignores the form= attribute,
    such as IE 11, submits from)."""
    m = re.search(r'<form [^>]*id="entry-form"[^>]*>(.*?)</form>', text, re.S)
    return m.group(1) if m else ""


def field_html(text, field_id):
    """The markup of the <div class="field"> holding the control #field_id."""
    for m in re.finditer(r'<div class="field[^"]*">(.*?)\n</div>', text, re.S):
        if 'id="%s"' % field_id in m.group(1):
            return m.group(1)
    return None


def grid_row_header(text, field_id):
    """The <th scope="row"> of the grid row holding the cell #field_id."""
    for m in re.finditer(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>', text, re.S):
        if 'id="%s"' % field_id in m.group(2):
            return m.group(1)
    return None


def msg_of(text, cls):
    """Text of <p class="msg CLS" ...>, unescaped, or None."""
    m = re.search(r'<p class="msg %s"[^>]*>(.*?)</p>' % cls, text, re.S)
    return html.unescape(m.group(1)) if m else None


def task_rows(text):
    """The school's task list: [(form name, state, filled, total, errors, warnings,
    unexplained, action, url)]."""
    m = re.search(r'<table class="tasks">(.*?)</table>', text, re.S)
    if not m:
        return None
    rows = re.findall(
        r'<tr class="task-[a-z_]+"><td><a href="([^"]*)">([^<]*)</a></td>'
        r'<td><span class="state state-[a-z_]+">([^<]*)</span></td>'
        r'<td class="num">(\d+)/(\d+)</td><td class="num">(\d+)</td>'
        r'<td class="num">(\d+)(?:（(\d+) 未说明）)?</td>'
        r'<td>[^<]*</td><td><a class="button" href="[^"]*">([^<]*)</a></td></tr>',
        m.group(1), re.S)
    return [(html.unescape(n), s, int(f), int(t), int(e), int(w), int(x or 0), a, u)
            for u, n, s, f, t, e, w, x, a in rows]


# ---- the client ----

class Response(tblib.Response):
    page_class = Page


class Client(tblib.Client):
    """tblib.Client whose pages are entry pages and whose forms are saved unless told."""

    response_class = Response

    def submit(self, form, changes=None, button=("action", "save"), headers=None):
        return super().submit(form, changes, button, headers)


def entry_url(school, form, period=PERIOD):
    return "/schools/%s/%s/%s" % (school, period, form)


class Base(tblib.ClientTest):
    """Clients of STACK (demo accounts, PASSWORD) that read the entry pages; every test
    starts with no recorded login failures."""

    password = PASSWORD
    client_class = Client

    def entry_page(self, c, school, form):
        """GET the entry page; (response, its entry form)."""
        r = c.open(entry_url(school, form))
        f = r.page.form("entry-form")
        self.assertIsNotNone(f, "no entry form on %s" % entry_url(school, form))
        self.assertRegex(f.value("csrf") or "", tblib.TOKEN_RE)
        self.assertRegex(f.value("version") or "", r"^\d+$")
        return r, f

    def assertShown(self, page, values, what=""):
        """Each field's control on `page` shows exactly the given value."""
        shown = page.shown()
        for k, v in values.items():
            self.assertIn(k, shown, "%s: no control for %s" % (what, k))
            self.assertEqual(shown[k], v, "%s: %s shown as %r, typed %r" % (what, k, shown[k], v))

    def assertReadOnly(self, r, what):
        """The entry page offers no way to change anything."""
        f = r.page.form("entry-form")
        self.assertIsNotNone(f, what)
        names = [b[1] for b in f.buttons()]
        self.assertNotIn("save", names, "%s: a save button" % what)
        self.assertNotIn("submit", names, "%s: a submit button" % what)
        self.assertNotIn("保存草稿", r.text, what)
        self.assertNotIn("检查并上报", r.text, what)
        for c in f.controls:
            a = c["attrs"]
            if not a.get("name", "").startswith(("v.", "x.")):
                continue
            if c["tag"] == "input" and a.get("type", "text") == "text":
                self.assertIn("readonly", a, "%s: %s is not readonly" % (what, a["name"]))
            else:
                self.assertIn("disabled", a, "%s: %s is not disabled" % (what, a["name"]))
        self.assertNotIn('data-editable="1"', r.text, what)

    def assertPlainMarkup(self, text, what):
        """What every entry page must satisfy: no control outside the form naming it with
        form= (IE 11 ignores the attribute), every <label for> names a labelable control, every
        required control says so with aria-required and none with the HTML required attribute
        (a draft with empty fields must save)."""
        self.assertNotRegex(text, r'<(input|select|textarea|button)\b[^>]*\sform="', what)
        inside = entry_form_html(text)
        for name in re.findall(r'<(?:input|select|textarea)\b[^>]*\sname="((?:v|x)\.[^"]*)"', text):
            self.assertIn('name="%s"' % name, inside, "%s: %s outside the form" % (what, name))
        for target in re.findall(r'<label for="([^"]*)"', text):
            self.assertRegex(text, r'<(input|select|textarea)\b[^>]*\sid="%s"' % re.escape(target),
                             "%s: <label for=%s> names no labelable control" % (what, target))
        for tag in re.findall(r'<[a-z]+\b[^>]*\sdata-required="1"[^>]*>', text):
            self.assertIn('aria-required="true"', tag, what)
        self.assertNotRegex(text, r'<(input|select|textarea)\b[^>]*\srequired[\s>]', what)


# ---- 1. a draft with errors keeps the input as typed ----

class DraftTest(Base):
    def test_draft_with_errors_is_saved_and_shown_exactly_as_typed(self):
        school = S_DRAFT
        self.assertIn(school, NOT_STARTED)
        self.assertIsNone(submission(school, "students"), "the demo started this school")
        c = self.client(school)
        mark = STACK.audit_mark()
        # students: invalid and unusual numbers in a grid
        url = entry_url(school, "students")
        r, f = self.entry_page(c, school, "students")
        self.assertEqual(f.value("version"), "0")
        self.assertIn("未填写", r.text)
        typed = demo_values(school, "students")
        typed.update({"pri_students": "12a", "pri_classes": "１２", "jun_students": "1,234",
                      "jun_classes": "1.2.3", "jun_boarders": "１２。５"})
        r = c.submit(f, web(typed))
        self.assertRedirect(r, url + "?saved=1", "save with errors")
        r = c.open(r.location)
        self.assertIn("已保存为草稿（第 1 版）", msg_of(r.text, "ok") or "", "the saved notice")
        self.assertIn('<span class="state state-draft">草稿</span>', r.text)
        self.assertShown(r.page, typed, "students after the save")
        self.assertEqual(r.page.form("entry-form").value("version"), "1")
        summary = summary_entries(r.text)
        beside = field_issues(r.text)
        inputs = r.page.inputs()
        for field, quoted in (("pri_students", "12a"), ("jun_classes", "1.2.3"),
                              ("jun_boarders", "１２。５")):
            with self.subTest(field=field):
                lab = label("students", school, field)
                hits = [m for k, a, m in summary if a == "f-" + field and k == "error"]
                self.assertTrue(hits, "no summary entry linking #f-%s: %r" % (field, summary))
                self.assertIn(lab, hits[0], "the message does not name the field")
                self.assertIn("“%s”" % quoted, hits[0], "the message does not quote the input")
                a = inputs["v." + field]
                self.assertEqual(a.get("id"), "f-" + field)
                self.assertEqual(a.get("aria-invalid"), "true")
                self.assertEqual(a.get("data-server-invalid"), "1", "entry.js cannot tell")
                ids = a.get("aria-describedby", "").split()
                msgs = [beside[i][1] for i in ids if i in beside and beside[i][0] == "error"]
                self.assertTrue(any(lab in m and "“%s”" % quoted in m for m in msgs),
                                "no error beside %s: %r" % (field, msgs))
        for field in ("pri_classes", "jun_students"):  # valid, normalised: no format error
            self.assertNotIn("aria-invalid", inputs["v." + field], field)
            self.assertNotIn("data-server-invalid", inputs["v." + field], field)
        # stored as typed, normalised where valid
        sub = submission(school, "students")
        self.assertEqual((sub["state"], sub["version"]), ("draft", 1))
        vals = stored(school, "students")
        self.assertEqual(vals["pri_students"], ("12a", None))
        self.assertEqual(vals["pri_classes"], ("１２", "12"))
        self.assertEqual(vals["jun_students"], ("1,234", "1234"))
        self.assertEqual(vals["jun_classes"], ("1.2.3", None))
        self.assertEqual(vals["jun_boarders"], ("１２。５", None))
        for k, v in typed.items():
            self.assertEqual(vals[k][0], v, k)
        self.assertEqual(set(vals), set(typed))
        hist = history(sub["id"])
        self.assertEqual(sorted(h[0] for h in hist), sorted(typed))
        uid = user_id(school)
        for field, old, new, who, version in hist:
            self.assertEqual((old, new, who, version), (None, typed[field], uid, 1), field)
        saves = [(a, o, json.loads(d)) for _, a, o, d in audit_since(mark)
                 if a == "submission.save"]
        self.assertEqual(len(saves), 1, saves)
        self.assertEqual(saves[0][1], "submission:%d" % sub["id"])
        self.assertEqual({k: saves[0][2][k] for k in ("period", "school", "form", "version")},
                         {"period": PERIOD, "school": school, "form": "students", "version": 1})
        self.assertEqual(saves[0][2].get("changed"), len(typed))

        # basic: garbage in text fields, a number in words, separators and spaces
        url = entry_url(school, "basic")
        r, f = self.entry_page(c, school, "basic")
        typed = demo_values(school, "basic")
        typed.update({"principal_name": "王" * 21, "contact_phone": "0531\x07-88886666",
                      "principal_birth_year": "19七八", "broadband_mbps": " １,０００ "})
        r = c.submit(f, web(typed))
        self.assertRedirect(r, url + "?saved=1", "basic with errors")
        r = c.open(r.location)
        self.assertShown(r.page, typed, "basic after the save")
        summary = summary_entries(r.text)
        anchors = {a for k, a, _ in summary if k == "error"}
        self.assertEqual(anchors, {"f-principal_name", "f-contact_phone", "f-principal_birth_year"},
                         summary)
        byf = {a[2:]: m for k, a, m in summary if k == "error"}
        self.assertIn("校长（园长）姓名", byf["principal_name"])
        self.assertIn("20", byf["principal_name"])
        self.assertIn("联系电话", byf["contact_phone"])
        self.assertIn("“19七八”", byf["principal_birth_year"])
        vals = stored(school, "basic")
        self.assertEqual(vals["principal_name"], ("王" * 21, None))
        self.assertEqual(vals["contact_phone"], ("0531\x07-88886666", None))
        self.assertEqual(vals["principal_birth_year"], ("19七八", None))
        self.assertEqual(vals["broadband_mbps"], (" １,０００ ", "1000"))
        self.assertEqual(vals["boarding"], (typed["boarding"], typed["boarding"]))
        c.get("/")


# ---- 2. submitting ----

class SubmitTest(Base):
    def test_submit_blocked_by_error_then_by_unexplained_warning_then_succeeds(self):
        school = S_SUBMIT
        self.assertIn(school, NOT_STARTED)
        c = self.client(school)
        url = entry_url(school, "staff")
        good = demo_values(school, "staff")
        teachers = int(good["pri_teachers"])
        # an error: the qualifications no longer add up to the teachers
        wrong = dict(good, pri_t_edu_bach=str(int(good["pri_t_edu_bach"]) + 1))
        r, f = self.entry_page(c, school, "staff")
        r = c.submit(f, web(wrong), ("action", "submit"))
        self.assertRedirect(r, url + "?blocked=1", "submit with an error")
        sub = submission(school, "staff")
        self.assertEqual((sub["state"], sub["version"], sub["submitted_at"]), ("draft", 1, None))
        self.assertEqual(stored(school, "staff")["pri_t_edu_bach"][0], wrong["pri_t_edu_bach"])
        r = c.open(r.location)
        err = msg_of(r.text, "error")
        self.assertIsNotNone(err, "the blocked page says nothing")
        self.assertIn("未能上报", err)
        self.assertIn("1 个错误", err)
        self.assertIn('<span class="state state-draft">草稿</span>', r.text)
        rule = [m for k, a, m in summary_entries(r.text) if k == "error"]
        self.assertTrue(any("小学" in m and "学历" in m for m in rule), rule)
        self.assertShown(r.page, wrong, "blocked page")
        # a warning without a 说明: 2 teachers without a certificate
        warned = dict(good, pri_t_certified=str(teachers - 2))
        f = r.page.form("entry-form")
        r = c.submit(f, web(warned), ("action", "submit"))
        self.assertRedirect(r, url + "?blocked=1", "submit with an unexplained warning")
        sub = submission(school, "staff")
        self.assertEqual((sub["state"], sub["version"], sub["submitted_at"]), ("draft", 2, None))
        r = c.open(r.location)
        err = msg_of(r.text, "error") or ""
        self.assertIn("0 个错误", err)
        self.assertIn("1 个警告未填写说明", err)
        warns = [(a, m) for k, a, m in summary_entries(r.text) if k == "warning"]
        self.assertEqual(len(warns), 1, warns)
        self.assertEqual(warns[0][0], "f-pri_t_certified")
        self.assertPlainMarkup(r.text, "blocked by a warning")
        f = r.page.form("entry-form")
        self.assertIn("x.all_teachers_certified.pri", dict(f.pairs()),
                      "no 说明 input for the warning in the form")
        # with the 说明 it is submitted
        mark = STACK.audit_mark()
        why = "2名新入职教师的资格证正在认定中"
        r = c.submit(f, {"x.all_teachers_certified.pri": why}, ("action", "submit"))
        self.assertRedirect(r, url + "?submitted=1", "submit with the warning explained")
        sub = submission(school, "staff")
        self.assertEqual((sub["state"], sub["version"]), ("submitted", 3))
        self.assertIsNotNone(sub["submitted_at"])
        self.assertLessEqual(abs(sub["submitted_at"] - time.time()), 120)
        self.assertEqual(explanations(sub["id"]), {"all_teachers_certified:pri": why})
        self.assertEqual({k: v[0] for k, v in stored(school, "staff").items()}, warned)
        rows = audit_since(mark)
        actions = [(a, o) for _, a, o, _ in rows if a.startswith("submission.")]
        self.assertEqual(actions, [("submission.save", "submission:%d" % sub["id"]),
                                   ("submission.submit", "submission:%d" % sub["id"])])
        self.assertEqual([r_[0] for r_ in rows if r_[1] == "submission.submit"], [school])
        r = c.open(r.location)
        self.assertIn('<span class="state state-submitted">已上报</span>', r.text)
        self.assertIn("已上报", msg_of(r.text, "ok") or "")
        self.assertIn("已说明：" + why, r.text)
        self.assertReadOnly(r, "the submitted form")

    def test_submit_blocked_by_missing_required_field(self):
        school = S_REQUIRED
        self.assertIn(school, NOT_STARTED)
        c = self.client(school)
        url = entry_url(school, "basic")
        typed = demo_values(school, "basic")
        del typed["contact_phone"]
        r, f = self.entry_page(c, school, "basic")
        r = c.submit(f, web(typed), ("action", "submit"))
        self.assertRedirect(r, url + "?blocked=1", "submit without a required field")
        sub = submission(school, "basic")
        self.assertEqual((sub["state"], sub["version"], sub["submitted_at"]), ("draft", 1, None))
        self.assertNotIn("contact_phone", stored(school, "basic"))
        r = c.open(r.location)
        err = msg_of(r.text, "error") or ""
        self.assertIn("未能上报", err)
        self.assertIn("1 个必填项未填写", err)
        missing = [m for k, a, m in summary_entries(r.text) if a == "f-contact_phone"]
        self.assertTrue(missing and "联系电话" in missing[0] and "必填" in missing[0], missing)
        self.assertIn('必填项已填 <b id="required-filled">5</b> / 6', r.text)
        # filled in, it goes through
        r = c.submit(r.page.form("entry-form"), {"v.contact_phone": "0531-86001234"},
                     ("action", "submit"))
        self.assertRedirect(r, url + "?submitted=1", "submit once filled")
        self.assertEqual(submission(school, "basic")["state"], "submitted")


# ---- 3. a submitted form refuses changes ----

class SubmittedTest(Base):
    def test_submitted_form_refuses_changes_with_409(self):
        school = S_SUBMITTED
        self.assertIn(school, SUBMITTED)
        before = snapshot(school)
        sub = submission(school, "basic")
        self.assertEqual(sub["state"], "submitted")
        c = self.client(school)
        r, f = self.entry_page(c, school, "basic")
        self.assertIn('<span class="state state-submitted">已上报</span>', r.text)
        self.assertIn("上报", msg_of(r.text, "info") or "")
        self.assertReadOnly(r, "a submitted form")
        self.assertEqual(f.value("version"), str(sub["version"]))
        mark = STACK.audit_mark()
        mine = {"v.principal_name": "改个名字", "v.broadband_mbps": "2000"}
        for action in ("save", "submit"):
            with self.subTest(action=action):
                r = c.submit(f, mine, ("action", action))
                self.assertEqual(r.status, 409, repr(r))
                self.assertIn("请确认保留哪个版本", r.text)
                self.assertNotIn("保留我的内容", r.text, "a submitted form offers to keep mine")
                self.assertIn("改个名字", r.text, "the user's value is not on the page")
                self.assertIn("2000", r.text)
                self.assertIn("上报", msg_of(r.text, "info") or "")
        self.assertEqual(snapshot(school), before)
        self.assertEqual([a for _, a, _, _ in audit_since(mark) if a.startswith("submission.")], [])


# ---- 4. a closed period ----

class ClosedPeriodTest(Base):
    def test_closed_period_refuses_with_403_and_extend_reopens(self):
        school = S_CLOSED
        self.assertIn(school, NOT_STARTED)
        url = entry_url(school, "basic")
        opens, closes = period_window()
        c = self.client(school)
        r, f = self.entry_page(c, school, "basic")
        self.assertIn('data-editable="1"', r.text)
        typed = demo_values(school, "basic")
        typed["principal_name"] = "截止后填写"
        try:
            closed_at = int(time.time()) - 3600
            execute("UPDATE period SET closes_at = ? WHERE code = ?", (closed_at, PERIOD))
            mark = STACK.audit_mark()
            before = snapshot(school)
            r = c.open(url)
            self.assertReadOnly(r, "the page of a closed period")
            info = msg_of(r.text, "info") or ""
            self.assertIn("截止", info)
            self.assertIn(cst(closed_at), info)
            self.assertIn("填报已于 %s 截止" % cst(closed_at), c.open("/").text)
            r = c.submit(f, web(typed))
            self.assertEqual(r.status, 403, repr(r))
            self.assertIn("截止", msg_of(r.text, "error") or "")
            self.assertIn("没有保存", msg_of(r.text, "error") or "")
            self.assertShown(r.page, typed, "the refused save")
            self.assertEqual(snapshot(school), before, "a closed period changed the database")
            self.assertEqual([a for _, a, _, _ in audit_since(mark)
                              if a.startswith("submission.")], [])
            # the bureau extends the window: the same save goes through
            new_close = dt.datetime.now(CST) + dt.timedelta(days=5)
            STACK.admin("period", "extend", PERIOD, "--closes",
                        new_close.strftime("%Y-%m-%d %H:%M"))
            self.assertGreater(period_window()[1], time.time() + 4 * 86400)
            r = c.submit(f, web(typed))
            self.assertRedirect(r, url + "?saved=1", "after period extend")
            self.assertEqual(stored(school, "basic")["principal_name"][0], "截止后填写")
            self.assertEqual(submission(school, "basic")["version"], 1)
        finally:
            execute("UPDATE period SET opens_at = ?, closes_at = ? WHERE code = ?",
                    (opens, closes, PERIOD))


# ---- 5. the stale version ----

class StaleVersionTest(Base):
    def test_stale_version_answers_409_with_both_values_and_keeps_mine_on_request(self):
        school = S_STALE
        self.assertIn(school, NOT_STARTED)
        url = entry_url(school, "basic")
        a = self.client(school)
        b = self.client(school)
        self.assertNotEqual(a.token, b.token)
        r, f = self.entry_page(a, school, "basic")
        self.assertRedirect(a.submit(f, web(demo_values(school, "basic"))), url + "?saved=1")
        _, fa = self.entry_page(a, school, "basic")
        rb, fb = self.entry_page(b, school, "basic")
        self.assertEqual((fa.value("version"), fb.value("version")), ("1", "1"))
        # A saves first
        r = a.submit(fa, {"v.principal_name": "甲老师", "v.broadband_mbps": "300"})
        self.assertRedirect(r, url + "?saved=1", "A's save")
        self.assertEqual(submission(school, "basic")["version"], 2)
        # B saves on version 1: refused, both shown
        before = snapshot(school)
        mark = STACK.audit_mark()
        mine = {"v.principal_name": "乙老师<b>", "v.contact_phone": "0531-86668888"}
        r = b.submit(fb, mine)
        self.assertEqual(r.status, 409, repr(r))
        self.assertIn("请确认保留哪个版本", r.text)
        diff = re.search(r'<table class="diff">(.*?)</table>', r.text, re.S)
        self.assertTrue(diff, "no comparison table")
        rows = [tuple(html.unescape(x) for x in row) for row in re.findall(
            r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td><td class="mine">([^<]*)</td></tr>',
            diff.group(1))]
        self.assertIn(("校长（园长）姓名", "甲老师", "乙老师<b>"), rows)
        self.assertNotIn("乙老师<b>", r.text, "the user's value is not escaped")
        self.assertIn(("互联网接入带宽", "300", demo_values(school, "basic")["broadband_mbps"]), rows)
        self.assertIn(("联系电话", demo_values(school, "basic")["contact_phone"], "0531-86668888"),
                      rows)
        self.assertEqual(snapshot(school), before, "the stale save changed something")
        self.assertEqual([x for _, x, _, _ in audit_since(mark) if x.startswith("submission.")], [])
        self.assertIn('href="%s"' % url, r.text, "no link to drop my values")
        keep = [fm for fm in r.page.forms if fm.action == url and
                ("action", "save", "submit") in [(n, v, t) for n, v, _, t in fm.buttons()]]
        self.assertEqual(len(keep), 1, "no single form to keep my values")
        keep = keep[0]
        self.assertIn("保留我的内容", r.text)
        self.assertEqual(keep.value("version"), "2")
        self.assertEqual(keep.value("v.principal_name"), "乙老师<b>")
        self.assertEqual(keep.value("v.contact_phone"), "0531-86668888")
        # B keeps theirs deliberately
        r = b.submit(keep)
        self.assertRedirect(r, url + "?saved=1", "keeping my values")
        sub = submission(school, "basic")
        self.assertEqual(sub["version"], 3)
        vals = {k: v[0] for k, v in stored(school, "basic").items()}
        expected = dict(demo_values(school, "basic"))
        expected.update({"principal_name": "乙老师<b>", "contact_phone": "0531-86668888"})
        self.assertEqual(vals, expected)
        names = [(o, n, v) for fld, o, n, _, v in history(sub["id"]) if fld == "principal_name"]
        self.assertEqual(names[-2:], [(expected_first(school), "甲老师", 2), ("甲老师", "乙老师<b>", 3)])


    def test_stale_version_of_a_form_never_saved_is_refused_too(self):
        school = S_STALE
        url = entry_url(school, "students")
        a = self.client(school)
        b = self.client(school)
        _, fa = self.entry_page(a, school, "students")
        _, fb = self.entry_page(b, school, "students")
        self.assertEqual((fa.value("version"), fb.value("version")), ("0", "0"))
        theirs = demo_values(school, "students")
        self.assertRedirect(a.submit(fa, web(theirs)), url + "?saved=1", "A's first save")
        mine = dict(theirs)
        field = sorted(k for k in mine if k.endswith("_students"))[0]
        mine[field] = str(int(mine[field]) + 1)
        before = snapshot(school)
        r = b.submit(fb, web(mine))
        self.assertEqual(r.status, 409, "B's first save over A's: %r" % r)
        self.assertIn("保留我的内容", r.text)
        keep = [fm for fm in r.page.forms if fm.action == url]
        self.assertEqual(len(keep), 1)
        self.assertEqual(keep[0].value("version"), "1")
        self.assertEqual(keep[0].value("v." + field), mine[field])
        self.assertEqual(snapshot(school), before)
        self.assertEqual({k: v[0] for k, v in stored(school, "students").items()}, theirs)


def expected_first(school):
    return demo_values(school, "basic")["principal_name"]


# ---- 6. a save posted after the session expired ----

class ExpiredSessionTest(Base):
    def age(self, c):
        execute("UPDATE session SET last_seen = last_seen - 31 * 60 WHERE token_hash = ?",
                (tblib.token_hash(c.token),))

    def test_expired_session_save_is_kept_and_applied_after_relogin(self):
        school = S_EXPIRED
        self.assertIn(school, NOT_STARTED)
        url = entry_url(school, "basic")
        login_url = "/login?next=%s" % quote(url, safe="")
        c = self.client(school)
        r, f = self.entry_page(c, school, "basic")
        self.age(c)
        typed = demo_values(school, "basic")
        typed["principal_name"] = "超时前填写"
        mark = STACK.audit_mark()
        # submitted with action=submit: kept, and later applied as a draft save only
        r = c.submit(f, web(typed), ("action", "submit"))
        self.assertRedirect(r, login_url + "&expired=1&kept=1", "the save after expiry")
        kept = pending_rows(school)
        self.assertEqual(len(kept), 1, kept)
        pid, path, body = kept[0]
        self.assertEqual(path, url)
        self.assertNotIn("csrf=", body, "the CSRF token was kept")
        self.assertIn("v.principal_name=", body)
        self.assertIsNone(submission(school, "basic"), "the expired save was applied")
        self.assertIn(("system", "pending.keep"), [(x[0], x[1]) for x in audit_since(mark)])
        r = c.open(r.location)
        self.assertIn("已保存在服务器上", msg_of(r.text, "info") or "")
        # the expired session's cookie is no login
        self.assertRedirect(c.get(url), login_url, "GET with the expired cookie")
        # not kept: a wrong CSRF token, a foreign origin
        for what, form, hdrs in (
                ("wrong csrf", f.fill(web(typed), ("action", "save")), None),
                ("foreign origin", f.fill(web(typed), ("action", "save")),
                 {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})):
            with self.subTest(what=what):
                if what == "wrong csrf":
                    form = [(n, "A" * 43 if n == "csrf" else v) for n, v in form]
                r = c.post(url, form, headers=hdrs)
                self.assertRedirect(r, login_url + "&expired=1", what)
                self.assertEqual(len(pending_rows(school)), 1, "%s was kept" % what)
        # another user's login does not get it
        other = self.client()
        other.login(S_SCOPE_A)
        self.assertEqual(len(pending_rows(school)), 1)
        self.assertIsNone(submission(school, "basic"))
        # the same user's next login applies it as a draft
        r = c.login(school, expect=url + "?restored=1", extra={"next": url})
        self.assertEqual(pending_rows(school), [])
        sub = submission(school, "basic")
        self.assertIsNotNone(sub, "the kept save was not applied")
        self.assertEqual((sub["state"], sub["version"]), ("draft", 1))
        self.assertEqual({k: v[0] for k, v in stored(school, "basic").items()}, typed)
        r = c.open(r.location)
        self.assertIn("已恢复", msg_of(r.text, "ok") or "")
        self.assertShown(r.page, typed, "the restored page")

    def test_expired_session_save_that_conflicts_is_shown_and_can_be_discarded(self):
        school = S_EXPIRED_CONFLICT
        self.assertIn(school, DRAFTS)
        url = entry_url(school, "students")
        c = self.client(school)
        r, f = self.entry_page(c, school, "students")
        version = int(f.value("version"))
        self.assertEqual(version, submission(school, "students")["version"])
        self.age(c)
        field = sorted(k for k in demo_values(school, "students") if k.endswith("_students"))[0]
        base = int(demo_values(school, "students")[field])
        mine = web(demo_values(school, "students"))
        mine["v." + field] = str(base + 7)
        r = c.submit(f, mine)
        self.assertRedirect(r, "/login?next=%s&expired=1&kept=1" % quote(url, safe=""))
        kept = pending_rows(school)
        self.assertEqual(len(kept), 1, kept)
        pid = kept[0][0]
        # meanwhile the form moves on (an import by the bureau)
        doc = values_json([school], ["students"])
        doc = json.loads(json.dumps(doc))
        for v in doc["dataValueSets"][0]["dataValues"]:
            if v["dataElement"] == field:
                v["value"] = str(base + 3)
        path = STACK.path("entry-expired-students.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
        STACK.admin("values", "import", path)
        theirs = {k: v[0] for k, v in stored(school, "students").items()}
        self.assertEqual(theirs[field], str(base + 3))
        self.assertEqual(submission(school, "students")["version"], version + 1)
        # the login cannot apply it: the comparison is shown
        r = c.login(school, expect=url + "?pending=%d" % pid)
        self.assertEqual(len(pending_rows(school)), 1, "a conflicting kept save was dropped")
        self.assertEqual({k: v[0] for k, v in stored(school, "students").items()}, theirs)
        r = c.open(r.location)
        self.assertIn("登录超时前提交", r.text)
        self.assertIn("保留我的内容", r.text)
        diff = re.findall(r'<tr><th scope="row">([^<]*)</th><td>([^<]*)</td>'
                          r'<td class="mine">([^<]*)</td></tr>', r.text)
        self.assertIn((label("students", school, field), str(base + 3), str(base + 7)), diff)
        keep = [fm for fm in r.page.forms if fm.action == url]
        self.assertEqual(len(keep), 1)
        self.assertEqual(keep[0].value("pending"), str(pid))
        self.assertEqual(keep[0].value("version"), str(version + 1))
        # the kept save is its user's only: the county's reviewer sees the plain page
        rev = self.client("rev-" + county_of(school))
        rr = rev.get(url + "?pending=%d" % pid)
        self.assertIn(rr.status, (200, 303, 404), repr(rr))
        self.assertNotIn("登录超时前提交", rr.text, "another user sees the kept save")
        self.assertNotIn('class="mine"', rr.text, "another user sees the kept save")
        discard = r.page.form_to(url + "/discard")
        self.assertIsNotNone(discard, "no 放弃 form")
        self.assertIn("放弃", r.text)
        self.assertEqual(discard.value("pending"), str(pid))
        r = c.submit(discard, button=None)
        self.assertRedirect(r, url, "discard")
        self.assertEqual(pending_rows(school), [])
        self.assertEqual({k: v[0] for k, v in stored(school, "students").items()}, theirs)
        self.assertEqual(submission(school, "students")["version"], version + 1)


# ---- 7. scope ----

class ScopeTest(Base):
    def test_school_cannot_read_or_write_another_schools_forms(self):
        a, b = S_SCOPE_A, S_SCOPE_B
        self.assertIn(b, DRAFTS)
        before = snapshot(b)
        self.assertTrue(before[1], "the demo left no values at %s" % b)
        c = self.client(a)
        _, own = self.entry_page(c, a, "basic")
        mark = STACK.audit_mark()
        for form in ("basic", "students", "staff"):
            url = entry_url(b, form)
            with self.subTest(form=form):
                for path in (url, url + "?pending=1", url + "/history/principal_name",
                             url + "/history/pri_students"):
                    r = c.get(path)
                    self.assertEqual(r.status, 404, "GET %s: %r" % (path, r))
                    self.assertNotIn(UNITS[b]["name"], r.text)
                body = own.fill({"v.principal_name": "别人的校长", "v.pri_students": "1"},
                                ("action", "submit"))
                for path in (url, url + "/discard"):
                    r = c.post(path, body)
                    self.assertEqual(r.status, 404, "POST %s: %r" % (path, r))
        self.assertEqual(snapshot(b), before)
        self.assertEqual([x for x in audit_since(mark) if x[1].startswith("submission.")], [])

    def test_reviewers_see_their_county_read_only_and_cannot_post(self):
        b = S_SCOPE_B
        url = entry_url(b, "basic")
        before = snapshot(b)
        other = self.client("rev-990102")
        self.assertNotEqual(county_of(b), "990102")
        for path in (url, entry_url(b, "students"), url + "/history/principal_name"):
            self.assertEqual(other.get(path).status, 404, path)
        rev = self.client("rev-" + county_of(b))
        r = rev.open(url)
        self.assertReadOnly(r, "the reviewer's view")
        self.assertIn("只读", msg_of(r.text, "info") or "")
        self.assertShown(r.page, as_shown(b, "basic"), "the reviewer's view")
        self.assertEqual(rev.get(url + "/history/principal_name").status, 200)
        f = r.page.form("entry-form")
        for path in (url, url + "/discard"):
            r = rev.submit(f, {"v.principal_name": "审核员改的"}, ("action", "save")) \
                if path == url else rev.post(path, {"csrf": f.value("csrf"), "pending": "1"})
            self.assertEqual(r.status, 404, "reviewer POST %s: %r" % (path, r))
        admin = self.client("admin")
        r = admin.open(url)
        self.assertReadOnly(r, "the city admin's view")
        r = admin.submit(r.page.form("entry-form"), {"v.principal_name": "管理员改的"})
        self.assertEqual(r.status, 404, "admin POST: %r" % r)
        self.assertEqual(snapshot(b), before)


# ---- 8. a failed database write ----

class FailedWriteTest(Base):
    def reload(self):
        """SIGHUP the supervisor and wait until every worker was replaced."""
        before = set(STACK.worker_pids())
        self.assertTrue(before, "no workers")
        os.kill(STACK.supervisor_pid(), signal.SIGHUP)
        after = STACK.workers_replaced(before, 20)
        self.assertTrue(after, "SIGHUP did not replace the workers (%r -> %r)"
                        % (before, STACK.worker_pids()))

    def test_busy_database_answers_503_with_the_input_kept(self):
        school = S_BUSY
        self.assertIn(school, NOT_STARTED)
        url = entry_url(school, "basic")
        ini = STACK.path("tianbao.ini")
        with open(ini, encoding="utf-8") as fh:
            original = fh.read()
        self.assertIn("[tianbao]", original)
        self.assertNotIn("busy_timeout_ms", original)
        try:
            with open(ini, "w", encoding="utf-8") as fh:
                fh.write(original.rstrip("\n") + "\nbusy_timeout_ms = 300\n")
            self.reload()
            c = self.client(school)
            r, f = self.entry_page(c, school, "basic")
            typed = demo_values(school, "basic")
            typed["principal_name"] = "繁忙时填写"
            before = snapshot(school)
            mark = STACK.audit_mark()
            lock = sqlite3.connect(STACK.path("tianbao.db"), timeout=10, isolation_level=None)
            try:
                lock.execute("BEGIN IMMEDIATE")
                t0 = time.monotonic()
                r = c.submit(f, web(typed))
                took = time.monotonic() - t0
            finally:
                lock.execute("ROLLBACK")
                lock.close()
            self.assertEqual(r.status, 503, repr(r))
            self.assertLess(took, 10, "the save waited %.1f s for the lock" % took)
            self.assertIn("保存失败", msg_of(r.text, "error") or "")
            self.assertShown(r.page, typed, "the failed save")
            self.assertEqual(r.page.form("entry-form").value("version"), "0")
            self.assertEqual(snapshot(school), before, "the failed save wrote something")
            self.assertEqual([x for x in audit_since(mark) if x[1].startswith("submission.")], [])
            # once the lock is gone the same form saves
            r = c.submit(r.page.form("entry-form"))
            self.assertRedirect(r, url + "?saved=1", "the save after the lock")
            self.assertEqual(stored(school, "basic")["principal_name"][0], "繁忙时填写")
        finally:
            with open(ini, "w", encoding="utf-8") as fh:
                fh.write(original)
            self.reload()


# ---- 9. the history of a field ----

class HistoryTest(Base):
    def test_history_lists_the_changes_of_a_field(self):
        school = S_HISTORY
        self.assertIn(school, NOT_STARTED)
        url = entry_url(school, "basic")
        c = self.client(school)
        r, f = self.entry_page(c, school, "basic")
        self.assertNotIn("/history/", r.text, "history links on a form never saved")
        self.assertRedirect(c.submit(f, web(dict(demo_values(school, "basic"),
                                                 principal_name="张三"))), url + "?saved=1")
        r, f = self.entry_page(c, school, "basic")
        self.assertIn('href="%s/history/principal_name"' % url, r.text)
        self.assertRedirect(c.submit(f, {"v.principal_name": "李四<i>"}), url + "?saved=1")
        r = c.open(url + "/history/principal_name")
        self.assertIn("校长（园长）姓名", r.text)
        self.assertIn("当前值 <b>李四&lt;i&gt;</b>", r.text)
        self.assertNotIn("李四<i>", r.text)
        rows = [tuple(html.unescape(x) for x in row) for row in re.findall(
            r'<tr><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>'
            r'<td class="num">(\d+)</td></tr>', r.text)]
        who = UNITS[school]["name"]
        self.assertEqual([row[1:] for row in rows],
                         [(who, "张三", "李四<i>", "2"), (who, "—", "张三", "1")])
        for row in rows:
            self.assertRegex(row[0], r"^\d{4}-\d\d-\d\d \d\d:\d\d")
        # a field never changed since the first save has one row
        r = c.open(url + "/history/broadband_mbps")
        self.assertEqual(r.text.count('<td class="num">'), 1)
        # a field of another form, a field the school does not have, an unknown field: 404
        for path in (url + "/history/pri_students", url + "/history/voc_students",
                     entry_url(school, "staff") + "/history/kg_caregivers",
                     entry_url(school, "students") + "/history/pri_students",
                     url + "/history/no_such_field", url + "/history/"):
            with self.subTest(path=path):
                self.assertEqual(c.get(path).status, 404, path)


# ---- 10. the task list ----

class TaskListTest(Base):
    def tasks(self, c):
        before = int(time.time())
        r = c.open("/")
        after = int(time.time())
        rows = task_rows(r.text)
        self.assertIsNotNone(rows, "no task list")
        return r, rows, (before, after)

    def test_task_list_shows_states_counts_and_deadline(self):
        school = S_TASKS
        self.assertIn(school, NOT_STARTED)
        c = self.client(school)
        totals = {f: required_total(f, school) for f in ("basic", "students", "staff",
                                                          "facilities")}
        self.assertEqual(totals["basic"], 6)
        r, rows, (t0, t1) = self.tasks(c)
        names = {code: FORMS[code]["name"] for code in totals}
        self.assertEqual([row[0] for row in rows],
                         [names[x] for x in ("basic", "students", "staff", "facilities")])
        for name, state, filled, total, errors, warnings, _, action, link in rows:
            code = [k for k, v in names.items() if v == name][0]
            self.assertEqual((state, filled, total, errors, warnings, action),
                             ("未填写", 0, totals[code], 0, 0, "开始填报"), name)
            self.assertEqual(link, entry_url(school, code))
        closes = period_window()[1]
        self.assertIn("填报截止时间：<b>%s</b>" % cst(closes), r.text)
        m = re.search(r'<p class="deadline( urgent)?">[^<]*<b>[^<]*</b>（还剩 <b>(\d+)</b> 天）', r.text)
        self.assertTrue(m, "no days left")
        self.assertIn(int(m.group(2)), {days_left(closes, t0), days_left(closes, t1)})
        self.assertGreater(int(m.group(2)), 3)
        self.assertIsNone(m.group(1), "urgent while more than three days are left")
        # basic complete but not submitted, students submitted, staff begun with an error
        _, f = self.entry_page(c, school, "basic")
        self.assertRedirect(c.submit(f, web(demo_values(school, "basic"))),
                            entry_url(school, "basic") + "?saved=1")
        _, f = self.entry_page(c, school, "students")
        self.assertRedirect(c.submit(f, web(demo_values(school, "students")), ("action", "submit")),
                            entry_url(school, "students") + "?submitted=1")
        staff = demo_values(school, "staff")
        part = {"staff_total": staff["staff_total"], "pri_teachers": staff["pri_teachers"],
                "pri_t_certified": str(int(staff["pri_teachers"]) + 1)}
        _, f = self.entry_page(c, school, "staff")
        self.assertRedirect(c.submit(f, web(part)), entry_url(school, "staff") + "?saved=1")
        r, rows, _ = self.tasks(c)
        got = {row[0]: row[1:8] for row in rows}
        self.assertEqual(got, {
            names["basic"]: ("草稿", 6, 6, 0, 0, 0, "继续填报"),
            names["students"]: ("已上报", totals["students"], totals["students"], 0, 0, 0, "查看"),
            names["staff"]: ("草稿", 3, totals["staff"], 1, 0, 0, "继续填报"),
            names["facilities"]: ("未填写", 0, totals["facilities"], 0, 0, 0, "开始填报"),
        })
        self.assertRegex(r.text, r"<td>\d{4}-\d\d-\d\d \d\d:\d\d</td>")
        # three days before the deadline it turns red
        opens, closes = period_window()
        try:
            soon = int(time.time()) + 2 * 86400 + 3600
            execute("UPDATE period SET closes_at = ? WHERE code = ?", (soon, PERIOD))
            r, _, _ = self.tasks(c)
            self.assertRegex(r.text, r'<p class="deadline urgent">[^<]*<b>%s</b>（还剩 <b>3</b> 天）'
                             % re.escape(cst(soon)))
            self.assertIn("还剩 3 天", c.open(entry_url(school, "basic")).text)
        finally:
            execute("UPDATE period SET opens_at = ?, closes_at = ? WHERE code = ?",
                    (opens, closes, PERIOD))


# ---- 11. values import ----

class ImportTest(Base):
    def write(self, name, doc):
        path = STACK.path(name)
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
        return path

    def test_values_import_refuses_bad_files_whole_and_imports_good_ones(self):
        school = S_IMPORT
        self.assertIn(school, NOT_STARTED)
        good = values_json([school], ["basic", "students"])
        bad = json.loads(json.dumps(good))
        basic = [s for s in bad["dataValueSets"] if s["dataSet"] == "basic"][0]
        for v in basic["dataValues"]:
            if v["dataElement"] == "principal_birth_year":
                v["value"] = "12a"
        basic["dataValues"].append({"dataElement": "no_such_element", "value": "1"})
        bad["dataValueSets"].append({"dataSet": "basic", "period": PERIOD, "orgUnit": "2199999999",
                                     "dataValues": [{"dataElement": "principal_name",
                                                     "value": "无此学校"}]})
        path = self.write("import-bad.json", bad)
        mark = STACK.audit_mark()
        rc, out, err = STACK.admin("values", "import", path, check=False)
        self.assertEqual(rc, 1, "a bad file: exit %d\n%s%s" % (rc, out, err))
        lines = [ln for ln in err.splitlines() if ln.strip()]
        self.assertFalse(CJK_RE.search(err), "the problems are not in English:\n" + err)
        n_basic = [i + 1 for i, s in enumerate(bad["dataValueSets"]) if s is basic][0]
        n_ghost = len(bad["dataValueSets"])
        expect = [
            ("set %d" % n_basic, "orgUnit %s" % school, "dataSet basic", "period " + PERIOD,
             "principal_birth_year", "12a"),
            ("set %d" % n_basic, "orgUnit %s" % school, "dataSet basic", "no_such_element"),
            ("set %d" % n_ghost, "orgUnit 2199999999", "dataSet basic", "school"),
        ]
        for parts in expect:
            with self.subTest(problem=parts):
                self.assertTrue([ln for ln in lines if all(p in ln for p in parts)],
                                "no line with %r in:\n%s" % (parts, err))
                self.assertTrue([ln for ln in lines if all(p in ln for p in parts) and
                                 ln.startswith(path)], "the file is not named:\n" + err)
        self.assertTrue(any("nothing was imported" in ln for ln in lines), err)
        self.assertIsNone(submission(school, "basic"))
        self.assertIsNone(submission(school, "students"))
        self.assertEqual(stored(school, "students"), {})
        self.assertEqual(audit_since(mark), [])
        # the good file
        path = self.write("import-good.json", good)
        rc, out, err = STACK.admin("values", "import", path, check=False)
        self.assertEqual(rc, 0, "a good file: exit %d\n%s%s" % (rc, out, err))
        c = self.client(school)
        for form in ("basic", "students"):
            sub = submission(school, form)
            self.assertEqual((sub["state"], sub["version"]), ("draft", 1), form)
            vals = stored(school, form)
            self.assertEqual({k: v[0] for k, v in vals.items()}, import_values(school, form), form)
            r, _ = self.entry_page(c, school, form)
            self.assertIn('<span class="state state-draft">草稿</span>', r.text)
            self.assertShown(r.page, demo_values(school, form), "imported %s" % form)
            self.assertIn(entry_url(school, form) + "/history/", r.text)
        r = c.open(entry_url(school, "basic") + "/history/principal_name")
        self.assertIn("系统导入", r.text)
        actions = [(x[1], x[2]) for x in audit_since(mark) if x[1] == "submission.save"]
        self.assertEqual(len(actions), 2, actions)

    def test_values_import_refuses_a_submitted_submission(self):
        school = S_IMPORT_SUBMITTED
        self.assertIn(school, SUBMITTED)
        self.assertEqual(submission(school, "basic")["state"], "submitted")
        before = snapshot(school)
        doc = values_json([school], ["basic"])
        for v in doc["dataValueSets"][0]["dataValues"]:
            if v["dataElement"] == "principal_name":
                v["value"] = "导入覆盖"
        path = self.write("import-submitted.json", doc)
        mark = STACK.audit_mark()
        rc, out, err = STACK.admin("values", "import", path, check=False)
        self.assertEqual(rc, 1, "import over a submitted form: exit %d\n%s%s" % (rc, out, err))
        self.assertIn("orgUnit %s" % school, err)
        self.assertIn("submitted", err)
        self.assertFalse(CJK_RE.search(err), err)
        self.assertEqual(snapshot(school), before)
        self.assertEqual(audit_since(mark), [])


# ---- 12. headers and hostile input ----

class SecurityTest(Base):
    def test_entry_pages_carry_security_headers_and_escape_hostile_input(self):
        school = S_HOSTILE
        self.assertIn(school, NOT_STARTED)
        url = entry_url(school, "basic")
        c = self.client(school)  # Client checks the security headers of every response
        r, f = self.entry_page(c, school, "basic")
        self.assertIn("no-store", r.headers.get("cache-control", ""))
        typed = demo_values(school, "basic")
        typed["principal_name"] = "<script>x</script>"
        typed["broadband_mbps"] = '"><img src=x onerror=alert(1)>'
        r = c.submit(f, web(typed))
        self.assertRedirect(r, url + "?saved=1", "hostile save")
        self.assertEqual(stored(school, "basic")["principal_name"], ("<script>x</script>",
                                                                      "<script>x</script>"))
        for path in (url + "?saved=1", url + "/history/principal_name",
                     url + "/history/broadband_mbps", "/"):
            with self.subTest(path=path):
                r = c.open(path)
                self.assertNotIn("<script>x", r.text)
                self.assertNotIn("<img src=x", r.text)
                self.assertNotIn('"><img', r.text)
        r = c.open(url)
        self.assertIn("&lt;script&gt;x&lt;/script&gt;", r.text)
        self.assertShown(r.page, typed, "hostile values")
        bad = [m for k, a, m in summary_entries(r.text) if a == "f-broadband_mbps"]
        self.assertTrue(bad and '“"><img src=x onerror=alert(1)>”' in bad[0], bad)
        # CSRF and Origin: refused, nothing changes
        before = snapshot(school)
        body = r.page.form("entry-form").fill({"v.principal_name": "改了"}, ("action", "save"))
        for what, form, hdrs in (
                ("no csrf", [(n, v) for n, v in body if n != "csrf"], None),
                ("wrong csrf", [(n, "B" * 43 if n == "csrf" else v) for n, v in body], None),
                ("foreign origin", body, {"Origin": "http://evil.example"}),
                ("cross-site fetch", body, {"Origin": None, "Sec-Fetch-Site": "cross-site"})):
            with self.subTest(what=what):
                r = c.post(url, form, headers=hdrs)
                self.assertEqual(r.status, 403, "%s: %r" % (what, r))
        self.assertEqual(snapshot(school), before)
        # error pages of the entry routes carry the headers too
        for path in (entry_url(school, "nope"), entry_url(school, "basic", period="1999"),
                     entry_url("2199999999", "basic"), entry_url(S_SCOPE_B, "basic")):
            self.assertEqual(c.get(path).status, 404, path)


# ---- 13. help, labels and the attributes of the controls ----

def form_json(code):
    """The definition of form `code` as db/forms has it (raw JSON)."""
    with open(os.path.join(FORMS_DIR, code + ".json"), encoding="utf-8") as fh:
        return json.load(fh)


class MarkupTest(Base):
    def test_help_stays_with_its_field_row_and_section(self):
        school = S_SCOPE_A
        c = self.client(school)
        r, _ = self.entry_page(c, school, "staff")
        self.assertPlainMarkup(r.text, "staff")
        sec = [x for x in form_json("staff")["sections"] if x["code"] == "by_stage"][0]
        self.assertTrue(sec.get("help"))
        self.assertEqual(r.text.count(html.escape(sec["help"], quote=False)), 1,
                         "the section's help is repeated")
        stage = "pri"
        self.assertIn(stage, stages_of(school))
        for col in sec["grid"]["columns"]:
            if stage not in col.get("stages", [stage]):
                continue
            with self.subTest(row=col["code"]):
                th = grid_row_header(r.text, "f-%s_%s" % (stage, col["code"]))
                self.assertIsNotNone(th, "no grid row for %s" % col["code"])
                if col.get("help"):
                    self.assertIn("<p>%s</p>" % html.escape(col["help"], quote=False), th)
                else:  # t_edu_bach, t_edu_assoc: no help, and not the section's either
                    self.assertNotIn("row-help", th)
                    self.assertNotIn("<p>", th)
        self.assertTrue([x for x in sec["grid"]["columns"] if not x.get("help")],
                        "the staff form has no row without help any more")

    def test_yes_no_select_and_text_controls_carry_their_names_and_states(self):
        school = S_SCOPE_A
        c = self.client(school)
        r, _ = self.entry_page(c, school, "basic")
        self.assertPlainMarkup(r.text, "basic")
        for sec in form_json("basic")["sections"]:
            for fld in sec["fields"]:
                fid = "f-" + fld["code"]
                with self.subTest(field=fld["code"]):
                    div = field_html(r.text, fid)
                    self.assertIsNotNone(div, fid)
                    self.assertEqual(div.count('class="help"'), 1 if fld.get("help") else 0, div)
                    if fld["type"] != "yesno":
                        self.assertIn('<label for="%s">' % fid, div)
                        continue
                    # a radio group: named by its label through aria-labelledby
                    self.assertNotIn('<label for="%s"' % fid, div)
                    m = re.search(r'<span class="label" id="([^"]+)">%s' % re.escape(fld["label"]), div)
                    self.assertTrue(m, div)
                    group = re.search(r'<span class="yesno" id="%s"[^>]*>' % fid, div).group(0)
                    self.assertIn('role="radiogroup"', group)
                    self.assertIn('aria-labelledby="%s"' % m.group(1), group)

    def test_controls_with_errors_are_marked_invalid_and_name_their_messages(self):
        school = S_MARKUP
        self.assertIn(school, DRAFTS)
        url = entry_url(school, "basic")
        c = self.client(school)
        r, f = self.entry_page(c, school, "basic")
        # submitted without 是否寄宿制学校 and with a name too long: blocked, both errors
        r = c.submit(f, {"v.boarding": None, "v.principal_name": "王" * 21}, ("action", "submit"))
        self.assertRedirect(r, url + "?blocked=1")
        r = c.open(r.location)
        self.assertPlainMarkup(r.text, "basic, blocked")
        beside = field_issues(r.text)
        for field in ("boarding", "principal_name"):
            with self.subTest(field=field):
                tag = re.search(r'<(?:span|input|select)\b[^>]*\sid="f-%s"[^>]*>' % field, r.text)
                self.assertTrue(tag, field)
                self.assertIn('aria-invalid="true"', tag.group(0))
                ids = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
                self.assertTrue(ids, "%s names no message: %s" % (field, tag.group(0)))
                msgs = [beside[i] for i in ids.group(1).split() if i in beside]
                self.assertTrue(msgs and all(k == "error" for k, _ in msgs), msgs)
                self.assertIn(label("basic", school, field), msgs[0][1])
        # the other controls are not marked
        for tag in re.findall(r'<(?:span class="yesno"|input|select)\b[^>]*\sid="f-[^"]*"[^>]*>',
                              r.text):
            if 'id="f-boarding"' not in tag and 'id="f-principal_name"' not in tag:
                self.assertNotIn("aria-invalid", tag)


# ---- 14. problems of no field: inside the form, with their 说明 ----

class GeneralIssueTest(Base):
    """A problem of no field on the page (a rule whose fields the school does not have) is
    listed inside <form> with its 说明 input, so that browsers ignoring form= (IE 11) submit
    it; the summary links to it. The stack gets a variant of the staff form for the test: a
    warning about kg_caregivers (a 幼儿园 field) that fires for any staff_total, and help on
    the section of staff_total but none on the field."""

    RULE = "probe_general"
    MESSAGE = "（测试）一条不属于任何填报项的提醒，请说明。"
    SECTION_HELP = "（测试）本节的说明，只显示一次。"

    def load_variant(self):
        doc = form_json("staff")
        sec = [x for x in doc["sections"] if x["code"] == "total"][0]
        self.assertNotIn("help", sec)
        sec["help"] = self.SECTION_HELP
        fld = [x for x in sec["fields"] if x["code"] == "staff_total"][0]
        del fld["help"]
        doc["rules"].append({"code": self.RULE, "expr": "sum(kg_caregivers, staff_total) < 0",
                             "severity": "warning", "message": self.MESSAGE,
                             "fields": ["kg_caregivers"]})
        path = STACK.path("staff-general.json")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
        STACK.admin("forms", "load", path)

    def test_problem_of_no_field_is_explained_inside_the_form(self):
        school = S_GENERAL
        self.assertIn(school, DRAFTS)
        self.assertNotIn("kg", stages_of(school))
        self.assertIsNone(submission(school, "staff"), "the demo started this form")
        url = entry_url(school, "staff")
        try:
            self.load_variant()
            c = self.client(school)
            r, f = self.entry_page(c, school, "staff")
            # a field without help shows none, not its section's
            self.assertEqual(r.text.count(self.SECTION_HELP), 1, "the section help is repeated")
            div = field_html(r.text, "f-staff_total")
            self.assertIsNotNone(div)
            self.assertNotIn('class="help"', div, "help shown for a field that has none")
            self.assertRedirect(c.submit(f, web(demo_values(school, "staff"))), url + "?saved=1")
            r = c.open(url)
            warns = [(a, m) for k, a, m in summary_entries(r.text) if k == "warning"]
            self.assertEqual([m for _, m in warns], [self.MESSAGE], warns)
            anchor = warns[0][0]
            self.assertRegex(anchor, r"^i-\d+$", "the summary does not link to the problem")
            inside = entry_form_html(r.text)
            line = re.search(r'<p class="issue warning" id="%s">(.*?)</p>' % anchor, inside, re.S)
            self.assertTrue(line, "the problem is not inside the form")
            self.assertIn(self.MESSAGE, line.group(1))
            name = "x." + self.RULE
            self.assertIn('name="%s"' % name, line.group(1), "no 说明 input beside the problem")
            summary = re.search(r'<div class="summary" id="summary">(.*?)</div>', r.text, re.S)
            self.assertNotIn("<input", summary.group(1), "an input in the summary, outside <form>")
            self.assertPlainMarkup(r.text, "staff with a problem of no field")
            f = r.page.form("entry-form")
            self.assertIn(name, [cc["attrs"].get("name") for cc in f.controls
                                 if "form" not in cc["attrs"]])
            # the 说明 posted from inside the form lets the submission through
            why = "本校不设幼儿园，此项不适用。"
            r = c.submit(f, {name: why}, ("action", "submit"))
            self.assertRedirect(r, url + "?submitted=1", "submit with the 说明")
            sub = submission(school, "staff")
            self.assertEqual(sub["state"], "submitted")
            self.assertEqual(explanations(sub["id"]), {self.RULE: why})
            r = c.open(url)
            line = re.search(r'<p class="issue warning" id="%s">(.*?)</p>' % anchor,
                             entry_form_html(r.text), re.S)
            self.assertTrue(line, "the problem is gone from the read-only page")
            self.assertIn("说明：" + why, line.group(1))
            self.assertNotIn("<input", line.group(1))
        finally:
            STACK.admin("forms", "load", os.path.join(FORMS_DIR, "staff.json"))


# ---- 15. static/entry.js runs on old browsers ----

ES2015 = [
    (r"=>", "an arrow function"),
    (r"`", "a template literal"),
    (r"\b(const|let|class|import|export|yield|async|await)\b", "an ES2015+ keyword"),
    (r"\bfor\s*\([^;)]*\bof\b", "for…of"),
    (r"\.\.\.", "spread or rest"),
    (r"\*\*", "the ** operator"),
    (r"\b0[bBoO][0-9]", "a binary or octal literal"),
    (r"\b(var)\s*[\[{]", "destructuring"),
    (r"\bfunction\b[^(]*\([^)]*=", "a default parameter"),
    (r"\b(Map|Set|WeakMap|WeakSet|Symbol|Promise|Proxy|Reflect)\b", "an ES2015 built-in"),
    (r"\b(Array\.(from|of)|Object\.(assign|entries|values)|Number\.is\w+)\b",
     "an ES2015 function"),
    (r"\.(includes|startsWith|endsWith|find|findIndex|repeat|padStart|padEnd|fill)\(",
     "an ES2015+ method"),
    (r"\b(classList|dataset|insertAdjacentElement|closest)\b|\.remove\(\)",
     "a DOM API IE 11 or old WebViews lack"),
]


def js_code(src):
    """The code of a script with its comments, strings and regular expression literals
    blanked out (a template literal's backticks are kept, to be found)."""
    out, i, n, last = [], 0, len(src), ""
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            i = src.find("\n", i) if "\n" in src[i:] else n
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        elif c in "'\"`":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append("``" if c == "`" else c + c)
            i, last = j + 1, "a"
        elif c == "/" and (last == "" or last in "(,=:[!&|?{};+-*%<>~^" or
                           re.search(r"\b(return|typeof|case|in|of|new|delete|void|throw)\s*$",
                                     "".join(out[-12:]))):
            j, cls = i + 1, False
            while j < n and (src[j] != "/" or cls):
                if src[j] == "\\":
                    j += 1
                elif src[j] == "[":
                    cls = True
                elif src[j] == "]":
                    cls = False
                j += 1
            j += 1
            while j < n and src[j].isalpha():
                j += 1
            out.append("/r/")
            i, last = j, "a"
        else:
            out.append(c)
            if not c.isspace():
                last = c
            i += 1
    return "".join(out)


def es2015_uses(src):
    """[(line, what)] of the ES2015+ syntax and APIs in a script."""
    code = js_code(src)
    found = []
    for pattern, what in ES2015:
        for m in re.finditer(pattern, code):
            found.append((code.count("\n", 0, m.start()) + 1, what))
    return sorted(found)


class ScriptTest(Base):
    def test_scanner_finds_es2015_and_ignores_comments_and_strings(self):
        for snippet in ("const a = 1;", "let b = 2;", "f(x => x);", "var s = `t`;",
                        "for (var c of d) {}", "f(...a);", "var w = new WeakSet();",
                        "el.classList.add('x');", "function f(a = 1) {}", "var {a} = b;",
                        "Array.from(s);", "s.startsWith('a');", "class A {}"):
            with self.subTest(snippet=snippet):
                self.assertTrue(es2015_uses(snippet), snippet)
        self.assertEqual(es2015_uses(
            "// const, let and => in a comment\n/* for (x of y) */\n"
            "var s = 'let => `x`', r = /^[ \\t]+|a\\/`/g, t = \"const\";\n"
            "var x = a / b / c; if (!x) return /=>/.test(s);\n"), [])

    def test_entry_js_is_es5(self):
        with open(os.path.join(tblib.SRCDIR, "static", "entry.js"), encoding="utf-8") as fh:
            src = fh.read()
        self.assertEqual(es2015_uses(src), [], "static/entry.js must stay ES5 (old browsers)")


if __name__ == "__main__":
    tblib.main()

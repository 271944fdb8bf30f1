#!/usr/bin/env python3
"""test_review.py — the review of submissions over real HTTP: decisions, comments, notices,
the overview, bulk and two-level approval, the outbox, scope, and the exports.

One private stack (tblib.Stack) gets the demo city from scripts/demo-data: 示范市 with one
account per unit (password tianbao-demo), the four forms, period 2025 (approved) and period
2026 (open; every second school submitted — of those the demo's reviewers approved most,
returned some and left every third waiting —, every fourth with drafts, the rest not started).
The states the demo leaves are read from the database, never assumed; each test works on
schools and forms of its own (see the S_* names below), so that the tests do not see each
other's decisions.  A city reviewer (rev-city, 990100) is added with tianbao-admin.

A browser-like client (tblib.Client: cookies, no redirects followed, the stack's Origin on
POSTs, the security headers of every response checked) reads each page's forms with
html.parser and posts them back the way a browser would (successful controls plus the button
pressed): the review page's form #decide (csrf, version, reason, the comments `c.<field>`),
the entry form (`v.<field>`), the bulk form of the overview (`s` = school:form:version).

What the tests check: a return needs a reason, its field comments reach the school beside the
fields (in a grid: in the line under the item's row), the resubmission shows the reviewer what
changed, the approval writes one outbox row with the payload; bulk approval approves the clean
submissions and lists the others with the reason; two-level approval (approval_levels = 2,
switched by SIGHUP and back); a reviewer of another county gets 404; refused decisions (a draft,
no reason, a double click, simultaneous clicks, a version changed meanwhile, no version at all,
no CSRF token) change nothing and say why; every decision has its audit row (who, when, why);
the notices (badge, /notices, marking read, per user); the overview's counts, filters, sorting
and the overdue marks; reasons and comments escaped on every page; the CSV and XLSX exports
(the XLSX converted to CSV by LibreOffice headless, text cells quoted so that numbers can be
told from text) equal the database.  The XLSX check is skipped when soffice is missing, unless
CI is set (then it fails).  Run by `make check`, or:
  cd build && TIANBAO_SRCDIR=.. TIANBAO_BUILDDIR=. python3 ../tests/integration/test_review.py
"""

import csv
import datetime as dt
import html
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import exprlib  # noqa: E402
import tblib  # noqa: E402
from tblib import FORMS_DIR, STAGE_NAMES, TYPE_NAMES, VALUES_PY  # noqa: E402

PASSWORD = "tianbao-demo"
PERIOD = "2026"
FORMS = ("basic", "students", "staff", "facilities")
CST = dt.timezone(dt.timedelta(hours=8))
CITY_REVIEWER = "rev-city"


STATE_NAMES = {"none": "未填写", "draft": "草稿", "submitted": "已上报", "returned": "已退回",
               "approved": "已审核", "county_approved": "区县已审核"}


def ur_group(code):
    """城区 / 镇区 / 乡村 of a 城乡类型 code (1x1/1x2: 城区, 12x: 镇区, 2xx: 乡村)."""
    return {"11": "城区", "12": "镇区"}.get(code[:2], "乡村" if code.startswith("2") else "")


# ---- the demo city ----

UNITS = tblib.demo_units()


def county_of(code):
    return UNITS[code]["parent_code"]


def name_of(code):
    return UNITS[code]["name"]


# Each test's schools (the demo's state is asserted where it matters).
S_LOOP = "2199210004"          # 青山县 教学点, not started: the full loop (staff)
S_NOTICE = "5199210001"        # 青山县 特教, not started: notices (basic)
S_OUTBOX = "2199210001"        # 青山县, submitted by the demo: outbox and reopen (basic)
S_OTHER = "2199210006"         # 青山县 教学点, submitted by the demo: what 东城区 must not touch
S_BULK_CLEAN = "2199020001"    # 东城区, submitted by the demo: bulk, four clean forms
S_BULK_WARN = "3199020002"     # 东城区, not started: submits facilities, then a draft of
                               # students makes a cross-form warning in it (unexplained)
S_BULK_ERROR = "5199020001"    # 东城区, submitted: basic with an error counted (see the test)
S_REFUSE = "3499020003"        # 东城区, submitted: stale bulk (basic), double click (students),
                               # changed meanwhile (staff), no reason (facilities)
S_DRAFT = "3199020001"         # 东城区, drafts of basic and students by the demo
S_NOT_STARTED = "2199020004"   # 东城区, never started (only refused decisions on it)
S_TWO_LEVEL = "3199220002"     # 白水县, submitted: two-level approval
S_RACE = "5199020001"          # 东城区: two approvals of students at the same moment
S_NO_VERSION = "5199020001"    # 东城区: approvals without the version seen (staff, facilities)
S_NO_VERSION_2 = "3499020002"  # 东城区, not started: submits basic and students for the same
S_SECURITY = "2199210001"      # 青山县: CSRF (staff), escaping (students)

STACK = None


# ---- the form definitions ----

FORM_DEFS = exprlib.load_forms(FORMS_DIR)


def form_name(form):
    return FORM_DEFS[form]["name"]


def units_of(form):
    """field code -> unit of the form's fields (grid cells: their column's unit)."""
    out = {}
    for sec in FORM_DEFS[form]["sections"]:
        if "grid" in sec:
            for col in sec["grid"]["columns"]:
                for stage in sec["grid"]["rows"]:
                    out["%s_%s" % (stage, col["code"])] = col.get("unit")
        else:
            for f in sec["fields"]:
                out[f["code"]] = f.get("unit")
    return out


# ---- realistic values (db/demo/values.py) ----

def demo_values(school, form):
    """field -> value as the web form posts it (yes/no as "1"/"0")."""
    p = subprocess.run([sys.executable, VALUES_PY, "--period", PERIOD, "--schools", school,
                        "--forms", form], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60, check=True)
    sets = [s for s in json.loads(p.stdout)["dataValueSets"]
            if s["orgUnit"] == school and s["dataSet"] == form]
    assert len(sets) == 1, "values.py gave %d sets for %s/%s" % (len(sets), school, form)
    return {v["dataElement"]: {"true": "1", "false": "0"}.get(v["value"], v["value"])
            for v in sets[0]["dataValues"]}


# ---- the stack ----

def setUpModule():
    global STACK
    STACK = Base.stack = tblib.Stack(prefix="tianbao-review-").start()
    try:
        STACK.demo_data()
        STACK.admin("user", "add", CITY_REVIEWER, "reviewer", "990100", "--password-stdin",
                    "--no-force-change", stdin=(PASSWORD + "\n").encode())
    except Exception:
        STACK.failed = True
        raise


def tearDownModule():
    tblib.finish_stack(STACK)


# ---- the database, read and nudged directly ----

SUB_KEYS = ("id", "state", "reviewed", "version", "errors", "warnings", "unexplained",
            "submitted_at", "approved_at", "updated_at")


def submission(school, form, period=PERIOD):
    """The submission row as a dict, or None when the form was never started."""
    rows = STACK.query(
        "SELECT s.id, s.state, s.reviewed, s.version, s.errors, s.warnings, s.unexplained,"
        " s.submitted_at, s.approved_at, s.updated_at FROM submission s"
        " JOIN org_unit o ON o.id = s.school_id JOIN period p ON p.id = s.period_id"
        " WHERE o.code = ? AND p.code = ? AND s.form_code = ?", (school, period, form))
    return dict(zip(SUB_KEYS, rows[0])) if rows else None


def state_of(sub):
    """The state code of a submission row (None: not started)."""
    if sub is None:
        return "none"
    if sub["state"] == "submitted" and sub["reviewed"]:
        return "county_approved"
    return sub["state"]


def stored(school, form, period=PERIOD):
    """field -> (raw, norm) of the stored values."""
    return {f: (r, n) for f, r, n in STACK.query(
        "SELECT v.field_code, v.raw, v.norm FROM value v"
        " JOIN submission s ON s.id = v.submission_id JOIN org_unit o ON o.id = s.school_id"
        " JOIN period p ON p.id = s.period_id"
        " WHERE o.code = ? AND p.code = ? AND s.form_code = ?", (school, period, form))}


def reviews(sub_id):
    """(version, action, level, reason, login) of the review rows, in order."""
    return STACK.query("SELECT r.version, r.action, r.level, r.reason, u.login FROM review r"
                       " LEFT JOIN user u ON u.id = r.user_id WHERE r.submission_id = ?"
                       " ORDER BY r.id", (sub_id,))


def review_comments(sub_id):
    """{field: text} of the last review of the submission."""
    return dict(STACK.query(
        "SELECT field_code, text FROM review_comment WHERE review_id ="
        " (SELECT max(id) FROM review WHERE submission_id = ?)", (sub_id,)))


def outbox(sub_id):
    """dicts of the outbox rows of a submission, in order."""
    keys = ("version", "idem_key", "payload", "state", "attempts", "next_attempt_at",
            "created_at", "delivered_at")
    return [dict(zip(keys, r)) for r in STACK.query(
        "SELECT %s FROM outbox WHERE submission_id = ? ORDER BY id" % ", ".join(keys),
        (sub_id,))]


def notices_of(unit, sub_id=None):
    """(kind, text) of the notices of an org unit (code), about one submission if given."""
    sql = ("SELECT n.kind, n.text FROM notice n JOIN org_unit o ON o.id = n.org_unit_id"
           " WHERE o.code = ?")
    args = [unit]
    if sub_id is not None:
        sql += " AND n.submission_id = ?"
        args.append(sub_id)
    return STACK.query(sql + " ORDER BY n.id", tuple(args))


def snapshot(school, form):
    """Everything a decision on one form could change (for "nothing changed")."""
    sub = submission(school, form)
    if sub is None:
        return None
    sid = sub["id"]
    return (sub, stored(school, form), reviews(sid),
            STACK.query("SELECT review_id, field_code, text FROM review_comment WHERE review_id IN"
                        " (SELECT id FROM review WHERE submission_id = ?) ORDER BY 1, 2", (sid,)),
            outbox(sid), STACK.query("SELECT org_unit_id, kind, text FROM notice"
                                     " WHERE submission_id = ? ORDER BY id", (sid,)))


def decisions_since(mark):
    """(at, actor, action, object, detail) of the submission.* audit rows after `mark`."""
    return STACK.query("SELECT at, actor, action, object, detail FROM audit WHERE id > ?"
                       " AND action LIKE 'submission.%' ORDER BY id", (mark,))


def period_closes(code=PERIOD):
    return STACK.query("SELECT closes_at FROM period WHERE code = ?", (code,))[0][0]


def schools_in(county):
    """The demo schools of a county (code order)."""
    return sorted(c for c, r in UNITS.items()
                  if r["kind"] == "school" and r["parent_code"] == county)


def states_in(county):
    """school -> {form: state code} of period 2026, for a county (None: the whole city)."""
    schools = schools_in(county) if county else sorted(
        c for c, r in UNITS.items() if r["kind"] == "school")
    out = {s: {f: "none" for f in FORMS} for s in schools}
    for code, form, state, reviewed in STACK.query(
            "SELECT o.code, s.form_code, s.state, s.reviewed FROM submission s"
            " JOIN org_unit o ON o.id = s.school_id JOIN period p ON p.id = s.period_id"
            " WHERE p.code = ?", (PERIOD,)):
        if code in out:
            out[code][form] = "county_approved" if state == "submitted" and reviewed else state
    return out


def cst_date(t):
    return dt.datetime.fromtimestamp(t, CST).strftime("%Y-%m-%d")


# ---- pages: forms and controls as a browser sees them ----

def msg_of(text, cls):
    """Text of the first <p class="msg CLS" ...>, tags dropped and unescaped, or None."""
    m = re.search(r'<p class="msg %s"[^>]*>(.*?)</p>' % cls, text, re.S)
    return html.unescape(re.sub(r"<[^>]*>", "", m.group(1))) if m else None


def badge(text):
    """The unread count in the header, or 0 when there is no badge."""
    m = re.search(r'<a href="/notices" class="notices">通知(?:<span class="badge"[^>]*>(\d+)</span>)?'
                  r'</a>', text)
    assert m, "no 通知 link in the header"
    return int(m.group(1) or 0)


def notice_items(text):
    """The /notices list: [(kind, unread, url or None, text)]."""
    out = []
    for kind, unread, body in re.findall(
            r'<li class="notice-([a-z_]+)( unread)?"><span class="at">[^<]*</span> (.*?)</li>',
            text, re.S):
        m = re.match(r'<a href="([^"]*)">(.*?)</a>', body, re.S)
        url, words = (m.group(1), m.group(2)) if m else (None, re.sub(r"<.*", "", body, flags=re.S))
        out.append((kind, bool(unread), url and html.unescape(url), html.unescape(words).strip()))
    return out


def entry_url(school, form, period=PERIOD):
    return "/schools/%s/%s/%s" % (school, period, form)


def review_url(school, form, period=PERIOD):
    return entry_url(school, form, period) + "/review"


def parse_overview(text):
    """The rows of table#schools: [{code, name, type, ur, cls, cells: [{state, url, box,
    disabled}], submitted, overdue, county}] in page order."""
    m = re.search(r'<table class="list" id="schools">.*?<tbody>(.*?)</tbody>', text, re.S)
    assert m, "no table#schools"
    rows = []
    for cls, body in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', m.group(1), re.S):
        tds = re.findall(r'<td(?: class="([^"]*)")?>(.*?)</td>', body, re.S)
        cells = []
        for c, inner in tds:
            if c != "cell-state":
                continue
            st = re.search(r'<a class="state state-([a-z_]+)" href="([^"]*)">([^<]*)</a>', inner)
            box = re.search(r'<input type="checkbox" name="s" value="([^"]*)"[^>]*>', inner)
            cells.append({"state": st.group(1), "url": st.group(2), "label": st.group(3),
                          "box": box and box.group(1),
                          "disabled": bool(box) and " disabled" in box.group(0)})
        plain = [html.unescape(re.sub(r"<[^>]*>", "", inner)).strip() for c, inner in tds
                 if c != "cell-state"]
        late = re.search(r'<b class="late">(\d+) 天</b>', body)
        rows.append({"code": plain[0], "name": plain[1], "type": plain[2], "ur": plain[3],
                     "cls": cls, "cells": cells, "submitted": plain[4] if len(plain) > 4 else "",
                     "overdue": int(late.group(1)) if late else 0,
                     "county": plain[6] if len(plain) > 6 else None})
    return rows


def parse_counts(text):
    """The counts table: form name -> {reported, total, approved, waiting, county_approved,
    returned, draft, none} (county_approved only when the page has that column)."""
    m = re.search(r'<table class="counts">.*?<thead>(.*?)</thead>.*?<tbody>(.*?)</tbody>',
                  text, re.S)
    assert m, "no table.counts"
    city = "区县已审核" in m.group(1)
    out = {}
    for name, body in re.findall(r'<tr><th scope="row">([^<]*)</th>(.*?)</tr>', m.group(2), re.S):
        cells = re.findall(r'<td class="num">(.*?)</td>', body, re.S)
        rep = re.fullmatch(r"<b>(\d+)</b>/(\d+)", cells[0])
        app = re.fullmatch(r"<b>(\d+)</b>/(\d+)", cells[1])
        rest = [int(x) for x in cells[2:]]
        d = {"reported": int(rep.group(1)), "total": int(rep.group(2)),
             "approved": int(app.group(1)), "approved_total": int(app.group(2)),
             "waiting": rest.pop(0)}
        if city:
            d["county_approved"] = rest.pop(0)
        d["returned"], d["draft"], d["none"] = rest
        out[html.unescape(name)] = d
    return out


def review_rows(text):
    """The review page's values: field -> {changed, value, old} (text unescaped)."""
    out = {}
    for code, cls, body in re.findall(r'<tr id="r-([a-z0-9_]+)"( class="changed")?>(.*?)</tr>',
                                      text, re.S):
        tds = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        cur = tds[0]
        old = re.search(r'<span class="old"[^>]*>原 (.*?)</span>', cur)
        value = re.sub(r'<span class="old".*', "", cur, flags=re.S)
        out[code] = {"changed": bool(cls), "value": html.unescape(value),
                     "old": html.unescape(old.group(1)) if old else None}
    return out


# ---- the tests' base ----

class Base(tblib.ClientTest):
    """Clients of STACK (demo accounts, PASSWORD) that read entry and review pages."""

    password = PASSWORD
    client_class = tblib.Client

    # -- the school's side --

    def entry_form(self, c, school, form):
        r = c.open(entry_url(school, form))
        f = r.page.form("entry-form")
        self.assertIsNotNone(f, "no entry form on %s" % entry_url(school, form))
        return r, f

    def school_posts(self, c, school, form, values, action="submit", expect="submitted"):
        """The school types `values` into its form and presses 保存草稿 / 检查并上报; the
        answer must be a redirect to ?<expect>=1."""
        page, f = self.entry_form(c, school, form)
        self.assertIn('data-editable="1"', page.text, "%s/%s is not editable" % (school, form))
        r = c.submit(f, {"v." + k: v for k, v in values.items()}, ("action", action))
        url = entry_url(school, form)
        if r.location == url + "?blocked=1":
            # a warning the new figures raise (e.g. a change from last year): the school
            # gives its 说明 beside it, as the page asks, and submits again
            page = c.open(r.location)
            ef = page.page.form("entry-form")
            empty = {n: "数字已核实无误。" for n, v in ef.pairs() if n.startswith("x.") and not v}
            if not empty:
                self.fail("%s/%s was blocked: %s" % (school, form, msg_of(page.text, "error")))
            r = c.submit(ef, empty, ("action", action))
            if r.location == url + "?blocked=1":
                self.fail("%s/%s was blocked: %s"
                          % (school, form, msg_of(c.open(r.location).text, "error")))
        self.assertRedirect(r, "%s?%s=1" % (url, expect), "%s of %s/%s" % (action, school, form))
        return r

    # -- the reviewer's side --

    def review_page(self, c, school, form):
        """GET the review page; (response, its form #decide)."""
        r = c.open(review_url(school, form))
        f = r.page.form("decide")
        self.assertIsNotNone(f, "no form#decide on %s" % review_url(school, form))
        self.assertRegex(f.value("version") or "", r"^\d+$")
        return r, f

    def decide(self, c, f, action, reason=None, comments=None, version=None):
        """Post form #decide with `action` pressed, after typing a reason / comments."""
        changes = {}
        if reason is not None:
            changes["reason"] = reason
        for field, text in (comments or {}).items():
            changes["c." + field] = text
        if version is not None:
            changes["version"] = str(version)
        return c.post(f.action, f.fill(changes, ("action", action)))

    def assertDecided(self, r, school, form, done):
        self.assertRedirect(r, review_url(school, form) + "?done=" + done, "the decision")

    def assertRefused(self, r, status, words, what):
        """A refusal: `status`, the review page again with an error naming `words` (or one
        of them, when a tuple)."""
        self.assertEqual(r.status, status, "%s: %r" % (what, r))
        err = msg_of(r.text, "error")
        self.assertIsNotNone(err, "%s: the page says nothing" % what)
        alts = words if isinstance(words, tuple) else (words,)
        self.assertTrue(any(w in err for w in alts), "%s: %r lacks %r" % (what, err, words))
        return err

    def assertAudited(self, mark, login, action, sub_id, version, state, reason=None,
                      window=None):
        """Exactly one audit row submission.<action> on the submission since `mark`, by
        `login`, at a time within `window` (unix seconds), with version, state and reason."""
        rows = [x for x in decisions_since(mark)
                if x[2] == "submission." + action and x[3] == "submission:%d" % sub_id]
        self.assertEqual(len(rows), 1, "audit rows %s of submission %d: %r"
                         % (action, sub_id, decisions_since(mark)))
        at, actor, _, _, detail = rows[0]
        self.assertEqual(actor, login, "who")
        when = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=dt.timezone.utc).timestamp()
        if window:
            self.assertTrue(window[0] - 2 <= when <= window[1] + 2,
                            "the audit row's time %s is not when it happened" % at)
        d = json.loads(detail)
        self.assertEqual(d.get("version"), version, "version in %s" % detail)
        self.assertEqual(d.get("state"), state, "state in %s" % detail)
        self.assertEqual(d.get("reason"), reason, "reason (why) in %s" % detail)

    def read_all(self, c):
        """POST /notices/read (the button of /notices); the badge is gone afterwards."""
        r = c.open("/notices")
        f = [x for x in r.page.forms if x.action == "/notices/read"]
        if not f:
            self.assertEqual(badge(r.text), 0)
            return
        r = c.submit(f[0])
        self.assertRedirect(r, "/notices?read=1", "marking notices read")
        r = c.open(r.location)
        self.assertEqual(badge(r.text), 0, "the badge stays after marking read")
        self.assertIn("已全部标为已读", msg_of(r.text, "ok") or "")
        self.assertEqual([x for x in notice_items(r.text) if x[1]], [], "still unread")

    def assertPayload(self, row, school, form):
        """The outbox payload: dataSet, period, orgUnit, completeDate (the approval's day in
        CST) and every stored valid value (yes/no as true/false), in field order."""
        p = json.loads(row["payload"])
        sub = submission(school, form)
        self.assertEqual({k: p.get(k) for k in ("dataSet", "period", "orgUnit", "completeDate")},
                         {"dataSet": form, "period": PERIOD, "orgUnit": school,
                          "completeDate": cst_date(sub["approved_at"])})
        kinds = dict(STACK.query("SELECT code, type FROM field WHERE form_code = ?", (form,)))
        order = [c for c, in STACK.query("SELECT code FROM field WHERE form_code = ?"
                                         " ORDER BY position", (form,))]
        vals = stored(school, form)
        want = [(f, {"1": "true", "0": "false"}[vals[f][1]] if kinds[f] == "yesno" else vals[f][1])
                for f in order if f in vals and vals[f][1] is not None]
        got = [(v.get("dataElement"), v.get("value")) for v in p.get("dataValues", [])]
        self.assertEqual(got, want, "dataValues")
        expl = {t for t, in STACK.query("SELECT text FROM explanation WHERE submission_id = ?",
                                        (sub["id"],))}
        for v in p["dataValues"]:
            if "comment" in v:
                self.assertIn(v["comment"], expl, "a comment that is no 说明")
        return p

    # -- two-level approval: the configuration, switched by SIGHUP --

    def set_levels(self, levels):
        ini = STACK.path("tianbao.ini")
        with open(ini, encoding="utf-8") as fh:
            text = fh.read()
        text = re.sub(r"(?m)^approval_levels = \d\n?", "", text)
        if levels != 1:
            text = text.rstrip("\n") + "\napproval_levels = %d\n" % levels
        with open(ini, "w", encoding="utf-8") as fh:
            fh.write(text)
        before = set(STACK.worker_pids())
        self.assertTrue(before, "no workers")
        os.kill(STACK.supervisor_pid(), signal.SIGHUP)
        after = STACK.workers_replaced(before, 20)
        self.assertTrue(after, "SIGHUP did not replace the workers (%r -> %r)"
                        % (before, STACK.worker_pids()))


# ---- 1. the full loop ----

class FullLoopTest(Base):
    def test_return_with_field_comments_fix_resubmit_diff_and_approve(self):
        school, form = S_LOOP, "staff"
        county = county_of(school)
        reviewer = "rev-" + county
        self.assertIsNone(submission(school, form), "the demo started %s/%s" % (school, form))
        rev = self.client(reviewer)
        self.read_all(rev)
        s = self.client(school)
        self.read_all(s)

        # the school submits
        values = demo_values(school, form)
        self.school_posts(s, school, form, values)
        sub = submission(school, form)
        self.assertEqual(state_of(sub), "submitted")
        v1 = sub["version"]

        # the reviewer is told, finds it in the overview and opens it
        r = rev.open("/")
        self.assertEqual(badge(r.text), 1, "the reviewer's badge after the submission")
        mine = [x for x in notice_items(rev.open("/notices").text)
                if x[2] == review_url(school, form)]
        self.assertEqual(len(mine), 1, "no notice of the submission on /notices")
        self.assertEqual(mine[0][:2], ("submitted", True))
        self.assertIn(name_of(school), mine[0][3])
        self.assertIn(form_name(form), mine[0][3])
        row = [x for x in parse_overview(rev.open("/review").text) if x["code"] == school]
        self.assertEqual(len(row), 1)
        cell = row[0]["cells"][FORMS.index(form)]
        self.assertEqual((cell["state"], cell["url"]), ("submitted", review_url(school, form)))
        r, f = self.review_page(rev, school, form)
        self.assertIn("已上报", r.text)
        self.assertEqual(f.value("version"), str(v1))
        self.assertIn("c.staff_total", f.names())
        self.assertIn("c.pri_t_certified", f.names())
        self.assertEqual({b[1] for b in f.buttons()}, {"approve", "return"})

        # returned with a reason and two field comments (one plain field, one grid cell)
        reason = "教职工总数与人事台账不一致，请核对后重新上报。"
        comments = {"staff_total": "请按编制内外合计填写教职工总数。",
                    "pri_t_certified": "请核对持证人数，以资格证书为准。"}
        mark = STACK.audit_mark()
        t0 = time.time()
        r = self.decide(rev, f, "return", reason, comments)
        t1 = time.time()
        self.assertDecided(r, school, form, "returned")
        self.assertIn("已退回", msg_of(rev.open(r.location).text, "ok") or "")
        sub = submission(school, form)
        self.assertEqual((state_of(sub), sub["version"]), ("returned", v1))
        self.assertEqual(reviews(sub["id"]), [(v1, "return", 1, reason, reviewer)])
        self.assertEqual(review_comments(sub["id"]), comments)
        self.assertAudited(mark, reviewer, "return", sub["id"], v1, "returned", reason, (t0, t1))
        self.read_all(rev)

        # the school is told and sees the reason at the top, each comment beside its field
        r = s.open("/")
        self.assertEqual(badge(r.text), 1, "the school's badge after the return")
        items = notice_items(s.open("/notices").text)
        self.assertEqual(len(items), 1, items)
        self.assertEqual(items[0][:3], ("returned", True, entry_url(school, form)))
        self.assertIn(reason, items[0][3])
        r, ef = self.entry_form(s, school, form)
        self.assertIn('data-editable="1"', r.text)
        box = re.search(r'<div class="msg warn returned"[^>]*>(.*?)</div>', r.text, re.S)
        self.assertTrue(box, "no returned box at the top of the form")
        words = html.unescape(re.sub(r"<[^>]*>", "", box.group(1)))
        self.assertIn("本表已被退回", words)
        self.assertIn("原因：" + reason, words)
        self.assertIn("另有 2 条逐项意见", words)
        self.assertLess(r.text.index("msg warn returned"), r.text.index('id="entry-form"'),
                        "the reason is not at the top")
        # a plain field: the remark in the field's own block
        blocks = [b.split("</fieldset>")[0] for b in r.text.split('<div class="field')]
        block = [b for b in blocks if 'id="f-staff_total"' in b]
        self.assertEqual(len(block), 1, "no field block of staff_total")
        self.assertIn('<p class="remark">审核意见：%s</p>' % comments["staff_total"], block[0])
        # a grid cell: the remark in the line under the item's row
        i = r.text.index('id="f-pri_t_certified"')
        j = r.text.index("</tr>", i) + len("</tr>")
        m = re.match(r'\s*<tr class="row-issues"><td colspan="\d+">(.*?)</td></tr>', r.text[j:],
                     re.S)
        self.assertTrue(m, "no line under the row of pri_t_certified")
        self.assertIn('<p class="remark">审核意见（小学）：%s</p>' % comments["pri_t_certified"],
                      m.group(1))
        self.assertEqual(r.text.count('class="remark"'), 2, "remarks elsewhere too")

        # the school fixes one value and submits again
        fixed = str(int(values["staff_total"]) + 2)
        self.school_posts(s, school, form, {"staff_total": fixed})
        sub = submission(school, form)
        self.assertEqual(state_of(sub), "submitted")
        self.assertGreater(sub["version"], v1)
        v2 = sub["version"]

        # the reviewer is told of the resubmission and sees what changed
        r = rev.open("/")
        self.assertEqual(badge(r.text), 1, "the reviewer's badge after the resubmission")
        kinds = [x[0] for x in notice_items(rev.open("/notices").text)
                 if x[2] == review_url(school, form) and x[1]]
        self.assertEqual(kinds, ["resubmitted"])
        r, f = self.review_page(rev, school, form)
        self.assertEqual(f.value("version"), str(v2))
        note = msg_of(r.text, "warn") or ""
        self.assertIn("本表曾被退回", note)
        self.assertIn(reason, note)
        self.assertIn("学校此后修改了 1 项", note)
        rows = review_rows(r.text)
        self.assertEqual([k for k, x in rows.items() if x["changed"]], ["staff_total"],
                         "the rows marked changed")
        self.assertEqual((rows["staff_total"]["value"], rows["staff_total"]["old"]),
                         (fixed, values["staff_total"]))
        self.assertIn('<tr id="r-staff_total" class="changed">', r.text)

        # approved
        mark = STACK.audit_mark()
        t0 = time.time()
        r = self.decide(rev, f, "approve")
        t1 = time.time()
        self.assertDecided(r, school, form, "approved")
        sub = submission(school, form)
        self.assertEqual((state_of(sub), sub["version"]), ("approved", v2))
        self.assertTrue(t0 - 1 <= sub["approved_at"] <= t1 + 1, "approved_at")
        self.assertEqual(reviews(sub["id"])[-1], (v2, "approve", 1, "", reviewer))
        self.assertAudited(mark, reviewer, "approve", sub["id"], v2, "approved", None, (t0, t1))
        box = outbox(sub["id"])
        self.assertEqual(len(box), 1, "outbox rows after the approval")
        self.assertEqual((box[0]["version"], box[0]["state"]), (v2, "pending"))
        p = self.assertPayload(box[0], school, form)
        self.assertIn({"dataElement": "staff_total", "value": fixed},
                      [{k: v[k] for k in ("dataElement", "value")} for v in p["dataValues"]])

        # the school is told; the form is read-only without the returned box
        r = s.open("/")
        self.assertEqual(badge(r.text), 2, "the school's badge after the approval")
        kinds = [x[0] for x in notice_items(s.open("/notices").text) if x[1]]
        self.assertEqual(kinds, ["approved", "returned"])
        r = s.open(entry_url(school, form))
        self.assertNotIn('data-editable="1"', r.text)
        self.assertNotIn("msg warn returned", r.text)
        self.assertIn('<span class="state state-approved">已审核</span>', r.text)


# ---- 2. notices ----

class NoticeTest(Base):
    def test_notices_tell_the_county_of_a_submission_and_the_school_of_decisions(self):
        school, form = S_NOTICE, "basic"
        county = county_of(school)
        self.assertIsNone(submission(school, form))
        # a second reviewer of the county: notices are read per user
        second = "rev2-" + county
        STACK.admin("user", "add", second, "reviewer", county, "--password-stdin",
                    "--no-force-change", stdin=(PASSWORD + "\n").encode())
        rev = self.client("rev-" + county)
        rev2 = self.client(second)
        other = self.client("rev-990102")
        s = self.client(school)
        for c in (rev, rev2, other, s):
            self.read_all(c)
        self.school_posts(s, school, form, demo_values(school, form))
        self.assertEqual(badge(rev.open("/").text), 1)
        self.assertEqual(badge(rev2.open("/").text), 1)
        self.assertEqual(badge(other.open("/").text), 0, "another county was told")
        self.assertEqual(badge(s.open("/").text), 0, "the school was told of its own submission")
        items = notice_items(rev.open("/notices").text)
        self.assertEqual(items[0][:3], ("submitted", True, review_url(school, form)))
        self.assertEqual(items[0][3], "%s 上报了《%s》（%s学年）" % (name_of(school), form_name(form),
                                                                PERIOD))
        self.read_all(rev)
        self.assertEqual(badge(rev2.open("/").text), 1, "one reviewer's reading cleared another's")
        # the return: the school is told, with the reason
        _, f = self.review_page(rev, school, form)
        reason = "联系电话请填写学校值班电话。"
        self.assertDecided(self.decide(rev, f, "return", reason, {"contact_phone": "区号-号码"}),
                           school, form, "returned")
        r = s.open("/")
        self.assertEqual(badge(r.text), 1)
        items = notice_items(s.open("/notices").text)
        self.assertEqual(items[0][:3], ("returned", True, entry_url(school, form)))
        self.assertIn(reason, items[0][3])
        self.assertIn(form_name(form), items[0][3])
        self.assertEqual(badge(rev.open("/").text), 0, "the reviewer was told of its own return")
        # resubmitted and approved: the county hears of it, then the school
        self.read_all(s)
        self.school_posts(s, school, form, {"contact_phone": "0531-88886666"})
        items = [x for x in notice_items(rev.open("/notices").text) if x[1]]
        self.assertEqual([x[0] for x in items], ["resubmitted"])
        self.assertIn("修改后重新上报", items[0][3])
        _, f = self.review_page(rev, school, form)
        self.assertDecided(self.decide(rev, f, "approve"), school, form, "approved")
        self.assertEqual(badge(s.open("/").text), 1)
        items = notice_items(s.open("/notices").text)
        self.assertEqual(items[0][:3], ("approved", True, entry_url(school, form)))
        self.assertIn("已审核通过", items[0][3])
        self.read_all(s)
        self.assertEqual(badge(s.open("/").text), 0)
        sub = submission(school, form)
        self.assertEqual(notices_of(school, sub["id"])[-1][0], "approved")


# ---- 3. bulk approval ----

class BulkTest(Base):
    def test_bulk_approve_approves_the_clean_and_lists_the_flawed_unchanged(self):
        county = "990102"
        rev = self.client("rev-" + county)
        clean = [(S_BULK_CLEAN, f) for f in FORMS]
        for school, form in clean:
            sub = submission(school, form)
            self.assertEqual((state_of(sub), sub["errors"], sub["unexplained"]),
                             ("submitted", 0, 0), "%s/%s as the demo left it" % (school, form))
        # a flawed one, as it happens: facilities submitted, then the students draft raises the
        # classes so that facilities' cross-form rule on music and art rooms warns, unexplained
        s = self.client(S_BULK_WARN)
        self.assertIsNone(submission(S_BULK_WARN, "facilities"))
        fac = demo_values(S_BULK_WARN, "facilities")
        self.school_posts(s, S_BULK_WARN, "facilities", fac)
        self.assertEqual(submission(S_BULK_WARN, "facilities")["unexplained"], 0)
        rooms = max(int(fac["music_rooms"]), int(fac["art_rooms"]))
        stu = demo_values(S_BULK_WARN, "students")
        stu["jun_classes"] = str(12 * rooms + 13)
        self.school_posts(s, S_BULK_WARN, "students", stu, action="save", expect="saved")
        warn = submission(S_BULK_WARN, "facilities")
        self.assertEqual(state_of(warn), "submitted")
        self.assertGreater(warn["unexplained"], 0, "the cross-form warning was not counted")
        # another flawed one: an error counted after the submission (as a stricter rule
        # loaded after it would leave it)
        STACK.execute("UPDATE submission SET errors = 1 WHERE id = ?",
                      (submission(S_BULK_ERROR, "basic")["id"],))
        # the overview: boxes for the clean ones, disabled ones for the flawed; each box is
        # labelled with its school and form
        page = rev.open("/review").text
        labels = re.findall(r'<input type="checkbox" name="s" value="[^"]*" aria-label="([^"]*)"',
                            page)
        self.assertTrue(labels, "no boxes")
        self.assertEqual(len(labels), len(set(labels)), "two boxes with the same label")
        self.assertIn("选择 %s %s" % (name_of(S_BULK_CLEAN), form_name("staff")),
                      [html.unescape(x) for x in labels])
        rows = {x["code"]: x for x in parse_overview(page)}
        for school, form in clean:
            cell = rows[school]["cells"][FORMS.index(form)]
            self.assertEqual((cell["box"], cell["disabled"]),
                             ("%s:%s:%d" % (school, form, submission(school, form)["version"]),
                              False), "%s/%s" % (school, form))
        for school, form in ((S_BULK_WARN, "facilities"), (S_BULK_ERROR, "basic")):
            cell = rows[school]["cells"][FORMS.index(form)]
            self.assertTrue(cell["box"] and cell["disabled"],
                            "%s/%s: not a disabled box: %r" % (school, form, cell))
        self.assertIsNone(rows[S_DRAFT]["cells"][0]["box"], "a box on a draft")
        # the post also carries what a browser would not send: the flawed ones, a draft, a
        # stale version, another county's form
        stale = submission(S_REFUSE, "basic")
        picks = ["%s:%s:%d" % (sc, f, submission(sc, f)["version"]) for sc, f in clean] + [
            "%s:facilities:%d" % (S_BULK_WARN, warn["version"]),
            "%s:basic:%d" % (S_BULK_ERROR, submission(S_BULK_ERROR, "basic")["version"]),
            "%s:basic:%d" % (S_DRAFT, submission(S_DRAFT, "basic")["version"]),
            "%s:basic:%d" % (S_REFUSE, stale["version"] + 5),
            "%s:basic:%d" % (S_OTHER, submission(S_OTHER, "basic")["version"]),
        ]
        untouched = [(S_BULK_WARN, "facilities"), (S_BULK_ERROR, "basic"), (S_DRAFT, "basic"),
                     (S_REFUSE, "basic"), (S_OTHER, "basic")]
        before = {k: snapshot(*k) for k in untouched}
        bulk = rev.open("/review").page.form("bulk")
        self.assertIsNotNone(bulk)
        mark = STACK.audit_mark()
        t0 = time.time()
        r = rev.post("/review/approve", [("csrf", bulk.value("csrf")), ("period", PERIOD)] +
                     [("s", x) for x in picks])
        t1 = time.time()
        self.assertEqual(r.status, 200, repr(r))
        self.assertIn("已审核通过 4 份", r.text)
        self.assertIn("未处理 5 份", r.text)
        done = re.search(r"<h2>已审核通过 \d+ 份</h2>\s*<ul>(.*?)</ul>", r.text, re.S).group(1)
        skipped = re.search(r"<h2>未处理 \d+ 份</h2>\s*<ul>(.*?)</ul>", r.text, re.S).group(1)
        skipped = html.unescape(skipped)
        for school, form in clean:
            self.assertIn("（%s）《%s》" % (school, form_name(form)), html.unescape(done))
        for school, form, why in (
                (S_BULK_WARN, "facilities", "个警告没有说明"),
                (S_BULK_ERROR, "basic", "有 1 个错误"),
                (S_DRAFT, "basic", "还没有上报"),
                (S_REFUSE, "basic", "刚刚被修改或处理过"),
                (S_OTHER, "basic", "没有找到该报表")):
            with self.subTest(school=school, form=form):
                line = [ln for ln in re.findall(r"<li>(.*?)</li>", skipped, re.S)
                        if "（%s）" % school in ln and form_name(form) in ln]
                self.assertEqual(len(line), 1, "not listed as skipped: %s" % skipped)
                self.assertIn(why, line[0])
        page = r.text
        for school, form in clean:
            sub = submission(school, form)
            self.assertEqual(state_of(sub), "approved", "%s/%s" % (school, form))
            self.assertEqual(len(outbox(sub["id"])), 1)
            self.assertAudited(mark, "rev-" + county, "approve", sub["id"], sub["version"],
                               "approved", None, (t0, t1))
        for k in untouched:
            self.assertEqual(snapshot(*k), before[k], "%s/%s changed" % k)
        self.assertEqual(len(decisions_since(mark)), 4, decisions_since(mark))
        # nothing chosen
        r = rev.post("/review/approve", {"csrf": bulk.value("csrf"), "period": PERIOD})
        self.assertEqual(r.status, 200)
        self.assertIn("没有选择任何报表", r.text)
        # another county's school: refused like a 404, without telling its name
        self.assertNotIn(name_of(S_OTHER), page, "the bulk page names another county's school")


# ---- 4. two-level approval ----

class TwoLevelTest(Base):
    def test_two_level_approval_county_then_city(self):
        school = S_TWO_LEVEL
        county = county_of(school)
        crev = "rev-" + county
        for form in FORMS:
            self.assertEqual(state_of(submission(school, form)), "submitted", form)
        self.set_levels(2)
        try:
            self.two_levels(school, county, crev)
        finally:
            self.set_levels(1)
        # back to one level: the county's approval is final again
        rev = self.client(crev)
        _, f = self.review_page(rev, school, "facilities")
        self.assertIn("审核通过", [b[2] for b in f.buttons()])
        self.assertDecided(self.decide(rev, f, "approve"), school, "facilities", "approved")
        self.assertEqual(len(outbox(submission(school, "facilities")["id"])), 1)

    def two_levels(self, school, county, crev):
        rev = self.client(crev)
        city = self.client(CITY_REVIEWER)
        s = self.client(school)
        for c in (city, s):
            self.read_all(c)
        # the county approves: 区县已审核, no outbox row, the city is told
        r, f = self.review_page(rev, school, "basic")
        self.assertIn(("approve", "区县审核通过（报市级审核）"), [b[1:3] for b in f.buttons()])
        sub = submission(school, "basic")
        mark = STACK.audit_mark()
        t0 = time.time()
        r = self.decide(rev, f, "approve")
        t1 = time.time()
        self.assertDecided(r, school, "basic", "county_approved")
        self.assertIn("区县审核通过，已报市级审核", msg_of(rev.open(r.location).text, "ok") or "")
        after = submission(school, "basic")
        self.assertEqual((after["state"], after["reviewed"], after["version"]),
                         ("submitted", 1, sub["version"]))
        self.assertIsNone(after["approved_at"])
        self.assertEqual(outbox(sub["id"]), [], "an outbox row before the city approved")
        self.assertEqual(reviews(sub["id"])[-1], (sub["version"], "approve", 1, "", crev))
        self.assertAudited(mark, crev, "approve", sub["id"], sub["version"], "county_approved",
                           None, (t0, t1))
        self.assertEqual([k for k, _ in notices_of("990100", sub["id"])], ["county_approved"])
        self.assertEqual([k for k, _ in notices_of(school, sub["id"])], [], "the school was told")
        # the county cannot approve again, nor return what it approved
        before = snapshot(school, "basic")
        r, f = self.review_page(rev, school, "basic")
        self.assertIn('<span class="state state-county_approved">区县已审核</span>', r.text)
        self.assertEqual(f.buttons(), [], "the county still has buttons")
        self.assertRefused(self.decide(rev, f, "approve"), 409, ("等待市级审核", "角色"),
                           "county again")
        self.assertRefused(self.decide(rev, f, "return", "再看看"), 409, "角色", "county return")
        self.assertEqual(snapshot(school, "basic"), before)
        # the city reviewer is told and sees it with a box in the overview
        r = city.open("/")
        self.assertGreaterEqual(badge(r.text), 1)
        items = [x for x in notice_items(city.open("/notices").text)
                 if x[2] == review_url(school, "basic")]
        self.assertEqual([x[:2] for x in items], [("county_approved", True)])
        self.assertIn("等待市级审核", items[0][3])
        r = city.open("/review")
        counts = parse_counts(r.text)
        self.assertIn("county_approved", counts[form_name("basic")])
        row = [x for x in parse_overview(r.text) if x["code"] == school][0]
        self.assertEqual(row["county"], UNITS[county]["name"] if county in UNITS else None)
        cell = row["cells"][0]
        self.assertEqual((cell["state"], cell["box"], cell["disabled"]),
                         ("county_approved", "%s:basic:%d" % (school, sub["version"]), False))
        # the city cannot approve what the county has not approved yet
        before = snapshot(school, "students")
        r, f = self.review_page(city, school, "students")
        self.assertNotIn("approve", [b[1] for b in f.buttons()])
        self.assertRefused(self.decide(city, f, "approve"), 409, "角色", "city before county")
        self.assertEqual(snapshot(school, "students"), before)
        # the city approves: final, one outbox row, a level-2 review, the school is told
        r, f = self.review_page(city, school, "basic")
        self.assertIn(("approve", "审核通过"), [b[1:3] for b in f.buttons()])
        mark = STACK.audit_mark()
        t0 = time.time()
        r = self.decide(city, f, "approve")
        t1 = time.time()
        self.assertDecided(r, school, "basic", "approved")
        after = submission(school, "basic")
        self.assertEqual((after["state"], after["reviewed"]), ("approved", 0))
        self.assertEqual(reviews(sub["id"])[-1], (sub["version"], "approve", 2, "", CITY_REVIEWER))
        self.assertAudited(mark, CITY_REVIEWER, "approve", sub["id"], sub["version"], "approved",
                           None, (t0, t1))
        box = outbox(sub["id"])
        self.assertEqual(len(box), 1)
        self.assertEqual((box[0]["version"], box[0]["state"]), (sub["version"], "pending"))
        self.assertPayload(box[0], school, "basic")
        self.assertEqual([k for k, _ in notices_of(school, sub["id"])], ["approved"])
        # students: the county approves, the city returns with a reason
        _, f = self.review_page(rev, school, "students")
        self.assertDecided(self.decide(rev, f, "approve"), school, "students", "county_approved")
        _, f = self.review_page(city, school, "students")
        reason = "市级抽查：在校生数与学籍系统不一致。"
        sid = submission(school, "students")["id"]
        mark = STACK.audit_mark()
        self.assertDecided(self.decide(city, f, "return", reason, {"jun_students": "请核对"}),
                           school, "students", "returned")
        self.assertEqual(state_of(submission(school, "students")), "returned")
        self.assertEqual(reviews(sid)[-1][1:], ("return", 2, reason, CITY_REVIEWER))
        self.assertAudited(mark, CITY_REVIEWER, "return", sid,
                           submission(school, "students")["version"], "returned", reason)
        self.assertEqual(outbox(sid), [])
        self.assertEqual(notices_of(school, sid)[-1][0], "returned")
        self.assertIn(reason, notices_of(school, sid)[-1][1])
        # staff: the county approves, the city approves in bulk
        _, f = self.review_page(rev, school, "staff")
        self.assertDecided(self.decide(rev, f, "approve"), school, "staff", "county_approved")
        staff = submission(school, "staff")
        bulk = city.open("/review").page.form("bulk")
        r = city.post("/review/approve", {"csrf": bulk.value("csrf"), "period": PERIOD,
                                          "s": "%s:staff:%d" % (school, staff["version"])})
        self.assertEqual(r.status, 200)
        self.assertIn("已审核通过 1 份", r.text)
        self.assertEqual(state_of(submission(school, "staff")), "approved")
        self.assertEqual(len(outbox(staff["id"])), 1)
        self.assertEqual(reviews(staff["id"])[-1][1:3], ("approve", 2))


# ---- 5. scope ----

class ScopeTest(Base):
    def test_reviewer_of_another_county_gets_404_and_changes_nothing(self):
        school = S_OTHER
        self.assertNotEqual(county_of(school), "990102")
        before = {f: snapshot(school, f) for f in FORMS}
        rev = self.client("rev-990102")
        csrf = rev.csrf("/review")
        mark = STACK.audit_mark()
        for form in ("basic", "students"):
            with self.subTest(form=form):
                for path in (review_url(school, form), entry_url(school, form),
                             entry_url(school, form) + "/history/pri_students"):
                    r = rev.get(path)
                    self.assertEqual(r.status, 404, "GET %s: %r" % (path, r))
                    self.assertNotIn(name_of(school), r.text)
                for action, reason in (("approve", ""), ("return", "看看"), ("reopen", "看看")):
                    r = rev.post(review_url(school, form)[:-len("/review")] + "/decide",
                                 {"csrf": csrf, "version": str(before[form][0]["version"]),
                                  "action": action, "reason": reason})
                    self.assertEqual(r.status, 404, "POST %s: %r" % (action, r))
                    self.assertNotIn(name_of(school), r.text)
        # not in the overview nor in the export
        self.assertNotIn(school, rev.open("/review").text)
        r = rev.open("/export/%s/basic/csv" % PERIOD)
        self.assertNotIn(school, r.text)
        for f in FORMS:
            self.assertEqual(snapshot(school, f), before[f], f)
        self.assertEqual(decisions_since(mark), [])
        # and the school itself cannot decide on its own form
        s = self.client(school)
        r = s.post(entry_url(school, "basic") + "/decide",
                   {"csrf": s.csrf(), "version": str(before["basic"][0]["version"]),
                    "action": "approve"})
        self.assertEqual(r.status, 404, "a school's decision: %r" % r)
        self.assertEqual(s.get(review_url(school, "basic")).status, 404)
        self.assertEqual(s.get("/review").status, 404)
        self.assertEqual(snapshot(school, "basic"), before["basic"])


# ---- 6. refused decisions ----

class RefusalTest(Base):
    def test_approving_a_draft_is_refused_and_changes_nothing(self):
        rev = self.client("rev-990102")
        self.assertEqual(state_of(submission(S_DRAFT, "basic")), "draft")
        before = snapshot(S_DRAFT, "basic")
        mark = STACK.audit_mark()
        r, f = self.review_page(rev, S_DRAFT, "basic")
        self.assertEqual(f.buttons(), [], "buttons on a draft's review page")
        self.assertRefused(self.decide(rev, f, "approve"), 409, "还没有上报", "approving a draft")
        self.assertRefused(self.decide(rev, f, "return", "请补充。"), 409, "只有已上报的报表",
                           "returning a draft")
        self.assertEqual(snapshot(S_DRAFT, "basic"), before)
        # a form never started: refused, and no submission appears
        self.assertIsNone(submission(S_NOT_STARTED, "basic"))
        r = rev.open(review_url(S_NOT_STARTED, "basic"))
        self.assertIn("学校还没有填写本表", msg_of(r.text, "info") or "")
        r = rev.post(entry_url(S_NOT_STARTED, "basic") + "/decide",
                     {"csrf": f.value("csrf"), "version": "0", "action": "approve"})
        self.assertRefused(r, 409, "还没有填写", "approving a form not started")
        self.assertIsNone(submission(S_NOT_STARTED, "basic"))
        self.assertEqual(decisions_since(mark), [])

    def test_returning_without_a_reason_is_refused_and_keeps_the_comments(self):
        school, form = S_REFUSE, "facilities"
        rev = self.client("rev-" + county_of(school))
        self.assertEqual(state_of(submission(school, form)), "submitted")
        before = snapshot(school, form)
        mark = STACK.audit_mark()
        r, f = self.review_page(rev, school, form)
        for reason in ("", "  \n  ", "\u3000\u3000"):
            with self.subTest(reason=reason):
                r = self.decide(rev, f, "return", reason, {"land_area": "请核对占地面积。"})
                self.assertRefused(r, 422, "请填写退回原因", "a return without a reason")
                kept = r.page.form("decide")
                self.assertEqual(kept.value("c.land_area"), "请核对占地面积。",
                                 "the typed comment is lost")
        # too long, or a comment on a field the form does not have: refused too
        r = self.decide(rev, f, "return", "长" * 501)
        self.assertIn(r.status, (409, 422), repr(r))
        self.assertIn("500", msg_of(r.text, "error") or "")
        r = self.decide(rev, f, "return", "请核对。", {"pri_students": "别的表"})
        self.assertIn(r.status, (409, 422), repr(r))
        self.assertIn("填报项", msg_of(r.text, "error") or "")
        self.assertEqual(snapshot(school, form), before)
        self.assertEqual(decisions_since(mark), [])

    def test_double_click_on_approve_is_refused_the_second_time(self):
        school, form = S_REFUSE, "students"
        rev = self.client("rev-" + county_of(school))
        sub = submission(school, form)
        self.assertEqual(state_of(sub), "submitted")
        _, f = self.review_page(rev, school, form)
        body = f.fill({}, ("action", "approve"))
        mark = STACK.audit_mark()
        r1 = rev.post(f.action, body)
        self.assertDecided(r1, school, form, "approved")
        after = snapshot(school, form)
        r2 = rev.post(f.action, body)
        self.assertRefused(r2, 409, "已审核通过，无需重复审核", "the second click")
        self.assertEqual(snapshot(school, form), after)
        self.assertEqual(len(outbox(sub["id"])), 1)
        self.assertEqual([x[1] for x in reviews(sub["id"])].count("approve"), 1)
        self.assertEqual([x[2] for x in decisions_since(mark)], ["submission.approve"])

    def test_two_approvals_at_the_same_moment_make_one_decision(self):
        school, form = S_RACE, "students"
        rev = self.client("rev-" + county_of(school))
        sub = submission(school, form)
        self.assertEqual(state_of(sub), "submitted")
        _, f = self.review_page(rev, school, form)
        body = f.fill({}, ("action", "approve"))
        mark = STACK.audit_mark()
        answers = [None] * 4
        go = threading.Barrier(len(answers))

        def click(i):
            go.wait()
            answers[i] = rev.post(f.action, body)

        threads = [threading.Thread(target=click, args=(i,)) for i in range(len(answers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        statuses = sorted(a.status for a in answers)
        self.assertEqual(statuses, [303] + [409] * (len(answers) - 1), statuses)
        self.assertEqual(len(outbox(sub["id"])), 1)
        self.assertEqual([x[2] for x in decisions_since(mark)], ["submission.approve"])
        self.assertEqual([k for k, _ in notices_of(school, sub["id"])], ["approved"])

    def test_approving_a_version_the_school_changed_meanwhile_is_refused(self):
        school, form = S_REFUSE, "staff"
        county = county_of(school)
        rev = self.client("rev-" + county)
        self.assertEqual(state_of(submission(school, form)), "submitted")
        # the reviewer opens the form …
        _, stale = self.review_page(rev, school, form)
        v1 = int(stale.value("version"))
        # … meanwhile the city admin returns it and the school changes and resubmits it
        admin = self.client("admin")
        _, f = self.review_page(admin, school, form)
        self.assertDecided(self.decide(admin, f, "return", "请核对教职工总数。"), school, form,
                           "returned")
        s = self.client(school)
        _, ef = self.entry_form(s, school, form)
        total = int(ef.value("v.staff_total"))
        self.school_posts(s, school, form, {"staff_total": str(total + 1)})
        sub = submission(school, form)
        self.assertEqual(state_of(sub), "submitted")
        self.assertGreater(sub["version"], v1)
        # … then the reviewer approves what was shown: refused, nothing changes
        before = snapshot(school, form)
        mark = STACK.audit_mark()
        r = self.decide(rev, stale, "approve")
        self.assertRefused(r, 409, "刚刚被修改或处理过", "approving a stale version")
        self.assertEqual(r.page.form("decide").value("version"), str(sub["version"]),
                         "the refusal does not show the new version")
        self.assertEqual(snapshot(school, form), before)
        self.assertEqual(decisions_since(mark), [])
        self.assertEqual(outbox(sub["id"]), [])
        # the version shown now can be approved
        self.assertDecided(self.decide(rev, r.page.form("decide"), "approve"), school, form,
                           "approved")


    def test_approving_without_the_version_seen_is_refused(self):
        # What a browser never sends, but a script or a hand-made request might: no version,
        # an empty one, one no stored row can have.  The decision must still be on the
        # version seen — each case on a submitted form of its own, so that one wrong
        # approval does not hide the next case.
        a, b = S_NO_VERSION, S_NO_VERSION_2
        s = self.client(b)
        for form in ("basic", "students"):
            self.assertIsNone(submission(b, form))
            self.school_posts(s, b, form, demo_values(b, form))
        rev = self.client("rev-" + county_of(a))
        cases = (("no version", a, "staff", None), ("version -1", a, "facilities", "-1"),
                 ("an empty version", b, "basic", ""), ("version abc", b, "students", "abc"))
        mark = STACK.audit_mark()
        for what, school, form, version in cases:
            with self.subTest(what=what, school=school, form=form):
                self.assertEqual(state_of(submission(school, form)), "submitted")
                _, f = self.review_page(rev, school, form)
                body = f.fill({"version": version}, ("action", "approve"))
                if version is None:
                    body = [(n, v) for n, v in body if n != "version"]
                before = snapshot(school, form)
                r = rev.post(f.action, body)
                self.assertIn(r.status, (400, 409, 422), "%s: %r" % (what, r))
                self.assertEqual(snapshot(school, form), before, "%s changed the form" % what)
        # the bulk form's "school:form:version" likewise (b's students, refused above)
        bulk = rev.open("/review").page.form("bulk")
        before = snapshot(b, "students")
        self.assertEqual(state_of(before[0]), "submitted")
        r = rev.post("/review/approve", [("csrf", bulk.value("csrf")), ("period", PERIOD),
                                         ("s", "%s:students:-1" % b), ("s", "%s:students:" % b)])
        self.assertEqual(r.status, 200)
        self.assertIn("已审核通过 0 份", r.text)
        self.assertEqual(snapshot(b, "students"), before, "the bulk form skipped the version check")
        self.assertEqual(decisions_since(mark), [])


# ---- 7. the outbox and reopening ----

class OutboxTest(Base):
    def test_approval_writes_one_outbox_row_and_a_reapproval_after_reopen_a_second(self):
        school, form = S_OUTBOX, "basic"
        county = county_of(school)
        rev = self.client("rev-" + county)
        sub = submission(school, form)
        self.assertEqual(state_of(sub), "submitted")
        self.assertEqual(outbox(sub["id"]), [])
        _, f = self.review_page(rev, school, form)
        self.assertDecided(self.decide(rev, f, "approve"), school, form, "approved")
        box = outbox(sub["id"])
        self.assertEqual(len(box), 1, "outbox rows after one approval")
        first = box[0]
        self.assertEqual((first["version"], first["state"], first["attempts"]),
                         (sub["version"], "pending", 0))
        self.assertEqual(first["idem_key"], "%s-%s-%s-v%d" % (school, PERIOD, form, sub["version"]))
        self.assertIsNone(first["delivered_at"])
        self.assertLessEqual(first["next_attempt_at"], time.time() + 1)
        self.assertPayload(first, school, form)
        # a city reviewer cannot reopen
        city = self.client(CITY_REVIEWER)
        before = snapshot(school, form)
        mark = STACK.audit_mark()
        r, f = self.review_page(city, school, form)
        self.assertNotIn("reopen", [b[1] for b in f.buttons()], "a reopen button for the city")
        self.assertRefused(self.decide(city, f, "reopen", "市里要改"), 409, "角色",
                           "the city's reopen")
        # the county reviewer cannot reopen without a reason
        r, f = self.review_page(rev, school, form)
        self.assertIn("reopen", [b[1] for b in f.buttons()])
        r = self.decide(rev, f, "reopen", "")
        err = self.assertRefused(r, 422, "重新打开的原因", "a reopen without reason")
        self.assertNotIn("退回", err, "a reopen is not a return")
        # the delivery line does not borrow the page's error as the platform's
        line = re.search(r'<p class="delivery">(.*?)</p>', r.text, re.S)
        self.assertIsNotNone(line, "no delivery line on an approved form's page")
        self.assertNotIn("最近一次", line.group(1))
        self.assertEqual(snapshot(school, form), before)
        self.assertEqual(decisions_since(mark), [])
        # reopened with a reason: returned, a new version, the school told
        reason = "宽带接入带宽填写有误，请更正。"
        t0 = time.time()
        r = self.decide(rev, f, "reopen", reason, {"broadband_mbps": "单位是Mbps"})
        self.assertDecided(r, school, form, "reopened")
        self.assertIn("已重新打开", msg_of(rev.open(r.location).text, "ok") or "")
        t1 = time.time()
        after = submission(school, form)
        self.assertEqual(state_of(after), "returned")
        self.assertEqual(after["version"], sub["version"] + 1)
        self.assertAudited(mark, "rev-" + county, "reopen", sub["id"], after["version"],
                           "returned", reason, (t0, t1))
        self.assertEqual(reviews(sub["id"])[-1][1:], ("reopen", 1, reason, "rev-" + county))
        self.assertEqual(notices_of(school, sub["id"])[-1][0], "reopened")
        self.assertEqual(len(outbox(sub["id"])), 1)
        # the school corrects and resubmits; approved again: a second row, a higher version
        s = self.client(school)
        r, ef = self.entry_form(s, school, form)
        self.assertIn("本表已被重新打开", r.text)
        self.assertIn(reason, r.text)
        mbps = str(int(ef.value("v.broadband_mbps")) + 1)
        self.school_posts(s, school, form, {"broadband_mbps": mbps})
        _, f = self.review_page(rev, school, form)
        self.assertDecided(self.decide(rev, f, "approve"), school, form, "approved")
        box = outbox(sub["id"])
        self.assertEqual(len(box), 2, "outbox rows after the second approval")
        # the first, never delivered, is superseded in the approval's transaction: it can never
        # reach the platform after the newer version
        self.assertEqual(first["state"], "pending")
        self.assertEqual(box[0], dict(first, state="superseded"), "the first row changed")
        final = submission(school, form)
        self.assertGreater(box[1]["version"], first["version"])
        self.assertEqual((box[1]["version"], box[1]["state"]), (final["version"], "pending"))
        self.assertNotEqual(box[1]["idem_key"], first["idem_key"])
        p = self.assertPayload(box[1], school, form)
        self.assertIn(("broadband_mbps", mbps),
                      [(v["dataElement"], v["value"]) for v in p["dataValues"]])


# ---- 8. the overview ----

class OverviewTest(Base):
    def expected_counts(self, county):
        out = {}
        states = states_in(county)
        for k, form in enumerate(FORMS):
            col = [st[form] for st in states.values()]
            n = {s: col.count(s) for s in STATE_NAMES}
            out[form_name(form)] = {
                "reported": n["submitted"] + n["county_approved"] + n["approved"],
                "total": len(col), "approved": n["approved"], "approved_total": len(col),
                "waiting": n["submitted"], "returned": n["returned"], "draft": n["draft"],
                "none": n["none"]}
        return out

    def test_overview_counts_per_form_match_the_database(self):
        for login, county in (("rev-990102", "990102"), ("rev-990121", "990121"),
                              ("rev-990122", "990122"), ("admin", None)):
            with self.subTest(login=login):
                c = self.client(login)
                r = c.open("/review")
                got = parse_counts(r.text)
                want = self.expected_counts(county)
                if county is None:
                    states = states_in(None)
                    for form in FORMS:
                        want[form_name(form)]["county_approved"] = sum(
                            1 for st in states.values() if st[form] == "county_approved")
                self.assertEqual(got, want)
                n = len(schools_in(county)) if county else len(states_in(None))
                self.assertIn("共 %d 所学校（含教学点）" % n, r.text)
                rows = parse_overview(r.text)
                self.assertEqual(len(rows), n)
                states = states_in(county)
                for row in rows:
                    self.assertEqual([x["state"] for x in row["cells"]],
                                     [states[row["code"]][f] for f in FORMS], row["code"])
                    self.assertEqual(row["type"], TYPE_NAMES[UNITS[row["code"]]["school_type"]])
                    self.assertEqual(row["ur"], ur_group(UNITS[row["code"]]["urban_rural"]))

    def test_overview_filters_by_state_type_and_urban_rural(self):
        county = "990121"
        c = self.client("rev-" + county)
        states = states_in(county)
        everyone = schools_in(county)

        def listed(query):
            r = c.open("/review?period=%s&%s" % (PERIOD, query))
            codes = [x["code"] for x in parse_overview(r.text)]
            return r, codes

        cases = {
            "state=submitted": [s for s in everyone if "submitted" in states[s].values()],
            "state=draft": [s for s in everyone if "draft" in states[s].values()],
            "state=approved&form=basic": [s for s in everyone if states[s]["basic"] == "approved"],
            "state=none&form=staff": [s for s in everyone if states[s]["staff"] == "none"],
            "type=211": [s for s in everyone if UNITS[s]["school_type"] == "211"],
            "ur=" + quote("乡村"): [s for s in everyone if ur_group(UNITS[s]["urban_rural"]) == "乡村"],
            "type=211&ur=" + quote("镇区"): [s for s in everyone if UNITS[s]["school_type"] == "211"
                                            and ur_group(UNITS[s]["urban_rural"]) == "镇区"],
            "type=218": [s for s in everyone if UNITS[s]["school_type"] == "218"],
            "ur=" + quote("城区"): [],
        }
        for query, want in cases.items():
            with self.subTest(query=query):
                self.assertLess(len(want), len(everyone), "the filter would show everyone")
                r, codes = listed(query)
                self.assertEqual(codes, want)
                self.assertIn("显示 %d / %d 所" % (len(want), len(everyone)), r.text)
                if not want:
                    self.assertIn("没有符合条件的学校", r.text)
        # an unknown state is no filter; an unknown period is not found
        self.assertEqual(listed("state=bogus")[1], everyone)
        self.assertEqual(c.get("/review?period=1999").status, 404)
        # the chosen filter is kept selected in the form
        r, _ = listed("type=211&state=submitted")
        f = [x for x in r.page.forms if x.action == "/review" and x.attrs.get("method") == "get"]
        self.assertEqual(len(f), 1, "no filter form")
        sel = dict(f[0].pairs())
        self.assertEqual((sel.get("type"), sel.get("state")), ("211", "submitted"))

    def test_overview_sorts_by_name_and_descending(self):
        county = "990121"
        c = self.client("rev-" + county)
        everyone = schools_in(county)
        by_name = sorted(everyone, key=lambda s: (name_of(s), s))

        def codes(query):
            return [x["code"] for x in parse_overview(c.open("/review?" + query).text)]

        self.assertEqual(codes(""), everyone, "the default order is by code")
        self.assertNotEqual(by_name, everyone)
        self.assertEqual(codes("sort=name"), by_name)
        self.assertEqual(codes("sort=name&dir=desc"), by_name[::-1])
        self.assertEqual(codes("sort=code&dir=desc"), everyone[::-1])
        # the column's link toggles the direction
        r = c.open("/review?sort=name")
        m = re.search(r'<th><a href="([^"]*)">学校名称</a></th>', r.text)
        self.assertTrue(m)
        self.assertEqual(codes(html.unescape(m.group(1)).split("?", 1)[1]), by_name[::-1])
        # sorting keeps the filter
        small = [s for s in by_name if UNITS[s]["school_type"] == "218"]
        self.assertEqual(codes("type=218&sort=name&dir=desc"), small[::-1])

    def test_not_started_schools_stand_out_after_the_deadline(self):
        county = "990122"
        c = self.client("rev-" + county)
        closes = period_closes()
        rows = parse_overview(c.open("/review").text)
        for row in rows:
            self.assertEqual(row["overdue"], 0, row["code"])
            started = any(x["state"] != "none" for x in row["cells"])
            self.assertEqual(row["cls"], "" if started else "not-started", row["code"])
        past = int(time.time()) - 2 * 86400 - 3600
        try:
            STACK.execute("UPDATE period SET closes_at = ? WHERE code = ?", (past, PERIOD))
            r = c.open("/review")
            self.assertIn("（已截止）", r.text)
            rows = parse_overview(r.text)
            states = states_in(county)
            late = []
            for row in rows:
                st = states[row["code"]]
                complete = all(st[f] in ("submitted", "county_approved", "approved")
                               for f in FORMS)
                started = any(st[f] != "none" for f in FORMS)
                with self.subTest(school=row["code"]):
                    if complete:
                        self.assertEqual((row["cls"], row["overdue"]), ("", 0))
                    else:
                        late.append(row["code"])
                        self.assertEqual(row["cls"], "late" if started else "late-none")
                        self.assertEqual(row["overdue"], 3)
            self.assertTrue([s for s in late if not any(
                states[s][f] != "none" for f in FORMS)], "no school left not started")
            got = [x["code"] for x in parse_overview(c.open("/review?state=late").text)]
            self.assertEqual(got, late)
            got = [x["code"] for x in parse_overview(c.open("/review?sort=overdue&dir=desc").text)]
            self.assertEqual(set(got[:len(late)]), set(late), "overdue schools not first")
        finally:
            STACK.execute("UPDATE period SET closes_at = ? WHERE code = ?", (closes, PERIOD))
        self.assertNotIn("（已截止）", c.open("/review").text)


# ---- 9. the exports ----

def parse_csv_quoted(text):
    """CSV rows of (text, quoted) cells, so that numbers (unquoted) and text (quoted, as
    LibreOffice writes it with "quote all text cells") can be told apart."""
    rows, row, cell, quoted, i, n = [], [], [], False, 0, len(text)
    at_start = True
    while i < n:
        ch = text[i]
        if at_start and ch == '"':
            quoted, at_start = True, False
            i += 1
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        cell.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                cell.append(text[i])
                i += 1
            continue
        if ch == ",":
            row.append(("".join(cell), quoted))
            cell, quoted, at_start = [], False, True
        elif ch in "\r\n":
            if ch == "\r" and i + 1 < n and text[i + 1] == "\n":
                i += 1
            row.append(("".join(cell), quoted))
            rows.append(row)
            row, cell, quoted, at_start = [], [], False, True
        else:
            cell.append(ch)
            at_start = False
        i += 1
    if cell or row:
        row.append(("".join(cell), quoted))
        rows.append(row)
    return rows


def number_text(norm):
    """A stored number as a spreadsheet shows a number: 1234.5, 12 (not 1234.50, 12.0)."""
    x = float(norm)
    return ("%.10f" % x).rstrip("0").rstrip(".") if x != int(x) else "%d" % int(x)


class ExportTest(Base):
    county = "990121"

    def expected(self, form):
        """The table the export must hold: the header, then per school of the county (code
        order) [(text, kind)] with kind 'num', 'text' or 'empty'."""
        fields = STACK.query("SELECT code, label, type, stage FROM field WHERE form_code = ?"
                             " ORDER BY position", (form,))
        units = units_of(form)
        header = ["学校标识码", "学校名称", "办学类型", "状态"]
        for code, lab, _, stage in fields:
            lab = "%s %s" % (STAGE_NAMES[stage], lab) if stage else lab
            header.append("%s（%s）" % (lab, units[code]) if units.get(code) else lab)
        states = states_in(self.county)
        rows = []
        for school in schools_in(self.county):
            row = [(school, "text"), (name_of(school), "text"),
                   (TYPE_NAMES[UNITS[school]["school_type"]], "text"),
                   (STATE_NAMES[states[school][form]], "text")]
            vals = stored(school, form)
            for code, _, kind, _ in fields:
                raw, norm = vals.get(code, (None, None))
                if raw is None:
                    row.append(("", "empty"))
                elif norm is None:
                    row.append((raw, "text"))  # not valid: as typed
                elif kind in ("integer", "decimal"):
                    row.append((norm, "num"))
                elif kind == "yesno":
                    row.append(({"1": "是", "0": "否"}[norm], "text"))
                else:
                    row.append((norm, "text"))
            rows.append(row)
        return header, rows

    def compare(self, what, header, rows, got, typed):
        """got: [[(text, quoted)]]; typed: whether quoting tells text from numbers."""
        self.assertEqual([t for t, _ in got[0]], header, "%s: the header row" % what)
        if typed:
            self.assertTrue(all(q for _, q in got[0]), "%s: a header cell is no text" % what)
        self.assertEqual(len(got) - 1, len(rows), "%s: %d rows" % (what, len(got) - 1))
        bad = []
        for r, (want_row, got_row) in enumerate(zip(rows, got[1:]), start=2):
            self.assertEqual(len(got_row), len(want_row), "%s: row %d width" % (what, r))
            for c, ((want, kind), (text, quoted)) in enumerate(zip(want_row, got_row)):
                where = "%s row %d (%s) column %d (%s)" % (what, r, want_row[0][0], c + 1,
                                                          header[c])
                if kind == "num":
                    if typed:
                        ok = not quoted and text == number_text(want)
                        shown = "%r%s, expected the number %s" % (
                            text, " as text" if quoted else "", number_text(want))
                    else:
                        ok = text != "" and float(text) == float(want)
                        shown = "%r, expected %s" % (text, want)
                elif kind == "empty":
                    ok, shown = text == "", "%r, expected an empty cell" % text
                else:
                    ok = text == want and (quoted or not typed)
                    shown = "%r%s, expected the text %r" % (text, "" if quoted or not typed
                                                            else " as a number", want)
                if not ok:
                    bad.append("%s: %s" % (where, shown))
        self.assertEqual(bad[:20], [], "%d cells differ" % len(bad))

    def test_csv_and_xlsx_exports_of_the_county_equal_the_database(self):
        rev = self.client("rev-" + self.county)
        tmp = tempfile.mkdtemp(prefix="tianbao-export-", dir=STACK.dir)
        files = {}
        for form in FORMS:
            with self.subTest(form=form, fmt="csv"):
                r = rev.get("/export/%s/%s/csv" % (PERIOD, form))
                self.assertEqual(r.status, 200, repr(r))
                self.assertEqual(r.headers.get("content-type"), "text/csv; charset=utf-8")
                disp = r.headers.get("content-disposition", "")
                self.assertIn('attachment; filename="%s-%s.csv"' % (PERIOD, form), disp)
                name = quote("%s学年-%s.csv" % (PERIOD, form_name(form)))
                self.assertIn("filename*=UTF-8''" + name, disp)
                self.assertTrue(r.body.startswith(b"\xef\xbb\xbf"), "no BOM")
                text = r.body[3:].decode("utf-8")
                self.assertIn("\r\n", text)
                got = [[(c, False) for c in row]
                       for row in csv.reader(io.StringIO(text, newline=""))]
                header, rows = self.expected(form)
                self.compare("%s.csv" % form, header, rows, got, typed=False)
            r = rev.get("/export/%s/%s/xlsx" % (PERIOD, form))
            self.assertEqual(r.status, 200, repr(r))
            self.assertEqual(r.headers.get("content-type"),
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            self.assertIn('filename="%s-%s.xlsx"' % (PERIOD, form),
                          r.headers.get("content-disposition", ""))
            self.assertTrue(r.body.startswith(b"PK\x03\x04"), "not a zip file")
            files[form] = os.path.join(tmp, "%s.xlsx" % form)
            with open(files[form], "wb") as fh:
                fh.write(r.body)
        soffice = shutil.which("soffice") or shutil.which("libreoffice")
        if not soffice:
            if os.environ.get("CI"):
                self.fail("soffice (libreoffice-calc-nogui) is not installed, and CI is set")
            self.skipTest("soffice is not installed (apt-get install libreoffice-calc-nogui): "
                          "the XLSX exports were fetched but not re-read")
        out = os.path.join(tmp, "csv")
        home = os.path.join(tmp, "home")
        os.makedirs(out)
        os.makedirs(home)
        env = dict(os.environ, HOME=home)
        # text cells quoted (token 7), cells as shown (token 9): numbers stay unquoted
        flt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true"
        p = subprocess.run([soffice, "--headless", "--norestore", "--convert-to", flt,
                            "--outdir", out] + [files[f] for f in FORMS],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120, env=env)
        for form in FORMS:
            with self.subTest(form=form, fmt="xlsx"):
                path = os.path.join(out, "%s.csv" % form)
                self.assertTrue(os.path.exists(path), "LibreOffice made no %s (exit %d):\n%s"
                                % (path, p.returncode, p.stdout.decode("utf-8", "replace")))
                with open(path, encoding="utf-8-sig", newline="") as fh:
                    got = parse_csv_quoted(fh.read())
                header, rows = self.expected(form)
                self.compare("%s.xlsx" % form, header, rows, got, typed=True)

    def test_export_refuses_what_it_does_not_know_and_schools(self):
        rev = self.client("rev-" + self.county)
        for path in ("/export/%s/basic/pdf" % PERIOD, "/export/%s/nope/csv" % PERIOD,
                     "/export/1999/basic/csv"):
            self.assertEqual(rev.get(path).status, 404, path)
        s = self.client(S_OTHER)
        self.assertEqual(s.get("/export/%s/basic/csv" % PERIOD).status, 404)


# ---- 10. CSRF, Origin and escaping ----

class SecurityTest(Base):
    def test_decisions_need_the_csrf_token_and_the_stack_origin(self):
        school, form = S_SECURITY, "staff"
        rev = self.client("rev-" + county_of(school))
        self.assertEqual(state_of(submission(school, form)), "submitted")
        _, f = self.review_page(rev, school, form)
        sub = submission(school, form)
        before = snapshot(school, form)
        mark = STACK.audit_mark()
        body = f.fill({}, ("action", "approve"))
        bulk = [("csrf", f.value("csrf")), ("period", PERIOD),
                ("s", "%s:%s:%d" % (school, form, sub["version"]))]
        for what, strip, hdrs in (
                ("no csrf", True, None),
                ("a wrong csrf", "B" * 43, None),
                ("a foreign Origin", False, {"Origin": "http://evil.example"}),
                ("a cross-site fetch", False, {"Origin": None, "Sec-Fetch-Site": "cross-site"})):
            for path, form_body in ((f.action, body), ("/review/approve", bulk)):
                with self.subTest(what=what, path=path):
                    if strip is True:
                        form_body = [(n, v) for n, v in form_body if n != "csrf"]
                    elif strip:
                        form_body = [(n, strip if n == "csrf" else v) for n, v in form_body]
                    r = rev.post(path, form_body, headers=hdrs)
                    self.assertEqual(r.status, 403, "%s to %s: %r" % (what, path, r))
        self.assertEqual(snapshot(school, form), before)
        self.assertEqual(decisions_since(mark), [])
        # the same post, as the page makes it, goes through
        self.assertDecided(rev.post(f.action, body), school, form, "approved")

    def test_reasons_and_comments_are_escaped_on_every_page(self):
        school, form = S_SECURITY, "students"
        county = county_of(school)
        rev = self.client("rev-" + county)
        s = self.client(school)
        self.assertEqual(state_of(submission(school, form)), "submitted")
        reason = '<script>alert(1)</script>请核对"学生"数 & 班数'
        comment = '"><img src=x onerror=alert(2)>'
        _, f = self.review_page(rev, school, form)
        self.assertDecided(self.decide(rev, f, "return", reason, {"pri_students": comment}),
                           school, form, "returned")
        sub = submission(school, form)
        self.assertEqual(reviews(sub["id"])[-1][3], reason, "the reason is not stored as typed")
        self.assertEqual(review_comments(sub["id"]), {"pri_students": comment})
        pages = [(s, entry_url(school, form)), (s, "/notices"), (s, "/"),
                 (rev, review_url(school, form)), (rev, "/notices")]
        for c, path in pages:
            with self.subTest(path=path):
                r = c.open(path)
                self.assertNotIn("<script>alert", r.text)
                self.assertNotIn("<img src=x", r.text)
                self.assertNotIn('"><img', r.text)
        r = s.open(entry_url(school, form))
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", r.text)
        self.assertIn("&lt;img src=x onerror=alert(2)&gt;", r.text)
        self.assertIn(reason, html.unescape(r.text))
        self.assertIn("审核意见（小学）：" + comment, html.unescape(r.text))


if __name__ == "__main__":
    tblib.main()

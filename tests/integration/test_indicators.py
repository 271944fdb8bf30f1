#!/usr/bin/env python3
"""test_indicators.py — the indicators of a county, computed by the test itself and compared with
`tianbao-admin report`, the dashboards (/indicators) and their exports.

One private stack (tblib.Stack) gets the demo city from scripts/demo-data (示范市, one account per
unit with the password tianbao-demo, the four forms, the indicator definitions, period 2025 with
every school approved and period 2026 open).  The test adds the period 2027 (opened two days ago,
closing in ten), takes the county 白水县 (990122, 13 schools of every type), generates its figures
with db/demo/values.py for 2026 (with --warnings --comments, i.e. exactly the figures the demo
submitted for 2026, so that no change against last year's approved figures needs a 说明 besides
the demo's own), changes some of them to make the cases below, sets the period to 2027 and imports
them with `tianbao-admin values import --state submitted`.  The county's reviewer then approves
them through the web: the bulk form of /review?period=2027 with every box but one ticked, and the
last one on its review page (form #decide).

The expectation is computed here, independently of the C code: the values of the imported JSON
(or, for the previous period, the values stored in the database), the definitions in
db/indicators/*.json, the expression language of docs/expressions.md (tests/exprlib.py), and the
rules of docs/domain.md §Indicators and domain-research.md §1.3–1.6: a school's value of an
indicator (numerator / denominator × factor; a multi-stage school's shared facilities split by its
pupils weighted pri 1 : jun 1.1 : sen 1.32), who takes part (not special or vocational schools,
not a 教学点 with fewer than 50 pupils), the school verdict per stage (at least 6 of 7 indicators
reach the standard and each reaches 85% of it), the county's values (Σ numerators / Σ
denominators × factor, never an average of ratios) and the enrolment-weighted coefficient of
variation per indicator and stage.

The cases made in the 2027 figures (checked first, so that the test data keeps its meaning):
  2199220001 白水县实验小学        小学 meets all seven standards (PASS)
  3199220003 东岗乡九年一贯制学校  小学 meets six, the seventh at ≥ 85% (PASS); 初中 FAIL;
                                   its principal born in 2027−44 counts as under 45 (boundary)
  3199220001 白水县第二中学        初中 meets six, the seventh below 85% of it (FAIL)
  2199220003 沙洲教学点            exactly 50 pupils: takes part (boundary)
  2199220002 河口镇中心小学        one 56–65 and one 66+ class (超大班额)
  1199220002 金色童年幼儿园        330 children for 21 teachers (> 15 per teacher)
  2199220004 东岗乡中心小学        its principal born in 2027−45: not under 45 (boundary)
(From the demo's own warnings: 3499220001 has a 66+ class, 5199220001 D级危房 area, 1199220002
and 3199220001 a teacher without certificate.)

What is compared:
  - `report --period 2027 --unit 990122`: every row (school, verdict, county, cv), numbers within
    1e-6 relative: before any approval without values (with --provisional: every value); after
    the bulk approval with one submission still waiting (its figures absent); after the last
    approval with everything.
  - the reviewer's dashboard /indicators?period=2027 (and &provisional=1, marked 暂定): each
    优质均衡 table (values as shown, CVs to 3 decimals, schools meeting each standard, the CV
    verdicts, the number of schools taking part, passing, failing, lacking data, the stage
    verdict, the previous period's CVs), its SVG chart, the list of schools that miss the
    verdict with the link to the submission of the first indicator they miss (followed: the
    review page of that school), the targets table (value, verdict, the failing schools and
    their links, the previous period's value; the 未达标学校 cell empty where no school is
    judged, "—" where schools were judged and none fails: a test of its own);
  - the exports /indicators/export/schools/csv (one row per school with its values) and
    /balance/csv, and their XLSX (read with zipfile) equal to the CSV;
  - the city: `report --period 2025 --unit 990100` and the admin's dashboard with its per-county
    tables (2025: every school approved by the demo; three counties; 教学点 below 50 pupils);
  - scope: a school user sees its own page only (its values, verdicts and links to its own
    forms; no other school), the export answers it 404; a reviewer of another county sees its
    own county only;
  - `indicators load` of a file with an unknown field in an expression exits 1 naming the file
    and the indicator and stores nothing (on a copy of the database, with a valid file beside
    it); `indicators list`; `report` with an unknown period, a school code or an unknown unit
    exits with an English message.
Run by `make check`, or:
  cd build && TIANBAO_SRCDIR=.. TIANBAO_BUILDDIR=. python3 ../tests/integration/test_indicators.py
"""

import csv
import datetime as dt
import glob
import html
import io
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from contextlib import closing

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import exprlib  # noqa: E402
import tblib  # noqa: E402
from tblib import FORMS_DIR, STAGE_NAMES, TYPE_NAMES, VALUES_PY  # noqa: E402

PASSWORD = "tianbao-demo"
COUNTY = "990122"            # 白水县
OTHER_COUNTY = "990121"      # 青山县
CITY = "990100"
PERIOD = "2027"              # added by the test
PREV = "2026"                # the demo's open period: the previous one of 2027
OLD = "2025"                 # the demo's approved period
FORMS = ("basic", "students", "staff", "facilities")
CST = dt.timezone(dt.timedelta(hours=8))
HOLD = ("3199220003", "staff")   # left out of the bulk approval, approved on its own page

INDICATORS_DIR = os.path.join(tblib.SRCDIR, "db", "indicators")

STAGE_ORDER = ["kg", "pri", "jun", "sen", "voc", "spe"]
LEVEL_NAMES = (("school", "学校"), ("county", "区县"), ("city", "全市"))

# The changes made to the county's 2026 figures: (school, form, field, value, 说明).
# None as the value: the figure plus 3.
MODS = [
    ("2199220001", "staff", "pri_t_backbone", "10", "新认定县级骨干教师5名。"),
    ("2199220001", "staff", "pri_t_pe", None, "新招聘体育教师3名。"),
    ("2199220001", "facilities", "teaching_area", "4400", "新教学楼已投入使用。"),
    ("3199220003", "staff", "pri_t_backbone", "4", "新认定县级骨干教师1名。"),
    ("3199220003", "basic", "principal_birth_year", str(int(PERIOD) - 44), "新任校长。"),
    ("3199220001", "staff", "jun_t_backbone", "8", "新认定县级骨干教师1名。"),
    ("3199220001", "facilities", "teaching_area", "4200", "部分教室改作仓库，已核实。"),
    ("2199220003", "students", "pri_students", "50", "撤并邻村教学点，学生转入。"),
    ("2199220003", "students", "pri_classes", "2", "撤并邻村教学点，增设一个班。"),
    ("2199220002", "students", "pri_classes_56_65", "1", "临时合班，已核实。"),
    ("2199220002", "students", "pri_classes_66p", "1", "教室改造期间临时合班，下学期分班。"),
    ("1199220002", "students", "kg_students", "330", "新增招生，教师正在招聘。"),
    ("2199220004", "basic", "principal_birth_year", str(int(PERIOD) - 45), "已核实。"),
]

STACK = None
IMPORTED = None      # school -> {field: number} of the imported 2027 figures


UNITS = tblib.demo_units()


def schools_of(unit):
    """The school codes at or below an org unit, sorted."""
    return sorted(c for c, u in UNITS.items() if u["kind"] == "school" and
                  (u["parent_code"] == unit or UNITS[u["parent_code"]]["parent_code"] == unit))


# ---- the definitions (db/indicators/*.json) and the forms, read by the test itself ----

def _load_sets():
    """The indicator sets in the order the system keeps them (by code)."""
    sets = [exprlib.load_json(p) for p in glob.glob(os.path.join(INDICATORS_DIR, "*.json"))]
    return sorted(sets, key=lambda s: s["code"])


SETS = _load_sets()
FORM_DEFS = exprlib.load_forms(FORMS_DIR)
# field code -> (definition, grid row or None, form code) of every field of the four forms
FIELDS = {code: (d, row, form) for form, fd in FORM_DEFS.items()
          for code, d, row in exprlib.form_fields(fd)}
NUMERIC = {c for c, (d, _, _) in FIELDS.items() if d.get("type") in ("integer", "decimal", "yesno")}
VARIABLES = ("school_type", "is_public", "is_inclusive", "is_rural", "period_year")


class Col:
    """One measured column: an indicator of a set at one stage (None: the whole school)."""

    def __init__(self, s, ind, stage):
        self.set, self.ind, self.stage = s, ind, stage
        self.balance = s["kind"] == "balance"
        self.code = ind["code"]
        self.key = (self.code, stage or "")

        def staged(v):
            """The expression of a definition member for this stage (None: absent)."""
            if v is None:
                return None
            src = v[stage] if isinstance(v, dict) else v
            return exprlib.expand(src, stage)

        known = set(FIELDS) | set(VARIABLES)
        self.num = exprlib.parse(staged(ind["numerator"]), known)
        den = staged(ind.get("denominator"))
        self.den = exprlib.parse(den, known) if den else None
        app = staged(ind.get("applies"))
        self.applies = exprlib.parse(app, known) if app else None
        inc = staged(s.get("include")) if self.balance else None
        self.include = exprlib.parse(inc, known) if inc else None
        th = ind["threshold"]
        self.threshold = float(th[stage] if isinstance(th, dict) else th)
        self.ge = ind["direction"] == ">="
        self.factor = float(ind.get("factor", 1))
        self.share = bool(ind.get("share"))
        self.levels = set(ind.get("levels") or (["school", "county"] if self.balance else []))
        self.cv_limit = s.get("cv_limits", {}).get(stage) if self.balance else None
        self.fields = [f for f in exprlib.fields_of(self.num) +
                       (exprlib.fields_of(self.den) if self.den else []) if f in FIELDS]
        # the form of the numerator's first field: where a dashboard links a school to
        self.form = next((FIELDS[f][2] for f in exprlib.fields_of(self.num) if f in FIELDS), None)
        # what the pages show: values with 2 decimals (0 for yuan-sized figures)
        self.decimals = 0 if self.factor >= 1000 else 2
        self.unit = ind["unit"]
        self.name = ind["name"]

    def meets(self, v, t=None):
        t = self.threshold if t is None else t
        return v >= t if self.ge else v <= t

    @property
    def target(self):
        """The standard as the pages show it: "≥ 4.2"."""
        return "%s %s" % ("≥" if self.ge else "≤", fmt(self.threshold, 3))

    @property
    def staged_name(self):
        """"平均班额（小学）" for a staged indicator of the targets table, else the name."""
        return "%s（%s）" % (self.name, STAGE_NAMES[self.stage]) if self.stage else self.name


COLS = [Col(s, ind, st) for s in SETS for ind in s["indicators"]
        for st in ([x for x in STAGE_ORDER if x in ind["stages"]] if ind.get("stages") else [None])]
BALANCE = [s for s in SETS if s["kind"] == "balance"]
TARGETS = [s for s in SETS if s["kind"] == "targets"]
COL = {c.key: c for c in COLS}


def fmt(v, decimals):
    """A number as the pages show it: at most `decimals` places, no trailing zeros."""
    s = "%.*f" % (decimals, v)
    if decimals > 0:
        s = s.rstrip("0").rstrip(".")
    return "0" if s == "-0" else s


def shown_as(v, decimals):
    """The texts a page may show for v (the neighbours too, where v lies on a rounding tie)."""
    return {fmt(v * (1 - 1e-9), decimals), fmt(v, decimals), fmt(v * (1 + 1e-9), decimals)}


def close(a, b, rel=1e-6):
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b)) or abs(a - b) < 1e-12


# ---- the computation, from the values and the definitions only ----

class Val:
    """A school's value of a column: state "ok" or "missing"; known (numerator and
    denominator known: they count in the sums); num (share applied), den, value, passed (None:
    not judged at school level)."""

    def __init__(self, state, known=False, num=None, den=None, value=None, passed=None):
        self.state, self.known, self.num, self.den = state, known, num, den
        self.value, self.passed = value, passed

    @property
    def ok(self):
        return self.state == "ok"

    def __repr__(self):
        return "Val(%s, %r/%r = %r, pass %r)" % (self.state, self.num, self.den, self.value,
                                                  self.passed)


def school_vars(unit, values, period):
    """The variables of one school: its numeric values and its attributes."""
    v = {k: x for k, x in values.items() if k in NUMERIC}
    v["school_type"] = float(unit["school_type"])
    v["is_public"] = float(unit["ownership"] == "public")
    v["is_inclusive"] = float(unit["inclusive"] == "1")
    v["is_rural"] = float(unit["urban_rural"].startswith("2"))   # 乡村: 2xx
    v["period_year"] = float(period)
    return v


def stage_share(col, unit, v):
    """The share of col's stage in the school's shared facilities: its pupils weighted by the
    set's stage weights over all of the school's stages (1 for a single-stage school); None when
    a stage's pupils are not known or there are none."""
    stages = exprlib.SCHOOL_TYPES[unit["school_type"]]
    if len(stages) == 1:
        return 1.0
    weights = col.set.get("stage_weights", {})
    weighted = {}
    for st in stages:
        p = v.get(st + "_students")
        if p is None:
            return None
        weighted[st] = float(weights.get(st, 1)) * p
    total = sum(weighted.values())
    return weighted[col.stage] / total if total > 0 else None


def evaluate_school(col, unit, v):
    """Val of col for one school, or None when the column does not concern it (a stage it does
    not have, fields it does not report, "applies" false, outside the 优质均衡 scope)."""
    stype = unit["school_type"]
    if col.stage and col.stage not in exprlib.SCHOOL_TYPES[stype]:
        return None
    if col.applies is not None and exprlib.evaluate(col.applies, v) == 0:
        return None
    if col.fields and not any(exprlib.field_applies(FIELDS[f][0], FIELDS[f][1], stype)
                              for f in col.fields):
        return None
    if col.include is not None:
        inc = exprlib.evaluate(col.include, v)
        if inc is None:
            return Val("missing")        # whether it takes part is not known yet
        if inc == 0:
            return None
    num = exprlib.evaluate(col.num, v)
    den = exprlib.evaluate(col.den, v) if col.den else 1.0
    if num is None or den is None:
        return Val("missing")
    if col.share:
        share = stage_share(col, unit, v)
        if share is None:
            return Val("missing")
        num *= share
    if den == 0:
        return Val("missing", True, num, den)
    value = col.factor * num / den
    passed = col.meets(value) if "school" in col.levels else None
    return Val("ok", True, num, den, value, passed)


def floor_of(col, s):
    f = s["verdict"]["floor"]
    return col.threshold * f if col.ge else col.threshold / f


def verdicts_of(vals, s):
    """{stage: PASS | FAIL | MISSING} of one school for the balance set s: at least min_met
    indicators reach the standard and every one reaches floor × standard."""
    out = {}
    for st in STAGE_ORDER:
        cols = [c for c in COLS if c.set is s and c.stage == st]
        got = [vals.get(c.key) for c in cols]
        if not cols or all(g is None for g in got):
            continue
        if any(g is None or not g.ok for g in got):
            out[st] = "MISSING"
            continue
        met = sum(c.meets(g.value) for c, g in zip(cols, got))
        floor_ok = all(c.meets(g.value, floor_of(c, s)) for c, g in zip(cols, got))
        out[st] = "PASS" if met >= s["verdict"]["min_met"] and floor_ok else "FAIL"
    return out


def weighted_cv(xs, ws):
    """The enrolment-weighted coefficient of variation (domain-research.md §1.5), or None."""
    total = sum(ws)
    if not xs or total <= 0:
        return None
    mean = sum(w / total * x for x, w in zip(xs, ws))
    if mean == 0:
        return None
    return math.sqrt(sum(w / total * (x - mean) ** 2 for x, w in zip(xs, ws))) / mean


class Agg:
    """A column over a group of schools: Σnum, Σden, counted, judged, failing, missing, value
    (Σnum/Σden × factor; a count without denominator: Σnum × factor), passed (None: not judged
    at the group's level), cv, cv_passed."""

    def __init__(self, col, vals, level):
        self.num = self.den = 0.0
        self.counted = self.judged = self.failing = self.missing = 0
        xs, ws = [], []
        for v in vals:
            if v is None:
                continue
            if not v.known:
                self.missing += 1
                continue
            self.num += v.num
            self.den += v.den
            self.counted += 1
            if not v.ok:
                continue
            if v.passed is not None:
                self.judged += 1
                self.failing += not v.passed
            xs.append(v.value)
            ws.append(v.den)      # the pupils of the school (stage)
        self.value = self.passed = None
        if col.den is None:
            if self.counted:
                self.value = col.factor * self.num
        elif self.den != 0:
            self.value = col.factor * self.num / self.den
        if self.value is not None and level in col.levels:
            self.passed = col.meets(self.value)
        self.cv = self.cv_passed = None
        if col.cv_limit:
            self.cv = weighted_cv(xs, ws)
            if self.cv is not None:
                self.cv_passed = self.cv <= col.cv_limit


class Group:
    """A county or the whole scope: its level (county, city), aggregates per column key and
    the verdict counts per (set, stage): in_scope, PASS, FAIL, MISSING."""

    def __init__(self, code, level, aggs, counts):
        self.code, self.level, self.aggs, self.counts = code, level, aggs, counts
        self.name = UNITS[code]["name"]


class Result:
    """Everything computed over the schools of a scope (a county or the city) in a period from
    values (school -> {field: number}): vals[school][col key] (Val or None),
    verdicts[school][(set code, stage)], groups (the counties of a city, then the scope)."""

    def __init__(self, scope, values, period):
        self.scope, self.period = scope, period
        self.city = UNITS[scope]["kind"] == "city"
        self.schools = schools_of(scope)
        self.with_data = sum(1 for s in self.schools if values.get(s))
        self.vals, self.verdicts = {}, {}
        for code in self.schools:
            v = school_vars(UNITS[code], values.get(code, {}), period)
            self.vals[code] = {c.key: evaluate_school(c, UNITS[code], v) for c in COLS}
            self.verdicts[code] = {(s["code"], st): vd for s in BALANCE
                                   for st, vd in verdicts_of(self.vals[code], s).items()}
        self.counties = [self._group(c, "county") for c in sorted(UNITS)
                         if UNITS[c]["kind"] == "county" and UNITS[c]["parent_code"] == scope]
        self.total = self._group(scope, "city" if self.city else "county")

    def _group(self, code, level):
        schools = [s for s in self.schools if code in (UNITS[s]["parent_code"], self.scope)]
        aggs = {c.key: Agg(c, [self.vals[s][c.key] for s in schools], level) for c in COLS}
        counts = {}
        for s in schools:
            for k, vd in self.verdicts[s].items():
                n = counts.setdefault(k, {"in_scope": 0, "PASS": 0, "FAIL": 0, "MISSING": 0})
                n["in_scope"] += 1
                n[vd] += 1
        return Group(code, level, aggs, counts)

    def count(self, group, set_code, stage, what):
        return group.counts.get((set_code, stage), {}).get(what, 0)


# ---- values: from a dataValueSets JSON, or as stored ----

def number_of(field, text):
    if FIELDS[field][0].get("type") == "yesno":
        return {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}[text]
    return float(text)


def values_of_json(doc, skip=()):
    """school -> {field: number} of the numeric values of a dataValueSets document; skip:
    (school, form) pairs left out (not approved yet)."""
    out = {}
    for s in doc["dataValueSets"]:
        d = out.setdefault(s["orgUnit"], {})
        if (s["orgUnit"], s["dataSet"]) in skip:
            continue
        for v in s["dataValues"]:
            if v["dataElement"] in NUMERIC:
                d[v["dataElement"]] = number_of(v["dataElement"], v["value"])
    return out


def values_in_db(period, provisional=False):
    """school -> {field: number} of the values of the period's approved submissions (and the
    submitted ones too when provisional), as stored."""
    states = ("approved", "submitted") if provisional else ("approved",)
    rows = STACK.query(
        "SELECT o.code, v.field_code, v.norm FROM submission s"
        " JOIN org_unit o ON o.id = s.school_id"
        " JOIN period p ON p.id = s.period_id JOIN value v ON v.submission_id = s.id"
        " WHERE p.code = ? AND v.norm IS NOT NULL AND s.state IN (%s)"
        % ",".join("?" * len(states)), (period,) + states)
    out = {}
    for code, field, norm in rows:
        if field in NUMERIC:
            out.setdefault(code, {})[field] = number_of(field, norm)
    return out


def state_of(school, form, period=PERIOD):
    rows = STACK.query("SELECT s.state FROM submission s JOIN org_unit o ON o.id = s.school_id"
                       " JOIN period p ON p.id = s.period_id WHERE o.code = ? AND p.code = ?"
                       " AND s.form_code = ?", (school, period, form))
    return rows[0][0] if rows else None


# ---- the expected report ----

def expected_report(r):
    """(level, unit code, indicator, stage) -> [unit name, indicator name, value, numerator,
    denominator, threshold, pass] of `report` for Result r (numbers as floats, None empty)."""
    rows = {}
    yn = {None: None, True: "yes", False: "no"}
    for code in r.schools:
        name = UNITS[code]["name"]
        for c in COLS:
            v = r.vals[code][c.key]
            if v is not None:
                rows[("school", code, c.code, c.stage or "")] = [
                    name, c.name, v.value if v.ok else None, v.num if v.known else None,
                    v.den if v.known else None, c.threshold, yn[v.passed]]
        for (sc, st), vd in r.verdicts[code].items():
            s = next(x for x in SETS if x["code"] == sc)
            rows[("verdict", code, sc, st)] = [name, s["name"], vd, None, None, None,
                                               "yes" if vd == "PASS" else "no"]
    for g in r.counties + [r.total]:
        for c in COLS:
            a = g.aggs[c.key]
            rows[(g.level, g.code, c.code, c.stage or "")] = [
                g.name, c.name, a.value, a.num, a.den, c.threshold, yn[a.passed]]
            if a.cv is not None:
                rows[("cv", g.code, c.code, c.stage or "")] = [
                    g.name, c.name, a.cv, None, None, c.cv_limit, yn[a.cv_passed]]
    return rows


def parse_report(text):
    rd = csv.reader(io.StringIO(text))
    head = next(rd)
    assert head == ["level", "unit_code", "unit_name", "indicator", "name", "stage", "value",
                    "numerator", "denominator", "threshold", "pass"], head
    out = {}
    for row in rd:
        key = (row[0], row[1], row[3], row[5])
        assert key not in out, "row %r twice" % (key,)
        out[key] = [row[2], row[4]] + row[6:]
    return out


def report_diff(expected, got):
    """The differences between expected_report() and parse_report(), as readable lines."""
    bad = []
    for k in sorted(set(expected) | set(got)):
        if k not in got:
            bad.append("missing row %s: expected %r" % (",".join(k), expected[k]))
            continue
        if k not in expected:
            bad.append("unexpected row %s: %r" % (",".join(k), got[k]))
            continue
        e, g = expected[k], got[k]
        ok = e[:2] == g[:2] and (e[6] or "") == g[6]
        for i in (2, 3, 4, 5):
            if isinstance(e[i], str):
                ok = ok and e[i] == g[i]
            elif e[i] is None:
                ok = ok and g[i] == ""
            else:
                try:
                    ok = ok and close(e[i], float(g[i]))
                except ValueError:
                    ok = False
        if not ok:
            bad.append("row %s: expected %r, got %r" % (",".join(k), e, g))
    return bad


# ---- pages ----

def text_of(fragment):
    """Text of an HTML fragment: tags dropped, unescaped, outer blanks stripped."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment)).strip()


def class_of(attrs):
    """The class attribute of a cell's attributes without "num"."""
    m = re.search(r'class="([^"]*)"', attrs)
    return " ".join(x for x in (m.group(1) if m else "").split() if x != "num")


def parse_chart(svg):
    """An SVG chart: {label (aria-label), title, bars: [(class, value, label)], limit}."""
    head = re.match(r'<svg class="chart"[^>]*>', svg).group(0)
    return {
        "role": (re.search(r'role="([^"]*)"', head) or [None, None])[1],
        "label": html.unescape((re.search(r'aria-label="([^"]*)"', head) or [None, ""])[1]),
        "title": text_of((re.search(r"<title>(.*?)</title>", svg) or [None, ""])[1]),
        "bars": [(cls, html.unescape(v), html.unescape(lab)) for cls, v, lab in re.findall(
            r'<rect [^>]*class="bar ([a-z]*)"/><text [^>]*class="v"[^>]*>([^<]*)</text>'
            r'<text [^>]*class="l"[^>]*>([^<]*)</text>', svg)],
        "limit": html.unescape((re.search(r'class="lt"[^>]*>([^<]*)</text>', svg)
                                or [None, ""])[1]),
    }


def parse_dashboard(text):
    """The dashboard of a reviewer or the admin, as data."""
    out = {"h1": text_of(re.search(r"<h1>(.*?)</h1>", text, re.S).group(1))}
    m = re.search(r"<span>共 (\d+) 所学校，(\d+) 所有已审核数据</span>", text)
    out["schools"], out["with_data"] = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    m = re.search(r'<span class="provisional">(.*?)</span>', text)
    out["provisional"] = text_of(m.group(1)) if m else None
    out["periods"] = re.findall(r'<option value="(\d+)"', text)
    out["stages"] = []
    for block in text.split('<div class="stage-block">')[1:]:
        block = block.split("<h2>")[0]
        h3 = re.search(r'<h3>(.*?)：资源配置 <span class="verdict ([a-z]*)">(.*?)</span></h3>', block)
        p = re.search(r"<p>参评学校 (\d+) 所：达标 <b>(\d+)</b> 所，未达标 (\d+) 所，缺少数据 (\d+) 所。"
                      r"差异系数标准 ≤ ([\d.]+)。</p>", block)
        st = {"stage": h3.group(1), "verdict_class": h3.group(2), "verdict": h3.group(3),
              "in_scope": int(p.group(1)), "passing": int(p.group(2)),
              "failing": int(p.group(3)), "missing": int(p.group(4)), "cv_limit": p.group(5),
              "rows": [], "counties": None, "failing_schools": None}
        body = re.search(r'<table class="balance">.*?<tbody>(.*?)</tbody>', block, re.S).group(1)
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<t[dh]([^>]*)>(.*?)</t[dh]>", tr, re.S)
            vals = [text_of(c) for _, c in cells]
            st["rows"].append({"no": vals[0], "name": vals[1], "standard": vals[2],
                               "value": vals[3], "met": vals[4], "cv": vals[5],
                               "cv_class": class_of(cells[5][0]),
                               "cv_verdict": vals[6],
                               "prev_cv": vals[7] if len(vals) > 7 else None})
        svg = re.search(r'<svg class="chart".*?</svg>', block, re.S)
        st["chart"] = parse_chart(svg.group(0)) if svg else None
        ct = re.search(r'<table class="counties">.*?<tbody>(.*?)</tbody>', block, re.S)
        if ct:
            st["counties"] = [
                {"name": html.unescape(n), "schools": a, "cv": b, "class": c, "verdict": v}
                for n, a, b, c, v in re.findall(
                    r'<tr><th scope="row">(.*?)</th><td class="num">(.*?)</td>'
                    r'<td class="num">(.*?)</td><td class="([a-z]*)">(.*?)</td></tr>', ct.group(1))]
        fl = re.search(r'<details class="failing">.*?<ul>(.*?)</ul>', block, re.S)
        if fl:
            st["failing_schools"] = {
                code: {"url": html.unescape(url), "name": html.unescape(name),
                       "tail": text_of(tail)}
                for url, name, code, tail in re.findall(
                    r'<li><a href="([^"]*)">(.*?)</a>（(\d+)）(.*?)</li>', fl.group(1), re.S)}
        out["stages"].append(st)
    out["targets"] = []
    m = re.search(r'<table class="targets">.*?<tbody>(.*?)</tbody>', text, re.S)
    body = m.group(1) if m else ""
    for m in re.finditer(r'<tr><th scope="row">(.*?)</th>(.*?)</tr>'
                         r'|<tr class="chart-row">(.*?)</tr>', body, re.S):
        if m.group(3) is not None:
            row = out["targets"][-1]
            cv = re.search(r'<div class="county-values">(.*?)</div>', m.group(3), re.S)
            row["county_values"] = [(c, html.unescape(t)) for c, t in re.findall(
                r'<span class="([a-z]*)">(.*?)</span>', cv.group(1))] if cv else None
            svg = re.search(r'<svg class="chart".*?</svg>', m.group(3), re.S)
            row["chart"] = parse_chart(svg.group(0)) if svg else None
            continue
        th, rest = m.group(1), m.group(2)
        cells = [(class_of(a), c) for a, c in re.findall(r"<td([^>]*)>(.*?)</td>", rest, re.S)]
        name = text_of(th.split('<span class="doc">')[0])
        docs = [text_of(d) for d in re.findall(r'<span class="doc">(.*?)</span>', th)]
        last = cells[-1][1]
        summary = re.search(r"<summary>(\d+) 所</summary>", last)
        row = {"name": name, "docs": docs, "levels": text_of(cells[0][1]),
               "target": text_of(cells[1][1]), "value": text_of(cells[2][1]),
               "class": cells[2][0], "verdict": text_of(cells[3][1]),
               "verdict_class": cells[3][0],
               "prev": text_of(cells[4][1]) if len(cells) > 5 else None,
               "failing_count": int(summary.group(1)) if summary else 0,
               "failing": [(html.unescape(u), html.unescape(n), t.strip()) for u, n, t in
                           re.findall(r'<li><a href="([^"]*)">(.*?)</a> ([^<]*)</li>', last)],
               "last": text_of(last) if not summary else None,
               "county_values": None, "chart": None}
        out["targets"].append(row)
    return out


def expected_dashboard(r, prev=None, provisional=False, role="reviewer"):
    """What parse_dashboard() must give for Result r (and the previous period's Result prev)."""
    g = r.total
    link_tail = "" if role == "school" else "/review"
    out = {"h1": "%s · 指标监测" % g.name, "schools": len(r.schools), "with_data": r.with_data,
           "stages": [], "targets": []}
    for s in BALANCE:
        for st in [x for x in STAGE_ORDER if x in s.get("cv_limits", {})]:
            cols = [c for c in COLS if c.set is s and c.stage == st]
            n = lambda what, grp=g: r.count(grp, s["code"], st, what)  # noqa: E731
            cv_all = all(g.aggs[c.key].cv_passed for c in cols)
            ok = cv_all and n("in_scope") > 0 and n("PASS") == n("in_scope")
            block = {"stage": STAGE_NAMES[st], "verdict_class": "ok" if ok else "bad",
                     "verdict": "达标" if ok else "未达标", "in_scope": n("in_scope"),
                     "passing": n("PASS"), "failing": n("FAIL"), "missing": n("MISSING"),
                     "cv_limit": fmt(s["cv_limits"][st], 2), "rows": [], "failing_schools": {},
                     "counties": None}
            for i, c in enumerate(cols):
                a = g.aggs[c.key]
                pa = prev.total.aggs[c.key] if prev else None
                block["rows"].append({
                    "no": str(i + 1), "name": "%s（%s）" % (c.name, c.unit), "standard": c.target,
                    "value": a.value, "decimals": c.decimals,
                    "met": "%d/%d" % (a.judged - a.failing, a.judged), "cv": a.cv,
                    "cv_class": {True: "ok", False: "bad", None: ""}[a.cv_passed],
                    "cv_verdict": {True: "达标", False: "未达标", None: "—"}[a.cv_passed],
                    "prev_cv": (pa.cv if pa else None) if prev else "absent"})
            block["chart"] = {
                "role": "img", "label": "%s 各项指标校际差异系数" % STAGE_NAMES[st],
                "title": "%s 各项指标校际差异系数" % STAGE_NAMES[st],
                "limit": "标准 %s" % fmt(s["cv_limits"][st], 3),
                "bars": [("none" if g.aggs[c.key].cv is None else
                          "ok" if g.aggs[c.key].cv <= s["cv_limits"][st] else "bad",
                          g.aggs[c.key].cv, str(i + 1)) for i, c in enumerate(cols)]}
            for code in r.schools:
                vd = r.verdicts[code].get((s["code"], st))
                if vd not in ("FAIL", "MISSING"):
                    continue
                missed, first = [], None
                for c in cols:
                    v = r.vals[code][c.key]
                    if v is not None and v.ok and c.meets(v.value):
                        continue
                    first = first or c
                    missed.append((c.name, v.value if v is not None and v.ok else None,
                                   c.decimals))
                block["failing_schools"][code] = {
                    "url": "/schools/%s/%s/%s%s" % (code, r.period, first.form, link_tail),
                    "name": UNITS[code]["name"], "why": "缺少数据" if vd == "MISSING" else "",
                    "missed": missed}
            if r.counties:
                block["counties"] = []
                for cg in r.counties:
                    cv_ok = sum(1 for c in cols if cg.aggs[c.key].cv_passed)
                    ins, passing = n("in_scope", cg), n("PASS", cg)
                    ok = cv_ok == len(cols) and ins > 0 and passing == ins
                    block["counties"].append({
                        "name": cg.name, "schools": "%d/%d" % (passing, ins),
                        "cv": "%d/%d" % (cv_ok, len(cols)), "class": "ok" if ok else "bad",
                        "verdict": "达标" if ok else "未达标"})
            out["stages"].append(block)
    for s in TARGETS:
        for c in [c for c in COLS if c.set is s]:
            a = g.aggs[c.key]
            pa = prev.total.aggs[c.key] if prev else None
            failing = [(code, r.vals[code][c.key].value) for code in r.schools
                       if r.vals[code][c.key] is not None and r.vals[code][c.key].passed is False]
            row = {"name": "%s（%s）" % (c.staged_name, c.unit),
                   "docs": [x for x in (c.ind.get("document"), c.ind.get("note")) if x],
                   "levels": "、".join(n for lv, n in LEVEL_NAMES if lv in c.levels),
                   "target": c.target, "value": a.value, "decimals": c.decimals,
                   "class": {True: "ok", False: "bad", None: ""}[a.passed],
                   "verdict": {True: "达标", False: "未达标", None: "—"}[a.passed],
                   "prev": (pa.value if pa else None) if prev else "absent",
                   "failing_count": a.failing,
                   "failing": [("/schools/%s/%s/%s%s" % (code, r.period, c.form, link_tail),
                                UNITS[code]["name"], v) for code, v in failing[:40]],
                   "last": "" if not a.judged else "—",
                   "county_values": None, "chart": None}
            if r.counties and c.levels & {"county", "city"}:
                row["county_values"] = [
                    ("" if cg.aggs[c.key].value is None else
                     "ok" if c.meets(cg.aggs[c.key].value) else "bad",
                     cg.name, cg.aggs[c.key].value) for cg in r.counties]
            out["targets"].append(row)
    return out


# ---- the client ----

def parse_csv_export(r):
    """The rows of a CSV download (UTF-8 with a BOM)."""
    assert r.text.startswith("\ufeff"), "no BOM"
    return list(csv.reader(io.StringIO(r.text[1:], newline="")))


def read_xlsx(data):
    """The first sheet of an XLSX file as rows of cells: text, or a float for a number."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall("m:si", ns):
                shared.append("".join(t.text or "" for t in si.iter("{%s}t" % ns["m"])))
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter("{%s}row" % ns["m"]):
        cells = {}
        for c in row.findall("m:c", ns):
            col = re.match(r"[A-Z]+", c.get("r")).group(0)
            idx = 0
            for ch in col:
                idx = idx * 26 + ord(ch) - 64
            v = c.find("m:v", ns)
            if c.get("t") == "s":
                cells[idx - 1] = shared[int(v.text)]
            elif c.get("t") == "inlineStr":
                cells[idx - 1] = "".join(t.text or "" for t in c.iter("{%s}t" % ns["m"]))
            elif v is not None:
                cells[idx - 1] = float(v.text)
        width = max(cells) + 1 if cells else 0
        rows.append([cells.get(i, "") for i in range(width)])
    return rows


# ---- the stack ----

def admin_db(db_path, *args):
    """tianbao-admin --db PATH ARGS (no --db when PATH is None): (exit code, stdout, stderr)."""
    cmd = [os.path.join(tblib.BUILDDIR, "tianbao-admin")] + (["--db", db_path] if db_path else
                                                             []) + list(args)
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, env=STACK._env())
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def make_2027_values(path):
    """Generate the county's figures, change them as MODS says, set the period; the document."""
    codes = schools_of(COUNTY)
    p = subprocess.run([sys.executable, VALUES_PY, "--period", PREV, "--warnings", "--comments",
                        "--schools", ",".join(codes), "-o", path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("values.py failed:\n" + p.stdout.decode("utf-8", "replace"))
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    done = set()
    for s in doc["dataValueSets"]:
        s["period"] = PERIOD
        vals = {v["dataElement"]: v for v in s["dataValues"]}
        for i, (school, form, field, value, why) in enumerate(MODS):
            if s["orgUnit"] == school and s["dataSet"] == form:
                v = vals[field]
                v["value"] = value if value is not None else str(int(v["value"]) + 3)
                v["comment"] = why
                done.add(i)
    if len(done) != len(MODS):
        raise RuntimeError("values.py gave no value for %r" % [m for i, m in enumerate(MODS)
                                                              if i not in done])
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    return doc


def setUpModule():
    global STACK, IMPORTED
    STACK = Base.stack = tblib.Stack(prefix="tianbao-indicators-").start()
    try:
        STACK.demo_data()
        now = dt.datetime.now(CST)
        STACK.admin("period", "add", PERIOD, "--name", PERIOD + "学年",
                    "--opens", (now - dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
                    "--closes", (now + dt.timedelta(days=10)).strftime("%Y-%m-%d %H:%M"),
                    "--forms", ",".join(FORMS))
        path = STACK.path("values-%s-%s.json" % (PERIOD, COUNTY))
        doc = make_2027_values(path)
        IMPORTED = doc
        _, out, _ = STACK.admin("values", "import", path, "--state", "submitted")
        if "imported %d data value sets as submitted" % len(doc["dataValueSets"]) not in out:
            raise RuntimeError("values import said: " + out)
    except Exception:
        STACK.failed = True
        raise


def tearDownModule():
    tblib.finish_stack(STACK)


# ---- the tests' base ----

class Base(tblib.ClientTest):
    password = PASSWORD
    client_class = tblib.Client

    def report(self, period, unit, provisional=False):
        args = ["report", "--period", period, "--unit", unit] + (["--provisional"] if provisional
                                                                 else [])
        rc, out, err = STACK.admin(*args, check=False)
        self.assertEqual(rc, 0, "tianbao-admin %s: %s" % (" ".join(args), err))
        return parse_report(out)

    def assertReport(self, result, provisional=False, what=""):
        got = self.report(result.period, result.scope, provisional)
        bad = report_diff(expected_report(result), got)
        self.assertEqual(bad, [], "%s: report --period %s --unit %s%s differs in %d rows"
                         % (what, result.period, result.scope,
                            " --provisional" if provisional else "", len(bad)))
        return got

    def assertShown(self, text, value, decimals, what):
        """A number the page shows: `value` rounded to `decimals`, or "—" for None."""
        if value is None:
            self.assertEqual(text, "—", what)
        else:
            self.assertIn(text, shown_as(value, decimals), "%s: shows %s, computed %r"
                          % (what, text, value))

    def assertDashboard(self, got, want, what):
        """parse_dashboard() output against expected_dashboard(); the targets rows whose 未达标学校
        cell differs while no school fails (a test of its own checks them) are returned."""
        for k in ("h1", "schools", "with_data"):
            self.assertEqual(got[k], want[k], "%s: %s" % (what, k))
        self.assertEqual([s["stage"] for s in got["stages"]], [s["stage"] for s in want["stages"]],
                         "%s: the 优质均衡 stages" % what)
        for gs, ws in zip(got["stages"], want["stages"]):
            w = "%s, %s" % (what, ws["stage"])
            for k in ("verdict", "verdict_class", "in_scope", "passing", "failing", "missing",
                      "cv_limit"):
                self.assertEqual(gs[k], ws[k], "%s: %s" % (w, k))
            self.assertEqual(len(gs["rows"]), len(ws["rows"]), "%s: rows" % w)
            for gr, wr in zip(gs["rows"], ws["rows"]):
                wi = "%s, %s" % (w, wr["name"])
                for k in ("no", "name", "standard", "met", "cv_class", "cv_verdict"):
                    self.assertEqual(gr[k], wr[k], "%s: %s" % (wi, k))
                self.assertShown(gr["value"], wr["value"], wr["decimals"], wi + ": value")
                self.assertShown(gr["cv"], wr["cv"], 3, wi + ": CV")
                if wr["prev_cv"] == "absent":
                    self.assertIsNone(gr["prev_cv"], wi + ": a previous CV without a previous "
                                      "period")
                elif wr["prev_cv"] is None:
                    self.assertEqual(gr["prev_cv"], "", wi + ": previous CV")
                else:
                    self.assertShown(gr["prev_cv"], wr["prev_cv"], 3, wi + ": previous CV")
            ch, wc = gs["chart"], ws["chart"]
            self.assertIsNotNone(ch, "%s: no chart" % w)
            for k in ("role", "label", "title", "limit"):
                self.assertEqual(ch[k], wc[k], "%s: chart %s" % (w, k))
            self.assertEqual(len(ch["bars"]), len(wc["bars"]), "%s: chart bars" % w)
            for (gc, gv, gl), (wcls, wv, wl) in zip(ch["bars"], wc["bars"]):
                self.assertEqual((gc, gl), (wcls, wl), "%s: bar %s" % (w, wl))
                self.assertShown(gv, wv, 3, "%s: bar %s" % (w, wl))
            self.assertEqual(gs["counties"], ws["counties"], "%s: the counties' table" % w)
            fs = gs["failing_schools"] or {}
            self.assertEqual(sorted(fs), sorted(ws["failing_schools"]),
                             "%s: the schools listed as missing the verdict" % w)
            for code, wf in ws["failing_schools"].items():
                gf = fs[code]
                self.assertEqual((gf["url"], gf["name"]), (wf["url"], wf["name"]),
                                 "%s: %s's link" % (w, code))
                parts = gf["tail"].split("；")
                if wf["why"]:
                    self.assertTrue(parts[0].startswith(wf["why"]), "%s: %s: %r lacks %s"
                                    % (w, code, gf["tail"], wf["why"]))
                    parts[0] = parts[0][len(wf["why"]):].strip()
                self.assertEqual(len(parts), len(wf["missed"]), "%s: %s misses %r, computed %r"
                                 % (w, code, gf["tail"], wf["missed"]))
                for part, (name, value, dec) in zip(parts, wf["missed"]):
                    if value is None:
                        self.assertEqual(part, name, "%s: %s" % (w, code))
                    else:
                        self.assertTrue(part.startswith(name + " "), "%s: %s: %r" % (w, code, part))
                        self.assertShown(part[len(name) + 1:], value, dec,
                                         "%s: %s: %s" % (w, code, name))
        self.assertEqual([t["name"] for t in got["targets"]], [t["name"] for t in want["targets"]],
                         "%s: the targets table's rows" % what)
        blank = []   # the failing schools' cell of an indicator no school is judged on
        for gt, wt in zip(got["targets"], want["targets"]):
            w = "%s, %s" % (what, wt["name"])
            for k in ("docs", "levels", "target", "class", "verdict", "failing_count"):
                self.assertEqual(gt[k], wt[k], "%s: %s" % (w, k))
            self.assertShown(gt["value"], wt["value"], wt["decimals"], w + ": value")
            if wt["prev"] == "absent":
                self.assertIsNone(gt["prev"], w + ": a previous value without a previous period")
            elif wt["prev"] is None:
                self.assertEqual(gt["prev"], "", w + ": previous value")
            else:
                self.assertShown(gt["prev"], wt["prev"], wt["decimals"], w + ": previous value")
            if wt["failing_count"]:
                self.assertEqual(sorted((u, n) for u, n, _ in gt["failing"]),
                                 sorted((u, n) for u, n, _ in wt["failing"]),
                                 w + ": failing schools")
                for (_, n, gv), (_, _, wv) in zip(sorted(gt["failing"]), sorted(wt["failing"])):
                    self.assertShown(gv, wv, wt["decimals"], "%s: %s" % (w, n))
            elif gt["last"] != wt["last"]:
                blank.append("%s: %r, expected %r" % (w, gt["last"], wt["last"]))
            if wt["county_values"] is None:
                self.assertIsNone(gt["county_values"], w + ": county values")
            else:
                self.assertEqual(len(gt["county_values"] or []), len(wt["county_values"]),
                                 w + ": county values")
                for (gc, gtxt), (wc, wn, wv) in zip(gt["county_values"], wt["county_values"]):
                    self.assertEqual(gc, wc, "%s: %s's class" % (w, wn))
                    self.assertTrue(gtxt.startswith(wn + " "), "%s: %r" % (w, gtxt))
                    self.assertShown(gtxt[len(wn) + 1:], wv, wt["decimals"], "%s: %s" % (w, wn))
                self.assertIsNotNone(gt["chart"], w + ": no chart of the counties")
                self.assertEqual(gt["chart"]["role"], "img")
                self.assertEqual([b[2] for b in gt["chart"]["bars"]],
                                 [wn for _, wn, _ in wt["county_values"]], w + ": chart bars")
        return blank

    def dashboard(self, c, period, provisional=False):
        r = c.open("/indicators?period=%s%s" % (period, "&provisional=1" if provisional else ""))
        return r, parse_dashboard(r.text)

    def check_dashboard(self, c, result, prev, provisional=False, what=""):
        r, got = self.dashboard(c, result.period, provisional)
        want = expected_dashboard(result, prev, provisional)
        got["blank"] = self.assertDashboard(got, want, what)
        return r, got


def county_result(skip=()):
    """The expectation over the county from the imported figures (less the `skip` forms)."""
    return Result(COUNTY, values_of_json(IMPORTED, skip), PERIOD)


def prev_result(scope, provisional=False):
    return Result(scope, values_in_db(PREV, provisional), PREV)


# ---- 1. the county's figures: import, approval, report, dashboard, exports ----

class CountyTest(Base):
    """In order: the test data, before any approval, the bulk approval, the last approval, then
    everything compared again."""

    def test_00_the_figures_make_the_cases_they_are_meant_to(self):
        r = county_result()
        yz = BALANCE[0]

        def met(code, st):
            return [c.code for c in COLS if c.set is yz and c.stage == st
                    and c.meets(r.vals[code][c.key].value)]

        def floor_ok(code, st):
            return all(c.meets(r.vals[code][c.key].value, floor_of(c, yz))
                       for c in COLS if c.set is yz and c.stage == st)

        self.assertEqual(len(met("2199220001", "pri")), 7)
        self.assertEqual(r.verdicts["2199220001"][("yzjh", "pri")], "PASS")
        self.assertEqual(len(met("3199220003", "pri")), 6)
        self.assertTrue(floor_ok("3199220003", "pri"))
        self.assertEqual(r.verdicts["3199220003"][("yzjh", "pri")], "PASS")
        self.assertEqual(r.verdicts["3199220003"][("yzjh", "jun")], "FAIL")
        self.assertEqual(len(met("3199220001", "jun")), 6)
        self.assertFalse(floor_ok("3199220001", "jun"))
        self.assertEqual(r.verdicts["3199220001"][("yzjh", "jun")], "FAIL")
        # the 教学点 with 50 pupils takes part; the special and vocational schools do not
        self.assertEqual(r.verdicts["2199220003"].get(("yzjh", "pri")), "FAIL")
        for code in ("5199220001", "3699220001", "3499220001", "1199220001"):
            self.assertEqual(r.verdicts[code], {}, code)
            self.assertTrue(all(r.vals[code][c.key] is None for c in COLS if c.balance), code)
        # a multi-stage school's facilities split by weighted pupils
        v = school_vars(UNITS["3499220002"], values_of_json(IMPORTED)["3499220002"], PERIOD)
        share = stage_share(COL[("yz_multimedia", "jun")], UNITS["3499220002"], v)
        self.assertAlmostEqual(share, 1.1 * v["jun_students"] / (
            v["pri_students"] + 1.1 * v["jun_students"] + 1.32 * v["sen_students"]))
        self.assertAlmostEqual(r.vals["3499220002"][("yz_multimedia", "jun")].value,
                               100 * v["multimedia_rooms"] * share / v["jun_students"])
        # the CV of this test is the weighted one: the worked example of domain-research.md §1.5
        pupils, books = [45, 37, 89, 76, 55], [279, 137, 935, 160, 402]
        self.assertAlmostEqual(weighted_cv([b / p for b, p in zip(books, pupils)], pupils),
                               0.51526, places=4)
        # the targets' failing cases
        self.assertIs(r.vals["1199220002"][("kg_children_per_teacher", "")].passed, False)
        self.assertEqual(r.vals["2199220002"][("super_large_classes", "")].value, 1)
        self.assertIs(r.total.aggs[("super_large_classes", "")].passed, False)
        self.assertEqual(r.vals["3199220003"][("rural_principals_under_45", "")].value, 100)
        self.assertEqual(r.vals["2199220004"][("rural_principals_under_45", "")].value, 0)
        self.assertIsNone(r.vals["2199220001"][("rural_principals_under_45", "")], "not rural")
        # nothing lies on a threshold by a rounding error
        for code in r.schools:
            for c in COLS:
                v = r.vals[code][c.key]
                if v is not None and v.ok and v.value != c.threshold:
                    self.assertFalse(close(v.value, c.threshold, 1e-9), (code, c.key))
        for code in schools_of(COUNTY):
            for form in FORMS:
                self.assertEqual(state_of(code, form), "submitted", "%s/%s" % (code, form))

    def test_01_before_approval_the_report_has_no_values_but_the_provisional_one_has(self):
        got = self.assertReport(Result(COUNTY, {}, PERIOD), what="before approval")
        for k, row in got.items():
            if k[0] == "verdict":
                self.assertEqual(row[2], "MISSING", k)
            elif k[0] == "school":
                self.assertEqual(row[2:5], ["", "", ""], "a value before any approval: %r" % (k,))
            else:
                self.assertEqual(row[2], "", "a value before any approval: %r" % (k,))
        self.assertFalse([k for k in got if k[0] == "cv"], "CV rows without values")
        got = self.assertReport(county_result(), provisional=True, what="provisional")
        self.assertTrue(any(k[0] == "cv" for k in got))

    def test_02_before_approval_the_dashboard_is_empty_and_the_provisional_one_marked(self):
        rev = self.client("rev-" + COUNTY)
        r, got = self.check_dashboard(rev, Result(COUNTY, {}, PERIOD), prev_result(COUNTY),
                                      what="before approval")
        self.assertIsNone(got["provisional"], "暂定 without asking for it")
        self.assertEqual(got["with_data"], 0)
        self.assertEqual(got["periods"][:3], [PERIOD, PREV, OLD])
        r, got = self.check_dashboard(rev, county_result(), prev_result(COUNTY, True), True,
                                      what="provisional")
        self.assertEqual(got["provisional"], "暂定：含 %d 所学校已上报但尚未审核的数据"
                         % len(schools_of(COUNTY)))
        self.assertIn("export/schools/csv?period=%s&amp;provisional=1" % PERIOD, r.text)

    def test_03_the_reviewer_approves_all_but_one_in_bulk(self):
        rev = self.client("rev-" + COUNTY)
        page = rev.open("/review?period=%s" % PERIOD)
        f = page.page.form("bulk")
        action, pairs = f.action, f.pairs()
        self.assertEqual(action, "/review/approve")
        boxes = re.findall(r'<input type="checkbox" name="s" value="([^"]*)"([^>]*)>', page.text)
        self.assertEqual(len(boxes), 4 * len(schools_of(COUNTY)), "the boxes of the overview")
        self.assertEqual([b for b, attrs in boxes if "disabled" in attrs], [], "flawed submissions")
        hold = "%s:%s:" % HOLD
        picks = [b for b, _ in boxes if not b.startswith(hold)]
        self.assertEqual(len(picks), len(boxes) - 1)
        r = rev.post(action, [(n, v) for n, v in pairs if n != "s"] + [("s", b) for b in picks])
        self.assertEqual(r.status, 200, repr(r))
        self.assertIn("已审核通过 %d 份" % len(picks), r.text)
        for code in schools_of(COUNTY):
            for form in FORMS:
                self.assertEqual(state_of(code, form), "submitted" if (code, form) == HOLD
                                 else "approved", "%s/%s" % (code, form))

    def test_04_with_one_submission_waiting_its_figures_are_missing(self):
        partial = county_result(skip={HOLD})
        self.assertEqual(partial.verdicts[HOLD[0]], {("yzjh", "pri"): "MISSING",
                                                     ("yzjh", "jun"): "MISSING"})
        self.assertReport(partial, what="one waiting")
        self.assertReport(county_result(), provisional=True, what="one waiting, provisional")
        rev = self.client("rev-" + COUNTY)
        _, got = self.check_dashboard(rev, partial, prev_result(COUNTY), what="one waiting")
        for st in got["stages"]:
            self.assertTrue(st["failing_schools"][HOLD[0]]["tail"].startswith("缺少数据"))
        _, got = self.check_dashboard(rev, county_result(), prev_result(COUNTY, True), True,
                                      what="one waiting, provisional")
        self.assertEqual(got["provisional"], "暂定：含 1 所学校已上报但尚未审核的数据")

    def test_05_the_last_one_is_approved_on_its_review_page(self):
        rev = self.client("rev-" + COUNTY)
        url = "/schools/%s/%s/%s" % (HOLD[0], PERIOD, HOLD[1])
        page = rev.open(url + "/review")
        f = page.page.form("decide")
        action, pairs = f.action, f.pairs()
        self.assertEqual(action, url + "/decide")
        r = rev.post(action, pairs + [("action", "approve")])
        self.assertRedirect(r, url + "/review?done=approved", "approving %s/%s" % HOLD)
        self.assertEqual(state_of(*HOLD), "approved")

    def test_06_the_report_equals_the_computation(self):
        result = county_result()
        got = self.assertReport(result, what="all approved")
        self.assertEqual(got, self.report(PERIOD, COUNTY, provisional=True),
                         "--provisional adds something when everything is approved")
        # a few figures by hand, so that the test does not only agree with itself
        row = got[("county", COUNTY, "yz_backbone", "pri")]
        values = values_of_json(IMPORTED)
        pupils = {c: values[c].get("pri_students", 0) for c in schools_of(COUNTY)}
        bb = {c: values[c].get("pri_t_backbone", 0) for c in schools_of(COUNTY)}
        part = [c for c in pupils if pupils[c] and not (UNITS[c]["school_type"] == "218"
                                                          and pupils[c] < 50)
                and int(UNITS[c]["school_type"]) < 360]
        self.assertIn("2199220003", part)
        self.assertTrue(close(float(row[2]), 100 * sum(bb[c] for c in part)
                              / sum(pupils[c] for c in part)), row)
        self.assertEqual(got[("verdict", "3199220001", "yzjh", "jun")][2], "FAIL")
        self.assertEqual(got[("verdict", "3199220003", "yzjh", "pri")][2], "PASS")
        self.assertEqual(got[("county", COUNTY, "super_large_classes", "")][2], "2")

    def test_07_the_dashboard_equals_the_computation(self):
        result = county_result()
        rev = self.client("rev-" + COUNTY)
        r, got = self.check_dashboard(rev, result, prev_result(COUNTY), what="all approved")
        self.assertIsNone(got["provisional"])
        self.assertEqual(got["with_data"], len(schools_of(COUNTY)))
        pri = got["stages"][0]
        self.assertEqual((pri["stage"], pri["passing"]), ("小学", 2))
        self.assertIn('<details class="failing">', r.text)
        # a failing school is listed, linked to its submission's review page
        jun = got["stages"][1]
        f = jun["failing_schools"]["3199220001"]
        self.assertEqual(f["url"], "/schools/3199220001/%s/facilities/review" % PERIOD)
        self.assertIn("生均教学及辅助用房面积", f["tail"])
        page = rev.open(f["url"])
        h1 = text_of(re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1))
        self.assertTrue(h1.startswith("审核：" + FORM_DEFS["facilities"]["name"]), h1)
        facts = text_of(re.search(r'<p class="facts">(.*?)</p>', page.text, re.S).group(1))
        self.assertIn("%s（3199220001）" % UNITS["3199220001"]["name"], facts)
        self.assertIn('id="decide"', page.text, "not the review page")
        targets = {t["name"]: t for t in got["targets"]}
        big = targets["超大班额（66人及以上）班数（个）"]
        self.assertEqual((big["value"], big["verdict"], big["failing_count"]), ("2", "未达标", 2))
        self.assertEqual({n for _, n, _ in big["failing"]},
                         {UNITS["2199220002"]["name"], UNITS["3499220001"]["name"]})
        kg = targets["幼儿园在园幼儿与专任教师之比（人/师）"]
        self.assertEqual([(u, n) for u, n, _ in kg["failing"]],
                         [("/schools/1199220002/%s/students/review" % PERIOD,
                           UNITS["1199220002"]["name"])])
        self.assertNotIn(UNITS["2199210001"]["name"], r.text, "another county's school")

    def test_07b_no_school_judged_leaves_the_failing_schools_cell_empty(self):
        # the targets table's 未达标学校 cell: the failing schools, "—" when schools were judged
        # and none fails, nothing when no school is judged on the indicator (one judged at
        # county level only, or no data at all)
        rev = self.client("rev-" + COUNTY)
        _, got = self.check_dashboard(rev, county_result(), prev_result(COUNTY), what=COUNTY)
        other = self.client("rev-" + OTHER_COUNTY)
        _, empty = self.check_dashboard(other, Result(OTHER_COUNTY, {}, PERIOD),
                                        prev_result(OTHER_COUNTY), what=OTHER_COUNTY)
        self.assertEqual(got["blank"] + empty["blank"], [],
                         "the 未达标学校 cell of indicators no school is judged on: "
                         "expected empty, got —")

    def test_08_the_exports_equal_the_computation(self):
        result = county_result()
        rev = self.client("rev-" + COUNTY)
        # the schools: one row per school, one column per indicator and stage
        r = rev.open("/indicators/export/schools/csv?period=%s" % PERIOD)
        self.assertTrue(r.headers["content-type"].startswith("text/csv"), r.headers)
        rows = parse_csv_export(r)
        head = ["学校标识码", "学校名称", "所属区县", "办学类型"] + [
            ("%s %s（%s）" % (STAGE_NAMES[c.stage], c.name, c.unit)) if c.stage
            else "%s（%s）" % (c.name, c.unit) for c in COLS]
        self.assertEqual(rows[0], head)
        self.assertEqual([x[0] for x in rows[1:]], result.schools, "one row per school")
        for row in rows[1:]:
            code = row[0]
            self.assertEqual(row[1:4], [UNITS[code]["name"], UNITS[COUNTY]["name"],
                                        TYPE_NAMES[UNITS[code]["school_type"]]])
            for c, cell in zip(COLS, row[4:]):
                v = result.vals[code][c.key]
                if v is None or not v.ok:
                    self.assertEqual(cell, "", "%s %s" % (code, c.key))
                else:
                    self.assertTrue(cell and close(float(cell), v.value),
                                    "%s %s: %r, computed %r" % (code, c.key, cell, v.value))
        self.assertSameAsXlsx(rev, "schools", rows)
        # the 优质均衡 table: one row per indicator and stage
        r = rev.open("/indicators/export/balance/csv?period=%s" % PERIOD)
        rows = parse_csv_export(r)
        self.assertEqual(rows[0], ["指标体系", "学段", "指标", "单位", "标准", "数值", "达标学校数",
                                   "参评学校数", "差异系数", "差异系数标准", "差异系数是否达标"])
        cols = [c for c in COLS if c.balance]
        self.assertEqual(len(rows) - 1, len(cols))
        for c, row in zip(cols, rows[1:]):
            a = result.total.aggs[c.key]
            w = "%s %s" % (c.code, c.stage)
            self.assertEqual(row[:4], [c.set["name"], STAGE_NAMES[c.stage], c.name, c.unit], w)
            nums = [c.threshold, a.value, a.judged - a.failing, a.judged, a.cv, c.cv_limit]
            for cell, want in zip(row[4:10], nums):
                self.assertTrue(close(float(cell), want), "%s: %r, computed %r" % (w, cell, want))
            self.assertEqual(row[10], {True: "是", False: "否", None: ""}[a.cv_passed], w)
        self.assertSameAsXlsx(rev, "balance", rows)

    def assertSameAsXlsx(self, c, table, csv_rows):
        r = c.open("/indicators/export/%s/xlsx?period=%s" % (table, PERIOD))
        self.assertTrue(r.headers["content-type"].startswith("application/vnd.openxmlformats"))
        rows = read_xlsx(r.body)
        self.assertEqual(len(rows), len(csv_rows), "%s: rows of the XLSX" % table)
        for i, (x, y) in enumerate(zip(rows, csv_rows)):
            y = y + [""] * (len(x) - len(y))
            x = x + [""] * (len(y) - len(x))
            for a, b in zip(x, y):
                if isinstance(a, float):
                    self.assertTrue(b != "" and close(a, float(b)), "%s row %d: %r vs %r"
                                    % (table, i, a, b))
                else:
                    self.assertEqual(a, b, "%s row %d" % (table, i))

    def test_09_a_school_sees_its_own_indicators_only(self):
        code = "3199220003"
        result = county_result()
        s = self.client(code)
        r = s.open("/indicators?period=%s" % PERIOD)
        self.assertIn("<h1>%s · 指标</h1>" % UNITS[code]["name"], r.text)
        lines = [text_of(x) for x in re.findall(r'<p class="verdict-line">(.*?)</p>', r.text, re.S)]
        self.assertEqual(lines, [
            "%s · %s：%s（至少 6 项达到标准、其余不低于标准的 85%% 为达标）"
            % (BALANCE[0]["name"], STAGE_NAMES[st], {"PASS": "达标", "FAIL": "未达标"}[vd])
            for (_, st), vd in sorted(result.verdicts[code].items(),
                                      key=lambda kv: STAGE_ORDER.index(kv[0][1]))])
        body = re.search(r'<table class="targets">.*?<tbody>(.*?)</tbody>', r.text, re.S).group(1)
        rows = re.findall(r'<tr><th scope="row"><a href="([^"]*)">(.*?)</a>（(.*?)）'
                          r'<span class="doc">'
                          r'(.*?)</span></th><td class="num">(.*?)</td><td class="num ?([a-z]*)">'
                          r'(.*?)</td><td class="[a-z]*">(.*?)</td></tr>', body, re.S)
        want = [c for c in COLS if result.vals[code][c.key] is not None and "school" in c.levels]
        self.assertEqual([html.unescape(n) for _, n, *_ in rows], [c.staged_name for c in want])
        for (url, name, unit, setname, target, cls, value, verdict), c in zip(rows, want):
            v = result.vals[code][c.key]
            w = "%s: %s" % (code, c.staged_name)
            self.assertEqual(html.unescape(url), "/schools/%s/%s/%s" % (code, PERIOD, c.form), w)
            self.assertEqual((unit, html.unescape(setname), html.unescape(target)),
                             (c.unit, c.set["name"], c.target), w)
            if not v.ok:
                self.assertEqual((value, cls, verdict), ("缺少数据", "", "—"), w)
                continue
            self.assertShown(value, v.value, c.decimals, w)
            self.assertEqual((cls, verdict), ("ok", "达标") if v.passed else ("bad", "未达标"), w)
        for other in schools_of(COUNTY):
            if other != code:
                self.assertNotIn(UNITS[other]["name"], r.text, "another school on the page")
                self.assertNotIn("/schools/%s/" % other, r.text)
        # no dashboard of the county, no export
        self.assertNotIn('class="balance"', r.text)
        for path in ("/indicators/export/schools/csv", "/indicators/export/balance/csv",
                     "/indicators/export/schools/xlsx?period=%s" % PERIOD,
                     "/indicators/export/balance/xlsx?period=%s" % PERIOD):
            self.assertEqual(s.get(path).status, 404, path)

    def test_10_a_reviewer_of_another_county_sees_its_own_county_only(self):
        rev = self.client("rev-" + OTHER_COUNTY)
        mine = Result(OTHER_COUNTY, {}, PERIOD)
        r, got = self.check_dashboard(rev, mine, prev_result(OTHER_COUNTY), what=OTHER_COUNTY)
        self.assertEqual(got["with_data"], 0)
        for code in schools_of(COUNTY):
            self.assertNotIn(UNITS[code]["name"], r.text)
        rows = parse_csv_export(rev.open("/indicators/export/schools/csv?period=%s" % PERIOD))
        self.assertEqual([x[0] for x in rows[1:]], schools_of(OTHER_COUNTY))
        self.assertTrue(all(cell == "" for x in rows[1:] for cell in x[4:]), "values in 2027")

    def test_11_the_admin_sees_the_city_with_a_table_per_county(self):
        admin = self.client("admin")
        city = Result(CITY, values_of_json(IMPORTED), PERIOD)
        r, got = self.check_dashboard(admin, city, prev_result(CITY), what="city 2027")
        self.assertEqual(got["h1"], "%s · 指标监测" % UNITS[CITY]["name"])
        for st in got["stages"]:
            self.assertEqual([x["name"] for x in st["counties"]],
                             [UNITS[c]["name"] for c in ("990102", "990121", "990122")])
        self.assertReport(city, what="city 2027")


# ---- 2. the city in 2025 (every school approved by the demo) ----

class CityTest(Base):
    def test_report_and_dashboard_of_the_city_in_2025(self):
        with open(STACK.path("values-2025.json"), encoding="utf-8") as f:
            values = values_of_json(json.load(f))
        city = Result(CITY, values, OLD)
        # teaching points under 50 pupils stay out in every county
        small = [c for c in city.schools if UNITS[c]["school_type"] == "218"]
        self.assertTrue(small)
        for c in small:
            if values[c]["pri_students"] < 50:
                self.assertEqual(city.verdicts[c], {}, c)
        self.assertReport(city, what="city 2025")
        admin = self.client("admin")
        _, got = self.check_dashboard(admin, city, None, what="city 2025")
        self.assertEqual(len(got["stages"][0]["counties"]), 3)
        for county in ("990102", "990121", "990122"):
            with self.subTest(county=county):
                res = Result(county, values, OLD)
                self.assertReport(res, what="%s 2025" % county)
                rev = self.client("rev-" + county)
                self.check_dashboard(rev, res, None, what="%s 2025" % county)


# ---- 3. tianbao-admin: definitions and refusals ----

class AdminTest(Base):
    def test_indicators_list_names_every_indicator(self):
        _, out, _ = STACK.admin("indicators", "list")
        rows = list(csv.reader(io.StringIO(out)))
        self.assertEqual(rows[0], ["set", "code", "name", "unit", "stages", "threshold",
                                   "direction"])
        want = []
        for s in SETS:
            for ind in s["indicators"]:
                stages = [x for x in STAGE_ORDER if x in ind.get("stages", [])]
                th = ind["threshold"]
                ths = ([th[x] for x in stages] if isinstance(th, dict)
                       else [th] * max(1, len(stages)))
                want.append([s["code"], ind["code"], ind["name"], ind["unit"], " ".join(stages),
                             " ".join("%g" % x for x in ths), ind["direction"]])
        self.assertEqual(rows[1:], want)

    def test_a_broken_definition_is_refused_naming_file_and_indicator_and_nothing_changes(self):
        tmp = tempfile.mkdtemp(prefix="tianbao-ind-load-")
        try:
            db = os.path.join(tmp, "copy.db")
            with STACK.db() as src, closing_connect(db) as dst:
                src.backup(dst)
            # a valid file with a higher edition beside the broken one: neither is stored
            with open(os.path.join(INDICATORS_DIR, "yzjh.json"), encoding="utf-8") as f:
                good = json.load(f)
            good["edition"] = 2
            good_path = os.path.join(tmp, "yzjh.json")
            with open(good_path, "w", encoding="utf-8") as f:
                json.dump(good, f, ensure_ascii=False)
            with open(os.path.join(INDICATORS_DIR, "targets.json"), encoding="utf-8") as f:
                broken = json.load(f)
            broken["edition"] = 2
            ind = next(i for i in broken["indicators"] if i["code"] == "d_grade_area")
            ind["numerator"] = "d_grade_aera"
            broken_path = os.path.join(tmp, "targets-broken.json")
            with open(broken_path, "w", encoding="utf-8") as f:
                json.dump(broken, f, ensure_ascii=False)

            def state():
                with closing_connect(db) as c:
                    return (c.execute("SELECT code, edition, definition, loaded_at FROM"
                                      " indicator_set ORDER BY code").fetchall(),
                            c.execute("SELECT value FROM setting WHERE key ="
                                      " 'indicators_generation'").fetchall(),
                            c.execute("SELECT count(*), max(id) FROM audit").fetchall())
            before = state()
            self.assertEqual([r[:2] for r in before[0]], [("targets", 1), ("yzjh", 1)])
            for action in ("load", "check"):
                rc, out, err = admin_db(db, "indicators", action, good_path, broken_path)
                self.assertEqual(rc, 1, "indicators %s: %s%s" % (action, out, err))
                self.assertIn(broken_path, err)
                self.assertIn("indicator d_grade_area", err)
                self.assertIn("unknown field 'd_grade_aera'", err)
                self.assertEqual(out, "")
                if action == "load":
                    self.assertIn("nothing was loaded", err)
                self.assertEqual(state(), before, "indicators %s changed the database" % action)
            # the valid file alone loads (the copy is a working database)
            rc, out, err = admin_db(db, "indicators", "load", good_path)
            self.assertEqual((rc, out.strip()), (0, "loaded 1 indicator set, %d indicators"
                                                 % len(good["indicators"])), err)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_report_refuses_an_unknown_period_and_a_school_in_english(self):
        for args, words in (
                (["--period", "2099", "--unit", COUNTY], "no period '2099'"),
                (["--period", "20x7", "--unit", COUNTY], "no period '20x7'"),
                (["--period", PERIOD, "--unit", "2199220001"],
                 "'2199220001' is not a county or city code"),
                (["--period", PERIOD, "--unit", "990199"],
                 "'990199' is not a county or city code")):
            with self.subTest(args=args):
                rc, out, err = STACK.admin("report", *args, check=False)
                self.assertEqual(rc, 1, err)
                self.assertEqual(out, "")
                self.assertIn(words, err)
                self.assertRegex(err, r"^[\x20-\x7e\n]+$", "not an English message")
        rc, out, err = STACK.admin("report", "--period", PERIOD, check=False)
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("usage: tianbao-admin", err)

    def test_an_unknown_command_is_named_with_or_without_a_database(self):
        for with_db in (True, False):
            with self.subTest(with_db=with_db):
                if with_db:
                    rc, out, err = STACK.admin("reprot", check=False)
                else:
                    rc, out, err = admin_db(None, "reprot")
                self.assertEqual((rc, out), (2, ""))
                self.assertTrue(err.startswith("tianbao-admin: unknown command 'reprot'\n"), err)
                self.assertIn("usage: tianbao-admin", err)
        rc, out, err = admin_db(None, "version")
        self.assertEqual((rc, out), (2, ""))
        self.assertEqual(err, "tianbao-admin: give -c CONFIG or --db PATH\n")
        # options and arguments that do not belong are named, and nothing is done
        for args, first in ((("period", "add", "2031", "-x"), "period add: unknown option '-x'"),
                            (("period", "add", "2031", "--name"),
                             "period add: missing value for option '--name'"),
                            (("migrate", "now"), "migrate takes no arguments")):
            with self.subTest(args=args):
                rc, out, err = STACK.admin(*args, check=False)
                self.assertEqual((rc, out), (2, ""))
                self.assertEqual(err.splitlines()[0], "tianbao-admin: " + first)


def closing_connect(path):
    """A connection to the SQLite database at path, closed at the end of a `with`."""
    return closing(sqlite3.connect(path, timeout=10))


if __name__ == "__main__":
    tblib.main()

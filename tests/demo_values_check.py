#!/usr/bin/env python3
"""demo_values_check.py — checks the demo data values made by db/demo/values.py.

Usage: tests/demo_values_check.py            (Python 3 standard library only)

Runs the generator for the periods 2025 and 2026 and checks, for every school × form:
  - exactly one data value set per school × form, with the right dataSet/period/orgUnit;
  - only the fields that apply to the school (grid rows of its stages, column and field
    "stages", field "school_types"), and every one of them;
  - every value parses for its type and lies within the field's min/max, decimals, max_length;
  - every rule of every form holds (errors and warnings, per-stage expansion, cross-form
    fields), evaluated with the semantics of docs/expressions.md (missing values, three-valued
    and/or, == with relative tolerance 1e-9; a rule whose value is missing is not evaluated);
  - 2025 → 2026 every numeric value changes by less than 30 % (relative to a 2025 value > 0);
  - a few plausibility ranges (class sizes, pupil–teacher ratios, areas per pupil);
  - determinism (same arguments → identical bytes), --schools/--forms only filter, -o FILE;
  - --warnings: some schools (about one in five) fail exactly one warning rule, none an error.
Prints each failure, then "N passed, M failed" as the last line; exits 1 on any failure.
"""
import glob
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "db", "demo", "values.py")
STAGES_OF = {
    "111": ["kg"], "211": ["pri"], "218": ["pri"], "311": ["jun"], "312": ["pri", "jun"],
    "341": ["jun", "sen"], "342": ["sen"], "345": ["pri", "jun", "sen"], "361": ["voc"],
    "362": ["voc"], "365": ["voc"], "366": ["voc"], "511": ["spe"], "512": ["spe"],
    "513": ["spe"], "514": ["spe"],
}


class Results:
    """Counts passed and failed checks; prints failures (the first 200)."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 200:
                print("FAIL:", what)
        return cond


R = Results()


# --- the expression language of docs/expressions.md ----------------------------------------

TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|([a-z_][a-z0-9_]*)|(==|!=|<=|>=|[-+*/()<>,]))")


def tokenize(src):
    """Tokens of src: ('num', x), ('name', s), ('op', s), ending with ('end', None)."""
    out, pos = [], 0
    while src[pos:].strip():
        m = TOKEN.match(src, pos)
        if not m:
            raise ValueError(f"bad character at column {pos + 1} of {src!r}")
        num, name, op = m.groups()
        out.append(("num", float(num)) if num else ("name", name) if name else ("op", op))
        pos = m.end()
    return out + [("end", None)]


class Parser:
    """Recursive descent over the precedence levels: or, and, not, comparison, +-, */, unary."""

    def __init__(self, src):
        self.toks, self.i = tokenize(src), 0

    def peek(self):
        return self.toks[self.i]

    def take(self):
        self.i += 1
        return self.toks[self.i - 1]

    def is_(self, kind, val):
        return self.peek() == (kind, val)

    def expect(self, kind, val):
        if not self.is_(kind, val):
            raise ValueError(f"expected {val!r}, got {self.peek()}")
        self.take()

    def parse(self):
        tree = self.or_()
        self.expect("end", None)
        return tree

    def or_(self):
        a = self.and_()
        while self.is_("name", "or"):
            self.take()
            a = ("or", a, self.and_())
        return a

    def and_(self):
        a = self.not_()
        while self.is_("name", "and"):
            self.take()
            a = ("and", a, self.not_())
        return a

    def not_(self):
        if self.is_("name", "not"):
            self.take()
            return ("not", self.not_())
        return self.cmp()

    def cmp(self):
        a = self.add()
        if self.peek()[0] == "op" and self.peek()[1] in ("==", "!=", "<", "<=", ">", ">="):
            op = self.take()[1]
            a = (op, a, self.add())
        return a

    def add(self):
        a = self.mul()
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            a = (self.take()[1], a, self.mul())
        return a

    def mul(self):
        a = self.unary()
        while self.peek()[0] == "op" and self.peek()[1] in "*/":
            a = (self.take()[1], a, self.unary())
        return a

    def unary(self):
        if self.is_("op", "-"):
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        kind, val = self.take()
        if kind == "num":
            return ("num", val)
        if kind == "op" and val == "(":
            tree = self.or_()
            self.expect("op", ")")
            return tree
        if kind == "name" and val not in ("and", "or", "not"):
            if self.is_("op", "("):
                self.take()
                args = [self.or_()]
                while self.is_("op", ","):
                    self.take()
                    args.append(self.or_())
                self.expect("op", ")")
                return ("call", val, args)
            return ("field", val)
        raise ValueError(f"unexpected {val!r}")


def evaluate(t, vals):
    """Value of tree t (a float) with field values vals; None is missing."""
    k = t[0]
    if k == "num":
        return t[1]
    if k == "field":
        return vals.get(t[1])
    if k == "call":
        args = [evaluate(a, vals) for a in t[2]]
        if t[1] in ("sum", "min", "max"):
            have = [a for a in args if a is not None]
            return {"sum": sum, "min": min, "max": max}[t[1]](have) if have else None
        if args[0] is None:
            return None
        return abs(args[0]) if t[1] == "abs" else float(math.ceil(args[0]))
    if k in ("neg", "not"):
        a = evaluate(t[1], vals)
        return None if a is None else -a if k == "neg" else float(a == 0)
    a, b = evaluate(t[1], vals), evaluate(t[2], vals)
    if k == "and":
        if a == 0 or b == 0:               # None == 0 is False
            return 0.0
        return None if a is None or b is None else 1.0
    if k == "or":
        if (a is not None and a != 0) or (b is not None and b != 0):
            return 1.0
        return None if a is None or b is None else 0.0
    if a is None or b is None:
        return None
    if k in "+-*":
        return a + b if k == "+" else a - b if k == "-" else a * b
    if k == "/":
        return None if b == 0 else a / b
    eq = abs(a - b) <= 1e-9 * max(abs(a), abs(b))
    return float({"==": eq, "!=": not eq, "<": a < b, "<=": a <= b, ">": a > b,
                  ">=": a >= b}[k])


def expand(src, stage):
    """Replace the prefix s_ of every name by the stage prefix."""
    return re.sub(r"(?<![a-z0-9_])s_(?=[a-z0-9_])", stage + "_", src)


# --- forms, schools, runs ------------------------------------------------------------------

def load_forms():
    """Form definitions by code."""
    forms = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "db", "forms", "*.json"))):
        with open(path, encoding="utf-8") as fp:
            f = json.load(fp)
        forms[f["code"]] = f
    return forms


def load_schools():
    """Schools of the demo city: code → (school type, stages, urban_rural)."""
    import csv
    with open(os.path.join(ROOT, "db", "demo", "orgunits.csv"), encoding="utf-8") as fp:
        return {r["code"]: (r["school_type"], STAGES_OF[r["school_type"]], r["urban_rural"])
                for r in csv.DictReader(fp) if r["kind"] == "school"}


def expected_fields(form, stype, stages):
    """code → field definition of every field of form that applies to the school."""
    def ok(f, row=None):
        if "school_types" in f and stype not in f["school_types"]:
            return False
        if row:
            return "stages" not in f or row in f["stages"]
        return "stages" not in f or bool(set(f["stages"]) & set(stages))
    out = {}
    for sec in form["sections"]:
        if "grid" in sec:
            for row in sec["grid"]["rows"]:
                if row in stages:
                    out.update({f"{row}_{c['code']}": c for c in sec["grid"]["columns"]
                                if ok(c, row)})
        else:
            out.update({f["code"]: f for f in sec["fields"] if ok(f)})
    return out


def run(*args):
    """Output bytes of the generator with args."""
    p = subprocess.run([sys.executable, GEN, *args], capture_output=True, timeout=120)
    R.check(p.returncode == 0 and not p.stderr, f"values.py {' '.join(args)}: exit "
            f"{p.returncode}, stderr {p.stderr.decode(errors='replace')[:300]}")
    return p.stdout


def parse_value(text, f, where):
    """The number (float) of a data value, checked against its field; None if not numeric."""
    t = f["type"]
    if t == "yesno":
        R.check(text in ("true", "false"), f"{where}: yes/no value {text!r}")
        return 1.0 if text == "true" else 0.0
    if t == "text":
        R.check(0 < len(text) <= f.get("max_length", 200), f"{where}: text length {text!r}")
        return None
    if t == "choice":
        R.check(text in [c["value"] for c in f["choices"]], f"{where}: choice {text!r}")
        return None
    dec = f.get("decimals", 0) if t == "decimal" else 0
    pat = r"\d+" if dec == 0 else r"\d+(\.\d{1,%d})?" % dec
    if not R.check(re.fullmatch(pat, text) is not None, f"{where}: {t} value {text!r}"):
        return None
    x = float(text)
    R.check(f.get("min", 0) <= x <= f.get("max", float("inf")),
            f"{where}: {x} outside {f.get('min', 0)}..{f.get('max')}")
    return x


def check_run(data, forms, schools, period, wanted_schools=None, wanted_forms=None):
    """Structure, fields and values of one run; returns {school: {field: number or None}}."""
    wanted_schools = wanted_schools or list(schools)
    wanted_forms = wanted_forms or list(forms)
    sets = data["dataValueSets"]
    got = [(s["orgUnit"], s["dataSet"]) for s in sets]
    R.check(sorted(got) == sorted((c, f) for c in wanted_schools for f in wanted_forms),
            f"{period}: one value set per school × form ({len(got)} sets)")
    vals = {}
    for vs in sets:
        code, form = vs["orgUnit"], vs["dataSet"]
        R.check(vs["period"] == period, f"{code}/{form}: period {vs['period']}")
        stype, stages, _ = schools[code]
        exp = expected_fields(forms[form], stype, stages)
        codes = [dv["dataElement"] for dv in vs["dataValues"]]
        R.check(len(codes) == len(set(codes)), f"{period} {code}/{form}: duplicate fields")
        R.check(not set(codes) - set(exp), f"{period} {code}/{form}: fields that do not apply: "
                f"{sorted(set(codes) - set(exp))}")
        R.check(not set(exp) - set(codes), f"{period} {code}/{form}: missing fields: "
                f"{sorted(set(exp) - set(codes))}")
        for dv in vs["dataValues"]:
            if dv["dataElement"] in exp:
                R.check(isinstance(dv["value"], str), f"{code} {dv}: value not a string")
                vals.setdefault(code, {})[dv["dataElement"]] = parse_value(
                    str(dv["value"]), exp[dv["dataElement"]], f"{period} {code} {dv}")
    return vals


def rule_failures(forms, values):
    """[(rule code, severity)] of the rules that are false for one school's values."""
    vals = {k: v for k, v in values.items() if v is not None}
    out = []
    for form in forms.values():
        for rule in form["rules"]:
            for stage in rule.get("stages", [None]):
                src = expand(rule["expr"], stage) if stage else rule["expr"]
                r = evaluate(Parser(src).parse(), vals)
                if r is not None and r == 0:
                    out.append((f"{rule['code']}[{stage}]" if stage else rule["code"],
                                rule["severity"]))
    return out


def plausibility(code, school, v):
    """A few realism ranges of the brief for one school's 2026 values."""
    stype, stages, ur = school
    for s in stages:
        n, c, t = v[f"{s}_students"], v[f"{s}_classes"], v[f"{s}_teachers"]
        lo, hi = {"kg": (100, 400), "pri": (10, 60) if stype == "218" else (150, 2000),
                  "jun": (150, 1500), "sen": (300, 2500), "voc": (600, 2100),
                  "spe": (60, 220)}[s]
        R.check(lo <= n <= hi, f"{code} {s}: {n} pupils outside {lo}..{hi}")
        lo, hi = {"kg": (18, 30), "pri": (5, 15) if stype == "218" else (30, 45),
                  "jun": (38, 50), "sen": (44, 50), "voc": (35, 50), "spe": (5, 15)}[s]
        R.check(lo <= n / c <= hi, f"{code} {s}: {n / c:.1f} pupils per class")
        lo, hi = {"kg": (9, 15), "pri": (3, 30) if stype == "218" else (13, 20),
                  "jun": (11, 15), "sen": (11, 15), "voc": (14, 20), "spe": (3.5, 6.5)}[s]
        R.check(lo <= n / t <= hi, f"{code} {s}: {n / t:.1f} pupils per teacher")
        R.check(v[f"{s}_t_certified"] == t, f"{code} {s}: certified ≠ teachers")
        R.check(0.03 <= v[f"{s}_t_backbone"] / t <= 0.17 or t < 15, f"{code} {s}: backbone")
    pupils = sum(v[f"{s}_students"] for s in stages)
    teachers = sum(v[f"{s}_teachers"] for s in stages) + v.get("kg_caregivers", 0)
    R.check(teachers < v["staff_total"] <= teachers * 1.4 or stype == "218" and
            teachers == v["staff_total"], f"{code}: staff_total")
    R.check(v["teaching_area"] <= 0.66 * v["building_area"], f"{code}: teaching share")
    R.check(v["land_area"] > v["building_area"] / 5, f"{code}: land area")
    R.check(0.1 <= v["equipment_value"] / pupils <= 1.3, f"{code}: equipment per pupil")
    boarders = sum(v[f"{s}_boarders"] for s in stages)
    R.check((boarders > 0) == (v["boarding"] == 1), f"{code}: boarding flag")
    R.check(v["d_grade_area"] == 0, f"{code}: d_grade_area")
    R.check(v["multimedia_rooms"] >= sum(v[f"{s}_classes"] for s in stages),
            f"{code}: multimedia rooms")


def main():
    """Run every check; print the totals."""
    forms, schools = load_forms(), load_schools()
    raw = {p: run("--period", p) for p in ("2025", "2026")}
    vals = {}
    for p, out in raw.items():
        vals[p] = check_run(json.loads(out), forms, schools, p)
        for code, v in sorted(vals[p].items()):
            fails = rule_failures(forms, v)
            R.check(not fails, f"{p} {code}: rules fail: {fails}")
    for code in schools:
        old, new = vals["2025"].get(code, {}), vals["2026"].get(code, {})
        for f, x in old.items():
            if x is not None and x > 0 and new.get(f) is not None:
                R.check(abs(new[f] - x) / x < 0.30, f"{code} {f}: {x} (2025) → {new[f]} (2026)")
        plausibility(code, schools[code], new)
        R.check(old != new, f"{code}: 2025 and 2026 are identical (no drift)")

    R.check(run("--period", "2026") == raw["2026"], "two runs give identical bytes")
    R.check(run("--period", "2026", "--seed", "7") == run("--period", "2026", "--seed", "7"),
            "--seed 7: two runs give identical bytes")

    some, forms2 = ["3199220003", "2199210003", "1199020001"], ["basic", "staff"]
    part = json.loads(run("--period", "2026", "--schools", ",".join(some), "--forms",
                          ",".join(forms2)))
    check_run(part, forms, schools, "2026", some, forms2)
    full = {(s["orgUnit"], s["dataSet"]): s for s in json.loads(raw["2026"])["dataValueSets"]}
    R.check(all(s == full[(s["orgUnit"], s["dataSet"])] for s in part["dataValueSets"]),
            "--schools/--forms only filter: values equal those of the full run")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.json")
        run("--period", "2026", "-o", path)
        with open(path, "rb") as fp:
            R.check(fp.read() == raw["2026"], "-o FILE writes the same bytes as stdout")

    for p in ("2025", "2026"):
        wv = check_run(json.loads(run("--period", p, "--warnings")), forms, schools, p)
        warned = 0
        for code, v in sorted(wv.items()):
            fails = rule_failures(forms, v)
            R.check(all(sev == "warning" for _, sev in fails), f"--warnings {p} {code}: {fails}")
            R.check(len(fails) <= 1, f"--warnings {p} {code}: more than one warning: {fails}")
            warned += bool(fails)
        R.check(0.1 * len(wv) <= warned <= 0.3 * len(wv),
                f"--warnings {p}: {warned} of {len(wv)} schools have a warning")
    print(f"{R.passed} passed, {R.failed} failed")
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""demo_values_check.py — checks the demo data values made by db/demo/values.py.

Usage: tests/demo_values_check.py            (Python 3 standard library only)

Runs the generator for the periods 2025 and 2026 and checks, for every school × form:
  - exactly one data value set per school × form, with the right dataSet/period/orgUnit;
  - only the fields that apply to the school (grid rows of its stages, column and field
    "stages", field "school_types"), and every one of them;
  - every value parses for its type and lies within the field's min/max, decimals, max_length;
  - every rule of every form holds (errors and warnings, per-stage expansion, cross-form
    fields), evaluated by tests/exprlib.py with the semantics of docs/expressions.md (missing
    values, three-valued and/or, == with relative tolerance 1e-9; a rule whose value is missing
    is not evaluated);
  - 2025 → 2026 every numeric value changes by less than 30 % (relative to a 2025 value > 0);
  - a few plausibility ranges (class sizes, pupil–teacher ratios, areas per pupil);
  - determinism (same arguments → identical bytes), --schools/--forms only filter, -o FILE;
  - --warnings: some schools (about one in five) fail exactly one warning rule, none an error.
Prints each failure, then "N passed, M failed" as the last line; exits 1 on any failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exprlib  # noqa: E402
from exprlib import SCHOOL_TYPES, Results, evaluate  # noqa: E402

ROOT = exprlib.ROOT
GEN = os.path.join(ROOT, "db", "demo", "values.py")
R = Results(limit=200)


# --- forms, schools, runs ------------------------------------------------------------------

def load_schools():
    """Schools of the demo city: code → (school type, stages, urban_rural)."""
    import csv
    with open(os.path.join(ROOT, "db", "demo", "orgunits.csv"), encoding="utf-8") as fp:
        return {r["code"]: (r["school_type"], SCHOOL_TYPES[r["school_type"]], r["urban_rural"])
                for r in csv.DictReader(fp) if r["kind"] == "school"}


def expected_fields(form, stype):
    """code → field definition of every field of form that applies to a school of type stype."""
    return {code: f for code, f, row in exprlib.form_fields(form)
            if exprlib.field_applies(f, row, stype)}


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
        stype, _, _ = schools[code]
        exp = expected_fields(forms[form], stype)
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


def rule_failures(rules, values):
    """[(rule code, severity)] of the rules (exprlib.expanded_rules) that are false for one
    school's values."""
    vals = {k: v for k, v in values.items() if v is not None}
    return [(f"{rule['code']}[{stage}]" if stage else rule["code"], rule["severity"])
            for _, rule, stage, _, tree in rules if evaluate(tree, vals) == 0]


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
        # well-resourced schools (values.py RESOURCES) have more backbone teachers
        R.check(0.03 <= v[f"{s}_t_backbone"] / t <= 0.27 or t < 15, f"{code} {s}: backbone")
    pupils = sum(v[f"{s}_students"] for s in stages)
    teachers = sum(v[f"{s}_teachers"] for s in stages) + v.get("kg_caregivers", 0)
    R.check(teachers < v["staff_total"] <= teachers * 1.4 or stype == "218" and
            teachers == v["staff_total"], f"{code}: staff_total")
    R.check(v["teaching_area"] <= 0.69 * v["building_area"], f"{code}: teaching share")
    R.check(v["land_area"] > v["building_area"] / 5, f"{code}: land area")
    R.check(0.1 <= v["equipment_value"] / pupils <= 1.3, f"{code}: equipment per pupil")
    boarders = sum(v[f"{s}_boarders"] for s in stages)
    R.check((boarders > 0) == (v["boarding"] == 1), f"{code}: boarding flag")
    R.check(v["d_grade_area"] == 0, f"{code}: d_grade_area")
    R.check(v["multimedia_rooms"] >= sum(v[f"{s}_classes"] for s in stages),
            f"{code}: multimedia rooms")


def main():
    """Run every check; print the totals."""
    forms, schools = exprlib.load_forms(), load_schools()
    rules = exprlib.expanded_rules(forms)
    raw = {p: run("--period", p) for p in ("2025", "2026")}
    vals = {}
    for p, out in raw.items():
        vals[p] = check_run(json.loads(out), forms, schools, p)
        for code, v in sorted(vals[p].items()):
            fails = rule_failures(rules, v)
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
            fails = rule_failures(rules, v)
            R.check(all(sev == "warning" for _, sev in fails), f"--warnings {p} {code}: {fails}")
            R.check(len(fails) <= 1, f"--warnings {p} {code}: more than one warning: {fails}")
            warned += bool(fails)
        R.check(0.1 * len(wv) <= warned <= 0.3 * len(wv),
                f"--warnings {p}: {warned} of {len(wv)} schools have a warning")
    return R.finish()


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""rule_cases_check.py — verifies tests/unit/rule_cases.json against db/forms/*.json.

Usage: tests/rule_cases_check.py [CASES_FILE [FORMS_DIR]]
       (defaults: tests/unit/rule_cases.json and db/forms beside this tests/ directory)

The file holds one passing and one failing case per expanded rule of the four forms (a rule with
"stages" is expanded once per stage, s_ becoming the stage prefix, code "<rule>:<stage>"). Checks:
  - the file is JSON without duplicate keys, shaped {"_comment": …, "cases": [CASE, …]};
  - every expanded rule has exactly one case and no case names an unknown rule; the case's
    "form" is the rule's form;
  - "school_type" is a known 办学类型 whose stages include the rule's stage;
  - every field of "pass"/"fail" exists for that school type (grid cells only in rows of the
    school's stages and of the column's "stages"; fields with "stages"/"school_types" only
    where they apply), and every field the expression reads that exists for the type is given;
  - values are strings as typed: plain ASCII digits, decimals within the field's "decimals",
    yes/no as 1/0, numbers within the field's min (default 0) and max;
  - with the evaluator of docs/expressions.md in tests/exprlib.py (missing values spread through
    arithmetic and comparisons, sum/min/max skip them, and/or/not are three-valued, x/0 is
    missing, == has relative tolerance 1e-9), "pass" evaluates to true and "fail" to false
    (never missing), and the two differ.
Prints each failure, then "N passed, M failed"; exits 1 on any failure. Python 3 stdlib only.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exprlib  # noqa: E402
from exprlib import SCHOOL_TYPES, Results, evaluate, fields_of, is_condition  # noqa: E402


class Fail(Exception):
    """A failed check, with its reason."""


# ---------------------------------------------------------------------------------------------
# Forms

class Field:
    """One expanded field of a form, with what parse_value needs of its definition."""

    def __init__(self, form, code, spec, row=None):
        self.form = form
        self.code = code
        self.spec = spec
        self.type = spec.get("type")
        self.min = spec.get("min", 0)
        self.max = spec.get("max")
        self.decimals = spec.get("decimals", 0)
        self.row = row                            # a grid cell's row (stage), else None

    def exists_for(self, school_type):
        """True when a school of school_type has this field."""
        return exprlib.field_applies(self.spec, self.row, school_type)


def load_forms(forms_dir):
    """(field code -> Field, [(expanded rule code, form, stage or None, source, tree)]) of the
    four forms; a rule that does not parse, is no condition or reads an unknown field fails."""
    forms = exprlib.load_forms(forms_dir)
    fields = {}
    for form, d in forms.items():
        for code, spec, row in exprlib.form_fields(d):
            fields[code] = Field(form, code, spec, row)
    parsed = []
    for form, rule, st, src, tree in exprlib.expanded_rules(forms):
        code = rule["code"] if st is None else rule["code"] + ":" + st
        if not is_condition(tree):
            raise Fail("rule %s is not a condition" % code)
        for name in fields_of(tree):
            if name not in fields:
                raise Fail("rule %s reads unknown field %s" % (code, name))
        parsed.append((code, form, st, src, tree))
    return fields, parsed


# ---------------------------------------------------------------------------------------------

INT_RE = re.compile(r"^[0-9]+$")
DEC_RE = re.compile(r"^[0-9]+(?:\.([0-9]+))?$")


def parse_value(field, text):
    """The number a typed value stands for, or raises Fail."""
    if not isinstance(text, str):
        raise Fail("%s: value %r is not a string" % (field.code, text))
    if field.type == "yesno":
        if text not in ("1", "0"):
            raise Fail("%s: yes/no value %r is not 1 or 0" % (field.code, text))
        return float(text)
    if field.type == "integer":
        if not INT_RE.match(text):
            raise Fail("%s: %r is not a plain integer" % (field.code, text))
    elif field.type == "decimal":
        m = DEC_RE.match(text)
        if not m:
            raise Fail("%s: %r is not a plain decimal" % (field.code, text))
        if m.group(1) and len(m.group(1)) > field.decimals:
            raise Fail("%s: %r has more than %d decimals" % (field.code, text, field.decimals))
    else:
        raise Fail("%s: a %s field is not a number" % (field.code, field.type))
    v = float(text)
    if v < field.min or (field.max is not None and v > field.max):
        raise Fail("%s: %s is outside %s..%s" % (field.code, text, field.min, field.max))
    return v


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cases_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "unit", "rule_cases.json")
    forms_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "db", "forms")
    ck = Results()
    try:
        fields, rules = load_forms(forms_dir)
        doc = exprlib.load_json(cases_path)
        if not isinstance(doc, dict) or set(doc) - {"_comment", "cases"} or \
                not isinstance(doc.get("cases"), list):
            raise Fail("expected {\"_comment\": …, \"cases\": [ … ]}")
    except (Fail, OSError, ValueError, KeyError) as e:
        print("FAIL load: %s" % e)
        print("0 passed, 1 failed")
        return 1
    by_code = {r[0]: r for r in rules}
    cases = doc["cases"]

    # Coverage: exactly one case per expanded rule, none for an unknown rule.
    count = {}
    for c in cases:
        if isinstance(c, dict):
            count[c.get("rule")] = count.get(c.get("rule"), 0) + 1
    for code, *_ in rules:
        def cover(code=code):
            if count.get(code, 0) != 1:
                raise Fail("%d cases (want exactly 1)" % count.get(code, 0))
        ck.run("coverage of %s" % code, cover, Fail)

    def no_unknown():
        unknown = sorted(str(k) for k in count if k not in by_code)
        if unknown:
            raise Fail("cases for unknown rules: %s" % ", ".join(unknown))
    ck.run("unknown rules", no_unknown, Fail)

    for i, c in enumerate(cases):
        name = "case %d (%s)" % (i, c.get("rule") if isinstance(c, dict) else "?")
        state = {}

        def shape(c=c, state=state):
            if not isinstance(c, dict):
                raise Fail("not an object")
            extra = set(c) - {"rule", "form", "school_type", "pass", "fail", "_comment"}
            if extra:
                raise Fail("unknown keys %s" % sorted(extra))
            r = by_code.get(c.get("rule"))
            if r is None:
                raise Fail("unknown rule %r" % c.get("rule"))
            code, form, st, src, tree = r
            if c.get("form") != form:
                raise Fail("form %r, the rule belongs to %r" % (c.get("form"), form))
            t = c.get("school_type")
            if t not in SCHOOL_TYPES:
                raise Fail("unknown school_type %r" % t)
            if st is not None and st not in SCHOOL_TYPES[t]:
                raise Fail("school type %s has no stage %s" % (t, st))
            for k in ("pass", "fail"):
                if not isinstance(c.get(k), dict) or not c[k]:
                    raise Fail("%r must be a non-empty object" % k)
            state["rule"] = r

        def field_check(c=c, state=state):
            r = state["rule"]
            t = c["school_type"]
            needed = [f for f in dict.fromkeys(fields_of(r[4])) if fields[f].exists_for(t)]
            if not needed:
                raise Fail("the rule reads no field that school type %s has" % t)
            for k in ("pass", "fail"):
                for code in c[k]:
                    f = fields.get(code)
                    if f is None:
                        raise Fail("%s: unknown field %s" % (k, code))
                    if not f.exists_for(t):
                        raise Fail("%s: school type %s has no field %s" % (k, t, code))
                missing = [f for f in needed if f not in c[k]]
                if missing:
                    raise Fail("%s lacks %s, read by the rule" % (k, ", ".join(missing)))
            if c["pass"] == c["fail"]:
                raise Fail("pass and fail are the same")
            state["fields_ok"] = True

        def values_check(c=c, state=state):
            vals = {}
            for k in ("pass", "fail"):
                vals[k] = {code: parse_value(fields[code], v)
                           for code, v in c[k].items() if code in fields}
            state["vals"] = vals

        def eval_check(c=c, state=state, want_key="pass"):
            if "vals" not in state or "fields_ok" not in state:
                raise Fail("not evaluated (earlier check failed)")
            r = state["rule"]
            v = evaluate(r[4], state["vals"][want_key])
            want = 1.0 if want_key == "pass" else 0.0
            if v is None:
                raise Fail("%s: %s is missing, want %s" % (want_key, r[3], bool(want)))
            if (v != 0) != bool(want):
                raise Fail("%s: %s is %s, want %s" % (want_key, r[3], v != 0, bool(want)))

        ck.run(name + " shape", shape, Fail)
        if "rule" not in state:
            continue
        ck.run(name + " fields", field_check, Fail)
        ck.run(name + " values", values_check, Fail)
        ck.run(name + " pass is true", lambda: eval_check(want_key="pass"), Fail)
        ck.run(name + " fail is false", lambda: eval_check(want_key="fail"), Fail)

    print("%d expanded rules, %d cases" % (len(rules), len(cases)))
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())

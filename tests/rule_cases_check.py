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
  - with an evaluator of docs/expressions.md written here (missing values spread through
    arithmetic and comparisons, sum/min/max skip them, and/or/not are three-valued, x/0 is
    missing, == has relative tolerance 1e-9), "pass" evaluates to true and "fail" to false
    (never missing), and the two differ.
Prints each failure, then "N passed, M failed"; exits 1 on any failure. Python 3 stdlib only.
"""
import json
import math
import os
import re
import sys

FORMS = ["basic", "students", "staff", "facilities"]
STAGES = ["kg", "pri", "jun", "sen", "voc", "spe"]
# 办学类型 codes and their stages (core/orgunit.c).
SCHOOL_TYPES = {
    "111": ["kg"], "211": ["pri"], "218": ["pri"], "311": ["jun"], "312": ["pri", "jun"],
    "341": ["jun", "sen"], "342": ["sen"], "345": ["pri", "jun", "sen"], "361": ["voc"],
    "362": ["voc"], "365": ["voc"], "366": ["voc"], "511": ["spe"], "512": ["spe"],
    "513": ["spe"], "514": ["spe"],
}
FUNCTIONS = {"sum": (1, 64), "min": (1, 64), "max": (1, 64), "abs": (1, 1), "ceil": (1, 1)}


class Fail(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Expression language (docs/expressions.md)

TOKEN_RE = re.compile(r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|([a-z_][a-z0-9_]*)|(==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|,))")


def tokenize(src):
    toks, pos = [], 0
    while True:
        while pos < len(src) and src[pos] in " \t\r\n":
            pos += 1
        if pos >= len(src):
            break
        m = TOKEN_RE.match(src, pos)
        if not m:
            raise Fail("column %d: unexpected %r" % (pos + 1, src[pos]))
        if m.group(1) is not None:
            end = m.end()
            if end < len(src) and (src[end].isdigit() or src[end] in "._" or src[end].isalpha()):
                raise Fail("column %d: malformed number" % (pos + 1))
            toks.append(("num", float(m.group(1))))
        elif m.group(2) is not None:
            name = m.group(2)
            if len(name) > 64:
                raise Fail("column %d: name too long" % (pos + 1))
            toks.append(("kw", name) if name in ("and", "or", "not") else ("name", name))
        else:
            toks.append(("op", m.group(3)))
        pos = m.end()
    return toks


class Parser:
    """Recursive descent; builds tuples: ("num", v) ("field", code) ("call", f, [args])
    ("neg", x) ("not", x) ("and"|"or", a, b) ("bin", op, a, b) ("cmp", op, a, b)."""

    def __init__(self, src):
        self.toks = tokenize(src)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def accept(self, kind, val):
        if self.peek() == (kind, val):
            self.i += 1
            return True
        return False

    def parse(self):
        if not self.toks:
            raise Fail("empty expression")
        t = self.or_()
        if self.i != len(self.toks):
            raise Fail("unexpected %r" % (self.peek()[1],))
        return t

    def or_(self):
        t = self.and_()
        while self.accept("kw", "or"):
            t = ("or", t, self.and_())
        return t

    def and_(self):
        t = self.not_()
        while self.accept("kw", "and"):
            t = ("and", t, self.not_())
        return t

    def not_(self):
        if self.accept("kw", "not"):
            return ("not", self.not_())
        return self.cmp()

    def cmp(self):
        t = self.add()
        k, v = self.peek()
        if k == "op" and v in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            t = ("cmp", v, t, self.add())
            k2, v2 = self.peek()
            if k2 == "op" and v2 in ("==", "!=", "<", "<=", ">", ">="):
                raise Fail("comparisons cannot be chained")
        return t

    def add(self):
        t = self.mul()
        while True:
            k, v = self.peek()
            if k == "op" and v in ("+", "-"):
                self.i += 1
                t = ("bin", v, t, self.mul())
            else:
                return t

    def mul(self):
        t = self.unary()
        while True:
            k, v = self.peek()
            if k == "op" and v in ("*", "/"):
                self.i += 1
                t = ("bin", v, t, self.unary())
            else:
                return t

    def unary(self):
        if self.accept("op", "-"):
            return ("neg", self.unary())
        return self.primary()

    def primary(self):
        k, v = self.peek()
        if k == "num":
            self.i += 1
            return ("num", v)
        if k == "name":
            self.i += 1
            if self.accept("op", "("):
                if v not in FUNCTIONS:
                    raise Fail("unknown function %r" % v)
                args = [self.or_()]
                while self.accept("op", ","):
                    args.append(self.or_())
                if not self.accept("op", ")"):
                    raise Fail("expected ')'")
                lo, hi = FUNCTIONS[v]
                if not lo <= len(args) <= hi:
                    raise Fail("%s() takes %d to %d arguments" % (v, lo, hi))
                return ("call", v, args)
            return ("field", v)
        if self.accept("op", "("):
            t = self.or_()
            if not self.accept("op", ")"):
                raise Fail("expected ')'")
            return t
        raise Fail("unexpected %s" % ("end of expression" if k is None else repr(v)))


def is_condition(t):
    return t[0] in ("cmp", "and", "or", "not")


def fields_of(t, out):
    if t[0] == "field":
        out.append(t[1])
    elif t[0] == "call":
        for a in t[2]:
            fields_of(a, out)
    elif t[0] in ("neg", "not"):
        fields_of(t[1], out)
    elif t[0] in ("and", "or"):
        fields_of(t[1], out)
        fields_of(t[2], out)
    elif t[0] in ("bin", "cmp"):
        fields_of(t[2], out)
        fields_of(t[3], out)
    return out


def finite(x):
    """None (missing) for a non-finite result; -0 becomes 0."""
    if x is None or math.isinf(x) or math.isnan(x):
        return None
    return x + 0.0 if x != 0 else 0.0


def truth(x):
    return None if x is None else (x != 0)


def evaluate(t, vals):
    """Value of tree t, None when missing; vals maps field code -> float."""
    op = t[0]
    if op == "num":
        return t[1]
    if op == "field":
        v = vals.get(t[1])
        return v if v is not None and math.isfinite(v) else None
    if op == "neg":
        x = evaluate(t[1], vals)
        return None if x is None else finite(-x)
    if op == "not":
        x = truth(evaluate(t[1], vals))
        return None if x is None else float(not x)
    if op in ("and", "or"):
        a = truth(evaluate(t[1], vals))
        b = truth(evaluate(t[2], vals))
        if op == "and":
            if a is False or b is False:
                return 0.0
            if a is None or b is None:
                return None
            return 1.0
        if a is True or b is True:
            return 1.0
        if a is None or b is None:
            return None
        return 0.0
    if op == "call":
        f = t[1]
        args = [evaluate(a, vals) for a in t[2]]
        if f in ("abs", "ceil"):
            x = args[0]
            if x is None:
                return None
            return finite(abs(x)) if f == "abs" else finite(float(math.ceil(x)))
        present = [a for a in args if a is not None]
        if not present:
            return None
        if f == "sum":
            s = 0.0
            for a in present:
                s += a
            return finite(s)
        return min(present) if f == "min" else max(present)
    if op == "bin":
        a = evaluate(t[2], vals)
        b = evaluate(t[3], vals)
        if a is None or b is None:
            return None
        o = t[1]
        try:
            if o == "+":
                return finite(a + b)
            if o == "-":
                return finite(a - b)
            if o == "*":
                return finite(a * b)
            return None if b == 0 else finite(a / b)
        except OverflowError:
            return None
    if op == "cmp":
        a = evaluate(t[2], vals)
        b = evaluate(t[3], vals)
        if a is None or b is None:
            return None
        o = t[1]
        if o in ("==", "!="):
            eq = abs(a - b) <= 1e-9 * max(abs(a), abs(b))
            return float(eq if o == "==" else not eq)
        return float({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[o])
    raise Fail("bad node %r" % (op,))


# ---------------------------------------------------------------------------------------------
# Forms

def no_dups(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise Fail("duplicate key %r" % k)
        d[k] = v
    return d


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_dups)


class Field:
    def __init__(self, form, code, spec, row=None):
        self.form = form
        self.code = code
        self.type = spec.get("type")
        self.min = spec.get("min", 0)
        self.max = spec.get("max")
        self.decimals = spec.get("decimals", 0)
        self.stages = spec.get("stages")          # plain field: any of; grid column: rows
        self.school_types = spec.get("school_types")
        self.row = row

    def exists_for(self, school_type):
        have = SCHOOL_TYPES[school_type]
        if self.school_types is not None and school_type not in self.school_types:
            return False
        if self.row is not None:
            return self.row in have and (self.stages is None or self.row in self.stages)
        return self.stages is None or any(s in have for s in self.stages)


def load_forms(forms_dir):
    fields, rules = {}, []          # rules: (expanded code, form, stage or None, tree)
    for form in FORMS:
        d = load_json(os.path.join(forms_dir, form + ".json"))
        for sec in d.get("sections", []):
            for spec in sec.get("fields", []):
                fields[spec["code"]] = Field(form, spec["code"], spec)
            grid = sec.get("grid")
            if grid:
                for row in grid["rows"]:
                    for spec in grid["columns"]:
                        if spec.get("stages") is not None and row not in spec["stages"]:
                            continue
                        code = row + "_" + spec["code"]
                        fields[code] = Field(form, code, spec, row)
        for r in d.get("rules", []):
            stages = r.get("stages")
            for st in (stages if stages else [None]):
                src = r["expr"]
                if st is not None:
                    src = re.sub(r"(?<![a-z0-9_])s_(?=[a-z0-9_])", st + "_", src)
                code = r["code"] if st is None else r["code"] + ":" + st
                rules.append((code, form, st, src))
    parsed = []
    for code, form, st, src in rules:
        tree = Parser(src).parse()
        if not is_condition(tree):
            raise Fail("rule %s is not a condition" % code)
        for name in fields_of(tree, []):
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


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, what, fn):
        try:
            fn()
            self.passed += 1
        except Fail as e:
            self.failed += 1
            print("FAIL %s: %s" % (what, e))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    cases_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "unit", "rule_cases.json")
    forms_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "db", "forms")
    ck = Checker()
    try:
        fields, rules = load_forms(forms_dir)
        doc = load_json(cases_path)
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
        ck.run("coverage of %s" % code, cover)

    def no_unknown():
        unknown = sorted(str(k) for k in count if k not in by_code)
        if unknown:
            raise Fail("cases for unknown rules: %s" % ", ".join(unknown))
    ck.run("unknown rules", no_unknown)

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
            needed = [f for f in dict.fromkeys(fields_of(r[4], [])) if fields[f].exists_for(t)]
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

        ck.run(name + " shape", shape)
        if "rule" not in state:
            continue
        ck.run(name + " fields", field_check)
        ck.run(name + " values", values_check)
        ck.run(name + " pass is true", lambda: eval_check(want_key="pass"))
        ck.run(name + " fail is false", lambda: eval_check(want_key="fail"))

    print("%d expanded rules, %d cases" % (len(rules), len(cases)))
    print("%d passed, %d failed" % (ck.passed, ck.failed))
    return 1 if ck.failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""exprlib.py — the expression language of docs/expressions.md and the form definitions, for the
checkers tests/forms_check.py, tests/rule_cases_check.py and tests/demo_values_check.py.

One Python reading of what core/expr.c and core/form.c do, written independently of them so that
the checkers can judge db/forms/*.json, tests/unit/rule_cases.json and db/demo/values.py:
  - the tokenizer and parser of core/expr.c: the same grammar, precedence and limits (4096 bytes
    of source, 64 levels of nesting, 512 operations, 64-character names, 1..64 arguments), and
    the same English error messages starting with the 1-based column;
  - the evaluator with the semantics of docs/expressions.md: missing values (None) spread through
    arithmetic, unary minus, abs, ceil and comparisons; sum/min/max skip them; and/or/not are
    three-valued; x/0, an overflow and a stored non-finite value are missing; -0 is 0; == and !=
    have the relative tolerance 1e-9;
  - the stage expansion of per-stage rules (s_ becomes the stage prefix);
  - loading the four forms (JSON with duplicate keys refused), their expanded fields (grid cells
    row_column) and which of them a school of a given 办学类型 has;
  - Results, the pass/fail counter every checker ends with ("N passed, M failed").
Python 3 standard library only.  The checkers import it with
  sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
so that it is found from any working directory and from a read-only copy of the tree.
"""
import json
import math
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FORMS_DIR = os.path.join(ROOT, "db", "forms")

FORMS = ["basic", "students", "staff", "facilities"]
STAGES = ["kg", "pri", "jun", "sen", "voc", "spe"]
# 办学类型 codes the system supports and their stages (core/orgunit.c).
SCHOOL_TYPES = {
    "111": ["kg"], "211": ["pri"], "218": ["pri"], "311": ["jun"], "312": ["pri", "jun"],
    "341": ["jun", "sen"], "342": ["sen"], "345": ["pri", "jun", "sen"], "361": ["voc"],
    "362": ["voc"], "365": ["voc"], "366": ["voc"], "511": ["spe"], "512": ["spe"],
    "513": ["spe"], "514": ["spe"],
}

# The limits of core/expr.h.
MAX_SOURCE = 4096   # bytes of source text
MAX_DEPTH = 64      # nesting levels: each '(', function call, unary '-' and 'not'
MAX_NODES = 512     # operations: each number, field, operator and call
MAX_NAME = 64       # characters of a field code
MAX_ARGS = 64       # arguments of sum/min/max
EQ_TOLERANCE = 1e-9

# function -> (fewest, most arguments)
FUNCTIONS = {"sum": (1, MAX_ARGS), "min": (1, MAX_ARGS), "max": (1, MAX_ARGS), "abs": (1, 1),
             "ceil": (1, 1)}
RESERVED = {"and", "or", "not"}
COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")


class ExprError(ValueError):
    """An expression that does not parse; the message starts with "column N: "."""


# ---------------------------------------------------------------------------------------------
# Tokens

_SPACE = " \t\n\r"
_DIGITS = "0123456789"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_WORD = _DIGITS + _LOWER + _UPPER + "_"
_NUMBER_RE = re.compile(r"[0-9]*(?:\.[0-9]*)?")


def _error_token(pos, message):
    """A token that stands for a lexical error; the parser raises it once it reaches it."""
    return ("error", message, pos, "")


def _lex_number(src, pos):
    """The number token at pos, or an error token (a malformed or too large number)."""
    i = _NUMBER_RE.match(src, pos).end()
    text = src[pos:i]
    if text.endswith("."):
        return _error_token(pos, "malformed number '%s' (write 5 or 5.0, not 5.)" % text)
    if i < len(src) and (src[i] in _WORD or src[i] == "."):
        j = i
        while j < len(src) and (src[j] in _WORD or src[j] == "."):
            j += 1
        return _error_token(pos, "malformed number '%s'" % src[pos:min(j, pos + 64)])
    value = float(text)
    if not math.isfinite(value):
        return _error_token(pos, "number too large")
    return ("num", value, pos, text)


def _lex_name(src, pos):
    """The name or keyword token at pos, or an error token (uppercase, too long)."""
    i = pos
    while i < len(src) and src[i] in _WORD:
        i += 1
    text = src[pos:i]
    if any(c in _UPPER for c in text):
        return _error_token(pos, "'%s': names and keywords are lowercase" % text[:64])
    if len(text) > MAX_NAME:
        return _error_token(pos, "name longer than %d characters" % MAX_NAME)
    return ("kw" if text in RESERVED else "name", text, pos, text)


def _lex_other(src, pos):
    """The operator token at pos, or an error token naming the character (with a hint)."""
    c, c1 = src[pos], src[pos + 1:pos + 2]
    if c in "+-*/(),":
        return ("op", c, pos, c)
    if c in "<>=!" and c1 == "=":
        return ("op", c + "=", pos, c + "=")
    if c in "<>":
        return ("op", c, pos, c)
    hints = {"=": "unexpected '=' (use '==' to compare)", "!": "unexpected '!' (use 'not')",
             "&": "unexpected '&' (use 'and')", "|": "unexpected '|' (use 'or')"}
    if c in hints:
        return _error_token(pos, hints[c])
    if ord(c) < 0x20 or ord(c) == 0x7F:
        return _error_token(pos, "unexpected control character 0x%02X" % ord(c))
    return _error_token(pos, "unexpected character '%s'" % c)


def tokenize(src):
    """Tokens of src as (kind, value, position, text): kind "num" (value a float), "name",
    "kw" (and, or, not), "op" (value the operator), ending with ("end", None, pos, "") or, at the
    first lexical error, with ("error", message, pos, ""), which the parser raises when it gets
    there (so that an earlier syntax error is reported first, as core/expr.c does)."""
    toks, pos = [], 0
    while True:
        while pos < len(src) and src[pos] in _SPACE:
            pos += 1
        if pos >= len(src):
            toks.append(("end", None, pos, ""))
            return toks
        c = src[pos]
        if c in _DIGITS or (c == "." and src[pos + 1:pos + 2] in tuple(_DIGITS)):
            tok = _lex_number(src, pos)
        elif c in _LOWER or c in _UPPER or c == "_":
            tok = _lex_name(src, pos)
        else:
            tok = _lex_other(src, pos)
        toks.append(tok)
        if tok[0] == "error":
            return toks
        pos += len(tok[3])


# ---------------------------------------------------------------------------------------------
# Parser

class _Parser:
    """Recursive descent over the precedence levels of docs/expressions.md (or, and, not,
    comparison, + -, * /, unary -, primary), building the tree parse() describes and counting
    nesting levels and operations as core/expr.c does."""

    def __init__(self, src, known):
        """A parser of src (tokenized at once); known as parse() takes it."""
        self.src = src
        self.known = known
        self.toks = tokenize(src)
        self.i = 0
        self.depth = 0
        self.nodes = 0

    def fail(self, pos, message):
        """Raise ExprError("column N: message") for the character offset pos."""
        raise ExprError("column %d: %s" % (pos + 1, message))

    @property
    def tok(self):
        """The current token."""
        return self.toks[self.i]

    def is_op(self, *ops):
        """True when the current token is one of the operators or keywords ops."""
        return self.tok[0] in ("op", "kw") and self.tok[1] in ops

    def next(self):
        """Advance to the next token; raise the lexical error it may be."""
        self.i += 1
        self.check_lexed()

    def check_lexed(self):
        """Raise the lexical error the current token stands for, if it is one."""
        if self.tok[0] == "error":
            self.fail(self.tok[2], self.tok[1])

    def fail_unexpected(self):
        """Report the current token as unexpected, naming it."""
        kind, _, pos, text = self.tok
        if kind == "end":
            self.fail(pos, "unexpected end of expression")
        self.fail(pos, "unexpected '%s'" % text[:64])

    def emit(self, pos):
        """Count one operation; too many is an error at pos."""
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(pos, "expression too large (more than %d operations)" % MAX_NODES)

    def enter(self, pos):
        """Enter one nesting level; too deep is an error at pos."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(pos, "expression nested too deeply (more than %d levels)" % MAX_DEPTH)

    def parse(self):
        """The tree of the whole source (see parse())."""
        raw = self.src.encode("utf-8")
        if len(raw) > MAX_SOURCE:
            col = len(raw[:MAX_SOURCE].decode("utf-8", "ignore"))
            self.fail(col, "expression too long (more than %d characters)" % MAX_SOURCE)
        self.check_lexed()
        if self.tok[0] == "end":
            self.fail(0, "empty expression")
        tree = self.or_()
        if self.tok[0] != "end":
            if self.is_op(")"):
                self.fail(self.tok[2], "unexpected ')' (no matching '(')")
            self.fail_unexpected()
        return tree

    def left_assoc(self, operand, ops, node):
        """operand (OP operand)* for the operators ops, grouped from the left; node(op, a, b)
        builds each node."""
        t = operand()
        while self.is_op(*ops):
            op, pos = self.tok[1], self.tok[2]
            self.next()
            t = node(op, t, operand())
            self.emit(pos)
        return t

    def prefix(self, op, operand, kind):
        """OP operand (one nesting level): the node (kind, operand), or operand alone when the
        current token is not op."""
        if not self.is_op(op):
            return operand()
        pos = self.tok[2]
        self.enter(pos)
        self.next()
        t = (kind, self.prefix(op, operand, kind))
        self.emit(pos)
        self.depth -= 1
        return t

    def or_(self):
        """or := and ('or' and)*"""
        return self.left_assoc(self.and_, ("or",), lambda op, a, b: (op, a, b))

    def and_(self):
        """and := not ('and' not)*"""
        return self.left_assoc(self.not_, ("and",), lambda op, a, b: (op, a, b))

    def not_(self):
        """not := 'not' not | comparison"""
        return self.prefix("not", self.comparison, "not")

    def comparison(self):
        """comparison := add [cmp add]; comparisons do not chain."""
        t = self.add()
        if not self.is_op(*COMPARISONS):
            return t
        op, pos = self.tok[1], self.tok[2]
        self.next()
        t = ("cmp", op, t, self.add())
        if self.is_op(*COMPARISONS):
            self.fail(self.tok[2], "comparisons cannot be chained (use 'and')")
        self.emit(pos)
        return t

    def add(self):
        """add := mul (('+' | '-') mul)*"""
        return self.left_assoc(self.mul, ("+", "-"), lambda op, a, b: ("bin", op, a, b))

    def mul(self):
        """mul := unary (('*' | '/') unary)*"""
        return self.left_assoc(self.unary, ("*", "/"), lambda op, a, b: ("bin", op, a, b))

    def unary(self):
        """unary := '-' unary | primary"""
        return self.prefix("-", self.primary, "neg")

    def primary(self):
        """primary := NUMBER | NAME | function call | '(' or ')'"""
        kind, value, pos, _ = self.tok
        if kind == "num":
            self.emit(pos)
            self.next()
            return ("num", value)
        if self.is_op("("):
            self.enter(pos)
            self.next()
            t = self.or_()
            if not self.is_op(")"):
                self.fail(self.tok[2], "expected ')'")
            self.next()
            self.depth -= 1
            return t
        if kind != "name":
            self.fail_unexpected()
        self.next()
        if self.is_op("("):
            return self.call(value, pos)
        if self.known is not None and value not in self.known:
            self.fail(pos, "unknown field '%s'" % value)
        self.emit(pos)
        return ("field", value)

    def call(self, name, pos):
        """call := NAME '(' or (',' or)* ')'; the current token is '('."""
        if name not in FUNCTIONS:
            self.fail(pos, "unknown function '%s'" % name)
        hi = FUNCTIONS[name][1]     # at least one argument: the grammar asks for it
        self.enter(pos)
        self.next()
        if self.is_op(")"):
            self.fail(self.tok[2], "%s() needs an argument" % name)
        args = []
        while True:
            if len(args) == hi:
                self.fail(self.tok[2], "%s() takes exactly one argument" % name if hi == 1
                          else "%s() takes at most %d arguments" % (name, hi))
            args.append(self.or_())
            if not self.is_op(","):
                break
            self.next()
        if not self.is_op(")"):
            self.fail(self.tok[2], "expected ')' or ','")
        self.emit(pos)
        self.next()
        self.depth -= 1
        return ("call", name, args)


def parse(src, known=None):
    """The tree of expression src, or ExprError("column N: ...") as core/expr.c words it.
    Nodes: ("num", value) ("field", code) ("call", function, [args]) ("neg", x) ("not", x)
    ("and" | "or", a, b) ("bin", "+" | "-" | "*" | "/", a, b) ("cmp", comparison, a, b).
    With `known` (a container of field codes) a name outside it is an "unknown field" error;
    without it every name is taken as a field code."""
    return _Parser(src, known).parse()


def is_condition(tree):
    """True when the top-level operation is a comparison, and, or or not (what a rule must be)."""
    return tree[0] in ("cmp", "and", "or", "not")


def fields_of(tree, out=None):
    """The field codes tree reads, in source order with repeats, appended to out (a list)."""
    out = [] if out is None else out
    kind = tree[0]
    if kind == "field":
        out.append(tree[1])
    elif kind == "call":
        for a in tree[2]:
            fields_of(a, out)
    elif kind in ("neg", "not"):
        fields_of(tree[1], out)
    elif kind in ("and", "or"):
        fields_of(tree[1], out)
        fields_of(tree[2], out)
    elif kind in ("bin", "cmp"):
        fields_of(tree[2], out)
        fields_of(tree[3], out)
    return out


# ---------------------------------------------------------------------------------------------
# Evaluation

def _finite(x):
    """x with -0 made 0, or None (missing) for None and a non-finite number."""
    if x is None or not math.isfinite(x):
        return None
    return x + 0.0


def _truth(x):
    """None (missing), True or False for a value used as a condition."""
    return None if x is None else x != 0


def approx_equal(a, b):
    """== of the language: |a - b| <= 1e-9 * max(|a|, |b|) (relative only: nothing but 0 is 0)."""
    return a == b or abs(a - b) <= EQ_TOLERANCE * max(abs(a), abs(b))


def _logic(op, a, b):
    """Three-valued and/or of two values (None is missing)."""
    a, b = _truth(a), _truth(b)
    decider = op == "or"            # the value that decides alone: false for and, true for or
    if a is decider or b is decider:
        return float(decider)
    if a is None or b is None:
        return None
    return float(not decider)


def _call(name, args):
    """A function applied to evaluated arguments (None is missing)."""
    if name in ("abs", "ceil"):
        x = args[0]
        if x is None:
            return None
        return _finite(abs(x)) if name == "abs" else _finite(float(math.ceil(x)))
    present = [a for a in args if a is not None]
    if not present:
        return None
    r = present[0]
    for a in present[1:]:
        r = r + a if name == "sum" else min(r, a) if name == "min" else max(r, a)
    return _finite(r)


def _arith(op, a, b):
    """+ - * / of two present values; x/0 and an overflow are missing."""
    try:
        if op == "+":
            return _finite(a + b)
        if op == "-":
            return _finite(a - b)
        if op == "*":
            return _finite(a * b)
        return None if b == 0 else _finite(a / b)
    except OverflowError:
        return None


def _compare(op, a, b):
    """A comparison of two present values as 1.0/0.0 (== and != with the tolerance)."""
    if op in ("==", "!="):
        eq = approx_equal(a, b)
        return float(eq if op == "==" else not eq)
    return float({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op])


def evaluate(tree, vals):
    """The value (a float) of tree with vals (field code -> number); None is missing: a field
    absent from vals, None or not finite, and whatever docs/expressions.md makes missing."""
    kind = tree[0]
    if kind == "num":
        return tree[1]
    if kind == "field":
        v = vals.get(tree[1])
        return None if v is None else _finite(float(v))
    if kind == "neg":
        x = evaluate(tree[1], vals)
        return None if x is None else _finite(-x)
    if kind == "not":
        x = _truth(evaluate(tree[1], vals))
        return None if x is None else float(not x)
    if kind in ("and", "or"):
        return _logic(kind, evaluate(tree[1], vals), evaluate(tree[2], vals))
    if kind == "call":
        return _call(tree[1], [evaluate(a, vals) for a in tree[2]])
    if kind in ("bin", "cmp"):
        a, b = evaluate(tree[2], vals), evaluate(tree[3], vals)
        if a is None or b is None:
            return None
        return _arith(tree[1], a, b) if kind == "bin" else _compare(tree[1], a, b)
    raise ValueError("bad node %r" % (kind,))


# ---------------------------------------------------------------------------------------------
# Per-stage rules

def expand(src, stage):
    """src with the stage prefix s_ of every name (not inside a longer name) replaced by
    stage + "_"; src itself for stage None."""
    if stage is None:
        return src
    return re.sub(r"(?<![a-z0-9_])s_(?=[a-z0-9_])", stage + "_", src)


def rule_expansions(rule):
    """[(stage or None, expanded expression)] of a rule: one per stage of a per-stage rule
    (non-empty "stages"), else the expression as it is."""
    stages = rule.get("stages")
    if isinstance(stages, list) and stages:
        return [(s, expand(rule["expr"], s)) for s in stages]
    return [(None, rule["expr"])]


def expanded_rules(forms):
    """[(form code, rule, stage or None, expanded source, tree)] of every rule of forms
    ({code: definition}); ExprError for a rule that does not parse."""
    out = []
    for code, form in forms.items():
        for rule in form.get("rules", []):
            for stage, src in rule_expansions(rule):
                out.append((code, rule, stage, src, parse(src)))
    return out


# ---------------------------------------------------------------------------------------------
# Form definitions

def no_duplicate_keys(pairs):
    """object_pairs_hook for json: a dict, or ValueError naming the keys given twice."""
    keys = [k for k, _ in pairs]
    dups = sorted({k for k in keys if keys.count(k) > 1})
    if dups:
        raise ValueError("duplicate keys: " + ", ".join(dups))
    return dict(pairs)


def load_json(path):
    """The JSON document in path (UTF-8), refusing duplicate keys (ValueError)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f, object_pairs_hook=no_duplicate_keys)


def load_forms(forms_dir=None):
    """{code: definition} of the four forms FORMS, read from forms_dir/<code>.json (default
    db/forms of this tree); OSError or ValueError when one is missing or not valid JSON."""
    forms_dir = forms_dir or FORMS_DIR
    return {code: load_json(os.path.join(forms_dir, code + ".json")) for code in FORMS}


def form_fields(form):
    """Yield (code, definition, row) for every field a form declares, in page order: a plain
    field with row None, a grid cell "<row>_<column>" for each grid row the column has (its
    "stages", by default all the rows). Parts that are not shaped as docs/forms.md says are
    skipped, so that this also serves a checker of the shape."""
    for sec in form.get("sections") or []:
        if not isinstance(sec, dict):
            continue
        if isinstance(sec.get("fields"), list):
            for f in sec["fields"]:
                if isinstance(f, dict) and isinstance(f.get("code"), str):
                    yield f["code"], f, None
        grid = sec.get("grid")
        if isinstance(grid, dict) and isinstance(grid.get("rows"), list) \
                and isinstance(grid.get("columns"), list):
            for col in grid["columns"]:
                if not isinstance(col, dict) or not isinstance(col.get("code"), str):
                    continue
                for row in grid["rows"]:
                    if isinstance(row, str) and row in (col.get("stages") or grid["rows"]):
                        yield row + "_" + col["code"], col, row


def field_applies(definition, row, school_type):
    """True when a school of school_type has the field (a form_fields() entry): its
    "school_types" include the type, and a grid cell's row is a stage of the school, a plain
    field's "stages" (if any) share one with it."""
    have = SCHOOL_TYPES[school_type]
    if definition.get("school_types") is not None and school_type not in definition["school_types"]:
        return False
    stages = definition.get("stages")
    if row is not None:
        return row in have and (stages is None or row in stages)
    return stages is None or any(s in have for s in stages)


# ---------------------------------------------------------------------------------------------
# Results

class Results:
    """Counts the passed and failed checks of a checker and prints each failure (the first
    `limit` of them when a limit is given)."""

    def __init__(self, limit=None):
        """No checks yet; print at most `limit` failures (None: all)."""
        self.passed = 0
        self.failed = 0
        self.limit = limit

    def _fail(self, line):
        """Count a failure and print its line unless past the limit."""
        self.failed += 1
        if self.limit is None or self.failed <= self.limit:
            print(line)

    def check(self, cond, what):
        """Count cond as a passed or failed check ("FAIL: what"); return cond."""
        if cond:
            self.passed += 1
        else:
            self._fail("FAIL: %s" % what)
        return cond

    def run(self, what, fn, catch=Exception):
        """Call fn(): a check that passes unless it raises catch ("FAIL what: message")."""
        try:
            fn()
        except catch as e:  # noqa: BLE001 — the caller chooses what counts as a failure
            self._fail("FAIL %s: %s" % (what, e))
            return False
        self.passed += 1
        return True

    def finish(self):
        """Print "N passed, M failed"; return the exit status (1 on any failure)."""
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0

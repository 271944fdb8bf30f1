#!/usr/bin/env python3
"""forms_check.py — checks db/forms/*.json against docs/forms.md and the vocabulary of domain.md.

Usage: tests/forms_check.py [FORMS_DIR]      (default: db/forms beside this tests/ directory)

Checks, for the four forms basic, students, staff, facilities:
  - each file is UTF-8 JSON without duplicate keys, indented with 2 spaces;
  - the shape of docs/forms.md: allowed keys only, value types, code syntax and lengths, bounds;
  - expanded field codes (grid row + "_" + column) are unique across all forms;
  - every field code of domain.md is present in its form, and no other field exists;
  - rules: code/expr/severity/message present, codes unique per form, the expression parses
    (the grammar of core/expr.h, as tests/exprlib.py reads it) and is a condition, every name
    is a field code (after s_ expansion per stage, only where that stage has the field) or
    sum/min/max/abs/ceil, and {stage} appears exactly in per-stage messages;
  - rule direction: on consistent sample data for each school type every rule holds, and a set
    of known-bad changes makes the expected rule fail (evaluated by tests/exprlib.py with the
    semantics of docs/expressions.md: sum/min/max skip missing values, and/or are three-valued).
Prints each failure, then "N passed, M failed"; exits 1 on any failure.
Python 3 standard library only.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exprlib  # noqa: E402
from exprlib import (FORMS, FUNCTIONS, MAX_SOURCE, RESERVED, SCHOOL_TYPES, STAGES,  # noqa: E402
                     ExprError, Results, evaluate, expand, fields_of, is_condition,
                     no_duplicate_keys, parse, rule_expansions)

NOT_KG = ["pri", "jun", "sen", "voc", "spe"]
UNITS = {"人", "个", "间", "m²", "万元", "元", "册", "台", "套", "Mbps", "%"}
TYPES = {"integer", "decimal", "text", "yesno", "choice"}
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CJK_RE = re.compile(r"[\u4e00-\u9fff]")

FORM_KEYS = {"code", "name", "edition", "description", "change_warning", "sections", "rules"}
FORM_REQUIRED = {"code", "name", "edition", "change_warning", "sections", "rules"}
SECTION_KEYS = {"code", "title", "help", "fields", "grid"}
GRID_KEYS = {"rows", "columns"}
FIELD_KEYS = {"code", "label", "unit", "type", "decimals", "min", "max", "max_length", "choices",
              "required", "help", "stages", "school_types"}
RULE_KEYS = {"code", "stages", "expr", "severity", "message", "fields"}

MAX_FORM_CODE = 32
MAX_FIELD_CODE = 48
MAX_RULE_CODE = 48
MAX_EXPR = MAX_SOURCE

# ---------------------------------------------------------------------------------------------
# The field vocabulary of /work/shared/docs/domain.md ("Forms (first edition)"), per form.
# Stage fields s_x are listed with the stages that carry them. Where a domain.md s_ field is
# not given to every stage, the choice is a domain judgement recorded here:
#   - s_classes_46_55 / _56_65 / _66p: not kg (kindergarten norms are 25/30/35 per class; kg
#     reports kg_classes_over_norm instead, which any 46+ kindergarten class falls into);
#   - s_disabled (随班就读): not spe (a special school has no 随班就读; it reports
#     spe_home_taught);
#   - s_t_pe / s_t_music / s_t_art: not kg (kindergarten teachers are not subject teachers).
STAGE_FIELDS = {
    "students": {
        "students": STAGES, "classes": STAGES,
        "classes_46_55": NOT_KG, "classes_56_65": NOT_KG, "classes_66p": NOT_KG,
        "boarders": STAGES, "migrant": STAGES, "left_behind": STAGES,
        "disabled": ["kg", "pri", "jun", "sen", "voc"],
        "classes_over_norm": ["kg"], "home_taught": ["spe"],
    },
    "staff": dict(
        {c: STAGES for c in [
            "teachers", "t_edu_grad", "t_edu_bach", "t_edu_assoc", "t_edu_below",
            "t_title_zg", "t_title_g", "t_title_1", "t_title_2", "t_title_3", "t_title_none",
            "t_backbone", "t_certified", "t_rotated", "t_rot_eligible"]},
        t_pe=NOT_KG, t_music=NOT_KG, t_art=NOT_KG, t_dual=["voc"]),
}
PLAIN_FIELDS = {
    "basic": ["principal_name", "principal_birth_year", "boarding", "broadband_mbps",
              "campus_network", "contact_phone"],
    "students": [],
    "staff": ["staff_total", "kg_caregivers", "kg_principal_certified"],
    "facilities": ["land_area", "building_area", "teaching_area", "indoor_sports_area",
                   "outdoor_sports_area", "equipment_value", "books", "computers",
                   "multimedia_rooms", "music_rooms", "art_rooms", "labs", "dorm_beds",
                   "teacher_housing", "d_grade_area"],
}
# Types and units domain.md (and the form brief) fixes for some fields.
EXPECTED_TYPE = {
    "principal_name": ("text", None), "contact_phone": ("text", None),
    "principal_birth_year": ("integer", None), "boarding": ("yesno", None),
    "campus_network": ("yesno", None), "broadband_mbps": ("integer", "Mbps"),
    "kg_principal_certified": ("yesno", None), "kg_caregivers": ("integer", "人"),
    "staff_total": ("integer", "人"),
    "land_area": ("decimal", "m²"), "building_area": ("decimal", "m²"),
    "teaching_area": ("decimal", "m²"), "indoor_sports_area": ("decimal", "m²"),
    "outdoor_sports_area": ("decimal", "m²"), "d_grade_area": ("decimal", "m²"),
    "equipment_value": ("decimal", "万元"), "books": ("integer", "册"),
    "computers": ("integer", "台"), "multimedia_rooms": ("integer", "间"),
    "music_rooms": ("integer", "间"), "art_rooms": ("integer", "间"), "labs": ("integer", "间"),
    "teacher_housing": ("integer", "套"),
}
# Plain fields that exist only for some stages.
PLAIN_STAGES = {"kg_caregivers": ["kg"], "kg_principal_certified": ["kg"]}
# Rules of domain.md that must be present (code -> severity).
EXPECTED_RULES = {
    "basic": {},
    "students": {"bands_le_classes": "error", "students_ge_classes": "error",
                 "avg_class_size_pri": "warning", "avg_class_size_sec": "warning",
                 "no_super_large_classes": "warning", "boarders_le_dorm_beds": "warning",
                 "kg_over_norm_le_classes": "error"},
    "staff": {"edu_sum_eq_teachers": "error", "title_sum_eq_teachers": "error",
              "backbone_le_teachers": "error", "arts_le_teachers": "error",
              "certified_le_teachers": "error", "rotated_le_eligible": "error",
              "teachers_le_staff_total": "error", "all_teachers_certified": "warning",
              "dual_le_teachers": "error"},
    "facilities": {"teaching_le_building": "error", "indoor_sports_le_teaching": "error",
                   "no_d_grade_buildings": "warning", "music_rooms_per_12_classes": "warning",
                   "art_rooms_per_12_classes": "warning"},
}


def expected_codes(form):
    out = set(PLAIN_FIELDS[form])
    for col, stages in STAGE_FIELDS.get(form, {}).items():
        out.update(s + "_" + col for s in stages)
    return out


# ---------------------------------------------------------------------------------------------
R = Results()


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def nonempty_str(v, maxlen=None):
    return isinstance(v, str) and v.strip() != "" and (maxlen is None or len(v) <= maxlen)


# ---------------------------------------------------------------------------------------------
# Loading and shape.

def load(path):
    with open(path, "rb") as fp:
        raw = fp.read()
    name = os.path.basename(path)
    if not R.check(not raw.startswith(b"\xef\xbb\xbf"), f"{name}: starts with a BOM"):
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        R.check(False, f"{name}: not UTF-8 ({e})")
        return None
    try:
        data = json.loads(text, object_pairs_hook=no_duplicate_keys)
    except ValueError as e:
        R.check(False, f"{name}: invalid JSON ({e})")
        return None
    R.check(True, f"{name}: valid JSON")
    bad = [i + 1 for i, line in enumerate(text.split("\n"))
           if "\t" in line or (len(line) - len(line.lstrip(" "))) % 2]
    R.check(not bad, f"{name}: lines not indented with 2 spaces: {bad[:10]}")
    R.check(text.endswith("\n"), f"{name}: no newline at end of file")
    return data


def check_stages(where, stages, allowed=STAGES):
    return R.check(isinstance(stages, list) and stages and len(set(stages)) == len(stages)
                   and all(s in allowed for s in stages),
                   f"{where}: stages {stages!r} must be a non-empty list of distinct {allowed}")


def check_field(where, f, grid_rows=None):
    if not R.check(isinstance(f, dict), f"{where}: field is not an object"):
        return
    extra = set(f) - FIELD_KEYS
    R.check(not extra, f"{where}: unknown keys {sorted(extra)}")
    code = f.get("code")
    R.check(isinstance(code, str) and CODE_RE.match(code) and len(code) <= MAX_FIELD_CODE,
            f"{where}: bad code {code!r}")
    R.check(code not in FUNCTIONS and code not in RESERVED, f"{where}: code {code!r} is reserved")
    R.check(nonempty_str(f.get("label"), 60) and CJK_RE.search(f.get("label", "")),
            f"{where}: label must be Chinese text of at most 60 characters")
    t = f.get("type")
    if not R.check(t in TYPES, f"{where}: bad type {t!r}"):
        return
    numeric = t in ("integer", "decimal")
    R.check(f.get("required") is True,
            f"{where}: every field is required (a blank is not a 0 in statistics)")
    if "help" in f:
        R.check(nonempty_str(f["help"], 300) and CJK_RE.search(f["help"]),
                f"{where}: help must be Chinese text of at most 300 characters")
    if "unit" in f:
        R.check(numeric and f["unit"] in UNITS, f"{where}: unit {f['unit']!r} not allowed here")
    R.check(("decimals" in f) == (t == "decimal"), f"{where}: decimals is for decimal fields only")
    if "decimals" in f:
        R.check(is_int(f["decimals"]) and 1 <= f["decimals"] <= 6, f"{where}: decimals 1..6")
    R.check(("max_length" in f) <= (t == "text"), f"{where}: max_length is for text only")
    if t == "text":
        R.check(is_int(f.get("max_length")) and 1 <= f["max_length"] <= 200,
                f"{where}: text needs max_length 1..200")
    R.check(("choices" in f) == (t == "choice"), f"{where}: choices go with type choice")
    if t == "choice":
        ch = f.get("choices")
        ok = isinstance(ch, list) and ch and all(
            isinstance(c, dict) and set(c) == {"value", "label"} and nonempty_str(c["value"])
            and nonempty_str(c["label"]) for c in ch)
        R.check(ok and len({c["value"] for c in ch}) == len(ch), f"{where}: bad choices")
    for k in ("min", "max"):
        if k in f:
            R.check(numeric, f"{where}: {k} is for numbers only")
    if numeric:
        mn, mx = f.get("min", 0), f.get("max")
        want = is_int if t == "integer" else is_num
        R.check(want(mn) and mn >= 0, f"{where}: min must be a non-negative {t}")
        R.check(want(mx), f"{where}: a number needs a plausible max (upper bound)")
        if want(mn) and want(mx):
            R.check(mn < mx, f"{where}: min {mn} must be below max {mx}")
    if "stages" in f:
        check_stages(f"{where}.stages", f["stages"], grid_rows or STAGES)
    if "school_types" in f:
        st = f["school_types"]
        R.check(isinstance(st, list) and st and all(s in SCHOOL_TYPES for s in st)
                and len(set(st)) == len(st), f"{where}: bad school_types {st!r}")


def form_fields(form):
    """Expanded fields of a form: code -> [(field definition, stages or None)], one entry per
    definition (so that a code defined twice shows)."""
    out = {}
    for code, f, row in exprlib.form_fields(form):
        out.setdefault(code, []).append((f, f.get("stages") if row is None else [row]))
    return out


def check_shape(name, form):
    if not R.check(isinstance(form, dict), f"{name}: top level is not an object"):
        return False
    extra, missing = set(form) - FORM_KEYS, FORM_REQUIRED - set(form)
    R.check(not extra, f"{name}: unknown keys {sorted(extra)}")
    R.check(not missing, f"{name}: missing keys {sorted(missing)}")
    code = form.get("code")
    R.check(code == name, f"{name}: code {code!r} must be the file name {name!r}")
    R.check(isinstance(code, str) and CODE_RE.match(code) and len(code) <= MAX_FORM_CODE,
            f"{name}: bad form code {code!r}")
    R.check(nonempty_str(form.get("name"), 32) and CJK_RE.search(form.get("name", "")),
            f"{name}: name must be Chinese text of at most 32 characters")
    R.check(is_int(form.get("edition")) and form["edition"] >= 1, f"{name}: edition integer >= 1")
    if "description" in form:
        R.check(nonempty_str(form["description"], 1000), f"{name}: description")
    cw = form.get("change_warning")
    R.check(is_num(cw) and 0 < cw < 1, f"{name}: change_warning must be a share in (0, 1)")
    R.check(cw == 0.30, f"{name}: change_warning must be 0.30 (domain.md: >30% change warns)")
    secs = form.get("sections")
    if not R.check(isinstance(secs, list) and secs, f"{name}: sections must be a non-empty list"):
        return False
    seen = set()
    for i, sec in enumerate(secs):
        where = f"{name}.sections[{i}]"
        if not R.check(isinstance(sec, dict), f"{where}: not an object"):
            continue
        R.check(not set(sec) - SECTION_KEYS, f"{where}: unknown keys {sorted(set(sec) - SECTION_KEYS)}")
        sc = sec.get("code")
        R.check(isinstance(sc, str) and CODE_RE.match(sc) and len(sc) <= MAX_FORM_CODE
                and sc not in seen, f"{where}: bad or repeated section code {sc!r}")
        seen.add(sc)
        R.check(nonempty_str(sec.get("title"), 40), f"{where}: title required")
        if "help" in sec:
            R.check(nonempty_str(sec["help"], 300), f"{where}: help")
        if not R.check(("fields" in sec) != ("grid" in sec),
                       f"{where}: a section holds either fields or one grid"):
            continue
        if "fields" in sec:
            fl = sec["fields"]
            if R.check(isinstance(fl, list) and fl, f"{where}: fields must be a non-empty list"):
                for j, f in enumerate(fl):
                    check_field(f"{where}.fields[{j}]", f)
        else:
            g = sec["grid"]
            if not R.check(isinstance(g, dict) and set(g) == GRID_KEYS,
                           f"{where}: grid needs exactly rows and columns"):
                continue
            check_stages(f"{where}.grid.rows", g["rows"])
            R.check(g["rows"] == STAGES, f"{where}: grid rows must be {STAGES}")
            cols = g["columns"]
            if R.check(isinstance(cols, list) and cols, f"{where}: columns non-empty list"):
                codes = [c.get("code") for c in cols if isinstance(c, dict)]
                R.check(len(codes) == len(set(codes)), f"{where}: repeated column codes")
                for j, c in enumerate(cols):
                    check_field(f"{where}.grid.columns[{j}]", c, g["rows"])
    rules = form.get("rules")
    R.check(isinstance(rules, list), f"{name}: rules must be a list")
    return True


# ---------------------------------------------------------------------------------------------
# Rules.

def check_rules(name, form, own, allf):
    rules = form.get("rules") if isinstance(form.get("rules"), list) else []
    seen = set()
    parsed = []
    for i, r in enumerate(rules):
        where = f"{name}.rules[{i}]"
        if not R.check(isinstance(r, dict), f"{where}: not an object"):
            continue
        R.check(not set(r) - RULE_KEYS, f"{where}: unknown keys {sorted(set(r) - RULE_KEYS)}")
        missing = {"code", "expr", "severity", "message"} - set(r)
        if not R.check(not missing, f"{where}: missing {sorted(missing)}"):
            continue
        code = r["code"]
        where = f"{name}.rules[{code}]"
        R.check(isinstance(code, str) and CODE_RE.match(code) and len(code) <= MAX_RULE_CODE,
                f"{where}: bad rule code")
        R.check(code not in seen, f"{where}: rule code repeated in the form")
        seen.add(code)
        R.check(r["severity"] in ("error", "warning"), f"{where}: severity error|warning")
        msg = r["message"]
        R.check(nonempty_str(msg, 200) and CJK_RE.search(msg), f"{where}: Chinese message")
        has_stages = "stages" in r
        if has_stages and not check_stages(f"{where}.stages", r["stages"]):
            continue
        R.check(("{stage}" in str(msg)) == has_stages,
                f"{where}: {{stage}} belongs exactly in the messages of per-stage rules")
        R.check(re.sub(r"\{stage\}", "", str(msg)).find("{") < 0, f"{where}: unknown placeholder")
        expr = r["expr"]
        if not R.check(isinstance(expr, str) and 0 < len(expr.encode()) <= MAX_EXPR,
                       f"{where}: expr must be a string of 1..{MAX_EXPR} bytes"):
            continue
        try:
            tree = parse(expr)
        except ExprError as e:
            R.check(False, f"{where}: expr does not parse: {e}")
            continue
        R.check(True, f"{where}: parses")
        R.check(is_condition(tree), f"{where}: expr must be a condition (comparison/and/or/not)")
        raw = fields_of(tree)
        sname = [n for n in raw if n.startswith("s_")]
        R.check(bool(sname) == has_stages,
                f"{where}: per-stage rules use s_ names, other rules must not")
        for stage, src in rule_expansions(r):
            t = parse(src)
            names = fields_of(t)
            unknown = [n for n in names if n not in allf]
            R.check(not unknown, f"{where} ({stage}): unknown field codes {unknown}")
            R.check(any(n in own for n in names),
                    f"{where} ({stage}): reads no field of its own form")
            if has_stages:
                # every stage field a per-stage rule reads must exist for that stage
                stagef = [expand(n, stage) for n in sname]
                R.check(all(n in allf for n in stagef),
                        f"{where}: stage {stage} lacks {[n for n in stagef if n not in allf]}")
            for fc in r.get("fields", []) or []:
                R.check(expand(fc, stage) in own,
                        f"{where} ({stage}): fields entry {fc!r} is not a field of {name}")
            parsed.append((code, stage, t, r["severity"]))
        if "fields" in r:
            R.check(isinstance(r["fields"], list) and r["fields"]
                    and all(isinstance(x, str) for x in r["fields"]),
                    f"{where}: fields must be a non-empty list of codes")
    for code, sev in EXPECTED_RULES[name].items():
        got = [r for r in rules if isinstance(r, dict) and r.get("code") == code]
        R.check(got and got[0].get("severity") == sev,
                f"{name}: domain.md rule {code} ({sev}) missing or with another severity")
    return parsed


# ---------------------------------------------------------------------------------------------
# Rule direction on sample data.

def sample(school_type, **over):
    """Consistent values of every field of one school of this type (every rule should hold)."""
    stages = SCHOOL_TYPES[school_type]
    v = {"principal_birth_year": 1975, "boarding": 1, "broadband_mbps": 1000,
         "campus_network": 1}
    for s in stages:
        v.update({f"{s}_students": 450, f"{s}_classes": 10, f"{s}_boarders": 100,
                  f"{s}_migrant": 20, f"{s}_left_behind": 10, f"{s}_teachers": 30,
                  f"{s}_t_edu_grad": 2, f"{s}_t_edu_bach": 20, f"{s}_t_edu_assoc": 6,
                  f"{s}_t_edu_below": 2, f"{s}_t_title_zg": 0, f"{s}_t_title_g": 5,
                  f"{s}_t_title_1": 10, f"{s}_t_title_2": 10, f"{s}_t_title_3": 3,
                  f"{s}_t_title_none": 2, f"{s}_t_backbone": 3, f"{s}_t_certified": 30,
                  f"{s}_t_rotated": 2, f"{s}_t_rot_eligible": 8})
        if s != "kg":
            v.update({f"{s}_classes_46_55": 2, f"{s}_classes_56_65": 0, f"{s}_classes_66p": 0,
                      f"{s}_t_pe": 2, f"{s}_t_music": 1, f"{s}_t_art": 1})
        if s != "spe":
            v[f"{s}_disabled"] = 2
    if "kg" in stages:
        v.update(kg_classes=12, kg_students=330, kg_classes_over_norm=1, kg_caregivers=6,
                 kg_principal_certified=1)
    if "spe" in stages:
        v.update(spe_students=120, spe_home_taught=15)
    if "voc" in stages:
        v["voc_t_dual"] = 15
    nb = sum(v.get(s + "_boarders", 0) for s in stages)
    v.update(staff_total=40 * len(stages) + 10, land_area=30000.0, building_area=12000.5,
             teaching_area=6000.25, indoor_sports_area=800.0, outdoor_sports_area=9000.0,
             d_grade_area=0.0, equipment_value=352.5, books=40000, computers=150,
             multimedia_rooms=25, music_rooms=2, art_rooms=2, labs=4, dorm_beds=nb + 20,
             teacher_housing=6)
    v.update(over)
    return {k: float(x) for k, x in v.items()}


# (school type, changed values, rule code that must fail, its stage or None)
BAD_CASES = [
    ("312", {"pri_classes_66p": 1}, "no_super_large_classes", "pri"),
    ("312", {"pri_students": 460}, "avg_class_size_pri", "pri"),
    ("341", {"sen_students": 510}, "avg_class_size_sec", "sen"),
    ("312", {"jun_classes_56_65": 9}, "bands_le_classes", "jun"),
    ("211", {"pri_students": 5}, "students_ge_classes", "pri"),
    ("111", {"kg_classes_over_norm": 13}, "kg_over_norm_le_classes", "kg"),
    ("345", {"dorm_beds": 299}, "boarders_le_dorm_beds", None),
    ("111", {"dorm_beds": 50}, "boarders_le_dorm_beds", None),
    ("511", {"spe_home_taught": 121}, "home_taught_le_students", "spe"),
    ("312", {"jun_t_edu_bach": 21}, "edu_sum_eq_teachers", "jun"),
    ("312", {"pri_t_title_none": 1}, "title_sum_eq_teachers", "pri"),
    ("211", {"pri_t_backbone": 31}, "backbone_le_teachers", "pri"),
    ("311", {"jun_t_pe": 29}, "arts_le_teachers", "jun"),
    ("211", {"pri_t_certified": 29}, "all_teachers_certified", "pri"),
    ("211", {"pri_t_certified": 31}, "certified_le_teachers", "pri"),
    ("211", {"pri_t_rotated": 9}, "rotated_le_eligible", "pri"),
    ("345", {"staff_total": 89}, "teachers_le_staff_total", None),
    ("111", {"kg_caregivers": 40}, "kg_care_le_staff_total", None),
    ("111", {"kg_principal_certified": 0}, "kg_principal_holds_certificate", None),
    ("361", {"voc_t_dual": 31}, "dual_le_teachers", "voc"),
    ("211", {"teaching_area": 12000.51}, "teaching_le_building", None),
    ("211", {"indoor_sports_area": 6000.26}, "indoor_sports_le_teaching", None),
    ("211", {"d_grade_area": 12.5}, "no_d_grade_buildings", None),
    ("312", {"pri_classes": 15, "jun_classes": 10}, "music_rooms_per_12_classes", None),
    ("312", {"art_rooms": 1}, "art_rooms_per_12_classes", None),
    ("312", {"jun_boarders": 451}, "boarders_le_students", "jun"),
    ("211", {"pri_migrant": 451}, "migrant_le_students", "pri"),
    ("211", {"pri_left_behind": 451}, "left_behind_le_students", "pri"),
    ("111", {"kg_disabled": 331}, "disabled_le_students", "kg"),
    ("211", {"d_grade_area": 12000.75}, "d_grade_le_building", None),
]


def run(rules, vals):
    """(code, stage) of the rules that are evaluated and false; and of those not evaluated."""
    failed, skipped = set(), set()
    for code, stage, tree, _sev in rules:
        # a per-stage rule runs only for the school's stages
        if stage is not None and not any(k.startswith(stage + "_") for k in vals):
            continue
        res = evaluate(tree, vals)
        if res is None:
            skipped.add((code, stage))
        elif res == 0:
            failed.add((code, stage))
    return failed, skipped


def check_semantics(rules, allf):
    for st in SCHOOL_TYPES:
        vals = sample(st)
        unknown = [k for k in vals if k not in allf]
        R.check(not unknown, f"sample data for {st} names unknown fields {unknown}")
        failed, _ = run(rules, vals)
        R.check(not failed, f"school type {st}: rules fail on consistent data: {sorted(failed)}")
    for st, over, code, stage in BAD_CASES:
        failed, skipped = run(rules, sample(st, **over))
        R.check((code, stage) in failed,
                f"school type {st} with {over}: rule {code} ({stage}) should fail"
                f"{' (not evaluated)' if (code, stage) in skipped else ''}")
    # every rule has at least one bad case
    covered = {c for _, _, c, _ in BAD_CASES}
    for code in sorted({r[0] for r in rules} - covered):
        R.check(False, f"rule {code} has no bad case in BAD_CASES")


# ---------------------------------------------------------------------------------------------

def main():
    here = os.path.dirname(os.path.abspath(__file__))
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "db", "forms")
    forms = {}
    for name in FORMS:
        path = os.path.join(d, name + ".json")
        if not R.check(os.path.isfile(path), f"{path}: missing"):
            continue
        data = load(path)
        if data is not None and check_shape(name, data):
            forms[name] = data
    extra_files = sorted(set(f for f in os.listdir(d) if f.endswith(".json"))
                         - {n + ".json" for n in FORMS}) if os.path.isdir(d) else []
    R.check(not extra_files, f"unexpected form files {extra_files}")

    # expanded field codes: unique across all forms, and exactly the domain.md vocabulary
    allf, owner = {}, {}
    for name, form in forms.items():
        ff = form_fields(form)
        for code, defs in ff.items():
            R.check(len(defs) == 1, f"{name}: field {code} defined {len(defs)} times")
            R.check(code not in owner, f"field {code} in both {owner.get(code)} and {name}")
            R.check(len(code) <= MAX_FIELD_CODE, f"{name}: expanded code {code} too long")
            owner.setdefault(code, name)
            allf.setdefault(code, defs[0])
        want = expected_codes(name)
        missing, extra = sorted(want - set(ff)), sorted(set(ff) - want)
        R.check(not missing, f"{name}: fields of domain.md missing: {missing}")
        R.check(not extra, f"{name}: fields not in domain.md: {extra}")
        for code, (ftype, unit) in EXPECTED_TYPE.items():
            if code in ff:
                f = ff[code][0][0]
                R.check(f.get("type") == ftype and f.get("unit") == unit,
                        f"{name}.{code}: want type {ftype} unit {unit}, "
                        f"got {f.get('type')} {f.get('unit')}")
        for code, stages in PLAIN_STAGES.items():
            if code in ff:
                R.check(ff[code][0][1] == stages, f"{name}.{code}: stages must be {stages}")
        for code, defs in ff.items():
            f = defs[0][0]
            if f.get("unit") == "m²" or code == "equipment_value":
                R.check(f.get("type") == "decimal" and f.get("decimals") == 2,
                        f"{name}.{code}: decimal with 2 decimals")
            if f.get("unit") in ("人", "个", "间", "册", "台", "套"):
                R.check(f.get("type") == "integer", f"{name}.{code}: counts are integers")
    if "basic" in forms:
        f = allf.get("principal_birth_year", ({}, None))[0]
        R.check(f.get("min") == 1940 and f.get("max") == 2010,
                "basic.principal_birth_year: bounds 1940..2010")
        for c in ("principal_name", "contact_phone"):
            R.check(allf.get(c, ({}, None))[0].get("max_length") == 20, f"basic.{c}: max_length 20")

    rules = []
    for name, form in forms.items():
        own = {c for c in allf if owner[c] == name}
        rules += check_rules(name, form, own, allf)
    if len(forms) == len(FORMS):
        check_semantics(rules, allf)

    return R.finish()


if __name__ == "__main__":
    sys.exit(main())

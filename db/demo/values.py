#!/usr/bin/env python3
"""values.py — deterministic, realistic demo data values for the demo city 示范市.

Reads the form definitions (db/forms/*.json, see docs/forms.md) and the demo city
(db/demo/orgunits.csv) and prints one DHIS2-style data value set per school × form:

    {"dataValueSets": [{"dataSet": "staff", "period": "2026", "orgUnit": "3199220003",
                        "dataValues": [{"dataElement": "pri_teachers", "value": "38"}, ...]}, ...]}

Usage:
    python3 db/demo/values.py --period 2026 [--seed N] [--schools CODE,CODE...]
        [--forms basic,staff] [--base-period-drift 0.05] [--warnings] [-o FILE]

How the numbers are made:
  * A school's "base" figures (enrolment, classes, teachers, areas, ...) come from a random
    generator seeded by the school code only, so a school looks the same in every period.
  * Each period then drifts the base figures by at most --base-period-drift (default 5 %): one
    factor for pupils, one for staff, one for facilities, drawn from --seed (default: the CRC-32
    of the period code), the period and the school code. Counts drift as k + trunc(k × e), so
    small counts (1 music room, 2 teachers of art) do not move and no count moves by more than
    the drift; classes follow the pupils at the school's own average class size; sums
    (qualifications, titles) are re-balanced on their largest part.
  * Every rule of every form holds (errors and warnings, cross-form rules included). With
    --warnings about one school in five gets exactly one realistic warning (超大班额, a teacher
    without certificate, or D级危房 area); never an error.
  * Only the fields that apply to the school are emitted (grid rows of its stages, column and
    field "stages", field "school_types"), and each of them gets a value.

Same arguments give byte-identical output; --schools and --forms only filter, they do not change
any value. Python 3 standard library only.
"""
import argparse
import csv
import glob
import hashlib
import json
import math
import os
import random
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FORM_ORDER = ["basic", "students", "staff", "facilities"]
STAGES_OF = {
    "111": ["kg"], "211": ["pri"], "218": ["pri"], "311": ["jun"], "312": ["pri", "jun"],
    "341": ["jun", "sen"], "342": ["sen"], "345": ["pri", "jun", "sen"], "361": ["voc"],
    "362": ["voc"], "365": ["voc"], "366": ["voc"], "511": ["spe"], "512": ["spe"],
    "513": ["spe"], "514": ["spe"],
}
# Per stage: classes and average class size by area (城区/镇区/乡村), the average class size the
# stage must stay within (rules and norms; spe: pupils incl. 送教上门), pupils per 专任教师.
STAGE = {
    "kg": dict(classes={"urban": (6, 12), "town": (5, 12), "rural": (5, 8)},
               avg={"urban": (26, 29.5), "town": (24, 29), "rural": (22, 28)},
               cap=30, ratio=(11, 13.5)),
    "pri": dict(classes={"urban": (18, 42), "town": (12, 30), "rural": (9, 14)},
                avg={"urban": (41, 44), "town": (38, 43), "rural": (34, 38)},
                cap=45, ratio=(15, 19)),
    "jun": dict(classes={"urban": (18, 30), "town": (12, 27), "rural": (10, 18)},
                avg={"urban": (45, 48), "town": (42, 47), "rural": (40, 45)},
                cap=50, ratio=(12, 14)),
    "sen": dict(classes={"urban": (18, 48), "town": (18, 45), "rural": (17, 30)},
                avg={"urban": (46, 49.5), "town": (45, 49), "rural": (45, 48)},
                cap=50, ratio=(12, 14)),
    "voc": dict(classes={"urban": (16, 44), "town": (15, 36), "rural": (14, 24)},
                avg={"urban": (40, 45), "town": (38, 44), "rural": (38, 43)},
                cap=50, ratio=(16, 19)),
    "spe": dict(classes={"urban": (8, 15), "town": (7, 12), "rural": (7, 10)},
                avg={"urban": (9, 11), "town": (8, 11), "rural": (8, 10)},
                cap=15, ratio=(4, 6)),
}
# Whole-school facilities per pupil of each stage ("tp": 教学点): m² of buildings, 万元 of
# equipment, books, computers; outdoor sports ground at least (m²); labs: (rooms, + one per so
# many classes).
PER_PUPIL = {
    "kg": dict(building=(9, 13), equipment=(0.15, 0.3), books=(10, 20), computers=(0.04, 0.06),
               least_outdoor=300, labs=(0, 99)),
    "pri": dict(building=(6.3, 9), equipment=(0.22, 0.35), books=(25, 45), computers=(0.1, 0.15),
                least_outdoor=2000, labs=(1, 12)),
    "tp": dict(building=(8, 14), equipment=(0.15, 0.3), books=(20, 35), computers=(0.1, 0.15),
               least_outdoor=200, labs=(0, 99)),
    "jun": dict(building=(7, 10), equipment=(0.27, 0.4), books=(25, 45), computers=(0.1, 0.15),
                least_outdoor=4000, labs=(3, 9)),
    "sen": dict(building=(8, 11), equipment=(0.3, 0.45), books=(30, 45), computers=(0.11, 0.16),
                least_outdoor=8000, labs=(5, 6)),
    "voc": dict(building=(9, 12), equipment=(0.5, 0.9), books=(30, 45), computers=(0.18, 0.25),
                least_outdoor=5000, labs=(12, 3)),
    "spe": dict(building=(18, 28), equipment=(0.6, 1.2), books=(30, 50), computers=(0.2, 0.3),
                least_outdoor=1500, labs=(2, 8)),
}
# Shares of 专任教师 by qualification (研究生, 本科, 专科, 高中及以下) and by title (正高级, 高级,
# 一级, 二级, 三级, 未定职级): ranges of weights, normalised per school.
EDU = {
    "kg": [(0, 0.02), (0.35, 0.6), (0.35, 0.55), (0.02, 0.08)],
    "pri": [(0.01, 0.06), (0.65, 0.85), (0.10, 0.30), (0, 0.02)],
    "jun": [(0.03, 0.12), (0.80, 0.92), (0.02, 0.10), (0, 0)],
    "sen": [(0.10, 0.25), (0.73, 0.88), (0, 0.03), (0, 0)],
    "voc": [(0.05, 0.15), (0.75, 0.88), (0.03, 0.10), (0, 0.02)],
    "spe": [(0.02, 0.08), (0.70, 0.85), (0.10, 0.25), (0, 0)],
}
TITLES = {
    "kg": [(0, 0), (0.02, 0.08), (0.15, 0.30), (0.25, 0.40), (0, 0.05), (0.20, 0.40)],
    "pri": [(0, 0.01), (0.08, 0.18), (0.35, 0.50), (0.25, 0.35), (0, 0.03), (0.03, 0.10)],
    "jun": [(0, 0.01), (0.15, 0.28), (0.35, 0.45), (0.20, 0.30), (0, 0.02), (0.03, 0.08)],
    "sen": [(0.01, 0.03), (0.28, 0.40), (0.30, 0.40), (0.15, 0.25), (0, 0), (0.02, 0.06)],
    "voc": [(0, 0.02), (0.20, 0.30), (0.30, 0.40), (0.20, 0.30), (0, 0.02), (0.03, 0.08)],
    "spe": [(0, 0), (0.10, 0.20), (0.35, 0.45), (0.25, 0.35), (0, 0.02), (0.03, 0.08)],
}
EDU_COLS = ["t_edu_grad", "t_edu_bach", "t_edu_assoc", "t_edu_below"]
TITLE_COLS = ["t_title_zg", "t_title_g", "t_title_1", "t_title_2", "t_title_3", "t_title_none"]
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
            "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史")
MALE = "建国明华军伟志海平东宏波勇杰涛斌峰强磊俊辉鹏飞宇浩刚亮健新永德林云学文振兴庆荣成"
FEMALE = "芳丽敏静秀英霞红玉春梅兰燕萍娟慧婷雪琳颖晓雅欣凤桂艳丹琴玲洁淑"


def area_of(urban_rural):
    """城乡类型 code → 'urban' (111/112 城区), 'town' (12x 镇区) or 'rural' (2xx 乡村)."""
    return {"11": "urban", "12": "town"}.get(urban_rural[:2], "rural")


def apportion(total, weights):
    """Split the integer total into parts proportional to weights (largest remainder)."""
    s = sum(weights) or 1
    raw = [total * w / s for w in weights]
    out = [int(r) for r in raw]
    for i in sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))[:total - sum(out)]:
        out[i] += 1
    return out


def drift(k, e):
    """A count k drifted by the factor 1 + e: never moves more than |e| × k, small k stay put."""
    return k + int(k * e)


def drift_split(parts, total, e):
    """Drift each part, then make the parts sum to total again: the difference (less than the
    number of parts) goes one by one to the parts of 10 or more, largest first."""
    new = [drift(p, e) for p in parts]
    order = sorted(range(len(parts)), key=lambda i: (-parts[i], i))
    big = [i for i in order if parts[i] >= 10] or order[:1]
    rest, step = total - sum(new), 1 if total > sum(new) else -1
    for j in range(abs(rest) * len(big)):
        if rest == 0:
            break
        i = big[j % len(big)]
        if new[i] + step >= 0:
            new[i], rest = new[i] + step, rest - step
    return new if rest == 0 else apportion(total, parts)


def load_forms(forms_dir):
    """The form definitions by code, in the order basic, students, staff, facilities, others."""
    forms = {}
    for path in glob.glob(os.path.join(forms_dir, "*.json")):
        with open(path, encoding="utf-8") as fp:
            form = json.load(fp)
        forms[form["code"]] = form
    order = [c for c in FORM_ORDER if c in forms] + sorted(set(forms) - set(FORM_ORDER))
    return {c: forms[c] for c in order}


# How well the demo counties are resourced, for the 优质均衡 indicators: 东城区 meets the standards,
# 白水县 does not, 青山县 (and any other county) is mixed school by school.
RESOURCES = {"990102": "good", "990122": "poor"}


def resources_of(row):
    """"good" or "poor": the county's level, or for a mixed county one drawn from the code."""
    level = RESOURCES.get(row.get("parent_code", ""))
    if level:
        return level
    return "good" if hashlib.sha256(("res:" + row["code"]).encode()).digest()[0] % 2 else "poor"


def load_schools(path):
    """The schools of the org unit CSV whose 办学类型 has known stages, in file order."""
    schools = []
    with open(path, encoding="utf-8", newline="") as fp:
        for row in csv.DictReader(fp):
            if row["kind"] != "school":
                continue
            if row["school_type"] not in STAGES_OF:
                print(f"values.py: {row['code']}: unknown 办学类型 {row['school_type']}, skipped",
                      file=sys.stderr)
                continue
            row["stages"] = STAGES_OF[row["school_type"]]
            row["area"] = area_of(row["urban_rural"])
            row["resources"] = resources_of(row)
            schools.append(row)
    return schools


def applicable_fields(form, school):
    """(code, field definition) of every field of form that applies to school, in form order."""
    stages, stype = school["stages"], school["school_type"]

    def applies(f, row=None):
        if "school_types" in f and stype not in f["school_types"]:
            return False
        if row is not None:
            return "stages" not in f or row in f["stages"]
        return "stages" not in f or any(s in stages for s in f["stages"])

    out = []
    for sec in form["sections"]:
        if "grid" in sec:
            for row in sec["grid"]["rows"]:
                if row in stages:
                    out += [(f"{row}_{c['code']}", c) for c in sec["grid"]["columns"]
                            if applies(c, row)]
        else:
            out += [(f["code"], f) for f in sec["fields"] if applies(f)]
    return out


def class_bands(rng, stage, classes, avg):
    """Base numbers of classes of 46–55, 56–65 and 66+ pupils that fit the average size."""
    over = {"pri": (avg - 38) / 15, "jun": (avg - 40) / 12, "sen": (avg - 42) / 10,
            "voc": (avg - 40) / 12}.get(stage, 0)
    c46 = round(classes * min(0.9, max(0.0, over * rng.uniform(0.7, 1.1))))
    c56 = round(classes * rng.uniform(0.02, 0.06)) if stage == "sen" and avg >= 48 else 0
    return min(c46, classes - c56), c56, 0


def boarding_share(school, stage, rng):
    """Share of a stage's pupils who board: rural juniors, 九年一贯制, 县中, special schools."""
    t, area = school["school_type"], school["area"]
    if stage == "jun" and (t == "312" or area != "urban"):
        return rng.uniform(*{"rural": (0.6, 0.85), "town": (0.2, 0.5)}.get(area, (0.1, 0.25)))
    if stage == "pri" and t == "312":
        return rng.uniform(0.15, 0.3) if area == "rural" else rng.uniform(0.05, 0.12)
    if stage == "pri" and t == "211" and area == "rural":
        return rng.uniform(0.05, 0.12)
    if stage == "sen" and area != "urban":
        return rng.uniform(0.5, 0.8)
    if stage == "spe":
        return rng.uniform(0.3, 0.6)
    return 0.0


def base_students(school, rng, stu):
    """Fill stu with the base pupil figures of every stage."""
    area, t, multi = school["area"], school["school_type"], len(school["stages"]) > 1
    for s in school["stages"]:
        p = STAGE[s]
        if t == "218":                        # 教学点: 1–4 mixed-age classes, 10–60 pupils
            classes = rng.randint(1, 4)
            students = min(60, max(10, round(classes * rng.uniform(8, 15))))
        else:
            lo, hi = p["classes"][area]
            if multi:
                lo, hi = max(3, round(lo * 0.7)), max(4, round(hi * 0.7))
            classes = rng.randint(lo, hi)
            students = round(classes * rng.uniform(*p["avg"][area]))
        in_school = students
        if s == "spe":
            stu["spe_home_taught"] = round(students * rng.uniform(0.10, 0.25))
            students += stu["spe_home_taught"]
        stu[f"{s}_students"], stu[f"{s}_classes"] = students, classes
        if s == "kg":
            stu["kg_classes_over_norm"] = rng.choice([0, 0, 0, 1, 2] if school["ownership"] ==
                                                     "private" else [0, 0, 0, 0, 1])
        else:
            b = class_bands(rng, s, classes, students / classes)
            stu[f"{s}_classes_46_55"], stu[f"{s}_classes_56_65"], stu[f"{s}_classes_66p"] = b
        stu[f"{s}_boarders"] = round(in_school * boarding_share(school, s, rng))
        migrant = {"urban": (0.08, 0.25), "town": (0.03, 0.12), "rural": (0, 0.03)}[area]
        left = {"urban": (0, 0.03), "town": (0.08, 0.20), "rural": (0.15, 0.35)}[area]
        stu[f"{s}_migrant"] = round(students * rng.uniform(*migrant))
        stu[f"{s}_left_behind"] = round(students * rng.uniform(*left) * (0.5 if s in (
            "sen", "voc") else 1))
        if s != "spe":
            stu[f"{s}_disabled"] = round(students * rng.uniform(0.002, 0.01) * (0.3 if s in (
                "kg", "sen", "voc") else 1))


def base_staff(school, rng, stu, stf):
    """Fill stf with the base staff figures: 专任教师 by stage and their breakdowns, totals."""
    private = school["ownership"] == "private"
    for s in school["stages"]:
        students, classes = stu[f"{s}_students"], stu[f"{s}_classes"]
        if school["school_type"] == "218":
            teachers = classes + rng.randint(0, 1)
        else:
            teachers = max(1, round(students / rng.uniform(*STAGE[s]["ratio"])))
        stf[f"{s}_teachers"] = teachers
        edu = [rng.uniform(*r) for r in EDU[s]]
        titles = [rng.uniform(*r) for r in TITLES[s]]
        if private:                           # fewer senior titles, more without a title
            titles[1] *= 0.5
            titles[5] *= 3
        for cols, w in ((EDU_COLS, edu), (TITLE_COLS, titles)):
            for c, n in zip(cols, apportion(teachers, w)):
                stf[f"{s}_{c}"] = n
        good = school["resources"] == "good"
        stf[f"{s}_t_backbone"] = round(teachers * rng.uniform(*(0.19, 0.26) if good else (0.05, 0.15)))
        if s != "kg":
            arts = (0.085, 0.1, 0.045, 0.055) if good else (0.05, 0.07, 0.025, 0.04)
            stf[f"{s}_t_pe"] = round(teachers * rng.uniform(arts[0], arts[1]))
            stf[f"{s}_t_music"] = round(teachers * rng.uniform(arts[2], arts[3]))
            stf[f"{s}_t_art"] = round(teachers * rng.uniform(arts[2], arts[3]))
        stf[f"{s}_t_certified"] = teachers
        eligible = 0 if private else round(teachers * rng.uniform(
            *((0.05, 0.15) if s == "kg" else (0.15, 0.30))))
        stf[f"{s}_t_rot_eligible"] = eligible
        stf[f"{s}_t_rotated"] = round(eligible * rng.uniform(0.15, 0.4))
        if s == "voc":
            stf["voc_t_dual"] = round(teachers * rng.uniform(0.40, 0.65))
    teaching = sum(stf[f"{s}_teachers"] for s in school["stages"])
    if "kg" in school["stages"]:
        stf["kg_caregivers"] = max(1, round(stu["kg_classes"] * rng.uniform(0.85, 1.05)))
        stf["kg_principal_certified"] = True
        base = teaching + stf["kg_caregivers"]
        stf["staff_total"] = base + math.ceil(base * rng.uniform(0.08, 0.15))
    elif school["school_type"] == "218":      # a 教学点 has no non-teaching staff
        stf["staff_total"] = teaching
    else:
        stf["staff_total"] = math.ceil(teaching / (1 - rng.uniform(0.10, 0.25)))


def base_facilities(school, rng, stu, stf, fac):
    """Fill fac with the base 办学条件: areas, equipment, rooms, beds (whole school)."""
    stages, t, area = school["stages"], school["school_type"], school["area"]
    pupils = {s: stu[f"{s}_students"] for s in stages}
    total, classes = sum(pupils.values()), sum(stu[f"{s}_classes"] for s in stages)
    boarders = sum(stu[f"{s}_boarders"] for s in stages)
    rates = {s: PER_PUPIL["tp" if t == "218" else s] for s in stages}   # 教学点 have their own

    def per_pupil(what):
        """Σ over stages of pupils × a rate drawn from PER_PUPIL."""
        return sum(n * rng.uniform(*rates[s][what]) for s, n in pupils.items())

    good = school["resources"] == "good"       # well-resourced: meets the 优质均衡 standards
    building = per_pupil("building") * (1.3 if good else 1) + boarders * rng.uniform(2.5, 3.5)
    fac["building_area"] = round(building, 2)
    fac["teaching_area"] = round(building * rng.uniform(*(0.62, 0.68) if good else (0.50, 0.65)), 2)
    small_rural = t == "218" or (area == "rural" and total < 600)
    fac["indoor_sports_area"] = 0.0 if small_rural else round(building * rng.uniform(0.04, 0.09), 2)
    outdoor = total * rng.uniform(*{"urban": (5.5, 8), "town": (6, 10), "rural": (8, 12)}[area])
    if good:
        outdoor = max(outdoor, total * rng.uniform(10.5, 13))
    least = max(rates[s]["least_outdoor"] for s in stages)
    fac["outdoor_sports_area"] = round(max(outdoor, least * rng.uniform(1.0, 1.2)), 2)
    floors = rng.uniform(*(1, 2) if t == "218" else (2, 3) if stages == ["kg"] else (3, 5))
    spare = rng.uniform(*(1.25, 1.6) if area == "urban" else (1.4, 2.0))
    fac["land_area"] = round((building / floors + fac["outdoor_sports_area"]) * spare, 2)
    fac["d_grade_area"] = 0.0
    fac["equipment_value"] = round(per_pupil("equipment"), 2)
    fac["books"] = round(per_pupil("books"))
    fac["computers"] = max(2, round(per_pupil("computers")))
    fac["multimedia_rooms"] = classes + (0 if t == "218" else rng.randint(0, 1 + classes // 10))
    if good:                                  # smart classrooms beyond one per class
        fac["multimedia_rooms"] += max(2, round(classes * rng.uniform(0.12, 0.2)))
    pri_jun = sum(stu.get(f"{s}_classes", 0) for s in ("pri", "jun"))
    for room in ("music_rooms", "art_rooms"):
        need = math.ceil(pri_jun * 1.06 / 12) if pri_jun else 1
        fac[room] = need + (rng.randint(0, 1) if classes >= 24 or "sen" in stages else 0)
    fac["labs"] = sum(rates[s]["labs"][0] + stu[f"{s}_classes"] // rates[s]["labs"][1]
                      for s in stages)
    fac["dorm_beds"] = math.ceil(boarders * rng.uniform(1.15, 1.3)) if boarders else 0
    teachers = sum(stf[f"{s}_teachers"] for s in stages)
    fac["teacher_housing"] = 0                # 教师周转宿舍: public schools outside the city
    if area != "urban" and school["ownership"] == "public":
        fac["teacher_housing"] = min(2, teachers) if t == "218" else round(
            teachers * rng.uniform(0.1, 0.3))


def principal(school, rng):
    """A plausible principal name (surname + 1–2 given characters) and birth year."""
    weights = [1 / (i + 4) for i in range(len(SURNAMES))]
    surname = rng.choices(SURNAMES, weights)[0]
    female = rng.random() < (0.9 if school["stages"] == ["kg"] else 0.4)
    chars = FEMALE if female else MALE
    given = "".join(rng.sample(chars, rng.choice([1, 2, 2, 2])))
    return surname + given, rng.randint(1966, 1988)


def base_figures(school):
    """All base figures of a school, from a generator seeded by the school code only."""
    rng = random.Random("tianbao-demo-base:" + school["code"])
    stu, stf, fac = {}, {}, {}
    base_students(school, rng, stu)
    base_staff(school, rng, stu, stf)
    base_facilities(school, rng, stu, stf, fac)
    name, year = principal(school, rng)
    area = school["area"]
    mbps = rng.choice({"urban": [500, 1000, 1000], "town": [200, 300, 500],
                       "rural": [100, 200, 300]}[area])
    if school["school_type"] == "218" or area == "rural" and rng.random() < 0.5:
        phone = "13" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    else:
        phone = "0531-8" + "".join(str(rng.randint(0, 9)) for _ in range(7))
    basic = dict(principal_name=name, principal_birth_year=year, contact_phone=phone,
                 boarding=fac["dorm_beds"] > 0, campus_network=True,
                 broadband_mbps=100 if school["school_type"] == "218" else mbps)
    return dict(basic=basic, students=stu, staff=stf, facilities=fac)


def period_figures(school, base, rng, d):
    """The figures of one period: the base drifted by at most d, with every rule kept true."""
    e_stu, e_stf, e_fac = (rng.uniform(-d, d) for _ in range(3))
    stages = school["stages"]
    v = dict(base["basic"])
    v.update({c: drift(x, e_stu) for c, x in base["students"].items()})
    for s in stages:                          # classes follow the pupils, within the norm
        n, b = v[f"{s}_students"], base["students"]
        avg = b[f"{s}_students"] / b[f"{s}_classes"]
        c = v[f"{s}_classes"] = max(1, round(n / avg), math.ceil(n / STAGE[s]["cap"]))
        if s != "kg":
            v[f"{s}_classes_46_55"] = min(v[f"{s}_classes_46_55"], c - v[f"{s}_classes_56_65"])
    stf = base["staff"]
    v.update({c: drift(x, e_stf) for c, x in stf.items() if not isinstance(x, bool)})
    v["kg_principal_certified"] = stf.get("kg_principal_certified")
    for s in stages:
        t = v[f"{s}_teachers"]
        for cols in (EDU_COLS, TITLE_COLS):
            parts = drift_split([stf[f"{s}_{c}"] for c in cols], t, e_stf)
            v.update({f"{s}_{c}": n for c, n in zip(cols, parts)})
        v[f"{s}_t_certified"] = t
    need = sum(v[f"{s}_teachers"] for s in stages) + v.get("kg_caregivers", 0)
    v["staff_total"] = max(v["staff_total"], need)
    for c, x in base["facilities"].items():
        v[c] = round(x * (1 + e_fac), 2) if isinstance(x, float) else drift(x, e_fac)
    pri_jun = sum(v.get(f"{s}_classes", 0) for s in ("pri", "jun"))
    for room in ("music_rooms", "art_rooms"):
        v[room] = max(v[room], math.ceil(pri_jun / 12))
    v["dorm_beds"] = max(v["dorm_beds"], sum(v[f"{s}_boarders"] for s in stages))
    v["multimedia_rooms"] = max(v["multimedia_rooms"], sum(v[f"{s}_classes"] for s in stages))
    return {c: x for c, x in v.items() if x is not None}


def warned_schools(schools, seed, period):
    """About one school in five, chosen by the seed, with the kind of warning it gets."""
    key = lambda s: hashlib.sha256(f"warn:{seed}:{period}:{s['code']}".encode()).digest()  # noqa
    chosen = sorted(schools, key=key)[:max(1, round(len(schools) / 5))]
    out = {}
    for s in chosen:
        kinds = ["uncertified", "d_grade"]
        if s["school_type"] != "218" and any(x in s["stages"] for x in ("pri", "jun", "sen")):
            kinds.append("oversized")
        out[s["code"]] = kinds[key(s)[0] % len(kinds)]
    return out


def add_warning(school, v, kind, rng):
    """Make exactly one warning rule fail for the school, without breaking any error rule.
    Returns the field concerned and the explanation (说明) a school would give for it."""
    stages = school["stages"]
    if kind == "oversized":                   # one 66+ class (超大班额)
        s = [x for x in ("pri", "jun", "sen") if x in stages][-1]
        v[f"{s}_classes_66p"] = 1
        over = v[f"{s}_classes_46_55"] + v[f"{s}_classes_56_65"] + 1 - v[f"{s}_classes"]
        v[f"{s}_classes_46_55"] -= max(0, over)
        return f"{s}_classes_66p", "毕业年级1个班因教室改造暂时合班，新教学楼明年春季启用后分班。"
    if kind == "uncertified":                 # a new teacher still without 教师资格证
        s = max(stages, key=lambda x: v[f"{x}_teachers"])
        v[f"{s}_t_certified"] = v[f"{s}_teachers"] - min(v[f"{s}_teachers"], rng.randint(1, 2))
        return f"{s}_t_certified", "新招聘教师已通过资格考试，教师资格证正在认定中，预计年底取得。"
    # part of an old building classed D级危房
    v["d_grade_area"] = round(min(v["building_area"] * 0.3, rng.uniform(120, 800)), 2)
    return "d_grade_area", "旧宿舍楼已停止使用并封闭，拆除重建项目已列入明年县级计划。"


def fmt(value, field):
    """A value as the string of a data value: integers, decimals, true/false, text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if field["type"] == "integer":
        return str(int(round(value)))
    if field["type"] == "decimal":
        text = f"{value:.{field.get('decimals', 2)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def fallback(field):
    """A value for a field this generator does not know (a newer form edition)."""
    return {"yesno": False, "text": "无", "choice": (field.get("choices") or [{}])[0].get(
        "value", "")}.get(field["type"], field.get("min", 0))


def value_sets(forms, schools, all_schools, period, seed, d, warnings, comments=False):
    """The data value sets of the chosen schools × forms for one period; with `comments`
    the field of each warning carries the school's explanation as its comment."""
    warned = warned_schools(all_schools, seed, period) if warnings else {}
    unknown, out = set(), []
    for school in schools:
        rng = random.Random(f"tianbao-demo-period:{seed}:{period}:{school['code']}")
        v = period_figures(school, base_figures(school), rng, d)
        explained = {}
        if school["code"] in warned:
            fcode, text = add_warning(school, v, warned[school["code"]], rng)
            if comments:
                explained[fcode] = text
        for code, form in forms.items():
            values = []
            for fcode, field in applicable_fields(form, school):
                if fcode not in v:
                    unknown.add(fcode)
                dv = {"dataElement": fcode, "value": fmt(v.get(fcode, fallback(field)), field)}
                if fcode in explained:
                    dv["comment"] = explained[fcode]
                values.append(dv)
            out.append({"dataSet": code, "period": period, "orgUnit": school["code"],
                        "dataValues": values})
    for fcode in sorted(unknown):
        print(f"values.py: no model for field {fcode}, filled with a default", file=sys.stderr)
    return out


def render(sets):
    """The JSON text: one line per data value, stable key order, UTF-8 without escapes."""
    dump = lambda x: json.dumps(x, ensure_ascii=False)  # noqa: E731
    lines = ['{"dataValueSets": [']
    for i, vs in enumerate(sets):
        head = ", ".join(f"{dump(k)}: {dump(vs[k])}" for k in ("dataSet", "period", "orgUnit"))
        lines.append(f"  {{{head}, \"dataValues\": [")
        lines += [f"    {dump(dv)}{',' if j < len(vs['dataValues']) - 1 else ''}"
                  for j, dv in enumerate(vs["dataValues"])]
        lines.append("  ]}" + ("," if i < len(sets) - 1 else ""))
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    """Parse the command line, generate, write."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--period", required=True, help="period code, e.g. 2026")
    ap.add_argument("--seed", type=int, help="default: derived from the period code")
    ap.add_argument("--schools", help="comma-separated 10-digit school codes (default: all)")
    ap.add_argument("--forms", help="comma-separated form codes (default: all)")
    ap.add_argument("--base-period-drift", type=float, default=0.05, metavar="SHARE")
    ap.add_argument("--warnings", action="store_true", help="about 1 school in 5 gets a warning")
    ap.add_argument("--comments", action="store_true",
                    help="with --warnings: the warned field carries an explanation as its comment")
    ap.add_argument("-o", "--output", metavar="FILE", help="default: standard output")
    ap.add_argument("--forms-dir", default=os.path.join(HERE, "..", "forms"))
    ap.add_argument("--orgunits", default=os.path.join(HERE, "orgunits.csv"))
    a = ap.parse_args(argv)
    if not 0 <= a.base_period_drift < 0.5:
        ap.error("--base-period-drift must be at least 0 and below 0.5")
    if a.base_period_drift > 0.13:
        print("values.py: a drift above 0.13 can change values by 30 % or more between two "
              "periods (a change warning)", file=sys.stderr)
    seed = a.seed if a.seed is not None else zlib.crc32(a.period.encode())
    forms, all_schools = load_forms(a.forms_dir), load_schools(a.orgunits)
    if a.forms:
        wanted = a.forms.split(",")
        bad = [f for f in wanted if f not in forms]
        if bad:
            ap.error(f"unknown form(s): {', '.join(bad)} (have {', '.join(forms)})")
        forms = {c: f for c, f in forms.items() if c in wanted}
    schools = all_schools
    if a.schools:
        wanted = a.schools.split(",")
        known = {s["code"] for s in all_schools}
        bad = [c for c in wanted if c not in known]
        if bad:
            ap.error(f"unknown school code(s): {', '.join(bad)}")
        schools = [s for s in all_schools if s["code"] in wanted]
    text = render(value_sets(forms, schools, all_schools, a.period, seed, a.base_period_drift,
                             a.warnings, a.comments))
    if a.output:
        with open(a.output, "w", encoding="utf-8") as fp:
            fp.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

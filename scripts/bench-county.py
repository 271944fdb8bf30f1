#!/usr/bin/env python3
"""bench-county.py — adds a large county to a bench stack and logs its reviewer in.

  scripts/bench-county.py BASE_URL TIANBAO_ADMIN CONFIG OUT_DIR [SCHOOLS]

Creates county 990199 (大县) with SCHOOLS schools (default 500) of every kind in the proportions
of a real county (kindergartens, primary schools, 教学点, junior, 九年一贯制, senior, vocational,
special), imports their 2026 figures from db/demo/values.py: half of the schools submitted, a
quarter with drafts of two forms, the rest not started; then logs in its reviewer rev-990199
and writes OUT_DIR/county.cookie (the Cookie header) and OUT_DIR/county.path (the overview).
Run on a stack with the demo data (period 2026 open). Python standard library; 127.0.0.1 only.
"""

import csv
import os
import subprocess
import sys
import urllib.parse

import loopback

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES = os.path.join(HERE, "..", "db", "demo", "values.py")
COUNTY = "990199"
# (办学类型, 学校标识码 category, share of the schools, 城乡类型 codes to cycle through)
KINDS = [("111", "11", 30, ("111", "121", "210")), ("211", "21", 25, ("111", "121", "210")),
         ("218", "21", 15, ("220",)), ("311", "31", 10, ("111", "122", "210")),
         ("312", "31", 8, ("121", "210", "220")), ("342", "34", 5, ("111", "121")),
         ("341", "34", 3, ("121",)), ("361", "36", 2, ("122",)), ("514", "51", 2, ("121",))]


def admin(tb_admin, conf, *args, stdin=None):
    """Run tianbao-admin; exits on failure."""
    p = subprocess.run([tb_admin, "-c", conf, *args], input=stdin, capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit("bench-county: tianbao-admin %s failed:\n%s" % (" ".join(args), p.stderr))


def schools_csv(path, n):
    """Write the county and its n schools as an org unit CSV; returns their codes."""
    rows, codes, serial = [], [], 0
    total = sum(k[2] for k in KINDS)
    for kind, cat, share, urs in KINDS:
        count = max(1, n * share // total)
        for j in range(count):
            if len(codes) == n:
                break
            serial += 1
            code = "%s%s%04d" % (cat, COUNTY[2:], serial)
            center = ""
            if kind == "218":
                center = next(c for c in codes if c.startswith("21"))
            rows.append([code, "大县第%d学校" % serial, "school", COUNTY, kind, "public",
                         "1" if kind == "111" else "", urs[j % len(urs)], center])
            codes.append(code)
    while len(codes) < n:  # rounding: fill up with primary schools
        serial += 1
        code = "21%s%04d" % (COUNTY[2:], serial)
        rows.append([code, "大县第%d学校" % serial, "school", COUNTY, "211", "public", "", "121", ""])
        codes.append(code)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["code", "name", "kind", "parent_code", "school_type", "ownership",
                    "inclusive", "urban_rural", "center_code"])
        w.writerow([COUNTY, "大县", "county", "990100", "", "", "", "", ""])
        w.writerows(rows)
    return codes


def main():
    base, tb_admin, conf, out = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 500
    units = os.path.join(out, "county.csv")
    codes = schools_csv(units, n)
    admin(tb_admin, conf, "orgunit", "import", units)
    admin(tb_admin, conf, "user", "add", "rev-" + COUNTY, "reviewer", COUNTY, "--password-stdin",
          "--no-force-change", stdin="tianbao-demo\n")
    submitted, drafts = codes[0::2], codes[1::4]
    for name, schools, forms, state in (("submitted", submitted, None, "submitted"),
                                        ("drafts", drafts, "basic,students", "draft")):
        path = os.path.join(out, "county-%s.json" % name)
        cmd = [sys.executable, VALUES, "--period", "2026", "--orgunits", units,
               "--schools", ",".join(schools), "-o", path]
        if forms:
            cmd += ["--forms", forms]
        subprocess.run(cmd, check=True)
        admin(tb_admin, conf, "values", "import", path, "--state", state)
    port = urllib.parse.urlsplit(base).port
    cookie = loopback.login(port, "rev-" + COUNTY, "bench-county")
    with open(os.path.join(out, "county.cookie"), "w") as f:
        f.write(cookie)
    with open(os.path.join(out, "county.path"), "w") as f:
        f.write("/review?period=2026")


if __name__ == "__main__":
    main()

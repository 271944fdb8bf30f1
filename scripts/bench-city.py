#!/usr/bin/env python3
"""bench-city.py — fills a bench stack with a city of SCHOOLS schools and approved figures.

  scripts/bench-city.py BASE_URL TIANBAO_ADMIN CONFIG OUT_DIR [SCHOOLS]

Adds six counties (990191 … 990196) sharing SCHOOLS schools (default 3000) of every kind, in the
proportions of scripts/bench-county.py, and imports their figures for 2025 and 2026 as approved
(db/demo/values.py), so that the city dashboard computes every indicator over them for both
periods (this one and the comparison). Logs the city admin in and writes OUT_DIR/city.cookie and
OUT_DIR/city.path. Then measures the server time of the dashboard, once every worker has computed
it: the median time to the first byte of 9 requests one after another, printed as "city
dashboard: N schools in the scope (…), S KB, M ms to the first byte (median of 9)".
Python standard library only; 127.0.0.1 only.
"""

import concurrent.futures
import csv
import http.client
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse

import loopback

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES = os.path.join(HERE, "..", "db", "demo", "values.py")
spec = importlib.util.spec_from_file_location("bench_county", os.path.join(HERE, "bench-county.py"))
bench_county = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_county)
COUNTIES = ["99019%d" % i for i in range(1, 7)]


def main():
    base, tb_admin, conf, out = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 3000
    port = urllib.parse.urlsplit(base).port
    units = os.path.join(out, "city.csv")
    rows = []
    per = n // len(COUNTIES)
    for i, county in enumerate(COUNTIES):
        part = os.path.join(out, "county-%s.csv" % county)
        bench_county.COUNTY = county
        bench_county.schools_csv(part, per if i < len(COUNTIES) - 1 else n - per * (len(COUNTIES) - 1))
        with open(part, encoding="utf-8") as f:
            r = list(csv.reader(f))
        header = r[0]
        r[1][1] = "第%d县" % (i + 1)
        rows += r[1:]
    with open(units, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    bench_county.admin(tb_admin, conf, "orgunit", "import", units)
    for period in ("2025", "2026"):
        path = os.path.join(out, "city-%s.json" % period)
        subprocess.run([sys.executable, VALUES, "--period", period, "--orgunits", units,
                        "-o", path], check=True)
        bench_county.admin(tb_admin, conf, "values", "import", path, "--state", "approved")
    cookie = loopback.login(port, "admin", "bench-city")
    path = "/indicators?period=2026"
    with open(os.path.join(out, "city.cookie"), "w") as f:
        f.write(cookie)
    with open(os.path.join(out, "city.path"), "w") as f:
        f.write(path)
    # every worker computes the page once first (its caches of the definitions and of SQLite
    # pages warm), as in a running server: 16 at a time, twice
    def fetch(_):
        loopback.request(port, "GET", path, cookie, timeout=120)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        for _ in range(2):
            list(pool.map(fetch, range(16)))
    times, page = [], b""
    for _ in range(9):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        t0 = time.monotonic()
        c.request("GET", path, headers={"Cookie": cookie})
        resp = c.getresponse()
        resp.read(1)
        times.append(time.monotonic() - t0)
        page = resp.read()
        c.close()
        if resp.status != 200:
            sys.exit("bench-city: the dashboard answered %d" % resp.status)
    m = re.search(r"共 (\d+) 所学校，(\d+) 所有已审核数据", page.decode("utf-8", "replace"))
    if not m:
        sys.exit("bench-city: the dashboard does not say how many schools it covers")
    print("city dashboard: %s schools in the scope (%s with approved figures), %d KB, "
          "%.0f ms to the first byte (median of 9)"
          % (m.group(1), m.group(2), len(page) // 1024, statistics.median(times) * 1000))


if __name__ == "__main__":
    main()

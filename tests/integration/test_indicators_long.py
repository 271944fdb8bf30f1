#!/usr/bin/env python3
"""test_indicators_long.py — a city dashboard with more schools missing the 优质均衡 verdict than
it lists: the list of a stage stops at 200 and says where the whole list is.

One private stack (tblib.Stack) gets the demo city from scripts/demo-data (period 2025 with every
school approved); the test adds the county 长河县 (990131) with 230 primary schools and no figures,
so that every one of them lacks data in 2025. The admin's dashboard of 2025 must then list exactly
200 schools under the primary stage, say that only the first 200 are listed, count all of them
(the demo's own and the 230) in the stage's summary line, and the export of the schools' values
must hold a row for each of the 230.
"""

import csv
import io
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tblib  # noqa: E402

PASSWORD = "tianbao-demo"
COUNTY = "990131"
SCHOOLS = ["21%s%04d" % (COUNTY[2:], i + 1) for i in range(230)]
SHOWN = 200
NOTE = "仅列出前 200 所，完整名单请导出学校指标表。"


def setUpModule():
    global STACK
    STACK = Base.stack = tblib.Stack(prefix="tianbao-indlong-").start()
    try:
        STACK.demo_data()
        path = STACK.path("long.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["code", "name", "kind", "parent_code", "school_type", "ownership",
                        "inclusive", "urban_rural", "center_code"])
            w.writerow([COUNTY, "长河县", "county", "990100", "", "", "", "", ""])
            for i, code in enumerate(SCHOOLS):
                w.writerow([code, "长河县第%d小学" % (i + 1), "school", COUNTY, "211", "public", "",
                            "220", ""])
        STACK.admin("orgunit", "import", path)
    except Exception:
        STACK.failed = True
        raise


def tearDownModule():
    tblib.finish_stack(STACK)


class Base(tblib.ClientTest):
    password = PASSWORD


class LongListTest(Base):
    def test_the_primary_stage_lists_200_and_points_to_the_export(self):
        admin = self.client("admin")
        r = admin.open("/indicators?period=2025")
        self.assertEqual(r.status, 200)
        blocks = [b.split("<h2>")[0] for b in r.text.split('<div class="stage-block">')[1:]]
        primary = [b for b in blocks if "<h3>小学：资源配置" in b]
        self.assertEqual(len(primary), 1, "one primary stage block")
        b = primary[0]
        m = re.search(r"<p>参评学校 (\d+) 所：达标 <b>(\d+)</b> 所，未达标 (\d+) 所，缺少数据 (\d+) 所。", b)
        self.assertIsNotNone(m, "the stage's summary line")
        self.assertGreaterEqual(int(m.group(4)), len(SCHOOLS), "every new school lacks data")
        listed = re.findall(r"<li><a href=\"[^\"]*\">[^<]*</a>（(\d+)）", b)
        self.assertEqual(len(listed), SHOWN)
        self.assertEqual(len(set(listed)), SHOWN, "no school twice")
        self.assertIn(NOTE, b)
        junior = [b for b in blocks if "<h3>初中：资源配置" in b]
        self.assertEqual(len(junior), 1, "one junior stage block")
        self.assertNotIn(NOTE, junior[0], "the junior stage's few failing schools are all listed")
        # the whole list is in the export
        r = admin.open("/indicators/export/schools/csv?period=2025")
        self.assertEqual(r.status, 200)
        rows = list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"))))
        self.assertTrue(set(SCHOOLS) <= {row[0] for row in rows[1:]}, "the 230 in the export")


if __name__ == "__main__":
    tblib.main()

#!/usr/bin/env python3
"""bench-entry.py — prepares the data-entry targets of scripts/bench on a private demo stack.

  scripts/bench-entry.py BASE_URL DB_PATH OUT_DIR [CLIENTS]

Opens the demo's 2026 forms for editing again (the bench's own copy of the data), logs one
school user in per client (CLIENTS, default 32) and writes into OUT_DIR:
  get.cookie   Cookie header of one 九年一贯制 school's user, and get.path its staff page;
  post.lua     a wrk script in which thread i saves the staff form of school i again and again
               (each save changes staff_total, so each makes a new version; the script follows
               the version and counts every answer that is not 303 to ?saved=1 as an error).
Python standard library only; talks to 127.0.0.1 only.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.parse

import loopback

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES = os.path.join(HERE, "..", "db", "demo", "values.py")
GET_SCHOOL = "3199220003"  # 白水县东岗乡九年一贯制学校 (小学 + 初中)


def lua_str(s):
    """A Lua string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main():
    base, db_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    port = urllib.parse.urlsplit(base).port
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE submission SET state = 'draft' WHERE period_id ="
                   " (SELECT id FROM period WHERE code = '2026')")
        schools = [r[0] for r in db.execute(
            "SELECT code FROM org_unit WHERE kind = 'school' ORDER BY code")]
    if len(schools) < clients:
        sys.exit("bench-entry: only %d schools for %d clients" % (len(schools), clients))
    schools = [GET_SCHOOL] + [s for s in schools if s != GET_SCHOOL][:clients - 1]
    sets = json.loads(subprocess.check_output(
        [sys.executable, VALUES, "--period", "2026", "--forms", "staff",
         "--schools", ",".join(schools)]))["dataValueSets"]
    staff = {s["orgUnit"]: s["dataValues"] for s in sets}
    threads = []
    for code in schools:
        cookie = loopback.login(port, code, "bench-entry")
        path = "/schools/%s/2026/staff" % code
        status, _, page = loopback.request(port, "GET", path, cookie)
        if status != 200:
            sys.exit("bench-entry: GET %s answered %d" % (path, status))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
        values = {"v." + v["dataElement"]: v["value"] for v in staff[code]}
        total = int(values.pop("v.staff_total"))
        body = urllib.parse.urlencode(dict(values, csrf=csrf, action="save"))
        threads.append((path, cookie, body, version, total))
        if code == GET_SCHOOL:
            with open(os.path.join(out, "get.cookie"), "w") as f:
                f.write(cookie)
            with open(os.path.join(out, "get.path"), "w") as f:
                f.write(path)
    with open(os.path.join(out, "post.lua"), "w") as f:
        f.write("-- written by scripts/bench-entry.py: thread i saves the staff form of school i\n")
        f.write("local data = {\n")
        for path, cookie, body, version, total in threads:
            f.write("  {%s, %s, %s, %d, %d},\n" % (lua_str(path), lua_str(cookie),
                                                   lua_str(body), version, total))
        f.write("}\n")
        f.write("""
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("idx", counter)
end
function init(args)
  me = data[idx]
  version = me[4]
  flip = 1
end
-- request() has no side effects: wrk may call it once more to inspect the request
function request()
  local body = me[3] .. "&version=" .. version .. "&v.staff_total=" .. (me[5] + flip)
  return wrk.format("POST", me[1], {["Cookie"] = me[2],
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
function response(status, headers, body)
  if status == 303 and string.find(headers["Location"] or "", "saved=1", 1, true) then
    version = version + 1
    flip = 1 - flip
  else
    io.stderr:write("save answered " .. status .. "\\n")
  end
end
""")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""bench-sync.py — delivery throughput of tianbao-sync to the local mock platform.

  scripts/bench-sync.py BASE_URL TIANBAO_SYNC CONFIG OUT_DIR COOKIE_FILE [COUNT]

Run by scripts/bench after bench-county.py: the county reviewer (COOKIE_FILE) approves COUNT
(default 1000) submitted forms of the large county at once (POST /review/approve), which writes
COUNT outbox rows; then tests/mock_upstream.py is started on a free loopback port and
`tianbao-sync --once` delivers them. Prints one line "delivered N in S s: R submissions/s" and
fails unless the mock holds exactly the N idempotency keys. Python standard library only.
"""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse

import loopback

HERE = os.path.dirname(os.path.abspath(__file__))
MOCK = os.path.join(HERE, "..", "tests", "mock_upstream.py")


def free_port():
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    base, tb_sync, conf, out, cookie_file = sys.argv[1:6]
    count = int(sys.argv[6]) if len(sys.argv) > 6 else 1000
    port = urllib.parse.urlsplit(base).port
    cookie = open(cookie_file).read().strip()
    status, _, page = loopback.request(port, "GET", "/review?period=2026&state=submitted",
                                       cookie, timeout=600)
    tags = re.findall(r'<input type="checkbox" name="s" value="([^"]+)"([^>]*)>', page)
    picks = [value for value, rest in tags if "disabled" not in rest][:count]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    if len(picks) < count:
        sys.exit("bench-sync: only %d submitted forms to approve" % len(picks))
    status, _, _ = loopback.request(port, "POST", "/review/approve", cookie,
                                    {"csrf": csrf, "period": "2026", "s": picks}, timeout=600)
    if status != 200:
        sys.exit("bench-sync: bulk approval answered %d" % status)
    db_path = re.search(r"^database\s*=\s*(.+)$", open(conf).read(), re.M).group(1).strip()
    with sqlite3.connect(db_path) as db:
        pending = db.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0]
    mport = free_port()
    mock = subprocess.Popen([sys.executable, MOCK, "--port", str(mport)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", mport), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        sync_ini = os.path.join(out, "sync.ini")
        with open(sync_ini, "w") as f:
            f.write("[sync]\nbase_url = http://127.0.0.1:%d\nbatch_size = 200\n" % mport)
        t0 = time.monotonic()
        p = subprocess.run([tb_sync, "-c", conf, "-s", sync_ini, "--once"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        secs = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit("bench-sync: tianbao-sync failed:\n" + p.stderr[-2000:])
        stats = json.loads(loopback.request(mport, "GET", "/_stats")[2])
    finally:
        mock.terminate()
        mock.wait()
    if stats["imported"] != pending or stats["requests"] != pending:
        sys.exit("bench-sync: %d rows pending, the mock imported %d in %d requests"
                 % (pending, stats["imported"], stats["requests"]))
    print("delivered %d in %.2f s: %.0f submissions/s" % (pending, secs, pending / secs))


if __name__ == "__main__":
    main()

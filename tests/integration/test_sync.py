#!/usr/bin/env python3
"""test_sync.py — tianbao-sync against the mock provincial platform (tests/mock_upstream.py).

One private stack (tblib.Stack) gets the demo city from scripts/demo-data, whose county reviewers
approve most 2026 submissions through the web pages; the admin then bulk-approves the clean
submissions still waiting (POST /review/approve with many `s=CODE:FORM:VERSION`, read from the
overview's checkboxes).  Every final approval wrote one outbox row with its payload: those real
rows are what the normal delivery sends.  The stack's database is then copied (SQLite backup) as
a template; every test works on a copy of its own, keeping the rows it wants and adding rows by
SQL whose payloads are built here in the shape of dvs_payload (core/dvs.h) from
db/demo/values.py, so that no test sees another's rows.  The stack is stopped at the end and its
log checked for sanitizer reports.

tianbao-sync runs as `tianbao-sync -c COMMON -s SYNC --once|--daemon` with a common file of only
`[tianbao] database = ...` and a [sync] file with short timeouts (connect_timeout 2, timeout 5,
lease 8, backoff_base 1, backoff_max 2, interval 1); the mock listens on a free loopback port
(--port-file), with a bearer token, --store for the outage test and --tls-cert/--tls-key for TLS
(a self-signed certificate for 127.0.0.1 made with openssl).  Everything stays on 127.0.0.1.

What the tests check: normal delivery of real approvals (each key `<school>-<period>-<form>-
v<version>`, the bearer token, the body exactly the stored payload, the payload equal to the
approved values); 3×503 then success, honouring Retry-After; a 30 s outage of the platform (the
daemon keeps retrying, then delivers to the restarted platform, which remembers what it had);
a connection closed after the platform stored the data (the retry is a replay, not a
duplicate); SIGKILL in a loop while 200 rows are delivered (afterwards exactly 200 distinct sets,
each key's body the same); two processes started at once (no row sent twice); 400 with
conflicts and an ERROR summary go to failed with the conflicts in the message; a wrong token
(401), 403, 404 (a wrong base_url) and 407 pause the pass after one request, the rows pending
and nothing failed, logged once, resumed by itself; 409/425 without an import summary are
retried, DHIS2's 409 with one fails; a redirect is not followed; a WARNING summary is delivered
with the ignored values kept; a 2xx longer than 1 MiB is retried; GBK bytes are stored as
UTF-8 with U+FFFD; an older version of a submission is superseded and never sent after a newer
one (nor beside one in flight); max_attempts reached → dead; --daemon stops on SIGTERM after the
request in flight (exit 0); bad configurations (a token_file line too long, --once with
--daemon) are refused with an English message; TLS with a self-signed certificate fails unless
that CA is configured (and the name is checked); the token never appears in the logs or the
database.  T10Page runs tianbao-sync against the stack's own database and reads the admin's
page 上报省平台 (/sync): a Chinese label per outcome, no "送达" on undelivered rows, each HTTP
status once, the pause banner, superseded rows and the refused retry of an old version.  Clean exits of tianbao-sync (built with
sanitizers under `make check`) must not print a sanitizer report.  Run by `make check`, or:
  cd build && TIANBAO_SRCDIR=.. TIANBAO_BUILDDIR=. python3 ../tests/integration/test_sync.py
"""

import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
from urllib.parse import urlencode

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tblib  # noqa: E402

PASSWORD = "tianbao-demo"
CST = dt.timezone(dt.timedelta(hours=8))
SYNC_BIN = os.path.join(tblib.BUILDDIR, "tianbao-sync")
MOCK = os.path.join(tblib.SRCDIR, "tests", "mock_upstream.py")
VALUES_PY = tblib.VALUES_PY
TOKEN = "tb-sync-test-token-7f3a9c1e5b2d4086"  # the platform's bearer token
KEY_RE = re.compile(r"^(\d{10})-([0-9A-Za-z]+)-([a-z_]+)-v(\d+)$")

STACK = None
WORK = None          # this module's temporary directory
TEMPLATE = None      # the database after the approvals (copied per test)
BULK = []            # "CODE:FORM:VERSION" the admin bulk-approved
SETS = {}            # (school, period, form) -> data value set from values.py


# ---- small helpers ----

def compact(obj):
    """JSON as jansson's JSON_COMPACT writes it (UTF-8, no blanks)."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def cst_day(t):
    return dt.datetime.fromtimestamp(t, CST).strftime("%Y-%m-%d")


def sanitizer_lines(text):
    return [ln for ln in text.splitlines() if any(m in ln for m in tblib.SANITIZER_MARKERS)]


# ---- the stack: the demo city and real approvals ----

class Web:
    """A minimal cookie-keeping client of the stack (Origin and Sec-Fetch-Site on POSTs)."""

    def __init__(self, stack):
        self.stack, self.cookies = stack, {}

    def request(self, method, path, form=None):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if method == "POST":
            headers["Origin"] = self.stack.origin
            headers["Sec-Fetch-Site"] = "same-origin"
        status, h, data = self.stack.request(method, path, body=body, headers=headers, timeout=60)
        for k, v in h.raw:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                val = rest.split(";")[0]
                if val:
                    self.cookies[name.strip()] = val
                else:
                    self.cookies.pop(name.strip(), None)
        return status, h, data.decode("utf-8")

    def login(self, user):
        status, _, _ = self.request("POST", "/login", {"username": user, "password": PASSWORD})
        if status != 303:
            raise RuntimeError("login of %s answered %d" % (user, status))


def bulk_approve(stack):
    """The admin approves every clean submission still waiting, in one POST; returns the
    CODE:FORM:VERSION values approved."""
    web = Web(stack)
    web.login("admin")
    status, _, page = web.request("GET", "/review?period=2026")
    if status != 200:
        raise RuntimeError("GET /review answered %d" % status)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    boxes = re.findall(r'<input type="checkbox" name="s" value="([^"]+)"([^>]*)>', page)
    chosen = [v for v, rest in boxes if "disabled" not in rest]
    if not chosen:
        raise RuntimeError("no submission to bulk-approve on the overview")
    form = [("csrf", csrf), ("period", "2026")] + [("s", v) for v in chosen]
    status, _, page = web.request("POST", "/review/approve", form)
    if status != 200 or "已审核通过 %d 份" % len(chosen) not in page:
        raise RuntimeError("bulk approval: %d\n%s" % (status, page[:3000]))
    return chosen


def load_value_sets():
    """db/demo/values.py's sets of 2025 and 2026 by (school, period, form)."""
    out = {}
    for period in ("2025", "2026"):
        p = subprocess.run([sys.executable, VALUES_PY, "--period", period, "--warnings",
                            "--comments"], stdout=subprocess.PIPE, check=True, timeout=120)
        for s in json.loads(p.stdout)["dataValueSets"]:
            out[(s["orgUnit"], s["period"], s["dataSet"])] = s
    return out


def setUpModule():
    global STACK, WORK, TEMPLATE, BULK, SETS
    STACK = tblib.Stack(prefix="tianbao-sync-").start()
    WORK = tempfile.mkdtemp(prefix="tianbao-sync-it-")
    try:
        STACK.demo_data()
        BULK = bulk_approve(STACK)
        TEMPLATE = os.path.join(WORK, "template.db")
        src = sqlite3.connect(STACK.path("tianbao.db"), timeout=30)
        dst = sqlite3.connect(TEMPLATE)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        SETS = load_value_sets()
    except Exception:
        STACK.failed = True
        shutil.rmtree(WORK, ignore_errors=True)  # tearDownModule does not run after this
        raise


def tearDownModule():
    try:
        tblib.finish_stack(STACK)
    finally:
        if WORK and os.path.isdir(WORK):
            if os.environ.get("TIANBAO_KEEP") or (STACK and STACK.failed):
                sys.stderr.write("test_sync: kept %s\n" % WORK)
            else:
                shutil.rmtree(WORK, ignore_errors=True)


# ---- the mock platform ----

class Mock:
    """tests/mock_upstream.py on a loopback port (free, or a given one)."""

    def __init__(self, dirname, token=TOKEN, store=None, tls=None, port=0):
        self.dir, self.token, self.store, self.tls, self.port = dirname, token, store, tls, port
        self.proc = None
        self.n = 0

    serial = 0   # a name for each start of any mock of the test (two may share a directory)

    def start(self):
        self.n += 1
        Mock.serial += 1
        pf = os.path.join(self.dir, "mock-%d.port" % Mock.serial)
        cmd = [sys.executable, MOCK, "--port", str(self.port), "--port-file", pf]
        if self.token:
            cmd += ["--token", self.token]
        if self.store:
            cmd += ["--store", self.store]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        self.log = open(os.path.join(self.dir, "mock-%d.log" % Mock.serial), "wb")
        for attempt in range(50):
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                         stderr=subprocess.STDOUT)
            if tblib.wait_for(lambda: os.path.exists(pf) or self.proc.poll() is not None, 15):
                if os.path.exists(pf):
                    with open(pf) as f:
                        self.port = int(f.read())
                    return self
            # the same port right after a kill may still be busy: try again
            self.proc.wait()
            time.sleep(0.2)
        raise RuntimeError("the mock platform did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    @property
    def base_url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def call(self, method, path, obj=None):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=ctx)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            body = json.dumps(obj).encode() if obj is not None else None
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            r = conn.getresponse()
            return json.loads(r.read())
        finally:
            conn.close()

    def control(self, **kw):
        return self.call("POST", "/_control", kw)

    def received(self):
        return self.call("GET", "/_received")

    def stats(self):
        return self.call("GET", "/_stats")


# ---- the tests' base ----

class SyncTest(unittest.TestCase):
    """Each test: a directory, a copy of the template database, the processes it starts
    (stopped at its end)."""

    maxDiff = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix=self._testMethodName[:30] + "-", dir=WORK)
        self.db = os.path.join(self.dir, "t.db")
        shutil.copyfile(TEMPLATE, self.db)
        self.common = os.path.join(self.dir, "tianbao.ini")
        with open(self.common, "w") as f:
            f.write("[tianbao]\ndatabase = %s\n" % self.db)
        self.procs = []
        self.mocks = []
        self.outputs = []   # every tianbao-sync output of this test (checked for the token)
        self.nsync = 0
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        for m in self.mocks:
            m.kill()
            m.stop()
        for text in self.outputs:
            self.assertNotIn(TOKEN, text, "the bearer token appears in tianbao-sync's output")

    # -- the database --

    def q(self, sql, args=()):
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def x(self, sql, args=(), many=None):
        conn = sqlite3.connect(self.db, timeout=30)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            if many is not None:
                conn.executemany(sql, many)
            else:
                conn.execute(sql, args)
            conn.commit()
        finally:
            conn.close()

    def keep_rows(self, n):
        """Keep only the n oldest real outbox rows (all when n is None); their ids."""
        ids = [r[0] for r in self.q("SELECT id FROM outbox ORDER BY id")]
        self.assertGreaterEqual(len(ids), n or 1, "the approvals wrote too few outbox rows")
        keep = ids if n is None else ids[:n]
        if n is not None:
            self.x("DELETE FROM outbox WHERE id NOT IN (%s)" % ",".join(map(str, keep)))
        self.x("UPDATE outbox SET next_attempt_at = 0")
        return keep

    def add_rows(self, n, version_base=100):
        """Add n pending outbox rows by SQL for existing submissions, with payloads built in
        the shape of dvs_payload from db/demo/values.py; their ids."""
        subs = self.q("SELECT s.id, o.code, p.code, s.form_code FROM submission s"
                      " JOIN org_unit o ON o.id = s.school_id JOIN period p ON p.id = s.period_id"
                      " ORDER BY p.code, o.code, s.form_code")
        rows = []
        now = int(time.time())
        k = 0
        while len(rows) < n:
            sid, school, period, form = subs[k % len(subs)]
            version = version_base + k // len(subs)
            k += 1
            s = SETS.get((school, period, form))
            if not s:
                continue
            payload = {"dataSet": form, "period": period, "orgUnit": school,
                       "completeDate": cst_day(now),
                       "dataValues": [dict(v) for v in s["dataValues"]]}
            rows.append((sid, version, "%s-%s-%s-v%d" % (school, period, form, version),
                         compact(payload), now - 1, now))
        self.x("INSERT INTO outbox(submission_id, version, idem_key, payload, next_attempt_at,"
               " created_at) VALUES (?, ?, ?, ?, ?, ?)", many=rows)
        keys = [r[2] for r in rows]
        return [r[0] for r in self.q("SELECT id FROM outbox WHERE idem_key IN (%s) ORDER BY id"
                                     % ",".join("?" * len(keys)), keys)]

    def rows(self, ids=None):
        """{id: dict of the outbox row}."""
        cols = ("id", "idem_key", "payload", "state", "attempts", "next_attempt_at",
                "lease_owner", "lease_until", "last_status", "last_error", "reply",
                "delivered_at", "version", "submission_id")
        res = self.q("SELECT %s FROM outbox ORDER BY id" % ", ".join(cols))
        out = {r[0]: dict(zip(cols, r)) for r in res}
        return out if ids is None else {i: out[i] for i in ids}

    def states(self, ids=None):
        return {i: r["state"] for i, r in self.rows(ids).items()}

    def all_in(self, state, ids=None):
        return all(s == state for s in self.states(ids).values())

    def audit(self, action=None):
        sql = "SELECT actor, action, object, detail, at FROM audit WHERE action LIKE 'outbox.%'"
        args = ()
        if action:
            sql += " AND action = ?"
            args = (action,)
        return self.q(sql + " ORDER BY id", args)

    # -- configuration files --

    def sync_ini(self, base_url, name=None, token=TOKEN, **over):
        """Write a [sync] file; values of `over` override the defaults (None drops a key)."""
        self.nsync += 1
        path = os.path.join(self.dir, name or "sync-%d.ini" % self.nsync)
        keys = {"base_url": base_url, "token": token, "connect_timeout": 2, "timeout": 5,
                "low_speed_time": 5, "batch_size": 10, "interval": 1, "max_attempts": 50,
                "backoff_base": 1, "backoff_max": 2, "lease": 8}
        keys.update(over)
        with open(path, "w") as f:
            f.write("; written by test_sync.py\n[sync]\n")
            for k, v in keys.items():
                if v is not None:
                    f.write("%s = %s\n" % (k, v))
        return path

    def mock(self, **kw):
        m = Mock(self.dir, **kw).start()
        self.mocks.append(m)
        return m

    # -- tianbao-sync --

    def env(self, extra=None):
        env = dict(os.environ)
        env.update(extra or {})
        return env

    def once(self, sync_ini, common=None, timeout=90, env=None, clean=True):
        """Run --once to its end: (exit code, output). With `clean`, the output must hold no
        sanitizer report."""
        p = subprocess.run([SYNC_BIN, "-c", common or self.common, "-s", sync_ini, "--once"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout, env=self.env(env))
        out = p.stdout.decode("utf-8", "replace")
        self.outputs.append(out)
        if clean:
            self.assertEqual(sanitizer_lines(out), [], "sanitizer report:\n" + out)
        return p.returncode, out

    def daemon(self, sync_ini, env=None):
        """Start --daemon; its output goes to a file (see output())."""
        n = len(self.procs)
        logname = os.path.join(self.dir, "sync-daemon-%d.log" % n)
        log = open(logname, "wb")
        p = subprocess.Popen([SYNC_BIN, "-c", self.common, "-s", sync_ini, "--daemon"],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             env=self.env(env))
        log.close()
        p.logname = logname
        self.procs.append(p)
        return p

    def output(self, p):
        with open(p.logname, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop_daemon(self, p, timeout=15):
        """SIGTERM: it must exit 0 within `timeout`, without a sanitizer report."""
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            self.fail("tianbao-sync --daemon did not stop within %d s of SIGTERM" % timeout)
        out = self.output(p)
        self.outputs.append(out)
        self.assertEqual(rc, 0, "exit code after SIGTERM:\n" + out)
        self.assertEqual(sanitizer_lines(out), [], "sanitizer report:\n" + out)
        return out

    def assertDelivered(self, ids, mock):
        """Every row delivered once, by its key, with its payload as the body."""
        rows = self.rows(ids)
        for i, r in rows.items():
            self.assertEqual(r["state"], "delivered", "row %d: %r" % (i, r))
            self.assertEqual(r["last_status"], 200)
            self.assertIsNone(r["last_error"])
            self.assertIsNotNone(r["delivered_at"])
            self.assertIsNone(r["lease_owner"])
            self.assertEqual(json.loads(r["reply"])["status"], "SUCCESS")
        got = mock.received()["sets"]
        for r in rows.values():
            self.assertIn(r["idem_key"], got)
            self.assertEqual(got[r["idem_key"]], json.loads(r["payload"]), r["idem_key"])
        return rows


# ---- the tests ----

class T01Delivery(SyncTest):

    def test_normal_delivery_of_real_approvals(self):
        """Every row the approvals wrote is delivered once, with the right key, token and body;
        the payload is what was approved; a second run sends nothing."""
        ids = self.keep_rows(None)
        self.assertGreaterEqual(len(ids), 20)
        # the admin's bulk approvals are among them, with their versions
        keys = {r["idem_key"] for r in self.rows(ids).values()}
        for s in BULK:
            school, form, version = s.split(":")
            self.assertIn("%s-2026-%s-v%s" % (school, form, version), keys)
        m = self.mock()
        # environment proxies are ignored (a proxy there would swallow every request)
        env = {"http_proxy": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9",
               "https_proxy": "http://127.0.0.1:9", "ALL_PROXY": "http://127.0.0.1:9"}
        rc, out = self.once(self.sync_ini(m.base_url), env=env)
        self.assertEqual(rc, 0, out)
        rows = self.assertDelivered(ids, m)
        rec = m.received()
        self.assertEqual(rec["count"], len(ids))
        st = m.stats()
        self.assertEqual((st["requests"], st["imported"], st["replayed"], st["conflicts"]),
                         (len(ids), len(ids), 0, 0))
        for r in rows.values():
            self.assertEqual(r["attempts"], 1)
        # the key is <school>-<period>-<form>-v<version> of the submission approved
        subs = {r[0]: r[1:] for r in self.q(
            "SELECT s.id, o.code, p.code, s.form_code, s.version, s.approved_at, s.state"
            " FROM submission s JOIN org_unit o ON o.id = s.school_id"
            " JOIN period p ON p.id = s.period_id")}
        types = dict(self.q("SELECT code, type FROM field"))
        position = dict(self.q("SELECT code, position FROM field"))
        for r in rows.values():
            school, period, form, version, approved_at, state = subs[r["submission_id"]]
            self.assertEqual(state, "approved")
            self.assertEqual(r["idem_key"], "%s-%s-%s-v%d" % (school, period, form, version))
            self.assertEqual(r["version"], version)
            self.assertRegex(r["idem_key"], KEY_RE)
            body = rec["sets"][r["idem_key"]]
            self.assertEqual(compact(body), r["payload"], "the payload is compact UTF-8 JSON")
            self.assertEqual(list(body), ["dataSet", "period", "orgUnit", "completeDate",
                                          "dataValues"])
            self.assertEqual((body["dataSet"], body["period"], body["orgUnit"]),
                             (form, period, school))
            self.assertEqual(body["completeDate"], cst_day(approved_at))
            # every value a string, equal to the stored canonical value, in definition order
            stored = dict(self.q("SELECT field_code, norm FROM value WHERE submission_id = ?"
                                 " AND norm IS NOT NULL", (r["submission_id"],)))
            sent = {}
            for v in body["dataValues"]:
                self.assertIsInstance(v["value"], str)
                self.assertLessEqual(set(v), {"dataElement", "value", "comment"})
                sent[v["dataElement"]] = v["value"]
            want = {k: (("true" if n == "1" else "false") if types[k] == "yesno" else n)
                    for k, n in stored.items()}
            self.assertEqual(sent, want, r["idem_key"])
            order = [position[v["dataElement"]] for v in body["dataValues"]]
            self.assertEqual(order, sorted(order))
            # the school's 说明 travel as comments
            expl = [t for (t,) in self.q("SELECT text FROM explanation WHERE submission_id = ?",
                                         (r["submission_id"],))]
            comments = "；".join(v["comment"] for v in body["dataValues"] if "comment" in v)
            for t in expl:
                self.assertIn(t, comments, r["idem_key"])
        # Chinese text arrived as such
        names = [v["value"] for b in rec["sets"].values() for v in b["dataValues"]
                 if v["dataElement"] == "principal_name"]
        self.assertTrue(names and all(re.search(r"[\u4e00-\u9fff]", n) for n in names))
        # one audit row per delivery, by "sync"
        aud = self.audit("outbox.delivered")
        self.assertEqual(sorted(a[2] for a in aud), sorted("outbox:%d" % i for i in ids))
        self.assertTrue(all(a[0] == "sync" for a in aud))
        self.assertIn("delivering to %s" % m.base_url, out)
        # nothing left: a second run sends nothing
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        self.assertEqual(m.stats()["requests"], len(ids))


class T02Retry(SyncTest):

    def test_three_503_then_success(self):
        """Three 503 with Retry-After 3: retried after 3 s each (more than the backoff's
        draw of 1 s with backoff_max 2), then delivered on the fourth attempt."""
        ids = self.keep_rows(1)
        m = self.mock()
        m.control(fail=3, status=503, retry_after="3")
        p = self.daemon(self.sync_ini(m.base_url))
        # after the first 503: pending, one attempt, due 2 s after the attempt
        first = tblib.wait_for(lambda: [r for r in self.rows(ids).values() if r["attempts"] >= 1],
                           20, 0.02)
        self.assertTrue(first, "no attempt within 20 s")
        r = first[0]
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("pending", 1, 503))
        self.assertIn("503", r["last_error"])
        retry_at = self.q("SELECT at FROM audit WHERE action = 'outbox.retry'"
                          " ORDER BY id LIMIT 1")[0][0]
        t = dt.datetime.strptime(retry_at[:19], "%Y-%m-%dT%H:%M:%S").replace(
            tzinfo=dt.timezone.utc).timestamp()
        # due 3 s after the attempt (2 when the audit row fell into the next second)
        self.assertGreaterEqual(r["next_attempt_at"] - int(t), 2,
                                "Retry-After 3 was not honoured")
        self.assertLessEqual(r["next_attempt_at"] - int(t), 4)
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", ids), 30),
                        "not delivered: %r" % self.rows(ids))
        self.stop_daemon(p)
        r = self.assertDelivered(ids, m)[ids[0]]
        self.assertEqual(r["attempts"], 4)
        st = m.stats()
        self.assertEqual((st["requests"], st["imported"], st["faults"]), (4, 1, 3))
        self.assertEqual([a[1] for a in self.audit()],
                         ["outbox.retry"] * 3 + ["outbox.delivered"])

    def test_connection_closed_after_store(self):
        """The connection is closed before the answer: once with nothing imported, once after
        the platform stored the data; the retry is answered from the stored reply, nothing is
        imported twice."""
        ids = self.keep_rows(1)
        m = self.mock()
        m.control(close=1, store_close=1)
        p = self.daemon(self.sync_ini(m.base_url))
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", ids), 30),
                        "not delivered: %r" % self.rows(ids))
        self.stop_daemon(p)
        r = self.assertDelivered(ids, m)[ids[0]]
        self.assertEqual(r["attempts"], 3)
        st = m.stats()
        self.assertEqual((st["requests"], st["imported"], st["replayed"], st["conflicts"]),
                         (3, 1, 1, 0))
        self.assertEqual(m.received()["count"], 1)
        aud = self.audit()
        self.assertEqual([a[1] for a in aud], ["outbox.retry", "outbox.retry",
                                               "outbox.delivered"])
        self.assertIn("no answer", aud[0][3])
        self.assertIn("no answer", aud[1][3])

    def test_max_attempts_dead(self):
        """503 every time with max_attempts 3: dead after the third attempt, no more sent."""
        ids = self.keep_rows(1)
        m = self.mock()
        m.control(fail=1000, status=503)
        p = self.daemon(self.sync_ini(m.base_url, max_attempts=3))
        self.assertTrue(tblib.wait_for(lambda: self.all_in("dead", ids), 30),
                        "not dead: %r" % self.rows(ids))
        time.sleep(2.5)
        self.stop_daemon(p)
        r = self.rows(ids)[ids[0]]
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("dead", 3, 503))
        self.assertIn("503", r["last_error"])
        self.assertIsNone(r["lease_owner"])
        self.assertEqual(m.stats()["requests"], 3)
        self.assertEqual([a[1] for a in self.audit()],
                         ["outbox.retry", "outbox.retry", "outbox.dead"])
        self.assertEqual(m.received()["count"], 0)


class T03Outage(SyncTest):

    def test_thirty_second_outage(self):
        """The platform goes away for 30 s: the daemon keeps retrying (no answer, backoff),
        never gives up, and delivers once the platform (with its store) is back on the same
        port; what was delivered before stays delivered exactly once."""
        ids = self.keep_rows(6)
        before, during = ids[:3], ids[3:]
        self.x("UPDATE outbox SET next_attempt_at = 4000000000 WHERE id IN (%s)"
               % ",".join(map(str, during)))
        store = os.path.join(self.dir, "platform.jsonl")
        m = self.mock(store=store)
        p = self.daemon(self.sync_ini(m.base_url))
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", before), 20),
                        "not delivered: %r" % self.rows(before))
        port = m.port
        m.kill()
        self.x("UPDATE outbox SET next_attempt_at = 0 WHERE id IN (%s)"
               % ",".join(map(str, during)))
        t0 = time.monotonic()
        time.sleep(30)
        self.assertIsNone(p.poll(), "the daemon exited during the outage:\n" + self.output(p))
        rows = self.rows(during)
        for r in rows.values():
            self.assertEqual(r["state"], "pending", r)
            self.assertGreaterEqual(r["attempts"], 5, "too few retries in 30 s: %r" % r)
            self.assertEqual(r["last_status"], 0)
            self.assertIn("no answer", r["last_error"])
            self.assertLessEqual(r["next_attempt_at"], int(time.time()) + 3,
                                 "backoff beyond backoff_max")
        m2 = Mock(self.dir, store=store, port=port).start()
        self.mocks.append(m2)
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", during), 20),
                        "not delivered after the outage: %r" % self.rows(during))
        self.assertGreaterEqual(time.monotonic() - t0, 30)
        self.stop_daemon(p)
        self.assertDelivered(ids, m2)
        self.assertEqual(m2.received()["count"], 6)
        st = m2.stats()
        self.assertEqual((st["imported"], st["conflicts"]), (3, 0))
        self.assertEqual(self.states(ids), {i: "delivered" for i in ids})


class T04Kill(SyncTest):

    def test_sigkill_loop_200(self):
        """SIGKILL again and again while 200 rows are delivered: afterwards the platform holds
        exactly 200 distinct sets, each key's body the stored payload, nothing imported twice
        or conflicting, every row delivered."""
        self.x("DELETE FROM outbox")
        ids = self.add_rows(200)
        self.assertEqual(len(ids), 200)
        m = self.mock()
        m.control(delay=0.02)
        ini = self.sync_ini(m.base_url, batch_size=5)
        rnd = random.Random(200)
        kills, mid = 0, 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = m.received()["count"]
            if done >= 200:
                break
            p = self.daemon(ini)
            time.sleep(rnd.uniform(0.15, 0.6))
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
            after = m.received()["count"]
            if 0 < after < 200:
                mid += 1
            if kills >= 25:
                break
        self.assertGreaterEqual(mid, 5, "too few kills in the middle of the delivery")
        # a last daemon delivers the rest (rows leased by killed processes come back after
        # the lease of 8 s)
        p = self.daemon(ini)
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", ids), 60, 0.5),
                        "not all delivered: %r" % {s: list(self.states(ids).values()).count(s)
                                                   for s in set(self.states(ids).values())})
        self.stop_daemon(p)
        rec = m.received()
        self.assertEqual(rec["count"], 200)
        rows = self.rows(ids)
        self.assertEqual(set(rec["sets"]), {r["idem_key"] for r in rows.values()})
        for r in rows.values():
            self.assertEqual(rec["sets"][r["idem_key"]], json.loads(r["payload"]))
        st = m.stats()
        self.assertEqual(st["imported"], 200)
        self.assertEqual(st["conflicts"], 0)
        self.assertEqual(st["rejected"], 0)
        self.assertEqual(self.q("PRAGMA integrity_check"), [("ok",)])
        self.assertEqual(len(self.audit("outbox.delivered")), 200)


class T05Concurrency(SyncTest):

    def test_two_processes_at_once(self):
        """Two processes started at once share the rows: each row sent exactly once, by one
        of them; both did work."""
        self.x("DELETE FROM outbox")
        ids = self.add_rows(16)
        m = self.mock()
        m.control(delay=0.3)
        ini = self.sync_ini(m.base_url, batch_size=2)
        cmd = [SYNC_BIN, "-c", self.common, "-s", ini, "--once"]
        ps = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, env=self.env()) for _ in range(2)]
        self.procs.extend(ps)
        outs = []
        for p in ps:
            out, _ = p.communicate(timeout=120)
            outs.append(out.decode("utf-8", "replace"))
            self.outputs.append(outs[-1])
            self.assertEqual(p.returncode, 0, outs[-1])
            self.assertEqual(sanitizer_lines(outs[-1]), [])
        self.assertDelivered(ids, m)
        st = m.stats()
        self.assertEqual((st["requests"], st["imported"], st["replayed"]), (16, 16, 0),
                         "a row was sent more than once")
        sent = [set(re.findall(r"outbox (\d+) \([^)]*\): delivered", o)) for o in outs]
        self.assertEqual(sent[0] & sent[1], set())
        self.assertEqual(sent[0] | sent[1], {str(i) for i in ids})
        self.assertTrue(sent[0] and sent[1], "one process did all the work:\n%s" % outs)
        for r in self.rows(ids).values():
            self.assertEqual(r["attempts"], 1)


class T06Refusals(SyncTest):

    def test_rejected_with_conflicts(self):
        """400 with conflicts and a 200 ERROR summary: failed at once, the conflicts in the
        message, the reply kept; not sent again."""
        ids = self.keep_rows(2)
        m = self.mock()
        m.control(reject=1, conflicts=[{"object": "pri_students", "value": "value out of range"},
                                       {"object": "jun_classes", "value": "不是整数"}])
        rc, out = self.once(self.sync_ini(m.base_url, batch_size=1))
        self.assertEqual(rc, 0, out)
        rows = self.rows(ids)
        a, b = rows[ids[0]], rows[ids[1]]
        self.assertEqual((a["state"], a["attempts"], a["last_status"]), ("failed", 1, 400))
        self.assertIn("pri_students: value out of range", a["last_error"])
        self.assertIn("jun_classes: 不是整数", a["last_error"])
        self.assertEqual(json.loads(a["reply"])["conflicts"][0]["object"], "pri_students")
        self.assertEqual(b["state"], "delivered")
        aud = self.audit("outbox.failed")
        self.assertEqual(len(aud), 1)
        self.assertEqual(aud[0][2], "outbox:%d" % ids[0])
        self.assertIn("pri_students: value out of range", aud[0][3])
        # an ERROR import summary in a 200 (the row put back by the admin's retry)
        self.x("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0"
               " WHERE id = ?", (ids[0],))
        m.control(error_summary=1)
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        a = self.rows(ids)[ids[0]]
        self.assertEqual((a["state"], a["last_status"]), ("failed", 200))
        self.assertIn("period is locked", a["last_error"])
        self.assertIn(a["idem_key"], a["last_error"])
        # failed rows are not sent again
        n = m.stats()["requests"]
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(m.stats()["requests"], n)
        self.assertEqual(m.received()["count"], 1)

    def test_token(self):
        """The bearer token is sent (from token_file too, with blanks around it); a wrong or
        missing token gives 401, which is not the submission's fault: the pass stops after
        that one request, the row stays pending (error recorded, attempt not counted, normal
        backoff), the other rows are untouched, it is logged once and the run exits 1; the
        token appears neither in the output nor in the database."""
        ids = self.keep_rows(3)
        m = self.mock()
        wrong = "wrong-" + TOKEN[::-1]
        t0 = int(time.time())
        rc, out = self.once(self.sync_ini(m.base_url, token=wrong))
        self.assertEqual(rc, 1, out)
        self.assertNotIn(wrong, out)
        self.assertEqual(m.stats()["requests"], 1, "the pass went on after a 401")
        self.assertEqual(out.count("delivery paused"), 1, out)
        rows = self.rows(ids)
        self.assertEqual(sorted(r["state"] for r in rows.values()), ["pending"] * 3)
        tried = [r for r in rows.values() if r["last_status"] is not None]
        self.assertEqual(len(tried), 1, rows)
        r = tried[0]
        self.assertEqual((r["last_status"], r["attempts"]), (401, 0))
        self.assertIn("HTTP 401", r["last_error"])
        self.assertIn("paused", r["last_error"])
        self.assertIn("bad or missing bearer token", r["last_error"])
        self.assertGreaterEqual(r["next_attempt_at"], t0 + 1, "no backoff after the 401")
        for o in rows.values():
            self.assertIsNone(o["lease_owner"], "a lease was kept after the pause")
            if o is not r:
                self.assertEqual((o["attempts"], o["last_error"]), (0, None))
        self.assertEqual([a[1] for a in self.audit()], ["outbox.paused"])
        self.assertEqual(m.received()["count"], 0)
        # no token at all: the same
        self.x("UPDATE outbox SET next_attempt_at = 0")
        rc, out = self.once(self.sync_ini(m.base_url, token=None))
        self.assertEqual(rc, 1, out)
        self.assertEqual(m.stats()["requests"], 2)
        self.assertEqual(sorted(self.states(ids).values()), ["pending"] * 3)
        # the right one, read from a file relative to the sync configuration (blanks and a
        # CRLF around it are not part of it)
        self.x("UPDATE outbox SET next_attempt_at = 0")
        os.mkdir(os.path.join(self.dir, "secret"))
        with open(os.path.join(self.dir, "secret", "token"), "w") as f:
            f.write("  " + TOKEN + " \t\r\n")
        rc, out = self.once(self.sync_ini(m.base_url, token=None, token_file="secret/token"))
        self.assertEqual(rc, 0, out)
        self.assertDelivered(ids, m)
        for r in self.rows(ids).values():
            self.assertEqual(r["attempts"], 1)
        # the token is nowhere in the database
        for suffix in ("", "-wal"):
            path = self.db + suffix
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                self.assertNotIn(TOKEN.encode(), data)
                self.assertNotIn(wrong.encode(), data)

    def test_token_file_too_long(self):
        """A token_file whose line is longer than a token may be is refused with an English
        message naming the file (it used to be cut silently at 4095 bytes)."""
        with open(os.path.join(self.dir, "long-token"), "w") as f:
            f.write("y" * 4096 + TOKEN + "\n")
        rc, out = self.once(self.sync_ini("http://127.0.0.1:9", token=None,
                                          token_file="long-token"))
        self.assertEqual(rc, 1, out)
        self.assertIn("long-token", out)
        self.assertIn("longer", out)
        self.assertNotIn("yyyyyyyy", out)
        self.assertTrue(out.isascii(), out)

    def test_long_token(self):
        """A long bearer token (an OAuth JWT is easily 1000 characters; the configuration
        holds up to SYNC_TOKEN_MAX - 1 = 4095) is accepted in `token =` and in a token_file
        and sent whole."""
        longtok = "eyJhbGciOiJSUzI1NiJ9." + "A1b2C3d4" * 120 + "." + TOKEN
        ids = self.keep_rows(2)
        m = self.mock(token=longtok)
        with open(os.path.join(self.dir, "jwt"), "w") as f:
            f.write(longtok + "\n")
        rc, out = self.once(self.sync_ini(m.base_url, token=None, token_file="jwt", batch_size=1))
        self.assertEqual(rc, 0, out)
        self.assertNotIn(longtok, out)
        self.assertEqual(sorted(self.states(ids).values()), ["delivered"] * 2,
                         "token_file: %r" % self.rows(ids))
        self.x("UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0")
        m2 = self.mock(token=longtok)
        rc, out = self.once(self.sync_ini(m2.base_url, token=longtok))
        self.assertNotIn(longtok, out)
        self.assertEqual(rc, 0, "a %d-character token in `token =` is refused: %s"
                         % (len(longtok), out))
        self.assertDelivered(ids, m2)

    def test_daemon_sigterm_after_request_in_flight(self):
        """SIGTERM while a request is in flight (the platform answers after 2 s): the daemon
        waits for the answer, records it, sends nothing more and exits 0."""
        ids = self.keep_rows(3)
        m = self.mock()
        m.control(delay=2)
        p = self.daemon(self.sync_ini(m.base_url))
        self.assertTrue(tblib.wait_for(lambda: m.stats()["requests"] >= 1, 20, 0.05))
        time.sleep(0.3)
        t0 = time.monotonic()
        out = self.stop_daemon(p, timeout=10)
        took = time.monotonic() - t0
        self.assertGreater(took, 0.8, "it did not wait for the request in flight")
        self.assertIn("stopped", out)
        st = self.states(ids)
        self.assertEqual(st[ids[0]], "delivered", self.rows(ids))
        self.assertEqual(m.stats()["requests"], 1)
        for i in ids[1:]:
            r = self.rows([i])[i]
            self.assertEqual((r["state"], r["attempts"]), ("pending", 0))

    def test_bad_configuration(self):
        """Bad or unreadable configurations are refused with one English line naming the
        file, and exit 1 (usage errors exit 2); the token is never echoed."""
        ok = self.sync_ini("http://127.0.0.1:9")
        missing = os.path.join(self.dir, "nonexistent.ini")
        longtok = "x" * 5000 + TOKEN
        cases = [
            ("http to a host that is not loopback", self.sync_ini("http://example.com"),
             "base_url"),
            ("http to a private address", self.sync_ini("http://10.1.2.3:8080/api"), "base_url"),
            ("http to a name that starts like loopback",
             self.sync_ini("http://127.0.0.1.example.com/"), "base_url"),
            ("another scheme", self.sync_ini("ftp://127.0.0.1/"), "base_url"),
            ("no base_url", self.sync_ini(None), "base_url"),
            ("unknown key", self.sync_ini("http://127.0.0.1:9", colour="blue"), "colour"),
            ("not a number", self.sync_ini("http://127.0.0.1:9", timeout="5s"), "timeout"),
            ("out of range", self.sync_ini("http://127.0.0.1:9", batch_size=0), "batch_size"),
            ("lease too short", self.sync_ini("http://127.0.0.1:9", lease=7), "lease"),
            ("missing token file", self.sync_ini("http://127.0.0.1:9", token=None,
                                                 token_file="no/such/token"), "token"),
            ("token longer than SYNC_TOKEN_MAX", self.sync_ini("http://127.0.0.1:9",
                                                               token=longtok), None),
            ("no such file", missing, "nonexistent.ini"),
            ("a directory", self.dir, self.dir),
        ]
        with open(os.path.join(self.dir, "syntax.ini"), "w") as f:
            f.write("[sync]\nbase_url = http://127.0.0.1:9\nthis line is not a key\n")
        cases.append(("syntax error", os.path.join(self.dir, "syntax.ini"), "syntax.ini"))
        for what, path, part in cases:
            with self.subTest(what):
                rc, out = self.once(path)
                self.assertEqual(rc, 1, "%s: %s" % (what, out))
                if part:
                    self.assertIn(part, out)
                self.assertTrue(out.startswith("tianbao-sync: "), out)
                self.assertEqual(len(out.strip().splitlines()), 1, out)
                self.assertTrue(out.isascii(), "not English: %r" % out)
                self.assertNotIn(TOKEN, out)
                self.assertNotIn("delivering", out)
        # the common configuration unreadable, the database not migrated
        with self.subTest("common configuration missing"):
            rc, out = self.once(ok, common=os.path.join(self.dir, "none.ini"))
            self.assertEqual(rc, 1, out)
            self.assertIn("none.ini", out)
        with self.subTest("database not migrated"):
            empty = os.path.join(self.dir, "empty.ini")
            with open(empty, "w") as f:
                f.write("[tianbao]\ndatabase = %s\n" % os.path.join(self.dir, "empty.db"))
            rc, out = self.once(ok, common=empty)
            self.assertEqual(rc, 1, out)
            self.assertIn("tianbao-admin migrate", out)
        with self.subTest("[sync] database overrides [tianbao] database"):
            rc, out = self.once(self.sync_ini("http://127.0.0.1:9",
                                              database=os.path.join(self.dir, "other.db")))
            self.assertEqual(rc, 1, out)
            self.assertIn("other.db", out)
        with self.subTest("usage"):
            p = subprocess.run([SYNC_BIN, "-c", self.common, "-s", ok], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            self.assertEqual(p.returncode, 2)
            self.assertIn(b"usage", p.stdout)
        for args in (["--once", "--daemon"], ["--daemon", "--once"]):
            with self.subTest(" ".join(args)):
                p = subprocess.run([SYNC_BIN, "-c", self.common, "-s", ok] + args,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
                self.assertEqual(p.returncode, 2, p.stdout)
                self.assertIn(b"--once and --daemon exclude each other", p.stdout)
                self.assertIn(b"usage", p.stdout)
                self.assertTrue(p.stdout.isascii())
                self.assertNotIn(b"delivering", p.stdout)
        # nothing was sent or changed
        self.assertEqual(self.audit(), [])


class T07Tls(SyncTest):

    def test_self_signed_needs_its_ca(self):
        """Against HTTPS with a self-signed certificate for 127.0.0.1: refused without the CA
        (the row stays pending, nothing arrives), refused under another name even with the CA,
        delivered with ca_bundle naming it."""
        ids = self.keep_rows(1)
        cert, key = os.path.join(self.dir, "cert.pem"), os.path.join(self.dir, "key.pem")
        p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days",
                            "1", "-keyout", key, "-out", cert], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout)
        m = self.mock(tls=(cert, key))

        def attempt(ini):
            self.x("UPDATE outbox SET next_attempt_at = 0")
            rc, out = self.once(ini)
            self.assertEqual(rc, 0, out)
            return self.rows(ids)[ids[0]]

        r = attempt(self.sync_ini(m.base_url))
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("pending", 1, 0))
        self.assertRegex(r["last_error"], r"(?i)certificate|SSL")
        self.assertEqual(m.received()["count"], 0)
        # the CA, but a name the certificate does not carry
        r = attempt(self.sync_ini("https://localhost:%d" % m.port, ca_bundle="cert.pem"))
        self.assertEqual((r["state"], r["attempts"]), ("pending", 2))
        self.assertEqual(m.received()["count"], 0)
        # plain http to the TLS port is no answer either
        r = attempt(self.sync_ini("http://127.0.0.1:%d" % m.port))
        self.assertEqual((r["state"], r["attempts"]), ("pending", 3))
        # with the CA (a path relative to the sync configuration): delivered
        r = attempt(self.sync_ini(m.base_url, ca_bundle="cert.pem"))
        self.assertEqual(r["state"], "delivered", r)
        self.assertDelivered(ids, m)
        self.assertEqual(m.stats()["imported"], 1)


# GBK bytes of an error page of a proxy: 服务器错误 (server error)
GBK_PAGE = "<html><body>服务器错误</body></html>".encode("gbk")


def valid_utf8(text_or_bytes):
    """True when the value (as SQLite stores it) is valid UTF-8."""
    b = text_or_bytes.encode("utf-8", "surrogateescape") if isinstance(text_or_bytes, str) \
        else text_or_bytes
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


class T08Answers(SyncTest):
    """What each kind of answer comes to (docs/upstream.md's table), end to end."""

    def blob(self, col, i):
        """The bytes of a column of an outbox row as stored."""
        return self.q("SELECT CAST(%s AS BLOB) FROM outbox WHERE id = ?" % col, (i,))[0][0]

    def test_pause_on_endpoint_or_credentials(self):
        """403, 404 (a wrong base_url) and 407 pause the pass like 401: one request, the row
        pending with the error, nothing failed; exit 1."""
        ids = self.keep_rows(3)
        m = self.mock()
        cases = [(403, self.sync_ini(m.base_url), {"answer": 1, "answer_status": 403,
                                                   "answer_body": "Forbidden"}),
                 (404, self.sync_ini(m.base_url + "/wrong/path"), None),
                 (407, self.sync_ini(m.base_url), {"answer": 1, "answer_status": 407})]
        n = 0
        for status, ini, control in cases:
            with self.subTest(status):
                self.x("UPDATE outbox SET next_attempt_at = 0")
                if control:
                    m.control(**control)
                rc, out = self.once(ini)
                n += status != 404  # the mock counts requests to /api/dataValueSets only
                self.assertEqual(rc, 1, out)
                self.assertEqual(m.stats()["requests"], n)
                self.assertEqual(out.count("HTTP %d" % status), 1, out)
                self.assertEqual(out.count("delivery paused"), 1, out)
                self.assertEqual(sorted(self.states(ids).values()), ["pending"] * 3)
                last = max(self.rows(ids).values(), key=lambda r: r["next_attempt_at"])
                self.assertEqual((last["last_status"], last["attempts"]), (status, 0))
                self.assertIn("HTTP %d" % status, last["last_error"])
        self.assertEqual(m.received()["count"], 0)
        self.assertEqual({a[1] for a in self.audit()}, {"outbox.paused"})

    def test_pause_logged_once_then_resumed(self):
        """A daemon facing 401 for several passes logs the pause once, fails nothing (not
        even with max_attempts 2), and resumes by itself once the platform takes the token;
        its exit code is that of the last pass (0)."""
        ids = self.keep_rows(3)
        m = self.mock()
        m.control(answer=1000, answer_status=401, answer_body="token expired")
        p = self.daemon(self.sync_ini(m.base_url, max_attempts=2))
        self.assertTrue(tblib.wait_for(lambda: m.stats()["requests"] >= 4, 30, 0.1),
                        "too few passes: %r" % m.stats())
        self.assertEqual(sorted(self.states(ids).values()), ["pending"] * 3)
        for r in self.rows(ids).values():
            self.assertEqual(r["attempts"], 0)
        m.control(reset=True)
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", ids), 30),
                        "not delivered after the pause: %r" % self.rows(ids))
        out = self.stop_daemon(p)
        self.assertEqual(out.count("delivery paused"), 1, out)
        self.assertEqual(out.count("delivery resumed"), 1, out)
        self.assertDelivered(ids, m)

    def test_409_in_progress_is_retried(self):
        """409 (and 425) without an import summary: a request with the same key is still
        being processed (the Idempotency-Key draft): retried with backoff, then delivered."""
        ids = self.keep_rows(1)
        m = self.mock()
        m.control(answer=2, answer_status=409,
                  answer_body='{"title": "request with this Idempotency-Key in progress"}')
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        r = self.rows(ids)[ids[0]]
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("pending", 1, 409))
        self.assertIn("still being processed", r["last_error"])
        p = self.daemon(self.sync_ini(m.base_url))
        self.assertTrue(tblib.wait_for(lambda: self.all_in("delivered", ids), 30),
                        "not delivered: %r" % self.rows(ids))
        self.stop_daemon(p)
        self.assertEqual(self.assertDelivered(ids, m)[ids[0]]["attempts"], 3)
        self.assertEqual([a[1] for a in self.audit()],
                         ["outbox.retry", "outbox.retry", "outbox.delivered"])

    def test_409_import_summary_is_a_conflict(self):
        """DHIS2's 409 with an import summary (status ERROR, conflicts) is a data conflict:
        failed at once, the conflicts in the message."""
        ids = self.keep_rows(1)
        m = self.mock()
        body = {"httpStatus": "Conflict", "httpStatusCode": 409, "status": "ERROR",
                "response": {"responseType": "ImportSummary", "status": "ERROR",
                             "importCount": {"imported": 0, "ignored": 1},
                             "conflicts": [{"object": "pri_students",
                                            "value": "value out of range"}]}}
        m.control(answer=1, answer_status=409, answer_body=json.dumps(body))
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        r = self.rows(ids)[ids[0]]
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("failed", 1, 409))
        self.assertIn("pri_students: value out of range", r["last_error"])

    def test_redirect_is_not_followed(self):
        """A 307 to another platform is not followed (nothing arrives there, the token is
        not replayed): the row stays pending with the Location in the message."""
        ids = self.keep_rows(1)
        m, other = self.mock(), self.mock()
        target = other.base_url + "/api/dataValueSets"
        m.control(answer=1, answer_status=307, answer_headers={"Location": target})
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        r = self.rows(ids)[ids[0]]
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("pending", 1, 307))
        self.assertIn(target, r["last_error"])
        self.assertIn("not followed", r["last_error"])
        self.assertEqual(other.stats()["requests"], 0)
        self.x("UPDATE outbox SET next_attempt_at = 0")
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertDelivered(ids, m)

    def test_warning_summary_keeps_the_ignored_values(self):
        """A WARNING import summary: delivered, and what the platform ignored is kept in
        last_error (and the reply)."""
        ids = self.keep_rows(2)
        m = self.mock()
        m.control(warning=1, conflicts=[{"object": "books", "value": "值超出范围，已忽略"}])
        rc, out = self.once(self.sync_ini(m.base_url, batch_size=1))
        self.assertEqual(rc, 0, out)
        rows = self.rows(ids)
        a, b = rows[ids[0]], rows[ids[1]]
        self.assertEqual((a["state"], a["last_status"]), ("delivered", 200))
        self.assertIn("WARNING", a["last_error"])
        self.assertIn("books: 值超出范围，已忽略", a["last_error"])
        self.assertEqual(json.loads(a["reply"])["status"], "WARNING")
        self.assertIsNotNone(a["delivered_at"])
        self.assertEqual((b["state"], b["last_error"]), ("delivered", None))
        aud = self.audit("outbox.delivered")
        self.assertIn("books", aud[0][3])

    def test_truncated_2xx_is_retried(self):
        """A 2xx answer longer than the 1 MiB kept is cut, so its summary cannot be trusted:
        retried with a message saying so."""
        ids = self.keep_rows(1)
        m = self.mock()
        big = json.dumps({"status": "SUCCESS", "conflicts": [], "padding": "x" * (1 << 20)})
        m.control(answer=1, answer_status=200, answer_body=big)
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        r = self.rows(ids)[ids[0]]
        self.assertEqual((r["state"], r["attempts"], r["last_status"]), ("pending", 1, 200))
        self.assertIn("1 MiB", r["last_error"])

    def test_invalid_utf8_is_replaced(self):
        """A GBK error page (502, then 400): last_error, the reply, the audit detail and the
        log hold valid UTF-8, with U+FFFD where the bytes were."""
        ids = self.keep_rows(1)
        m = self.mock()
        m.control(answer=1, answer_status=502, answer_hex=GBK_PAGE.hex())
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        err = self.blob("last_error", ids[0])
        self.assertTrue(valid_utf8(err), err)
        self.assertIn("\ufffd", err.decode("utf-8"))
        self.x("UPDATE outbox SET next_attempt_at = 0")
        m.control(answer=1, answer_status=400, answer_hex=GBK_PAGE.hex())
        rc, out = self.once(self.sync_ini(m.base_url))
        r = self.rows(ids)[ids[0]]
        self.assertEqual((r["state"], r["last_status"]), ("failed", 400))
        for col in ("last_error", "reply"):
            b = self.blob(col, ids[0])
            self.assertTrue(valid_utf8(b), "%s: %r" % (col, b))
            self.assertIn("\ufffd", b.decode("utf-8"))
        for (d,) in self.q("SELECT CAST(detail AS BLOB) FROM audit WHERE action LIKE 'outbox.%'"):
            self.assertTrue(valid_utf8(d), d)


class T09Versions(SyncTest):
    """An older version of a submission never reaches the platform after a newer one."""

    def newer(self, row_id, version_add=100, state="pending", due=0):
        """Add a newer version of the submission of an outbox row (its payload, another
        key); the new row's id."""
        r = self.rows([row_id])[row_id]
        v = r["version"] + version_add
        key = re.sub(r"-v\d+$", "-v%d" % v, r["idem_key"])
        now = int(time.time())
        self.x("INSERT INTO outbox(submission_id, version, idem_key, payload, state,"
               " next_attempt_at, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (r["submission_id"], v, key, r["payload"], state, due, now,
                now if state == "delivered" else None))
        return self.q("SELECT id FROM outbox WHERE idem_key = ?", (key,))[0][0]

    def test_newer_version_supersedes(self):
        """v1 waiting in backoff, v1 failed behind a delivered v2, v1 in flight at another
        run: each v1 is superseded (with an audit row), never sent after its v2; a v2 waits
        while its v1 is leased (in flight)."""
        ids = self.keep_rows(3)
        a1, b1, c1 = ids
        now = int(time.time())
        self.x("UPDATE outbox SET next_attempt_at = ?, attempts = 2, last_status = 503"
               " WHERE id = ?", (now + 3600, a1))
        a2 = self.newer(a1)
        self.x("UPDATE outbox SET state = 'failed', last_status = 422 WHERE id = ?", (b1,))
        b2 = self.newer(b1, state="delivered")
        self.x("UPDATE outbox SET lease_owner = 'ghost:1:0', lease_until = ? WHERE id = ?",
               (now + 600, c1))
        c2 = self.newer(c1)
        m = self.mock()
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        st = self.states([a1, a2, b1, b2, c1, c2])
        self.assertEqual(st, {a1: "superseded", a2: "delivered", b1: "superseded",
                              b2: "delivered", c1: "superseded", c2: "pending"})
        rows = self.rows([a1, a2, b1, c1, c2])
        got = m.received()["sets"]
        self.assertEqual(set(got), {rows[a2]["idem_key"]})
        aud = {a[2]: a for a in self.audit("outbox.superseded")}
        self.assertEqual(set(aud), {"outbox:%d" % i for i in (a1, b1, c1)})
        self.assertIn("superseded by version %d" % rows[a2]["version"], aud["outbox:%d" % a1][3])
        # the ghost's lease ends (or it gives it back): c2 goes now
        self.x("UPDATE outbox SET lease_owner = NULL, lease_until = NULL WHERE id = ?", (c1,))
        rc, out = self.once(self.sync_ini(m.base_url))
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.states([c1, c2]), {c1: "superseded", c2: "delivered"})
        self.assertNotIn(rows[c1]["idem_key"], m.received()["sets"])
        self.assertEqual(m.stats()["requests"], 2)


class T10Page(SyncTest):
    """The admin's page 上报省平台 (/sync) on the stack's own database, after real runs of
    tianbao-sync against the mock: a label per outcome, each message once, no "送达" on an
    undelivered row, the pause shown, old versions refused."""

    def test_sync_page(self):
        common = os.path.join(self.dir, "stack.ini")
        with open(common, "w") as f:
            f.write("[tianbao]\ndatabase = %s\n" % STACK.path("tianbao.db"))
        ids = [r[0] for r in STACK.query("SELECT id FROM outbox WHERE state = 'pending'"
                                         " ORDER BY id LIMIT 7")]
        self.assertEqual(len(ids), 7)
        warned, refused, gbk, paused, waiting, old, old_failed = ids
        STACK.execute("UPDATE outbox SET next_attempt_at = 4000000000")
        m = self.mock()

        def run(i, token=TOKEN, **control):
            STACK.execute("UPDATE outbox SET next_attempt_at = 0 WHERE id = ?", (i,))
            if control:
                m.control(**control)
            rc, out = self.once(self.sync_ini(m.base_url, token=token), common=common)
            STACK.execute("UPDATE outbox SET next_attempt_at = 4000000000 WHERE id = ?"
                          " AND state = 'pending'", (i,))
            return rc, out

        run(warned, warning=1, conflicts=[{"object": "books", "value": "值被忽略"}])
        run(refused, answer=1, answer_status=422, answer_body=json.dumps(
            {"status": "ERROR", "description": "rejected",
             "conflicts": [{"object": "dataSet", "value": "unknown data set"}]}))
        run(gbk, answer=1, answer_status=502, answer_hex=GBK_PAGE.hex())
        rc, out = run(paused, token="wrong-token")
        self.assertEqual(rc, 1, out)
        # two newer versions queued by SQL: `old` pending, `old_failed` failed behind them
        now = int(time.time())
        for i in (old, old_failed):
            sub, version, key, payload = STACK.query(
                "SELECT submission_id, version, idem_key, payload FROM outbox WHERE id = ?",
                (i,))[0]
            STACK.execute("INSERT INTO outbox(submission_id, version, idem_key, payload,"
                          " next_attempt_at, created_at) VALUES (?, ?, ?, ?, 4000000000, ?)",
                          (sub, version + 100, key + "00", payload, now))
        STACK.execute("UPDATE outbox SET state = 'failed', last_status = 400,"
                      " last_error = 'HTTP 400: old' WHERE id = ?", (old_failed,))
        web = Web(STACK)
        web.login("admin")
        status, _, page = web.request("GET", "/sync")
        self.assertEqual(status, 200)

        def row(i):
            mt = re.search(r'<tr class="ob-[a-z]+" id="ob-%d">(.*?)</tr>' % i, page, re.S)
            self.assertIsNotNone(mt, "row %d not on the page" % i)
            return mt.group(1)

        r = row(warned)
        self.assertIn("已送达，但省平台忽略了部分数值", r)
        self.assertIn("books: 值被忽略", r)
        self.assertIn("<br>送达 ", r)
        r = row(refused)
        self.assertIn("省平台拒收", r)
        self.assertIn("dataSet: unknown data set", r)
        self.assertEqual(r.count("HTTP 422"), 1, r)
        self.assertIn("重新发送", r)
        r = row(gbk)
        self.assertIn("省平台暂时不可用，将自动重试", r)
        self.assertIn("\ufffd", r)
        self.assertEqual(r.count("HTTP 502"), 1, r)
        r = row(paused)
        self.assertIn("拒绝了凭据", r)
        self.assertIn("HTTP 401", r)
        r = row(waiting)
        self.assertIn("尚未发送", r)
        self.assertIn("下次尝试", r)
        for i in (old, old_failed):
            r = row(i)
            self.assertIn("已被新版本取代", r)
            self.assertNotIn("重新发送", r)
        # no undelivered row borrows the page's count of delivered rows
        for i in (refused, gbk, paused, waiting, old, old_failed):
            self.assertNotIn("送达 ", row(i).replace("已送达", ""), "row %d" % i)
        # the pause is shown above the table
        banner = re.search(r'<p class="msg error" role="alert">(.*?)</p>', page, re.S)
        self.assertIsNotNone(banner, "no pause banner")
        self.assertIn("上报已暂停", banner.group(1))
        self.assertIn("HTTP 401", banner.group(1))
        self.assertIn("sync.ini", banner.group(1))
        # the counts: the two old versions are superseded already (and any the demo left)
        superseded = STACK.query(
            "SELECT count(*) FROM outbox x WHERE x.state = 'superseded' OR (x.state IN"
            " ('pending', 'failed', 'dead') AND EXISTS (SELECT 1 FROM outbox y WHERE"
            " y.submission_id = x.submission_id AND y.version > x.version))")[0][0]
        self.assertGreaterEqual(superseded, 2)
        self.assertIn("<b>%d</b><span>已被新版本取代</span>" % superseded, page)
        _, _, sup = web.request("GET", "/sync?state=superseded")
        self.assertIn('id="ob-%d"' % old, sup)
        self.assertNotIn('id="ob-%d"' % warned, sup)
        # the admin cannot send the old failed version again; the newest failed one, yes
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        status, _, text = web.request("POST", "/sync/%d/retry" % old_failed, {"csrf": csrf})
        self.assertEqual(status, 409, text)
        self.assertIn("不能重新发送", text)
        self.assertEqual(STACK.query("SELECT state FROM outbox WHERE id = ?",
                                     (old_failed,))[0][0], "failed")
        status, h, _ = web.request("POST", "/sync/%d/retry" % refused, {"csrf": csrf})
        self.assertEqual(status, 303)
        self.assertEqual(STACK.query("SELECT state FROM outbox WHERE id = ?",
                                     (refused,))[0][0], "pending")


if __name__ == "__main__":
    tblib.main()

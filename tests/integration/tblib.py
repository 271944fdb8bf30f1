"""tblib.py — shared helpers of Tianbao's integration tests (Python stdlib only).

A test module starts one private stack (tianbao-fcgi + nginx, via scripts/stack)
on a free loopback port in a fresh temporary directory, talks to it over HTTP on
127.0.0.1 only, and always stops it again: in tearDownModule, at interpreter
exit (atexit) and on SIGTERM/SIGINT.  After the stack has stopped (so that the
workers have exited and LeakSanitizer has had its say), DIR/fcgi.log is read for
sanitizer reports, which fail the run.

Besides the stack: its database (DIR/tianbao.db, read and nudged directly), the audit
rows, tianbao-admin against it, its workers; and a browser-like Client (cookies, no
redirects followed, the stack's Origin on POSTs, the security headers of every response
checked) with the TestCase base ClientTest.

Environment: TIANBAO_SRCDIR (default: the repository root above this file) and
TIANBAO_BUILDDIR (default: $TIANBAO_SRCDIR/build), both set by `make check`.
TIANBAO_KEEP=1 keeps the temporary directory for inspection.
"""

import atexit
import csv
import hashlib
import http.client as httpclient
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
from contextlib import closing
from html.parser import HTMLParser
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get("TIANBAO_SRCDIR") or os.path.join(HERE, "..", ".."))
BUILDDIR = os.path.abspath(os.environ.get("TIANBAO_BUILDDIR") or os.path.join(SRCDIR, "build"))

# the demo city (scripts/demo-data) and the names the pages give to its codes
DEMO_CSV = os.path.join(SRCDIR, "db", "demo", "orgunits.csv")
VALUES_PY = os.path.join(SRCDIR, "db", "demo", "values.py")
FORMS_DIR = os.path.join(SRCDIR, "db", "forms")
STAGE_NAMES = {"kg": "学前", "pri": "小学", "jun": "初中", "sen": "高中", "voc": "中职",
               "spe": "特教"}
TYPE_NAMES = {"111": "幼儿园", "211": "小学", "218": "小学教学点", "311": "初级中学",
              "312": "九年一贯制学校", "341": "完全中学", "342": "高级中学",
              "345": "十二年一贯制学校", "361": "中等职业学校", "362": "中等技术学校",
              "365": "职业高中学校", "366": "技工学校", "511": "盲人学校", "512": "聋人学校",
              "513": "培智学校", "514": "其他特教学校"}
STACK_SCRIPT = os.path.join(SRCDIR, "scripts", "stack")
HOST = "127.0.0.1"

# What a sanitizer writes when it finds something (ASan, LSan, UBSan).
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

# The security headers every response must carry (name -> required fragments).
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ),
    "x-content-type-options": ("nosniff",),
    "referrer-policy": ("same-origin",),
}

# What a request body of a form is, and a session (or CSRF) token: 43 characters of base64url.
FORM_TYPE = "application/x-www-form-urlencoded"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

# The sanitizer options `make check` uses; kept when already set.
os.environ.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
os.environ.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Headers(dict):
    """Response headers: lower-cased names -> value (repeats joined with ", ").
    `raw` keeps the (name, value) pairs as received, `count(name)` how often
    a header was sent."""

    def __init__(self, pairs):
        super().__init__()
        self.raw = list(pairs)
        for k, v in self.raw:
            k = k.lower()
            self[k] = self[k] + ", " + v if k in self else v

    def count(self, name):
        name = name.lower()
        return sum(1 for k, _ in self.raw if k.lower() == name)


def http(port, method, path, body=None, headers=None, timeout=15):
    """One request on a fresh connection to 127.0.0.1:port.
    Returns (status, Headers, body bytes).  If the server answers and closes
    while the body is still being sent (nginx refusing a large body), the
    answer is still read when the kernel kept it."""
    conn = httpclient.HTTPConnection(HOST, port, timeout=timeout)
    try:
        try:
            conn.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError) as send_err:
            try:
                resp = conn.getresponse()
            except Exception:
                raise send_err
        else:
            resp = conn.getresponse()
        data = resp.read()
        return resp.status, Headers(resp.getheaders()), data
    finally:
        conn.close()


def demo_units():
    """{code: row} of the demo city's units (db/demo/orgunits.csv)."""
    with open(DEMO_CSV, encoding="utf-8") as f:
        return {r["code"]: r for r in csv.DictReader(f)}


def wait_for(cond, seconds, step=0.05):
    """Poll cond() until it is true or `seconds` pass; its last value."""
    end = time.monotonic() + seconds
    while True:
        v = cond()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def token_hash(token):
    """What the server stores of a session token: BLAKE2b-256 of its text."""
    return hashlib.blake2b(token.encode(), digest_size=32).digest()


def proc_stat(pid):
    """(state, ppid) of a process from /proc, or None if it does not exist."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            s = f.read().decode("ascii", "replace")
    except OSError:
        return None
    rest = s[s.rindex(")") + 2 :].split()
    return rest[0], int(rest[1])


def process_gone(pid):
    """True when pid no longer runs (absent, or a zombie nobody reaped yet)."""
    st = proc_stat(pid)
    return st is None or st[0] in ("Z", "X")


def children(pid):
    """Live (non-zombie) child pids of `pid`, sorted."""
    kids = set()
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    kids.update(int(x) for x in f.read().split())
            except OSError:
                kids = None
                break
    except OSError:
        kids = None
    if kids is None:  # no /proc/.../children: scan every process's ppid
        kids = set()
        for name in os.listdir("/proc"):
            if name.isdigit():
                st = proc_stat(int(name))
                if st and st[1] == pid:
                    kids.add(int(name))
    return sorted(k for k in kids if not process_gone(k))


class Stack:
    """A private tianbao-fcgi + nginx started with scripts/stack."""

    _live = []

    def __init__(self, workers=None, env=None, prefix="tianbao-it-"):
        self.workers = workers
        self.extra_env = dict(env or {})
        self.prefix = prefix
        self.dir = None
        self.port = None
        self.failed = False
        self._stopped = True

    # -- life cycle --

    def _env(self):
        env = dict(os.environ)
        env["TIANBAO_SRCDIR"] = SRCDIR
        env["TIANBAO_BUILDDIR"] = BUILDDIR
        if self.workers is not None:
            env["TIANBAO_WORKERS"] = str(self.workers)
        env.update(self.extra_env)
        return env

    def start(self):
        """Start on a free port; a port taken in between is retried."""
        if not os.access(os.path.join(BUILDDIR, "tianbao-fcgi"), os.X_OK):
            raise RuntimeError("%s/tianbao-fcgi is not built" % BUILDDIR)
        last = None
        for _ in range(3):
            self.dir = tempfile.mkdtemp(prefix=self.prefix)
            self.port = free_port()
            Stack._live.append(self)
            self._stopped = False
            p = subprocess.run(
                ["sh", STACK_SCRIPT, "start", self.dir, str(self.port)],
                env=self._env(), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
            )
            if p.returncode == 0:
                return self
            last = p.stdout.decode("utf-8", "replace")
            self.stop()
            self.remove()
        raise RuntimeError("scripts/stack start failed:\n" + (last or ""))

    def stop(self):
        """Stop nginx and tianbao-fcgi (idempotent, never raises)."""
        if self._stopped or not self.dir:
            return
        self._stopped = True
        try:
            subprocess.run(["sh", STACK_SCRIPT, "stop", self.dir], env=self._env(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=40)
        except Exception as e:  # noqa: BLE001 — cleanup must go on
            sys.stderr.write("tblib: stopping %s: %s\n" % (self.dir, e))

    def remove(self):
        """Delete the temporary directory unless asked to keep it or failing."""
        if not self.dir or not os.path.isdir(self.dir):
            return
        if os.environ.get("TIANBAO_KEEP") or self.failed:
            sys.stderr.write("tblib: kept %s\n" % self.dir)
            return
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- inspection --

    def path(self, name):
        return os.path.join(self.dir, name)

    def supervisor_pid(self):
        with open(self.path("fcgi.pid")) as f:
            return int(f.read().strip())

    def worker_pids(self):
        return children(self.supervisor_pid())

    def workers_replaced(self, before, seconds):
        """Wait until as many workers run as in `before` and none of those; their pids, or
        a false value when that did not happen within `seconds`."""
        before = set(before)

        def replaced():
            """The worker pids once all were replaced, else None."""
            pids = self.worker_pids()
            return pids if len(pids) == len(before) and not set(pids) & before else None
        return wait_for(replaced, seconds)

    def log(self, name="fcgi.log"):
        try:
            with open(self.path(name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def sanitizer_report(self):
        """The sanitizer lines of DIR/fcgi.log with some context, or ''."""
        lines = self.log().splitlines()
        hits = [i for i, ln in enumerate(lines) if any(m in ln for m in SANITIZER_MARKERS)]
        if not hits:
            return ""
        first = hits[0]
        return "\n".join(lines[max(0, first - 5) : first + 60])

    # -- HTTP --

    @property
    def origin(self):
        """The stack's origin, as a browser sends it."""
        return "http://%s:%d" % (HOST, self.port)

    def request(self, method, path, body=None, headers=None, timeout=15):
        return http(self.port, method, path, body, headers, timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    # -- tianbao-admin --

    def admin(self, *args, stdin=None, check=True, timeout=120):
        """Run tianbao-admin -c DIR/tianbao.ini ARGS (stdin: bytes to feed it, else none);
        (exit code, stdout, stderr). With check, a non-zero exit raises RuntimeError."""
        cmd = [os.path.join(BUILDDIR, "tianbao-admin"), "-c", self.path("tianbao.ini")]
        feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
        p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, env=self._env(), **feed)
        out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
        if check and p.returncode != 0:
            raise RuntimeError("tianbao-admin %s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                                     out, err))
        return p.returncode, out, err

    def demo_data(self, timeout=180):
        """Load the demo city into the running stack (scripts/demo-data DIR yes)."""
        p = subprocess.run(["sh", os.path.join(SRCDIR, "scripts", "demo-data"), self.dir, "yes"],
                           env=self._env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("scripts/demo-data failed:\n" + p.stdout.decode("utf-8", "replace"))

    # -- the database (WAL; the server keeps running) --

    def db(self):
        """A connection to DIR/tianbao.db (closed at the end of a `with`)."""
        conn = sqlite3.connect(self.path("tianbao.db"), timeout=10)
        conn.execute("PRAGMA busy_timeout = 10000")
        return closing(conn)

    def query(self, sql, args=()):
        """The rows of one query."""
        with self.db() as conn:
            return conn.execute(sql, args).fetchall()

    def execute(self, sql, args=()):
        """Run one statement and commit it."""
        with self.db() as conn:
            conn.execute(sql, args)
            conn.commit()

    def forget_login_failures(self):
        """Forget recorded login failures and locks (test isolation: every failed login
        from 127.0.0.1 counts towards the address lock of the whole stack)."""
        with self.db() as conn:
            conn.execute("DELETE FROM login_failure")
            conn.execute("DELETE FROM login_lock")
            conn.commit()

    def audit_mark(self):
        """The id of the last audit row (0 when there is none), for audit_since."""
        return self.query("SELECT coalesce(max(id), 0) FROM audit")[0][0]

    def audit_since(self, mark, detail=False):
        """(actor, action, object) of the audit rows written after `mark`, in order; with
        detail, (actor, action, object, detail)."""
        return self.query("SELECT actor, action, object%s FROM audit WHERE id > ? ORDER BY id"
                          % (", detail" if detail else ""), (mark,))


def _stop_all():
    for s in list(Stack._live):
        s.stop()
    for s in list(Stack._live):
        s.remove()
    Stack._live.clear()


atexit.register(_stop_all)


def _on_signal(sig, frame):
    _stop_all()
    sys.exit(128 + sig)


signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def finish_stack(stack):
    """Stop the stack, then fail if its log holds a sanitizer report.
    Call from tearDownModule (an exception there counts as an error)."""
    stack.stop()
    report = stack.sanitizer_report()
    if report:
        stack.failed = True
        raise AssertionError("sanitizer report in %s:\n%s" % (stack.path("fcgi.log"), report))


class SecurityHeaders:
    """Mixin for TestCase: the checks every response must pass."""

    def assertSecurityHeaders(self, headers, what=""):
        for name, parts in SECURITY_HEADERS.items():
            self.assertIn(name, headers, "%s: header %s missing" % (what, name))
            self.assertEqual(headers.count(name), 1, "%s: header %s sent %d times"
                             % (what, name, headers.count(name)))
            for part in parts:
                self.assertIn(part, headers[name], "%s: %s lacks %r" % (what, name, part))
        self.assertNotIn("status", headers, "%s: a Status header leaked through" % what)


# ---- pages and their forms ----

class Form:
    """One <form> of a page with its controls (attribute values unescaped; the text of a
    textarea or button kept)."""

    def __init__(self, attrs):
        self.attrs = attrs
        self.controls = []

    @property
    def action(self):
        return self.attrs.get("action", "")

    def buttons(self):
        """(name, value, label, type) of the buttons."""
        return [(c["attrs"].get("name"), c["attrs"].get("value"), c["text"].strip(),
                 c["attrs"].get("type", "submit")) for c in self.controls if c["tag"] == "button"]

    def names(self):
        """The names of the controls, in order."""
        return [c["attrs"].get("name") for c in self.controls if c["attrs"].get("name")]

    def pairs(self):
        """The successful controls as a browser submits them (no button)."""
        out = []
        for c in self.controls:
            a = c["attrs"]
            name = a.get("name")
            if not name or "disabled" in a:
                continue
            if c["tag"] == "input":
                t = a.get("type", "text").lower()
                if t in ("radio", "checkbox"):
                    if "checked" in a:
                        out.append((name, a.get("value", "on")))
                elif t not in ("submit", "button", "image", "reset", "file"):
                    out.append((name, a.get("value", "")))
            elif c["tag"] == "textarea":
                out.append((name, c["text"].lstrip("\n")))
            elif c["tag"] == "select":
                sel = [o for o in c["options"] if "selected" in o] or c["options"][:1]
                if sel:
                    out.append((name, sel[0].get("value", "")))
        return out

    def value(self, name):
        """What the control `name` submits, or None."""
        for n, v in self.pairs():
            if n == name:
                return v
        return None

    def fill(self, changes=None, button=None):
        """The body a browser posts after the user set `changes` (name -> value; None
        clears) and pressed the button `button` = (name, value)."""
        changes = dict(changes or {})
        out, done = [], set()
        for n, v in self.pairs():
            if n in changes:
                if n in done:
                    continue
                done.add(n)
                if changes[n] is not None:
                    out.append((n, changes[n]))
            else:
                out.append((n, v))
        out.extend((n, v) for n, v in changes.items() if n not in done and v is not None)
        if button:
            out.append(button)
        return out


class _PageParser(HTMLParser):
    """Collects the forms of a page and the controls inside them or naming them (form=)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.by_id, self.loose = [], {}, []
        self.cur = self.select = self.text_of = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.cur = Form(a)
            self.forms.append(self.cur)
            if a.get("id"):
                self.by_id[a["id"]] = self.cur
        elif tag in ("input", "button", "select", "textarea"):
            c = {"tag": tag, "attrs": a, "options": [], "text": ""}
            if "form" in a:
                self.loose.append((a["form"], c))
            elif self.cur is not None:
                self.cur.controls.append(c)
            else:
                self.loose.append((None, c))
            if tag == "select":
                self.select = c
            if tag in ("textarea", "button"):
                self.text_of = c
        elif tag == "option" and self.select is not None:
            self.select["options"].append(a)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self.text_of is not None:
            self.text_of["text"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.cur = None
        elif tag == "select":
            self.select = None
        elif tag in ("textarea", "button"):
            self.text_of = None


class Page:
    """A parsed HTML page: its forms (by id too) and all its controls."""

    def __init__(self, text):
        p = _PageParser()
        p.feed(text)
        p.close()
        for owner, c in p.loose:
            if owner in p.by_id:
                p.by_id[owner].controls.append(c)
        self.forms = p.forms
        self.by_id = p.by_id
        self.controls = [c for f in p.forms for c in f.controls] + \
            [c for owner, c in p.loose if owner not in p.by_id]

    def form(self, ident):
        """The form with id `ident`, or None."""
        return self.by_id.get(ident)

    def form_to(self, action):
        """The first form posting to `action`, or None."""
        for f in self.forms:
            if f.action == action:
                return f
        return None


# ---- the client ----

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Response:
    """One answer: status, Headers, body bytes, the body as text (a page that is not UTF-8
    fails the test; a spreadsheet has none), the Location and the Set-Cookie headers, and
    the page's forms (`page`, parsed on first use)."""

    _page = None
    page_class = Page

    def __init__(self, status, headers, body):
        """The answer as http() returns it."""
        self.status = status
        self.headers = headers
        self.body = body
        xlsx = headers.get("content-type", "").startswith(XLSX_TYPE)
        self.text = "" if xlsx else body.decode("utf-8")
        self.location = headers.get("location")
        self.set_cookies = [v for k, v in headers.raw if k.lower() == "set-cookie"]

    @property
    def page(self):
        """The parsed page (a Page)."""
        if self._page is None:
            self._page = self.page_class(self.text)
        return self._page

    def __repr__(self):
        """Status and Location (or the start of the page), for failure messages."""
        return "<%d %s>" % (self.status, self.location or self.text[:200])


def parse_set_cookie(value):
    """'name=value; A=b; Flag' -> (name, value, {attribute lower-cased: value or True})."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, eq, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip() if eq else True
    return name.strip(), val.strip(), attrs


def csrf_of(text, test):
    """The CSRF token a page embeds (its first hidden csrf input); fails `test` without one."""
    m = re.search(r'<input type="hidden" name="csrf" value="([^"]*)"', text)
    test.assertTrue(m, "no CSRF field in the page")
    test.assertRegex(m.group(1), TOKEN_RE)
    return m.group(1)


class Client:
    """A browser-like client of one stack: keeps cookies, follows no redirects, sends
    Origin (the stack's) and Sec-Fetch-Site with every POST unless told otherwise, and
    checks the security headers of every response through `test` (a SecurityHeaders
    TestCase). `password` is what login() sends unless given another."""

    response_class = Response

    def __init__(self, test, stack, password=None):
        """A client without cookies yet."""
        self.test = test
        self.stack = stack
        self.password = password
        self.cookies = {}

    @property
    def origin(self):
        """What the client sends as Origin."""
        return self.stack.origin

    @property
    def token(self):
        """The session token the client holds, or None."""
        return self.cookies.get("tb_session")

    def request(self, method, path, form=None, raw=None, headers=None, origin=True):
        """Send a request: `form` (a dict or (name, value) pairs) or `raw` (an encoded
        string) as a urlencoded body; `headers` added, a None value removing one."""
        hdrs = {}
        if self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        body = None
        if form is not None or raw is not None:
            body = (raw if raw is not None else urlencode(form)).encode("ascii")
            hdrs["Content-Type"] = FORM_TYPE
        if method == "POST" and origin:
            hdrs["Origin"] = self.origin
            hdrs["Sec-Fetch-Site"] = "same-origin"
        for k, v in (headers or {}).items():
            if v is None:
                hdrs.pop(k, None)
            else:
                hdrs[k] = v
        status, h, data = self.stack.request(method, path, body=body, headers=hdrs, timeout=30)
        r = self.response_class(status, h, data)
        for sc in r.set_cookies:
            name, value, attrs = parse_set_cookie(sc)
            if attrs.get("max-age") == "0" or value == "":
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        self.test.assertSecurityHeaders(h, "%s %s" % (method, path))
        return r

    def get(self, path, **kw):
        """GET path (see request())."""
        return self.request("GET", path, **kw)

    def post(self, path, form=None, **kw):
        """POST form to path (see request())."""
        return self.request("POST", path, form=form, **kw)

    def submit(self, form, changes=None, button=None, headers=None):
        """Post `form` (a Form of a page) the way a browser would (see Form.fill)."""
        return self.post(form.action, form.fill(changes, button), headers=headers)

    def open(self, path, status=200):
        """GET a page and check its status."""
        r = self.get(path)
        self.test.assertEqual(r.status, status, "GET %s: %r" % (path, r))
        return r

    def csrf(self, path="/"):
        """The CSRF token of the session, as the page at `path` embeds it."""
        return csrf_of(self.open(path).text, self.test)

    def login(self, login, password=None, expect="/", extra=None):
        """Log in through POST /login (`extra`: more fields, e.g. next); the answer must be
        a 303 to `expect` (to anywhere when expect is None)."""
        form = {"username": login, "password": self.password if password is None else password}
        form.update(extra or {})
        r = self.post("/login", form)
        self.test.assertEqual(r.status, 303, "login %s: %r" % (login, r))
        if expect is not None:
            self.test.assertEqual(r.location, expect, "login %s: %r" % (login, r))
        return r

    def logout(self):
        """Log out with the page's CSRF token; the answer must be a 303 to /login?bye=1."""
        r = self.post("/logout", {"csrf": self.csrf()})
        self.test.assertEqual((r.status, r.location), (303, "/login?bye=1"), "logout: %r" % r)
        return r


class ClientTest(unittest.TestCase, SecurityHeaders):
    """A TestCase that talks to `stack` (set on the class by the module, once started)
    through `client_class` Clients logging in with `password`; every test starts with no
    recorded login failures."""

    maxDiff = None
    stack = None
    password = None
    client_class = Client

    def setUp(self):
        """Every failed login of 127.0.0.1 counts towards the address lock: forget them."""
        self.stack.forget_login_failures()

    def client(self, login=None, password=None, expect="/"):
        """A new Client; logged in as `login` when given (see Client.login)."""
        c = self.client_class(self, self.stack, self.password)
        if login:
            c.login(login, password, expect)
        return c

    def assertRedirect(self, r, location, what=""):
        """r is a 303 to location."""
        self.assertEqual((r.status, r.location), (303, location), "%s: %r" % (what, r))


def main():
    """Run the tests of the __main__ module, print 'N passed, M failed', exit 0/1."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules["__main__"])
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    # a failing subTest counts against its test; tearDownModule errors against no test
    bad_tests = {id(getattr(t, "test_case", t)) for t, _ in result.failures + result.errors
                 if isinstance(t, unittest.TestCase)}
    module_errors = [t for t, _ in result.errors if not isinstance(t, unittest.TestCase)]
    failed = len(bad_tests) + len(module_errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - len(bad_tests) - len(result.skipped) - len(result.expectedFailures) \
        - len(result.unexpectedSuccesses)
    line = "%d passed, %d failed" % (passed, failed)
    if result.skipped:
        line += ", %d skipped" % len(result.skipped)
    sys.stdout.flush()
    print(line)
    sys.stdout.flush()
    _stop_all()
    sys.exit(0 if failed == 0 and result.wasSuccessful() else 1)

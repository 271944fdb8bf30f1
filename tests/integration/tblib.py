"""tblib.py — shared helpers of Tianbao's integration tests (Python stdlib only).

A test module starts one private stack (tianbao-fcgi + nginx, via scripts/stack)
on a free loopback port in a fresh temporary directory, talks to it over HTTP on
127.0.0.1 only, and always stops it again: in tearDownModule, at interpreter
exit (atexit) and on SIGTERM/SIGINT.  After the stack has stopped (so that the
workers have exited and LeakSanitizer has had its say), DIR/fcgi.log is read for
sanitizer reports, which fail the run.

Environment: TIANBAO_SRCDIR (default: the repository root above this file) and
TIANBAO_BUILDDIR (default: $TIANBAO_SRCDIR/build), both set by `make check`.
TIANBAO_KEEP=1 keeps the temporary directory for inspection.
"""

import atexit
import http.client as httpclient
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.environ.get("TIANBAO_SRCDIR") or os.path.join(HERE, "..", ".."))
BUILDDIR = os.path.abspath(os.environ.get("TIANBAO_BUILDDIR") or os.path.join(SRCDIR, "build"))
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

    def request(self, method, path, body=None, headers=None, timeout=15):
        return http(self.port, method, path, body, headers, timeout)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


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

#!/usr/bin/env python3
"""test_workers.py — tianbao-fcgi's supervision of its workers, seen from outside.

A worker killed with SIGKILL is replaced and no request fails; all workers
killed at once, likewise; SIGHUP replaces every worker while requests go on;
SIGTERM stops everything within 10 s and removes the socket; concurrent
requests all succeed; no sanitizer report in the log at the end.
Tests run in the order of their names (test_1_..., test_9_...).
"""

import os
import signal
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tblib  # noqa: E402
from tblib import wait_for  # noqa: E402

WORKERS = 3
HEADING = "学校办学条件与师资年度填报"
STACK = None


def setUpModule():
    global STACK
    STACK = tblib.Stack(workers=WORKERS, prefix="tianbao-workers-").start()


def tearDownModule():
    tblib.finish_stack(STACK)


def ok_home(timeout=10):
    """True when GET / answers 200 with the home page."""
    try:
        status, _, body = STACK.get("/", timeout=timeout)
    except OSError:
        return False
    return status == 200 and HEADING in body.decode("utf-8", "replace")


class WorkersTest(unittest.TestCase):
    def workers(self):
        return STACK.worker_pids()

    def settled_workers(self, seconds=5):
        """Wait until exactly WORKERS workers run; return their pids."""
        pids = wait_for(lambda: (lambda p: p if len(p) == WORKERS else None)(self.workers()),
                        seconds)
        self.assertTrue(pids, "expected %d workers, have %r" % (WORKERS, self.workers()))
        return pids

    def test_1_workers_running(self):
        sup = STACK.supervisor_pid()
        self.assertFalse(tblib.process_gone(sup), "supervisor not running")
        pids = self.settled_workers()
        self.assertNotIn(sup, pids)
        self.assertTrue(os.path.exists(STACK.path("fcgi.sock")))

    def test_2_concurrent_requests(self):
        paths = ["/", "/login"] * 100

        def one(path):
            try:
                status, _, body = STACK.get(path, timeout=20)
                return status, len(body)
            except OSError as e:
                return repr(e), 0

        with ThreadPoolExecutor(max_workers=8) as ex:
            results = list(ex.map(one, paths))
        bad = [(p, r) for p, r in zip(paths, results) if r[0] != 200 or r[1] == 0]
        self.assertEqual(len(results), 200)
        self.assertEqual(bad, [], "%d of 200 failed: %r" % (len(bad), bad[:5]))

    def test_3_kill_one_worker(self):
        before = self.settled_workers()
        victim = before[0]
        os.kill(victim, signal.SIGKILL)
        # the first request may wait for the survivors (short retry window)
        self.assertTrue(wait_for(ok_home, 2.0), "no answer within 2 s of killing a worker")
        failures = [i for i in range(19) if not ok_home()]
        self.assertEqual(failures, [], "requests failed after SIGKILL of worker %d" % victim)
        after = wait_for(lambda: (lambda p: p if len(p) == WORKERS and victim not in p
                                  and set(p) - set(before) else None)(self.workers()), 5)
        self.assertTrue(after, "no replacement worker: before %r, now %r"
                        % (before, self.workers()))
        self.assertEqual(len(after), len(before))
        self.assertTrue(wait_for(lambda: tblib.process_gone(victim), 2), "victim not reaped")
        self.assertIn("worker %d died" % victim, STACK.log())

    def test_4_kill_all_workers(self):
        before = self.settled_workers()
        for pid in before:
            os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_for(ok_home, 5.0), "service did not recover after killing all workers")
        failures = [i for i in range(10) if not ok_home()]
        self.assertEqual(failures, [])
        after = STACK.workers_replaced(before, 5)
        self.assertTrue(after, "workers not all replaced: before %r, now %r"
                        % (before, self.workers()))

    def test_5_sighup_replaces_workers(self):
        before = self.settled_workers()
        results, stop = [], threading.Event()

        def hammer():
            while not stop.is_set():
                try:
                    status, _, body = STACK.get("/", timeout=10)
                    results.append(status == 200 and HEADING in body.decode("utf-8", "replace"))
                except OSError as e:
                    results.append(repr(e))
                time.sleep(0.005)

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for t in threads:
            t.start()
        try:
            time.sleep(0.3)
            os.kill(STACK.supervisor_pid(), signal.SIGHUP)
            after = STACK.workers_replaced(before, 10)
            time.sleep(0.5)
        finally:
            stop.set()
            for t in threads:
                t.join(15)
        self.assertTrue(after, "SIGHUP did not replace the workers: before %r, now %r"
                        % (before, self.workers()))
        bad = [r for r in results if r is not True]
        self.assertGreater(len(results), 10, "too few requests during the reload")
        self.assertEqual(bad, [], "%d of %d requests failed during SIGHUP" % (len(bad), len(results)))
        self.assertTrue(wait_for(lambda: all(tblib.process_gone(p) for p in before), 10),
                        "old workers still running")
        failures = [i for i in range(10) if not ok_home()]
        self.assertEqual(failures, [], "requests failed after SIGHUP")
        self.assertIn("reloaded", STACK.log())

    def test_9_sigterm_stops_everything(self):
        sup = STACK.supervisor_pid()
        workers = self.settled_workers()
        self.assertTrue(ok_home())
        t0 = time.monotonic()
        os.kill(sup, signal.SIGTERM)
        gone = wait_for(lambda: tblib.process_gone(sup), 10.5, step=0.02)
        took = time.monotonic() - t0
        self.assertTrue(gone, "supervisor still running 10 s after SIGTERM")
        self.assertLess(took, 10.5)
        still = [p for p in workers if not tblib.process_gone(p)]
        self.assertEqual(still, [], "workers left running after the supervisor exited")
        self.assertFalse(os.path.exists(STACK.path("fcgi.sock")), "socket file not removed")
        self.assertIn("stopped", STACK.log())
        report = STACK.sanitizer_report()
        self.assertEqual(report, "", "sanitizer report:\n" + report)


if __name__ == "__main__":
    tblib.main()

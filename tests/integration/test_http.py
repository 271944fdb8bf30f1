#!/usr/bin/env python3
"""test_http.py — Tianbao over real HTTP: nginx + tianbao-fcgi on a private loopback port.

Pages, static files, security headers on every kind of answer, the body and
field limits (the application's own 413 and nginx's), hostile paths and
reflected input.  Run by `make check`, or by hand:
  TIANBAO_SRCDIR=$PWD TIANBAO_BUILDDIR=$PWD/build-san python3 tests/integration/test_http.py
"""

import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tblib  # noqa: E402

HEADING = "学校办学条件与师资年度填报"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
STACK = None


def setUpModule():
    global STACK
    STACK = tblib.Stack(prefix="tianbao-http-").start()


def tearDownModule():
    tblib.finish_stack(STACK)


def text(body):
    """The body as text; a body that is not UTF-8 fails the test."""
    return body.decode("utf-8")


def nginx_own_page(body):
    """True for one of nginx's built-in English error pages."""
    return b"<center>nginx</center>" in body


def form_body(size):
    """A urlencoded form of exactly `size` bytes: fields of 60000-byte values."""
    field = "f=" + "x" * 60000
    reps = size // (len(field) + 1) + 1
    return "&".join([field] * reps).encode()[:size]


class HttpTest(unittest.TestCase, tblib.SecurityHeaders):
    def get(self, path, **kw):
        return STACK.get(path, **kw)

    def assertHomeUp(self, what):
        status, _, body = self.get("/")
        self.assertEqual(status, 200, "home page after %s" % what)
        self.assertIn(HEADING, text(body), "home page after %s" % what)

    # ---- pages ----

    def test_home_page(self):
        status, h, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertEqual(h.get("content-type"), "text/html; charset=utf-8")
        page = text(body)
        self.assertRegex(page, r"<h1>\s*%s\s*</h1>" % HEADING)
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertIn("no-store", h.get("cache-control", ""))
        self.assertSecurityHeaders(h, "GET /")

    def test_head_home(self):
        status, h, body = STACK.request("HEAD", "/")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"", "HEAD must not send a body")
        self.assertEqual(h.get("content-type"), "text/html; charset=utf-8")
        self.assertSecurityHeaders(h, "HEAD /")

    def test_login_page(self):
        status, h, body = self.get("/login")
        self.assertEqual(status, 200)
        page = text(body)
        self.assertIn("用户名", page)
        self.assertRegex(page, r'<input[^>]*type="password"')
        self.assertSecurityHeaders(h, "GET /login")

    # ---- static files ----

    def test_static_css(self):
        status, h, body = self.get("/static/style.css")
        self.assertEqual(status, 200)
        self.assertTrue(h.get("content-type", "").startswith("text/css"), h.get("content-type"))
        self.assertIn("etag", h)
        m = re.search(r"max-age=(\d+)", h.get("cache-control", ""))
        self.assertTrue(m and int(m.group(1)) > 0, "Cache-Control: %r" % h.get("cache-control"))
        self.assertEqual(int(h["content-length"]), len(body))
        self.assertFalse(body.lstrip().lower().startswith(b"status:"), "a Status line in the body")
        self.assertIn(b".top", body)
        self.assertSecurityHeaders(h, "GET /static/style.css")
        # the ETag is honoured
        status, h2, body = self.get("/static/style.css", headers={"If-None-Match": h["etag"]})
        self.assertEqual(status, 304)
        self.assertEqual(body, b"")

    def test_static_404(self):
        status, h, body = self.get("/static/nope.css")
        self.assertEqual(status, 404)
        self.assertTrue(h.get("content-type", "").startswith("text/html"))
        self.assertIn("页面不存在", text(body))
        self.assertSecurityHeaders(h, "GET /static/nope.css")

    # ---- errors from the application ----

    def test_dynamic_404(self):
        status, h, body = self.get("/no-such-page")
        self.assertEqual(status, 404)
        self.assertEqual(h.get("content-type"), "text/html; charset=utf-8")
        self.assertIn("页面不存在", text(body))
        self.assertSecurityHeaders(h, "GET /no-such-page")

    def test_error_page_title(self):
        # The browser tab of an error page names the error, not just " · 填报".
        _, _, body = self.get("/no-such-page")
        m = re.search(r"<title>(.*?)</title>", text(body), re.S)
        self.assertTrue(m, "no <title>")
        self.assertTrue(m.group(1).strip().startswith("页面不存在"),
                        "404 page <title> is %r; http_error() must set page_title" % m.group(1))

    def test_405(self):
        status, h, body = STACK.request("POST", "/", body=b"a=b", headers=FORM)
        self.assertEqual(status, 405)
        self.assertEqual(h.get("allow"), "GET, HEAD")
        self.assertIn("请求方式不允许", text(body))
        self.assertSecurityHeaders(h, "POST /")

    def test_413_application_2mb(self):
        body = form_body(2 * 1024 * 1024)
        self.assertEqual(len(body), 2 * 1024 * 1024)
        for i in range(3):
            status, h, page = STACK.request("POST", "/login", body=body, headers=FORM, timeout=30)
            self.assertEqual(status, 413, "2 MB form, try %d" % i)
            self.assertEqual(h.get("content-type"), "text/html; charset=utf-8")
            self.assertIn("内容过大", text(page))
            self.assertFalse(nginx_own_page(page))
            self.assertSecurityHeaders(h, "POST /login 2 MB")
            self.assertHomeUp("a 2 MB form")

    def test_413_nginx_5mb(self):
        body = form_body(5 * 1024 * 1024)
        for i in range(2):
            status, h, page = STACK.request("POST", "/login", body=body, headers=FORM, timeout=30)
            self.assertEqual(status, 413, "5 MB form, try %d" % i)
            self.assertTrue(h.get("content-type", "").startswith("text/html"))
            self.assertIn("内容过大", text(page), "nginx must answer with static/413.html")
            self.assertFalse(nginx_own_page(page))
            self.assertSecurityHeaders(h, "POST /login 5 MB")
            self.assertHomeUp("a 5 MB form")

    def test_too_many_fields(self):
        # 4001 fields fit in nginx's request line and the 8 KiB query limit:
        # the application's field limit (4000) answers 413.
        q = "&".join("a" for _ in range(4001))
        status, h, body = self.get("/?" + q)
        self.assertEqual(status, 413, "4001 query fields")
        self.assertIn("字段数量", text(body))
        self.assertSecurityHeaders(h, "GET /?<4001 fields>")
        # 5000 fields in a form body: 413 as well.
        form = "&".join("f%d=1" % i for i in range(5000)).encode()
        status, h, body = STACK.request("POST", "/login", body=form, headers=FORM)
        self.assertEqual(status, 413, "5000 form fields")
        self.assertIn("字段数量", text(body))
        # 5000 fields in the query need at least 9999 bytes: longer than the
        # request line nginx accepts (8 KiB) and than the application's query
        # limit, so the answer may be 414 instead of 413 — refused either way.
        q = "&".join("f%d=1" % i for i in range(5000))
        status, h, body = self.get("/?" + q)
        self.assertIn(status, (413, 414), "5000 query fields")
        self.assertHomeUp("5000 query fields")

    # ---- hostile input ----

    def test_bad_paths(self):
        for path in ("/%00", "/%C0%80", "/%FF", "/%ED%A0%80", "/a%0Ab", "/login%00.css"):
            with self.subTest(path=path):
                status, h, body = self.get(path)
                self.assertEqual(status, 400, path)
                if not nginx_own_page(body):  # the application's own Chinese page
                    self.assertIn("请求有误", text(body))
                    self.assertSecurityHeaders(h, "GET " + path)
        self.assertHomeUp("bad paths")

    def test_reflected_input_escaped(self):
        fixtures = {
            "%3Cscript%3Ealert(1)%3C%2Fscript%3E": (
                "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
            "%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E": (
                '"><img src=x onerror=alert(1)>', "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"),
            "x%27%20onfocus%3D%27alert(1)": ("x' onfocus='alert(1)", None),
            "%7B%7Bsite_name%7D%7D": (None, "{{site_name}}"),
        }
        for query, (raw, escaped) in fixtures.items():
            with self.subTest(username=query):
                status, h, body = self.get("/login?username=" + query)
                self.assertEqual(status, 200)
                page = text(body)
                if raw:
                    self.assertNotIn(raw, page, "reflected unescaped")
                if escaped:
                    self.assertIn(escaped, page, "not reflected escaped")
                self.assertSecurityHeaders(h, "GET /login?username=...")

    def test_every_response_has_security_headers(self):
        big = form_body(2 * 1024 * 1024)
        huge = form_body(5 * 1024 * 1024)
        cases = [
            ("home", "GET", "/", None, 200),
            ("login", "GET", "/login", None, 200),
            ("static file", "GET", "/static/style.css", None, 200),
            ("favicon", "GET", "/static/favicon.svg", None, 200),
            ("dynamic 404", "GET", "/no-such-page", None, 404),
            ("static 404", "GET", "/static/nope.css", None, 404),
            ("405", "POST", "/", b"a=b", 405),
            ("application 413", "POST", "/login", big, 413),
            ("nginx 413", "POST", "/login", huge, 413),
            ("application 400", "GET", "/%C0%80", None, 400),
        ]
        for what, method, path, body, want in cases:
            with self.subTest(what):
                status, h, _ = STACK.request(method, path, body=body,
                                             headers=FORM if body else None, timeout=30)
                self.assertEqual(status, want, what)
                self.assertSecurityHeaders(h, what)


if __name__ == "__main__":
    tblib.main()

#!/usr/bin/env python3
"""test_accounts.py — logins, sessions, CSRF, scope and the admin pages over real HTTP.

A private stack (tblib.Stack) gets a small fictional city from a CSV written here
(测试市 990100; counties 东城区 990102 and 青山县 990121, three schools each, one
with markup and quotes in its name) and accounts made with `tianbao-admin user add
--password-stdin`.  A cookie-aware client (tblib.Client: http.client, Cookie header by
hand, no redirects followed) then logs in as each role and checks what each may see and do:
the session cookie and its rotation, bad and hostile login input, idle and absolute
expiry (by moving timestamps back in DIR/tianbao.db), logout, the forced password
change, CSRF/Origin/Sec-Fetch-Site refusals that change nothing, unit scope, and the
admin's unit and account forms.  Every response is checked for the security headers;
the audit table for the rows the actions must leave.

The throttling rule counts every failed login of 127.0.0.1, so the tests of the main
stack forget recorded failures before each test; the lockout itself is tested on a
second stack of its own (LockoutTest).  Run by `make check`, or by hand:
  cd build-san && TIANBAO_SRCDIR=.. TIANBAO_BUILDDIR=. python3 ../tests/integration/test_accounts.py
"""

import html
import os
import re
import sys
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tblib  # noqa: E402

HEADING = "学校办学条件与师资年度填报"
PASSWORD = "Secret-pass-1"
BAD_LOGIN = "用户名或密码错误"
OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# The fixture city.  Each school: (code, name, county, type name, 城乡 group).
EVIL_NAME = "东城区<script>alert(\"x\")</script>中学 'A&B'"
CSV = """code,name,kind,parent_code,school_type,ownership,inclusive,urban_rural,center_code
990100,测试市,city,,,,,,
990102,东城区,county,990100,,,,,
990121,青山县,county,990100,,,,,
2199020101,东城区实验小学,school,990102,211,public,,111,
1199020102,东城区机关幼儿园,school,990102,111,public,1,112,
3199020103,"东城区<script>alert(""x"")</script>中学 'A&B'",school,990102,311,public,,122,
2199210101,青山县实验小学,school,990121,211,public,,121,
2199210102,青山县柳溪教学点,school,990121,218,public,,220,2199210101
3499210103,青山县第一中学,school,990121,342,private,,122,
"""
SCHOOLS = {
    "2199020101": ("东城区实验小学", "990102", "小学", "城区"),
    "1199020102": ("东城区机关幼儿园", "990102", "幼儿园", "城区"),
    "3199020103": (EVIL_NAME, "990102", "初级中学", "镇区"),
    "2199210101": ("青山县实验小学", "990121", "小学", "镇区"),
    "2199210102": ("青山县柳溪教学点", "990121", "小学教学点", "乡村"),
    "3499210103": ("青山县第一中学", "990121", "高级中学", "镇区"),
}
COUNTY_NAMES = {"990102": "东城区", "990121": "青山县"}

# login -> (role, org code, must change the password at the first login)
ACCOUNTS = {
    "admin": ("admin", "990100", False),
    "rev-990102": ("reviewer", "990102", False),
    "rev-990121": ("reviewer", "990121", False),
    "2199020101": ("school", "2199020101", False),
    "2199210101": ("school", "2199210101", False),
    "3199020103": ("school", "3199020103", True),  # forced password change
    "clerk-990121": ("reviewer", "990121", False),  # deactivated and re-enabled by AdminTest
}

STACK = None


# ---- the fixture ----

def load_fixture(stack, csv_text, accounts):
    """Import the org units of csv_text and create `accounts` with PASSWORD."""
    path = stack.path("units.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write(csv_text)
    stack.admin("orgunit", "import", path)
    for login, (role, org, must_change) in accounts.items():
        args = ["user", "add", login, role, org, "--password-stdin"]
        if not must_change:
            args.append("--no-force-change")
        stack.admin(*args, stdin=(PASSWORD + "\n").encode())


def setUpModule():
    global STACK
    STACK = Base.stack = tblib.Stack(prefix="tianbao-accounts-").start()
    try:
        load_fixture(STACK, CSV, ACCOUNTS)
    except Exception:
        STACK.failed = True
        raise


def tearDownModule():
    tblib.finish_stack(STACK)


# ---- the database, read and nudged directly ----

def session_row(token):
    """The session row (user_id, created_at, last_seen) of a token, or None."""
    rows = STACK.query("SELECT user_id, created_at, last_seen FROM session WHERE token_hash = ?",
                       (tblib.token_hash(token),))
    return rows[0] if rows else None


def user_row(login):
    rows = STACK.query("SELECT id, must_change, active FROM user WHERE login = ?", (login,))
    return rows[0] if rows else None


def user_count():
    return STACK.query("SELECT count(*) FROM user")[0][0]


# ---- pages ----

def input_value(text, ident):
    """The value attribute of <input id="ident">, still HTML-escaped, or None."""
    m = re.search(r'<input id="%s"[^>]*\svalue="([^"]*)"' % re.escape(ident), text)
    return m.group(1) if m else None


def selected_option(text, ident):
    m = re.search(r'<select id="%s"[^>]*>(.*?)</select>' % re.escape(ident), text, re.S)
    if not m:
        return None
    s = re.search(r'<option value="([^"]*)" selected>', m.group(1))
    return s.group(1) if s else None


def school_rows(text):
    """The rows of the reviewer's table: [(code, name as shown, type, 城乡 group)]."""
    m = re.search(r'<table class="list" id="schools">(.*?)</table>', text, re.S)
    if not m:
        return None
    rows = re.findall(r'<tr[^>]*><td class="code"><a href="/schools/([^"]*)">([^<]*)</a></td>'
                      r"<td>(.*?)</td><td>(.*?)</td><td>(.*?)</td>", m.group(1), re.S)
    for code, shown, *_ in rows:
        assert code == shown, "link %s shows %s" % (code, shown)
    return [(code, html.unescape(name), html.unescape(tn), html.unescape(ur))
            for code, _, name, tn, ur in rows]


def no_controls(s):
    return re.sub(r"[\x00-\x1f\x7f]", "", s)


def is_public_home(r):
    return (r.status == 200 and re.search(r"<h1>\s*%s\s*</h1>" % HEADING, r.text) is not None
            and 'action="/logout"' not in r.text)


class Base(tblib.ClientTest):
    """Clients of the stack (STACK, or LockoutTest's own) whose logins use PASSWORD; every
    test starts with no recorded login failures."""

    password = PASSWORD

    def assertLoginRefused(self, r, username_shown=None, status=200, message=BAD_LOGIN):
        self.assertEqual(r.status, status, repr(r))
        self.assertIn(message, r.text)
        self.assertRegex(r.text, r'<input id="password"[^>]*type="password"')
        self.assertEqual(r.set_cookies, [], "a refused login must not set a cookie")
        if username_shown is not None:
            escaped = html.escape(username_shown, quote=True).replace("&#x27;", "&#39;")
            self.assertEqual(input_value(r.text, "username"), escaped)

    def assertPublicHome(self, r, what):
        self.assertTrue(is_public_home(r), "%s: not the public home page: %r" % (what, r))

    def assertToLogin(self, r, path):
        self.assertEqual((r.status, r.location), (303, "/login?next=" + quote(path, safe="")),
                         "GET %s without a session" % path)


# ---- logins of each role ----

class LoginTest(Base):
    def test_school_login_home_logout(self):
        c = self.client()
        r = c.get("/login")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.set_cookies, [], "no cookie before the login")
        c.login("2199020101")
        r = c.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn("<h1>东城区实验小学</h1>", r.text)
        self.assertIn("学校标识码 <b>2199020101</b>", r.text)
        self.assertIn("当前没有开放的填报任务", r.text)
        self.assertIn("学校填报员", r.text)
        self.assertNotIn("单位管理", r.text)
        self.assertNotIn('href="/admin/', r.text)
        self.assertIn('action="/logout"', r.text)
        c.logout()
        self.assertNotIn("tb_session", c.cookies, "logout must expire the cookie")
        r = c.get("/login?bye=1")
        self.assertIn("您已安全退出", r.text)
        self.assertPublicHome(c.get("/"), "after logout")

    def test_reviewers_see_exactly_their_county(self):
        for login, county in (("rev-990102", "990102"), ("rev-990121", "990121")):
            with self.subTest(login=login):
                c = self.client(login)
                r = c.get("/")
                self.assertEqual(r.status, 200)
                self.assertRegex(r.text, r"<h1>%s · 学校列表</h1>" % COUNTY_NAMES[county])
                rows = school_rows(r.text)
                self.assertIsNotNone(rows, "no table of schools")
                shown = {code: rest for code, *rest in rows}
                self.assertEqual(len(shown), len(rows), "a school listed twice")
                # exactly the county's schools as the database has them (AdminTest may add one)
                in_db = {code for (code,) in self.stack.query(
                    "SELECT s.code FROM org_unit s JOIN org_unit c ON c.id = s.parent_id"
                    " WHERE s.kind = 'school' AND c.code = ?", (county,))}
                self.assertEqual(set(shown), in_db)
                for code, (name, cty, type_name, group) in SCHOOLS.items():
                    if cty == county:
                        self.assertEqual(shown.get(code), [name, type_name, group], code)
                    else:
                        self.assertNotIn(code, shown, "a school of the other county")
                        self.assertNotIn(code, r.text)
                self.assertIn("本区县共 %d 所学校" % len(in_db), r.text)
                if county == "990102":  # the markup in the name is shown, never run
                    self.assertNotIn("<script", r.text)
                    self.assertIn("东城区&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;中学 "
                                  "&#39;A&amp;B&#39;", r.text)
                c.logout()

    def test_admin_home_and_management_pages(self):
        c = self.client("admin")
        r = c.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn("测试市 · 系统管理", r.text)
        self.assertIn('<a class="button" href="/admin/units">单位管理</a>', r.text)
        self.assertIn('<a class="button" href="/admin/users">账号管理</a>', r.text)
        self.assertRegex(r.text, r"<b>2</b><span>区县</span>")
        r = c.get("/admin/units")
        self.assertEqual(r.status, 200)
        self.assertIn("<h1>单位管理</h1>", r.text)
        for code, name in COUNTY_NAMES.items():
            self.assertIn("%s（%s）" % (name, code), r.text)
        for code in SCHOOLS:
            self.assertIn('<td class="code">%s</td>' % code, r.text)
        self.assertNotIn("<script", r.text)
        r = c.get("/admin/users")
        self.assertEqual(r.status, 200)
        self.assertIn("<h1>账号管理</h1>", r.text)
        for login in ACCOUNTS:
            self.assertIn('<td class="code">%s</td>' % login, r.text)
        c.logout()

    def test_session_cookie_attributes(self):
        c = self.client()
        r = c.post("/login", {"username": "2199210101", "password": PASSWORD})
        self.assertEqual(r.status, 303)
        self.assertEqual(len(r.set_cookies), 1, r.set_cookies)
        name, value, attrs = tblib.parse_set_cookie(r.set_cookies[0])
        self.assertEqual(name, "tb_session")
        self.assertRegex(value, tblib.TOKEN_RE)
        self.assertIs(attrs.get("httponly"), True)
        self.assertEqual(attrs.get("samesite"), "Lax")
        self.assertEqual(attrs.get("path"), "/")
        self.assertNotIn("secure", attrs, "Secure on an http base_url")
        self.assertNotIn("domain", attrs)
        self.assertNotIn("expires", attrs, "the session cookie is a browser-session cookie")
        self.assertNotIn("max-age", attrs)
        # the database keeps the hash of the token, never the token
        row = session_row(value)
        self.assertIsNotNone(row, "no session row with BLAKE2b-256 of the token")
        self.assertEqual(row[0], user_row("2199210101")[0])
        self.assertEqual(self.stack.query("SELECT count(*) FROM session WHERE csrf = ? OR"
                                          " CAST(token_hash AS TEXT) = ?", (value, value))[0][0], 0)
        c.logout()

    def test_token_rotates_on_every_login(self):
        c = self.client()
        # a cookie the browser carried before logging in is not adopted
        planted = "A" * 43
        c.cookies["tb_session"] = planted
        c.login("2199020101")
        first = c.token
        self.assertRegex(first, tblib.TOKEN_RE)
        self.assertNotEqual(first, planted)
        # logging in again while logged in: a new token, and the old one is dead
        c.login("2199020101")
        second = c.token
        self.assertRegex(second, tblib.TOKEN_RE)
        self.assertNotEqual(second, first)
        self.assertIsNone(session_row(first), "the previous session row survived the login")
        old = self.client()
        old.cookies["tb_session"] = first
        self.assertPublicHome(old.get("/"), "the pre-login token")
        self.assertIn("东城区实验小学", c.get("/").text)
        c.logout()

    def test_wrong_password_and_unknown_user(self):
        c = self.client()
        wrong = c.post("/login", {"username": "2199020101", "password": "not-the-password"})
        self.assertLoginRefused(wrong, "2199020101")
        unknown = c.post("/login", {"username": "no-such-user", "password": PASSWORD})
        self.assertLoginRefused(unknown, "no-such-user")
        # the same answer: nothing tells an unknown name from a wrong password
        strip = lambda t: t.replace("no-such-user", "2199020101")  # noqa: E731
        self.assertEqual(strip(unknown.text), wrong.text)
        self.assertEqual(c.cookies, {})
        self.assertPublicHome(c.get("/"), "after failed logins")

    def test_empty_fields(self):
        c = self.client()
        for form, shown in (({"username": "", "password": ""}, ""),
                            ({"username": "2199020101", "password": ""}, "2199020101"),
                            ({"username": "", "password": PASSWORD}, ""),
                            ({}, None)):
            with self.subTest(form=form):
                r = c.post("/login", form)
                self.assertLoginRefused(r, shown, message="请输入用户名和密码")
        # empty submissions are no failed logins
        self.assertEqual(self.stack.query("SELECT count(*) FROM login_failure")[0][0], 0)

    def test_hostile_usernames(self):
        c = self.client()
        cases = [
            ("10 KB", "u" * 10240, "u" * 10240),
            ("control character", "ab%01cd", "ab\x01cd"),
            ("invalid UTF-8", "%C0%80admin", "\ufffd\ufffdadmin"),
            ("markup", quote("<script>alert('x')</script>\"&"), "<script>alert('x')</script>\"&"),
            ("CR LF", "admin%0D%0ASet-Cookie:%20x=1", "admin\r\nSet-Cookie: x=1"),
        ]
        for what, encoded, decoded in cases:
            with self.subTest(what=what):
                r = c.request("POST", "/login", raw="username=%s&password=%s" % (encoded, PASSWORD))
                self.assertLoginRefused(r)
                shown = input_value(r.text, "username")
                self.assertIsNotNone(shown, "the username field is gone")
                # as typed, invalid UTF-8 replaced by U+FFFD; control characters may be dropped
                self.assertEqual(no_controls(html.unescape(shown)), no_controls(decoded),
                                 "the username as re-displayed")
                self.assertNotIn("<script", r.text)
                self.assertNotIn("x=1", "".join(r.set_cookies))
                self.assertEqual(c.cookies, {})
                self.assertEqual(c.get("/").status, 200, "the server after %s" % what)

    def test_login_next_and_open_redirect(self):
        c = self.client()
        r = c.get("/admin/units")
        self.assertToLogin(r, "/admin/units")
        r = c.get(r.location)
        self.assertEqual(r.status, 200)
        hidden_next = '<input type="hidden" name="next" value="/admin/units">'
        self.assertIn(hidden_next, r.text)
        # a mistyped password keeps the destination for the next try
        r = c.post("/login", {"username": "admin", "password": "typo", "next": "/admin/units"})
        self.assertLoginRefused(r, "admin")
        self.assertIn(hidden_next, r.text)
        c.login("admin", extra={"next": "/admin/units"}, expect="/admin/units")
        self.assertEqual(c.get("/admin/units").status, 200)
        c.logout()
        # another site is never a target
        for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            with self.subTest(next=evil):
                c.login("rev-990121", extra={"next": evil}, expect="/")
        c.logout()


# ---- session lifetime ----

class SessionTest(Base):
    def test_idle_expiry(self):
        c = self.client("rev-990121")
        token = c.token
        # 29 idle minutes: still valid, and last_seen moves up again
        self.stack.execute("UPDATE session SET last_seen = last_seen - 29 * 60"
                           " WHERE token_hash = ?", (tblib.token_hash(token),))
        before = session_row(token)[2]
        r = c.get("/")
        self.assertIn("青山县 · 学校列表", r.text, "a session idle for 29 minutes ended")
        self.assertGreaterEqual(session_row(token)[2], before + 29 * 60 - 5,
                                "last_seen not refreshed")
        # 31 idle minutes: gone
        self.stack.execute("UPDATE session SET last_seen = last_seen - 31 * 60"
                           " WHERE token_hash = ?", (tblib.token_hash(token),))
        self.assertPublicHome(c.get("/"), "after 31 idle minutes")
        self.assertIsNone(session_row(token), "the expired session row was not deleted")
        c.cookies["tb_session"] = token  # even if the browser kept sending it
        self.assertToLogin(c.get("/password"), "/password")
        self.assertToLogin(c.get("/schools/2199210101"), "/schools/2199210101")

    def test_absolute_expiry(self):
        c = self.client("2199210101")
        token = c.token
        self.assertIn("青山县实验小学", c.get("/").text)
        # 11 h old but active: still valid
        self.stack.execute("UPDATE session SET created_at = created_at - 11 * 3600"
                           " WHERE token_hash = ?", (tblib.token_hash(token),))
        self.assertEqual(c.get("/schools/2199210101").status, 200)
        # 13 h old, although it was used just now: gone
        self.stack.execute("UPDATE session SET created_at = created_at - 2 * 3600"
                           " WHERE token_hash = ?", (tblib.token_hash(token),))
        self.assertToLogin(c.get("/schools/2199210101"), "/schools/2199210101")
        self.assertPublicHome(c.get("/"), "after 13 hours")
        self.assertIsNone(session_row(token))

    def test_logout_deletes_the_session(self):
        mark = self.stack.audit_mark()
        c = self.client("rev-990102")
        token = c.token
        csrf = c.csrf()
        self.assertIsNotNone(session_row(token))
        r = c.post("/logout", {"csrf": csrf})
        self.assertEqual((r.status, r.location), (303, "/login?bye=1"))
        self.assertEqual(len(r.set_cookies), 1)
        name, value, attrs = tblib.parse_set_cookie(r.set_cookies[0])
        self.assertEqual((name, value, attrs.get("max-age"), attrs.get("path")),
                         ("tb_session", "", "0", "/"))
        self.assertIsNone(session_row(token), "logout left the session row")
        # the old cookie, sent again, is worth nothing
        c.cookies["tb_session"] = token
        self.assertPublicHome(c.get("/"), "old cookie after logout")
        r = c.post("/logout", {"csrf": csrf})
        self.assertEqual((r.status, r.location), (303, "/login?next=%2Flogout&expired=1"))
        uid = user_row("rev-990102")[0]
        self.assertEqual(self.stack.audit_since(mark), [
            ("rev-990102", "session.login", "user:%d" % uid),
            ("rev-990102", "session.logout", ""),
        ])


# ---- the forced password change ----

class PasswordTest(Base):
    LOGIN = "3199020103"

    def test_forced_change(self):
        mark = self.stack.audit_mark()
        c = self.client()
        c.login(self.LOGIN, expect="/password")
        old_token = c.token
        for path in ("/", "/schools/3199020103", "/login"):
            with self.subTest(path=path):
                r = c.get(path)
                target = "/" if path == "/login" else "/password"
                self.assertEqual((r.status, r.location), (303, target))
        r = c.get("/password")
        self.assertEqual(r.status, 200)
        self.assertIn("请先设置一个只有您知道的新密码", r.text)
        csrf = tblib.csrf_of(r.text, self)
        new = "Brand-new-pw-7"
        refusals = [
            ({"current": "wrong-password", "new": new, "again": new}, "当前密码不正确"),
            ({"current": PASSWORD, "new": new, "again": new + "x"}, "两次输入的新密码不一致"),
            ({"current": PASSWORD, "new": "short1", "again": "short1"}, "密码至少需要 8 个字符"),
            ({"current": PASSWORD, "new": PASSWORD, "again": PASSWORD}, "新密码不能与当前密码相同"),
            ({"current": PASSWORD, "new": self.LOGIN, "again": self.LOGIN}, "密码不能与用户名相同"),
            ({"current": "", "new": new, "again": new}, "请填写全部三项"),
        ]
        for form, message in refusals:
            with self.subTest(message=message):
                r = c.post("/password", dict(form, csrf=csrf))
                self.assertEqual(r.status, 200, repr(r))
                self.assertIn(message, r.text)
                self.assertEqual(r.set_cookies, [])
                self.assertEqual(user_row(self.LOGIN)[1], 1, "must_change was cleared")
                self.assertEqual(c.get("/").location, "/password")
        r = c.post("/password", {"csrf": csrf, "current": PASSWORD, "new": new, "again": new})
        self.assertEqual((r.status, r.location), (303, "/password?done=1"))
        self.assertNotEqual(c.token, old_token, "a new session after the change")
        self.assertEqual(user_row(self.LOGIN)[1], 0)
        self.assertIsNone(session_row(old_token), "the old session survived the change")
        r = c.get("/password?done=1")
        self.assertIn("密码已修改", r.text)
        self.assertNotIn("请先设置", r.text)
        r = c.get("/")
        self.assertEqual(r.status, 200)
        self.assertIn("学校标识码 <b>3199020103</b>", r.text)
        self.assertIn("<h1>东城区&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;中学 "
                      "&#39;A&amp;B&#39;</h1>", r.text)
        self.assertNotIn("<script", r.text)
        c.logout()
        # the new password logs in straight to the home page
        c.login(self.LOGIN, new, expect="/")
        c.logout()
        uid = user_row(self.LOGIN)[0]
        rows = self.stack.audit_since(mark)
        self.assertIn((self.LOGIN, "user.password_change", "user:%d" % uid), rows)
        self.assertEqual([a for _, a, _ in rows if a.startswith("session.")],
                         ["session.login", "session.login", "session.logout",
                          "session.login", "session.logout"])


# ---- CSRF, Origin and Sec-Fetch-Site ----

class CsrfTest(Base):
    def new_user_form(self, login, csrf=None):
        f = {"login": login, "display_name": "新账号", "role": "reviewer", "org_code": "990102"}
        if csrf is not None:
            f["csrf"] = csrf
        return f

    def test_admin_create_user_needs_token_and_origin(self):
        c = self.client("admin")
        csrf = c.csrf("/admin/users/new")
        count = user_count()
        mark = self.stack.audit_mark()
        refused = [
            ("no token", self.new_user_form("csrf-a"), {}),
            ("wrong token", self.new_user_form("csrf-b", "B" * 43), {}),
            ("short token", self.new_user_form("csrf-c", csrf[:-1]), {}),
            ("foreign Origin", self.new_user_form("csrf-d", csrf),
             {"Origin": "http://evil.example"}),
            ("other port", self.new_user_form("csrf-e", csrf), {"Origin": "http://127.0.0.1:1"}),
            ("Origin null", self.new_user_form("csrf-f", csrf), {"Origin": "null"}),
            ("cross-site fetch", self.new_user_form("csrf-g", csrf),
             {"Sec-Fetch-Site": "cross-site", "Origin": None}),
            ("same-site fetch", self.new_user_form("csrf-h", csrf),
             {"Sec-Fetch-Site": "same-site"}),
        ]
        for what, form, headers in refused:
            with self.subTest(what=what):
                r = c.post("/admin/users", form, headers=headers)
                self.assertEqual(r.status, 403, repr(r))
                self.assertIn("禁止访问", r.text)
                self.assertEqual(user_count(), count, "a refused POST created a user")
                self.assertIsNone(user_row(form["login"]))
        self.assertEqual(self.stack.audit_since(mark), [])
        # the real thing
        r = c.post("/admin/users", self.new_user_form("csrf-ok", csrf))
        self.assertEqual(r.status, 200, repr(r))
        self.assertIn("账号已创建", r.text)
        self.assertIn("no-store", r.headers.get("cache-control", ""))
        m = re.search(r'<b class="code" id="one-time-password">([^<]*)</b>', r.text)
        self.assertTrue(m, "no one-time password shown")
        otp = m.group(1)
        self.assertEqual(len(otp), 12, otp)
        self.assertTrue(set(otp) <= set(OTP_ALPHABET), otp)
        self.assertEqual(user_count(), count + 1)
        uid, must_change, active = user_row("csrf-ok")
        self.assertEqual((must_change, active), (1, 1))
        self.assertIn(("admin", "user.create", "user:%d" % uid), self.stack.audit_since(mark))
        # the password is not on the account's page or in the list
        self.assertNotIn(otp, c.get("/admin/users/csrf-ok").text)
        self.assertNotIn(otp, c.get("/admin/users").text)
        # a browser without Origin (some same-origin navigations) still works with the token
        r = c.post("/admin/users", self.new_user_form("csrf-ok2", csrf), headers={"Origin": None})
        self.assertEqual(r.status, 200, repr(r))
        c.logout()
        # the one-time password logs in, and must be changed first
        u = self.client()
        u.login("csrf-ok", otp, expect="/password")
        self.assertEqual(u.get("/").location, "/password")
        self.assertIn("请先设置", u.get("/password").text)

    def test_logout_needs_the_token(self):
        c = self.client("rev-990102")
        for what, form in (("no token", {}), ("wrong token", {"csrf": "C" * 43})):
            with self.subTest(what=what):
                r = c.post("/logout", form)
                self.assertEqual(r.status, 403, repr(r))
                self.assertEqual(r.set_cookies, [])
                self.assertIn("东城区 · 学校列表", c.get("/").text, "the session ended")
        r = c.post("/logout", {"csrf": c.csrf()}, headers={"Origin": "http://evil.example"})
        self.assertEqual(r.status, 403)
        self.assertIsNotNone(session_row(c.token))
        c.logout()

    def test_login_refuses_foreign_origin(self):
        c = self.client()
        for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            with self.subTest(headers=headers):
                r = c.post("/login", {"username": "admin", "password": PASSWORD}, headers=headers)
                self.assertEqual(r.status, 403, repr(r))
                self.assertEqual(c.cookies, {})


# ---- scope ----

class ScopeTest(Base):
    def test_school_sees_only_itself(self):
        c = self.client("2199020101")
        r = c.get("/schools/2199020101")
        self.assertEqual(r.status, 200)
        self.assertIn("<h1>东城区实验小学</h1>", r.text)
        self.assertIn("<td>东城区</td>", r.text)
        for path in ("/schools/2199210101", "/schools/1199020102", "/schools/990102",
                     "/schools/9999999999", "/admin/users", "/admin/units", "/admin/users/admin",
                     "/admin/units/2199020101"):
            with self.subTest(path=path):
                r = c.get(path)
                self.assertEqual(r.status, 404, repr(r))
                self.assertIn("页面不存在", r.text)
        count = self.stack.query("SELECT count(*) FROM org_unit")[0][0]
        r = c.post("/admin/units", {"csrf": c.csrf(), "code": "2199020199", "name": "x",
                                    "kind": "school", "parent_code": "990102"})
        self.assertEqual(r.status, 404)
        self.assertEqual(self.stack.query("SELECT count(*) FROM org_unit")[0][0], count)
        c.logout()

    def test_reviewer_sees_only_the_county(self):
        c = self.client("rev-990102")
        r = c.get("/schools/2199020101")
        self.assertEqual(r.status, 200)
        self.assertIn("<h1>东城区实验小学</h1>", r.text)
        r = c.get("/schools/3199020103")
        self.assertEqual(r.status, 200)
        self.assertNotIn("<script", r.text)
        for path in ("/schools/2199210101", "/schools/2199210102", "/schools/990121",
                     "/schools/990102", "/admin/units", "/admin/users", "/admin/units/990102"):
            with self.subTest(path=path):
                self.assertEqual(c.get(path).status, 404, path)
        c.logout()
        c = self.client("rev-990121")
        r = c.get("/schools/2199210102")
        self.assertEqual(r.status, 200)
        self.assertIn("<tr><th>中心校</th><td>青山县实验小学（2199210101）</td></tr>", r.text)
        self.assertEqual(c.get("/schools/2199020101").status, 404)
        c.logout()

    def test_anonymous_is_sent_to_login(self):
        c = self.client()
        for path in ("/admin/units", "/admin/users", "/schools/2199020101", "/password"):
            with self.subTest(path=path):
                self.assertToLogin(c.get(path), path)
        r = c.post("/admin/units", {"code": "2199020198"})
        self.assertEqual((r.status, r.location), (303, "/login?next=%2Fadmin%2Funits&expired=1"))
        self.assertIn("登录已超时", c.get(r.location).text)


# ---- the admin's pages ----

class AdminTest(Base):
    NEW = "2199020109"
    SAVED = "/admin/units/2199020109?saved=1"

    def unit_form(self, csrf, **kw):
        f = {"csrf": csrf, "code": self.NEW, "name": "东城区新建小学", "kind": "school",
             "parent_code": "990102", "school_type": "211", "ownership": "public",
             "inclusive": "", "urban_rural": "111", "center_code": ""}
        f.update(kw)
        return f

    def test_unit_create_edit_and_reviewer_list(self):
        mark = self.stack.audit_mark()
        c = self.client("admin")
        csrf = c.csrf("/admin/units/new?parent=990102")
        r = c.post("/admin/units", self.unit_form(csrf))
        self.assertEqual((r.status, r.location), (303, self.SAVED), repr(r))
        r = c.get(r.location)
        self.assertIn("已保存", r.text)
        self.assertEqual(input_value(r.text, "name"), "东城区新建小学")
        self.assertIn('<td class="code">%s</td>' % self.NEW, c.get("/admin/units").text)
        # the reviewer of 东城区 sees it at once, the other one does not
        rev = self.client("rev-990102")
        rows = {code: rest for code, *rest in school_rows(rev.get("/").text)}
        self.assertEqual(rows.get(self.NEW), ["东城区新建小学", "小学", "城区"])
        other = self.client("rev-990121")
        self.assertNotIn(self.NEW, other.get("/").text)
        self.assertEqual(other.get("/schools/" + self.NEW).status, 404)
        # edit: name and attributes
        r = c.post("/admin/units/" + self.NEW, self.unit_form(
            csrf, name="东城区新建小学（二部）", ownership="private", urban_rural="121"))
        self.assertEqual((r.status, r.location), (303, self.SAVED), repr(r))
        r = c.get(r.location)
        self.assertEqual(input_value(r.text, "name"), "东城区新建小学（二部）")
        self.assertEqual(selected_option(r.text, "ownership"), "private")
        self.assertEqual(selected_option(r.text, "urban_rural"), "121")
        self.assertEqual(self.stack.query("SELECT name, ownership, urban_rural FROM org_unit"
                                          " WHERE code = ?", (self.NEW,)),
                         [("东城区新建小学（二部）", "private", "121")])
        rows = {code: rest for code, *rest in school_rows(rev.get("/").text)}
        self.assertEqual(rows.get(self.NEW), ["东城区新建小学（二部）", "小学", "镇区"])
        actions = [(a, o) for _, a, o in self.stack.audit_since(mark) if a.startswith("orgunit.")]
        self.assertEqual(actions, [("orgunit.create", "orgunit:" + self.NEW),
                                   ("orgunit.update", "orgunit:" + self.NEW)])
        for cl in (c, rev, other):
            cl.logout()

    def test_bad_unit_form_comes_back(self):
        c = self.client("admin")
        csrf = c.csrf("/admin/units/new")
        count = self.stack.query("SELECT count(*) FROM org_unit")[0][0]
        r = c.post("/admin/units", self.unit_form(csrf, code="219902010", name="某某<b>小学</b>",
                                                  urban_rural="122"))
        self.assertEqual(r.status, 422, repr(r))
        self.assertIn('role="alert">学校标识码必须是 10 位数字。</p>', r.text)
        self.assertEqual(input_value(r.text, "code"), "219902010")
        self.assertEqual(input_value(r.text, "name"), "某某&lt;b&gt;小学&lt;/b&gt;")
        self.assertEqual(input_value(r.text, "parent_code"), "990102")
        self.assertEqual(selected_option(r.text, "school_type"), "211")
        self.assertEqual(selected_option(r.text, "urban_rural"), "122")
        self.assertNotIn("<b>小学", r.text)
        self.assertEqual(self.stack.query("SELECT count(*) FROM org_unit")[0][0], count)
        # a code that does not fit the type, and an unknown parent: other Chinese messages
        r = c.post("/admin/units", self.unit_form(csrf, code="3199020108"))
        self.assertEqual(r.status, 422)
        self.assertIn("与办学类型", r.text)
        r = c.post("/admin/units", self.unit_form(csrf, code="2199020108", parent_code="990199"))
        self.assertEqual(r.status, 422)
        self.assertRegex(r.text, r'role="alert">[^<]*[\u4e00-\u9fff][^<]*</p>')
        self.assertEqual(self.stack.query("SELECT count(*) FROM org_unit")[0][0], count)
        c.logout()

    def test_user_deactivate_and_reactivate(self):
        mark = self.stack.audit_mark()
        admin = self.client("admin")
        csrf = admin.csrf("/admin/users/clerk-990121")
        clerk = self.client("clerk-990121")
        token = clerk.token
        self.assertIn("青山县 · 学校列表", clerk.get("/").text)
        r = admin.post("/admin/users/clerk-990121/active", {"csrf": csrf, "active": "0"})
        self.assertEqual((r.status, r.location), (303, "/admin/users/clerk-990121?saved=1"),
                         repr(r))
        self.assertEqual(user_row("clerk-990121")[2], 0)
        # the open session has ended
        self.assertPublicHome(clerk.get("/"), "deactivated user's session")
        self.assertIsNone(session_row(token))
        self.assertToLogin(clerk.get("/password"), "/password")
        # and the right password no longer logs in (the same message as a wrong one)
        r = clerk.post("/login", {"username": "clerk-990121", "password": PASSWORD})
        self.assertLoginRefused(r, "clerk-990121")
        r = admin.get("/admin/users")
        self.assertRegex(r.text, r'<tr class="inactive"><td class="code">clerk-990121</td>.*?已停用')
        self.assertIn("重新启用", admin.get("/admin/users/clerk-990121").text)
        # the admin cannot lock themself out
        r = admin.post("/admin/users/admin/active", {"csrf": csrf, "active": "0"})
        self.assertEqual(r.status, 422)
        self.assertIn("不能停用本人的账号", r.text)
        self.assertEqual(user_row("admin")[2], 1)
        # back again
        r = admin.post("/admin/users/clerk-990121/active", {"csrf": csrf, "active": "1"})
        self.assertEqual(r.status, 303, repr(r))
        clerk.login("clerk-990121")
        self.assertIn("青山县 · 学校列表", clerk.get("/").text)
        uid = user_row("clerk-990121")[0]
        rows = self.stack.audit_since(mark)
        self.assertIn(("admin", "user.deactivate", "user:%d" % uid), rows)
        self.assertIn(("admin", "user.activate", "user:%d" % uid), rows)
        clerk.logout()
        admin.logout()

    def test_reset_password_shows_it_once(self):
        mark = self.stack.audit_mark()
        admin = self.client("admin")
        csrf = admin.csrf("/admin/users/new")
        r = admin.post("/admin/users", {"csrf": csrf, "login": "reset-me", "display_name": "待重置",
                                        "role": "school", "org_code": "2199210101"})
        self.assertEqual(r.status, 200, repr(r))
        first = re.search(r'id="one-time-password">([^<]*)<', r.text).group(1)
        u = self.client("reset-me", first, expect="/password")
        token = u.token
        r = admin.post("/admin/users/reset-me/reset", {"csrf": csrf})
        self.assertEqual(r.status, 200, repr(r))
        self.assertIn("密码已重置", r.text)
        self.assertIn("no-store", r.headers.get("cache-control", ""))
        second = re.search(r'id="one-time-password">([^<]*)<', r.text).group(1)
        self.assertEqual(len(second), 12)
        self.assertTrue(set(second) <= set(OTP_ALPHABET))
        self.assertNotEqual(second, first)
        # shown once: not on the account's page afterwards
        self.assertNotIn(second, admin.get("/admin/users/reset-me").text)
        # the reset ended the user's session; the old password is dead, the new one must change
        self.assertIsNone(session_row(token))
        self.assertToLogin(u.get("/password"), "/password")
        self.assertLoginRefused(u.post("/login", {"username": "reset-me", "password": first}))
        u.login("reset-me", second, expect="/password")
        self.assertEqual(user_row("reset-me")[1], 1)
        uid = user_row("reset-me")[0]
        rows = self.stack.audit_since(mark)
        self.assertIn(("admin", "user.create", "user:%d" % uid), rows)
        self.assertIn(("admin", "user.password_reset", "user:%d" % uid), rows)
        admin.logout()


# ---- the lockout, on a stack of its own (it locks 127.0.0.1) ----

LOCK_CSV = """code,name,kind,parent_code,school_type,ownership,inclusive,urban_rural,center_code
990100,测试市,city,,,,,,
990102,东城区,county,990100,,,,,
2199020101,东城区实验小学,school,990102,211,public,,111,
"""
LOCK_ACCOUNTS = {
    "2199020101": ("school", "2199020101", False),
    "rev-990102": ("reviewer", "990102", False),
}
LOCKED = "登录失败次数过多，已暂时锁定，请 15 分钟后再试"


class LockoutTest(Base):
    """Tests run in name order on their own stack; each starts with no failures."""

    stack = None

    @classmethod
    def setUpClass(cls):
        cls.stack = tblib.Stack(prefix="tianbao-lockout-").start()
        try:
            load_fixture(cls.stack, LOCK_CSV, LOCK_ACCOUNTS)
        except Exception:
            cls.stack.failed = True
            raise

    @classmethod
    def tearDownClass(cls):
        tblib.finish_stack(cls.stack)

    def locks(self):
        return sorted(k for (k,) in self.stack.query("SELECT key FROM login_lock"))

    def failures(self):
        return self.stack.query("SELECT count(*) FROM login_failure")[0][0]

    def test_1_account_lock(self):
        mark = self.stack.audit_mark()
        c = self.client()
        for i in range(10):
            r = c.post("/login", {"username": "2199020101", "password": "wrong-%d" % i})
            self.assertLoginRefused(r, "2199020101")
        # the 11th attempt, with the right password, is refused without a check
        r = c.post("/login", {"username": "2199020101", "password": PASSWORD})
        self.assertLoginRefused(r, "2199020101", status=429, message=LOCKED)
        self.assertEqual(self.failures(), 10, "a locked attempt was counted")
        self.assertEqual(self.locks(), ["addr:127.0.0.1", "login:2199020101"])
        self.assertIn(("system", "login.lock", "login:2199020101"), self.stack.audit_since(mark))
        # without the address lock the name alone still stays locked ...
        self.stack.execute("DELETE FROM login_lock WHERE key LIKE 'addr:%'")
        self.stack.execute("DELETE FROM login_failure")
        r = c.post("/login", {"username": "2199020101", "password": PASSWORD})
        self.assertLoginRefused(r, status=429, message=LOCKED)
        # ... while another account logs in from the same address
        c.login("rev-990102")
        c.logout()

    def test_2_address_lock(self):
        mark = self.stack.audit_mark()
        c = self.client()
        names = ["nobody-%d" % i for i in range(5)] + ["2199020101"] * 3 + ["<x>", "y" * 300]
        for i, name in enumerate(names):
            r = c.post("/login", {"username": name, "password": "wrong-%d" % i})
            self.assertLoginRefused(r, name)
        self.assertEqual(self.locks(), ["addr:127.0.0.1"], "no name reached 10 failures")
        # a correct login of an account never mistyped is refused too
        r = c.post("/login", {"username": "rev-990102", "password": PASSWORD})
        self.assertLoginRefused(r, "rev-990102", status=429, message=LOCKED)
        self.assertIn("15 分钟", r.text)
        self.assertEqual(c.cookies, {})
        self.assertEqual(self.stack.query("SELECT count(*) FROM session")[0][0], 0)
        self.assertIn(("system", "login.lock", "addr:127.0.0.1"), self.stack.audit_since(mark))
        # the rest of the site still answers
        self.assertPublicHome(c.get("/"), "while locked")
        self.assertEqual(c.get("/login").status, 200)


if __name__ == "__main__":
    tblib.main()

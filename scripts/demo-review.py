#!/usr/bin/env python3
"""demo-review.py — the demo's reviewers at work: approves and returns some 2026 submissions.

  scripts/demo-review.py BASE_URL

Run by scripts/demo-data on a fresh demo stack, after the 2026 values are in. Each county
reviewer (rev-<county>, password tianbao-demo) goes through the submitted forms of the county in
school-code order: the first school's forms are returned with a reason and a comment on one
field, every third school's are left waiting, the others are approved. So the demo shows every
state: 未填写, 草稿, 已上报, 已退回, 已审核. It uses the web pages as a reviewer would (POST with
the CSRF token and the version shown), on 127.0.0.1 only. Python standard library only.
"""

import re
import sys
import urllib.parse

import loopback

COUNTIES = ("990102", "990121", "990122")
REASON = "办学条件表中的校舍面积与去年相比变化较大，请与学校资产台账核对后重新上报。"
COMMENTS = {"building_area": "请核对校舍建筑面积（含危房），与资产台账一致。",
            "pri_students": "在校生数请以9月1日学籍系统数据为准。"}


class Client:
    """A cookie-keeping client of one user."""

    def __init__(self, port):
        self.port, self.cookie = port, None

    def request(self, method, path, form=None):
        """One request; returns (status, headers, text). A new session cookie is kept."""
        status, headers, text = loopback.request(self.port, method, path, self.cookie, form)
        if "set-cookie" in headers:
            self.cookie = headers["set-cookie"].split(";")[0]
        return status, headers, text

    def login(self, user):
        """Log in; exits on failure."""
        self.cookie = loopback.login(self.port, user, "demo-review")


def decide(c, url, action, reason="", comments=None):
    """Open a review page and take a decision; exits when it is refused."""
    status, _, page = c.request("GET", url + "/review")
    if status != 200:
        sys.exit("demo-review: GET %s/review answered %d" % (url, status))
    form = {"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1),
            "version": re.search(r'name="version" value="(\d+)"', page).group(1),
            "action": action, "reason": reason}
    for field, text in (comments or {}).items():
        if 'name="c.%s"' % field in page:
            form["c." + field] = text
    status, headers, _ = c.request("POST", url + "/decide", form)
    if status != 303:
        sys.exit("demo-review: %s of %s answered %d" % (action, url, status))


def main():
    port = urllib.parse.urlsplit(sys.argv[1]).port
    for county in COUNTIES:
        c = Client(port)
        c.login("rev-" + county)
        _, _, page = c.request("GET", "/review?period=2026&state=submitted")
        urls = sorted(set(re.findall(r'href="(/schools/\d{10}/2026/[a-z_]+)/review"', page)))
        schools = sorted({u.split("/")[2] for u in urls})
        for i, school in enumerate(schools):
            mine = [u for u in urls if u.split("/")[2] == school]
            if i % 3 == 2:
                continue  # left waiting for review
            for u in mine:
                if i == 0 and u.endswith(("/facilities", "/students")):
                    decide(c, u, "return", REASON, COMMENTS)
                else:
                    decide(c, u, "approve")


if __name__ == "__main__":
    main()

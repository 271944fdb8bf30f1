"""loopback.py — the HTTP client the bench and demo scripts share: requests to a stack on 127.0.0.1
and the login of a demo user. Python standard library only.
"""

import http.client
import sys
import urllib.parse

DEMO_PASSWORD = "tianbao-demo"


def request(port, method, path, cookie=None, form=None, timeout=60):
    """One request to 127.0.0.1:port (form: a dict or (name, value) pairs, urlencoded; a list
    value repeats the name); returns (status, {lower-case header: value}, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
    finally:
        conn.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, text


def login(port, user, who, password=DEMO_PASSWORD):
    """Log `user` in; the Cookie header value of the session. Exits naming `who` (the script)
    when the login is refused."""
    status, headers, _ = request(port, "POST", "/login",
                                 form={"username": user, "password": password})
    cookie = headers.get("set-cookie", "").split(";")[0]
    if status != 303 or not cookie:
        sys.exit("%s: login of %s failed (%d)" % (who, user, status))
    return cookie

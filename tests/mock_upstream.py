#!/usr/bin/env python3
"""mock_upstream.py — a mock provincial platform for the demo and the tests of tianbao-sync.

  python3 tests/mock_upstream.py --port PORT [--host 127.0.0.1] [--token TOKEN]
      [--store FILE] [--tls-cert CERT --tls-key KEY] [--port-file FILE]

Implements POST /api/dataValueSets as docs/upstream.md describes it: a JSON data value set with
the headers Idempotency-Key and (when --token is given) Authorization: Bearer TOKEN, answered with
a DHIS2 import summary. Idempotency: the same key with the same body gets the stored reply again
(nothing is imported twice); the same key with another body gets 422. What it accepted is kept in
memory and, with --store, appended to FILE (JSON lines) and read back at start, so that a
restarted platform still knows its keys.

Fault injection, for tests (POST /_control with a JSON object, answered 200):
  {"fail": N, "status": 503, "retry_after": "2"}  answer the next N requests with that status
  {"delay": SECONDS}                              wait that long before answering every request
  {"close": N}                                    close the next N connections after reading the
                                                  request, importing nothing
  {"store_close": N}                              import the next N, then close without answering
  {"reject": N, "conflicts": [...]}               answer the next N with 400 and these conflicts
  {"error_summary": N}                            answer the next N with 200 and status ERROR
  {"warning": N, "conflicts": [...]}              import the next N, answer 200 with status
                                                  WARNING and these conflicts (values ignored)
  {"answer": N, "answer_status": 401,             answer the next N with exactly this, importing
   "answer_body": TEXT | "answer_hex": HEX,       nothing: any status (401, 403, 407, 409, 302,
   "answer_headers": {"Location": URL}}           ...), any bytes (a GBK page: answer_hex), any
                                                  headers; without a body: an empty one
  {"reset": true}                                 forget the faults (not the data)
Inspection: GET /_received → {"count": n, "sets": {key: body}}; GET /_stats → request counts.
Only for loopback use; Python standard library only.
"""

import argparse
import hashlib
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 16 * 1024 * 1024
FAULTS = ("answer", "fail", "close", "store_close", "reject", "error_summary", "warning")
FAULT_ARGS = ("status", "retry_after", "conflicts", "delay", "answer_status", "answer_body",
              "answer_hex", "answer_headers")


class Platform:
    """The platform's state: imported sets by idempotency key, faults, counters."""

    def __init__(self, token, store):
        self.lock = threading.Lock()
        self.token = token
        self.store = store
        self.sets = {}      # key -> (sha256 of the body, body text, reply dict)
        self.faults = {}
        self.stats = {"requests": 0, "imported": 0, "replayed": 0, "conflicts": 0,
                      "faults": 0, "rejected": 0}
        if store and os.path.exists(store):
            with open(store, encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        rec = json.loads(line)
                        self.sets[rec["key"]] = (rec["sha"], rec["body"], rec["reply"])

    def take_fault(self):
        """The fault that applies to this request (decrementing its count), or None."""
        with self.lock:
            for name in FAULTS:
                if self.faults.get(name, 0) > 0:
                    self.faults[name] -= 1
                    self.stats["faults"] += 1
                    return name
        return None

    def import_set(self, key, body, warnings=None):
        """Import a body under a key: (status, reply dict). With `warnings` (conflicts) the
        values they name count as ignored and the reply says WARNING."""
        sha = hashlib.sha256(body).hexdigest()
        with self.lock:
            if key in self.sets:
                old_sha, _, reply = self.sets[key]
                if old_sha == sha:
                    self.stats["replayed"] += 1
                    return 200, reply
                self.stats["conflicts"] += 1
                return 422, {"status": "ERROR", "description":
                             "Idempotency-Key %s was used with another body" % key}
            try:
                doc = json.loads(body)
                values = doc["dataValues"]
                for k in ("dataSet", "period", "orgUnit", "completeDate"):
                    if not isinstance(doc.get(k), str):
                        raise ValueError(k)
                if not all(isinstance(v.get("dataElement"), str) and isinstance(v.get("value"), str)
                           for v in values):
                    raise ValueError("dataValues")
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                self.stats["rejected"] += 1
                return 400, {"status": "ERROR", "description": "not a data value set: %s" % e,
                             "conflicts": []}
            reply = {"status": "SUCCESS", "description": "Import process completed successfully",
                     "importCount": {"imported": len(values), "updated": 0, "ignored": 0,
                                     "deleted": 0},
                     "conflicts": [], "dataSetComplete": doc["completeDate"]}
            if warnings:
                n = min(len(warnings), len(values))
                reply.update(status="WARNING", description="Import process completed with"
                             " conflicts", conflicts=list(warnings))
                reply["importCount"].update(imported=len(values) - n, ignored=n)
            self.sets[key] = (sha, body.decode("utf-8"), reply)
            self.stats["imported"] += 1
            if self.store:
                with open(self.store, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": key, "sha": sha, "body": body.decode("utf-8"),
                                        "reply": reply}, ensure_ascii=False) + "\n")
                    f.flush()
                    os.fsync(f.fileno())
            return 200, reply


class Handler(BaseHTTPRequestHandler):
    """One request of the mock platform."""

    protocol_version = "HTTP/1.1"
    platform = None

    def setup(self):
        """No Nagle delay: an answer's header and body leave at once."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        """Quiet: the tests read /_stats instead."""

    def reply(self, status, obj, headers=None, raw=None):
        """Send a JSON answer (or the bytes `raw` as they are)."""
        data = raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if raw is None
                         else "text/html")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        """The request body, or None (answered 413/411)."""
        n = self.headers.get("Content-Length")
        if n is None or not n.isdigit():
            self.reply(411, {"status": "ERROR", "description": "Content-Length required"})
            return None
        if int(n) > MAX_BODY:
            self.reply(413, {"status": "ERROR", "description": "too large"})
            return None
        return self.rfile.read(int(n))

    def do_GET(self):
        p = self.platform
        if self.path == "/_received":
            with p.lock:
                sets = {k: json.loads(v[1]) for k, v in p.sets.items()}
            self.reply(200, {"count": len(sets), "sets": sets})
        elif self.path == "/_stats":
            with p.lock:
                self.reply(200, dict(p.stats, faults_left=dict(p.faults)))
        else:
            self.reply(404, {"status": "ERROR", "description": "not found"})

    def do_POST(self):
        p = self.platform
        body = self.read_body()
        if body is None:
            return
        if self.path == "/_control":
            ctl = json.loads(body or b"{}")
            with p.lock:
                if ctl.get("reset"):
                    p.faults = {}
                for k in FAULTS:
                    if k in ctl:
                        p.faults[k] = int(ctl[k])
                for k in FAULT_ARGS:
                    if k in ctl:
                        p.faults[k] = ctl[k]
            self.reply(200, {"ok": True})
            return
        if self.path != "/api/dataValueSets":
            self.reply(404, {"status": "ERROR", "description": "not found"})
            return
        with p.lock:
            p.stats["requests"] += 1
            delay = float(p.faults.get("delay", 0) or 0)
        if delay:
            time.sleep(delay)
        if p.token and self.headers.get("Authorization") != "Bearer " + p.token:
            self.reply(401, {"status": "ERROR", "description": "bad or missing bearer token"})
            return
        key = self.headers.get("Idempotency-Key")
        if not key:
            self.reply(400, {"status": "ERROR", "description": "Idempotency-Key required",
                             "conflicts": []})
            return
        fault = p.take_fault()
        if fault == "answer":
            f = p.faults
            if f.get("answer_hex") is not None:
                raw = bytes.fromhex(f["answer_hex"])
            else:
                raw = str(f.get("answer_body") or "").encode("utf-8")
            self.reply(int(f.get("answer_status", 200)), None, f.get("answer_headers"), raw)
            return
        if fault == "fail":
            status = int(p.faults.get("status", 503))
            ra = p.faults.get("retry_after")
            self.reply(status, {"status": "ERROR", "description": "injected %d" % status},
                       {"Retry-After": str(ra)} if ra is not None else None)
            return
        if fault == "close":
            self.close_connection = True
            self.connection.close()
            return
        if fault == "reject":
            self.reply(400, {"status": "ERROR", "description": "The import was rejected",
                             "conflicts": p.faults.get("conflicts") or [
                                 {"object": "pri_students", "value": "value out of range"}]})
            return
        if fault == "error_summary":
            self.reply(200, {"status": "ERROR", "description": "data set locked",
                             "conflicts": [{"object": key, "value": "period is locked"}]})
            return
        status, reply = p.import_set(key, body, p.faults.get("conflicts") or [
            {"object": "books", "value": "value ignored"}] if fault == "warning" else None)
        if fault == "store_close":
            self.close_connection = True
            self.connection.close()
            return
        self.reply(status, reply)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port listened on into this file")
    ap.add_argument("--token", default="")
    ap.add_argument("--store")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("the mock platform listens on loopback only")
    Handler.platform = Platform(a.token, a.store)
    server = ThreadingHTTPServer((a.host, a.port), Handler)
    server.daemon_threads = True
    if a.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls_cert, a.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    if a.port_file:
        with open(a.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(a.port_file + ".tmp", a.port_file)
    print("mock_upstream: listening on %s:%d" % (a.host, port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

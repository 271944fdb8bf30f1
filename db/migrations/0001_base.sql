-- 0001_base.sql — instance settings and the audit log every later table writes to.

CREATE TABLE setting (
  key   TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 64),
  value TEXT NOT NULL
) STRICT;

-- One row per state change: who did what to which thing, when, and why.
-- Rows are only ever inserted, in the same transaction as the change.
CREATE TABLE audit (
  id        INTEGER PRIMARY KEY,
  at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  actor     TEXT NOT NULL,            -- login, or 'system' / 'admin-cli'
  action    TEXT NOT NULL,            -- e.g. 'user.create', 'submission.approve'
  object    TEXT NOT NULL DEFAULT '', -- e.g. 'user:17'
  detail    TEXT NOT NULL DEFAULT ''  -- JSON with old/new values or the reason
) STRICT;
CREATE INDEX audit_object ON audit(object, id);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are never changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit rows are never deleted'); END;

INSERT INTO setting(key, value) VALUES ('instance_name', '示范市');

-- 0007_outbox_superseded.sql — an outbox row can be superseded: a newer approved version of the
-- same submission is queued, so the older one must never reach the platform after it (it would
-- overwrite the newer data there). See docs/upstream.md, "Versions".

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same columns
-- in the same order (nothing refers to outbox, so dropping it is safe with foreign keys on).
CREATE TABLE outbox_new (
  id               INTEGER PRIMARY KEY,
  submission_id    INTEGER NOT NULL REFERENCES submission(id),
  version          INTEGER NOT NULL,
  idem_key         TEXT NOT NULL UNIQUE,     -- school-period-form-version
  payload          TEXT NOT NULL,            -- DHIS2 dataValueSets JSON (docs/upstream.md)
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'delivered', 'failed', 'dead', 'superseded')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_until      INTEGER,
  last_status      INTEGER,                  -- HTTP status of the last attempt, 0 for no answer
  last_error       TEXT,                     -- the last attempt's message; for a delivered row
                                             -- the conflicts of a WARNING import summary
  reply            TEXT,                     -- the upstream's answer (import summary)
  created_at       INTEGER NOT NULL,
  delivered_at     INTEGER,
  UNIQUE (submission_id, version)
) STRICT;
INSERT INTO outbox_new(id, submission_id, version, idem_key, payload, state, attempts,
                       next_attempt_at, lease_owner, lease_until, last_status, last_error, reply,
                       created_at, delivered_at)
  SELECT id, submission_id, version, idem_key, payload, state, attempts, next_attempt_at,
         lease_owner, lease_until, last_status, last_error, reply, created_at, delivered_at
  FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

-- Rows already waiting behind a newer version of their submission are superseded now, each
-- with its audit row (the same action core/outbox.c writes).
INSERT INTO audit(actor, action, object, detail)
  SELECT 'system', 'outbox.superseded', 'outbox:' || x.id,
         'version ' || x.version || ' superseded by version ' ||
         (SELECT max(y.version) FROM outbox y WHERE y.submission_id = x.submission_id) ||
         ' (migration 0007)'
  FROM outbox x
  WHERE x.state IN ('pending', 'failed', 'dead')
    AND EXISTS (SELECT 1 FROM outbox y WHERE y.submission_id = x.submission_id
                AND y.version > x.version)
  ORDER BY x.id;
UPDATE outbox SET state = 'superseded'
  WHERE state IN ('pending', 'failed', 'dead')
    AND EXISTS (SELECT 1 FROM outbox y WHERE y.submission_id = outbox.submission_id
                AND y.version > outbox.version);

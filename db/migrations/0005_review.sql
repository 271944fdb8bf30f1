-- 0005_review.sql — review decisions with reasons and field comments, notices, and the outbox
-- of approved submissions for the provincial platform.

-- With two-level approval: a submitted form the county has approved, now awaiting the city.
ALTER TABLE submission ADD COLUMN reviewed INTEGER NOT NULL DEFAULT 0 CHECK (reviewed IN (0, 1));

-- Every decision of a reviewer (or the admin) on a submission version.
CREATE TABLE review (
  id             INTEGER PRIMARY KEY,
  submission_id  INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  version        INTEGER NOT NULL,          -- the version decided on
  action         TEXT NOT NULL CHECK (action IN ('approve', 'return', 'reopen')),
  level          INTEGER NOT NULL CHECK (level IN (1, 2)),   -- 1 county, 2 city
  reason         TEXT NOT NULL DEFAULT '',
  user_id        INTEGER REFERENCES user(id),
  at             INTEGER NOT NULL
) STRICT;
CREATE INDEX review_submission ON review(submission_id, id);

-- A reviewer's remark on one field, given with a return or reopen.
CREATE TABLE review_comment (
  review_id   INTEGER NOT NULL REFERENCES review(id) ON DELETE CASCADE,
  field_code  TEXT NOT NULL,
  text        TEXT NOT NULL,
  PRIMARY KEY (review_id, field_code)
) STRICT, WITHOUT ROWID;

-- What an org unit's people are told: the school of returns and approvals, the county (or, with
-- two levels, the city) of new submissions. Read per user.
CREATE TABLE notice (
  id             INTEGER PRIMARY KEY,
  org_unit_id    INTEGER NOT NULL REFERENCES org_unit(id),
  submission_id  INTEGER REFERENCES submission(id) ON DELETE CASCADE,
  kind           TEXT NOT NULL,
  text           TEXT NOT NULL,
  at             INTEGER NOT NULL
) STRICT;
CREATE INDEX notice_unit ON notice(org_unit_id, at);
CREATE TABLE notice_read (
  user_id    INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
  notice_id  INTEGER NOT NULL REFERENCES notice(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, notice_id)
) STRICT, WITHOUT ROWID;

-- One row per finally approved submission version to deliver upstream; written in the same
-- transaction as the approval, with the payload as it was approved (tianbao-sync sends it).
CREATE TABLE outbox (
  id               INTEGER PRIMARY KEY,
  submission_id    INTEGER NOT NULL REFERENCES submission(id),
  version          INTEGER NOT NULL,
  idem_key         TEXT NOT NULL UNIQUE,     -- school-period-form-version
  payload          TEXT NOT NULL,            -- DHIS2 dataValueSets JSON (docs/upstream.md)
  state            TEXT NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'delivered', 'failed', 'dead')),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  INTEGER NOT NULL,
  lease_owner      TEXT,
  lease_until      INTEGER,
  last_status      INTEGER,                  -- HTTP status of the last attempt, 0 for no answer
  last_error       TEXT,
  reply            TEXT,                     -- the upstream's answer (import summary)
  created_at       INTEGER NOT NULL,
  delivered_at     INTEGER,
  UNIQUE (submission_id, version)
) STRICT;
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

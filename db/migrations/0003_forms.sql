-- 0003_forms.sql — form definitions, reporting periods, submissions and their values.

-- A form definition as loaded by `tianbao-admin forms load` (the checked JSON is kept whole;
-- workers parse it once at start).
CREATE TABLE form (
  code        TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 32),
  name        TEXT NOT NULL,
  edition     INTEGER NOT NULL CHECK (edition >= 1),
  definition  TEXT NOT NULL,               -- checked by the loader before it is stored
  loaded_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

-- Every field code of every form, grid cells expanded (pri_students ...): codes are unique
-- across all forms, and values refer to them.
CREATE TABLE field (
  code       TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 64),
  form_code  TEXT NOT NULL REFERENCES form(code) ON DELETE CASCADE,
  label      TEXT NOT NULL,
  type       TEXT NOT NULL CHECK (type IN ('integer', 'decimal', 'text', 'yesno', 'choice')),
  decimals   INTEGER NOT NULL DEFAULT 0,
  stage      TEXT,                                   -- grid cell: its row's stage
  position   INTEGER NOT NULL                        -- order in the definition
) STRICT;
CREATE INDEX field_form ON field(form_code, position);

CREATE TABLE period (
  id         INTEGER PRIMARY KEY,
  code       TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 16),   -- e.g. '2026'
  name       TEXT NOT NULL,                                                -- e.g. '2026学年'
  opens_at   INTEGER NOT NULL,                                             -- unix seconds
  closes_at  INTEGER NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  CHECK (closes_at > opens_at)
) STRICT;

CREATE TABLE period_form (
  period_id  INTEGER NOT NULL REFERENCES period(id) ON DELETE CASCADE,
  form_code  TEXT NOT NULL REFERENCES form(code),
  position   INTEGER NOT NULL,
  PRIMARY KEY (period_id, form_code)
) STRICT, WITHOUT ROWID;

-- One school x period x form. `version` grows with every change (optimistic concurrency).
CREATE TABLE submission (
  id              INTEGER PRIMARY KEY,
  period_id       INTEGER NOT NULL REFERENCES period(id),
  school_id       INTEGER NOT NULL REFERENCES org_unit(id),
  form_code       TEXT NOT NULL REFERENCES form(code),
  state           TEXT NOT NULL DEFAULT 'draft'
                  CHECK (state IN ('draft', 'submitted', 'returned', 'approved')),
  version         INTEGER NOT NULL DEFAULT 0,
  errors          INTEGER NOT NULL DEFAULT 0,    -- from the last validation
  warnings        INTEGER NOT NULL DEFAULT 0,
  unexplained     INTEGER NOT NULL DEFAULT 0,    -- warnings without a 说明
  required_total  INTEGER NOT NULL DEFAULT 0,
  required_filled INTEGER NOT NULL DEFAULT 0,
  updated_at      INTEGER,
  updated_by      INTEGER REFERENCES user(id),
  submitted_at    INTEGER,
  approved_at     INTEGER,
  UNIQUE (period_id, school_id, form_code)
) STRICT;
CREATE INDEX submission_school ON submission(school_id, period_id);

-- The value of a field in a submission: exactly as typed, and normalised when valid.
CREATE TABLE value (
  submission_id  INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  field_code     TEXT NOT NULL REFERENCES field(code),
  raw            TEXT NOT NULL,       -- as the user typed it
  norm           TEXT,                -- canonical form (number text, '1'/'0', text); NULL if invalid
  PRIMARY KEY (submission_id, field_code)
) STRICT, WITHOUT ROWID;

-- Who changed which value when, from what to what.
CREATE TABLE value_history (
  id             INTEGER PRIMARY KEY,
  submission_id  INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  field_code     TEXT NOT NULL,
  old_raw        TEXT,
  new_raw        TEXT,
  user_id        INTEGER REFERENCES user(id),
  at             INTEGER NOT NULL
) STRICT;
CREATE INDEX value_history_field ON value_history(submission_id, field_code, id);

-- The school's 说明 for a warning (rule code, or 'chg:<field>' for a change warning).
CREATE TABLE explanation (
  submission_id  INTEGER NOT NULL REFERENCES submission(id) ON DELETE CASCADE,
  rule_code      TEXT NOT NULL,
  text           TEXT NOT NULL,
  PRIMARY KEY (submission_id, rule_code)
) STRICT, WITHOUT ROWID;

-- A save that arrived after its session expired, kept for the same user to apply after login.
CREATE TABLE pending_post (
  id          INTEGER PRIMARY KEY,
  user_id     INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  body        TEXT NOT NULL,
  created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX pending_post_user ON pending_post(user_id, id);

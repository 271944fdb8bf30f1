-- 0006_indicators.sql — indicator definitions, loaded by `tianbao-admin indicators load`.

-- One definition file (db/indicators/*.json), kept whole as checked; workers parse it against
-- the loaded forms and parse it again when indicators_generation (or the forms) moved.
CREATE TABLE indicator_set (
  code        TEXT PRIMARY KEY CHECK (length(code) BETWEEN 1 AND 32),
  name        TEXT NOT NULL,
  edition     INTEGER NOT NULL CHECK (edition >= 1),
  definition  TEXT NOT NULL,
  loaded_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;

INSERT INTO setting(key, value) VALUES ('indicators_generation', '0');

-- The indicator pages read the values of a period's approved submissions.
CREATE INDEX submission_state ON submission(period_id, state);

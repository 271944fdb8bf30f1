-- 0004_entry.sql — what data entry needs beyond 0003: expired-session tombstones, the forms
-- generation counter, and the submission version of each value change.

-- A session that ended by timeout, remembered for a day so that a save posted with its cookie
-- can still be kept for the same user (pending_post) instead of being lost. Only the hash of
-- the token is kept, as in `session`; such a row never authenticates anybody.
CREATE TABLE session_expired (
  token_hash  BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id     INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
  csrf        TEXT NOT NULL,
  expired_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Incremented by every `forms load` that changes a form: workers reload their parsed forms
-- when it moves.
INSERT INTO setting(key, value) VALUES ('forms_generation', '0');

-- The submission version a value change produced (for diffs between versions).
ALTER TABLE value_history ADD COLUMN version INTEGER;

-- Overviews read the submissions of one period and form.
CREATE INDEX submission_period ON submission(period_id, form_code, state);

-- 0002_accounts.sql — org units (city > county > school), users, sessions, login throttling.

CREATE TABLE org_unit (
  id            INTEGER PRIMARY KEY,
  -- city and county: administrative division code (6 digits); school: 10-digit 学校标识码
  code          TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 32),
  name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kind          TEXT NOT NULL CHECK (kind IN ('city', 'county', 'school')),
  parent_id     INTEGER REFERENCES org_unit(id),
  -- school attributes (NULL for city and county)
  school_type   TEXT,               -- 办学类型, GB/T 33782-2017 code: 111, 211, 218, 311, 312 ...
  ownership     TEXT CHECK (ownership IN ('public', 'private')),   -- 办学性质 公办 / 民办
  inclusive     INTEGER CHECK (inclusive IN (0, 1)),               -- 普惠性 (kindergartens)
  urban_rural   TEXT,               -- 城乡类型 code 111 ... 220
  center_id     INTEGER REFERENCES org_unit(id),                   -- 教学点: its 中心校
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  CHECK ((kind = 'city') = (parent_id IS NULL)),
  CHECK (kind = 'school' OR (school_type IS NULL AND ownership IS NULL AND urban_rural IS NULL)),
  CHECK (kind <> 'school' OR (school_type IS NOT NULL AND ownership IS NOT NULL AND urban_rural IS NOT NULL))
) STRICT;
CREATE INDEX org_unit_parent ON org_unit(parent_id, code);

CREATE TABLE user (
  id             INTEGER PRIMARY KEY,
  login          TEXT NOT NULL UNIQUE CHECK (length(login) BETWEEN 1 AND 64),
  display_name   TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
  role           TEXT NOT NULL CHECK (role IN ('school', 'reviewer', 'admin')),
  org_unit_id    INTEGER NOT NULL REFERENCES org_unit(id),
  password_hash  TEXT NOT NULL,      -- libsodium crypto_pwhash_str (Argon2id)
  must_change    INTEGER NOT NULL DEFAULT 0 CHECK (must_change IN (0, 1)),
  active         INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
) STRICT;
CREATE INDEX user_org ON user(org_unit_id);

-- The token itself is only in the browser's cookie; we keep its BLAKE2b-256 hash.
CREATE TABLE session (
  token_hash  BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
  user_id     INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
  csrf        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,      -- unix seconds
  last_seen   INTEGER NOT NULL,
  remote_addr TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX session_user ON session(user_id);

-- Failed logins, per account name and per client address, for the lockout rule.
CREATE TABLE login_failure (
  id     INTEGER PRIMARY KEY,
  login  TEXT NOT NULL,
  addr   TEXT NOT NULL,
  at     INTEGER NOT NULL
) STRICT;
CREATE INDEX login_failure_login ON login_failure(login, at);
CREATE INDEX login_failure_addr ON login_failure(addr, at);

-- An active lock: key is 'login:<name>' or 'addr:<address>'.
CREATE TABLE login_lock (
  key    TEXT PRIMARY KEY,
  until  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

/* auth.c — sessions (random tokens stored as hashes), CSRF tokens and the login lockout. */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

/* 32 random bytes as unpadded base64url. */
void auth_new_token(char out[AUTH_TOKEN_SIZE])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_SIZE, raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

/* 43 characters of [A-Za-z0-9_-]. */
bool auth_token_wellformed(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= AUTH_TOKEN_LEN || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		                             (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return n == AUTH_TOKEN_LEN;
}

/* BLAKE2b-256 of the token text. */
void auth_token_hash(const char *token, unsigned char out[AUTH_HASH_SIZE])
{
	crypto_generichash(out, AUTH_HASH_SIZE, (const unsigned char *)token, strlen(token), NULL,
	                   0);
}

/* Constant-time comparison of two well-formed tokens. */
bool auth_token_equal(const char *a, const char *b)
{
	if (!a || !b || !auth_token_wellformed(a) || !auth_token_wellformed(b))
		return false;
	return sodium_memcmp(a, b, AUTH_TOKEN_LEN) == 0;
}

/* Delete a session row by token (inside a transaction). */
static bool auth_delete_token(struct db *db, const char *token)
{
	unsigned char h[AUTH_HASH_SIZE];
	auth_token_hash(token, h);
	sqlite3_stmt *st = db_prep(db, "DELETE FROM session WHERE token_hash = ?1");
	if (!st)
		return false;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE;
}

/* Create a session, rotating out the old one. */
bool auth_session_create(struct db *db, long long user_id, const char *login, const char *addr,
                         long long now, const char *old_token, char token[AUTH_TOKEN_SIZE],
                         char csrf[AUTH_TOKEN_SIZE])
{
	unsigned char h[AUTH_HASH_SIZE];
	auth_new_token(token);
	auth_new_token(csrf);
	auth_token_hash(token, h);
	if (!db_begin_write(db))
		return false;
	if (old_token && auth_token_wellformed(old_token) && !auth_delete_token(db, old_token))
		goto fail;
	sqlite3_stmt *st = db_prep(db, "INSERT INTO session(token_hash, user_id, csrf, created_at,"
	                               " last_seen, remote_addr) VALUES (?1, ?2, ?3, ?4, ?4, ?5)");
	if (!st)
		goto fail;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, user_id);
	db_bind_text(st, 3, csrf, -1);
	sqlite3_bind_int64(st, 4, now);
	db_bind_text(st, 5, addr ? addr : "", -1);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto fail;
	/* Expired sessions of anyone are swept here, at a moment that writes anyway. */
	st = db_prep(db, "DELETE FROM session WHERE last_seen < ?1 - 7 * 86400");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_step(st);
		db_done(st);
	}
	st = db_prep(db, "DELETE FROM session_expired WHERE expired_at < ?1");
	if (st) {
		sqlite3_bind_int64(st, 1, now - AUTH_EXPIRED_KEEP_S);
		sqlite3_step(st);
		db_done(st);
	}
	char object[40];
	snprintf(object, sizeof(object), "user:%lld", user_id);
	if (!audit_log(db, login, "session.login", object, addr) || !db_commit(db))
		goto fail;
	return true;
fail:
	log_error("session create failed: %s", sqlite3_errmsg(db->h));
	db_rollback(db);
	return false;
}

/* End a session by timeout: delete its row and keep a tombstone (user, CSRF
 * token) for a day, so that a save posted with the old cookie can be kept for
 * the user. A deactivated user's session leaves no tombstone. */
static void auth_expire(struct db *db, const unsigned char *h, const struct auth_session *s,
                        long long now, bool tombstone)
{
	if (!db_begin_write(db))
		return;
	sqlite3_stmt *st = db_prep(db, "DELETE FROM session WHERE token_hash = ?1");
	if (!st)
		goto fail;
	sqlite3_bind_blob(st, 1, h, AUTH_HASH_SIZE, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto fail;
	if (tombstone) {
		st = db_prep(db, "INSERT OR REPLACE INTO session_expired(token_hash, user_id, csrf,"
		                 " expired_at) VALUES (?1, ?2, ?3, ?4)");
		if (!st)
			goto fail;
		sqlite3_bind_blob(st, 1, h, AUTH_HASH_SIZE, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 2, s->user.id);
		db_bind_text(st, 3, s->csrf, -1);
		sqlite3_bind_int64(st, 4, now);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (db_commit(db))
		return;
fail:
	log_error("ending an expired session failed: %s", sqlite3_errmsg(db->h));
	db_rollback(db);
}

/* The tombstone of a session that expired within AUTH_EXPIRED_KEEP_S: 2 with
 * out->user.id and out->csrf set, else 0 (-1 on error). */
static int auth_session_expired(struct db *db, struct arena *a, const unsigned char *h,
                                long long now, struct auth_session *out)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT x.user_id, x.csrf FROM session_expired x"
	                " JOIN user u ON u.id = x.user_id"
	                " WHERE x.token_hash = ?1 AND x.expired_at >= ?2 AND u.active");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, h, AUTH_HASH_SIZE, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now - AUTH_EXPIRED_KEEP_S);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		out->user.id = sqlite3_column_int64(st, 0);
		out->csrf = arena_strdup(a, db_text(st, 1));
	}
	db_done(st);
	return rc == SQLITE_ROW ? 2 : rc == SQLITE_DONE ? 0 : -1;
}

/* Look up and validate a session. */
int auth_session_lookup(struct db *db, struct arena *a, const char *token, long long now,
                        long long idle_s, long long max_s, struct auth_session *out)
{
	if (!token || !auth_token_wellformed(token))
		return 0;
	unsigned char h[AUTH_HASH_SIZE];
	auth_token_hash(token, h);
	sqlite3_stmt *st = db_prep(
	    db, "SELECT u.id, u.login, u.display_name, u.role, u.org_unit_id, u.must_change,"
	        " u.active, o.code, o.name, o.kind, s.csrf, s.created_at, s.last_seen"
	        " FROM session s JOIN user u ON u.id = s.user_id"
	        " JOIN org_unit o ON o.id = u.org_unit_id WHERE s.token_hash = ?1");
	if (!st)
		return -1;
	sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		db_done(st);
		return rc == SQLITE_DONE ? auth_session_expired(db, a, h, now, out) : -1;
	}
	struct user *u = &out->user;
	u->id = sqlite3_column_int64(st, 0);
	u->login = arena_strdup(a, db_text(st, 1));
	u->display_name = arena_strdup(a, db_text(st, 2));
	u->role = arena_strdup(a, db_text(st, 3));
	u->org_unit_id = sqlite3_column_int64(st, 4);
	u->must_change = sqlite3_column_int(st, 5) != 0;
	u->active = sqlite3_column_int(st, 6) != 0;
	u->org_code = arena_strdup(a, db_text(st, 7));
	u->org_name = arena_strdup(a, db_text(st, 8));
	u->org_kind = arena_strdup(a, db_text(st, 9));
	out->csrf = arena_strdup(a, db_text(st, 10));
	out->created_at = sqlite3_column_int64(st, 11);
	out->last_seen = sqlite3_column_int64(st, 12);
	db_done(st);
	if (!u->active || now - out->last_seen > idle_s || now - out->created_at > max_s) {
		auth_expire(db, h, out, now, u->active);
		if (!u->active)
			return 0;
		long long id = u->id;
		const char *csrf = out->csrf;
		memset(out, 0, sizeof(*out));
		out->user.id = id;
		out->csrf = csrf;
		return 2;
	}
	if (now - out->last_seen >= 60) {
		st = db_prep(db, "UPDATE session SET last_seen = ?2 WHERE token_hash = ?1");
		if (st) {
			sqlite3_bind_blob(st, 1, h, sizeof(h), SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, now);
			sqlite3_step(st);
			db_done(st);
			out->last_seen = now;
		}
	}
	return 1;
}

/* Logout. */
bool auth_session_delete(struct db *db, const char *token, const char *login)
{
	if (!token || !auth_token_wellformed(token) || !db_begin_write(db))
		return false;
	if (!auth_delete_token(db, token) || !audit_log(db, login, "session.logout", NULL, NULL) ||
	    !db_commit(db)) {
		db_rollback(db);
		return false;
	}
	return true;
}

/* Is a lock key active? */
static bool auth_lock_active(struct db *db, const char *key, long long now)
{
	sqlite3_stmt *st = db_prep(db, "SELECT 1 FROM login_lock WHERE key = ?1 AND until > ?2");
	if (!st)
		return false;
	db_bind_text(st, 1, key, -1);
	sqlite3_bind_int64(st, 2, now);
	bool locked = sqlite3_step(st) == SQLITE_ROW;
	db_done(st);
	return locked;
}

/* Either the name or the address is locked. */
bool auth_locked(struct db *db, const char *login, const char *addr, long long now)
{
	char key[128];
	snprintf(key, sizeof(key), "login:%s", login);
	if (auth_lock_active(db, key, now))
		return true;
	snprintf(key, sizeof(key), "addr:%s", addr ? addr : "");
	return auth_lock_active(db, key, now);
}

/* Record a failure and lock what reached the limit, in one transaction. */
void auth_login_failed(struct db *db, const char *login, const char *addr, long long now)
{
	if (!addr)
		addr = "";
	if (!db_begin_write(db))
		return;
	sqlite3_stmt *st =
	    db_prep(db, "INSERT INTO login_failure(login, addr, at) VALUES (?1, ?2, ?3)");
	if (!st)
		goto fail;
	db_bind_text(st, 1, login, -1);
	db_bind_text(st, 2, addr, -1);
	sqlite3_bind_int64(st, 3, now);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto fail;
	st = db_prep(db, "SELECT (SELECT count(*) FROM login_failure WHERE login = ?1 AND at > ?3),"
	                 " (SELECT count(*) FROM login_failure WHERE addr = ?2 AND at > ?3)");
	if (!st)
		goto fail;
	db_bind_text(st, 1, login, -1);
	db_bind_text(st, 2, addr, -1);
	sqlite3_bind_int64(st, 3, now - AUTH_WINDOW_S);
	long long by_login = 0, by_addr = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		by_login = sqlite3_column_int64(st, 0);
		by_addr = sqlite3_column_int64(st, 1);
	}
	db_done(st);
	for (int i = 0; i < 2; i++) {
		long long count = i == 0 ? by_login : by_addr;
		if (count < AUTH_MAX_FAILURES)
			continue;
		char key[128];
		snprintf(key, sizeof(key), i == 0 ? "login:%s" : "addr:%s", i == 0 ? login : addr);
		st = db_prep(db, "INSERT INTO login_lock(key, until) VALUES (?1, ?2)"
		                 " ON CONFLICT(key) DO UPDATE SET until = excluded.until");
		if (!st)
			goto fail;
		db_bind_text(st, 1, key, -1);
		sqlite3_bind_int64(st, 2, now + AUTH_LOCK_S);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_DONE)
			goto fail;
		if (!audit_log(db, "system", "login.lock", key, NULL))
			goto fail;
	}
	/* Old failures are of no further use. */
	st = db_prep(db, "DELETE FROM login_failure WHERE at < ?1");
	if (st) {
		sqlite3_bind_int64(st, 1, now - 2 * AUTH_WINDOW_S);
		sqlite3_step(st);
		db_done(st);
	}
	if (!db_commit(db))
		goto fail;
	return;
fail:
	log_error("recording a login failure failed: %s", sqlite3_errmsg(db->h));
	db_rollback(db);
}

/* Forget a login name's failures. */
void auth_login_succeeded(struct db *db, const char *login)
{
	sqlite3_stmt *st = db_prep(db, "DELETE FROM login_failure WHERE login = ?1");
	if (!st)
		return;
	db_bind_text(st, 1, login, -1);
	sqlite3_step(st);
	db_done(st);
}

/* user.c — accounts: login names, roles, the org unit that scopes them, passwords. */
#include "user.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

/* A login name: 1..64 bytes of [A-Za-z0-9._-]. */
bool user_login_valid(const char *login)
{
	size_t n = strlen(login);
	if (n == 0 || n > USER_LOGIN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = login[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Known roles. */
bool user_role_valid(const char *role)
{
	return strcmp(role, "school") == 0 || strcmp(role, "reviewer") == 0 ||
	       strcmp(role, "admin") == 0;
}

/* Chinese role names. */
const char *user_role_name(const char *role)
{
	if (strcmp(role, "school") == 0)
		return "学校填报员";
	if (strcmp(role, "reviewer") == 0)
		return "区县审核员";
	if (strcmp(role, "admin") == 0)
		return "市级管理员";
	return "未知角色";
}

/* Which unit kinds a role may be attached to. */
bool user_role_fits_unit(const char *role, const char *unit_kind)
{
	if (strcmp(role, "school") == 0)
		return strcmp(unit_kind, "school") == 0;
	if (strcmp(role, "reviewer") == 0)
		return strcmp(unit_kind, "county") == 0 || strcmp(unit_kind, "city") == 0;
	if (strcmp(role, "admin") == 0)
		return strcmp(unit_kind, "city") == 0;
	return false;
}

/* Password policy. */
bool user_password_ok(const char *login, const char *password, const char **why)
{
	size_t n = strlen(password);
	if (n < USER_PASSWORD_MIN) {
		*why = "密码至少需要 8 个字符。";
		return false;
	}
	if (n > USER_PASSWORD_MAX) {
		*why = "密码最多 256 个字符。";
		return false;
	}
	bool same = true;
	for (size_t i = 1; i < n; i++)
		if (password[i] != password[0])
			same = false;
	if (same) {
		*why = "密码不能由同一个字符组成。";
		return false;
	}
	if (login && strcmp(login, password) == 0) {
		*why = "密码不能与用户名相同。";
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f) {
			*why = "密码不能包含控制字符。";
			return false;
		}
	return true;
}

/* Argon2id hash with libsodium's interactive limits. */
bool user_hash_password(const char *password, char *out, size_t outlen)
{
	if (outlen < crypto_pwhash_STRBYTES)
		return false;
	if (crypto_pwhash_str(out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
		log_error("crypto_pwhash_str failed (out of memory)");
		return false;
	}
	return true;
}

/* Constant-time verification. */
bool user_verify_password(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* Burn the time of one verification, so that unknown logins answer as slowly
 * as known ones. The dummy hash is made once per process. */
void user_verify_dummy(const char *password)
{
	static char dummy[crypto_pwhash_STRBYTES];
	if (!dummy[0] && !user_hash_password("tianbao-dummy-password", dummy, sizeof(dummy)))
		return;
	(void)user_verify_password(dummy, password);
}

/* 12 characters without 0/O, 1/l/I. */
char *user_random_password(struct arena *a)
{
	static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *p = arena_alloc(a, 13);
	for (int i = 0; i < 12; i++)
		p[i] = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
	p[12] = '\0';
	return p;
}

/* Fill a struct user from a row of the user+org_unit join below. */
static void user_from_row(sqlite3_stmt *st, struct arena *a, struct user *u)
{
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
}

/* Finish a single-row read: 1 found, 0 not found, -1 error. */
static int user_read_one(struct db *db, sqlite3_stmt *st, struct arena *a, struct user *out,
                         char *hash_out, size_t hashlen)
{
	int rc = sqlite3_step(st);
	int found = 0;
	if (rc == SQLITE_ROW) {
		user_from_row(st, a, out);
		if (hash_out)
			snprintf(hash_out, hashlen, "%s", db_text(st, 10));
		found = 1;
	} else if (rc != SQLITE_DONE) {
		log_error("user read: %s", sqlite3_errmsg(db->h));
		found = -1;
	}
	db_done(st);
	return found;
}

/* Load by login. */
int user_get_by_login(struct db *db, struct arena *a, const char *login, struct user *out,
                      char *hash_out, size_t hashlen)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT u.id, u.login, u.display_name, u.role, u.org_unit_id, u.must_change,"
	        " u.active, o.code, o.name, o.kind, u.password_hash"
	        " FROM user u JOIN org_unit o ON o.id = u.org_unit_id WHERE u.login = ?1");
	if (!st)
		return -1;
	db_bind_text(st, 1, login, -1);
	return user_read_one(db, st, a, out, hash_out, hashlen);
}

/* Load by id. */
int user_get(struct db *db, struct arena *a, long long id, struct user *out)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT u.id, u.login, u.display_name, u.role, u.org_unit_id, u.must_change,"
	        " u.active, o.code, o.name, o.kind, ''"
	        " FROM user u JOIN org_unit o ON o.id = u.org_unit_id WHERE u.id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return user_read_one(db, st, a, out, NULL, 0);
}

/* List users, optionally only those at or below a unit. */
int user_list(struct db *db, struct arena *a, long long scope_id, struct user **out, size_t *n)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT u.id, u.login, u.display_name, u.role, u.org_unit_id, u.must_change,"
	        " u.active, o.code, o.name, o.kind, ''"
	        " FROM user u JOIN org_unit o ON o.id = u.org_unit_id"
	        " LEFT JOIN org_unit p ON p.id = o.parent_id"
	        " WHERE ?1 = 0 OR o.id = ?1 OR p.id = ?1 OR p.parent_id = ?1"
	        " ORDER BY CASE u.role WHEN 'admin' THEN 0 WHEN 'reviewer' THEN 1 ELSE 2 END,"
	        " o.code, u.login");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, scope_id);
	size_t cap = 64, count = 0;
	struct user *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct user *bigger = arena_alloc(a, 2 * cap * sizeof(*list));
			memcpy(bigger, list, cap * sizeof(*list));
			list = bigger;
			cap *= 2;
		}
		user_from_row(st, a, &list[count++]);
	}
	db_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	*out = list;
	*n = count;
	return 0;
}

/* Resolve an org unit code to id and kind (kind copied into `kind`). */
static long long user_unit(struct db *db, const char *code, char *kind, size_t kindlen)
{
	sqlite3_stmt *st = db_prep(db, "SELECT id, kind FROM org_unit WHERE code = ?1 AND active");
	if (!st)
		return 0;
	db_bind_text(st, 1, code, -1);
	long long id = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		snprintf(kind, kindlen, "%s", db_text(st, 1));
	}
	db_done(st);
	return id;
}

/* Check the fields common to create and update. */
static bool user_check(struct db *db, const struct user *u, long long *unit_id, char *err,
                       size_t errlen)
{
	char kind[16] = "";
	if (!u->display_name || !*u->display_name || strlen(u->display_name) > 100) {
		snprintf(err, errlen, "姓名（显示名称）不能为空，最多 100 个字节。");
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)u->display_name; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "姓名不能包含控制字符。");
			return false;
		}
	if (!u->role || !user_role_valid(u->role)) {
		snprintf(err, errlen, "角色无效。");
		return false;
	}
	*unit_id = u->org_code ? user_unit(db, u->org_code, kind, sizeof(kind)) : 0;
	if (!*unit_id) {
		snprintf(err, errlen, "所属单位“%s”不存在或已停用。",
		         u->org_code ? u->org_code : "");
		return false;
	}
	if (!user_role_fits_unit(u->role, kind)) {
		snprintf(err, errlen, "%s不能属于这一级单位。", user_role_name(u->role));
		return false;
	}
	return true;
}

/* Create an account with its audit row. */
long long user_create(struct db *db, const struct user *u, const char *password, const char *actor,
                      char *err, size_t errlen)
{
	long long unit_id, id = 0;
	const char *why;
	char hash[crypto_pwhash_STRBYTES];
	if (!u->login || !user_login_valid(u->login)) {
		snprintf(err, errlen, "用户名只能由字母、数字和 . _ - 组成，最多 64 个字符。");
		return 0;
	}
	if (!user_password_ok(u->login, password, &why)) {
		snprintf(err, errlen, "%s", why);
		return 0;
	}
	if (!user_hash_password(password, hash, sizeof(hash))) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return 0;
	}
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return 0;
	}
	if (!user_check(db, u, &unit_id, err, errlen))
		goto fail;
	sqlite3_stmt *st =
	    db_prep(db, "INSERT INTO user(login, display_name, role, org_unit_id,"
	                " password_hash, must_change) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st)
		goto fail_db;
	db_bind_text(st, 1, u->login, -1);
	db_bind_text(st, 2, u->display_name, -1);
	db_bind_text(st, 3, u->role, -1);
	sqlite3_bind_int64(st, 4, unit_id);
	db_bind_text(st, 5, hash, -1);
	sqlite3_bind_int(st, 6, u->must_change ? 1 : 0);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		snprintf(err, errlen, "用户名“%s”已被使用。", u->login);
		goto fail;
	}
	if (rc != SQLITE_DONE)
		goto fail_db;
	id = sqlite3_last_insert_rowid(db->h);
	char object[40], detail[256];
	snprintf(object, sizeof(object), "user:%lld", id);
	snprintf(detail, sizeof(detail), "{\"login\":\"%s\",\"role\":\"%s\",\"org\":\"%s\"}",
	         u->login, u->role, u->org_code);
	if (!audit_log(db, actor, "user.create", object, detail) || !db_commit(db))
		goto fail_db;
	return id;
fail_db:
	snprintf(err, errlen, "保存失败，请稍后再试。");
fail:
	db_rollback(db);
	return 0;
}

/* Update display name, role and unit. */
bool user_update(struct db *db, const struct user *u, const char *actor, char *err, size_t errlen)
{
	long long unit_id;
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return false;
	}
	if (!user_check(db, u, &unit_id, err, errlen))
		goto fail;
	sqlite3_stmt *st =
	    db_prep(db, "UPDATE user SET display_name = ?2, role = ?3, org_unit_id = ?4"
	                " WHERE id = ?1");
	if (!st)
		goto fail_db;
	sqlite3_bind_int64(st, 1, u->id);
	db_bind_text(st, 2, u->display_name, -1);
	db_bind_text(st, 3, u->role, -1);
	sqlite3_bind_int64(st, 4, unit_id);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto fail_db;
	if (sqlite3_changes(db->h) != 1) {
		snprintf(err, errlen, "用户不存在。");
		goto fail;
	}
	char object[40], detail[256];
	snprintf(object, sizeof(object), "user:%lld", u->id);
	snprintf(detail, sizeof(detail), "{\"role\":\"%s\",\"org\":\"%s\"}", u->role, u->org_code);
	if (!audit_log(db, actor, "user.update", object, detail) || !db_commit(db))
		goto fail_db;
	return true;
fail_db:
	snprintf(err, errlen, "保存失败，请稍后再试。");
fail:
	db_rollback(db);
	return false;
}

/* End every session of a user (inside the caller's transaction). */
static bool user_end_sessions(struct db *db, long long id)
{
	sqlite3_stmt *st = db_prep(db, "DELETE FROM session WHERE user_id = ?1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE;
}

/* Set a new password and end the user's sessions. */
bool user_set_password(struct db *db, long long id, const char *password, bool must_change,
                       const char *actor, char *err, size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES];
	const char *why;
	if (!user_password_ok(NULL, password, &why)) {
		snprintf(err, errlen, "%s", why);
		return false;
	}
	if (!user_hash_password(password, hash, sizeof(hash)) || !db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return false;
	}
	sqlite3_stmt *st =
	    db_prep(db, "UPDATE user SET password_hash = ?2, must_change = ?3 WHERE id = ?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, hash, -1);
	sqlite3_bind_int(st, 3, must_change ? 1 : 0);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1)
		goto fail;
	char object[40];
	snprintf(object, sizeof(object), "user:%lld", id);
	if (!user_end_sessions(db, id) ||
	    !audit_log(db, actor, must_change ? "user.password_reset" : "user.password_change",
	               object, NULL) ||
	    !db_commit(db))
		goto fail;
	return true;
fail:
	snprintf(err, errlen, "保存失败，请稍后再试。");
	db_rollback(db);
	return false;
}

/* Activate or deactivate an account. */
bool user_set_active(struct db *db, long long id, bool active, const char *actor, char *err,
                     size_t errlen)
{
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return false;
	}
	sqlite3_stmt *st = db_prep(db, "UPDATE user SET active = ?2 WHERE id = ?1");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, active ? 1 : 0);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1)
		goto fail;
	char object[40];
	snprintf(object, sizeof(object), "user:%lld", id);
	if ((!active && !user_end_sessions(db, id)) ||
	    !audit_log(db, actor, active ? "user.activate" : "user.deactivate", object, NULL) ||
	    !db_commit(db))
		goto fail;
	return true;
fail:
	snprintf(err, errlen, "保存失败，请稍后再试。");
	db_rollback(db);
	return false;
}

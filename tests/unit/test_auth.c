/* test_auth.c — passwords, tokens, sessions with their timeouts, and the login lockout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/auth.h"
#include "core/migrate.h"
#include "core/user.h"

struct fixture {
	char dir[64];
	struct db db;
	struct arena a;
	long long user_id;
};

/* A migrated database with a city, a county, a school and one user. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char path[128], err[512], mig[1024];
	snprintf(f->dir, sizeof(f->dir), "/tmp/tb-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/t.db", f->dir);
	assert_true(db_open(&f->db, path, 1000, err, sizeof(err)));
	const char *src = getenv("TIANBAO_SRCDIR");
	snprintf(mig, sizeof(mig), "%s/db/migrations", src ? src : ".");
	if (migrate_apply(&f->db, mig, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(db_exec(&f->db, "INSERT INTO org_unit(id, code, name, kind) VALUES"
	                            " (1, '990100', '示范市', 'city')"));
	assert_true(db_exec(&f->db, "INSERT INTO org_unit(id, code, name, kind, parent_id) VALUES"
	                            " (2, '990102', '东城区', 'county', 1)"));
	assert_true(db_exec(
	    &f->db, "INSERT INTO org_unit(id, code, name, kind, parent_id,"
	            " school_type, ownership, urban_rural) VALUES"
	            " (3, '2199000001', '东城区实验小学', 'school', 2, '211', 'public', '111')"));
	arena_init(&f->a, 0);
	struct user u = {.login = "2199000001",
	                 .display_name = "实验小学",
	                 .role = "school",
	                 .org_code = "2199000001"};
	f->user_id = user_create(&f->db, &u, "correct horse", "test", err, sizeof(err));
	if (!f->user_id)
		fail_msg("%s", err);
	*state = f;
	return 0;
}

/* Remove the database. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	db_close(&f->db);
	arena_free(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Argon2id hashes verify the right password only, and differ by salt. */
static void test_password_hash(void **state)
{
	(void)state;
	char h1[crypto_pwhash_STRBYTES], h2[crypto_pwhash_STRBYTES];
	assert_true(user_hash_password("tianbao-demo", h1, sizeof(h1)));
	assert_true(user_hash_password("tianbao-demo", h2, sizeof(h2)));
	assert_string_not_equal(h1, h2);
	assert_non_null(strstr(h1, "$argon2id$"));
	assert_true(user_verify_password(h1, "tianbao-demo"));
	assert_false(user_verify_password(h1, "tianbao-demO"));
	assert_false(user_verify_password(h1, ""));
	assert_false(user_verify_password("garbage", "tianbao-demo"));
	assert_false(user_hash_password("x", h1, 10));
}

/* The password policy and login names. */
static void test_policy(void **state)
{
	(void)state;
	const char *why;
	assert_true(user_password_ok("bob", "abcdefgh", &why));
	assert_false(user_password_ok("bob", "short", &why));
	assert_false(user_password_ok("bob", "aaaaaaaaaa", &why));
	assert_false(user_password_ok("longlogin1", "longlogin1", &why));
	assert_false(user_password_ok("bob", "abc\ndefgh", &why));
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[0] = 'y';
	big[299] = '\0';
	assert_false(user_password_ok("bob", big, &why));
	assert_true(user_login_valid("2199000001"));
	assert_true(user_login_valid("rev-990102"));
	assert_false(user_login_valid(""));
	assert_false(user_login_valid("a b"));
	assert_false(user_login_valid("张三"));
	assert_false(user_login_valid("<script>"));
	assert_true(user_role_fits_unit("school", "school"));
	assert_false(user_role_fits_unit("school", "county"));
	assert_true(user_role_fits_unit("reviewer", "county"));
	assert_true(user_role_fits_unit("admin", "city"));
	assert_false(user_role_fits_unit("admin", "school"));
	struct arena a;
	arena_init(&a, 0);
	char *p1 = user_random_password(&a), *p2 = user_random_password(&a);
	assert_int_equal(strlen(p1), 12);
	assert_string_not_equal(p1, p2);
	assert_true(user_password_ok("x", p1, &why));
	arena_free(&a);
}

/* Tokens: 43 base64url characters, unique, hashed to 32 bytes, compared in constant time. */
static void test_tokens(void **state)
{
	(void)state;
	char t1[AUTH_TOKEN_SIZE], t2[AUTH_TOKEN_SIZE];
	auth_new_token(t1);
	auth_new_token(t2);
	assert_int_equal(strlen(t1), 43);
	assert_true(auth_token_wellformed(t1));
	assert_string_not_equal(t1, t2);
	unsigned char h1[AUTH_HASH_SIZE], h2[AUTH_HASH_SIZE];
	auth_token_hash(t1, h1);
	auth_token_hash(t1, h2);
	assert_memory_equal(h1, h2, AUTH_HASH_SIZE);
	auth_token_hash(t2, h2);
	assert_memory_not_equal(h1, h2, AUTH_HASH_SIZE);
	assert_true(auth_token_equal(t1, t1));
	assert_false(auth_token_equal(t1, t2));
	assert_false(auth_token_equal(t1, NULL));
	assert_false(auth_token_equal("short", "short"));
	assert_false(auth_token_wellformed("abc"));
	char bad[AUTH_TOKEN_SIZE];
	memcpy(bad, t1, sizeof(bad));
	bad[5] = '+';
	assert_false(auth_token_wellformed(bad));
}

/* A session is found by its token only; the table holds no token. */
static void test_session_lifecycle(void **state)
{
	struct fixture *f = *state;
	char token[AUTH_TOKEN_SIZE], csrf[AUTH_TOKEN_SIZE];
	long long t0 = 1000000;
	assert_true(auth_session_create(&f->db, f->user_id, "2199000001", "127.0.0.1", t0, NULL,
	                                token, csrf));
	struct auth_session s;
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token, t0 + 10, 1800, 43200, &s), 1);
	assert_string_equal(s.user.login, "2199000001");
	assert_string_equal(s.user.org_code, "2199000001");
	assert_string_equal(s.csrf, csrf);
	/* the stored row holds only the hash */
	sqlite3_stmt *st = db_prep(&f->db, "SELECT count(*) FROM session WHERE token_hash = ?1");
	sqlite3_bind_text(st, 1, token, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	db_done(st);
	/* a wrong token finds nothing */
	char other[AUTH_TOKEN_SIZE];
	auth_new_token(other);
	assert_int_equal(auth_session_lookup(&f->db, &f->a, other, t0, 1800, 43200, &s), 0);
	assert_int_equal(auth_session_lookup(&f->db, &f->a, "x", t0, 1800, 43200, &s), 0);
	/* rotation: a new login with the old token deletes the old session */
	char token2[AUTH_TOKEN_SIZE], csrf2[AUTH_TOKEN_SIZE];
	assert_true(auth_session_create(&f->db, f->user_id, "2199000001", "127.0.0.1", t0 + 20,
	                                token, token2, csrf2));
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token, t0 + 30, 1800, 43200, &s), 0);
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token2, t0 + 30, 1800, 43200, &s), 1);
	/* logout */
	assert_true(auth_session_delete(&f->db, token2, "2199000001"));
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token2, t0 + 40, 1800, 43200, &s), 0);
}

/* Idle and absolute timeouts; activity within the idle time keeps a session. */
static void test_session_timeouts(void **state)
{
	struct fixture *f = *state;
	char token[AUTH_TOKEN_SIZE], csrf[AUTH_TOKEN_SIZE];
	struct auth_session s;
	long long t0 = 2000000;
	assert_true(auth_session_create(&f->db, f->user_id, "u", "a", t0, NULL, token, csrf));
	/* active every 20 minutes for 11 hours: still valid */
	long long t = t0;
	for (; t < t0 + 11 * 3600; t += 1200)
		assert_int_equal(auth_session_lookup(&f->db, &f->a, token, t, 1800, 43200, &s), 1);
	/* past 12 hours: expired, however active; only who it was is remembered */
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token, t0 + 43201, 1800, 43200, &s), 2);
	assert_int_equal(s.user.id, f->user_id);
	assert_null(s.user.login);
	assert_string_equal(s.csrf, csrf);
	sqlite3_stmt *st = db_prep(&f->db, "SELECT count(*) FROM session WHERE user_id = ?1");
	sqlite3_bind_int64(st, 1, f->user_id);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	db_done(st);
	/* the tombstone answers for a day, then nothing */
	assert_int_equal(
	    auth_session_lookup(&f->db, &f->a, token, t0 + 43201 + 86400, 1800, 43200, &s), 2);
	assert_int_equal(
	    auth_session_lookup(&f->db, &f->a, token, t0 + 43202 + 86400, 1800, 43200, &s), 0);
	/* idle for 31 minutes: expired */
	assert_true(auth_session_create(&f->db, f->user_id, "u", "a", t0, NULL, token, csrf));
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token, t0 + 1799, 1800, 43200, &s), 1);
	assert_int_equal(
	    auth_session_lookup(&f->db, &f->a, token, t0 + 1799 + 1801, 1800, 43200, &s), 2);
	/* deactivating the user ends the session */
	char err[256];
	assert_true(auth_session_create(&f->db, f->user_id, "u", "a", t0, NULL, token, csrf));
	assert_true(user_set_active(&f->db, f->user_id, false, "test", err, sizeof(err)));
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token, t0 + 1, 1800, 43200, &s), 0);
}

/* Ten failures within 15 minutes lock the name for 15 minutes; the address too. */
static void test_lockout(void **state)
{
	struct fixture *f = *state;
	long long t0 = 3000000;
	for (int i = 0; i < 9; i++)
		auth_login_failed(&f->db, "2199000001", "10.0.0.1", t0 + i);
	assert_false(auth_locked(&f->db, "2199000001", "10.0.0.2", t0 + 10));
	auth_login_failed(&f->db, "2199000001", "10.0.0.1", t0 + 10);
	assert_true(auth_locked(&f->db, "2199000001", "10.0.0.2", t0 + 11));
	assert_true(auth_locked(&f->db, "other", "10.0.0.1", t0 + 11));
	assert_false(auth_locked(&f->db, "other", "10.0.0.2", t0 + 11));
	assert_true(auth_locked(&f->db, "2199000001", "10.0.0.2", t0 + 10 + 899));
	assert_false(auth_locked(&f->db, "2199000001", "10.0.0.2", t0 + 10 + 901));
	/* failures spread over more than the window do not lock */
	for (int i = 0; i < 12; i++)
		auth_login_failed(&f->db, "slow", "10.0.0.9", t0 + 5000 + i * 120);
	assert_false(auth_locked(&f->db, "slow", "10.0.0.8", t0 + 5000 + 12 * 120));
	/* success forgets the name's failures */
	for (int i = 0; i < 5; i++)
		auth_login_failed(&f->db, "ok", "10.0.1.1", t0 + 9000 + i);
	auth_login_succeeded(&f->db, "ok");
	for (int i = 0; i < 5; i++)
		auth_login_failed(&f->db, "ok", "10.0.1.2", t0 + 9010 + i);
	assert_false(auth_locked(&f->db, "ok", "10.0.1.3", t0 + 9020));
}

/* Password change and reset end the sessions; the audit log records them. */
static void test_password_change_audit(void **state)
{
	struct fixture *f = *state;
	char token[AUTH_TOKEN_SIZE], csrf[AUTH_TOKEN_SIZE], err[256];
	struct auth_session s;
	assert_true(auth_session_create(&f->db, f->user_id, "u", "a", 100, NULL, token, csrf));
	assert_true(user_set_password(&f->db, f->user_id, "new-password-1", true, "admin", err,
	                              sizeof(err)));
	assert_int_equal(auth_session_lookup(&f->db, &f->a, token, 101, 1800, 43200, &s), 0);
	struct user u;
	char hash[256];
	assert_int_equal(user_get_by_login(&f->db, &f->a, "2199000001", &u, hash, sizeof(hash)), 1);
	assert_true(u.must_change);
	assert_true(user_verify_password(hash, "new-password-1"));
	assert_false(user_verify_password(hash, "correct horse"));
	sqlite3_stmt *st =
	    db_prep(&f->db, "SELECT count(*) FROM audit WHERE action IN"
	                    " ('user.create', 'user.password_reset', 'session.login')");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	db_done(st);
	/* a school account cannot be attached to a county */
	struct user bad = {
	    .login = "x1", .display_name = "x", .role = "school", .org_code = "990102"};
	assert_int_equal(user_create(&f->db, &bad, "abcdefgh1", "t", err, sizeof(err)), 0);
	/* duplicate login */
	struct user dup = {
	    .login = "2199000001", .display_name = "x", .role = "school", .org_code = "2199000001"};
	assert_int_equal(user_create(&f->db, &dup, "abcdefgh1", "t", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "已被使用"));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_password_hash),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test_setup_teardown(test_session_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_timeouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_password_change_audit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

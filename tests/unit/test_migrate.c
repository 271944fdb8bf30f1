/* test_migrate.c — migrations apply in order, once, atomically; bad sets are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/db.h"
#include "core/migrate.h"

struct fixture {
	char dir[256];
	char dbpath[300];
	struct db db;
};

/* Write a file in the fixture directory. */
static void put(struct fixture *f, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Remove a file of the fixture directory. */
static void del(struct fixture *f, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	unlink(path);
}

/* A temp directory for migrations and a fresh database. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/tb-migrate-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->dbpath, sizeof(f->dbpath), "%s/test.db", f->dir);
	char err[256];
	assert_true(db_open(&f->db, f->dbpath, 1000, err, sizeof(err)));
	*state = f;
	return 0;
}

/* Remove everything the fixture created. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	db_close(&f->db);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Count rows of a table (the name is one of a fixed set of test tables). */
static int count_rows(struct db *db, const char *table)
{
	sqlite3_stmt *st = NULL;
	if (strcmp(table, "t") == 0)
		st = db_prep(db, "SELECT count(*) FROM t");
	else
		st = db_prep(db, "SELECT count(*) FROM schema_migration");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	db_done(st);
	return n;
}

/* Two files apply in numeric order; the second run applies nothing. */
static void test_apply_twice(void **state)
{
	struct fixture *f = *state;
	char err[512];
	put(f, "0002_fill.sql", "INSERT INTO t(x) VALUES (1), (2);");
	put(f, "0001_create.sql", "CREATE TABLE t(x INTEGER);");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), 2);
	assert_int_equal(migrate_version(&f->db), 2);
	assert_int_equal(count_rows(&f->db, "t"), 2);
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), 0);
	assert_int_equal(count_rows(&f->db, "t"), 2);
	assert_int_equal(count_rows(&f->db, "schema_migration"), 2);
	/* a new file applies alone */
	put(f, "0003_more.sql", "INSERT INTO t(x) VALUES (3);");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), 1);
	assert_int_equal(count_rows(&f->db, "t"), 3);
}

/* A failing migration leaves no trace and is named in the error. */
static void test_failure_atomic(void **state)
{
	struct fixture *f = *state;
	char err[512];
	put(f, "0001_create.sql", "CREATE TABLE t(x INTEGER);");
	put(f, "0002_broken.sql", "INSERT INTO t(x) VALUES (1); INSERT INTO nosuch VALUES (1);");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "0002_broken.sql"));
	assert_int_equal(migrate_version(&f->db), 1);
	assert_int_equal(count_rows(&f->db, "t"), 0);
	/* fixed, it applies */
	put(f, "0002_broken.sql", "INSERT INTO t(x) VALUES (1);");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), 1);
	assert_int_equal(count_rows(&f->db, "t"), 1);
}

/* Bad names, duplicate numbers and a database newer than the files are refused. */
static void test_bad_sets(void **state)
{
	struct fixture *f = *state;
	char err[512];
	put(f, "1_x.sql", "SELECT 1;");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NNNN_name.sql"));
	del(f, "1_x.sql");
	put(f, "0001_a.sql", "CREATE TABLE t(x);");
	put(f, "0001_b.sql", "CREATE TABLE u(x);");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "two migrations numbered 0001"));
	del(f, "0001_b.sql");
	put(f, "0002_c.sql", "CREATE TABLE v(x);");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), 2);
	del(f, "0002_c.sql");
	assert_int_equal(migrate_apply(&f->db, f->dir, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "newer"));
	assert_int_equal(migrate_apply(&f->db, "/nonexistent-dir", err, sizeof(err)), -1);
}

/* The project's own migrations apply cleanly, twice. */
static void test_project_migrations(void **state)
{
	struct fixture *f = *state;
	char err[512], dir[1024];
	const char *src = getenv("TIANBAO_SRCDIR");
	snprintf(dir, sizeof(dir), "%s/db/migrations", src ? src : ".");
	int n = migrate_apply(&f->db, dir, err, sizeof(err));
	if (n < 0)
		fail_msg("%s", err);
	assert_true(n >= 1);
	assert_int_equal(migrate_apply(&f->db, dir, err, sizeof(err)), 0);
	sqlite3_stmt *st = db_prep(&f->db, "PRAGMA foreign_key_check");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	db_done(st);
}

/* db_prep caches: the same literal gives the same statement. */
static void test_statement_cache(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *a = NULL, *b = NULL;
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *st = db_prep(&f->db, "SELECT 42");
		assert_non_null(st);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 42);
		db_done(st);
		if (i == 0)
			a = st;
		else
			b = st;
	}
	assert_ptr_equal(a, b);
	/* trailing SQL is refused */
	assert_null(db_prep(&f->db, "SELECT 1; SELECT 2"));
	/* journal mode and foreign keys are set */
	sqlite3_stmt *st = db_prep(&f->db, "PRAGMA journal_mode");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "wal");
	db_done(st);
	st = db_prep(&f->db, "PRAGMA foreign_keys");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	db_done(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_apply_twice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_sets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_project_migrations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_statement_cache, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* migrate.c — numbered SQL migrations applied in order, once each. */
#include "migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileread.h"
#include "log.h"

#define MIGRATE_MAX_FILES 1000
#define MIGRATE_MAX_BYTES (4 * 1024 * 1024)

struct migration {
	int version;
	char name[256];
};

/* Create the bookkeeping table if missing. */
static bool migrate_table(struct db *db)
{
	return db_exec(db,
	               "CREATE TABLE IF NOT EXISTS schema_migration ("
	               " version INTEGER PRIMARY KEY,"
	               " name TEXT NOT NULL,"
	               " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))"
	               ") STRICT");
}

/* Parse "NNNN_name.sql" (name of [a-z0-9_]); returns the number or -1. */
static int migrate_parse_name(const char *f)
{
	size_t len = strlen(f);
	if (len < 10 || strcmp(f + len - 4, ".sql") != 0 || f[4] != '_')
		return -1;
	for (int i = 0; i < 4; i++)
		if (f[i] < '0' || f[i] > '9')
			return -1;
	for (size_t i = 5; i < len - 4; i++)
		if (!((f[i] >= 'a' && f[i] <= 'z') || (f[i] >= '0' && f[i] <= '9') || f[i] == '_'))
			return -1;
	int v = (f[0] - '0') * 1000 + (f[1] - '0') * 100 + (f[2] - '0') * 10 + (f[3] - '0');
	return v > 0 ? v : -1;
}

/* qsort comparator by version. */
static int migrate_cmp(const void *a, const void *b)
{
	return ((const struct migration *)a)->version - ((const struct migration *)b)->version;
}

/* Highest recorded version. */
int migrate_version(struct db *db)
{
	if (!migrate_table(db))
		return -1;
	sqlite3_stmt *st = db_prep(db, "SELECT coalesce(max(version), 0) FROM schema_migration");
	if (!st)
		return -1;
	int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	db_done(st);
	return v;
}

/* Is this version recorded? -1 on error. */
static int migrate_applied(struct db *db, int version)
{
	sqlite3_stmt *st = db_prep(db, "SELECT 1 FROM schema_migration WHERE version = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, version);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Run one migration file and its record in one transaction. */
static bool migrate_one(struct db *db, const char *dir, const struct migration *m, char *err,
                        size_t errlen)
{
	char path[2048];
	snprintf(path, sizeof(path), "%s/%s", dir, m->name);
	size_t len;
	char *sql = file_read(path, MIGRATE_MAX_BYTES, &len, err, errlen);
	char *msg = NULL;
	bool ok = false;
	if (!sql)
		return false;
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "%s: database is busy", path);
		goto out;
	}
	/* The one place SQL text comes from a file: the migrations installed with
	 * the program, never anything a user sent. */
	if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(db->h));
		db_rollback(db);
		goto out;
	}
	sqlite3_stmt *st =
	    db_prep(db, "INSERT INTO schema_migration(version, name) VALUES (?1, ?2)");
	if (!st) {
		snprintf(err, errlen, "%s: cannot record migration", path);
		db_rollback(db);
		goto out;
	}
	sqlite3_bind_int(st, 1, m->version);
	db_bind_text(st, 2, m->name, -1);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || !db_commit(db)) {
		snprintf(err, errlen, "%s: cannot record migration: %s", path,
		         sqlite3_errmsg(db->h));
		db_rollback(db);
		goto out;
	}
	ok = true;
out:
	sqlite3_free(msg);
	free(sql);
	return ok;
}

/* Apply pending migrations from `dir`. */
int migrate_apply(struct db *db, const char *dir, char *err, size_t errlen)
{
	struct migration *list = NULL;
	size_t n = 0;
	int applied = -1;
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: cannot open migrations directory: %s", dir,
		         strerror(errno));
		return -1;
	}
	list = calloc(MIGRATE_MAX_FILES, sizeof(*list));
	if (!list) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || strlen(e->d_name) < 4 ||
		    strcmp(e->d_name + strlen(e->d_name) - 4, ".sql") != 0)
			continue;
		int v = migrate_parse_name(e->d_name);
		if (v < 0) {
			snprintf(err, errlen, "%s/%s: migration names must be NNNN_name.sql", dir,
			         e->d_name);
			goto out;
		}
		if (n == MIGRATE_MAX_FILES) {
			snprintf(err, errlen, "%s: too many migrations", dir);
			goto out;
		}
		list[n].version = v;
		snprintf(list[n].name, sizeof(list[n].name), "%s", e->d_name);
		n++;
	}
	qsort(list, n, sizeof(*list), migrate_cmp);
	for (size_t i = 1; i < n; i++)
		if (list[i].version == list[i - 1].version) {
			snprintf(err, errlen, "%s: two migrations numbered %04d: %s and %s", dir,
			         list[i].version, list[i - 1].name, list[i].name);
			goto out;
		}
	int current = migrate_version(db);
	if (current < 0) {
		snprintf(err, errlen, "cannot read schema_migration: %s", sqlite3_errmsg(db->h));
		goto out;
	}
	if (n > 0 && current > list[n - 1].version) {
		snprintf(err, errlen,
		         "database is at migration %04d, newer than the newest file in %s (%04d)",
		         current, dir, list[n - 1].version);
		goto out;
	}
	int count = 0;
	for (size_t i = 0; i < n; i++) {
		int done = migrate_applied(db, list[i].version);
		if (done < 0) {
			snprintf(err, errlen, "cannot read schema_migration: %s",
			         sqlite3_errmsg(db->h));
			goto out;
		}
		if (done)
			continue;
		if (!migrate_one(db, dir, &list[i], err, errlen))
			goto out;
		log_info("applied migration %s", list[i].name);
		count++;
	}
	applied = count;
out:
	free(list);
	closedir(d);
	return applied;
}

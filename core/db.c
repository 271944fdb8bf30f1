/* db.c — SQLite access: open with safe pragmas, cached prepared statements, write transactions. */
#include "db.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct db_slot {
	const char *sql;
	sqlite3_stmt *st;
};

/* Open the database and set the pragmas every connection needs. */
bool db_open(struct db *db, const char *path, int busy_timeout_ms, char *err, size_t errlen)
{
	memset(db, 0, sizeof(*db));
	int rc = sqlite3_open_v2(
	    path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: cannot open database: %s", path,
		         db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db->h, 1);
	sqlite3_busy_timeout(db->h, busy_timeout_ms);
	if (!db_exec(db, "PRAGMA journal_mode=WAL") || !db_exec(db, "PRAGMA foreign_keys=ON") ||
	    !db_exec(db, "PRAGMA synchronous=NORMAL") ||
	    !db_exec(db, "PRAGMA trusted_schema=OFF")) {
		snprintf(err, errlen, "%s: cannot set up database: %s", path,
		         sqlite3_errmsg(db->h));
		goto fail;
	}
	return true;
fail:
	db_close(db);
	return false;
}

/* Finalize cached statements and close. */
void db_close(struct db *db)
{
	for (size_t i = 0; i < db->nslots; i++)
		if (db->slots[i].st)
			sqlite3_finalize(db->slots[i].st);
	free(db->slots);
	db->slots = NULL;
	db->nslots = db->used = 0;
	if (db->h)
		sqlite3_close(db->h);
	db->h = NULL;
}

/* Hash of a pointer for the statement cache. */
static size_t db_hash(const char *p, size_t n)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0x9E3779B97F4A7C15u;
	return (size_t)(x >> 7) & (n - 1);
}

/* Insert into the open-addressing table (which has a free slot). */
static void db_slot_put(struct db_slot *slots, size_t n, const char *sql, sqlite3_stmt *st)
{
	size_t i = db_hash(sql, n);
	while (slots[i].sql)
		i = (i + 1) & (n - 1);
	slots[i].sql = sql;
	slots[i].st = st;
}

/* Double the cache table. */
static void db_slots_grow(struct db *db)
{
	size_t n = db->nslots ? db->nslots * 2 : 64;
	struct db_slot *s = calloc(n, sizeof(*s));
	if (!s) {
		log_error("out of memory growing the statement cache");
		abort();
	}
	for (size_t i = 0; i < db->nslots; i++)
		if (db->slots[i].sql)
			db_slot_put(s, n, db->slots[i].sql, db->slots[i].st);
	free(db->slots);
	db->slots = s;
	db->nslots = n;
}

/* Find or prepare the statement for a literal. */
sqlite3_stmt *db_prepare_literal(struct db *db, const char *sql)
{
	if (db->nslots) {
		size_t i = db_hash(sql, db->nslots);
		while (db->slots[i].sql) {
			if (db->slots[i].sql == sql)
				return db->slots[i].st;
			i = (i + 1) & (db->nslots - 1);
		}
	}
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
	if (rc != SQLITE_OK) {
		log_error("prepare failed: %s: %s", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	while (tail && (*tail == ' ' || *tail == '\n' || *tail == '\t' || *tail == ';'))
		tail++;
	if (tail && *tail) {
		log_error("statement has trailing text: %s", sql);
		sqlite3_finalize(st);
		return NULL;
	}
	if ((db->used + 1) * 2 > db->nslots)
		db_slots_grow(db);
	db_slot_put(db->slots, db->nslots, sql, st);
	db->used++;
	return st;
}

/* Make a statement ready for its next use. */
void db_done(sqlite3_stmt *st)
{
	if (st) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
}

/* Step a binding-free statement to completion. */
bool db_exec_literal(struct db *db, const char *sql)
{
	sqlite3_stmt *st = db_prepare_literal(db, sql);
	if (!st)
		return false;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_error("%s: %s", sql, sqlite3_errmsg(db->h));
		return false;
	}
	return true;
}

/* Start a write transaction, noting the caller. */
bool db_begin_write_at(struct db *db, const char *file, int line)
{
	if (!db_exec(db, "BEGIN IMMEDIATE")) {
		log_error("cannot begin write transaction at %s:%d (held since %s:%d)", file, line,
		          db->tx_file ? db->tx_file : "-", db->tx_line);
		return false;
	}
	db->tx_file = file;
	db->tx_line = line;
	return true;
}

/* Start a read transaction. */
bool db_begin_read(struct db *db)
{
	return db_exec(db, "BEGIN");
}

/* Commit; on failure roll back so the connection is usable again. */
bool db_commit(struct db *db)
{
	bool ok = db_exec(db, "COMMIT");
	if (!ok)
		db_rollback(db);
	db->tx_file = NULL;
	db->tx_line = 0;
	return ok;
}

/* Roll back if inside a transaction. */
void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		db_exec(db, "ROLLBACK");
	db->tx_file = NULL;
	db->tx_line = 0;
}

/* Column text, never NULL. */
const char *db_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return t ? (const char *)t : "";
}

/* Bind text copied by SQLite. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s, int len)
{
	if (!s)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, len, SQLITE_TRANSIENT);
}

/* db.h — SQLite access: open with safe pragmas, cached prepared statements, write transactions. */
#ifndef TB_DB_H
#define TB_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

struct db_slot;

/* One connection and its statements, prepared once and reused (one per
 * worker process, or per admin command). */
struct db {
	sqlite3 *h;
	struct db_slot *slots; /* open-addressing cache keyed by the SQL literal's address */
	size_t nslots, used;
	const char *tx_file; /* where the open write transaction began, for diagnostics */
	int tx_line;
};

/* Open (creating if needed) the database at `path`: WAL journal,
 * foreign_keys=ON, the given busy timeout, synchronous=NORMAL. Returns false
 * with an English message in `err` on failure. */
bool db_open(struct db *db, const char *path, int busy_timeout_ms, char *err, size_t errlen);

/* Finalize every cached statement and close the connection. */
void db_close(struct db *db);

/* Return the cached prepared statement for `sql`, preparing it on first use.
 * `sql` must be a string literal: the macro refuses anything else at compile
 * time, which keeps every statement a fixed text with bound parameters.
 * Returns NULL (and logs) when the statement does not compile or has
 * trailing text. Call db_done() when finished with it. */
#define db_prep(db, sql) db_prepare_literal((db), "" sql "")
sqlite3_stmt *db_prepare_literal(struct db *db, const char *sql);

/* Reset a statement from db_prep and clear its bindings (NULL is fine). */
void db_done(sqlite3_stmt *st);

/* BEGIN IMMEDIATE, remembering the caller's file and line. Returns false
 * (and logs) when the write lock cannot be had within the busy timeout. */
#define db_begin_write(db) db_begin_write_at((db), __FILE__, __LINE__)
bool db_begin_write_at(struct db *db, const char *file, int line);
/* BEGIN (deferred) for a consistent multi-statement read. */
bool db_begin_read(struct db *db);
/* COMMIT; false (and the transaction rolled back) on failure. */
bool db_commit(struct db *db);
/* ROLLBACK if a transaction is open. */
void db_rollback(struct db *db);

/* Run one statement that returns no rows; true on SQLITE_DONE. Binds nothing:
 * for fixed statements such as PRAGMAs. */
#define db_exec(db, sql) db_exec_literal((db), "" sql "")
bool db_exec_literal(struct db *db, const char *sql);

/* Column text as a C string, never NULL ("" for NULL). */
const char *db_text(sqlite3_stmt *st, int col);

/* Bind helpers with SQLITE_TRANSIENT semantics where needed; `len` < 0 means strlen. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s, int len);

#endif

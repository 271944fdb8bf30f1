/* migrate.h — numbered SQL migrations applied in order, once each. */
#ifndef TB_MIGRATE_H
#define TB_MIGRATE_H

#include <stddef.h>

#include "db.h"

/* Apply every file NNNN_name.sql in `dir` whose number is not yet recorded in
 * table schema_migration, in ascending order, each in its own BEGIN IMMEDIATE
 * transaction together with its record. Applying twice is a no-op. Returns the
 * number of migrations applied, or -1 with an English message naming the file
 * in `err` (the failing migration leaves no trace; earlier ones stay). */
int migrate_apply(struct db *db, const char *dir, char *err, size_t errlen);

/* Highest applied migration number (0 for a fresh database, -1 on error). */
int migrate_version(struct db *db);

#endif

/* testlib.h — what the cmocka tests share: files of the source tree, the real forms, a temp
 * database. */
#ifndef TB_TESTLIB_H
#define TB_TESTLIB_H

#include <stddef.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/dvs.h"
#include "core/form.h"

/* The whole file at `path` (malloc'd, NUL-terminated, length in *len when len
 * is not NULL); fails the test when it cannot be read. */
char *tl_read_file(const char *path, size_t *len);

/* The same for a path relative to the source tree ($TIANBAO_SRCDIR or "."). */
char *tl_read_src(const char *rel, size_t *len);

/* A finished set of the four real definitions of db/forms (basic, students,
 * staff, facilities); fails the test when they do not load. */
struct form_set *tl_real_forms(void);

/* A migrated database in a fresh temporary directory. */
struct tl_db {
	char dir[64];
	char path[96];
	struct db db;
};

/* Create it (prefix names the directory, e.g. "tb-entry"); fails the test on error. */
void tl_db_open(struct tl_db *t, const char *prefix);

/* Close it and remove its files and directory. */
void tl_db_close(struct tl_db *t);

/* Add period `code` ("2026": named 2026学年) of the four real forms, open from
 * `opens` to `closes`; fails the test when it cannot. */
void tl_period_add(struct db *db, const char *code, long long opens, long long closes);

/* The integer result of a query with one optional text parameter (NULL: none). */
long long tl_int(struct db *db, const char *sql, const char *param);

/* Store the forms `set`, the city 990100, the county 990122 and the school of
 * values_312.json, 3199220003 东岗乡九年一贯制学校 (九年一贯制, ids 1, 2, 3), with
 * its user (login the school's code, password "correct horse"); the user's id. */
long long tl_school_312(struct db *db, const struct form_set *set);

/* The four data value sets of tests/unit/values_312.json (one 九年一贯制 school's
 * figures for 2026), parsed into `a`; fails the test when they do not parse. */
void tl_values_312(struct arena *a, struct dvs_set **sets, size_t *n);

/* The set of `form` among sets[0..n); fails the test when there is none. */
const struct dvs_set *tl_dvs_of(const struct dvs_set *sets, size_t n, const char *form);

/* A form's values in `sets` as a web form posts them: one string per slot of
 * `fs` (yes/no as "1"/"0"), NULL where the set has no value. */
const char **tl_posted(struct arena *a, const struct form_set *fs, const struct dvs_set *sets,
                       size_t n, const char *form);

/* Set the posted value of field `code`; fails the test on an unknown code. */
void tl_put(const struct form_set *fs, const char **raw, const char *code, const char *v);

#endif

/* testlib.c — what the cmocka tests share: files of the source tree, the real forms, a temp
 * database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/migrate.h"
#include "core/period.h"
#include "core/user.h"
#include "tests/unit/testlib.h"

/* Read a whole file. */
char *tl_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* Read a file of the source tree. */
char *tl_read_src(const char *rel, size_t *len)
{
	char path[1024];
	const char *src = getenv("TIANBAO_SRCDIR");
	snprintf(path, sizeof(path), "%s/%s", src ? src : ".", rel);
	return tl_read_file(path, len);
}

/* The four real form definitions, finished. */
struct form_set *tl_real_forms(void)
{
	static const char *const names[] = {"basic", "students", "staff", "facilities"};
	char err[512], rel[64], fname[64];
	struct form_set *set = form_set_new();
	assert_non_null(set);
	for (size_t i = 0; i < 4; i++) {
		size_t len;
		snprintf(rel, sizeof(rel), "db/forms/%s.json", names[i]);
		snprintf(fname, sizeof(fname), "%s.json", names[i]);
		char *text = tl_read_src(rel, &len);
		if (!form_set_add_json(set, text, len, fname, err, sizeof(err)))
			fail_msg("%s", err);
		free(text);
	}
	if (!form_set_finish(set, err, sizeof(err)))
		fail_msg("%s", err);
	return set;
}

/* A migrated database in a new temporary directory. */
void tl_db_open(struct tl_db *t, const char *prefix)
{
	char err[512], mig[1024];
	snprintf(t->dir, sizeof(t->dir), "/tmp/%s-XXXXXX", prefix);
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/test.db", t->dir);
	assert_true(db_open(&t->db, t->path, 1000, err, sizeof(err)));
	const char *src = getenv("TIANBAO_SRCDIR");
	snprintf(mig, sizeof(mig), "%s/db/migrations", src ? src : ".");
	if (migrate_apply(&t->db, mig, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* Close and remove the database. */
void tl_db_close(struct tl_db *t)
{
	char path[128];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	db_close(&t->db);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", t->path, suffix[i]);
		unlink(path);
	}
	rmdir(t->dir);
}

/* One integer from a query. */
long long tl_int(struct db *db, const char *sql, const char *param)
{
	sqlite3_stmt *st = NULL;
	/* tests may run any SQL text: prepared directly, not through the literal-only cache */
	assert_int_equal(sqlite3_prepare_v2(db->h, sql, -1, &st, NULL), SQLITE_OK);
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

/* Add a period of the four forms. */
void tl_period_add(struct db *db, const char *code, long long opens, long long closes)
{
	static const char *forms[] = {"basic", "students", "staff", "facilities"};
	char name[32], err[256];
	snprintf(name, sizeof(name), "%s学年", code);
	struct period p = {.code = code,
	                   .name = name,
	                   .opens_at = opens,
	                   .closes_at = closes,
	                   .forms = forms,
	                   .nforms = 4};
	if (period_add(db, &p, "test", err, sizeof(err)) <= 0)
		fail_msg("period add %s: %s", code, err);
}

/* The one-school world of the entry and sync tests. */
long long tl_school_312(struct db *db, const struct form_set *set)
{
	char err[512];
	if (!form_store(db, set, "test", err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(db_exec(db, "INSERT INTO org_unit(id, code, name, kind) VALUES"
	                        " (1, '990100', '示范市', 'city')"));
	assert_true(db_exec(db, "INSERT INTO org_unit(id, code, name, kind, parent_id) VALUES"
	                        " (2, '990122', '白水县', 'county', 1)"));
	assert_true(db_exec(db, "INSERT INTO org_unit(id, code, name, kind, parent_id,"
	                        " school_type, ownership, urban_rural) VALUES"
	                        " (3, '3199220003', '东岗乡九年一贯制学校', 'school', 2, '312',"
	                        " 'public', '220')"));
	struct user u = {.login = "3199220003",
	                 .display_name = "东岗乡学校",
	                 .role = "school",
	                 .org_code = "3199220003"};
	long long id = user_create(db, &u, "correct horse", "test", err, sizeof(err));
	if (!id)
		fail_msg("%s", err);
	return id;
}

/* Parse the fixture of one school's four forms. */
void tl_values_312(struct arena *a, struct dvs_set **sets, size_t *n)
{
	char err[512];
	size_t len;
	char *json = tl_read_src("tests/unit/values_312.json", &len);
	if (!dvs_parse(a, json, len, sets, n, err, sizeof(err)))
		fail_msg("%s", err);
	free(json);
	assert_int_equal(*n, 4);
}

/* Find a form's set. */
const struct dvs_set *tl_dvs_of(const struct dvs_set *sets, size_t n, const char *form)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(sets[i].data_set, form) == 0)
			return &sets[i];
	fail_msg("no set for %s", form);
	return NULL;
}

/* A form's values as posted. */
const char **tl_posted(struct arena *a, const struct form_set *fs, const struct dvs_set *sets,
                       size_t n, const char *form)
{
	const char **raw = arena_alloc(a, form_nslots(fs) * sizeof(*raw));
	const struct dvs_set *s = tl_dvs_of(sets, n, form);
	for (size_t k = 0; k < s->nvalues; k++) {
		const struct form_field *fd = form_field_find(fs, s->values[k].element);
		assert_non_null(fd);
		const char *v = s->values[k].value;
		if (fd->type == FT_YESNO)
			v = strcmp(v, "true") == 0 ? "1" : "0";
		raw[fd->slot] = v;
	}
	return raw;
}

/* Set one posted value. */
void tl_put(const struct form_set *fs, const char **raw, const char *code, const char *v)
{
	const struct form_field *fd = form_field_find(fs, code);
	if (!fd)
		fail_msg("no field %s", code);
	raw[fd->slot] = v;
}

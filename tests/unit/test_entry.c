/* test_entry.c — a school's forms in the database: save, history, conflicts, submit, recount,
 * import. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/dvs.h"
#include "core/entry.h"
#include "core/user.h"
#include "tests/unit/testlib.h"

#define SCHOOL "3199220003" /* a 九年一贯制学校 (pri, jun): values in values_312.json */
#define NOW 1800000000LL    /* inside period 2026's window below */

struct fixture {
	struct tl_db t;
	struct arena a;
	struct form_set *set;
	struct org_unit school;
	struct period p26;
	long long user_id;
	struct dvs_set *sets; /* values_312.json: basic, students, staff, facilities of SCHOOL */
	size_t nsets;
};

/* A database with the forms, a county with SCHOOL, its user, and periods 2025
 * (closed) and 2026 (open at NOW). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tl_db_open(&f->t, "tb-entry");
	arena_init(&f->a, 0);
	f->set = tl_real_forms();
	f->user_id = tl_school_312(&f->t.db, f->set);
	assert_int_equal(ou_get_by_code(&f->t.db, &f->a, SCHOOL, &f->school), 1);
	tl_period_add(&f->t.db, "2025", NOW - 400 * 86400, NOW - 350 * 86400);
	tl_period_add(&f->t.db, "2026", NOW - 86400, NOW + 86400);
	assert_int_equal(period_get(&f->t.db, &f->a, "2026", &f->p26), 1);
	tl_values_312(&f->a, &f->sets, &f->nsets);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	form_set_free(f->set);
	arena_free(&f->a);
	tl_db_close(&f->t);
	free(f);
	return 0;
}

/* The data value set of a form in the fixture file. */
static const struct dvs_set *dvs_of(struct fixture *f, const char *form)
{
	return tl_dvs_of(f->sets, f->nsets, form);
}

/* The fixture's value of a field. */
static const char *fixture_value(struct fixture *f, const char *form, const char *code)
{
	const struct dvs_set *s = dvs_of(f, form);
	for (size_t k = 0; k < s->nvalues; k++)
		if (strcmp(s->values[k].element, code) == 0)
			return s->values[k].value;
	fail_msg("no value of %s in %s", code, form);
	return NULL;
}

/* Posted values of a form: the fixture's, as a web form sends them. */
static const char **posted(struct fixture *f, const char *form)
{
	return tl_posted(&f->a, f->set, f->sets, f->nsets, form);
}

/* Set one posted value. */
static void put(struct fixture *f, const char **raw, const char *code, const char *v)
{
	tl_put(f->set, raw, code, v);
}

/* Open the entry of SCHOOL in 2026 and find a form in it. */
static int open_entry(struct fixture *f, struct entry *e, const char *form)
{
	assert_int_equal(entry_open(&f->t.db, &f->a, f->set, &f->p26, &f->school, e), 0);
	int i = entry_form(e, form);
	assert_true(i >= 0);
	return i;
}

/* Save (or submit) a form as the school's user at `now` based on `version`. */
static enum entry_result save(struct fixture *f, struct entry *e, int i, const char **raw,
                              long long version, bool submit, long long now, int *changed)
{
	struct entry_save s = {.raw = raw,
	                       .version = version,
	                       .submit = submit,
	                       .user_id = f->user_id,
	                       .actor = SCHOOL,
	                       .now = now};
	struct validate_out out;
	return entry_save(&f->t.db, &f->a, e, i, &s, &out, changed);
}

/* Count rows of a table for the submission of a form. */
static long long rows(struct fixture *f, const char *sql, const char *form)
{
	return tl_int(&f->t.db, sql, form);
}

/* A draft keeps what was typed; each change is one history row; the version
 * grows only when something changed; every save has its audit row. */
static void test_save_history(void **state)
{
	struct fixture *f = *state;
	struct entry e;
	int i = open_entry(f, &e, "staff");
	assert_int_equal(e.subs[i].state, WS_NONE);
	const char **raw = posted(f, "staff");
	put(f, raw, "pri_teachers", "２0");
	put(f, raw, "jun_teachers", "2６a");
	int changed;
	assert_int_equal(save(f, &e, i, raw, 0, false, NOW, &changed), ER_SAVED);
	int nstaff = (int)dvs_of(f, "staff")->nvalues;
	assert_int_equal(changed, nstaff);
	assert_int_equal(e.subs[i].state, WS_DRAFT);
	assert_int_equal(e.subs[i].version, 1);
	assert_int_equal(e.subs[i].errors, 1);
	assert_int_equal(rows(f,
	                      "SELECT count(*) FROM value WHERE field_code = 'pri_teachers'"
	                      " AND raw = '２0' AND norm = '20'",
	                      NULL),
	                 1);
	assert_int_equal(rows(f,
	                      "SELECT count(*) FROM value WHERE field_code = 'jun_teachers'"
	                      " AND raw = '2６a' AND norm IS NULL",
	                      NULL),
	                 1);
	assert_int_equal(rows(f, "SELECT count(*) FROM value_history", NULL), nstaff);
	assert_int_equal(
	    rows(f, "SELECT count(*) FROM audit WHERE action = 'submission.save'", NULL), 1);
	/* the same values again: nothing to write, same version */
	assert_int_equal(save(f, &e, i, raw, 1, false, NOW, &changed), ER_SAVED);
	assert_int_equal(changed, 0);
	assert_int_equal(e.subs[i].version, 1);
	/* one change: one history row with old and new, version 2 */
	put(f, raw, "jun_teachers", "26");
	assert_int_equal(save(f, &e, i, raw, 1, false, NOW + 60, &changed), ER_SAVED);
	assert_int_equal(changed, 1);
	assert_int_equal(e.subs[i].version, 2);
	assert_int_equal(e.subs[i].errors, 0);
	struct entry_change *h;
	size_t n;
	assert_int_equal(entry_history(&f->t.db, &f->a, e.subs[i].id, "jun_teachers", 10, &h, &n),
	                 0);
	assert_int_equal(n, 2);
	assert_string_equal(h[0].old_raw, "2６a");
	assert_string_equal(h[0].new_raw, "26");
	assert_int_equal(h[0].version, 2);
	assert_string_equal(h[0].who, "东岗乡学校");
	assert_null(h[1].old_raw);
	/* clearing a value deletes it and records the change */
	put(f, raw, "staff_total", "  ");
	assert_int_equal(save(f, &e, i, raw, 2, false, NOW + 120, &changed), ER_SAVED);
	assert_int_equal(
	    rows(f, "SELECT count(*) FROM value WHERE field_code = 'staff_total'", NULL), 0);
	assert_int_equal(rows(f,
	                      "SELECT count(*) FROM value_history WHERE field_code ="
	                      " 'staff_total' AND new_raw IS NULL",
	                      NULL),
	                 1);
	/* a form never started to which nothing is given stays 未填写 */
	int b = entry_form(&e, "basic");
	size_t ns = form_nslots(f->set);
	const char **empty = arena_alloc(&f->a, ns * sizeof(*empty));
	assert_int_equal(save(f, &e, b, empty, 0, false, NOW, &changed), ER_SAVED);
	assert_int_equal(e.subs[b].id, 0);
}

/* A stale version, a closed window and a submitted form write nothing. */
static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct entry e;
	int i = open_entry(f, &e, "basic");
	const char **raw = posted(f, "basic");
	int changed;
	assert_int_equal(save(f, &e, i, raw, 0, false, NOW, &changed), ER_SAVED);
	long long history = rows(f, "SELECT count(*) FROM value_history", NULL);
	/* another tab still at version 0 */
	const char **other = posted(f, "basic");
	put(f, other, "principal_name", "李四");
	assert_int_equal(save(f, &e, i, other, 0, false, NOW, &changed), ER_CONFLICT);
	assert_int_equal(e.subs[i].version, 1);
	assert_int_equal(rows(f, "SELECT count(*) FROM value WHERE raw = '李四'", NULL), 0);
	/* outside the window */
	assert_int_equal(save(f, &e, i, other, 1, false, NOW + 2 * 86400, &changed), ER_CLOSED);
	assert_int_equal(save(f, &e, i, other, 1, false, NOW - 2 * 86400, &changed), ER_CLOSED);
	assert_int_equal(rows(f, "SELECT count(*) FROM value_history", NULL), history);
	/* submitted: read-only */
	assert_int_equal(save(f, &e, i, raw, 1, true, NOW, &changed), ER_SUBMITTED);
	assert_int_equal(e.subs[i].state, WS_SUBMITTED);
	assert_int_equal(rows(f,
	                      "SELECT count(*) FROM submission WHERE state = 'submitted'"
	                      " AND submitted_at IS NOT NULL",
	                      NULL),
	                 1);
	assert_int_equal(
	    rows(f, "SELECT count(*) FROM audit WHERE action = 'submission.submit'", NULL), 1);
	assert_int_equal(save(f, &e, i, other, 1, false, NOW, &changed), ER_READONLY);
	assert_int_equal(save(f, &e, i, raw, 1, true, NOW, &changed), ER_READONLY);
	assert_int_equal(rows(f, "SELECT count(*) FROM value WHERE raw = '李四'", NULL), 0);
}

/* Submission is blocked by an empty required field, an error and an unexplained
 * warning, and succeeds once each is dealt with. */
static void test_submit_blocked(void **state)
{
	struct fixture *f = *state;
	struct entry e;
	int i = open_entry(f, &e, "staff");
	const char **raw = posted(f, "staff");
	put(f, raw, "pri_t_backbone", NULL);
	int changed;
	assert_int_equal(save(f, &e, i, raw, 0, true, NOW, &changed), ER_BLOCKED);
	assert_int_equal(e.subs[i].state, WS_DRAFT);
	put(f, raw, "pri_t_backbone", "2");
	put(f, raw, "pri_t_edu_bach", "1000"); /* qualifications no longer sum up: an error */
	assert_int_equal(save(f, &e, i, raw, 1, true, NOW, &changed), ER_BLOCKED);
	put(f, raw, "pri_t_edu_bach", fixture_value(f, "staff", "pri_t_edu_bach"));
	put(f, raw, "pri_t_certified", "1"); /* a warning that needs a 说明 */
	assert_int_equal(save(f, &e, i, raw, 2, true, NOW, &changed), ER_BLOCKED);
	assert_int_equal(e.subs[i].unexplained, 1);
	/* a 说明 for a code no warning of the form can have is not kept */
	struct validate_expl x[2] = {{"all_teachers_certified:pri", "新教师正在认定资格。"},
	                             {"made_up:pri", "随便写的。"}};
	struct entry_save s = {.raw = raw,
	                       .expl = x,
	                       .nexpl = 2,
	                       .version = 3,
	                       .submit = true,
	                       .user_id = f->user_id,
	                       .actor = SCHOOL,
	                       .now = NOW};
	struct validate_out out;
	assert_int_equal(entry_save(&f->t.db, &f->a, &e, i, &s, &out, &changed), ER_SUBMITTED);
	assert_int_equal(e.subs[i].version, 4); /* the 说明 is a change of its own */
	assert_int_equal(rows(f,
	                      "SELECT count(*) FROM explanation WHERE rule_code ="
	                      " 'all_teachers_certified:pri'",
	                      NULL),
	                 1);
	assert_int_equal(rows(f, "SELECT count(*) FROM explanation", NULL), 1);
}

/* A long text is kept whole (and refused as too long by validation), never cut. */
static void test_long_text_kept(void **state)
{
	struct fixture *f = *state;
	struct entry e;
	int i = open_entry(f, &e, "basic");
	const char **raw = posted(f, "basic");
	char *long_name = arena_alloc(&f->a, 1500 * 3 + 1); /* 1500 characters of 3 bytes */
	for (int k = 0; k < 1500; k++)
		memcpy(long_name + 3 * k, "校", 3);
	put(f, raw, "principal_name", long_name);
	int changed;
	assert_int_equal(save(f, &e, i, raw, 0, false, NOW, &changed), ER_SAVED);
	assert_int_equal(rows(f,
	                      "SELECT length(CAST(raw AS BLOB)) FROM value WHERE field_code ="
	                      " 'principal_name'",
	                      NULL),
	                 1500 * 3);
	assert_true(e.subs[i].errors > 0);
}

/* Rules read across forms: saving facilities recounts the students form. */
static void test_recount_across_forms(void **state)
{
	struct fixture *f = *state;
	struct entry e;
	int st = open_entry(f, &e, "students");
	int changed;
	assert_int_equal(save(f, &e, st, posted(f, "students"), 0, false, NOW, &changed), ER_SAVED);
	int fa = entry_form(&e, "facilities");
	const char **fac = posted(f, "facilities");
	put(f, fac, "dorm_beds", "10"); /* far fewer beds than boarders */
	assert_int_equal(save(f, &e, fa, fac, 0, false, NOW, &changed), ER_SAVED);
	assert_int_equal(e.subs[st].warnings, 1);
	assert_int_equal(
	    rows(f, "SELECT warnings FROM submission WHERE form_code = ?1", "students"), 1);
	put(f, fac, "dorm_beds", "2000");
	assert_int_equal(save(f, &e, fa, fac, 1, false, NOW, &changed), ER_SAVED);
	assert_int_equal(
	    rows(f, "SELECT warnings FROM submission WHERE form_code = ?1", "students"), 0);
}

/* Import: problems are all reported and nothing is stored; then last year's
 * approved figures come in, show as the previous period and feed the change
 * warnings; a submitted submission is not overwritten. */
static void test_import(void **state)
{
	struct fixture *f = *state;
	char *buf = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&buf, &len);
	/* broken: one bad value, one unknown element, one unknown school */
	struct dvs_set bad[3];
	memcpy(bad, f->sets, 3 * sizeof(*bad));
	struct dvs_value *vals = arena_alloc(&f->a, bad[0].nvalues * sizeof(*vals));
	memcpy(vals, bad[0].values, bad[0].nvalues * sizeof(*vals));
	vals[1].value = "19a5";
	vals[2].element = "no_such_field";
	bad[0].values = vals;
	bad[1].org_unit = "3199229999";
	assert_int_equal(
	    dvs_import(&f->t.db, f->set, bad, 3, WS_DRAFT, "admin-cli", "x.json", errs), -1);
	fclose(errs);
	assert_non_null(strstr(buf,
	                       "x.json: set 1 (orgUnit 3199220003, dataSet basic, period 2026): "
	                       "dataElement principal_birth_year: value '19a5' is not a number"));
	assert_non_null(strstr(buf, "dataElement no_such_field is not a field of form basic"));
	assert_non_null(strstr(buf, "set 2 (orgUnit 3199229999"));
	assert_non_null(strstr(buf, "nothing was imported"));
	free(buf);
	assert_int_equal(rows(f, "SELECT count(*) FROM submission", NULL), 0);
	/* 2025 approved, from the same figures */
	struct dvs_set *last = arena_alloc(&f->a, f->nsets * sizeof(*last));
	memcpy(last, f->sets, f->nsets * sizeof(*last));
	for (size_t k = 0; k < f->nsets; k++)
		last[k].period = "2025";
	errs = open_memstream(&buf, &len);
	assert_int_equal(dvs_import(&f->t.db, f->set, last, f->nsets, WS_APPROVED, "admin-cli",
	                            "last.json", errs),
	                 4);
	fclose(errs);
	free(buf);
	assert_int_equal(rows(f, "SELECT count(*) FROM submission WHERE state = 'approved'", NULL),
	                 4);
	/* 2026 sees them as last period's; a 40 % jump is a change warning */
	struct entry e;
	int i = open_entry(f, &e, "students");
	assert_true(e.has_prev);
	assert_string_equal(e.prev_period.code, "2025");
	const char **raw = posted(f, "students");
	const struct form_field *ps = form_field_find(f->set, "pri_students");
	char *more = arena_printf(&f->a, "%.0f", e.prev.num[ps->slot] * 1.4);
	put(f, raw, "pri_students", more);
	put(f, raw, "pri_boarders", "0");
	int changed;
	struct entry_save s = {
	    .raw = raw, .version = 0, .user_id = f->user_id, .actor = SCHOOL, .now = NOW};
	struct validate_out out;
	assert_int_equal(entry_save(&f->t.db, &f->a, &e, i, &s, &out, &changed), ER_SAVED);
	bool found = false;
	for (size_t k = 0; k < out.nissues; k++)
		found = found || strcmp(out.issues[k].code, "chg:pri_students") == 0;
	assert_true(found);
	/* submitted by import; a second import of it is refused */
	errs = open_memstream(&buf, &len);
	assert_int_equal(
	    dvs_import(&f->t.db, f->set, f->sets, 1, WS_SUBMITTED, "admin-cli", "b.json", errs), 1);
	fclose(errs);
	free(buf);
	errs = open_memstream(&buf, &len);
	assert_int_equal(
	    dvs_import(&f->t.db, f->set, f->sets, 1, WS_DRAFT, "admin-cli", "b.json", errs), -1);
	fclose(errs);
	assert_non_null(strstr(buf, "the submission is submitted and cannot be overwritten"));
	free(buf);
	/* the same set twice in one file */
	errs = open_memstream(&buf, &len);
	struct dvs_set twice[2] = {f->sets[2], f->sets[2]};
	assert_int_equal(
	    dvs_import(&f->t.db, f->set, twice, 2, WS_DRAFT, "admin-cli", "t.json", errs), -1);
	fclose(errs);
	assert_non_null(strstr(buf, "the same school, form and period as set 1"));
	free(buf);
}

/* Documents that are not data value sets are refused with a message. */
static void test_parse(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *json, *want;
	} bad[] = {
	    {"[1, 2]", "expected an object"},
	    {"{\"dataValueSets\": {}}", "expected an object"},
	    {"{\"dataSet\": \"basic\"}", "set 1: \"period\" must be a string"},
	    {"{\"dataValueSets\": [{\"dataSet\": \"basic\", \"period\": \"2026\", \"orgUnit\":"
	     " \"3199220003\", \"dataValues\": [{\"dataElement\": \"boarding\", \"value\": {}}]}]}",
	     "must be a string, number or boolean"},
	    {"{\"dataSet\": \"basic\", \"period\": \"2026\", \"orgUnit\": \"x\", \"dataValues\":"
	     " [{\"dataElement\": \"a\", \"value\": \"1\", \"period\": \"2025\"}]}",
	     "must be the set's"},
	    {"{\"a\": 1, \"a\": 2}", "duplicate"},
	    {"{not json", "line 1"},
	};
	struct dvs_set *sets;
	size_t n;
	char err[512];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (dvs_parse(&f->a, bad[i].json, strlen(bad[i].json), &sets, &n, err, sizeof(err)))
			fail_msg("accepted: %s", bad[i].json);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: '%s' lacks '%s'", bad[i].json, err, bad[i].want);
	}
	/* numbers and booleans are taken as text */
	const char *ok = "{\"dataSet\": \"basic\", \"period\": \"2026\", \"orgUnit\": \"x\","
	                 " \"dataValues\": [{\"dataElement\": \"a\", \"value\": 12},"
	                 " {\"dataElement\": \"b\", \"value\": true}, {\"dataElement\": \"c\","
	                 " \"value\": 1.5, \"comment\": \"说明\"}]}";
	assert_true(dvs_parse(&f->a, ok, strlen(ok), &sets, &n, err, sizeof(err)));
	assert_int_equal(n, 1);
	assert_string_equal(sets[0].values[0].value, "12");
	assert_string_equal(sets[0].values[1].value, "true");
	assert_string_equal(sets[0].values[2].value, "1.5");
	assert_string_equal(sets[0].values[2].comment, "说明");
}

/* Saves kept across an expired session: one user's, in order, dropped after a week. */
static void test_pending(void **state)
{
	struct fixture *f = *state;
	long long id;
	const char *path, *body;
	assert_int_equal(entry_pending_next(&f->t.db, &f->a, f->user_id, NOW, &id, &path, &body),
	                 0);
	assert_true(entry_pending_add(&f->t.db, f->user_id, "/schools/x/2026/basic", "v.a=1", NOW));
	assert_true(
	    entry_pending_add(&f->t.db, f->user_id, "/schools/x/2026/staff", "v.b=2", NOW + 1));
	assert_int_equal(entry_pending_next(&f->t.db, &f->a, f->user_id, NOW, &id, &path, &body),
	                 1);
	assert_string_equal(path, "/schools/x/2026/basic");
	assert_string_equal(body, "v.a=1");
	assert_int_equal(entry_pending_get(&f->t.db, &f->a, f->user_id + 1, id, &path, &body), 0);
	assert_true(entry_pending_drop(&f->t.db, f->user_id, id));
	assert_int_equal(entry_pending_next(&f->t.db, &f->a, f->user_id, NOW, &id, &path, &body),
	                 1);
	assert_string_equal(path, "/schools/x/2026/staff");
	/* a week later it is gone, with an audit row */
	assert_int_equal(entry_pending_next(&f->t.db, &f->a, f->user_id,
	                                    NOW + ENTRY_PENDING_MAX_AGE + 2, &id, &path, &body),
	                 0);
	assert_int_equal(rows(f, "SELECT count(*) FROM pending_post", NULL), 0);
	assert_int_equal(
	    rows(f, "SELECT count(*) FROM audit WHERE action = 'pending.expire'", NULL), 1);
}

/* A kept save of a form never started, with nothing typed, is applied (the form stays
 * 未填写) and dropped, so it does not come back at the next login. */
static void test_pending_untouched(void **state)
{
	struct fixture *f = *state;
	assert_true(entry_pending_add(&f->t.db, f->user_id, "/schools/3199220003/2026/basic",
	                              "v.principal_name=", NOW));
	long long id;
	const char *path, *body;
	assert_int_equal(entry_pending_next(&f->t.db, &f->a, f->user_id, NOW, &id, &path, &body),
	                 1);
	struct entry e;
	int i = open_entry(f, &e, "basic");
	const char **raw = arena_alloc(&f->a, form_nslots(f->set) * sizeof(*raw));
	struct entry_save s = {.raw = raw,
	                       .version = 0,
	                       .pending_id = id,
	                       .user_id = f->user_id,
	                       .actor = SCHOOL,
	                       .now = NOW};
	struct validate_out out;
	int changed;
	assert_int_equal(entry_save(&f->t.db, &f->a, &e, i, &s, &out, &changed), ER_SAVED);
	assert_int_equal(e.subs[i].state, WS_NONE);
	assert_int_equal(rows(f, "SELECT count(*) FROM submission", NULL), 0);
	assert_int_equal(rows(f, "SELECT count(*) FROM pending_post", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_save_history, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_submit_blocked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_recount_across_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pending_untouched, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_long_text_kept, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

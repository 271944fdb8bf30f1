/* test_review.c — reviewers' decisions in the database: approve (with the outbox row and its
 * payload), return with reason and comments, reopen, two approval levels, what a return leaves
 * for the school, notices, the overview of a scope and the export of a form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/buf.h"
#include "core/dvs.h"
#include "core/entry.h"
#include "core/export.h"
#include "core/notice.h"
#include "core/overview.h"
#include "core/review.h"
#include "core/user.h"
#include "core/workflow.h"
#include "tests/unit/testlib.h"

#define SCHOOL "3199220003" /* 白水县 (990122): a 九年一贯制学校 (pri, jun), values_312.json */
#define SCHOOL2 "2199210001" /* 青山县 (990121): a 小学 */
#define NOW 1800000000LL     /* 2027-01-15 16:00 in China, inside period 2026's window */
#define LATE (NOW + 30600)   /* 2027-01-15 16:30 UTC = 2027-01-16 00:30 in China */

/* org unit ids of the fixture */
#define CITY_ID 1
#define COUNTY_ID 2 /* 990122 */
#define SCHOOL_ID 3
#define COUNTY2_ID 4 /* 990121 */
#define SCHOOL2_ID 5

struct fixture {
	struct tl_db t;
	struct arena a;
	struct form_set *set;
	struct org_unit school, school2;
	struct period p26;
	struct user u_school, u_school2; /* the schools' users */
	struct user rev;                 /* rev-990122: reviewer of the school's county */
	struct user rev21;               /* rev-990121: reviewer of the other county */
	struct user city;                /* rev-city: reviewer at the city */
	struct user admin;
	struct dvs_set *sets; /* values_312.json: basic, students, staff, facilities of SCHOOL */
	size_t nsets;
};

/* The database every test starts from, built once (hashing six passwords takes a while):
 * each test works on its own copy. */
static struct tl_db template_db;

/* Create a user in the template. */
static void add_user(struct db *db, const char *login, const char *name, const char *role,
                     const char *org)
{
	char err[512];
	struct user u = {.login = login, .display_name = name, .role = role, .org_code = org};
	if (!user_create(db, &u, "correct horse", "test", err, sizeof(err)))
		fail_msg("%s: %s", login, err);
}

/* The template: the forms; the city 990100 with the county 990122 (SCHOOL) and the county
 * 990121 (SCHOOL2); the schools' users, both counties' reviewers, a city reviewer and the
 * admin; period 2026 open at NOW. */
static int group_setup(void **state)
{
	(void)state;
	char err[512];
	struct tl_db *t = &template_db;
	tl_db_open(t, "tb-review-tpl");
	struct form_set *set = tl_real_forms();
	if (!form_store(&t->db, set, "test", err, sizeof(err)))
		fail_msg("%s", err);
	form_set_free(set);
	assert_true(db_exec(&t->db, "INSERT INTO org_unit(id, code, name, kind) VALUES"
	                            " (1, '990100', '示范市', 'city')"));
	assert_true(db_exec(&t->db, "INSERT INTO org_unit(id, code, name, kind, parent_id) VALUES"
	                            " (2, '990122', '白水县', 'county', 1)"));
	assert_true(db_exec(&t->db, "INSERT INTO org_unit(id, code, name, kind, parent_id,"
	                            " school_type, ownership, urban_rural) VALUES"
	                            " (3, '3199220003', '东岗乡九年一贯制学校', 'school', 2, '312',"
	                            " 'public', '220')"));
	assert_true(db_exec(&t->db, "INSERT INTO org_unit(id, code, name, kind, parent_id) VALUES"
	                            " (4, '990121', '青山县', 'county', 1)"));
	assert_true(db_exec(&t->db, "INSERT INTO org_unit(id, code, name, kind, parent_id,"
	                            " school_type, ownership, urban_rural) VALUES"
	                            " (5, '2199210001', '青山县实验小学', 'school', 4, '211',"
	                            " 'public', '121')"));
	add_user(&t->db, SCHOOL, "东岗乡学校", "school", SCHOOL);
	add_user(&t->db, SCHOOL2, "青山实小", "school", SCHOOL2);
	add_user(&t->db, "rev-990122", "白水县审核员", "reviewer", "990122");
	add_user(&t->db, "rev-990121", "青山县审核员", "reviewer", "990121");
	add_user(&t->db, "rev-city", "市级审核员", "reviewer", "990100");
	add_user(&t->db, "admin", "市管理员", "admin", "990100");
	tl_period_add(&t->db, "2026", NOW - 86400, NOW + 86400);
	db_close(&t->db); /* the file stays, for the copies */
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	char path[128];
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", template_db.path, suffix[i]);
		unlink(path);
	}
	rmdir(template_db.dir);
	return 0;
}

/* Load a user of the fixture. */
static void load_user(struct fixture *f, const char *login, struct user *out)
{
	assert_int_equal(user_get_by_login(&f->t.db, &f->a, login, out, NULL, 0), 1);
}

/* A copy of the template, its units, users and period, and the fixture's values. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];
	snprintf(f->t.dir, sizeof(f->t.dir), "/tmp/tb-review-XXXXXX");
	assert_non_null(mkdtemp(f->t.dir));
	snprintf(f->t.path, sizeof(f->t.path), "%s/test.db", f->t.dir);
	size_t len;
	char *bytes = tl_read_file(template_db.path, &len);
	FILE *out = fopen(f->t.path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(bytes, 1, len, out), len);
	assert_int_equal(fclose(out), 0);
	free(bytes);
	assert_true(db_open(&f->t.db, f->t.path, 1000, err, sizeof(err)));
	arena_init(&f->a, 0);
	f->set = tl_real_forms();
	assert_int_equal(ou_get_by_code(&f->t.db, &f->a, SCHOOL, &f->school), 1);
	assert_int_equal(ou_get_by_code(&f->t.db, &f->a, SCHOOL2, &f->school2), 1);
	load_user(f, SCHOOL, &f->u_school);
	load_user(f, SCHOOL2, &f->u_school2);
	load_user(f, "rev-990122", &f->rev);
	load_user(f, "rev-990121", &f->rev21);
	load_user(f, "rev-city", &f->city);
	load_user(f, "admin", &f->admin);
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

/* ---- helpers ---- */

/* The data value set of a form in the fixture file. */
static const struct dvs_set *dvs_of(struct fixture *f, const char *form)
{
	return tl_dvs_of(f->sets, f->nsets, form);
}

/* Import SCHOOL's four forms as submitted (quietly, as the admin's command does); the
 * fixture's basic set is changed to have campus_network "false" so that both yes/no values
 * appear. */
static void submit_all(struct fixture *f)
{
	struct dvs_set *sets = arena_alloc(&f->a, f->nsets * sizeof(*sets));
	memcpy(sets, f->sets, f->nsets * sizeof(*sets));
	for (size_t i = 0; i < f->nsets; i++) {
		if (strcmp(sets[i].data_set, "basic") != 0)
			continue;
		struct dvs_value *v = arena_alloc(&f->a, sets[i].nvalues * sizeof(*v));
		memcpy(v, sets[i].values, sets[i].nvalues * sizeof(*v));
		for (size_t k = 0; k < sets[i].nvalues; k++)
			if (strcmp(v[k].element, "campus_network") == 0)
				v[k].value = "false";
		sets[i].values = v;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&buf, &len);
	long n =
	    dvs_import(&f->t.db, f->set, sets, f->nsets, WS_SUBMITTED, "admin-cli", "v.json", errs);
	fclose(errs);
	if (n != (long)f->nsets)
		fail_msg("import: %s", buf);
	free(buf);
}

/* Posted values of a form: the fixture's, as a web form sends them. */
static const char **posted(struct fixture *f, const char *form)
{
	return tl_posted(&f->a, f->set, f->sets, f->nsets, form);
}

/* No posted values at all. */
static const char **empty_posted(struct fixture *f)
{
	return arena_alloc(&f->a, form_nslots(f->set) * sizeof(const char *));
}

/* Set one posted value. */
static void put(struct fixture *f, const char **raw, const char *code, const char *v)
{
	tl_put(f->set, raw, code, v);
}

/* Open the entry of a school in 2026 and find a form in it. */
static int open_entry(struct fixture *f, const struct org_unit *school, struct entry *e,
                      const char *form)
{
	assert_int_equal(entry_open(&f->t.db, &f->a, f->set, &f->p26, school, e), 0);
	int i = entry_form(e, form);
	assert_true(i >= 0);
	return i;
}

/* Save (or submit) a form as the school's user, based on the stored version. */
static enum entry_result school_save(struct fixture *f, const struct org_unit *school,
                                     const char *form, const char **raw,
                                     const struct validate_expl *expl, size_t nexpl, bool submit,
                                     long long now)
{
	const struct user *u = school == &f->school ? &f->u_school : &f->u_school2;
	struct entry e;
	int i = open_entry(f, school, &e, form);
	struct entry_save s = {.raw = raw,
	                       .expl = expl,
	                       .nexpl = nexpl,
	                       .version = e.subs[i].version,
	                       .submit = submit,
	                       .user_id = u->id,
	                       .actor = u->login,
	                       .now = now};
	struct validate_out out;
	int changed;
	return entry_save(&f->t.db, &f->a, &e, i, &s, &out, &changed);
}

/* The state of SCHOOL's form as stored. */
static enum wf_state state_of(struct fixture *f, const char *form)
{
	struct entry e;
	int i = open_entry(f, &f->school, &e, form);
	return e.subs[i].state;
}

/* SCHOOL's submission of a form: its version and id. */
static long long version_of(struct fixture *f, const char *form)
{
	return tl_int(&f->t.db,
	              "SELECT version FROM submission WHERE school_id = 3 AND form_code = ?1",
	              form);
}

static long long sub_id_of(struct fixture *f, const char *form)
{
	return tl_int(&f->t.db, "SELECT id FROM submission WHERE school_id = 3 AND form_code = ?1",
	              form);
}

/* The text result of a query with one optional text parameter (arena copy, NULL: no row). */
static const char *text_of(struct fixture *f, const char *sql, const char *param)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->t.db.h, sql, -1, &st, NULL), SQLITE_OK);
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	const char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = arena_strdup(&f->a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* The code of an action, for messages. */
static const char *action_code(enum wf_action action)
{
	static const char *const codes[] = {"submit", "approve", "return", "reopen"};
	return (unsigned)action < 4 ? codes[action] : "?";
}

/* Take a decision on SCHOOL's (or another school's) form in 2026. */
static enum wf_state decide_on(struct fixture *f, const char *school, const char *period,
                               const char *form, const struct user *actor, enum wf_action action,
                               long long version, const char *reason,
                               const struct review_comment *comments, size_t ncomments, int levels,
                               long long now, bool *notfound, char *err, size_t errlen)
{
	struct review_decision d = {.school_code = school,
	                            .period_code = period,
	                            .form_code = form,
	                            .action = action,
	                            .version = version,
	                            .reason = reason,
	                            .comments = comments,
	                            .ncomments = ncomments,
	                            .actor = actor,
	                            .levels = levels,
	                            .now = now};
	err[0] = '\0';
	*notfound = true; /* must be cleared by the call */
	return review_decide(&f->t.db, &f->a, f->set, &d, notfound, err, errlen);
}

static enum wf_state decide(struct fixture *f, const char *form, const struct user *actor,
                            enum wf_action action, long long version, const char *reason,
                            const struct review_comment *comments, size_t ncomments, int levels,
                            long long now, bool *notfound, char *err, size_t errlen)
{
	return decide_on(f, SCHOOL, "2026", form, actor, action, version, reason, comments,
	                 ncomments, levels, now, notfound, err, errlen);
}

/* A decision that must succeed, with the state it leads to (line: the caller's). */
static void decide_ok_at(int line, struct fixture *f, const char *form, const struct user *actor,
                         enum wf_action action, long long version, const char *reason,
                         const struct review_comment *comments, size_t ncomments, int levels,
                         long long now, enum wf_state want)
{
	bool notfound;
	char err[512];
	enum wf_state got = decide(f, form, actor, action, version, reason, comments, ncomments,
	                           levels, now, &notfound, err, sizeof(err));
	if (got != want)
		fail_msg("line %d: %s of %s by %s at v%lld: expected %s, got %s (%s)", line,
		         action_code(action), form, actor->login, version, wf_state_code(want),
		         wf_state_code(got), err);
	assert_false(notfound);
}
#define decide_ok(...) decide_ok_at(__LINE__, __VA_ARGS__)

/* A decision that must be refused (not a 404) with a Chinese message (line: the caller's). */
static void decide_refused_at(int line, struct fixture *f, const char *form,
                              const struct user *actor, enum wf_action action, long long version,
                              const char *reason, const struct review_comment *comments,
                              size_t ncomments, int levels, long long now)
{
	bool notfound;
	char err[512];
	enum wf_state got = decide(f, form, actor, action, version, reason, comments, ncomments,
	                           levels, now, &notfound, err, sizeof(err));
	if (got != WS_NONE)
		fail_msg("line %d: %s of %s by %s at v%lld (reason '%s'): accepted, now %s", line,
		         action_code(action), form, actor->login, version,
		         reason ? reason : "(null)", wf_state_code(got));
	if (notfound)
		fail_msg("line %d: %s of %s by %s: not found (%s)", line, action_code(action), form,
		         actor->login, err);
	if (strlen(err) == 0 || (unsigned char)err[0] < 0x80)
		fail_msg("line %d: refused without a Chinese message: '%s'", line, err);
}
#define decide_refused(...) decide_refused_at(__LINE__, __VA_ARGS__)

/* What decisions write: row counts of every table they touch, and every submission's
 * state, reviewed flag, version and times. */
struct snapshot {
	long long review, comment, outbox, audit, notice;
	const char *subs;
};

static struct snapshot snap(struct fixture *f)
{
	struct snapshot s = {
	    tl_int(&f->t.db, "SELECT count(*) FROM review", NULL),
	    tl_int(&f->t.db, "SELECT count(*) FROM review_comment", NULL),
	    tl_int(&f->t.db, "SELECT count(*) FROM outbox", NULL),
	    tl_int(&f->t.db, "SELECT count(*) FROM audit", NULL),
	    tl_int(&f->t.db, "SELECT count(*) FROM notice", NULL),
	    text_of(
	        f,
	        "SELECT coalesce(group_concat(x, ';'), '') FROM (SELECT id || ':' || state || ':'"
	        " || reviewed || ':' || version || ':' || coalesce(submitted_at, '') || ':' ||"
	        " coalesce(approved_at, '') AS x FROM submission ORDER BY id)",
	        NULL),
	};
	return s;
}

static void assert_same(struct snapshot a, struct snapshot b)
{
	assert_int_equal(a.review, b.review);
	assert_int_equal(a.comment, b.comment);
	assert_int_equal(a.outbox, b.outbox);
	assert_int_equal(a.audit, b.audit);
	assert_int_equal(a.notice, b.notice);
	assert_string_equal(a.subs, b.subs);
}

/* Rows of a query counted. */
static long long count(struct fixture *f, const char *sql, const char *param)
{
	return tl_int(&f->t.db, sql, param);
}

/* The parsed payload of the outbox row with an idem_key. */
static json_t *payload_of(struct fixture *f, const char *idem_key)
{
	const char *text = text_of(f, "SELECT payload FROM outbox WHERE idem_key = ?1", idem_key);
	if (!text)
		fail_msg("no outbox row %s", idem_key);
	json_error_t jerr;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		fail_msg("payload of %s is not JSON: %s", idem_key, jerr.text);
	return root;
}

/* The data value of an element in a payload, or NULL. */
static json_t *payload_value(json_t *root, const char *element)
{
	json_t *values = json_object_get(root, "dataValues");
	size_t k;
	json_t *v;
	json_array_foreach(values, k, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "dataElement")), element) == 0)
			return v;
	}
	return NULL;
}

/* Check the frame of a payload: dataSet, period, orgUnit, completeDate (YYYY-MM-DD, the
 * given day) and dataValues whose every value is a string and every dataElement a field
 * of the form; returns the number of data values. */
static size_t payload_check(json_t *root, const char *form, const char *day)
{
	assert_true(json_is_object(root));
	assert_string_equal(json_string_value(json_object_get(root, "dataSet")), form);
	assert_string_equal(json_string_value(json_object_get(root, "period")), "2026");
	assert_string_equal(json_string_value(json_object_get(root, "orgUnit")), SCHOOL);
	const char *cd = json_string_value(json_object_get(root, "completeDate"));
	assert_non_null(cd);
	assert_int_equal(strlen(cd), 10);
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			assert_int_equal(cd[i], '-');
		else
			assert_true(cd[i] >= '0' && cd[i] <= '9');
	}
	assert_string_equal(cd, day);
	json_t *values = json_object_get(root, "dataValues");
	assert_true(json_is_array(values));
	size_t k;
	json_t *v;
	json_array_foreach(values, k, v)
	{
		assert_true(json_is_string(json_object_get(v, "dataElement")));
		if (!json_is_string(json_object_get(v, "value")))
			fail_msg("value of %s is not a string",
			         json_string_value(json_object_get(v, "dataElement")));
		json_t *c = json_object_get(v, "comment");
		assert_true(c == NULL || json_is_string(c));
	}
	return json_array_size(values);
}

/* ---- decisions ---- */

/* Approval: approved, one review row, one pending outbox row keyed school-period-form-version
 * whose payload is the dataValueSets JSON of the form as approved (completeDate the
 * approval's day in China, values as strings, yes/no as "true"/"false"), the audit row and a
 * notice to the school; a second approval of the same is refused and adds nothing. */
static void test_approve(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	assert_int_equal(state_of(f, "basic"), WS_SUBMITTED);
	long long v = version_of(f, "basic");
	assert_true(v > 0);
	struct snapshot before = snap(f);
	decide_ok(f, "basic", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, LATE, WS_APPROVED);
	assert_int_equal(state_of(f, "basic"), WS_APPROVED);
	assert_int_equal(version_of(f, "basic"), v); /* an approval makes no new version */
	assert_int_equal(count(f,
	                       "SELECT approved_at FROM submission WHERE school_id = 3"
	                       " AND form_code = ?1",
	                       "basic"),
	                 LATE);
	/* one review row */
	assert_int_equal(count(f, "SELECT count(*) FROM review", NULL), before.review + 1);
	char *sql =
	    arena_printf(&f->a,
	                 "SELECT count(*) FROM review WHERE submission_id = %lld AND version"
	                 " = %lld AND action = 'approve' AND level = 1 AND user_id = %lld"
	                 " AND at = %lld",
	                 sub_id_of(f, "basic"), v, f->rev.id, LATE);
	assert_int_equal(count(f, sql, NULL), 1);
	/* one outbox row */
	char *key = arena_printf(&f->a, "3199220003-2026-basic-v%lld", v);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox", NULL), 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM outbox WHERE idem_key = ?1 AND state ="
	                       " 'pending' AND attempts = 0",
	                       key),
	                 1);
	assert_int_equal(count(f, "SELECT version FROM outbox WHERE idem_key = ?1", key), v);
	assert_int_equal(count(f, "SELECT submission_id FROM outbox WHERE idem_key = ?1", key),
	                 sub_id_of(f, "basic"));
	/* its payload */
	json_t *root = payload_of(f, key);
	size_t n = payload_check(root, "basic", "2027-01-16");
	assert_int_equal(n, dvs_of(f, "basic")->nvalues);
	assert_string_equal(
	    json_string_value(json_object_get(payload_value(root, "boarding"), "value")), "true");
	assert_string_equal(
	    json_string_value(json_object_get(payload_value(root, "campus_network"), "value")),
	    "false");
	assert_string_equal(json_string_value(json_object_get(
	                        payload_value(root, "principal_birth_year"), "value")),
	                    "1977");
	assert_string_equal(
	    json_string_value(json_object_get(payload_value(root, "principal_name"), "value")),
	    "杨兴云");
	assert_null(json_object_get(payload_value(root, "boarding"), "comment"));
	/* in definition order */
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(root, "dataValues"), 0), "dataElement")),
	    "principal_name");
	json_decref(root);
	/* the audit row and the school's notice */
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM audit WHERE action = 'submission.approve'"
	                       " AND actor = 'rev-990122'",
	                       NULL),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM notice WHERE org_unit_id = 3 AND kind ="
	                       " 'approved'",
	                       NULL),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM notice", NULL), before.notice + 1);
	/* the same approval again: refused, nothing added */
	struct snapshot after = snap(f);
	decide_refused(f, "basic", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, LATE + 60);
	decide_refused(f, "basic", &f->admin, WA_APPROVE, v, NULL, NULL, 0, 1, LATE + 60);
	assert_same(after, snap(f));
}

/* A 说明 the school gave for a warning travels as the comment of the warning's field in the
 * approved payload; fields without a warning have no comment. */
static void test_payload_comment(void **state)
{
	struct fixture *f = *state;
	const char **raw = posted(f, "staff");
	put(f, raw, "pri_t_certified", "19"); /* one teacher without a certificate: a warning */
	struct validate_expl x = {"all_teachers_certified:pri", "一名新教师的资格证正在认定中。"};
	assert_int_equal(school_save(f, &f->school, "staff", raw, &x, 1, true, NOW), ER_SUBMITTED);
	long long v = version_of(f, "staff");
	decide_ok(f, "staff", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, NOW + 60, WS_APPROVED);
	json_t *root = payload_of(f, arena_printf(&f->a, "3199220003-2026-staff-v%lld", v));
	size_t n = payload_check(root, "staff", "2027-01-15");
	assert_int_equal(n, dvs_of(f, "staff")->nvalues);
	json_t *cert = payload_value(root, "pri_t_certified");
	assert_non_null(cert);
	assert_string_equal(json_string_value(json_object_get(cert, "value")), "19");
	assert_string_equal(json_string_value(json_object_get(cert, "comment")),
	                    "一名新教师的资格证正在认定中。");
	assert_null(json_object_get(payload_value(root, "pri_teachers"), "comment"));
	assert_null(json_object_get(payload_value(root, "jun_t_certified"), "comment"));
	json_decref(root);
}

/* A decision on a version the reviewer did not see, on a form not submitted or not started,
 * is refused and writes nothing. */
static void test_stale_and_not_submitted(void **state)
{
	struct fixture *f = *state;
	/* a draft cannot be decided on */
	assert_int_equal(
	    school_save(f, &f->school, "basic", posted(f, "basic"), NULL, 0, false, NOW), ER_SAVED);
	struct snapshot s0 = snap(f);
	decide_refused(f, "basic", &f->rev, WA_APPROVE, version_of(f, "basic"), NULL, NULL, 0, 1,
	               NOW);
	decide_refused(f, "basic", &f->rev, WA_RETURN, version_of(f, "basic"), "原因", NULL, 0, 1,
	               NOW);
	/* a form never started */
	decide_refused(f, "students", &f->rev, WA_APPROVE, 0, NULL, NULL, 0, 1, NOW);
	assert_same(s0, snap(f));
	/* submitted; a stale or future version is refused */
	assert_int_equal(
	    school_save(f, &f->school, "basic", posted(f, "basic"), NULL, 0, true, NOW),
	    ER_SUBMITTED);
	long long v = version_of(f, "basic");
	struct snapshot s1 = snap(f);
	decide_refused(f, "basic", &f->rev, WA_APPROVE, v - 1, NULL, NULL, 0, 1, NOW);
	decide_refused(f, "basic", &f->rev, WA_APPROVE, v + 1, NULL, NULL, 0, 1, NOW);
	decide_refused(f, "basic", &f->rev, WA_RETURN, v - 1, "请核对。", NULL, 0, 1, NOW);
	assert_same(s1, snap(f));
	assert_int_equal(state_of(f, "basic"), WS_SUBMITTED);
	/* the school cannot approve its own form */
	decide_refused(f, "basic", &f->u_school, WA_APPROVE, v, NULL, NULL, 0, 1, NOW);
	assert_same(s1, snap(f));
	decide_ok(f, "basic", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, NOW, WS_APPROVED);
}

/* A return needs a reason: none, an empty one or one of spaces (and line breaks) is
 * refused and writes nothing. */
static void test_return_needs_reason(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	struct review_comment c = {"pri_classes", "班数偏少"};
	struct snapshot s0 = snap(f);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, NULL, NULL, 0, 1, NOW);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, "", NULL, 0, 1, NOW);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, "   ", NULL, 0, 1, NOW);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, "   ", &c, 1, 1, NOW);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, " \n \n ", NULL, 0, 1, NOW);
	assert_same(s0, snap(f));
	assert_int_equal(state_of(f, "students"), WS_SUBMITTED);
}

/* A reason of ideographic spaces only (U+3000, what a Chinese input method types as a
 * space) is no reason either: refused, nothing written. */
static void test_return_reason_ideographic_spaces(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	struct snapshot s0 = snap(f);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, "\xE3\x80\x80\xE3\x80\x80", NULL, 0, 1,
	               NOW);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, " \xE3\x80\x80 ", NULL, 0, 1, NOW);
	assert_same(s0, snap(f));
	assert_int_equal(state_of(f, "students"), WS_SUBMITTED);
}

/* `n` times the character 字 (3 bytes), in the arena, with `pre` before and `post` after. */
static char *chars(struct fixture *f, const char *pre, size_t n, const char *post)
{
	size_t lp = strlen(pre), lq = strlen(post);
	char *s = arena_alloc(&f->a, lp + 3 * n + lq + 1);
	memcpy(s, pre, lp);
	for (size_t k = 0; k < n; k++)
		memcpy(s + lp + 3 * k, "\xE5\xAD\x97", 3);
	memcpy(s + lp + 3 * n, post, lq + 1);
	return s;
}

/* A reason has at most REVIEW_REASON_MAX characters (not bytes) and a comment at most
 * REVIEW_COMMENT_MAX: one more is refused and nothing is written; exactly the limit is kept
 * whole. */
static void test_reason_length_limits(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	struct snapshot s0 = snap(f);
	decide_refused(f, "students", &f->rev, WA_RETURN, v,
	               chars(f, "", REVIEW_REASON_MAX + 1, ""), NULL, 0, 1, NOW);
	struct review_comment c = {"pri_classes", chars(f, "", REVIEW_COMMENT_MAX + 1, "")};
	decide_refused(f, "students", &f->rev, WA_RETURN, v, "请核对。", &c, 1, 1, NOW);
	assert_same(s0, snap(f));
	char *reason = chars(f, "", REVIEW_REASON_MAX, "");
	c.text = chars(f, "", REVIEW_COMMENT_MAX, "");
	decide_ok(f, "students", &f->rev, WA_RETURN, v, reason, &c, 1, 1, NOW, WS_RETURNED);
	struct review_return r;
	assert_int_equal(review_last_return(&f->t.db, &f->a, sub_id_of(f, "students"), &r), 1);
	assert_string_equal(r.reason, reason);
	assert_string_equal(review_comment_of(&r, "pri_classes"), c.text);
}

/* White space around a reason is not part of it: a reason of exactly REVIEW_REASON_MAX
 * characters is accepted with a space or line break before it and with one after it
 * alike, and kept without them. */
static void test_reason_limit_ignores_surrounding_space(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	char *bare = chars(f, "", REVIEW_REASON_MAX, "");
	/* leading */
	decide_ok(f, "students", &f->rev, WA_RETURN, v, chars(f, "\n ", REVIEW_REASON_MAX, ""),
	          NULL, 0, 1, NOW, WS_RETURNED);
	struct review_return r;
	assert_int_equal(review_last_return(&f->t.db, &f->a, sub_id_of(f, "students"), &r), 1);
	assert_string_equal(r.reason, bare);
	/* trailing: the school resubmits, the reviewer returns again */
	assert_int_equal(
	    school_save(f, &f->school, "students", posted(f, "students"), NULL, 0, true, NOW + 60),
	    ER_SUBMITTED);
	v = version_of(f, "students");
	decide_ok(f, "students", &f->rev, WA_RETURN, v, chars(f, "", REVIEW_REASON_MAX, " \n"),
	          NULL, 0, 1, NOW + 120, WS_RETURNED);
	assert_int_equal(review_last_return(&f->t.db, &f->a, sub_id_of(f, "students"), &r), 1);
	assert_string_equal(r.reason, bare);
}

/* A return with a reason and field comments: returned, the review row with its reason and
 * comments, the audit row, a notice to the school whose text carries the reason; returning
 * it again is refused. */
static void test_return(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	struct review_comment c[] = {{"pri_classes", "班数与班级名单不符"},
	                             {"jun_students", "请与学籍系统核对"}};
	const char *reason = "请核对班数和在校生数。";
	decide_ok(f, "students", &f->rev, WA_RETURN, v, reason, c, 2, 1, NOW, WS_RETURNED);
	assert_int_equal(state_of(f, "students"), WS_RETURNED);
	assert_int_equal(version_of(f, "students"), v);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM review WHERE action = 'return' AND reason"
	                       " = ?1 AND level = 1",
	                       reason),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM review_comment", NULL), 2);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM review_comment WHERE field_code ="
	                       " 'pri_classes' AND text = ?1",
	                       "班数与班级名单不符"),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM review_comment WHERE field_code ="
	                       " 'jun_students' AND text = ?1",
	                       "请与学籍系统核对"),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM audit WHERE action = 'submission.return'"
	                       " AND instr(detail, ?1) > 0",
	                       reason),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM notice WHERE org_unit_id = 3 AND kind ="
	                       " 'returned' AND instr(text, ?1) > 0",
	                       reason),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox", NULL), 0);
	/* again: refused */
	struct snapshot s = snap(f);
	decide_refused(f, "students", &f->rev, WA_RETURN, v, reason, NULL, 0, 1, NOW + 60);
	decide_refused(f, "students", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, NOW + 60);
	assert_same(s, snap(f));
}

/* A comment on a field of another form, on a field the school does not have (a 九年一贯制
 * school has no 高中) or on no field at all is refused, and nothing is written, not even the
 * valid comments beside it. */
static void test_return_bad_comment(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	static const char *const bad[] = {"staff_total", "principal_name", "sen_students",
	                                  "kg_students", "no_such_field",  ""};
	struct snapshot s0 = snap(f);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		struct review_comment c[] = {{"pri_classes", "班数偏少"}, {bad[k], "请核对"}};
		decide_refused(f, "students", &f->rev, WA_RETURN, v, "请核对。", c, 2, 1, NOW);
		decide_refused(f, "students", &f->rev, WA_RETURN, v, "请核对。", &c[1], 1, 1, NOW);
	}
	assert_same(s0, snap(f));
	assert_int_equal(state_of(f, "students"), WS_SUBMITTED);
}

/* The reviewer of another county (and anyone asking for a school, period or form that does
 * not exist) gets *notfound, and nothing is written; the admin's scope is the whole city. */
static void test_scope(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "basic");
	struct snapshot s0 = snap(f);
	static const struct {
		const char *school, *period, *form;
	} where[] = {
	    {SCHOOL, "2026", "basic"},       /* with rev-990121: another county */
	    {"3199229999", "2026", "basic"}, /* no such school */
	    {"990122", "2026", "basic"},     /* a county, not a school */
	    {SCHOOL, "2030", "basic"},       /* no such period */
	    {SCHOOL, "2026", "nosuch"},      /* no such form */
	};
	for (size_t k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
		const struct user *who = k == 0 ? &f->rev21 : &f->rev;
		for (int action = WA_APPROVE; action <= WA_REOPEN; action++) {
			bool notfound = false;
			char err[512];
			enum wf_state got =
			    decide_on(f, where[k].school, where[k].period, where[k].form, who,
			              (enum wf_action)action, v, "原因", NULL, 0, 1, NOW, &notfound,
			              err, sizeof(err));
			if (got != WS_NONE || !notfound)
				fail_msg("%s/%s/%s by %s: %s, notfound %d", where[k].school,
				         where[k].period, where[k].form, who->login,
				         wf_state_code(got), notfound);
			assert_true(strlen(err) > 0);
		}
	}
	/* the county reviewer of SCHOOL2 does not reach SCHOOL, nor SCHOOL's reviewer SCHOOL2 */
	bool notfound = false;
	char err[512];
	assert_int_equal(decide_on(f, SCHOOL2, "2026", "basic", &f->rev, WA_APPROVE, 1, NULL, NULL,
	                           0, 1, NOW, &notfound, err, sizeof(err)),
	                 WS_NONE);
	assert_true(notfound);
	assert_same(s0, snap(f));
	assert_int_equal(state_of(f, "basic"), WS_SUBMITTED);
	/* the admin reaches every school of the city; the decision is the city's (level 2) */
	decide_ok(f, "basic", &f->admin, WA_APPROVE, v, NULL, NULL, 0, 1, NOW, WS_APPROVED);
	assert_int_equal(count(f,
	                       "SELECT level FROM review WHERE user_id ="
	                       " (SELECT id FROM user WHERE login = 'admin')",
	                       NULL),
	                 2);
}

/* Reopen: the city reviewer cannot, nor anyone without a reason; the county reviewer can
 * (returned, version + 1, a notice to the school); after the school resubmits, the old
 * version cannot be approved and the approval of the new one is a second outbox row. */
static void test_reopen(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "students");
	decide_ok(f, "students", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, NOW, WS_APPROVED);
	struct snapshot s0 = snap(f);
	decide_refused(f, "students", &f->city, WA_REOPEN, v, "数据有误", NULL, 0, 1, NOW + 10);
	decide_refused(f, "students", &f->city, WA_REOPEN, v, "数据有误", NULL, 0, 2, NOW + 10);
	decide_refused(f, "students", &f->rev, WA_REOPEN, v, NULL, NULL, 0, 1, NOW + 10);
	decide_refused(f, "students", &f->rev, WA_REOPEN, v, "  ", NULL, 0, 1, NOW + 10);
	decide_refused(f, "students", &f->u_school, WA_REOPEN, v, "我要修改", NULL, 0, 1, NOW + 10);
	assert_same(s0, snap(f));
	assert_int_equal(state_of(f, "students"), WS_APPROVED);
	/* the county reviewer reopens */
	struct review_comment c = {"pri_students", "与学籍系统相差较大"};
	decide_ok(f, "students", &f->rev, WA_REOPEN, v, "发现在校生数有误。", &c, 1, 1, NOW + 20,
	          WS_RETURNED);
	assert_int_equal(state_of(f, "students"), WS_RETURNED);
	assert_int_equal(version_of(f, "students"), v + 1);
	assert_int_equal(count(f, "SELECT count(*) FROM review WHERE action = 'reopen'", NULL), 1);
	assert_int_equal(
	    count(f, "SELECT count(*) FROM audit WHERE action = 'submission.reopen'", NULL), 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM notice WHERE org_unit_id = 3 AND kind ="
	                       " 'reopened' AND instr(text, ?1) > 0",
	                       "发现在校生数有误。"),
	                 1);
	struct review_return r;
	assert_int_equal(review_last_return(&f->t.db, &f->a, sub_id_of(f, "students"), &r), 1);
	assert_true(r.reopen);
	assert_string_equal(r.reason, "发现在校生数有误。");
	assert_string_equal(review_comment_of(&r, "pri_students"), "与学籍系统相差较大");
	/* still one outbox row; the school resubmits unchanged */
	assert_int_equal(count(f, "SELECT count(*) FROM outbox", NULL), 1);
	assert_int_equal(
	    school_save(f, &f->school, "students", posted(f, "students"), NULL, 0, true, NOW + 30),
	    ER_SUBMITTED);
	long long v2 = version_of(f, "students");
	assert_true(v2 > v);
	decide_refused(f, "students", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 1, NOW + 40);
	decide_ok(f, "students", &f->rev, WA_APPROVE, v2, NULL, NULL, 0, 1, NOW + 40, WS_APPROVED);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox", NULL), 2);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox WHERE idem_key = ?1",
	                       arena_printf(&f->a, "3199220003-2026-students-v%lld", v)),
	                 1);
	assert_int_equal(count(f, "SELECT version FROM outbox WHERE idem_key = ?1",
	                       arena_printf(&f->a, "3199220003-2026-students-v%lld", v2)),
	                 v2);
	assert_int_equal(count(f, "SELECT count(DISTINCT version) FROM outbox", NULL), 2);
	/* the first, never sent, is superseded by the approval, with its audit row */
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM outbox WHERE state = 'superseded' AND version"
	                       " < (SELECT max(version) FROM outbox)",
	                       NULL),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM audit WHERE action = 'outbox.superseded'"
	                       " AND actor = 'rev-990122'",
	                       NULL),
	                 1);
}

/* Two approval levels: the county's approval makes county_approved (stored as submitted
 * with reviewed = 1), no outbox row and a notice to the city; the county cannot approve it
 * again nor the city before the county; the city's approval is final, with the outbox row. */
static void test_two_levels(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long v = version_of(f, "staff");
	struct snapshot s0 = snap(f);
	decide_refused(f, "staff", &f->city, WA_APPROVE, v, NULL, NULL, 0, 2, NOW);
	assert_same(s0, snap(f));
	decide_ok(f, "staff", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 2, NOW, WS_COUNTY_APPROVED);
	assert_int_equal(state_of(f, "staff"), WS_COUNTY_APPROVED);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM submission WHERE form_code = ?1 AND state ="
	                       " 'submitted' AND reviewed = 1 AND approved_at IS NULL",
	                       "staff"),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox", NULL), 0);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM review WHERE action = 'approve' AND level"
	                       " = 1",
	                       NULL),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM notice WHERE org_unit_id = 1 AND kind ="
	                       " 'county_approved'",
	                       NULL),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM notice WHERE org_unit_id = 3", NULL), 0);
	/* the county cannot approve twice */
	struct snapshot s1 = snap(f);
	decide_refused(f, "staff", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 2, NOW + 10);
	assert_same(s1, snap(f));
	/* the city approves: final */
	decide_ok(f, "staff", &f->city, WA_APPROVE, v, NULL, NULL, 0, 2, NOW + 20, WS_APPROVED);
	assert_int_equal(state_of(f, "staff"), WS_APPROVED);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM submission WHERE form_code = ?1 AND state ="
	                       " 'approved' AND reviewed = 0 AND approved_at = 1800000020",
	                       "staff"),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM outbox WHERE idem_key = ?1 AND state ="
	                       " 'pending'",
	                       arena_printf(&f->a, "3199220003-2026-staff-v%lld", v)),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM review WHERE action = 'approve' AND level"
	                       " = 2 AND user_id = (SELECT id FROM user WHERE login = 'rev-city')",
	                       NULL),
	                 1);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM notice WHERE org_unit_id = 3 AND kind ="
	                       " 'approved'",
	                       NULL),
	                 1);
	json_t *root = payload_of(f, arena_printf(&f->a, "3199220003-2026-staff-v%lld", v));
	payload_check(root, "staff", "2027-01-15");
	json_decref(root);
	/* the city returns a county_approved form */
	long long vb = version_of(f, "basic");
	decide_ok(f, "basic", &f->rev, WA_APPROVE, vb, NULL, NULL, 0, 2, NOW, WS_COUNTY_APPROVED);
	decide_ok(f, "basic", &f->city, WA_RETURN, vb, "联系电话有误。", NULL, 0, 2, NOW + 30,
	          WS_RETURNED);
	assert_int_equal(count(f,
	                       "SELECT count(*) FROM review WHERE action = 'return' AND level"
	                       " = 2",
	                       NULL),
	                 1);
	assert_int_equal(count(f, "SELECT count(*) FROM outbox", NULL), 1);
}

/* What a return leaves for the school and the reviewer: the last return's reason, comments,
 * version and reviewer, and after the school's edits the changed fields with their values
 * at the return. */
static void test_last_return_and_changes(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	long long id = sub_id_of(f, "students");
	struct review_return r;
	assert_int_equal(review_last_return(&f->t.db, &f->a, id, &r), 0);
	long long v = version_of(f, "students");
	struct review_comment c[] = {{"pri_classes", "班数与班级名单不符"},
	                             {"jun_students", "请与学籍系统核对"}};
	decide_ok(f, "students", &f->rev, WA_RETURN, v, "请核对班数和在校生数。", c, 2, 1, NOW,
	          WS_RETURNED);
	assert_int_equal(review_last_return(&f->t.db, &f->a, id, &r), 1);
	assert_false(r.reopen);
	assert_int_equal(r.version, v);
	assert_int_equal(r.at, NOW);
	assert_string_equal(r.who, "白水县审核员");
	assert_string_equal(r.reason, "请核对班数和在校生数。");
	assert_int_equal(r.ncomments, 2);
	assert_string_equal(review_comment_of(&r, "pri_classes"), "班数与班级名单不符");
	assert_string_equal(review_comment_of(&r, "jun_students"), "请与学籍系统核对");
	assert_null(review_comment_of(&r, "pri_students"));
	/* nothing changed yet */
	struct review_change *ch;
	size_t n;
	assert_int_equal(review_changes_since(&f->t.db, &f->a, id, v, &ch, &n), 0);
	assert_int_equal(n, 0);
	/* the school edits twice: pri_classes 8 → 9 → 10, jun_students 343 → 345, pri_migrant
	 * 3 → empty */
	const char **raw = posted(f, "students");
	put(f, raw, "pri_classes", "9");
	put(f, raw, "jun_students", "３４５");
	put(f, raw, "pri_migrant", NULL);
	assert_int_equal(school_save(f, &f->school, "students", raw, NULL, 0, false, NOW + 60),
	                 ER_SAVED);
	assert_int_equal(version_of(f, "students"), v + 1);
	put(f, raw, "pri_classes", "10");
	assert_int_equal(school_save(f, &f->school, "students", raw, NULL, 0, false, NOW + 120),
	                 ER_SAVED);
	assert_int_equal(version_of(f, "students"), v + 2);
	assert_int_equal(review_changes_since(&f->t.db, &f->a, id, v, &ch, &n), 0);
	assert_int_equal(n, 3);
	bool seen[3] = {false, false, false};
	for (size_t k = 0; k < n; k++) {
		if (strcmp(ch[k].field, "pri_classes") == 0) {
			assert_string_equal(ch[k].old_raw, "8");
			seen[0] = true;
		} else if (strcmp(ch[k].field, "jun_students") == 0) {
			assert_string_equal(ch[k].old_raw, "343");
			seen[1] = true;
		} else if (strcmp(ch[k].field, "pri_migrant") == 0) {
			assert_string_equal(ch[k].old_raw, "3");
			seen[2] = true;
		} else {
			fail_msg("unexpected change of %s", ch[k].field);
		}
	}
	assert_true(seen[0] && seen[1] && seen[2]);
	/* since the first edit only pri_classes moved, from 9 */
	assert_int_equal(review_changes_since(&f->t.db, &f->a, id, v + 1, &ch, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ch[0].field, "pri_classes");
	assert_string_equal(ch[0].old_raw, "9");
	/* a field that was empty at the return has old_raw NULL */
	const char **raw2 = posted(f, "students");
	put(f, raw2, "pri_classes", "10");
	put(f, raw2, "jun_students", "３４５");
	put(f, raw2, "pri_migrant", "2");
	assert_int_equal(school_save(f, &f->school, "students", raw2, NULL, 0, false, NOW + 180),
	                 ER_SAVED);
	assert_int_equal(review_changes_since(&f->t.db, &f->a, id, v + 2, &ch, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ch[0].field, "pri_migrant");
	assert_null(ch[0].old_raw);
}

/* ---- notices ---- */

/* Notices of an org unit, read per user: the county learns of a submission and a
 * resubmission, the school of a return (with the reason, the school, form and period to go
 * to), the city of a county approval; marking read is per user and covers only what is
 * there; notices older than NOTICE_DAYS are neither counted nor listed. */
static void test_notices(void **state)
{
	struct fixture *f = *state;
	long long t = NOW;
	assert_int_equal(notice_unread(&f->t.db, f->rev.id, COUNTY_ID, t), 0);
	/* the school submits on the web: the county is told */
	assert_int_equal(
	    school_save(f, &f->school, "students", posted(f, "students"), NULL, 0, true, t),
	    ER_SUBMITTED);
	assert_int_equal(notice_unread(&f->t.db, f->rev.id, COUNTY_ID, t), 1);
	assert_int_equal(notice_unread(&f->t.db, f->u_school.id, SCHOOL_ID, t), 0);
	assert_int_equal(notice_unread(&f->t.db, f->rev21.id, COUNTY2_ID, t), 0);
	struct notice *list;
	size_t n;
	assert_int_equal(notice_list(&f->t.db, &f->a, f->rev.id, COUNTY_ID, t, 10, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].kind, "submitted");
	assert_string_equal(list[0].school_code, SCHOOL);
	assert_string_equal(list[0].form_code, "students");
	assert_false(list[0].read);
	/* returned: the school is told, with the reason */
	long long v = version_of(f, "students");
	decide_ok(f, "students", &f->rev, WA_RETURN, v, "请核对班数。", NULL, 0, 1, t + 60,
	          WS_RETURNED);
	assert_int_equal(notice_unread(&f->t.db, f->u_school.id, SCHOOL_ID, t + 60), 1);
	assert_int_equal(
	    notice_list(&f->t.db, &f->a, f->u_school.id, SCHOOL_ID, t + 60, 10, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].kind, "returned");
	assert_non_null(strstr(list[0].text, "请核对班数。"));
	assert_non_null(strstr(list[0].text, "学生与班级"));
	assert_string_equal(list[0].school_code, SCHOOL);
	assert_string_equal(list[0].period_code, "2026");
	assert_string_equal(list[0].form_code, "students");
	assert_int_equal(list[0].at, t + 60);
	assert_false(list[0].read);
	assert_true(notice_read_all(&f->t.db, f->u_school.id, SCHOOL_ID, t + 60));
	assert_int_equal(notice_unread(&f->t.db, f->u_school.id, SCHOOL_ID, t + 60), 0);
	assert_int_equal(
	    notice_list(&f->t.db, &f->a, f->u_school.id, SCHOOL_ID, t + 60, 10, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_true(list[0].read);
	/* the school resubmits: the county has two unread, newest first */
	assert_int_equal(
	    school_save(f, &f->school, "students", posted(f, "students"), NULL, 0, true, t + 120),
	    ER_SUBMITTED);
	assert_int_equal(notice_unread(&f->t.db, f->rev.id, COUNTY_ID, t + 120), 2);
	assert_int_equal(notice_list(&f->t.db, &f->a, f->rev.id, COUNTY_ID, t + 120, 10, &list, &n),
	                 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].kind, "resubmitted");
	assert_string_equal(list[1].kind, "submitted");
	assert_int_equal(notice_list(&f->t.db, &f->a, f->rev.id, COUNTY_ID, t + 120, 1, &list, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].kind, "resubmitted");
	assert_true(notice_read_all(&f->t.db, f->rev.id, COUNTY_ID, t + 120));
	assert_int_equal(notice_unread(&f->t.db, f->rev.id, COUNTY_ID, t + 120), 0);
	/* with two levels the county's approval goes to the city: per user there */
	v = version_of(f, "students");
	decide_ok(f, "students", &f->rev, WA_APPROVE, v, NULL, NULL, 0, 2, t + 180,
	          WS_COUNTY_APPROVED);
	assert_int_equal(notice_unread(&f->t.db, f->city.id, CITY_ID, t + 180), 1);
	assert_int_equal(notice_unread(&f->t.db, f->admin.id, CITY_ID, t + 180), 1);
	assert_int_equal(notice_list(&f->t.db, &f->a, f->city.id, CITY_ID, t + 180, 10, &list, &n),
	                 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].kind, "county_approved");
	assert_true(notice_read_all(&f->t.db, f->city.id, CITY_ID, t + 180));
	assert_int_equal(notice_unread(&f->t.db, f->city.id, CITY_ID, t + 180), 0);
	assert_int_equal(notice_unread(&f->t.db, f->admin.id, CITY_ID, t + 180), 1);
	/* a later notice is unread again for the county reviewer, who read the earlier ones */
	assert_int_equal(
	    school_save(f, &f->school, "basic", posted(f, "basic"), NULL, 0, true, t + 240),
	    ER_SUBMITTED);
	assert_int_equal(notice_unread(&f->t.db, f->rev.id, COUNTY_ID, t + 240), 1);
	/* after NOTICE_DAYS they are gone from count and list */
	long long later = t + 240 + (NOTICE_DAYS + 1) * 86400LL;
	assert_int_equal(notice_unread(&f->t.db, f->admin.id, CITY_ID, later), 0);
	assert_int_equal(notice_unread(&f->t.db, f->rev.id, COUNTY_ID, later), 0);
	assert_int_equal(notice_list(&f->t.db, &f->a, f->rev.id, COUNTY_ID, later, 10, &list, &n),
	                 0);
	assert_int_equal(n, 0);
}

/* ---- overview ---- */

/* Check one count. */
static void assert_counts(const struct overview_count *c, int total, int none, int draft,
                          int returned, int submitted, int county_approved, int approved)
{
	assert_int_equal(c->total, total);
	assert_int_equal(c->none, none);
	assert_int_equal(c->draft, draft);
	assert_int_equal(c->returned, returned);
	assert_int_equal(c->submitted, submitted);
	assert_int_equal(c->county_approved, county_approved);
	assert_int_equal(c->approved, approved);
	assert_int_equal(c->reported, submitted + county_approved + approved);
}

/* The overview of a scope: a county sees only its school, the city both (by county code,
 * then school code), each form's state per school, and the counts by state per form. */
static void test_overview(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->p26.nforms, 4);
	assert_string_equal(f->p26.forms[0], "basic");
	assert_string_equal(f->p26.forms[1], "students");
	assert_string_equal(f->p26.forms[2], "staff");
	assert_string_equal(f->p26.forms[3], "facilities");
	submit_all(f);
	struct overview_row *rows;
	size_t n;
	assert_int_equal(overview_load(&f->t.db, &f->a, &f->p26, CITY_ID, &rows, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].school->code, SCHOOL2); /* 990121 before 990122 */
	assert_string_equal(rows[1].school->code, SCHOOL);
	assert_false(rows[0].started);
	assert_false(rows[0].complete);
	assert_int_equal(rows[0].last_submitted, 0);
	for (size_t k = 0; k < 4; k++) {
		assert_int_equal(rows[0].cells[k].id, 0);
		assert_int_equal(rows[0].cells[k].state, WS_NONE);
		assert_int_equal(rows[1].cells[k].state, WS_SUBMITTED);
		assert_true(rows[1].cells[k].id > 0);
	}
	assert_true(rows[1].started);
	assert_true(rows[1].complete);
	assert_true(rows[1].last_submitted > 0);
	/* decisions on SCHOOL: basic approved, students returned, staff county_approved
	 * (two levels), facilities still submitted; SCHOOL2 has drafts of basic and students */
	decide_ok(f, "basic", &f->rev, WA_APPROVE, version_of(f, "basic"), NULL, NULL, 0, 1, NOW,
	          WS_APPROVED);
	decide_ok(f, "students", &f->rev, WA_RETURN, version_of(f, "students"), "请核对。", NULL, 0,
	          1, NOW, WS_RETURNED);
	decide_ok(f, "staff", &f->rev, WA_APPROVE, version_of(f, "staff"), NULL, NULL, 0, 2, NOW,
	          WS_COUNTY_APPROVED);
	const char **b = empty_posted(f);
	put(f, b, "principal_name", "王芳");
	assert_int_equal(school_save(f, &f->school2, "basic", b, NULL, 0, false, NOW), ER_SAVED);
	const char **s = empty_posted(f);
	put(f, s, "pri_students", "420");
	assert_int_equal(school_save(f, &f->school2, "students", s, NULL, 0, false, NOW), ER_SAVED);
	/* the county 990122: only SCHOOL */
	assert_int_equal(overview_load(&f->t.db, &f->a, &f->p26, COUNTY_ID, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].school->code, SCHOOL);
	assert_int_equal(rows[0].cells[0].state, WS_APPROVED);
	assert_int_equal(rows[0].cells[1].state, WS_RETURNED);
	assert_int_equal(rows[0].cells[2].state, WS_COUNTY_APPROVED);
	assert_int_equal(rows[0].cells[3].state, WS_SUBMITTED);
	assert_int_equal(rows[0].cells[1].version, version_of(f, "students"));
	assert_false(rows[0].complete); /* students was returned */
	struct overview_count c;
	overview_count(rows, n, 2, &c);
	assert_counts(&c, 1, 0, 0, 0, 0, 1, 0);
	/* the county 990121: only SCHOOL2 */
	assert_int_equal(overview_load(&f->t.db, &f->a, &f->p26, COUNTY2_ID, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].school->code, SCHOOL2);
	assert_true(rows[0].started);
	assert_false(rows[0].complete);
	assert_int_equal(rows[0].cells[0].state, WS_DRAFT);
	assert_int_equal(rows[0].cells[1].state, WS_DRAFT);
	assert_int_equal(rows[0].cells[2].state, WS_NONE);
	/* the city: both, counted per form */
	assert_int_equal(overview_load(&f->t.db, &f->a, &f->p26, CITY_ID, &rows, &n), 0);
	assert_int_equal(n, 2);
	overview_count(rows, n, 0, &c); /* basic */
	assert_counts(&c, 2, 0, 1, 0, 0, 0, 1);
	overview_count(rows, n, 1, &c); /* students */
	assert_counts(&c, 2, 0, 1, 1, 0, 0, 0);
	overview_count(rows, n, 2, &c); /* staff */
	assert_counts(&c, 2, 1, 0, 0, 0, 1, 0);
	overview_count(rows, n, 3, &c); /* facilities */
	assert_counts(&c, 2, 1, 0, 0, 1, 0, 0);
	/* a school's own scope is itself */
	assert_int_equal(overview_load(&f->t.db, &f->a, &f->p26, SCHOOL_ID, &rows, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].school->code, SCHOOL);
}

/* ---- export ---- */

/* Split one CSV line (RFC 4180 quoting) into fields in the arena. */
static size_t csv_split(struct arena *a, const char *line, size_t len, const char **out, size_t max)
{
	size_t n = 0, i = 0;
	char *cur = arena_alloc(a, len + 1);
	for (;;) {
		size_t j = 0;
		if (i < len && line[i] == '"') {
			i++;
			while (i < len) {
				if (line[i] == '"' && i + 1 < len && line[i + 1] == '"') {
					cur[j++] = '"';
					i += 2;
				} else if (line[i] == '"') {
					i++;
					break;
				} else {
					cur[j++] = line[i++];
				}
			}
		} else {
			while (i < len && line[i] != ',')
				cur[j++] = line[i++];
		}
		cur[j] = '\0';
		assert_true(n < max);
		out[n++] = arena_strdup(a, cur);
		if (i >= len)
			break;
		assert_int_equal(line[i], ',');
		i++;
	}
	return n;
}

/* The lines of a CSV text (after the BOM), each ended by CRLF. */
static size_t csv_lines(struct arena *a, const char *text, size_t len, const char ***fields,
                        size_t *nfields, size_t max_lines, size_t max_fields)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] == '\r' && text[i + 1] == '\n') {
			assert_true(n < max_lines);
			fields[n] = arena_alloc(a, max_fields * sizeof(**fields));
			nfields[n] = csv_split(a, text + start, i - start, fields[n], max_fields);
			n++;
			start = i + 2;
			i++;
		}
	}
	assert_int_equal(start, len); /* the last line ends with CRLF too */
	return n;
}

/* The column of a field's header in a table. */
static size_t column_of(const struct export_table *t, const char *header)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strcmp(t->headers[c], header) == 0)
			return c;
	fail_msg("no column %s", header);
	return 0;
}

/* Export of a form over a scope: the table (4 leading columns, then the form's fields with
 * Chinese labels and units), one row per school of the scope; the CSV with a BOM, CRLF,
 * numbers as canonical text, yes/no as 是/否 and texts that Excel would take for a formula
 * quoted with a leading apostrophe; the XLSX a zip file. */
static void test_export(void **state)
{
	struct fixture *f = *state;
	submit_all(f);
	/* SCHOOL2's drafts: a formula-like name and phone, a number typed with separators */
	const char **b = empty_posted(f);
	put(f, b, "principal_name", "=1+2");
	put(f, b, "principal_birth_year", "1980");
	put(f, b, "boarding", "0");
	put(f, b, "contact_phone", "+86 531 1234");
	put(f, b, "broadband_mbps", "１,０００");
	put(f, b, "campus_network", "1");
	assert_int_equal(school_save(f, &f->school2, "basic", b, NULL, 0, false, NOW), ER_SAVED);
	const char **s = empty_posted(f);
	put(f, s, "pri_students", "１，２00");
	put(f, s, "pri_classes", " 30 ");
	assert_int_equal(school_save(f, &f->school2, "students", s, NULL, 0, false, NOW), ER_SAVED);

	/* students over the city */
	struct export_table t;
	assert_int_equal(export_load(&f->t.db, &f->a, f->set, &f->p26, "students", CITY_ID, &t), 0);
	const struct form_def *form = form_find(f->set, "students");
	assert_string_equal(t.sheet, form->name);
	assert_int_equal(t.ncols, EXPORT_LEAD + form->nfields);
	assert_int_equal(t.nrows, 2);
	assert_string_equal(t.headers[0], "学校标识码");
	assert_string_equal(t.headers[1], "学校名称");
	assert_string_equal(t.headers[2], "办学类型");
	assert_string_equal(t.headers[3], "状态");
	size_t ps = column_of(&t, "小学 在校生数（人）");
	size_t js = column_of(&t, "初中 在校生数（人）");
	size_t pc = column_of(&t, "小学 班数（个）");
	assert_string_equal(t.rows[0][0].text, SCHOOL2);
	assert_string_equal(t.rows[0][1].text, "青山县实验小学");
	assert_string_equal(t.rows[0][2].text, "小学");
	assert_string_equal(t.rows[0][3].text, "草稿");
	assert_string_equal(t.rows[0][ps].text, "1200");
	assert_true(t.rows[0][ps].is_num);
	assert_true(t.rows[0][ps].num == 1200.0);
	assert_string_equal(t.rows[0][pc].text, "30");
	assert_string_equal(t.rows[0][js].text, "");
	assert_false(t.rows[0][js].is_num);
	assert_string_equal(t.rows[1][0].text, SCHOOL);
	assert_string_equal(t.rows[1][2].text, "九年一贯制学校");
	assert_string_equal(t.rows[1][3].text, "已上报");
	assert_string_equal(t.rows[1][ps].text, "312");
	assert_string_equal(t.rows[1][js].text, "343");

	struct buf csv = BUF_INIT;
	export_csv(&t, &csv);
	assert_true(csv.len > 3);
	assert_memory_equal(csv.data, "\xEF\xBB\xBF", 3);
	const char **lines[8];
	size_t nf[8];
	size_t nl = csv_lines(&f->a, csv.data + 3, csv.len - 3, lines, nf, 8, 512);
	assert_int_equal(nl, 3); /* header + one row per school */
	for (size_t l = 0; l < nl; l++)
		assert_int_equal(nf[l], t.ncols);
	assert_string_equal(lines[0][0], "学校标识码");
	assert_string_equal(lines[0][ps], "小学 在校生数（人）");
	assert_string_equal(lines[1][0], SCHOOL2);
	assert_string_equal(lines[1][3], "草稿");
	assert_string_equal(lines[1][ps], "1200");
	assert_string_equal(lines[1][pc], "30");
	assert_string_equal(lines[1][js], "");
	assert_string_equal(lines[2][0], SCHOOL);
	assert_string_equal(lines[2][ps], "312");
	assert_non_null(strstr(csv.data, "\r\n2199210001,青山县实验小学,小学,草稿,"));
	assert_non_null(
	    strstr(csv.data, "\r\n3199220003,东岗乡九年一贯制学校,九年一贯制学校,已上报,"));

	/* XLSX */
	char path[160], err[256];
	snprintf(path, sizeof(path), "%s/students.xlsx", f->t.dir);
	assert_true(export_xlsx(&t, path, err, sizeof(err)));
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size > 100);
	size_t zlen;
	char *zip = tl_read_file(path, &zlen);
	assert_true(zlen >= 4);
	assert_memory_equal(zip, "PK\x03\x04", 4);
	free(zip);
	unlink(path);
	assert_false(export_xlsx(&t, "/nonexistent-dir/x/students.xlsx", err, sizeof(err)));
	assert_true(strlen(err) > 0);
	buf_free(&csv);

	/* basic: yes/no as 是/否, formula-like texts quoted with an apostrophe */
	assert_int_equal(export_load(&f->t.db, &f->a, f->set, &f->p26, "basic", CITY_ID, &t), 0);
	assert_int_equal(t.nrows, 2);
	size_t name = column_of(&t, "校长（园长）姓名");
	size_t boarding = column_of(&t, "是否寄宿制学校");
	size_t campus = column_of(&t, "是否建有校园网");
	size_t phone = column_of(&t, "联系电话");
	size_t bw = column_of(&t, "互联网接入带宽（Mbps）");
	struct buf csv2 = BUF_INIT;
	export_csv(&t, &csv2);
	assert_memory_equal(csv2.data, "\xEF\xBB\xBF", 3);
	nl = csv_lines(&f->a, csv2.data + 3, csv2.len - 3, lines, nf, 8, 512);
	assert_int_equal(nl, 3);
	assert_string_equal(lines[1][name], "'=1+2");
	assert_string_equal(lines[1][phone], "'+86 531 1234");
	assert_string_equal(lines[1][boarding], "否");
	assert_string_equal(lines[1][campus], "是");
	assert_string_equal(lines[1][bw], "1000");
	assert_string_equal(lines[2][name], "杨兴云");
	assert_string_equal(lines[2][boarding], "是");
	assert_string_equal(lines[2][campus], "否");
	assert_string_equal(lines[2][bw], "100");
	assert_string_equal(lines[2][phone], "0531-84563223");
	/* as raw CSV text: quoted, the apostrophe inside the quotes */
	assert_non_null(strstr(csv2.data, "\"'=1+2\""));
	assert_non_null(strstr(csv2.data, "\"'+86 531 1234\""));
	assert_null(strstr(csv2.data, ",=1+2"));
	buf_free(&csv2);

	/* the county 990122 sees only its school */
	assert_int_equal(export_load(&f->t.db, &f->a, f->set, &f->p26, "students", COUNTY_ID, &t),
	                 0);
	assert_int_equal(t.nrows, 1);
	assert_string_equal(t.rows[0][0].text, SCHOOL);
	assert_string_equal(t.rows[0][ps].text, "312");
	/* an unknown form */
	assert_int_equal(export_load(&f->t.db, &f->a, f->set, &f->p26, "nosuch", CITY_ID, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_approve, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload_comment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_and_not_submitted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_return_needs_reason, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_return_reason_ideographic_spaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reason_length_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reason_limit_ignores_surrounding_space, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_return, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_return_bad_comment, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_two_levels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_return_and_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notices, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overview, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_export, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

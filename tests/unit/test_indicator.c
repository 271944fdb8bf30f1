/* test_indicator.c — indicator definitions as data (parse, check, store, load) and their
 * computation over a period's submissions: each indicator on hand-computed inputs, the stage
 * split of shared facilities, the 优质均衡 school verdict, exclusions, county and city sums, the
 * enrolment-weighted coefficient of variation (the worked example of domain-research.md §1.5
 * and its edge cases), the targets, provisional figures and schools without data. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/dvs.h"
#include "core/indicator.h"
#include "core/measure.h"
#include "core/orgunit.h"
#include "core/period.h"
#include "tests/unit/testlib.h"

/* org units of the fixture: the city and its two counties (schools are added per test) */
#define CITY_ID 1
#define COUNTY_A 2 /* 990121 青山县 */
#define COUNTY_B 3 /* 990122 白水县 */
#define CODE_A "990121"
#define CODE_B "990122"

/* Doubles: equal within eps, with both values in the message. */
#define assert_near(got, want, eps)                                                                \
	do {                                                                                       \
		double g_ = (got), w_ = (want);                                                    \
		if (!(fabs(g_ - w_) <= (eps)))                                                     \
			fail_msg("%s = %.10g, expected %.10g (within %g)", #got, g_, w_,           \
			         (double)(eps));                                                   \
	} while (0)

struct fixture {
	struct tl_db t;
	struct arena a;
	struct form_set *forms;
	struct ind_sets *defs; /* db/indicators/yzjh.json and targets.json */
	struct period p;       /* 2026, open now */
	char *yzjh, *targets;  /* the two definition files' text */
	size_t yzjh_len, targets_len;
};

/* The real definitions added to a fresh collection; fails the test when they do not load. */
static struct ind_sets *real_defs(struct fixture *f)
{
	char err[1024];
	struct ind_sets *s = ind_sets_new(f->forms);
	assert_non_null(s);
	if (!ind_sets_add_json(s, f->yzjh, f->yzjh_len, "yzjh.json", err, sizeof(err)))
		fail_msg("%s", err);
	if (!ind_sets_add_json(s, f->targets, f->targets_len, "targets.json", err, sizeof(err)))
		fail_msg("%s", err);
	return s;
}

/* A migrated database with the four forms, the city 990100 with the counties 990121 and
 * 990122, the period 2026 (open now: dvs_import works at the current time) and the real
 * indicator definitions parsed against the forms. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512];
	tl_db_open(&f->t, "tb-indicator");
	arena_init(&f->a, 0);
	f->forms = tl_real_forms();
	if (!form_store(&f->t.db, f->forms, "test", err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(db_exec(&f->t.db, "INSERT INTO org_unit(id, code, name, kind) VALUES"
	                              " (1, '990100', '示范市', 'city')"));
	assert_true(db_exec(&f->t.db, "INSERT INTO org_unit(id, code, name, kind, parent_id) VALUES"
	                              " (2, '990121', '青山县', 'county', 1),"
	                              " (3, '990122', '白水县', 'county', 1)"));
	long long now = (long long)time(NULL);
	tl_period_add(&f->t.db, "2026", now - 86400, now + 30 * 86400);
	assert_int_equal(period_get(&f->t.db, &f->a, "2026", &f->p), 1);
	f->yzjh = tl_read_src("db/indicators/yzjh.json", &f->yzjh_len);
	f->targets = tl_read_src("db/indicators/targets.json", &f->targets_len);
	f->defs = real_defs(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	ind_sets_free(f->defs);
	form_set_free(f->forms);
	free(f->yzjh);
	free(f->targets);
	arena_free(&f->a);
	tl_db_close(&f->t);
	free(f);
	return 0;
}

/* ---- building a small city ---- */

/* Add a school below a county (inclusive < 0: NULL, as for every non-kindergarten). */
static void add_school(struct fixture *f, long long id, const char *code, long long county,
                       const char *type, const char *ownership, int inclusive,
                       const char *urban_rural)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->t.db.h,
	                                    "INSERT INTO org_unit(id, code, name, kind, parent_id,"
	                                    " school_type, ownership, inclusive, urban_rural)"
	                                    " VALUES (?1, ?2, ?2, 'school', ?3, ?4, ?5, ?6, ?7)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, code, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, county);
	sqlite3_bind_text(st, 4, type, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, ownership, -1, SQLITE_TRANSIENT);
	if (inclusive < 0)
		sqlite3_bind_null(st, 6);
	else
		sqlite3_bind_int(st, 6, inclusive);
	sqlite3_bind_text(st, 7, urban_rural, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		fail_msg("school %s: %s", code, sqlite3_errmsg(f->t.db.h));
	sqlite3_finalize(st);
}

/* A primary school's figures (P = 500) that reach every 优质均衡 standard:
 * qualified 100·27/500 = 5.4, backbone 100·6/500 = 1.2, PE/arts 100·5/500 = 1.0,
 * teaching area (3000−500)/500 = 5.0, sports area (4000+500)/500 = 9.0,
 * equipment 150万·10000/500 = 3000, multimedia 100·15/500 = 3.0. */
#define PRI_OK                                                                                     \
	"pri_students=500 pri_classes=12 pri_t_edu_grad=2 pri_t_edu_bach=20 pri_t_edu_assoc=5 "    \
	"pri_t_edu_below=3 pri_t_backbone=6 pri_t_pe=2 pri_t_music=2 pri_t_art=1 "                 \
	"teaching_area=3000 indoor_sports_area=500 outdoor_sports_area=4000 equipment_value=150 "  \
	"multimedia_rooms=15 "

static const char *const stage_prefix[IND_NSTAGES] = {"kg", "pri", "jun", "sen", "voc", "spe"};
static const unsigned stage_bit[IND_NSTAGES] = {ST_KG, ST_PRI, ST_JUN, ST_SEN, ST_VOC, ST_SPE};

/* The value being built for one field (NULL when the field does not apply to the school). */
struct builder {
	struct fixture *f;
	const struct org_unit *school;
	unsigned stages;
	const char **val;
	unsigned char *given;
};

/* The field of a code, which must apply to the school. */
static const struct form_field *b_field(struct builder *b, const char *code)
{
	const struct form_field *fd = form_field_find(b->f->forms, code);
	if (!fd)
		fail_msg("no field %s", code);
	return form_field_applies(fd, b->school->school_type, b->stages) ? fd : NULL;
}

/* The number in a field (0 when it does not apply). */
static double b_num(struct builder *b, const char *code)
{
	const struct form_field *fd = b_field(b, code);
	return fd && b->val[fd->slot] ? atof(b->val[fd->slot]) : 0;
}

/* Give a field a value unless the test named it. */
static void b_default(struct builder *b, const char *code, double v)
{
	const struct form_field *fd = b_field(b, code);
	if (!fd || b->given[fd->slot])
		return;
	b->val[fd->slot] = fd->type == FT_DECIMAL ? arena_printf(&b->f->a, "%.2f", v)
	                                          : arena_printf(&b->f->a, "%.0f", v);
}

/* The sum of a stage column over the school's stages. */
static double b_stage_sum(struct builder *b, const char *column)
{
	double sum = 0;
	char code[64];
	for (int st = 0; st < IND_NSTAGES; st++)
		if (b->stages & stage_bit[st]) {
			snprintf(code, sizeof(code), "%s_%s", stage_prefix[st], column);
			sum += b_num(b, code);
		}
	return sum;
}

/* The same for a stage column ("pri", "students": pri_students). */
static double b_snum(struct builder *b, const char *stage, const char *column)
{
	char code[64];
	snprintf(code, sizeof(code), "%s_%s", stage, column);
	return b_num(b, code);
}

static void b_sdefault(struct builder *b, const char *stage, const char *column, double v)
{
	char code[64];
	snprintf(code, sizeof(code), "%s_%s", stage, column);
	b_default(b, code, v);
}

/* Did the test name a stage column? */
static bool b_sgiven(struct builder *b, const char *stage, const char *column)
{
	char code[64];
	snprintf(code, sizeof(code), "%s_%s", stage, column);
	const struct form_field *fd = b_field(b, code);
	return fd && b->given[fd->slot];
}

/* Import one school's four forms in `state` (WS_APPROVED or WS_SUBMITTED): every field that
 * applies gets a default (0, yes, a name, a phone, born 1980, 100 Mbps), then the overrides
 * "code=value ..." (a later one wins), then what follows from them so that no error rule
 * fires: the classes (students/40), the teachers (the sum of the degrees, or the 'below'
 * degree as the rest), the 'no title' rest, all certified, the staff total, the building and
 * land areas, one bed per boarder, a music and an art room per 12 classes (so that a
 * submission has no warning to explain). */
static void import_school(struct fixture *f, const char *code, enum wf_state state,
                          const char *overrides)
{
	char err[512];
	struct org_unit school;
	assert_int_equal(ou_get_by_code(&f->t.db, &f->a, code, &school), 1);
	const char *stages = ou_school_type_stages(school.school_type);
	size_t n = form_nslots(f->forms);
	struct builder b = {.f = f,
	                    .school = &school,
	                    .stages = form_stage_bits(stages ? stages : ""),
	                    .val = arena_alloc(&f->a, n * sizeof(char *)),
	                    .given = arena_alloc(&f->a, n)};
	for (size_t k = 0; k < n; k++) {
		const struct form_field *fd = form_field_at(f->forms, (int)k);
		if (!form_field_applies(fd, school.school_type, b.stages))
			continue;
		b.val[k] = fd->type == FT_YESNO ? "true"
		           : fd->type == FT_TEXT
		               ? (strcmp(fd->code, "contact_phone") == 0 ? "0531-12345678" : "张三")
		           : fd->type == FT_CHOICE                         ? fd->choices[0].value
		           : strcmp(fd->code, "principal_birth_year") == 0 ? "1980"
		           : strcmp(fd->code, "broadband_mbps") == 0       ? "100"
		                                                           : "0";
	}
	char *copy = arena_strdup(&f->a, overrides), *save = NULL;
	for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			fail_msg("override %s: no '='", tok);
		*eq = '\0';
		const struct form_field *fd = b_field(&b, tok);
		if (!fd)
			fail_msg("%s does not apply to %s (%s)", tok, code, school.school_type);
		b.val[fd->slot] = eq + 1;
		b.given[fd->slot] = 1;
	}
	for (int st = 0; st < IND_NSTAGES; st++) {
		if (!(b.stages & stage_bit[st]))
			continue;
		const char *p = stage_prefix[st];
		b_sdefault(&b, p, "classes", ceil(b_snum(&b, p, "students") / 40));
		double deg = b_snum(&b, p, "t_edu_grad") + b_snum(&b, p, "t_edu_bach") +
		             b_snum(&b, p, "t_edu_assoc");
		if (b_sgiven(&b, p, "teachers")) {
			b_sdefault(&b, p, "t_edu_below", b_snum(&b, p, "teachers") - deg);
			if (b_snum(&b, p, "t_edu_below") < 0)
				fail_msg("%s: %s_teachers below the degrees", code, p);
		} else {
			b_sdefault(&b, p, "teachers", deg + b_snum(&b, p, "t_edu_below"));
		}
		double t = b_snum(&b, p, "teachers");
		double titled = b_snum(&b, p, "t_title_zg") + b_snum(&b, p, "t_title_g") +
		                b_snum(&b, p, "t_title_1") + b_snum(&b, p, "t_title_2") +
		                b_snum(&b, p, "t_title_3");
		b_sdefault(&b, p, "t_title_none", t - titled);
		b_sdefault(&b, p, "t_certified", t);
	}
	b_default(&b, "staff_total", b_stage_sum(&b, "teachers") + b_num(&b, "kg_caregivers") + 2);
	b_default(&b, "building_area",
	          b_num(&b, "teaching_area") + b_num(&b, "d_grade_area") + 100);
	b_default(&b, "land_area",
	          b_num(&b, "building_area") + b_num(&b, "outdoor_sports_area") + 100);
	b_default(&b, "dorm_beds", b_stage_sum(&b, "boarders"));
	double rooms = ceil((b_num(&b, "pri_classes") + b_num(&b, "jun_classes")) / 12);
	b_default(&b, "music_rooms", rooms);
	b_default(&b, "art_rooms", rooms);

	/* {"dataValueSets": [...]} of the four forms, read back by dvs_parse */
	json_t *all = json_array();
	for (size_t i = 0; i < f->p.nforms; i++) {
		const struct form_def *form = form_find(f->forms, f->p.forms[i]);
		assert_non_null(form);
		json_t *values = json_array();
		for (size_t k = 0; k < form->nfields; k++) {
			const struct form_field *fd = form->fields[k];
			if (b.val[fd->slot])
				json_array_append_new(values, json_pack("{s:s, s:s}", "dataElement",
				                                        fd->code, "value",
				                                        b.val[fd->slot]));
		}
		json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:o}", "dataSet", form->code,
		                                     "period", f->p.code, "orgUnit", code,
		                                     "dataValues", values));
	}
	json_t *doc = json_pack("{s:o}", "dataValueSets", all);
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	struct dvs_set *sets;
	size_t nsets;
	if (!dvs_parse(&f->a, text, strlen(text), &sets, &nsets, err, sizeof(err)))
		fail_msg("%s: %s", code, err);
	free(text);
	char *buf = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&buf, &len);
	long stored =
	    dvs_import(&f->t.db, f->forms, sets, nsets, state, "admin-cli", "test.json", errs);
	fclose(errs);
	if (stored != (long)nsets)
		fail_msg("import of %s: %s", code, buf);
	free(buf);
}

/* ---- reading a result ---- */

static void compute(struct fixture *f, long long scope, bool provisional, struct ms_result *r)
{
	assert_int_equal(ms_compute(&f->t.db, &f->a, f->defs, &f->p, scope, provisional, r), 0);
}

static const struct ms_school *school_of(const struct ms_result *r, const char *code)
{
	for (size_t i = 0; i < r->nschools; i++)
		if (strcmp(r->schools[i].school->code, code) == 0)
			return &r->schools[i];
	fail_msg("no school %s in the result", code);
	return NULL;
}

/* The column of an indicator at a stage bit (0: the whole school). */
static size_t col_of(const struct ms_result *r, const char *ind, unsigned stage)
{
	int st = stage ? ind_stage_index(stage) : IND_WHOLE;
	for (size_t k = 0; k < r->ncols; k++)
		if (strcmp(r->cols[k].ind->code, ind) == 0 && r->cols[k].st == st)
			return k;
	fail_msg("no column %s at stage %u", ind, stage);
	return 0;
}

static const struct ms_val *val_of(const struct ms_result *r, const char *school, const char *ind,
                                   unsigned stage)
{
	return &school_of(r, school)->vals[col_of(r, ind, stage)];
}

/* The 优质均衡 verdict of a school at a stage. */
static int verdict_of(const struct ms_result *r, const char *school, unsigned stage)
{
	int si = ms_set_index(r->defs, ind_set_find(r->defs, "yzjh"));
	assert_true(si >= 0);
	return school_of(r, school)->verdict[si * IND_NSTAGES + ind_stage_index(stage)];
}

/* The verdict counts' index of yzjh at a stage. */
static size_t vidx(const struct ms_result *r, unsigned stage)
{
	int si = ms_set_index(r->defs, ind_set_find(r->defs, "yzjh"));
	return (size_t)si * IND_NSTAGES + (size_t)ind_stage_index(stage);
}

static const struct ms_group *county_of(const struct ms_result *r, const char *code)
{
	for (size_t i = 0; i < r->ncounties; i++)
		if (strcmp(r->counties[i].code, code) == 0)
			return &r->counties[i];
	fail_msg("no county %s in the result", code);
	return NULL;
}

static const struct ms_agg *agg_of(const struct ms_result *r, const struct ms_group *g,
                                   const char *ind, unsigned stage)
{
	return &g->aggs[col_of(r, ind, stage)];
}

/* ---- the weighted CV and the threshold test ---- */

/* ms_cv on the worked example of domain-research.md §1.5: five primary schools, books per
 * pupil X = books / P weighted by P: mean 1913/302 = 6.3344, S = 3.2639, CV = 0.51526 (the
 * source shows 0.52) — above the 小学 limit 0.50, while the unweighted CV 0.489 is not. */
static void test_cv_worked_example(void **state)
{
	(void)state;
	const double P[5] = {45, 37, 89, 76, 55}, books[5] = {279, 137, 935, 160, 402};
	double x[5], cv = -1, mean = -1, sd = -1;
	for (int i = 0; i < 5; i++)
		x[i] = books[i] / P[i];
	assert_true(ms_cv(x, P, 5, &cv, &mean, &sd));
	assert_near(mean, 1913.0 / 302.0, 1e-12);
	assert_near(mean, 6.3344, 1e-4);
	assert_near(sd, 3.2639, 1e-4);
	assert_near(cv, 0.51526, 1e-4);
	assert_near(cv, sd / mean, 1e-12);
	/* the same by hand: √Σ(Pᵢ/P)(Xᵢ − X̄)² / X̄ */
	double var = 0;
	for (int i = 0; i < 5; i++)
		var += P[i] / 302.0 * (x[i] - 1913.0 / 302.0) * (x[i] - 1913.0 / 302.0);
	assert_near(cv, sqrt(var) / (1913.0 / 302.0), 1e-12);
	/* the unweighted population CV of the same values is 0.489: not what we compute */
	double mu = 0, vu = 0;
	for (int i = 0; i < 5; i++)
		mu += x[i] / 5;
	for (int i = 0; i < 5; i++)
		vu += (x[i] - mu) * (x[i] - mu) / 5;
	double cv_unweighted = sqrt(vu) / mu;
	assert_near(cv_unweighted, 0.489, 1e-3);
	assert_true(fabs(cv - cv_unweighted) > 0.02);
	assert_true(cv > 0.50 && cv_unweighted < 0.50);
	/* scaling every weight changes nothing; the order of the schools neither */
	double P10[5], xr[5], Pr[5], cv2, m2, s2;
	for (int i = 0; i < 5; i++) {
		P10[i] = 10 * P[i];
		xr[i] = x[4 - i];
		Pr[i] = P[4 - i];
	}
	assert_true(ms_cv(x, P10, 5, &cv2, &m2, &s2));
	assert_near(cv2, cv, 1e-12);
	assert_true(ms_cv(xr, Pr, 5, &cv2, &m2, &s2));
	assert_near(cv2, cv, 1e-12);
}

/* ms_cv edge cases: one value gives 0 (a county with one school); equal values give 0; no
 * value, only zero weights or a zero mean give false (no division by zero); a value with
 * weight 0 does not count. */
static void test_cv_edge_cases(void **state)
{
	(void)state;
	double cv = -1, mean = -1, sd = -1;
	const double one_x[1] = {4.7}, one_w[1] = {300};
	assert_true(ms_cv(one_x, one_w, 1, &cv, &mean, &sd));
	assert_near(cv, 0, 0);
	assert_near(sd, 0, 0);
	assert_near(mean, 4.7, 1e-12);

	const double same_x[3] = {2.5, 2.5, 2.5}, w3[3] = {10, 200, 33};
	assert_true(ms_cv(same_x, w3, 3, &cv, &mean, &sd));
	assert_near(cv, 0, 1e-15);
	assert_near(mean, 2.5, 1e-12);

	assert_false(ms_cv(NULL, NULL, 0, &cv, &mean, &sd));
	const double zero_w[3] = {0, 0, 0}, x3[3] = {1, 2, 3};
	assert_false(ms_cv(x3, zero_w, 3, &cv, &mean, &sd));
	const double zero_x[3] = {0, 0, 0};
	assert_false(ms_cv(zero_x, w3, 3, &cv, &mean, &sd));

	/* a weight of 0 leaves its value out: {1 (w 0), 2 (w 1), 4 (w 1)} is {2, 4}: mean 3, sd 1
	 */
	const double xs[3] = {1, 2, 4}, ws[3] = {0, 1, 1};
	assert_true(ms_cv(xs, ws, 3, &cv, &mean, &sd));
	assert_near(mean, 3, 1e-12);
	assert_near(sd, 1, 1e-12);
	assert_near(cv, 1.0 / 3, 1e-12);
}

/* ms_meets: a value exactly at the standard meets it, for >= and for <=; just past it does
 * not. */
static void test_meets_boundary(void **state)
{
	(void)state;
	assert_true(ms_meets(4.2, 4.2, ID_GE));
	assert_true(ms_meets(4.3, 4.2, ID_GE));
	assert_false(ms_meets(nextafter(4.2, 0), 4.2, ID_GE));
	assert_true(ms_meets(100, 100, ID_GE));
	assert_false(ms_meets(99.99, 100, ID_GE));
	assert_true(ms_meets(0, 0, ID_LE));
	assert_true(ms_meets(45, 45, ID_LE));
	assert_true(ms_meets(44.9, 45, ID_LE));
	assert_false(ms_meets(nextafter(45, 100), 45, ID_LE));
	assert_false(ms_meets(0.001, 0, ID_LE));
	/* the thresholds as stored: 2.3 computed as 100·23/1000 is exactly at it */
	assert_true(ms_meets(100.0 * 23 / 1000, 2.3, ID_GE));
	assert_true(ms_meets(100.0 * 9 / 1000, 0.9, ID_GE));
}

/* ---- definitions ---- */

/* The two real files parse against the real forms: two sets, their kinds, the 7 优质均衡
 * indicators with both stages' standards, the stage weights, the verdict rule, the CV
 * limits, and the 15 targets with their levels. */
static void test_real_definitions(void **state)
{
	struct fixture *f = *state;
	struct ind_sets *s = f->defs;
	assert_int_equal(s->nsets, 2);
	assert_int_equal(ind_nvars(s), form_nslots(f->forms) + IV_COUNT);
	const struct ind_set *y = ind_set_find(s, "yzjh"), *t = ind_set_find(s, "targets");
	assert_non_null(y);
	assert_non_null(t);
	assert_null(ind_set_find(s, "nope"));
	assert_int_equal(y->kind, IK_BALANCE);
	assert_int_equal(t->kind, IK_TARGETS);
	assert_int_equal(y->edition, 1);
	assert_int_equal(y->ninds, 7);
	assert_int_equal(t->ninds, 15);
	int pri = ind_stage_index(ST_PRI), jun = ind_stage_index(ST_JUN);
	assert_int_equal(ind_stage_index(0), IND_WHOLE);
	assert_near(y->weights[pri], 1, 0);
	assert_near(y->weights[jun], 1.1, 0);
	assert_near(y->weights[ind_stage_index(ST_SEN)], 1.32, 0);
	assert_int_equal(y->min_met, 6);
	assert_near(y->floor, 0.85, 0);
	assert_near(y->cv_limit[pri], 0.50, 0);
	assert_near(y->cv_limit[jun], 0.45, 0);
	assert_near(y->cv_limit[ind_stage_index(ST_SEN)], 0, 0);
	assert_non_null(y->include[pri]);
	assert_non_null(y->include[jun]);
	static const struct {
		const char *code;
		double pri, jun, factor;
		bool share;
	} yz[7] = {
	    {"yz_qualified", 4.2, 5.3, 100, false}, {"yz_backbone", 1.0, 1.0, 100, false},
	    {"yz_pe_arts", 0.9, 0.9, 100, false},   {"yz_teaching_area", 4.5, 5.8, 1, true},
	    {"yz_sports_area", 7.5, 10.2, 1, true}, {"yz_equipment", 2000, 2500, 10000, true},
	    {"yz_multimedia", 2.3, 2.4, 100, true}};
	for (size_t k = 0; k < 7; k++) {
		const struct ind_def *d = &y->inds[k];
		assert_string_equal(d->code, yz[k].code);
		assert_int_equal(d->stages, ST_PRI | ST_JUN);
		assert_near(d->threshold[pri], yz[k].pri, 0);
		assert_near(d->threshold[jun], yz[k].jun, 0);
		assert_near(d->factor, yz[k].factor, 0);
		assert_int_equal(d->share, yz[k].share);
		assert_int_equal(d->dir, ID_GE);
		assert_int_equal(d->levels, IL_SCHOOL | IL_COUNTY);
		assert_non_null(d->num[pri]);
		assert_non_null(d->num[jun]);
		assert_non_null(d->den[pri]);
		assert_null(d->num[IND_WHOLE]);
	}
	const struct ind_def *super = NULL, *rural = NULL;
	for (size_t k = 0; k < t->ninds; k++) {
		if (strcmp(t->inds[k].code, "super_large_classes") == 0)
			super = &t->inds[k];
		if (strcmp(t->inds[k].code, "rural_principals_under_45") == 0)
			rural = &t->inds[k];
	}
	assert_non_null(super);
	assert_int_equal(super->stages, 0);
	assert_non_null(super->num[IND_WHOLE]);
	assert_null(super->den[IND_WHOLE]); /* a count */
	assert_int_equal(super->dir, ID_LE);
	assert_int_equal(super->levels, IL_SCHOOL | IL_COUNTY | IL_CITY);
	assert_non_null(rural);
	assert_non_null(rural->applies[IND_WHOLE]);
	assert_int_equal(rural->levels, IL_COUNTY);
}

/* One broken definition: a change of one of the real files (by a path such as
 * "indicators/1/numerator" set to some JSON, or removed when json is NULL), or raw text. */
struct broken {
	const char *what;
	const char *base; /* "yzjh" or "targets", or NULL: raw is the text */
	bool with_yzjh;   /* the real yzjh.json loaded first */
	const char *path;
	const char *json;
	const char *raw;
	const char *set;     /* the set the message names, or NULL */
	const char *ind;     /* the indicator the message names, or NULL */
	const char *problem; /* a fragment of the problem */
	const char *problem2;
};

/* Set (or remove) the member at a '/'-separated path. */
static void json_put(json_t *root, const char *path, const char *json)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *cur = root;
	char *save = NULL, *seg = strtok_r(buf, "/", &save), *next;
	for (; (next = strtok_r(NULL, "/", &save)); seg = next) {
		cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(seg))
		                         : json_object_get(cur, seg);
		if (!cur)
			fail_msg("no %s in %s", seg, path);
	}
	json_t *v = NULL;
	if (json) {
		json_error_t je;
		v = json_loads(json, JSON_DECODE_ANY, &je);
		if (!v)
			fail_msg("%s: %s", json, je.text);
	}
	if (json_is_array(cur)) {
		if (v)
			assert_int_equal(json_array_set_new(cur, (size_t)atoi(seg), v), 0);
		else
			assert_int_equal(json_array_remove(cur, (size_t)atoi(seg)), 0);
	} else if (v) {
		assert_int_equal(json_object_set_new(cur, seg, v), 0);
	} else {
		assert_int_equal(json_object_del(cur, seg), 0);
	}
}

/* The text of a real definition with one change (malloc'd). */
static char *mutated(struct fixture *f, const char *base, const char *path, const char *json)
{
	json_error_t je;
	const char *text = strcmp(base, "yzjh") == 0 ? f->yzjh : f->targets;
	json_t *root = json_loads(text, 0, &je);
	assert_non_null(root);
	if (path)
		json_put(root, path, json);
	char *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return out;
}

/* 52 broken definitions, each refused with a message that names the file, the set and the
 * indicator where there is one, and the problem; nothing is added to the collection, and the
 * real file still loads after the refusal. Every case is tried and each one that is not refused
 * as it should be is printed (TB_SHOW_ERRORS=1 prints every message). A definition over
 * IND_MAX_JSON is refused; floor 1 and min_met = the number of indicators are allowed. */
static void test_broken_definitions(void **state)
{
	struct fixture *f = *state;
	static const struct broken cases[] = {
	    {"unknown field in a numerator", "yzjh", false, "indicators/1/numerator",
	     "\"s_t_backbon\"", NULL, "yzjh", "yz_backbone", "numerator", "unknown field"},
	    {"unknown field in a denominator", "targets", false, "indicators/3/denominator",
	     "\"sum(kg_teachers, pri_teacher)\"", NULL, "targets", "certified_share", "denominator",
	     "unknown field"},
	    {"unknown variable in applies", "targets", false, "indicators/8/applies", "\"is_rurl\"",
	     NULL, "targets", "rural_principals_under_45", "applies", "unknown field"},
	    {"a syntax error", "yzjh", false, "indicators/2/numerator",
	     "\"s_t_pe + (s_t_music + s_t_art\"", NULL, "yzjh", "yz_pe_arts", "numerator",
	     "column"},
	    {"a dangling operator", "targets", false, "indicators/4/numerator", "\"kg_students *\"",
	     NULL, "targets", "kg_children_per_teacher", "numerator", "column"},
	    {"s_ in a whole-school indicator", "targets", false, "indicators/0/numerator",
	     "\"s_classes_56_65\"", NULL, "targets", "large_class_share", "s_ names", NULL},
	    {"s_ in a whole-school denominator", "targets", false, "indicators/4/denominator",
	     "\"s_teachers\"", NULL, "targets", "kg_children_per_teacher", "s_ names", NULL},
	    {"a stage-keyed numerator without a stage", "yzjh", false, "indicators/0/numerator/jun",
	     NULL, NULL, "yzjh", "yz_qualified", "numerator", "jun"},
	    {"an object by stage in a whole-school indicator", "targets", false,
	     "indicators/4/numerator", "{\"kg\": \"kg_students\"}", NULL, "targets",
	     "kg_children_per_teacher", "numerator", "stages"},
	    {"an unknown stage", "yzjh", false, "indicators/1/stages", "[\"pri\", \"mid\"]", NULL,
	     "yzjh", "yz_backbone", "stages", "unknown"},
	    {"a repeated stage", "yzjh", false, "indicators/1/stages", "[\"pri\", \"pri\"]", NULL,
	     "yzjh", "yz_backbone", "stages", "repeated"},
	    {"a balance indicator without stages", "yzjh", false, "indicators/1/stages", NULL, NULL,
	     "yzjh", "yz_backbone", "stages", NULL},
	    {"threshold missing", "yzjh", false, "indicators/1/threshold", NULL, NULL, "yzjh",
	     "yz_backbone", "threshold", "missing"},
	    {"threshold negative", "targets", false, "indicators/3/threshold", "-1", NULL,
	     "targets", "certified_share", "threshold", "number"},
	    {"threshold not a number", "targets", false, "indicators/3/threshold", "\"100\"", NULL,
	     "targets", "certified_share", "threshold", "number"},
	    {"threshold without one of the stages", "yzjh", false, "indicators/2/threshold",
	     "{\"pri\": 0.9}", NULL, "yzjh", "yz_pe_arts", "threshold", "jun"},
	    {"threshold of a stage negative", "yzjh", false, "indicators/2/threshold/jun", "-0.9",
	     NULL, "yzjh", "yz_pe_arts", "threshold", "jun"},
	    {"threshold of a stage that is no stage (a typo)", "yzjh", false,
	     "indicators/2/threshold", "{\"pri\": 0.9, \"jun\": 0.9, \"jnu\": 1.0}", NULL, "yzjh",
	     "yz_pe_arts", "threshold", "jnu"},
	    {"a numerator of a stage the indicator does not have", "yzjh", false,
	     "indicators/0/numerator/sen", "\"sen_t_edu_grad\"", NULL, "yzjh", "yz_qualified",
	     "numerator", "sen"},
	    {"direction not >= or <=", "yzjh", false, "indicators/3/direction", "\"=>\"", NULL,
	     "yzjh", "yz_teaching_area", "direction", NULL},
	    {"direction missing", "targets", false, "indicators/1/direction", NULL, NULL, "targets",
	     "super_large_classes", "direction", NULL},
	    {"an unknown level", "targets", false, "indicators/1/levels",
	     "[\"county\", \"province\"]", NULL, "targets", "super_large_classes", "levels", NULL},
	    {"no level", "targets", false, "indicators/1/levels", "[]", NULL, "targets",
	     "super_large_classes", "levels", NULL},
	    {"an unknown key in an indicator (a typo)", "yzjh", false, "indicators/3/denominater",
	     "\"s_students\"", NULL, "yzjh", "yz_teaching_area", "unknown key", "denominater"},
	    {"an unknown key in a set (a typo)", "yzjh", false, "cv_limit",
	     "{\"pri\": 0.5, \"jun\": 0.45}", NULL, "yzjh", NULL, "unknown key", "cv_limit"},
	    {"an indicator code twice in a set", "yzjh", false, "indicators/1/code",
	     "\"yz_qualified\"", NULL, "yzjh", "yz_qualified", "used twice", NULL},
	    {"an indicator code of another set", "targets", true, "indicators/0/code",
	     "\"yz_backbone\"", NULL, "targets", "yz_backbone", "used twice", "across sets"},
	    {"a set code loaded twice", "yzjh", true, NULL, NULL, NULL, "yzjh", NULL, "set code",
	     "twice"},
	    {"a set code that is not a code", "yzjh", false, "code", "\"YZ-JH\"", NULL, "YZ-JH",
	     NULL, "set code", NULL},
	    {"kind neither balance nor targets", "yzjh", false, "kind", "\"other\"", NULL, "yzjh",
	     NULL, "kind", NULL},
	    {"balance without cv_limits", "yzjh", false, "cv_limits", NULL, NULL, "yzjh", NULL,
	     "cv_limits", NULL},
	    {"a CV limit of an unknown stage", "yzjh", false, "cv_limits/mid", "0.4", NULL, "yzjh",
	     NULL, "cv_limits", "mid"},
	    {"a CV limit of 0", "yzjh", false, "cv_limits/jun", "0", NULL, "yzjh", NULL,
	     "cv_limits", "jun"},
	    {"balance without verdict", "yzjh", false, "verdict", NULL, NULL, "yzjh", NULL,
	     "verdict", NULL},
	    {"min_met larger than the number of indicators", "yzjh", false, "verdict/min_met", "8",
	     NULL, "yzjh", NULL, "min_met", "larger"},
	    {"min_met 0", "yzjh", false, "verdict/min_met", "0", NULL, "yzjh", NULL, "verdict",
	     NULL},
	    {"floor 0", "yzjh", false, "verdict/floor", "0", NULL, "yzjh", NULL, "verdict",
	     "floor"},
	    {"floor above 1", "yzjh", false, "verdict/floor", "1.01", NULL, "yzjh", NULL, "verdict",
	     "floor"},
	    {"a stage weight of an unknown stage", "yzjh", false, "stage_weights/mid", "1.2", NULL,
	     "yzjh", NULL, "stage_weights", "mid"},
	    {"a stage weight of 0", "yzjh", false, "stage_weights/jun", "0", NULL, "yzjh", NULL,
	     "stage_weights", "jun"},
	    {"an include with an unknown field", "yzjh", false, "include", "\"school_typ < 360\"",
	     NULL, "yzjh", NULL, "include", "unknown field"},
	    {"share without stages", "targets", false, "indicators/10/share", "true", NULL,
	     "targets", "multimedia_per_class", "share", "stages"},
	    {"share without a denominator", "yzjh", false, "indicators/6/denominator", NULL, NULL,
	     "yzjh", "yz_multimedia", "share", "denominator"},
	    {"factor 0", "yzjh", false, "indicators/0/factor", "0", NULL, "yzjh", "yz_qualified",
	     "factor", NULL},
	    {"numerator missing", "targets", false, "indicators/13/numerator", NULL, NULL,
	     "targets", "boarders_without_bed", "numerator", "missing"},
	    {"a target without its document", "targets", false, "indicators/5/document", NULL, NULL,
	     "targets", "kg_class_size_ok", "document", NULL},
	    {"edition 0", "yzjh", false, "edition", "0", NULL, "yzjh", NULL, "edition", NULL},
	    {"edition not an integer", "targets", false, "edition", "1.5", NULL, "targets", NULL,
	     "edition", NULL},
	    {"no indicators", "targets", false, "indicators", "[]", NULL, "targets", NULL,
	     "indicators", NULL},
	    {"not JSON", NULL, false, NULL, NULL, "{\"code\": \"yzjh\", \"kind\": ", NULL, NULL,
	     "line", NULL},
	    {"duplicate JSON keys", NULL, false, NULL, NULL,
	     "{\"code\": \"yzjh\", \"code\": \"targets\", \"kind\": \"targets\"}", NULL, NULL,
	     "duplicate", NULL},
	    {"not an object", NULL, false, NULL, NULL, "[1, 2]", NULL, NULL, "object", NULL},
	};
	char err[1024], fname[64];
	int failures = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct broken *c = &cases[i];
		struct ind_sets *s = ind_sets_new(f->forms);
		assert_non_null(s);
		if (c->with_yzjh &&
		    !ind_sets_add_json(s, f->yzjh, f->yzjh_len, "yzjh.json", err, sizeof(err)))
			fail_msg("%s", err);
		size_t before = s->nsets;
		char *text = c->base ? mutated(f, c->base, c->path, c->json) : strdup(c->raw);
		snprintf(fname, sizeof(fname), "broken%zu.json", i);
		err[0] = '\0';
		bool ok = ind_sets_add_json(s, text, strlen(text), fname, err, sizeof(err));
		if (getenv("TB_SHOW_ERRORS"))
			fprintf(stderr, "%-50s %s\n", c->what, err);
		/* every case is tried; each problem is printed, the test fails at the end */
		char want[200], problem[1400] = "";
		if (ok)
			snprintf(problem, sizeof(problem), "was accepted");
		else if (strncmp(err, fname, strlen(fname)) != 0)
			snprintf(problem, sizeof(problem),
			         "the message does not start with the file: %s", err);
		else if (c->set &&
		         (snprintf(want, sizeof(want), "set %s", c->set), !strstr(err, want)))
			snprintf(problem, sizeof(problem), "no \"%s\" in: %s", want, err);
		else if (c->ind &&
		         (snprintf(want, sizeof(want), "indicator %s", c->ind), !strstr(err, want)))
			snprintf(problem, sizeof(problem), "no \"%s\" in: %s", want, err);
		else if (!c->ind && strstr(err, "indicator "))
			snprintf(problem, sizeof(problem), "names an indicator: %s", err);
		else if (!strstr(err, c->problem) || (c->problem2 && !strstr(err, c->problem2)))
			snprintf(problem, sizeof(problem), "no \"%s\"/\"%s\" in: %s", c->problem,
			         c->problem2 ? c->problem2 : "", err);
		else if (s->nsets != before)
			snprintf(problem, sizeof(problem), "the refused set was added");
		/* the refused set left nothing behind: the real file loads after it */
		else if (!c->with_yzjh && c->base && strcmp(c->base, "yzjh") == 0 &&
		         !ind_sets_add_json(s, f->yzjh, f->yzjh_len, "yzjh.json", err, sizeof(err)))
			snprintf(problem, sizeof(problem), "then yzjh.json: %s", err);
		else if (c->base && strcmp(c->base, "targets") == 0 &&
		         !ind_sets_add_json(s, f->targets, f->targets_len, "targets.json", err,
		                            sizeof(err)))
			snprintf(problem, sizeof(problem), "then targets.json: %s", err);
		if (problem[0]) {
			print_error("case \"%s\": %s\n", c->what, problem);
			failures++;
		}
		free(text);
		ind_sets_free(s);
	}
	/* a definition larger than IND_MAX_JSON */
	{
		struct ind_sets *big = ind_sets_new(f->forms);
		size_t n = IND_MAX_JSON + 10;
		char *text = malloc(n + 1);
		memset(text, ' ', n);
		text[0] = '{';
		text[n - 1] = '}';
		text[n] = '\0';
		assert_false(ind_sets_add_json(big, text, n, "big.json", err, sizeof(err)));
		assert_non_null(strstr(err, "big.json"));
		assert_non_null(strstr(err, "larger than"));
		assert_int_equal(big->nsets, 0);
		free(text);
		ind_sets_free(big);
	}
	/* the edges that are allowed: floor exactly 1, min_met equal to the number of indicators */
	struct ind_sets *s = ind_sets_new(f->forms);
	char *text = mutated(f, "yzjh", "verdict", "{\"min_met\": 7, \"floor\": 1}");
	if (!ind_sets_add_json(s, text, strlen(text), "edge.json", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(ind_set_find(s, "yzjh")->min_met, 7);
	free(text);
	ind_sets_free(s);
	if (failures)
		fail_msg("%d of %zu broken definitions not refused as they should be", failures,
		         sizeof(cases) / sizeof(cases[0]));
}

/* ind_store and ind_load_db: both sets stored with an audit row indicators.load each and the
 * setting indicators_generation incremented on every store; loaded back the same; a
 * definition stored in the database that no longer parses is refused on load. */
static void test_store_and_load(void **state)
{
	struct fixture *f = *state;
	char err[1024];
	struct db *db = &f->t.db;
	assert_int_equal(
	    tl_int(db, "SELECT value FROM setting WHERE key = 'indicators_generation'", NULL), 0);
	if (!ind_store(db, f->defs, "admin-cli", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(tl_int(db, "SELECT count(*) FROM indicator_set", NULL), 2);
	assert_int_equal(
	    tl_int(db, "SELECT value FROM setting WHERE key = 'indicators_generation'", NULL), 1);
	assert_int_equal(tl_int(db,
	                        "SELECT count(*) FROM audit WHERE action = 'indicators.load'"
	                        " AND actor = 'admin-cli'",
	                        NULL),
	                 2);
	assert_int_equal(tl_int(db,
	                        "SELECT count(*) FROM audit WHERE action = 'indicators.load'"
	                        " AND object = ?1",
	                        "indicator_set:yzjh"),
	                 1);
	assert_int_equal(tl_int(db, "SELECT edition FROM indicator_set WHERE code = ?1", "yzjh"),
	                 1);

	struct ind_sets *back = ind_load_db(db, f->forms, err, sizeof(err));
	if (!back)
		fail_msg("%s", err);
	assert_int_equal(back->nsets, 2);
	const struct ind_set *y0 = ind_set_find(f->defs, "yzjh"), *y1 = ind_set_find(back, "yzjh");
	assert_non_null(y1);
	assert_non_null(ind_set_find(back, "targets"));
	assert_int_equal(y1->ninds, y0->ninds);
	assert_int_equal(y1->min_met, y0->min_met);
	assert_string_equal(y1->json, y0->json);
	for (size_t k = 0; k < y0->ninds; k++) {
		assert_string_equal(y1->inds[k].code, y0->inds[k].code);
		for (int st = 0; st <= IND_NSTAGES; st++)
			assert_near(y1->inds[k].threshold[st], y0->inds[k].threshold[st], 0);
	}
	ind_sets_free(back);

	/* storing the same again: allowed (equal edition), generation 2 */
	assert_true(ind_store(db, f->defs, "admin-cli", err, sizeof(err)));
	assert_int_equal(
	    tl_int(db, "SELECT value FROM setting WHERE key = 'indicators_generation'", NULL), 2);
	assert_int_equal(
	    tl_int(db, "SELECT count(*) FROM audit WHERE action = 'indicators.load'", NULL), 4);

	/* a definition in the database that does not match the forms: refused, naming it */
	assert_true(
	    db_exec(db, "UPDATE indicator_set SET definition ="
	                " replace(definition, 's_t_backbone', 's_t_backbon') WHERE code = 'yzjh'"));
	back = ind_load_db(db, f->forms, err, sizeof(err));
	assert_null(back);
	assert_non_null(strstr(err, "yz_backbone"));
	assert_non_null(strstr(err, "unknown field"));
}

/* ind_store refuses a lower edition than the stored one and then stores nothing: not the
 * other set of the same call, no audit row, no new generation. */
static void test_store_lower_edition(void **state)
{
	struct fixture *f = *state;
	char err[1024];
	struct db *db = &f->t.db;
	struct ind_sets *s3 = ind_sets_new(f->forms);
	char *y3 = mutated(f, "yzjh", "edition", "3");
	assert_true(ind_sets_add_json(s3, y3, strlen(y3), "yzjh.json", err, sizeof(err)));
	assert_true(ind_store(db, s3, "admin-cli", err, sizeof(err)));
	assert_int_equal(tl_int(db, "SELECT edition FROM indicator_set WHERE code = ?1", "yzjh"),
	                 3);
	assert_int_equal(
	    tl_int(db, "SELECT value FROM setting WHERE key = 'indicators_generation'", NULL), 1);

	/* targets edition 2 (new) and yzjh edition 2 (< 3) in one call */
	struct ind_sets *s2 = ind_sets_new(f->forms);
	char *t2 = mutated(f, "targets", "edition", "2");
	char *y2 = mutated(f, "yzjh", "edition", "2");
	assert_true(ind_sets_add_json(s2, t2, strlen(t2), "targets.json", err, sizeof(err)));
	assert_true(ind_sets_add_json(s2, y2, strlen(y2), "yzjh.json", err, sizeof(err)));
	err[0] = '\0';
	assert_false(ind_store(db, s2, "admin-cli", err, sizeof(err)));
	assert_non_null(strstr(err, "yzjh"));
	assert_non_null(strstr(err, "lower"));
	assert_non_null(strstr(err, "nothing was stored"));
	assert_int_equal(tl_int(db, "SELECT edition FROM indicator_set WHERE code = ?1", "yzjh"),
	                 3);
	assert_int_equal(
	    tl_int(db, "SELECT count(*) FROM indicator_set WHERE code = ?1", "targets"), 0);
	assert_int_equal(
	    tl_int(db, "SELECT value FROM setting WHERE key = 'indicators_generation'", NULL), 1);
	assert_int_equal(
	    tl_int(db, "SELECT count(*) FROM audit WHERE action = 'indicators.load'", NULL), 1);
	/* the database is usable afterwards (no transaction left open) */
	struct ind_sets *s4 = ind_sets_new(f->forms);
	char *y4 = mutated(f, "yzjh", "edition", "4");
	assert_true(ind_sets_add_json(s4, y4, strlen(y4), "yzjh.json", err, sizeof(err)));
	if (!ind_store(db, s4, "admin-cli", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(tl_int(db, "SELECT edition FROM indicator_set WHERE code = ?1", "yzjh"),
	                 4);
	free(y3);
	free(t2);
	free(y2);
	free(y4);
	ind_sets_free(s3);
	ind_sets_free(s2);
	ind_sets_free(s4);
}

/* ---- computation ---- */

/* The 7 优质均衡 indicators of a primary school, each against the value computed by hand
 * (with the factor 100 of the per-100 ones and 10000 for the equipment value in 万元): state,
 * numerator, denominator, value and pass; the junior stage it does not have is MV_NONE; a
 * few targets of the same school (average class size, multimedia per class); a <= target
 * exactly at its standard passes (45 pupils per class), just above fails; a computation whose
 * scope is the school itself. */
static void test_school_indicators(void **state)
{
	struct fixture *f = *state;
	add_school(f, 10, "2199210001", COUNTY_A, "211", "public", -1, "111");
	import_school(f, "2199210001", WS_APPROVED, PRI_OK);
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const char *S = "2199210001";
	const double P = 500;
	const struct {
		const char *ind;
		double num, value;
	} want[7] = {
	    {"yz_qualified", 2 + 20 + 5, 100.0 * (2 + 20 + 5) / P}, /* 5.4 */
	    {"yz_backbone", 6, 100.0 * 6 / P},                      /* 1.2 */
	    {"yz_pe_arts", 2 + 2 + 1, 100.0 * (2 + 2 + 1) / P},     /* 1.0 */
	    {"yz_teaching_area", 3000 - 500, (3000.0 - 500) / P},   /* 5.0 */
	    {"yz_sports_area", 4000 + 500, (4000.0 + 500) / P},     /* 9.0 */
	    {"yz_equipment", 150, 150.0 * 10000 / P},               /* 3000 */
	    {"yz_multimedia", 15, 100.0 * 15 / P},                  /* 3.0 */
	};
	for (size_t k = 0; k < 7; k++) {
		const struct ms_val *v = val_of(&r, S, want[k].ind, ST_PRI);
		if (v->state != MV_OK)
			fail_msg("%s: state %d", want[k].ind, v->state);
		assert_true(v->known);
		assert_near(v->num, want[k].num, 1e-9);
		assert_near(v->den, P, 0);
		assert_near(v->value, want[k].value, 1e-9);
		assert_int_equal(v->pass, 1);
		assert_int_equal(val_of(&r, S, want[k].ind, ST_JUN)->state, MV_NONE);
	}
	assert_near(val_of(&r, S, "yz_equipment", ST_PRI)->value, 3000, 1e-9);
	assert_int_equal(verdict_of(&r, S, ST_PRI), VD_PASS);
	assert_int_equal(verdict_of(&r, S, ST_JUN), VD_NONE);
	const struct ms_school *sc = school_of(&r, S);
	assert_true(sc->has_data);
	assert_false(sc->provisional);
	/* average class size 500 / 12 (≤ 45), multimedia rooms per class 15 / 12 (≥ 1) */
	const struct ms_val *acs = val_of(&r, S, "avg_class_size", ST_PRI);
	assert_int_equal(acs->state, MV_OK);
	assert_near(acs->value, 500.0 / 12, 1e-9);
	assert_int_equal(acs->pass, 1);
	assert_int_equal(val_of(&r, S, "avg_class_size", ST_JUN)->state, MV_NONE);
	const struct ms_val *mpc = val_of(&r, S, "multimedia_per_class", 0);
	assert_near(mpc->value, 15.0 / 12, 1e-9);
	assert_int_equal(mpc->pass, 1);
	/* a school-level <= target exactly at its standard passes: 450 pupils in 10 classes = 45 */
	add_school(f, 12, "2199210012", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 13, "2199210013", COUNTY_A, "211", "public", -1, "111");
	import_school(f, "2199210012", WS_APPROVED, PRI_OK "pri_students=450 pri_classes=10");
	import_school(f, "2199210013", WS_APPROVED, PRI_OK "pri_students=451 pri_classes=10");
	struct ms_result r2;
	compute(f, CITY_ID, false, &r2);
	assert_near(val_of(&r2, "2199210012", "avg_class_size", ST_PRI)->value, 45, 0);
	assert_int_equal(val_of(&r2, "2199210012", "avg_class_size", ST_PRI)->pass, 1);
	assert_near(val_of(&r2, "2199210013", "avg_class_size", ST_PRI)->value, 45.1, 1e-9);
	assert_int_equal(val_of(&r2, "2199210013", "avg_class_size", ST_PRI)->pass, 0);
	/* a computation at the school itself: one school, the total is its own figures */
	struct ms_result r3;
	compute(f, 10, false, &r3);
	assert_int_equal(r3.nschools, 1);
	assert_int_equal(r3.ncounties, 0);
	assert_near(agg_of(&r3, &r3.total, "yz_equipment", ST_PRI)->value, 3000, 1e-9);
	assert_near(agg_of(&r3, &r3.total, "yz_equipment", ST_PRI)->cv, 0, 0);
	/* kindergarten and vocational figures do not concern a primary school */
	assert_int_equal(val_of(&r, S, "kg_inclusive_coverage", 0)->state, MV_NONE);
	assert_int_equal(val_of(&r, S, "kg_children_per_teacher", 0)->state, MV_NONE);
	assert_int_equal(val_of(&r, S, "voc_dual_share", 0)->state, MV_NONE);
}

/* The stage split of a 九年一贯制 school's shared facilities: share_pri = 1·P_pri /
 * (1·P_pri + 1.1·P_jun), share_jun the rest (weights of yzjh.json), for the teaching area,
 * the sports area, the equipment value and the multimedia rooms; the teacher indicators are
 * per stage (the junior stage counts 本科 and above only, not 专科); the verdict per stage; a
 * second such school exactly at every primary standard, the shared ones through the split,
 * passes. */
static void test_stage_split(void **state)
{
	struct fixture *f = *state;
	const char *S = "3199220003";
	add_school(f, 11, S, COUNTY_B, "312", "public", -1, "220");
	import_school(f, S, WS_APPROVED,
	              "pri_students=400 pri_classes=10 jun_students=300 jun_classes=7 "
	              "pri_t_edu_grad=1 pri_t_edu_bach=15 pri_t_edu_assoc=4 pri_t_backbone=5 "
	              "pri_t_pe=2 pri_t_music=1 pri_t_art=1 "
	              "jun_t_edu_grad=3 jun_t_edu_bach=12 jun_t_edu_assoc=10 jun_t_backbone=2 "
	              "jun_t_pe=1 jun_t_music=1 jun_t_art=1 "
	              "teaching_area=7600 indoor_sports_area=300 outdoor_sports_area=7000 "
	              "equipment_value=150 multimedia_rooms=20");
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const double Pp = 400, Pj = 300;
	const double share_pri = 1.0 * Pp / (1.0 * Pp + 1.1 * Pj); /* 400 / 730 */
	const double share_jun = 1.1 * Pj / (1.0 * Pp + 1.1 * Pj); /* 330 / 730 */
	/* teaching (7600 − 300) and sports (7000 + 300) area: 7300 split 4000 / 3300 */
	assert_near(val_of(&r, S, "yz_teaching_area", ST_PRI)->value, 7300 * share_pri / Pp, 1e-9);
	assert_near(val_of(&r, S, "yz_teaching_area", ST_PRI)->value, 10.0, 1e-9);
	assert_near(val_of(&r, S, "yz_teaching_area", ST_JUN)->value, 7300 * share_jun / Pj, 1e-9);
	assert_near(val_of(&r, S, "yz_teaching_area", ST_JUN)->value, 11.0, 1e-9);
	assert_near(val_of(&r, S, "yz_teaching_area", ST_PRI)->num, 4000, 1e-9);
	assert_near(val_of(&r, S, "yz_teaching_area", ST_JUN)->num, 3300, 1e-9);
	assert_near(val_of(&r, S, "yz_teaching_area", ST_JUN)->den, Pj, 0);
	/* not the unweighted split by pupils (7300·400/700/400 = 10.43) */
	assert_true(fabs(val_of(&r, S, "yz_teaching_area", ST_PRI)->value - 7300.0 / 700) > 0.1);
	assert_near(val_of(&r, S, "yz_sports_area", ST_PRI)->value, 10.0, 1e-9);
	assert_near(val_of(&r, S, "yz_sports_area", ST_JUN)->value, 11.0, 1e-9);
	/* equipment 150 万元 */
	assert_near(val_of(&r, S, "yz_equipment", ST_PRI)->value, 150 * 10000 * share_pri / Pp,
	            1e-6);
	assert_near(val_of(&r, S, "yz_equipment", ST_JUN)->value, 150 * 10000 * share_jun / Pj,
	            1e-6);
	/* 20 multimedia rooms */
	assert_near(val_of(&r, S, "yz_multimedia", ST_PRI)->value, 100 * 20 * share_pri / Pp, 1e-9);
	assert_near(val_of(&r, S, "yz_multimedia", ST_JUN)->value, 100 * 20 * share_jun / Pj, 1e-9);
	/* per-stage teachers: pri 专科 and above (1+15+4), jun 本科 and above (3+12, not the 10
	 * 专科) */
	assert_near(val_of(&r, S, "yz_qualified", ST_PRI)->value, 100.0 * 20 / Pp, 1e-9);
	assert_near(val_of(&r, S, "yz_qualified", ST_JUN)->value, 100.0 * 15 / Pj, 1e-9);
	assert_near(val_of(&r, S, "yz_backbone", ST_PRI)->value, 100.0 * 5 / Pp, 1e-9);
	assert_near(val_of(&r, S, "yz_backbone", ST_JUN)->value, 100.0 * 2 / Pj, 1e-9);
	assert_near(val_of(&r, S, "yz_pe_arts", ST_JUN)->value, 100.0 * 3 / Pj, 1e-9);
	/* pri: all 7 met. jun: qualified 5.0 < 5.3 (94%), backbone 0.667 < 0.85 (the floor),
	 * equipment 2260 < 2500 (90%): FAIL */
	const struct ind_set *y = ind_set_find(r.defs, "yzjh");
	for (size_t k = 0; k < y->ninds; k++)
		assert_int_equal(val_of(&r, S, y->inds[k].code, ST_PRI)->pass, 1);
	assert_int_equal(verdict_of(&r, S, ST_PRI), VD_PASS);
	assert_int_equal(val_of(&r, S, "yz_backbone", ST_JUN)->pass, 0);
	assert_int_equal(verdict_of(&r, S, ST_JUN), VD_FAIL);
	/* the county's counts per stage */
	const struct ms_group *g = county_of(&r, CODE_B);
	assert_int_equal(g->in_scope[vidx(&r, ST_PRI)], 1);
	assert_int_equal(g->passing[vidx(&r, ST_PRI)], 1);
	assert_int_equal(g->in_scope[vidx(&r, ST_JUN)], 1);
	assert_int_equal(g->failing[vidx(&r, ST_JUN)], 1);
	/* a second 九年一贯制 school (P_pri = P_jun = 1000: share_pri = 1000 / 2100) exactly at the
	 * primary standards, the shared ones through the split: (9450·1000/2100)/1000 = 4.5 m²,
	 * (15750·1000/2100)/1000 = 7.5 m², 420万·10000·(1000/2100)/1000 = 2000 元 */
	add_school(f, 14, "3199210014", COUNTY_A, "312", "public", -1, "111");
	import_school(
	    f, "3199210014", WS_APPROVED,
	    "pri_students=1000 jun_students=1000 pri_t_edu_bach=42 pri_t_backbone=10 "
	    "pri_t_pe=4 pri_t_music=3 pri_t_art=2 jun_t_edu_bach=60 jun_t_backbone=10 "
	    "jun_t_pe=9 teaching_area=9450 indoor_sports_area=0 outdoor_sports_area=15750 "
	    "equipment_value=420 multimedia_rooms=50");
	struct ms_result r2;
	compute(f, CITY_ID, false, &r2);
	const char *E = "3199210014";
	const double exact[7] = {4.2, 1.0, 0.9, 4.5, 7.5, 2000, 100.0 * 50 / 2100};
	for (size_t k = 0; k < y->ninds; k++) {
		const struct ms_val *v = val_of(&r2, E, y->inds[k].code, ST_PRI);
		assert_int_equal(v->state, MV_OK);
		assert_near(v->value, exact[k], 1e-9);
		if (v->pass != 1)
			fail_msg(
			    "%s exactly at the standard through the split: %.17g does not pass",
			    y->inds[k].code, v->value);
	}
	assert_int_equal(verdict_of(&r2, E, ST_PRI), VD_PASS);
	assert_near(val_of(&r2, E, "yz_teaching_area", ST_JUN)->value, 9450 * 1.1 / 2.1 / 1000,
	            1e-9);
	/* a whole-school target of a two-stage school reads both stages: avg class size per stage
	 */
	assert_near(val_of(&r, S, "avg_class_size", ST_PRI)->value, 400.0 / 10, 1e-9);
	assert_near(val_of(&r, S, "avg_class_size", ST_JUN)->value, 300.0 / 7, 1e-9);
	assert_near(val_of(&r, S, "multimedia_per_class", 0)->value, 20.0 / 17, 1e-9);
}

/* The school verdict: all 7 met → PASS; every one exactly at its standard → PASS; 6 met and
 * the seventh at exactly 85% → PASS; 6 met and one at 84.9% → FAIL; 5 met (the other two at
 * 90% and 95%) → FAIL; no pupils → every indicator MV_MISSING (no division by zero) and the
 * verdict VD_MISSING. The county counts them. */
static void test_verdicts(void **state)
{
	struct fixture *f = *state;
	add_school(f, 20, "2199210020", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 21, "2199210021", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 22, "2199210022", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 23, "2199210023", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 24, "2199210024", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 25, "2199210025", COUNTY_A, "211", "public", -1, "111");
	/* all met */
	import_school(f, "2199210020", WS_APPROVED, PRI_OK);
	/* P = 1000, each exactly at the standard: 42, 10, 9 teachers (4.2, 1.0, 0.9 per 100),
	 * (5000 − 500) = 4.5, (7000 + 500) = 7.5 m², 200万 = 2000 元, 23 rooms = 2.3 per 100 */
	import_school(f, "2199210021", WS_APPROVED,
	              "pri_students=1000 pri_classes=24 pri_t_edu_grad=2 pri_t_edu_bach=30 "
	              "pri_t_edu_assoc=10 pri_t_edu_below=8 pri_t_backbone=10 pri_t_pe=4 "
	              "pri_t_music=3 pri_t_art=2 teaching_area=5000 indoor_sports_area=500 "
	              "outdoor_sports_area=7000 equipment_value=200 multimedia_rooms=23");
	/* equipment 85万 / 500 = 1700 元 = 85% of 2000, the rest met */
	import_school(f, "2199210022", WS_APPROVED, PRI_OK "equipment_value=85");
	/* equipment 84.9万 / 500 = 1698 元 = 84.9% of 2000 */
	import_school(f, "2199210023", WS_APPROVED, PRI_OK "equipment_value=84.9");
	/* equipment 90万 = 1800 元 (90%), multimedia 11 = 2.2 per 100 (95.7%): 5 met */
	import_school(f, "2199210024", WS_APPROVED,
	              PRI_OK "equipment_value=90 multimedia_rooms=11");
	/* no pupils (teachers and facilities reported) */
	import_school(f, "2199210025", WS_APPROVED, PRI_OK "pri_students=0 pri_classes=0");
	struct ms_result r;
	compute(f, COUNTY_A, false, &r);

	assert_int_equal(verdict_of(&r, "2199210020", ST_PRI), VD_PASS);

	static const char *const yz[7] = {"yz_qualified",     "yz_backbone",    "yz_pe_arts",
	                                  "yz_teaching_area", "yz_sports_area", "yz_equipment",
	                                  "yz_multimedia"};
	static const double standard[7] = {4.2, 1.0, 0.9, 4.5, 7.5, 2000, 2.3};
	for (size_t k = 0; k < 7; k++) {
		const struct ms_val *v = val_of(&r, "2199210021", yz[k], ST_PRI);
		assert_int_equal(v->state, MV_OK);
		assert_near(v->value, standard[k], 1e-9);
		if (v->pass != 1)
			fail_msg("%s exactly at the standard %g: value %.17g does not pass", yz[k],
			         standard[k], v->value);
	}
	assert_int_equal(verdict_of(&r, "2199210021", ST_PRI), VD_PASS);

	const struct ms_val *eq85 = val_of(&r, "2199210022", "yz_equipment", ST_PRI);
	assert_near(eq85->value, 0.85 * 2000, 1e-9);
	assert_int_equal(eq85->pass, 0);
	assert_int_equal(verdict_of(&r, "2199210022", ST_PRI), VD_PASS);

	const struct ms_val *eq849 = val_of(&r, "2199210023", "yz_equipment", ST_PRI);
	assert_near(eq849->value, 0.849 * 2000, 1e-9);
	assert_int_equal(eq849->pass, 0);
	assert_int_equal(verdict_of(&r, "2199210023", ST_PRI), VD_FAIL);

	assert_near(val_of(&r, "2199210024", "yz_equipment", ST_PRI)->value, 1800, 1e-9);
	assert_near(val_of(&r, "2199210024", "yz_multimedia", ST_PRI)->value, 2.2, 1e-9);
	assert_int_equal(verdict_of(&r, "2199210024", ST_PRI), VD_FAIL);

	for (size_t k = 0; k < 7; k++) {
		const struct ms_val *v = val_of(&r, "2199210025", yz[k], ST_PRI);
		if (v->state != MV_MISSING)
			fail_msg("%s with no pupils: state %d, value %g", yz[k], v->state,
			         v->value);
		assert_true(isfinite(v->value));
		assert_int_equal(v->pass, -1);
		assert_near(v->den, 0, 0);
	}
	assert_int_equal(verdict_of(&r, "2199210025", ST_PRI), VD_MISSING);
	/* the average class size with no classes is missing too, not infinite */
	assert_int_equal(val_of(&r, "2199210025", "avg_class_size", ST_PRI)->state, MV_MISSING);

	/* the county (and the total, at a county scope the same) counts the verdicts */
	assert_int_equal(r.ncounties, 0);
	size_t vi = vidx(&r, ST_PRI);
	assert_int_equal(r.total.in_scope[vi], 6);
	assert_int_equal(r.total.passing[vi], 3);
	assert_int_equal(r.total.failing[vi], 2);
	assert_int_equal(r.total.missing[vi], 1);
	assert_int_equal(r.total.in_scope[vidx(&r, ST_JUN)], 0);
	/* the school with no pupils gives no value to the CV; the county sums stay finite */
	const struct ms_agg *ag = agg_of(&r, &r.total, "yz_backbone", ST_PRI);
	assert_true(ag->has_value);
	assert_true(isfinite(ag->value));
	assert_true(ag->has_cv && isfinite(ag->cv));
	/* judged at school level: 5 with a value, failing: the 85%, 84.9% and 5-met schools'
	 * equipment */
	const struct ms_agg *eq = agg_of(&r, &r.total, "yz_equipment", ST_PRI);
	assert_int_equal(eq->judged, 5);
	assert_int_equal(eq->failing, 3);
}

/* An indicator that does not concern a school (its `applies` is false) is not held against
 * the verdict, nor reported as missing data: with yz_equipment only for rural schools, an
 * urban school far below it passes on the other six; one that also misses one of them (at
 * 95.7%) still passes (one may miss); one that misses two of them (95.7%, 93.3%) fails. */
static void test_verdict_not_concerned(void **state)
{
	struct fixture *f = *state;
	char err[1024];
	char *text = mutated(f, "yzjh", "indicators/5/applies", "\"is_rural\"");
	struct ind_sets *defs = ind_sets_new(f->forms);
	assert_non_null(defs);
	if (!ind_sets_add_json(defs, text, strlen(text), "yzjh.json", err, sizeof(err)))
		fail_msg("%s", err);
	free(text);
	add_school(f, 80, "2199210080", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 81, "2199210081", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 82, "2199210082", COUNTY_A, "211", "public", -1, "111");
	import_school(f, "2199210080", WS_APPROVED, PRI_OK "equipment_value=10");
	import_school(f, "2199210081", WS_APPROVED,
	              PRI_OK "equipment_value=10 multimedia_rooms=11");
	import_school(f, "2199210082", WS_APPROVED,
	              PRI_OK "equipment_value=10 multimedia_rooms=11 teaching_area=2100");
	struct ms_result r;
	assert_int_equal(ms_compute(&f->t.db, &f->a, defs, &f->p, COUNTY_A, false, &r), 0);
	assert_int_equal(val_of(&r, "2199210080", "yz_equipment", ST_PRI)->state, MV_NONE);
	assert_int_equal(verdict_of(&r, "2199210080", ST_PRI), VD_PASS);
	assert_int_equal(verdict_of(&r, "2199210081", ST_PRI), VD_PASS);
	assert_int_equal(verdict_of(&r, "2199210082", ST_PRI), VD_FAIL);
	ind_sets_free(defs);
}

/* Who takes part in 优质均衡: a 教学点 with 40 (or 49) pupils does not (MV_NONE, VD_NONE) while
 * one with 60 (or exactly 50) does; a special school (511) does not; kindergartens do not. The
 * excluded schools add nothing to the county's sums or CV, but still count for the targets. */
static void test_exclusions(void **state)
{
	struct fixture *f = *state;
	add_school(f, 30, "2199210030", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 31, "2199210031", COUNTY_A, "218", "public", -1, "220"); /* 40 pupils */
	add_school(f, 32, "2199210032", COUNTY_A, "218", "public", -1, "220"); /* 60 pupils */
	add_school(f, 33, "5199210033", COUNTY_A, "511", "public", -1, "111");
	add_school(f, 34, "1199210034", COUNTY_A, "111", "public", 0, "111");
	add_school(f, 35, "2199210035", COUNTY_A, "218", "public", -1, "220"); /* 50 pupils */
	add_school(f, 36, "2199210036", COUNTY_A, "218", "public", -1, "220"); /* 49 pupils */
	import_school(f, "2199210030", WS_APPROVED, PRI_OK);
	import_school(
	    f, "2199210031", WS_APPROVED,
	    "pri_students=40 pri_classes=3 pri_t_edu_bach=3 pri_t_backbone=1 pri_t_pe=1 "
	    "teaching_area=300 outdoor_sports_area=400 equipment_value=10 multimedia_rooms=2");
	import_school(
	    f, "2199210032", WS_APPROVED,
	    "pri_students=60 pri_classes=4 pri_t_edu_bach=4 pri_t_backbone=1 pri_t_pe=1 "
	    "teaching_area=360 outdoor_sports_area=480 equipment_value=15 multimedia_rooms=2");
	import_school(f, "5199210033", WS_APPROVED,
	              "spe_students=80 spe_classes=10 spe_t_edu_bach=20 spe_t_backbone=3 "
	              "teaching_area=2000 outdoor_sports_area=1000 equipment_value=300 "
	              "multimedia_rooms=10");
	import_school(f, "1199210034", WS_APPROVED,
	              "kg_students=90 kg_classes=3 kg_t_edu_assoc=6 teaching_area=600");
	import_school(
	    f, "2199210035", WS_APPROVED,
	    "pri_students=50 pri_classes=3 pri_t_edu_bach=3 pri_t_backbone=1 pri_t_pe=1 "
	    "teaching_area=300 outdoor_sports_area=400 equipment_value=10 multimedia_rooms=2");
	import_school(
	    f, "2199210036", WS_APPROVED,
	    "pri_students=49 pri_classes=3 pri_t_edu_bach=3 pri_t_backbone=1 pri_t_pe=1 "
	    "teaching_area=300 outdoor_sports_area=400 equipment_value=10 multimedia_rooms=2");
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	/* "fewer than 50 pupils" is excluded: 50 takes part, 49 does not */
	assert_int_equal(val_of(&r, "2199210035", "yz_backbone", ST_PRI)->state, MV_OK);
	assert_near(val_of(&r, "2199210035", "yz_backbone", ST_PRI)->value, 2.0, 1e-9);
	assert_int_equal(verdict_of(&r, "2199210035", ST_PRI), VD_PASS);
	const char *excluded[4] = {"2199210031", "5199210033", "1199210034", "2199210036"};
	for (size_t i = 0; i < 4; i++) {
		for (size_t k = 0; k < r.ncols; k++) {
			if (strcmp(r.cols[k].set->code, "yzjh") != 0)
				continue;
			int st = school_of(&r, excluded[i])->vals[k].state;
			if (st != MV_NONE)
				fail_msg("%s: %s stage %d: state %d, expected MV_NONE", excluded[i],
				         r.cols[k].ind->code, r.cols[k].st, st);
		}
		assert_int_equal(verdict_of(&r, excluded[i], ST_PRI), VD_NONE);
		assert_int_equal(verdict_of(&r, excluded[i], ST_JUN), VD_NONE);
		assert_true(school_of(&r, excluded[i])->has_data);
	}
	/* the 教学点 with 60 pupils: (360 − 0) / 60 = 6.0 m², 100·1/60 backbone, 15万/60 = 2500 元
	 */
	const char *P60 = "2199210032";
	assert_int_equal(val_of(&r, P60, "yz_teaching_area", ST_PRI)->state, MV_OK);
	assert_near(val_of(&r, P60, "yz_teaching_area", ST_PRI)->value, 6.0, 1e-9);
	assert_near(val_of(&r, P60, "yz_backbone", ST_PRI)->value, 100.0 / 60, 1e-9);
	assert_near(val_of(&r, P60, "yz_equipment", ST_PRI)->value, 15.0 * 10000 / 60, 1e-9);
	assert_near(val_of(&r, P60, "yz_qualified", ST_PRI)->value, 100.0 * 4 / 60, 1e-9);
	assert_near(val_of(&r, P60, "yz_pe_arts", ST_PRI)->value, 100.0 / 60, 1e-9);
	assert_near(val_of(&r, P60, "yz_sports_area", ST_PRI)->value, 8.0, 1e-9);
	assert_near(val_of(&r, P60, "yz_multimedia", ST_PRI)->value, 100.0 * 2 / 60, 1e-9);
	assert_int_equal(verdict_of(&r, P60, ST_PRI), VD_PASS);
	/* the county: the 211 and the 教学点 with 60 and 50, nothing of those with 40 and 49 */
	const struct ms_group *g = county_of(&r, CODE_A);
	assert_int_equal(g->in_scope[vidx(&r, ST_PRI)], 3);
	assert_int_equal(g->passing[vidx(&r, ST_PRI)], 3);
	const struct ms_agg *bb = agg_of(&r, g, "yz_backbone", ST_PRI);
	assert_int_equal(bb->counted, 3);
	assert_near(bb->num, 6 + 1 + 1, 0);
	assert_near(bb->den, 500 + 60 + 50, 0);
	assert_near(bb->value, 100.0 * 8 / 610, 1e-9);
	assert_true(bb->has_cv);
	double x[3] = {100.0 * 6 / 500, 100.0 / 60, 100.0 / 50}, w[3] = {500, 60, 50}, cv, mean, sd;
	assert_true(ms_cv(x, w, 3, &cv, &mean, &sd));
	assert_near(bb->cv, cv, 1e-12);
	assert_near(bb->mean, 100.0 * 8 / 610, 1e-9);
	/* the targets still see every school: certified share over all seven (all certified) */
	assert_int_equal(val_of(&r, "2199210031", "certified_share", 0)->state, MV_OK);
	assert_int_equal(val_of(&r, "5199210033", "certified_share", 0)->state, MV_OK);
	assert_int_equal(agg_of(&r, g, "certified_share", 0)->counted, 7);
}

/* The five schools of the worked example (P = 45, 37, 89, 76, 55 with 279, 137, 935, 160,
 * 402 m² teaching area: X = area / P as the books per pupil) in county A, and one school in
 * county B. */
static void build_worked_city(struct fixture *f)
{
	static const int P[5] = {45, 37, 89, 76, 55}, area[5] = {279, 137, 935, 160, 402};
	static const int backbone[5] = {1, 1, 2, 1, 1}, classes[5] = {2, 1, 3, 2, 2};
	static const int c56[5] = {0, 0, 1, 0, 0}, c66[5] = {0, 0, 1, 1, 0};
	char code[16], ov[600];
	for (int i = 0; i < 5; i++) {
		snprintf(code, sizeof(code), "21992100%02d", 40 + i);
		add_school(f, 40 + i, code, COUNTY_A, "211", "public", -1, "111");
		snprintf(ov, sizeof(ov),
		         "pri_students=%d pri_classes=%d pri_classes_56_65=%d pri_classes_66p=%d "
		         "pri_t_edu_bach=5 pri_t_backbone=%d pri_t_pe=1 teaching_area=%d "
		         "outdoor_sports_area=500 equipment_value=20 multimedia_rooms=2",
		         P[i], classes[i], c56[i], c66[i], backbone[i], area[i]);
		import_school(f, code, WS_APPROVED, ov);
	}
	add_school(f, 50, "2199220050", COUNTY_B, "211", "public", -1, "111");
	import_school(f, "2199220050", WS_APPROVED, PRI_OK);
}

/* County aggregates: the county value is Σnumerator / Σdenominator × factor, not the mean of
 * the schools' values; the county CV of the teaching area per pupil is the worked example's
 * weighted 0.515 (over the 0.50 limit: fails), not the unweighted 0.489; a county of one
 * school has CV 0; a count (super_large_classes) sums; a ratio of class counts sums both sides;
 * levels: a school-only target is not judged for the county. */
static void test_county_aggregates(void **state)
{
	struct fixture *f = *state;
	build_worked_city(f);
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const struct ms_group *a = county_of(&r, CODE_A), *b = county_of(&r, CODE_B);

	/* backbone: Σ 6 teachers / Σ 302 pupils × 100 = 1.987, while the mean of the five
	 * schools' values is 2.061 */
	const struct ms_agg *bb = agg_of(&r, a, "yz_backbone", ST_PRI);
	double mean_of_values =
	    (100.0 / 45 + 100.0 / 37 + 200.0 / 89 + 100.0 / 76 + 100.0 / 55) / 5;
	assert_true(bb->has_value);
	assert_near(bb->num, 6, 0);
	assert_near(bb->den, 302, 0);
	assert_near(bb->value, 100.0 * 6 / 302, 1e-9);
	assert_true(fabs(bb->value - mean_of_values) > 0.05);
	assert_int_equal(bb->counted, 5);

	/* teaching area per pupil: the worked example */
	const struct ms_agg *ta = agg_of(&r, a, "yz_teaching_area", ST_PRI);
	assert_true(ta->has_value);
	assert_near(ta->value, 1913.0 / 302, 1e-9);
	assert_true(ta->has_cv);
	assert_near(ta->mean, 1913.0 / 302, 1e-9);
	assert_near(ta->sd, 3.2639, 1e-4);
	assert_near(ta->cv, 0.51526, 1e-4);
	assert_true(fabs(ta->cv - 0.489) > 0.02);
	assert_int_equal(ta->cv_pass, 0); /* > 0.50 */
	/* the county's own value against the standard (4.5): 6.33 passes */
	assert_int_equal(ta->pass, 1);
	/* no CV at the junior stage: nobody has one */
	assert_false(agg_of(&r, a, "yz_teaching_area", ST_JUN)->has_cv);
	assert_false(agg_of(&r, a, "yz_teaching_area", ST_JUN)->has_value);

	/* county B has one school: CV 0, passing */
	const struct ms_agg *tb = agg_of(&r, b, "yz_teaching_area", ST_PRI);
	assert_true(tb->has_cv);
	assert_near(tb->cv, 0, 0);
	assert_near(tb->sd, 0, 0);
	assert_near(tb->mean, 5.0, 1e-9);
	assert_int_equal(tb->cv_pass, 1);
	for (size_t k = 0; k < r.ncols; k++)
		if (strcmp(r.cols[k].set->code, "yzjh") == 0 &&
		    r.cols[k].st == ind_stage_index(ST_PRI)) {
			assert_true(b->aggs[k].has_cv);
			assert_near(b->aggs[k].cv, 0, 0);
		}

	/* super-large classes: a count, summed: 1 + 1 in county A, 0 in county B, 2 in the city */
	const struct ms_agg *sa = agg_of(&r, a, "super_large_classes", 0);
	assert_true(sa->has_value);
	assert_near(sa->value, 2, 0);
	assert_int_equal(sa->pass, 0);
	assert_int_equal(sa->judged, 5);
	assert_int_equal(sa->failing, 2);
	assert_near(agg_of(&r, b, "super_large_classes", 0)->value, 0, 0);
	assert_int_equal(agg_of(&r, b, "super_large_classes", 0)->pass, 1);
	assert_near(agg_of(&r, &r.total, "super_large_classes", 0)->value, 2, 0);
	assert_int_equal(agg_of(&r, &r.total, "super_large_classes", 0)->pass, 0);
	assert_near(val_of(&r, "2199210043", "super_large_classes", 0)->value, 1, 0);
	assert_int_equal(val_of(&r, "2199210043", "super_large_classes", 0)->pass, 0);
	assert_near(val_of(&r, "2199210040", "super_large_classes", 0)->value, 0, 0);
	assert_int_equal(val_of(&r, "2199210040", "super_large_classes", 0)->pass, 1);
	/* large classes (56+): (1 + 1 + 1) of Σ 10 classes = 30% in county A */
	const struct ms_agg *lc = agg_of(&r, a, "large_class_share", 0);
	assert_near(lc->num, 3, 0);
	assert_near(lc->den, 10, 0);
	assert_near(lc->value, 30, 1e-9);
	assert_int_equal(lc->pass, 0);
	assert_int_equal(val_of(&r, "2199210042", "large_class_share", 0)->pass,
	                 -1); /* not at school */
	/* avg class size is judged at school level only: no county pass */
	assert_true(agg_of(&r, a, "avg_class_size", ST_PRI)->has_value);
	assert_int_equal(agg_of(&r, a, "avg_class_size", ST_PRI)->pass, -1);
	assert_near(agg_of(&r, a, "avg_class_size", ST_PRI)->value, 302.0 / 10, 1e-9);
}

/* The county CV against its limit: exactly at the 小学 limit 0.50 passes (two schools of 100
 * pupils with 4 and 12 m² per pupil: mean 8, S 4, CV 0.5 exactly), just above it fails (4 and
 * 12.01 m²); a junior-stage CV is held to 0.45. */
static void test_cv_limit_boundary(void **state)
{
	struct fixture *f = *state;
	add_school(f, 110, "2199210110", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 111, "2199210111", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 112, "2199220112", COUNTY_B, "211", "public", -1, "111");
	add_school(f, 113, "2199220113", COUNTY_B, "211", "public", -1, "111");
	add_school(f, 114, "3199220114", COUNTY_B, "312", "public", -1, "111");
	import_school(f, "2199210110", WS_APPROVED,
	              PRI_OK
	              "pri_students=100 pri_classes=3 teaching_area=400 indoor_sports_area=0");
	import_school(f, "2199210111", WS_APPROVED,
	              PRI_OK
	              "pri_students=100 pri_classes=3 teaching_area=1200 indoor_sports_area=0");
	import_school(f, "2199220112", WS_APPROVED,
	              PRI_OK
	              "pri_students=100 pri_classes=3 teaching_area=400 indoor_sports_area=0");
	import_school(f, "2199220113", WS_APPROVED,
	              PRI_OK
	              "pri_students=100 pri_classes=3 teaching_area=1201 indoor_sports_area=0");
	/* a 九年一贯制 school alone at the junior stage of county B: CV 0 */
	import_school(f, "3199220114", WS_APPROVED,
	              "pri_students=200 jun_students=200 teaching_area=2000 jun_t_edu_bach=20");
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const struct ms_agg *a = agg_of(&r, county_of(&r, CODE_A), "yz_teaching_area", ST_PRI);
	assert_true(a->has_cv);
	assert_near(a->mean, 8, 0);
	assert_near(a->sd, 4, 0);
	assert_near(a->cv, 0.5, 0);
	assert_int_equal(a->cv_pass, 1);
	const struct ms_agg *b = agg_of(&r, county_of(&r, CODE_B), "yz_teaching_area", ST_PRI);
	assert_true(b->has_cv);
	assert_true(b->cv > 0.5);
	assert_int_equal(b->cv_pass, 0);
	const struct ms_agg *bj = agg_of(&r, county_of(&r, CODE_B), "yz_teaching_area", ST_JUN);
	assert_true(bj->has_cv);
	assert_near(bj->cv, 0, 0);
	assert_int_equal(bj->cv_pass, 1);
	/* the targets have no CV */
	assert_false(agg_of(&r, county_of(&r, CODE_A), "avg_class_size", ST_PRI)->has_cv);
	assert_int_equal(agg_of(&r, county_of(&r, CODE_A), "avg_class_size", ST_PRI)->cv_pass, -1);
}

/* The city total and the per-county groups agree: the total's sums are the counties' sums, a
 * county in the city's result equals the total of a computation at that county, the counties
 * are in code order; the city-level pass is given only for targets with the city level. */
static void test_city_and_counties(void **state)
{
	struct fixture *f = *state;
	build_worked_city(f);
	struct ms_result city, ca;
	compute(f, CITY_ID, false, &city);
	compute(f, COUNTY_A, false, &ca);
	assert_int_equal(city.ncounties, 2);
	assert_string_equal(city.counties[0].code, CODE_A);
	assert_string_equal(city.counties[1].code, CODE_B);
	assert_int_equal(city.nschools, 6);
	assert_int_equal(ca.nschools, 5);
	assert_int_equal(ca.ncounties, 0);
	assert_int_equal(city.ncols, ca.ncols);
	for (size_t k = 0; k < city.ncols; k++) {
		const struct ms_agg *t = &city.total.aggs[k], *a = &city.counties[0].aggs[k],
		                    *b = &city.counties[1].aggs[k], *c = &ca.total.aggs[k];
		assert_near(t->num, a->num + b->num, 1e-9);
		assert_near(t->den, a->den + b->den, 1e-9);
		assert_int_equal(t->counted, a->counted + b->counted);
		assert_int_equal(t->missing, a->missing + b->missing);
		assert_int_equal(t->judged, a->judged + b->judged);
		assert_int_equal(t->failing, a->failing + b->failing);
		/* the county in the city's result is the county computed alone */
		assert_int_equal(a->has_value, c->has_value);
		assert_near(a->value, c->value, 1e-12);
		assert_int_equal(a->pass, c->pass);
		assert_int_equal(a->has_cv, c->has_cv);
		assert_near(a->cv, c->cv, 1e-12);
		if (t->has_value && city.cols[k].ind->den[city.cols[k].st])
			assert_near(t->value, city.cols[k].ind->factor * t->num / t->den, 1e-9);
		/* a pass at the city level only where the target has the city level */
		if (t->has_value) {
			bool city_level = (city.cols[k].ind->levels & IL_CITY) != 0;
			if (city_level != (t->pass >= 0))
				fail_msg("%s: city pass %d with levels %u", city.cols[k].ind->code,
				         t->pass, city.cols[k].ind->levels);
		}
	}
	size_t vi = vidx(&city, ST_PRI);
	assert_int_equal(city.total.in_scope[vi], 6);
	assert_int_equal(city.counties[0].in_scope[vi] + city.counties[1].in_scope[vi], 6);
	assert_int_equal(city.total.passing[vi],
	                 city.counties[0].passing[vi] + city.counties[1].passing[vi]);
	/* the city CV of the teaching area runs over all six schools, weighted */
	double x[6] = {279.0 / 45, 137.0 / 37, 935.0 / 89, 160.0 / 76, 402.0 / 55, 5.0};
	double w[6] = {45, 37, 89, 76, 55, 500}, cv, mean, sd;
	assert_true(ms_cv(x, w, 6, &cv, &mean, &sd));
	const struct ms_agg *tt = agg_of(&city, &city.total, "yz_teaching_area", ST_PRI);
	assert_near(tt->cv, cv, 1e-12);
	assert_near(tt->value, (1913.0 + 2500) / 802, 1e-9);
}

/* Kindergarten targets over a public (inclusive 0), a private inclusive and a private
 * non-inclusive kindergarten (100, 60 and 40 children) in county A and a public one (50) in
 * county B: 普惠性 coverage (100 + 60) / 200 = 80% in A (fails 92%), 100% in B, 210/250 = 84% in
 * the city; public share 100/200 = 50% in A (fails 55%), 150/250 = 60% in the city (passes);
 * children per teacher at school level; classes within the norm at county level. */
static void test_kindergarten_targets(void **state)
{
	struct fixture *f = *state;
	add_school(f, 60, "1199210060", COUNTY_A, "111", "public", 0, "111");
	add_school(f, 61, "1199210061", COUNTY_A, "111", "private", 1, "111");
	add_school(f, 62, "1199210062", COUNTY_A, "111", "private", 0, "111");
	add_school(f, 63, "1199220063", COUNTY_B, "111", "public", 1, "220");
	import_school(f, "1199210060", WS_APPROVED,
	              "kg_students=100 kg_classes=4 kg_classes_over_norm=1 kg_t_edu_bach=8");
	import_school(f, "1199210061", WS_APPROVED, "kg_students=60 kg_classes=2 kg_t_edu_bach=4");
	import_school(f, "1199210062", WS_APPROVED,
	              "kg_students=40 kg_classes=2 kg_classes_over_norm=1 kg_t_edu_assoc=2");
	import_school(f, "1199220063", WS_APPROVED, "kg_students=50 kg_classes=2 kg_t_edu_bach=4");
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const struct ms_group *a = county_of(&r, CODE_A), *b = county_of(&r, CODE_B);
	/* per school: the whole school counts, or nothing */
	assert_near(val_of(&r, "1199210060", "kg_inclusive_coverage", 0)->value, 100, 1e-9);
	assert_near(val_of(&r, "1199210061", "kg_inclusive_coverage", 0)->value, 100, 1e-9);
	assert_near(val_of(&r, "1199210062", "kg_inclusive_coverage", 0)->value, 0, 1e-9);
	assert_int_equal(val_of(&r, "1199210062", "kg_inclusive_coverage", 0)->pass, -1);
	assert_near(val_of(&r, "1199210061", "kg_public_share", 0)->value, 0, 1e-9);
	const struct ms_agg *cov = agg_of(&r, a, "kg_inclusive_coverage", 0);
	assert_near(cov->num, 160, 0);
	assert_near(cov->den, 200, 0);
	assert_near(cov->value, 80, 1e-9);
	assert_int_equal(cov->pass, 0);
	assert_near(agg_of(&r, b, "kg_inclusive_coverage", 0)->value, 100, 1e-9);
	assert_int_equal(agg_of(&r, b, "kg_inclusive_coverage", 0)->pass, 1);
	assert_near(agg_of(&r, &r.total, "kg_inclusive_coverage", 0)->value, 210.0 * 100 / 250,
	            1e-9);
	assert_int_equal(agg_of(&r, &r.total, "kg_inclusive_coverage", 0)->pass, 0);
	const struct ms_agg *pub = agg_of(&r, a, "kg_public_share", 0);
	assert_near(pub->value, 50, 1e-9);
	assert_int_equal(pub->pass, 0);
	assert_near(agg_of(&r, &r.total, "kg_public_share", 0)->value, 60, 1e-9);
	assert_int_equal(agg_of(&r, &r.total, "kg_public_share", 0)->pass, 1);
	/* children per teacher: 100/8 = 12.5 passes, 40/2 = 20 fails; county A 200/14 */
	assert_near(val_of(&r, "1199210060", "kg_children_per_teacher", 0)->value, 12.5, 1e-9);
	assert_int_equal(val_of(&r, "1199210060", "kg_children_per_teacher", 0)->pass, 1);
	assert_near(val_of(&r, "1199210062", "kg_children_per_teacher", 0)->value, 20, 1e-9);
	assert_int_equal(val_of(&r, "1199210062", "kg_children_per_teacher", 0)->pass, 0);
	assert_near(agg_of(&r, a, "kg_children_per_teacher", 0)->value, 200.0 / 14, 1e-9);
	assert_int_equal(agg_of(&r, a, "kg_children_per_teacher", 0)->pass, 1);
	/* class sizes within the norm (county level): (3 + 2 + 1) of 8 classes = 75% < 85% in A;
	 * 2 of 2 in B */
	const struct ms_agg *cso = agg_of(&r, a, "kg_class_size_ok", 0);
	assert_near(cso->num, 6, 0);
	assert_near(cso->den, 8, 0);
	assert_near(cso->value, 75, 1e-9);
	assert_int_equal(cso->pass, 0);
	assert_int_equal(agg_of(&r, b, "kg_class_size_ok", 0)->pass, 1);
	assert_int_equal(val_of(&r, "1199210060", "kg_class_size_ok", 0)->pass, -1);
	/* kindergartens take no part in 优质均衡 nor in the primary and junior targets */
	assert_int_equal(val_of(&r, "1199210060", "yz_qualified", ST_PRI)->state, MV_NONE);
	assert_int_equal(verdict_of(&r, "1199210060", ST_PRI), VD_NONE);
	assert_int_equal(val_of(&r, "1199210060", "avg_class_size", ST_PRI)->state, MV_NONE);
	assert_int_equal(a->in_scope[vidx(&r, ST_PRI)], 0);
}

/* Rural principals under 45 (county level): only 乡村 schools (城乡类型 210/220) count; with
 * the period 2026, born 1982 or later is under 45 (1982 counts, 1981 does not); an urban
 * school is MV_NONE. */
static void test_rural_principals(void **state)
{
	struct fixture *f = *state;
	add_school(f, 70, "2199210070", COUNTY_A, "211", "public", -1, "220");
	add_school(f, 71, "2199210071", COUNTY_A, "211", "public", -1, "210");
	add_school(f, 72, "2199210072", COUNTY_A, "211", "public", -1, "220");
	add_school(f, 73, "2199210073", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 74, "2199210074", COUNTY_A, "211", "public", -1, "121"); /* 镇区 */
	import_school(f, "2199210070", WS_APPROVED, PRI_OK "principal_birth_year=1982");
	import_school(f, "2199210071", WS_APPROVED, PRI_OK "principal_birth_year=1981");
	import_school(f, "2199210072", WS_APPROVED, PRI_OK "principal_birth_year=1990");
	import_school(f, "2199210073", WS_APPROVED, PRI_OK "principal_birth_year=1990");
	import_school(f, "2199210074", WS_APPROVED, PRI_OK "principal_birth_year=1990");
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	assert_near(val_of(&r, "2199210070", "rural_principals_under_45", 0)->value, 100, 0);
	assert_near(val_of(&r, "2199210071", "rural_principals_under_45", 0)->value, 0, 0);
	assert_near(val_of(&r, "2199210072", "rural_principals_under_45", 0)->value, 100, 0);
	assert_int_equal(val_of(&r, "2199210070", "rural_principals_under_45", 0)->pass, -1);
	assert_int_equal(val_of(&r, "2199210073", "rural_principals_under_45", 0)->state, MV_NONE);
	assert_int_equal(val_of(&r, "2199210074", "rural_principals_under_45", 0)->state, MV_NONE);
	const struct ms_agg *ag = agg_of(&r, county_of(&r, CODE_A), "rural_principals_under_45", 0);
	assert_int_equal(ag->counted, 3);
	assert_near(ag->num, 2, 0);
	assert_near(ag->den, 3, 0);
	assert_near(ag->value, 200.0 / 3, 1e-9);
	assert_int_equal(ag->pass, 1);
	/* the county level only: no pass for the city */
	assert_int_equal(agg_of(&r, &r.total, "rural_principals_under_45", 0)->pass, -1);
}

/* Broadband (a school with 0 Mbps is not connected: 50% of the county), boarders without a
 * bed (0 when the beds suffice, the shortfall otherwise, over every stage of a 九年一贯制
 * school; missing without data), certified teachers (Σ certified / Σ teachers), teacher
 * rotation (county level), D级危房 area, the 双师型 share of a vocational school at exactly 50%. */
static void test_school_targets(void **state)
{
	struct fixture *f = *state;
	add_school(f, 80, "2199210080", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 81, "3199210081", COUNTY_A, "312", "public", -1, "220");
	add_school(f, 82, "2199210082", COUNTY_A, "211", "public", -1, "111"); /* no data */
	add_school(f, 83, "3699220083", COUNTY_B, "361", "public", -1, "121");
	import_school(f, "2199210080", WS_APPROVED,
	              PRI_OK "broadband_mbps=100 boarding=true pri_boarders=50 dorm_beds=60 "
	                     "pri_t_rotated=2 pri_t_rot_eligible=10 d_grade_area=120.5");
	import_school(f, "3699220083", WS_APPROVED,
	              "voc_students=800 voc_classes=20 voc_t_edu_bach=40 voc_t_dual=20 "
	              "voc_t_rotated=1 voc_t_rot_eligible=20 teaching_area=5000");
	import_school(f, "3199210081", WS_APPROVED,
	              "pri_students=200 jun_students=150 pri_t_edu_bach=12 jun_t_edu_bach=8 "
	              "pri_t_certified=11 jun_t_certified=8 broadband_mbps=0 boarding=true "
	              "pri_boarders=40 jun_boarders=40 dorm_beds=50");
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const char *A = "2199210080", *B = "3199210081", *N = "2199210082";
	assert_near(val_of(&r, A, "broadband_connected", 0)->value, 100, 0);
	assert_int_equal(val_of(&r, A, "broadband_connected", 0)->pass, 1);
	assert_near(val_of(&r, B, "broadband_connected", 0)->value, 0, 0);
	assert_int_equal(val_of(&r, B, "broadband_connected", 0)->pass, 0);
	assert_int_equal(val_of(&r, N, "broadband_connected", 0)->state, MV_MISSING);
	const struct ms_group *g = county_of(&r, CODE_A);
	const struct ms_agg *bc = agg_of(&r, g, "broadband_connected", 0);
	assert_near(bc->value, 50, 1e-9);
	assert_int_equal(bc->pass, 0);
	assert_int_equal(bc->counted, 2);
	assert_int_equal(bc->missing, 1);

	const struct ms_val *ba = val_of(&r, A, "boarders_without_bed", 0);
	assert_int_equal(ba->state, MV_OK);
	assert_near(ba->value, 0, 0);
	assert_int_equal(ba->pass, 1);
	const struct ms_val *bb = val_of(&r, B, "boarders_without_bed", 0);
	assert_int_equal(bb->state, MV_OK);
	assert_near(bb->value, 40 + 40 - 50, 0);
	assert_int_equal(bb->pass, 0);
	assert_int_equal(val_of(&r, N, "boarders_without_bed", 0)->state, MV_MISSING);
	const struct ms_agg *bw = agg_of(&r, g, "boarders_without_bed", 0);
	assert_near(bw->value, 30, 0);
	assert_int_equal(bw->pass, 0);
	assert_int_equal(bw->missing, 1);

	/* certified: 30/30 = 100% passes; (11 + 8) / (12 + 8) = 95% fails; county 49/50 */
	assert_near(val_of(&r, A, "certified_share", 0)->value, 100, 1e-9);
	assert_int_equal(val_of(&r, A, "certified_share", 0)->pass, 1);
	assert_near(val_of(&r, B, "certified_share", 0)->value, 95, 1e-9);
	assert_int_equal(val_of(&r, B, "certified_share", 0)->pass, 0);
	const struct ms_agg *cs = agg_of(&r, g, "certified_share", 0);
	assert_near(cs->value, 100.0 * 49 / 50, 1e-9);
	assert_int_equal(cs->pass, 0);
	/* the 九年一贯制 school's rotation and 双师型 targets: nobody eligible (0 / 0): missing
	 * (but known: it adds 0 / 0 to the sums); no vocational stage: MV_NONE */
	assert_int_equal(val_of(&r, B, "rotation_share", 0)->state, MV_MISSING);
	assert_int_equal(val_of(&r, B, "voc_dual_share", 0)->state, MV_NONE);
	/* rotation (county level): 2 of 10 = 20% in A (>= 10%), 1 of 20 = 5% in B (fails) */
	const struct ms_agg *rot = agg_of(&r, g, "rotation_share", 0);
	assert_near(rot->value, 20, 1e-9);
	assert_int_equal(rot->pass, 1);
	assert_near(agg_of(&r, county_of(&r, CODE_B), "rotation_share", 0)->value, 5, 1e-9);
	assert_int_equal(agg_of(&r, county_of(&r, CODE_B), "rotation_share", 0)->pass, 0);
	/* D级危房 area: a sum, 0 is the target */
	assert_near(val_of(&r, A, "d_grade_area", 0)->value, 120.5, 1e-9);
	assert_int_equal(val_of(&r, A, "d_grade_area", 0)->pass, 0);
	assert_near(val_of(&r, B, "d_grade_area", 0)->value, 0, 0);
	assert_int_equal(val_of(&r, B, "d_grade_area", 0)->pass, 1);
	assert_near(agg_of(&r, g, "d_grade_area", 0)->value, 120.5, 1e-9);
	assert_int_equal(agg_of(&r, g, "d_grade_area", 0)->pass, 0);
	/* 双师型 share of a vocational school: 20 of 40 = exactly 50%: passes (school and city) */
	const struct ms_val *dual = val_of(&r, "3699220083", "voc_dual_share", 0);
	assert_int_equal(dual->state, MV_OK);
	assert_near(dual->value, 50, 0);
	assert_int_equal(dual->pass, 1);
	assert_near(agg_of(&r, &r.total, "voc_dual_share", 0)->value, 50, 0);
	assert_int_equal(agg_of(&r, &r.total, "voc_dual_share", 0)->pass, 1);
	assert_int_equal(agg_of(&r, county_of(&r, CODE_B), "voc_dual_share", 0)->pass, -1);
	assert_int_equal(val_of(&r, "3699220083", "yz_qualified", ST_PRI)->state, MV_NONE);
	assert_int_equal(verdict_of(&r, "3699220083", ST_PRI), VD_NONE);
}

/* Provisional figures: a school that has submitted but is not approved yet counts only when
 * provisional is asked for, and is then marked provisional; an approved school never is; a
 * draft never counts. */
static void test_provisional(void **state)
{
	struct fixture *f = *state;
	add_school(f, 90, "2199210090", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 91, "2199210091", COUNTY_A, "211", "public", -1, "111");
	add_school(f, 92, "2199210092", COUNTY_A, "211", "public", -1, "111");
	import_school(f, "2199210090", WS_APPROVED, PRI_OK);
	import_school(f, "2199210091", WS_SUBMITTED, PRI_OK "pri_t_backbone=10");
	import_school(f, "2199210092", WS_DRAFT, PRI_OK);
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	assert_false(r.provisional);
	assert_true(school_of(&r, "2199210090")->has_data);
	assert_false(school_of(&r, "2199210091")->has_data);
	assert_false(school_of(&r, "2199210091")->provisional);
	assert_int_equal(val_of(&r, "2199210091", "yz_backbone", ST_PRI)->state, MV_MISSING);
	assert_int_equal(verdict_of(&r, "2199210091", ST_PRI), VD_MISSING);
	const struct ms_agg *ag = agg_of(&r, county_of(&r, CODE_A), "yz_backbone", ST_PRI);
	assert_int_equal(ag->counted, 1);
	assert_int_equal(ag->missing, 2);
	assert_near(ag->value, 100.0 * 6 / 500, 1e-9);

	struct ms_result p;
	compute(f, CITY_ID, true, &p);
	assert_true(p.provisional);
	assert_true(school_of(&p, "2199210091")->has_data);
	assert_true(school_of(&p, "2199210091")->provisional);
	assert_false(school_of(&p, "2199210090")->provisional);
	assert_int_equal(val_of(&p, "2199210091", "yz_backbone", ST_PRI)->state, MV_OK);
	assert_near(val_of(&p, "2199210091", "yz_backbone", ST_PRI)->value, 2.0, 1e-9);
	assert_int_equal(verdict_of(&p, "2199210091", ST_PRI), VD_PASS);
	/* a draft never counts */
	assert_false(school_of(&p, "2199210092")->has_data);
	assert_int_equal(val_of(&p, "2199210092", "yz_backbone", ST_PRI)->state, MV_MISSING);
	ag = agg_of(&p, county_of(&p, CODE_A), "yz_backbone", ST_PRI);
	assert_int_equal(ag->counted, 2);
	assert_int_equal(ag->missing, 1);
	assert_near(ag->value, 100.0 * 16 / 1000, 1e-9);
}

/* Schools with no data at all: has_data false; what concerns them is MV_MISSING (the
 * 优质均衡 indicators of a primary school, with verdict VD_MISSING; of a 教学点 too, since
 * whether it takes part is unknown), what does not is MV_NONE (the junior stage, kindergarten
 * figures, rural principals of an urban school); a county with nothing has no value nor CV. */
static void test_no_data(void **state)
{
	struct fixture *f = *state;
	add_school(f, 100, "2199220100", COUNTY_B, "211", "public", -1, "111");
	add_school(f, 101, "1199220101", COUNTY_B, "111", "private", 1, "111");
	add_school(f, 102, "2199220102", COUNTY_B, "218", "public", -1, "220");
	add_school(f, 103, "2199210103", COUNTY_A, "211", "public", -1, "111");
	import_school(f, "2199210103", WS_APPROVED, PRI_OK);
	struct ms_result r;
	compute(f, CITY_ID, false, &r);
	const char *P = "2199220100", *K = "1199220101", *T = "2199220102";
	for (size_t i = 0; i < 3; i++) {
		const char *c = i == 0 ? P : i == 1 ? K : T;
		assert_false(school_of(&r, c)->has_data);
		assert_false(school_of(&r, c)->provisional);
	}
	assert_true(school_of(&r, "2199210103")->has_data);
	for (size_t k = 0; k < r.ncols; k++) {
		const struct ms_col *c = &r.cols[k];
		if (strcmp(c->set->code, "yzjh") != 0)
			continue;
		bool pri = c->st == ind_stage_index(ST_PRI);
		assert_int_equal(school_of(&r, P)->vals[k].state, pri ? MV_MISSING : MV_NONE);
		assert_int_equal(school_of(&r, T)->vals[k].state, pri ? MV_MISSING : MV_NONE);
		assert_int_equal(school_of(&r, K)->vals[k].state, MV_NONE);
		assert_false(school_of(&r, P)->vals[k].known);
	}
	assert_int_equal(verdict_of(&r, P, ST_PRI), VD_MISSING);
	assert_int_equal(verdict_of(&r, P, ST_JUN), VD_NONE);
	assert_int_equal(verdict_of(&r, K, ST_PRI), VD_NONE);
	assert_int_equal(val_of(&r, P, "certified_share", 0)->state, MV_MISSING);
	assert_int_equal(val_of(&r, P, "kg_inclusive_coverage", 0)->state, MV_NONE);
	assert_int_equal(val_of(&r, P, "rural_principals_under_45", 0)->state, MV_NONE);
	assert_int_equal(val_of(&r, T, "rural_principals_under_45", 0)->state, MV_MISSING);
	assert_int_equal(val_of(&r, K, "kg_inclusive_coverage", 0)->state, MV_MISSING);
	assert_int_equal(val_of(&r, K, "avg_class_size", ST_PRI)->state, MV_NONE);
	/* county B: nothing counted */
	const struct ms_group *b = county_of(&r, CODE_B);
	const struct ms_agg *ag = agg_of(&r, b, "yz_backbone", ST_PRI);
	assert_false(ag->has_value);
	assert_false(ag->has_cv);
	assert_int_equal(ag->pass, -1);
	assert_int_equal(ag->cv_pass, -1);
	assert_int_equal(ag->counted, 0);
	assert_int_equal(ag->missing, 2);
	assert_false(agg_of(&r, b, "super_large_classes", 0)->has_value);
	assert_int_equal(b->in_scope[vidx(&r, ST_PRI)], 2);
	assert_int_equal(b->missing[vidx(&r, ST_PRI)], 2);
	/* the city total still has county A's figures */
	assert_near(agg_of(&r, &r.total, "yz_backbone", ST_PRI)->value, 1.2, 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cv_worked_example),
	    cmocka_unit_test(test_cv_edge_cases),
	    cmocka_unit_test(test_meets_boundary),
	    cmocka_unit_test_setup_teardown(test_real_definitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_broken_definitions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_and_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_lower_edition, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_school_indicators, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stage_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verdict_not_concerned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exclusions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_county_aggregates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cv_limit_boundary, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_city_and_counties, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kindergarten_targets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rural_principals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_school_targets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_provisional, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_data, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

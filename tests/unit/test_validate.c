/* test_validate.c — checking input: values by type, every rule of the four forms, required,
 * changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/form.h"
#include "core/validate.h"
#include "tests/unit/testlib.h"

struct fixture {
	struct form_set *set;
	struct arena a;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->set = tl_real_forms();
	arena_init(&f->a, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	form_set_free(f->set);
	arena_free(&f->a);
	free(f);
	return 0;
}

/* The field of a code; fails the test when unknown. */
static const struct form_field *field(struct fixture *f, const char *code)
{
	const struct form_field *fd = form_field_find(f->set, code);
	if (!fd)
		fail_msg("no field %s", code);
	return fd;
}

/* Check one value: status, canonical text (for VS_OK) and reason. */
static void check_value(struct fixture *f, const char *code, const char *raw,
                        enum validate_status want, const char *want_norm,
                        enum validate_reason want_why)
{
	const char *norm, *msg;
	double num;
	enum validate_reason why;
	enum validate_status st =
	    validate_value(&f->a, field(f, code), raw, &norm, &num, &msg, &why);
	if (st != want)
		fail_msg("%s = '%s': status %d, want %d (%s)", code, raw ? raw : "(null)", st, want,
		         msg ? msg : "");
	assert_int_equal(why, want_why);
	if (want == VS_OK)
		assert_string_equal(norm, want_norm);
	if (want == VS_BAD) {
		/* the message names the field */
		const char *label = validate_label(&f->a, field(f, code));
		if (!strstr(msg, label))
			fail_msg("message '%s' does not name '%s'", msg, label);
	}
}

/* Numbers as people type them: full-width digits, separators, spaces; rejects. */
static void test_numbers(void **state)
{
	struct fixture *f = *state;
	check_value(f, "pri_students", "１２３", VS_OK, "123", VR_NONE);
	check_value(f, "pri_students", " 1,234 ", VS_OK, "1234", VR_NONE);
	check_value(f, "pri_students", "1，234", VS_OK, "1234", VR_NONE);
	check_value(f, "pri_students",
	            "\xe3\x80\x80"
	            "45\xe3\x80\x80",
	            VS_OK, "45", VR_NONE);
	check_value(f, "pri_students", "12.0", VS_OK, "12", VR_NONE);
	check_value(f, "pri_students", "", VS_EMPTY, NULL, VR_NONE);
	check_value(f, "pri_students", "   ", VS_EMPTY, NULL, VR_NONE);
	check_value(f, "pri_students", NULL, VS_EMPTY, NULL, VR_NONE);
	check_value(f, "pri_students", "12a", VS_BAD, NULL, VR_NOT_NUMBER);
	check_value(f, "pri_students", "1.2.3", VS_BAD, NULL, VR_NOT_NUMBER);
	check_value(f, "pri_students", "１２。５", VS_BAD, NULL, VR_NOT_NUMBER);
	check_value(f, "pri_students", "12,34", VS_BAD, NULL, VR_NOT_NUMBER);
	check_value(f, "pri_students", "12.5", VS_BAD, NULL, VR_DECIMALS);
	check_value(f, "pri_students", "-3", VS_BAD, NULL, VR_NEGATIVE);
	check_value(f, "pri_students", "20001", VS_BAD, NULL, VR_RANGE);
	check_value(f, "pri_students", "20000", VS_OK, "20000", VR_NONE);
	check_value(f, "pri_students", "1234567890123456", VS_BAD, NULL, VR_TOO_LARGE);
	/* decimals: m² with 2 places */
	check_value(f, "land_area", "1,234.50", VS_OK, "1234.5", VR_NONE);
	check_value(f, "land_area", "１２．２５", VS_OK, "12.25", VR_NONE);
	check_value(f, "land_area", "12.345", VS_BAD, NULL, VR_DECIMALS);
	/* the message quotes the input and names the cell with its stage */
	const char *msg;
	validate_value(&f->a, field(f, "pri_students"), "12a", NULL, NULL, &msg, NULL);
	assert_string_equal(msg, "小学 在校生数：“12a”不是有效的数字。");
	validate_value(&f->a, field(f, "pri_students"), "-3", NULL, NULL, &msg, NULL);
	assert_string_equal(msg, "小学 在校生数：“-3”不能为负数。");
	validate_value(&f->a, field(f, "pri_students"), "12.5", NULL, NULL, &msg, NULL);
	assert_string_equal(msg, "小学 在校生数：“12.5”只能填写整数。");
	/* a control character in the input is not echoed raw */
	validate_value(&f->a, field(f, "pri_students"),
	               "1\x01"
	               "2",
	               NULL, NULL, &msg, NULL);
	assert_null(strchr(msg, '\x01'));
	/* English reasons for the command line */
	assert_string_equal(validate_reason_en(&f->a, field(f, "pri_students"), VR_RANGE),
	                    "out of range 0 to 20000");
	assert_string_equal(validate_reason_en(&f->a, field(f, "land_area"), VR_DECIMALS),
	                    "more than 2 decimal places");
}

/* Text, yes/no. */
static void test_other_types(void **state)
{
	struct fixture *f = *state;
	check_value(f, "principal_name", "  张三 ", VS_OK, "张三", VR_NONE);
	check_value(f, "principal_name", "张\t三", VS_BAD, NULL, VR_CONTROL);
	/* max_length 20 characters, counted as characters, not bytes */
	check_value(f, "principal_name", "一二三四五六七八九十一二三四五六七八九十", VS_OK,
	            "一二三四五六七八九十一二三四五六七八九十", VR_NONE);
	check_value(f, "principal_name", "一二三四五六七八九十一二三四五六七八九十一", VS_BAD, NULL,
	            VR_TOO_LONG);
	check_value(f, "boarding", "1", VS_OK, "1", VR_NONE);
	check_value(f, "boarding", "true", VS_OK, "1", VR_NONE);
	check_value(f, "boarding", "是", VS_OK, "1", VR_NONE);
	check_value(f, "boarding", "0", VS_OK, "0", VR_NONE);
	check_value(f, "boarding", "false", VS_OK, "0", VR_NONE);
	check_value(f, "boarding", "否", VS_OK, "0", VR_NONE);
	check_value(f, "boarding", "maybe", VS_BAD, NULL, VR_YESNO);
	check_value(f, "boarding", "", VS_EMPTY, NULL, VR_NONE);
}

/* Validation input for one school: all slots empty, the given raw values. */
struct school_input {
	struct validate_in in;
	const char **raw;
	double *num;
	unsigned char *present;
};

/* Start an input for `form` of a school of `type`. */
static void input_init(struct fixture *f, struct school_input *si, const char *form,
                       const char *type, const char *stages)
{
	size_t n = form_nslots(f->set);
	memset(si, 0, sizeof(*si));
	si->raw = arena_alloc(&f->a, n * sizeof(*si->raw));
	si->num = arena_alloc(&f->a, n * sizeof(*si->num));
	si->present = arena_alloc(&f->a, n);
	si->in.set = f->set;
	si->in.form = form_find(f->set, form);
	assert_non_null(si->in.form);
	si->in.school_type = type;
	si->in.stages = form_stage_bits(stages);
	si->in.raw = si->raw;
	si->in.num = si->num;
	si->in.present = si->present;
}

/* Give a value: as typed when the field is in the input's form, else as a stored number. */
static void input_put(struct fixture *f, struct school_input *si, const char *code, const char *v)
{
	const struct form_field *fd = field(f, code);
	if (form_field_form(f->set, fd) == si->in.form) {
		si->raw[fd->slot] = v;
		return;
	}
	double num;
	assert_int_equal(validate_value(&f->a, fd, v, NULL, &num, NULL, NULL), VS_OK);
	si->num[fd->slot] = num;
	si->present[fd->slot] = 1;
}

/* The issue of a code in a result, or NULL. */
static const struct validate_issue *issue(const struct validate_out *out, const char *code)
{
	for (size_t i = 0; i < out->nissues; i++)
		if (strcmp(out->issues[i].code, code) == 0)
			return &out->issues[i];
	return NULL;
}

/* Stages of the 办学类型 codes the rule cases use. */
static const char *type_stages(const char *type)
{
	static const struct {
		const char *type, *stages;
	} t[] = {{"111", "kg"},          {"211", "pri"},     {"311", "jun"},
	         {"312", "pri,jun"},     {"341", "jun,sen"}, {"342", "sen"},
	         {"345", "pri,jun,sen"}, {"361", "voc"},     {"511", "spe"}};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(t[i].type, type) == 0)
			return t[i].stages;
	fail_msg("unknown school type %s in rule_cases.json", type);
	return NULL;
}

/* Run one side of a rule case; true when the rule reported its issue. */
static bool run_case(struct fixture *f, json_t *c, const char *side)
{
	const char *rule = json_string_value(json_object_get(c, "rule"));
	const char *type = json_string_value(json_object_get(c, "school_type"));
	struct school_input si;
	input_init(f, &si, json_string_value(json_object_get(c, "form")), type, type_stages(type));
	const char *code;
	json_t *v;
	json_object_foreach(json_object_get(c, side), code, v)
	    input_put(f, &si, code, json_string_value(v));
	struct validate_out out;
	validate_form(&f->a, &si.in, &out);
	/* the case's values themselves are all valid */
	for (size_t i = 0; i < out.nissues; i++)
		if (strncmp(out.issues[i].code, "val:", 4) == 0)
			fail_msg("%s (%s): %s", rule, side, out.issues[i].message);
	return issue(&out, rule) != NULL;
}

/* Every rule of the four forms: a passing case passes, a failing case fails;
 * and every expanded rule has a case. */
static void test_every_rule(void **state)
{
	struct fixture *f = *state;
	size_t len;
	char *text = tl_read_src("tests/unit/rule_cases.json", &len);
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je);
	free(text);
	if (!root)
		fail_msg("rule_cases.json: line %d: %s", je.line, je.text);
	json_t *cases = json_object_get(root, "cases");
	size_t ncases = json_array_size(cases), nrules = 0;
	for (size_t i = 0; i < form_count(f->set); i++) {
		const struct form_def *d = form_at(f->set, i);
		for (size_t r = 0; r < d->nrules; r++) {
			nrules++;
			json_t *c = NULL;
			for (size_t k = 0; k < ncases && !c; k++) {
				json_t *x = json_array_get(cases, k);
				if (strcmp(json_string_value(json_object_get(x, "rule")),
				           d->rules[r].code) == 0)
					c = x;
			}
			if (!c)
				fail_msg("rule %s of form %s has no case in rule_cases.json",
				         d->rules[r].code, d->code);
			if (run_case(f, c, "pass"))
				fail_msg("rule %s: the passing case is reported", d->rules[r].code);
			if (!run_case(f, c, "fail"))
				fail_msg("rule %s: the failing case is not reported",
				         d->rules[r].code);
			arena_reset(&f->a);
		}
	}
	assert_int_equal(ncases, nrules);
	json_decref(root);
}

/* Required fields count always and are errors only when submitting; rules over
 * empty fields are not evaluated; rules of stages the school lacks are skipped. */
static void test_required_and_missing(void **state)
{
	struct fixture *f = *state;
	struct school_input si;
	input_init(f, &si, "students", "312", "pri,jun");
	input_put(f, &si, "pri_students", "600");
	struct validate_out out;
	validate_form(&f->a, &si.in, &out);
	/* 312 students: pri and jun rows, 9 columns each (classes_over_norm is kg only,
	 * home_taught spe only) */
	assert_int_equal(out.required_total, 18);
	assert_int_equal(out.required_filled, 1);
	assert_int_equal(out.errors, 0);
	assert_int_equal(out.nissues, 0); /* every rule lacks a field: not evaluated */
	assert_false(validate_submittable(&out));
	si.in.submitting = true;
	validate_form(&f->a, &si.in, &out);
	assert_int_equal(out.errors, 17);
	assert_int_equal(validate_missing(&out), 17);
	assert_non_null(issue(&out, "req:jun_students"));
	assert_null(issue(&out, "req:pri_students"));
	assert_null(issue(&out, "req:kg_students")); /* not a stage of this school */
	const struct validate_issue *is = issue(&out, "req:pri_classes");
	assert_string_equal(is->message, "小学 班数：必填项，请填写。");
	/* a rule fires once its fields are filled; a bad value is missing for rules */
	input_put(f, &si, "pri_students", "300");
	input_put(f, &si, "pri_classes", "350");
	validate_form(&f->a, &si.in, &out);
	assert_non_null(issue(&out, "students_ge_classes:pri"));
	input_put(f, &si, "pri_classes", "3S0");
	validate_form(&f->a, &si.in, &out);
	assert_null(issue(&out, "students_ge_classes:pri"));
	assert_non_null(issue(&out, "val:pri_classes"));
	/* a value for a stage the school does not have is ignored */
	input_put(f, &si, "kg_students", "abc");
	validate_form(&f->a, &si.in, &out);
	assert_null(issue(&out, "val:kg_students"));
}

/* Warnings need a 说明; an explained form is submittable. */
static void test_warnings_and_explanations(void **state)
{
	struct fixture *f = *state;
	struct school_input si;
	input_init(f, &si, "basic", "211", "pri");
	static const char *const vals[][2] = {
	    {"principal_name", "王芳"}, {"principal_birth_year", "1975"},
	    {"boarding", "0"},          {"contact_phone", "0531-82345678"},
	    {"broadband_mbps", "500"},  {"campus_network", "1"}};
	for (size_t i = 0; i < 6; i++)
		input_put(f, &si, vals[i][0], vals[i][1]);
	si.in.submitting = true;
	struct validate_out out;
	validate_form(&f->a, &si.in, &out);
	assert_true(validate_submittable(&out));
	/* last period: 300 Mbps; 500 is +67 %: a change warning */
	size_t n = form_nslots(f->set);
	double *prev = arena_alloc(&f->a, n * sizeof(*prev));
	unsigned char *pp = arena_alloc(&f->a, n);
	const struct form_field *bb = field(f, "broadband_mbps");
	prev[bb->slot] = 300;
	pp[bb->slot] = 1;
	si.in.prev = prev;
	si.in.prev_present = pp;
	validate_form(&f->a, &si.in, &out);
	const struct validate_issue *is = issue(&out, "chg:broadband_mbps");
	assert_non_null(is);
	assert_int_equal(is->kind, VK_WARNING);
	assert_null(is->explanation);
	assert_string_equal(is->message, "互联网接入带宽：500，比上期的 300 增加 67%，变化超过 "
	                                 "30%，请核实或说明原因。");
	assert_int_equal(out.unexplained, 1);
	assert_false(validate_submittable(&out));
	struct validate_expl x = {"chg:broadband_mbps", "学校今年升级了宽带。"};
	si.in.expl = &x;
	si.in.nexpl = 1;
	validate_form(&f->a, &si.in, &out);
	assert_string_equal(issue(&out, "chg:broadband_mbps")->explanation, "学校今年升级了宽带。");
	assert_int_equal(out.unexplained, 0);
	assert_true(validate_submittable(&out));
	/* exactly 30 % is no warning; last period 0 is no base for a share */
	prev[bb->slot] = 500 / 1.3 + 0.001;
	validate_form(&f->a, &si.in, &out);
	assert_null(issue(&out, "chg:broadband_mbps"));
	prev[bb->slot] = 0;
	validate_form(&f->a, &si.in, &out);
	assert_null(issue(&out, "chg:broadband_mbps"));
	/* an error blocks whatever is explained */
	input_put(f, &si, "principal_birth_year", "1890");
	validate_form(&f->a, &si.in, &out);
	assert_non_null(issue(&out, "val:principal_birth_year"));
	assert_false(validate_submittable(&out));
}

/* Rules read fields of other forms (given as stored numbers). */
static void test_cross_form(void **state)
{
	struct fixture *f = *state;
	struct school_input si;
	input_init(f, &si, "students", "312", "pri,jun");
	input_put(f, &si, "pri_students", "600");
	input_put(f, &si, "pri_boarders", "100");
	input_put(f, &si, "jun_students", "400");
	input_put(f, &si, "jun_boarders", "150");
	struct validate_out out;
	validate_form(&f->a, &si.in, &out);
	assert_null(issue(&out, "boarders_le_dorm_beds")); /* no beds given: not evaluated */
	input_put(f, &si, "dorm_beds", "240");
	validate_form(&f->a, &si.in, &out);
	const struct validate_issue *is = issue(&out, "boarders_le_dorm_beds");
	assert_non_null(is);
	assert_int_equal(is->kind, VK_WARNING);
	input_put(f, &si, "dorm_beds", "250");
	validate_form(&f->a, &si.in, &out);
	assert_null(issue(&out, "boarders_le_dorm_beds"));
}

/* Labels and number formatting. */
static void test_labels(void **state)
{
	struct fixture *f = *state;
	assert_string_equal(validate_label(&f->a, field(f, "jun_t_certified")),
	                    "初中 持有教师资格证的专任教师数");
	assert_string_equal(validate_label(&f->a, field(f, "dorm_beds")), "学生宿舍床位数");
	assert_string_equal(validate_fmt_num(&f->a, 12.5, 2), "12.5");
	assert_string_equal(validate_fmt_num(&f->a, 12, 2), "12");
	assert_string_equal(validate_fmt_num(&f->a, 3000, 0), "3000");
	assert_string_equal(validate_fmt_num(&f->a, -0.0, 0), "0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_types, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_required_and_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warnings_and_explanations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cross_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_labels, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_form.c — form definitions: the real forms, lookups, broken definitions, store and reload. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/db.h"
#include "core/expr.h"
#include "core/form.h"
#include "core/migrate.h"
#include "tests/unit/testlib.h"

static const char *const real_forms[] = {"basic", "students", "staff", "facilities"};

/* The rule of a form with this (expanded) code, or NULL. */
static const struct form_rule *find_rule(const struct form_def *d, const char *code)
{
	for (size_t i = 0; i < d->nrules; i++)
		if (strcmp(d->rules[i].code, code) == 0)
			return &d->rules[i];
	return NULL;
}

/* The code of a slot. */
static const char *slot_code(const struct form_set *set, int slot)
{
	const struct form_field *f = form_field_at(set, slot);
	assert_non_null(f);
	return f->code;
}

/* The four real definitions load, expand and compile. */
static void test_real_forms(void **state)
{
	(void)state;
	struct form_set *set = tl_real_forms();
	static const size_t nfields[] = {6, 52, 109, 15}, nrules[] = {0, 45, 45, 6};
	assert_int_equal(form_count(set), 4);
	for (size_t i = 0; i < 4; i++) {
		const struct form_def *d = form_find(set, real_forms[i]);
		assert_non_null(d);
		assert_ptr_equal(d, form_at(set, i));
		assert_int_equal(d->nfields, nfields[i]);
		assert_int_equal(d->nrules, nrules[i]);
		assert_int_equal(d->edition, 1);
		assert_true(d->change_warning > 0.29 && d->change_warning < 0.31);
		assert_non_null(d->json);
		for (size_t k = 0; k < d->nrules; k++)
			assert_string_equal(d->rules[k].form_code, d->code);
	}
	assert_int_equal(form_nslots(set), 182);
	assert_null(form_at(set, 4));
	assert_null(form_find(set, "nope"));
	assert_string_equal(form_find(set, "basic")->name, "学校基本情况");

	const struct form_def *st = form_find(set, "students");
	assert_int_equal(st->nsections, 1);
	assert_true(st->sections[0].grid);
	assert_int_equal(st->sections[0].rows, ST_KG | ST_PRI | ST_JUN | ST_SEN | ST_VOC | ST_SPE);
	assert_int_equal(st->sections[0].ncolumns, 11);
	assert_string_equal(st->sections[0].columns[0]->code, "students");
	assert_string_equal(st->sections[0].code, "by_stage");

	const struct form_rule *r = find_rule(st, "bands_le_classes:pri");
	assert_non_null(r);
	assert_int_equal(r->severity, FS_ERROR);
	assert_int_equal(r->stage, ST_PRI);
	assert_string_equal(r->message, "小学班额46人及以上各档班数之和不能超过班数。");
	assert_int_equal(r->nslots, 3);
	assert_string_equal(slot_code(set, r->slots[0]), "pri_classes_46_55");
	assert_string_equal(slot_code(set, r->slots[2]), "pri_classes_66p");
	assert_non_null(find_rule(st, "bands_le_classes:spe"));
	assert_null(find_rule(st, "bands_le_classes:kg"));
	assert_null(find_rule(st, "bands_le_classes"));

	/* the expanded expression reads the pri_ cells: 5 + 6 > 10 classes fails */
	size_t n = form_nslots(set);
	double *vals = calloc(n, sizeof(double));
	unsigned char *present = calloc(n, 1);
	assert_non_null(vals);
	assert_non_null(present);
	static const char *const codes[] = {"pri_classes", "pri_classes_46_55", "pri_classes_56_65",
	                                    "pri_classes_66p"};
	static const double v[] = {10, 5, 6, 0};
	for (size_t i = 0; i < 4; i++) {
		int slot = form_field_find(set, codes[i])->slot;
		vals[slot] = v[i];
		present[slot] = 1;
	}
	struct expr_value res = expr_eval(r->expr, vals, present);
	assert_false(res.missing);
	assert_true(res.v == 0.0);
	vals[form_field_find(set, "pri_classes_56_65")->slot] = 5;
	res = expr_eval(r->expr, vals, present);
	assert_true(res.v == 1.0);
	free(vals);
	free(present);

	/* default slots: every field the expression reads */
	r = find_rule(st, "students_ge_classes:spe");
	assert_non_null(r);
	assert_string_equal(r->message, "特教在校生数不能少于班数，请核对两项数字。");
	assert_int_equal(r->nslots, 2);
	assert_string_equal(slot_code(set, r->slots[0]), "spe_students");
	assert_string_equal(slot_code(set, r->slots[1]), "spe_classes");
	r = find_rule(st, "avg_class_size_pri:pri");
	assert_non_null(r);
	assert_int_equal(r->severity, FS_WARNING);

	/* a cross-form rule (students reads facilities' dorm_beds) */
	r = find_rule(st, "boarders_le_dorm_beds");
	assert_non_null(r);
	assert_int_equal(r->stage, 0);
	assert_int_equal(r->nslots, 6);
	assert_true(expr_is_boolean(r->expr));
	const struct form_def *sf = form_find(set, "staff");
	r = find_rule(sf, "kg_care_le_staff_total");
	assert_non_null(r);
	assert_int_equal(r->nslots, 2);
	assert_string_equal(slot_code(set, r->slots[0]), "kg_caregivers");
	assert_non_null(find_rule(sf, "dual_le_teachers:voc"));
	assert_null(find_rule(sf, "dual_le_teachers:pri"));
	assert_non_null(find_rule(form_find(set, "facilities"), "music_rooms_per_12_classes"));
	form_set_free(set);
}

/* Field lookups, slots in load order, grid cells. */
static void test_lookups(void **state)
{
	(void)state;
	struct form_set *set = tl_real_forms();
	const struct form_field *f = form_field_find(set, "pri_students");
	assert_non_null(f);
	assert_string_equal(f->code, "pri_students");
	assert_int_equal(f->stage, ST_PRI);
	assert_int_equal(f->stages, ST_PRI);
	assert_int_equal(f->type, FT_INTEGER);
	assert_true(f->required);
	assert_string_equal(f->label, "在校生数");
	assert_string_equal(f->unit, "人");
	assert_non_null(f->help);
	assert_int_equal(f->column, 0);
	assert_int_equal(f->section, 0);
	assert_true(f->min == 0 && f->max == 20000);
	assert_ptr_equal(form_field_at(set, f->slot), f);

	assert_null(form_field_find(set, "kg_classes_46_55"));
	assert_null(form_field_find(set, "spe_disabled"));
	assert_non_null(form_field_find(set, "kg_classes_over_norm"));
	assert_null(form_field_find(set, "students"));
	assert_null(form_field_find(set, "nope"));
	assert_null(form_field_at(set, -1));
	assert_null(form_field_at(set, (int)form_nslots(set)));

	f = form_field_find(set, "land_area");
	assert_int_equal(f->type, FT_DECIMAL);
	assert_int_equal(f->decimals, 2);
	assert_int_equal(f->stage, 0);
	assert_int_equal(f->column, -1);
	assert_string_equal(f->unit, "m²");
	f = form_field_find(set, "principal_name");
	assert_int_equal(f->type, FT_TEXT);
	assert_int_equal(f->max_length, 20);
	assert_null(f->unit);
	assert_int_equal(form_field_find(set, "boarding")->type, FT_YESNO);

	/* slots in load order; grid cells row by row */
	assert_string_equal(slot_code(set, 0), "principal_name");
	assert_string_equal(slot_code(set, 6), "kg_students");
	assert_string_equal(slot_code(set, 7), "kg_classes");
	assert_string_equal(slot_code(set, 8), "kg_classes_over_norm");
	assert_string_equal(slot_code(set, 13), "pri_students");
	const struct form_def *st = form_find(set, "students");
	for (size_t i = 0; i < st->nfields; i++)
		assert_int_equal(st->fields[i]->slot, (int)(6 + i));
	assert_string_equal(st->fields[51]->code, "spe_home_taught");
	form_set_free(set);
}

/* Which fields apply to which schools; stage names and bits. */
static void test_applies_and_stages(void **state)
{
	(void)state;
	char err[512];
	struct form_set *set = tl_real_forms();
	const struct form_field *f = form_field_find(set, "kg_caregivers");
	assert_int_equal(f->stages, ST_KG);
	assert_true(form_field_applies(f, "111", ST_KG));
	assert_false(form_field_applies(f, "211", ST_PRI));
	assert_false(form_field_applies(f, "345", ST_PRI | ST_JUN | ST_SEN));
	f = form_field_find(set, "pri_students");
	assert_true(form_field_applies(f, "312", form_stage_bits("pri,jun")));
	assert_false(form_field_applies(f, "111", ST_KG));
	f = form_field_find(set, "staff_total");
	assert_true(form_field_applies(f, "111", ST_KG));
	assert_true(form_field_applies(f, NULL, 0));
	assert_false(form_field_applies(NULL, "111", ST_KG));
	form_set_free(set);

	static const char types_json[] =
	    "{\"code\":\"t\",\"name\":\"测试\",\"edition\":1,\"rules\":[],\"sections\":[{\"code\":"
	    "\"main\",\"title\":\"主要\",\"fields\":[{\"code\":\"a\",\"label\":\"甲\",\"type\":"
	    "\"yesno\",\"school_types\":[\"211\",\"312\"]}]}]}";
	set = form_set_new();
	if (!form_set_add_json(set, types_json, strlen(types_json), "t.json", err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(form_set_finish(set, err, sizeof(err)));
	f = form_field_find(set, "a");
	assert_int_equal(f->nschool_types, 2);
	assert_true(form_field_applies(f, "312", ST_PRI | ST_JUN));
	assert_false(form_field_applies(f, "311", ST_JUN));
	assert_false(form_field_applies(f, NULL, ST_PRI));
	assert_true(form_find(set, "t")->change_warning == 0);
	form_set_free(set);

	assert_int_equal(form_stage_bits("pri,jun"), ST_PRI | ST_JUN);
	assert_int_equal(form_stage_bits("kg"), ST_KG);
	assert_int_equal(form_stage_bits("jun,sen,pri"), ST_PRI | ST_JUN | ST_SEN);
	assert_int_equal(form_stage_bits("spe, voc"), ST_SPE | ST_VOC);
	assert_int_equal(form_stage_bits(""), 0);
	assert_int_equal(form_stage_bits(NULL), 0);
	assert_int_equal(form_stage_bits("pr,xyz,primary"), 0);
	assert_string_equal(form_stage_name(ST_KG), "学前");
	assert_string_equal(form_stage_name(ST_PRI), "小学");
	assert_string_equal(form_stage_name(ST_SPE), "特教");
	assert_string_equal(form_stage_prefix(ST_VOC), "voc");
	assert_string_equal(form_stage_prefix(ST_SEN), "sen");
	assert_null(form_stage_name(ST_PRI | ST_JUN));
	assert_null(form_stage_prefix(0));
}

#define HEAD "{\"code\":\"t\",\"name\":\"测试\",\"edition\":1,"
#define FA "{\"code\":\"a\",\"label\":\"甲\",\"type\":\"integer\",\"max\":10}"
#define FB "{\"code\":\"b\",\"label\":\"乙\",\"type\":\"integer\",\"max\":10}"
#define SECTION(fields)                                                                            \
	"\"sections\":[{\"code\":\"main\",\"title\":\"主要\",\"fields\":[" fields "]}]"
#define PLAIN(fields) HEAD SECTION(fields) ",\"rules\":[]}"
#define RULES(rules) HEAD SECTION(FA "," FB) ",\"rules\":[" rules "]}"
#define RULE(code, expr)                                                                           \
	"{\"code\":\"" code "\",\"expr\":\"" expr "\",\"severity\":\"error\",\"message\":\"错\"}"
#define GRID(columns, rules)                                                                       \
	HEAD "\"sections\":[{\"code\":\"g\",\"title\":\"分学段\",\"grid\":{\"rows\":[\"kg\","   \
	     "\"pri\"],"                                                                           \
	     "\"columns\":[" columns "]}}],\"rules\":[" rules "]}"
#define COL_STUDENTS "{\"code\":\"students\",\"label\":\"学生\",\"type\":\"integer\",\"max\":9}"
#define COL_BANDS                                                                                  \
	"{\"code\":\"bands\",\"label\":\"大班\",\"type\":\"integer\",\"max\":9,\"stages\":["     \
	"\"pri\"]}"

/* A definition that must be refused, with what the message must say. */
struct bad {
	const char *json;
	bool at_finish; /* accepted by form_set_add_json, refused by form_set_finish */
	const char *where, *what;
};

static const struct bad bad_defs[] = {
    /* unknown keys, at every level */
    {PLAIN("{\"code\":\"a\",\"lable\":\"甲\",\"type\":\"integer\",\"max\":10}"), false, "field a",
     "unknown key 'lable'"},
    {HEAD "\"sectons\":[]," SECTION(FA) ",\"rules\":[]}", false,
     "form t: ", "unknown key 'sectons'"},
    {HEAD "\"sections\":[{\"code\":\"main\",\"titel\":\"主要\",\"fields\":[" FA "]}],\"rules\":[]}",
     false, "section main", "unknown key 'titel'"},
    {RULES("{\"code\":\"r\",\"expr\":\"a<b\",\"severty\":\"error\",\"message\":\"错\"}"), false,
     "rule r", "unknown key 'severty'"},
    /* duplicate codes */
    {PLAIN(FA "," FA), false, "field a", "defined twice in the form"},
    {GRID(COL_STUDENTS "," COL_STUDENTS, ""), false, "grid column students", "used twice"},
    {HEAD "\"sections\":[{\"code\":\"g\",\"title\":\"分\",\"grid\":{\"rows\":[\"kg\"],\"columns\":"
          "[" COL_STUDENTS
          "]}},{\"code\":\"p\",\"title\":\"平\",\"fields\":[{\"code\":\"kg_students\","
          "\"label\":\"甲\",\"type\":\"yesno\"}]}],\"rules\":[]}",
     false, "field kg_students", "defined twice in the form"},
    /* code syntax */
    {PLAIN("{\"code\":\"A1\",\"label\":\"甲\",\"type\":\"integer\",\"max\":10}"), false,
     "section main: fields[0]", "bad code 'A1'"},
    {PLAIN("{\"code\":\"a23456789012345678901234567890123456789012345678x\",\"label\":\"甲\","
           "\"type\":\"yesno\"}"),
     false, "fields[0]", "at most 48"},
    {"{\"code\":\"1t\",\"name\":\"测试\",\"edition\":1," SECTION(FA) ",\"rules\":[]}", false,
     "t.json: ", "bad code '1t'"},
    {PLAIN("{\"code\":\"sum\",\"label\":\"甲\",\"type\":\"yesno\"}"), false, "field sum",
     "expression language"},
    {PLAIN("{\"code\":\"s_x\",\"label\":\"甲\",\"type\":\"yesno\"}"), false, "field s_x", "s_"},
    /* types and bounds */
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"integer\",\"min\":5,\"max\":1}"), false,
     "field a", "min (5) is greater than max (1)"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"integer\",\"decimals\":2,\"max\":1}"),
     false, "field a", "'decimals' is only for decimal fields"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"decimal\",\"decimals\":7,\"max\":1}"),
     false, "field a", "'decimals' must be an integer from 1 to 6"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"decimal\",\"max\":1}"), false, "field a",
     "needs 'decimals'"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"integer\",\"max\":1.5}"), false, "field a",
     "'max' must be an integer"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"integer\"}"), false, "field a", "'max'"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"float\",\"max\":1}"), false, "field a",
     "bad type 'float'"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"choice\"}"), false, "field a",
     "a choice field needs 'choices'"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"choice\",\"choices\":[]}"), false,
     "field a", "'choices'"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"choice\",\"choices\":[{\"value\":\"1\","
           "\"label\":\"是\"},{\"value\":\"1\",\"label\":\"否\"}]}"),
     false, "field a", "choice value '1' is listed twice"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"choices\":[{\"value\":\"1\","
           "\"label\":\"是\"}]}"),
     false, "field a", "only for choice fields"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"text\",\"max_length\":0}"), false,
     "field a", "'max_length' must be an integer from 1 to 2000"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"max_length\":5}"), false,
     "field a", "only for text fields"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"unit\":\"人\"}"), false,
     "field a", "'unit' is only for number fields"},
    {PLAIN("{\"code\":\"a\",\"label\":\" \",\"type\":\"yesno\"}"), false, "field a",
     "'label' must not be empty"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\\n乙\",\"type\":\"yesno\"}"), false, "field a",
     "control character"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"required\":1}"), false, "field a",
     "'required' must be true or false"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"stages\":[\"pri\",\"pri\"]}"),
     false, "field a", "listed twice"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"stages\":[\"high\"]}"), false,
     "field a", "high is not a stage"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"school_types\":[\"999\"]}"),
     false, "field a", "'999' is not a known"},
    {PLAIN("{\"code\":\"a\",\"label\":\"甲\",\"type\":\"yesno\",\"school_types\":[\"21\"]}"), false,
     "field a", "'21' is not a known"},
    /* form level */
    {"{\"code\":\"t\",\"name\":\"测试\",\"edition\":0," SECTION(FA) ",\"rules\":[]}", false,
     "form t: ", "'edition' must be an integer from 1"},
    {"{\"code\":\"t\",\"name\":\"测试\"," SECTION(FA) ",\"rules\":[]}", false,
     "form t: ", "missing key 'edition'"},
    {HEAD "\"change_warning\":1.5," SECTION(FA) ",\"rules\":[]}", false,
     "form t: ", "'change_warning'"},
    {HEAD SECTION(FA) "}", false, "form t: ", "missing key 'rules'"},
    {HEAD SECTION(FA) ",\"rules\":{}}", false, "form t: ", "'rules' must be a list"},
    {HEAD "\"sections\":[],\"rules\":[]}", false, "form t: ", "'sections'"},
    {HEAD "\"sections\":[{\"code\":\"main\",\"title\":\"主要\"}],\"rules\":[]}", false,
     "section main", "either 'fields' or one 'grid'"},
    {"[1, 2]", false, "t.json: ", "must be a JSON object"},
    /* grids */
    {HEAD "\"sections\":[{\"code\":\"g\",\"title\":\"分\",\"grid\":{\"rows\":[\"kg\",\"kg\"],"
          "\"columns\":[" COL_STUDENTS "]}}],\"rules\":[]}",
     false, "section g: grid", "stage kg is listed twice"},
    {HEAD "\"sections\":[{\"code\":\"g\",\"title\":\"分\",\"grid\":{\"rows\":[\"kg\"],\"columns\":"
          "[" COL_BANDS "]}}],\"rules\":[]}",
     false, "grid column bands", "stage pri is not a row of the grid"},
    /* rules */
    {RULES(RULE("r", "a <= c")), true, "rule r", "unknown field 'c'"},
    {RULES(RULE("r", "a <= ")), true, "rule r", "column"},
    {RULES(RULE("r", "a + b")), true, "rule r", "not a condition"},
    {RULES(RULE("r", "a < b") "," RULE("r", "b < 5")), false, "rule r", "rule code is used twice"},
    {RULES("{\"code\":\"r\",\"expr\":\"a<b\",\"severity\":\"fatal\",\"message\":\"错\"}"), false,
     "rule r", "bad severity 'fatal'"},
    {RULES("{\"code\":\"r\",\"expr\":\"a<b\",\"severity\":\"error\",\"message\":\"\"}"), false,
     "rule r", "'message' must not be empty"},
    {RULES("{\"code\":\"r\",\"expr\":\"a<b\",\"severity\":\"error\",\"message\":\"{x}错\"}"), false,
     "rule r", "unknown placeholder"},
    {RULES("{\"code\":\"r\",\"expr\":\"a<b\",\"severity\":\"error\",\"message\":\"{stage}错\"}"),
     false, "rule r", "only in the message of a per-stage rule"},
    {RULES("{\"code\":\"r\",\"expr\":\"a<b\",\"severity\":\"error\",\"message\":\"错\","
           "\"fields\":[\"c\"]}"),
     true, "rule r", "'fields': unknown field 'c'"},
    {RULES("{\"code\":\"r\",\"severity\":\"error\",\"message\":\"错\"}"), false, "rule r",
     "missing key 'expr'"},
    {RULES(RULE("r", "s_a < 5")), true, "rule r", "only for per-stage rules"},
    /* per-stage rules: s_bands exists for pri only */
    {GRID(COL_STUDENTS "," COL_BANDS,
          "{\"code\":\"bands_le\",\"stages\":[\"pri\",\"kg\"],\"expr\":\"s_bands <= s_students\","
          "\"severity\":\"error\",\"message\":\"{stage}错\"}"),
     true, "rule bands_le (stage kg)", "unknown field 'kg_bands'"},
    {GRID(COL_STUDENTS, "{\"code\":\"r\",\"stages\":[\"kg\"],\"expr\":\"s_students >= 0\","
                        "\"severity\":\"error\",\"message\":\"错\"}"),
     false, "rule r", "needs {stage}"},
    {GRID(COL_STUDENTS, "{\"code\":\"r\",\"stages\":[\"kg\"],\"expr\":\"kg_students >= 0\","
                        "\"severity\":\"error\",\"message\":\"{stage}错\"}"),
     true, "rule r (stage kg)", "s_<column>"},
    {GRID(COL_STUDENTS,
          "{\"code\":\"r\",\"stages\":[\"kg\",\"pri\"],\"expr\":\"s_students >= 0\","
          "\"severity\":\"error\",\"message\":\"{stage}错\",\"fields\":[\"s_students\",\"x\"]}"),
     true, "rule r (stage kg)", "'fields': unknown field 'x'"},
    /* invalid JSON */
    {"{\n\"code\": \"t\",\n\"name\" \"x\"\n}", false, "t.json: ", "invalid JSON at line 3"},
    {"{\"code\":\"t\",\"code\":\"u\"}", false, "t.json: ", "duplicate"},
    {"\xef\xbb\xbf{}", false, "t.json: ", "byte order mark"},
    {"{\"code\":\"t\",\"name\":\"\xff\xfe\"}", false, "t.json: ", "invalid JSON at line 1"},
    {PLAIN("{\"code\":\"a\",\"\xe7\x94\xb2\\u0001x\":1}"), false, "field a", "unknown key '甲?x'"},
    {PLAIN("{\"code\":\"a\","
           "\"\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2"
           "\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2"
           "\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2"
           "\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2\xe7\x94\xb2"
           "\xe7\x94\xb2\xe7\x94\xb2\":1}"),
     false, "field a", "甲甲...'"},
};

/* Each broken definition is refused with a message naming file, form and element. */
static void test_broken(void **state)
{
	(void)state;
	char err[1024];
	for (size_t i = 0; i < sizeof(bad_defs) / sizeof(bad_defs[0]); i++) {
		const struct bad *b = &bad_defs[i];
		struct form_set *set = form_set_new();
		bool ok =
		    form_set_add_json(set, b->json, strlen(b->json), "t.json", err, sizeof(err));
		if (b->at_finish) {
			if (!ok)
				fail_msg("case %zu: refused too early: %s", i, err);
			ok = form_set_finish(set, err, sizeof(err));
		} else if (!ok) {
			/* a refused definition leaves nothing behind */
			assert_int_equal(form_count(set), 0);
			assert_int_equal(form_nslots(set), 0);
		}
		if (ok && b->what[0])
			fail_msg("case %zu: accepted: %s", i, b->json);
		if (b->what[0] && (strncmp(err, "t.json: ", 8) != 0 || !strstr(err, b->where) ||
		                   !strstr(err, b->what)))
			fail_msg("case %zu: want '%s' and '%s' in: %s", i, b->where, b->what, err);
		if (b->what[0] && strncmp(b->where, "t.json", 6) != 0 && !strstr(err, "form t: "))
			fail_msg("case %zu: the form is not named: %s", i, err);
		form_set_free(set);
	}
}

/* Duplicates across forms, a form loaded twice, over-long definitions, misuse. */
static void test_set_level(void **state)
{
	(void)state;
	char err[1024];
	static const char t1[] =
	    "{\"code\":\"t1\",\"name\":\"一\",\"edition\":1," SECTION(FA) ",\"rules\":[]}";
	static const char t2[] =
	    "{\"code\":\"t2\",\"name\":\"二\",\"edition\":1," SECTION(FB "," FA) ",\"rules\":[]}";
	struct form_set *set = form_set_new();
	assert_true(form_set_add_json(set, t1, strlen(t1), "t1.json", err, sizeof(err)));
	assert_false(form_set_add_json(set, t2, strlen(t2), "t2.json", err, sizeof(err)));
	assert_string_equal(err, "t2.json: form t2: field a: already a field of form t1 (t1.json); "
	                         "field codes are unique across forms");
	/* the refused form left nothing behind: b is free again */
	assert_int_equal(form_count(set), 1);
	assert_int_equal(form_nslots(set), 1);
	assert_null(form_field_find(set, "b"));
	assert_false(form_set_add_json(set, t1, strlen(t1), "again.json", err, sizeof(err)));
	assert_non_null(
	    strstr(err, "again.json: form t1: the form is already loaded (from t1.json)"));
	assert_true(form_set_finish(set, err, sizeof(err)));
	assert_false(form_set_finish(set, err, sizeof(err)));
	assert_false(form_set_add_json(set, t2, strlen(t2), "t2.json", err, sizeof(err)));
	assert_non_null(strstr(err, "finished"));
	form_set_free(set);

	/* more than 1 MiB: refused before parsing */
	size_t big = 1024 * 1024 + 1;
	char *text = malloc(big);
	assert_non_null(text);
	memset(text, ' ', big);
	text[0] = '{';
	text[big - 1] = '}';
	set = form_set_new();
	assert_false(form_set_add_json(set, text, big, "big.json", err, sizeof(err)));
	assert_non_null(strstr(err, "big.json: the definition is larger than 1 MiB"));
	free(text);

	/* a rule of one form may read another form's fields, but must read its own */
	static const char t3[] = "{\"code\":\"t3\",\"name\":\"三\",\"edition\":1," SECTION(
	    FB) ",\"rules\":[" RULE("cross", "b <= a") "," RULE("alien", "a > 0") "]}";
	assert_true(form_set_add_json(set, t1, strlen(t1), "t1.json", err, sizeof(err)));
	assert_true(form_set_add_json(set, t3, strlen(t3), "t3.json", err, sizeof(err)));
	assert_false(form_set_finish(set, err, sizeof(err)));
	assert_string_equal(
	    err, "t3.json: form t3: rule alien: the rule reads no field of its own form");
	form_set_free(set);
}

/* s_ is replaced only at the start of whole names; {stage} everywhere in the message. */
static void test_expansion(void **state)
{
	(void)state;
	char err[1024];
	static const char json[] = HEAD
	    "\"sections\":[{\"code\":\"g\",\"title\":\"分\",\"grid\":{\"rows\":[\"kg\",\"pri\"],"
	    "\"columns\":[" COL_STUDENTS "," COL_BANDS "]}},{\"code\":\"p\",\"title\":\"平\","
	    "\"fields\":[{\"code\":\"xs_y\",\"label\":\"甲\",\"type\":\"integer\",\"max\":9}]}],"
	    "\"rules\":[{\"code\":\"r\",\"stages\":[\"pri\"],\"expr\":\"s_bands+xs_y<=s_students\","
	    "\"severity\":\"warning\",\"message\":\"{stage}：{stage}\",\"fields\":[\"s_bands\","
	    "\"xs_y\"]},{\"code\":\"q\",\"stages\":[\"pri\",\"kg\"],\"expr\":\"sum(s_students)>="
	    "0\","
	    "\"severity\":\"error\",\"message\":\"{stage}\"}]}";
	struct form_set *set = form_set_new();
	if (!form_set_add_json(set, json, strlen(json), "t.json", err, sizeof(err)) ||
	    !form_set_finish(set, err, sizeof(err)))
		fail_msg("%s", err);
	const struct form_def *d = form_find(set, "t");
	assert_int_equal(d->nfields, 4);
	assert_int_equal(d->nrules, 3);
	assert_string_equal(d->rules[0].code, "r:pri");
	assert_string_equal(d->rules[0].message, "小学：小学");
	assert_int_equal(d->rules[0].severity, FS_WARNING);
	assert_int_equal(d->rules[0].nslots, 2);
	assert_string_equal(slot_code(set, d->rules[0].slots[0]), "pri_bands");
	assert_string_equal(slot_code(set, d->rules[0].slots[1]), "xs_y");
	int slots[4];
	assert_int_equal(expr_slots(d->rules[0].expr, slots, 4), 3);
	assert_string_equal(slot_code(set, slots[2]), "pri_students");
	/* expanded in the order the stages are written */
	assert_string_equal(d->rules[1].code, "q:pri");
	assert_string_equal(d->rules[2].code, "q:kg");
	assert_string_equal(d->rules[2].message, "学前");
	assert_int_equal(d->rules[2].stage, ST_KG);
	assert_string_equal(slot_code(set, d->rules[2].slots[0]), "kg_students");
	form_set_free(set);
}

/* Append to a growing test buffer. */
static void put(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	if (*len + n + 1 > *cap) {
		*cap = 2 * (*len + n + 1);
		*buf = realloc(*buf, *cap);
		assert_non_null(*buf);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

/* The size limits: fields, sections and rules per form. */
static void test_limits(void **state)
{
	(void)state;
	char err[1024], item[160];
	static const struct {
		int nsections, ncols, nrules;
		const char *what;
	} cases[] = {
	    {1, 333, 0, NULL},                    /* 6 x 333 = 1998 cells */
	    {1, 334, 0, "more than 2000 fields"}, /* 2004 */
	    {64, 1, 0, NULL},                     /* 64 x 6 cells */
	    {65, 1, 0, "list of 1 to 64 sections"},
	    {1, 1, 500, NULL},
	    {1, 1, 501, "at most 500 rules"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char *buf = NULL;
		size_t len = 0, cap = 0;
		put(&buf, &len, &cap, HEAD "\"sections\":[");
		for (int s = 0; s < cases[k].nsections; s++) {
			snprintf(item, sizeof(item),
			         "%s{\"code\":\"s%d\",\"title\":\"分\",\"grid\":{\"rows\":[\"kg\","
			         "\"pri\","
			         "\"jun\",\"sen\",\"voc\",\"spe\"],\"columns\":[",
			         s ? "," : "", s);
			put(&buf, &len, &cap, item);
			for (int c = 0; c < cases[k].ncols; c++) {
				snprintf(
				    item, sizeof(item),
				    "%s{\"code\":\"c%d_%d\",\"label\":\"列\",\"type\":\"yesno\"}",
				    c ? "," : "", s, c);
				put(&buf, &len, &cap, item);
			}
			put(&buf, &len, &cap, "]}}");
		}
		put(&buf, &len, &cap, "],\"rules\":[");
		for (int r = 0; r < cases[k].nrules; r++) {
			snprintf(
			    item, sizeof(item),
			    "%s{\"code\":\"r%d\",\"expr\":\"kg_c0_0 >= %d\",\"severity\":\"error\","
			    "\"message\":\"错\"}",
			    r ? "," : "", r, r);
			put(&buf, &len, &cap, item);
		}
		put(&buf, &len, &cap, "]}");
		struct form_set *set = form_set_new();
		bool ok = form_set_add_json(set, buf, len, "t.json", err, sizeof(err)) &&
		          form_set_finish(set, err, sizeof(err));
		if (cases[k].what && (ok || !strstr(err, cases[k].what)))
			fail_msg("case %zu: want '%s', got: %s", k, cases[k].what, ok ? "ok" : err);
		if (!cases[k].what && !ok)
			fail_msg("case %zu: %s", k, err);
		form_set_free(set);
		free(buf);
	}
}

struct fixture {
	struct tl_db t;
};

/* A temp directory with a database that has the project's migrations. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tl_db_open(&f->t, "tb-form");
	*state = f;
	return 0;
}

/* Remove the database and its directory. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	tl_db_close(&f->t);
	free(f);
	return 0;
}

/* One integer from a query with one text parameter. */
static int count_audit(struct fixture *f, const char *object)
{
	sqlite3_stmt *st = db_prep(&f->t.db, "SELECT count(*) FROM audit WHERE action = 'form.load'"
	                                     " AND object LIKE ?1");
	assert_non_null(st);
	db_bind_text(st, 1, object, -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	db_done(st);
	return n;
}

/* Number of field rows of a form. */
static int count_fields(struct fixture *f, const char *form)
{
	sqlite3_stmt *st = db_prep(&f->t.db, "SELECT count(*) FROM field WHERE form_code = ?1");
	assert_non_null(st);
	db_bind_text(st, 1, form, -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	db_done(st);
	return n;
}

/* The stored edition of a form (0 when absent). */
static int stored_edition(struct fixture *f, const char *form)
{
	sqlite3_stmt *st = db_prep(&f->t.db, "SELECT edition FROM form WHERE code = ?1");
	assert_non_null(st);
	db_bind_text(st, 1, form, -1);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	db_done(st);
	return n;
}

/* A finished set of one definition text; fails the test if it is refused. */
static struct form_set *one_set(const char *json, const char *fname)
{
	char err[1024];
	struct form_set *set = form_set_new();
	if (!form_set_add_json(set, json, strlen(json), fname, err, sizeof(err)) ||
	    !form_set_finish(set, err, sizeof(err)))
		fail_msg("%s", err);
	return set;
}

/* Store the real forms, read them back, and the field rows and audit rows. */
static void test_store_real(void **state)
{
	struct fixture *f = *state;
	char err[1024];
	struct form_set *set = tl_real_forms();
	if (!form_store(&f->t.db, set, "tester", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(count_fields(f, "basic"), 6);
	assert_int_equal(count_fields(f, "students"), 52);
	assert_int_equal(count_fields(f, "staff"), 109);
	assert_int_equal(count_fields(f, "facilities"), 15);
	assert_int_equal(count_audit(f, "form:%"), 4);
	assert_int_equal(count_audit(f, "form:students"), 1);

	sqlite3_stmt *st =
	    db_prep(&f->t.db, "SELECT form_code, label, type, decimals, stage, position"
	                      " FROM field WHERE code = ?1");
	assert_non_null(st);
	db_bind_text(st, 1, "pri_students", -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "students");
	assert_string_equal(db_text(st, 1), "在校生数");
	assert_string_equal(db_text(st, 2), "integer");
	assert_int_equal(sqlite3_column_int(st, 3), 0);
	assert_string_equal(db_text(st, 4), "pri");
	assert_int_equal(sqlite3_column_int(st, 5), 7);
	db_done(st);
	db_bind_text(st, 1, "land_area", -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "facilities");
	assert_string_equal(db_text(st, 2), "decimal");
	assert_int_equal(sqlite3_column_int(st, 3), 2);
	assert_int_equal(sqlite3_column_type(st, 4), SQLITE_NULL);
	assert_int_equal(sqlite3_column_int(st, 5), 0);
	db_done(st);

	st = db_prep(&f->t.db, "SELECT actor, detail FROM audit WHERE object = 'form:basic'");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "tester");
	assert_string_equal(db_text(st, 1), "{\"edition\":1}");
	db_done(st);

	/* read back: the same forms, ordered by code */
	struct form_set *back = form_set_load_db(&f->t.db, err, sizeof(err));
	if (!back)
		fail_msg("%s", err);
	assert_int_equal(form_count(back), 4);
	assert_string_equal(form_at(back, 0)->code, "basic");
	assert_string_equal(form_at(back, 1)->code, "facilities");
	assert_string_equal(form_at(back, 3)->code, "students");
	assert_int_equal(form_nslots(back), 182);
	assert_int_equal(form_find(back, "staff")->nrules, 45);
	assert_string_equal(form_find(back, "basic")->json, form_find(set, "basic")->json);
	assert_non_null(find_rule(form_find(back, "students"), "boarders_le_dorm_beds"));
	form_set_free(back);

	/* storing the identical set again changes nothing, not even the forms' generation */
	long long gen =
	    tl_int(&f->t.db, "SELECT value FROM setting WHERE key = 'forms_generation'", NULL);
	assert_true(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	assert_int_equal(count_audit(f, "form:%"), 4);
	assert_int_equal(
	    tl_int(&f->t.db, "SELECT value FROM setting WHERE key = 'forms_generation'", NULL),
	    gen);
	form_set_free(set);
}

/* Editions: higher and equal replace, lower is refused; codes of other stored forms. */
static void test_store_editions(void **state)
{
	struct fixture *f = *state;
	char err[1024];
	static const char t1[] = HEAD SECTION(FA "," FB) ",\"rules\":[]}";
	static const char t2[] =
	    "{\"code\":\"t\",\"name\":\"测试\",\"edition\":2," SECTION(FA "," FB) ",\"rules\":[]}";
	static const char t2b[] =
	    "{\"code\":\"t\",\"name\":\"测试二\",\"edition\":2," SECTION(FA) ",\"rules\":[]}";
	struct form_set *set = one_set(t2, "t.json");
	assert_true(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	form_set_free(set);
	assert_int_equal(stored_edition(f, "t"), 2);

	set = one_set(t1, "old.json");
	assert_false(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	assert_string_equal(err, "old.json: form t: edition 1 is lower than the stored edition 2; "
	                         "nothing was stored");
	form_set_free(set);
	assert_int_equal(stored_edition(f, "t"), 2);
	assert_int_equal(count_fields(f, "t"), 2);
	assert_int_equal(count_audit(f, "form:t"), 1);

	/* the same edition with changes replaces the stored one */
	set = one_set(t2b, "t.json");
	if (!form_store(&f->t.db, set, "tester", err, sizeof(err)))
		fail_msg("%s", err);
	form_set_free(set);
	assert_int_equal(count_fields(f, "t"), 1);
	assert_int_equal(count_audit(f, "form:t"), 2);
	struct form_set *back = form_set_load_db(&f->t.db, err, sizeof(err));
	assert_non_null(back);
	assert_string_equal(form_find(back, "t")->name, "测试二");
	form_set_free(back);

	/* a field code of another stored form */
	static const char u[] =
	    "{\"code\":\"u\",\"name\":\"其他\",\"edition\":1," SECTION(FB "," FA) ",\"rules\":[]}";
	set = one_set(u, "u.json");
	assert_false(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	assert_string_equal(err, "u.json: form u: field a: already a field of the stored form t "
	                         "(field codes are unique across forms); nothing was stored");
	form_set_free(set);
	assert_int_equal(stored_edition(f, "u"), 0);
	assert_int_equal(count_fields(f, "u"), 0);
	assert_int_equal(count_fields(f, "t"), 1);
	assert_int_equal(count_audit(f, "form:u"), 0);

	/* an unfinished set is not stored */
	set = form_set_new();
	assert_true(form_set_add_json(set, u, strlen(u), "u.json", err, sizeof(err)));
	assert_false(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	form_set_free(set);
}

/* A field with stored values cannot be dropped; keeping it keeps its values. */
static void test_store_values(void **state)
{
	struct fixture *f = *state;
	char err[1024];
	static const char t1[] = HEAD SECTION(FA "," FB) ",\"rules\":[" RULE("r", "a <= b") "]}";
	static const char t2[] =
	    "{\"code\":\"t\",\"name\":\"测试\",\"edition\":2," SECTION(FA) ",\"rules\":[]}";
	static const char t3[] = "{\"code\":\"t\",\"name\":\"测试\",\"edition\":3," SECTION(
	    FB ",{\"code\":\"c\",\"label\":\"丙\",\"type\":\"text\"}," FA) ",\"rules\":[]}";
	struct form_set *set = one_set(t1, "t.json");
	assert_true(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	form_set_free(set);
	assert_true(db_exec(&f->t.db,
	                    "INSERT INTO org_unit(id, code, name, kind) VALUES (1, '990100',"
	                    " '示范市', 'city')"));
	assert_true(db_exec(&f->t.db,
	                    "INSERT INTO org_unit(id, code, name, kind, parent_id, school_type,"
	                    " ownership, urban_rural) VALUES (2, '2199000001', '实验小学',"
	                    " 'school', 1, '211', 'public', '111')"));
	assert_true(db_exec(&f->t.db, "INSERT INTO period(id, code, name, opens_at, closes_at)"
	                              " VALUES (1, '2026', '2026学年', 0, 1)"));
	assert_true(db_exec(&f->t.db, "INSERT INTO submission(id, period_id, school_id, form_code)"
	                              " VALUES (1, 1, 2, 't')"));
	assert_true(db_exec(&f->t.db, "INSERT INTO value(submission_id, field_code, raw, norm)"
	                              " VALUES (1, 'b', '5', '5')"));

	set = one_set(t2, "t2.json");
	assert_false(form_store(&f->t.db, set, "tester", err, sizeof(err)));
	assert_string_equal(err,
	                    "t2.json: form t: field b has stored values and is not in edition 2 "
	                    "of the form; nothing was stored");
	form_set_free(set);
	assert_int_equal(stored_edition(f, "t"), 1);
	assert_int_equal(count_fields(f, "t"), 2);

	set = one_set(t3, "t3.json");
	if (!form_store(&f->t.db, set, "tester", err, sizeof(err)))
		fail_msg("%s", err);
	form_set_free(set);
	assert_int_equal(stored_edition(f, "t"), 3);
	assert_int_equal(count_fields(f, "t"), 3);
	sqlite3_stmt *st = db_prep(&f->t.db, "SELECT v.raw, f.position FROM value v JOIN field f"
	                                     " ON f.code = v.field_code WHERE v.submission_id = 1");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "5");
	assert_int_equal(sqlite3_column_int(st, 1), 0);
	db_done(st);
	st = db_prep(&f->t.db, "SELECT count(*) FROM pragma_foreign_key_check");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	db_done(st);
	assert_int_equal(count_audit(f, "form:t"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_forms),
	    cmocka_unit_test(test_lookups),
	    cmocka_unit_test(test_applies_and_stages),
	    cmocka_unit_test(test_broken),
	    cmocka_unit_test(test_set_level),
	    cmocka_unit_test(test_expansion),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test_setup_teardown(test_store_real, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_editions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_values, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

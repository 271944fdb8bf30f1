/* test_orgunit.c — org unit codes, validation, CSV import (all or nothing), scope, lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/migrate.h"
#include "core/orgunit.h"

struct fixture {
	char dir[256];
	char dbpath[300];
	struct db db;
	struct arena a;
};

/* A city, two counties and seven schools; the 教学点 comes before its center. */
static const char base_csv[] =
    "\xef\xbb\xbf"
    "code,name,parent_code,school_type,ownership,inclusive,urban_rural,center_code\r\n"
    "990100,示范市,,,,,,\r\n"
    "990102,东城区,990100,,,,,\r\n"
    "990121,青山县,990100,,,,,\r\n"
    "2199000003,青山县石门教学点,990121,218,public,,220,2199000002\r\n"
    "2199000001,东城区实验小学,990102,211,public,,111,\r\n"
    "2199000002,青山县中心小学,990121,211,公办,,121,\r\n"
    "1199000001,东城区阳光幼儿园,990102,111,public,是,111,\r\n"
    "1199000002,东城区小太阳幼儿园,990102,111,民办,0,112,\r\n"
    "3199000001,青山县第一中学,990121,311,public,,121,\r\n"
    "2199000004,东城区九年一贯制学校,990102,312,public,,111,\r\n";
#define BASE_ROWS 10

/* A temp directory with a database that has the project's migrations. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[512], dir[1024];
	snprintf(f->dir, sizeof(f->dir), "/tmp/tb-orgunit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->dbpath, sizeof(f->dbpath), "%s/test.db", f->dir);
	assert_true(db_open(&f->db, f->dbpath, 1000, err, sizeof(err)));
	const char *src = getenv("TIANBAO_SRCDIR");
	snprintf(dir, sizeof(dir), "%s/db/migrations", src ? src : ".");
	if (migrate_apply(&f->db, dir, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	arena_init(&f->a, 0);
	*state = f;
	return 0;
}

/* Remove the database and its directory. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	char path[400];
	db_close(&f->db);
	arena_free(&f->a);
	static const char *const suffix[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", f->dbpath, suffix[i]);
		unlink(path);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Import CSV text; the error output is returned in *errors (malloc'd). */
static long import_text(struct fixture *f, const char *text, char **errors)
{
	size_t elen = 0;
	char *ebuf = NULL;
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	FILE *err = open_memstream(&ebuf, &elen);
	assert_non_null(in);
	assert_non_null(err);
	long n = ou_import_csv(&f->db, in, "t.csv", "tester", err, NULL);
	fclose(in);
	fclose(err);
	if (errors)
		*errors = ebuf;
	else
		free(ebuf);
	return n;
}

/* Import the base data set, which must succeed. */
static void import_base(struct fixture *f)
{
	char *errors;
	long n = import_text(f, base_csv, &errors);
	if (n != BASE_ROWS)
		fail_msg("base import returned %ld: %s", n, errors);
	free(errors);
}

/* Number of org units / audit rows of one action. */
static int count_units(struct fixture *f)
{
	sqlite3_stmt *st = db_prep(&f->db, "SELECT count(*) FROM org_unit");
	assert_non_null(st);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	db_done(st);
	return n;
}

/* Number of audit rows with the given action. */
static int count_audit(struct fixture *f, const char *action)
{
	sqlite3_stmt *st = db_prep(&f->db, "SELECT count(*) FROM audit WHERE action = ?1");
	assert_non_null(st);
	db_bind_text(st, 1, action, -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int n = sqlite3_column_int(st, 0);
	db_done(st);
	return n;
}

/* Load a unit that must exist. */
static struct org_unit get(struct fixture *f, const char *code)
{
	struct org_unit u;
	if (ou_get_by_code(&f->db, &f->a, code, &u) != 1)
		fail_msg("unit %s not found", code);
	return u;
}

/* Names, stages and groups of the code tables. */
static void test_code_tables(void **state)
{
	(void)state;
	assert_string_equal(ou_school_type_name("111"), "幼儿园");
	assert_string_equal(ou_school_type_name("218"), "小学教学点");
	assert_string_equal(ou_school_type_name("345"), "十二年一贯制学校");
	assert_null(ou_school_type_name("119"));
	assert_null(ou_school_type_name(""));
	assert_string_equal(ou_school_type_stages("111"), "kg");
	assert_string_equal(ou_school_type_stages("312"), "pri,jun");
	assert_string_equal(ou_school_type_stages("341"), "jun,sen");
	assert_string_equal(ou_school_type_stages("345"), "pri,jun,sen");
	assert_string_equal(ou_school_type_stages("366"), "voc");
	assert_string_equal(ou_school_type_stages("513"), "spe");
	assert_null(ou_school_type_stages("999"));
	static const char *const all[] = {"111", "211", "218", "311", "312", "341", "342", "345",
	                                  "361", "362", "365", "366", "511", "512", "513", "514"};
	for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
		assert_non_null(ou_school_type_name(all[i]));
		assert_non_null(ou_school_type_stages(all[i]));
	}
	assert_string_equal(ou_urban_rural_name("111"), "主城区");
	assert_string_equal(ou_urban_rural_name("220"), "村庄");
	assert_string_equal(ou_urban_rural_group("112"), "城区");
	assert_string_equal(ou_urban_rural_group("123"), "镇区");
	assert_string_equal(ou_urban_rural_group("210"), "乡村");
	assert_null(ou_urban_rural_name("130"));
	assert_null(ou_urban_rural_group(NULL));
	assert_string_equal(ou_ownership_name("public"), "公办");
	assert_string_equal(ou_ownership_name("private"), "民办");
	assert_null(ou_ownership_name("公办"));
}

/* 学校标识码: ten ASCII digits whose category fits the type. */
static void test_school_code(void **state)
{
	(void)state;
	const char *why = NULL;
	assert_true(ou_school_code_valid("2199000001", "211", &why));
	assert_true(ou_school_code_valid("2199000001", NULL, &why));
	assert_true(ou_school_code_valid("1144001800", "111", &why));
	assert_true(ou_school_code_valid("2199000001", "218", &why));
	assert_true(ou_school_code_valid("2199000001", "312", &why));
	assert_true(ou_school_code_valid("3199000001", "312", &why));
	assert_true(ou_school_code_valid("3499000001", "345", &why));
	assert_true(ou_school_code_valid("3699000001", "366", &why));
	assert_true(ou_school_code_valid("5199000001", "514", &why));
	why = NULL;
	assert_false(ou_school_code_valid("219900001", "211", &why)); /* 9 digits */
	assert_non_null(why);
	assert_non_null(strstr(why, "10 位"));
	assert_false(ou_school_code_valid("21990000011", NULL, &why)); /* 11 digits */
	assert_false(ou_school_code_valid("21990000a1", NULL, &why));
	assert_false(ou_school_code_valid(" 2199000001", NULL, &why));
	assert_false(ou_school_code_valid("", NULL, &why));
	assert_false(ou_school_code_valid(NULL, NULL, &why));
	/* full-width digits are not digits here */
	assert_false(ou_school_code_valid("２１９９０００００１", NULL, &why));
	/* unknown category */
	assert_false(ou_school_code_valid("9999000001", NULL, &why));
	assert_non_null(strstr(why, "类别码"));
	/* category does not fit the type */
	why = NULL;
	assert_false(ou_school_code_valid("3199000001", "211", &why));
	assert_non_null(why);
	assert_false(ou_school_code_valid("2199000001", "111", &why));
	assert_false(ou_school_code_valid("3499000001", "312", &why));
	assert_false(ou_school_code_valid("1199000001", "345", &why));
	assert_false(ou_school_code_valid("3199000001", "341", &why));
	assert_false(ou_school_code_valid("2199000001", "511", &why));
	assert_false(ou_school_code_valid("2199000001", "999", &why));
}

/* A valid school to start from. */
static struct org_unit school(void)
{
	struct org_unit u;
	memset(&u, 0, sizeof(u));
	u.code = "2199000001";
	u.name = "东城区实验小学";
	u.kind = "school";
	u.parent_code = "990102";
	u.school_type = "211";
	u.ownership = "public";
	u.inclusive = -1;
	u.urban_rural = "111";
	u.active = true;
	return u;
}

/* ou_validate: every field against the tables, Chinese messages. */
static void test_validate(void **state)
{
	(void)state;
	char err[256];
	struct org_unit u = school();
	assert_true(ou_validate(&u, err, sizeof(err)));
	/* a county and a city */
	struct org_unit c;
	memset(&c, 0, sizeof(c));
	c.code = "990102";
	c.name = "东城区";
	c.kind = "county";
	c.parent_code = "990100";
	c.inclusive = -1;
	assert_true(ou_validate(&c, err, sizeof(err)));
	c.code = "9901020";
	assert_false(ou_validate(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "6 位"));
	c.code = "990102";
	c.school_type = "211";
	assert_false(ou_validate(&c, err, sizeof(err)));
	c.school_type = NULL;
	c.kind = "city";
	assert_false(ou_validate(&c, err, sizeof(err))); /* a city has no parent */
	c.parent_code = NULL;
	assert_true(ou_validate(&c, err, sizeof(err)));
	c.kind = "province";
	assert_false(ou_validate(&c, err, sizeof(err)));
	/* names */
	char name[512] = "";
	for (int i = 0; i < 100; i++)
		strncat(name, "校", sizeof(name) - strlen(name) - 1);
	u.name = name;
	assert_true(ou_validate(&u, err, sizeof(err))); /* 100 characters, 300 bytes */
	strncat(name, "x", sizeof(name) - strlen(name) - 1);
	assert_false(ou_validate(&u, err, sizeof(err)));
	assert_non_null(strstr(err, "100"));
	u.name = "";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.name = "bad\xff名称";
	assert_false(ou_validate(&u, err, sizeof(err)));
	assert_non_null(strstr(err, "UTF-8"));
	u.name = "overlong \xc0\xaf";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.name = "tab\there";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.name = "c1 \xc2\x85";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u = school();
	/* school attributes */
	u.school_type = NULL;
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.school_type = "999";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.school_type = "311"; /* code 21... does not fit 311 */
	assert_false(ou_validate(&u, err, sizeof(err)));
	assert_non_null(strstr(err, "31"));
	u = school();
	u.ownership = "公办"; /* the stored form is public/private */
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.ownership = "private";
	assert_true(ou_validate(&u, err, sizeof(err)));
	u.urban_rural = "130";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.urban_rural = NULL;
	assert_false(ou_validate(&u, err, sizeof(err)));
	u = school();
	u.parent_code = NULL;
	assert_false(ou_validate(&u, err, sizeof(err)));
	/* inclusive only for kindergartens, and required there */
	u = school();
	u.inclusive = 1;
	assert_false(ou_validate(&u, err, sizeof(err)));
	assert_non_null(strstr(err, "普惠"));
	u.code = "1199000001";
	u.school_type = "111";
	assert_true(ou_validate(&u, err, sizeof(err)));
	u.inclusive = 0;
	assert_true(ou_validate(&u, err, sizeof(err)));
	u.inclusive = -1;
	assert_false(ou_validate(&u, err, sizeof(err)));
	/* center only for 教学点, and required there */
	u = school();
	u.center_code = "2199000002";
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.school_type = "218";
	assert_true(ou_validate(&u, err, sizeof(err)));
	u.center_code = NULL;
	assert_false(ou_validate(&u, err, sizeof(err)));
	assert_non_null(strstr(err, "中心校"));
	u.center_code = "2199000001"; /* itself */
	assert_false(ou_validate(&u, err, sizeof(err)));
	u.center_code = "21990";
	assert_false(ou_validate(&u, err, sizeof(err)));
}

/* A good file: every row stored with its attributes and one audit row each. */
static void test_import_happy(void **state)
{
	struct fixture *f = *state;
	import_base(f);
	assert_int_equal(count_units(f), BASE_ROWS);
	assert_int_equal(count_audit(f, "orgunit.import"), BASE_ROWS);
	struct org_unit city = get(f, "990100");
	assert_string_equal(city.kind, "city");
	assert_string_equal(city.name, "示范市");
	assert_int_equal(city.parent_id, 0);
	assert_null(city.school_type);
	assert_int_equal(city.inclusive, -1);
	struct org_unit county = get(f, "990121");
	assert_string_equal(county.kind, "county");
	assert_string_equal(county.parent_code, "990100");
	struct org_unit point = get(f, "2199000003");
	assert_string_equal(point.kind, "school");
	assert_string_equal(point.school_type, "218");
	assert_string_equal(point.center_code, "2199000002");
	assert_string_equal(point.parent_code, "990121");
	assert_string_equal(point.parent_name, "青山县");
	assert_string_equal(point.urban_rural, "220");
	assert_true(point.active);
	struct org_unit center = get(f, "2199000002");
	assert_int_equal(point.center_id, center.id);
	assert_string_equal(center.ownership, "public"); /* from 公办 */
	struct org_unit kg = get(f, "1199000001");
	assert_int_equal(kg.inclusive, 1); /* from 是 */
	assert_string_equal(kg.ownership, "public");
	struct org_unit kg2 = get(f, "1199000002");
	assert_int_equal(kg2.inclusive, 0);
	assert_string_equal(kg2.ownership, "private"); /* from 民办 */
	struct org_unit s = get(f, "2199000001");
	assert_int_equal(s.inclusive, -1);
	assert_null(s.center_code);
	/* the audit rows name the units */
	sqlite3_stmt *st = db_prep(&f->db, "SELECT actor, detail FROM audit WHERE object = ?1");
	db_bind_text(st, 1, "orgunit:2199000003", -1);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal(db_text(st, 0), "tester");
	assert_non_null(strstr(db_text(st, 1), "\"op\":\"create\""));
	assert_non_null(strstr(db_text(st, 1), "\"line\":5"));
	db_done(st);
	/* explicit kind, Chinese aliases, LF endings, a blank line, quoted fields */
	char *errors;
	long n =
	    import_text(f,
	                "kind,code,name,parent_code,school_type,ownership,urban_rural,inclusive\n"
	                "区县,990122,白水县,990100,,,,\n"
	                "\n"
	                "学校,5199000001,\"白水县特殊教育学校\",990122,513,public,121,\n"
	                "school,3699000001,\"白水县职业中学, 东校区\",990122,361,public,121,\n",
	                &errors);
	if (n != 3)
		fail_msg("returned %ld: %s", n, errors);
	free(errors);
	assert_string_equal(get(f, "3699000001").name, "白水县职业中学, 东校区");
	assert_string_equal(get(f, "5199000001").parent_code, "990122");
}

/* Does `errors` have a message for line `line` of t.csv? */
static bool has_line(const char *errors, long line)
{
	char key[32];
	snprintf(key, sizeof(key), "t.csv:%ld: ", line);
	return strstr(errors, key) != NULL;
}

/* Bad rows: every one reported with its line, nothing stored. */
static void test_import_bad(void **state)
{
	struct fixture *f = *state;
	import_base(f);
	int units = count_units(f), audits = count_audit(f, "orgunit.import");
	char *errors;
	long n = import_text(
	    f,
	    "code,name,parent_code,school_type,ownership,inclusive,urban_rural,center_code\n"
	    "990123,新区,990100,,,,,\n"                                 /* 2 good */
	    "21990A0001,坏代码小学,990102,211,public,,111,\n"           /* 3 bad code */
	    "2199000010,孤儿小学,990199,211,public,,111,\n"             /* 4 unknown parent */
	    "2199000011,怪类型学校,990102,999,public,,111,\n"           /* 5 unknown type */
	    "2199000012,新区小学,990123,211,public,,111,\n"             /* 6 good */
	    "2199000012,重复小学,990123,211,public,,111,\n"             /* 7 duplicate */
	    "2199000013,少一列小学,990123,211,public,,111\n"            /* 8 column count */
	    "2199000014,\xe5\xad\xa6\xff\xfe,990123,211,public,,111,\n" /* 9 invalid UTF-8 */
	    "2199000015,\"引号\"错误,990123,211,public,,111,\n"         /* 10 malformed CSV */
	    "2199000016,\"两行\n的名称\",990123,211,public,,111,\n"     /* 11-12 newline */
	    "3199000016,类型不符,990123,211,public,,111,\n"             /* 13 category */
	    "2199000017,教学点,990123,218,public,,220,3199000001\n"     /* 14 center type */
	    "2199000018,教学点二,990123,218,public,,220,2199000001\n"   /* 15 other county */
	    "2199000019,县下学校,990100,211,public,,111,\n"             /* 16 parent is city */
	    "990102,东城区,990121,,,,,\n"                               /* 17 moved county */
	    "1199000009,幼儿园,990123,111,public,maybe,111,\n"          /* 18 inclusive */
	    "1199000010,幼儿园二,990123,111,州立,1,111,\n"              /* 19 ownership */
	    "2199000020,\"好的\",990123,211,private,,210,\n",           /* 20 good */
	    &errors);
	assert_int_equal(n, -1);
	static const long bad[] = {3, 4, 5, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (!has_line(errors, bad[i]))
			fail_msg("no message for line %ld in:\n%s", bad[i], errors);
	static const long good[] = {1, 2, 6, 12, 20};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (has_line(errors, good[i]))
			fail_msg("a message for good line %ld in:\n%s", good[i], errors);
	assert_non_null(strstr(errors, "unknown parent_code 990199"));
	assert_non_null(strstr(errors, "unknown school_type '999'"));
	assert_non_null(strstr(errors, "duplicate code 2199000012 (first on line 6)"));
	assert_non_null(strstr(errors, "expected 8 fields, found 7"));
	assert_non_null(strstr(errors, "not valid UTF-8"));
	assert_non_null(strstr(errors, "malformed CSV"));
	assert_non_null(strstr(errors, "control characters"));
	assert_non_null(strstr(errors, "a center must be 211, 312 or 345"));
	assert_non_null(strstr(errors, "belongs to county 990102, not 990123"));
	assert_non_null(strstr(errors, "a school's parent must be a county"));
	assert_non_null(strstr(errors, "cannot move it"));
	free(errors);
	assert_int_equal(count_units(f), units);
	assert_int_equal(count_audit(f, "orgunit.import"), audits);
	struct org_unit x;
	assert_int_equal(ou_get_by_code(&f->db, &f->a, "990123", &x), 0);

	/* header problems stop before any row */
	n = import_text(f, "code,parent_code,school_type\n990124,990100,\n", &errors);
	assert_int_equal(n, -1);
	assert_non_null(strstr(errors, "t.csv:1: missing column 'name'"));
	free(errors);
	n = import_text(f, "code,name,parent_code,colour\n990124,北区,990100,red\n", &errors);
	assert_int_equal(n, -1);
	assert_non_null(strstr(errors, "t.csv:1: unknown column 'colour'"));
	free(errors);
	n = import_text(f, "", &errors);
	assert_int_equal(n, -1);
	assert_non_null(strstr(errors, "empty file"));
	free(errors);
	/* an unterminated quote at the end of the file */
	n = import_text(f, "code,name,parent_code\n990124,\"北区,990100\n", &errors);
	assert_int_equal(n, -1);
	assert_non_null(strstr(errors, "t.csv:2: malformed CSV"));
	free(errors);
	assert_int_equal(count_units(f), units);
	/* unnamed trailing columns are ignored */
	assert_int_equal(import_text(f, "code,name,parent_code,,\n990124,北区,990100,,\n", NULL),
	                 1);
	assert_int_equal(count_units(f), units + 1);
	/* a header alone imports nothing and is fine */
	assert_int_equal(import_text(f, "code,name,parent_code\n", NULL), 0);
}

/* Importing again updates names and attributes, never duplicates. */
static void test_reimport(void **state)
{
	struct fixture *f = *state;
	import_base(f);
	int units = count_units(f);
	char *errors;
	long n = import_text(f,
	                     "code,name,parent_code,school_type,ownership,inclusive,urban_rural,"
	                     "center_code,active\n"
	                     "2199000001,东城区实验小学（新校名）,990102,211,public,,112,,\n"
	                     "1199000002,东城区小太阳幼儿园,990102,111,private,1,112,,0\n",
	                     &errors);
	if (n != 2)
		fail_msg("returned %ld: %s", n, errors);
	free(errors);
	assert_int_equal(count_units(f), units);
	struct org_unit s = get(f, "2199000001");
	assert_string_equal(s.name, "东城区实验小学（新校名）");
	assert_string_equal(s.urban_rural, "112");
	assert_true(s.active);
	struct org_unit kg = get(f, "1199000002");
	assert_int_equal(kg.inclusive, 1);
	assert_false(kg.active);
	/* the whole base file again: still the same units */
	import_base(f);
	assert_int_equal(count_units(f), units);
	assert_string_equal(get(f, "2199000001").name, "东城区实验小学");
	assert_false(get(f, "1199000002").active); /* no active column: unchanged */
	assert_int_equal(count_audit(f, "orgunit.import"), 2 * BASE_ROWS + 2);
	/* a center may not lose its primary stage while a 教学点 names it */
	n = import_text(f,
	                "code,name,parent_code,school_type,ownership,urban_rural,center_code\n"
	                "2199000005,青山县第二小学,990121,211,public,121,\n"
	                "2199000002,青山县中心小学,990121,218,public,121,2199000005\n",
	                &errors);
	assert_int_equal(n, -1);
	assert_non_null(strstr(errors, "t.csv:3: 2199000002 is the center of 教学点 2199000003"));
	free(errors);
	struct org_unit none;
	assert_int_equal(ou_get_by_code(&f->db, &f->a, "2199000005", &none), 0);
	assert_string_equal(get(f, "2199000002").school_type, "211");
	n = import_text(f,
	                "code,name,parent_code,school_type,ownership,urban_rural\n"
	                "3199000002,青山县第二中学,990121,311,public,121\n"
	                "3199000001,青山县第一中学,990121,311,public,121\n",
	                &errors);
	assert_int_equal(n, 2);
	free(errors);
	/* the kind of an existing code cannot change */
	n = import_text(f, "code,name,parent_code,kind\n990121,青山县,990100,city\n", &errors);
	assert_int_equal(n, -1);
	free(errors);
}

/* A long file: progress lines, and a row limit that stays out of the way. */
static void test_import_progress(void **state)
{
	struct fixture *f = *state;
	import_base(f);
	size_t cap = 4000 * 80, len = 0;
	char *text = malloc(cap);
	len += (size_t)snprintf(text + len, cap - len,
	                        "code,name,parent_code,school_type,"
	                        "ownership,urban_rural\n");
	for (int i = 0; i < 2500; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "21995%05d,第%d小学,990121,211,public,220\n", i, i);
	FILE *in = fmemopen(text, len, "r");
	char *pbuf = NULL;
	size_t plen = 0;
	FILE *progress = open_memstream(&pbuf, &plen);
	long n = ou_import_csv(&f->db, in, "big.csv", "tester", stderr, progress);
	fclose(in);
	fclose(progress);
	assert_int_equal(n, 2500);
	assert_non_null(strstr(pbuf, "big.csv: read 1000 rows"));
	assert_non_null(strstr(pbuf, "big.csv: read 2000 rows"));
	assert_non_null(strstr(pbuf, "big.csv: stored 2000 of 2500 units"));
	free(pbuf);
	free(text);
	assert_int_equal(count_units(f), BASE_ROWS + 2500);
}

/* ou_in_scope: a unit is in its own scope and in its ancestors' only. */
static void test_scope(void **state)
{
	struct fixture *f = *state;
	import_base(f);
	long long city = get(f, "990100").id, east = get(f, "990102").id,
	          hill = get(f, "990121").id, s_east = get(f, "2199000001").id,
	          s_hill = get(f, "2199000002").id, point = get(f, "2199000003").id;
	assert_true(ou_in_scope(&f->db, east, s_east));
	assert_false(ou_in_scope(&f->db, east, s_hill));
	assert_false(ou_in_scope(&f->db, hill, s_east));
	assert_true(ou_in_scope(&f->db, hill, point));
	assert_true(ou_in_scope(&f->db, city, s_east));
	assert_true(ou_in_scope(&f->db, city, point));
	assert_true(ou_in_scope(&f->db, city, hill));
	assert_true(ou_in_scope(&f->db, city, city));
	assert_true(ou_in_scope(&f->db, s_east, s_east));
	assert_false(ou_in_scope(&f->db, s_east, east));
	assert_false(ou_in_scope(&f->db, east, hill));
	assert_false(ou_in_scope(&f->db, east, city));
	assert_false(ou_in_scope(&f->db, s_hill, point)); /* a center does not own its 教学点 */
	assert_false(ou_in_scope(&f->db, 0, s_east));
	assert_false(ou_in_scope(&f->db, city, 0));
	assert_false(ou_in_scope(&f->db, city, 999999));
}

/* ou_schools by county code then school code; ou_children by code. */
static void test_lists(void **state)
{
	struct fixture *f = *state;
	import_base(f);
	struct org_unit *list;
	size_t n;
	long long city = get(f, "990100").id;
	assert_int_equal(ou_schools(&f->db, &f->a, city, &list, &n), 0);
	static const char *const order[] = {"1199000001", "1199000002", "2199000001", "2199000004",
	                                    "2199000002", "2199000003", "3199000001"};
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list[i].code, order[i]);
	assert_string_equal(list[0].parent_name, "东城区");
	assert_int_equal(ou_schools(&f->db, &f->a, get(f, "990121").id, &list, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].code, "2199000002");
	assert_int_equal(ou_schools(&f->db, &f->a, get(f, "2199000003").id, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ou_children(&f->db, &f->a, 0, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].code, "990100");
	assert_int_equal(ou_children(&f->db, &f->a, city, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].code, "990102");
	assert_string_equal(list[1].code, "990121");
	assert_int_equal(ou_children(&f->db, &f->a, get(f, "990102").id, &list, &n), 0);
	assert_int_equal(n, 4);
}

/* ou_create / ou_update / ou_set_active with Chinese messages and audit rows. */
static void test_create_update(void **state)
{
	struct fixture *f = *state;
	char err[256];
	import_base(f);
	struct org_unit u = school();
	u.code = "2199000050";
	u.name = "东城区第二实验小学";
	long long id = ou_create(&f->db, &u, "admin", err, sizeof(err));
	assert_true(id > 0);
	assert_int_equal(count_audit(f, "orgunit.create"), 1);
	assert_int_equal(ou_create(&f->db, &u, "admin", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "已存在"));
	u.code = "2199000051";
	u.parent_code = "990100"; /* the city */
	assert_int_equal(ou_create(&f->db, &u, "admin", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "区县"));
	u.parent_code = "990199";
	assert_int_equal(ou_create(&f->db, &u, "admin", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "不存在"));
	u.parent_code = "990102";
	u.school_type = "218";
	u.center_code = "2199000002"; /* a center in another county */
	assert_int_equal(ou_create(&f->db, &u, "admin", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "区县"));
	u.center_code = "2199000001";
	assert_true(ou_create(&f->db, &u, "admin", err, sizeof(err)) > 0);
	assert_int_equal(count_audit(f, "orgunit.create"), 2);
	/* update: name and attributes */
	struct org_unit v = get(f, "2199000050");
	v.name = "东城区育才小学";
	v.urban_rural = "112";
	assert_true(ou_update(&f->db, &v, "admin", err, sizeof(err)));
	assert_string_equal(get(f, "2199000050").name, "东城区育才小学");
	assert_string_equal(get(f, "2199000050").urban_rural, "112");
	assert_int_equal(count_audit(f, "orgunit.update"), 1);
	v.name = "";
	assert_false(ou_update(&f->db, &v, "admin", err, sizeof(err)));
	/* the center of a 教学点 keeps a primary stage */
	v = get(f, "2199000001");
	v.school_type = "218";
	v.center_code = "2199000004";
	assert_false(ou_update(&f->db, &v, "admin", err, sizeof(err)));
	assert_non_null(strstr(err, "中心校"));
	/* activation */
	assert_true(ou_set_active(&f->db, id, false, "admin", err, sizeof(err)));
	assert_false(get(f, "2199000050").active);
	assert_int_equal(count_audit(f, "orgunit.deactivate"), 1);
	assert_true(ou_set_active(&f->db, id, true, "admin", err, sizeof(err)));
	assert_int_equal(count_audit(f, "orgunit.activate"), 1);
	assert_false(ou_set_active(&f->db, 999999, true, "admin", err, sizeof(err)));
	/* a school under a deactivated county cannot be created */
	assert_true(ou_set_active(&f->db, get(f, "990121").id, false, "admin", err, sizeof(err)));
	u = school();
	u.code = "2199000052";
	u.parent_code = "990121";
	assert_int_equal(ou_create(&f->db, &u, "admin", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "停用"));
}

/* The id index finds every unit's position, and nothing for other ids or an empty array. */
static void test_index(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 0);
	struct org_unit units[7];
	static const long long ids[] = {42, 7, 1000, 3, 99, 8, 41};
	for (size_t i = 0; i < 7; i++)
		units[i] = (struct org_unit){.id = ids[i]};
	struct ou_index ix;
	ou_index_build(&a, units, 7, &ix);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(ou_index_find(&ix, ids[i]), (long)i);
	assert_int_equal(ou_index_find(&ix, 0), -1);
	assert_int_equal(ou_index_find(&ix, 40), -1);
	assert_int_equal(ou_index_find(&ix, 1001), -1);
	ou_index_build(&a, units, 0, &ix);
	assert_int_equal(ou_index_find(&ix, 42), -1);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_code_tables),
	    cmocka_unit_test(test_school_code),
	    cmocka_unit_test(test_validate),
	    cmocka_unit_test(test_index),
	    cmocka_unit_test_setup_teardown(test_import_happy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reimport, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_progress, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_update, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

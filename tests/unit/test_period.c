/* test_period.c — reporting periods: times in UTC+8, windows, current and previous, add and extend.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/period.h"
#include "tests/unit/testlib.h"

/* 2026-09-01 00:00 in UTC+8 is 2026-08-31 16:00 UTC. */
#define T_0901 1788192000LL

/* Parse a time; fails the test when refused. */
static long long parse(const char *s, bool end)
{
	long long t;
	if (!period_parse_time(s, end, &t))
		fail_msg("'%s' refused", s);
	return t;
}

static void test_parse_and_format(void **state)
{
	(void)state;
	char buf[32];
	assert_int_equal(parse("2026-09-01", false), T_0901);
	assert_int_equal(parse("2026-09-01", true), T_0901 + 86400);
	assert_int_equal(parse("2026-09-01 08:30", true), T_0901 + 8 * 3600 + 1800);
	assert_int_equal(parse("2026-09-01T08:30:15", false), T_0901 + 8 * 3600 + 1815);
	assert_int_equal(parse("2024-02-29", false), parse("2024-02-28", false) + 86400);
	assert_string_equal(period_format_time(T_0901, buf, sizeof(buf)), "2026-09-01 00:00");
	assert_string_equal(period_format_time(parse("2026-09-20 18:00", false), buf, sizeof(buf)),
	                    "2026-09-20 18:00");
	long long t;
	static const char *const bad[] = {
	    "",           "2026-9-1",         "2026-09-31",      "2025-02-29",
	    "2026-13-01", "2026-09-01 24:00", "2026-09-01 8:00", "2026-09-01 08:00 ",
	    "tomorrow",   "1999-12-31",       "2026-09-01 08:60"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (period_parse_time(bad[i], false, &t))
			fail_msg("'%s' accepted", bad[i]);
	assert_false(period_parse_time(NULL, false, &t));
}

static void test_window_and_days(void **state)
{
	(void)state;
	struct period p = {.opens_at = 1000, .closes_at = 2000};
	assert_int_equal(period_window(&p, 999), PW_NOT_YET);
	assert_int_equal(period_window(&p, 1000), PW_OPEN);
	assert_int_equal(period_window(&p, 1999), PW_OPEN);
	assert_int_equal(period_window(&p, 2000), PW_CLOSED);
	assert_int_equal(period_days_left(86400 * 3, 0), 3);
	assert_int_equal(period_days_left(86400 * 3, 1), 3);
	assert_int_equal(period_days_left(86400 * 3, 86400 * 2 + 1), 1);
	assert_int_equal(period_days_left(100, 100), 0);
	assert_true(period_code_valid("2026"));
	assert_true(period_code_valid("2026-spring_2"));
	assert_false(period_code_valid(""));
	assert_false(period_code_valid("2026 年"));
	assert_false(period_code_valid("12345678901234567"));
}

/* Store the four forms so that periods can name them. */
static void load_forms(struct tl_db *t)
{
	char err[512];
	struct form_set *set = tl_real_forms();
	if (!form_store(&t->db, set, "test", err, sizeof(err)))
		fail_msg("%s", err);
	form_set_free(set);
}

static void test_add_current_previous(void **state)
{
	(void)state;
	struct tl_db t;
	struct arena a;
	char err[512];
	tl_db_open(&t, "tb-period");
	arena_init(&a, 0);
	load_forms(&t);
	const char *forms[] = {"basic", "students", "staff", "facilities"};
	struct period p25 = {.code = "2025",
	                     .name = "2025学年",
	                     .opens_at = 1000,
	                     .closes_at = 2000,
	                     .forms = forms,
	                     .nforms = 4};
	struct period p26 = {.code = "2026",
	                     .name = "2026学年",
	                     .opens_at = 5000,
	                     .closes_at = 6000,
	                     .forms = forms + 1,
	                     .nforms = 2};
	struct period p, q;
	/* nothing yet */
	assert_int_equal(period_current(&t.db, &a, 0, &p), 0);
	assert_true(period_add(&t.db, &p25, "test", err, sizeof(err)) > 0);
	assert_true(period_add(&t.db, &p26, "test", err, sizeof(err)) > 0);
	/* refusals, each naming the problem, and nothing stored */
	assert_int_equal(period_add(&t.db, &p26, "test", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "exists already"));
	struct period bad = p26;
	bad.code = "2027";
	const char *unknown[] = {"basic", "nosuch"};
	bad.forms = unknown;
	assert_int_equal(period_add(&t.db, &bad, "test", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "nosuch"));
	assert_int_equal(tl_int(&t.db, "SELECT count(*) FROM period WHERE code = '2027'", NULL), 0);
	bad.forms = forms;
	bad.closes_at = bad.opens_at;
	assert_int_equal(period_add(&t.db, &bad, "test", err, sizeof(err)), 0);
	const char *twice[] = {"basic", "basic"};
	bad.closes_at = 9000;
	bad.forms = twice;
	bad.nforms = 2;
	assert_int_equal(period_add(&t.db, &bad, "test", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "twice"));
	/* reading back, forms in order */
	assert_int_equal(period_get(&t.db, &a, "2026", &p), 1);
	assert_string_equal(p.name, "2026学年");
	assert_int_equal(p.nforms, 2);
	assert_string_equal(p.forms[0], "students");
	assert_string_equal(p.forms[1], "staff");
	assert_int_equal(period_get(&t.db, &a, "1999", &p), 0);
	/* current: before any opened, the next to open; then the latest opened */
	assert_int_equal(period_current(&t.db, &a, 500, &p), 1);
	assert_string_equal(p.code, "2025");
	assert_int_equal(period_current(&t.db, &a, 3000, &p), 1);
	assert_string_equal(p.code, "2025");
	assert_int_equal(period_current(&t.db, &a, 5500, &p), 1);
	assert_string_equal(p.code, "2026");
	assert_int_equal(period_previous(&t.db, &a, &p, &q), 1);
	assert_string_equal(q.code, "2025");
	assert_int_equal(period_previous(&t.db, &a, &q, &p), 0);
	/* extend, with an audit row; not before the opening */
	assert_true(period_set_closes(&t.db, "2026", 7000, "admin", err, sizeof(err)));
	assert_int_equal(period_get(&t.db, &a, "2026", &p), 1);
	assert_int_equal(p.closes_at, 7000);
	assert_int_equal(tl_int(&t.db,
	                        "SELECT count(*) FROM audit WHERE action = 'period.closes'"
	                        " AND object = 'period:2026'",
	                        NULL),
	                 1);
	assert_false(period_set_closes(&t.db, "2026", 5000, "admin", err, sizeof(err)));
	assert_false(period_set_closes(&t.db, "1999", 9000, "admin", err, sizeof(err)));
	assert_non_null(strstr(err, "does not exist"));
	struct period *list;
	size_t n;
	assert_int_equal(period_list(&t.db, &a, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].code, "2026");
	assert_int_equal(list[1].nforms, 4);
	arena_free(&a);
	tl_db_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_and_format),
	    cmocka_unit_test(test_window_and_days),
	    cmocka_unit_test(test_add_current_previous),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

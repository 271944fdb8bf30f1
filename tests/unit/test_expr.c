/* test_expr.c — the expression language: precedence, functions, errors, missing values, rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/expr.h"

/* The fields the tests know; a field's slot is its index. */
static const char *const names[] = {
    "a",
    "b",
    "c",
    "big",
    "tiny",
    "zero",
    "pri_students",
    "pri_classes",
    "pri_classes_46_55",
    "pri_classes_56_65",
    "pri_classes_66p",
    "jun_classes",
    "music_rooms",
    "pri_teachers",
    "pri_t_edu_grad",
    "pri_t_edu_bach",
    "pri_t_edu_assoc",
    "pri_t_edu_below",
    "sum",
    "a234567890123456789012345678901234567890123456789012345678901234", /* 64 chars */
};
#define NFIELDS (sizeof(names) / sizeof(names[0]))

static double vals[NFIELDS];
static unsigned char present[NFIELDS];
static struct arena arena;
static char err[256];
static int resolve_calls;

/* Resolver over the static table. */
static int resolve(void *ctx, const char *name)
{
	(void)ctx;
	resolve_calls++;
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

/* Slot of a known field (fails the test for an unknown one). */
static size_t slot_of(const char *name)
{
	int s = resolve(NULL, name);
	assert_true(s >= 0);
	return (size_t)s;
}

/* Give a field a value. */
static void set(const char *name, double v)
{
	size_t s = slot_of(name);
	vals[s] = v;
	present[s] = 1;
}

/* Make a field missing. */
static void unset(const char *name)
{
	size_t s = slot_of(name);
	vals[s] = 12345; /* must be ignored */
	present[s] = 0;
}

/* Every field missing. */
static void clear_all(void)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		vals[i] = 0;
		present[i] = 0;
	}
}

/* Fresh arena and no fields before each test. */
static int setup(void **state)
{
	(void)state;
	arena_init(&arena, 4096);
	clear_all();
	return 0;
}

/* Release the arena after each test. */
static int teardown(void **state)
{
	(void)state;
	arena_free(&arena);
	return 0;
}

/* Parse `src`, failing the test with the parser's message if it does not parse. */
static struct expr *compile(const char *src)
{
	struct expr *e = expr_parse(&arena, src, resolve, NULL, err, sizeof(err));
	if (!e)
		fail_msg("'%s' did not parse: %s", src, err);
	return e;
}

/* Evaluate `src` against the current fields. */
static struct expr_value run(const char *src)
{
	struct expr_value r = expr_eval(compile(src), vals, present);
	assert_true(isfinite(r.v));
	return r;
}

/* The value of `src`, which must not be missing. */
static double num(const char *src)
{
	struct expr_value r = run(src);
	if (r.missing)
		fail_msg("'%s' is missing", src);
	return r.v;
}

/* Check `src` evaluates to `want` exactly. */
static void check_num(const char *src, double want)
{
	double v = num(src);
	if (v != want)
		fail_msg("'%s' = %.17g, want %.17g", src, v, want);
}

/* Check `src` evaluates to missing. */
static void check_missing(const char *src)
{
	struct expr_value r = run(src);
	if (!r.missing)
		fail_msg("'%s' = %.17g, want missing", src, r.v);
	assert_true(r.v == 0);
}

/* Check `src` fails to parse with exactly the message `want`, allocating nothing. */
static void check_error(const char *src, const char *want)
{
	size_t before = arena.used_total;
	struct expr *e = expr_parse(&arena, src, resolve, NULL, err, sizeof(err));
	if (e)
		fail_msg("'%.60s' parsed, want error '%s'", src, want);
	if (strcmp(err, want) != 0)
		fail_msg("'%.60s': error '%s', want '%s'", src, err, want);
	assert_int_equal(arena.used_total, before);
}

/* Arithmetic precedence and associativity. */
static void test_precedence_arith(void **state)
{
	(void)state;
	check_num("1+2*3", 7);
	check_num("(1+2)*3", 9);
	check_num("-2*3", -6);
	check_num("2*-3", -6);
	check_num("- -2", 2);
	check_num("-(2+3)", -5);
	check_num("10-4-3", 3);
	check_num("12/3/2", 2);
	check_num("2+12/4*3", 11);
	check_num("1 - -1", 2);
	check_num(".5 + 4.5 + 123", 128);
	check_num("  1\t+\n2  ", 3);
}

/* Boolean precedence: or < and < not < comparison < arithmetic. */
static void test_precedence_bool(void **state)
{
	(void)state;
	/* not a and b == (not a) and b */
	set("a", 0);
	set("b", 0);
	check_num("not a and b", 0);
	set("b", 1);
	check_num("not a and b", 1);
	set("a", 1);
	check_num("not a and b", 0);
	/* a or b and c == a or (b and c) */
	set("a", 1);
	set("b", 0);
	set("c", 0);
	check_num("a or b and c", 1);
	check_num("(a or b) and c", 0);
	/* not binds looser than comparison: not a == b is not (a == b) */
	set("a", 1);
	set("b", 2);
	check_num("not a == b", 1);
	check_num("(not a) == b", 0);
	check_num("not not a", 1);
	/* arithmetic binds tighter than comparison */
	check_num("1 + 2 > 2", 1);
	check_num("a < b and b < 3", 1);
	check_num("a > b or b == 2", 1);
	/* booleans are 1/0 in arithmetic; numbers are true when non-zero */
	check_num("(a < b) + (b < a) + (a == 1)", 2);
	check_num("5 and 0.5", 1);
	check_num("0 or 0", 0);
	check_num("not 0", 1);
	check_num("not 7", 0);
}

/* Every comparison, true and false. */
static void test_comparisons(void **state)
{
	(void)state;
	check_num("1 == 1", 1);
	check_num("1 == 2", 0);
	check_num("1 != 2", 1);
	check_num("1 != 1", 0);
	check_num("1 < 2", 1);
	check_num("2 < 2", 0);
	check_num("2 <= 2", 1);
	check_num("3 <= 2", 0);
	check_num("3 > 2", 1);
	check_num("2 > 2", 0);
	check_num("2 >= 2", 1);
	check_num("1 >= 2", 0);
	check_num("-1 < 0", 1);
}

/* == and != tolerate a relative 1e-9; the ordering operators are exact. */
static void test_tolerance(void **state)
{
	(void)state;
	check_num("0.1 + 0.2 == 0.3", 1);
	check_num("0.1 + 0.2 != 0.3", 0);
	check_num("1 == 1.0000000001", 1);
	check_num("1000000 == 1000000.0001", 1);
	check_num("1 == 1.00000001", 0);
	check_num("1 != 1.00000001", 1);
	/* relative only: nothing is close to zero but zero */
	check_num("0 == 0.0000000001", 0);
	check_num("0 == 0", 1);
	/* exact ordering (documented): the sum is 0.30000000000000004 */
	check_num("0.1 + 0.2 <= 0.3", 0);
	check_num("0.1 + 0.2 > 0.3", 1);
	check_num("0.3 >= 0.1 + 0.2", 0);
}

/* sum, min, max, abs, ceil. */
static void test_functions(void **state)
{
	(void)state;
	check_num("sum(1)", 1);
	check_num("sum(1, 2, 3)", 6);
	check_num("sum(1, 2 * 3, -4)", 3);
	check_num("min(3, 1, 2)", 1);
	check_num("min(-3)", -3);
	check_num("max(3, 1, 2)", 3);
	check_num("max(-1, -2)", -1);
	check_num("abs(-4.5)", 4.5);
	check_num("abs(4)", 4);
	check_num("ceil(4.1)", 5);
	check_num("ceil(4)", 4);
	check_num("ceil(-4.5)", -4);
	check_num("ceil(7 / 12)", 1);
	check_num("ceil(24 / 12)", 2);
	check_num("sum(min(1, 2), max(3, 4), abs(-5))", 10);
	check_num("sum(1 > 0, 2 > 5, 3 > 1)", 2);
	check_num("2 * max(1, 2) + 1", 5);
	/* -0 is returned as 0 */
	double z = num("ceil(-0.5)");
	assert_true(z == 0 && !signbit(z));
	z = num("-0");
	assert_true(z == 0 && !signbit(z));
	set("a", -0.0);
	z = num("a");
	assert_true(z == 0 && !signbit(z));
	z = num("a * -1");
	assert_true(z == 0 && !signbit(z));
	/* a field named like a function is a field when no '(' follows */
	set("sum", 7);
	check_num("sum + sum(1, sum)", 15);

	/* 64 arguments are fine, 65 are not */
	char src[512];
	size_t n = 0;
	n += (size_t)snprintf(src + n, sizeof(src) - n, "sum(1");
	for (int i = 1; i < 64; i++)
		n += (size_t)snprintf(src + n, sizeof(src) - n, ",1");
	snprintf(src + n, sizeof(src) - n, ")");
	check_num(src, 64);
	src[n] = '\0';
	n += (size_t)snprintf(src + n, sizeof(src) - n, ",1)");
	check_error(src, "column 133: sum() takes at most 64 arguments");
}

/* Syntax errors name the column (1-based, in characters). */
static void test_errors(void **state)
{
	(void)state;
	check_error("a + pri_studnts", "column 5: unknown field 'pri_studnts'");
	check_error("a b", "column 3: unexpected 'b'");
	check_error("1 + 2 3", "column 7: unexpected '3'");
	check_error("(a + b", "column 7: expected ')'");
	check_error("((a + b)", "column 9: expected ')'");
	check_error("(a b)", "column 4: expected ')'");
	check_error("a + b)", "column 6: unexpected ')' (no matching '(')");
	check_error("()", "column 2: unexpected ')'");
	check_error("a < b < c", "column 7: comparisons cannot be chained (use 'and')");
	check_error("a == b != c", "column 8: comparisons cannot be chained (use 'and')");
	check_error("", "column 1: empty expression");
	check_error("   ", "column 1: empty expression");
	check_error("1 +", "column 4: unexpected end of expression");
	check_error("not", "column 4: unexpected end of expression");
	check_error("a and or b", "column 7: unexpected 'or'");
	check_error("1 + not a", "column 5: unexpected 'not'");
	check_error("a = b", "column 3: unexpected '=' (use '==' to compare)");
	check_error("!a", "column 1: unexpected '!' (use 'not')");
	check_error("a && b", "column 3: unexpected '&' (use 'and')");
	check_error("a || b", "column 3: unexpected '|' (use 'or')");
	check_error("a # b", "column 3: unexpected character '#'");
	check_error("a +（b）", "column 4: unexpected character '（'");
	check_error("a + \xff", "column 5: invalid UTF-8 byte 0xFF");
	check_error("a +\x01", "column 4: unexpected control character 0x01");
	check_error("A + b", "column 1: 'A': names and keywords are lowercase");
	check_error("a AND b", "column 3: 'AND': names and keywords are lowercase");
	check_error("1.2.3", "column 1: malformed number '1.2.3'");
	check_error("12abc", "column 1: malformed number '12abc'");
	check_error("1e5", "column 1: malformed number '1e5'");
	check_error("5.", "column 1: malformed number '5.' (write 5 or 5.0, not 5.)");
	check_error("foo(1)", "column 1: unknown function 'foo'");
	check_error("sum()", "column 5: sum() needs an argument");
	check_error("sum(a,)", "column 7: unexpected ')'");
	check_error("sum(a b)", "column 7: expected ')' or ','");
	check_error("abs(1, 2)", "column 8: abs() takes exactly one argument");
	check_error("ceil(1, 2)", "column 9: ceil() takes exactly one argument");
	check_error("a, b", "column 2: unexpected ','");
	check_error("a +", "column 4: unexpected end of expression");
}

/* The limits: nesting depth, overlong names, source length, node count,
 * number range; and the error buffer's edge cases. */
static void test_limits(void **state)
{
	(void)state;
	char src[EXPR_MAX_SOURCE + 64];

	/* 64 nested parentheses parse; 65 do not */
	size_t n = 0;
	for (int i = 0; i < 64; i++)
		src[n++] = '(';
	src[n++] = '1';
	for (int i = 0; i < 64; i++)
		src[n++] = ')';
	src[n] = '\0';
	check_num(src, 1);
	n = 0;
	for (int i = 0; i < 65; i++)
		src[n++] = '(';
	src[n++] = '1';
	for (int i = 0; i < 65; i++)
		src[n++] = ')';
	src[n] = '\0';
	check_error(src, "column 65: expression nested too deeply (more than 64 levels)");
	/* unary operators and calls count as levels too */
	n = 0;
	for (int i = 0; i < 65; i++)
		src[n++] = '-';
	src[n++] = '1';
	src[n] = '\0';
	check_error(src, "column 65: expression nested too deeply (more than 64 levels)");
	n = 0;
	for (int i = 0; i < 65; i++) {
		memcpy(src + n, "abs(", 4);
		n += 4;
	}
	src[n] = '\0';
	check_error(src, "column 257: expression nested too deeply (more than 64 levels)");

	/* overlong name */
	set("a234567890123456789012345678901234567890123456789012345678901234", 5);
	check_num("a234567890123456789012345678901234567890123456789012345678901234 + 1", 6);
	check_error("1 + a2345678901234567890123456789012345678901234567890123456789012345",
	            "column 5: name longer than 64 characters");

	/* source length: 4096 bytes are fine, 4097 are not */
	memset(src, ' ', EXPR_MAX_SOURCE);
	src[0] = '1';
	src[EXPR_MAX_SOURCE] = '\0';
	check_num(src, 1);
	src[EXPR_MAX_SOURCE] = ' ';
	src[EXPR_MAX_SOURCE + 1] = '\0';
	check_error(src, "column 4097: expression too long (more than 4096 characters)");

	/* nodes: 256 ones and 255 '+' are 511 operations; with one more term the
	 * 513th operation is the last '+' (column 512) */
	n = 0;
	src[n++] = '1';
	for (int i = 1; i < 256; i++) {
		src[n++] = '+';
		src[n++] = '1';
	}
	src[n] = '\0';
	check_num(src, 256);
	src[n++] = '+';
	src[n++] = '1';
	src[n] = '\0';
	check_error(src, "column 512: expression too large (more than 512 operations)");

	/* a literal too large for a double */
	n = 0;
	src[n++] = '1';
	for (int i = 0; i < 400; i++)
		src[n++] = '0';
	src[n] = '\0';
	check_error(src, "column 1: number too large");

	/* no resolver: every field is unknown */
	assert_null(expr_parse(&arena, "a", NULL, NULL, err, sizeof(err)));
	assert_string_equal(err, "column 1: unknown field 'a'");
	/* no error buffer, a tiny one, a NULL source */
	assert_null(expr_parse(&arena, "a +", resolve, NULL, NULL, 0));
	char tiny[8];
	assert_null(expr_parse(&arena, "a +", resolve, NULL, tiny, sizeof(tiny)));
	assert_string_equal(tiny, "column ");
	assert_null(expr_parse(&arena, NULL, resolve, NULL, err, sizeof(err)));
	assert_string_equal(err, "column 1: empty expression");
	/* a successful parse clears the error buffer */
	assert_non_null(expr_parse(&arena, "1", resolve, NULL, err, sizeof(err)));
	assert_string_equal(err, "");
}

/* Missing operands, rule by rule. */
static void test_missing(void **state)
{
	(void)state;
	set("a", 3);
	unset("b");
	/* arithmetic and comparisons */
	check_missing("b");
	check_missing("a + b");
	check_missing("b - a");
	check_missing("a * b");
	check_missing("a / b");
	check_missing("b / a");
	check_missing("-b");
	check_missing("a == b");
	check_missing("a != b");
	check_missing("a < b");
	check_missing("b <= a");
	check_missing("a > b");
	check_missing("b >= a");
	check_missing("abs(b)");
	check_missing("ceil(b)");
	check_missing("b * 0");
	/* sum/min/max skip missing arguments */
	check_num("sum(a, b)", 3);
	check_num("sum(b, a, b, a)", 6);
	check_missing("sum(b)");
	check_missing("sum(b, b + 1)");
	check_num("min(b, a, 5)", 3);
	check_num("max(b, a, 1)", 3);
	check_missing("min(b)");
	check_missing("max(b, -b)");
	check_num("sum(b) + 0 == 0 or 1", 1);
	/* Kleene and/or/not */
	check_num("0 and b", 0);
	check_num("b and 0", 0);
	check_missing("1 and b");
	check_missing("b and 1");
	check_missing("b and b");
	check_num("1 or b", 1);
	check_num("b or 1", 1);
	check_missing("0 or b");
	check_missing("b or 0");
	check_missing("b or b");
	check_missing("not b");
	check_num("a > 5 and b > 1", 0);
	check_num("a > 1 or b > 1", 1);
	check_missing("a > 1 and b > 1");
	check_missing("a > 5 or b > 1");
	/* present[] decides, not the value */
	set("b", 0);
	check_num("a + b", 3);
}

/* Division by zero is missing, never Inf or NaN. */
static void test_division(void **state)
{
	(void)state;
	check_missing("1 / 0");
	check_missing("0 / 0");
	check_missing("-1 / 0");
	set("a", 5);
	set("zero", 0);
	check_missing("a / zero");
	check_missing("a / (zero * 3)");
	check_missing("a / zero > 1");
	check_num("a / zero > 1 or 1", 1);
	check_num("sum(a / zero, 2)", 2);
	check_num("0 / a", 0);
	check_num("a / 2", 2.5);
}

/* Overflow and non-finite inputs are missing; no result is ever Inf or NaN. */
static void test_no_nan_inf(void **state)
{
	(void)state;
	set("big", 1e308);
	set("tiny", 1e-310);
	check_missing("big * 10");
	check_missing("-big * 10");
	check_missing("big + big");
	check_missing("0 - big - big");
	check_missing("sum(big, big)");
	check_missing("1 / tiny");
	check_missing("big / tiny");
	check_num("max(big, big)", 1e308);
	check_num("big * 10 > 1 or 1", 1);
	check_missing("big * 10 == big * 10");
	check_num("tiny * tiny", 0);
	/* a stored value that is not finite counts as missing */
	set("a", INFINITY);
	check_missing("a");
	check_num("sum(a, 1)", 1);
	set("a", NAN);
	check_missing("a + 1");
	check_missing("a == a");

	/* many expressions over awkward values: always finite or missing */
	static const char *const exprs[] = {
	    "a + b",
	    "a - b",
	    "a * b",
	    "a / b",
	    "-a / b",
	    "abs(a) * c",
	    "ceil(a / b)",
	    "sum(a, b, c) / c",
	    "min(a, b) * max(b, c)",
	    "a * b * c",
	    "a / b / c",
	    "a == b or b < c",
	    "(a / b) * (b / c) * (c / a)",
	    "not (a / b) and c",
	};
	static const double v[] = {0,        -0.0,    1,     -1,     0.5,
	                           1e-300,   -1e-300, 1e300, -1e300, 1.7976931348623157e308,
	                           4.9e-324, 3,       1e12};
	const size_t nv = sizeof(v) / sizeof(v[0]);
	for (size_t k = 0; k < sizeof(exprs) / sizeof(exprs[0]); k++) {
		struct expr *e = compile(exprs[k]);
		for (size_t i = 0; i < nv; i++)
			for (size_t j = 0; j < nv; j++)
				for (size_t l = 0; l < nv; l++) {
					set("a", v[i]);
					set("b", v[j]);
					set("c", v[l]);
					struct expr_value r = expr_eval(e, vals, present);
					assert_true(isfinite(r.v));
					assert_true(!signbit(r.v) || r.v != 0);
					if (r.missing)
						assert_true(r.v == 0);
				}
	}
	/* a NULL expression is missing */
	assert_true(expr_eval(NULL, vals, present).missing);
}

/* expr_slots: distinct slots in order of first appearance. */
static void test_slots(void **state)
{
	(void)state;
	int slots[8];
	struct expr *e = compile("c + b * c + sum(a, b) > c");
	assert_int_equal(expr_slots(e, slots, 8), 3);
	assert_int_equal(slots[0], (int)slot_of("c"));
	assert_int_equal(slots[1], (int)slot_of("b"));
	assert_int_equal(slots[2], (int)slot_of("a"));
	slots[1] = -7;
	assert_int_equal(expr_slots(e, slots, 1), 3);
	assert_int_equal(slots[0], (int)slot_of("c"));
	assert_int_equal(slots[1], -7);
	assert_int_equal(expr_slots(e, NULL, 0), 3);
	assert_int_equal(expr_slots(compile("1 + 2"), slots, 8), 0);
	assert_int_equal(expr_slots(NULL, slots, 8), 0);
	/* the resolver is asked once per occurrence, the list keeps each once */
	resolve_calls = 0;
	e = compile("a + a + a");
	assert_int_equal(resolve_calls, 3);
	assert_int_equal(expr_slots(e, slots, 8), 1);
}

/* expr_is_boolean: the top-level operation is a comparison or and/or/not. */
static void test_is_boolean(void **state)
{
	(void)state;
	assert_true(expr_is_boolean(compile("a < b")));
	assert_true(expr_is_boolean(compile("a == b")));
	assert_true(expr_is_boolean(compile("(a != b)")));
	assert_true(expr_is_boolean(compile("a and b")));
	assert_true(expr_is_boolean(compile("a or b")));
	assert_true(expr_is_boolean(compile("not a")));
	assert_true(expr_is_boolean(compile("sum(a, b) >= 1")));
	assert_false(expr_is_boolean(compile("a")));
	assert_false(expr_is_boolean(compile("1")));
	assert_false(expr_is_boolean(compile("a + b")));
	assert_false(expr_is_boolean(compile("(a < b) + 0")));
	assert_false(expr_is_boolean(compile("sum(a < b)")));
	assert_false(expr_is_boolean(compile("-(a < b)")));
	assert_false(expr_is_boolean(NULL));
}

/* Evaluate a rule: 1 holds, 0 reported, -1 not evaluated. */
static int rule(const char *src)
{
	struct expr *e = compile(src);
	assert_true(expr_is_boolean(e));
	struct expr_value r = expr_eval(e, vals, present);
	return r.missing ? -1 : r.v != 0;
}

/* Rules of the domain written as expressions. */
static void test_domain_rules(void **state)
{
	(void)state;
	const char *bands =
	    "pri_classes_46_55 + pri_classes_56_65 + pri_classes_66p <= pri_classes";
	set("pri_classes", 24);
	set("pri_classes_46_55", 10);
	set("pri_classes_56_65", 3);
	set("pri_classes_66p", 0);
	assert_int_equal(rule(bands), 1);
	set("pri_classes_66p", 12);
	assert_int_equal(rule(bands), 0);
	set("pri_classes_66p", 11);
	assert_int_equal(rule(bands), 1);
	unset("pri_classes_56_65");
	assert_int_equal(rule(bands), -1);

	const char *size = "pri_students / pri_classes > 45";
	set("pri_students", 1080); /* 45 per class: not above */
	set("pri_classes", 24);
	assert_int_equal(rule(size), 0);
	set("pri_students", 1081);
	assert_int_equal(rule(size), 1);
	set("pri_classes", 0);
	assert_int_equal(rule(size), -1);
	unset("pri_classes");
	assert_int_equal(rule(size), -1);

	const char *music = "music_rooms >= ceil((pri_classes + jun_classes) / 12)";
	set("pri_classes", 18);
	set("jun_classes", 7); /* 25 classes need 3 rooms */
	set("music_rooms", 3);
	assert_int_equal(rule(music), 1);
	set("music_rooms", 2);
	assert_int_equal(rule(music), 0);
	set("jun_classes", 6); /* 24 classes need 2 */
	assert_int_equal(rule(music), 1);
	unset("jun_classes");
	assert_int_equal(rule(music), -1);
	/* a school without a junior stage: sum() skips the missing stage */
	const char *music2 = "music_rooms >= ceil(sum(pri_classes, jun_classes) / 12)";
	assert_int_equal(rule(music2), 1);
	set("music_rooms", 1);
	assert_int_equal(rule(music2), 0);

	const char *quals = "pri_t_edu_grad + pri_t_edu_bach + pri_t_edu_assoc + pri_t_edu_below "
	                    "== pri_teachers";
	set("pri_teachers", 60);
	set("pri_t_edu_grad", 2);
	set("pri_t_edu_bach", 40);
	set("pri_t_edu_assoc", 15);
	set("pri_t_edu_below", 3);
	assert_int_equal(rule(quals), 1);
	set("pri_t_edu_below", 4);
	assert_int_equal(rule(quals), 0);
	unset("pri_teachers");
	assert_int_equal(rule(quals), -1);
	set("pri_teachers", 61);
	unset("pri_t_edu_grad");
	assert_int_equal(rule(quals), -1);

	/* the indicator form: 100 × backbone / students, and its missing cases */
	set("pri_students", 800);
	set("a", 10);
	check_num("100 * a / pri_students", 1.25);
	set("pri_students", 0);
	check_missing("100 * a / pri_students");
}

/* A 10-node rule evaluates well under a microsecond (loose bound: sanitizers). */
static void test_speed(void **state)
{
	(void)state;
	struct expr *e = compile(
	    "pri_classes_46_55 + pri_classes_56_65 + pri_classes_66p <= pri_classes and a > 0");
	set("pri_classes", 24);
	set("pri_classes_46_55", 10);
	set("pri_classes_56_65", 3);
	set("pri_classes_66p", 0);
	set("a", 1);
	const int iters = 1000000;
	double acc = 0;
	clock_t t0 = clock();
	for (int i = 0; i < iters; i++) {
		vals[0] = (double)(i & 1);
		acc += expr_eval(e, vals, present).v;
	}
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_true(acc == iters / 2);
	print_message("expr_eval: %.1f ns per 10-node rule\n", secs * 1e9 / iters);
	assert_true(secs < 2.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_precedence_arith, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precedence_bool, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_comparisons, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tolerance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_functions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_division, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_nan_inf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_is_boolean, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_domain_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_speed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

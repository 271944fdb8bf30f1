/* test_number.c — num_normalize accepts what people type and rejects the rest, with messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/number.h"

/* Normalise `in` and check status, canonical text and value (when OK). */
static void check_ok(const char *in, int decimals, const char *want, double want_value)
{
	char out[NUM_OUT_SIZE];
	double v = -1;
	enum num_status st = num_normalize(in, decimals, out, sizeof(out), &v);
	if (st != NUM_OK)
		fail_msg("'%s' (decimals %d): status %d, want OK", in, decimals, (int)st);
	assert_string_equal(out, want);
	assert_true(v == want_value);
}

/* Normalise `in` and check it fails with `want`, leaving "" and 0. */
static void check_status(const char *in, int decimals, enum num_status want)
{
	char out[NUM_OUT_SIZE] = "junk";
	double v = -1;
	enum num_status st = num_normalize(in, decimals, out, sizeof(out), &v);
	if (st != want)
		fail_msg("'%s' (decimals %d): status %d, want %d", in ? in : "(null)", decimals,
		         (int)st, (int)want);
	assert_string_equal(out, "");
	assert_true(v == 0);
}

/* Plain ASCII integers; leading zeros go. */
static void test_plain(void **state)
{
	(void)state;
	check_ok("0", 0, "0", 0);
	check_ok("7", 0, "7", 7);
	check_ok("1234", 0, "1234", 1234);
	check_ok("00012", 0, "12", 12);
	check_ok("000", 0, "0", 0);
	check_ok("1000000000000", 0, "1000000000000", 1e12);
	check_ok("1234", 2, "1234", 1234);
}

/* Full-width digits, alone and mixed with ASCII. */
static void test_full_width(void **state)
{
	(void)state;
	check_ok("１２３", 0, "123", 123);
	check_ok("０", 0, "0", 0);
	check_ok("９8７", 0, "987", 987);
	check_ok("１２．５", 1, "12.5", 12.5);
	check_ok("１，２３４", 0, "1234", 1234);
}

/* Thousands separators only in correct groups of three. */
static void test_separators(void **state)
{
	(void)state;
	check_ok("1,234", 0, "1234", 1234);
	check_ok("1，234", 0, "1234", 1234);
	check_ok("12,345,678", 0, "12345678", 12345678);
	check_ok("123,456", 0, "123456", 123456);
	check_ok("12,345,678.5", 1, "12345678.5", 12345678.5);
	check_ok("1,234，567", 0, "1234567", 1234567);
	check_status("12,34", 0, NUM_BAD);
	check_status("1,2345", 0, NUM_BAD);
	check_status("1234,567", 0, NUM_BAD);
	check_status(",123", 0, NUM_BAD);
	check_status("123,", 0, NUM_BAD);
	check_status("1,,234", 0, NUM_BAD);
	check_status("0,123", 0, NUM_BAD);
	check_status("1,234.5,6", 2, NUM_BAD);
	check_status("1.234,5", 2, NUM_BAD);
	check_status("1,23.5", 1, NUM_BAD);
	check_status(",", 0, NUM_BAD);
}

/* Surrounding spaces of every accepted kind; none inside. */
static void test_spaces(void **state)
{
	(void)state;
	check_ok("  42 ", 0, "42", 42);
	check_ok("\t42\t", 0, "42", 42);
	check_ok("\u3000７\u3000", 0, "7", 7);
	check_ok("\u00a05\u00a0", 0, "5", 5);
	check_ok(" \u3000\t 8 \u3000", 0, "8", 8);
	check_ok("42\r\n", 0, "42", 42);
	check_status("1 234", 0, NUM_BAD);
	check_status("1\u3000234", 0, NUM_BAD);
	check_status("12 .5", 1, NUM_BAD);
	check_status("- 3", 0, NUM_BAD);
}

/* Decimal places: canonical text, trailing zeros, integer fields. */
static void test_decimals(void **state)
{
	(void)state;
	check_ok("3.14", 2, "3.14", 3.14);
	check_status("3.145", 2, NUM_TOO_MANY_DECIMALS);
	check_ok("3.140", 2, "3.14", 3.14);
	check_ok("12.0", 0, "12", 12);
	check_ok("12.000", 0, "12", 12);
	check_ok("12.", 0, "12", 12);
	check_status("12.5", 0, NUM_TOO_MANY_DECIMALS);
	check_ok("0.50", 2, "0.5", 0.5);
	check_ok("0.0", 2, "0", 0);
	check_ok("0.05", 2, "0.05", 0.05);
	check_ok(".5", 1, "0.5", 0.5);
	check_ok("．５", 1, "0.5", 0.5);
	check_status(".5", 0, NUM_TOO_MANY_DECIMALS);
	check_ok("000.500", 3, "0.5", 0.5);
	check_ok("0.1", 1, "0.1", 0.1);
	check_ok("123456.789012", 6, "123456.789012", 123456.789012);
	check_ok("0.000001", 6, "0.000001", 0.000001);
	check_status("0.0000001", 6, NUM_TOO_MANY_DECIMALS);
}

/* Every reject listed in number.h. */
static void test_rejects(void **state)
{
	(void)state;
	check_status("", 0, NUM_EMPTY);
	check_status(NULL, 0, NUM_EMPTY);
	check_status("   ", 0, NUM_EMPTY);
	check_status("\u3000\u00a0\t", 2, NUM_EMPTY);
	check_status("12a", 0, NUM_BAD);
	check_status("a12", 0, NUM_BAD);
	check_status("1.2.3", 2, NUM_BAD);
	check_status("１２.３.４", 2, NUM_BAD);
	check_status("１２。５", 0, NUM_BAD);
	check_status("１２。５", 2, NUM_BAD);
	check_status("+5", 0, NUM_BAD);
	check_status("＋5", 0, NUM_BAD);
	check_status(".", 2, NUM_BAD);
	check_status("-", 0, NUM_BAD);
	check_status("5-", 0, NUM_BAD);
	check_status("--5", 0, NUM_BAD);
	check_status("1e5", 0, NUM_BAD);
	check_status("0x10", 0, NUM_BAD);
	check_status("五", 0, NUM_BAD);
	check_status("12%", 0, NUM_BAD);
	check_status("-3", 0, NUM_NEGATIVE);
	check_status("－3", 0, NUM_NEGATIVE);
	check_status("\u22123", 0, NUM_NEGATIVE);
	check_status(" -1,234.5 ", 1, NUM_NEGATIVE);
	check_status("-0", 0, NUM_NEGATIVE);
	check_status("-3a", 0, NUM_BAD);
}

/* More than 15 significant digits or above 1e12. */
static void test_too_large(void **state)
{
	(void)state;
	check_status("1000000000001", 0, NUM_TOO_LARGE);
	check_status("1000000000000.5", 1, NUM_TOO_LARGE);
	check_status("99999999999999999999", 0, NUM_TOO_LARGE);
	check_status("1234567890.123456", 6, NUM_TOO_LARGE);
	check_ok("123456789.123456", 6, "123456789.123456", 123456789.123456);
	check_ok("999999999999.999", 3, "999999999999.999", 999999999999.999);
	check_ok("0.123456789012345", 15, "0.123456789012345", 0.123456789012345);
	check_status("0.1234567890123456", 16, NUM_TOO_MANY_DECIMALS);
	check_ok("000000000000000000000000000001", 0, "1", 1);
	/* Decimals are checked before size. */
	check_status("99999999999999999999.5", 0, NUM_TOO_MANY_DECIMALS);
}

/* Malformed UTF-8 anywhere is NUM_BAD. */
static void test_invalid_utf8(void **state)
{
	(void)state;
	check_status("12\xff", 0, NUM_BAD);
	check_status("\xc3\x28", 0, NUM_BAD);
	check_status("1\xef\xbc", 0, NUM_BAD);    /* truncated full-width */
	check_status("\xe0\x80\xb1", 0, NUM_BAD); /* overlong '1' */
	check_status("\xc0\xb1", 0, NUM_BAD);     /* overlong '1' */
	check_status("\xed\xa0\x80"
	             "1",
	             0, NUM_BAD);                     /* surrogate */
	check_status("1 \x80", 0, NUM_BAD);           /* stray continuation in trailing space */
	check_status("\xf4\x90\x80\x80", 0, NUM_BAD); /* above U+10FFFF */
}

/* The value is the correctly rounded double, like strtod. */
static void test_values(void **state)
{
	(void)state;
	const char *cases[] = {"0.1",     "0.3",           "2.675",    "1.005",
	                       "123.456", "999999.999999", "0.000123", "45.6"};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[NUM_OUT_SIZE];
		double v;
		assert_int_equal(num_normalize(cases[i], 6, out, sizeof(out), &v), NUM_OK);
		assert_true(v == strtod(cases[i], NULL));
	}
}

/* Optional outputs, and a short out buffer. */
static void test_outputs(void **state)
{
	(void)state;
	double v = 0;
	assert_int_equal(num_normalize("１,２３４", 0, NULL, 0, &v), NUM_OK);
	assert_true(v == 1234);
	char out[NUM_OUT_SIZE];
	assert_int_equal(num_normalize("12.5", 1, out, sizeof(out), NULL), NUM_OK);
	assert_string_equal(out, "12.5");
	char small[4] = "xyz";
	assert_int_equal(num_normalize("12345", 0, small, sizeof(small), &v), NUM_BAD);
	assert_string_equal(small, "");
	assert_int_equal(num_normalize("123", 0, small, sizeof(small), &v), NUM_OK);
	assert_string_equal(small, "123");
	/* The longest canonical text fits NUM_OUT_SIZE. */
	assert_int_equal(num_normalize("0.123456789012345", 15, out, sizeof(out), &v), NUM_OK);
	assert_true(strlen(out) < NUM_OUT_SIZE);
	/* decimals < 0 counts as 0. */
	assert_int_equal(num_normalize("2.5", -1, out, sizeof(out), &v), NUM_TOO_MANY_DECIMALS);
	assert_int_equal(num_normalize("2", -1, out, sizeof(out), &v), NUM_OK);
}

/* True when s contains at least one CJK ideograph (U+4E00..U+9FFF). */
static int has_cjk(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	for (; *u; u++)
		if (u[0] >= 0xE4 && u[0] <= 0xE9 && (u[1] & 0xC0) == 0x80 && (u[2] & 0xC0) == 0x80)
			return 1;
	return 0;
}

/* Every failing status has a non-empty Chinese message. */
static void test_messages(void **state)
{
	(void)state;
	char buf[NUM_MESSAGE_SIZE];
	enum num_status all[] = {NUM_EMPTY, NUM_BAD, NUM_NEGATIVE, NUM_TOO_MANY_DECIMALS,
	                         NUM_TOO_LARGE};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const char *m = num_message(all[i], 2, buf, sizeof(buf));
		assert_ptr_equal(m, buf);
		assert_true(strlen(m) > 0);
		assert_true(has_cjk(m));
	}
	assert_string_equal(num_message(NUM_OK, 0, buf, sizeof(buf)), "");
	assert_string_equal(num_message(NUM_BAD, 0, buf, sizeof(buf)), "请输入数字");
	assert_string_equal(num_message(NUM_NEGATIVE, 0, buf, sizeof(buf)), "不能为负数");
	assert_string_equal(num_message(NUM_TOO_MANY_DECIMALS, 2, buf, sizeof(buf)),
	                    "最多 2 位小数");
	assert_string_equal(num_message(NUM_TOO_MANY_DECIMALS, 0, buf, sizeof(buf)),
	                    "只能填写整数");
	assert_string_equal(num_message(NUM_TOO_LARGE, 0, buf, sizeof(buf)), "数值过大");
	/* Truncation keeps whole characters: 7 bytes hold two 3-byte characters. */
	char tiny[7];
	assert_string_equal(num_message(NUM_NEGATIVE, 0, tiny, sizeof(tiny)), "不能");
	assert_string_equal(num_message(NUM_BAD, 0, NULL, 0), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain),      cmocka_unit_test(test_full_width),
	    cmocka_unit_test(test_separators), cmocka_unit_test(test_spaces),
	    cmocka_unit_test(test_decimals),   cmocka_unit_test(test_rejects),
	    cmocka_unit_test(test_too_large),  cmocka_unit_test(test_invalid_utf8),
	    cmocka_unit_test(test_values),     cmocka_unit_test(test_outputs),
	    cmocka_unit_test(test_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

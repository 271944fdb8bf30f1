/* test_urlencoded.c — unit tests for cgi/urlenc: the WPT urlencoded vectors, limits, checks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../cgi/urlenc.h"
#include "../../core/arena.h"

/* Where the vectors live, relative to TIANBAO_SRCDIR. */
#define VECTORS_PATH "tests/vectors/urlencoded/urlencoded-parser-data.json"

/* Outcome of running a JSON array of vectors. */
struct vec_stats {
	size_t total;           /* vectors seen */
	size_t passed;          /* parsed exactly as expected */
	size_t failed;          /* mismatches (each reported on stderr) */
	size_t unrepresentable; /* inputs with lone surrogates, not expressible as UTF-8 */
};

/* ---- helpers ---- */

/* Write s[0..len) to stderr as a double-quoted C-style string (bytes outside printable
 * ASCII as \xHH) so mismatches involving NUL, U+FFFD or BOMs are visible. */
static void print_bytes(const char *s, size_t len)
{
	fputc('"', stderr);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c >= 0x20 && c < 0x7F)
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02X", c);
	}
	fputc('"', stderr);
}

/* Return the value of a JSON \u escape's four hex digits at s[i..i+4), or -1. */
static long hex4(const char *s, size_t len, size_t i)
{
	long v = 0;

	if (len < 4 || i > len - 4)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		char c = s[i + k];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Count the \u escapes in JSON text s[0..len) that are lone UTF-16 surrogates, which a JS
 * string may hold but UTF-8 (and so jansson) cannot. When `fix` is not NULL it is a copy of
 * s of the same length, and each lone escape in it is overwritten by the equally long
 * "\uFFFD" so that jansson can load the rest of the text. */
static size_t lone_surrogates(const char *s, size_t len, char *fix)
{
	size_t found = 0;

	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] != 'u') {
			i++; /* skip the escaped character, e.g. the second '\' of "\\" */
			continue;
		}
		long cu = hex4(s, len, i + 2);
		if (cu < 0xD800 || cu > 0xDFFF) {
			i++;
			continue;
		}
		if (cu <= 0xDBFF && i + 12 <= len && s[i + 6] == '\\' && s[i + 7] == 'u') {
			long low = hex4(s, len, i + 8);
			if (low >= 0xDC00 && low <= 0xDFFF) {
				i += 11; /* a proper surrogate pair */
				continue;
			}
		}
		found++;
		if (fix)
			memcpy(fix + i, "\\uFFFD", 6);
		i += 5;
	}
	return found;
}

/* Return the index of the first non-whitespace byte of s at or after pos (or len). */
static size_t skip_ws(const char *s, size_t len, size_t pos)
{
	while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r'))
		pos++;
	return pos;
}

/* Report one mismatching vector on stderr: its input, the expected and the actual pairs. */
static void report_mismatch(size_t idx, const char *why, const json_t *input, const json_t *expect,
                            const struct http_param *got, size_t n)
{
	fprintf(stderr, "urlencoded vector #%zu FAILED (%s)\n  input:    ", idx, why);
	print_bytes(json_string_value(input), json_string_length(input));
	fprintf(stderr, "\n  expected:");
	for (size_t i = 0; i < json_array_size(expect); i++) {
		const json_t *pair = json_array_get(expect, i);
		const json_t *name = json_array_get(pair, 0), *value = json_array_get(pair, 1);
		fputc(' ', stderr);
		print_bytes(json_string_value(name), json_string_length(name));
		fputc('=', stderr);
		print_bytes(json_string_value(value), json_string_length(value));
	}
	fprintf(stderr, "\n  got:     ");
	for (size_t i = 0; i < n; i++) {
		fputc(' ', stderr);
		print_bytes(got[i].name, got[i].name_len);
		fputc('=', stderr);
		print_bytes(got[i].value, got[i].value_len);
	}
	fputc('\n', stderr);
}

/* True when the JSON value is a [name, value] array of two strings. */
static bool is_pair(const json_t *pair)
{
	return json_is_array(pair) && json_array_size(pair) == 2 &&
	       json_is_string(json_array_get(pair, 0)) && json_is_string(json_array_get(pair, 1));
}

/* Run one vector object {"input": ..., "output": [[name, value], ...]} through urlenc_parse
 * without limits and compare every pair byte for byte. Returns true when it matches; a
 * mismatch is reported on stderr. */
static bool check_vector(size_t idx, const json_t *vec)
{
	const json_t *input = json_object_get(vec, "input");
	const json_t *expect = json_object_get(vec, "output");
	const struct urlenc_limits none = {0, 0, 0};
	struct http_param *got = NULL;
	struct arena a;
	size_t n = 0;
	bool ok = true;
	const char *why = NULL;

	if (!json_is_string(input) || !json_is_array(expect)) {
		fprintf(stderr, "urlencoded vector #%zu is malformed (needs input and output)\n",
		        idx);
		return false;
	}
	for (size_t i = 0; i < json_array_size(expect); i++) {
		if (!is_pair(json_array_get(expect, i))) {
			fprintf(stderr, "urlencoded vector #%zu: output[%zu] is not a pair\n", idx,
			        i);
			return false;
		}
	}

	arena_init(&a, 0);
	enum urlenc_status st =
	    urlenc_parse(&a, json_string_value(input), json_string_length(input), &none, &got, &n);
	if (st != URLENC_OK) {
		why = "status is not URLENC_OK";
		ok = false;
	} else if (n != json_array_size(expect)) {
		why = "pair count differs";
		ok = false;
	}
	for (size_t i = 0; ok && i < n; i++) {
		const json_t *pair = json_array_get(expect, i);
		const json_t *name = json_array_get(pair, 0), *value = json_array_get(pair, 1);
		if (got[i].name_len != json_string_length(name) ||
		    memcmp(got[i].name, json_string_value(name), got[i].name_len) != 0) {
			why = "name differs";
			ok = false;
		} else if (got[i].value_len != json_string_length(value) ||
		           memcmp(got[i].value, json_string_value(value), got[i].value_len) != 0) {
			why = "value differs";
			ok = false;
		} else if (got[i].name[got[i].name_len] != '\0' ||
		           got[i].value[got[i].value_len] != '\0') {
			why = "copy is not NUL-terminated";
			ok = false;
		}
	}
	if (!ok)
		report_mismatch(idx, why, input, expect, got, n);
	arena_free(&a);
	return ok;
}

/* Run every vector of the JSON array text[0..len) and tally the outcome in *st. Elements are
 * loaded one at a time so that an element whose strings hold lone surrogates can be counted
 * and reported as not representable instead of making the whole file unloadable. Returns
 * NULL on success or a description of why the text could not be read as a vector array. */
static const char *run_vectors(const char *text, size_t len, struct vec_stats *st)
{
	const char *err = NULL;
	char *fixed = malloc(len + 1);
	size_t pos;

	memset(st, 0, sizeof(*st));
	if (!fixed)
		return "out of memory";
	memcpy(fixed, text, len);
	fixed[len] = '\0';
	lone_surrogates(text, len, fixed);

	pos = skip_ws(fixed, len, 0);
	if (pos >= len || fixed[pos] != '[') {
		free(fixed);
		return "top level is not a JSON array";
	}
	pos = skip_ws(fixed, len, pos + 1);
	if (pos < len && fixed[pos] == ']')
		pos = len; /* empty array */
	while (pos < len) {
		json_error_t jerr;
		json_t *vec = json_loadb(fixed + pos, len - pos,
		                         JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
		if (!vec) {
			fprintf(stderr, "vector #%zu: JSON error: %s\n", st->total, jerr.text);
			err = "vector is not valid JSON";
			break;
		}
		size_t used = (size_t)jerr.position;
		size_t lone = lone_surrogates(text + pos, used, NULL);
		if (lone) {
			st->unrepresentable++;
			fprintf(stderr,
			        "urlencoded vector #%zu NOT REPRESENTABLE: %zu lone surrogate(s) "
			        "cannot be expressed as UTF-8 bytes\n",
			        st->total, lone);
		} else if (check_vector(st->total, vec)) {
			st->passed++;
		} else {
			st->failed++;
		}
		st->total++;
		json_decref(vec);

		pos = skip_ws(fixed, len, pos + used);
		if (pos < len && fixed[pos] == ',') {
			pos = skip_ws(fixed, len, pos + 1);
		} else if (pos < len && fixed[pos] == ']') {
			break;
		} else {
			err = "expected ',' or ']' after a vector";
			break;
		}
	}
	free(fixed);
	return err;
}

/* Read the whole file at `path` into malloc'd memory; NULL when it cannot be read. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, used = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - used < 4096) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *p = realloc(data, ncap);
			if (!p) {
				free(data);
				fclose(f);
				return NULL;
			}
			data = p;
			cap = ncap;
		}
		size_t got = fread(data + used, 1, cap - used, f);
		used += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		free(data);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = used;
	return data;
}

/* Parse `in` without limits, expect exactly one pair and return it in *p. The strings live
 * in arena `a`. */
static void parse_one(struct arena *a, const char *in, struct http_param *p)
{
	struct http_param *out = NULL;
	size_t n = 0;

	assert_int_equal(urlenc_parse(a, in, strlen(in), NULL, &out, &n), URLENC_OK);
	assert_int_equal(n, 1);
	*p = out[0];
}

/* Seconds elapsed since `t0` on the monotonic clock. */
static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- tests ---- */

/* Every vector of the web-platform-tests file must match exactly. */
static void test_wpt_vectors(void **state)
{
	(void)state;
	const char *srcdir = getenv("TIANBAO_SRCDIR");
	char path[4096];
	struct vec_stats st;
	size_t len = 0;

	if (!srcdir || !*srcdir)
		srcdir = ".";
	int w = snprintf(path, sizeof(path), "%s/%s", srcdir, VECTORS_PATH);
	assert_true(w > 0 && (size_t)w < sizeof(path));
	char *text = read_file(path, &len);
	if (!text)
		fail_msg("cannot read %s (set TIANBAO_SRCDIR to the source tree)", path);

	const char *err = run_vectors(text, len, &st);
	free(text);
	printf("urlencoded vectors: %zu/%zu passed, %zu failed, %zu not representable "
	       "(lone surrogates)\n",
	       st.passed, st.total, st.failed, st.unrepresentable);
	if (err)
		fail_msg("%s: %s", path, err);
	if (st.total == 0)
		fail_msg("%s holds no vectors", path);
	if (st.failed)
		fail_msg("%zu of %zu urlencoded vectors failed (details above)", st.failed,
		         st.total);
	assert_int_equal(st.passed + st.unrepresentable, st.total);
}

/* The vector runner itself: a lone surrogate is counted as not representable, a proper
 * surrogate pair and an escaped backslash before "uD800" are not, and U+0000 compares. */
static void test_vector_runner(void **state)
{
	(void)state;
	static const char json[] =
	    "[ {\"input\": \"a\\uD800b\", \"output\": [[\"a\\uFFFDb\", \"\"]]},\n"
	    "  {\"input\": \"\\uD83D\\uDE00=\\uDE00\", \"output\": [[\"\\uD83D\\uDE00\", "
	    "\"\\uFFFD\"]]},\n"
	    "  {\"input\": \"\\uD83D\\uDE00=1\", \"output\": [[\"\\uD83D\\uDE00\", \"1\"]]},\n"
	    "  {\"input\": \"x\\\\uD800\", \"output\": [[\"x\\\\uD800\", \"\"]]},\n"
	    "  {\"input\": \"a=%00b\", \"output\": [[\"a\", \"\\u0000b\"]]} ]";
	struct vec_stats st;

	fprintf(stderr, "runner self-test: the two NOT REPRESENTABLE lines below are expected\n");
	assert_null(run_vectors(json, sizeof(json) - 1, &st));
	assert_int_equal(st.total, 5);
	assert_int_equal(st.unrepresentable, 2);
	assert_int_equal(st.passed, 3);
	assert_int_equal(st.failed, 0);

	assert_null(run_vectors("[]", 2, &st));
	assert_int_equal(st.total, 0);
	assert_non_null(run_vectors("{}", 2, &st));
}

/* Invalid UTF-8 after percent-decoding is replaced per maximal subpart, NULs survive with
 * their lengths, and percent escapes are case-insensitive. */
static void test_decoding_details(void **state)
{
	(void)state;
	struct arena a;
	struct http_param p;

	arena_init(&a, 0);
	parse_one(&a, "a=%00b%00", &p);
	assert_int_equal(p.value_len, 3);
	assert_memory_equal(p.value, "\0b\0", 4);

	/* Truncated 4-byte sequence: one U+FFFD. */
	parse_one(&a, "%F0%9F%98=x", &p);
	assert_int_equal(p.name_len, 3);
	assert_memory_equal(p.name, "\xEF\xBF\xBD", 4);
	/* Overlong, surrogate and out-of-range forms: one U+FFFD per byte. */
	parse_one(&a, "%E0%80%80", &p);
	assert_string_equal(p.name, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	parse_one(&a, "%ED%A0%80", &p);
	assert_string_equal(p.name, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	parse_one(&a, "%F4%90%80%80", &p);
	assert_string_equal(p.name, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
	parse_one(&a, "%C0%AF", &p);
	assert_string_equal(p.name, "\xEF\xBF\xBD\xEF\xBF\xBD");
	/* A broken sequence followed by a good one: the good byte is decoded afresh. */
	parse_one(&a, "%E2%82%E4%B8%AD", &p);
	assert_string_equal(p.name, "\xEF\xBF\xBD\xE4\xB8\xAD");
	/* Raw invalid bytes (not percent-encoded) are repaired too. */
	parse_one(&a,
	          "v=\xFF"
	          "a\xC3",
	          &p);
	assert_string_equal(p.value, "\xEF\xBF\xBD"
	                             "a\xEF\xBF\xBD");
	/* Chinese, raw and encoded; '+' as space only outside escapes (%2B stays '+'). */
	parse_one(&a, "%E5%AD%A6%E6%A0%A1=中文+%2B", &p);
	assert_string_equal(p.name, "学校");
	assert_string_equal(p.value, "中文 +");
	/* An empty name and an empty value are still NUL-terminated copies. */
	parse_one(&a, "=", &p);
	assert_int_equal(p.name_len, 0);
	assert_int_equal(p.value_len, 0);
	assert_string_equal(p.name, "");
	assert_string_equal(p.value, "");

	struct http_param *out = (struct http_param *)&p;
	size_t n = 99;
	assert_int_equal(urlenc_parse(&a, NULL, 0, NULL, &out, &n), URLENC_OK);
	assert_null(out);
	assert_int_equal(n, 0);
	arena_free(&a);
}

/* max_fields: exactly at the limit passes, one over fails; empty sequences do not count. */
static void test_limit_fields(void **state)
{
	(void)state;
	const struct urlenc_limits lim = {3, 0, 0};
	struct http_param *out = NULL;
	struct arena a;
	size_t n = 0;

	arena_init(&a, 0);
	assert_int_equal(urlenc_parse(&a, "a&b&c", 5, &lim, &out, &n), URLENC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(urlenc_parse(&a, "&&a=1&&b&&c=&&", 14, &lim, &out, &n), URLENC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(urlenc_parse(&a, "a&b&c&d", 7, &lim, &out, &n), URLENC_TOO_MANY_FIELDS);
	assert_null(out);
	assert_int_equal(n, 0);
	arena_free(&a);
}

/* max_name counts decoded bytes: at the limit passes, one over fails. */
static void test_limit_name(void **state)
{
	(void)state;
	const struct urlenc_limits lim = {0, 4, 0};
	struct http_param *out = NULL;
	struct arena a;
	size_t n = 0;

	arena_init(&a, 0);
	assert_int_equal(urlenc_parse(&a, "abcd=1", 6, &lim, &out, &n), URLENC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].name_len, 4);
	/* 12 input bytes but 4 decoded bytes. */
	assert_int_equal(urlenc_parse(&a, "%61%62%63%64", 12, &lim, &out, &n), URLENC_OK);
	assert_string_equal(out[0].name, "abcd");
	assert_int_equal(urlenc_parse(&a, "ok=1&abcde=1", 12, &lim, &out, &n),
	                 URLENC_NAME_TOO_LONG);
	assert_null(out);
	assert_int_equal(n, 0);
	/* "中" + "a" is 4 bytes; "中" + "ab" is 5. */
	assert_int_equal(urlenc_parse(&a, "中a", strlen("中a"), &lim, &out, &n), URLENC_OK);
	assert_int_equal(urlenc_parse(&a, "中ab", strlen("中ab"), &lim, &out, &n),
	                 URLENC_NAME_TOO_LONG);
	arena_free(&a);
}

/* max_value counts decoded bytes after UTF-8 repair: at the limit passes, one over fails. */
static void test_limit_value(void **state)
{
	(void)state;
	const struct urlenc_limits lim = {0, 0, 6};
	struct http_param *out = NULL;
	struct arena a;
	size_t n = 0;

	arena_init(&a, 0);
	assert_int_equal(urlenc_parse(&a, "a=123456", 8, &lim, &out, &n), URLENC_OK);
	assert_int_equal(out[0].value_len, 6);
	assert_int_equal(urlenc_parse(&a, "a=1234567", 9, &lim, &out, &n), URLENC_VALUE_TOO_LONG);
	assert_null(out);
	assert_int_equal(n, 0);
	/* Two bad bytes become two U+FFFD: 6 bytes, at the limit; three are 9 bytes. */
	assert_int_equal(urlenc_parse(&a, "a=%FF%FF", 8, &lim, &out, &n), URLENC_OK);
	assert_int_equal(out[0].value_len, 6);
	assert_int_equal(urlenc_parse(&a, "a=%FF%FF%FF", 11, &lim, &out, &n),
	                 URLENC_VALUE_TOO_LONG);
	/* All three limits together, each exactly reached. */
	const struct urlenc_limits all = {2, 2, 2};
	assert_int_equal(urlenc_parse(&a, "ab=cd&ef=gh", 11, &all, &out, &n), URLENC_OK);
	assert_int_equal(n, 2);
	arena_free(&a);
}

/* urlenc_percent_decode: escapes only, '+' kept, invalid escapes and bytes kept. */
static void test_percent_decode(void **state)
{
	(void)state;
	struct arena a;
	size_t len = 0;

	arena_init(&a, 0);
	char *s = urlenc_percent_decode(&a, "%41%2b+%zz%4%%", 14, &len);
	assert_string_equal(s, "A++%zz%4%%");
	assert_int_equal(len, 10);
	s = urlenc_percent_decode(&a, "x%00y%FF", 8, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(s, "x\0y\xFF", 5);
	s = urlenc_percent_decode(&a, "", 0, NULL);
	assert_string_equal(s, "");
	arena_free(&a);
}

/* urlenc_name_ok: [A-Za-z0-9_.-]{1,128}. */
static void test_name_ok(void **state)
{
	(void)state;
	char longname[200];

	assert_true(urlenc_name_ok("t_total", 7));
	assert_true(urlenc_name_ok("pri_students", 12));
	assert_true(urlenc_name_ok("A-z.0_9", 7));
	assert_false(urlenc_name_ok("", 0));
	assert_false(urlenc_name_ok("a b", 3));
	assert_false(urlenc_name_ok("a<b", 3));
	assert_false(urlenc_name_ok("名", strlen("名")));
	assert_false(urlenc_name_ok("a\0b", 3));
	memset(longname, 'a', sizeof(longname));
	assert_true(urlenc_name_ok(longname, 128));
	assert_false(urlenc_name_ok(longname, 129));
	assert_false(urlenc_name_ok(longname, 200));
}

/* urlenc_value_ok: tab fine, newlines only when allowed, other controls and NUL refused. */
static void test_value_ok(void **state)
{
	(void)state;

	assert_true(urlenc_value_ok("", 0, false));
	assert_true(urlenc_value_ok("a\tb", 3, false));
	assert_false(urlenc_value_ok("a\nb", 3, false));
	assert_true(urlenc_value_ok("a\nb", 3, true));
	assert_false(urlenc_value_ok("a\r\nb", 4, false));
	assert_true(urlenc_value_ok("a\r\nb", 4, true));
	assert_false(urlenc_value_ok("a\x01", 2, true));
	assert_false(urlenc_value_ok("a\x7f", 2, true));
	assert_false(urlenc_value_ok("a\0b", 3, true));
	assert_false(urlenc_value_ok("\x1b[31m", 5, true));
	assert_true(urlenc_value_ok("学生人数 1200", strlen("学生人数 1200"), false));
}

/* urlenc_utf8_valid: well-formed UTF-8 only. */
static void test_utf8_valid(void **state)
{
	(void)state;

	assert_true(urlenc_utf8_valid("", 0));
	assert_true(urlenc_utf8_valid("中文", strlen("中文")));
	assert_true(urlenc_utf8_valid("a\0b", 3));
	assert_true(urlenc_utf8_valid("\xF4\x8F\xBF\xBF", 4));  /* U+10FFFF */
	assert_true(urlenc_utf8_valid("\xF0\x9F\x98\x80", 4));  /* U+1F600 */
	assert_true(urlenc_utf8_valid("\xED\x9F\xBF", 3));      /* U+D7FF */
	assert_false(urlenc_utf8_valid("\xC0\x80", 2));         /* overlong NUL */
	assert_false(urlenc_utf8_valid("\xE0\x80\x80", 3));     /* overlong */
	assert_false(urlenc_utf8_valid("\xED\xA0\x80", 3));     /* surrogate D800 */
	assert_false(urlenc_utf8_valid("\xF4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(urlenc_utf8_valid("\xF5\x80\x80\x80", 4)); /* bad lead */
	assert_false(urlenc_utf8_valid("\x80", 1));             /* lone continuation */
	assert_false(urlenc_utf8_valid("\xE4\xB8", 2));         /* truncated */
	assert_false(urlenc_utf8_valid("\xE4\xB8x", 3));        /* broken */
}

/* 1 MiB bodies parse in linear time: many small fields, one huge value, only separators. */
static void test_large_input(void **state)
{
	(void)state;
	const size_t target = 1024 * 1024;
	char *big = malloc(target + 64);
	struct http_param *out = NULL;
	struct timespec t0;
	struct arena a;
	size_t len = 0, fields = 0, n = 0;

	assert_non_null(big);
	while (len < target) {
		len += (size_t)sprintf(big + len, "f%zu=%%E4%%B8%%AD+x%%41%%zz&", fields);
		fields++;
	}

	arena_init(&a, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(urlenc_parse(&a, big, len, NULL, &out, &n), URLENC_OK);
	double many = seconds_since(&t0);
	assert_int_equal(n, fields);
	assert_string_equal(out[fields - 1].value, "中 xA%zz");
	arena_free(&a);

	/* One field whose value is the whole megabyte. */
	big[0] = 'v';
	big[1] = '=';
	for (size_t i = 2; i + 3 <= target; i += 3)
		memcpy(big + i, "%41", 3);
	len = target - (target - 2) % 3;
	arena_init(&a, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(urlenc_parse(&a, big, len, NULL, &out, &n), URLENC_OK);
	double one = seconds_since(&t0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].value_len, (len - 2) / 3);
	arena_free(&a);

	/* Nothing but separators: no fields at all. */
	memset(big, '&', target);
	arena_init(&a, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(urlenc_parse(&a, big, target, NULL, &out, &n), URLENC_OK);
	double empty = seconds_since(&t0);
	assert_int_equal(n, 0);
	arena_free(&a);
	free(big);

	printf("1 MiB: %zu fields in %.3f s, one value in %.3f s, separators in %.3f s\n", fields,
	       many, one, empty);
	/* Linear work is milliseconds even under sanitizers; quadratic work would be minutes. */
	assert_true(many < 2.0);
	assert_true(one < 2.0);
	assert_true(empty < 2.0);
}

/* Run all urlencoded tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wpt_vectors),      cmocka_unit_test(test_vector_runner),
	    cmocka_unit_test(test_decoding_details), cmocka_unit_test(test_limit_fields),
	    cmocka_unit_test(test_limit_name),       cmocka_unit_test(test_limit_value),
	    cmocka_unit_test(test_percent_decode),   cmocka_unit_test(test_name_ok),
	    cmocka_unit_test(test_value_ok),         cmocka_unit_test(test_utf8_valid),
	    cmocka_unit_test(test_large_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

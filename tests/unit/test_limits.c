/* test_limits.c — request parsing refuses what is too big, too many or malformed, and accepts the
 * rest; so does reading a whole file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgi/http.h"
#include "core/fileread.h"

struct membody {
	const char *p;
	size_t len, off;
};

/* Body reader over memory, handing out at most 7 bytes a call to exercise the loop. */
static size_t mem_read(void *ctx, char *buf, size_t n)
{
	struct membody *m = ctx;
	size_t left = m->len - m->off;
	if (n > left)
		n = left;
	if (n > 7)
		n = 7;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return n;
}

/* Parse a request built from the given environment and body. */
static int parse(struct arena *a, struct http_request *req, char **env, const char *body,
                 size_t blen, const char **why)
{
	struct membody m = {body, blen, 0};
	memset(req, 0, sizeof(*req));
	req->arena = a;
	return http_request_parse(req, env, mem_read, &m, &http_default_limits, why);
}

/* A normal GET and POST are accepted and their parameters found. */
static void test_accepts_normal(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 0);
	struct http_request req;
	const char *why;
	char *get[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/school/2133010001",
	               "QUERY_STRING=tab=staff&q=%E4%B8%AD", "HTTP_COOKIE=a=1; tb_session=\"xyz\"",
	               NULL};
	assert_int_equal(parse(&a, &req, get, "", 0, &why), 0);
	assert_int_equal(req.method, HTTP_GET);
	assert_string_equal(req.path, "/school/2133010001");
	assert_string_equal(http_param(&req, "tab"), "staff");
	assert_string_equal(http_param(&req, "q"), "中");
	assert_string_equal(http_cookie(&req, "tb_session"), "xyz");
	assert_null(http_cookie(&req, "none"));

	const char *body = "username=%E5%BC%A0%E4%B8%89&password=a+b";
	char clen[32];
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", strlen(body));
	char *post[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/login",
	                "CONTENT_TYPE=application/x-www-form-urlencoded; charset=UTF-8", clen,
	                NULL};
	assert_int_equal(parse(&a, &req, post, body, strlen(body), &why), 0);
	assert_int_equal(req.method, HTTP_POST);
	assert_string_equal(http_form(&req, "username"), "张三");
	assert_string_equal(http_form(&req, "password"), "a b");
	arena_free(&a);
}

/* Content-Length over the limit is refused before reading; so is a body that
 * turns out longer than the limit without a Content-Length. */
static void test_body_too_large(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 0);
	struct http_request req;
	const char *why;
	char clen[64];
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", http_default_limits.max_body + 1);
	char *post[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x",
	                "CONTENT_TYPE=application/x-www-form-urlencoded", clen, NULL};
	assert_int_equal(parse(&a, &req, post, "", 0, &why), 413);
	assert_non_null(strstr(why, "过大"));

	size_t big = http_default_limits.max_body + 10;
	char *body = malloc(big);
	memset(body, 'a', big);
	char *nolen[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x",
	                 "CONTENT_TYPE=application/x-www-form-urlencoded", NULL};
	assert_int_equal(parse(&a, &req, nolen, body, big, &why), 413);

	/* exactly at the limit is fine */
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", http_default_limits.max_body);
	char *atlimit[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x",
	                   "CONTENT_TYPE=application/x-www-form-urlencoded", clen, NULL};
	memset(body, 'x', http_default_limits.max_body);
	body[0] = 'f';
	body[1] = '=';
	for (size_t i = 60000; i + 3 < http_default_limits.max_body; i += 60000)
		memcpy(body + i, "&f=", 3);
	assert_int_equal(parse(&a, &req, atlimit, body, http_default_limits.max_body, &why), 0);
	assert_int_equal(req.nform, (http_default_limits.max_body - 4) / 60000 + 1);
	free(body);
	arena_free(&a);
}

/* Too many fields, a too long name, a too long value, a bad name. */
static void test_fields(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 0);
	struct http_request req;
	const char *why;
	size_t nf = http_default_limits.max_fields + 1;
	char *body = malloc(nf * 4 + 1);
	size_t len = 0;
	for (size_t i = 0; i < nf; i++)
		len += (size_t)sprintf(body + len, "a=1&");
	char clen[64];
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", len);
	char *post[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x",
	                "CONTENT_TYPE=application/x-www-form-urlencoded", clen, NULL};
	assert_int_equal(parse(&a, &req, post, body, len, &why), 413);
	/* one fewer is accepted */
	len -= 4;
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", len);
	assert_int_equal(parse(&a, &req, post, body, len, &why), 0);
	assert_int_equal(req.nform, http_default_limits.max_fields);
	free(body);

	char longname[300];
	memset(longname, 'n', sizeof(longname));
	strcpy(longname + 200, "=1");
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", strlen(longname));
	assert_int_equal(parse(&a, &req, post, longname, strlen(longname), &why), 400);

	size_t vlen = http_default_limits.max_value + 3;
	char *longval = malloc(vlen + 1);
	memset(longval, 'v', vlen);
	longval[0] = 'x';
	longval[1] = '=';
	longval[vlen] = '\0';
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", vlen);
	assert_int_equal(parse(&a, &req, post, longval, vlen, &why), 413);
	free(longval);

	const char *bad = "a%3Cb=1";
	snprintf(clen, sizeof(clen), "CONTENT_LENGTH=%zu", strlen(bad));
	assert_int_equal(parse(&a, &req, post, bad, strlen(bad), &why), 400);
	arena_free(&a);
}

/* Path and query limits, control characters, unsupported bodies, cookies. */
static void test_path_query_cookies(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 0);
	struct http_request req;
	const char *why;
	char *ctl[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/a\x01z", NULL};
	assert_int_equal(parse(&a, &req, ctl, "", 0, &why), 400);
	char *badutf[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/\xc0\x80", NULL};
	assert_int_equal(parse(&a, &req, badutf, "", 0, &why), 400);

	char longpath[2100] = "DOCUMENT_URI=/";
	memset(longpath + 14, 'p', 2000);
	longpath[2014] = '\0';
	char *lp[] = {"REQUEST_METHOD=GET", longpath, NULL};
	assert_int_equal(parse(&a, &req, lp, "", 0, &why), 414);

	char *longq = malloc(http_default_limits.max_query + 32);
	strcpy(longq, "QUERY_STRING=");
	memset(longq + 13, 'q', http_default_limits.max_query + 1);
	longq[13 + http_default_limits.max_query + 1] = '\0';
	char *lq[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/", longq, NULL};
	assert_int_equal(parse(&a, &req, lq, "", 0, &why), 414);
	free(longq);

	char *shortbody[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x",
	                     "CONTENT_TYPE=application/x-www-form-urlencoded", "CONTENT_LENGTH=20",
	                     NULL};
	assert_int_equal(parse(&a, &req, shortbody, "a=1", 3, &why), 400);

	char *json[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/x", "CONTENT_TYPE=application/json",
	                "CONTENT_LENGTH=2", NULL};
	assert_int_equal(parse(&a, &req, json, "{}", 2, &why), 415);

	char cookies[2048] = "HTTP_COOKIE=";
	for (int i = 0; i < 40; i++)
		sprintf(cookies + strlen(cookies), "c%d=v; ", i);
	char *ck[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/", cookies, NULL};
	assert_int_equal(parse(&a, &req, ck, "", 0, &why), 400);

	char *other[] = {"REQUEST_METHOD=DELETE", "DOCUMENT_URI=/", NULL};
	assert_int_equal(parse(&a, &req, other, "", 0, &why), 0);
	assert_int_equal(req.method, HTTP_OTHER);
	arena_free(&a);
}

/* Write `n` bytes of 'x' to path. */
static void write_file(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fputc('x', f);
	fclose(f);
}

/* A whole file of up to `max` bytes is read (also across the buffer's growth), NUL-terminated;
 * one byte more, a missing file or a directory is refused with a message naming it. */
static void test_file_read(void **state)
{
	(void)state;
	char dir[] = "/tmp/tb-fileread-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64], err[256];
	snprintf(path, sizeof(path), "%s/f", dir);
	static const size_t sizes[] = {0, 1, 65535, 65536, 65537, 200000};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		write_file(path, sizes[i]);
		size_t len = 7;
		char *buf = file_read(path, 200000, &len, err, sizeof(err));
		if (!buf)
			fail_msg("%zu bytes: %s", sizes[i], err);
		assert_int_equal(len, sizes[i]);
		assert_int_equal(buf[len], '\0');
		assert_true(len == 0 || (buf[0] == 'x' && buf[len - 1] == 'x'));
		free(buf);
	}
	write_file(path, 200001);
	size_t len;
	assert_null(file_read(path, 200000, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "larger than 200000 bytes"));
	assert_non_null(strstr(err, path));
	write_file(path, 11);
	assert_null(file_read(path, 10, &len, err, sizeof(err)));
	assert_null(file_read("/nonexistent/tb-file", 10, &len, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot open /nonexistent/tb-file"));
	assert_null(file_read(dir, 10, &len, err, sizeof(err)));
	assert_non_null(strstr(err, dir));
	remove(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_accepts_normal), cmocka_unit_test(test_body_too_large),
	    cmocka_unit_test(test_fields),         cmocka_unit_test(test_path_query_cookies),
	    cmocka_unit_test(test_file_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

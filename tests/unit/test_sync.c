/* test_sync.c — tianbao-sync's pure parts: backoff with full jitter, Retry-After, classifying an
 * answer; and the payload it sends (dvs_payload) built from a real entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/dvs.h"
#include "core/entry.h"
#include "core/user.h"
#include "sync/policy.h"
#include "tests/unit/testlib.h"

#define SCHOOL "3199220003" /* a 九年一贯制学校 (pri, jun): values in values_312.json */
#define NOW 1800000000LL    /* inside period 2026's window below */
#define HTTP_DATE "Wed, 21 Oct 2026 07:28:00 GMT"
#define HTTP_DATE_T 1792567680LL /* the same instant */

/* ---- sync_backoff ---- */

/* min(cap, base * 2^(n - 1)) computed independently. */
static long long ceiling_of(int n, long long base, long long cap)
{
	long double c = (long double)base;
	for (int i = 1; i < n; i++)
		c *= 2;
	return c > (long double)cap ? cap : (long long)c;
}

/* Every draw lies in [1, ceiling]; u = 0 gives 1, u -> 1 nearly the ceiling; the draws
 * spread over the whole range (every tenth of it is hit) and grow with u. */
static void test_backoff_range(void **state)
{
	(void)state;
	static const struct {
		long long base, cap;
	} cfg[] = {{30, 6 * 3600}, {30, 3600}, {1, 2}, {5, 100}, {60, 60}, {1, 7 * 86400}};
	for (size_t c = 0; c < sizeof(cfg) / sizeof(cfg[0]); c++) {
		for (int n = 1; n <= 12; n++) {
			long long ceil = ceiling_of(n, cfg[c].base, cfg[c].cap);
			int tenths[10] = {0};
			long long prev = 0;
			double sum = 0;
			const int steps = 2000;
			for (int k = 0; k < steps; k++) {
				double u = (double)k / steps;
				long long d = sync_backoff(n, cfg[c].base, cfg[c].cap, u, -1);
				if (d < 1 || d > ceil)
					fail_msg("base %lld cap %lld attempt %d u %.4f: %lld not "
					         "in [1, %lld]",
					         cfg[c].base, cfg[c].cap, n, u, d, ceil);
				if (d < prev)
					fail_msg("attempt %d: the delay shrinks as u grows (%lld < "
					         "%lld)",
					         n, d, prev);
				prev = d;
				sum += (double)d;
				int t = (int)((double)(d - 1) * 10 / (double)ceil);
				tenths[t < 10 ? t : 9]++;
			}
			assert_int_equal(sync_backoff(n, cfg[c].base, cfg[c].cap, 0.0, -1), 1);
			long long top = sync_backoff(n, cfg[c].base, cfg[c].cap, 0.999999, -1);
			if (top > ceil || top < (ceil > 1 ? ceil - 1 : 1))
				fail_msg("attempt %d: u -> 1 gives %lld, not near the ceiling %lld",
				         n, top, ceil);
			if (ceil >= 20) {
				for (int t = 0; t < 10; t++)
					if (!tenths[t])
						fail_msg("base %lld cap %lld attempt %d: no delay "
						         "in tenth %d "
						         "of [1, %lld]",
						         cfg[c].base, cfg[c].cap, n, t, ceil);
				/* full jitter: uniform, so the mean is about half the ceiling */
				double mean = sum / steps;
				if (mean < 0.45 * (double)ceil || mean > 0.55 * (double)ceil)
					fail_msg("attempt %d: mean delay %.1f for ceiling %lld", n,
					         mean, ceil);
			}
		}
	}
}

/* Random u in [0, 1) from rand(): still within bounds for every attempt count; the
 * attempt count out of range is taken as 1 and as "very many". */
static void test_backoff_random(void **state)
{
	(void)state;
	srand(20260921);
	for (int r = 0; r < 20000; r++) {
		int n = 1 + rand() % 12;
		double u = (double)rand() / ((double)RAND_MAX + 1.0);
		long long d = sync_backoff(n, 30, 6 * 3600, u, -1);
		long long ceil = ceiling_of(n, 30, 6 * 3600);
		if (d < 1 || d > ceil)
			fail_msg("attempt %d u %.6f: %lld not in [1, %lld]", n, u, d, ceil);
	}
	/* attempts below 1 count as 1; very many attempts stay at the cap (no overflow) */
	assert_true(sync_backoff(0, 30, 3600, 0.999999, -1) <= 30);
	assert_true(sync_backoff(-5, 30, 3600, 0.999999, -1) <= 30);
	assert_true(sync_backoff(1000, 30, 3600, 0.999999, -1) >= 3599);
	assert_true(sync_backoff(1000, 30, 3600, 0.999999, -1) <= 3600);
	assert_true(sync_backoff(1000000, 86400, 7 * 86400, 0.999999, -1) <= 7 * 86400);
	assert_true(sync_backoff(64, 86400, 7 * 86400, 0.5, -1) >= 1);
	/* u outside [0, 1) is clamped */
	assert_true(sync_backoff(3, 30, 3600, 1.0, -1) <= 120);
	assert_true(sync_backoff(3, 30, 3600, 7.5, -1) <= 120);
	assert_int_equal(sync_backoff(3, 30, 3600, -0.5, -1), 1);
}

/* A Retry-After larger than the draw wins, even over the cap; a smaller one does not
 * change the draw; it is capped at SYNC_RETRY_AFTER_MAX; never below 1 second. */
static void test_backoff_retry_after(void **state)
{
	(void)state;
	assert_int_equal(sync_backoff(1, 30, 3600, 0.0, 120), 120);
	assert_int_equal(sync_backoff(1, 30, 3600, 0.5, 120), 120);
	assert_int_equal(sync_backoff(2, 1, 2, 0.5, 5000), 5000); /* beyond the cap */
	long long draw = sync_backoff(5, 30, 3600, 0.9, -1);
	assert_int_equal(sync_backoff(5, 30, 3600, 0.9, 10), draw); /* the draw is larger */
	assert_int_equal(sync_backoff(5, 30, 3600, 0.9, draw), draw);
	assert_int_equal(sync_backoff(5, 30, 3600, 0.9, draw + 1), draw + 1);
	assert_int_equal(sync_backoff(3, 30, 3600, 0.1, SYNC_RETRY_AFTER_MAX),
	                 SYNC_RETRY_AFTER_MAX);
	assert_int_equal(sync_backoff(3, 30, 3600, 0.1, SYNC_RETRY_AFTER_MAX + 1),
	                 SYNC_RETRY_AFTER_MAX);
	assert_int_equal(sync_backoff(3, 30, 3600, 0.1, 1000000000LL), SYNC_RETRY_AFTER_MAX);
	assert_int_equal(sync_backoff(3, 30, 3600, 0.1, 9223372036854775807LL),
	                 SYNC_RETRY_AFTER_MAX);
	/* Retry-After 0 (or none) never means "at once" */
	assert_int_equal(sync_backoff(1, 30, 3600, 0.0, 0), 1);
	assert_int_equal(sync_backoff(1, 30, 3600, 0.0, -1), 1);
	/* with the cap reached, Retry-After still wins */
	assert_int_equal(sync_backoff(12, 30, 600, 0.999999, 20000), 20000);
}

/* ---- sync_retry_after ---- */

static void test_retry_after(void **state)
{
	(void)state;
	const long long now = HTTP_DATE_T - 3600;
	assert_int_equal(sync_retry_after("120", now), 120);
	assert_int_equal(sync_retry_after(" 5 ", now), 5);
	assert_int_equal(sync_retry_after("\t7\t", now), 7);
	assert_int_equal(sync_retry_after("0", now), 0);
	assert_int_equal(sync_retry_after("86400", now), 86400);
	assert_int_equal(sync_retry_after("-1", now), -1);
	assert_int_equal(sync_retry_after("-120", now), -1);
	assert_int_equal(sync_retry_after("abc", now), -1);
	assert_int_equal(sync_retry_after("12x", now), -1);
	assert_int_equal(sync_retry_after("1.5", now), -1);
	assert_int_equal(sync_retry_after("", now), -1);
	assert_int_equal(sync_retry_after("   ", now), -1);
	assert_int_equal(sync_retry_after(NULL, now), -1);
	/* an HTTP date: the seconds until it, 0 once it has passed */
	assert_int_equal(sync_retry_after(HTTP_DATE, now), 3600);
	assert_int_equal(sync_retry_after(HTTP_DATE, HTTP_DATE_T - 1), 1);
	assert_int_equal(sync_retry_after(HTTP_DATE, HTTP_DATE_T), 0);
	assert_int_equal(sync_retry_after(HTTP_DATE, HTTP_DATE_T + 1), 0);
	assert_int_equal(sync_retry_after(HTTP_DATE, HTTP_DATE_T + 86400 * 365), 0);
	assert_int_equal(sync_retry_after(" " HTTP_DATE, now), 3600);
	assert_int_equal(sync_retry_after("Wed, 32 Foo 2026 07:28:00 GMT", now), -1);
}

/* ---- sync_classify ---- */

/* Where a message is not one line of valid UTF-8 shorter than its buffer: a description
 * in `why`, or false when it is fine. */
static bool line_problem(const char *msg, size_t msglen, char *why, size_t whylen)
{
	size_t n = strlen(msg);
	if (n >= msglen) {
		snprintf(why, whylen, "longer than its buffer");
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)msg[i] < 0x20 || (unsigned char)msg[i] == 0x7f) {
			snprintf(why, whylen, "control character 0x%02x at byte %zu",
			         (unsigned char)msg[i], i);
			return true;
		}
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)msg[i];
		size_t k = c < 0x80             ? 1
		           : (c & 0xe0) == 0xc0 ? 2
		           : (c & 0xf0) == 0xe0 ? 3
		           : (c & 0xf8) == 0xf0 ? 4
		                                : 0;
		bool bad = !k || i + k > n;
		for (size_t j = 1; !bad && j < k; j++)
			bad = ((unsigned char)msg[i + j] & 0xc0) != 0x80;
		if (bad) {
			snprintf(why, whylen, "invalid UTF-8 at byte %zu", i);
			return true;
		}
		i += k;
	}
	return false;
}

/* In "soft" mode a bad message is reported and counted, and the test fails at its end
 * (so that every bad case is listed); otherwise it fails at once. */
static int soft_mode, soft_problems;

static void assert_one_line(const char *msg, size_t msglen, const char *what)
{
	char why[128], shown[700];
	if (!line_problem(msg, msglen, why, sizeof(why)))
		return;
	size_t j = 0;
	for (size_t i = 0; msg[i] && j + 5 < sizeof(shown); i++)
		j += (unsigned char)msg[i] < 0x20
		         ? (size_t)snprintf(shown + j, sizeof(shown) - j, "\\x%02x",
		                            (unsigned char)msg[i])
		         : (size_t)snprintf(shown + j, sizeof(shown) - j, "%c", msg[i]);
	shown[j] = '\0';
	if (!soft_mode)
		fail_msg("%s: the message is not one line of UTF-8 (%s): '%s'", what, why, shown);
	print_error("%s: the message is not one line of UTF-8 (%s): '%s'\n", what, why, shown);
	soft_problems++;
}

static void soft_begin(void)
{
	soft_mode = 1;
	soft_problems = 0;
}

static void soft_end(void)
{
	soft_mode = 0;
	if (soft_problems)
		fail_msg("%d message(s) above are not one line of valid UTF-8", soft_problems);
}

/* Classify an HTTP answer; the message is checked to be one line. */
static enum sync_outcome classify(long status, const char *body, char *msg, size_t msglen)
{
	struct sync_answer ans = {
	    .status = status, .body = body, .body_len = body ? strlen(body) : 0};
	enum sync_outcome o = sync_classify(&ans, msg, msglen);
	char what[96];
	snprintf(what, sizeof(what), "HTTP %ld, body '%.30s...'", status, body ? body : "(none)");
	for (char *p = what; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	assert_one_line(msg, msglen, what);
	return o;
}

static void assert_contains(const char *s, const char *part)
{
	if (!strstr(s, part))
		fail_msg("'%s' lacks '%s'", s, part);
}

/* No answer: retry, unless retrying cannot help. */
static void test_classify_transport(void **state)
{
	(void)state;
	char msg[600];
	struct sync_answer ans = {.transport_error = true,
	                          .transport_message = "Failed to connect to 127.0.0.1 port 9: "
	                                               "Connection refused"};
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_contains(msg, "Connection refused");
	assert_one_line(msg, sizeof(msg), "transport");
	ans.permanent = true;
	ans.transport_message = "Protocol \"http\" not supported or disabled in libcurl";
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "not supported");
	ans.permanent = false;
	ans.transport_message = NULL;
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_true(msg[0] != '\0');
	/* a transport error is what counts, whatever else the answer holds */
	ans.status = 200;
	ans.body = "{\"status\":\"SUCCESS\"}";
	ans.body_len = strlen(ans.body);
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
}

/* 2xx with an import summary: SUCCESS, OK, WARNING delivered (also wrapped as
 * {"response": ...}); ERROR failed naming the conflicts; no summary: retry. */
static void test_classify_2xx(void **state)
{
	(void)state;
	char msg[600];
	static const char *const ok[] = {
	    "{\"status\":\"SUCCESS\",\"importCount\":{\"imported\":3},\"conflicts\":[]}",
	    "{\"status\":\"OK\"}",
	    "{\"status\":\"WARNING\",\"conflicts\":[{\"object\":\"books\",\"value\":\"ignored\"}]}",
	    "{\"response\":{\"status\":\"SUCCESS\",\"conflicts\":[]}}",
	    "{\"httpStatus\":\"OK\",\"httpStatusCode\":200,\"response\":{\"responseType\":"
	    "\"ImportSummary\",\"status\":\"SUCCESS\"}}",
	    "{\"response\":{\"status\":\"WARNING\"}}",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (classify(200, ok[i], msg, sizeof(msg)) != SO_DELIVERED)
			fail_msg("not delivered: %s (%s)", ok[i], msg);
	}
	assert_int_equal(classify(201, ok[0], msg, sizeof(msg)), SO_DELIVERED);
	assert_int_equal(classify(202, ok[1], msg, sizeof(msg)), SO_DELIVERED);
	/* an ERROR summary in a 200: failed, with "object: value" of each conflict */
	const char *err = "{\"status\":\"ERROR\",\"description\":\"The import process failed\","
	                  "\"conflicts\":[{\"object\":\"pri_students\",\"value\":\"value out of "
	                  "range\"},{\"object\":\"jun_classes\",\"value\":\"not an integer\"}]}";
	assert_int_equal(classify(200, err, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "pri_students: value out of range");
	assert_contains(msg, "jun_classes: not an integer");
	assert_contains(msg, "ERROR");
	const char *werr = "{\"response\":{\"status\":\"ERROR\",\"conflicts\":[{\"object\":"
	                   "\"orgUnit\",\"value\":\"3199220003 is closed\"}]}}";
	assert_int_equal(classify(200, werr, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "orgUnit: 3199220003 is closed");
	/* ERROR without conflicts: the description */
	assert_int_equal(classify(200, "{\"status\":\"ERROR\",\"description\":\"data set locked\"}",
	                          msg, sizeof(msg)),
	                 SO_FAILED);
	assert_contains(msg, "data set locked");
	/* no readable summary: retry (a proxy's page, an empty body, other JSON) */
	static const char *const unreadable[] = {
	    "<html><body><h1>Welcome to nginx!</h1></body></html>",
	    "",
	    "{\"foo\":1}",
	    "[1,2,3]",
	    "{\"status\":",
	    "{\"status\":200}",
	    "null",
	};
	for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
		if (classify(200, unreadable[i], msg, sizeof(msg)) != SO_RETRY)
			fail_msg("not retried: '%s' (%s)", unreadable[i], msg);
		assert_contains(msg, "200");
	}
	assert_int_equal(classify(200, NULL, msg, sizeof(msg)), SO_RETRY);
	assert_int_equal(classify(204, NULL, msg, sizeof(msg)), SO_RETRY);
}

/* 408, 429 and 5xx are retried; other statuses fail, naming the conflicts of a summary. */
static void test_classify_status(void **state)
{
	(void)state;
	char msg[600];
	static const long retry[] = {408, 429, 500, 502, 503, 504, 599};
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
		if (classify(retry[i], "{\"status\":\"ERROR\",\"description\":\"busy\"}", msg,
		             sizeof(msg)) != SO_RETRY)
			fail_msg("HTTP %ld not retried (%s)", retry[i], msg);
		char st[16];
		snprintf(st, sizeof(st), "%ld", retry[i]);
		assert_contains(msg, st);
		assert_int_equal(classify(retry[i], "", msg, sizeof(msg)), SO_RETRY);
	}
	/* 400 with conflicts: failed, naming them */
	const char *rej = "{\"status\":\"ERROR\",\"description\":\"The import was rejected\","
	                  "\"conflicts\":[{\"object\":\"pri_students\",\"value\":\"value out of "
	                  "range\"},{\"object\":\"staff_total\",\"value\":\"required\"}]}";
	assert_int_equal(classify(400, rej, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "400");
	assert_contains(msg, "pri_students: value out of range");
	assert_contains(msg, "staff_total: required");
	static const long failed[] = {400, 401, 403, 404, 409, 413, 422, 301, 302, 304, 100, 0};
	for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++) {
		const char *body = "{\"status\":\"ERROR\",\"description\":\"bad or missing bearer "
		                   "token\"}";
		if (classify(failed[i], body, msg, sizeof(msg)) != SO_FAILED)
			fail_msg("HTTP %ld not failed (%s)", failed[i], msg);
		char st[16];
		snprintf(st, sizeof(st), "%ld", failed[i]);
		assert_contains(msg, st);
		assert_int_equal(classify(failed[i], NULL, msg, sizeof(msg)), SO_FAILED);
		assert_int_equal(classify(failed[i], "<html>Moved</html>", msg, sizeof(msg)),
		                 SO_FAILED);
	}
	/* a 401's body tells why */
	assert_int_equal(classify(401,
	                          "{\"status\":\"ERROR\",\"description\":\"bad or missing "
	                          "bearer token\"}",
	                          msg, sizeof(msg)),
	                 SO_FAILED);
	assert_contains(msg, "bearer token");
}

/* DHIS2 (2.36 and later) answers import conflicts with 409 and the summary wrapped in
 * {"response": ...}: failed, and the message names the conflicts as for a bare summary. */
static void test_classify_dhis2_409(void **state)
{
	(void)state;
	char msg[600];
	const char *body =
	    "{\"httpStatus\":\"Conflict\",\"httpStatusCode\":409,\"status\":\"ERROR\","
	    "\"message\":\"One or more conflicts encountered, please check import summary.\","
	    "\"response\":{\"responseType\":\"ImportSummary\",\"status\":\"ERROR\","
	    "\"importOptions\":{\"idSchemes\":{},\"dryRun\":false,\"async\":false},"
	    "\"description\":\"Import process completed with conflicts\","
	    "\"importCount\":{\"imported\":0,\"updated\":0,\"ignored\":2,\"deleted\":0},"
	    "\"conflicts\":[{\"object\":\"pri_students\",\"value\":\"value out of range\"},"
	    "{\"object\":\"jun_classes\",\"value\":\"not an integer\"}]}}";
	assert_int_equal(classify(409, body, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "409");
	assert_contains(msg, "pri_students: value out of range");
	assert_contains(msg, "jun_classes: not an integer");
}

/* A 400 whose conflicts are longer than any message. */
static const char *rej_long(void)
{
	static char body[2048];
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"status\":\"ERROR\",\"conflicts\":[");
	for (int k = 0; k < 20; k++)
		n +=
		    (size_t)snprintf(body + n, sizeof(body) - n,
		                     "%s{\"object\":\"field_%d\",\"value\":\"value out of range\"}",
		                     k ? "," : "", k);
	snprintf(body + n, sizeof(body) - n, "]}");
	return body;
}

/* The message is one line however the body is laid out, and fits small buffers. */
static void test_classify_one_line(void **state)
{
	(void)state;
	char msg[600];
	soft_begin();
	const char *html = "<html>\r\n<head><title>502 Bad Gateway</title></head>\n<body>\n"
	                   "<center><h1>502 Bad Gateway</h1></center>\n\t</body>\n</html>\n";
	assert_int_equal(classify(502, html, msg, sizeof(msg)), SO_RETRY);
	assert_contains(msg, "502 Bad Gateway");
	assert_int_equal(classify(200, html, msg, sizeof(msg)), SO_RETRY);
	assert_int_equal(classify(404, html, msg, sizeof(msg)), SO_FAILED);
	/* pretty-printed JSON */
	const char *pretty = "{\n  \"status\": \"ERROR\",\n  \"description\": \"rejected\",\n"
	                     "  \"conflicts\": [\n    {\"object\": \"pri_students\",\n"
	                     "     \"value\": \"value out of range\"}\n  ]\n}\n";
	assert_int_equal(classify(400, pretty, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "pri_students: value out of range");
	assert_int_equal(classify(200, pretty, msg, sizeof(msg)), SO_FAILED);
	/* line ends inside the summary's strings */
	const char *nl = "{\"status\":\"ERROR\",\"description\":\"line one\\nline two\","
	                 "\"conflicts\":[{\"object\":\"pri\\r\\nstudents\",\"value\":\"out\\nof\\t"
	                 "range\"}]}";
	assert_int_equal(classify(400, nl, msg, sizeof(msg)), SO_FAILED);
	assert_int_equal(classify(200, nl, msg, sizeof(msg)), SO_FAILED);
	const char *desc = "{\"status\":\"ERROR\",\"description\":\"data set\\nlocked\"}";
	assert_int_equal(classify(200, desc, msg, sizeof(msg)), SO_FAILED);
	assert_int_equal(
	    classify(409, "{\"conflicts\":[],\"description\":\"a\\nb\"}", msg, sizeof(msg)),
	    SO_FAILED);
	/* small buffers are never overrun */
	char small[24];
	memset(small, 'x', sizeof(small));
	assert_int_equal(classify(500, html, small, 16), SO_RETRY);
	assert_true(strlen(small) < 16);
	assert_int_equal(classify(400, rej_long(), small, 16), SO_FAILED);
	assert_true(strlen(small) < 16);
	/* a transport error's text with a line end (libcurl quotes servers in some) */
	struct sync_answer ans = {.transport_error = true,
	                          .transport_message = "SSL: certificate subject name 'x'\r\n"
	                                               "does not match"};
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_one_line(msg, sizeof(msg), "transport error with a line end");
	soft_end();
}

/* A platform answering in Chinese: the message stays valid UTF-8 where it is cut. */
static void test_classify_utf8(void **state)
{
	(void)state;
	char msg[600], body[4096];
	soft_begin();
	/* 500 with a long Chinese text: the excerpt of the body is cut somewhere */
	for (int pad = 0; pad < 3; pad++) {
		size_t n = 0;
		for (int k = 0; k < pad; k++)
			body[n++] = 'a';
		while (n + 3 < 600) {
			memcpy(body + n, "数", 3);
			n += 3;
		}
		body[n] = '\0';
		assert_int_equal(classify(500, body, msg, sizeof(msg)), SO_RETRY);
		assert_int_equal(classify(404, body, msg, sizeof(msg)), SO_FAILED);
		assert_int_equal(classify(200, body, msg, sizeof(msg)), SO_RETRY);
	}
	/* many Chinese conflicts: more than the message holds */
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"status\":\"ERROR\",\"conflicts\":[");
	for (int k = 0; k < 40; k++)
		n += (size_t)snprintf(body + n, sizeof(body) - n,
		                      "%s{\"object\":\"字段%d\",\"value\":\"数值超出范围\"}",
		                      k ? "," : "", k);
	snprintf(body + n, sizeof(body) - n, "]}");
	assert_int_equal(classify(400, body, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "字段0: 数值超出范围");
	assert_int_equal(classify(200, body, msg, sizeof(msg)), SO_FAILED);
	assert_int_equal(classify(200, body, msg, 100), SO_FAILED);
	soft_end();
}

/* ---- dvs_payload ---- */

struct fixture {
	struct tl_db t;
	struct arena a;
	struct form_set *set;
	struct org_unit school;
	struct period p26;
	long long user_id;
	struct dvs_set *sets; /* values_312.json: basic, students, staff, facilities of SCHOOL */
	size_t nsets;
	unsigned stages; /* of SCHOOL, from the last open_entry */
};

/* A database with the forms, a county with SCHOOL, its user, and period 2026 (open at NOW). */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	tl_db_open(&f->t, "tb-sync");
	arena_init(&f->a, 0);
	f->set = tl_real_forms();
	f->user_id = tl_school_312(&f->t.db, f->set);
	assert_int_equal(ou_get_by_code(&f->t.db, &f->a, SCHOOL, &f->school), 1);
	tl_period_add(&f->t.db, "2026", NOW - 86400, NOW + 86400);
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

/* The data value set of a form in the fixture file. */
static const struct dvs_set *dvs_of(struct fixture *f, const char *form)
{
	return tl_dvs_of(f->sets, f->nsets, form);
}

/* Posted values of a form: the fixture's, as a web form sends them. */
static const char **posted(struct fixture *f, const char *form)
{
	return tl_posted(&f->a, f->set, f->sets, f->nsets, form);
}

/* Set one posted value. */
static void put(struct fixture *f, const char **raw, const char *code, const char *v)
{
	tl_put(f->set, raw, code, v);
}

/* Open the entry of SCHOOL in 2026 and find a form in it. */
static int open_entry(struct fixture *f, struct entry *e, const char *form)
{
	assert_int_equal(entry_open(&f->t.db, &f->a, f->set, &f->p26, &f->school, e), 0);
	int i = entry_form(e, form);
	assert_true(i >= 0);
	f->stages = e->stages;
	return i;
}

/* Save form `form` with `raw` (and one 说明 when expl is not NULL), reopen the entry and
 * return the parsed payload at approved_at (the text in *text). */
static json_t *save_and_build(struct fixture *f, const char *form, const char **raw,
                              const struct validate_expl *expl, long long approved_at,
                              const char **text)
{
	struct entry e;
	int i = open_entry(f, &e, form);
	struct entry_save s = {.raw = raw,
	                       .expl = expl,
	                       .nexpl = expl ? 1 : 0,
	                       .version = e.subs[i].version,
	                       .user_id = f->user_id,
	                       .actor = SCHOOL,
	                       .now = NOW};
	struct validate_out out;
	int changed;
	assert_int_equal(entry_save(&f->t.db, &f->a, &e, i, &s, &out, &changed), ER_SAVED);
	i = open_entry(f, &e, form);
	char *payload = dvs_payload(&f->a, &e, i, approved_at);
	assert_non_null(payload);
	json_error_t jerr;
	json_t *j = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		fail_msg("the payload is not JSON: %s: %s", jerr.text, payload);
	if (strchr(payload, '\n'))
		fail_msg("the payload is not compact: %s", payload);
	*text = payload;
	return j;
}

/* The value object of a data element in the payload, or NULL. */
static json_t *value_of(json_t *payload, const char *element)
{
	json_t *values = json_object_get(payload, "dataValues"), *v;
	size_t k;
	json_array_foreach(values, k, v)
	{
		if (strcmp(json_string_value(json_object_get(v, "dataElement")), element) == 0)
			return v;
	}
	return NULL;
}

/* The payload's text value of a data element (fails when absent). */
static const char *text_of(json_t *payload, const char *element)
{
	json_t *v = value_of(payload, element);
	if (!v)
		fail_msg("no data value for %s", element);
	return json_string_value(json_object_get(v, "value"));
}

/* The shape every payload has: exactly the five keys with string values (the header's),
 * data values of exactly dataElement, value and optionally comment — all strings — each
 * element once, in the form's definition order, every one a field of the form that
 * applies to the school. */
static void check_shape(struct fixture *f, json_t *j, const char *form, const char *day)
{
	assert_true(json_is_object(j));
	assert_int_equal(json_object_size(j), 5);
	assert_string_equal(json_string_value(json_object_get(j, "dataSet")), form);
	assert_string_equal(json_string_value(json_object_get(j, "period")), "2026");
	assert_string_equal(json_string_value(json_object_get(j, "orgUnit")), SCHOOL);
	assert_string_equal(json_string_value(json_object_get(j, "completeDate")), day);
	json_t *values = json_object_get(j, "dataValues"), *v;
	assert_true(json_is_array(values));
	assert_true(json_array_size(values) > 0);
	const struct form_def *fd = form_find(f->set, form);
	assert_non_null(fd);
	size_t k, last = 0;
	json_array_foreach(values, k, v)
	{
		assert_true(json_is_object(v));
		json_t *el = json_object_get(v, "dataElement"), *val = json_object_get(v, "value");
		json_t *c = json_object_get(v, "comment");
		if (!json_is_string(el) || !json_is_string(val))
			fail_msg("data value %zu: dataElement and value must be JSON strings", k);
		assert_int_equal(json_object_size(v), c ? 3 : 2);
		if (c && !json_is_string(c))
			fail_msg("%s: comment must be a string", json_string_value(el));
		size_t pos = fd->nfields;
		for (size_t q = 0; q < fd->nfields; q++)
			if (strcmp(fd->fields[q]->code, json_string_value(el)) == 0)
				pos = q;
		if (pos == fd->nfields)
			fail_msg("%s is not a field of %s", json_string_value(el), form);
		if (k > 0 && pos <= last)
			fail_msg("%s is out of definition order (or twice)", json_string_value(el));
		last = pos;
		if (!form_field_applies(fd->fields[pos], f->school.school_type, f->stages))
			fail_msg("%s does not apply to the school", json_string_value(el));
		if (json_string_value(val)[0] == '\0')
			fail_msg("%s: empty value sent", json_string_value(el));
	}
}

/* The staff form: every value a JSON string in canonical form, the 说明 of a warning as the
 * comment of its field, fields not applicable and invalid values left out. */
static void test_payload_staff(void **state)
{
	struct fixture *f = *state;
	const char **raw = posted(f, "staff");
	put(f, raw, "pri_teachers", "２０");       /* full-width digits: canonical "20" */
	put(f, raw, "pri_t_certified", "19");      /* one without certificate: a warning */
	put(f, raw, "jun_t_art", "０１");          /* canonical "1" */
	put(f, raw, "kg_teachers", "5");           /* the school has no kindergarten */
	put(f, raw, "sen_teachers", "7");          /* nor a senior stage */
	put(f, raw, "jun_t_rot_eligible", "七个"); /* not a number: stored, but not sent */
	const char *why = "一名新教师的教师资格证正在认定中，预计\"10月\"取得。";
	struct validate_expl x = {"all_teachers_certified:pri", why};
	const char *text;
	json_t *j = save_and_build(f, "staff", raw, &x, 1789921800LL, &text);
	/* 2026-09-20 16:30 UTC is 2026-09-21 00:30 in China */
	check_shape(f, j, "staff", "2026-09-21");
	assert_string_equal(text_of(j, "pri_teachers"), "20");
	assert_string_equal(text_of(j, "pri_t_certified"), "19");
	assert_string_equal(text_of(j, "jun_t_art"), "1");
	assert_string_equal(text_of(j, "staff_total"), "58");
	assert_string_equal(text_of(j, "jun_teachers"), "26");
	/* the 说明 is the comment of the field the warning concerns, and only of it */
	json_t *cert = value_of(j, "pri_t_certified");
	assert_string_equal(json_string_value(json_object_get(cert, "comment")), why);
	json_t *v;
	size_t k;
	json_array_foreach(json_object_get(j, "dataValues"), k, v)
	{
		if (v != cert && json_object_get(v, "comment"))
			fail_msg("%s has a comment",
			         json_string_value(json_object_get(v, "dataElement")));
	}
	/* not applicable, invalid: absent */
	assert_null(value_of(j, "kg_teachers"));
	assert_null(value_of(j, "sen_teachers"));
	assert_null(value_of(j, "jun_t_rot_eligible"));
	/* everything else the school typed is there */
	const struct dvs_set *s = dvs_of(f, "staff");
	assert_int_equal(json_array_size(json_object_get(j, "dataValues")), s->nvalues - 1);
	for (size_t q = 0; q < s->nvalues; q++)
		if (strcmp(s->values[q].element, "jun_t_rot_eligible") != 0)
			assert_non_null(value_of(j, s->values[q].element));
	json_decref(j);
	/* the day is the approval's in UTC+8: 2026-09-20 15:59:59 UTC is still the 20th */
	struct entry e;
	int i = open_entry(f, &e, "staff");
	char *p = dvs_payload(&f->a, &e, i, 1789919999LL);
	assert_non_null(p);
	j = json_loads(p, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "completeDate")), "2026-09-20");
	json_decref(j);
	/* the same entry gives the same bytes (the idempotency key's body never changes) */
	assert_string_equal(dvs_payload(&f->a, &e, i, 1789919999LL), p);
}

/* The basic form: Chinese text survives as UTF-8, yes/no as "true"/"false", numbers
 * canonical, text as typed but trimmed. */
static void test_payload_basic(void **state)
{
	struct fixture *f = *state;
	const char **raw = posted(f, "basic");
	put(f, raw, "broadband_mbps", "１２");
	put(f, raw, "campus_network", "0");
	put(f, raw, "boarding", "1");
	put(f, raw, "principal_name", " 杨兴云　"); /* text is sent trimmed (docs/upstream.md) */
	const char *text;
	json_t *j = save_and_build(f, "basic", raw, NULL, NOW, &text);
	check_shape(f, j, "basic", "2027-01-15");
	assert_string_equal(text_of(j, "principal_name"), "杨兴云");
	assert_non_null(strstr(text, "杨兴云")); /* UTF-8, not \u escapes */
	assert_string_equal(text_of(j, "principal_birth_year"), "1977");
	assert_string_equal(text_of(j, "broadband_mbps"), "12");
	assert_string_equal(text_of(j, "boarding"), "true");
	assert_string_equal(text_of(j, "campus_network"), "false");
	assert_string_equal(text_of(j, "contact_phone"), "0531-84563223");
	assert_int_equal(json_array_size(json_object_get(j, "dataValues")), 6);
	json_decref(j);
	/* a form never started: a set without values */
	struct entry e;
	int i = open_entry(f, &e, "facilities");
	char *p = dvs_payload(&f->a, &e, i, NOW);
	assert_non_null(p);
	j = json_loads(p, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "dataSet")), "facilities");
	assert_int_equal(json_array_size(json_object_get(j, "dataValues")), 0);
	json_decref(j);
}

/* The facilities form: decimals in canonical text, all as strings. */
static void test_payload_facilities(void **state)
{
	struct fixture *f = *state;
	const char **raw = posted(f, "facilities");
	put(f, raw, "land_area", "15058.20");        /* no trailing zeros */
	put(f, raw, "teaching_area", "３４６４.６"); /* full-width digits */
	put(f, raw, "books", "017492");              /* no leading zeros */
	const char *text;
	json_t *j = save_and_build(f, "facilities", raw, NULL, NOW, &text);
	check_shape(f, j, "facilities", "2027-01-15");
	const struct dvs_set *s = dvs_of(f, "facilities");
	assert_int_equal(json_array_size(json_object_get(j, "dataValues")), s->nvalues);
	assert_string_equal(text_of(j, "land_area"), "15058.2");
	assert_string_equal(text_of(j, "teaching_area"), "3464.6");
	assert_string_equal(text_of(j, "books"), "17492");
	for (size_t q = 0; q < s->nvalues; q++)
		if (strcmp(s->values[q].element, "land_area") != 0)
			assert_string_equal(text_of(j, s->values[q].element), s->values[q].value);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_range),
	    cmocka_unit_test(test_backoff_random),
	    cmocka_unit_test(test_backoff_retry_after),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_classify_transport),
	    cmocka_unit_test(test_classify_2xx),
	    cmocka_unit_test(test_classify_status),
	    cmocka_unit_test(test_classify_dhis2_409),
	    cmocka_unit_test(test_classify_one_line),
	    cmocka_unit_test(test_classify_utf8),
	    cmocka_unit_test_setup_teardown(test_payload_staff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload_facilities, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

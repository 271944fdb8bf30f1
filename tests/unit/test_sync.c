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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/dvs.h"
#include "core/entry.h"
#include "core/outbox.h"
#include "core/user.h"
#include "sync/policy.h"
#include "sync/sync.h"
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

/* 2xx with an import summary: SUCCESS, OK delivered, WARNING delivered with warnings
 * (also wrapped as {"response": ...}); ERROR failed naming the conflicts; no summary:
 * retry. */
static void test_classify_2xx(void **state)
{
	(void)state;
	char msg[600];
	static const char *const ok[] = {
	    "{\"status\":\"SUCCESS\",\"importCount\":{\"imported\":3},\"conflicts\":[]}",
	    "{\"status\":\"OK\"}",
	    "{\"response\":{\"status\":\"SUCCESS\",\"conflicts\":[]}}",
	    "{\"httpStatus\":\"OK\",\"httpStatusCode\":200,\"response\":{\"responseType\":"
	    "\"ImportSummary\",\"status\":\"SUCCESS\"}}",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (classify(200, ok[i], msg, sizeof(msg)) != SO_DELIVERED)
			fail_msg("not delivered: %s (%s)", ok[i], msg);
	}
	static const char *const warn[] = {
	    "{\"status\":\"WARNING\",\"conflicts\":[{\"object\":\"books\",\"value\":\"ignored\"}]}",
	    "{\"response\":{\"status\":\"WARNING\"}}",
	};
	for (size_t i = 0; i < sizeof(warn) / sizeof(warn[0]); i++) {
		if (classify(200, warn[i], msg, sizeof(msg)) != SO_WARNING)
			fail_msg("not delivered with warnings: %s (%s)", warn[i], msg);
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
	static const long failed[] = {400, 405, 410, 413, 415, 422, 100, 0};
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
}

/* 401, 403, 404, 407: the endpoint, the token or the proxy is wrong, not the submission:
 * delivery pauses, whatever the body (even an import summary); the message names the
 * status, what to check and the body's start. */
static void test_classify_pause(void **state)
{
	(void)state;
	char msg[600];
	static const struct {
		long status;
		const char *hint;
	} cases[] = {{401, "token"}, {403, "refused access"}, {404, "base_url"}, {407, "proxy"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long st = cases[i].status;
		char num[16];
		snprintf(num, sizeof(num), "HTTP %ld", st);
		const char *bodies[] = {
		    "{\"status\":\"ERROR\",\"description\":\"bad or missing bearer token\"}", NULL,
		    "<html><body>Forbidden</body></html>",
		    "{\"status\":\"ERROR\",\"conflicts\":[{\"object\":\"x\",\"value\":\"y\"}]}"};
		for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
			if (classify(st, bodies[b], msg, sizeof(msg)) != SO_PAUSE)
				fail_msg("HTTP %ld with '%s' does not pause (%s)", st,
				         bodies[b] ? bodies[b] : "(none)", msg);
			assert_contains(msg, num);
			assert_contains(msg, cases[i].hint);
			assert_contains(msg, "paused");
		}
	}
	/* a 401's body tells why */
	assert_int_equal(classify(401,
	                          "{\"status\":\"ERROR\",\"description\":\"bad or missing "
	                          "bearer token\"}",
	                          msg, sizeof(msg)),
	                 SO_PAUSE);
	assert_contains(msg, "bearer token");
}

/* A redirect is never followed: retried, the message naming where it pointed. */
static void test_classify_redirect(void **state)
{
	(void)state;
	char msg[600];
	static const long redirects[] = {301, 302, 303, 304, 307, 308};
	for (size_t i = 0; i < sizeof(redirects) / sizeof(redirects[0]); i++) {
		struct sync_answer ans = {.status = redirects[i],
		                          .body = "<html>Moved</html>",
		                          .body_len = 18,
		                          .location = "http://10.9.8.7/login?next=/api"};
		assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
		assert_contains(msg, "http://10.9.8.7/login?next=/api");
		assert_contains(msg, "not followed");
		assert_one_line(msg, sizeof(msg), "redirect");
		ans.location = NULL;
		assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
		assert_contains(msg, "no Location");
	}
	/* a Location with a line end or bytes that are not UTF-8 stays one line of UTF-8 */
	struct sync_answer ans = {.status = 302, .location = "http://x/\r\nSet-Cookie: a=\xb6\xd4"};
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_one_line(msg, sizeof(msg), "redirect with a hostile Location");
	assert_contains(msg, "\xef\xbf\xbd");
}

/* 409 (and 425): under the Idempotency-Key draft a request with the same key is still
 * being processed: retried. Only a recognisable import summary (DHIS2's data conflict)
 * makes a 409 permanent. */
static void test_classify_409_in_progress(void **state)
{
	(void)state;
	char msg[600];
	static const char *const bodies[] = {
	    NULL,
	    "",
	    "{\"status\":\"ERROR\",\"description\":\"request in progress\"}",
	    "{\"title\":\"A request with this key is being processed\",\"status\":409}",
	    "<html><body>Conflict</body></html>",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if (classify(409, bodies[i], msg, sizeof(msg)) != SO_RETRY)
			fail_msg("409 with '%s' not retried (%s)", bodies[i] ? bodies[i] : "(none)",
			         msg);
		assert_contains(msg, "409");
		assert_contains(msg, "will retry");
		if (classify(425, bodies[i], msg, sizeof(msg)) != SO_RETRY)
			fail_msg("425 with '%s' not retried (%s)", bodies[i] ? bodies[i] : "(none)",
			         msg);
		assert_contains(msg, "425");
	}
	/* import summaries: a conflicts list, an import count, or DHIS2's responseType */
	static const char *const summaries[] = {
	    "{\"status\":\"ERROR\",\"conflicts\":[{\"object\":\"pri_students\",\"value\":"
	    "\"value out of range\"}]}",
	    "{\"status\":\"ERROR\",\"description\":\"locked\",\"importCount\":{\"imported\":0}}",
	    "{\"response\":{\"responseType\":\"ImportSummary\",\"status\":\"ERROR\","
	    "\"description\":\"data set locked\"}}",
	};
	for (size_t i = 0; i < sizeof(summaries) / sizeof(summaries[0]); i++)
		if (classify(409, summaries[i], msg, sizeof(msg)) != SO_FAILED)
			fail_msg("409 with an import summary not failed: %s (%s)", summaries[i],
			         msg);
	assert_int_equal(classify(409, summaries[0], msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "pri_students: value out of range");
}

/* A 2xx reply longer than the client keeps is cut: its summary cannot be trusted, so the
 * row is retried with a message saying so (not failed, not delivered). */
static void test_classify_truncated(void **state)
{
	(void)state;
	char msg[600];
	const char *ok = "{\"status\":\"SUCCESS\",\"conflicts\":[]}";
	struct sync_answer ans = {.status = 200, .body = ok, .body_len = strlen(ok)};
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_DELIVERED);
	ans.truncated = true;
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_contains(msg, "1 MiB");
	assert_contains(msg, "will retry");
	ans.body = "{\"status\":\"SUC";
	ans.body_len = strlen(ans.body);
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_contains(msg, "1 MiB");
}

/* WARNING: delivered, and the message keeps what the platform ignored (for last_error
 * and the page). */
static void test_classify_warning(void **state)
{
	(void)state;
	char msg[600];
	const char *w = "{\"status\":\"WARNING\",\"description\":\"Import completed with "
	                "conflicts\",\"importCount\":{\"imported\":30,\"ignored\":2},"
	                "\"conflicts\":[{\"object\":\"books\",\"value\":\"value ignored\"},"
	                "{\"object\":\"pc_count\",\"value\":\"不是整数\"}]}";
	assert_int_equal(classify(200, w, msg, sizeof(msg)), SO_WARNING);
	assert_contains(msg, "WARNING");
	assert_contains(msg, "books: value ignored");
	assert_contains(msg, "pc_count: 不是整数");
	/* wrapped, without conflicts: the description */
	assert_int_equal(classify(200,
	                          "{\"response\":{\"status\":\"WARNING\",\"description\":"
	                          "\"2 values ignored\"}}",
	                          msg, sizeof(msg)),
	                 SO_WARNING);
	assert_contains(msg, "2 values ignored");
	assert_int_equal(classify(200, "{\"status\":\"WARNING\"}", msg, sizeof(msg)), SO_WARNING);
	assert_contains(msg, "WARNING");
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
	assert_int_equal(classify(404, html, msg, sizeof(msg)), SO_PAUSE);
	assert_int_equal(classify(400, html, msg, sizeof(msg)), SO_FAILED);
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
		assert_int_equal(classify(400, body, msg, sizeof(msg)), SO_FAILED);
		assert_int_equal(classify(404, body, msg, sizeof(msg)), SO_PAUSE);
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

/* Bytes that are not UTF-8 (a GBK error page of a proxy, a NUL): the message is valid
 * UTF-8 with U+FFFD where they were, for every kind of answer. */
static void test_classify_invalid_utf8(void **state)
{
	(void)state;
	char msg[600];
	/* 服务器错误 (server error) in GBK */
	static const char gbk[] =
	    "<html><body>\xb7\xfe\xce\xf1\xc6\xf7\xb4\xed\xce\xf3</body></html>";
	soft_begin();
	assert_int_equal(classify(502, gbk, msg, sizeof(msg)), SO_RETRY);
	assert_contains(msg, "\xef\xbf\xbd");
	assert_contains(msg, "<html><body>");
	assert_int_equal(classify(400, gbk, msg, sizeof(msg)), SO_FAILED);
	assert_contains(msg, "\xef\xbf\xbd");
	assert_int_equal(classify(200, gbk, msg, sizeof(msg)), SO_RETRY);
	assert_int_equal(classify(401, gbk, msg, sizeof(msg)), SO_PAUSE);
	assert_int_equal(classify(409, gbk, msg, sizeof(msg)), SO_RETRY);
	/* a NUL inside the body: the rest is still shown */
	struct sync_answer ans = {.status = 503, .body = "busy\0 again", .body_len = 11};
	assert_int_equal(sync_classify(&ans, msg, sizeof(msg)), SO_RETRY);
	assert_one_line(msg, sizeof(msg), "NUL in the body");
	assert_contains(msg, "again");
	/* a transport error quoting bytes that are not UTF-8 */
	struct sync_answer t = {.transport_error = true,
	                        .transport_message = "SSL: certificate subject name '\xc4\xe3' "
	                                             "does not match"};
	assert_int_equal(sync_classify(&t, msg, sizeof(msg)), SO_RETRY);
	assert_one_line(msg, sizeof(msg), "transport error with GBK");
	/* cut where the buffer ends, never inside a character */
	for (size_t len = 8; len < 40; len++) {
		char small[40];
		classify(502, gbk, small, len);
	}
	soft_end();
}

/* ---- outbox_utf8_copy ---- */

/* Copy `in` (of inlen bytes) into a buffer of outlen bytes; the result must equal want. */
static void utf8_case(const char *in, size_t inlen, size_t outlen, const char *want)
{
	char out[256];
	memset(out, 'x', sizeof(out));
	size_t n = outbox_utf8_copy(out, outlen, in, inlen);
	if (n != strlen(want) || memcmp(out, want, n + 1) != 0)
		fail_msg("outbox_utf8_copy(%zu bytes, outlen %zu): got %zu bytes '%s', want '%s'",
		         inlen, outlen, n, out, want);
	assert_true(out[outlen] == 'x'); /* nothing written past the buffer */
}

#define U_FFFD "\xef\xbf\xbd"

/* Valid text is kept; every maximal invalid subpart (WHATWG) becomes one U+FFFD; a NUL
 * too; a cut never splits a character; the output is always valid UTF-8. */
static void test_utf8_copy(void **state)
{
	(void)state;
	utf8_case("abc", 3, 10, "abc");
	utf8_case("数据", 6, 10, "数据");
	utf8_case("\xf0\x9f\x98\x80!", 5, 10, "\xf0\x9f\x98\x80!");
	/* cut at a character boundary: 数 is 3 bytes */
	utf8_case("数据", 6, 6, "数");
	utf8_case("数据", 6, 4, "数");
	utf8_case("数据", 6, 3, "");
	utf8_case("a数", 4, 4, "a");
	utf8_case("abc", 3, 1, "");
	/* invalid sequences */
	utf8_case("\xff", 1, 10, U_FFFD);
	utf8_case("a\x80"
	          "b",
	          3, 10, "a" U_FFFD "b");
	utf8_case("\xe6\x95"
	          "a",
	          3, 10, U_FFFD "a");                /* a cut character: one U+FFFD */
	utf8_case("\xe6\x95", 2, 10, U_FFFD);        /* ... also at the end */
	utf8_case("\xc0\xaf", 2, 10, U_FFFD U_FFFD); /* overlong */
	utf8_case("\xe0\x80\xaf", 3, 10, U_FFFD U_FFFD U_FFFD);
	utf8_case("\xed\xa0\x80", 3, 10, U_FFFD U_FFFD U_FFFD);            /* a surrogate */
	utf8_case("\xf4\x90\x80\x80", 4, 20, U_FFFD U_FFFD U_FFFD U_FFFD); /* > U+10FFFF */
	utf8_case("\xf5", 1, 10, U_FFFD);
	utf8_case("a\0b", 3, 10, "a" U_FFFD "b");
	/* GBK: 中文 */
	utf8_case("\xd6\xd0\xce\xc4", 4, 20, U_FFFD U_FFFD U_FFFD U_FFFD);
	/* a replacement that does not fit is left out whole */
	utf8_case("ab\xff", 3, 5, "ab");
	/* nothing in, no room */
	utf8_case(NULL, 5, 10, "");
	char none[1] = {'x'};
	assert_int_equal(outbox_utf8_copy(none, 0, "abc", 3), 0);
	assert_int_equal(none[0], 'x');
	/* random bytes: always valid UTF-8, never longer than the buffer */
	srand(912);
	for (int r = 0; r < 5000; r++) {
		char in[64], out[100], why[128];
		size_t inlen = (size_t)(rand() % 64), outlen = 1 + (size_t)(rand() % 100);
		for (size_t i = 0; i < inlen; i++)
			in[i] = (char)(0x20 + rand() % 0xe0); /* no control characters */
		for (size_t i = 0; i < inlen; i++)
			if (in[i] == 0x7f)
				in[i] = ' ';
		size_t n = outbox_utf8_copy(out, outlen, in, inlen);
		assert_true(n < outlen);
		assert_int_equal(strlen(out), n);
		if (line_problem(out, outlen, why, sizeof(why)))
			fail_msg("random input %d: %s", r, why);
	}
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

/* ---- the outbox: versions, leases, outcomes, retries ---- */

/* Run SQL built from a format (tests may: the sources may not). */
static void sql(struct fixture *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql(struct fixture *f, const char *fmt, ...)
{
	char text[2048], *err = NULL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (sqlite3_exec(f->t.db.h, text, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", text, err);
}

/* One text from a query with one integer parameter (a copy in the fixture's arena;
 * NULL for SQL NULL or no row). */
static const char *text1(struct fixture *f, const char *q, long long arg)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->t.db.h, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, arg);
	const char *v = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = arena_strdup(&f->a, (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* One integer from a query with one integer parameter (-1 for no row). */
static long long int1(struct fixture *f, const char *q, long long arg)
{
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(f->t.db.h, q, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, arg);
	long long v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
	sqlite3_finalize(st);
	return v;
}

/* An approved submission of SCHOOL in 2026 for a form; its id. */
static long long sub_add(struct fixture *f, const char *form)
{
	sql(f,
	    "INSERT INTO submission(period_id, school_id, form_code, state, version)"
	    " VALUES ((SELECT id FROM period WHERE code = '2026'), %lld, '%s', 'approved', 1)",
	    f->school.id, form);
	return sqlite3_last_insert_rowid(f->t.db.h);
}

/* An outbox row of a submission's version in a state, due at `due`; its id. */
static long long ob_add(struct fixture *f, long long sub, int version, const char *state,
                        long long due)
{
	sql(f,
	    "INSERT INTO outbox(submission_id, version, idem_key, payload, state, next_attempt_at,"
	    " created_at) VALUES (%lld, %d, '%s-2026-s%lld-v%d', '{\"v\":%d}', '%s', %lld, %lld)",
	    sub, version, SCHOOL, sub, version, version, state, due, due);
	return sqlite3_last_insert_rowid(f->t.db.h);
}

static const char *ob_state(struct fixture *f, long long id)
{
	return text1(f, "SELECT state FROM outbox WHERE id = ?1", id);
}

/* Claim as `owner` at NOW; the ids claimed, in order, into ids (at most 16); how many. */
static size_t claim(struct fixture *f, const char *owner, long long *ids)
{
	struct outbox_row *rows;
	size_t n;
	assert_int_equal(outbox_claim(&f->t.db, &f->a, owner, NOW, 60, 16, &rows, &n), 0);
	for (size_t i = 0; i < n; i++)
		ids[i] = rows[i].id;
	return n;
}

/* A newer version supersedes the undelivered older ones (pending in backoff, failed,
 * dead) when the sync job claims, each with an audit row; only the newest is sent; a
 * delivered older version and other submissions are left alone. */
static void test_outbox_supersede_on_claim(void **state)
{
	struct fixture *f = *state;
	long long staff = sub_add(f, "staff"), basic = sub_add(f, "basic");
	long long v0 = ob_add(f, staff, 1, "delivered", 0);
	long long v1 = ob_add(f, staff, 2, "failed", 0);
	long long v2 = ob_add(f, staff, 3, "dead", 0);
	long long v3 = ob_add(f, staff, 4, "pending", NOW + 3600); /* in backoff */
	long long v4 = ob_add(f, staff, 5, "pending", NOW + 7200); /* newest, not yet due */
	long long b1 = ob_add(f, basic, 1, "pending", 0);
	/* before the sync job has run, the page already counts and lists them as superseded */
	struct outbox_counts c;
	assert_int_equal(outbox_count(&f->t.db, f->school.id, &c), 0);
	assert_int_equal(c.superseded, 3);
	assert_int_equal(c.pending, 2);
	assert_int_equal(c.delivered, 1);
	struct outbox_row *rows;
	size_t n;
	assert_int_equal(outbox_list(&f->t.db, &f->a, f->school.id, "superseded", 10, &rows, &n),
	                 0);
	assert_int_equal(n, 3);
	assert_int_equal(rows[0].id, v3);
	assert_int_equal(rows[0].state, OB_SUPERSEDED);
	long long ids[16];
	assert_int_equal(claim(f, "run-a", ids), 1);
	assert_int_equal(ids[0], b1); /* v4 is not due yet; v3 never again */
	assert_string_equal(ob_state(f, v0), "delivered");
	assert_string_equal(ob_state(f, v1), "superseded");
	assert_string_equal(ob_state(f, v2), "superseded");
	assert_string_equal(ob_state(f, v3), "superseded");
	assert_string_equal(ob_state(f, v4), "pending");
	assert_string_equal(ob_state(f, b1), "pending");
	for (long long id = v1; id <= v3; id++) {
		const char *d = text1(f,
		                      "SELECT detail FROM audit WHERE action = 'outbox.superseded'"
		                      " AND object = 'outbox:' || ?1 AND actor = 'sync'",
		                      id);
		if (!d)
			fail_msg("no audit row for superseding outbox %lld", id);
		assert_contains(d, "superseded by version 5");
	}
	assert_int_equal(
	    tl_int(&f->t.db, "SELECT count(*) FROM audit WHERE action = 'outbox.superseded'", NULL),
	    3);
	/* v4 due: it is claimed; nothing is superseded twice */
	sql(f, "UPDATE outbox SET next_attempt_at = 0 WHERE id = %lld", v4);
	assert_int_equal(claim(f, "run-b", ids), 1);
	assert_int_equal(ids[0], v4);
	assert_int_equal(
	    tl_int(&f->t.db, "SELECT count(*) FROM audit WHERE action = 'outbox.superseded'", NULL),
	    3);
	/* outbox_supersede for one submission, in the caller's transaction */
	long long b2 = ob_add(f, basic, 2, "pending", 0);
	assert_true(db_begin_write(&f->t.db));
	assert_int_equal(outbox_supersede(&f->t.db, staff, "tester"), 0); /* not that one */
	assert_int_equal(outbox_supersede(&f->t.db, basic, "tester"), 1);
	assert_true(db_commit(&f->t.db));
	assert_string_equal(ob_state(f, b2), "pending");
	/* b1 was leased by run-a: superseded, and its lease kept */
	assert_string_equal(ob_state(f, b1), "superseded");
	assert_string_equal(text1(f, "SELECT lease_owner FROM outbox WHERE id = ?1", b1), "run-a");
	assert_non_null(text1(f,
	                      "SELECT 1 FROM audit WHERE action = 'outbox.superseded' AND actor ="
	                      " 'tester' AND object = 'outbox:' || ?1",
	                      b1));
}

/* An older version in flight (leased by another run) holds the newer one back until
 * its outcome is recorded or its lease is given back, so the platform never gets v2
 * before v1; the run holding v1 finds it superseded at renew time and skips it. */
static void test_outbox_versions_in_order(void **state)
{
	struct fixture *f = *state;
	long long s1 = sub_add(f, "staff"), s2 = sub_add(f, "basic");
	/* s1: v1 is in flight (renewed, being sent) when v2 is approved */
	long long a1 = ob_add(f, s1, 1, "pending", 0);
	long long ids[16];
	assert_int_equal(claim(f, "run-a", ids), 1);
	assert_int_equal(outbox_renew(&f->t.db, a1, "run-a", NOW, 60), 1);
	long long a2 = ob_add(f, s1, 2, "pending", 0);
	/* s2: v1 claimed but not yet sent when v2 is approved */
	long long b1 = ob_add(f, s2, 1, "pending", 0);
	sql(f, "UPDATE outbox SET lease_owner = 'run-a', lease_until = %lld WHERE id = %lld",
	    NOW + 60, b1);
	long long b2 = ob_add(f, s2, 2, "pending", 0);
	/* another run: both v1 superseded, neither v2 claimable while v1 is leased */
	assert_int_equal(claim(f, "run-b", ids), 0);
	assert_string_equal(ob_state(f, a1), "superseded");
	assert_string_equal(ob_state(f, b1), "superseded");
	/* run-a: b1 is no longer to be sent; the lease is given back */
	assert_int_equal(outbox_renew(&f->t.db, b1, "run-a", NOW, 60), 0);
	assert_null(text1(f, "SELECT lease_owner FROM outbox WHERE id = ?1", b1));
	assert_int_equal(claim(f, "run-b", ids), 1);
	assert_int_equal(ids[0], b2);
	/* run-a: a1's answer says delivered: recorded as such, and only now a2 goes */
	struct outbox_result r = {.state = OB_DELIVERED,
	                          .status = 200,
	                          .message = "HTTP 200 SUCCESS",
	                          .reply = "{\"status\":\"SUCCESS\"}",
	                          .next_attempt_at = NOW};
	assert_true(outbox_record(&f->t.db, a1, "run-a", NOW, &r));
	assert_string_equal(ob_state(f, a1), "delivered");
	assert_int_equal(claim(f, "run-c", ids), 1);
	assert_int_equal(ids[0], a2);
	/* a row that is not ours, and a database error, are told apart */
	assert_int_equal(outbox_renew(&f->t.db, a2, "run-a", NOW, 60), 0);
	assert_int_equal(outbox_renew(&f->t.db, a2, "run-c", NOW, 60), 1);
	sql(f, "DROP TABLE outbox");
	assert_int_equal(outbox_renew(&f->t.db, a2, "run-c", NOW, 60), -1);
}

/* A row superseded while it was being sent stays superseded unless the platform says
 * delivered; the audit says so. */
static void test_outbox_record_superseded_meanwhile(void **state)
{
	struct fixture *f = *state;
	long long s = sub_add(f, "staff");
	long long v1 = ob_add(f, s, 1, "pending", 0);
	long long ids[16];
	assert_int_equal(claim(f, "run-a", ids), 1);
	ob_add(f, s, 2, "pending", 0);
	assert_true(db_begin_write(&f->t.db));
	assert_int_equal(outbox_supersede(&f->t.db, s, "system"), 1);
	assert_true(db_commit(&f->t.db));
	struct outbox_result r = {.state = OB_PENDING,
	                          .status = 503,
	                          .message = "HTTP 503 (will retry)",
	                          .next_attempt_at = NOW + 30};
	assert_true(outbox_record(&f->t.db, v1, "run-a", NOW, &r));
	assert_string_equal(ob_state(f, v1), "superseded");
	assert_null(text1(f, "SELECT lease_owner FROM outbox WHERE id = ?1", v1));
	assert_int_equal(int1(f, "SELECT attempts FROM outbox WHERE id = ?1", v1), 1);
	const char *d = text1(f,
	                      "SELECT detail FROM audit WHERE action = 'outbox.retry' AND object ="
	                      " 'outbox:' || ?1",
	                      v1);
	assert_non_null(d);
	assert_contains(d, "superseded meanwhile");
	/* no longer leased: recording again is refused */
	assert_false(outbox_record(&f->t.db, v1, "run-a", NOW, &r));
}

/* The admin cannot send an old version again once a newer one exists (it would
 * overwrite the newer data on the platform): a clear Chinese message, nothing changed. */
static void test_outbox_retry_refuses_old_version(void **state)
{
	struct fixture *f = *state;
	long long s = sub_add(f, "staff");
	long long v1 = ob_add(f, s, 1, "failed", 0);
	long long v2 = ob_add(f, s, 2, "delivered", 0);
	char err[512];
	assert_false(outbox_retry(&f->t.db, v1, "admin", NOW, err, sizeof(err)));
	assert_contains(err, "第 1 版");
	assert_contains(err, "第 2 版");
	assert_contains(err, "覆盖");
	assert_string_equal(ob_state(f, v1), "failed");
	assert_int_equal(
	    tl_int(&f->t.db, "SELECT count(*) FROM audit WHERE action = 'outbox.retry_requested'",
	           NULL),
	    0);
	/* already marked superseded: the same */
	sql(f, "UPDATE outbox SET state = 'superseded' WHERE id = %lld", v1);
	assert_false(outbox_retry(&f->t.db, v1, "admin", NOW, err, sizeof(err)));
	assert_contains(err, "第 2 版");
	/* the newest, failed: allowed, with its audit row */
	sql(f, "UPDATE outbox SET state = 'failed' WHERE id = %lld", v2);
	assert_true(outbox_retry(&f->t.db, v2, "admin", NOW, err, sizeof(err)));
	assert_string_equal(ob_state(f, v2), "pending");
	assert_int_equal(tl_int(&f->t.db,
	                        "SELECT count(*) FROM audit WHERE action = 'outbox.retry_requested'"
	                        " AND actor = 'admin'",
	                        NULL),
	                 1);
	/* pending: refused; unknown: refused */
	assert_false(outbox_retry(&f->t.db, v2, "admin", NOW, err, sizeof(err)));
	assert_contains(err, "只有");
	assert_false(outbox_retry(&f->t.db, 99999, "admin", NOW, err, sizeof(err)));
	assert_contains(err, "没有找到");
}

/* Delivered with warnings keeps the ignored values in last_error; a pause leaves the row
 * pending without counting the attempt; text that is not UTF-8 is stored as UTF-8. */
static void test_outbox_record_outcomes(void **state)
{
	struct fixture *f = *state;
	long long s = sub_add(f, "staff"), s2 = sub_add(f, "basic"), s3 = sub_add(f, "students");
	long long w = ob_add(f, s, 1, "pending", 0), p = ob_add(f, s2, 1, "pending", 0);
	long long g = ob_add(f, s3, 1, "pending", 0);
	long long ids[16];
	assert_int_equal(claim(f, "run", ids), 3);
	struct outbox_result r = {.state = OB_DELIVERED,
	                          .status = 200,
	                          .message = "HTTP 200 WARNING, values ignored: books: ignored",
	                          .reply = "{\"status\":\"WARNING\"}",
	                          .next_attempt_at = NOW,
	                          .warnings = true};
	assert_true(outbox_record(&f->t.db, w, "run", NOW, &r));
	assert_string_equal(ob_state(f, w), "delivered");
	assert_string_equal(text1(f, "SELECT last_error FROM outbox WHERE id = ?1", w),
	                    "HTTP 200 WARNING, values ignored: books: ignored");
	assert_int_equal(int1(f, "SELECT delivered_at FROM outbox WHERE id = ?1", w), NOW);
	/* paused: pending, not counted, due later, audited as paused */
	struct outbox_result pr = {.state = OB_PENDING,
	                           .status = 401,
	                           .message = "HTTP 401: the platform refused the credentials",
	                           .next_attempt_at = NOW + 40,
	                           .paused = true};
	assert_true(outbox_record(&f->t.db, p, "run", NOW, &pr));
	assert_string_equal(ob_state(f, p), "pending");
	assert_int_equal(int1(f, "SELECT attempts FROM outbox WHERE id = ?1", p), 0);
	assert_int_equal(int1(f, "SELECT next_attempt_at FROM outbox WHERE id = ?1", p), NOW + 40);
	assert_int_equal(int1(f, "SELECT last_status FROM outbox WHERE id = ?1", p), 401);
	assert_non_null(text1(f,
	                      "SELECT 1 FROM audit WHERE action = 'outbox.paused' AND object ="
	                      " 'outbox:' || ?1",
	                      p));
	/* GBK in the message and the reply: stored as valid UTF-8 */
	struct outbox_result gr = {.state = OB_FAILED,
	                           .status = 400,
	                           .message = "HTTP 400: \xb4\xed\xce\xf3",
	                           .reply = "<p>\xb4\xed\xce\xf3</p>",
	                           .next_attempt_at = NOW};
	assert_true(outbox_record(&f->t.db, g, "run", NOW, &gr));
	assert_string_equal(text1(f, "SELECT last_error FROM outbox WHERE id = ?1", g),
	                    "HTTP 400: " U_FFFD U_FFFD U_FFFD U_FFFD);
	assert_string_equal(text1(f, "SELECT reply FROM outbox WHERE id = ?1", g),
	                    "<p>" U_FFFD U_FFFD U_FFFD U_FFFD "</p>");
	const char *d = text1(f,
	                      "SELECT detail FROM audit WHERE action = 'outbox.failed' AND object ="
	                      " 'outbox:' || ?1",
	                      g);
	assert_non_null(d);
	assert_contains(d, U_FFFD);
	/* a plain delivery clears last_error (p is not due before NOW + 40) */
	sql(f, "UPDATE outbox SET state = 'pending', next_attempt_at = 0 WHERE id = %lld", g);
	assert_int_equal(claim(f, "run", ids), 1);
	assert_int_equal(ids[0], g);
	struct outbox_result dr = {.state = OB_DELIVERED,
	                           .status = 200,
	                           .message = "HTTP 200 SUCCESS",
	                           .reply = "{\"status\":\"SUCCESS\"}",
	                           .next_attempt_at = NOW};
	assert_true(outbox_record(&f->t.db, g, "run", NOW, &dr));
	assert_string_equal(ob_state(f, g), "delivered");
	assert_null(text1(f, "SELECT last_error FROM outbox WHERE id = ?1", g));
}

/* ---- the configuration: token_file ---- */

/* Load a [sync] file whose token_file holds `content` (len bytes); true when accepted
 * (the token in *cfg), else the message in err. */
static bool load_token_file(const char *content, size_t len, struct sync_config *cfg, char *err,
                            size_t errlen, char *tokpath, size_t tokpathlen)
{
	char dir[] = "/tmp/tb-sync-cfg-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char ini[128];
	snprintf(ini, sizeof(ini), "%s/sync.ini", dir);
	snprintf(tokpath, tokpathlen, "%s/secret-token", dir);
	FILE *f = fopen(tokpath, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, len, f), len);
	fclose(f);
	f = fopen(ini, "w");
	assert_non_null(f);
	fprintf(f, "[sync]\nbase_url = http://127.0.0.1:9\ntoken_file = secret-token\n");
	fclose(f);
	bool ok = sync_config_load(cfg, ini, err, errlen);
	unlink(tokpath);
	unlink(ini);
	rmdir(dir);
	return ok;
}

/* token_file: the first line without the blanks around it; a line longer than the token
 * may be is an error naming the file (not silently cut); empty or control characters:
 * errors; the token never appears in a message. */
static void test_token_file(void **state)
{
	(void)state;
	static struct sync_config cfg;
	char err[1024], path[128];
	const char *t = "  eyJ.abc-DEF_123 \t\r\nsecond line\n";
	assert_true(load_token_file(t, strlen(t), &cfg, err, sizeof(err), path, sizeof(path)));
	assert_string_equal(cfg.token, "eyJ.abc-DEF_123");
	assert_true(load_token_file("tok", 3, &cfg, err, sizeof(err), path, sizeof(path)));
	assert_string_equal(cfg.token, "tok");
	/* the longest token (4095 characters) with blanks around it */
	static char big[8192];
	memset(big, 'A', sizeof(big));
	memcpy(big, "\t", 1);
	memcpy(big + 1 + SYNC_TOKEN_MAX - 1, "   \n", 4);
	assert_true(
	    load_token_file(big, SYNC_TOKEN_MAX + 4, &cfg, err, sizeof(err), path, sizeof(path)));
	assert_int_equal(strlen(cfg.token), SYNC_TOKEN_MAX - 1);
	/* one character more, with or without a line end, and a very long line */
	static const size_t lens[] = {SYNC_TOKEN_MAX, SYNC_TOKEN_MAX + 300, sizeof(big)};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		memset(big, 'B', sizeof(big));
		for (int nl = 0; nl < 2; nl++) {
			size_t len = lens[i] < sizeof(big) ? lens[i] : sizeof(big) - 1;
			big[len] = '\n';
			if (load_token_file(big, len + (size_t)nl, &cfg, err, sizeof(err), path,
			                    sizeof(path)))
				fail_msg("a token line of %zu characters was accepted (cut?)", len);
			assert_contains(err, path);
			assert_contains(err, "longer");
			assert_null(strstr(err, "BBBBBBBB"));
		}
	}
	/* empty, blank, control characters */
	assert_false(load_token_file("", 0, &cfg, err, sizeof(err), path, sizeof(path)));
	assert_contains(err, "empty");
	assert_false(load_token_file(" \t\n", 3, &cfg, err, sizeof(err), path, sizeof(path)));
	assert_contains(err, "empty");
	assert_false(
	    load_token_file("xyz\x01qwv\n", 8, &cfg, err, sizeof(err), path, sizeof(path)));
	assert_contains(err, "control");
	assert_null(strstr(err, "qwv"));
	for (const char *p = err; *p; p++)
		assert_true((unsigned char)*p < 0x80); /* English */
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
	    cmocka_unit_test(test_classify_pause),
	    cmocka_unit_test(test_classify_redirect),
	    cmocka_unit_test(test_classify_409_in_progress),
	    cmocka_unit_test(test_classify_truncated),
	    cmocka_unit_test(test_classify_warning),
	    cmocka_unit_test(test_classify_invalid_utf8),
	    cmocka_unit_test(test_utf8_copy),
	    cmocka_unit_test_setup_teardown(test_payload_staff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload_basic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_payload_facilities, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_supersede_on_claim, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_versions_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_record_superseded_meanwhile, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_retry_refuses_old_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbox_record_outcomes, setup, teardown),
	    cmocka_unit_test(test_token_file),
	};
	/* libcurl first: the configuration's URLs are parsed with it */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}

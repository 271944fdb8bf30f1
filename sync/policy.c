/* policy.c — what tianbao-sync decides from an answer: delivered, retry when, failed; pure. */
#include "policy.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h" /* outbox_utf8_copy */

/* Cut a string that may end inside a UTF-8 sequence back to the last whole character. */
static void sync_utf8_end(char *s)
{
	size_t n = strlen(s), i = n;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if (n - (i - 1) < need)
		s[i - 1] = '\0';
}

/* Control characters (C0 and DEL) become spaces. */
static void sync_blank_controls(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

/* Make a message in a buffer of `size` bytes one line of valid UTF-8: control
 * characters become spaces, a character cut by snprintf at the end is dropped, any
 * other invalid sequence becomes U+FFFD (what no longer fits is cut at a character
 * boundary). */
static void sync_oneline(char *s, size_t size)
{
	if (!size)
		return;
	sync_blank_controls(s);
	sync_utf8_end(s);
	size_t n = strlen(s);
	char *tmp = malloc(3 * n + 1);
	if (!tmp) {
		for (char *p = s; *p; p++) /* no memory: plain ASCII then */
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		return;
	}
	size_t m = outbox_utf8_copy(tmp, 3 * n + 1, s, n);
	outbox_utf8_copy(s, size, tmp, m);
	free(tmp);
}

/* Up to `max` bytes of s[0..len) (NULL: none) as one line of valid UTF-8 into out,
 * cut at a character boundary. */
static void sync_line(char *out, size_t outlen, const char *s, size_t len, size_t max)
{
	if (!outlen)
		return;
	outbox_utf8_copy(out, max + 1 < outlen ? max + 1 : outlen, s, s ? len : 0);
	sync_blank_controls(out);
}

/* The import summary of a parsed answer: itself, or DHIS2's {"response": {...}}. */
static json_t *sync_summary(json_t *j)
{
	json_t *r = json_object_get(j, "response");
	return json_is_object(r) ? r : j;
}

/* Is this recognisably an import summary (not just any JSON with a status)? It has a
 * conflicts list, an import count, or says it is one (DHIS2's responseType). */
static bool sync_is_summary(json_t *summary)
{
	const char *type = json_string_value(json_object_get(summary, "responseType"));
	return json_is_object(summary) &&
	       (json_is_array(json_object_get(summary, "conflicts")) ||
	        json_is_object(json_object_get(summary, "importCount")) ||
	        (type && strcmp(type, "ImportSummary") == 0));
}

/* The summary's conflicts as "object: value; ..." into message (or its description,
 * or `fallback`). */
static void sync_conflicts(json_t *summary, char *message, size_t msglen, const char *fallback)
{
	json_t *conflicts = json_object_get(summary, "conflicts");
	size_t used = 0, i;
	json_t *c;
	message[0] = '\0';
	json_array_foreach(conflicts, i, c)
	{
		const char *obj = json_string_value(json_object_get(c, "object"));
		const char *val = json_string_value(json_object_get(c, "value"));
		int n = snprintf(message + used, msglen - used, "%s%s: %s", used ? "; " : "",
		                 obj ? obj : "?", val ? val : "?");
		if (n < 0 || (size_t)n >= msglen - used)
			break;
		used += (size_t)n;
	}
	if (!used) {
		const char *d = json_string_value(json_object_get(summary, "description"));
		snprintf(message, msglen, "%s", d ? d : fallback);
	}
}

/* Why an endpoint or credential answer pauses delivery. */
static const char *sync_pause_reason(long st)
{
	switch (st) {
	case 401:
		return "the platform refused the credentials (is the token right?)";
	case 403:
		return "the platform refused access (token, client certificate or its rights)";
	case 404:
		return "no such endpoint (is base_url right?)";
	default:
		return "the proxy asks for authentication (is the proxy setting right?)";
	}
}

/* Classify an answer. */
enum sync_outcome sync_classify(const struct sync_answer *ans, char *message, size_t msglen)
{
	char excerpt[200], c[400];
	if (!msglen)
		return SO_RETRY;
	if (ans->transport_error) {
		snprintf(message, msglen, "no answer: %s",
		         ans->transport_message ? ans->transport_message : "transport error");
		sync_oneline(message, msglen);
		return ans->permanent ? SO_FAILED : SO_RETRY;
	}
	long st = ans->status;
	sync_line(excerpt, sizeof(excerpt), ans->body, ans->body ? ans->body_len : 0, 160);
	const char *sep = *excerpt ? ": " : "";
	json_t *j = ans->body ? json_loadb(ans->body, ans->body_len, 0, NULL) : NULL;
	/* DHIS2 answers an import summary, sometimes wrapped as {"response": {...}} */
	json_t *summary = j ? sync_summary(j) : NULL;
	enum sync_outcome o;
	if (st >= 300 && st <= 399) {
		/* never followed: a POST is not replayed to wherever a server points */
		char where[300];
		sync_line(where, sizeof(where), ans->location,
		          ans->location ? strlen(ans->location) : 0, 256);
		snprintf(message, msglen,
		         "HTTP %ld redirect to %s, not followed (will retry; is base_url right?)",
		         st, *where ? where : "(no Location)");
		o = SO_RETRY;
	} else if (st == 401 || st == 403 || st == 404 || st == 407) {
		snprintf(message, msglen, "HTTP %ld: %s, delivery paused%s%s", st,
		         sync_pause_reason(st), sep, excerpt);
		o = SO_PAUSE;
	} else if (st == 408 || st == 429 || (st >= 500 && st <= 599)) {
		snprintf(message, msglen, "HTTP %ld (will retry)%s%s", st, sep, excerpt);
		o = SO_RETRY;
	} else if ((st == 409 || st == 425) && !sync_is_summary(summary)) {
		/* the Idempotency-Key draft: a request with this key is still being processed */
		snprintf(message, msglen, "HTTP %ld: %s (will retry)%s%s", st,
		         st == 409 ? "a request with this Idempotency-Key is still being processed"
		                   : "the platform asks to send again later",
		         sep, excerpt);
		o = SO_RETRY;
	} else if (st < 200 || st >= 300) {
		if (summary && json_object_get(summary, "conflicts")) {
			sync_conflicts(summary, c, sizeof(c), "the import summary says ERROR");
			snprintf(message, msglen, "HTTP %ld: %s", st, c);
		} else {
			snprintf(message, msglen, "HTTP %ld%s%s", st, sep, excerpt);
		}
		o = SO_FAILED;
	} else if (ans->truncated) {
		snprintf(
		    message, msglen,
		    "HTTP %ld with a reply longer than the 1 MiB kept: the import summary cannot "
		    "be read (will retry)",
		    st);
		o = SO_RETRY;
	} else {
		const char *status = json_string_value(json_object_get(summary, "status"));
		if (!status) {
			snprintf(message, msglen,
			         "HTTP %ld without an import summary (will retry)%s%s", st, sep,
			         excerpt);
			o = SO_RETRY;
		} else if (strcmp(status, "SUCCESS") == 0 || strcmp(status, "OK") == 0) {
			snprintf(message, msglen, "HTTP %ld %s", st, status);
			o = SO_DELIVERED;
		} else if (strcmp(status, "WARNING") == 0) {
			sync_conflicts(summary, c, sizeof(c), "the import summary says WARNING");
			snprintf(message, msglen, "HTTP %ld WARNING, values ignored: %s", st, c);
			o = SO_WARNING;
		} else {
			sync_conflicts(summary, c, sizeof(c), "the import summary says ERROR");
			snprintf(message, msglen, "HTTP %ld, import %s: %s", st, status, c);
			o = SO_FAILED;
		}
	}
	json_decref(j);
	sync_oneline(message, msglen);
	return o;
}

/* Seconds to wait from a Retry-After header. */
long long sync_retry_after(const char *value, long long now)
{
	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value >= '0' && *value <= '9') {
		char *end;
		long long v = strtoll(value, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		return *end || v < 0 ? -1 : v;
	}
	time_t t = curl_getdate(value, NULL);
	if (t == (time_t)-1)
		return -1;
	return (long long)t > now ? (long long)t - now : 0;
}

/* The next delay: full jitter, at least the server's Retry-After. */
long long sync_backoff(int attempts, long long base, long long cap, double u, long long retry_after)
{
	if (attempts < 1)
		attempts = 1;
	long long ceiling = base;
	for (int i = 1; i < attempts && ceiling < cap; i++)
		ceiling *= 2;
	if (ceiling > cap)
		ceiling = cap;
	if (u < 0)
		u = 0;
	if (u >= 1)
		u = 0.999999;
	long long d = (long long)(u * (double)ceiling);
	if (retry_after > SYNC_RETRY_AFTER_MAX)
		retry_after = SYNC_RETRY_AFTER_MAX;
	if (retry_after > d)
		d = retry_after;
	return d < 1 ? 1 : d;
}

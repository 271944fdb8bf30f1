/* policy.c — what tianbao-sync decides from an answer: delivered, retry when, failed; pure. */
#include "policy.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Make a message one line: control characters become spaces, the end a whole character. */
static void sync_oneline(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	sync_utf8_end(s);
}

/* Copy up to `max` bytes of s into out (cut at a character boundary). */
static void sync_line(char *out, size_t outlen, const char *s, size_t max)
{
	size_t j = 0;
	for (size_t i = 0; s && s[i] && i < max && j + 1 < outlen; i++)
		out[j++] = s[i];
	if (outlen) {
		out[j] = '\0';
		sync_oneline(out);
	}
}

/* The import summary of a parsed answer: itself, or DHIS2's {"response": {...}}. */
static json_t *sync_summary(json_t *j)
{
	json_t *r = json_object_get(j, "response");
	return json_is_object(r) ? r : j;
}

/* The summary's conflicts as "object: value; ..." into message (or the description). */
static void sync_conflicts(json_t *summary, char *message, size_t msglen)
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
		snprintf(message, msglen, "%s", d ? d : "the import summary says ERROR");
	}
}

/* Classify an answer. */
enum sync_outcome sync_classify(const struct sync_answer *ans, char *message, size_t msglen)
{
	char excerpt[200];
	if (ans->transport_error) {
		snprintf(message, msglen, "no answer: %s",
		         ans->transport_message ? ans->transport_message : "transport error");
		sync_oneline(message);
		return ans->permanent ? SO_FAILED : SO_RETRY;
	}
	long st = ans->status;
	sync_line(excerpt, sizeof(excerpt), ans->body, 160);
	if (st == 408 || st == 429 || (st >= 500 && st <= 599)) {
		snprintf(message, msglen, "HTTP %ld (will retry)%s%s", st, *excerpt ? ": " : "",
		         excerpt);
		sync_oneline(message);
		return SO_RETRY;
	}
	if (st < 200 || st >= 300) {
		json_t *j = ans->body ? json_loadb(ans->body, ans->body_len, 0, NULL) : NULL;
		if (j && json_object_get(sync_summary(j), "conflicts")) {
			char c[400];
			sync_conflicts(sync_summary(j), c, sizeof(c));
			snprintf(message, msglen, "HTTP %ld: %s", st, c);
		} else {
			snprintf(message, msglen, "HTTP %ld%s%s", st, *excerpt ? ": " : "",
			         excerpt);
		}
		json_decref(j);
		sync_oneline(message);
		return SO_FAILED;
	}
	json_t *j = ans->body ? json_loadb(ans->body, ans->body_len, 0, NULL) : NULL;
	/* DHIS2 answers an import summary, sometimes wrapped as {"response": {...}} */
	json_t *summary = j ? sync_summary(j) : NULL;
	const char *status = json_string_value(json_object_get(summary, "status"));
	enum sync_outcome o;
	if (!status) {
		snprintf(message, msglen, "HTTP %ld without an import summary (will retry)%s%s", st,
		         *excerpt ? ": " : "", excerpt);
		o = SO_RETRY;
	} else if (strcmp(status, "SUCCESS") == 0 || strcmp(status, "OK") == 0 ||
	           strcmp(status, "WARNING") == 0) {
		snprintf(message, msglen, "HTTP %ld %s", st, status);
		o = SO_DELIVERED;
	} else {
		char c[400];
		sync_conflicts(summary, c, sizeof(c));
		snprintf(message, msglen, "HTTP %ld, import %s: %s", st, status, c);
		o = SO_FAILED;
	}
	json_decref(j);
	sync_oneline(message);
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

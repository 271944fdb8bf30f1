/* policy.h — what tianbao-sync decides from an answer: delivered, retry when, failed; pure. */
#ifndef TB_SYNC_POLICY_H
#define TB_SYNC_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#define SYNC_RETRY_AFTER_MAX 86400 /* the longest Retry-After honoured, seconds */

/* What one attempt came to (docs/upstream.md has the table). */
enum sync_outcome {
	SO_DELIVERED, /* 2xx with an import summary of status SUCCESS or OK */
	SO_WARNING,   /* delivered, but the summary says WARNING: some values were ignored
	                 (the message names them) */
	SO_RETRY,     /* no answer, a redirect (never followed), 408, 429, 5xx, a 409 or 425
	                 that is not an import summary, or a 2xx without a readable (or with a
	                 truncated) summary */
	SO_PAUSE,     /* 401, 403, 404, 407: the endpoint, the token or the proxy is wrong, not
	                 the submission; stop the pass and try again later */
	SO_FAILED,    /* another 4xx (a 409 with an import summary: a data conflict), or an
	                 ERROR summary */
};

/* The answer of one attempt, as the client saw it. */
struct sync_answer {
	bool transport_error; /* no HTTP answer at all (connect, TLS, timeout, reset) */
	const char *transport_message;
	bool permanent;   /* a transport error that retrying cannot cure (a redirect to
	                     another scheme, too many redirects) */
	long status;      /* HTTP status, 0 without an answer */
	const char *body; /* the reply body (NUL-terminated), or NULL */
	size_t body_len;
	bool truncated;          /* the body was longer than the client keeps: cut */
	const char *retry_after; /* the Retry-After header, or NULL */
	const char *location;    /* where a 3xx answer points, or NULL */
};

/* Classify an answer; *message gets a one-line English summary of valid UTF-8
 * for the admin page (in the caller's buffer of msglen bytes, cut at a
 * character boundary, invalid bytes of the body shown as U+FFFD): the
 * transport error, the summary's conflicts ("pri_students: value out of range;
 * ..."), or the status and the start of the body. */
enum sync_outcome sync_classify(const struct sync_answer *ans, char *message, size_t msglen);

/* Seconds a Retry-After header asks to wait at `now`: delta-seconds ("120") or
 * an HTTP date ("Wed, 21 Oct 2026 07:28:00 GMT"; a date in the past is 0).
 * -1 when absent or unreadable. */
long long sync_retry_after(const char *value, long long now);

/* The delay before the next attempt after `attempts` (>= 1) failed ones: full
 * jitter, u * min(cap, base * 2^(attempts - 1)) for the random number u in
 * [0, 1); a Retry-After of `retry_after` seconds (-1: none) is the least delay
 * (a server's explicit wish wins over the cap, up to SYNC_RETRY_AFTER_MAX).
 * Never below 1 second. */
long long sync_backoff(int attempts, long long base, long long cap, double u,
                       long long retry_after);

#endif

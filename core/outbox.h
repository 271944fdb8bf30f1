/* outbox.h — approved submissions waiting for, or done with, upstream delivery: leases for the
 * sync job, outcomes with audit rows, and the lists and retries of the web pages. */
#ifndef TB_OUTBOX_H
#define TB_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"

enum outbox_state { OB_PENDING, OB_DELIVERED, OB_FAILED, OB_DEAD, OB_SUPERSEDED };

/* "pending", "delivered", "failed", "dead", "superseded" and their Chinese names
 * (等待发送, 已送达, 失败, 已搁置, 已被新版本取代). A row is superseded when a newer
 * version of its submission is queued before it was delivered: it is never sent again
 * (it would overwrite the newer data on the platform). */
const char *outbox_state_code(enum outbox_state s);
const char *outbox_state_name(enum outbox_state s);
enum outbox_state outbox_state_parse(const char *code);

/* One row (strings in the reader's arena). */
struct outbox_row {
	long long id, submission_id, version;
	const char *idem_key;
	const char *payload; /* only from outbox_claim */
	enum outbox_state state;
	int attempts;
	long long next_attempt_at, created_at, delivered_at;
	long last_status;
	const char *last_error; /* the last attempt's message; for a delivered row the
	                           ignored values of a WARNING import summary, or NULL */
	const char *reply;
	const char *school_code, *school_name, *county_name, *period_code, *form_code, *form_name;
};

/* ---- the sync job ---- */

/* Lease up to `max` due rows to `owner` until now + lease_s, in one write
 * transaction; returns them with their payloads. First every undelivered row
 * behind a newer version of its submission is superseded (outbox_supersede).
 * A row is due when it is pending, next_attempt_at <= now, not leased by anyone
 * else, no newer version of its submission exists and no older version is
 * still leased (being sent by another run: the newer one waits for it, so the
 * platform sees the versions in order). Earliest due first. 0 or -1. */
int outbox_claim(struct db *db, struct arena *a, const char *owner, long long now, int lease_s,
                 size_t max, struct outbox_row **out, size_t *n);

/* Inside the caller's write transaction: mark superseded, each with an audit
 * row ("outbox.superseded", by `actor`), every pending, failed or dead row
 * that has a newer version of the same submission; only those of submission
 * `sub_id`, or of all submissions when sub_id is 0. Leases are kept, so that a
 * row being sent right now still holds back the newer one until its outcome
 * is recorded. Whoever queues a new version should call this in the same
 * transaction; outbox_claim calls it too. The number of rows, or -1. */
int outbox_supersede(struct db *db, long long sub_id, const char *actor);

/* Just before sending: extend the lease of a row still pending and still
 * leased to `owner`. 1 when renewed; 0 when it is not ours any more, or was
 * superseded (skip it; our lease on a superseded row is given back); -1 on a
 * database error. */
int outbox_renew(struct db *db, long long id, const char *owner, long long now, int lease_s);

/* The outcome of one attempt on a leased row. */
struct outbox_result {
	enum outbox_state state; /* DELIVERED, FAILED, DEAD, or PENDING to retry */
	long status;             /* HTTP status, 0 without an answer */
	const char *message;     /* one line for the admin */
	const char *reply;       /* the upstream's body (kept when delivered or failed) */
	long long next_attempt_at;
	bool warnings; /* DELIVERED, but the platform ignored some values: the message is
	                  kept in last_error */
	bool paused;   /* PENDING because the platform refused the endpoint or the
	                  credentials (401, 403, 404, 407): not the row's fault, so the
	                  attempt is not counted towards max_attempts */
};

/* Record an outcome in one write transaction with its audit row
 * ("outbox.delivered", "outbox.retry", "outbox.paused", "outbox.failed",
 * "outbox.dead"), count the attempt (unless paused) and release the lease;
 * only while the row is still leased to `owner`. The message and the reply
 * are stored as valid UTF-8 (outbox_utf8_copy). A row superseded while it was
 * being sent stays superseded, unless the platform says it was delivered.
 * False on a database error or a lost lease. */
bool outbox_record(struct db *db, long long id, const char *owner, long long now,
                   const struct outbox_result *r);

/* Give back the leases `owner` still holds (a clean stop, or a pass that
 * stopped early), so that another run can send those rows at once. */
bool outbox_release(struct db *db, const char *owner);

/* ---- the pages ---- */

/* Counts by state of the rows of schools at or below scope_id. Here and in the
 * lists below, an undelivered row that has a newer version counts as
 * superseded even before the sync job has marked it so. */
struct outbox_counts {
	int pending, delivered, failed, dead, superseded;
};
int outbox_count(struct db *db, long long scope_id, struct outbox_counts *c);

/* The newest `max` rows of schools at or below scope_id, optionally only of
 * one state (NULL: all). 0 or -1. */
int outbox_list(struct db *db, struct arena *a, long long scope_id, const char *state, size_t max,
                struct outbox_row **out, size_t *n);

/* The rows of one submission, newest first. 0 or -1. */
int outbox_of_submission(struct db *db, struct arena *a, long long sub_id, struct outbox_row **out,
                         size_t *n);

/* The admin asks for another try of a failed or dead row: pending, attempts
 * to 0, due now, with an audit row. Refused (false with a Chinese message) for
 * any other state and for a row that has a newer version of its submission
 * (sending it would overwrite the newer data on the platform). */
bool outbox_retry(struct db *db, long long id, const char *actor, long long now, char *err,
                  size_t errlen);

/* ---- text from the platform ---- */

/* Copy `inlen` bytes of `in` (NULL: none) into `out` as valid UTF-8: every
 * maximal invalid subsequence (a GBK page, a cut character, an overlong form, a
 * surrogate) and every NUL byte becomes U+FFFD. Stops before the first
 * character that would not fit in outlen - 1 bytes, so a cut never splits a
 * character; always NUL-terminates when outlen > 0. Returns the bytes written
 * (without the NUL). Allocates nothing. */
size_t outbox_utf8_copy(char *out, size_t outlen, const char *in, size_t inlen);

#endif

/* outbox.h — approved submissions waiting for, or done with, upstream delivery: leases for the
 * sync job, outcomes with audit rows, and the lists and retries of the web pages. */
#ifndef TB_OUTBOX_H
#define TB_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"

enum outbox_state { OB_PENDING, OB_DELIVERED, OB_FAILED, OB_DEAD };

/* "pending", "delivered", "failed", "dead" and their Chinese names
 * (等待发送, 已送达, 失败, 已搁置). */
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
	const char *last_error, *reply;
	const char *school_code, *school_name, *county_name, *period_code, *form_code, *form_name;
};

/* ---- the sync job ---- */

/* Lease up to `max` due rows (pending, next_attempt_at <= now, not leased by
 * anyone else, oldest first) to `owner` until now + lease_s, in one write
 * transaction; returns them with their payloads. 0 or -1. */
int outbox_claim(struct db *db, struct arena *a, const char *owner, long long now, int lease_s,
                 size_t max, struct outbox_row **out, size_t *n);

/* Just before sending: extend the lease of a row still pending and still
 * leased to `owner`. False when it is not ours any more (skip it). */
bool outbox_renew(struct db *db, long long id, const char *owner, long long now, int lease_s);

/* The outcome of one attempt on a leased row. */
struct outbox_result {
	enum outbox_state state; /* DELIVERED, FAILED, DEAD, or PENDING to retry */
	long status;             /* HTTP status, 0 without an answer */
	const char *message;     /* one line for the admin */
	const char *reply;       /* the upstream's body (kept when delivered or failed) */
	long long next_attempt_at;
};

/* Record an outcome in one write transaction with its audit row
 * ("outbox.delivered", "outbox.retry", "outbox.failed", "outbox.dead"), count
 * the attempt and release the lease; only while the row is still leased to
 * `owner`. False on a database error or a lost lease. */
bool outbox_record(struct db *db, long long id, const char *owner, long long now,
                   const struct outbox_result *r);

/* Give back the leases `owner` still holds (a clean stop), so that another
 * run can send those rows at once. */
bool outbox_release(struct db *db, const char *owner);

/* ---- the pages ---- */

/* Counts by state of the rows of schools at or below scope_id. */
struct outbox_counts {
	int pending, delivered, failed, dead;
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
 * to 0, due now, with an audit row. False with a Chinese message. */
bool outbox_retry(struct db *db, long long id, const char *actor, long long now, char *err,
                  size_t errlen);

#endif

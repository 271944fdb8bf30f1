/* outbox.c — approved submissions for upstream delivery: leases, outcomes, lists, retries. */
#include "outbox.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

static const char *const outbox_codes[] = {"pending", "delivered", "failed", "dead"};
static const char *const outbox_names[] = {"等待发送", "已送达", "失败", "已搁置"};

/* State code. */
const char *outbox_state_code(enum outbox_state s)
{
	return (unsigned)s <= OB_DEAD ? outbox_codes[s] : "pending";
}

/* State name. */
const char *outbox_state_name(enum outbox_state s)
{
	return (unsigned)s <= OB_DEAD ? outbox_names[s] : "";
}

/* Parse a state code (unknown: pending). */
enum outbox_state outbox_state_parse(const char *code)
{
	for (int s = OB_PENDING; code && s <= OB_DEAD; s++)
		if (strcmp(code, outbox_codes[s]) == 0)
			return (enum outbox_state)s;
	return OB_PENDING;
}

/* Column text or NULL. */
static const char *outbox_text(struct arena *a, sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL
	                                                   : arena_strdup(a, db_text(st, col));
}

/* Lease due rows. */
int outbox_claim(struct db *db, struct arena *a, const char *owner, long long now, int lease_s,
                 size_t max, struct outbox_row **out, size_t *n)
{
	*n = 0;
	*out = arena_alloc(a, (max ? max : 1) * sizeof(**out));
	if (!db_begin_write(db))
		return -1;
	sqlite3_stmt *st =
	    db_prep(db, "SELECT id, submission_id, version, idem_key, payload, attempts"
	                " FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1"
	                " AND (lease_until IS NULL OR lease_until < ?1)"
	                " ORDER BY next_attempt_at, id LIMIT ?2");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, (long long)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		struct outbox_row *r = &(*out)[(*n)++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->submission_id = sqlite3_column_int64(st, 1);
		r->version = sqlite3_column_int64(st, 2);
		r->idem_key = arena_strdup(a, db_text(st, 3));
		r->payload = arena_strdup(a, db_text(st, 4));
		r->attempts = sqlite3_column_int(st, 5);
	}
	db_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		goto fail;
	for (size_t i = 0; i < *n; i++) {
		st = db_prep(db,
		             "UPDATE outbox SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1");
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, (*out)[i].id);
		db_bind_text(st, 2, owner, -1);
		sqlite3_bind_int64(st, 3, now + lease_s);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_DONE)
			goto fail;
	}
	if (db_commit(db))
		return 0;
fail:
	log_error("outbox: claiming rows failed: %s", sqlite3_errmsg(db->h));
	db_rollback(db);
	*n = 0;
	return -1;
}

/* Extend a lease we still hold. */
bool outbox_renew(struct db *db, long long id, const char *owner, long long now, int lease_s)
{
	sqlite3_stmt *st = db_prep(db, "UPDATE outbox SET lease_until = ?3 WHERE id = ?1"
	                               " AND lease_owner = ?2 AND state = 'pending'");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner, -1);
	sqlite3_bind_int64(st, 3, now + lease_s);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE && sqlite3_changes(db->h) == 1;
}

/* Record an outcome. */
bool outbox_record(struct db *db, long long id, const char *owner, long long now,
                   const struct outbox_result *r)
{
	static const char *const actions[] = {"outbox.retry", "outbox.delivered", "outbox.failed",
	                                      "outbox.dead"};
	if (!db_begin_write(db))
		return false;
	sqlite3_stmt *st = db_prep(
	    db, "UPDATE outbox SET state = ?3, attempts = attempts + 1, last_status = ?4,"
	        " last_error = ?5, reply = COALESCE(?6, reply), next_attempt_at = ?7,"
	        " delivered_at = CASE WHEN ?3 = 'delivered' THEN ?8 ELSE delivered_at END,"
	        " lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner, -1);
	db_bind_text(st, 3, outbox_state_code(r->state), -1);
	sqlite3_bind_int64(st, 4, r->status);
	db_bind_text(st, 5, r->state == OB_DELIVERED ? NULL : r->message, -1);
	db_bind_text(st, 6, r->reply, -1);
	sqlite3_bind_int64(st, 7, r->next_attempt_at);
	sqlite3_bind_int64(st, 8, now);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1)
		goto fail;
	char object[40];
	snprintf(object, sizeof(object), "outbox:%lld", id);
	if (!audit_log(db, "sync", actions[r->state], object, r->message) || !db_commit(db))
		goto fail;
	return true;
fail:
	log_error("outbox %lld: recording the outcome failed: %s", id, sqlite3_errmsg(db->h));
	db_rollback(db);
	return false;
}

/* Give back the leases of a run that stops. */
bool outbox_release(struct db *db, const char *owner)
{
	sqlite3_stmt *st = db_prep(db, "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
	                               " WHERE lease_owner = ?1 AND state = 'pending'");
	if (!st)
		return false;
	db_bind_text(st, 1, owner, -1);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE;
}

/* Counts by state in a scope. */
int outbox_count(struct db *db, long long scope_id, struct outbox_counts *c)
{
	memset(c, 0, sizeof(*c));
	sqlite3_stmt *st = db_prep(
	    db,
	    "SELECT x.state, count(*) FROM outbox x JOIN submission s ON s.id = x.submission_id"
	    " JOIN org_unit o ON o.id = s.school_id WHERE o.id = ?1 OR o.parent_id = ?1"
	    " OR o.parent_id IN (SELECT id FROM org_unit WHERE parent_id = ?1) GROUP BY x.state");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, scope_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int k = sqlite3_column_int(st, 1);
		switch (outbox_state_parse(db_text(st, 0))) {
		case OB_PENDING:
			c->pending = k;
			break;
		case OB_DELIVERED:
			c->delivered = k;
			break;
		case OB_FAILED:
			c->failed = k;
			break;
		case OB_DEAD:
			c->dead = k;
			break;
		}
	}
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Read listing rows (the columns of the list queries below). */
static int outbox_read(sqlite3_stmt *st, struct arena *a, size_t max, struct outbox_row **out,
                       size_t *n)
{
	struct outbox_row *list = arena_alloc(a, (max ? max : 1) * sizeof(*list));
	size_t k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < max) {
		struct outbox_row *r = &list[k++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(st, 0);
		r->submission_id = sqlite3_column_int64(st, 1);
		r->version = sqlite3_column_int64(st, 2);
		r->idem_key = arena_strdup(a, db_text(st, 3));
		r->state = outbox_state_parse(db_text(st, 4));
		r->attempts = sqlite3_column_int(st, 5);
		r->next_attempt_at = sqlite3_column_int64(st, 6);
		r->created_at = sqlite3_column_int64(st, 7);
		r->delivered_at = sqlite3_column_int64(st, 8);
		r->last_status = (long)sqlite3_column_int64(st, 9);
		r->last_error = outbox_text(a, st, 10);
		r->reply = outbox_text(a, st, 11);
		r->school_code = outbox_text(a, st, 12);
		r->school_name = outbox_text(a, st, 13);
		r->county_name = outbox_text(a, st, 14);
		r->period_code = outbox_text(a, st, 15);
		r->form_code = outbox_text(a, st, 16);
		r->form_name = outbox_text(a, st, 17);
	}
	db_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -1;
	*out = list;
	*n = k;
	return 0;
}

/* The newest rows of a scope. */
int outbox_list(struct db *db, struct arena *a, long long scope_id, const char *state, size_t max,
                struct outbox_row **out, size_t *n)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT x.id, x.submission_id, x.version, x.idem_key, x.state, x.attempts,"
	        " x.next_attempt_at, x.created_at, x.delivered_at, x.last_status, x.last_error,"
	        " x.reply, o.code, o.name, c.name, p.code, s.form_code, f.name"
	        " FROM outbox x JOIN submission s ON s.id = x.submission_id"
	        " JOIN org_unit o ON o.id = s.school_id JOIN org_unit c ON c.id = o.parent_id"
	        " JOIN period p ON p.id = s.period_id JOIN form f ON f.code = s.form_code"
	        " WHERE (o.id = ?1 OR o.parent_id = ?1 OR o.parent_id IN"
	        " (SELECT id FROM org_unit WHERE parent_id = ?1)) AND (?2 IS NULL OR x.state = ?2)"
	        " ORDER BY x.id DESC LIMIT ?3");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, scope_id);
	db_bind_text(st, 2, state, -1);
	sqlite3_bind_int64(st, 3, (long long)max);
	return outbox_read(st, a, max, out, n);
}

/* The rows of one submission. */
int outbox_of_submission(struct db *db, struct arena *a, long long sub_id, struct outbox_row **out,
                         size_t *n)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT x.id, x.submission_id, x.version, x.idem_key, x.state, x.attempts,"
	        " x.next_attempt_at, x.created_at, x.delivered_at, x.last_status, x.last_error,"
	        " x.reply, NULL, NULL, NULL, NULL, NULL, NULL FROM outbox x"
	        " WHERE x.submission_id = ?1 ORDER BY x.id DESC LIMIT 20");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sub_id);
	return outbox_read(st, a, 20, out, n);
}

/* Another try, asked for by the admin. */
bool outbox_retry(struct db *db, long long id, const char *actor, long long now, char *err,
                  size_t errlen)
{
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统暂时繁忙，请稍后再试。");
		return false;
	}
	sqlite3_stmt *st =
	    db_prep(db, "UPDATE outbox SET state = 'pending', attempts = 0,"
	                " next_attempt_at = ?2, lease_owner = NULL, lease_until = NULL"
	                " WHERE id = ?1 AND state IN ('failed', 'dead')");
	if (!st)
		goto dberr;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto dberr;
	if (sqlite3_changes(db->h) != 1) {
		snprintf(err, errlen, "只有“失败”或“已搁置”的记录可以重新发送。");
		db_rollback(db);
		return false;
	}
	char object[40];
	snprintf(object, sizeof(object), "outbox:%lld", id);
	if (!audit_log(db, actor, "outbox.retry_requested", object, NULL) || !db_commit(db))
		goto dberr;
	return true;
dberr:
	snprintf(err, errlen, "系统暂时繁忙，请稍后再试。");
	db_rollback(db);
	return false;
}

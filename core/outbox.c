/* outbox.c — approved submissions for upstream delivery: leases, outcomes, lists, retries. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"

#define OUTBOX_MESSAGE_MAX 2048 /* bytes of a message stored */

static const char *const outbox_codes[] = {"pending", "delivered", "failed", "dead", "superseded"};
static const char *const outbox_names[] = {"等待发送", "已送达", "失败", "已搁置",
                                           "已被新版本取代"};

/* State code. */
const char *outbox_state_code(enum outbox_state s)
{
	return (unsigned)s <= OB_SUPERSEDED ? outbox_codes[s] : "pending";
}

/* State name. */
const char *outbox_state_name(enum outbox_state s)
{
	return (unsigned)s <= OB_SUPERSEDED ? outbox_names[s] : "";
}

/* Parse a state code (unknown: pending). */
enum outbox_state outbox_state_parse(const char *code)
{
	for (int s = OB_PENDING; code && s <= OB_SUPERSEDED; s++)
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

/* Supersede the undelivered rows behind a newer version: the audit rows first (written
 * from the same condition, in the same transaction), then the rows. */
int outbox_supersede(struct db *db, long long sub_id, const char *actor)
{
	sqlite3_stmt *st = db_prep(
	    db,
	    "INSERT INTO audit(actor, action, object, detail)"
	    " SELECT ?2, 'outbox.superseded', 'outbox:' || x.id, 'version ' || x.version ||"
	    " ' superseded by version ' || (SELECT max(y.version) FROM outbox y"
	    " WHERE y.submission_id = x.submission_id) || ' (' || x.idem_key || ')'"
	    " FROM outbox x WHERE x.state IN ('pending', 'failed', 'dead')"
	    " AND (?1 = 0 OR x.submission_id = ?1) AND EXISTS (SELECT 1 FROM outbox y"
	    " WHERE y.submission_id = x.submission_id AND y.version > x.version) ORDER BY x.id");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sub_id);
	db_bind_text(st, 2, actor ? actor : "system", -1);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	int audited = sqlite3_changes(db->h);
	if (audited == 0)
		return 0;
	st = db_prep(db, "UPDATE outbox SET state = 'superseded'"
	                 " WHERE state IN ('pending', 'failed', 'dead')"
	                 " AND (?1 = 0 OR submission_id = ?1) AND EXISTS (SELECT 1 FROM outbox y"
	                 " WHERE y.submission_id = outbox.submission_id"
	                 " AND y.version > outbox.version)");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sub_id);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != audited)
		return -1;
	return audited;
}

/* Lease due rows. */
int outbox_claim(struct db *db, struct arena *a, const char *owner, long long now, int lease_s,
                 size_t max, struct outbox_row **out, size_t *n)
{
	*n = 0;
	*out = arena_alloc(a, (max ? max : 1) * sizeof(**out));
	if (!db_begin_write(db))
		return -1;
	int superseded = outbox_supersede(db, 0, "sync");
	if (superseded < 0)
		goto fail;
	if (superseded > 0)
		log_info("outbox: %d row(s) superseded by a newer version of their submission",
		         superseded);
	/* a newer version waits while an older one is leased: it may be in flight */
	sqlite3_stmt *st = db_prep(
	    db, "SELECT x.id, x.submission_id, x.version, x.idem_key, x.payload, x.attempts"
	        " FROM outbox x WHERE x.state = 'pending' AND x.next_attempt_at <= ?1"
	        " AND (x.lease_until IS NULL OR x.lease_until < ?1)"
	        " AND NOT EXISTS (SELECT 1 FROM outbox y WHERE y.submission_id = x.submission_id"
	        " AND y.version > x.version)"
	        " AND NOT EXISTS (SELECT 1 FROM outbox y WHERE y.submission_id = x.submission_id"
	        " AND y.version < x.version AND y.lease_until >= ?1)"
	        " ORDER BY x.next_attempt_at, x.id LIMIT ?2");
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

/* Extend a lease we still hold; give back our lease on a row that is no longer pending. */
int outbox_renew(struct db *db, long long id, const char *owner, long long now, int lease_s)
{
	sqlite3_stmt *st = db_prep(db, "UPDATE outbox SET lease_until = ?3 WHERE id = ?1"
	                               " AND lease_owner = ?2 AND state = 'pending'");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner, -1);
	sqlite3_bind_int64(st, 3, now + lease_s);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("outbox %lld: renewing the lease failed: %s", id, sqlite3_errmsg(db->h));
		return -1;
	}
	if (sqlite3_changes(db->h) == 1)
		return 1;
	st = db_prep(db, "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
	                 " WHERE id = ?1 AND lease_owner = ?2 AND state <> 'pending'");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner, -1);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("outbox %lld: giving back the lease failed: %s", id,
		          sqlite3_errmsg(db->h));
		return -1;
	}
	return 0;
}

/* Record an outcome. */
bool outbox_record(struct db *db, long long id, const char *owner, long long now,
                   const struct outbox_result *r)
{
	static const char *const actions[] = {"outbox.retry", "outbox.delivered", "outbox.failed",
	                                      "outbox.dead", "outbox.superseded"};
	char message[OUTBOX_MESSAGE_MAX], detail[OUTBOX_MESSAGE_MAX + 80];
	char *reply = NULL;
	outbox_utf8_copy(message, sizeof(message), r->message, r->message ? strlen(r->message) : 0);
	if (r->reply) {
		size_t len = strlen(r->reply);
		reply = malloc(3 * len + 1); /* each invalid byte may become 3 */
		if (!reply) {
			log_error("outbox %lld: out of memory", id);
			return false;
		}
		outbox_utf8_copy(reply, 3 * len + 1, r->reply, len);
	}
	if (!db_begin_write(db)) {
		free(reply);
		return false;
	}
	/* the state now: a row superseded while it was being sent stays so, unless delivered */
	sqlite3_stmt *st =
	    db_prep(db, "SELECT state FROM outbox WHERE id = ?1 AND lease_owner = ?2");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner, -1);
	int rc = sqlite3_step(st);
	enum outbox_state now_state =
	    rc == SQLITE_ROW ? outbox_state_parse(db_text(st, 0)) : OB_PENDING;
	db_done(st);
	if (rc == SQLITE_DONE) {
		log_error("outbox %lld: no longer leased to %s: the outcome is not recorded", id,
		          owner);
		db_rollback(db);
		free(reply);
		return false;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	enum outbox_state to = r->state;
	if (now_state == OB_SUPERSEDED && to != OB_DELIVERED)
		to = OB_SUPERSEDED;
	st = db_prep(db,
	             "UPDATE outbox SET state = ?3, attempts = attempts + ?9, last_status = ?4,"
	             " last_error = ?5, reply = COALESCE(?6, reply), next_attempt_at = ?7,"
	             " delivered_at = CASE WHEN ?3 = 'delivered' THEN ?8 ELSE delivered_at END,"
	             " lease_owner = NULL, lease_until = NULL WHERE id = ?1 AND lease_owner = ?2");
	if (!st)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, owner, -1);
	db_bind_text(st, 3, outbox_state_code(to), -1);
	sqlite3_bind_int64(st, 4, r->status);
	db_bind_text(st, 5, r->state == OB_DELIVERED && !r->warnings ? NULL : message, -1);
	db_bind_text(st, 6, reply, -1);
	sqlite3_bind_int64(st, 7, r->next_attempt_at);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_int(st, 9, r->state == OB_PENDING && r->paused ? 0 : 1);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1)
		goto fail;
	char object[40];
	snprintf(object, sizeof(object), "outbox:%lld", id);
	const char *action = r->state == OB_PENDING && r->paused
	                         ? "outbox.paused"
	                         : actions[(unsigned)r->state <= OB_SUPERSEDED ? r->state : 0];
	snprintf(detail, sizeof(detail), "%s%s", message,
	         to == OB_SUPERSEDED ? " (superseded meanwhile: not sent again)" : "");
	if (!audit_log(db, "sync", action, object, detail) || !db_commit(db))
		goto fail;
	free(reply);
	return true;
fail:
	log_error("outbox %lld: recording the outcome failed: %s", id, sqlite3_errmsg(db->h));
	db_rollback(db);
	free(reply);
	return false;
}

/* Give back the leases of a run that stops. */
bool outbox_release(struct db *db, const char *owner)
{
	sqlite3_stmt *st = db_prep(db, "UPDATE outbox SET lease_owner = NULL, lease_until = NULL"
	                               " WHERE lease_owner = ?1");
	if (!st)
		return false;
	db_bind_text(st, 1, owner, -1);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE;
}

/* Counts by state in a scope (an undelivered row with a newer version as superseded). */
int outbox_count(struct db *db, long long scope_id, struct outbox_counts *c)
{
	memset(c, 0, sizeof(*c));
	sqlite3_stmt *st = db_prep(
	    db, "SELECT CASE WHEN x.state IN ('pending', 'failed', 'dead') AND EXISTS (SELECT 1"
	        " FROM outbox y WHERE y.submission_id = x.submission_id AND y.version > x.version)"
	        " THEN 'superseded' ELSE x.state END AS st, count(*)"
	        " FROM outbox x JOIN submission s ON s.id = x.submission_id"
	        " JOIN org_unit o ON o.id = s.school_id WHERE o.id = ?1 OR o.parent_id = ?1"
	        " OR o.parent_id IN (SELECT id FROM org_unit WHERE parent_id = ?1) GROUP BY st");
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
		case OB_SUPERSEDED:
			c->superseded = k;
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
	    db, "SELECT * FROM (SELECT x.id, x.submission_id, x.version, x.idem_key,"
	        " CASE WHEN x.state IN ('pending', 'failed', 'dead') AND EXISTS (SELECT 1"
	        " FROM outbox y WHERE y.submission_id = x.submission_id AND y.version > x.version)"
	        " THEN 'superseded' ELSE x.state END AS st, x.attempts,"
	        " x.next_attempt_at, x.created_at, x.delivered_at, x.last_status, x.last_error,"
	        " x.reply, o.code, o.name, c.name, p.code, s.form_code, f.name"
	        " FROM outbox x JOIN submission s ON s.id = x.submission_id"
	        " JOIN org_unit o ON o.id = s.school_id JOIN org_unit c ON c.id = o.parent_id"
	        " JOIN period p ON p.id = s.period_id JOIN form f ON f.code = s.form_code"
	        " WHERE o.id = ?1 OR o.parent_id = ?1 OR o.parent_id IN"
	        " (SELECT id FROM org_unit WHERE parent_id = ?1))"
	        " WHERE ?2 IS NULL OR st = ?2 ORDER BY id DESC LIMIT ?3");
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
	    db, "SELECT x.id, x.submission_id, x.version, x.idem_key,"
	        " CASE WHEN x.state IN ('pending', 'failed', 'dead') AND EXISTS (SELECT 1"
	        " FROM outbox y WHERE y.submission_id = x.submission_id AND y.version > x.version)"
	        " THEN 'superseded' ELSE x.state END, x.attempts,"
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
	    db_prep(db, "SELECT x.state, x.version, (SELECT max(y.version) FROM outbox y"
	                " WHERE y.submission_id = x.submission_id) FROM outbox x WHERE x.id = ?1");
	if (!st)
		goto dberr;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	enum outbox_state state = OB_PENDING;
	long long version = 0, newest = 0;
	if (rc == SQLITE_ROW) {
		state = outbox_state_parse(db_text(st, 0));
		version = sqlite3_column_int64(st, 1);
		newest = sqlite3_column_int64(st, 2);
	}
	db_done(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "没有找到这条上报记录。");
		db_rollback(db);
		return false;
	}
	if (rc != SQLITE_ROW)
		goto dberr;
	if (newest > version || state == OB_SUPERSEDED) {
		snprintf(
		    err, errlen,
		    "这是该报表的旧版本（第 %lld 版），已有更新的第 %lld 版等待上报或已经上报，"
		    "不能重新发送：否则会用旧数据覆盖省平台上的新数据。",
		    version, newest);
		db_rollback(db);
		return false;
	}
	if (state != OB_FAILED && state != OB_DEAD) {
		snprintf(err, errlen, "只有“失败”或“已搁置”的记录可以重新发送。");
		db_rollback(db);
		return false;
	}
	st = db_prep(db, "UPDATE outbox SET state = 'pending', attempts = 0,"
	                 " next_attempt_at = ?2, lease_owner = NULL, lease_until = NULL"
	                 " WHERE id = ?1 AND state IN ('failed', 'dead')");
	if (!st)
		goto dberr;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1)
		goto dberr;
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

/* The length of the valid UTF-8 character at in[0..len) (1 to 4), or 0 when the bytes
 * there do not start one; *bad gets the length of the maximal invalid subpart then
 * (what one U+FFFD replaces, as the WHATWG decoder counts it). */
static size_t outbox_utf8_char(const unsigned char *in, size_t len, size_t *bad)
{
	unsigned char c = in[0], lo = 0x80, hi = 0xBF;
	size_t need;
	*bad = 1;
	if (c >= 0x01 && c <= 0x7F)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
		hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
	} else
		return 0; /* NUL, a continuation byte, C0, C1, F5..FF */
	for (size_t k = 1; k <= need; k++) {
		if (k >= len || in[k] < lo || in[k] > hi) {
			*bad = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need + 1;
}

/* Copy as valid UTF-8, cut at a character boundary. */
size_t outbox_utf8_copy(char *out, size_t outlen, const char *in, size_t inlen)
{
	static const char replacement[] = "\xEF\xBF\xBD";
	size_t o = 0, i = 0;
	if (!outlen)
		return 0;
	while (in && i < inlen) {
		size_t bad, k = outbox_utf8_char((const unsigned char *)in + i, inlen - i, &bad);
		const char *src = k ? in + i : replacement;
		size_t n = k ? k : 3;
		if (o + n > outlen - 1)
			break;
		memcpy(out + o, src, n);
		o += n;
		i += k ? k : bad;
	}
	out[o] = '\0';
	return o;
}

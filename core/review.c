/* review.c — reviewers' decisions, their reasons and comments, and the outbox of final approvals.
 */
#include "review.h"

#include <stdio.h>
#include <string.h>

#include "dvs.h"
#include "log.h"
#include "orgunit.h"
#include "outbox.h"
#include "period.h"
#include "validate.h"

/* A reason or comment as kept: control characters other than newlines dropped,
 * surrounding white space (full-width too) trimmed; NULL when empty or longer
 * than `max` characters (*too_long is then set). */
static const char *review_clean(struct arena *a, const char *s, size_t max, bool *too_long)
{
	*too_long = false;
	if (!s)
		return NULL;
	size_t n = strlen(s), j = 0, chars = 0;
	char *d = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 0x20 && c != 0x7f) || c == '\n')
			d[j++] = (char)c;
	}
	d[j] = '\0';
	const char *t = validate_trim(a, d);
	for (const char *p = t; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	if (!*t)
		return NULL;
	if (chars > max) {
		*too_long = true;
		return NULL;
	}
	return t;
}

/* Write the review row and its comments; the new row's id, or 0. */
static long long review_insert(struct db *db, long long sub_id, const struct review_decision *d,
                               int level, const char *reason, const struct review_comment *c,
                               size_t nc)
{
	static const char *const actions[] = {
	    [WA_APPROVE] = "approve", [WA_RETURN] = "return", [WA_REOPEN] = "reopen"};
	sqlite3_stmt *st = db_prep(db, "INSERT INTO review(submission_id, version, action, level,"
	                               " reason, user_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, sub_id);
	sqlite3_bind_int64(st, 2, d->version);
	db_bind_text(st, 3, actions[d->action], -1);
	sqlite3_bind_int(st, 4, level);
	db_bind_text(st, 5, reason ? reason : "", -1);
	sqlite3_bind_int64(st, 6, d->actor->id);
	sqlite3_bind_int64(st, 7, d->now);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		return 0;
	long long id = sqlite3_last_insert_rowid(db->h);
	for (size_t k = 0; k < nc; k++) {
		st = db_prep(db, "INSERT INTO review_comment(review_id, field_code, text)"
		                 " VALUES (?1, ?2, ?3)");
		if (!st)
			return 0;
		sqlite3_bind_int64(st, 1, id);
		db_bind_text(st, 2, c[k].field, -1);
		db_bind_text(st, 3, c[k].text, -1);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_DONE)
			return 0;
	}
	return id;
}

/* Record a final approval for upstream delivery, with the payload as approved. */
static bool review_outbox(struct db *db, struct arena *a, const struct entry *e, int i,
                          long long now, const char *actor)
{
	const struct entry_sub *sub = &e->subs[i];
	char *payload = dvs_payload(a, e, i, now);
	if (!payload)
		return false;
	sqlite3_stmt *st =
	    db_prep(db, "INSERT INTO outbox(submission_id, version, idem_key, payload,"
	                " next_attempt_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, sub->id);
	sqlite3_bind_int64(st, 2, sub->version);
	db_bind_text(st, 3,
	             arena_printf(a, "%s-%s-%s-v%lld", e->school->code, e->period.code,
	                          sub->form_code, sub->version),
	             -1);
	db_bind_text(st, 4, payload, -1);
	sqlite3_bind_int64(st, 5, now);
	int rc = sqlite3_step(st);
	db_done(st);
	/* an older version not yet delivered must never reach the platform after this one */
	return rc == SQLITE_DONE && outbox_supersede(db, sub->id, actor) >= 0;
}

/* Check the reason and the comments; false with a message. */
static bool review_check_text(struct arena *a, const struct review_decision *d, const char **reason,
                              struct review_comment **comments, size_t *ncomments, char *err,
                              size_t errlen)
{
	bool too_long;
	*reason = review_clean(a, d->reason, REVIEW_REASON_MAX, &too_long);
	if (d->action != WA_APPROVE && !*reason) {
		bool reopen = d->action == WA_REOPEN;
		if (too_long)
			snprintf(err, errlen, "%s原因最多 %d 个字。",
			         reopen ? "重新打开的" : "退回", REVIEW_REASON_MAX);
		else
			snprintf(err, errlen, "%s",
			         reopen ? "请填写重新打开的原因：学校需要知道要修改什么。"
			                : "请填写退回原因：学校需要知道要修改什么。");
		return false;
	}
	if (d->ncomments > REVIEW_MAX_COMMENTS) {
		snprintf(err, errlen, "逐项意见太多（最多 %d 条）。", REVIEW_MAX_COMMENTS);
		return false;
	}
	struct review_comment *c = arena_alloc(a, (d->ncomments + 1) * sizeof(*c));
	size_t n = 0;
	for (size_t k = 0; d->action != WA_APPROVE && k < d->ncomments; k++) {
		const char *t = review_clean(a, d->comments[k].text, REVIEW_COMMENT_MAX, &too_long);
		if (too_long) {
			snprintf(err, errlen, "每条逐项意见最多 %d 个字。", REVIEW_COMMENT_MAX);
			return false;
		}
		size_t at = 0;
		while (at < n && strcmp(c[at].field, d->comments[k].field) != 0)
			at++;
		if (t) {
			c[at].field = d->comments[k].field;
			c[at].text = t;
			if (at == n)
				n++;
		}
	}
	*comments = c;
	*ncomments = n;
	return true;
}

/* Take a decision. */
enum wf_state review_decide(struct db *db, struct arena *a, const struct form_set *set,
                            const struct review_decision *d, bool *notfound, char *err,
                            size_t errlen)
{
	*notfound = false;
	const char *reason;
	struct review_comment *comments;
	size_t ncomments;
	if (!review_check_text(a, d, &reason, &comments, &ncomments, err, errlen))
		return WS_NONE;
	if (d->version < 0) {
		snprintf(err, errlen, "页面缺少报表的版本号，操作没有执行。请刷新页面后再操作。");
		return WS_NONE;
	}
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统暂时繁忙，操作没有执行，请稍后再试。");
		return WS_NONE;
	}
	enum wf_state to = WS_NONE;
	struct org_unit *school = arena_alloc(a, sizeof(*school));
	struct period p;
	struct entry e;
	int i = -1;
	if (ou_get_by_code(db, a, d->school_code, school) != 1 ||
	    strcmp(school->kind, "school") != 0 ||
	    !ou_in_scope(db, d->actor->org_unit_id, school->id) ||
	    period_get(db, a, d->period_code, &p) != 1 ||
	    entry_open(db, a, set, &p, school, &e) != 0 || (i = entry_form(&e, d->form_code)) < 0) {
		*notfound = true;
		snprintf(err, errlen, "没有找到该报表。");
		goto fail;
	}
	const struct entry_sub *sub = &e.subs[i];
	const struct form_def *form = form_find(set, d->form_code);
	for (size_t k = 0; k < ncomments; k++) {
		const struct form_field *f = form_field_find(set, comments[k].field);
		if (!f || form_field_form(set, f) != form ||
		    !form_field_applies(f, school->school_type, e.stages)) {
			snprintf(err, errlen, "逐项意见指向了本表没有的填报项。");
			goto fail;
		}
	}
	const char *why = "该报表还没有填写。";
	struct wf_move mv = {.id = sub->id,
	                     .from = sub->state,
	                     .version = d->version,
	                     .action = d->action,
	                     .role = wf_role_of(d->actor),
	                     .levels = d->levels,
	                     .actor = d->actor->login,
	                     .now = d->now,
	                     .reason = reason};
	if (sub->id)
		to = wf_apply(db, &mv, &why);
	if (to == WS_NONE) {
		snprintf(err, errlen, "%s", why);
		goto fail;
	}
	int level =
	    mv.role & (WR_CITY | WR_ADMIN) ? 2 : 1; /* who decided: the city or the county */
	if (!review_insert(db, sub->id, d, level, reason, comments, ncomments) ||
	    (to == WS_APPROVED && !review_outbox(db, a, &e, i, d->now, d->actor->login)))
		goto dberr;
	if (!db_commit(db)) {
		snprintf(err, errlen, "系统暂时繁忙，操作没有执行，请稍后再试。");
		return WS_NONE;
	}
	return to;
dberr:
	log_error("review of %s/%s/%s failed: %s", d->school_code, d->period_code, d->form_code,
	          sqlite3_errmsg(db->h));
	snprintf(err, errlen, "系统暂时繁忙，操作没有执行，请稍后再试。");
fail:
	db_rollback(db);
	return WS_NONE;
}

/* The last return or reopen of a submission. */
int review_last_return(struct db *db, struct arena *a, long long sub_id, struct review_return *out)
{
	memset(out, 0, sizeof(*out));
	sqlite3_stmt *st =
	    db_prep(db, "SELECT r.id, r.version, r.at, u.display_name, r.reason,"
	                " r.action FROM review r LEFT JOIN user u ON u.id = r.user_id"
	                " WHERE r.submission_id = ?1 AND r.action IN ('return', 'reopen')"
	                " ORDER BY r.id DESC LIMIT 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sub_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->version = sqlite3_column_int64(st, 1);
		out->at = sqlite3_column_int64(st, 2);
		out->who = arena_strdup(a, db_text(st, 3));
		out->reason = arena_strdup(a, db_text(st, 4));
		out->reopen = strcmp(db_text(st, 5), "reopen") == 0;
	}
	db_done(st);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	st = db_prep(db, "SELECT field_code, text FROM review_comment WHERE review_id = ?1"
	                 " ORDER BY field_code");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, out->id);
	out->comments = arena_alloc(a, REVIEW_MAX_COMMENTS * sizeof(*out->comments));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && out->ncomments < REVIEW_MAX_COMMENTS) {
		out->comments[out->ncomments].field = arena_strdup(a, db_text(st, 0));
		out->comments[out->ncomments++].text = arena_strdup(a, db_text(st, 1));
	}
	db_done(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 1 : -1;
}

/* The fields changed since a version, with their value then. */
int review_changes_since(struct db *db, struct arena *a, long long sub_id, long long version,
                         struct review_change **out, size_t *n)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT h.field_code, h.old_raw FROM value_history h"
	                " WHERE h.submission_id = ?1 AND h.version > ?2 AND h.id ="
	                " (SELECT min(x.id) FROM value_history x WHERE x.submission_id = ?1"
	                " AND x.field_code = h.field_code AND x.version > ?2) ORDER BY h.id");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sub_id);
	sqlite3_bind_int64(st, 2, version);
	size_t cap = 16, k = 0;
	struct review_change *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct review_change *bigger = arena_alloc(a, 2 * cap * sizeof(*list));
			memcpy(bigger, list, k * sizeof(*list));
			list = bigger;
			cap *= 2;
		}
		list[k].field = arena_strdup(a, db_text(st, 0));
		list[k].old_raw = sqlite3_column_type(st, 1) == SQLITE_NULL
		                      ? NULL
		                      : arena_strdup(a, db_text(st, 1));
		k++;
	}
	db_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	*out = list;
	*n = k;
	return 0;
}

/* The comment on a field. */
const char *review_comment_of(const struct review_return *r, const char *field)
{
	for (size_t k = 0; r && k < r->ncomments; k++)
		if (strcmp(r->comments[k].field, field) == 0)
			return r->comments[k].text;
	return NULL;
}

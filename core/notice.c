/* notice.c — the in-app notices of an org unit's people, read per user. */
#include "notice.h"

#include <string.h>

#include "log.h"

/* Unread notices. */
int notice_unread(struct db *db, long long user_id, long long org_unit_id, long long now)
{
	sqlite3_stmt *st = db_prep(db, "SELECT count(*) FROM notice n WHERE n.org_unit_id = ?1"
	                               " AND n.at >= ?3 AND NOT EXISTS (SELECT 1 FROM notice_read r"
	                               " WHERE r.user_id = ?2 AND r.notice_id = n.id)");
	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, org_unit_id);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now - NOTICE_DAYS * 86400LL);
	int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	db_done(st);
	return n;
}

/* The newest notices. */
int notice_list(struct db *db, struct arena *a, long long user_id, long long org_unit_id,
                long long now, size_t max, struct notice **out, size_t *n)
{
	sqlite3_stmt *st = db_prep(
	    db,
	    "SELECT n.id, n.kind, n.text, n.at, r.notice_id IS NOT NULL, o.code, p.code,"
	    " s.form_code FROM notice n"
	    " LEFT JOIN notice_read r ON r.notice_id = n.id AND r.user_id = ?2"
	    " LEFT JOIN submission s ON s.id = n.submission_id"
	    " LEFT JOIN org_unit o ON o.id = s.school_id LEFT JOIN period p ON p.id = s.period_id"
	    " WHERE n.org_unit_id = ?1 AND n.at >= ?3 ORDER BY n.at DESC, n.id DESC LIMIT ?4");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, org_unit_id);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now - NOTICE_DAYS * 86400LL);
	sqlite3_bind_int64(st, 4, (long long)max);
	struct notice *list = arena_alloc(a, (max ? max : 1) * sizeof(*list));
	size_t k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < max) {
		struct notice *x = &list[k++];
		x->id = sqlite3_column_int64(st, 0);
		x->kind = arena_strdup(a, db_text(st, 1));
		x->text = arena_strdup(a, db_text(st, 2));
		x->at = sqlite3_column_int64(st, 3);
		x->read = sqlite3_column_int(st, 4) != 0;
		x->school_code = sqlite3_column_type(st, 5) == SQLITE_NULL
		                     ? NULL
		                     : arena_strdup(a, db_text(st, 5));
		x->period_code = arena_strdup(a, db_text(st, 6));
		x->form_code = arena_strdup(a, db_text(st, 7));
	}
	db_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -1;
	*out = list;
	*n = k;
	return 0;
}

/* Mark all read. */
bool notice_read_all(struct db *db, long long user_id, long long org_unit_id, long long now)
{
	sqlite3_stmt *st =
	    db_prep(db, "INSERT OR IGNORE INTO notice_read(user_id, notice_id)"
	                " SELECT ?2, id FROM notice WHERE org_unit_id = ?1 AND at >= ?3");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, org_unit_id);
	sqlite3_bind_int64(st, 2, user_id);
	sqlite3_bind_int64(st, 3, now - NOTICE_DAYS * 86400LL);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		log_error("marking notices read failed: %s", sqlite3_errmsg(db->h));
	return rc == SQLITE_DONE;
}

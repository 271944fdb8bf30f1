/* audit.c — the append-only audit log, written in the same transaction as each change. */
#include "audit.h"

#include "log.h"

/* Insert one audit row. */
bool audit_log(struct db *db, const char *actor, const char *action, const char *object,
               const char *detail)
{
	sqlite3_stmt *st =
	    db_prep(db, "INSERT INTO audit(actor, action, object, detail) VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		return false;
	db_bind_text(st, 1, actor ? actor : "system", -1);
	db_bind_text(st, 2, action, -1);
	db_bind_text(st, 3, object ? object : "", -1);
	db_bind_text(st, 4, detail ? detail : "", -1);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("audit insert failed: %s", sqlite3_errmsg(db->h));
		return false;
	}
	return true;
}

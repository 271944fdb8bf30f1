/* notice.h — the in-app notices of an org unit's people, read per user. */
#ifndef TB_NOTICE_H
#define TB_NOTICE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"

#define NOTICE_DAYS 180 /* notices older than this are not shown or counted */

/* One notice (strings in the reader's arena). */
struct notice {
	long long id;
	const char
	    *kind; /* submitted, resubmitted, county_approved, approved, returned, reopened */
	const char *text;
	long long at;
	bool read;
	/* the submission it is about: where to go */
	const char *school_code, *period_code, *form_code;
};

/* Unread notices of the org unit for the user (0 on error). */
int notice_unread(struct db *db, long long user_id, long long org_unit_id, long long now);

/* The newest `max` notices of the org unit, with the user's read marks. 0 or -1. */
int notice_list(struct db *db, struct arena *a, long long user_id, long long org_unit_id,
                long long now, size_t max, struct notice **out, size_t *n);

/* Mark every notice of the org unit read for the user. */
bool notice_read_all(struct db *db, long long user_id, long long org_unit_id, long long now);

#endif

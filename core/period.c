/* period.c — reporting periods: reading, creating, extending, and their times in UTC+8. */
#include "period.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "log.h"

/* A period code: [0-9A-Za-z_-]{1,16}. */
bool period_code_valid(const char *code)
{
	size_t n = code ? strlen(code) : 0;
	if (n == 0 || n > PERIOD_CODE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = code[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Before, inside or after the window. */
enum period_window period_window(const struct period *p, long long now)
{
	if (now < p->opens_at)
		return PW_NOT_YET;
	return now < p->closes_at ? PW_OPEN : PW_CLOSED;
}

/* Read exactly `n` ASCII digits at *s into *v and advance. */
static bool period_digits(const char **s, int n, int *v)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		char c = (*s)[i];
		if (c < '0' || c > '9')
			return false;
		x = x * 10 + (c - '0');
	}
	*s += n;
	*v = x;
	return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static long long period_days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	long long yoe = y - era * 400;
	long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Parse a local (UTC+8) date and optional time. */
bool period_parse_time(const char *s, bool end_of_day, long long *out)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h = 0, mi = 0, sec = 0;
	bool has_time = false;
	if (!s || !period_digits(&s, 4, &y) || *s++ != '-' || !period_digits(&s, 2, &mo) ||
	    *s++ != '-' || !period_digits(&s, 2, &d))
		return false;
	if (*s == ' ' || *s == 'T') {
		s++;
		if (!period_digits(&s, 2, &h) || *s++ != ':' || !period_digits(&s, 2, &mi))
			return false;
		if (*s == ':' && (s++, !period_digits(&s, 2, &sec)))
			return false;
		has_time = true;
	}
	if (*s || y < 2000 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || sec > 59)
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return false;
	long long t = period_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	if (!has_time && end_of_day)
		t += 86400;
	*out = t - PERIOD_UTC_OFFSET;
	return true;
}

/* Format as local "YYYY-MM-DD HH:MM". */
const char *period_format_time(long long t, char *buf, size_t buflen)
{
	time_t local = (time_t)(t + PERIOD_UTC_OFFSET);
	struct tm tm;
	if (!gmtime_r(&local, &tm) || strftime(buf, buflen, "%Y-%m-%d %H:%M", &tm) == 0) {
		if (buflen)
			buf[0] = '\0';
	}
	return buf;
}

/* Whole days left, rounded up. */
long long period_days_left(long long t, long long now)
{
	return t <= now ? 0 : (t - now + 86399) / 86400;
}

/* Fill the forms of a loaded period. */
static int period_load_forms(struct db *db, struct arena *a, struct period *p)
{
	sqlite3_stmt *st = db_prep(db, "SELECT form_code FROM period_form WHERE period_id = ?1"
	                               " ORDER BY position, form_code");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->id);
	const char **forms = arena_alloc(a, PERIOD_MAX_FORMS * sizeof(*forms));
	size_t n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < PERIOD_MAX_FORMS)
		forms[n++] = arena_strdup(a, db_text(st, 0));
	db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	p->forms = forms;
	p->nforms = n;
	return 0;
}

/* Copy the columns id, code, name, opens_at, closes_at of a row. */
static void period_row(sqlite3_stmt *st, struct arena *a, struct period *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->code = arena_strdup(a, db_text(st, 1));
	p->name = arena_strdup(a, db_text(st, 2));
	p->opens_at = sqlite3_column_int64(st, 3);
	p->closes_at = sqlite3_column_int64(st, 4);
	p->forms = NULL;
	p->nforms = 0;
}

/* Step a statement that selects one period row; 1, 0 or -1. */
static int period_one(struct db *db, sqlite3_stmt *st, struct arena *a, struct period *out)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		period_row(st, a, out);
	db_done(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	return period_load_forms(db, a, out) == 0 ? 1 : -1;
}

/* Load by code. */
int period_get(struct db *db, struct arena *a, const char *code, struct period *out)
{
	sqlite3_stmt *st = db_prep(db, "SELECT id, code, name, opens_at, closes_at FROM period"
	                               " WHERE code = ?1");
	if (!st)
		return -1;
	db_bind_text(st, 1, code, -1);
	return period_one(db, st, a, out);
}

/* The latest opened period, else the next to open. */
int period_current(struct db *db, struct arena *a, long long now, struct period *out)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT id, code, name, opens_at, closes_at FROM period"
	                " WHERE opens_at <= ?1 ORDER BY opens_at DESC, id DESC LIMIT 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now);
	int rc = period_one(db, st, a, out);
	if (rc != 0)
		return rc;
	st = db_prep(db, "SELECT id, code, name, opens_at, closes_at FROM period"
	                 " ORDER BY opens_at, id LIMIT 1");
	if (!st)
		return -1;
	return period_one(db, st, a, out);
}

/* The period that opened last before p. */
int period_previous(struct db *db, struct arena *a, const struct period *p, struct period *out)
{
	sqlite3_stmt *st = db_prep(db, "SELECT id, code, name, opens_at, closes_at FROM period"
	                               " WHERE opens_at < ?1 OR (opens_at = ?1 AND id < ?2)"
	                               " ORDER BY opens_at DESC, id DESC LIMIT 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->opens_at);
	sqlite3_bind_int64(st, 2, p->id);
	return period_one(db, st, a, out);
}

/* Every period, newest first. */
int period_list(struct db *db, struct arena *a, struct period **out, size_t *n)
{
	sqlite3_stmt *st = db_prep(db, "SELECT id, code, name, opens_at, closes_at FROM period"
	                               " ORDER BY opens_at DESC, id DESC");
	if (!st)
		return -1;
	size_t cap = 8, k = 0;
	struct period *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			struct period *bigger = arena_alloc(a, 2 * cap * sizeof(*list));
			memcpy(bigger, list, k * sizeof(*list));
			list = bigger;
			cap *= 2;
		}
		period_row(st, a, &list[k++]);
	}
	db_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	for (size_t i = 0; i < k; i++)
		if (period_load_forms(db, a, &list[i]) != 0)
			return -1;
	*out = list;
	*n = k;
	return 0;
}

/* Check a new period's fields (not the forms, which need the database). */
static bool period_check(const struct period *p, char *err, size_t errlen)
{
	if (!period_code_valid(p->code)) {
		snprintf(err, errlen, "period code '%s' is not 1 to %d characters of [0-9A-Za-z_-]",
		         p->code ? p->code : "", PERIOD_CODE_MAX);
		return false;
	}
	size_t nl = p->name ? strlen(p->name) : 0;
	if (nl == 0 || nl > 3 * PERIOD_NAME_MAX) {
		snprintf(err, errlen, "period %s: the name must be 1 to %d characters", p->code,
		         PERIOD_NAME_MAX);
		return false;
	}
	for (const char *c = p->name; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f) {
			snprintf(err, errlen, "period %s: the name holds a control character",
			         p->code);
			return false;
		}
	if (p->closes_at <= p->opens_at) {
		snprintf(err, errlen, "period %s: the closing time must be after the opening time",
		         p->code);
		return false;
	}
	if (p->nforms == 0 || p->nforms > PERIOD_MAX_FORMS) {
		snprintf(err, errlen, "period %s: give 1 to %d forms", p->code, PERIOD_MAX_FORMS);
		return false;
	}
	for (size_t i = 0; i < p->nforms; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(p->forms[i], p->forms[j]) == 0) {
				snprintf(err, errlen, "period %s: form %s is named twice", p->code,
				         p->forms[i]);
				return false;
			}
	return true;
}

/* Insert the period and its forms. */
long long period_add(struct db *db, const struct period *p, const char *actor, char *err,
                     size_t errlen)
{
	if (!period_check(p, err, errlen))
		return 0;
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "the database is busy; try again");
		return 0;
	}
	long long id = 0;
	sqlite3_stmt *st = db_prep(db, "SELECT 1 FROM period WHERE code = ?1");
	if (!st)
		goto dberr;
	db_bind_text(st, 1, p->code, -1);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		goto dberr;
	if (rc == SQLITE_ROW) {
		snprintf(err, errlen,
		         "period %s exists already (use 'period extend' to move its "
		         "closing time)",
		         p->code);
		goto fail;
	}
	st = db_prep(db,
	             "INSERT INTO period(code, name, opens_at, closes_at) VALUES (?1, ?2, ?3, ?4)");
	if (!st)
		goto dberr;
	db_bind_text(st, 1, p->code, -1);
	db_bind_text(st, 2, p->name, -1);
	sqlite3_bind_int64(st, 3, p->opens_at);
	sqlite3_bind_int64(st, 4, p->closes_at);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto dberr;
	id = sqlite3_last_insert_rowid(db->h);
	for (size_t i = 0; i < p->nforms; i++) {
		st = db_prep(db, "SELECT 1 FROM form WHERE code = ?1");
		if (!st)
			goto dberr;
		db_bind_text(st, 1, p->forms[i], -1);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto dberr;
		if (rc != SQLITE_ROW) {
			snprintf(err, errlen,
			         "period %s: form '%s' is not loaded (tianbao-admin forms "
			         "load)",
			         p->code, p->forms[i]);
			goto fail;
		}
		st = db_prep(db, "INSERT INTO period_form(period_id, form_code, position)"
		                 " VALUES (?1, ?2, ?3)");
		if (!st)
			goto dberr;
		sqlite3_bind_int64(st, 1, id);
		db_bind_text(st, 2, p->forms[i], -1);
		sqlite3_bind_int64(st, 3, (long long)i);
		rc = sqlite3_step(st);
		db_done(st);
		if (rc != SQLITE_DONE)
			goto dberr;
	}
	char object[48], detail[96];
	snprintf(object, sizeof(object), "period:%s", p->code);
	snprintf(detail, sizeof(detail), "{\"opens_at\":%lld,\"closes_at\":%lld}", p->opens_at,
	         p->closes_at);
	if (!audit_log(db, actor, "period.add", object, detail))
		goto dberr;
	if (!db_commit(db)) {
		snprintf(err, errlen, "cannot commit the new period");
		return 0;
	}
	return id;
dberr:
	snprintf(err, errlen, "database error: %s", sqlite3_errmsg(db->h));
fail:
	db_rollback(db);
	return 0;
}

/* Move the closing time. */
bool period_set_closes(struct db *db, const char *code, long long closes_at, const char *actor,
                       char *err, size_t errlen)
{
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "the database is busy; try again");
		return false;
	}
	sqlite3_stmt *st = db_prep(db, "SELECT opens_at, closes_at FROM period WHERE code = ?1");
	if (!st)
		goto dberr;
	db_bind_text(st, 1, code, -1);
	int rc = sqlite3_step(st);
	long long opens = 0, old = 0;
	if (rc == SQLITE_ROW) {
		opens = sqlite3_column_int64(st, 0);
		old = sqlite3_column_int64(st, 1);
	}
	db_done(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "period %s does not exist", code);
		goto fail;
	}
	if (rc != SQLITE_ROW)
		goto dberr;
	if (closes_at <= opens) {
		snprintf(err, errlen, "period %s: the closing time must be after the opening time",
		         code);
		goto fail;
	}
	st = db_prep(db, "UPDATE period SET closes_at = ?2 WHERE code = ?1");
	if (!st)
		goto dberr;
	db_bind_text(st, 1, code, -1);
	sqlite3_bind_int64(st, 2, closes_at);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		goto dberr;
	char object[48], detail[96];
	snprintf(object, sizeof(object), "period:%s", code);
	snprintf(detail, sizeof(detail), "{\"old_closes_at\":%lld,\"closes_at\":%lld}", old,
	         closes_at);
	if (!audit_log(db, actor, "period.closes", object, detail))
		goto dberr;
	if (!db_commit(db)) {
		snprintf(err, errlen, "cannot commit the change");
		return false;
	}
	return true;
dberr:
	snprintf(err, errlen, "database error: %s", sqlite3_errmsg(db->h));
fail:
	db_rollback(db);
	return false;
}

/* period.h — reporting periods: code, window, forms; local (China Standard) time. */
#ifndef TB_PERIOD_H
#define TB_PERIOD_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"

/* Times are unix seconds; people read and type them in China Standard Time
 * (UTC+8, no daylight saving), whatever the server's time zone. */
#define PERIOD_UTC_OFFSET (8 * 3600)
#define PERIOD_CODE_MAX 16
#define PERIOD_NAME_MAX 50
#define PERIOD_MAX_FORMS 32

/* One reporting round (strings in the reader's arena). */
struct period {
	long long id;
	const char *code; /* e.g. "2026" */
	const char *name; /* e.g. "2026学年" */
	long long opens_at, closes_at;
	const char **forms; /* form codes in display order */
	size_t nforms;
};

enum period_window { PW_NOT_YET, PW_OPEN, PW_CLOSED };

/* A period code: 1..16 characters of [0-9A-Za-z_-]. */
bool period_code_valid(const char *code);

/* Where `now` lies relative to the window [opens_at, closes_at). */
enum period_window period_window(const struct period *p, long long now);

/* Parse "YYYY-MM-DD", "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS" (also with 'T'
 * between date and time) as China Standard Time. A date alone means the start of
 * that day, or, when `end_of_day`, the start of the next day (so "closes
 * 2026-09-20" keeps the 20th open to midnight). False on anything else. */
bool period_parse_time(const char *s, bool end_of_day, long long *out);

/* "YYYY-MM-DD HH:MM" in China Standard Time, into buf (at least 17 bytes). */
const char *period_format_time(long long t, char *buf, size_t buflen);

/* Whole days from `now` until `t`, rounded up (0 when t <= now): "还剩 N 天". */
long long period_days_left(long long t, long long now);

/* Load by code with its forms. 1 found, 0 not found, -1 database error. */
int period_get(struct db *db, struct arena *a, const char *code, struct period *out);

/* The period schools work on at `now`: the latest (by opening time) that has
 * opened, whether still open or closed; when none has opened, the next to open.
 * 1 found, 0 no period at all, -1 error. */
int period_current(struct db *db, struct arena *a, long long now, struct period *out);

/* The period before `p` (the latest that opened before it). 1, 0 none, -1 error. */
int period_previous(struct db *db, struct arena *a, const struct period *p, struct period *out);

/* Every period, newest first, with their forms. 0 or -1. */
int period_list(struct db *db, struct arena *a, struct period **out, size_t *n);

/* Create a period (one transaction with its audit row) from p's code, name,
 * window and forms (each must be a loaded form, none twice). Returns the new id,
 * or 0 with an English message in err. */
long long period_add(struct db *db, const struct period *p, const char *actor, char *err,
                     size_t errlen);

/* Move the closing time of a period (extend, or shorten while it stays after
 * the opening), with an audit row holding the old and new times. */
bool period_set_closes(struct db *db, const char *code, long long closes_at, const char *actor,
                       char *err, size_t errlen);

#endif

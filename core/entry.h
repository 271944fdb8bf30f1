/* entry.h — one school's forms in one period: loading, checking, saving with history,
 * submitting, the history of a value, and saves kept across an expired session. */
#ifndef TB_ENTRY_H
#define TB_ENTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "form.h"
#include "orgunit.h"
#include "period.h"
#include "validate.h"
#include "workflow.h"

#define ENTRY_PENDING_MAX_AGE (7 * 86400) /* a kept save is applied within a week, or dropped */

/* The submission of one form (id 0 and WS_NONE when the school has not started it). */
struct entry_sub {
	long long id;
	const char *form_code;
	enum wf_state state;
	long long version;
	int errors, warnings, unexplained, required_total, required_filled;
	long long updated_at, submitted_at, approved_at;
	const char *updated_by;     /* display name, or NULL */
	struct validate_expl *expl; /* its 说明 */
	size_t nexpl;
};

/* Stored values by global slot (see form_nslots). */
struct entry_values {
	const char **raw;       /* as typed, or NULL */
	const char **norm;      /* canonical, or NULL when empty or invalid */
	double *num;            /* numbers and yes/no as 1/0 */
	unsigned char *present; /* num holds a value */
};

/* One school in one period: every form's submission, every value, and last
 * period's approved values. */
struct entry {
	const struct form_set *set;
	struct period period;
	const struct org_unit *school;
	unsigned stages;
	struct entry_sub *subs; /* one per form of the period, in its order */
	struct entry_values cur;
	bool has_prev;
	struct period prev_period;
	struct entry_values prev;
};

/* Load (or reload) everything about `school` in `period`. 0, or -1 on a
 * database error. Forms of the period missing from `set` get no entry_sub
 * slot filled (form_find fails); entry_form finds the rest. */
int entry_open(struct db *db, struct arena *a, const struct form_set *set, const struct period *p,
               const struct org_unit *school, struct entry *e);

/* Index of a form in e->subs, or -1 when the period does not have it. */
int entry_form(const struct entry *e, const char *form_code);

/* Validate form i of e. `raw` (per slot) and `expl` override the stored values
 * and explanations when not NULL. */
void entry_check(struct arena *a, const struct entry *e, int i, const char *const *raw,
                 const struct validate_expl *expl, size_t nexpl, bool submitting,
                 struct validate_out *out);

/* What a save carries. */
struct entry_save {
	const char *const *raw; /* per slot: the posted values of form i (others ignored) */
	const struct validate_expl *expl; /* posted 说明 */
	size_t nexpl;
	long long version; /* the version the user was editing (0: not started) */
	bool submit;       /* also submit when the form allows it */
	long long user_id;
	const char *actor; /* login, for the audit rows */
	long long now;
	long long pending_id; /* a kept save being applied: deleted with the save */
};

enum entry_result {
	ER_SAVED,     /* saved (maybe nothing changed) */
	ER_SUBMITTED, /* saved and submitted */
	ER_BLOCKED,   /* saved; submitting was asked for but the form is not ready */
	ER_CONFLICT,  /* someone saved a newer version: nothing written */
	ER_READONLY,  /* submitted or approved: nothing written */
	ER_CLOSED,    /* outside the period's window: nothing written */
	ER_DB,        /* database failure: nothing written */
};

/* Save form i: in one BEGIN IMMEDIATE transaction, reload e, refuse a stale
 * version, a read-only state or a closed window, write the changed values with
 * their history rows, the 说明, the new version and the audit row, recount the
 * errors and warnings of every form of the school (rules read across forms),
 * and submit when asked and possible. `out` gets the validation of the saved
 * values (with required fields checked when submitting); *changed the number of
 * values changed. e is left holding the state after the transaction. */
enum entry_result entry_save(struct db *db, struct arena *a, struct entry *e, int i,
                             const struct entry_save *s, struct validate_out *out, int *changed);

/* The writing part of entry_save, for callers that hold a write transaction
 * and checked window, state and version themselves (the import): write form i's
 * changed values (`posted` per slot; NULL = all empty) and 说明 with history
 * rows, a new version and the audit row "submission.save", and recount every
 * form of the school. `out` gets the validation (required fields checked when
 * `submitting`), *changed the number of values changed. A form never started
 * to which nothing is given stays without a submission row (sub->id 0).
 * False on a database error (the caller rolls back). */
bool entry_store(struct db *db, struct arena *a, struct entry *e, int i, const char *const *posted,
                 const struct validate_expl *expl, size_t nexpl, bool submitting, long long user_id,
                 const char *actor, long long now, struct validate_out *out, int *changed);

/* One change of a value. */
struct entry_change {
	long long at;
	const char *who;               /* display name */
	const char *old_raw, *new_raw; /* NULL for empty */
	long long version;
};

/* The changes of one field of a submission, newest first (at most `max`). 0 or -1. */
int entry_history(struct db *db, struct arena *a, long long sub_id, const char *field_code,
                  size_t max, struct entry_change **out, size_t *n);

/* ---- saves posted after the session expired ---- */

/* Keep a urlencoded body posted to `path` for `user_id`. true on success. */
bool entry_pending_add(struct db *db, long long user_id, const char *path, const char *body,
                       long long now);

/* The oldest kept save of a user that is younger than ENTRY_PENDING_MAX_AGE (older
 * ones are deleted). 1 found, 0 none, -1 error. */
int entry_pending_next(struct db *db, struct arena *a, long long user_id, long long now,
                       long long *id, const char **path, const char **body);

/* A kept save of the user by id. 1, 0, -1. */
int entry_pending_get(struct db *db, struct arena *a, long long user_id, long long id,
                      const char **path, const char **body);

/* Forget a kept save (the user discarded it). */
bool entry_pending_drop(struct db *db, long long user_id, long long id);

#endif

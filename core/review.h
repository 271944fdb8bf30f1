/* review.h — reviewers' decisions: approve, return with a reason and field comments, reopen;
 * the outbox row of a final approval; what a return leaves for the school and the reviewer. */
#ifndef TB_REVIEW_H
#define TB_REVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "entry.h"
#include "user.h"
#include "workflow.h"

#define REVIEW_REASON_MAX 500  /* characters of a reason */
#define REVIEW_COMMENT_MAX 200 /* characters of a field comment */
#define REVIEW_MAX_COMMENTS 500

/* A reviewer's remark on one field. */
struct review_comment {
	const char *field;
	const char *text;
};

/* One decision to take. */
struct review_decision {
	const char *school_code;
	const char *period_code;
	const char *form_code;
	enum wf_action action; /* WA_APPROVE, WA_RETURN or WA_REOPEN */
	long long version;     /* the version the reviewer saw (< 0: refused) */
	const char *reason;    /* required for a return or a reopen */
	const struct review_comment *comments;
	size_t ncomments;
	const struct user *actor; /* a reviewer or the admin, with org unit */
	int levels;               /* approval levels (1 or 2) */
	long long now;
};

/* Take a decision in one BEGIN IMMEDIATE transaction: the school must lie in
 * the actor's org unit; the reason (for return and reopen) must be given, each
 * comment name a field of the form that applies to the school; the move must
 * be allowed (wf_apply: role, state, the version the reviewer saw); then the
 * review row with its comments and the audit row are written, and a final
 * approval writes the outbox row with the payload in the same transaction.
 * Returns the new state, or WS_NONE with a Chinese message in err and nothing
 * changed. *notfound is set when the school, period or form does not exist or
 * lies outside the actor's scope (the caller answers 404). */
enum wf_state review_decide(struct db *db, struct arena *a, const struct form_set *set,
                            const struct review_decision *d, bool *notfound, char *err,
                            size_t errlen);

/* The last return (or reopen) of a submission: reason, comments, the version
 * it was returned at, when and by whom. */
struct review_return {
	long long id;
	long long version;
	long long at;
	const char *who;
	const char *reason;
	bool reopen;
	struct review_comment *comments;
	size_t ncomments;
};

/* Load the last return of a submission. 1 found, 0 none, -1 error. */
int review_last_return(struct db *db, struct arena *a, long long sub_id, struct review_return *out);

/* A field changed after a return: its code and its value at the return. */
struct review_change {
	const char *field;
	const char *old_raw; /* NULL: empty then */
};

/* The fields of a submission changed since `version`, each with the value it
 * had then (from value_history). 0 or -1. */
int review_changes_since(struct db *db, struct arena *a, long long sub_id, long long version,
                         struct review_change **out, size_t *n);

/* The comment on `field` in a return, or NULL. */
const char *review_comment_of(const struct review_return *r, const char *field);

#endif

/* entry_view.h — template values of the entry pages: the form, its problems, conflicts, history. */
#ifndef TB_ENTRY_VIEW_H
#define TB_ENTRY_VIEW_H

#include <stdbool.h>

#include "../core/entry.h"
#include "../core/review.h"
#include "http.h"

/* What an entry page shows besides the stored entry. */
struct entry_view {
	int status;
	const char *notice;               /* green line at the top, or NULL */
	const char *error;                /* red line at the top, or NULL */
	const char *readonly_reason;      /* NULL: the school may edit (inputs and buttons) */
	const char *const *raw;           /* values to show per slot (NULL: the stored ones) */
	const struct validate_expl *expl; /* 说明 to show (NULL: the stored ones) */
	size_t nexpl;
	bool keep_input;                 /* raw/expl are the user's unsaved input */
	long long version;               /* the version the form is based on */
	const struct review_return *ret; /* the last return, shown while 已退回, or NULL */
};

/* Render the entry page of form i of e (template "entry") with the problems in
 * `out`. `url` is the page's own path. */
void entry_view_render(struct http_request *req, const struct entry *e, int i, const char *url,
                       const struct entry_view *v, const struct validate_out *out);

/* Render the comparison of the stored version of form i with `mine` (what the
 * user posted, or a save kept across an expired session when pending_id > 0),
 * with a button to keep mine deliberately unless `readonly_reason` says why
 * that is impossible (template "entry_conflict"). */
void entry_view_conflict(struct http_request *req, const struct entry *e, int i, const char *url,
                         const struct entry_save *mine, long long pending_id,
                         const char *readonly_reason, int status);

/* Render the changes of field f (template "entry_history"). */
void entry_view_history(struct http_request *req, const struct entry *e, int i, const char *url,
                        const struct form_field *f, const struct entry_change *list, size_t n);

/* The school's task list for e's period: one row per form with its state,
 * required fields filled, errors, warnings; the period's deadline. Added to ctx
 * as "period" and "tasks". */
void entry_view_tasks(struct http_request *req, struct tv *ctx, const struct entry *e);

#endif

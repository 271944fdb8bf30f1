/* workflow.h — the states of a submission and the only way they change. */
#ifndef TB_WORKFLOW_H
#define TB_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "user.h"

/* WS_NONE: no submission row yet (未填写). WS_COUNTY_APPROVED exists only with
 * two-level approval: the county approved, the city has not decided yet (stored
 * as state 'submitted' with reviewed = 1). */
enum wf_state { WS_NONE = 0, WS_DRAFT, WS_SUBMITTED, WS_RETURNED, WS_APPROVED, WS_COUNTY_APPROVED };
#define WF_NSTATES 6

enum wf_action { WA_SUBMIT, WA_APPROVE, WA_RETURN, WA_REOPEN };

/* Who acts: the school's user, a reviewer of a county, a reviewer of the city,
 * the city admin. */
enum wf_role { WR_SCHOOL = 1, WR_COUNTY = 2, WR_CITY = 4, WR_ADMIN = 8 };

/* "draft", "submitted", "returned", "approved", "county_approved" ("none" for
 * WS_NONE): for URLs, filters and CSS classes. */
const char *wf_state_code(enum wf_state s);
/* 未填写, 草稿, 已上报, 已退回, 已审核, 区县已审核. */
const char *wf_state_name(enum wf_state s);
/* The state of a code (as wf_state_code); WS_NONE when unknown. */
enum wf_state wf_state_parse(const char *code);
/* The state of a stored row: its `state` column and its `reviewed` flag. */
enum wf_state wf_state_stored(const char *state, int reviewed);
/* The action of "submit", "approve", "return", "reopen"; -1 when unknown. */
int wf_action_parse(const char *code);

/* The role bit of a user: school → WR_SCHOOL, reviewer of a county → WR_COUNTY,
 * reviewer of the city → WR_CITY, admin → WR_ADMIN; 0 otherwise. */
unsigned wf_role_of(const struct user *u);

/* Can the school still change the values? (未填写, 草稿, 已退回) */
bool wf_editable(enum wf_state s);

/* The state `action` leads to from `from` for `role` with `levels` (1 or 2)
 * approval levels; WS_NONE with a Chinese reason in *why when the move is not
 * allowed. */
enum wf_state wf_next(enum wf_state from, enum wf_action action, unsigned role, int levels,
                      const char **why);

/* A move to apply. */
struct wf_move {
	long long id;       /* the submission */
	enum wf_state from; /* the state the actor saw */
	long long version;  /* the version the actor saw; -1: not checked */
	enum wf_action action;
	unsigned role;
	int levels;        /* approval levels, 1 or 2 */
	const char *actor; /* login, for the audit row */
	long long now;
	const char *reason; /* a return's or reopen's reason, or NULL */
	bool quiet;         /* no notices (the import of old figures) */
};

/* Inside an open write transaction: check the move with wf_next, change the
 * row only if it is still in state `from` at `version` (a reopen also makes a
 * new version, so that the approval after it is a new upstream delivery), set
 * submitted_at / approved_at, write the audit row "submission.<action>" (with
 * the version, the new state and the reason) and, unless quiet, the notices:
 * the county (or, after a county approval with two levels, the city) of a
 * submission, the school of an approval or a return. Returns the new state, or
 * WS_NONE with a Chinese reason in *why (nothing changed). */
enum wf_state wf_apply(struct db *db, const struct wf_move *m, const char **why);

#endif

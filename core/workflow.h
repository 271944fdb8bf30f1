/* workflow.h — the states of a submission and the only way they change. */
#ifndef TB_WORKFLOW_H
#define TB_WORKFLOW_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"

/* WS_NONE: no submission row yet (未填写). */
enum wf_state { WS_NONE = 0, WS_DRAFT, WS_SUBMITTED, WS_RETURNED, WS_APPROVED };

enum wf_action { WA_SUBMIT, WA_APPROVE, WA_RETURN, WA_REOPEN };

/* Role bits of the actors (users' roles). */
enum wf_role { WR_SCHOOL = 1, WR_REVIEWER = 2, WR_ADMIN = 4 };

/* "draft", "submitted", "returned", "approved" ("" for WS_NONE). */
const char *wf_state_code(enum wf_state s);
/* 未填写, 草稿, 已上报, 已退回, 已审核. */
const char *wf_state_name(enum wf_state s);
/* The state of a code; WS_NONE when unknown. */
enum wf_state wf_state_parse(const char *code);
/* The role bit of a role name ("school" ...), 0 when unknown. */
unsigned wf_role_bit(const char *role);

/* Can the school still change the values? (未填写, 草稿, 已退回) */
bool wf_editable(enum wf_state s);

/* The state `action` leads to from `from` for a user of role `role`; WS_NONE
 * with a Chinese reason in *why when the move is not allowed. */
enum wf_state wf_next(enum wf_state from, enum wf_action action, unsigned role, const char **why);

/* Inside an open write transaction: move submission `id` from `from` by
 * `action` (checked with wf_next), set the state's time column to `now`, and
 * write the audit row "submission.<action>" with `detail` (JSON or NULL).
 * The row must still be in state `from` (else nothing changes). Returns the
 * new state, or WS_NONE with a Chinese reason in *why. */
enum wf_state wf_apply(struct db *db, long long id, enum wf_state from, enum wf_action action,
		       unsigned role, const char *actor, long long now, const char *detail,
		       const char **why);

#endif

/* workflow.c — the submission state machine: one table of allowed moves, one apply function. */
#include "workflow.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

static const struct {
	const char *code, *name;
} wf_states[] = {
    [WS_NONE] = {"", "未填写"},          [WS_DRAFT] = {"draft", "草稿"},
    [WS_SUBMITTED] = {"submitted", "已上报"}, [WS_RETURNED] = {"returned", "已退回"},
    [WS_APPROVED] = {"approved", "已审核"},
};

static const char *const wf_action_codes[] = {
    [WA_SUBMIT] = "submit", [WA_APPROVE] = "approve", [WA_RETURN] = "return",
    [WA_REOPEN] = "reopen"};

/* Every allowed move: from, action, who, to. Anything else is refused. */
static const struct wf_move {
	enum wf_state from;
	enum wf_action action;
	unsigned roles;
	enum wf_state to;
} wf_moves[] = {
    {WS_DRAFT, WA_SUBMIT, WR_SCHOOL, WS_SUBMITTED},
    {WS_RETURNED, WA_SUBMIT, WR_SCHOOL, WS_SUBMITTED},
    {WS_SUBMITTED, WA_APPROVE, WR_REVIEWER | WR_ADMIN, WS_APPROVED},
    {WS_SUBMITTED, WA_RETURN, WR_REVIEWER | WR_ADMIN, WS_RETURNED},
    {WS_APPROVED, WA_REOPEN, WR_REVIEWER | WR_ADMIN, WS_RETURNED},
};

/* State code. */
const char *wf_state_code(enum wf_state s)
{
	return (unsigned)s <= WS_APPROVED ? wf_states[s].code : "";
}

/* State name in Chinese. */
const char *wf_state_name(enum wf_state s)
{
	return (unsigned)s <= WS_APPROVED ? wf_states[s].name : "";
}

/* Parse a state code. */
enum wf_state wf_state_parse(const char *code)
{
	for (int s = WS_DRAFT; code && s <= WS_APPROVED; s++)
		if (strcmp(code, wf_states[s].code) == 0)
			return (enum wf_state)s;
	return WS_NONE;
}

/* Role bit of a role name. */
unsigned wf_role_bit(const char *role)
{
	if (!role)
		return 0;
	if (strcmp(role, "school") == 0)
		return WR_SCHOOL;
	if (strcmp(role, "reviewer") == 0)
		return WR_REVIEWER;
	if (strcmp(role, "admin") == 0)
		return WR_ADMIN;
	return 0;
}

/* The school may change values. */
bool wf_editable(enum wf_state s)
{
	return s == WS_NONE || s == WS_DRAFT || s == WS_RETURNED;
}

/* Why an action cannot be taken from a state. */
static const char *wf_refusal(enum wf_state from, enum wf_action action)
{
	switch (action) {
	case WA_SUBMIT:
		return from == WS_SUBMITTED  ? "该报表已上报，无需重复上报。"
		       : from == WS_APPROVED ? "该报表已审核通过，不能再次上报。"
					     : "该报表还没有填写，不能上报。";
	case WA_APPROVE:
		return from == WS_APPROVED ? "该报表已审核通过，无需重复审核。"
					   : "只有已上报的报表才能审核通过。";
	case WA_RETURN:
		return from == WS_RETURNED ? "该报表已退回，无需重复退回。"
					   : "只有已上报的报表才能退回。";
	case WA_REOPEN:
	default:
		return "只有已审核通过的报表才能重新打开。";
	}
}

/* Look the move up in the table. */
enum wf_state wf_next(enum wf_state from, enum wf_action action, unsigned role, const char **why)
{
	bool state_ok = false;
	for (size_t i = 0; i < sizeof(wf_moves) / sizeof(wf_moves[0]); i++) {
		const struct wf_move *m = &wf_moves[i];
		if (m->from != from || m->action != action)
			continue;
		state_ok = true;
		if (m->roles & role)
			return m->to;
	}
	*why = state_ok ? "您的角色不能进行此操作。" : wf_refusal(from, action);
	return WS_NONE;
}

/* Apply a move inside the caller's write transaction. */
enum wf_state wf_apply(struct db *db, long long id, enum wf_state from, enum wf_action action,
		       unsigned role, const char *actor, long long now, const char *detail,
		       const char **why)
{
	enum wf_state to = wf_next(from, action, role, why);
	if (to == WS_NONE)
		return WS_NONE;
	sqlite3_stmt *st = db_prep(
	    db, "UPDATE submission SET state = ?3,"
		" submitted_at = CASE WHEN ?3 = 'submitted' THEN ?4 ELSE submitted_at END,"
		" approved_at = CASE WHEN ?3 = 'approved' THEN ?4 ELSE approved_at END"
		" WHERE id = ?1 AND state = ?2");
	if (!st) {
		*why = "数据库暂时不可用，请稍后再试。";
		return WS_NONE;
	}
	sqlite3_bind_int64(st, 1, id);
	db_bind_text(st, 2, wf_state_code(from), -1);
	db_bind_text(st, 3, wf_state_code(to), -1);
	sqlite3_bind_int64(st, 4, now);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("submission %lld: state change failed: %s", id, sqlite3_errmsg(db->h));
		*why = "数据库暂时不可用，请稍后再试。";
		return WS_NONE;
	}
	if (sqlite3_changes(db->h) != 1) {
		*why = "该报表的状态刚刚被其他人改变，请刷新页面后再试。";
		return WS_NONE;
	}
	char object[40], action_name[40];
	snprintf(object, sizeof(object), "submission:%lld", id);
	snprintf(action_name, sizeof(action_name), "submission.%s", wf_action_codes[action]);
	if (!audit_log(db, actor, action_name, object, detail)) {
		*why = "数据库暂时不可用，请稍后再试。";
		return WS_NONE;
	}
	return to;
}

/* workflow.c — the submission state machine: one table of allowed moves, one apply function. */
#include "workflow.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"

static const struct {
	const char *code, *name, *stored;
	int reviewed;
} wf_states[WF_NSTATES] = {
    [WS_NONE] = {"none", "未填写", "", 0},
    [WS_DRAFT] = {"draft", "草稿", "draft", 0},
    [WS_SUBMITTED] = {"submitted", "已上报", "submitted", 0},
    [WS_RETURNED] = {"returned", "已退回", "returned", 0},
    [WS_APPROVED] = {"approved", "已审核", "approved", 0},
    [WS_COUNTY_APPROVED] = {"county_approved", "区县已审核", "submitted", 1},
};

static const char *const wf_actions[] = {[WA_SUBMIT] = "submit",
                                         [WA_APPROVE] = "approve",
                                         [WA_RETURN] = "return",
                                         [WA_REOPEN] = "reopen"};

/* Every allowed move: from, action, who, with how many approval levels (0: either), to.
 * Anything else is refused. */
static const struct wf_rule {
	enum wf_state from;
	enum wf_action action;
	unsigned roles;
	int levels;
	enum wf_state to;
} wf_rules[] = {
    {WS_DRAFT, WA_SUBMIT, WR_SCHOOL, 0, WS_SUBMITTED},
    {WS_RETURNED, WA_SUBMIT, WR_SCHOOL, 0, WS_SUBMITTED},
    {WS_SUBMITTED, WA_APPROVE, WR_COUNTY | WR_CITY | WR_ADMIN, 1, WS_APPROVED},
    {WS_SUBMITTED, WA_APPROVE, WR_COUNTY | WR_ADMIN, 2, WS_COUNTY_APPROVED},
    /* from county_approved at either level: a city back at one level must not strand it */
    {WS_COUNTY_APPROVED, WA_APPROVE, WR_CITY | WR_ADMIN, 0, WS_APPROVED},
    {WS_SUBMITTED, WA_RETURN, WR_COUNTY | WR_CITY | WR_ADMIN, 0, WS_RETURNED},
    {WS_COUNTY_APPROVED, WA_RETURN, WR_CITY | WR_ADMIN, 0, WS_RETURNED},
    {WS_APPROVED, WA_REOPEN, WR_COUNTY | WR_ADMIN, 0, WS_RETURNED},
};

/* State code. */
const char *wf_state_code(enum wf_state s)
{
	return (unsigned)s < WF_NSTATES ? wf_states[s].code : "none";
}

/* State name in Chinese. */
const char *wf_state_name(enum wf_state s)
{
	return (unsigned)s < WF_NSTATES ? wf_states[s].name : "";
}

/* Parse a state code. */
enum wf_state wf_state_parse(const char *code)
{
	for (int s = WS_DRAFT; code && s < WF_NSTATES; s++)
		if (strcmp(code, wf_states[s].code) == 0)
			return (enum wf_state)s;
	return WS_NONE;
}

/* The state of a stored row. */
enum wf_state wf_state_stored(const char *state, int reviewed)
{
	for (int s = WS_DRAFT; state && s < WF_NSTATES; s++)
		if (strcmp(state, wf_states[s].stored) == 0 && reviewed == wf_states[s].reviewed)
			return (enum wf_state)s;
	return WS_NONE;
}

/* Parse an action. */
int wf_action_parse(const char *code)
{
	for (int a = WA_SUBMIT; code && a <= WA_REOPEN; a++)
		if (strcmp(code, wf_actions[a]) == 0)
			return a;
	return -1;
}

/* The role bit of a user. */
unsigned wf_role_of(const struct user *u)
{
	if (!u || !u->role)
		return 0;
	if (strcmp(u->role, "school") == 0)
		return WR_SCHOOL;
	if (strcmp(u->role, "admin") == 0)
		return WR_ADMIN;
	if (strcmp(u->role, "reviewer") == 0)
		return u->org_kind && strcmp(u->org_kind, "city") == 0 ? WR_CITY : WR_COUNTY;
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
		return from == WS_SUBMITTED || from == WS_COUNTY_APPROVED
		           ? "该报表已上报，无需重复上报。"
		       : from == WS_APPROVED ? "该报表已审核通过，不能再次上报。"
		                             : "该报表还没有填写，不能上报。";
	case WA_APPROVE:
		return from == WS_APPROVED ? "该报表已审核通过，无需重复审核。"
		       : from == WS_COUNTY_APPROVED
		           ? "该报表已由区县审核通过，正在等待市级审核。"
		           : "该报表还没有上报（或已被退回），不能审核通过。";
	case WA_RETURN:
		return from == WS_RETURNED ? "该报表已退回，无需重复退回。"
		       : from == WS_APPROVED ? "该报表已审核通过；如需修改，请使用“重新打开”。"
		                             : "只有已上报的报表才能退回。";
	case WA_REOPEN:
	default:
		return "只有已审核通过的报表才能重新打开。";
	}
}

/* Look the move up in the table. */
enum wf_state wf_next(enum wf_state from, enum wf_action action, unsigned role, int levels,
                      const char **why)
{
	bool state_ok = false;
	for (size_t i = 0; i < sizeof(wf_rules) / sizeof(wf_rules[0]); i++) {
		const struct wf_rule *r = &wf_rules[i];
		if (r->from != from || r->action != action || (r->levels && r->levels != levels))
			continue;
		state_ok = true;
		if (r->roles & role)
			return r->to;
	}
	*why = !state_ok ? wf_refusal(from, action)
	       : from == WS_COUNTY_APPROVED && action == WA_APPROVE && (role & WR_COUNTY)
	           ? "该报表已由区县审核通过，正在等待市级审核。"
	           : "您的角色不能对该报表进行此操作。";
	return WS_NONE;
}

/* The notices of a move: who is told, what kind, and the words around the names. */
static bool wf_notice(struct db *db, const struct wf_move *m, enum wf_state to)
{
	const char *kind, *verb;
	int target; /* 0 the school, 1 its county, 2 the city */
	switch (to) {
	case WS_SUBMITTED:
		kind = m->from == WS_RETURNED ? "resubmitted" : "submitted";
		verb = m->from == WS_RETURNED ? "修改后重新上报了" : "上报了";
		target = 1;
		break;
	case WS_COUNTY_APPROVED:
		kind = "county_approved";
		verb = "经区县审核通过，等待市级审核：";
		target = 2;
		break;
	case WS_APPROVED:
		kind = "approved";
		verb = "已审核通过：";
		target = 0;
		break;
	case WS_RETURNED:
		kind = m->action == WA_REOPEN ? "reopened" : "returned";
		verb = m->action == WA_REOPEN ? "被重新打开，请修改后重新上报："
		                              : "被退回，请修改后重新上报：";
		target = 0;
		break;
	default:
		return true;
	}
	/* the text names the school and the form; the reason follows when there is one */
	sqlite3_stmt *st = db_prep(
	    db, "INSERT INTO notice(org_unit_id, submission_id, kind, text, at)"
	        " SELECT CASE ?3 WHEN 0 THEN o.id WHEN 1 THEN o.parent_id ELSE c.parent_id END,"
	        " s.id, ?2, o.name || ' ' || ?4 || '《' || f.name || '》（' || p.name || '）'"
	        " || CASE WHEN ?5 IS NULL OR ?5 = '' THEN '' ELSE '。原因：' || ?5 END, ?6"
	        " FROM submission s JOIN org_unit o ON o.id = s.school_id"
	        " JOIN org_unit c ON c.id = o.parent_id JOIN form f ON f.code = s.form_code"
	        " JOIN period p ON p.id = s.period_id WHERE s.id = ?1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, m->id);
	db_bind_text(st, 2, kind, -1);
	sqlite3_bind_int(st, 3, target);
	db_bind_text(st, 4, verb, -1);
	db_bind_text(st, 5, m->reason, -1);
	sqlite3_bind_int64(st, 6, m->now);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE;
}

/* The audit detail of a move: version, new state and reason, as JSON. */
static char *wf_detail(const struct wf_move *m, enum wf_state to, long long version)
{
	json_t *o =
	    json_pack("{s:I, s:s}", "version", (json_int_t)version, "state", wf_state_code(to));
	if (o && m->reason && *m->reason)
		json_object_set_new(o, "reason", json_string(m->reason));
	if (o && m->quiet)
		json_object_set_new(o, "import", json_true());
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/* Apply a move inside the caller's write transaction. */
enum wf_state wf_apply(struct db *db, const struct wf_move *m, const char **why)
{
	enum wf_state to = wf_next(m->from, m->action, m->role, m->levels, why);
	if (to == WS_NONE)
		return WS_NONE;
	static const char *const busy = "数据库暂时不可用，请稍后再试。";
	sqlite3_stmt *st = db_prep(
	    db,
	    "UPDATE submission SET state = ?4, reviewed = ?5, version = version + ?6,"
	    " submitted_at = CASE WHEN ?4 = 'submitted' AND ?5 = 0 THEN ?7 ELSE submitted_at END,"
	    " approved_at = CASE WHEN ?4 = 'approved' THEN ?7 ELSE approved_at END"
	    " WHERE id = ?1 AND state = ?2 AND reviewed = ?3 AND (?8 < 0 OR version = ?8)"
	    " RETURNING version");
	if (!st) {
		*why = busy;
		return WS_NONE;
	}
	sqlite3_bind_int64(st, 1, m->id);
	db_bind_text(st, 2, wf_states[m->from].stored, -1);
	sqlite3_bind_int(st, 3, wf_states[m->from].reviewed);
	db_bind_text(st, 4, wf_states[to].stored, -1);
	sqlite3_bind_int(st, 5, wf_states[to].reviewed);
	sqlite3_bind_int(st, 6, m->action == WA_REOPEN ? 1 : 0);
	sqlite3_bind_int64(st, 7, m->now);
	sqlite3_bind_int64(st, 8, m->version);
	int rc = sqlite3_step(st);
	long long version = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("submission %lld: state change failed: %s", m->id, sqlite3_errmsg(db->h));
		*why = busy;
		return WS_NONE;
	}
	if (version == 0) {
		*why = "该报表刚刚被修改或处理过（状态或版本已变化），您的操作没有执行。请刷新页面"
		       "查看最新情况后再操作。";
		return WS_NONE;
	}
	char object[40], action[40];
	snprintf(object, sizeof(object), "submission:%lld", m->id);
	snprintf(action, sizeof(action), "submission.%s", wf_actions[m->action]);
	char *detail = wf_detail(m, to, version);
	bool ok = detail && audit_log(db, m->actor, action, object, detail) &&
	          (m->quiet || wf_notice(db, m, to));
	free(detail);
	if (!ok) {
		*why = busy;
		return WS_NONE;
	}
	return to;
}

/* page_review.c — the review page of one submission and the reviewer's decision on it. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/outbox.h"
#include "../core/review.h"
#include "app.h"
#include "pages.h"

/* What the review page shows besides the submission: the outcome of a decision
 * just taken, or the refused decision with what the reviewer typed. */
struct review_view {
	int status;
	const char *notice, *error;
	const char *reason;                    /* typed, after a refusal */
	const struct review_comment *comments; /* typed, after a refusal */
	size_t ncomments;
};

/* A number of people for a ratio: the value when present. */
static bool review_num(const struct entry *e, const char *code, double *v)
{
	const struct form_field *f = form_field_find(e->set, code);
	if (!f || !e->cur.present[f->slot])
		return false;
	*v = e->cur.num[f->slot];
	return true;
}

/* The stage-level key figures: students per class, students per teacher. */
static struct tv *review_figures(struct arena *a, const struct entry *e)
{
	struct tv *list = tv_list(a);
	for (unsigned bit = 1; bit <= ST_SPE; bit <<= 1) {
		if (!(e->stages & bit))
			continue;
		const char *pre = form_stage_prefix(bit);
		double st, cl, te;
		bool has_st = review_num(e, arena_printf(a, "%s_students", pre), &st);
		struct tv *t = tv_push(a, list, tv_map(a));
		tv_set_str(a, t, "stage", form_stage_name(bit));
		tv_set_str(a, t, "students", has_st ? validate_fmt_num(a, st, 0) : "—");
		tv_set_str(a, t, "per_class",
		           has_st && review_num(e, arena_printf(a, "%s_classes", pre), &cl) &&
		                   cl > 0
		               ? validate_fmt_num(a, st / cl, 1)
		               : "—");
		tv_set_str(a, t, "per_teacher",
		           has_st && review_num(e, arena_printf(a, "%s_teachers", pre), &te) &&
		                   te > 0
		               ? validate_fmt_num(a, st / te, 1)
		               : "—");
	}
	return list;
}

/* The old value of a field changed since the return, or NULL when unchanged. */
static const char *review_changed(const struct review_change *ch, size_t n, const char *code,
                                  const char *now, bool *changed)
{
	*changed = false;
	for (size_t k = 0; k < n; k++)
		if (strcmp(ch[k].field, code) == 0) {
			const char *old = ch[k].old_raw;
			*changed = !(old && now ? strcmp(old, now) == 0 : old == now);
			return old ? old : "（空）";
		}
	return NULL;
}

/* One row of the values table. */
static struct tv *review_row(struct arena *a, const struct entry *e, const struct form_field *f,
                             const struct validate_out *out, const char *url,
                             const struct review_change *ch, size_t nch,
                             const struct review_view *v, bool can_comment)
{
	struct tv *t = tv_map(a);
	const char *raw = e->cur.raw[f->slot];
	tv_set_str(a, t, "code", f->code);
	tv_set_str(a, t, "label", validate_label(a, f));
	tv_set_str(a, t, "unit", f->unit); /* NULL too: not the page's */
	const char *shown = raw;
	if (raw && f->type == FT_YESNO && e->cur.norm[f->slot])
		shown = strcmp(e->cur.norm[f->slot], "1") == 0 ? "是" : "否";
	tv_set_str(a, t, "value", shown ? shown : "");
	const char *prev = e->has_prev ? e->prev.norm[f->slot] : NULL;
	if (prev && f->type == FT_YESNO)
		prev = strcmp(prev, "1") == 0 ? "是" : "否";
	tv_set_str(a, t, "prev", prev);
	tv_set_str(a, t, "change", NULL);
	if ((f->type == FT_INTEGER || f->type == FT_DECIMAL) && e->has_prev &&
	    e->prev.present[f->slot] && e->cur.present[f->slot] && e->prev.num[f->slot] > 0) {
		double pct =
		    (e->cur.num[f->slot] - e->prev.num[f->slot]) / e->prev.num[f->slot] * 100;
		tv_set_str(
		    a, t, "change",
		    arena_printf(a, "%s%s%%", pct > 0 ? "+" : "", validate_fmt_num(a, pct, 1)));
		/* marked as the form's change warning marks it (0: off) */
		const struct form_def *fd = form_field_form(e->set, f);
		double limit = fd ? fd->change_warning : 0;
		tv_set_bool(a, t, "big_change", limit > 0 && fabs(pct) > limit * 100);
	}
	struct tv *issues = tv_set(a, t, "issues", tv_list(a));
	for (size_t k = 0; k < out->nissues; k++) {
		const struct validate_issue *is = &out->issues[k];
		bool here = false;
		for (size_t j = 0; j < is->nslots && !here; j++)
			here = is->slots[j] == f->slot;
		if (!here)
			continue;
		struct tv *x = tv_push(a, issues, tv_map(a));
		tv_set_str(a, x, "message", is->message);
		tv_set_str(a, x, "kind", is->kind == VK_ERROR ? "error" : "warning");
		tv_set_str(a, x, "explanation", is->explanation);
	}
	tv_set_str(a, t, "history_url",
	           raw ? arena_printf(a, "%s/history/%s", url, f->code) : NULL);
	bool changed;
	const char *old = review_changed(ch, nch, f->code, raw, &changed);
	if (changed) {
		tv_set_bool(a, t, "changed", true);
		tv_set_str(a, t, "old", old);
	}
	if (can_comment) {
		tv_set_str(a, t, "comment_name", arena_printf(a, "c.%s", f->code));
		for (size_t k = 0; k < v->ncomments; k++)
			if (strcmp(v->comments[k].field, f->code) == 0)
				tv_set_str(a, t, "comment", v->comments[k].text);
	}
	return t;
}

/* Render the review page of form i of e. */
static void review_render(struct http_request *req, const struct entry *e, int i, const char *url,
                          const struct review_view *v)
{
	struct arena *a = req->arena;
	const struct entry_sub *sub = &e->subs[i];
	const struct form_def *form = form_find(e->set, sub->form_code);
	const struct user *u = &req->session->user;
	int levels = req->app->cfg.approval_levels;
	char t[32];
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title",
	           arena_printf(a, "审核 · %s · %s", form->name, e->school->name));
	tv_set_str(a, ctx, "url", url);
	tv_set_str(a, ctx, "school_code", e->school->code);
	tv_set_str(a, ctx, "school_name", e->school->name);
	tv_set_str(a, ctx, "period_code", e->period.code);
	tv_set_str(a, ctx, "period_name", e->period.name);
	tv_set_str(a, ctx, "form_name", form->name);
	tv_set_str(a, ctx, "state_code", wf_state_code(sub->state));
	tv_set_str(a, ctx, "state_name", wf_state_name(sub->state));
	tv_set_int(a, ctx, "version", sub->version);
	if (sub->submitted_at)
		tv_set_str(a, ctx, "submitted_at",
		           arena_strdup(a, period_format_time(sub->submitted_at, t, sizeof(t))));
	if (e->has_prev)
		tv_set_str(a, ctx, "prev_name", e->prev_period.name);
	if (v->notice)
		tv_set_str(a, ctx, "notice", v->notice);
	if (v->error)
		tv_set_str(a, ctx, "error", v->error);
	tv_set_str(a, ctx, "reason", v->reason ? v->reason : "");
	/* what this user may do */
	unsigned role = wf_role_of(u);
	const char *why;
	bool approve = wf_next(sub->state, WA_APPROVE, role, levels, &why) != WS_NONE;
	bool ret = wf_next(sub->state, WA_RETURN, role, levels, &why) != WS_NONE;
	bool reopen = wf_next(sub->state, WA_REOPEN, role, levels, &why) != WS_NONE;
	tv_set_bool(a, ctx, "can_approve", approve);
	tv_set_bool(a, ctx, "can_return", ret);
	tv_set_bool(a, ctx, "can_reopen", reopen);
	tv_set_bool(a, ctx, "can_decide", approve || ret || reopen);
	tv_set_str(a, ctx, "approve_label",
	           levels == 2 && sub->state == WS_SUBMITTED ? "区县审核通过（报市级审核）"
	                                                     : "审核通过");
	/* the last return, and what moved since */
	struct review_return rr;
	struct review_change *ch = NULL;
	size_t nch = 0;
	if (sub->id && review_last_return(&req->app->db, a, sub->id, &rr) == 1) {
		struct tv *r = tv_set(a, ctx, "last_return", tv_map(a));
		tv_set_str(a, r, "reason", rr.reason);
		tv_set_str(a, r, "who", rr.who);
		tv_set_str(a, r, "at", arena_strdup(a, period_format_time(rr.at, t, sizeof(t))));
		tv_set_bool(a, r, "reopen", rr.reopen);
		if (sub->state != WS_RETURNED &&
		    review_changes_since(&req->app->db, a, sub->id, rr.version, &ch, &nch) != 0)
			nch = 0;
	}
	struct validate_out out;
	entry_check(a, e, i, NULL, NULL, 0, false, &out);
	struct tv *sections = tv_set(a, ctx, "sections", tv_list(a));
	size_t changed = 0;
	for (size_t s = 0; s < form->nsections; s++) {
		struct tv *sec = tv_map(a);
		tv_set_str(a, sec, "title", form->sections[s].title);
		struct tv *rows = tv_set(a, sec, "rows", tv_list(a));
		for (size_t k = 0; k < form->nfields; k++) {
			const struct form_field *f = form->fields[k];
			if (f->section != (int)s ||
			    !form_field_applies(f, e->school->school_type, e->stages))
				continue;
			struct tv *row = review_row(a, e, f, &out, url, ch, nch, v, ret || reopen);
			changed += tv_get(row, "changed") != NULL;
			tv_push(a, rows, row);
		}
		if (rows->u.list.n)
			tv_push(a, sections, sec);
	}
	tv_set_int(a, ctx, "changed_count", (long long)changed);
	tv_set_bool(a, ctx, "has_changed", changed > 0);
	struct tv *issues = tv_set(a, ctx, "issues", tv_list(a));
	for (size_t k = 0; k < out.nissues; k++) {
		struct tv *x = tv_push(a, issues, tv_map(a));
		tv_set_str(a, x, "message", out.issues[k].message);
		tv_set_str(a, x, "kind", out.issues[k].kind == VK_ERROR ? "error" : "warning");
		tv_set_str(a, x, "explanation", out.issues[k].explanation);
	}
	tv_set_int(a, ctx, "errors", out.errors);
	tv_set_int(a, ctx, "warnings", out.warnings);
	tv_set_int(a, ctx, "unexplained", out.unexplained);
	tv_set_bool(a, ctx, "has_issues", out.nissues > 0);
	tv_set(a, ctx, "figures", review_figures(a, e));
	struct outbox_row *ob;
	size_t nob;
	if (sub->id && outbox_of_submission(&req->app->db, a, sub->id, &ob, &nob) == 0 && nob > 0) {
		struct tv *d = tv_set(a, ctx, "delivery", tv_map(a));
		tv_set_str(a, d, "state_code", outbox_state_code(ob[0].state));
		tv_set_str(a, d, "state_name", outbox_state_name(ob[0].state));
		tv_set_int(a, d, "version", ob[0].version);
		tv_set_int(a, d, "attempts", ob[0].attempts);
		/* set even when absent: a missing key would be looked up on the page */
		tv_set_str(a, d, "error", ob[0].last_error);
		tv_set_str(
		    a, d, "at",
		    ob[0].delivered_at
		        ? arena_strdup(a, period_format_time(ob[0].delivered_at, t, sizeof(t)))
		        : NULL);
	}
	tv_set_bool(a, ctx, "started", sub->id != 0);
	http_render(req, v->status, "review", ctx);
}

/* Load the submission named by the path (the router checked the school's scope). */
static bool review_load(struct http_request *req, struct entry *e, int *i, const char **url)
{
	struct arena *a = req->arena;
	const struct form_set *set = app_forms(req->app);
	struct period p;
	int rc = -1;
	if (set && strcmp(req->unit->kind, "school") == 0 && period_code_valid(req->args[1]))
		rc = period_get(&req->app->db, a, req->args[1], &p);
	else if (set)
		rc = 0;
	if (rc != 1) {
		http_error(req, rc == 0 ? 404 : 503, NULL);
		return false;
	}
	if (entry_open(&req->app->db, a, set, &p, req->unit, e) != 0) {
		http_error(req, 503, NULL);
		return false;
	}
	*i = entry_form(e, req->args[2]);
	if (*i < 0) {
		http_error(req, 404, NULL);
		return false;
	}
	*url = arena_printf(a, "/schools/%s/%s/%s", req->unit->code, p.code, req->args[2]);
	return true;
}

/* GET /schools/{code}/{period}/{form}/review */
void page_review(struct http_request *req)
{
	struct entry e;
	int i;
	const char *url;
	if (!review_load(req, &e, &i, &url))
		return;
	static const struct {
		const char *done, *text;
	} notices[] = {
	    {"approved", "已审核通过。"},
	    {"county_approved", "区县审核通过，已报市级审核。"},
	    {"returned", "已退回，学校会在首页和报表上看到退回原因和逐项意见。"},
	    {"reopened", "已重新打开，学校可以修改后重新上报；重新打开的原因会显示给学校。"},
	};
	struct review_view v = {.status = 200};
	const char *done = http_param(req, "done");
	for (size_t k = 0; done && k < sizeof(notices) / sizeof(notices[0]); k++)
		if (strcmp(done, notices[k].done) == 0)
			v.notice = notices[k].text;
	review_render(req, &e, i, url, &v);
}

/* POST /schools/{code}/{period}/{form}/decide — approve, return or reopen. */
void page_review_decide(struct http_request *req)
{
	struct arena *a = req->arena;
	struct review_decision d = {.school_code = req->unit->code,
	                            .period_code = req->args[1],
	                            .form_code = req->args[2],
	                            .actor = &req->session->user,
	                            .levels = req->app->cfg.approval_levels,
	                            .now = (long long)time(NULL)};
	int action = wf_action_parse(http_form(req, "action"));
	const char *version = http_form(req, "version");
	char *end = NULL;
	d.version = version && *version ? strtoll(version, &end, 10) : -1;
	if (end && *end)
		d.version = -1;
	d.reason = http_form(req, "reason");
	struct review_comment *c = arena_alloc(a, (req->nform + 1) * sizeof(*c));
	for (size_t k = 0; k < req->nform; k++)
		if (strncmp(req->form[k].name, "c.", 2) == 0 && req->form[k].value[0]) {
			c[d.ncomments].field = req->form[k].name + 2;
			c[d.ncomments++].text = req->form[k].value;
		}
	d.comments = c;
	char err[512] = "";
	bool notfound = false;
	enum wf_state to = WS_NONE;
	const struct form_set *set = app_forms(req->app);
	if (!set) {
		http_error(req, 503, NULL);
		return;
	}
	if (action != WA_APPROVE && action != WA_RETURN && action != WA_REOPEN) {
		snprintf(err, sizeof(err), "请选择一个操作：审核通过、退回或重新打开。");
	} else {
		d.action = (enum wf_action)action;
		to = review_decide(&req->app->db, a, set, &d, &notfound, err, sizeof(err));
	}
	if (notfound) {
		http_error(req, 404, NULL);
		return;
	}
	if (to != WS_NONE) {
		const char *done = d.action == WA_REOPEN ? "reopened"
		                   : to == WS_RETURNED   ? "returned"
		                                         : wf_state_code(to);
		http_redirect(req, arena_printf(a, "/schools/%s/%s/%s/review?done=%s",
		                                req->unit->code, req->args[1], req->args[2], done));
		return;
	}
	struct entry e;
	int i;
	const char *url;
	if (!review_load(req, &e, &i, &url))
		return;
	bool missing_reason = action != WA_APPROVE && (!d.reason || !*validate_trim(a, d.reason));
	struct review_view v = {.status = missing_reason ? 422 : 409,
	                        .error = arena_strdup(a, err),
	                        .reason = d.reason,
	                        .comments = d.comments,
	                        .ncomments = d.ncomments};
	review_render(req, &e, i, url, &v);
}

/* page_entry.c — the entry page of one form: show, save, submit, conflicts, kept saves, history. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/entry.h"
#include "../core/log.h"
#include "app.h"
#include "entry_view.h"
#include "pages.h"
#include "router.h"

#define ENTRY_PATTERN "/schools/{code}/{period}/{form}"
#define ENTRY_HISTORY_MAX 200

/* Everything a handler of the entry pages needs, loaded from the path. */
struct entry_page {
	struct entry e;
	int i; /* the form's index in e.subs */
	const struct form_def *form;
	const char *url; /* /schools/CODE/PERIOD/FORM */
};

/* Load the school, period and form named by args (code, period, form) for a
 * user whose scope the router (or the caller) has checked; answers 404/503
 * itself and returns false when it cannot. */
static bool entry_page_load(struct http_request *req, const struct org_unit *school,
                            const char *period_code, const char *form_code, struct entry_page *pg)
{
	struct arena *a = req->arena;
	if (strcmp(school->kind, "school") != 0 || !period_code_valid(period_code)) {
		http_error(req, 404, NULL);
		return false;
	}
	const struct form_set *set = app_forms(req->app);
	if (!set) {
		http_error(req, 503, NULL);
		return false;
	}
	struct period p;
	int rc = period_get(&req->app->db, a, period_code, &p);
	if (rc != 1) {
		http_error(req, rc == 0 ? 404 : 503, NULL);
		return false;
	}
	if (entry_open(&req->app->db, a, set, &p, school, &pg->e) != 0) {
		http_error(req, 503, NULL);
		return false;
	}
	pg->i = entry_form(&pg->e, form_code);
	if (pg->i < 0) {
		http_error(req, 404, NULL);
		return false;
	}
	pg->form = form_find(set, form_code);
	pg->url = arena_printf(a, "/schools/%s/%s/%s", school->code, p.code, form_code);
	return true;
}

/* The first value of a parameter in a list, or NULL. */
static const char *entry_param(const struct http_param *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

/* A non-negative integer parameter, or -1. */
static long long entry_param_int(const struct http_param *p, size_t n, const char *name)
{
	const char *v = entry_param(p, n, name);
	if (!v || !*v || strlen(v) > 15)
		return -1;
	char *end;
	long long x = strtoll(v, &end, 10);
	return *end || x < 0 ? -1 : x;
}

/* Parse a kept body with the limits of a posted one; false when it does not parse. */
static bool entry_kept_parse(struct arena *a, const char *body, struct http_param **p, size_t *n)
{
	const struct urlenc_limits lim = {http_default_limits.max_fields,
	                                  http_default_limits.max_name,
	                                  http_default_limits.max_value};
	return urlenc_parse(a, body, strlen(body), &lim, p, n) == URLENC_OK;
}

/* What a posted body (or a kept one) says: the values of the form's fields
 * ("v.<code>"), the 说明 ("x.<rule code with ':' as '.'>"), the version and
 * whether to submit. */
static void entry_posted(struct arena *a, const struct entry_page *pg, const struct http_param *p,
                         size_t n, struct entry_save *s)
{
	size_t nslots = form_nslots(pg->e.set);
	const char **raw = arena_alloc(a, (nslots ? nslots : 1) * sizeof(*raw));
	for (size_t k = 0; k < pg->form->nfields; k++) {
		const struct form_field *f = pg->form->fields[k];
		raw[f->slot] = entry_param(p, n, arena_printf(a, "v.%s", f->code));
	}
	struct validate_expl *x = arena_alloc(a, (n ? n : 1) * sizeof(*x));
	size_t nx = 0;
	for (size_t k = 0; k < n; k++) {
		if (strncmp(p[k].name, "x.", 2) != 0 || !p[k].name[2])
			continue;
		char *code = arena_strdup(a, p[k].name + 2);
		for (char *c = code; *c; c++)
			if (*c == '.')
				*c = ':';
		x[nx].code = code;
		x[nx].text = p[k].value;
		nx++;
	}
	memset(s, 0, sizeof(*s));
	s->raw = raw;
	s->expl = x;
	s->nexpl = nx;
	s->version = entry_param_int(p, n, "version");
	const char *action = entry_param(p, n, "action");
	s->submit = action && strcmp(action, "submit") == 0;
}

/* Why the school cannot change this form now (NULL when it can). */
static const char *entry_readonly_reason(struct http_request *req, const struct entry_page *pg,
                                         long long now)
{
	struct arena *a = req->arena;
	const struct entry_sub *sub = &pg->e.subs[pg->i];
	char t[32];
	if (strcmp(req->session->user.role, "school") != 0)
		return "只读视图：只有本校的填报员可以修改本表。";
	if (sub->state == WS_SUBMITTED)
		return arena_printf(
		    a,
		    "本表已于 %s "
		    "上报，正在等待区县审核，不能修改。如需修改，请联系区县审核员退回。",
		    period_format_time(sub->submitted_at, t, sizeof(t)));
	if (sub->state == WS_COUNTY_APPROVED)
		return "本表已由区县审核通过，正在等待市级审核，不能修改。";
	if (sub->state == WS_APPROVED)
		return "本表已审核通过，不能修改。如确需修改，请联系区县审核员重新打开。";
	switch (period_window(&pg->e.period, now)) {
	case PW_NOT_YET:
		return arena_printf(a, "填报尚未开始：%s 开始填报。现在可以查看，但不能修改。",
		                    period_format_time(pg->e.period.opens_at, t, sizeof(t)));
	case PW_CLOSED:
		return arena_printf(
		    a, "填报已于 %s 截止，不能再修改。如确需修改，请联系区县教育局延长填报时间。",
		    period_format_time(pg->e.period.closes_at, t, sizeof(t)));
	default:
		return NULL;
	}
}

/* The notice for ?saved, ?submitted, ?blocked and ?restored after a redirect. */
static const char *entry_notice(struct http_request *req, const struct entry_page *pg,
                                const struct validate_out *out)
{
	struct arena *a = req->arena;
	const struct entry_sub *sub = &pg->e.subs[pg->i];
	if (http_param(req, "submitted"))
		return "已上报。区县审核员审核期间本表不能修改；审核结果会在首页显示。";
	if (http_param(req, "restored"))
		return "登录超时前您提交的内容已恢复并保存为草稿，请检查后继续填写。";
	if (http_param(req, "saved")) {
		if (out->errors > 0)
			return arena_printf(
			    a, "已保存为草稿（第 %lld 版）。还有 %d 个错误，改正后才能上报。",
			    sub->version, out->errors);
		return arena_printf(a, "已保存为草稿（第 %lld 版）。", sub->version);
	}
	return NULL;
}

/* The error for ?blocked: why the form could not be submitted. */
static const char *entry_blocked(struct arena *a, const struct validate_out *out)
{
	int req_missing = validate_missing(out);
	int errors = out->errors - req_missing;
	return arena_printf(
	    a,
	    "未能上报，已保存为草稿：还有 %d 个错误、%d 个警告未填写说明、%d 个必填项未填写。"
	    "请按下方列出的问题逐项处理后再上报。",
	    errors, out->unexplained, req_missing);
}

/* GET /schools/{code}/{period}/{form} — the entry page; ?pending=ID shows a kept save. */
void page_entry(struct http_request *req)
{
	struct entry_page pg;
	if (!entry_page_load(req, req->unit, req->args[1], req->args[2], &pg))
		return;
	struct arena *a = req->arena;
	long long now = (long long)time(NULL);
	if (http_param(req, "pending")) {
		long long id = entry_param_int(req->query_params, req->nquery, "pending");
		const char *path, *body;
		struct http_param *p;
		size_t n;
		if (id <= 0 ||
		    entry_pending_get(&req->app->db, a, req->session->user.id, id, &path, &body) !=
		        1 ||
		    strcmp(path, pg.url) != 0 || !entry_kept_parse(a, body, &p, &n)) {
			http_redirect(req, pg.url);
			return;
		}
		struct entry_save s;
		entry_posted(a, &pg, p, n, &s);
		entry_view_conflict(req, &pg.e, pg.i, pg.url, &s, id,
		                    entry_readonly_reason(req, &pg, now), 200);
		return;
	}
	bool blocked = http_param(req, "blocked") != NULL;
	struct validate_out out;
	entry_check(a, &pg.e, pg.i, NULL, NULL, 0, blocked, &out);
	struct review_return ret;
	const struct entry_sub *sub = &pg.e.subs[pg.i];
	bool returned =
	    sub->state == WS_RETURNED && review_last_return(&req->app->db, a, sub->id, &ret) == 1;
	struct entry_view v = {
	    .status = 200,
	    .readonly_reason = entry_readonly_reason(req, &pg, now),
	    .notice = entry_notice(req, &pg, &out),
	    .error = blocked ? entry_blocked(a, &out) : NULL,
	    .version = sub->version,
	    .ret = returned ? &ret : NULL,
	};
	entry_view_render(req, &pg.e, pg.i, pg.url, &v, &out);
}

/* Render the page again with what the user posted and an error (nothing was saved). */
static void entry_refused(struct http_request *req, struct entry_page *pg,
                          const struct entry_save *s, int status, const char *error)
{
	struct validate_out out;
	entry_check(req->arena, &pg->e, pg->i, s->raw, s->expl, s->nexpl, false, &out);
	struct entry_view v = {
	    .status = status,
	    .error = error,
	    .raw = s->raw,
	    .expl = s->expl,
	    .nexpl = s->nexpl,
	    .keep_input = true,
	    .version = s->version,
	};
	entry_view_render(req, &pg->e, pg->i, pg->url, &v, &out);
}

/* Save (and maybe submit) posted values; answer with a redirect or a page. */
static void entry_do_save(struct http_request *req, struct entry_page *pg, struct entry_save *s)
{
	struct arena *a = req->arena;
	long long now = (long long)time(NULL);
	char t[32];
	s->user_id = req->session->user.id;
	s->actor = req->session->user.login;
	s->now = now;
	struct validate_out out;
	int changed = 0;
	enum entry_result r = entry_save(&req->app->db, a, &pg->e, pg->i, s, &out, &changed);
	switch (r) {
	case ER_SAVED:
		http_redirect(req, arena_printf(a, "%s?saved=1", pg->url));
		return;
	case ER_SUBMITTED:
		http_redirect(req, arena_printf(a, "%s?submitted=1", pg->url));
		return;
	case ER_BLOCKED:
		http_redirect(req, arena_printf(a, "%s?blocked=1", pg->url));
		return;
	case ER_CONFLICT:
		entry_view_conflict(req, &pg->e, pg->i, pg->url, s, s->pending_id, NULL, 409);
		return;
	case ER_READONLY:
		entry_view_conflict(req, &pg->e, pg->i, pg->url, s, s->pending_id,
		                    entry_readonly_reason(req, pg, now), 409);
		return;
	case ER_CLOSED:
		entry_refused(
		    req, pg, s, 403,
		    period_window(&pg->e.period, now) == PW_NOT_YET
		        ? arena_printf(
		              a,
		              "填报尚未开始（%s 开始），您的修改没有保存。您填写的内容仍在下方。",
		              period_format_time(pg->e.period.opens_at, t, sizeof(t)))
		        : arena_printf(a,
		                       "填报已于 %s 截止，您的修改没有保存。您填写的内容仍在下方，"
		                       "请联系区县教育局延长填报时间后再保存。",
		                       period_format_time(pg->e.period.closes_at, t, sizeof(t))));
		return;
	case ER_DB:
	default:
		log_error("%s: save failed (user %s)", pg->url, req->session->user.login);
		entry_refused(req, pg, s, 503,
		              "保存失败：系统暂时繁忙，您的修改没有保存。您填写的内容仍在下方，请稍"
		              "后再点击“保存草稿”。");
		return;
	}
}

/* POST /schools/{code}/{period}/{form} — save the draft, or save and submit. */
void page_entry_save(struct http_request *req)
{
	struct entry_page pg;
	if (!entry_page_load(req, req->unit, req->args[1], req->args[2], &pg))
		return;
	struct entry_save s;
	entry_posted(req->arena, &pg, req->form, req->nform, &s);
	long long pending = entry_param_int(req->form, req->nform, "pending");
	s.pending_id = pending > 0 ? pending : 0;
	entry_do_save(req, &pg, &s);
}

/* POST /schools/{code}/{period}/{form}/discard — forget a kept save. */
void page_entry_discard(struct http_request *req)
{
	struct entry_page pg;
	if (!entry_page_load(req, req->unit, req->args[1], req->args[2], &pg))
		return;
	long long id = entry_param_int(req->form, req->nform, "pending");
	if (id > 0 && !entry_pending_drop(&req->app->db, req->session->user.id, id)) {
		http_error(req, 503, NULL);
		return;
	}
	http_redirect(req, pg.url);
}

/* After a login: apply the oldest save the user posted while the session was
 * expiring. Returns where to go next, or NULL when nothing was kept. The save is
 * applied as a draft save (never a submission); a conflict, a closed period or a
 * failure leaves it kept and leads to the page that shows it. */
const char *entry_resume(struct http_request *req, const struct user *u)
{
	struct arena *a = req->arena;
	long long id;
	const char *path, *body;
	if (entry_pending_next(&req->app->db, a, u->id, (long long)time(NULL), &id, &path, &body) !=
	    1)
		return NULL;
	const char *args[4];
	size_t nargs = 0;
	struct org_unit school;
	if (!route_match(ENTRY_PATTERN, path, a, args, 4, &nargs) ||
	    ou_get_by_code(&req->app->db, a, args[0], &school) != 1 ||
	    !ou_in_scope(&req->app->db, u->org_unit_id, school.id) ||
	    strcmp(u->role, "school") != 0) {
		entry_pending_drop(&req->app->db, u->id, id);
		return NULL;
	}
	struct entry_page pg;
	struct http_param *p;
	size_t n;
	if (!entry_kept_parse(a, body, &p, &n)) {
		entry_pending_drop(&req->app->db, u->id, id);
		return NULL;
	}
	/* entry_page_load answers errors into the response; a redirect replaces it. A
	 * form that is no longer there (404) will not come back: its save is dropped. */
	if (!entry_page_load(req, &school, args[1], args[2], &pg)) {
		if (req->res->status == 404)
			entry_pending_drop(&req->app->db, u->id, id);
		return "/";
	}
	struct entry_save s;
	entry_posted(a, &pg, p, n, &s);
	s.submit = false;
	s.pending_id = id;
	s.user_id = u->id;
	s.actor = u->login;
	s.now = (long long)time(NULL);
	struct validate_out out;
	int changed;
	enum entry_result r = entry_save(&req->app->db, a, &pg.e, pg.i, &s, &out, &changed);
	if (r == ER_SAVED || r == ER_BLOCKED) {
		log_info("%s: applied the save kept for %s", pg.url, u->login);
		return arena_printf(a, "%s?restored=1", pg.url);
	}
	return arena_printf(a, "%s?pending=%lld", pg.url, id);
}

/* GET /schools/{code}/{period}/{form}/history/{field} — the changes of one value. */
void page_entry_history(struct http_request *req)
{
	struct entry_page pg;
	if (!entry_page_load(req, req->unit, req->args[1], req->args[2], &pg))
		return;
	struct arena *a = req->arena;
	const struct form_field *f = form_field_find(pg.e.set, req->args[3]);
	bool in_form = false;
	for (size_t k = 0; f && k < pg.form->nfields; k++)
		in_form = in_form || pg.form->fields[k] == f;
	if (!in_form || !form_field_applies(f, pg.e.school->school_type, pg.e.stages)) {
		http_error(req, 404, NULL);
		return;
	}
	struct entry_change *list = NULL;
	size_t n = 0;
	const struct entry_sub *sub = &pg.e.subs[pg.i];
	if (sub->id &&
	    entry_history(&req->app->db, a, sub->id, f->code, ENTRY_HISTORY_MAX, &list, &n) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	entry_view_history(req, &pg.e, pg.i, pg.url, f, list, n);
}

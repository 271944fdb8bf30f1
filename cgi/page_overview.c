/* page_overview.c — the reviewers' overview of a period: every school × form, filters, sorting,
 * counts, and bulk approval. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/overview.h"
#include "../core/review.h"
#include "app.h"
#include "pages.h"

#define OVERVIEW_MAX_BULK 2000 /* submissions approved in one go */

/* What the query string asks for: period, filters and sorting. */
struct overview_query {
	const char *period; /* code, or NULL for the current period */
	const char *form;   /* filter/sort form code, or NULL */
	const char *state;  /* a wf_state_code, "late", or NULL */
	const char *type;   /* 办学类型 code, or NULL */
	const char *ur;     /* 城区, 镇区, 乡村, or NULL */
	const char *sort;   /* code, name, type, ur, form, submitted, overdue */
	bool desc;
};

/* Sort order of states: not started first, approved last. */
static int overview_state_rank(enum wf_state s)
{
	static const int rank[WF_NSTATES] = {
	    [WS_NONE] = 0,      [WS_DRAFT] = 1,           [WS_RETURNED] = 2,
	    [WS_SUBMITTED] = 3, [WS_COUNTY_APPROVED] = 4, [WS_APPROVED] = 5};
	return rank[s];
}

/* What sorting compares: the query, the form column, and the deadline. */
struct overview_sort {
	const struct overview_query *q;
	size_t form; /* index of the sorted form */
	long long closes_at, now;
};

/* Days a school is overdue: since the deadline, while a form is not reported. */
static long long overview_overdue(const struct overview_row *r, long long closes_at, long long now)
{
	if (r->complete || now <= closes_at)
		return 0;
	return (now - closes_at + 86399) / 86400;
}

/* Compare two strings that may be NULL. */
static int overview_strcmp(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* qsort_r comparator over overview rows. */
static int overview_cmp(const void *x, const void *y, void *arg)
{
	const struct overview_row *a = x, *b = y;
	const struct overview_sort *s = arg;
	const char *key = s->q->sort ? s->q->sort : "code";
	int c = 0;
	if (strcmp(key, "name") == 0)
		c = overview_strcmp(a->school->name, b->school->name);
	else if (strcmp(key, "type") == 0)
		c = overview_strcmp(a->school->school_type, b->school->school_type);
	else if (strcmp(key, "ur") == 0)
		c = overview_strcmp(a->school->urban_rural, b->school->urban_rural);
	else if (strcmp(key, "form") == 0)
		c = overview_state_rank(a->cells[s->form].state) -
		    overview_state_rank(b->cells[s->form].state);
	else if (strcmp(key, "submitted") == 0)
		c = (a->last_submitted > b->last_submitted) -
		    (a->last_submitted < b->last_submitted);
	else if (strcmp(key, "overdue") == 0) {
		long long i = overview_overdue(a, s->closes_at, s->now);
		long long j = overview_overdue(b, s->closes_at, s->now);
		c = (i > j) - (i < j);
	}
	if (c == 0)
		c = overview_strcmp(a->school->code, b->school->code);
	return s->q->desc ? -c : c;
}

/* Does a row pass the filters? */
static bool overview_keep(const struct overview_row *r, const struct overview_query *q, int form,
                          size_t nforms, long long closes_at, long long now)
{
	const struct org_unit *s = r->school;
	if (q->type && *q->type && overview_strcmp(s->school_type, q->type) != 0)
		return false;
	if (q->ur && *q->ur) {
		const char *g = s->urban_rural ? ou_urban_rural_group(s->urban_rural) : NULL;
		if (overview_strcmp(g, q->ur) != 0)
			return false;
	}
	if (!q->state || !*q->state)
		return true;
	if (strcmp(q->state, "late") == 0)
		return overview_overdue(r, closes_at, now) > 0;
	enum wf_state want = wf_state_parse(q->state);
	if (want == WS_NONE && strcmp(q->state, "none") != 0)
		return true; /* an unknown filter is ignored */
	for (size_t k = 0; k < nforms; k++)
		if ((form < 0 || (size_t)form == k) && r->cells[k].state == want)
			return true;
	return false;
}

/* The link of a page of the overview with the query changed: sort by `sort`
 * (toggling the direction when it is already the key). */
static const char *overview_link(struct arena *a, const struct overview_query *q, const char *sort,
                                 const char *form)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, "/review?");
	const char *keys[] = {"period", "state", "type", "ur"};
	const char *vals[] = {q->period, q->state, q->type, q->ur};
	for (size_t i = 0; i < 4; i++)
		if (vals[i] && *vals[i]) {
			buf_printf(&b, "%s=", keys[i]);
			buf_urlencode(&b, vals[i], strlen(vals[i]));
			buf_putc(&b, '&');
		}
	if (form) {
		buf_puts(&b, "form=");
		buf_urlencode(&b, form, strlen(form));
		buf_putc(&b, '&');
	}
	bool same =
	    q->sort && strcmp(q->sort, sort) == 0 && (!form || overview_strcmp(q->form, form) == 0);
	buf_printf(&b, "sort=%s%s", sort, same && !q->desc ? "&dir=desc" : "");
	const char *s = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return s;
}

/* One school row of the table; form_names[k] names the period's k-th form. */
static struct tv *overview_row_tv(struct http_request *req, const struct period *p,
                                  const char *const *form_names, const struct overview_row *r,
                                  bool city, long long now, unsigned role, int levels)
{
	struct arena *a = req->arena;
	const struct org_unit *s = r->school;
	struct tv *t = tv_map(a);
	tv_set_str(a, t, "code", s->code);
	tv_set_str(a, t, "name", s->name);
	const char *tn = ou_school_type_name(s->school_type);
	tv_set_str(a, t, "type_name", tn ? tn : "");
	const char *g = s->urban_rural ? ou_urban_rural_group(s->urban_rural) : NULL;
	tv_set_str(a, t, "ur", g ? g : "");
	if (city)
		tv_set_str(a, t, "county", s->parent_name ? s->parent_name : "");
	long long overdue = overview_overdue(r, p->closes_at, now);
	if (overdue)
		tv_set_int(a, t, "overdue", overdue);
	tv_set_str(a, t, "class",
	           overdue && !r->started ? "late-none"
	           : overdue              ? "late"
	           : !r->started          ? "not-started"
	                                  : "");
	if (r->last_submitted) {
		char buf[32];
		tv_set_str(
		    a, t, "submitted",
		    arena_strdup(a, period_format_time(r->last_submitted, buf, sizeof(buf))));
	}
	struct tv *cells = tv_set(a, t, "cells", tv_list(a));
	for (size_t k = 0; k < p->nforms; k++) {
		const struct overview_cell *c = &r->cells[k];
		struct tv *x = tv_push(a, cells, tv_map(a));
		tv_set_str(a, x, "form_name", form_names[k]);
		tv_set_str(a, x, "state_code", wf_state_code(c->state));
		tv_set_str(a, x, "state_name", wf_state_name(c->state));
		tv_set_str(a, x, "url",
		           arena_printf(a, "/schools/%s/%s/%s%s", s->code, p->code, p->forms[k],
		                        c->id ? "/review" : ""));
		if (c->id) {
			tv_set_int(a, x, "errors", c->errors);
			tv_set_int(a, x, "warnings", c->warnings);
			tv_set_bool(a, x, "has_problems", c->errors > 0 || c->warnings > 0);
		}
		const char *why;
		bool approvable =
		    c->id && wf_next(c->state, WA_APPROVE, role, levels, &why) != WS_NONE;
		if (approvable) {
			tv_set_str(a, x, "bulk",
			           arena_printf(a, "%s:%s:%lld", s->code, p->forms[k], c->version));
			tv_set_bool(a, x, "clean", c->errors == 0 && c->unexplained == 0);
		}
	}
	return t;
}

/* The filter choices: states, school types and 城乡 groups, each marked when chosen. */
static void overview_choices(struct arena *a, struct tv *ctx, const struct overview_query *q,
                             const struct period *p, const struct form_set *set)
{
	static const char *const states[][2] = {{"none", "未填写"},
	                                        {"draft", "草稿"},
	                                        {"submitted", "已上报（待审核）"},
	                                        {"county_approved", "区县已审核"},
	                                        {"returned", "已退回"},
	                                        {"approved", "已审核"},
	                                        {"late", "逾期未完成"}};
	struct tv *list = tv_set(a, ctx, "state_choices", tv_list(a));
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		struct tv *c = tv_push(a, list, tv_map(a));
		tv_set_str(a, c, "value", states[i][0]);
		tv_set_str(a, c, "label", states[i][1]);
		tv_set_bool(a, c, "selected", overview_strcmp(q->state, states[i][0]) == 0);
	}
	list = tv_set(a, ctx, "type_choices", tv_list(a));
	const char *type;
	for (size_t i = 0; (type = ou_school_type_at(i)); i++) {
		struct tv *c = tv_push(a, list, tv_map(a));
		tv_set_str(a, c, "value", type);
		tv_set_str(a, c, "label", ou_school_type_name(type));
		tv_set_bool(a, c, "selected", overview_strcmp(q->type, type) == 0);
	}
	static const char *const urs[] = {"城区", "镇区", "乡村"};
	list = tv_set(a, ctx, "ur_choices", tv_list(a));
	for (size_t i = 0; i < 3; i++) {
		struct tv *c = tv_push(a, list, tv_map(a));
		tv_set_str(a, c, "value", urs[i]);
		tv_set_bool(a, c, "selected", overview_strcmp(q->ur, urs[i]) == 0);
	}
	list = tv_set(a, ctx, "form_choices", tv_list(a));
	for (size_t k = 0; k < p->nforms; k++) {
		const struct form_def *f = form_find(set, p->forms[k]);
		struct tv *c = tv_push(a, list, tv_map(a));
		tv_set_str(a, c, "value", p->forms[k]);
		tv_set_str(a, c, "label", f ? f->name : p->forms[k]);
		tv_set_bool(a, c, "selected", overview_strcmp(q->form, p->forms[k]) == 0);
	}
}

/* The counts at the top: per form, how many schools reported, were approved, ... */
static void overview_counts(struct arena *a, struct tv *ctx, const struct period *p,
                            const struct form_set *set, const struct overview_row *rows, size_t n)
{
	struct tv *list = tv_set(a, ctx, "counts", tv_list(a));
	for (size_t k = 0; k < p->nforms; k++) {
		struct overview_count c;
		overview_count(rows, n, k, &c);
		const struct form_def *f = form_find(set, p->forms[k]);
		struct tv *t = tv_push(a, list, tv_map(a));
		tv_set_str(a, t, "form", f ? f->name : p->forms[k]);
		tv_set_int(a, t, "total", c.total);
		tv_set_int(a, t, "reported", c.reported);
		tv_set_int(a, t, "approved", c.approved);
		tv_set_int(a, t, "county_approved", c.county_approved);
		tv_set_int(a, t, "waiting", c.submitted);
		tv_set_int(a, t, "returned", c.returned);
		tv_set_int(a, t, "draft", c.draft);
		tv_set_int(a, t, "none", c.none);
	}
}

/* GET /review (and the reviewer's home page): the overview of a period. */
void page_overview(struct http_request *req)
{
	struct arena *a = req->arena;
	const struct user *u = &req->session->user;
	long long now = (long long)time(NULL);
	struct overview_query q = {
	    .period = http_param(req, "period"),
	    .form = http_param(req, "form"),
	    .state = http_param(req, "state"),
	    .type = http_param(req, "type"),
	    .ur = http_param(req, "ur"),
	    .sort = http_param(req, "sort"),
	};
	const char *dir = http_param(req, "dir");
	q.desc = dir && strcmp(dir, "desc") == 0;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", arena_printf(a, "%s · 学校列表", u->org_name));
	const struct form_set *set = app_forms(req->app);
	struct period p;
	int rc =
	    !set ? -1
	    : q.period && *q.period
	        ? (period_code_valid(q.period) ? period_get(&req->app->db, a, q.period, &p) : 0)
	        : period_current(&req->app->db, a, now, &p);
	if (rc < 0) {
		http_error(req, 503, NULL);
		return;
	}
	if (rc == 0 && q.period && *q.period) {
		http_error(req, 404, "没有这个填报周期。");
		return;
	}
	if (rc == 0)
		memset(&p, 0, sizeof(p)); /* no period open: the schools without forms */
	struct overview_row *rows;
	size_t n;
	if (overview_load(&req->app->db, a, &p, u->org_unit_id, &rows, &n) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	int form = -1;
	for (size_t k = 0; q.form && k < p.nforms; k++)
		if (strcmp(p.forms[k], q.form) == 0)
			form = (int)k;
	struct overview_sort so = {
	    .q = &q, .form = form >= 0 ? (size_t)form : 0, .closes_at = p.closes_at, .now = now};
	if (q.sort && strcmp(q.sort, "form") == 0 && form < 0)
		q.sort = "code";
	qsort_r(rows, n, sizeof(*rows), overview_cmp, &so);
	bool city = strcmp(u->org_kind, "city") == 0;
	unsigned role = wf_role_of(u);
	const char **form_names = arena_alloc(a, (p.nforms ? p.nforms : 1) * sizeof(*form_names));
	for (size_t k = 0; k < p.nforms; k++) {
		const struct form_def *fd = form_find(set, p.forms[k]);
		form_names[k] = fd ? fd->name : p.forms[k];
	}
	struct tv *list = tv_set(a, ctx, "schools", tv_list(a));
	size_t shown = 0, bulk = 0;
	for (size_t i = 0; i < n; i++) {
		if (rc == 1 && !overview_keep(&rows[i], &q, form, p.nforms, p.closes_at, now))
			continue;
		struct tv *row = overview_row_tv(req, &p, form_names, &rows[i], city, now, role,
		                                 req->app->cfg.approval_levels);
		tv_push(a, list, row);
		shown++;
		for (size_t k = 0; k < p.nforms; k++)
			bulk += tv_get(tv_get(row, "cells")->u.list.items[k], "bulk") != NULL;
	}
	tv_set_int(a, ctx, "school_count", (long long)n);
	tv_set_int(a, ctx, "shown", (long long)shown);
	tv_set_bool(a, ctx, "filtered", shown != n);
	tv_set_bool(a, ctx, "city", city);
	tv_set_bool(a, ctx, "can_bulk", bulk > 0);
	if (rc == 1) {
		char t[32];
		struct tv *pt = tv_set(a, ctx, "period", tv_map(a));
		tv_set_str(a, pt, "code", p.code);
		tv_set_str(a, pt, "name", p.name);
		tv_set_str(a, pt, "closes",
		           arena_strdup(a, period_format_time(p.closes_at, t, sizeof(t))));
		tv_set_bool(a, pt, "closed", now >= p.closes_at);
		struct tv *heads = tv_set(a, ctx, "form_heads", tv_list(a));
		for (size_t k = 0; k < p.nforms; k++) {
			const struct form_def *f = form_find(set, p.forms[k]);
			struct tv *h = tv_push(a, heads, tv_map(a));
			tv_set_str(a, h, "name", f ? f->name : p.forms[k]);
			tv_set_str(a, h, "sort_url", overview_link(a, &q, "form", p.forms[k]));
			tv_set_str(a, h, "code", p.forms[k]);
		}
		overview_counts(a, ctx, &p, set, rows, n);
		overview_choices(a, ctx, &q, &p, set);
		struct period *periods;
		size_t np;
		if (period_list(&req->app->db, a, &periods, &np) == 0) {
			struct tv *pl = tv_set(a, ctx, "periods", tv_list(a));
			for (size_t i = 0; i < np; i++) {
				struct tv *c = tv_push(a, pl, tv_map(a));
				tv_set_str(a, c, "code", periods[i].code);
				tv_set_str(a, c, "name", periods[i].name);
				tv_set_bool(a, c, "selected", strcmp(periods[i].code, p.code) == 0);
			}
		}
	}
	static const char *const sorts[] = {"code", "name", "type", "ur", "submitted", "overdue"};
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		tv_set_str(a, ctx, arena_printf(a, "sort_%s", sorts[i]),
		           overview_link(a, &q, sorts[i], NULL));
	if (http_param(req, "bulk_done"))
		tv_set_str(a, ctx, "notice", "批量审核已完成，结果见下方。");
	http_render(req, 200, "review_overview", ctx);
}

/* POST /review/approve — approve the selected submissions that are clean; list the others. */
void page_overview_bulk(struct http_request *req)
{
	struct arena *a = req->arena;
	const struct form_set *set = app_forms(req->app);
	if (!set) {
		http_error(req, 503, NULL);
		return;
	}
	const char *period = http_form(req, "period");
	if (period && !period_code_valid(period))
		period = NULL;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "批量审核结果");
	struct tv *done = tv_set(a, ctx, "approved", tv_list(a));
	struct tv *skipped = tv_set(a, ctx, "skipped", tv_list(a));
	struct period p;
	if (period && period_get(&req->app->db, a, period, &p) != 1)
		period = NULL;
	/* each decision loads a submission: its memory goes when the next one starts */
	struct arena tmp;
	arena_init(&tmp, 64 * 1024);
	size_t seen = 0;
	for (size_t i = 0; period && i < req->nform && seen < OVERVIEW_MAX_BULK; i++) {
		arena_reset(&tmp);
		if (strcmp(req->form[i].name, "s") != 0)
			continue;
		seen++;
		/* "school:form:version" */
		char *v = arena_strdup(a, req->form[i].value);
		char *form = strchr(v, ':');
		char *ver = form ? strchr(form + 1, ':') : NULL;
		if (!ver)
			continue;
		*form++ = '\0';
		*ver++ = '\0';
		struct tv *item = tv_map(a);
		tv_set_str(a, item, "school", v);
		const struct form_def *fd = form_find(set, form);
		tv_set_str(a, item, "form", fd ? fd->name : form);
		char *end;
		long long version = strtoll(ver, &end, 10);
		if (*end || !*ver)
			version = -1;
		/* the stored counts decide whether it is clean: errors, unexplained warnings; a
		 * school outside the user's scope is not named, nor looked at */
		struct org_unit school;
		int errors = 0, unexplained = 0;
		bool known = ou_get_by_code(&req->app->db, &tmp, v, &school) == 1 &&
		             ou_in_scope(&req->app->db, req->session->user.org_unit_id, school.id);
		if (known && overview_sub_counts(&req->app->db, school.id, p.id, form, &errors,
		                                 &unexplained) < 0)
			known = false;
		tv_set_str(a, item, "name", known ? arena_strdup(a, school.name) : v);
		if (known && (errors > 0 || unexplained > 0)) {
			tv_set_str(a, item, "why",
			           errors > 0
			               ? arena_printf(a, "有 %d 个错误，请逐份审核后退回。", errors)
			               : arena_printf(a, "有 %d 个警告没有说明，请逐份审核。",
			                              unexplained));
			tv_push(a, skipped, item);
			continue;
		}
		struct review_decision d = {.school_code = v,
		                            .period_code = period,
		                            .form_code = form,
		                            .action = WA_APPROVE,
		                            .version = version,
		                            .actor = &req->session->user,
		                            .levels = req->app->cfg.approval_levels,
		                            .now = (long long)time(NULL)};
		char err[256];
		bool notfound;
		enum wf_state to =
		    review_decide(&req->app->db, &tmp, set, &d, &notfound, err, sizeof(err));
		if (to == WS_NONE) {
			tv_set_str(a, item, "why", arena_strdup(a, err));
			tv_push(a, skipped, item);
		} else {
			tv_set_str(a, item, "state", wf_state_name(to));
			tv_push(a, done, item);
		}
	}
	arena_free(&tmp);
	tv_set_int(a, ctx, "approved_count", (long long)done->u.list.n);
	tv_set_int(a, ctx, "skipped_count", (long long)skipped->u.list.n);
	tv_set_bool(a, ctx, "none", seen == 0);
	tv_set_str(a, ctx, "back",
	           period ? arena_printf(a, "/review?period=%s", period) : "/review");
	http_render(req, 200, "review_bulk", ctx);
}

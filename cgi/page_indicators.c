/* page_indicators.c — the indicator dashboards (county, city), a school's own indicators, and
 * their exports. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/export.h"
#include "../core/measure.h"
#include "../core/validate.h"
#include "app.h"
#include "pages.h"

#define IND_FAILING_SHOWN 40  /* failing schools listed per target indicator */
#define IND_FAILING_STAGE 200 /* ... and per 优质均衡 stage (a county's, not a city's) */

/* What a dashboard is computed from. */
struct ind_page {
	const struct ind_sets *defs;
	struct period p;
	bool has_prev;
	struct period prev;
	bool provisional;
	struct ms_result r, rp; /* this period, and the previous one (when has_prev) */
	const char **form_of;   /* per column: the form holding its first field */
};

/* Decimals to show for a column's values. */
static int ind_decimals(const struct ms_col *c)
{
	return c->ind->factor >= 1000 ? 0 : 2;
}

/* "≥ 4.2" for a threshold. */
static const char *ind_target(struct arena *a, const struct ms_col *c)
{
	return arena_printf(a, "%s %s", c->ind->dir == ID_GE ? "≥" : "≤",
	                    validate_fmt_num(a, c->threshold, 3));
}

/* The form of each column's first field, for links to the submissions. */
static const char **ind_forms_of(struct arena *a, const struct ms_result *r)
{
	const char **out = arena_alloc(a, (r->ncols ? r->ncols : 1) * sizeof(*out));
	for (size_t k = 0; k < r->ncols; k++) {
		int slots[EXPR_MAX_NODES];
		size_t n = expr_slots(r->cols[k].ind->num[r->cols[k].st], slots, EXPR_MAX_NODES);
		for (size_t j = 0; j < n && j < EXPR_MAX_NODES && !out[k]; j++) {
			const struct form_def *f = form_field_form(
			    r->defs->forms, form_field_at(r->defs->forms, slots[j]));
			if (f)
				out[k] = f->code;
		}
	}
	return out;
}

/* Load the definitions, the period (?period=, else the current one) and compute
 * it over scope_id, and the previous period too when `compare`; answers errors
 * itself. */
static bool ind_page_load(struct http_request *req, long long scope_id, bool compare,
                          struct ind_page *pg)
{
	struct arena *a = req->arena;
	memset(pg, 0, sizeof(*pg));
	pg->defs = app_indicators(req->app);
	const char *code = http_param(req, "period");
	pg->provisional = http_param(req, "provisional") != NULL;
	int rc = !pg->defs ? -1
	         : code ? (period_code_valid(code) ? period_get(&req->app->db, a, code, &pg->p) : 0)
	                : period_current(&req->app->db, a, (long long)time(NULL), &pg->p);
	if (rc != 1) {
		http_error(req, rc == 0 ? 404 : 503, rc == 0 ? "没有这个填报周期。" : NULL);
		return false;
	}
	rc = compare ? period_previous(&req->app->db, a, &pg->p, &pg->prev) : 0;
	pg->has_prev = rc == 1;
	if (rc < 0 ||
	    ms_compute(&req->app->db, a, pg->defs, &pg->p, scope_id, pg->provisional, &pg->r) !=
	        0 ||
	    (pg->has_prev && ms_compute(&req->app->db, a, pg->defs, &pg->prev, scope_id,
	                                pg->provisional, &pg->rp) != 0)) {
		http_error(req, 503, NULL);
		return false;
	}
	pg->form_of = ind_forms_of(a, &pg->r);
	return true;
}

/* The link to a school's submission of a column's form: the review page for
 * reviewers and the admin, the entry page for the school. */
static const char *ind_link(struct http_request *req, const struct ind_page *pg, size_t k,
                            const char *school_code)
{
	if (!pg->form_of[k])
		return arena_printf(req->arena, "/schools/%s", school_code);
	bool school = strcmp(req->session->user.role, "school") == 0;
	return arena_printf(req->arena, "/schools/%s/%s/%s%s", school_code, pg->p.code,
	                    pg->form_of[k], school ? "" : "/review");
}

/* A bar chart (template partial "chart") of labelled values against a limit line. */
static struct tv *ind_chart(struct arena *a, const char *title, const char *const *labels,
                            const double *values, const bool *has, size_t n, double limit,
                            bool lower_is_better, int decimals)
{
	double max = limit;
	for (size_t i = 0; i < n; i++)
		if (has[i] && values[i] > max)
			max = values[i];
	if (max <= 0)
		max = 1;
	const double left = 10, top = 24, height = 150, bar = 36, gap = 18;
	double width = left * 2 + n * (bar + gap);
	struct tv *t = tv_map(a);
	tv_set_str(a, t, "title", title);
	tv_set_str(a, t, "w", validate_fmt_num(a, width, 0));
	tv_set_str(a, t, "h", validate_fmt_num(a, top + height + 40, 0));
	struct tv *bars = tv_set(a, t, "bars", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		struct tv *b = tv_push(a, bars, tv_map(a));
		double h = has[i] ? values[i] / max * height : 0;
		double x = left + i * (bar + gap);
		tv_set_str(a, b, "x", validate_fmt_num(a, x, 1));
		tv_set_str(a, b, "y", validate_fmt_num(a, top + height - h, 1));
		tv_set_str(a, b, "bw", validate_fmt_num(a, bar, 0));
		tv_set_str(a, b, "bh", validate_fmt_num(a, h, 1));
		tv_set_str(a, b, "tx", validate_fmt_num(a, x + bar / 2, 1));
		tv_set_str(a, b, "ty", validate_fmt_num(a, top + height - h - 4, 1));
		tv_set_str(a, b, "ly", validate_fmt_num(a, top + height + 16, 1));
		tv_set_str(a, b, "label", labels[i]);
		tv_set_str(a, b, "value", has[i] ? validate_fmt_num(a, values[i], decimals) : "—");
		bool ok = has[i] && (lower_is_better ? values[i] <= limit : values[i] >= limit);
		tv_set_str(a, b, "cls", !has[i] ? "none" : ok ? "ok" : "bad");
	}
	double ly = top + height - limit / max * height;
	tv_set_str(a, t, "lx1", validate_fmt_num(a, left / 2, 1));
	tv_set_str(a, t, "lx2", validate_fmt_num(a, width - left / 2, 1));
	tv_set_str(a, t, "ly", validate_fmt_num(a, ly, 1));
	tv_set_str(a, t, "ltext", arena_printf(a, "标准 %s", validate_fmt_num(a, limit, decimals)));
	return t;
}

/* The 优质均衡 table of one set and stage over a group (the scope, or a county). */
static struct tv *ind_balance_stage(struct http_request *req, const struct ind_page *pg, size_t si,
                                    int st)
{
	struct arena *a = req->arena;
	const struct ms_result *r = &pg->r;
	const struct ind_set *set = r->defs->sets[si];
	const struct ms_group *g = &r->total;
	size_t vi = si * IND_NSTAGES + (size_t)st;
	struct tv *t = tv_map(a);
	tv_set_str(a, t, "stage", form_stage_name(1u << st));
	tv_set_int(a, t, "in_scope", g->in_scope[vi]);
	tv_set_int(a, t, "passing", g->passing[vi]);
	tv_set_int(a, t, "failing", g->failing[vi]);
	tv_set_int(a, t, "missing", g->missing[vi]);
	tv_set_str(a, t, "cv_limit", validate_fmt_num(a, set->cv_limit[st], 2));
	struct tv *rows = tv_set(a, t, "rows", tv_list(a));
	const char *labels[IND_MAX_INDICATORS];
	double cvs[IND_MAX_INDICATORS];
	bool has[IND_MAX_INDICATORS];
	size_t n = 0;
	bool cv_all = true;
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		if (c->set != set || c->st != st)
			continue;
		const struct ms_agg *ag = &g->aggs[k];
		struct tv *row = tv_push(a, rows, tv_map(a));
		tv_set_int(a, row, "no", (long long)n + 1);
		tv_set_str(a, row, "name", c->ind->name);
		tv_set_str(a, row, "unit", c->ind->unit);
		tv_set_str(a, row, "standard", ind_target(a, c));
		tv_set_str(a, row, "value",
		           ag->has_value ? validate_fmt_num(a, ag->value, ind_decimals(c)) : "—");
		tv_set_str(a, row, "met",
		           arena_printf(a, "%d/%d", ag->judged - ag->failing, ag->judged));
		tv_set_str(a, row, "cv", ag->has_cv ? validate_fmt_num(a, ag->cv, 3) : "—");
		tv_set_str(a, row, "cv_class",
		           ag->cv_pass == 1   ? "ok"
		           : ag->cv_pass == 0 ? "bad"
		                              : "");
		tv_set_str(a, row, "cv_verdict",
		           ag->cv_pass == 1   ? "达标"
		           : ag->cv_pass == 0 ? "未达标"
		                              : "—");
		tv_set_str(a, row, "prev_cv",
		           pg->has_prev && pg->rp.total.aggs[k].has_cv
		               ? validate_fmt_num(a, pg->rp.total.aggs[k].cv, 3)
		               : NULL);
		cv_all = cv_all && ag->cv_pass == 1;
		labels[n] = arena_printf(a, "%zu", n + 1);
		cvs[n] = ag->cv;
		has[n++] = ag->has_cv;
	}
	bool all = cv_all && g->in_scope[vi] > 0 && g->passing[vi] == g->in_scope[vi];
	tv_set_str(a, t, "verdict", all ? "达标" : "未达标");
	tv_set_str(a, t, "verdict_class", all ? "ok" : "bad");
	tv_set(a, t, "chart",
	       ind_chart(a, arena_printf(a, "%s 各项指标校际差异系数", form_stage_name(1u << st)),
	                 labels, cvs, has, n, set->cv_limit[st], true, 3));
	/* the schools that miss the verdict, with the indicators they miss */
	struct tv *fails = tv_set(a, t, "failing_schools", tv_list(a));
	for (size_t i = 0; i < r->nschools && fails->u.list.n < IND_FAILING_STAGE; i++) {
		const struct ms_school *s = &r->schools[i];
		unsigned char vd = s->verdict[vi];
		if (vd != VD_FAIL && vd != VD_MISSING)
			continue;
		struct buf missed = BUF_INIT;
		size_t link = 0;
		for (size_t k = 0; k < r->ncols; k++) {
			const struct ms_col *c = &r->cols[k];
			if (c->set != set || c->st != st)
				continue;
			const struct ms_val *v = &s->vals[k];
			if (v->state == MV_OK && ms_meets(v->value, c->threshold, c->ind->dir))
				continue;
			if (!missed.len)
				link = k;
			buf_printf(&missed, "%s%s", missed.len ? "；" : "", c->ind->name);
			if (v->state == MV_OK)
				buf_printf(&missed, " %s",
				           validate_fmt_num(a, v->value, ind_decimals(c)));
		}
		struct tv *x = tv_push(a, fails, tv_map(a));
		tv_set_str(a, x, "code", s->school->code);
		tv_set_str(a, x, "name", s->school->name);
		tv_set_str(a, x, "why", vd == VD_MISSING ? "缺少数据" : "");
		tv_set_str(a, x, "missed",
		           missed.len ? arena_strndup(a, missed.data, missed.len) : "");
		tv_set_str(a, x, "url", ind_link(req, pg, link, s->school->code));
		buf_free(&missed);
	}
	tv_set_bool(a, t, "has_failing", fails->u.list.n > 0);
	tv_set_bool(a, t, "more", g->failing[vi] + g->missing[vi] > (int)IND_FAILING_STAGE);
	/* the counties' results, for the city */
	struct tv *counties = tv_set(a, t, "counties", tv_list(a));
	for (size_t c = 0; c < r->ncounties; c++) {
		const struct ms_group *cg = &r->counties[c];
		int cv_ok = 0, cv_n = 0;
		for (size_t k = 0; k < r->ncols; k++)
			if (r->cols[k].set == set && r->cols[k].st == st) {
				cv_n++;
				cv_ok += cg->aggs[k].cv_pass == 1;
			}
		struct tv *x = tv_push(a, counties, tv_map(a));
		tv_set_str(a, x, "name", cg->name);
		tv_set_int(a, x, "in_scope", cg->in_scope[vi]);
		tv_set_int(a, x, "passing", cg->passing[vi]);
		tv_set_str(a, x, "cv", arena_printf(a, "%d/%d", cv_ok, cv_n));
		bool ok =
		    cv_ok == cv_n && cg->in_scope[vi] > 0 && cg->passing[vi] == cg->in_scope[vi];
		tv_set_str(a, x, "cls", ok ? "ok" : "bad");
		tv_set_str(a, x, "verdict", ok ? "达标" : "未达标");
	}
	return t;
}

/* One row of the targets table. */
static struct tv *ind_target_row(struct http_request *req, const struct ind_page *pg, size_t k,
                                 bool city)
{
	struct arena *a = req->arena;
	const struct ms_result *r = &pg->r;
	const struct ms_col *c = &r->cols[k];
	const struct ms_agg *ag = &r->total.aggs[k];
	struct tv *t = tv_map(a);
	const char *stage = c->st == IND_WHOLE ? NULL : form_stage_name(1u << c->st);
	tv_set_str(a, t, "name",
	           stage ? arena_printf(a, "%s（%s）", c->ind->name, stage) : c->ind->name);
	tv_set_str(a, t, "unit", c->ind->unit);
	tv_set_str(a, t, "target", ind_target(a, c));
	tv_set_str(a, t, "value",
	           ag->has_value ? validate_fmt_num(a, ag->value, ind_decimals(c)) : "—");
	tv_set_str(a, t, "cls", ag->pass == 1 ? "ok" : ag->pass == 0 ? "bad" : "");
	tv_set_str(a, t, "verdict", ag->pass == 1 ? "达标" : ag->pass == 0 ? "未达标" : "—");
	tv_set_str(a, t, "prev",
	           pg->has_prev && pg->rp.total.aggs[k].has_value
	               ? validate_fmt_num(a, pg->rp.total.aggs[k].value, ind_decimals(c))
	               : NULL);
	/* set even when NULL: the set around the row has a document of its own */
	tv_set_str(a, t, "document", c->ind->document);
	tv_set_str(a, t, "note", c->ind->note);
	static const char *const levels[] = {
	    "",     "学校",       "区县",       "学校、区县",
	    "全市", "学校、全市", "区县、全市", "学校、区县、全市"};
	tv_set_str(a, t, "levels", levels[c->ind->levels & 7]);
	tv_set_int(a, t, "failing_count", ag->failing);
	tv_set_int(a, t, "missing", ag->missing);
	tv_set_bool(a, t, "judged", ag->judged > 0);
	struct tv *fails = tv_set(a, t, "failing", tv_list(a));
	for (size_t i = 0; i < r->nschools && fails->u.list.n < IND_FAILING_SHOWN; i++) {
		const struct ms_val *v = &r->schools[i].vals[k];
		if (v->pass != 0)
			continue;
		struct tv *x = tv_push(a, fails, tv_map(a));
		tv_set_str(a, x, "code", r->schools[i].school->code);
		tv_set_str(a, x, "name", r->schools[i].school->name);
		tv_set_str(a, x, "value", validate_fmt_num(a, v->value, ind_decimals(c)));
		tv_set_str(a, x, "url", ind_link(req, pg, k, r->schools[i].school->code));
	}
	tv_set_bool(a, t, "has_failing", ag->failing > 0);
	tv_set_bool(a, t, "more", ag->failing > IND_FAILING_SHOWN);
	if (city && r->ncounties && (c->ind->levels & (IL_COUNTY | IL_CITY))) {
		struct tv *cs = tv_set(a, t, "counties", tv_list(a));
		const char **labels = arena_alloc(a, r->ncounties * sizeof(*labels));
		double *vals = arena_alloc(a, r->ncounties * sizeof(*vals));
		bool *has = arena_alloc(a, r->ncounties * sizeof(*has));
		for (size_t i = 0; i < r->ncounties; i++) {
			const struct ms_agg *cg = &r->counties[i].aggs[k];
			struct tv *x = tv_push(a, cs, tv_map(a));
			tv_set_str(a, x, "name", r->counties[i].name);
			tv_set_str(a, x, "value",
			           cg->has_value ? validate_fmt_num(a, cg->value, ind_decimals(c))
			                         : "—");
			bool ok = cg->has_value && ms_meets(cg->value, c->threshold, c->ind->dir);
			tv_set_str(a, x, "cls", !cg->has_value ? "" : ok ? "ok" : "bad");
			labels[i] = r->counties[i].name;
			vals[i] = cg->value;
			has[i] = cg->has_value;
		}
		tv_set(a, t, "chart",
		       ind_chart(a, arena_printf(a, "各区县%s", c->ind->name), labels, vals, has,
		                 r->ncounties, c->threshold, c->ind->dir == ID_LE,
		                 ind_decimals(c)));
	}
	return t;
}

/* The period choices and the common values of the indicator pages. */
static struct tv *ind_context(struct http_request *req, const struct ind_page *pg)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "period_code", pg->p.code);
	tv_set_str(a, ctx, "period_name", pg->p.name);
	tv_set_bool(a, ctx, "provisional", pg->provisional);
	if (pg->has_prev)
		tv_set_str(a, ctx, "prev_name", pg->prev.name);
	struct period *list;
	size_t n;
	if (period_list(&req->app->db, a, &list, &n) == 0) {
		struct tv *pl = tv_set(a, ctx, "periods", tv_list(a));
		for (size_t i = 0; i < n; i++) {
			struct tv *x = tv_push(a, pl, tv_map(a));
			tv_set_str(a, x, "code", list[i].code);
			tv_set_str(a, x, "name", list[i].name);
			tv_set_bool(a, x, "selected", strcmp(list[i].code, pg->p.code) == 0);
		}
	}
	int with_data = 0, provisional = 0;
	for (size_t i = 0; i < pg->r.nschools; i++) {
		with_data += pg->r.schools[i].has_data;
		provisional += pg->r.schools[i].provisional;
	}
	tv_set_int(a, ctx, "schools", (long long)pg->r.nschools);
	tv_set_int(a, ctx, "with_data", with_data);
	tv_set_int(a, ctx, "provisional_schools", provisional);
	tv_set_str(
	    a, ctx, "query",
	    arena_printf(a, "period=%s%s", pg->p.code, pg->provisional ? "&provisional=1" : ""));
	return ctx;
}

/* A school's own indicators: 优质均衡 per stage with its verdict, and targets. */
static void ind_school_page(struct http_request *req, struct ind_page *pg, struct tv *ctx)
{
	struct arena *a = req->arena;
	const struct ms_result *r = &pg->r;
	if (r->nschools != 1) {
		http_error(req, 503, NULL);
		return;
	}
	const struct ms_school *s = &r->schools[0];
	tv_set_str(a, ctx, "school_name", s->school->name);
	struct tv *rows = tv_set(a, ctx, "rows", tv_list(a));
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		const struct ms_val *v = &s->vals[k];
		if (v->state == MV_NONE || !(c->ind->levels & IL_SCHOOL))
			continue;
		struct tv *t = tv_push(a, rows, tv_map(a));
		const char *stage = c->st == IND_WHOLE ? NULL : form_stage_name(1u << c->st);
		tv_set_str(a, t, "set", c->set->name);
		tv_set_str(a, t, "name",
		           stage ? arena_printf(a, "%s（%s）", c->ind->name, stage) : c->ind->name);
		tv_set_str(a, t, "unit", c->ind->unit);
		tv_set_str(a, t, "target", ind_target(a, c));
		tv_set_str(a, t, "value",
		           v->state == MV_OK ? validate_fmt_num(a, v->value, ind_decimals(c))
		                             : "缺少数据");
		bool ok = v->state == MV_OK && ms_meets(v->value, c->threshold, c->ind->dir);
		tv_set_str(a, t, "cls", v->state != MV_OK ? "" : ok ? "ok" : "bad");
		tv_set_str(a, t, "verdict", v->state != MV_OK ? "—" : ok ? "达标" : "未达标");
		tv_set_str(a, t, "url", ind_link(req, pg, k, s->school->code));
	}
	struct tv *verdicts = tv_set(a, ctx, "verdicts", tv_list(a));
	for (size_t si = 0; si < r->defs->nsets; si++)
		for (int st = 0; st < IND_NSTAGES; st++) {
			static const char *const names[] = {"", "缺少数据，暂不能判断", "达标",
			                                    "未达标"};
			unsigned char vd = s->verdict[si * IND_NSTAGES + st];
			if (vd == VD_NONE)
				continue;
			struct tv *t = tv_push(a, verdicts, tv_map(a));
			tv_set_str(a, t, "set", r->defs->sets[si]->name);
			tv_set_str(a, t, "stage", form_stage_name(1u << st));
			tv_set_str(a, t, "verdict", names[vd]);
			tv_set_str(a, t, "cls", vd == VD_PASS ? "ok" : vd == VD_FAIL ? "bad" : "");
			tv_set_int(a, t, "min_met", r->defs->sets[si]->min_met);
			tv_set_str(a, t, "floor",
			           validate_fmt_num(a, r->defs->sets[si]->floor * 100, 0));
		}
	http_render(req, 200, "indicators_school", ctx);
}

/* GET /indicators — the dashboard of the user's scope, or a school's own page. */
void page_indicators(struct http_request *req)
{
	struct arena *a = req->arena;
	const struct user *u = &req->session->user;
	struct ind_page pg;
	if (!ind_page_load(req, u->org_unit_id, true, &pg))
		return;
	struct tv *ctx = ind_context(req, &pg);
	tv_set_str(a, ctx, "scope_name", u->org_name);
	tv_set_str(a, ctx, "page_title", arena_printf(a, "%s · 指标", u->org_name));
	if (strcmp(u->role, "school") == 0) {
		ind_school_page(req, &pg, ctx);
		return;
	}
	bool city = strcmp(u->org_kind, "city") == 0;
	tv_set_bool(a, ctx, "city", city);
	const struct ms_result *r = &pg.r;
	struct tv *balance = tv_set(a, ctx, "balance", tv_list(a));
	struct tv *targets = tv_set(a, ctx, "targets", tv_list(a));
	for (size_t si = 0; si < r->defs->nsets; si++) {
		const struct ind_set *set = r->defs->sets[si];
		struct tv *t = tv_map(a);
		tv_set_str(a, t, "name", set->name);
		tv_set_str(a, t, "document", set->document);
		tv_set_str(a, t, "description", set->description); /* NULL too: not an outer key */
		tv_set_str(a, t, "weights_note", set->weights_note);
		if (set->kind == IK_BALANCE) {
			struct tv *stages = tv_set(a, t, "stages", tv_list(a));
			for (int st = 0; st < IND_NSTAGES; st++)
				if (set->cv_limit[st] > 0)
					tv_push(a, stages, ind_balance_stage(req, &pg, si, st));
			tv_push(a, balance, t);
		} else {
			struct tv *rows = tv_set(a, t, "rows", tv_list(a));
			for (size_t k = 0; k < r->ncols; k++)
				if (r->cols[k].set == set)
					tv_push(a, rows, ind_target_row(req, &pg, k, city));
			tv_push(a, targets, t);
		}
	}
	http_render(req, 200, "indicators", ctx);
}

/* The 优质均衡 table as rows: set, stage, indicator, standard, value, schools meeting, CV. */
static void ind_balance_table(struct arena *a, const struct ms_result *r, struct export_table *t)
{
	static const char *const head[] = {"指标体系",
	                                   "学段",
	                                   "指标",
	                                   "单位",
	                                   "标准",
	                                   "数值",
	                                   "达标学校数",
	                                   "参评学校数",
	                                   "差异系数",
	                                   "差异系数标准",
	                                   "差异系数是否达标"};
	t->sheet = "优质均衡";
	t->ncols = sizeof(head) / sizeof(head[0]);
	t->headers = arena_alloc(a, sizeof(head));
	memcpy(t->headers, head, sizeof(head));
	t->rows = arena_alloc(a, (r->ncols ? r->ncols : 1) * sizeof(*t->rows));
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		const struct ms_agg *ag = &r->total.aggs[k];
		if (c->set->kind != IK_BALANCE)
			continue;
		struct export_cell *row = arena_alloc(a, t->ncols * sizeof(*row));
		row[0].text = c->set->name;
		row[1].text = form_stage_name(1u << c->st);
		row[2].text = c->ind->name;
		row[3].text = c->ind->unit;
		row[4] = (struct export_cell){"", true, c->threshold};
		row[5] = ag->has_value ? (struct export_cell){"", true, ag->value}
		                       : (struct export_cell){"", false, 0};
		row[6] = (struct export_cell){"", true, ag->judged - ag->failing};
		row[7] = (struct export_cell){"", true, ag->judged};
		row[8] = ag->has_cv ? (struct export_cell){"", true, ag->cv}
		                    : (struct export_cell){"", false, 0};
		row[9] = (struct export_cell){"", true, c->set->cv_limit[c->st]};
		row[10].text = ag->cv_pass == 1 ? "是" : ag->cv_pass == 0 ? "否" : "";
		for (size_t j = 0; j < t->ncols; j++)
			if (row[j].is_num)
				row[j].text = arena_printf(a, "%.10g", row[j].num);
		t->rows[t->nrows++] = row;
	}
}

/* The school-level table: one row per school, one column per measured indicator. */
static void ind_school_table(struct arena *a, const struct ms_result *r, struct export_table *t)
{
	t->sheet = "学校指标";
	t->ncols = 4 + r->ncols;
	t->headers = arena_alloc(a, t->ncols * sizeof(*t->headers));
	static const char *const lead[] = {"学校标识码", "学校名称", "所属区县", "办学类型"};
	memcpy(t->headers, lead, sizeof(lead));
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		t->headers[4 + k] =
		    c->st == IND_WHOLE
		        ? arena_printf(a, "%s（%s）", c->ind->name, c->ind->unit)
		        : arena_printf(a, "%s %s（%s）", form_stage_name(1u << c->st), c->ind->name,
		                       c->ind->unit);
	}
	t->rows = arena_alloc(a, (r->nschools ? r->nschools : 1) * sizeof(*t->rows));
	for (size_t i = 0; i < r->nschools; i++) {
		const struct ms_school *s = &r->schools[i];
		struct export_cell *row = arena_alloc(a, t->ncols * sizeof(*row));
		const char *tn = ou_school_type_name(s->school->school_type);
		row[0].text = s->school->code;
		row[1].text = s->school->name;
		row[2].text = s->school->parent_name ? s->school->parent_name : "";
		row[3].text = tn ? tn : "";
		for (size_t k = 0; k < r->ncols; k++) {
			const struct ms_val *v = &s->vals[k];
			row[4 + k] = v->state == MV_OK
			                 ? (struct export_cell){arena_printf(a, "%.10g", v->value),
			                                        true, v->value}
			                 : (struct export_cell){"", false, 0};
		}
		t->rows[t->nrows++] = row;
	}
}

/* GET /indicators/export/{table}/{format} — balance or schools, as csv or xlsx. */
void page_indicators_export(struct http_request *req)
{
	struct arena *a = req->arena;
	const char *table = req->args[0], *fmt = req->args[1];
	bool csv = strcmp(fmt, "csv") == 0;
	bool balance = strcmp(table, "balance") == 0;
	if ((!csv && strcmp(fmt, "xlsx") != 0) || (!balance && strcmp(table, "schools") != 0)) {
		http_error(req, 404, NULL);
		return;
	}
	struct ind_page pg;
	if (!ind_page_load(req, req->session->user.org_unit_id, false, &pg))
		return;
	struct export_table t;
	memset(&t, 0, sizeof(t));
	if (balance)
		ind_balance_table(a, &pg.r, &t);
	else
		ind_school_table(a, &pg.r, &t);
	const char *label = balance ? "优质均衡资源配置指标" : "学校指标";
	export_respond(req, &t, csv,
	               arena_printf(a, "%s-%s-indicators-%s.%s", pg.p.code,
	                            req->session->user.org_code, table, fmt),
	               arena_printf(a, "%s-%s-%s%s.%s", req->session->user.org_name, pg.p.name,
	                            label, pg.provisional ? "（含待审核）" : "", fmt));
}

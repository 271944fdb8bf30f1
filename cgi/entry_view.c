/* entry_view.c — template values of the entry pages: the form, its problems, conflicts, history. */
#include "entry_view.h"

#include <string.h>
#include <time.h>

#define FORM_NSTAGES_MAX 6 /* stage bits ST_KG .. ST_SPE */

/* What building one entry page needs at hand. */
struct view {
	struct arena *a;
	const struct entry *e;
	const struct entry_sub *sub;
	const struct form_def *form;
	const char *url;
	const char *const *raw; /* values shown */
	const struct validate_out *out;
	unsigned char *in_form; /* per slot: an applicable field of this form */
	bool editable;
	const struct review_return *ret; /* the reviewer's comments to show, or NULL */
};

/* A time for people (UTC+8), in the arena. */
static const char *view_time(struct arena *a, long long t)
{
	char buf[32];
	return arena_strdup(a, period_format_time(t, buf, sizeof(buf)));
}

/* Set `key` of map t to the string s, or to null when s is NULL. Every optional value of the
 * entry templates is set this way: a key missing from a map would be looked up further down
 * the context stack (Mustache), so a field without help would show its section's help. */
static void view_opt(struct arena *a, struct tv *t, const char *key, const char *s)
{
	tv_set(a, t, key, s ? tv_str(a, s) : tv_null(a));
}

/* Parameter name of the 说明 of a warning: "x." and the code with ':' as '.'. */
static const char *view_expl_name(struct arena *a, const char *code)
{
	char *s = arena_printf(a, "x.%s", code);
	for (char *c = s; *c; c++)
		if (*c == ':')
			*c = '.';
	return s;
}

/* The slot an issue belongs to on this page: its first field in this form, or -1. */
static int view_home(const struct view *w, const struct validate_issue *is)
{
	for (size_t k = 0; k < is->nslots; k++)
		if (w->in_form[is->slots[k]])
			return is->slots[k];
	return -1;
}

/* Does issue `is` concern `slot`? */
static bool view_concerns(const struct validate_issue *is, int slot)
{
	for (size_t k = 0; k < is->nslots; k++)
		if (is->slots[k] == slot)
			return true;
	return false;
}

/* The template values of issue k: message, kind, and (where `with_input`) the 说明 input. */
static struct tv *view_issue(const struct view *w, size_t k, bool with_input)
{
	struct arena *a = w->a;
	const struct validate_issue *is = &w->out->issues[k];
	struct tv *t = tv_map(a);
	tv_set_str(a, t, "id", arena_printf(a, "i-%zu", k));
	tv_set_str(a, t, "message", is->message);
	bool warn = is->kind == VK_WARNING;
	tv_set_str(a, t, "kind", warn ? "warning" : "error");
	tv_set_bool(a, t, "is_warning", warn);
	tv_set_bool(a, t, "expl_input", warn && with_input);
	if (warn && with_input) {
		tv_set_str(a, t, "expl_name", view_expl_name(a, is->code));
		tv_set_str(a, t, "expl_id", arena_printf(a, "x-%zu", k));
	}
	view_opt(a, t, "explanation", warn ? is->explanation : NULL);
	tv_set_bool(a, t, "editable", w->editable);
	return t;
}

/* A stored value of last period, for people. */
static const char *view_prev(const struct view *w, const struct form_field *f)
{
	const struct entry *e = w->e;
	if (!e->has_prev)
		return NULL;
	const char *n = e->prev.norm[f->slot];
	if (!n)
		return NULL;
	if (f->type == FT_YESNO)
		return strcmp(n, "1") == 0 ? "是" : "否";
	return n;
}

/* The template values of one field (a plain field or a grid cell). */
static struct tv *view_field(const struct view *w, const struct form_field *f, bool cell)
{
	struct arena *a = w->a;
	struct tv *t = tv_map(a);
	const char *raw = w->raw[f->slot];
	tv_set_str(a, t, "code", f->code);
	tv_set_str(a, t, "name", arena_printf(a, "v.%s", f->code));
	tv_set_str(a, t, "id", arena_printf(a, "f-%s", f->code));
	tv_set_str(a, t, "label", f->label);
	tv_set_str(a, t, "full_label", validate_label(a, f));
	tv_set_bool(a, t, "cell", cell);
	view_opt(a, t, "unit", f->unit);
	view_opt(a, t, "field_help", cell ? NULL : f->help);
	tv_set_bool(a, t, "required", f->required);
	tv_set_str(a, t, "value", raw ? raw : "");
	tv_set_bool(a, t, "editable", w->editable);
	static const char *const kinds[] = {"integer", "decimal", "text", "yesno", "choice"};
	tv_set_str(a, t, "kind", kinds[f->type]);
	tv_set_bool(a, t, "is_number", f->type == FT_INTEGER || f->type == FT_DECIMAL);
	tv_set_bool(a, t, "is_text", f->type == FT_TEXT);
	tv_set_bool(a, t, "is_yesno", f->type == FT_YESNO);
	tv_set_bool(a, t, "is_choice", f->type == FT_CHOICE);
	switch (f->type) {
	case FT_INTEGER:
	case FT_DECIMAL:
		tv_set_str(a, t, "inputmode", f->type == FT_INTEGER ? "numeric" : "decimal");
		tv_set_int(a, t, "decimals", f->type == FT_DECIMAL ? f->decimals : 0);
		tv_set_str(a, t, "min", validate_fmt_num(a, f->min, f->decimals));
		tv_set_str(a, t, "max", validate_fmt_num(a, f->max, f->decimals));
		break;
	case FT_TEXT:
		tv_set_int(a, t, "maxlength", f->max_length > 0 ? f->max_length : 200);
		break;
	case FT_YESNO: {
		const char *n = w->out->norm[f->slot];
		tv_set_bool(a, t, "yes", n && strcmp(n, "1") == 0);
		tv_set_bool(a, t, "no", n && strcmp(n, "0") == 0);
		break;
	}
	case FT_CHOICE: {
		struct tv *list = tv_set(a, t, "choices", tv_list(a));
		for (size_t k = 0; k < f->nchoices; k++) {
			struct tv *c = tv_push(a, list, tv_map(a));
			tv_set_str(a, c, "value", f->choices[k].value);
			tv_set_str(a, c, "label", f->choices[k].label);
			tv_set_bool(a, c, "selected", raw && strcmp(raw, f->choices[k].value) == 0);
		}
		break;
	}
	}
	view_opt(a, t, "prev", view_prev(w, f));
	view_opt(a, t, "remark", review_comment_of(w->ret, f->code));
	view_opt(a, t, "history_url",
	         w->sub->id && raw ? arena_printf(a, "%s/history/%s", w->url, f->code) : NULL);
	/* the problems concerning this field */
	struct tv *issues = tv_set(a, t, "issues", tv_list(a));
	struct buf ids = BUF_INIT;
	bool error = false, warning = false;
	for (size_t k = 0; k < w->out->nissues; k++) {
		const struct validate_issue *is = &w->out->issues[k];
		if (!view_concerns(is, f->slot))
			continue;
		bool home = view_home(w, is) == f->slot;
		if (is->kind == VK_ERROR)
			error = true;
		else
			warning = true;
		if (!cell)
			tv_push(a, issues, view_issue(w, k, home));
		buf_printf(&ids, "%si-%zu", ids.len ? " " : "", k);
	}
	tv_set_str(a, t, "state", error ? "invalid" : warning ? "warn" : "");
	tv_set_bool(a, t, "invalid", error);
	view_opt(a, t, "describedby", ids.len ? arena_strndup(a, ids.data, ids.len) : NULL);
	buf_free(&ids);
	return t;
}

/* The issues shown under grid row `column`: each issue whose home field is a
 * cell of that row, once. */
static struct tv *view_row_issues(const struct view *w, const struct form_section *sec, int column)
{
	struct arena *a = w->a;
	struct tv *list = tv_list(a);
	for (size_t k = 0; k < w->out->nissues; k++) {
		int home = view_home(w, &w->out->issues[k]);
		const struct form_field *f = home >= 0 ? form_field_at(w->e->set, home) : NULL;
		if (f && f->column == column && f->section == (int)(sec - w->form->sections))
			tv_push(a, list, view_issue(w, k, true));
	}
	return list;
}

/* The template values of a grid section, shown turned: one row per column of
 * the definition (an item such as 专任教师数), one column per stage the school
 * has. Items no stage of the school has are left out. */
static bool view_grid(const struct view *w, const struct form_section *sec, struct tv *t)
{
	struct arena *a = w->a;
	const struct entry *e = w->e;
	unsigned stages[FORM_NSTAGES_MAX];
	size_t nst = 0;
	for (unsigned bit = 1; bit <= ST_SPE; bit <<= 1)
		if ((sec->rows & bit) && (e->stages & bit))
			stages[nst++] = bit;
	struct tv *head = tv_set(a, t, "stages", tv_list(a));
	for (size_t k = 0; k < nst; k++)
		tv_set_str(a, tv_push(a, head, tv_map(a)), "name", form_stage_name(stages[k]));
	tv_set_int(a, t, "colspan", (long long)nst + 1);
	struct tv *rows = tv_set(a, t, "rows", tv_list(a));
	size_t nrows = 0;
	for (size_t c = 0; c < sec->ncolumns; c++) {
		struct tv *row = tv_map(a);
		tv_set_str(a, row, "label", sec->columns[c]->label);
		view_opt(a, row, "unit", sec->columns[c]->unit);
		view_opt(a, row, "row_help", sec->columns[c]->help);
		tv_set_bool(a, row, "required", sec->columns[c]->required);
		struct tv *cells = tv_set(a, row, "cells", tv_list(a));
		struct tv *remarks = tv_set(a, row, "remarks", tv_list(a));
		bool any = false;
		for (size_t k = 0; k < nst; k++) {
			const char *code = arena_printf(a, "%s_%s", form_stage_prefix(stages[k]),
			                                sec->columns[c]->code);
			const struct form_field *f = form_field_find(e->set, code);
			struct tv *cell = tv_push(a, cells, tv_map(a));
			bool present = f && w->in_form[f->slot];
			tv_set(a, cell, "field", present ? view_field(w, f, true) : tv_null(a));
			tv_set_bool(a, cell, "absent", !present);
			if (!present)
				continue;
			any = true;
			const char *remark = review_comment_of(w->ret, f->code);
			if (remark) {
				struct tv *r = tv_push(a, remarks, tv_map(a));
				tv_set_str(a, r, "stage", form_stage_name(stages[k]));
				tv_set_str(a, r, "text", remark);
			}
		}
		if (!any)
			continue;
		struct tv *issues = view_row_issues(w, sec, (int)c);
		tv_set(a, row, "issues", issues);
		tv_set_bool(a, row, "has_issues", issues->u.list.n > 0 || remarks->u.list.n > 0);
		tv_push(a, rows, row);
		nrows++;
	}
	return nrows > 0;
}

/* The sections of the form as the school sees them (empty ones left out). */
static struct tv *view_sections(const struct view *w)
{
	struct arena *a = w->a;
	struct tv *list = tv_list(a);
	for (size_t s = 0; s < w->form->nsections; s++) {
		const struct form_section *sec = &w->form->sections[s];
		struct tv *t = tv_map(a);
		tv_set_str(a, t, "code", sec->code);
		tv_set_str(a, t, "title", sec->title);
		view_opt(a, t, "section_help", sec->help);
		bool any = false;
		if (sec->grid) {
			tv_set(a, t, "fields", tv_null(a));
			any = view_grid(w, sec, tv_set(a, t, "grid", tv_map(a)));
		} else {
			tv_set(a, t, "grid", tv_null(a));
			struct tv *fields = tv_set(a, t, "fields", tv_list(a));
			for (size_t k = 0; k < w->form->nfields; k++) {
				const struct form_field *f = w->form->fields[k];
				if (f->section == (int)s && w->in_form[f->slot]) {
					tv_push(a, fields, view_field(w, f, false));
					any = true;
				}
			}
		}
		if (any)
			tv_push(a, list, t);
	}
	return list;
}

/* The summary at the top: every problem, linked to its field, or to its line among the
 * problems of the whole form (view_general). It has no inputs: it stands outside <form>. */
static struct tv *view_summary(const struct view *w)
{
	struct arena *a = w->a;
	struct tv *list = tv_list(a);
	for (size_t k = 0; k < w->out->nissues; k++) {
		const struct validate_issue *is = &w->out->issues[k];
		int home = view_home(w, is);
		struct tv *t = view_issue(w, k, false);
		tv_set_str(a, t, "id", arena_printf(a, "s-%zu", k));
		const struct form_field *f = home >= 0 ? form_field_at(w->e->set, home) : NULL;
		tv_set_str(a, t, "anchor",
		           f ? arena_printf(a, "f-%s", f->code) : arena_printf(a, "i-%zu", k));
		tv_set_bool(a, t, "unexplained", is->kind == VK_WARNING && !is->explanation);
		tv_push(a, list, t);
	}
	return list;
}

/* The problems of no field on this page (a rule whose fields the school does not have),
 * with their 说明 inputs: shown inside the form, where every browser submits them. */
static struct tv *view_general(const struct view *w)
{
	struct tv *list = tv_list(w->a);
	for (size_t k = 0; k < w->out->nissues; k++)
		if (view_home(w, &w->out->issues[k]) < 0)
			tv_push(w->a, list, view_issue(w, k, true));
	return list;
}

/* School, period, form and state values shared by the entry pages. */
static struct tv *view_head(struct http_request *req, const struct entry *e, int i, const char *url)
{
	struct arena *a = req->arena;
	const struct entry_sub *sub = &e->subs[i];
	const struct form_def *form = form_find(e->set, sub->form_code);
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", arena_printf(a, "%s · %s", form->name, e->school->name));
	tv_set_str(a, ctx, "url", url);
	tv_set_str(a, ctx, "school_code", e->school->code);
	tv_set_str(a, ctx, "school_name", e->school->name);
	tv_set_str(a, ctx, "period_code", e->period.code);
	tv_set_str(a, ctx, "period_name", e->period.name);
	tv_set_str(a, ctx, "form_code", form->code);
	tv_set_str(a, ctx, "form_name", form->name);
	if (form->description)
		tv_set_str(a, ctx, "description", form->description);
	tv_set_str(a, ctx, "state_code", wf_state_code(sub->state));
	tv_set_str(a, ctx, "state_name", wf_state_name(sub->state));
	tv_set_bool(a, ctx, "returned", sub->state == WS_RETURNED);
	tv_set_str(a, ctx, "deadline", view_time(a, e->period.closes_at));
	long long now = (long long)time(NULL);
	if (period_window(&e->period, now) == PW_OPEN)
		tv_set_int(a, ctx, "days_left", period_days_left(e->period.closes_at, now));
	tv_set_int(a, ctx, "version", sub->version);
	if (sub->updated_at) {
		tv_set_str(a, ctx, "updated_at", view_time(a, sub->updated_at));
		if (sub->updated_by)
			tv_set_str(a, ctx, "updated_by", sub->updated_by);
	}
	if (e->has_prev)
		tv_set_str(a, ctx, "prev_name", e->prev_period.name);
	return ctx;
}

/* Mark the applicable fields of form i. */
static unsigned char *view_in_form(struct arena *a, const struct entry *e,
                                   const struct form_def *form)
{
	size_t n = form_nslots(e->set);
	unsigned char *in = arena_alloc(a, n ? n : 1);
	for (size_t k = 0; k < form->nfields; k++)
		if (form_field_applies(form->fields[k], e->school->school_type, e->stages))
			in[form->fields[k]->slot] = 1;
	return in;
}

/* Render the entry page. */
void entry_view_render(struct http_request *req, const struct entry *e, int i, const char *url,
                       const struct entry_view *v, const struct validate_out *out)
{
	struct arena *a = req->arena;
	const struct form_def *form = form_find(e->set, e->subs[i].form_code);
	struct view w = {
	    .a = a,
	    .e = e,
	    .sub = &e->subs[i],
	    .form = form,
	    .url = url,
	    .raw = v->raw ? v->raw : e->cur.raw,
	    .out = out,
	    .in_form = view_in_form(a, e, form),
	    .editable = v->readonly_reason == NULL,
	    .ret = v->ret,
	};
	struct tv *ctx = view_head(req, e, i, url);
	if (v->ret) {
		struct tv *r = tv_set(a, ctx, "ret", tv_map(a));
		tv_set_str(a, r, "reason", v->ret->reason);
		tv_set_str(a, r, "who", v->ret->who);
		tv_set_str(a, r, "at", view_time(a, v->ret->at));
		tv_set_bool(a, r, "reopen", v->ret->reopen);
		tv_set_int(a, r, "ncomments", (long long)v->ret->ncomments);
		tv_set_bool(a, r, "has_comments", v->ret->ncomments > 0);
	}
	tv_set_int(a, ctx, "version", v->version);
	if (v->notice)
		tv_set_str(a, ctx, "notice", v->notice);
	if (v->error)
		tv_set_str(a, ctx, "error", v->error);
	if (v->readonly_reason)
		tv_set_str(a, ctx, "readonly_reason", v->readonly_reason);
	tv_set_bool(a, ctx, "editable", w.editable);
	tv_set_bool(a, ctx, "unsaved", v->keep_input);
	tv_set(a, ctx, "sections", view_sections(&w));
	struct tv *summary = tv_set(a, ctx, "issues", view_summary(&w));
	tv_set_bool(a, ctx, "has_issues", summary->u.list.n > 0);
	struct tv *general = tv_set(a, ctx, "general_issues", view_general(&w));
	tv_set_bool(a, ctx, "has_general_issues", general->u.list.n > 0);
	tv_set_int(a, ctx, "errors", out->errors);
	tv_set_int(a, ctx, "warnings", out->warnings);
	tv_set_int(a, ctx, "unexplained", out->unexplained);
	tv_set_int(a, ctx, "required_total", out->required_total);
	tv_set_int(a, ctx, "required_filled", out->required_filled);
	tv_set_int(a, ctx, "required_left", out->required_total - out->required_filled);
	tv_set_bool(a, ctx, "has_required_left", out->required_total > out->required_filled);
	tv_set_bool(a, ctx, "has_unexplained", out->unexplained > 0);
	http_render(req, v->status, "entry", ctx);
}

/* A value for the comparison table: as typed, or a dash. */
static const char *view_shown(const char *raw)
{
	return raw && *raw ? raw : "—";
}

/* Render the comparison of the stored version with the user's. */
void entry_view_conflict(struct http_request *req, const struct entry *e, int i, const char *url,
                         const struct entry_save *mine, long long pending_id,
                         const char *readonly_reason, int status)
{
	struct arena *a = req->arena;
	const struct entry_sub *sub = &e->subs[i];
	const struct form_def *form = form_find(e->set, sub->form_code);
	struct tv *ctx = view_head(req, e, i, url);
	tv_set_str(a, ctx, "page_title", arena_printf(a, "请确认保留哪个版本 · %s", form->name));
	tv_set_int(a, ctx, "current_version", sub->version);
	if (pending_id > 0)
		tv_set_int(a, ctx, "pending_id", pending_id);
	if (readonly_reason)
		tv_set_str(a, ctx, "readonly_reason", readonly_reason);
	else
		tv_set_bool(a, ctx, "can_keep", true);
	struct tv *diffs = tv_set(a, ctx, "diffs", tv_list(a));
	struct tv *hidden = tv_set(a, ctx, "hidden", tv_list(a));
	for (size_t k = 0; k < form->nfields; k++) {
		const struct form_field *f = form->fields[k];
		if (!form_field_applies(f, e->school->school_type, e->stages))
			continue;
		const char *m = mine->raw[f->slot];
		const char *s = e->cur.raw[f->slot];
		if (m && *m) {
			struct tv *h = tv_push(a, hidden, tv_map(a));
			tv_set_str(a, h, "name", arena_printf(a, "v.%s", f->code));
			tv_set_str(a, h, "value", m);
		}
		if (strcmp(view_shown(m), view_shown(s)) == 0)
			continue;
		struct tv *d = tv_push(a, diffs, tv_map(a));
		tv_set_str(a, d, "label", validate_label(a, f));
		tv_set_str(a, d, "theirs", view_shown(s));
		tv_set_str(a, d, "mine", view_shown(m));
	}
	for (size_t k = 0; k < mine->nexpl; k++) {
		if (!mine->expl[k].text || !*mine->expl[k].text)
			continue;
		struct tv *h = tv_push(a, hidden, tv_map(a));
		tv_set_str(a, h, "name", view_expl_name(a, mine->expl[k].code));
		tv_set_str(a, h, "value", mine->expl[k].text);
	}
	tv_set_bool(a, ctx, "has_diffs", diffs->u.list.n > 0);
	http_render(req, status, "entry_conflict", ctx);
}

/* Render the history of one field. */
void entry_view_history(struct http_request *req, const struct entry *e, int i, const char *url,
                        const struct form_field *f, const struct entry_change *list, size_t n)
{
	struct arena *a = req->arena;
	struct tv *ctx = view_head(req, e, i, url);
	tv_set_str(a, ctx, "page_title", arena_printf(a, "修改记录 · %s", validate_label(a, f)));
	tv_set_str(a, ctx, "field_label", validate_label(a, f));
	tv_set_str(a, ctx, "field_id", arena_printf(a, "f-%s", f->code));
	const char *cur = e->cur.raw[f->slot];
	tv_set_str(a, ctx, "current", view_shown(cur));
	struct tv *rows = tv_set(a, ctx, "changes", tv_list(a));
	for (size_t k = 0; k < n; k++) {
		struct tv *r = tv_push(a, rows, tv_map(a));
		tv_set_str(a, r, "at", view_time(a, list[k].at));
		tv_set_str(a, r, "who", list[k].who ? list[k].who : "系统导入");
		tv_set_str(a, r, "old", view_shown(list[k].old_raw));
		tv_set_str(a, r, "new", view_shown(list[k].new_raw));
		tv_set_int(a, r, "version", list[k].version);
	}
	tv_set_bool(a, ctx, "has_changes", n > 0);
	http_render(req, 200, "entry_history", ctx);
}

/* The task list of a school in a period. */
void entry_view_tasks(struct http_request *req, struct tv *ctx, const struct entry *e)
{
	struct arena *a = req->arena;
	long long now = (long long)time(NULL);
	struct tv *p = tv_set(a, ctx, "period", tv_map(a));
	tv_set_str(a, p, "code", e->period.code);
	tv_set_str(a, p, "name", e->period.name);
	tv_set_str(a, p, "opens", view_time(a, e->period.opens_at));
	tv_set_str(a, p, "closes", view_time(a, e->period.closes_at));
	enum period_window pw = period_window(&e->period, now);
	tv_set_bool(a, p, "open", pw == PW_OPEN);
	tv_set_bool(a, p, "not_yet", pw == PW_NOT_YET);
	tv_set_bool(a, p, "closed", pw == PW_CLOSED);
	if (pw == PW_OPEN) {
		long long days = period_days_left(e->period.closes_at, now);
		tv_set_int(a, p, "days_left", days);
		tv_set_bool(a, p, "urgent", days <= 3);
	}
	struct tv *tasks = tv_set(a, ctx, "tasks", tv_list(a));
	for (size_t j = 0; j < e->period.nforms; j++) {
		const struct entry_sub *s = &e->subs[j];
		const struct form_def *form = form_find(e->set, s->form_code);
		if (!form)
			continue;
		struct validate_out o;
		entry_check(a, e, (int)j, NULL, NULL, 0, false, &o);
		struct tv *r = tv_push(a, tasks, tv_map(a));
		tv_set_str(a, r, "code", form->code);
		tv_set_str(a, r, "name", form->name);
		tv_set_str(a, r, "url",
		           arena_printf(a, "/schools/%s/%s/%s", e->school->code, e->period.code,
		                        form->code));
		tv_set_str(a, r, "state_code", wf_state_code(s->state));
		tv_set_str(a, r, "state_name", wf_state_name(s->state));
		tv_set_int(a, r, "required_filled", o.required_filled);
		tv_set_int(a, r, "required_total", o.required_total);
		tv_set_int(a, r, "errors", o.errors);
		tv_set_int(a, r, "warnings", o.warnings);
		tv_set_int(a, r, "unexplained", o.unexplained);
		tv_set_bool(a, r, "has_unexplained", o.unexplained > 0);
		bool editable = wf_editable(s->state) && pw == PW_OPEN;
		const char *action = !editable                 ? "查看"
		                     : s->state == WS_NONE     ? "开始填报"
		                     : s->state == WS_RETURNED ? "修改后重新上报"
		                                               : "继续填报";
		tv_set_str(a, r, "action", action);
		if (s->updated_at)
			tv_set_str(a, r, "updated_at", view_time(a, s->updated_at));
	}
	tv_set_bool(a, ctx, "has_tasks", tasks->u.list.n > 0);
}

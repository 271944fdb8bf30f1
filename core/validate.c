/* validate.c — checking one form's input: types, bounds, required fields, rules, changes. */
#include "validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "number.h"

#define VALIDATE_QUOTE_MAX 40 /* bytes of the input quoted in a message */
#define VALIDATE_TEXT_DEFAULT 200

/* The label of a field, with the stage for grid cells. */
const char *validate_label(struct arena *a, const struct form_field *f)
{
	const char *stage = f->stage ? form_stage_name(f->stage) : NULL;
	return stage ? arena_printf(a, "%s %s", stage, f->label) : f->label;
}

/* The input as it may be quoted in a message: control characters as '?', at
 * most VALIDATE_QUOTE_MAX bytes cut at a character boundary, then "…". */
static const char *validate_quote(struct arena *a, const char *raw)
{
	size_t n = strlen(raw), cut = n;
	if (n > VALIDATE_QUOTE_MAX) {
		cut = VALIDATE_QUOTE_MAX;
		while (cut > 0 && ((unsigned char)raw[cut] & 0xC0) == 0x80)
			cut--;
	}
	char *q = arena_alloc(a, cut + 4);
	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)raw[i];
		q[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (cut < n)
		memcpy(q + cut, "\xE2\x80\xA6", 4); /* … and the NUL */
	return q;
}

/* Length of leading spaces (ASCII space, tab, CR, LF, U+3000, U+00A0) at s. */
static size_t validate_space_at(const char *s)
{
	unsigned char c = (unsigned char)s[0];
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return 1;
	if (c == 0xE3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
		return 3;
	if (c == 0xC2 && (unsigned char)s[1] == 0xA0)
		return 2;
	return 0;
}

/* Trim surrounding spaces (as validate_space_at) into an arena copy. */
const char *validate_trim(struct arena *a, const char *s)
{
	size_t k;
	while ((k = validate_space_at(s)) > 0)
		s += k;
	size_t n = strlen(s);
	for (;;) {
		if (n >= 1 && validate_space_at(s + n - 1) == 1)
			n -= 1;
		else if (n >= 2 && validate_space_at(s + n - 2) == 2)
			n -= 2;
		else if (n >= 3 && validate_space_at(s + n - 3) == 3)
			n -= 3;
		else
			break;
	}
	return arena_strndup(a, s, n);
}

/* Number of UTF-8 characters (bytes that do not continue a sequence). */
static size_t validate_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

/* A number field. */
static enum validate_status validate_number(struct arena *a, const struct form_field *f,
                                            const char *raw, const char **norm, double *num,
                                            const char **msg, enum validate_reason *why)
{
	int decimals = f->type == FT_DECIMAL ? f->decimals : 0;
	char out[NUM_OUT_SIZE];
	double v = 0;
	enum num_status st = num_normalize(raw, decimals, out, sizeof(out), &v);
	const char *label = validate_label(a, f);
	const char *q = validate_quote(a, raw);
	switch (st) {
	case NUM_EMPTY:
		return VS_EMPTY;
	case NUM_OK:
		break;
	case NUM_NEGATIVE:
		*why = VR_NEGATIVE;
		*msg = arena_printf(a, "%s：“%s”不能为负数。", label, q);
		return VS_BAD;
	case NUM_TOO_MANY_DECIMALS:
		*why = VR_DECIMALS;
		*msg = decimals == 0
		           ? arena_printf(a, "%s：“%s”只能填写整数。", label, q)
		           : arena_printf(a, "%s：“%s”最多保留 %d 位小数。", label, q, decimals);
		return VS_BAD;
	case NUM_TOO_LARGE:
		*why = VR_TOO_LARGE;
		*msg = arena_printf(a, "%s：“%s”数值过大。", label, q);
		return VS_BAD;
	case NUM_BAD:
	default:
		*why = VR_NOT_NUMBER;
		*msg = arena_printf(a, "%s：“%s”不是有效的数字。", label, q);
		return VS_BAD;
	}
	if (v < f->min || v > f->max) {
		*why = VR_RANGE;
		*msg = arena_printf(a, "%s：%s 超出允许范围 %s～%s，请核对。", label, out,
		                    validate_fmt_num(a, f->min, decimals),
		                    validate_fmt_num(a, f->max, decimals));
		return VS_BAD;
	}
	*norm = arena_strdup(a, out);
	*num = v;
	return VS_OK;
}

/* Check a typed value against its field. */
enum validate_status validate_value(struct arena *a, const struct form_field *f, const char *raw,
                                    const char **norm, double *num, const char **msg,
                                    enum validate_reason *why)
{
	const char *dn, *dm;
	double dv;
	enum validate_reason dw;
	if (!why)
		why = &dw;
	*why = VR_NONE;
	if (!norm)
		norm = &dn;
	if (!num)
		num = &dv;
	if (!msg)
		msg = &dm;
	*norm = NULL;
	*num = 0;
	*msg = NULL;
	if (!raw)
		return VS_EMPTY;
	if (f->type == FT_INTEGER || f->type == FT_DECIMAL)
		return validate_number(a, f, raw, norm, num, msg, why);
	const char *t = validate_trim(a, raw);
	if (!*t)
		return VS_EMPTY;
	const char *label = validate_label(a, f);
	switch (f->type) {
	case FT_TEXT: {
		for (const char *c = t; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f) {
				*why = VR_CONTROL;
				*msg = arena_printf(a, "%s：含有不可见的控制字符，请重新输入。",
				                    label);
				return VS_BAD;
			}
		size_t max = f->max_length > 0 ? (size_t)f->max_length : VALIDATE_TEXT_DEFAULT;
		size_t n = validate_chars(t);
		if (n > max) {
			*why = VR_TOO_LONG;
			*msg =
			    arena_printf(a, "%s：最多 %zu 个字，现在是 %zu 个字。", label, max, n);
			return VS_BAD;
		}
		*norm = t;
		return VS_OK;
	}
	case FT_YESNO:
		if (strcmp(t, "1") == 0 || strcmp(t, "true") == 0 || strcmp(t, "是") == 0) {
			*norm = "1";
			*num = 1;
			return VS_OK;
		}
		if (strcmp(t, "0") == 0 || strcmp(t, "false") == 0 || strcmp(t, "否") == 0) {
			*norm = "0";
			return VS_OK;
		}
		*why = VR_YESNO;
		*msg = arena_printf(a, "%s：请选择“是”或“否”。", label);
		return VS_BAD;
	case FT_CHOICE:
		for (size_t i = 0; i < f->nchoices; i++)
			if (strcmp(t, f->choices[i].value) == 0) {
				*norm = f->choices[i].value;
				return VS_OK;
			}
		*why = VR_CHOICE;
		*msg = arena_printf(a, "%s：“%s”不是可选的选项，请从列表中选择。", label,
		                    validate_quote(a, t));
		return VS_BAD;
	default:
		*why = VR_CHOICE;
		*msg = arena_printf(a, "%s：无法识别的字段类型。", label);
		return VS_BAD;
	}
}

/* The reason in English. */
const char *validate_reason_en(struct arena *a, const struct form_field *f,
                               enum validate_reason why)
{
	int decimals = f->type == FT_DECIMAL ? f->decimals : 0;
	switch (why) {
	case VR_NONE:
		return "accepted";
	case VR_NOT_NUMBER:
		return "not a number";
	case VR_NEGATIVE:
		return "negative";
	case VR_DECIMALS:
		return decimals ? arena_printf(a, "more than %d decimal places", decimals)
		                : "not a whole number";
	case VR_TOO_LARGE:
		return "too large";
	case VR_RANGE:
		return arena_printf(a, "out of range %s to %s",
		                    validate_fmt_num(a, f->min, decimals),
		                    validate_fmt_num(a, f->max, decimals));
	case VR_CONTROL:
		return "holds a control character";
	case VR_TOO_LONG:
		return arena_printf(a, "longer than %d characters",
		                    f->max_length > 0 ? f->max_length : VALIDATE_TEXT_DEFAULT);
	case VR_YESNO:
		return "not yes/no (true, false, 1 or 0)";
	case VR_CHOICE:
	default:
		return "not one of the choices";
	}
}

/* A growing list of issues in the arena. */
struct validate_list {
	struct validate_issue *items;
	size_t n, cap;
};

/* Append an issue; returns it for the caller to fill. */
static struct validate_issue *validate_push(struct arena *a, struct validate_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct validate_issue *bigger = arena_alloc(a, cap * sizeof(*bigger));
		if (l->n)
			memcpy(bigger, l->items, l->n * sizeof(*bigger));
		l->items = bigger;
		l->cap = cap;
	}
	struct validate_issue *is = &l->items[l->n++];
	memset(is, 0, sizeof(*is));
	return is;
}

/* A one-slot array for an issue about one field. */
static const int *validate_one_slot(struct arena *a, int slot)
{
	int *s = arena_alloc(a, sizeof(*s));
	*s = slot;
	return s;
}

/* The 说明 of a code. */
const char *validate_expl_find(const struct validate_expl *e, size_t n, const char *code)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].code && e[i].text && e[i].text[0] && strcmp(e[i].code, code) == 0)
			return e[i].text;
	return NULL;
}

/* Check every applicable field of the form: values, then required. */
static void validate_fields(struct arena *a, const struct validate_in *in, struct validate_out *out,
                            struct validate_list *l)
{
	const struct form_def *form = in->form;
	for (size_t i = 0; i < form->nfields; i++) {
		const struct form_field *f = form->fields[i];
		if (!form_field_applies(f, in->school_type, in->stages))
			continue;
		if (f->required)
			out->required_total++;
		const char *norm, *msg;
		double v;
		const char *raw = in->raw ? in->raw[f->slot] : NULL;
		enum validate_status st = validate_value(a, f, raw, &norm, &v, &msg, NULL);
		if (st == VS_OK) {
			out->norm[f->slot] = norm;
			if (f->type == FT_INTEGER || f->type == FT_DECIMAL || f->type == FT_YESNO) {
				out->num[f->slot] = v;
				out->present[f->slot] = 1;
			}
			if (f->required)
				out->required_filled++;
		} else if (st == VS_BAD) {
			struct validate_issue *is = validate_push(a, l);
			is->kind = VK_ERROR;
			is->code = arena_printf(a, "val:%s", f->code);
			is->message = msg;
			is->slots = validate_one_slot(a, f->slot);
			is->nslots = 1;
		} else if (f->required && in->submitting) {
			struct validate_issue *is = validate_push(a, l);
			is->kind = VK_ERROR;
			is->code = arena_printf(a, "req:%s", f->code);
			is->message = arena_printf(a, "%s：必填项，请填写。", validate_label(a, f));
			is->slots = validate_one_slot(a, f->slot);
			is->nslots = 1;
		}
	}
}

/* Evaluate the form's rules over out->num / out->present. */
static void validate_rules(struct arena *a, const struct validate_in *in, struct validate_out *out,
                           struct validate_list *l)
{
	const struct form_def *form = in->form;
	for (size_t i = 0; i < form->nrules; i++) {
		const struct form_rule *r = &form->rules[i];
		if (r->stage && !(in->stages & r->stage))
			continue;
		struct expr_value v = expr_eval(r->expr, out->num, out->present);
		if (v.missing || v.v != 0)
			continue;
		struct validate_issue *is = validate_push(a, l);
		is->kind = r->severity == FS_ERROR ? VK_ERROR : VK_WARNING;
		is->code = r->code;
		is->message = r->message;
		is->slots = r->slots;
		is->nslots = r->nslots;
		if (is->kind == VK_WARNING)
			is->explanation = validate_expl_find(in->expl, in->nexpl, r->code);
	}
}

/* Warn about numbers that moved more than the form allows against last period. */
static void validate_changes(struct arena *a, const struct validate_in *in,
                             struct validate_out *out, struct validate_list *l)
{
	const struct form_def *form = in->form;
	if (form->change_warning <= 0 || !in->prev || !in->prev_present)
		return;
	for (size_t i = 0; i < form->nfields; i++) {
		const struct form_field *f = form->fields[i];
		int s = f->slot;
		if ((f->type != FT_INTEGER && f->type != FT_DECIMAL) || !out->present[s] ||
		    !in->prev_present[s] || in->prev[s] <= 0 ||
		    !form_field_applies(f, in->school_type, in->stages))
			continue;
		double change = (out->num[s] - in->prev[s]) / in->prev[s];
		if (fabs(change) <= form->change_warning + 1e-12)
			continue;
		int decimals = f->type == FT_DECIMAL ? f->decimals : 0;
		struct validate_issue *is = validate_push(a, l);
		is->kind = VK_WARNING;
		is->code = arena_printf(a, "chg:%s", f->code);
		is->message = arena_printf(
		    a, "%s：%s，比上期的 %s %s %.0f%%，变化超过 %.0f%%，请核实或说明原因。",
		    validate_label(a, f), validate_fmt_num(a, out->num[s], decimals),
		    validate_fmt_num(a, in->prev[s], decimals), change > 0 ? "增加" : "减少",
		    fabs(change) * 100, form->change_warning * 100);
		is->slots = validate_one_slot(a, s);
		is->nslots = 1;
		is->explanation = validate_expl_find(in->expl, in->nexpl, is->code);
	}
}

/* Validate one form for one school. */
void validate_form(struct arena *a, const struct validate_in *in, struct validate_out *out)
{
	size_t n = form_nslots(in->set);
	memset(out, 0, sizeof(*out));
	out->norm = arena_alloc(a, (n ? n : 1) * sizeof(*out->norm));
	out->num = arena_alloc(a, (n ? n : 1) * sizeof(*out->num));
	out->present = arena_alloc(a, n ? n : 1);
	if (in->num && in->present) {
		memcpy(out->num, in->num, n * sizeof(*out->num));
		memcpy(out->present, in->present, n);
	}
	for (size_t i = 0; i < in->form->nfields; i++) {
		int s = in->form->fields[i]->slot;
		out->num[s] = 0;
		out->present[s] = 0;
	}
	struct validate_list l = {0};
	validate_fields(a, in, out, &l);
	validate_rules(a, in, out, &l);
	validate_changes(a, in, out, &l);
	out->issues = l.items;
	out->nissues = l.n;
	for (size_t i = 0; i < l.n; i++) {
		if (l.items[i].kind == VK_ERROR) {
			out->errors++;
		} else {
			out->warnings++;
			if (!l.items[i].explanation)
				out->unexplained++;
		}
	}
}

/* Submittable: no errors, all warnings explained, all required filled. */
bool validate_submittable(const struct validate_out *out)
{
	return out->errors == 0 && out->unexplained == 0 &&
	       out->required_filled == out->required_total;
}

/* Count the "req:" issues. */
int validate_missing(const struct validate_out *out)
{
	int n = 0;
	for (size_t k = 0; k < out->nissues; k++)
		if (strncmp(out->issues[k].code, "req:", 4) == 0)
			n++;
	return n;
}

/* A number with at most `decimals` places and no trailing zeros. */
const char *validate_fmt_num(struct arena *a, double v, int decimals)
{
	if (decimals < 0)
		decimals = 0;
	if (decimals > 6)
		decimals = 6;
	char *s = arena_printf(a, "%.*f", decimals, v);
	if (decimals > 0) {
		size_t n = strlen(s);
		while (n > 0 && s[n - 1] == '0')
			s[--n] = '\0';
		if (n > 0 && s[n - 1] == '.')
			s[--n] = '\0';
	}
	if (strcmp(s, "-0") == 0)
		return "0";
	return s;
}

/* form_check.c — parse form definitions (JSON), check every part, expand and compile the rules. */
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "form.h"
#include "form_internal.h"
#include "orgunit.h"

#define MAX_FORM_CODE 32
#define MAX_SECTION_CODE 32
#define MAX_FIELD_CODE 48 /* as written; a grid cell adds its row's prefix */
#define MAX_CELL_CODE 64
#define MAX_RULE_CODE 48
#define MAX_CHOICES 200
#define MAX_RULE_FIELDS 64
#define ALL_STAGES 0x3fu                 /* ST_KG | ... | ST_SPE */
#define MAX_EXACT_INT 9007199254740992.0 /* 2^53: integers beyond are not exact doubles */

/* A check in progress: the set being filled and where we are, for messages. */
struct ck {
	struct form_set *set;
	struct arena *a;
	const char *fname;
	const char *form; /* the form's code once read, else NULL */
	int index;        /* the form's index in the set */
	char where[200];  /* the element being checked, e.g. "field pri_students" */
	char *err;
	size_t errlen;
};

/* Write "FILE: form CODE: WHERE: message" into the error buffer; returns false. */
static bool ck_fail(struct ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Format one problem with its place (see the declaration above). */
static bool ck_fail(struct ck *c, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %s%s%s%s%s%s", c->fname, c->form ? "form " : "",
		         c->form ? c->form : "", c->form ? ": " : "", c->where,
		         c->where[0] ? ": " : "", msg);
	return false;
}

/* Name the element being checked. */
static void ck_where(struct ck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Set c->where from a format (see the declaration above). */
static void ck_where(struct ck *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->where, sizeof(c->where), fmt, ap);
	va_end(ap);
}

/* A printable copy of untrusted text for a message: control characters and
 * bytes that are not UTF-8 become '?', and long text is cut after a whole
 * character with "...". */
static const char *show(char *buf, size_t n, const char *s)
{
	size_t o = 0, i = 0;
	while (s[i]) {
		unsigned char ch = (unsigned char)s[i];
		size_t len = ch < 0x80                  ? 1
		             : ch >= 0xc2 && ch <= 0xdf ? 2
		             : ch >= 0xe0 && ch <= 0xef ? 3
		             : ch >= 0xf0 && ch <= 0xf4 ? 4
		                                        : 0;
		size_t k = 1;
		while (k < len && ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k++;
		if (k < len)
			len = 0;
		if (o + (len ? len : 1) + 4 > n)
			break;
		if (len == 0 || (len == 1 && (ch < 0x20 || ch == 0x7f))) {
			buf[o++] = '?';
			i++;
			continue;
		}
		memcpy(buf + o, s + i, len);
		o += len;
		i += len;
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Characters in a string (jansson has checked the UTF-8), or -1 when it holds a
 * control character (a newline is allowed in paragraphs). */
static long text_chars(const char *s, size_t len, bool para)
{
	long n = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch < 0x20 && !(para && ch == '\n')) || ch == 0x7f)
			return -1;
		if ((ch & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* Whether a string is only white space (ASCII or the ideographic space U+3000). */
static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
			continue;
		if (i + 2 < len && memcmp(s + i, "\xe3\x80\x80", 3) == 0) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* [a-z][a-z0-9_]* of 1..max bytes. */
static bool code_syntax(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Words of the expression language that cannot be field codes. */
static bool is_reserved(const char *s)
{
	static const char *const words[] = {"and", "or", "not", "sum", "min", "max", "abs", "ceil"};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(words[i], s) == 0)
			return true;
	return false;
}

/* Index in form_stage_table of a stage prefix, or -1. */
static int stage_index(const char *s)
{
	for (int i = 0; i < FORM_NSTAGES; i++)
		if (strcmp(form_stage_table[i].prefix, s) == 0)
			return i;
	return -1;
}

/* Refuse any key of obj that is not in `allowed` (a typo must not pass). */
static bool ck_keys(struct ck *c, json_t *obj, const char *const *allowed, size_t nallowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		size_t i = 0;
		while (i < nallowed && strcmp(allowed[i], key) != 0)
			i++;
		if (i == nallowed) {
			char b[64];
			return ck_fail(c, "unknown key '%s'", show(b, sizeof(b), key));
		}
	}
	return true;
}

/* Read a text member into the arena: non-blank, no control characters, at most
 * maxchars characters; *out stays NULL when it is absent and not required. */
static bool ck_text(struct ck *c, json_t *obj, const char *key, bool required, long maxchars,
                    bool para, const char **out)
{
	json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v)
		return required ? ck_fail(c, "missing key '%s'", key) : true;
	if (!json_is_string(v))
		return ck_fail(c, "'%s' must be a string", key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	long n = text_chars(s, len, para);
	if (n < 0)
		return ck_fail(c, "'%s' holds a control character", key);
	if (is_blank(s, len))
		return ck_fail(c, "'%s' must not be empty", key);
	if (n > maxchars)
		return ck_fail(c, "'%s' is longer than %ld characters", key, maxchars);
	*out = arena_strndup(c->a, s, len);
	return true;
}

/* Read a required code member ([a-z][a-z0-9_]*, at most max bytes). */
static bool ck_code(struct ck *c, json_t *obj, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(obj, key);
	char b[64];
	*out = NULL;
	if (!v)
		return ck_fail(c, "missing key '%s'", key);
	if (!json_is_string(v))
		return ck_fail(c, "'%s' must be a string", key);
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || !code_syntax(s, max))
		return ck_fail(c, "bad %s '%s': want [a-z][a-z0-9_]* of at most %zu characters",
		               key, show(b, sizeof(b), s), max);
	*out = arena_strdup(c->a, s);
	return true;
}

/* Read an optional integer member in lo..hi (a JSON integer, not 1.0). */
static bool ck_int(struct ck *c, json_t *obj, const char *key, long long lo, long long hi,
                   bool *present, long long *out)
{
	json_t *v = json_object_get(obj, key);
	*present = v != NULL;
	if (!v)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return ck_fail(c, "'%s' must be an integer from %lld to %lld", key, lo, hi);
	*out = json_integer_value(v);
	return true;
}

/* Read an optional finite number member (a JSON integer of at most 2^53 when `integer`). */
static bool ck_number(struct ck *c, json_t *obj, const char *key, bool integer, bool *present,
                      double *out)
{
	json_t *v = json_object_get(obj, key);
	*present = v != NULL;
	if (!v)
		return true;
	if (integer && !json_is_integer(v))
		return ck_fail(c, "'%s' must be an integer", key);
	if (!json_is_number(v))
		return ck_fail(c, "'%s' must be a number", key);
	double d = json_number_value(v);
	if (!isfinite(d) || (integer && fabs(d) > MAX_EXACT_INT))
		return ck_fail(c, "'%s' is out of range", key);
	*out = d;
	return true;
}

/* Read an optional list of distinct stages, each one of `allowed`, into their
 * table indexes (in the order written) and bits; absent gives n = 0. */
static bool ck_stages(struct ck *c, json_t *obj, const char *key, unsigned allowed,
                      unsigned char *order, size_t *n, unsigned *bits)
{
	json_t *v = json_object_get(obj, key), *s;
	size_t i;
	char b[64];
	*n = 0;
	*bits = 0;
	if (!v)
		return true;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return ck_fail(
		    c, "'%s' must be a non-empty list of stages (kg pri jun sen voc spe)", key);
	json_array_foreach(v, i, s)
	{
		int k = json_is_string(s) ? stage_index(json_string_value(s)) : -1;
		if (k < 0)
			return ck_fail(c, "'%s': %s is not a stage (kg pri jun sen voc spe)", key,
			               json_is_string(s) ? show(b, sizeof(b), json_string_value(s))
			                                 : "a non-string");
		unsigned bit = form_stage_table[k].bit;
		if (!(allowed & bit))
			return ck_fail(c, "'%s': stage %s is not a row of the grid", key,
			               form_stage_table[k].prefix);
		if (*bits & bit)
			return ck_fail(c, "'%s': stage %s is listed twice", key,
			               form_stage_table[k].prefix);
		*bits |= bit;
		order[(*n)++] = (unsigned char)k;
	}
	return true;
}

/* Read "choices" of a choice field: objects {value, label}, values distinct. */
static bool ck_choices(struct ck *c, json_t *jf, struct form_field *f)
{
	static const char *const keys[] = {"value", "label"};
	json_t *v = json_object_get(jf, "choices"), *jc;
	size_t i;
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > MAX_CHOICES)
		return ck_fail(c, "'choices' must be a list of 1 to %d choices", MAX_CHOICES);
	struct form_choice *ch = arena_alloc(c->a, json_array_size(v) * sizeof(*ch));
	json_array_foreach(v, i, jc)
	{
		if (!json_is_object(jc))
			return ck_fail(c, "choices[%zu] must be an object {value, label}", i);
		if (!ck_keys(c, jc, keys, 2) ||
		    !ck_text(c, jc, "value", true, 32, false, &ch[i].value) ||
		    !ck_text(c, jc, "label", true, 60, false, &ch[i].label))
			return false;
		for (size_t k = 0; k < i; k++)
			if (strcmp(ch[k].value, ch[i].value) == 0) {
				char b[64];
				return ck_fail(c, "choice value '%s' is listed twice",
				               show(b, sizeof(b), ch[i].value));
			}
	}
	f->choices = ch;
	f->nchoices = json_array_size(v);
	return true;
}

/* Read "min"/"max" of a number field: max required, min defaults to 0, min <= max. */
static bool ck_bounds(struct ck *c, json_t *jf, struct form_field *f)
{
	bool integer = f->type == FT_INTEGER, has_min, has_max;
	f->min = 0;
	if (!ck_number(c, jf, "min", integer, &has_min, &f->min) ||
	    !ck_number(c, jf, "max", integer, &has_max, &f->max))
		return false;
	if (!has_max)
		return ck_fail(c, "a number field needs 'max' (its plausible upper bound)");
	if (f->min > f->max)
		return ck_fail(c, "min (%g) is greater than max (%g)", f->min, f->max);
	return true;
}

/* Read "school_types": distinct known 办学类型 codes (3 digits). */
static bool ck_school_types(struct ck *c, json_t *jf, struct form_field *f)
{
	json_t *v = json_object_get(jf, "school_types"), *js;
	size_t i;
	if (!v)
		return true;
	if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > 64)
		return ck_fail(c, "'school_types' must be a non-empty list of 办学类型 codes");
	const char **types = arena_alloc(c->a, json_array_size(v) * sizeof(*types));
	json_array_foreach(v, i, js)
	{
		const char *s = json_is_string(js) ? json_string_value(js) : "";
		char b[64];
		if (strlen(s) != 3 || strspn(s, "0123456789") != 3 || !ou_school_type_stages(s))
			return ck_fail(
			    c, "'school_types': '%s' is not a known 办学类型 code (3 digits)",
			    show(b, sizeof(b), s));
		for (size_t k = 0; k < i; k++)
			if (strcmp(types[k], s) == 0)
				return ck_fail(c, "'school_types': %s is listed twice", s);
		types[i] = arena_strdup(c->a, s);
	}
	f->school_types = types;
	f->nschool_types = json_array_size(v);
	return true;
}

/* Check the members that depend on the type: decimals, max_length, choices, bounds, unit. */
static bool ck_typed(struct ck *c, json_t *jf, struct form_field *f)
{
	bool has;
	long long n = 0;
	bool number = f->type == FT_INTEGER || f->type == FT_DECIMAL;
	if (!ck_int(c, jf, "decimals", 1, 6, &has, &n))
		return false;
	if (has != (f->type == FT_DECIMAL))
		return ck_fail(c, has ? "'decimals' is only for decimal fields"
		                      : "a decimal field needs 'decimals' (1..6)");
	f->decimals = (int)n;
	n = 200;
	if (!ck_int(c, jf, "max_length", 1, 2000, &has, &n))
		return false;
	if (has && f->type != FT_TEXT)
		return ck_fail(c, "'max_length' is only for text fields");
	f->max_length = f->type == FT_TEXT ? (int)n : 0;
	if ((json_object_get(jf, "choices") != NULL) != (f->type == FT_CHOICE))
		return ck_fail(c, f->type == FT_CHOICE ? "a choice field needs 'choices'"
		                                       : "'choices' is only for choice fields");
	if (f->type == FT_CHOICE && !ck_choices(c, jf, f))
		return false;
	if (!number) {
		if (json_object_get(jf, "min") || json_object_get(jf, "max"))
			return ck_fail(c, "'min' and 'max' are only for number fields");
		if (json_object_get(jf, "unit"))
			return ck_fail(c, "'unit' is only for number fields");
		return true;
	}
	return ck_bounds(c, jf, f) && ck_text(c, jf, "unit", false, 16, false, &f->unit);
}

/* Check one field (or grid column, limited to the grid's rows) and return it, or NULL. */
static struct form_field *ck_field(struct ck *c, json_t *jf, bool column, unsigned rows)
{
	static const char *const keys[] = {"code", "label",  "unit",        "type",    "decimals",
	                                   "min",  "max",    "max_length",  "choices", "required",
	                                   "help", "stages", "school_types"};
	struct form_field *f = arena_alloc(c->a, sizeof(*f));
	const char *type;
	unsigned char order[FORM_NSTAGES];
	size_t n;
	if (!json_is_object(jf)) {
		ck_fail(c, "a field must be an object");
		return NULL;
	}
	if (!ck_code(c, jf, "code", MAX_FIELD_CODE, &f->code))
		return NULL;
	ck_where(c, "%s %s", column ? "grid column" : "field", f->code);
	if (is_reserved(f->code)) {
		ck_fail(c, "'%s' is a word of the expression language", f->code);
		return NULL;
	}
	if (!column && strncmp(f->code, "s_", 2) == 0) {
		ck_fail(c, "a field code must not start with s_ (the stage placeholder of rules)");
		return NULL;
	}
	if (!ck_keys(c, jf, keys, sizeof(keys) / sizeof(keys[0])) ||
	    !ck_text(c, jf, "label", true, 60, false, &f->label) ||
	    !ck_text(c, jf, "help", false, 300, true, &f->help) ||
	    !ck_text(c, jf, "type", true, 16, false, &type))
		return NULL;
	size_t t = 0;
	while (t < 5 && strcmp(form_type_names[t], type) != 0)
		t++;
	if (t == 5) {
		char b[64];
		ck_fail(c, "bad type '%s' (integer, decimal, text, yesno or choice)",
		        show(b, sizeof(b), type));
		return NULL;
	}
	f->type = (enum form_type)t;
	if (!ck_typed(c, jf, f))
		return NULL;
	json_t *req = json_object_get(jf, "required");
	if (req && !json_is_boolean(req)) {
		ck_fail(c, "'required' must be true or false");
		return NULL;
	}
	f->required = json_is_true(req);
	if (!ck_stages(c, jf, "stages", column ? rows : ALL_STAGES, order, &n, &f->stages) ||
	    !ck_school_types(c, jf, f))
		return NULL;
	f->slot = -1;
	f->column = -1;
	return f;
}

/* Give a field its slot and a place in the form, refusing a code already in the set. */
static bool ck_register(struct ck *c, struct form_field *f, const struct form_field **fields,
                        size_t *n)
{
	int slot = form_slot_lookup(c->set, f->code, strlen(f->code));
	ck_where(c, "field %s", f->code);
	if (strlen(f->code) > MAX_CELL_CODE)
		return ck_fail(c, "the code is longer than %d characters", MAX_CELL_CODE);
	if (slot >= 0 && c->set->owner[slot] == c->index)
		return ck_fail(c, "the code is defined twice in the form");
	if (slot >= 0) {
		const struct form_entry *o = c->set->forms[c->set->owner[slot]];
		return ck_fail(
		    c, "already a field of form %s (%s); field codes are unique across forms",
		    o->def.code, o->fname);
	}
	if (*n >= FORM_MAX_FIELDS)
		return ck_fail(c, "the form has more than %d fields", FORM_MAX_FIELDS);
	form_slot_add(c->set, f, c->index);
	fields[(*n)++] = f;
	return true;
}

/* Check a grid: its rows, its columns, and the cells they give (row-major). */
static bool ck_grid(struct ck *c, json_t *jg, struct form_section *sec, int isec,
                    const struct form_field **fields, size_t *nfields)
{
	static const char *const keys[] = {"rows", "columns"};
	unsigned char rows[FORM_NSTAGES];
	size_t nrows, j;
	json_t *jcols = json_object_get(jg, "columns"), *jc;
	const char *scode = sec->code;
	ck_where(c, "section %s: grid", scode);
	if (!json_is_object(jg))
		return ck_fail(c, "'grid' must be an object {rows, columns}");
	if (!ck_keys(c, jg, keys, 2) ||
	    !ck_stages(c, jg, "rows", ALL_STAGES, rows, &nrows, &sec->rows))
		return false;
	if (nrows == 0)
		return ck_fail(c, "missing key 'rows'");
	if (!json_is_array(jcols) || json_array_size(jcols) == 0 ||
	    json_array_size(jcols) > FORM_MAX_FIELDS)
		return ck_fail(c, "'columns' must be a non-empty list of fields");
	struct form_field **cols = arena_alloc(c->a, json_array_size(jcols) * sizeof(*cols));
	json_array_foreach(jcols, j, jc)
	{
		ck_where(c, "section %s: grid: columns[%zu]", scode, j);
		if (!(cols[j] = ck_field(c, jc, true, sec->rows)))
			return false;
		cols[j]->section = isec;
		cols[j]->column = (int)j;
		for (size_t k = 0; k < j; k++)
			if (strcmp(cols[k]->code, cols[j]->code) == 0)
				return ck_fail(c, "the column code is used twice in the grid");
	}
	sec->grid = true;
	sec->columns = (const struct form_field *const *)cols;
	sec->ncolumns = json_array_size(jcols);
	for (size_t r = 0; r < nrows; r++) {
		const struct form_stage_info *st = &form_stage_table[rows[r]];
		for (j = 0; j < sec->ncolumns; j++) {
			if (cols[j]->stages && !(cols[j]->stages & st->bit))
				continue;
			struct form_field *cell = arena_alloc(c->a, sizeof(*cell));
			*cell = *cols[j];
			cell->code = arena_printf(c->a, "%s_%s", st->prefix, cols[j]->code);
			cell->stage = st->bit;
			cell->stages = st->bit;
			if (!ck_register(c, cell, fields, nfields))
				return false;
		}
	}
	return true;
}

/* Check one section (plain fields or one grid) and register its fields. */
static bool ck_section(struct ck *c, json_t *js, size_t idx, struct form_section *secs,
                       const struct form_field **fields, size_t *nfields)
{
	static const char *const keys[] = {"code", "title", "help", "fields", "grid"};
	struct form_section *sec = &secs[idx];
	json_t *jfields, *jf;
	size_t j;
	ck_where(c, "sections[%zu]", idx);
	if (!json_is_object(js))
		return ck_fail(c, "a section must be an object");
	if (!ck_code(c, js, "code", MAX_SECTION_CODE, &sec->code))
		return false;
	ck_where(c, "section %s", sec->code);
	for (size_t k = 0; k < idx; k++)
		if (strcmp(secs[k].code, sec->code) == 0)
			return ck_fail(c, "the section code is used twice");
	if (!ck_keys(c, js, keys, sizeof(keys) / sizeof(keys[0])) ||
	    !ck_text(c, js, "title", true, 40, false, &sec->title) ||
	    !ck_text(c, js, "help", false, 300, true, &sec->help))
		return false;
	jfields = json_object_get(js, "fields");
	if ((jfields != NULL) == (json_object_get(js, "grid") != NULL))
		return ck_fail(c, "a section holds either 'fields' or one 'grid'");
	if (!jfields)
		return ck_grid(c, json_object_get(js, "grid"), sec, (int)idx, fields, nfields);
	if (!json_is_array(jfields) || json_array_size(jfields) == 0)
		return ck_fail(c, "'fields' must be a non-empty list");
	json_array_foreach(jfields, j, jf)
	{
		ck_where(c, "section %s: fields[%zu]", sec->code, j);
		struct form_field *f = ck_field(c, jf, false, 0);
		if (!f)
			return false;
		f->section = (int)idx;
		if (!ck_register(c, f, fields, nfields))
			return false;
	}
	return true;
}

/* Check that a message has {stage} exactly when the rule is per-stage, and no other braces. */
static bool ck_placeholders(struct ck *c, const char *msg, bool per_stage)
{
	bool seen = false;
	for (const char *p = msg; *p; p++) {
		if (strncmp(p, "{stage}", 7) == 0) {
			seen = true;
			p += 6;
		} else if (*p == '{' || *p == '}') {
			return ck_fail(c, "the message has an unknown placeholder (only {stage})");
		}
	}
	if (seen != per_stage)
		return ck_fail(c, per_stage
		                      ? "the message of a per-stage rule needs {stage}"
		                      : "{stage} belongs only in the message of a per-stage rule");
	return true;
}

/* Check the shape of rule idx (code, severity, message, stages, expr, fields); rules
 * before it are in rs[0..idx-1]. The expression is compiled by form_set_finish. */
static bool ck_rule(struct ck *c, json_t *jr, size_t idx, struct form_rule_src *rs)
{
	static const char *const keys[] = {"code",     "stages",  "expr",
	                                   "severity", "message", "fields"};
	struct form_rule_src *r = &rs[idx];
	const char *sev;
	unsigned bits;
	ck_where(c, "rules[%zu]", idx);
	if (!json_is_object(jr))
		return ck_fail(c, "a rule must be an object");
	if (!ck_code(c, jr, "code", MAX_RULE_CODE, &r->code))
		return false;
	ck_where(c, "rule %s", r->code);
	for (size_t k = 0; k < idx; k++)
		if (strcmp(rs[k].code, r->code) == 0)
			return ck_fail(c, "the rule code is used twice in the form");
	if (!ck_keys(c, jr, keys, sizeof(keys) / sizeof(keys[0])) ||
	    !ck_text(c, jr, "severity", true, 16, false, &sev))
		return false;
	if (strcmp(sev, "error") != 0 && strcmp(sev, "warning") != 0) {
		char b[64];
		return ck_fail(c, "bad severity '%s' (error or warning)", show(b, sizeof(b), sev));
	}
	r->severity = sev[0] == 'e' ? FS_ERROR : FS_WARNING;
	if (!ck_text(c, jr, "message", true, 200, false, &r->message) ||
	    !ck_stages(c, jr, "stages", ALL_STAGES, r->stages, &r->nstages, &bits) ||
	    !ck_placeholders(c, r->message, r->nstages > 0))
		return false;
	json_t *je = json_object_get(jr, "expr");
	if (!je)
		return ck_fail(c, "missing key 'expr'");
	if (!json_is_string(je) || json_string_length(je) > EXPR_MAX_SOURCE ||
	    is_blank(json_string_value(je), json_string_length(je)))
		return ck_fail(c, "'expr' must be an expression of 1 to %d bytes", EXPR_MAX_SOURCE);
	r->expr = arena_strdup(c->a, json_string_value(je));
	json_t *jf = json_object_get(jr, "fields"), *jc;
	size_t i;
	if (!jf)
		return true;
	if (!json_is_array(jf) || json_array_size(jf) == 0 || json_array_size(jf) > MAX_RULE_FIELDS)
		return ck_fail(c, "'fields' must be a list of 1 to %d field codes",
		               MAX_RULE_FIELDS);
	const char **fields = arena_alloc(c->a, json_array_size(jf) * sizeof(*fields));
	json_array_foreach(jf, i, jc)
	{
		const char *s = json_is_string(jc) ? json_string_value(jc) : "";
		char b[64];
		if (!code_syntax(s, MAX_CELL_CODE))
			return ck_fail(c, "'fields': '%s' is not a field code",
			               show(b, sizeof(b), s));
		for (size_t k = 0; k < i; k++)
			if (strcmp(fields[k], s) == 0)
				return ck_fail(c, "'fields': %s is listed twice", s);
		fields[i] = arena_strdup(c->a, s);
	}
	r->fields = fields;
	r->nfields = json_array_size(jf);
	return true;
}

/* Check the whole definition and add it to the set. */
static bool ck_form(struct ck *c, json_t *root, const char *json, size_t len)
{
	static const char *const keys[] = {"code",           "name",     "edition", "description",
	                                   "change_warning", "sections", "rules"};
	struct form_entry *e = arena_alloc(c->a, sizeof(*e));
	struct form_def *d = &e->def;
	json_t *jsecs, *jrules, *jx;
	long long edition = 0;
	bool has;
	size_t i, nfields = 0;
	if (!ck_code(c, root, "code", MAX_FORM_CODE, &d->code))
		return false;
	c->form = d->code;
	for (i = 0; i < c->set->nforms; i++)
		if (strcmp(c->set->forms[i]->def.code, d->code) == 0)
			return ck_fail(c, "the form is already loaded (from %s)",
			               c->set->forms[i]->fname);
	if (!ck_keys(c, root, keys, sizeof(keys) / sizeof(keys[0])) ||
	    !ck_text(c, root, "name", true, 32, false, &d->name) ||
	    !ck_int(c, root, "edition", 1, INT_MAX, &has, &edition) ||
	    !ck_text(c, root, "description", false, 1000, true, &d->description) ||
	    !ck_number(c, root, "change_warning", false, &has, &d->change_warning))
		return false;
	if (!edition)
		return ck_fail(c, "missing key 'edition'");
	d->edition = (int)edition;
	if (has && !(d->change_warning > 0 && d->change_warning < 1))
		return ck_fail(c, "'change_warning' must be a share between 0 and 1 (e.g. 0.30)");
	jsecs = json_object_get(root, "sections");
	jrules = json_object_get(root, "rules");
	if (!jsecs || !jrules)
		return ck_fail(c, "missing key '%s'", jsecs ? "rules" : "sections");
	if (!json_is_array(jsecs) || json_array_size(jsecs) == 0 ||
	    json_array_size(jsecs) > FORM_MAX_SECTIONS)
		return ck_fail(c, "'sections' must be a list of 1 to %d sections",
		               FORM_MAX_SECTIONS);
	if (!json_is_array(jrules) || json_array_size(jrules) > FORM_MAX_RULES)
		return ck_fail(c, "'rules' must be a list of at most %d rules", FORM_MAX_RULES);
	c->index = (int)c->set->nforms;
	struct form_section *secs = arena_alloc(c->a, json_array_size(jsecs) * sizeof(*secs));
	const struct form_field **fields = arena_alloc(c->a, FORM_MAX_FIELDS * sizeof(*fields));
	json_array_foreach(jsecs, i, jx)
	{
		if (!ck_section(c, jx, i, secs, fields, &nfields))
			return false;
	}
	struct form_rule_src *rs = arena_alloc(c->a, (json_array_size(jrules) + 1) * sizeof(*rs));
	json_array_foreach(jrules, i, jx)
	{
		if (!ck_rule(c, jx, i, rs))
			return false;
	}
	d->sections = secs;
	d->nsections = json_array_size(jsecs);
	d->fields = fields;
	d->nfields = nfields;
	d->json = arena_strndup(c->a, json, len);
	e->fname = arena_strdup(c->a, c->fname);
	e->rsrc = rs;
	e->nrsrc = json_array_size(jrules);
	form_entry_add(c->set, e);
	return true;
}

/* Parse and check one definition and add it to the set (see form.h). */
bool form_set_add_json(struct form_set *set, const char *json, size_t len, const char *fname,
                       char *err, size_t errlen)
{
	struct ck c = {
	    .set = set, .fname = fname ? fname : "(definition)", .err = err, .errlen = errlen};
	json_t *root = NULL;
	json_error_t je;
	char b[200];
	bool ok = false;
	if (err && errlen)
		err[0] = '\0';
	if (!set || !json)
		return ck_fail(&c, "no form set or no definition");
	size_t nslots = set->nslots;
	c.a = &set->a;
	if (set->finished) {
		ck_fail(&c, "the set is finished; add every definition before form_set_finish");
		goto out;
	}
	if (len > FORM_MAX_JSON) {
		ck_fail(&c, "the definition is larger than 1 MiB (%zu bytes)", len);
		goto out;
	}
	if (len >= 3 && memcmp(json, "\xef\xbb\xbf", 3) == 0) {
		ck_fail(&c, "the file starts with a byte order mark; save it as UTF-8 without one");
		goto out;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		ck_fail(&c, "invalid JSON at line %d, column %d: %s", je.line, je.column,
		        show(b, sizeof(b), je.text));
		goto out;
	}
	if (!json_is_object(root)) {
		ck_fail(&c, "the definition must be a JSON object");
		goto out;
	}
	ok = ck_form(&c, root, json, len);
out:
	if (!ok)
		form_slot_truncate(set, nslots);
	json_decref(root);
	return ok;
}

/* expr resolver: a field code of the set to its slot. */
static int resolve(void *ctx, const char *name)
{
	return form_slot_lookup(ctx, name, strlen(name));
}

/* The message with every {stage} replaced by the stage's Chinese name. */
static const char *stage_message(struct arena *a, const char *msg, const char *name)
{
	size_t n = 0, nlen = strlen(name);
	for (const char *p = strstr(msg, "{stage}"); p; p = strstr(p + 7, "{stage}"))
		n++;
	char *out = arena_alloc(a, strlen(msg) + n * nlen + 1), *o = out;
	for (const char *p = msg; *p;) {
		if (strncmp(p, "{stage}", 7) == 0) {
			memcpy(o, name, nlen);
			o += nlen;
			p += 7;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* The slots of a rule's "fields" (s_ expanded for stage st): each a field of this form. */
static bool ck_rule_fields(struct ck *c, const struct form_rule_src *r,
                           const struct form_stage_info *st, struct form_rule *out)
{
	int *slots = arena_alloc(c->a, r->nfields * sizeof(*slots));
	size_t n = 0, reps;
	for (size_t i = 0; i < r->nfields; i++) {
		char name[MAX_CELL_CODE * 2 + 8];
		if (!form_expand_stage(r->fields[i], st ? st->prefix : NULL, name, sizeof(name),
		                       &reps))
			return ck_fail(c, "'fields': %s is too long", r->fields[i]);
		int slot = form_slot_lookup(c->set, name, strlen(name));
		if (slot < 0)
			return ck_fail(c, "'fields': unknown field '%s'", name);
		if (c->set->owner[slot] != c->index)
			return ck_fail(c, "'fields': %s is not a field of this form", name);
		size_t k = 0;
		while (k < n && slots[k] != slot)
			k++;
		if (k == n)
			slots[n++] = slot;
	}
	out->slots = slots;
	out->nslots = n;
	return true;
}

/* Expand rule r for stage st (NULL: not per-stage), compile it against the set's
 * fields and fill *out. */
static bool ck_compile(struct ck *c, const struct form_rule_src *r,
                       const struct form_stage_info *st, struct form_rule *out)
{
	char src[2 * EXPR_MAX_SOURCE + 2], msg[300];
	size_t reps, i;
	if (st)
		ck_where(c, "rule %s (stage %s)", r->code, st->prefix);
	else
		ck_where(c, "rule %s", r->code);
	if (!form_expand_stage(r->expr, st ? st->prefix : NULL, src, sizeof(src), &reps))
		return ck_fail(c, "the expression is too long");
	if (st && reps == 0)
		return ck_fail(c, "a per-stage rule reads its stage's fields as s_<column>");
	if (!st && reps > 0)
		return ck_fail(c, "s_ names are only for per-stage rules (give \"stages\")");
	struct expr *e = expr_parse(c->a, src, resolve, c->set, msg, sizeof(msg));
	if (!e)
		return ck_fail(c, "%s", msg);
	if (!expr_is_boolean(e))
		return ck_fail(c, "the expression is not a condition (a comparison, and, or, not)");
	size_t ns = expr_slots(e, NULL, 0);
	int *slots = arena_alloc(c->a, (ns + 1) * sizeof(*slots));
	expr_slots(e, slots, ns);
	for (i = 0; i < ns && c->set->owner[slots[i]] != c->index; i++)
		;
	if (i == ns)
		return ck_fail(c, "the rule reads no field of its own form");
	out->slots = slots;
	out->nslots = ns;
	if (r->nfields && !ck_rule_fields(c, r, st, out))
		return false;
	out->code = st ? arena_printf(c->a, "%s:%s", r->code, st->prefix) : r->code;
	out->form_code = c->form;
	out->expr = e;
	out->severity = r->severity;
	out->message = st ? stage_message(c->a, r->message, st->name) : r->message;
	out->stage = st ? st->bit : 0;
	return true;
}

/* Expand and compile every rule of every form (see form.h). */
bool form_set_finish(struct form_set *set, char *err, size_t errlen)
{
	struct ck c = {.set = set, .fname = "form set", .err = err, .errlen = errlen};
	if (err && errlen)
		err[0] = '\0';
	if (!set)
		return ck_fail(&c, "no form set");
	if (set->finished)
		return ck_fail(&c, "form_set_finish was called twice");
	c.a = &set->a;
	for (size_t i = 0; i < set->nforms; i++) {
		struct form_entry *e = set->forms[i];
		size_t n = 0, k = 0;
		c.fname = e->fname;
		c.form = e->def.code;
		c.index = (int)i;
		for (size_t r = 0; r < e->nrsrc; r++)
			n += e->rsrc[r].nstages ? e->rsrc[r].nstages : 1;
		struct form_rule *rules = arena_alloc(c.a, (n + 1) * sizeof(*rules));
		for (size_t r = 0; r < e->nrsrc; r++) {
			const struct form_rule_src *rs = &e->rsrc[r];
			for (size_t s = 0; s < rs->nstages; s++)
				if (!ck_compile(&c, rs, &form_stage_table[rs->stages[s]],
				                &rules[k++]))
					return false;
			if (!rs->nstages && !ck_compile(&c, rs, NULL, &rules[k++]))
				return false;
		}
		e->def.rules = rules;
		e->def.nrules = n;
	}
	set->finished = true;
	return true;
}

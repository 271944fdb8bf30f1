/* dvs.c — values in the DHIS2 dataValueSets JSON shape: parse, check and import them. */
#include "dvs.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "log.h"
#include "orgunit.h"
#include "period.h"
#include "validate.h"

#define DVS_MAX_CODE 64      /* bytes of dataSet, period, orgUnit, dataElement */
#define DVS_MAX_COMMENT 2000 /* bytes of a comment as read (the 说明 keeps 200 characters) */
#define DVS_MAX_VALUE 10000  /* bytes of one value */

/* A JSON scalar as text in the arena: strings as they are, integers and reals
 * in decimal, booleans as true/false; NULL for null; "" with *bad for others. */
static const char *dvs_text(struct arena *a, json_t *v, bool *bad)
{
	*bad = false;
	if (!v || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return arena_strndup(a, json_string_value(v), json_string_length(v));
	if (json_is_integer(v))
		return arena_printf(a, "%lld", (long long)json_integer_value(v));
	if (json_is_real(v))
		return arena_printf(a, "%.15g", json_real_value(v));
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	*bad = true;
	return "";
}

/* A required short string member of an object. */
static const char *dvs_code(struct arena *a, json_t *o, const char *key, size_t set_no, char *err,
                            size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > DVS_MAX_CODE) {
		snprintf(err, errlen, "set %zu: \"%s\" must be a string of 1 to %d bytes", set_no,
		         key, DVS_MAX_CODE);
		return NULL;
	}
	return arena_strndup(a, json_string_value(v), json_string_length(v));
}

/* One data value of set `set_no`. */
static bool dvs_parse_value(struct arena *a, json_t *o, const struct dvs_set *s, size_t set_no,
                            size_t k, struct dvs_value *out, char *err, size_t errlen)
{
	if (!json_is_object(o)) {
		snprintf(err, errlen, "set %zu: dataValues[%zu] is not an object", set_no, k);
		return false;
	}
	out->element = dvs_code(a, o, "dataElement", set_no, err, errlen);
	if (!out->element)
		return false;
	bool bad;
	out->value = dvs_text(a, json_object_get(o, "value"), &bad);
	if (bad || (out->value && strlen(out->value) > DVS_MAX_VALUE)) {
		snprintf(err, errlen,
		         "set %zu: dataElement %s: the value must be a string, number "
		         "or boolean of at most %d bytes",
		         set_no, out->element, DVS_MAX_VALUE);
		return false;
	}
	out->comment = dvs_text(a, json_object_get(o, "comment"), &bad);
	if (bad || (out->comment && strlen(out->comment) > DVS_MAX_COMMENT)) {
		snprintf(err, errlen,
		         "set %zu: dataElement %s: the comment must be a string of at "
		         "most %d bytes",
		         set_no, out->element, DVS_MAX_COMMENT);
		return false;
	}
	/* per-value period and orgUnit (allowed by DHIS2) must agree with the set's */
	json_t *p = json_object_get(o, "period"), *u = json_object_get(o, "orgUnit");
	if ((p && (!json_is_string(p) || strcmp(json_string_value(p), s->period) != 0)) ||
	    (u && (!json_is_string(u) || strcmp(json_string_value(u), s->org_unit) != 0))) {
		snprintf(err, errlen,
		         "set %zu: dataElement %s: a value's period and orgUnit must "
		         "be the set's",
		         set_no, out->element);
		return false;
	}
	return true;
}

/* One data value set. */
static bool dvs_parse_set(struct arena *a, json_t *o, size_t set_no, struct dvs_set *s, char *err,
                          size_t errlen)
{
	memset(s, 0, sizeof(*s));
	if (!json_is_object(o)) {
		snprintf(err, errlen, "set %zu is not an object", set_no);
		return false;
	}
	if (!(s->data_set = dvs_code(a, o, "dataSet", set_no, err, errlen)) ||
	    !(s->period = dvs_code(a, o, "period", set_no, err, errlen)) ||
	    !(s->org_unit = dvs_code(a, o, "orgUnit", set_no, err, errlen)))
		return false;
	json_t *vals = json_object_get(o, "dataValues");
	if (!json_is_array(vals) || json_array_size(vals) > DVS_MAX_VALUES) {
		snprintf(err, errlen,
		         "set %zu: \"dataValues\" must be an array of at most %d values", set_no,
		         DVS_MAX_VALUES);
		return false;
	}
	s->nvalues = json_array_size(vals);
	s->values = arena_alloc(a, (s->nvalues ? s->nvalues : 1) * sizeof(*s->values));
	for (size_t k = 0; k < s->nvalues; k++)
		if (!dvs_parse_value(a, json_array_get(vals, k), s, set_no, k, &s->values[k], err,
		                     errlen))
			return false;
	return true;
}

/* Parse a whole document. */
bool dvs_parse(struct arena *a, const char *json, size_t len, struct dvs_set **sets, size_t *n,
               char *err, size_t errlen)
{
	json_error_t je;
	bool ok = false;
	if (len > DVS_MAX_BYTES) {
		snprintf(err, errlen, "larger than %d MiB", DVS_MAX_BYTES >> 20);
		return false;
	}
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "line %d, column %d: %s", je.line, je.column, je.text);
		return false;
	}
	json_t *list = json_object_get(root, "dataValueSets");
	size_t count = list ? json_array_size(list) : 1;
	if (!json_is_object(root) || (list && !json_is_array(list)) || count > DVS_MAX_SETS) {
		snprintf(err, errlen,
		         "expected an object with \"dataValueSets\" (an array of at most "
		         "%d sets) or one data value set",
		         DVS_MAX_SETS);
		goto out;
	}
	*sets = arena_alloc(a, (count ? count : 1) * sizeof(**sets));
	for (size_t i = 0; i < count; i++)
		if (!dvs_parse_set(a, list ? json_array_get(list, i) : root, i + 1, &(*sets)[i],
		                   err, errlen))
			goto out;
	*n = count;
	ok = true;
out:
	json_decref(root);
	return ok;
}

/* ---- import ---- */

/* A set resolved against the database, ready to store. */
struct dvs_target {
	struct period period;
	struct org_unit school;
	const struct form_def *form;
	const char **raw;     /* per slot: the given values (others NULL) */
	unsigned char *given; /* per slot: named by the set */
	const char **comment; /* per slot */
	const char *key;      /* period, school and form, for finding repeats */
	size_t set_no;
};

/* Problem reporting: the file, the set, and a count. */
struct dvs_report {
	FILE *out;
	const char *fname;
	size_t count;
};

/* Print one problem of set `s` (number set_no). */
static void dvs_problem(struct dvs_report *r, const struct dvs_set *s, size_t set_no,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void dvs_problem(struct dvs_report *r, const struct dvs_set *s, size_t set_no,
                        const char *fmt, ...)
{
	r->count++;
	if (r->count > DVS_MAX_PROBLEMS) {
		if (r->count == DVS_MAX_PROBLEMS + 1)
			fprintf(r->out, "%s: more problems not shown\n", r->fname);
		return;
	}
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(r->out, "%s: set %zu (orgUnit %s, dataSet %s, period %s): %s\n", r->fname, set_no,
	        s->org_unit, s->data_set, s->period, msg);
}

/* Resolve and check one set (no writes). False when it has a problem. */
static bool dvs_check_set(struct db *db, struct arena *a, const struct form_set *fs,
                          const struct dvs_set *s, size_t set_no, struct dvs_target *t,
                          struct dvs_report *r)
{
	size_t before = r->count;
	t->set_no = set_no;
	int rc = period_code_valid(s->period) ? period_get(db, a, s->period, &t->period) : 0;
	if (rc != 1) {
		dvs_problem(r, s, set_no,
		            rc < 0 ? "database error"
		                   : "no such period (tianbao-admin period add)");
		return false;
	}
	rc = ou_get_by_code(db, a, s->org_unit, &t->school);
	if (rc != 1 || strcmp(t->school.kind, "school") != 0) {
		dvs_problem(r, s, set_no, rc < 0 ? "database error" : "no such school");
		return false;
	}
	t->form = form_find(fs, s->data_set);
	bool in_period = false;
	for (size_t k = 0; t->form && k < t->period.nforms; k++)
		in_period = in_period || strcmp(t->period.forms[k], s->data_set) == 0;
	if (!in_period) {
		dvs_problem(r, s, set_no,
		            t->form ? "the period does not contain this form"
		                    : "no such form (dataSet)");
		return false;
	}
	t->key = arena_printf(a, "%s\x1f%s\x1f%s", s->period, s->org_unit, s->data_set);
	size_t nslots = form_nslots(fs);
	t->raw = arena_alloc(a, nslots * sizeof(*t->raw));
	t->comment = arena_alloc(a, nslots * sizeof(*t->comment));
	t->given = arena_alloc(a, nslots);
	const char *stages = ou_school_type_stages(t->school.school_type);
	unsigned bits = form_stage_bits(stages ? stages : "");
	for (size_t k = 0; k < s->nvalues; k++) {
		const struct dvs_value *v = &s->values[k];
		const struct form_field *f = form_field_find(fs, v->element);
		if (!f || form_field_form(fs, f) != t->form) {
			dvs_problem(r, s, set_no, "dataElement %s is not a field of form %s",
			            v->element, s->data_set);
			continue;
		}
		if (!form_field_applies(f, t->school.school_type, bits)) {
			dvs_problem(r, s, set_no,
			            "dataElement %s does not apply to a school of type %s",
			            v->element, t->school.school_type);
			continue;
		}
		if (t->given[f->slot]) {
			dvs_problem(r, s, set_no, "dataElement %s is given twice", v->element);
			continue;
		}
		t->given[f->slot] = 1;
		enum validate_reason why;
		if (validate_value(a, f, v->value, NULL, NULL, NULL, &why) == VS_BAD)
			dvs_problem(r, s, set_no, "dataElement %s: value '%.60s' is %s", v->element,
			            v->value, validate_reason_en(a, f, why));
		t->raw[f->slot] = v->value;
		t->comment[f->slot] = v->comment && *v->comment ? v->comment : NULL;
	}
	return r->count == before;
}

/* Compare two targets by key (for finding a set given twice). */
static int dvs_cmp_key(const void *x, const void *y)
{
	const struct dvs_target *const *a = x, *const *b = y;
	int c = strcmp((*a)->key, (*b)->key);
	return c ? c : ((*a)->set_no > (*b)->set_no) - ((*a)->set_no < (*b)->set_no);
}

/* The 说明 after an import: the stored ones, and each given comment for every
 * warning that concerns its field. */
static size_t dvs_expl(struct arena *a, const struct entry *e, int i, const struct dvs_target *t,
                       const char *const *raw, struct validate_expl **out)
{
	struct validate_out v;
	entry_check(a, e, i, raw, NULL, 0, false, &v);
	const struct entry_sub *sub = &e->subs[i];
	struct validate_expl *x = arena_alloc(a, (sub->nexpl + v.nissues + 1) * sizeof(*x));
	size_t n = 0;
	for (size_t k = 0; k < v.nissues; k++) {
		const struct validate_issue *is = &v.issues[k];
		for (size_t j = 0; is->kind == VK_WARNING && j < is->nslots; j++)
			if (t->comment[is->slots[j]]) {
				x[n].code = is->code;
				x[n++].text = t->comment[is->slots[j]];
				break;
			}
	}
	for (size_t k = 0; k < sub->nexpl; k++)
		if (!validate_expl_find(x, n, sub->expl[k].code))
			x[n++] = sub->expl[k];
	*out = x;
	return n;
}

/* Store one checked set inside the import's transaction. */
static bool dvs_store(struct db *db, struct arena *a, const struct form_set *fs,
                      const struct dvs_set *s, const struct dvs_target *t, const char *actor,
                      long long now, struct dvs_report *r)
{
	struct entry e;
	if (entry_open(db, a, fs, &t->period, &t->school, &e) != 0) {
		dvs_problem(r, s, t->set_no, "database error");
		return false;
	}
	int i = entry_form(&e, s->data_set);
	if (!wf_editable(e.subs[i].state)) {
		dvs_problem(r, s, t->set_no, "the submission is %s and cannot be overwritten",
		            wf_state_code(e.subs[i].state));
		return false;
	}
	size_t nslots = form_nslots(fs);
	const char **raw = arena_alloc(a, nslots * sizeof(*raw));
	memcpy(raw, e.cur.raw, nslots * sizeof(*raw));
	for (size_t k = 0; k < nslots; k++)
		if (t->given[k])
			raw[k] = t->raw[k];
	struct validate_expl *x;
	size_t nx = dvs_expl(a, &e, i, t, raw, &x);
	struct validate_out out;
	int changed;
	if (!entry_store(db, a, &e, i, raw, x, nx, false, 0, actor, now, &out, &changed)) {
		dvs_problem(r, s, t->set_no, "database error: %s", sqlite3_errmsg(db->h));
		return false;
	}
	return true;
}

/* Move one stored set to the wanted state. */
static bool dvs_settle(struct db *db, struct arena *a, const struct form_set *fs,
                       const struct dvs_set *s, const struct dvs_target *t, enum wf_state state,
                       const char *actor, long long now, struct dvs_report *r)
{
	struct entry e;
	if (entry_open(db, a, fs, &t->period, &t->school, &e) != 0) {
		dvs_problem(r, s, t->set_no, "database error");
		return false;
	}
	int i = entry_form(&e, s->data_set);
	const struct entry_sub *sub = &e.subs[i];
	struct validate_out v;
	entry_check(a, &e, i, NULL, NULL, 0, true, &v);
	int missing = validate_missing(&v);
	int errors = v.errors - missing;
	bool ok = state == WS_SUBMITTED ? validate_submittable(&v)
	                                : v.errors == 0 && v.required_filled == v.required_total;
	if (!sub->id || !ok) {
		dvs_problem(r, s, t->set_no,
		            "cannot be %s: %d errors, %d warnings without a comment, %d required "
		            "fields empty",
		            wf_state_code(state), errors, v.unexplained, missing);
		return false;
	}
	const char *why;
	struct wf_move mv = {.id = sub->id,
	                     .from = sub->state,
	                     .version = -1,
	                     .action = WA_SUBMIT,
	                     .role = WR_SCHOOL,
	                     .levels = 1,
	                     .actor = actor,
	                     .now = now,
	                     .quiet = true};
	enum wf_state to = wf_apply(db, &mv, &why);
	if (to != WS_NONE && state == WS_APPROVED) {
		mv.from = to;
		mv.action = WA_APPROVE;
		mv.role = WR_ADMIN;
		to = wf_apply(db, &mv, &why);
	}
	if (to != state) {
		dvs_problem(r, s, t->set_no,
		            "cannot move from %s to %s (refused, or a database error)",
		            wf_state_code(sub->state), wf_state_code(state));
		return false;
	}
	return true;
}

/* Check every set, then store all or nothing. */
long dvs_import(struct db *db, const struct form_set *fs, const struct dvs_set *sets, size_t n,
                enum wf_state state, const char *actor, const char *fname, FILE *errors)
{
	struct dvs_report r = {errors, fname, 0};
	struct arena a, tmp;
	arena_init(&a, 64 * 1024);
	arena_init(&tmp, 64 * 1024);
	long result = -1;
	struct dvs_target *t = arena_alloc(&a, (n ? n : 1) * sizeof(*t));
	struct dvs_target **order = arena_alloc(&a, (n ? n : 1) * sizeof(*order));
	size_t ok = 0;
	for (size_t i = 0; i < n; i++)
		if (dvs_check_set(db, &a, fs, &sets[i], i + 1, &t[i], &r))
			order[ok++] = &t[i];
	qsort(order, ok, sizeof(*order), dvs_cmp_key);
	for (size_t i = 1; i < ok; i++)
		if (strcmp(order[i]->key, order[i - 1]->key) == 0)
			dvs_problem(&r, &sets[order[i]->set_no - 1], order[i]->set_no,
			            "the same school, form and period as set %zu",
			            order[i - 1]->set_no);
	if (r.count)
		goto out;
	if (!db_begin_write(db)) {
		fprintf(errors, "%s: the database is busy; nothing was imported\n", fname);
		goto out;
	}
	long long now = (long long)time(NULL);
	for (size_t i = 0; i < n; i++) {
		dvs_store(db, &tmp, fs, &sets[i], &t[i], actor, now, &r);
		arena_reset(&tmp);
	}
	for (size_t i = 0; state != WS_DRAFT && !r.count && i < n; i++) {
		dvs_settle(db, &tmp, fs, &sets[i], &t[i], state, actor, now, &r);
		arena_reset(&tmp);
	}
	if (r.count || !db_commit(db)) {
		if (!r.count)
			fprintf(errors,
			        "%s: the database could not store it; nothing was imported\n",
			        fname);
		db_rollback(db);
		goto out;
	}
	result = (long)n;
out:
	if (result < 0 && r.count)
		fprintf(errors, "%s: %zu problem%s; nothing was imported\n", fname, r.count,
		        r.count == 1 ? "" : "s");
	arena_free(&tmp);
	arena_free(&a);
	return result;
}

/* ---- the upstream payload ---- */

/* Add `text` to the comment of every field of form `form` that the 说明 of
 * `code` concerns (a change warning's field, or a rule's fields). */
static void dvs_comment(struct arena *a, const struct form_set *fs, const struct form_def *form,
                        const char *code, const char *text, const char **comments)
{
	const int *slots = NULL;
	size_t n = 0;
	int one;
	if (strncmp(code, "chg:", 4) == 0) {
		const struct form_field *f = form_field_find(fs, code + 4);
		if (f) {
			one = f->slot;
			slots = &one;
			n = 1;
		}
	}
	for (size_t r = 0; !slots && r < form->nrules; r++)
		if (strcmp(form->rules[r].code, code) == 0) {
			slots = form->rules[r].slots;
			n = form->rules[r].nslots;
		}
	for (size_t k = 0; k < n; k++) {
		const struct form_field *f = form_field_at(fs, slots[k]);
		if (!f || form_field_form(fs, f) != form)
			continue;
		const char *old = comments[f->slot];
		comments[f->slot] = old ? arena_printf(a, "%s；%s", old, text) : text;
	}
}

/* Build the payload of form i. */
char *dvs_payload(struct arena *a, const struct entry *e, int i, long long approved_at)
{
	const struct entry_sub *sub = &e->subs[i];
	const struct form_def *form = form_find(e->set, sub->form_code);
	size_t nslots = form_nslots(e->set);
	const char **comments = arena_alloc(a, (nslots ? nslots : 1) * sizeof(*comments));
	for (size_t k = 0; k < sub->nexpl; k++)
		dvs_comment(a, e->set, form, sub->expl[k].code, sub->expl[k].text, comments);
	char day[32];
	period_format_time(approved_at, day, sizeof(day));
	day[10] = '\0';
	json_t *values = json_array();
	json_t *root =
	    json_pack("{s:s, s:s, s:s, s:s, s:o}", "dataSet", form->code, "period", e->period.code,
	              "orgUnit", e->school->code, "completeDate", day, "dataValues", values);
	if (!root)
		return NULL;
	for (size_t k = 0; k < form->nfields; k++) {
		const struct form_field *f = form->fields[k];
		const char *norm = e->cur.norm[f->slot];
		if (!norm || !form_field_applies(f, e->school->school_type, e->stages))
			continue;
		if (f->type == FT_YESNO)
			norm = strcmp(norm, "1") == 0 ? "true" : "false";
		json_t *v = json_pack("{s:s, s:s}", "dataElement", f->code, "value", norm);
		bool ok = v && json_array_append_new(values, v) == 0; /* the array owns v */
		if (ok && comments[f->slot])
			ok = json_object_set_new(v, "comment", json_string(comments[f->slot])) == 0;
		if (!ok) {
			json_decref(root); /* never an incomplete payload */
			return NULL;
		}
	}
	char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return NULL;
	char *out = arena_strdup(a, text);
	free(text);
	return out;
}

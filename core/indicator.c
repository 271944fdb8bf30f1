/* indicator.c — indicator definitions as data: parse and check JSON, store, load. */
#include "indicator.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "form_internal.h"
#include "log.h"

const char *const ind_var_names[IV_COUNT] = {"school_type", "is_public", "is_inclusive", "is_rural",
                                             "period_year"};

/* Parsing context: where we are, for messages. */
struct ick {
	struct ind_sets *s;
	const char *fname;
	const char *set; /* set code, once known */
	const char *ind; /* indicator code, once known */
	char *err;
	size_t errlen;
};

/* Write "FILE: set S: indicator I: message" into err; returns false. */
static bool ick_fail(struct ick *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool ick_fail(struct ick *c, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s%s%s%s%s: %s", c->fname, c->set ? ": set " : "",
	         c->set ? c->set : "", c->ind ? ": indicator " : "", c->ind ? c->ind : "", msg);
	return false;
}

/* A new collection. */
struct ind_sets *ind_sets_new(const struct form_set *forms)
{
	struct ind_sets *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	arena_init(&s->a, 32 * 1024);
	s->forms = forms;
	return s;
}

/* Free a collection. */
void ind_sets_free(struct ind_sets *s)
{
	if (!s)
		return;
	arena_free(&s->a);
	free(s);
}

/* Variables of an evaluation. */
size_t ind_nvars(const struct ind_sets *s)
{
	return form_nslots(s->forms) + IV_COUNT;
}

/* The index of a stage bit. */
int ind_stage_index(unsigned stage)
{
	for (int i = 0; i < IND_NSTAGES; i++)
		if (form_stage_table[i].bit == stage)
			return i;
	return IND_WHOLE;
}

/* Whether s is a code: [a-z][a-z0-9_]*, 1..max characters. */
static bool ick_code(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max || s[0] < 'a' || s[0] > 'z')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/* Refuse keys outside `allowed` (a NULL-terminated list). */
static bool ick_keys(struct ick *c, json_t *o, const char *const *allowed, const char *what)
{
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok)
			return ick_fail(c, "unknown key \"%s\" in %s", key, what);
	}
	return true;
}

/* A required (or optional) string member copied into the arena. */
static bool ick_str(struct ick *c, json_t *o, const char *key, bool required, size_t max,
                    const char **out)
{
	json_t *v = json_object_get(o, key);
	*out = NULL;
	if (!v && !required)
		return true;
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > max)
		return ick_fail(c, "\"%s\" must be a string of 1 to %zu bytes", key, max);
	*out = arena_strdup(&c->s->a, json_string_value(v));
	return true;
}

/* The stage index of a stage name, or -1. */
static int ick_stage(const char *name)
{
	for (int i = 0; i < IND_NSTAGES; i++)
		if (strcmp(form_stage_table[i].prefix, name) == 0)
			return i;
	return -1;
}

/* expr resolver: a field code, or one of the indicator variables. */
static int ick_resolve(void *ctx, const char *name)
{
	const struct form_set *forms = ctx;
	int slot = form_slot_lookup(forms, name, strlen(name));
	if (slot >= 0)
		return slot;
	for (int k = 0; k < IV_COUNT; k++)
		if (strcmp(name, ind_var_names[k]) == 0)
			return (int)form_nslots(forms) + k;
	return -1;
}

/* Compile one expression for stage index st (IND_WHOLE: no s_ allowed). */
static bool ick_expr(struct ick *c, const char *src, int st, const char *what,
                     const struct expr **out)
{
	char buf[EXPR_MAX_SOURCE + 64], err[256];
	size_t reps;
	const char *prefix = st == IND_WHOLE ? NULL : form_stage_table[st].prefix;
	if (!form_expand_stage(src, prefix, buf, sizeof(buf), &reps))
		return ick_fail(c, "%s is too long", what);
	if (st == IND_WHOLE && reps)
		return ick_fail(c, "%s: s_ names are only for indicators with \"stages\"", what);
	*out = expr_parse(&c->s->a, buf, ick_resolve, (void *)c->s->forms, err, sizeof(err));
	if (!*out)
		return ick_fail(c, "%s%s%s: %s", what, prefix ? " for stage " : "",
		                prefix ? prefix : "", err);
	return true;
}

/* An object keyed by stage may name only the indicator's stages. */
static bool ick_stage_keys(struct ick *c, json_t *v, unsigned stages, const char *what)
{
	if (!json_is_object(v))
		return true;
	if (!stages)
		return ick_fail(c, "%s: an object by stage needs \"stages\"", what);
	const char *key;
	json_t *x;
	json_object_foreach(v, key, x)
	{
		int st = ick_stage(key);
		if (st < 0 || !(stages & form_stage_table[st].bit))
			return ick_fail(c, "%s: \"%s\" is not one of the indicator's stages", what,
			                key);
	}
	return true;
}

/* An expression given as one string (with s_) or as an object keyed by stage. */
static bool ick_staged_expr(struct ick *c, json_t *v, unsigned stages, const char *what,
                            const struct expr **out)
{
	if (!ick_stage_keys(c, v, stages, what))
		return false;
	for (int st = 0; st <= IND_NSTAGES; st++) {
		bool used =
		    st == IND_WHOLE ? stages == 0 : (stages & form_stage_table[st].bit) != 0;
		if (!used)
			continue;
		json_t *src =
		    json_is_object(v) ? json_object_get(v, form_stage_table[st].prefix) : v;
		if (!json_is_string(src))
			return ick_fail(c, "%s must be an expression (a string)%s%s", what,
			                st == IND_WHOLE ? "" : " for stage ",
			                st == IND_WHOLE ? "" : form_stage_table[st].prefix);
		if (!ick_expr(c, json_string_value(src), st, what, &out[st]))
			return false;
	}
	return true;
}

/* A number, or an object keyed by stage with a number for each used stage. */
static bool ick_staged_num(struct ick *c, json_t *v, unsigned stages, const char *what, double lo,
                           double *out)
{
	if (!ick_stage_keys(c, v, stages, what))
		return false;
	for (int st = 0; st <= IND_NSTAGES; st++) {
		bool used =
		    st == IND_WHOLE ? stages == 0 : (stages & form_stage_table[st].bit) != 0;
		if (!used)
			continue;
		json_t *x = json_is_object(v) && st != IND_WHOLE
		                ? json_object_get(v, form_stage_table[st].prefix)
		                : v;
		if (!json_is_number(x) || json_number_value(x) < lo)
			return ick_fail(c, "%s must be a number >= %g%s%s", what, lo,
			                st == IND_WHOLE ? "" : " for stage ",
			                st == IND_WHOLE ? "" : form_stage_table[st].prefix);
		out[st] = json_number_value(x);
	}
	return true;
}

/* Stage bits of an array of stage names. */
static bool ick_stages(struct ick *c, json_t *v, unsigned *bits)
{
	size_t i;
	json_t *x;
	*bits = 0;
	if (!v)
		return true;
	if (!json_is_array(v) || json_array_size(v) == 0)
		return ick_fail(
		    c, "\"stages\" must be a non-empty array of kg, pri, jun, sen, voc, spe");
	json_array_foreach(v, i, x)
	{
		int st = json_is_string(x) ? ick_stage(json_string_value(x)) : -1;
		if (st < 0 || (*bits & form_stage_table[st].bit))
			return ick_fail(c, "\"stages\": unknown or repeated stage");
		*bits |= form_stage_table[st].bit;
	}
	return true;
}

/* Whether an indicator code is taken in the collection. */
static bool ick_taken(const struct ind_sets *s, const char *code)
{
	for (size_t i = 0; i < s->nsets; i++)
		for (size_t k = 0; k < s->sets[i]->ninds; k++)
			if (strcmp(s->sets[i]->inds[k].code, code) == 0)
				return true;
	return false;
}

/* One indicator. */
static bool ick_indicator(struct ick *c, json_t *o, struct ind_set *set, struct ind_def *d)
{
	static const char *const keys[] = {"code",      "name",        "unit",      "stages",
	                                   "numerator", "denominator", "applies",   "factor",
	                                   "share",     "threshold",   "direction", "levels",
	                                   "document",  "note",        NULL};
	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return ick_fail(c, "every indicator must be an object");
	const char *code;
	if (!ick_str(c, o, "code", true, 48, &code))
		return false;
	c->ind = code;
	if (!ick_code(code, 48))
		return ick_fail(c, "the code must be [a-z][a-z0-9_]*");
	if (ick_taken(c->s, code))
		return ick_fail(c,
		                "the code is used twice (indicator codes are unique across sets)");
	for (size_t k = 0; k < set->ninds; k++)
		if (strcmp(set->inds[k].code, code) == 0)
			return ick_fail(c, "the code is used twice in this set");
	d->code = code;
	if (!ick_keys(c, o, keys, "the indicator") || !ick_str(c, o, "name", true, 300, &d->name) ||
	    !ick_str(c, o, "unit", true, 30, &d->unit) ||
	    !ick_str(c, o, "document", set->kind == IK_TARGETS, 500, &d->document) ||
	    !ick_str(c, o, "note", false, 1000, &d->note) ||
	    !ick_stages(c, json_object_get(o, "stages"), &d->stages))
		return false;
	if (set->kind == IK_BALANCE && !d->stages)
		return ick_fail(c, "a balance indicator is computed per stage: give \"stages\"");
	json_t *num = json_object_get(o, "numerator"), *den = json_object_get(o, "denominator");
	if (!num)
		return ick_fail(c, "\"numerator\" is missing");
	json_t *applies = json_object_get(o, "applies");
	if (!ick_staged_expr(c, num, d->stages, "numerator", d->num) ||
	    (den && !ick_staged_expr(c, den, d->stages, "denominator", d->den)) ||
	    (applies && !ick_staged_expr(c, applies, d->stages, "applies", d->applies)))
		return false;
	json_t *f = json_object_get(o, "factor");
	d->factor = 1;
	if (f && (!json_is_number(f) || json_number_value(f) <= 0))
		return ick_fail(c, "\"factor\" must be a number > 0");
	if (f)
		d->factor = json_number_value(f);
	json_t *share = json_object_get(o, "share");
	if (share && !json_is_boolean(share))
		return ick_fail(c, "\"share\" must be true or false");
	d->share = json_is_true(share);
	if (d->share && (!d->stages || !den))
		return ick_fail(c, "\"share\" needs \"stages\" and a denominator");
	json_t *th = json_object_get(o, "threshold");
	if (!th || !ick_staged_num(c, th, d->stages, "threshold", 0, d->threshold))
		return th ? false : ick_fail(c, "\"threshold\" is missing");
	const char *dir = json_string_value(json_object_get(o, "direction"));
	if (!dir || (strcmp(dir, ">=") != 0 && strcmp(dir, "<=") != 0))
		return ick_fail(c, "\"direction\" must be \">=\" or \"<=\"");
	d->dir = dir[0] == '>' ? ID_GE : ID_LE;
	json_t *lv = json_object_get(o, "levels");
	size_t i;
	json_t *x;
	d->levels = set->kind == IK_BALANCE ? IL_SCHOOL | IL_COUNTY : 0;
	if (lv) {
		d->levels = 0;
		if (!json_is_array(lv))
			return ick_fail(c, "\"levels\" must be an array of school, county, city");
		json_array_foreach(lv, i, x)
		{
			const char *l = json_string_value(x);
			unsigned bit = !l                         ? 0
			               : strcmp(l, "school") == 0 ? IL_SCHOOL
			               : strcmp(l, "county") == 0 ? IL_COUNTY
			               : strcmp(l, "city") == 0   ? IL_CITY
			                                          : 0;
			if (!bit)
				return ick_fail(
				    c, "\"levels\" must be an array of school, county, city");
			d->levels |= bit;
		}
	}
	if (!d->levels)
		return ick_fail(c, "\"levels\" is missing or empty");
	c->ind = NULL;
	return true;
}

/* The 优质均衡 parts of a set: stage weights, inclusion, verdict, CV limits. */
static bool ick_balance(struct ick *c, json_t *o, struct ind_set *set)
{
	json_t *w = json_object_get(o, "stage_weights");
	for (int st = 0; st < IND_NSTAGES; st++)
		set->weights[st] = 1;
	if (w) {
		const char *key;
		json_t *v;
		if (!json_is_object(w))
			return ick_fail(c, "\"stage_weights\" must be an object of stage: weight");
		json_object_foreach(w, key, v)
		{
			int st = ick_stage(key);
			if (st < 0 || !json_is_number(v) || json_number_value(v) <= 0)
				return ick_fail(c,
				                "\"stage_weights\": \"%s\" must be a stage with a "
				                "weight > 0",
				                key);
			set->weights[st] = json_number_value(v);
		}
	}
	json_t *cv = json_object_get(o, "cv_limits");
	unsigned cv_stages = 0;
	const char *key;
	json_t *v;
	if (!json_is_object(cv))
		return ick_fail(c, "\"cv_limits\" must be an object of stage: limit");
	json_object_foreach(cv, key, v)
	{
		int st = ick_stage(key);
		if (st < 0 || !json_is_number(v) || json_number_value(v) <= 0)
			return ick_fail(c, "\"cv_limits\": \"%s\" must be a stage with a limit > 0",
			                key);
		set->cv_limit[st] = json_number_value(v);
		cv_stages |= form_stage_table[st].bit;
	}
	if (!cv_stages)
		return ick_fail(c, "\"cv_limits\" must name at least one stage");
	json_t *verdict = json_object_get(o, "verdict");
	json_t *met = json_object_get(verdict, "min_met"), *fl = json_object_get(verdict, "floor");
	if (!json_is_integer(met) || json_integer_value(met) < 1 || !json_is_number(fl) ||
	    json_number_value(fl) <= 0 || json_number_value(fl) > 1)
		return ick_fail(c,
		                "\"verdict\" must be {\"min_met\": N >= 1, \"floor\": 0 < f <= 1}");
	set->min_met = (int)json_integer_value(met);
	set->floor = json_number_value(fl);
	json_t *inc = json_object_get(o, "include");
	if (inc && !ick_staged_expr(c, inc, cv_stages, "include", set->include))
		return false;
	return true;
}

/* Parse and check one definition. */
bool ind_sets_add_json(struct ind_sets *s, const char *json, size_t len, const char *fname,
                       char *err, size_t errlen)
{
	static const char *const keys[] = {
	    "code",     "name",        "edition",       "kind",
	    "document", "description", "stage_weights", "stage_weights_note",
	    "include",  "verdict",     "cv_limits",     "indicators",
	    NULL};
	struct ick c = {.s = s, .fname = fname, .err = err, .errlen = errlen};
	if (len > IND_MAX_JSON)
		return ick_fail(&c, "larger than %d KiB", IND_MAX_JSON / 1024);
	json_error_t je;
	json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!o)
		return ick_fail(&c, "line %d, column %d: %s", je.line, je.column, je.text);
	bool ok = false;
	struct ind_set *set = arena_alloc(&s->a, sizeof(*set));
	if (!json_is_object(o)) {
		ick_fail(&c, "the definition must be a JSON object");
		goto out;
	}
	if (!ick_str(&c, o, "code", true, 32, &set->code))
		goto out;
	c.set = set->code;
	if (!ick_code(set->code, 32) || ind_set_find(s, set->code)) {
		ick_fail(&c, "the set code must be [a-z][a-z0-9_]* and not loaded twice");
		goto out;
	}
	const char *kind;
	json_t *ed = json_object_get(o, "edition");
	if (!ick_keys(&c, o, keys, "the set") || !ick_str(&c, o, "name", true, 300, &set->name) ||
	    !ick_str(&c, o, "document", true, 500, &set->document) ||
	    !ick_str(&c, o, "description", false, 2000, &set->description) ||
	    !ick_str(&c, o, "stage_weights_note", false, 1000, &set->weights_note) ||
	    !ick_str(&c, o, "kind", true, 16, &kind))
		goto out;
	if (!json_is_integer(ed) || json_integer_value(ed) < 1) {
		ick_fail(&c, "\"edition\" must be an integer >= 1");
		goto out;
	}
	set->edition = (int)json_integer_value(ed);
	if (strcmp(kind, "balance") != 0 && strcmp(kind, "targets") != 0) {
		ick_fail(&c, "\"kind\" must be \"balance\" or \"targets\"");
		goto out;
	}
	set->kind = kind[0] == 'b' ? IK_BALANCE : IK_TARGETS;
	if (set->kind == IK_BALANCE && !ick_balance(&c, o, set))
		goto out;
	json_t *inds = json_object_get(o, "indicators");
	if (!json_is_array(inds) || json_array_size(inds) == 0 ||
	    json_array_size(inds) > IND_MAX_INDICATORS) {
		ick_fail(&c, "\"indicators\" must be an array of 1 to %d indicators",
		         IND_MAX_INDICATORS);
		goto out;
	}
	set->inds = arena_alloc(&s->a, json_array_size(inds) * sizeof(*set->inds));
	for (size_t i = 0; i < json_array_size(inds); i++) {
		if (!ick_indicator(&c, json_array_get(inds, i), set, &set->inds[i]))
			goto out;
		set->ninds++;
	}
	if (set->kind == IK_BALANCE && set->min_met > (int)set->ninds) {
		ick_fail(&c, "\"verdict\": min_met is larger than the number of indicators");
		goto out;
	}
	set->json = arena_strndup(&s->a, json, len);
	if (s->nsets == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct ind_set **bigger = arena_alloc(&s->a, cap * sizeof(*bigger));
		if (s->nsets)
			memcpy(bigger, s->sets, s->nsets * sizeof(*bigger));
		s->sets = bigger;
		s->cap = cap;
	}
	s->sets[s->nsets++] = set;
	ok = true;
out:
	json_decref(o);
	return ok;
}

/* The set of a code. */
const struct ind_set *ind_set_find(const struct ind_sets *s, const char *code)
{
	for (size_t i = 0; s && code && i < s->nsets; i++)
		if (strcmp(s->sets[i]->code, code) == 0)
			return s->sets[i];
	return NULL;
}

/* Store every set of the collection. */
bool ind_store(struct db *db, const struct ind_sets *s, const char *actor, char *err, size_t errlen)
{
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "the database is busy; nothing was stored");
		return false;
	}
	for (size_t i = 0; i < s->nsets; i++) {
		const struct ind_set *set = s->sets[i];
		sqlite3_stmt *st = db_prep(db, "SELECT edition FROM indicator_set WHERE code = ?1");
		if (!st)
			goto dberr;
		db_bind_text(st, 1, set->code, -1);
		int rc = sqlite3_step(st);
		long long stored = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		db_done(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			goto dberr;
		if (set->edition < stored) {
			snprintf(err, errlen,
			         "set %s: edition %d is lower than the stored edition %lld; "
			         "nothing was stored",
			         set->code, set->edition, stored);
			db_rollback(db);
			return false;
		}
		st = db_prep(db, "INSERT INTO indicator_set(code, name, edition, definition)"
		                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(code) DO UPDATE SET"
		                 " name = excluded.name, edition = excluded.edition,"
		                 " definition = excluded.definition,"
		                 " loaded_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')");
		if (!st)
			goto dberr;
		db_bind_text(st, 1, set->code, -1);
		db_bind_text(st, 2, set->name, -1);
		sqlite3_bind_int(st, 3, set->edition);
		db_bind_text(st, 4, set->json, -1);
		rc = sqlite3_step(st);
		db_done(st);
		char object[64], detail[48];
		snprintf(object, sizeof(object), "indicator_set:%s", set->code);
		snprintf(detail, sizeof(detail), "{\"edition\":%d}", set->edition);
		if (rc != SQLITE_DONE || !audit_log(db, actor, "indicators.load", object, detail))
			goto dberr;
	}
	if (!db_exec(db, "UPDATE setting SET value = CAST(value AS INTEGER) + 1"
	                 " WHERE key = 'indicators_generation'") ||
	    !db_commit(db))
		goto dberr;
	return true;
dberr:
	snprintf(err, errlen, "database error: %s; nothing was stored", sqlite3_errmsg(db->h));
	db_rollback(db);
	return false;
}

/* Load the stored sets. */
struct ind_sets *ind_load_db(struct db *db, const struct form_set *forms, char *err, size_t errlen)
{
	struct ind_sets *s = ind_sets_new(forms);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sqlite3_stmt *st = db_prep(db, "SELECT definition FROM indicator_set ORDER BY code");
	if (!st) {
		snprintf(err, errlen, "cannot read the indicator sets");
		ind_sets_free(s);
		return NULL;
	}
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!ind_sets_add_json(s, db_text(st, 0), (size_t)sqlite3_column_bytes(st, 0),
		                       "database", err, errlen)) {
			db_done(st);
			ind_sets_free(s);
			return NULL;
		}
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the indicator sets: %s", sqlite3_errmsg(db->h));
		ind_sets_free(s);
		return NULL;
	}
	return s;
}

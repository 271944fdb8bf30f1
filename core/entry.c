/* entry.c — one school's forms in one period: load, check, save with history, submit. */
#include "entry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"

#define ENTRY_MAX_EXPL 500 /* 说明 kept per submission */

/* Two strings equal, NULL counting as a value of its own. */
static bool entry_same(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Empty arrays of values for every slot. */
static void entry_values_init(struct arena *a, size_t n, struct entry_values *v)
{
	if (n == 0)
		n = 1;
	v->raw = arena_alloc(a, n * sizeof(*v->raw));
	v->norm = arena_alloc(a, n * sizeof(*v->norm));
	v->num = arena_alloc(a, n * sizeof(*v->num));
	v->present = arena_alloc(a, n);
}

/* Put one stored value into its slot (codes no longer in any form are skipped). */
static void entry_values_put(struct arena *a, const struct form_set *set, struct entry_values *v,
                             const char *code, const char *raw, const char *norm)
{
	const struct form_field *f = form_field_find(set, code);
	if (!f)
		return;
	int s = f->slot;
	v->raw[s] = raw ? arena_strdup(a, raw) : NULL;
	v->norm[s] = norm ? arena_strdup(a, norm) : NULL;
	if (norm && (f->type == FT_INTEGER || f->type == FT_DECIMAL || f->type == FT_YESNO)) {
		char *end;
		v->num[s] = strtod(norm, &end);
		v->present[s] = *end == '\0';
	}
}

/* Read the rows (field_code, raw, norm) of a prepared and bound statement. */
static int entry_values_read(sqlite3_stmt *st, struct arena *a, const struct form_set *set,
                             struct entry_values *v)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		entry_values_put(a, set, v, db_text(st, 0),
		                 sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : db_text(st, 1),
		                 sqlite3_column_type(st, 2) == SQLITE_NULL ? NULL : db_text(st, 2));
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Every value of the school in the period. */
static int entry_values_all(struct db *db, struct arena *a, const struct entry *e,
                            struct entry_values *v)
{
	sqlite3_stmt *st = db_prep(db, "SELECT v.field_code, v.raw, v.norm FROM value v"
	                               " JOIN submission s ON s.id = v.submission_id"
	                               " WHERE s.period_id = ?1 AND s.school_id = ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, e->period.id);
	sqlite3_bind_int64(st, 2, e->school->id);
	return entry_values_read(st, a, e->set, v);
}

/* The approved values of the school in the previous period. */
static int entry_values_prev(struct db *db, struct arena *a, const struct entry *e,
                             struct entry_values *v)
{
	sqlite3_stmt *st = db_prep(db, "SELECT v.field_code, v.raw, v.norm FROM value v"
	                               " JOIN submission s ON s.id = v.submission_id"
	                               " WHERE s.period_id = ?1 AND s.school_id = ?2"
	                               " AND s.state = 'approved'");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, e->prev_period.id);
	sqlite3_bind_int64(st, 2, e->school->id);
	return entry_values_read(st, a, e->set, v);
}

/* The submission rows of the school in the period, into e->subs. */
static int entry_subs(struct db *db, struct arena *a, struct entry *e)
{
	size_t n = e->period.nforms;
	e->subs = arena_alloc(a, (n ? n : 1) * sizeof(*e->subs));
	for (size_t i = 0; i < n; i++)
		e->subs[i].form_code = e->period.forms[i];
	sqlite3_stmt *st = db_prep(
	    db,
	    "SELECT s.id, s.form_code, s.state, s.version, s.errors, s.warnings, s.unexplained,"
	    " s.required_total, s.required_filled, s.updated_at, s.submitted_at, s.approved_at,"
	    " u.display_name, s.reviewed FROM submission s LEFT JOIN user u ON u.id = s.updated_by"
	    " WHERE s.period_id = ?1 AND s.school_id = ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, e->period.id);
	sqlite3_bind_int64(st, 2, e->school->id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int i = entry_form(e, db_text(st, 1));
		if (i < 0)
			continue;
		struct entry_sub *s = &e->subs[i];
		s->id = sqlite3_column_int64(st, 0);
		s->state = wf_state_stored(db_text(st, 2), sqlite3_column_int(st, 13));
		s->version = sqlite3_column_int64(st, 3);
		s->errors = sqlite3_column_int(st, 4);
		s->warnings = sqlite3_column_int(st, 5);
		s->unexplained = sqlite3_column_int(st, 6);
		s->required_total = sqlite3_column_int(st, 7);
		s->required_filled = sqlite3_column_int(st, 8);
		s->updated_at = sqlite3_column_int64(st, 9);
		s->submitted_at = sqlite3_column_int64(st, 10);
		s->approved_at = sqlite3_column_int64(st, 11);
		s->updated_by = sqlite3_column_type(st, 12) == SQLITE_NULL
		                    ? NULL
		                    : arena_strdup(a, db_text(st, 12));
	}
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The 说明 of each submission of the school in the period. */
static int entry_expl(struct db *db, struct arena *a, struct entry *e)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT x.submission_id, x.rule_code, x.text FROM explanation x"
	                " JOIN submission s ON s.id = x.submission_id"
	                " WHERE s.period_id = ?1 AND s.school_id = ?2"
	                " ORDER BY x.submission_id, x.rule_code");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, e->period.id);
	sqlite3_bind_int64(st, 2, e->school->id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		for (size_t i = 0; i < e->period.nforms; i++) {
			struct entry_sub *s = &e->subs[i];
			if (s->id != id || s->nexpl >= ENTRY_MAX_EXPL)
				continue;
			if (!s->expl)
				s->expl = arena_alloc(a, ENTRY_MAX_EXPL * sizeof(*s->expl));
			s->expl[s->nexpl].code = arena_strdup(a, db_text(st, 1));
			s->expl[s->nexpl].text = arena_strdup(a, db_text(st, 2));
			s->nexpl++;
		}
	}
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Load everything about a school in a period. */
int entry_open(struct db *db, struct arena *a, const struct form_set *set, const struct period *p,
               const struct org_unit *school, struct entry *e)
{
	struct period period = *p;
	memset(e, 0, sizeof(*e));
	e->set = set;
	e->period = period;
	e->school = school;
	const char *stages = ou_school_type_stages(school->school_type);
	e->stages = form_stage_bits(stages ? stages : "");
	entry_values_init(a, form_nslots(set), &e->cur);
	entry_values_init(a, form_nslots(set), &e->prev);
	if (entry_subs(db, a, e) != 0 || entry_expl(db, a, e) != 0 ||
	    entry_values_all(db, a, e, &e->cur) != 0)
		return -1;
	int rc = period_previous(db, a, &e->period, &e->prev_period);
	if (rc < 0)
		return -1;
	e->has_prev = rc == 1;
	if (e->has_prev && entry_values_prev(db, a, e, &e->prev) != 0)
		return -1;
	return 0;
}

/* Index of a form of the period that the set knows. */
int entry_form(const struct entry *e, const char *form_code)
{
	for (size_t i = 0; form_code && i < e->period.nforms; i++)
		if (strcmp(e->period.forms[i], form_code) == 0)
			return form_find(e->set, form_code) ? (int)i : -1;
	return -1;
}

/* Validate form i. */
void entry_check(struct arena *a, const struct entry *e, int i, const char *const *raw,
                 const struct validate_expl *expl, size_t nexpl, bool submitting,
                 struct validate_out *out)
{
	const struct entry_sub *s = &e->subs[i];
	struct validate_in in = {
	    .set = e->set,
	    .form = form_find(e->set, s->form_code),
	    .school_type = e->school->school_type,
	    .stages = e->stages,
	    .raw = raw ? raw : e->cur.raw,
	    .num = e->cur.num,
	    .present = e->cur.present,
	    .prev = e->has_prev ? e->prev.num : NULL,
	    .prev_present = e->has_prev ? e->prev.present : NULL,
	    .expl = expl ? expl : s->expl,
	    .nexpl = expl ? nexpl : s->nexpl,
	    .submitting = submitting,
	};
	validate_form(a, &in, out);
}

/* A posted value as it is kept: NULL when empty or only spaces, else at most
 * VALIDATE_MAX_RAW bytes cut at a character boundary. */
static const char *entry_keep_raw(struct arena *a, const char *raw)
{
	if (!raw)
		return NULL;
	const char *p = raw;
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (!*p)
		return NULL;
	size_t n = strlen(raw);
	if (n <= VALIDATE_MAX_RAW)
		return raw;
	n = VALIDATE_MAX_RAW;
	while (n > 0 && ((unsigned char)raw[n] & 0xC0) == 0x80)
		n--;
	return arena_strndup(a, raw, n);
}

/* A posted 说明 as it is kept: one line, control characters dropped, spaces
 * trimmed, at most VALIDATE_MAX_EXPLANATION characters; NULL when empty. */
static const char *entry_keep_expl(struct arena *a, const char *text)
{
	if (!text)
		return NULL;
	size_t n = strlen(text), j = 0, chars = 0;
	char *d = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		if ((c & 0xC0) != 0x80 && ++chars > VALIDATE_MAX_EXPLANATION)
			break;
		d[j++] = (char)c;
	}
	while (j > 0 && d[j - 1] == ' ')
		j--;
	d[j] = '\0';
	char *s = d;
	while (*s == ' ')
		s++;
	return *s ? s : NULL;
}

/* Can a warning of `form` have this code: one of its warning rules, or a
 * change of one of its fields ("chg:<field>")? */
static bool entry_expl_possible(const struct form_def *form, const char *code)
{
	if (strncmp(code, "chg:", 4) == 0) {
		for (size_t k = 0; k < form->nfields; k++)
			if (strcmp(form->fields[k]->code, code + 4) == 0)
				return true;
		return false;
	}
	for (size_t k = 0; k < form->nrules; k++)
		if (form->rules[k].severity == FS_WARNING && strcmp(form->rules[k].code, code) == 0)
			return true;
	return false;
}

/* The posted 说明, cleaned, without empty or repeated codes or codes no warning
 * of the form can have. A 说明 whose warning does not fire now is kept: the
 * warning may be waiting for a value that is being corrected. */
static size_t entry_clean_expl(struct arena *a, const struct form_def *form,
                               const struct validate_expl *in, size_t n, struct validate_expl **out)
{
	struct validate_expl *e = arena_alloc(a, (n ? n : 1) * sizeof(*e));
	size_t k = 0;
	for (size_t i = 0; i < n && k < ENTRY_MAX_EXPL; i++) {
		const char *t = entry_keep_expl(a, in[i].text);
		if (!t || !in[i].code || !entry_expl_possible(form, in[i].code) ||
		    validate_expl_find(e, k, in[i].code))
			continue;
		e[k].code = in[i].code;
		e[k].text = t;
		k++;
	}
	*out = e;
	return k;
}

/* Do two lists of 说明 hold the same texts for the same codes? */
static bool entry_expl_same(const struct validate_expl *a, size_t na, const struct validate_expl *b,
                            size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!entry_same(validate_expl_find(b, nb, a[i].code), a[i].text))
			return false;
	return true;
}

/* Step a statement that returns no rows; false (logged) on failure. */
static bool entry_step(struct db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("entry: write failed: %s", sqlite3_errmsg(db->h));
		return false;
	}
	return true;
}

/* Create the submission row of form i (state draft, version 0). */
static bool entry_insert_sub(struct db *db, struct entry *e, int i)
{
	sqlite3_stmt *st = db_prep(db, "INSERT INTO submission(period_id, school_id, form_code)"
	                               " VALUES (?1, ?2, ?3)");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, e->period.id);
	sqlite3_bind_int64(st, 2, e->school->id);
	db_bind_text(st, 3, e->subs[i].form_code, -1);
	if (!entry_step(db, st))
		return false;
	e->subs[i].id = sqlite3_last_insert_rowid(db->h);
	e->subs[i].state = WS_DRAFT;
	e->subs[i].version = 0;
	return true;
}

/* Write one changed value and its history row. */
static bool entry_write_value(struct db *db, long long sub_id, const char *code,
                              const char *old_raw, const char *raw, const char *norm,
                              const struct entry_save *s, long long version)
{
	sqlite3_stmt *st;
	if (raw) {
		st = db_prep(db, "INSERT INTO value(submission_id, field_code, raw, norm)"
		                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT(submission_id, field_code)"
		                 " DO UPDATE SET raw = excluded.raw, norm = excluded.norm");
		if (!st)
			return false;
		db_bind_text(st, 3, raw, -1);
		db_bind_text(st, 4, norm, -1);
	} else {
		st = db_prep(db, "DELETE FROM value WHERE submission_id = ?1 AND field_code = ?2");
		if (!st)
			return false;
	}
	sqlite3_bind_int64(st, 1, sub_id);
	db_bind_text(st, 2, code, -1);
	if (!entry_step(db, st))
		return false;
	if (entry_same(old_raw, raw))
		return true; /* only the canonical form moved */
	st = db_prep(db, "INSERT INTO value_history(submission_id, field_code, old_raw, new_raw,"
	                 " user_id, at, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, sub_id);
	db_bind_text(st, 2, code, -1);
	db_bind_text(st, 3, old_raw, -1);
	db_bind_text(st, 4, raw, -1);
	if (s->user_id > 0)
		sqlite3_bind_int64(st, 5, s->user_id);
	sqlite3_bind_int64(st, 6, s->now);
	sqlite3_bind_int64(st, 7, version);
	return entry_step(db, st);
}

/* Replace the 说明 of a submission. */
static bool entry_write_expl(struct db *db, long long sub_id, const struct validate_expl *x,
                             size_t n)
{
	sqlite3_stmt *st = db_prep(db, "DELETE FROM explanation WHERE submission_id = ?1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, sub_id);
	if (!entry_step(db, st))
		return false;
	for (size_t i = 0; i < n; i++) {
		st = db_prep(db, "INSERT INTO explanation(submission_id, rule_code, text)"
		                 " VALUES (?1, ?2, ?3)");
		if (!st)
			return false;
		sqlite3_bind_int64(st, 1, sub_id);
		db_bind_text(st, 2, x[i].code, -1);
		db_bind_text(st, 3, x[i].text, -1);
		if (!entry_step(db, st))
			return false;
	}
	return true;
}

/* Store the counts of every started form of the school where they moved. */
static bool entry_recount(struct db *db, struct arena *a, struct entry *e)
{
	for (size_t j = 0; j < e->period.nforms; j++) {
		struct entry_sub *s = &e->subs[j];
		if (!s->id || !form_find(e->set, s->form_code))
			continue;
		struct validate_out o;
		entry_check(a, e, (int)j, NULL, NULL, 0, false, &o);
		if (o.errors == s->errors && o.warnings == s->warnings &&
		    o.unexplained == s->unexplained && o.required_total == s->required_total &&
		    o.required_filled == s->required_filled)
			continue;
		sqlite3_stmt *st = db_prep(db, "UPDATE submission SET errors = ?2, warnings = ?3,"
		                               " unexplained = ?4, required_total = ?5,"
		                               " required_filled = ?6 WHERE id = ?1");
		if (!st)
			return false;
		sqlite3_bind_int64(st, 1, s->id);
		sqlite3_bind_int(st, 2, o.errors);
		sqlite3_bind_int(st, 3, o.warnings);
		sqlite3_bind_int(st, 4, o.unexplained);
		sqlite3_bind_int(st, 5, o.required_total);
		sqlite3_bind_int(st, 6, o.required_filled);
		if (!entry_step(db, st))
			return false;
		s->errors = o.errors;
		s->warnings = o.warnings;
		s->unexplained = o.unexplained;
		s->required_total = o.required_total;
		s->required_filled = o.required_filled;
	}
	return true;
}

/* Write the changed values of form i and bump the version; *changed counts them. */
static bool entry_write(struct db *db, struct entry *e, int i, const struct form_def *form,
                        const char **raw, const struct validate_out *out,
                        const struct validate_expl *expl, size_t nexpl, bool expl_changed,
                        const struct entry_save *s, int changed)
{
	struct entry_sub *sub = &e->subs[i];
	long long version = sub->version + 1;
	for (size_t k = 0; k < form->nfields; k++) {
		const struct form_field *f = form->fields[k];
		int slot = f->slot;
		if (!form_field_applies(f, e->school->school_type, e->stages))
			continue;
		const char *norm = raw[slot] ? out->norm[slot] : NULL;
		if (entry_same(e->cur.raw[slot], raw[slot]) && entry_same(e->cur.norm[slot], norm))
			continue;
		if (!entry_write_value(db, sub->id, f->code, e->cur.raw[slot], raw[slot], norm, s,
		                       version))
			return false;
	}
	if (expl_changed && !entry_write_expl(db, sub->id, expl, nexpl))
		return false;
	sqlite3_stmt *st = db_prep(db, "UPDATE submission SET version = ?2, updated_at = ?3,"
	                               " updated_by = ?4 WHERE id = ?1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, sub->id);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_int64(st, 3, s->now);
	if (s->user_id > 0)
		sqlite3_bind_int64(st, 4, s->user_id);
	if (!entry_step(db, st))
		return false;
	char object[40], detail[160];
	snprintf(object, sizeof(object), "submission:%lld", sub->id);
	snprintf(detail, sizeof(detail),
	         "{\"period\":\"%s\",\"school\":\"%s\",\"form\":\"%s\",\"version\":%lld,"
	         "\"changed\":%d}",
	         e->period.code, e->school->code, sub->form_code, version, changed);
	if (!audit_log(db, s->actor, "submission.save", object, detail))
		return false;
	sub->version = version;
	sub->updated_at = s->now;
	return true;
}

/* Put the saved values of form i into e->cur. */
static void entry_apply_cur(struct entry *e, const struct form_def *form, const char **raw,
                            const struct validate_out *out)
{
	for (size_t k = 0; k < form->nfields; k++) {
		int slot = form->fields[k]->slot;
		e->cur.raw[slot] = raw[slot];
		e->cur.norm[slot] = raw[slot] ? out->norm[slot] : NULL;
		e->cur.num[slot] = out->num[slot];
		e->cur.present[slot] = out->present[slot];
	}
}

/* Store form i's values inside the caller's write transaction. */
bool entry_store(struct db *db, struct arena *a, struct entry *e, int i, const char *const *posted,
                 const struct validate_expl *posted_expl, size_t nposted_expl, bool submitting,
                 long long user_id, const char *actor, long long now, struct validate_out *out,
                 int *changed)
{
	struct entry_sub *sub = &e->subs[i];
	const struct form_def *form = form_find(e->set, sub->form_code);
	size_t nslots = form_nslots(e->set);
	const char **raw = arena_alloc(a, (nslots ? nslots : 1) * sizeof(*raw));
	memcpy(raw, e->cur.raw, nslots * sizeof(*raw));
	*changed = 0;
	for (size_t k = 0; k < form->nfields; k++) {
		const struct form_field *f = form->fields[k];
		if (!form_field_applies(f, e->school->school_type, e->stages))
			continue;
		raw[f->slot] = entry_keep_raw(a, posted ? posted[f->slot] : NULL);
		if (!entry_same(raw[f->slot], e->cur.raw[f->slot]))
			(*changed)++;
	}
	struct validate_expl *expl;
	size_t nexpl = entry_clean_expl(a, form, posted_expl, nposted_expl, &expl);
	bool expl_changed = !entry_expl_same(expl, nexpl, sub->expl, sub->nexpl);
	entry_check(a, e, i, raw, expl, nexpl, submitting, out);
	if (!sub->id && *changed == 0 && !expl_changed)
		return true; /* nothing typed into a form never started: leave it 未填写 */
	if (!sub->id && !entry_insert_sub(db, e, i))
		return false;
	struct entry_save s = {.user_id = user_id, .actor = actor, .now = now};
	if ((*changed > 0 || expl_changed || sub->version == 0) &&
	    !entry_write(db, e, i, form, raw, out, expl, nexpl, expl_changed, &s, *changed))
		return false;
	entry_apply_cur(e, form, raw, out);
	sub->expl = expl;
	sub->nexpl = nexpl;
	return entry_recount(db, a, e);
}

/* Save (and maybe submit) form i in one transaction. */
enum entry_result entry_save(struct db *db, struct arena *a, struct entry *e, int i,
                             const struct entry_save *s, struct validate_out *out, int *changed)
{
	*changed = 0;
	memset(out, 0, sizeof(*out));
	if (!db_begin_write(db))
		return ER_DB;
	enum entry_result res = ER_DB;
	if (entry_open(db, a, e->set, &e->period, e->school, e) != 0)
		goto fail;
	struct entry_sub *sub = &e->subs[i];
	if (period_window(&e->period, s->now) != PW_OPEN) {
		res = ER_CLOSED;
		goto fail;
	}
	if (!wf_editable(sub->state)) {
		res = ER_READONLY;
		goto fail;
	}
	if (sub->version != s->version) {
		res = ER_CONFLICT;
		goto fail;
	}
	if (!entry_store(db, a, e, i, s->raw, s->expl, s->nexpl, s->submit, s->user_id, s->actor,
	                 s->now, out, changed))
		goto fail;
	/* a form never started with nothing typed stays 未填写 (no row): nothing to submit */
	res = s->submit ? ER_BLOCKED : ER_SAVED;
	if (s->submit && sub->id && validate_submittable(out)) {
		const char *why;
		struct wf_move mv = {.id = sub->id,
		                     .from = sub->state,
		                     .version = sub->version,
		                     .action = WA_SUBMIT,
		                     .role = WR_SCHOOL,
		                     .levels = 1,
		                     .actor = s->actor,
		                     .now = s->now};
		enum wf_state to = wf_apply(db, &mv, &why);
		if (to == WS_NONE) {
			log_error("submission %lld: submit refused: %s", sub->id, why);
			res = ER_DB;
			goto fail;
		}
		sub->state = to;
		sub->submitted_at = s->now;
		res = ER_SUBMITTED;
	}
	if (s->pending_id > 0) {
		sqlite3_stmt *st =
		    db_prep(db, "DELETE FROM pending_post WHERE id = ?1 AND user_id = ?2");
		if (!st)
			goto fail;
		sqlite3_bind_int64(st, 1, s->pending_id);
		sqlite3_bind_int64(st, 2, s->user_id);
		if (!entry_step(db, st))
			goto fail;
	}
	if (!db_commit(db)) {
		res = ER_DB;
		goto reload;
	}
	return res;
fail:
	db_rollback(db);
reload:
	/* leave e describing what is stored, not the refused or failed attempt */
	if (entry_open(db, a, e->set, &e->period, e->school, e) != 0)
		res = ER_DB;
	return res;
}

/* The changes of one field, newest first. */
int entry_history(struct db *db, struct arena *a, long long sub_id, const char *field_code,
                  size_t max, struct entry_change **out, size_t *n)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT h.at, u.display_name, h.old_raw, h.new_raw, h.version"
	                " FROM value_history h LEFT JOIN user u ON u.id = h.user_id"
	                " WHERE h.submission_id = ?1 AND h.field_code = ?2"
	                " ORDER BY h.id DESC LIMIT ?3");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sub_id);
	db_bind_text(st, 2, field_code, -1);
	sqlite3_bind_int64(st, 3, (long long)max);
	struct entry_change *list = arena_alloc(a, (max ? max : 1) * sizeof(*list));
	size_t k = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < max) {
		struct entry_change *c = &list[k++];
		c->at = sqlite3_column_int64(st, 0);
		c->who = sqlite3_column_type(st, 1) == SQLITE_NULL
		             ? NULL
		             : arena_strdup(a, db_text(st, 1));
		c->old_raw = sqlite3_column_type(st, 2) == SQLITE_NULL
		                 ? NULL
		                 : arena_strdup(a, db_text(st, 2));
		c->new_raw = sqlite3_column_type(st, 3) == SQLITE_NULL
		                 ? NULL
		                 : arena_strdup(a, db_text(st, 3));
		c->version = sqlite3_column_int64(st, 4);
	}
	db_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -1;
	*out = list;
	*n = k;
	return 0;
}

/* Step a bound statement on pending_post inside the write transaction the
 * caller began, add the audit row "ACTION" on the user, commit. False (rolled
 * back) on failure, also when st is NULL. */
static bool entry_pending_finish(struct db *db, sqlite3_stmt *st, long long user_id,
                                 const char *action, const char *detail)
{
	char object[40];
	snprintf(object, sizeof(object), "user:%lld", user_id);
	if (st && entry_step(db, st) && audit_log(db, "system", action, object, detail) &&
	    db_commit(db))
		return true;
	db_rollback(db);
	return false;
}

/* Keep a save posted after the session expired. */
bool entry_pending_add(struct db *db, long long user_id, const char *path, const char *body,
                       long long now)
{
	if (!db_begin_write(db))
		return false;
	sqlite3_stmt *st = db_prep(db, "INSERT INTO pending_post(user_id, path, body, created_at)"
	                               " VALUES (?1, ?2, ?3, ?4)");
	if (st) {
		sqlite3_bind_int64(st, 1, user_id);
		db_bind_text(st, 2, path, -1);
		db_bind_text(st, 3, body, -1);
		sqlite3_bind_int64(st, 4, now);
	}
	return entry_pending_finish(db, st, user_id, "pending.keep", path);
}

/* The oldest kept save of a user; expired ones are dropped first. */
int entry_pending_next(struct db *db, struct arena *a, long long user_id, long long now,
                       long long *id, const char **path, const char **body)
{
	long long cutoff = now - ENTRY_PENDING_MAX_AGE;
	sqlite3_stmt *st = db_prep(db, "SELECT count(*) FROM pending_post WHERE created_at < ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, cutoff);
	long long expired = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	db_done(st);
	if (expired > 0 && db_begin_write(db)) { /* everyone's, with one audit row */
		st = db_prep(db, "DELETE FROM pending_post WHERE created_at < ?1");
		if (st)
			sqlite3_bind_int64(st, 1, cutoff);
		char detail[48];
		snprintf(detail, sizeof(detail), "{\"expired\":%lld}", expired);
		if (st && entry_step(db, st) &&
		    audit_log(db, "system", "pending.expire", "pending_post", detail) &&
		    db_commit(db))
			log_info("dropped %lld kept saves older than a week", expired);
		else
			db_rollback(db);
	}
	st = db_prep(db, "SELECT id, path, body FROM pending_post WHERE user_id = ?1"
	                 " ORDER BY id LIMIT 1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*path = arena_strdup(a, db_text(st, 1));
		*body = arena_strdup(a, db_text(st, 2));
	}
	db_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A kept save of the user by id. */
int entry_pending_get(struct db *db, struct arena *a, long long user_id, long long id,
                      const char **path, const char **body)
{
	sqlite3_stmt *st = db_prep(db, "SELECT path, body FROM pending_post WHERE id = ?1"
	                               " AND user_id = ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, user_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*path = arena_strdup(a, db_text(st, 0));
		*body = arena_strdup(a, db_text(st, 1));
	}
	db_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* Forget a kept save. */
bool entry_pending_drop(struct db *db, long long user_id, long long id)
{
	if (!db_begin_write(db))
		return false;
	sqlite3_stmt *st = db_prep(db, "DELETE FROM pending_post WHERE id = ?1 AND user_id = ?2");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, user_id);
	}
	return entry_pending_finish(db, st, user_id, "pending.drop", NULL);
}

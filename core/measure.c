/* measure.c — indicators over a period's submissions: schools, counties, verdicts, weighted CV. */
#include "measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "form_internal.h"

/* Threshold test. */
bool ms_meets(double v, double t, enum ind_dir d)
{
	return d == ID_GE ? v >= t : v <= t;
}

/* Weighted coefficient of variation. */
bool ms_cv(const double *x, const double *w, size_t n, double *cv, double *mean, double *sd)
{
	double wsum = 0, m = 0, var = 0;
	for (size_t i = 0; i < n; i++)
		wsum += w[i];
	if (n == 0 || wsum <= 0)
		return false;
	for (size_t i = 0; i < n; i++)
		m += w[i] / wsum * x[i];
	for (size_t i = 0; i < n; i++)
		var += w[i] / wsum * (x[i] - m) * (x[i] - m);
	if (m == 0)
		return false;
	*mean = m;
	*sd = sqrt(var);
	*cv = *sd / m;
	return true;
}

/* The index of a set. */
int ms_set_index(const struct ind_sets *defs, const struct ind_set *set)
{
	for (size_t i = 0; i < defs->nsets; i++)
		if (defs->sets[i] == set)
			return (int)i;
	return -1;
}

/* Every column of every set, in definition order, stages in stage order. */
static void ms_columns(struct arena *a, const struct ind_sets *defs, struct ms_result *r)
{
	size_t n = 0;
	for (size_t s = 0; s < defs->nsets; s++)
		for (size_t k = 0; k < defs->sets[s]->ninds; k++) {
			unsigned st = defs->sets[s]->inds[k].stages;
			n += st ? (size_t)__builtin_popcount(st) : 1;
		}
	r->cols = arena_alloc(a, (n ? n : 1) * sizeof(*r->cols));
	r->ncols = 0;
	for (size_t s = 0; s < defs->nsets; s++)
		for (size_t k = 0; k < defs->sets[s]->ninds; k++) {
			const struct ind_def *d = &defs->sets[s]->inds[k];
			for (int st = 0; st <= IND_NSTAGES; st++) {
				bool used = st == IND_WHOLE
				                ? d->stages == 0
				                : (d->stages & form_stage_table[st].bit) != 0;
				if (!used)
					continue;
				struct ms_col *c = &r->cols[r->ncols++];
				c->set = defs->sets[s];
				c->ind = d;
				c->st = st;
				c->threshold = d->threshold[st];
			}
		}
}

/* Add one field with its slot to the temporary table ind_field. */
static bool ms_field_add(struct db *db, const struct form_field *f)
{
	sqlite3_stmt *st = db_prep(db, "INSERT OR IGNORE INTO temp.ind_field(code, slot)"
	                               " VALUES (?1, ?2)");
	if (!st)
		return false;
	db_bind_text(st, 1, f->code, -1);
	sqlite3_bind_int(st, 2, f->slot);
	int rc = sqlite3_step(st);
	db_done(st);
	return rc == SQLITE_DONE;
}

/* Add the numeric fields an expression reads to ind_field. */
static bool ms_field_rows(struct db *db, const struct form_set *forms, const struct expr *e)
{
	int slots[EXPR_MAX_NODES];
	size_t n = e ? expr_slots(e, slots, EXPR_MAX_NODES) : 0;
	for (size_t k = 0; k < n && k < EXPR_MAX_NODES; k++) {
		const struct form_field *f = form_field_at(forms, slots[k]);
		if (f && (f->type == FT_INTEGER || f->type == FT_DECIMAL || f->type == FT_YESNO) &&
		    !ms_field_add(db, f))
			return false;
	}
	return true;
}

/* Fill the connection's temporary table ind_field with the numeric fields the
 * columns read (and every stage's pupils, for the stage split), with their
 * slots: the value query reads only those, and needs no lookup by name. */
static bool ms_fields(struct db *db, const struct ms_result *r)
{
	const struct form_set *forms = r->defs->forms;
	if (!db_exec(db, "CREATE TEMP TABLE IF NOT EXISTS ind_field(code TEXT PRIMARY KEY,"
	                 " slot INTEGER NOT NULL) WITHOUT ROWID") ||
	    !db_exec(db, "DELETE FROM temp.ind_field"))
		return false;
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		if (!ms_field_rows(db, forms, c->ind->num[c->st]) ||
		    !ms_field_rows(db, forms, c->ind->den[c->st]) ||
		    !ms_field_rows(db, forms, c->ind->applies[c->st]) ||
		    !ms_field_rows(db, forms, c->set->include[c->st]))
			return false;
	}
	for (int t = 0; t < IND_NSTAGES; t++) {
		char code[32];
		snprintf(code, sizeof(code), "%s_students", form_stage_table[t].prefix);
		const struct form_field *f = form_field_find(forms, code);
		if (f && !ms_field_add(db, f))
			return false;
	}
	return true;
}

/* Read the counted submissions' values of the fields in ind_field into each
 * school's variables. */
static int ms_load(struct db *db, const struct period *p, long long scope_id, bool provisional,
                   struct ms_school *schools, const struct ou_index *ix, double **vals,
                   unsigned char **present)
{
	sqlite3_stmt *st = db_prep(
	    db,
	    "SELECT s.school_id, s.state, f.slot, v.norm FROM submission s"
	    " JOIN org_unit o ON o.id = s.school_id JOIN value v ON v.submission_id = s.id"
	    " JOIN temp.ind_field f ON f.code = v.field_code"
	    " WHERE s.period_id = ?1 AND (s.state = 'approved' OR (?3 AND s.state = 'submitted'))"
	    " AND v.norm IS NOT NULL AND (o.id = ?2 OR o.parent_id = ?2 OR o.parent_id IN"
	    " (SELECT id FROM org_unit WHERE parent_id = ?2))");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, scope_id);
	sqlite3_bind_int(st, 3, provisional ? 1 : 0);
	long long last_id = -1;
	long idx = -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(st, 0);
		if (id != last_id) {
			idx = ou_index_find(ix, id);
			last_id = id;
		}
		if (idx < 0)
			continue;
		struct ms_school *sc = &schools[idx];
		sc->has_data = true;
		const unsigned char *state = sqlite3_column_text(st, 1);
		if (state && state[0] != 'a')
			sc->provisional = true;
		int slot = sqlite3_column_int(st, 2);
		/* the canonical number text of a numeric field: SQLite converts it */
		vals[idx][slot] = sqlite3_column_double(st, 3);
		present[idx][slot] = 1;
	}
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Set the indicator variables of a school (its attributes, the period's year). */
static void ms_attributes(const struct ind_sets *defs, const struct period *p,
                          const struct org_unit *s, double *vals, unsigned char *present)
{
	size_t base = form_nslots(defs->forms);
	const char *group = s->urban_rural ? ou_urban_rural_group(s->urban_rural) : NULL;
	char *end;
	double year = strtod(p->code, &end);
	vals[base + IV_SCHOOL_TYPE] = s->school_type ? atof(s->school_type) : 0;
	vals[base + IV_IS_PUBLIC] = s->ownership && strcmp(s->ownership, "public") == 0;
	vals[base + IV_IS_INCLUSIVE] = s->inclusive == 1;
	vals[base + IV_IS_RURAL] = group && strcmp(group, "乡村") == 0;
	vals[base + IV_PERIOD_YEAR] = year;
	for (int k = 0; k < IV_COUNT; k++)
		present[base + k] = k != IV_PERIOD_YEAR || (*end == '\0' && end != p->code);
}

/* The share of stage st in a school's shared facilities: weighted pupils. */
static bool ms_share(const struct ind_sets *defs, const struct ind_set *set, unsigned stages,
                     int st, const double *vals, const unsigned char *present, double *share)
{
	double mine = 0, all = 0;
	int nst = 0;
	for (int t = 0; t < IND_NSTAGES; t++) {
		if (!(stages & form_stage_table[t].bit))
			continue;
		char code[32];
		snprintf(code, sizeof(code), "%s_students", form_stage_table[t].prefix);
		int slot = form_slot_lookup(defs->forms, code, strlen(code));
		if (slot < 0 || !present[slot])
			return false;
		double w = set->weights[t] * vals[slot];
		all += w;
		if (t == st)
			mine = w;
		nst++;
	}
	if (nst == 1) {
		*share = 1;
		return true;
	}
	if (all <= 0)
		return false;
	*share = mine / all;
	return true;
}

/* Does a column concern a school? Not when none of the fields it reads applies
 * to the school (kindergarten figures for a primary school), nor when its
 * "applies" expression is false. */
static bool ms_applies(const struct ind_sets *defs, const struct ms_col *c,
                       const struct ms_school *s, const double *vals, const unsigned char *present)
{
	const struct ind_def *d = c->ind;
	if (d->applies[c->st]) {
		struct expr_value ap = expr_eval(d->applies[c->st], vals, present);
		if (!ap.missing && ap.v == 0)
			return false;
	}
	const struct expr *e[2] = {d->num[c->st], d->den[c->st]};
	int slots[EXPR_MAX_NODES];
	bool any_field = false;
	for (int j = 0; j < 2; j++) {
		size_t n = e[j] ? expr_slots(e[j], slots, EXPR_MAX_NODES) : 0;
		for (size_t k = 0; k < n && k < EXPR_MAX_NODES; k++) {
			const struct form_field *f = form_field_at(defs->forms, slots[k]);
			if (!f)
				continue; /* an indicator variable */
			any_field = true;
			if (form_field_applies(f, s->school->school_type, s->stages))
				return true;
		}
	}
	return !any_field;
}

/* Evaluate one column for one school. */
static struct ms_val ms_eval(const struct ind_sets *defs, const struct ms_col *c,
                             const struct ms_school *s, const double *vals,
                             const unsigned char *present)
{
	struct ms_val v = {.state = MV_NONE, .pass = -1};
	const struct ind_def *d = c->ind;
	if (c->st != IND_WHOLE && !(s->stages & form_stage_table[c->st].bit))
		return v;
	if (!ms_applies(defs, c, s, vals, present) || (!s->school->active && !s->has_data))
		return v; /* a deactivated school counts only with the data it reported */
	const struct expr *inc = c->set->include[c->st];
	if (inc) {
		struct expr_value in = expr_eval(inc, vals, present);
		if (in.missing) {
			v.state = MV_MISSING; /* whether it takes part is not known: no data */
			return v;
		}
		if (in.v == 0)
			return v;
	}
	v.state = MV_MISSING;
	struct expr_value num = expr_eval(d->num[c->st], vals, present);
	struct expr_value den = {.v = 1};
	if (d->den[c->st])
		den = expr_eval(d->den[c->st], vals, present);
	if (num.missing || den.missing)
		return v;
	double share = 1;
	if (d->share && !ms_share(defs, c->set, s->stages, c->st, vals, present, &share))
		return v;
	v.num = num.v * share;
	v.den = den.v;
	v.known = true;
	if (v.den == 0)
		return v; /* no value (no pupils, say), but it adds its numerator to the sums */
	v.state = MV_OK;
	v.value = d->factor * v.num / v.den;
	if (d->levels & IL_SCHOOL)
		v.pass = ms_meets(v.value, c->threshold, d->dir);
	return v;
}

/* The 优质均衡 verdicts of a school: per balance set and stage. */
static void ms_verdicts(const struct ms_result *r, struct ms_school *s)
{
	const struct ind_sets *defs = r->defs;
	for (size_t si = 0; si < defs->nsets; si++) {
		const struct ind_set *set = defs->sets[si];
		if (set->kind != IK_BALANCE)
			continue;
		for (int st = 0; st < IND_NSTAGES; st++) {
			int met = 0, seen = 0, missing = 0, none = 0;
			bool floor_ok = true;
			for (size_t k = 0; k < r->ncols; k++) {
				const struct ms_col *c = &r->cols[k];
				if (c->set != set || c->st != st)
					continue;
				const struct ms_val *v = &s->vals[k];
				seen++;
				if (v->state == MV_NONE) {
					none++;
					continue;
				}
				if (v->state == MV_MISSING) {
					missing++;
					continue;
				}
				met += ms_meets(v->value, c->threshold, c->ind->dir);
				double fl = c->ind->dir == ID_GE ? c->threshold * set->floor
				                                 : c->threshold / set->floor;
				floor_ok = floor_ok && ms_meets(v->value, fl, c->ind->dir);
			}
			unsigned char *out = &s->verdict[si * IND_NSTAGES + st];
			/* an indicator that does not concern the school is not held against it:
			 * the number that may miss the standard stays seen − min_met */
			if (!seen || none == seen)
				*out = VD_NONE;
			else if (missing)
				*out = VD_MISSING;
			else
				*out = met + none >= set->min_met && floor_ok ? VD_PASS : VD_FAIL;
		}
	}
}

/* Sum the columns over the schools of a group (county id, or 0 for all). */
static void ms_group_sum(struct arena *a, const struct ms_result *r, long long county,
                         struct ms_group *g)
{
	size_t nsets = r->defs->nsets;
	g->aggs = arena_alloc(a, (r->ncols ? r->ncols : 1) * sizeof(*g->aggs));
	size_t nv = (nsets ? nsets : 1) * IND_NSTAGES;
	g->in_scope = arena_alloc(a, nv * sizeof(int));
	g->passing = arena_alloc(a, nv * sizeof(int));
	g->failing = arena_alloc(a, nv * sizeof(int));
	g->missing = arena_alloc(a, nv * sizeof(int));
	double *x = arena_alloc(a, (r->nschools ? r->nschools : 1) * sizeof(*x));
	double *w = arena_alloc(a, (r->nschools ? r->nschools : 1) * sizeof(*w));
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		struct ms_agg *ag = &g->aggs[k];
		size_t nx = 0;
		ag->pass = -1;
		ag->cv_pass = -1;
		for (size_t i = 0; i < r->nschools; i++) {
			const struct ms_school *s = &r->schools[i];
			if (county && s->school->parent_id != county)
				continue;
			const struct ms_val *v = &s->vals[k];
			if (v->state == MV_NONE)
				continue;
			if (!v->known) {
				ag->missing++;
				continue;
			}
			ag->num += v->num;
			ag->den += v->den;
			ag->counted++;
			if (v->state != MV_OK)
				continue; /* a zero denominator: no value of its own */
			if (v->pass >= 0) {
				ag->judged++;
				ag->failing += v->pass == 0;
			}
			x[nx] = v->value;
			w[nx++] = v->den;
		}
		bool count = !c->ind->den[c->st]; /* a count or a sum: no denominator */
		if (count ? ag->counted > 0 : ag->den != 0) {
			ag->has_value = true;
			ag->value = c->ind->factor * (count ? ag->num : ag->num / ag->den);
			unsigned level = county || r->ncounties == 0 ? IL_COUNTY : IL_CITY;
			if (c->ind->levels & level)
				ag->pass = ms_meets(ag->value, c->threshold, c->ind->dir);
		}
		if (c->set->kind == IK_BALANCE && c->st != IND_WHOLE &&
		    c->set->cv_limit[c->st] > 0 && ms_cv(x, w, nx, &ag->cv, &ag->mean, &ag->sd)) {
			ag->has_cv = true;
			ag->cv_pass = ag->cv <= c->set->cv_limit[c->st];
		}
	}
	for (size_t i = 0; i < r->nschools; i++) {
		const struct ms_school *s = &r->schools[i];
		if (county && s->school->parent_id != county)
			continue;
		for (size_t v = 0; v < nv; v++) {
			if (s->verdict[v] == VD_NONE)
				continue;
			g->in_scope[v]++;
			g->passing[v] += s->verdict[v] == VD_PASS;
			g->failing[v] += s->verdict[v] == VD_FAIL;
			g->missing[v] += s->verdict[v] == VD_MISSING;
		}
	}
}

/* Compute everything over a scope. */
int ms_compute(struct db *db, struct arena *a, const struct ind_sets *defs, const struct period *p,
               long long scope_id, bool provisional, struct ms_result *out)
{
	memset(out, 0, sizeof(*out));
	out->defs = defs;
	out->period = p;
	out->provisional = provisional;
	ms_columns(a, defs, out);
	struct org_unit *units;
	size_t n;
	if (ou_schools(db, a, scope_id, &units, &n) != 0)
		return -1;
	size_t nvars = ind_nvars(defs), nsets = defs->nsets ? defs->nsets : 1;
	out->schools = arena_alloc(a, (n ? n : 1) * sizeof(*out->schools));
	out->nschools = n;
	double **vals = arena_alloc(a, (n ? n : 1) * sizeof(*vals));
	unsigned char **present = arena_alloc(a, (n ? n : 1) * sizeof(*present));
	for (size_t i = 0; i < n; i++) {
		struct ms_school *s = &out->schools[i];
		s->school = &units[i];
		const char *stages = ou_school_type_stages(units[i].school_type);
		s->stages = form_stage_bits(stages ? stages : "");
		s->vals = arena_alloc(a, (out->ncols ? out->ncols : 1) * sizeof(*s->vals));
		s->verdict = arena_alloc(a, nsets * IND_NSTAGES);
		vals[i] = arena_alloc(a, nvars * sizeof(double));
		present[i] = arena_alloc(a, nvars);
		ms_attributes(defs, p, &units[i], vals[i], present[i]);
	}
	struct ou_index ix;
	ou_index_build(a, units, n, &ix);
	if (!ms_fields(db, out) ||
	    ms_load(db, p, scope_id, provisional, out->schools, &ix, vals, present) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct ms_school *s = &out->schools[i];
		for (size_t k = 0; k < out->ncols; k++)
			s->vals[k] = ms_eval(defs, &out->cols[k], s, vals[i], present[i]);
		ms_verdicts(out, s);
	}
	/* counties: the distinct parents of the schools, when the scope is above them */
	struct org_unit *children;
	size_t nc;
	if (ou_children(db, a, scope_id, &children, &nc) != 0)
		return -1;
	size_t ncounty = 0;
	for (size_t i = 0; i < nc; i++)
		ncounty += strcmp(children[i].kind, "county") == 0;
	out->counties = arena_alloc(a, (ncounty ? ncounty : 1) * sizeof(*out->counties));
	for (size_t i = 0; i < nc; i++) {
		if (strcmp(children[i].kind, "county") != 0)
			continue;
		struct ms_group *g = &out->counties[out->ncounties++];
		g->code = children[i].code;
		g->name = children[i].name;
		ms_group_sum(a, out, children[i].id, g);
	}
	ms_group_sum(a, out, 0, &out->total);
	return 0;
}

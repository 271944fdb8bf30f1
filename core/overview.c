/* overview.c — every school of a scope with the state of each form of a period, for reviewers. */
#include "overview.h"

#include <string.h>

/* Load the schools and their submissions. */
int overview_load(struct db *db, struct arena *a, const struct period *p, long long scope_id,
                  struct overview_row **out, size_t *n)
{
	struct org_unit *schools;
	size_t ns;
	if (ou_schools(db, a, scope_id, &schools, &ns) != 0)
		return -1;
	struct overview_row *rows = arena_alloc(a, (ns ? ns : 1) * sizeof(*rows));
	size_t nf = p->nforms ? p->nforms : 1;
	for (size_t i = 0; i < ns; i++) {
		rows[i].school = &schools[i];
		rows[i].cells = arena_alloc(a, nf * sizeof(*rows[i].cells));
	}
	struct ou_index ix;
	ou_index_build(a, schools, ns, &ix);
	sqlite3_stmt *st = db_prep(
	    db, "SELECT s.school_id, s.form_code, s.id, s.state, s.reviewed, s.version, s.errors,"
	        " s.warnings, s.unexplained, s.required_total, s.required_filled, s.submitted_at,"
	        " s.updated_at FROM submission s JOIN org_unit o ON o.id = s.school_id"
	        " WHERE s.period_id = ?1 AND (o.id = ?2 OR o.parent_id = ?2 OR o.parent_id IN"
	        " (SELECT id FROM org_unit WHERE parent_id = ?2))");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->id);
	sqlite3_bind_int64(st, 2, scope_id);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long i = ou_index_find(&ix, sqlite3_column_int64(st, 0));
		struct overview_row *r = i >= 0 ? &rows[i] : NULL;
		const char *form = db_text(st, 1);
		size_t k = 0;
		while (k < p->nforms && strcmp(p->forms[k], form) != 0)
			k++;
		if (!r || k == p->nforms)
			continue;
		struct overview_cell *c = &r->cells[k];
		c->id = sqlite3_column_int64(st, 2);
		c->state = wf_state_stored(db_text(st, 3), sqlite3_column_int(st, 4));
		c->version = sqlite3_column_int64(st, 5);
		c->errors = sqlite3_column_int(st, 6);
		c->warnings = sqlite3_column_int(st, 7);
		c->unexplained = sqlite3_column_int(st, 8);
		c->required_total = sqlite3_column_int(st, 9);
		c->required_filled = sqlite3_column_int(st, 10);
		c->submitted_at = sqlite3_column_int64(st, 11);
		c->updated_at = sqlite3_column_int64(st, 12);
	}
	db_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	for (size_t i = 0; i < ns; i++) {
		struct overview_row *r = &rows[i];
		r->complete = p->nforms > 0;
		for (size_t k = 0; k < p->nforms; k++) {
			const struct overview_cell *c = &r->cells[k];
			if (c->id)
				r->started = true;
			if (c->state != WS_SUBMITTED && c->state != WS_COUNTY_APPROVED &&
			    c->state != WS_APPROVED)
				r->complete = false;
			if (c->submitted_at > r->last_submitted)
				r->last_submitted = c->submitted_at;
		}
	}
	*out = rows;
	*n = ns;
	return 0;
}

/* Count the states of one form. */
void overview_count(const struct overview_row *rows, size_t n, size_t k, struct overview_count *c)
{
	memset(c, 0, sizeof(*c));
	c->total = (int)n;
	for (size_t i = 0; i < n; i++) {
		switch (rows[i].cells[k].state) {
		case WS_NONE:
			c->none++;
			break;
		case WS_DRAFT:
			c->draft++;
			break;
		case WS_RETURNED:
			c->returned++;
			break;
		case WS_SUBMITTED:
			c->submitted++;
			break;
		case WS_COUNTY_APPROVED:
			c->county_approved++;
			break;
		case WS_APPROVED:
			c->approved++;
			break;
		}
	}
	c->reported = c->submitted + c->county_approved + c->approved;
}

/* Read the errors and unexplained warnings stored with one submission. */
int overview_sub_counts(struct db *db, long long school_id, long long period_id, const char *form,
                        int *errors, int *unexplained)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT errors, unexplained FROM submission"
	                " WHERE school_id = ?1 AND period_id = ?2 AND form_code = ?3");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, school_id);
	sqlite3_bind_int64(st, 2, period_id);
	db_bind_text(st, 3, form, -1);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*errors = sqlite3_column_int(st, 0);
		*unexplained = sqlite3_column_int(st, 1);
	}
	db_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* overview.h — every school of a scope with the state of each form of a period, for reviewers. */
#ifndef TB_OVERVIEW_H
#define TB_OVERVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "orgunit.h"
#include "period.h"
#include "workflow.h"

/* One form of one school: its submission as stored (id 0: not started). */
struct overview_cell {
	long long id;
	enum wf_state state;
	long long version;
	int errors, warnings, unexplained, required_total, required_filled;
	long long submitted_at, updated_at;
};

/* One school and its forms (cells in the period's form order). */
struct overview_row {
	const struct org_unit *school;
	struct overview_cell *cells;
	long long last_submitted; /* the latest submitted_at of its forms, 0 if none */
	bool complete;            /* every form submitted (or further) */
	bool started;             /* some form has a submission */
};

/* Load every school at or below `scope_id` (a county or the city) with its
 * submissions of period p: two queries. 0 or -1. */
int overview_load(struct db *db, struct arena *a, const struct period *p, long long scope_id,
                  struct overview_row **out, size_t *n);

/* The stored check counts of one school's submission of a form in period
 * period_id: 1 found, 0 none, -1 on a database error. */
int overview_sub_counts(struct db *db, long long school_id, long long period_id, const char *form,
                        int *errors, int *unexplained);

/* Counts of one form across the rows. */
struct overview_count {
	int total, none, draft, returned, submitted, county_approved, approved;
	int reported; /* submitted, county_approved or approved */
};

/* Count the states of form k over the rows. */
void overview_count(const struct overview_row *rows, size_t n, size_t k, struct overview_count *c);

#endif

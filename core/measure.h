/* measure.h — indicators computed over a period's submissions: per school (and stage), per county
 * and for the whole scope; the 优质均衡 school verdict and the enrolment-weighted CV. */
#ifndef TB_MEASURE_H
#define TB_MEASURE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "indicator.h"
#include "orgunit.h"
#include "period.h"

/* One measured column: an indicator at one stage (or of the whole school). */
struct ms_col {
	const struct ind_set *set;
	const struct ind_def *ind;
	int st; /* stage index, or IND_WHOLE */
	double threshold;
};

enum ms_state { MV_NONE, MV_MISSING, MV_OK };

/* A school's value of one column. */
struct ms_val {
	unsigned char state; /* MV_NONE: does not apply (stage absent, not taking part);
	                        MV_MISSING: no value (data lacking, or a zero denominator) */
	bool known;          /* numerator and denominator known (they count in sums) */
	signed char pass;    /* 1 meets the threshold, 0 not, -1 not judged */
	double num, den;     /* the numerator (share applied) and denominator (1 for a count) */
	double value;        /* factor * num / den */
};

/* The 优质均衡 verdict of a school at one stage. */
enum ms_verdict { VD_NONE, VD_MISSING, VD_PASS, VD_FAIL };

struct ms_school {
	const struct org_unit *school;
	unsigned stages;
	bool has_data;          /* some submission counted */
	bool provisional;       /* some counted submission is not approved yet */
	struct ms_val *vals;    /* [ncols] */
	unsigned char *verdict; /* [nsets * IND_NSTAGES]: enum ms_verdict */
};

/* One column summed over a group of schools. */
struct ms_agg {
	double num, den;
	int counted;                  /* schools whose numerator and denominator are known */
	int judged, failing, missing; /* school-level judgement: judged, below standard, no data */
	bool has_value;
	double value;     /* factor * Σnum / Σden (never an average of ratios); for a
	                     count (no denominator) factor * Σnum */
	signed char pass; /* against the threshold, -1 when not judged at this level */
	bool has_cv;      /* 优质均衡: the coefficient of variation over the schools */
	double cv, mean, sd;
	signed char cv_pass;
};

/* A county (or the whole scope): aggregates, and the verdict counts per set and stage. */
struct ms_group {
	const char *code, *name;
	struct ms_agg *aggs;                         /* [ncols] */
	int *in_scope, *passing, *failing, *missing; /* [nsets * IND_NSTAGES] */
};

struct ms_result {
	const struct ind_sets *defs;
	const struct period *period;
	bool provisional;
	struct ms_col *cols;
	size_t ncols;
	struct ms_school *schools;
	size_t nschools;
	struct ms_group total;     /* the whole scope */
	struct ms_group *counties; /* with a city scope: each county; else none */
	size_t ncounties;
};

/* Compute every indicator of `defs` over the schools at or below scope_id for
 * period p, from approved submissions (and, when `provisional`, submitted ones
 * too). 0 or -1 on a database error. */
int ms_compute(struct db *db, struct arena *a, const struct ind_sets *defs, const struct period *p,
               long long scope_id, bool provisional, struct ms_result *out);

/* Does `v` meet threshold t in direction d? */
bool ms_meets(double v, double t, enum ind_dir d);

/* The enrolment-weighted coefficient of variation of n values x with weights w:
 * mean = Σ(w/W)·x, sd = √Σ(w/W)(x − mean)², cv = sd / mean. False when there is
 * no value, no weight or a zero mean. One value gives 0. */
bool ms_cv(const double *x, const double *w, size_t n, double *cv, double *mean, double *sd);

/* The index of a set in defs (for verdict arrays), or -1: for readers of a result by set
 * (the unit tests). */
int ms_set_index(const struct ind_sets *defs, const struct ind_set *set);

#endif

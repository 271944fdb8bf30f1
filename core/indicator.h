/* indicator.h — indicator definitions as data (db/indicators/, JSON): parse, check, store, load. */
#ifndef TB_INDICATOR_H
#define TB_INDICATOR_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "expr.h"
#include "form.h"

#define IND_NSTAGES 6         /* the stages of form.h, by index (kg pri jun sen voc spe) */
#define IND_WHOLE IND_NSTAGES /* the index of a whole-school indicator's expressions */
#define IND_MAX_JSON (256 * 1024)
#define IND_MAX_INDICATORS 100

/* Variables an indicator may read besides the field codes: the school's
 * 办学类型 as a number, 公办 (1/0), 普惠性 (1/0), 乡村 (1/0), and the period's
 * code as a number (a year). Their slots follow the form set's. */
enum ind_var {
	IV_SCHOOL_TYPE,
	IV_IS_PUBLIC,
	IV_IS_INCLUSIVE,
	IV_IS_RURAL,
	IV_PERIOD_YEAR,
	IV_COUNT
};
extern const char *const ind_var_names[IV_COUNT];

enum ind_kind { IK_BALANCE, IK_TARGETS };
enum ind_dir { ID_GE, ID_LE };
enum ind_level { IL_SCHOOL = 1, IL_COUNTY = 2, IL_CITY = 4 };

/* One indicator: numerator / denominator × factor, per stage or for the whole school. */
struct ind_def {
	const char *code, *name, *unit, *document, *note;
	unsigned stages; /* stage bits; 0: one value for the whole school (index IND_WHOLE) */
	const struct expr *num[IND_NSTAGES + 1];
	const struct expr *den[IND_NSTAGES + 1];     /* NULL: a count, no denominator */
	const struct expr *applies[IND_NSTAGES + 1]; /* NULL, or: does it concern a school? */
	double factor;
	bool share; /* the numerator is whole-school: split by the stage's share */
	double threshold[IND_NSTAGES + 1];
	enum ind_dir dir;
	unsigned levels; /* where it is judged: enum ind_level bits */
};

/* One definition file: a kind, its indicators and, for the 优质均衡 kind, the
 * stage weights, the inclusion rule, the school verdict and the CV limits. */
struct ind_set {
	const char *code, *name, *document, *description, *weights_note;
	int edition;
	enum ind_kind kind;
	double weights[IND_NSTAGES];                 /* stage weights of shared facilities */
	const struct expr *include[IND_NSTAGES + 1]; /* per stage: does a school take part? */
	int min_met;  /* verdict: at least this many indicators reach the standard */
	double floor; /* ... and each reaches this share of it */
	double cv_limit[IND_NSTAGES]; /* 0: not a CV stage */
	struct ind_def *inds;
	size_t ninds;
	const char *json;
};

/* A collection of definition files, parsed against one form set. */
struct ind_sets {
	struct arena a;
	const struct form_set *forms;
	struct ind_set **sets;
	size_t nsets, cap;
};

/* An empty collection for `forms` (which must outlive it). */
struct ind_sets *ind_sets_new(const struct form_set *forms);
void ind_sets_free(struct ind_sets *s);

/* The number of variables an evaluation needs: the form set's slots plus IV_COUNT. */
size_t ind_nvars(const struct ind_sets *s);

/* Parse and check one definition and add it: every field code must exist in
 * the forms, every expression parse, stages, thresholds, direction and levels
 * be valid, codes be unique across the collection. False with an English
 * message naming file, set and indicator. */
bool ind_sets_add_json(struct ind_sets *s, const char *json, size_t len, const char *fname,
                       char *err, size_t errlen);

/* Store the sets in one transaction with an audit row each (a lower edition
 * than the stored one is refused), bumping the setting indicators_generation. */
bool ind_store(struct db *db, const struct ind_sets *s, const char *actor, char *err,
               size_t errlen);

/* Load every stored set, parsed against `forms`. NULL with a message. */
struct ind_sets *ind_load_db(struct db *db, const struct form_set *forms, char *err, size_t errlen);

/* The set of a code, or NULL. */
const struct ind_set *ind_set_find(const struct ind_sets *s, const char *code);

/* The index of one stage bit (0 for ST_KG ...), or IND_WHOLE for 0: for readers of a
 * result by stage bit (the unit tests). */
int ind_stage_index(unsigned stage);

#endif

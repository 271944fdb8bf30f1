/* dvs.h — values in the DHIS2 dataValueSets JSON shape: reading and importing them. */
#ifndef TB_DVS_H
#define TB_DVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "db.h"
#include "form.h"
#include "workflow.h"

#define DVS_MAX_BYTES (64 * 1024 * 1024) /* one import file */
#define DVS_MAX_SETS 100000
#define DVS_MAX_VALUES 5000  /* data values of one set */
#define DVS_MAX_PROBLEMS 200 /* problems printed before giving up */

/* One data value: dataElement = field code, value as text, optional comment. */
struct dvs_value {
	const char *element;
	const char *value;
	const char *comment;
};

/* One data value set: dataSet = form code, period code, orgUnit = 学校标识码. */
struct dvs_set {
	const char *data_set;
	const char *period;
	const char *org_unit;
	struct dvs_value *values;
	size_t nvalues;
};

/* Parse a document that is either {"dataValueSets": [SET, ...]} or one SET
 * ({"dataSet": ..., "period": ..., "orgUnit": ..., "dataValues": [...]}).
 * Values may be JSON strings, numbers or booleans (kept as text: 12, 1.5,
 * true). Everything is copied into `a`. False with an English message naming
 * the set (1-based) and the problem. */
bool dvs_parse(struct arena *a, const char *json, size_t len, struct dvs_set **sets, size_t *n,
               char *err, size_t errlen);

/* Import parsed sets as the admin's command line does (`tianbao-admin values
 * import`): every set is checked like a web save (the period, the school, the
 * form of the period, each data element a field of that form that applies to
 * the school, each value by its field's type and bounds, no set or element
 * twice, no submission already submitted or approved); each problem is an
 * English line "FNAME: set N (orgUnit X, dataSet Y, period P): ..." on
 * `errors`. If anything is wrong nothing is stored and -1 is returned.
 * Otherwise all sets are stored in one transaction with history and audit rows
 * (fields a set does not name keep their values; a comment becomes the 说明 of
 * the warnings concerning its field), then moved to `state`: WS_DRAFT leaves
 * them drafts; WS_SUBMITTED submits them, which needs what a web submission
 * needs; WS_APPROVED also approves them, which needs no errors and every
 * required field (warnings may stand). Returns the number of sets stored. */
long dvs_import(struct db *db, const struct form_set *set, const struct dvs_set *sets, size_t n,
                enum wf_state state, const char *actor, const char *fname, FILE *errors);

struct entry;

/* The upstream payload of form i of an entry as it is now: one data value set
 * {"dataSet", "period", "orgUnit", "completeDate" (the approval's day, UTC+8,
 * YYYY-MM-DD), "dataValues": [{"dataElement", "value", "comment"?}]} with every
 * field of the form that holds a valid value, in definition order; values as
 * their canonical text (yes/no as "true"/"false"); "comment" the school's 说明
 * of the warnings concerning the field (joined with "；"). Compact JSON in the
 * arena, or NULL when out of memory. docs/upstream.md describes it. */
char *dvs_payload(struct arena *a, const struct entry *e, int i, long long approved_at);

#endif

/* form.h — form definitions as data: loading, checking, and looking fields and rules up. */
#ifndef TB_FORM_H
#define TB_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include "db.h"
#include "expr.h"

enum form_type { FT_INTEGER, FT_DECIMAL, FT_TEXT, FT_YESNO, FT_CHOICE };
enum form_severity { FS_ERROR, FS_WARNING };

/* Stage bits (a school's stages come from its 办学类型). */
enum form_stage { ST_KG = 1, ST_PRI = 2, ST_JUN = 4, ST_SEN = 8, ST_VOC = 16, ST_SPE = 32 };

struct form_choice {
	const char *value;
	const char *label;
};

/* One field; a grid cell is a field with `stage` set (code = "<stage>_<column>"). */
struct form_field {
	int slot;          /* index in the set's global field table (expr slot) */
	const char *code;  /* e.g. "pri_students", "broadband_mbps" */
	const char *label; /* Chinese label (of the column, for a grid cell) */
	const char *unit;  /* or NULL */
	const char *help;  /* or NULL */
	enum form_type type;
	int decimals;    /* FT_DECIMAL */
	double min, max; /* numbers */
	int max_length;  /* FT_TEXT, characters */
	const struct form_choice *choices;
	size_t nchoices;
	bool required;
	unsigned stage;  /* the grid row's stage bit, 0 for plain fields */
	unsigned stages; /* applies only to schools with one of these stages; 0 = all */
	const char *const *school_types; /* applies only to these 办学类型; NULL = all */
	size_t nschool_types;
	int section; /* index into the form's sections */
	int column;  /* grid column index, -1 for plain fields */
};

struct form_section {
	const char *code;
	const char *title;
	const char *help;
	bool grid;
	unsigned rows;                           /* grid: candidate stage bits */
	const struct form_field *const *columns; /* grid: column prototypes (label, unit, help) */
	size_t ncolumns;
};

/* One rule, expanded per stage when it had "stages" (code = "<rule>:<stage>"). */
struct form_rule {
	const char *code;
	const char *form_code;
	const struct expr *expr;
	enum form_severity severity;
	const char *message; /* {stage} already replaced */
	unsigned stage;      /* 0 for a rule without stages */
	const int *slots;    /* fields to show the message beside */
	size_t nslots;
};

struct form_def {
	const char *code;
	const char *name;
	int edition;
	const char *description;
	double change_warning; /* 0 = off */
	const struct form_section *sections;
	size_t nsections;
	const struct form_field *const *fields; /* every field of the form, in definition order */
	size_t nfields;
	const struct form_rule *rules;
	size_t nrules;
	const char *json; /* the definition as loaded */
};

struct form_set;

/* An empty set. */
struct form_set *form_set_new(void);

/* Parse and check one definition (UTF-8 JSON text) and add it to the set. Every
 * problem is reported as an English message naming file, form and field or rule
 * ("students.json: form students: field pri_students: max < min"); returns
 * false on the first one. Field codes must be unique across the set; a form
 * code already in the set is an error. Rules are checked by form_set_finish. */
bool form_set_add_json(struct form_set *set, const char *json, size_t len, const char *fname,
                       char *err, size_t errlen);

/* Compile every rule of every form against the set's field table (cross-form
 * references allowed), expanding per-stage rules. Call once after the last
 * form_set_add_json; false with a message naming file, form and rule. */
bool form_set_finish(struct form_set *set, char *err, size_t errlen);

/* Store the set in the database in one transaction with an audit row per form:
 * a form already stored is replaced when the new edition is higher or equal,
 * refused when lower; its field rows are rewritten. Refuses to drop a field
 * code that has stored values. Returns false with a message. */
bool form_store(struct db *db, const struct form_set *set, const char *actor, char *err,
                size_t errlen);

/* Load every stored form into a new set (parsed and finished). NULL with a message on error. */
struct form_set *form_set_load_db(struct db *db, char *err, size_t errlen);

/* Lookups. */
size_t form_count(const struct form_set *set);
const struct form_def *form_at(const struct form_set *set, size_t i);
const struct form_def *form_find(const struct form_set *set, const char *code);
/* Global field table: slot numbers 0..form_nslots()-1, used as expr slots. */
size_t form_nslots(const struct form_set *set);
const struct form_field *form_field_at(const struct form_set *set, int slot);
/* The field of a code, or NULL. */
const struct form_field *form_field_find(const struct form_set *set, const char *code);

/* The form a field belongs to, or NULL. */
const struct form_def *form_field_form(const struct form_set *set, const struct form_field *f);

/* Copy src to out, replacing the s_ of every whole name that starts with it by
 * "<prefix>_" (when prefix is not NULL); *n counts such names. False when out
 * (outlen bytes) is too small. How per-stage rules and indicators are expanded. */
bool form_expand_stage(const char *src, const char *prefix, char *out, size_t outlen, size_t *n);

/* Stage bits of a comma list such as "pri,jun" (from ou_school_type_stages). */
unsigned form_stage_bits(const char *stages);
/* Chinese name of one stage bit (学前, 小学, 初中, 高中, 中职, 特教) and its prefix ("pri"). */
const char *form_stage_name(unsigned stage);
const char *form_stage_prefix(unsigned stage);

/* Does a field apply to a school of this type with these stages? */
bool form_field_applies(const struct form_field *f, const char *school_type, unsigned stages);

void form_set_free(struct form_set *set);

#endif

/* form_internal.h — the private layout of a form set, shared by form.c and form_check.c. */
#ifndef TB_FORM_INTERNAL_H
#define TB_FORM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "form.h"

#define FORM_MAX_JSON (1024 * 1024) /* bytes of one definition */
#define FORM_MAX_SECTIONS 64
#define FORM_MAX_FIELDS 2000 /* expanded fields of one form */
#define FORM_MAX_RULES 500   /* rules of one form as written */
#define FORM_NSTAGES 6

/* One stage: its bit, its prefix in field codes and its Chinese name. */
struct form_stage_info {
	unsigned bit;
	const char *prefix;
	const char *name;
};

/* The six stages in display order (学前 小学 初中 高中 中职 特教). */
extern const struct form_stage_info form_stage_table[FORM_NSTAGES];

/* The JSON (and database) names of enum form_type, by value. */
extern const char *const form_type_names[5];

/* A rule as written in the definition, checked for shape by form_set_add_json
 * and expanded and compiled by form_set_finish. */
struct form_rule_src {
	const char *code;
	const char *expr;
	const char *message;
	enum form_severity severity;
	unsigned char stages[FORM_NSTAGES]; /* indexes into form_stage_table, as written */
	size_t nstages;                     /* 0: not a per-stage rule */
	const char *const *fields;          /* as written (s_ not expanded), or NULL */
	size_t nfields;
};

/* One form of a set: the public definition first (form_at returns &def). */
struct form_entry {
	struct form_def def;
	const char *fname; /* where it was loaded from, for messages */
	const struct form_rule_src *rsrc;
	size_t nrsrc;
};

/* Everything lives in the arena; arrays that grow are copied to a larger
 * arena block (the old block stays until form_set_free). */
struct form_set {
	struct arena a;
	struct form_entry **forms;
	size_t nforms, capforms;
	const struct form_field **slots; /* the global field table, by slot */
	int *owner;                      /* index in forms[] of each slot's form */
	size_t nslots, capslots;
	int *hash; /* open addressing over field codes: slot, or -1 when empty */
	size_t hcap;
	bool finished;
};

/* The slot of a field code (len bytes, not necessarily NUL-terminated), or -1. */
int form_slot_lookup(const struct form_set *set, const char *code, size_t len);

/* Append a field to the global table as form `owner`'s; sets f->slot. */
void form_slot_add(struct form_set *set, struct form_field *f, int owner);

/* Forget the slots from n on (a definition that failed its checks). */
void form_slot_truncate(struct form_set *set, size_t n);

/* Append a checked form to the set. */
void form_entry_add(struct form_set *set, struct form_entry *e);

#endif

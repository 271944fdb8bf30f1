/* orgunit.h — org units (city > county > school): codes, attributes, scope, CSV import. */
#ifndef TB_ORGUNIT_H
#define TB_ORGUNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"
#include "db.h"

/* One org unit as stored (strings live in the arena given to the reader;
 * absent attributes are NULL, inclusive is -1 when not set). */
struct org_unit {
	long long id;
	const char *code;
	const char *name;
	const char *kind;    /* "city", "county", "school" */
	long long parent_id; /* 0 for the city */
	const char *parent_code;
	const char *parent_name;
	const char *school_type; /* 办学类型 code, e.g. "312" */
	const char *ownership;   /* "public" or "private" */
	int inclusive;           /* 普惠性: 1, 0, or -1 when not applicable */
	const char *urban_rural; /* 城乡类型 code, e.g. "220" */
	long long center_id;     /* 教学点's 中心校, 0 if none */
	const char *center_code;
	bool active;
};

/* ---- code tables (pure, no I/O) ---- */

/* Chinese name of a 办学类型 code the system supports (111 211 218 311 312 341
 * 342 345 361 362 365 366 511 512 513 514), or NULL. */
const char *ou_school_type_name(const char *code);
/* The i-th supported 办学类型 / 城乡类型 code in table order, or NULL past the end
 * (for choice lists). */
const char *ou_school_type_at(size_t i);
const char *ou_urban_rural_at(size_t i);
/* Stages a school type reports, comma-separated in order ("pri,jun"), or NULL. */
const char *ou_school_type_stages(const char *code);
/* Chinese name of a 城乡类型 code (111 112 121 122 123 210 220), or NULL. */
const char *ou_urban_rural_name(const char *code);
/* 城区 / 镇区 / 乡村 for a 城乡类型 code, or NULL. */
const char *ou_urban_rural_group(const char *code);
/* "公办" / "民办" for "public" / "private", or NULL. */
const char *ou_ownership_name(const char *ownership);

/* Check a 10-digit 学校标识码: exactly 10 ASCII digits, the first two a known
 * category (11 21 22 31 32 33 34 35 36 37 51) that fits the school type when
 * one is given (e.g. 11 for 111; any compulsory category for 312/345).
 * On failure *why is a Chinese message. */
bool ou_school_code_valid(const char *code, const char *school_type, const char **why);

/* Check a unit's fields before storing it (kind, code format, name length,
 * every school attribute against the tables above, inclusive only for
 * kindergartens, center only for 218). Writes a Chinese message into err. */
bool ou_validate(const struct org_unit *u, char *err, size_t errlen);

/* ---- reading ---- */

/* Load a unit by code / id. Returns 1 found, 0 not found, -1 on database error. */
int ou_get_by_code(struct db *db, struct arena *a, const char *code, struct org_unit *out);
int ou_get(struct db *db, struct arena *a, long long id, struct org_unit *out);

/* True when `target_id` is `scope_id` itself or lies below it (a school in a
 * county, a school or county in the city). False also on database error. */
bool ou_in_scope(struct db *db, long long scope_id, long long target_id);

/* All units directly below `parent_id` (0: the top level), ordered by code. */
int ou_children(struct db *db, struct arena *a, long long parent_id, struct org_unit **out,
                size_t *n);
/* All schools at or below `scope_id`, ordered by county code then school code. */
int ou_schools(struct db *db, struct arena *a, long long scope_id, struct org_unit **out,
               size_t *n);

/* An index of an array of units by id, for rows that name a unit by id. */
struct ou_index {
	struct ou_index_entry {
		long long id;
		size_t pos;
	} * e;
	size_t n;
};
/* Build the index of units[0..n) in `a`. */
void ou_index_build(struct arena *a, const struct org_unit *units, size_t n, struct ou_index *ix);
/* The position in the array of the unit with this id, or -1. */
long ou_index_find(const struct ou_index *ix, long long id);

/* ---- writing (each in one BEGIN IMMEDIATE transaction with its audit row) ---- */

/* Create a unit whose parent (and center) are given by code in parent_code /
 * center_code. Returns the new id, or 0 with a Chinese message in err. */
long long ou_create(struct db *db, const struct org_unit *u, const char *actor, char *err,
                    size_t errlen);
/* Update name and school attributes (code and kind never change). */
bool ou_update(struct db *db, const struct org_unit *u, const char *actor, char *err,
               size_t errlen);
/* Activate or deactivate. */
bool ou_set_active(struct db *db, long long id, bool active, const char *actor, char *err,
                   size_t errlen);

/* Import units from a UTF-8 CSV stream with a header row (columns by name:
 * code, name, parent_code, kind, school_type, ownership, inclusive,
 * urban_rural, center_code; kind may be omitted and is then derived). Every
 * row is checked; each bad row gets one English message "FILE:LINE: ..."
 * written to `errors`; if any row is bad nothing is stored. Existing codes are
 * updated, new ones created, all in one transaction with one audit row per
 * unit. `progress` (may be NULL) gets a line every 1000 rows. Returns the
 * number of rows imported, or -1. */
long ou_import_csv(struct db *db, FILE *in, const char *fname, const char *actor, FILE *errors,
                   FILE *progress);

#endif

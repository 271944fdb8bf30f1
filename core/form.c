/* form.c — the form set: lookups, stages, and storing and loading definitions in the database. */
#include "form.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "form_internal.h"

const struct form_stage_info form_stage_table[FORM_NSTAGES] = {
    {ST_KG, "kg", "学前"},   {ST_PRI, "pri", "小学"}, {ST_JUN, "jun", "初中"},
    {ST_SEN, "sen", "高中"}, {ST_VOC, "voc", "中职"}, {ST_SPE, "spe", "特教"},
};

const char *const form_type_names[5] = {"integer", "decimal", "text", "yesno", "choice"};

/* An empty set; NULL when out of memory. */
struct form_set *form_set_new(void)
{
	struct form_set *set = calloc(1, sizeof(*set));
	if (!set)
		return NULL;
	arena_init(&set->a, 64 * 1024);
	return set;
}

/* Release the set and everything it holds. */
void form_set_free(struct form_set *set)
{
	if (!set)
		return;
	arena_free(&set->a);
	free(set);
}

/* FNV-1a over the bytes of a field code. */
static size_t code_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037u;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211u;
	}
	return (size_t)h;
}

/* Put one slot into the hash table (which has room). */
static void hash_insert(struct form_set *set, int slot)
{
	const char *code = set->slots[slot]->code;
	size_t mask = set->hcap - 1;
	size_t i = code_hash(code, strlen(code)) & mask;
	while (set->hash[i] >= 0)
		i = (i + 1) & mask;
	set->hash[i] = slot;
}

/* Refill the hash table with `cap` buckets (a power of two) from the slot table. */
static void hash_rebuild(struct form_set *set, size_t cap)
{
	if (cap != set->hcap) {
		set->hash = arena_alloc(&set->a, cap * sizeof(*set->hash));
		set->hcap = cap;
	}
	for (size_t i = 0; i < cap; i++)
		set->hash[i] = -1;
	for (size_t i = 0; i < set->nslots; i++)
		hash_insert(set, (int)i);
}

/* The slot of a field code, or -1. */
int form_slot_lookup(const struct form_set *set, const char *code, size_t len)
{
	if (!set || set->hcap == 0)
		return -1;
	size_t mask = set->hcap - 1;
	for (size_t i = code_hash(code, len) & mask; set->hash[i] >= 0; i = (i + 1) & mask) {
		const char *c = set->slots[set->hash[i]]->code;
		if (strncmp(c, code, len) == 0 && c[len] == '\0')
			return set->hash[i];
	}
	return -1;
}

/* Append a field to the global table, growing the arrays and the hash as needed. */
void form_slot_add(struct form_set *set, struct form_field *f, int owner)
{
	if (set->nslots == set->capslots) {
		size_t cap = set->capslots ? 2 * set->capslots : 256;
		const struct form_field **slots = arena_alloc(&set->a, cap * sizeof(*slots));
		int *own = arena_alloc(&set->a, cap * sizeof(*own));
		if (set->nslots) {
			memcpy(slots, set->slots, set->nslots * sizeof(*slots));
			memcpy(own, set->owner, set->nslots * sizeof(*own));
		}
		set->slots = slots;
		set->owner = own;
		set->capslots = cap;
	}
	f->slot = (int)set->nslots;
	set->slots[set->nslots] = f;
	set->owner[set->nslots] = owner;
	set->nslots++;
	if (2 * set->nslots > set->hcap)
		hash_rebuild(set, set->hcap ? 2 * set->hcap : 512);
	else
		hash_insert(set, f->slot);
}

/* Drop the slots from n on and rebuild the hash without them. */
void form_slot_truncate(struct form_set *set, size_t n)
{
	if (n >= set->nslots)
		return;
	set->nslots = n;
	hash_rebuild(set, set->hcap);
}

/* Append a checked form. */
void form_entry_add(struct form_set *set, struct form_entry *e)
{
	if (set->nforms == set->capforms) {
		size_t cap = set->capforms ? 2 * set->capforms : 8;
		struct form_entry **forms = arena_alloc(&set->a, cap * sizeof(*forms));
		if (set->nforms)
			memcpy(forms, set->forms, set->nforms * sizeof(*forms));
		set->forms = forms;
		set->capforms = cap;
	}
	set->forms[set->nforms++] = e;
}

/* Number of forms in the set. */
size_t form_count(const struct form_set *set)
{
	return set ? set->nforms : 0;
}

/* The i-th form in load order, or NULL. */
const struct form_def *form_at(const struct form_set *set, size_t i)
{
	return set && i < set->nforms ? &set->forms[i]->def : NULL;
}

/* The form of a code, or NULL. */
const struct form_def *form_find(const struct form_set *set, const char *code)
{
	if (!set || !code)
		return NULL;
	for (size_t i = 0; i < set->nforms; i++)
		if (strcmp(set->forms[i]->def.code, code) == 0)
			return &set->forms[i]->def;
	return NULL;
}

/* Number of field slots. */
size_t form_nslots(const struct form_set *set)
{
	return set ? set->nslots : 0;
}

/* The field of a slot, or NULL. */
const struct form_field *form_field_at(const struct form_set *set, int slot)
{
	if (!set || slot < 0 || (size_t)slot >= set->nslots)
		return NULL;
	return set->slots[slot];
}

/* The field of a code, or NULL. */
const struct form_field *form_field_find(const struct form_set *set, const char *code)
{
	if (!code)
		return NULL;
	return form_field_at(set, form_slot_lookup(set, code, strlen(code)));
}

/* The form owning a field's slot. */
const struct form_def *form_field_form(const struct form_set *set, const struct form_field *f)
{
	if (!set || !f || f->slot < 0 || (size_t)f->slot >= set->nslots || set->slots[f->slot] != f)
		return NULL;
	return &set->forms[set->owner[f->slot]]->def;
}

/* Whether c is a character of a name. */
static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* Replace the s_ of every whole name that starts with it. */
bool form_expand_stage(const char *src, const char *prefix, char *out, size_t outlen, size_t *n)
{
	size_t o = 0, plen = prefix ? strlen(prefix) : 0;
	*n = 0;
	for (size_t i = 0; src[i]; i++) {
		bool start = src[i] == 's' && src[i + 1] == '_' && is_name_char(src[i + 2]) &&
		             (i == 0 || !is_name_char(src[i - 1]));
		if (start)
			(*n)++;
		if (start && prefix) {
			if (o + plen + 2 >= outlen)
				return false;
			memcpy(out + o, prefix, plen);
			o += plen;
			out[o++] = '_';
			i++;
			continue;
		}
		if (o + 2 >= outlen)
			return false;
		out[o++] = src[i];
	}
	out[o] = '\0';
	return true;
}

/* Stage bits of a comma list ("pri,jun"); unknown names are ignored. */
unsigned form_stage_bits(const char *stages)
{
	unsigned bits = 0;
	const char *p = stages;
	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, ", ");
		for (size_t i = 0; n && i < FORM_NSTAGES; i++)
			if (strlen(form_stage_table[i].prefix) == n &&
			    memcmp(form_stage_table[i].prefix, p, n) == 0)
				bits |= form_stage_table[i].bit;
		p += n;
	}
	return bits;
}

/* Chinese name of one stage bit, or NULL. */
const char *form_stage_name(unsigned stage)
{
	for (size_t i = 0; i < FORM_NSTAGES; i++)
		if (form_stage_table[i].bit == stage)
			return form_stage_table[i].name;
	return NULL;
}

/* Code prefix of one stage bit ("pri"), or NULL. */
const char *form_stage_prefix(unsigned stage)
{
	for (size_t i = 0; i < FORM_NSTAGES; i++)
		if (form_stage_table[i].bit == stage)
			return form_stage_table[i].prefix;
	return NULL;
}

/* Whether a field is shown to (and required of) a school of this type and these stages. */
bool form_field_applies(const struct form_field *f, const char *school_type, unsigned stages)
{
	if (!f)
		return false;
	if (f->stage && !(stages & f->stage))
		return false;
	if (f->stages && !(stages & f->stages))
		return false;
	if (!f->school_types)
		return true;
	for (size_t i = 0; school_type && i < f->nschool_types; i++)
		if (strcmp(f->school_types[i], school_type) == 0)
			return true;
	return false;
}

/* Write "FILE: form CODE: message" into err. */
static bool store_fail(char *err, size_t errlen, const struct form_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Format a storing problem of form e (or of the whole set when e is NULL); returns false. */
static bool store_fail(char *err, size_t errlen, const struct form_entry *e, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (err && errlen) {
		if (e)
			snprintf(err, errlen, "%s: form %s: %s; nothing was stored", e->fname,
			         e->def.code, msg);
		else
			snprintf(err, errlen, "%s; nothing was stored", msg);
	}
	return false;
}

/* Compare form i with its stored row: refuse a lower edition or dropping a
 * field that has values; *same when the stored definition is identical. */
static bool store_check(struct db *db, const struct form_set *set, size_t i, bool *same, char *err,
                        size_t errlen)
{
	const struct form_entry *e = set->forms[i];
	*same = false;
	sqlite3_stmt *st = db_prep(db, "SELECT edition, definition FROM form WHERE code = ?1");
	if (!st)
		return store_fail(err, errlen, e, "database error: %s", sqlite3_errmsg(db->h));
	db_bind_text(st, 1, e->def.code, -1);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		long long stored = sqlite3_column_int64(st, 0);
		if (e->def.edition < stored) {
			db_done(st);
			return store_fail(err, errlen, e,
			                  "edition %d is lower than the stored edition %lld",
			                  e->def.edition, stored);
		}
		*same = e->def.edition == stored && strcmp(db_text(st, 1), e->def.json) == 0;
	} else if (rc != SQLITE_DONE) {
		db_done(st);
		return store_fail(err, errlen, e, "database error: %s", sqlite3_errmsg(db->h));
	}
	db_done(st);
	if (*same)
		return true;

	st = db_prep(
	    db, "SELECT DISTINCT v.field_code FROM value v JOIN field f ON f.code = v.field_code"
	        " WHERE f.form_code = ?1 ORDER BY 1");
	if (!st)
		return store_fail(err, errlen, e, "database error: %s", sqlite3_errmsg(db->h));
	db_bind_text(st, 1, e->def.code, -1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = db_text(st, 0);
		int slot = form_slot_lookup(set, code, strlen(code));
		if (slot < 0 || set->owner[slot] != (int)i) {
			store_fail(
			    err, errlen, e,
			    "field %s has stored values and is not in edition %d of the form", code,
			    e->def.edition);
			db_done(st);
			return false;
		}
	}
	db_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, errlen, e, "database error: %s", sqlite3_errmsg(db->h));
	return true;
}

/* Upsert the form row of e and delete its field rows. */
static bool store_form_row(struct db *db, const struct form_entry *e, char *err, size_t errlen)
{
	sqlite3_stmt *st = db_prep(
	    db, "INSERT INTO form(code, name, edition, definition) VALUES (?1, ?2, ?3, ?4)"
	        " ON CONFLICT(code) DO UPDATE SET name = excluded.name, edition = excluded.edition,"
	        " definition = excluded.definition,"
	        " loaded_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')");
	if (!st)
		return store_fail(err, errlen, e, "database error: %s", sqlite3_errmsg(db->h));
	db_bind_text(st, 1, e->def.code, -1);
	db_bind_text(st, 2, e->def.name, -1);
	sqlite3_bind_int(st, 3, e->def.edition);
	db_bind_text(st, 4, e->def.json, -1);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, errlen, e, "cannot store the form: %s",
		                  sqlite3_errmsg(db->h));
	st = db_prep(db, "DELETE FROM field WHERE form_code = ?1");
	if (!st)
		return store_fail(err, errlen, e, "database error: %s", sqlite3_errmsg(db->h));
	db_bind_text(st, 1, e->def.code, -1);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE)
		return store_fail(err, errlen, e, "cannot delete the old fields: %s",
		                  sqlite3_errmsg(db->h));
	return true;
}

/* Explain a field insert that hit the primary key: the code belongs to another stored form. */
static bool store_dup_field(struct db *db, const struct form_entry *e, const char *code, char *err,
                            size_t errlen)
{
	char owner[64] = "another form";
	sqlite3_stmt *st = db_prep(db, "SELECT form_code FROM field WHERE code = ?1");
	if (st) {
		db_bind_text(st, 1, code, -1);
		if (sqlite3_step(st) == SQLITE_ROW)
			snprintf(owner, sizeof(owner), "form %s", db_text(st, 0));
		db_done(st);
	}
	return store_fail(err, errlen, e,
	                  "field %s: already a field of the stored %s (field codes are unique "
	                  "across forms)",
	                  code, owner);
}

/* Insert the field rows of e (code, form, label, type, decimals, stage, position). */
static bool store_fields(struct db *db, const struct form_entry *e, char *err, size_t errlen)
{
	for (size_t i = 0; i < e->def.nfields; i++) {
		const struct form_field *f = e->def.fields[i];
		sqlite3_stmt *st =
		    db_prep(db, "INSERT INTO field(code, form_code, label, type, decimals,"
		                " stage, position) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
		if (!st)
			return store_fail(err, errlen, e, "database error: %s",
			                  sqlite3_errmsg(db->h));
		db_bind_text(st, 1, f->code, -1);
		db_bind_text(st, 2, e->def.code, -1);
		db_bind_text(st, 3, f->label, -1);
		db_bind_text(st, 4, form_type_names[f->type], -1);
		sqlite3_bind_int(st, 5, f->type == FT_DECIMAL ? f->decimals : 0);
		db_bind_text(st, 6, f->stage ? form_stage_prefix(f->stage) : NULL, -1);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)i);
		int rc = sqlite3_step(st);
		int xrc = sqlite3_extended_errcode(db->h);
		db_done(st);
		if (rc == SQLITE_DONE)
			continue;
		if (xrc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return store_dup_field(db, e, f->code, err, errlen);
		return store_fail(err, errlen, e, "field %s: cannot store: %s", f->code,
		                  sqlite3_errmsg(db->h));
	}
	return true;
}

/* Store every form of a finished set in one transaction (see form.h). A form
 * whose stored edition and definition are identical is left as it is. */
bool form_store(struct db *db, const struct form_set *set, const char *actor, char *err,
                size_t errlen)
{
	bool ok = false, in_tx = false;
	bool *same = NULL;
	if (!set || !set->finished)
		return store_fail(err, errlen, NULL,
		                  "the form set is not checked (form_set_finish)");
	same = calloc(set->nforms + 1, sizeof(*same));
	if (!same)
		return store_fail(err, errlen, NULL, "out of memory");
	if (!db_begin_write(db)) {
		store_fail(err, errlen, NULL, "cannot begin a write transaction (database busy?)");
		goto out;
	}
	in_tx = true;
	/* field rows are deleted and re-inserted: values refer to them again by commit */
	if (!db_exec(db, "PRAGMA defer_foreign_keys = ON")) {
		store_fail(err, errlen, NULL, "database error: %s", sqlite3_errmsg(db->h));
		goto out;
	}
	for (size_t i = 0; i < set->nforms; i++)
		if (!store_check(db, set, i, &same[i], err, errlen))
			goto out;
	for (size_t i = 0; i < set->nforms; i++)
		if (!same[i] && !store_form_row(db, set->forms[i], err, errlen))
			goto out;
	for (size_t i = 0; i < set->nforms; i++) {
		const struct form_entry *e = set->forms[i];
		char object[48], detail[48];
		if (same[i])
			continue;
		if (!store_fields(db, e, err, errlen))
			goto out;
		snprintf(object, sizeof(object), "form:%s", e->def.code);
		snprintf(detail, sizeof(detail), "{\"edition\":%d}", e->def.edition);
		if (!audit_log(db, actor, "form.load", object, detail)) {
			store_fail(err, errlen, e, "cannot write the audit row");
			goto out;
		}
	}
	bool changed = false;
	for (size_t i = 0; i < set->nforms; i++)
		changed = changed || !same[i];
	/* the workers re-read the forms (and the indicators on them) when this moves */
	if (changed && !db_exec(db, "UPDATE setting SET value = CAST(value AS INTEGER) + 1"
	                            " WHERE key = 'forms_generation'")) {
		store_fail(err, errlen, NULL, "database error: %s", sqlite3_errmsg(db->h));
		goto out;
	}
	in_tx = false;
	if (!db_commit(db)) {
		store_fail(err, errlen, NULL,
		           "cannot commit the forms (a value refers to a dropped field?)");
		goto out;
	}
	ok = true;
out:
	if (in_tx)
		db_rollback(db);
	free(same);
	return ok;
}

/* Read every stored form (by code) into a new, finished set. */
struct form_set *form_set_load_db(struct db *db, char *err, size_t errlen)
{
	struct form_set *set = form_set_new();
	sqlite3_stmt *st = NULL;
	bool ok = false;
	int rc;
	if (!set) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st = db_prep(db, "SELECT definition FROM form ORDER BY code");
	if (!st) {
		snprintf(err, errlen, "cannot read the forms: %s", sqlite3_errmsg(db->h));
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *text = db_text(st, 0);
		if (!form_set_add_json(set, text, (size_t)sqlite3_column_bytes(st, 0), "database",
		                       err, errlen))
			goto out;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "cannot read the forms: %s", sqlite3_errmsg(db->h));
		goto out;
	}
	db_done(st);
	st = NULL;
	ok = form_set_finish(set, err, errlen);
out:
	db_done(st);
	if (!ok) {
		form_set_free(set);
		set = NULL;
	}
	return set;
}

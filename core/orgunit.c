/* orgunit.c — org units (city > county > school): codes, attributes, scope, CSV import. */
#include "orgunit.h"

#include <csv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audit.h"
#include "buf.h"
#include "log.h"

/* ---- code tables ---- */

/* One 办学类型: its name, the stages it reports and the 学校类别码 its
 * 学校标识码 may start with (comma-separated). */
struct ou_type {
	const char *code;
	const char *name;
	const char *stages;
	const char *categories;
};

static const struct ou_type ou_types[] = {
    {"111", "幼儿园", "kg", "11"},
    {"211", "小学", "pri", "21"},
    {"218", "小学教学点", "pri", "21"},
    {"311", "初级中学", "jun", "31"},
    {"312", "九年一贯制学校", "pri,jun", "21,31"},
    {"341", "完全中学", "jun,sen", "34"},
    {"342", "高级中学", "sen", "34"},
    {"345", "十二年一贯制学校", "pri,jun,sen", "21,31,34"},
    {"361", "中等职业学校", "voc", "36"},
    {"362", "中等技术学校", "voc", "36"},
    {"365", "职业高中学校", "voc", "36"},
    {"366", "技工学校", "voc", "36"},
    {"511", "盲人学校", "spe", "51"},
    {"512", "聋人学校", "spe", "51"},
    {"513", "培智学校", "spe", "51"},
    {"514", "其他特教学校", "spe", "51"},
};

/* One 城乡类型 (国家统计局统计用城乡划分代码) and its group. */
struct ou_ur {
	const char *code;
	const char *name;
	const char *group;
};

static const struct ou_ur ou_urs[] = {
    {"111", "主城区", "城区"},     {"112", "城乡结合区", "城区"}, {"121", "镇中心区", "镇区"},
    {"122", "镇乡结合区", "镇区"}, {"123", "特殊区域", "镇区"},   {"210", "乡中心区", "乡村"},
    {"220", "村庄", "乡村"},
};

/* 学校类别码 (first two digits of a 学校标识码) the system accepts. */
static const char *const ou_categories[] = {"11", "21", "22", "31", "32", "33",
                                            "34", "35", "36", "37", "51"};

/* School types that may be the 中心校 of a 教学点 (they teach primary pupils). */
#define OU_CENTER_TYPES "211, 312 or 345"

#define OU_NAME_MAX 100 /* characters (code points), as the schema's length() counts */

/* The table entry of a school type code, or NULL. */
static const struct ou_type *ou_type_find(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < sizeof(ou_types) / sizeof(*ou_types); i++)
		if (strcmp(ou_types[i].code, code) == 0)
			return &ou_types[i];
	return NULL;
}

/* The table entry of a 城乡类型 code, or NULL. */
static const struct ou_ur *ou_ur_find(const char *code)
{
	if (!code)
		return NULL;
	for (size_t i = 0; i < sizeof(ou_urs) / sizeof(*ou_urs); i++)
		if (strcmp(ou_urs[i].code, code) == 0)
			return &ou_urs[i];
	return NULL;
}

/* Chinese name of a school type code, or NULL. */
const char *ou_school_type_name(const char *code)
{
	const struct ou_type *t = ou_type_find(code);
	return t ? t->name : NULL;
}

/* A school type code by table index. */
const char *ou_school_type_at(size_t i)
{
	return i < sizeof(ou_types) / sizeof(*ou_types) ? ou_types[i].code : NULL;
}

/* A 城乡类型 code by table index. */
const char *ou_urban_rural_at(size_t i)
{
	return i < sizeof(ou_urs) / sizeof(*ou_urs) ? ou_urs[i].code : NULL;
}

/* Stages of a school type ("pri,jun"), or NULL. */
const char *ou_school_type_stages(const char *code)
{
	const struct ou_type *t = ou_type_find(code);
	return t ? t->stages : NULL;
}

/* Chinese name of a 城乡类型 code, or NULL. */
const char *ou_urban_rural_name(const char *code)
{
	const struct ou_ur *u = ou_ur_find(code);
	return u ? u->name : NULL;
}

/* 城区 / 镇区 / 乡村 of a 城乡类型 code, or NULL. */
const char *ou_urban_rural_group(const char *code)
{
	const struct ou_ur *u = ou_ur_find(code);
	return u ? u->group : NULL;
}

/* 公办 / 民办, or NULL. */
const char *ou_ownership_name(const char *ownership)
{
	if (!ownership)
		return NULL;
	if (strcmp(ownership, "public") == 0)
		return "公办";
	if (strcmp(ownership, "private") == 0)
		return "民办";
	return NULL;
}

/* True when a school of this type may be the 中心校 of a 教学点. */
static bool ou_center_type(const char *type)
{
	return type &&
	       (strcmp(type, "211") == 0 || strcmp(type, "312") == 0 || strcmp(type, "345") == 0);
}

/* True when `s` is exactly `n` ASCII digits. */
static bool ou_digits(const char *s, size_t n)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return i == n;
}

/* True when the two characters at `cat` appear as an item of the
 * comma-separated list `list` ("21,31"). */
static bool ou_category_in(const char *cat, const char *list)
{
	for (const char *p = list; *p; p += (p[2] == ',') ? 3 : 2)
		if (p[0] == cat[0] && p[1] == cat[1])
			return true;
	return false;
}

enum ou_code_problem { OU_CODE_OK, OU_CODE_FORMAT, OU_CODE_CATEGORY, OU_CODE_TYPE, OU_CODE_MISFIT };

/* Classify a 学校标识码 against an optional school type. */
static enum ou_code_problem ou_code_check(const char *code, const char *school_type)
{
	if (!code || !ou_digits(code, 10))
		return OU_CODE_FORMAT;
	bool known = false;
	for (size_t i = 0; i < sizeof(ou_categories) / sizeof(*ou_categories); i++)
		if (code[0] == ou_categories[i][0] && code[1] == ou_categories[i][1])
			known = true;
	if (!known)
		return OU_CODE_CATEGORY;
	if (!school_type)
		return OU_CODE_OK;
	const struct ou_type *t = ou_type_find(school_type);
	if (!t)
		return OU_CODE_TYPE;
	return ou_category_in(code, t->categories) ? OU_CODE_OK : OU_CODE_MISFIT;
}

/* Check a 学校标识码 (Chinese message in *why on failure). */
bool ou_school_code_valid(const char *code, const char *school_type, const char **why)
{
	const char *msg = NULL;
	switch (ou_code_check(code, school_type)) {
	case OU_CODE_OK:
		return true;
	case OU_CODE_FORMAT:
		msg = "学校标识码必须是 10 位数字。";
		break;
	case OU_CODE_CATEGORY:
		msg = "学校标识码的前两位不是有效的学校类别码。";
		break;
	case OU_CODE_TYPE:
		msg = "办学类型代码无效。";
		break;
	case OU_CODE_MISFIT:
		msg = "学校标识码的类别码与办学类型不符。";
		break;
	}
	if (why)
		*why = msg;
	return false;
}

/* ---- text checks ---- */

/* Length in code points of the UTF-8 text s[0..n), or -1 when it is not
 * valid UTF-8 (overlong forms, surrogates, values above U+10FFFF and
 * truncated sequences are invalid). */
static long ou_utf8_len(const unsigned char *s, size_t n)
{
	long count = 0;
	size_t i = 0;
	while (i < n) {
		unsigned c = s[i];
		size_t len;
		unsigned min, cp;
		if (c < 0x80) {
			i++;
			count++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			len = 2, min = 0x80, cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			len = 3, min = 0x800, cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			len = 4, min = 0x10000, cp = c & 0x07;
		} else {
			return -1;
		}
		if (n - i < len)
			return -1;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += len;
		count++;
	}
	return count;
}

/* True when valid UTF-8 text contains a C0 or C1 control character or DEL. */
static bool ou_has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return true;
	}
	return false;
}

/* A short printable copy of `s` for messages: at most 40 characters, invalid
 * bytes and control characters shown as '?'. Allocated in the arena. */
static const char *ou_show(struct arena *a, const char *s)
{
	if (!s)
		return "";
	size_t n = strlen(s), o = 0;
	char *d = arena_alloc(a, (n < 160 ? n : 160) + 8);
	int chars = 0;
	size_t i = 0;
	while (i < n) {
		if (chars == 40) {
			memcpy(d + o, "...", 3);
			o += 3;
			break;
		}
		unsigned c = (unsigned char)s[i];
		size_t len = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
		if (i + len > n || ou_utf8_len((const unsigned char *)s + i, len) != 1 ||
		    c < 0x20 || c == 0x7f || (c == 0xc2 && (unsigned char)s[i + 1] <= 0x9f)) {
			d[o++] = '?';
			i++;
		} else {
			memcpy(d + o, s + i, len);
			o += len;
			i += len;
		}
		chars++;
	}
	d[o] = '\0';
	return d;
}

/* ---- validation ---- */

/* Write a fixed message in the chosen language into err; returns false. */
static bool ou_say(char *err, size_t errlen, bool en, const char *zh, const char *english)
{
	snprintf(err, errlen, "%s", en ? english : zh);
	return false;
}

/* True for "city", "county", "school". */
static bool ou_kind_valid(const char *kind)
{
	return kind && (strcmp(kind, "city") == 0 || strcmp(kind, "county") == 0 ||
	                strcmp(kind, "school") == 0);
}

/* Check the name: 1..100 characters of valid UTF-8 without control characters. */
static bool ou_check_name(const char *name, bool en, char *err, size_t errlen)
{
	if (!name || !*name)
		return ou_say(err, errlen, en, "名称不能为空。", "name is empty");
	long n = ou_utf8_len((const unsigned char *)name, strlen(name));
	if (n < 0)
		return ou_say(err, errlen, en, "名称含有无效的字符编码（须为 UTF-8）。",
		              "name is not valid UTF-8");
	if (n > OU_NAME_MAX)
		return ou_say(err, errlen, en, "名称最多 100 个字。",
		              "name is longer than 100 characters");
	if (ou_has_control(name))
		return ou_say(err, errlen, en, "名称不能包含控制字符。",
		              "name contains control characters");
	return true;
}

/* Check the code of a unit of the given (valid) kind against its type. */
static bool ou_check_code(const struct org_unit *u, bool en, char *err, size_t errlen)
{
	if (!u->code || !*u->code)
		return ou_say(err, errlen, en, "代码不能为空。", "code is empty");
	if (strcmp(u->kind, "school") != 0) {
		if (!ou_digits(u->code, 6))
			return ou_say(err, errlen, en,
			              "市、区县的代码必须是 6 位数字（行政区划代码）。",
			              "a city or county code must be 6 digits (division code)");
		return true;
	}
	switch (ou_code_check(u->code, u->school_type)) {
	case OU_CODE_OK:
		return true;
	case OU_CODE_FORMAT:
		return ou_say(err, errlen, en, "学校标识码必须是 10 位数字。",
		              "a school code (学校标识码) must be 10 digits");
	case OU_CODE_CATEGORY:
		return ou_say(err, errlen, en, "学校标识码的前两位不是有效的学校类别码。",
		              "the first two digits of the school code are not a known school "
		              "category");
	case OU_CODE_TYPE:
		return true; /* the type itself is reported by the caller */
	case OU_CODE_MISFIT:
		break;
	}
	const struct ou_type *t = ou_type_find(u->school_type);
	snprintf(err, errlen,
	         en ? "school code category %.2s does not fit school_type %s (%s): expected %s"
	            : "学校标识码的类别码 %.2s 与办学类型 %s（%s）不符，应以 %s 开头。",
	         u->code, t->code, t->name, t->categories);
	return false;
}

/* Check the school attributes of a unit of kind school. */
static bool ou_check_school(const struct org_unit *u, bool en, char *err, size_t errlen)
{
	if (!u->school_type)
		return ou_say(err, errlen, en, "请选择办学类型。", "school_type is required");
	if (!ou_type_find(u->school_type)) {
		snprintf(err, errlen, en ? "unknown school_type '%s'" : "办学类型代码“%s”无效。",
		         u->school_type);
		return false;
	}
	if (!u->ownership)
		return ou_say(err, errlen, en, "请选择办学性质（公办或民办）。",
		              "ownership is required (public/private, 公办/民办)");
	if (!ou_ownership_name(u->ownership))
		return ou_say(err, errlen, en, "办学性质必须是公办或民办。",
		              "ownership must be public or private (公办/民办)");
	if (!u->urban_rural)
		return ou_say(err, errlen, en, "请选择城乡类型。", "urban_rural is required");
	if (!ou_ur_find(u->urban_rural)) {
		snprintf(err, errlen, en ? "unknown urban_rural '%s'" : "城乡类型代码“%s”无效。",
		         u->urban_rural);
		return false;
	}
	bool kg = strcmp(u->school_type, "111") == 0;
	if (kg && u->inclusive != 0 && u->inclusive != 1)
		return ou_say(err, errlen, en, "幼儿园须注明是否为普惠性幼儿园。",
		              "a kindergarten (111) needs inclusive (1/0, 是/否)");
	if (!kg && u->inclusive != -1)
		return ou_say(err, errlen, en, "只有幼儿园才有普惠性属性。",
		              "inclusive applies only to kindergartens (111)");
	bool point = strcmp(u->school_type, "218") == 0;
	if (point && !u->center_code)
		return ou_say(err, errlen, en, "教学点须填写中心校的学校标识码。",
		              "a 教学点 (218) needs center_code");
	if (!point && u->center_code)
		return ou_say(err, errlen, en, "只有教学点才有中心校。",
		              "center_code applies only to 教学点 (218)");
	if (point && ou_code_check(u->center_code, NULL) != OU_CODE_OK)
		return ou_say(err, errlen, en, "中心校的学校标识码无效。",
		              "center_code is not a valid school code");
	if (point && u->code && strcmp(u->center_code, u->code) == 0)
		return ou_say(err, errlen, en, "教学点不能以自身为中心校。",
		              "a 教学点 cannot be its own center");
	return true;
}

/* Check every field of a unit; the message is Chinese or English. */
static bool ou_check(const struct org_unit *u, bool en, char *err, size_t errlen)
{
	if (!ou_kind_valid(u->kind))
		return ou_say(err, errlen, en, "级别必须是市、区县或学校。",
		              "kind must be city, county or school");
	bool school = strcmp(u->kind, "school") == 0;
	if (!ou_check_code(u, en, err, errlen) || !ou_check_name(u->name, en, err, errlen))
		return false;
	if (strcmp(u->kind, "city") == 0 && u->parent_code)
		return ou_say(err, errlen, en, "市级单位没有上级单位。",
		              "a city has no parent_code");
	if (strcmp(u->kind, "city") != 0 && !u->parent_code)
		return ou_say(err, errlen, en, "请填写上级单位代码。", "parent_code is required");
	if (!school) {
		if (u->school_type || u->ownership || u->urban_rural || u->center_code ||
		    u->inclusive != -1)
			return ou_say(err, errlen, en,
			              "只有学校才有办学类型、办学性质、普惠性、城乡类型和中心校。",
			              "only schools have school_type, ownership, inclusive, "
			              "urban_rural and center_code");
		return true;
	}
	return ou_check_school(u, en, err, errlen);
}

/* Check a unit before storing it (Chinese message). */
bool ou_validate(const struct org_unit *u, char *err, size_t errlen)
{
	return ou_check(u, false, err, errlen);
}

/* ---- reading ---- */

/* Column text copied into the arena, NULL for SQL NULL. */
static const char *ou_col(sqlite3_stmt *st, struct arena *a, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return arena_strdup(a, db_text(st, col));
}

/* Fill a struct org_unit from a row of the unit+parent+center select. */
static void ou_from_row(sqlite3_stmt *st, struct arena *a, struct org_unit *u)
{
	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(st, 0);
	u->code = ou_col(st, a, 1);
	u->name = ou_col(st, a, 2);
	u->kind = ou_col(st, a, 3);
	u->parent_id = sqlite3_column_int64(st, 4);
	u->parent_code = ou_col(st, a, 5);
	u->parent_name = ou_col(st, a, 6);
	u->school_type = ou_col(st, a, 7);
	u->ownership = ou_col(st, a, 8);
	u->inclusive = sqlite3_column_type(st, 9) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 9);
	u->urban_rural = ou_col(st, a, 10);
	u->center_id = sqlite3_column_int64(st, 11);
	u->center_code = ou_col(st, a, 12);
	u->active = sqlite3_column_int(st, 13) != 0;
}

/* Step a single-row select: 1 found, 0 not found, -1 error. */
static int ou_read_one(struct db *db, sqlite3_stmt *st, struct arena *a, struct org_unit *out)
{
	int rc = sqlite3_step(st), found = 0;
	if (rc == SQLITE_ROW) {
		ou_from_row(st, a, out);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		log_error("org unit read: %s", sqlite3_errmsg(db->h));
		found = -1;
	}
	db_done(st);
	return found;
}

/* Step a multi-row select into an arena array; 0 or -1. */
static int ou_read_all(struct db *db, sqlite3_stmt *st, struct arena *a, struct org_unit **out,
                       size_t *n)
{
	size_t cap = 32, count = 0;
	struct org_unit *list = arena_alloc(a, cap * sizeof(*list));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			struct org_unit *bigger = arena_alloc(a, 2 * cap * sizeof(*list));
			memcpy(bigger, list, cap * sizeof(*list));
			list = bigger;
			cap *= 2;
		}
		ou_from_row(st, a, &list[count++]);
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("org unit list: %s", sqlite3_errmsg(db->h));
		return -1;
	}
	*out = list;
	*n = count;
	return 0;
}

/* Load a unit by code. */
int ou_get_by_code(struct db *db, struct arena *a, const char *code, struct org_unit *out)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT o.id, o.code, o.name, o.kind, o.parent_id, p.code, p.name, o.school_type,"
	        " o.ownership, o.inclusive, o.urban_rural, o.center_id, c.code, o.active"
	        " FROM org_unit o LEFT JOIN org_unit p ON p.id = o.parent_id"
	        " LEFT JOIN org_unit c ON c.id = o.center_id WHERE o.code = ?1");
	if (!st)
		return -1;
	db_bind_text(st, 1, code, -1);
	return ou_read_one(db, st, a, out);
}

/* Load a unit by id. */
int ou_get(struct db *db, struct arena *a, long long id, struct org_unit *out)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT o.id, o.code, o.name, o.kind, o.parent_id, p.code, p.name, o.school_type,"
	        " o.ownership, o.inclusive, o.urban_rural, o.center_id, c.code, o.active"
	        " FROM org_unit o LEFT JOIN org_unit p ON p.id = o.parent_id"
	        " LEFT JOIN org_unit c ON c.id = o.center_id WHERE o.id = ?1");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	return ou_read_one(db, st, a, out);
}

/* Is target the scope unit or below it? The tree has at most three levels,
 * so the target, its parent and its grandparent decide (primary-key lookups). */
bool ou_in_scope(struct db *db, long long scope_id, long long target_id)
{
	if (scope_id <= 0 || target_id <= 0)
		return false;
	sqlite3_stmt *st =
	    db_prep(db, "SELECT 1 FROM org_unit t LEFT JOIN org_unit p ON p.id = t.parent_id"
	                " WHERE t.id = ?2 AND (t.id = ?1 OR t.parent_id = ?1 OR p.parent_id = ?1)");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, scope_id);
	sqlite3_bind_int64(st, 2, target_id);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_error("scope check: %s", sqlite3_errmsg(db->h));
	return rc == SQLITE_ROW;
}

/* Units directly below parent_id (0: top level), by code. */
int ou_children(struct db *db, struct arena *a, long long parent_id, struct org_unit **out,
                size_t *n)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT o.id, o.code, o.name, o.kind, o.parent_id, p.code, p.name, o.school_type,"
	        " o.ownership, o.inclusive, o.urban_rural, o.center_id, c.code, o.active"
	        " FROM org_unit o LEFT JOIN org_unit p ON p.id = o.parent_id"
	        " LEFT JOIN org_unit c ON c.id = o.center_id"
	        " WHERE o.parent_id IS nullif(?1, 0) ORDER BY o.code");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, parent_id);
	return ou_read_all(db, st, a, out, n);
}

/* Schools at or below scope_id, by county code then school code. The OR
 * terms are each served by an index (the unit itself, its children, its
 * grandchildren), so a county does not scan the whole city. */
int ou_schools(struct db *db, struct arena *a, long long scope_id, struct org_unit **out, size_t *n)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT o.id, o.code, o.name, o.kind, o.parent_id, p.code, p.name, o.school_type,"
	        " o.ownership, o.inclusive, o.urban_rural, o.center_id, c.code, o.active"
	        " FROM org_unit o JOIN org_unit p ON p.id = o.parent_id"
	        " LEFT JOIN org_unit c ON c.id = o.center_id"
	        " WHERE o.kind = 'school' AND (o.id = ?1 OR o.parent_id = ?1 OR o.parent_id IN"
	        " (SELECT id FROM org_unit WHERE parent_id = ?1))"
	        " ORDER BY p.code, o.code");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, scope_id);
	return ou_read_all(db, st, a, out, n);
}

/* ---- writing ---- */

/* What the checks need to know about a unit referred to by code. */
struct ou_ref {
	long long id;
	char kind[8];
	char parent_code[40];
	char school_type[8];
	bool active;
};

/* Look a unit up by code inside the current transaction: 1 found, 0 not, -1 error. */
static int ou_lookup(struct db *db, const char *code, struct ou_ref *r)
{
	sqlite3_stmt *st = db_prep(
	    db, "SELECT o.id, o.kind, p.code, o.school_type, o.active"
	        " FROM org_unit o LEFT JOIN org_unit p ON p.id = o.parent_id WHERE o.code = ?1");
	if (!st)
		return -1;
	db_bind_text(st, 1, code, -1);
	int rc = sqlite3_step(st), found = 0;
	memset(r, 0, sizeof(*r));
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		snprintf(r->kind, sizeof(r->kind), "%s", db_text(st, 1));
		snprintf(r->parent_code, sizeof(r->parent_code), "%s", db_text(st, 2));
		snprintf(r->school_type, sizeof(r->school_type), "%s", db_text(st, 3));
		r->active = sqlite3_column_int(st, 4) != 0;
		found = 1;
	} else if (rc != SQLITE_DONE) {
		log_error("org unit lookup: %s", sqlite3_errmsg(db->h));
		found = -1;
	}
	db_done(st);
	return found;
}

/* Check that the unit `parent` (code `pcode`) may be the parent of a unit of `kind`. */
static bool ou_parent_ok(const char *kind, const char *pcode, const char *parent_kind, bool en,
                         char *err, size_t errlen)
{
	const char *want = strcmp(kind, "county") == 0 ? "city" : "county";
	if (strcmp(parent_kind, want) == 0)
		return true;
	if (strcmp(kind, "county") == 0)
		snprintf(err, errlen,
		         en ? "parent %s is a %s; a county's parent must be a city"
		            : "上级单位 %s 不是市级单位；区县的上级单位必须是市。",
		         pcode, parent_kind);
	else
		snprintf(err, errlen,
		         en ? "parent %s is a %s; a school's parent must be a county"
		            : "上级单位 %s 不是区县；学校的上级单位必须是区县。",
		         pcode, parent_kind);
	return false;
}

/* Check that a unit (kind, type, county) may be the 中心校 of a 教学点 in `county`. */
static bool ou_center_ok(const char *ccode, const char *ckind, const char *ctype,
                         const char *ccounty, const char *county, bool en, char *err, size_t errlen)
{
	if (strcmp(ckind, "school") != 0) {
		snprintf(err, errlen,
		         en ? "center_code %s is not a school" : "中心校 %s 不是学校。", ccode);
		return false;
	}
	if (!ou_center_type(ctype)) {
		const char *tn = ou_school_type_name(ctype);
		snprintf(
		    err, errlen,
		    en ? "center %s is a %s school; a center must be " OU_CENTER_TYPES
		       : "中心校 %s 是%s（%s），中心校须为小学、九年一贯制或十二年一贯制学校。",
		    ccode, ctype, tn ? tn : "?");
		return false;
	}
	if (!county || strcmp(ccounty, county) != 0) {
		snprintf(err, errlen,
		         en ? "center %s belongs to county %s, not %s"
		            : "中心校 %s 属于区县 %s，与教学点所在区县 %s 不同。",
		         ccode, ccounty, county ? county : "-");
		return false;
	}
	return true;
}

/* Check a center given by code against the database; its id in *center_id. */
static bool ou_center_db(struct db *db, const struct org_unit *u, long long *center_id, char *err,
                         size_t errlen)
{
	struct ou_ref c;
	int r = ou_lookup(db, u->center_code, &c);
	if (r < 0) {
		snprintf(err, errlen, "保存失败，请稍后再试。");
		return false;
	}
	if (r == 0) {
		snprintf(err, errlen, "中心校“%s”不存在。", u->center_code);
		return false;
	}
	if (!ou_center_ok(u->center_code, c.kind, c.school_type, c.parent_code, u->parent_code,
	                  false, err, errlen))
		return false;
	*center_id = c.id;
	return true;
}

/* The code of one 教学点 whose center is `id` (into out), or false when none. */
static bool ou_point_of(struct db *db, long long id, char *out, size_t outlen)
{
	sqlite3_stmt *st =
	    db_prep(db, "SELECT code FROM org_unit WHERE center_id = ?1 ORDER BY code LIMIT 1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	bool found = sqlite3_step(st) == SQLITE_ROW;
	if (found)
		snprintf(out, outlen, "%s", db_text(st, 0));
	db_done(st);
	return found;
}

/* Append "key":"value" (JSON-escaped; invalid bytes as '?') to a JSON object
 * being built in b: the first member opens it with '{', later ones add ','. */
static void ou_json(struct buf *b, const char *key, const char *val)
{
	buf_putc(b, b->len ? ',' : '{');
	buf_printf(b, "\"%s\":", key);
	if (!val) {
		buf_puts(b, "null");
		return;
	}
	buf_putc(b, '"');
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if (*p == '"' || *p == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, (char)*p);
		} else if (*p < 0x20 || *p == 0x7f) {
			buf_printf(b, "\\u%04x", *p);
		} else if (*p >= 0x80) {
			size_t len = *p < 0xe0 ? 2 : *p < 0xf0 ? 3 : 4;
			size_t avail = strnlen((const char *)p, len);
			if (avail == len && ou_utf8_len(p, len) == 1) {
				buf_append(b, p, len);
				p += len - 1;
			} else {
				buf_putc(b, '?');
			}
		} else {
			buf_putc(b, (char)*p);
		}
	}
	buf_putc(b, '"');
}

/* The audit detail of a unit's attributes, as a JSON object in b. */
static void ou_detail(struct buf *b, const struct org_unit *u, const char *op)
{
	buf_reset(b);
	if (op)
		ou_json(b, "op", op);
	ou_json(b, "name", u->name);
	ou_json(b, "kind", u->kind);
	ou_json(b, "parent", u->parent_code);
	if (u->school_type) {
		ou_json(b, "school_type", u->school_type);
		ou_json(b, "ownership", u->ownership);
		ou_json(b, "inclusive", u->inclusive == 1 ? "1" : u->inclusive == 0 ? "0" : NULL);
		ou_json(b, "urban_rural", u->urban_rural);
		ou_json(b, "center", u->center_code);
	}
	buf_putc(b, '}');
}

/* Bind the attribute columns shared by insert and update (?2 name, ?3 type,
 * ?4 ownership, ?5 inclusive, ?6 urban_rural, ?7 center_id). */
static void ou_bind_attrs(sqlite3_stmt *st, const struct org_unit *u, long long center_id)
{
	db_bind_text(st, 2, u->name, -1);
	db_bind_text(st, 3, u->school_type, -1);
	db_bind_text(st, 4, u->ownership, -1);
	if (u->inclusive == 0 || u->inclusive == 1)
		sqlite3_bind_int(st, 5, u->inclusive);
	else
		sqlite3_bind_null(st, 5);
	db_bind_text(st, 6, u->urban_rural, -1);
	if (center_id)
		sqlite3_bind_int64(st, 7, center_id);
	else
		sqlite3_bind_null(st, 7);
}

/* Insert a unit (inside a transaction): new id, 0 on a duplicate code, -1 on error.
 * `active` is 1, 0, or -1 for the default (active). */
static long long ou_insert(struct db *db, const struct org_unit *u, long long parent_id,
                           long long center_id, int active)
{
	sqlite3_stmt *st = db_prep(
	    db, "INSERT INTO org_unit(code, name, school_type, ownership, inclusive, urban_rural,"
	        " center_id, kind, parent_id, active) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,"
	        " coalesce(?10, 1))");
	if (!st)
		return -1;
	db_bind_text(st, 1, u->code, -1);
	ou_bind_attrs(st, u, center_id);
	db_bind_text(st, 8, u->kind, -1);
	if (parent_id)
		sqlite3_bind_int64(st, 9, parent_id);
	else
		sqlite3_bind_null(st, 9);
	if (active >= 0)
		sqlite3_bind_int(st, 10, active);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return 0;
	if (rc != SQLITE_DONE) {
		log_error("org unit insert %s: %s", u->code, sqlite3_errmsg(db->h));
		return -1;
	}
	return sqlite3_last_insert_rowid(db->h);
}

/* Update name and attributes of unit `id` (inside a transaction); `active`
 * is 1, 0, or -1 to keep it. False on error. */
static bool ou_store(struct db *db, long long id, const struct org_unit *u, long long center_id,
                     int active)
{
	sqlite3_stmt *st = db_prep(
	    db, "UPDATE org_unit SET name = ?2, school_type = ?3, ownership = ?4, inclusive = ?5,"
	        " urban_rural = ?6, center_id = ?7, active = coalesce(?8, active) WHERE id = ?1");
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	ou_bind_attrs(st, u, center_id);
	if (active >= 0)
		sqlite3_bind_int(st, 8, active);
	int rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE) {
		log_error("org unit update %s: %s", u->code, sqlite3_errmsg(db->h));
		return false;
	}
	return true;
}

/* Write one audit row "orgunit:CODE" with the unit's attributes as detail. */
static bool ou_audit(struct db *db, const char *actor, const char *action, const char *code,
                     const struct org_unit *u, const char *op)
{
	struct buf detail = BUF_INIT, object = BUF_INIT;
	buf_printf(&object, "orgunit:%s", code);
	if (u)
		ou_detail(&detail, u, op);
	bool ok = audit_log(db, actor, action, object.data, u ? detail.data : NULL);
	buf_free(&detail);
	buf_free(&object);
	return ok;
}

/* Create a unit with its audit row. */
long long ou_create(struct db *db, const struct org_unit *u, const char *actor, char *err,
                    size_t errlen)
{
	long long id = 0, parent_id = 0, center_id = 0;
	if (!ou_check(u, false, err, errlen))
		return 0;
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return 0;
	}
	if (u->parent_code) {
		struct ou_ref p;
		int r = ou_lookup(db, u->parent_code, &p);
		if (r < 0)
			goto fail_db;
		if (r == 0) {
			snprintf(err, errlen, "上级单位“%s”不存在。", u->parent_code);
			goto fail;
		}
		if (!ou_parent_ok(u->kind, u->parent_code, p.kind, false, err, errlen))
			goto fail;
		if (!p.active) {
			snprintf(err, errlen, "上级单位“%s”已停用。", u->parent_code);
			goto fail;
		}
		parent_id = p.id;
	}
	if (u->center_code && !ou_center_db(db, u, &center_id, err, errlen))
		goto fail;
	id = ou_insert(db, u, parent_id, center_id, 1);
	if (id == 0) {
		snprintf(err, errlen, "代码“%s”已存在。", u->code);
		goto fail;
	}
	if (id < 0 || !ou_audit(db, actor, "orgunit.create", u->code, u, NULL) || !db_commit(db))
		goto fail_db;
	return id;
fail_db:
	snprintf(err, errlen, "保存失败，请稍后再试。");
fail:
	db_rollback(db);
	return 0;
}

/* Update name and school attributes; code, kind and parent stay. */
bool ou_update(struct db *db, const struct org_unit *u, const char *actor, char *err, size_t errlen)
{
	struct arena a;
	struct org_unit cur, v;
	long long center_id = 0;
	char point[40];
	bool ok = false;
	arena_init(&a, 4096);
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		goto out;
	}
	int r = u->id ? ou_get(db, &a, u->id, &cur)
	              : (u->code ? ou_get_by_code(db, &a, u->code, &cur) : 0);
	if (r < 0)
		goto fail_db;
	if (r == 0) {
		snprintf(err, errlen, "单位不存在。");
		goto fail;
	}
	v = *u;
	v.id = cur.id;
	v.code = cur.code;
	v.kind = cur.kind;
	v.parent_code = cur.parent_code;
	if (!ou_check(&v, false, err, errlen))
		goto fail;
	if (v.center_code && !ou_center_db(db, &v, &center_id, err, errlen))
		goto fail;
	if (strcmp(v.kind, "school") == 0 && !ou_center_type(v.school_type) &&
	    ou_point_of(db, v.id, point, sizeof(point))) {
		snprintf(
		    err, errlen,
		    "本校是教学点 %s 的中心校，办学类型须为小学、九年一贯制或十二年一贯制学校。",
		    point);
		goto fail;
	}
	if (!ou_store(db, v.id, &v, center_id, -1) ||
	    !ou_audit(db, actor, "orgunit.update", v.code, &v, NULL) || !db_commit(db))
		goto fail_db;
	ok = true;
	goto out;
fail_db:
	snprintf(err, errlen, "保存失败，请稍后再试。");
fail:
	db_rollback(db);
out:
	arena_free(&a);
	return ok;
}

/* Activate or deactivate a unit. */
bool ou_set_active(struct db *db, long long id, bool active, const char *actor, char *err,
                   size_t errlen)
{
	char code[40] = "";
	if (!db_begin_write(db)) {
		snprintf(err, errlen, "系统繁忙，请稍后再试。");
		return false;
	}
	sqlite3_stmt *st = db_prep(db, "SELECT code FROM org_unit WHERE id = ?1");
	if (!st)
		goto fail_db;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(code, sizeof(code), "%s", db_text(st, 0));
	db_done(st);
	if (rc == SQLITE_DONE) {
		snprintf(err, errlen, "单位不存在。");
		goto fail;
	}
	if (rc != SQLITE_ROW)
		goto fail_db;
	st = db_prep(db, "UPDATE org_unit SET active = ?2 WHERE id = ?1");
	if (!st)
		goto fail_db;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, active ? 1 : 0);
	rc = sqlite3_step(st);
	db_done(st);
	if (rc != SQLITE_DONE ||
	    !ou_audit(db, actor, active ? "orgunit.activate" : "orgunit.deactivate", code, NULL,
	              NULL) ||
	    !db_commit(db))
		goto fail_db;
	return true;
fail_db:
	snprintf(err, errlen, "保存失败，请稍后再试。");
fail:
	db_rollback(db);
	return false;
}

/* ---- CSV import ---- */

#define OU_MAX_ROWS 100000L
#define OU_MAX_FIELD 4096
#define OU_MAX_COLUMNS 64
#define OU_MAX_RECORD (OU_MAX_COLUMNS * (OU_MAX_FIELD + 8))

enum ou_col_id {
	C_CODE,
	C_NAME,
	C_PARENT,
	C_KIND,
	C_TYPE,
	C_OWNERSHIP,
	C_INCLUSIVE,
	C_UR,
	C_CENTER,
	C_ACTIVE,
	C_COUNT
};

/* Header names (ASCII case ignored); `active` is accepted too so that
 * `orgunit list` output imports. Columns with an empty name are ignored. */
static const char *const ou_col_names[C_COUNT] = {
    "code",      "name",      "parent_code", "kind",        "school_type",
    "ownership", "inclusive", "urban_rural", "center_code", "active"};

/* One data row of the file and what the checks learn about it. */
struct ou_row {
	long line;
	char *f[C_COUNT]; /* NULL when the column is absent or the field empty */
	struct org_unit u;
	int active;      /* 1, 0, or -1: keep (existing) / active (new) */
	const char *msg; /* the row's error, NULL when good */
	long long id;    /* database id: existing, or after insert */
	bool exists;
	size_t parent_row; /* 1-based index of the parent row in the file, 0 if in the db */
	size_t center_row;
	long long parent_id, center_id; /* database ids when not in the file */
};

/* The state of one import. */
struct ou_import {
	struct arena a;
	const char *fname;
	FILE *errors, *progress;
	/* header */
	bool have_header;
	int colmap[OU_MAX_COLUMNS]; /* header position → column id, -1 for none */
	size_t ncols;
	char *hdr[OU_MAX_COLUMNS];
	/* the record being parsed */
	char *cur[C_COUNT];
	size_t nfields;
	const char *cur_msg;
	bool cur_nonempty;
	/* physical lines */
	long line;       /* the line being fed (1-based) */
	long start_line; /* the line the current record began on */
	bool pending;    /* a record spans into the next line */
	bool line_ended_row, line_content;
	size_t rec_bytes;
	/* rows */
	struct ou_row *rows;
	size_t nrows, cap;
	bool bad, fatal;
	/* code → row index + 1 */
	size_t *hash;
	size_t hsize;
	char chunk[65536]; /* read buffer */
};

/* Report an error that is not tied to a data row and mark the import failed. */
static void ou_imp_error(struct ou_import *im, long line, const char *msg)
{
	if (line > 0)
		fprintf(im->errors, "%s:%ld: %s\n", im->fname, line, msg);
	else
		fprintf(im->errors, "%s: %s\n", im->fname, msg);
	im->bad = true;
}

/* Append a row (growing the malloc'd array); returns it zeroed. */
static struct ou_row *ou_imp_push(struct ou_import *im)
{
	if (im->nrows == im->cap) {
		size_t cap = im->cap ? im->cap * 2 : 256;
		struct ou_row *r = realloc(im->rows, cap * sizeof(*r));
		if (!r) {
			log_error("out of memory reading the CSV file");
			abort();
		}
		im->rows = r;
		im->cap = cap;
	}
	struct ou_row *r = &im->rows[im->nrows++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Forget the record being parsed. */
static void ou_imp_reset_record(struct ou_import *im)
{
	memset(im->cur, 0, sizeof(im->cur));
	im->nfields = 0;
	im->cur_msg = NULL;
	im->cur_nonempty = false;
	im->rec_bytes = 0;
}

/* libcsv field callback: keep the header names, or the fields of known columns. */
static void ou_imp_field(void *field, size_t len, void *data)
{
	struct ou_import *im = data;
	size_t pos = im->nfields++;
	const char *s = field ? field : "";
	if (len)
		im->cur_nonempty = true;
	if (len > OU_MAX_FIELD) {
		if (!im->cur_msg)
			im->cur_msg = arena_printf(&im->a, "field %zu is longer than %d bytes",
			                           pos + 1, OU_MAX_FIELD);
		return;
	}
	if (len && memchr(s, '\0', len)) {
		if (!im->cur_msg)
			im->cur_msg =
			    arena_printf(&im->a, "field %zu contains a NUL byte", pos + 1);
		return;
	}
	if (!im->have_header) {
		if (pos < OU_MAX_COLUMNS)
			im->hdr[pos] = arena_strndup(&im->a, s, len);
		return;
	}
	if (pos < im->ncols && im->colmap[pos] >= 0 && len)
		im->cur[im->colmap[pos]] = arena_strndup(&im->a, s, len);
}

/* Check the header row and build the column map; false when unusable. */
static bool ou_imp_header(struct ou_import *im)
{
	bool ok = true;
	int seen[C_COUNT];
	for (int c = 0; c < C_COUNT; c++)
		seen[c] = -1;
	if (im->nfields > OU_MAX_COLUMNS) {
		ou_imp_error(im, im->start_line, "too many columns in the header");
		return false;
	}
	if (im->cur_msg) {
		ou_imp_error(im, im->start_line, im->cur_msg);
		return false;
	}
	im->ncols = im->nfields;
	for (size_t i = 0; i < im->ncols; i++) {
		const char *h = im->hdr[i] ? im->hdr[i] : "";
		im->colmap[i] = -1;
		for (int c = 0; c < C_COUNT; c++)
			if (strcasecmp(h, ou_col_names[c]) == 0)
				im->colmap[i] = c;
		int c = im->colmap[i];
		if (c < 0 && !*h)
			continue; /* an unnamed column (spreadsheets add them): ignored */
		if (c < 0) {
			ou_imp_error(im, im->start_line,
			             arena_printf(&im->a, "unknown column '%s' in the header",
			                          ou_show(&im->a, h)));
			ok = false;
		} else if (seen[c] >= 0) {
			ou_imp_error(im, im->start_line,
			             arena_printf(&im->a, "column '%s' appears twice in the header",
			                          ou_col_names[c]));
			ok = false;
		} else {
			seen[c] = (int)i;
		}
	}
	static const int required[] = {C_CODE, C_NAME, C_PARENT};
	for (size_t k = 0; k < sizeof(required) / sizeof(*required); k++)
		if (seen[required[k]] < 0) {
			ou_imp_error(im, im->start_line,
			             arena_printf(&im->a, "missing column '%s' in the header",
			                          ou_col_names[required[k]]));
			ok = false;
		}
	return ok;
}

/* libcsv record callback: the header, or one data row. */
static void ou_imp_record(int c, void *data)
{
	struct ou_import *im = data;
	(void)c;
	im->line_ended_row = true;
	if (im->fatal) {
		ou_imp_reset_record(im);
		return;
	}
	if (!im->have_header) {
		im->have_header = true;
		if (!ou_imp_header(im))
			im->fatal = true;
		ou_imp_reset_record(im);
		return;
	}
	if (!im->cur_nonempty && !im->cur_msg) { /* a blank line or a row of empty fields */
		ou_imp_reset_record(im);
		return;
	}
	if ((long)im->nrows >= OU_MAX_ROWS) {
		ou_imp_error(im, im->start_line,
		             arena_printf(&im->a, "too many rows (the limit is %ld)", OU_MAX_ROWS));
		im->fatal = true;
		ou_imp_reset_record(im);
		return;
	}
	struct ou_row *r = ou_imp_push(im);
	r->line = im->start_line;
	memcpy(r->f, im->cur, sizeof(r->f));
	r->msg = im->cur_msg;
	if (!r->msg && im->nfields != im->ncols)
		r->msg =
		    arena_printf(&im->a, "expected %zu fields, found %zu", im->ncols, im->nfields);
	if (im->progress && im->nrows % 1000 == 0)
		fprintf(im->progress, "%s: read %zu rows\n", im->fname, im->nrows);
	ou_imp_reset_record(im);
}

/* Feed one piece of a physical line (ending with '\n' or at a chunk end) to
 * the parser; recovers from a malformed line by skipping to its end. */
static void ou_imp_feed(struct ou_import *im, struct csv_parser *p, const char *s, size_t n,
                        bool *skip)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			im->line_content = true;
	if (*skip || im->fatal)
		return;
	im->rec_bytes += n;
	if (im->rec_bytes > OU_MAX_RECORD) {
		ou_imp_error(im, im->start_line, "record too long");
		im->fatal = true;
		return;
	}
	if (csv_parse(p, s, n, ou_imp_field, ou_imp_record, im) == n)
		return;
	ou_imp_error(im, im->line,
	             arena_printf(&im->a, "malformed CSV (%s): check the quotes on this line",
	                          csv_strerror(csv_error(p))));
	csv_free(p);
	csv_init(p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
	ou_imp_reset_record(im);
	im->pending = false;
	*skip = true;
}

/* Read the whole stream into im->rows (header checked). False on a fatal problem. */
static bool ou_imp_read(struct ou_import *im, FILE *in)
{
	struct csv_parser p;
	bool first = true, skip = false, at_line_start = true;
	size_t n;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) {
		ou_imp_error(im, 0, "cannot initialise the CSV parser");
		return false;
	}
	im->line = 1;
	while (!im->fatal && (n = fread(im->chunk, 1, sizeof(im->chunk), in)) > 0) {
		const char *s = im->chunk;
		if (first && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
			s += 3;
			n -= 3;
		}
		first = false;
		while (n > 0 && !im->fatal) {
			if (at_line_start) {
				if (!im->pending)
					im->start_line = im->line;
				im->line_ended_row = im->line_content = false;
				at_line_start = false;
			}
			const char *nl = memchr(s, '\n', n);
			size_t len = nl ? (size_t)(nl - s) + 1 : n;
			ou_imp_feed(im, &p, s, len, &skip);
			if (nl) {
				if (im->line_ended_row)
					im->pending = false;
				else if (im->line_content && !skip)
					im->pending = true;
				im->line++;
				at_line_start = true;
				skip = false;
			}
			s += len;
			n -= len;
		}
	}
	if (ferror(in)) {
		ou_imp_error(im, 0, "read error");
		im->fatal = true;
	}
	if (!im->fatal && csv_fini(&p, ou_imp_field, ou_imp_record, im) != 0)
		ou_imp_error(im, im->start_line,
		             "malformed CSV: a quoted field is not closed at the end of the file");
	csv_free(&p);
	if (!im->fatal && !im->have_header) {
		ou_imp_error(im, 0, "empty file: the first line must be the header");
		im->fatal = true;
	}
	return !im->fatal;
}

/* FNV-1a hash of a code. */
static size_t ou_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return (size_t)h;
}

/* Find the row index + 1 of a code in the file, 0 if absent. */
static size_t ou_imp_find(struct ou_import *im, const char *code)
{
	for (size_t i = ou_hash(code) & (im->hsize - 1); im->hash[i]; i = (i + 1) & (im->hsize - 1))
		if (strcmp(im->rows[im->hash[i] - 1].u.code, code) == 0)
			return im->hash[i];
	return 0;
}

/* Add row k (0-based) to the code table; returns the earlier row's index + 1
 * when the code is already there. */
static size_t ou_imp_add(struct ou_import *im, size_t k)
{
	const char *code = im->rows[k].u.code;
	size_t i = ou_hash(code) & (im->hsize - 1);
	for (; im->hash[i]; i = (i + 1) & (im->hsize - 1))
		if (strcmp(im->rows[im->hash[i] - 1].u.code, code) == 0)
			return im->hash[i];
	im->hash[i] = k + 1;
	return 0;
}

/* Parse a yes/no column: 1, 0, -1 for empty, -2 for anything else. */
static int ou_yes_no(const char *s)
{
	if (!s)
		return -1;
	if (strcmp(s, "1") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "是") == 0)
		return 1;
	if (strcmp(s, "0") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "否") == 0)
		return 0;
	return -2;
}

/* Turn the text fields of a row into a unit and check it on its own. */
static void ou_imp_row_fields(struct ou_import *im, struct ou_row *r)
{
	struct arena *a = &im->a;
	char err[256];
	for (int c = 0; c < C_COUNT; c++)
		if (r->f[c] && ou_utf8_len((const unsigned char *)r->f[c], strlen(r->f[c])) < 0) {
			r->msg = arena_printf(a,
			                      "column '%s' is not valid UTF-8 (save the file as "
			                      "\"CSV UTF-8\")",
			                      ou_col_names[c]);
			return;
		}
	struct org_unit *u = &r->u;
	const char *pre = r->f[C_CODE] ? arena_printf(a, "%s: ", ou_show(a, r->f[C_CODE])) : "";
	u->code = r->f[C_CODE];
	u->name = r->f[C_NAME];
	u->parent_code = r->f[C_PARENT];
	u->school_type = r->f[C_TYPE];
	u->urban_rural = r->f[C_UR];
	u->center_code = r->f[C_CENTER];
	u->ownership = NULL;
	const char *own = r->f[C_OWNERSHIP];
	if (own) {
		if (strcasecmp(own, "public") == 0 || strcmp(own, "公办") == 0)
			u->ownership = "public";
		else if (strcasecmp(own, "private") == 0 || strcmp(own, "民办") == 0)
			u->ownership = "private";
		else {
			r->msg = arena_printf(
			    a, "%sownership must be public/private (公办/民办), not '%s'", pre,
			    ou_show(a, own));
			return;
		}
	}
	u->inclusive = ou_yes_no(r->f[C_INCLUSIVE]);
	if (u->inclusive == -2) {
		r->msg = arena_printf(a, "%sinclusive must be 1/0, yes/no or 是/否, not '%s'", pre,
		                      ou_show(a, r->f[C_INCLUSIVE]));
		return;
	}
	r->active = ou_yes_no(r->f[C_ACTIVE]);
	if (r->active == -2) {
		r->msg = arena_printf(a, "%sactive must be 1/0, yes/no or 是/否, not '%s'", pre,
		                      ou_show(a, r->f[C_ACTIVE]));
		return;
	}
	const char *k = r->f[C_KIND];
	if (!k)
		u->kind = u->school_type ? "school" : u->parent_code ? "county" : "city";
	else if (strcasecmp(k, "city") == 0 || strcmp(k, "市") == 0)
		u->kind = "city";
	else if (strcasecmp(k, "county") == 0 || strcmp(k, "区县") == 0 || strcmp(k, "县") == 0 ||
	         strcmp(k, "区") == 0)
		u->kind = "county";
	else if (strcasecmp(k, "school") == 0 || strcmp(k, "学校") == 0)
		u->kind = "school";
	else {
		r->msg = arena_printf(a, "%skind must be city, county or school, not '%s'", pre,
		                      ou_show(a, k));
		return;
	}
	if (!u->code) {
		r->msg = "code is empty";
		return;
	}
	if (!ou_check(u, true, err, sizeof(err)))
		r->msg = arena_printf(a, "%s: %s", ou_show(a, u->code), err);
}

/* The unit's kind/parent/type as the import will leave them, for a code in
 * the file (row) or the database (ref). */
struct ou_final {
	const char *kind, *county, *type;
	bool found, unknown; /* unknown: the row in the file is itself bad */
	struct ou_ref ref;   /* the database's answer, which the pointers may refer to */
};

/* Resolve a code against the file first, then the database. -1 on a database error. */
static int ou_imp_resolve(struct db *db, struct ou_import *im, const char *code, struct ou_final *f,
                          size_t *row, long long *id)
{
	memset(f, 0, sizeof(*f));
	*row = ou_imp_find(im, code);
	*id = 0;
	if (*row) {
		struct ou_row *r = &im->rows[*row - 1];
		f->found = true;
		f->unknown = r->msg != NULL;
		f->kind = r->u.kind;
		f->county = r->u.parent_code;
		f->type = r->u.school_type;
		return 0;
	}
	int rc = ou_lookup(db, code, &f->ref);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		f->found = true;
		f->kind = f->ref.kind;
		f->county = f->ref.parent_code;
		f->type = f->ref.school_type;
		*id = f->ref.id;
	}
	return 0;
}

/* Check a row against the database and the rest of the file (in the write
 * transaction). -1 on a database error. */
static int ou_imp_row_refs(struct db *db, struct ou_import *im, struct ou_row *r)
{
	struct arena *a = &im->a;
	struct org_unit *u = &r->u;
	const char *code = ou_show(a, u->code);
	char err[256];
	struct ou_ref cur;
	int rc = ou_lookup(db, u->code, &cur);
	if (rc < 0)
		return -1;
	if (rc == 1) {
		r->exists = true;
		r->id = cur.id;
		if (strcmp(cur.kind, u->kind) != 0) {
			r->msg = arena_printf(
			    a, "%s already exists as a %s; its kind cannot change", code, cur.kind);
			return 0;
		}
		if (strcmp(cur.parent_code, u->parent_code ? u->parent_code : "") != 0) {
			r->msg = arena_printf(
			    a, "%s already belongs to %s; an import cannot move it to %s", code,
			    cur.parent_code[0] ? cur.parent_code : "(none)",
			    u->parent_code ? ou_show(a, u->parent_code) : "(none)");
			return 0;
		}
	}
	struct ou_final f;
	if (u->parent_code) {
		if (ou_imp_resolve(db, im, u->parent_code, &f, &r->parent_row, &r->parent_id) < 0)
			return -1;
		if (!f.found) {
			r->msg = arena_printf(a,
			                      "%s: unknown parent_code %s (not in this file or "
			                      "the database)",
			                      code, ou_show(a, u->parent_code));
			return 0;
		}
		if (!f.unknown && !ou_parent_ok(u->kind, ou_show(a, u->parent_code), f.kind, true,
		                                err, sizeof(err))) {
			r->msg = arena_printf(a, "%s: %s", code, err);
			return 0;
		}
	}
	if (u->center_code) {
		if (ou_imp_resolve(db, im, u->center_code, &f, &r->center_row, &r->center_id) < 0)
			return -1;
		if (!f.found) {
			r->msg = arena_printf(a,
			                      "%s: unknown center_code %s (not in this file or "
			                      "the database)",
			                      code, ou_show(a, u->center_code));
			return 0;
		}
		if (!f.unknown && !ou_center_ok(ou_show(a, u->center_code), f.kind,
		                                f.type ? f.type : "", f.county ? f.county : "",
		                                u->parent_code, true, err, sizeof(err))) {
			r->msg = arena_printf(a, "%s: %s", code, err);
			return 0;
		}
	}
	return 0;
}

/* Write one row (its parent and center already written); -1 on a database error. */
static int ou_imp_write(struct db *db, struct ou_import *im, struct ou_row *r, const char *actor)
{
	long long parent_id = r->parent_row ? im->rows[r->parent_row - 1].id : r->parent_id;
	long long center_id = r->center_row ? im->rows[r->center_row - 1].id : r->center_id;
	if (r->exists) {
		if (!ou_store(db, r->id, &r->u, center_id, r->active))
			return -1;
	} else {
		r->id = ou_insert(db, &r->u, parent_id, center_id, r->active);
		if (r->id <= 0)
			return -1;
	}
	struct buf detail = BUF_INIT, object = BUF_INIT;
	ou_detail(&detail, &r->u, r->exists ? "update" : "create");
	detail.len--; /* reopen the object to add where the row came from */
	ou_json(&detail, "file", im->fname);
	buf_printf(&detail, ",\"line\":%ld}", r->line);
	buf_printf(&object, "orgunit:%s", r->u.code);
	bool ok = audit_log(db, actor, "orgunit.import", object.data, detail.data);
	buf_free(&detail);
	buf_free(&object);
	return ok ? 0 : -1;
}

/* The order rows are written in: cities, counties, schools, then 教学点
 * (whose centers must exist first). */
static int ou_imp_phase(const struct ou_row *r)
{
	if (strcmp(r->u.kind, "city") == 0)
		return 0;
	if (strcmp(r->u.kind, "county") == 0)
		return 1;
	return strcmp(r->u.school_type, "218") == 0 ? 3 : 2;
}

/* After writing: a school that a 教学点 (in the file or not) names as its
 * center must still teach primary pupils. Only rows of the file can have
 * changed that, so a violation is reported on the center's row. One pass over
 * the 教学点 with primary-key joins. -1 on a database error. */
static int ou_imp_centers(struct db *db, struct ou_import *im)
{
	sqlite3_stmt *st = db_prep(db, "SELECT t.code, c.code FROM org_unit t"
	                               " JOIN org_unit c ON c.id = t.center_id"
	                               " WHERE c.school_type IS NULL OR c.school_type NOT IN"
	                               " ('211', '312', '345')");
	if (!st)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		size_t k = ou_imp_find(im, db_text(st, 1));
		struct ou_row *r = k ? &im->rows[k - 1] : NULL;
		if (r && !r->msg)
			r->msg = arena_printf(&im->a,
			                      "%s is the center of 教学点 %s, so its school_type "
			                      "must be " OU_CENTER_TYPES,
			                      r->u.code, db_text(st, 0));
		else if (!r)
			ou_imp_error(im, 0,
			             arena_printf(&im->a, "教学点 %s has an invalid center %s",
			                          db_text(st, 0), db_text(st, 1)));
		im->bad = true;
	}
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Validate every row, then write them all or nothing. Returns the row count or -1. */
static long ou_imp_store(struct db *db, struct ou_import *im, const char *actor)
{
	bool tx = false;
	long result = -1;
	for (size_t k = 0; k < im->nrows; k++)
		if (!im->rows[k].msg)
			ou_imp_row_fields(im, &im->rows[k]);
	im->hsize = 16;
	while (im->hsize < 2 * im->nrows + 2)
		im->hsize *= 2;
	im->hash = calloc(im->hsize, sizeof(*im->hash));
	if (!im->hash) {
		ou_imp_error(im, 0, "out of memory");
		goto done;
	}
	for (size_t k = 0; k < im->nrows; k++) {
		struct ou_row *r = &im->rows[k];
		if (r->msg)
			continue;
		size_t first = ou_imp_add(im, k);
		if (first)
			r->msg = arena_printf(&im->a, "duplicate code %s (first on line %ld)",
			                      ou_show(&im->a, r->u.code), im->rows[first - 1].line);
	}
	if (!db_begin_write(db)) {
		ou_imp_error(im, 0, "the database is busy; try again");
		goto done;
	}
	tx = true;
	for (size_t k = 0; k < im->nrows; k++)
		if (!im->rows[k].msg && ou_imp_row_refs(db, im, &im->rows[k]) < 0)
			goto db_error;
	for (size_t k = 0; k < im->nrows; k++)
		if (im->rows[k].msg)
			im->bad = true;
	if (!im->bad) {
		size_t written = 0;
		for (int phase = 0; phase < 4; phase++)
			for (size_t k = 0; k < im->nrows; k++) {
				if (ou_imp_phase(&im->rows[k]) != phase)
					continue;
				if (ou_imp_write(db, im, &im->rows[k], actor) < 0)
					goto db_error;
				if (im->progress && ++written % 1000 == 0)
					fprintf(im->progress, "%s: stored %zu of %zu units\n",
					        im->fname, written, im->nrows);
			}
		if (ou_imp_centers(db, im) < 0)
			goto db_error;
	}
	for (size_t k = 0; k < im->nrows; k++)
		if (im->rows[k].msg)
			fprintf(im->errors, "%s:%ld: %s\n", im->fname, im->rows[k].line,
			        im->rows[k].msg);
	if (im->bad)
		goto done;
	if (!db_commit(db)) {
		tx = false;
		goto db_error;
	}
	tx = false;
	result = (long)im->nrows;
	goto done;
db_error:
	ou_imp_error(im, 0, "database error; nothing was imported");
done:
	if (tx)
		db_rollback(db);
	return result;
}

/* Import units from CSV: all rows or none. */
long ou_import_csv(struct db *db, FILE *in, const char *fname, const char *actor, FILE *errors,
                   FILE *progress)
{
	struct ou_import *im = calloc(1, sizeof(*im));
	long result = -1;
	if (!im) {
		fprintf(errors, "%s: out of memory\n", fname);
		return -1;
	}
	arena_init(&im->a, 256 * 1024);
	im->fname = fname ? fname : "-";
	im->errors = errors ? errors : stderr;
	im->progress = progress;
	if (ou_imp_read(im, in))
		result = ou_imp_store(db, im, actor);
	if (im->bad)
		result = -1;
	free(im->hash);
	free(im->rows);
	arena_free(&im->a);
	free(im);
	return result;
}

/* Order index entries by id. */
static int ou_index_cmp(const void *x, const void *y)
{
	const struct ou_index_entry *a = x, *b = y;
	return (a->id > b->id) - (a->id < b->id);
}

/* Build an id index of an array of units. */
void ou_index_build(struct arena *a, const struct org_unit *units, size_t n, struct ou_index *ix)
{
	ix->e = arena_alloc(a, (n ? n : 1) * sizeof(*ix->e));
	ix->n = n;
	for (size_t i = 0; i < n; i++)
		ix->e[i] = (struct ou_index_entry){units[i].id, i};
	qsort(ix->e, n, sizeof(*ix->e), ou_index_cmp);
}

/* Find a unit's position by id (binary search). */
long ou_index_find(const struct ou_index *ix, long long id)
{
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->e[mid].id == id)
			return (long)ix->e[mid].pos;
		if (ix->e[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

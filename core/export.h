/* export.h — one form of a period for a scope as a table: CSV (UTF-8 with BOM) and XLSX. */
#ifndef TB_EXPORT_H
#define TB_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "db.h"
#include "form.h"
#include "period.h"

/* One cell: text, and the number when the field is numeric and the value valid. */
struct export_cell {
	const char *text; /* "" when empty */
	bool is_num;
	double num;
};

/* A table of text and numbers; export_load makes the table of a form: 4 leading
 * columns (学校标识码, 学校名称, 办学类型, 状态), then every field of the form in
 * definition order. */
struct export_table {
	const char *sheet; /* the worksheet's name (at most 31 characters, none of []:*?/\) */
	size_t ncols;
	const char **headers;      /* Chinese, with the unit: "小学 在校生数（人）" */
	struct export_cell **rows; /* one per school at or below the scope, by county and code */
	size_t nrows;
};

#define EXPORT_LEAD 4

/* Build the table of form `form_code` of period p for the schools at or below
 * scope_id. 0, or -1 on a database error. */
int export_load(struct db *db, struct arena *a, const struct form_set *set, const struct period *p,
                const char *form_code, long long scope_id, struct export_table *t);

/* The table as CSV: UTF-8 with a BOM (so that Excel reads Chinese), CRLF line
 * ends, fields quoted when needed; a text value that Excel would take for a
 * formula (= + - @ at its start) gets a leading apostrophe. */
void export_csv(const struct export_table *t, struct buf *out);

/* The table as an XLSX file at `path` (libxlsxwriter): numbers as numbers, the
 * header row bold and frozen. False with an English message. */
bool export_xlsx(const struct export_table *t, const char *path, char *err, size_t errlen);

#endif

/* export.c — one form of a period for a scope as a table: CSV (UTF-8 with BOM) and XLSX. */
#include "export.h"

#include <stdlib.h>
#include <string.h>
#include <xlsxwriter.h>

#include "orgunit.h"
#include "overview.h"
#include "validate.h"
#include "workflow.h"

/* The cell of a stored value of field f. */
static struct export_cell export_value(const struct form_field *f, const char *raw,
                                       const char *norm)
{
	struct export_cell c = {.text = norm ? norm : raw ? raw : ""};
	if (!norm)
		return c;
	if (f->type == FT_YESNO) {
		c.text = strcmp(norm, "1") == 0 ? "是" : "否";
	} else if (f->type == FT_INTEGER || f->type == FT_DECIMAL) {
		char *end;
		c.num = strtod(norm, &end);
		c.is_num = *end == '\0';
	}
	return c;
}

/* Build the table. */
int export_load(struct db *db, struct arena *a, const struct form_set *set, const struct period *p,
                const char *form_code, long long scope_id, struct export_table *t)
{
	memset(t, 0, sizeof(*t));
	const struct form_def *form = form_find(set, form_code);
	if (!form)
		return -1;
	struct overview_row *rows;
	size_t n;
	if (overview_load(db, a, p, scope_id, &rows, &n) != 0)
		return -1;
	size_t k = 0;
	while (k < p->nforms && strcmp(p->forms[k], form_code) != 0)
		k++;
	t->sheet = form->name;
	t->ncols = EXPORT_LEAD + form->nfields;
	t->headers = arena_alloc(a, t->ncols * sizeof(*t->headers));
	static const char *const lead[EXPORT_LEAD] = {"学校标识码", "学校名称", "办学类型", "状态"};
	memcpy(t->headers, lead, sizeof(lead));
	for (size_t c = 0; c < form->nfields; c++) {
		const struct form_field *f = form->fields[c];
		const char *label = validate_label(a, f);
		t->headers[EXPORT_LEAD + c] =
		    f->unit ? arena_printf(a, "%s（%s）", label, f->unit) : label;
	}
	t->nrows = n;
	t->rows = arena_alloc(a, (n ? n : 1) * sizeof(*t->rows));
	for (size_t r = 0; r < n; r++) {
		struct export_cell *row = arena_alloc(a, t->ncols * sizeof(*row));
		const struct org_unit *s = rows[r].school;
		const char *type = ou_school_type_name(s->school_type);
		row[0].text = s->code;
		row[1].text = s->name;
		row[2].text = type ? type : s->school_type;
		row[3].text = wf_state_name(k < p->nforms ? rows[r].cells[k].state : WS_NONE);
		for (size_t c = 0; c < form->nfields; c++)
			row[EXPORT_LEAD + c].text = "";
		t->rows[r] = row;
	}
	/* the values of the form's submissions in the scope, placed by school code */
	sqlite3_stmt *st = db_prep(
	    db, "SELECT o.code, v.field_code, v.raw, v.norm FROM value v"
	        " JOIN submission s ON s.id = v.submission_id JOIN org_unit o ON o.id = s.school_id"
	        " JOIN org_unit c ON c.id = o.parent_id"
	        " WHERE s.period_id = ?1 AND s.form_code = ?2 AND (o.id = ?3 OR o.parent_id = ?3"
	        " OR o.parent_id IN (SELECT id FROM org_unit WHERE parent_id = ?3))"
	        " ORDER BY c.code, o.code");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, p->id);
	db_bind_text(st, 2, form_code, -1);
	sqlite3_bind_int64(st, 3, scope_id);
	int rc;
	size_t r = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = db_text(st, 0);
		const struct form_field *f = form_field_find(set, db_text(st, 1));
		/* values come in the rows' order (county, then school code): one pass */
		size_t tries = 0;
		while (tries < n && strcmp(t->rows[r][0].text, code) != 0) {
			r = (r + 1) % n;
			tries++;
		}
		if (!f || tries == n || form_field_form(set, f) != form)
			continue;
		size_t c = 0;
		while (c < form->nfields && form->fields[c] != f)
			c++;
		const char *raw = arena_strdup(a, db_text(st, 2));
		const char *norm = sqlite3_column_type(st, 3) == SQLITE_NULL
		                       ? NULL
		                       : arena_strdup(a, db_text(st, 3));
		if (c < form->nfields)
			t->rows[r][EXPORT_LEAD + c] = export_value(f, raw, norm);
	}
	db_done(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* One CSV field. */
static void export_csv_field(struct buf *out, const struct export_cell *c)
{
	const char *s = c->text;
	bool formula = !c->is_num && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' ||
	                              s[0] == '\t' || s[0] == '\r');
	bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;
	if (!quote) {
		buf_puts(out, s);
		return;
	}
	buf_putc(out, '"');
	if (formula)
		buf_putc(out, '\'');
	for (; *s; s++) {
		if (*s == '"')
			buf_putc(out, '"');
		buf_putc(out, *s);
	}
	buf_putc(out, '"');
}

/* The table as CSV. */
void export_csv(const struct export_table *t, struct buf *out)
{
	buf_puts(out, "\xEF\xBB\xBF");
	for (size_t c = 0; c < t->ncols; c++) {
		struct export_cell h = {.text = t->headers[c]};
		if (c)
			buf_putc(out, ',');
		export_csv_field(out, &h);
	}
	buf_puts(out, "\r\n");
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				buf_putc(out, ',');
			export_csv_field(out, &t->rows[r][c]);
		}
		buf_puts(out, "\r\n");
	}
}

/* The table as XLSX. */
bool export_xlsx(const struct export_table *t, const char *path, char *err, size_t errlen)
{
	lxw_workbook *wb = workbook_new(path);
	if (!wb) {
		snprintf(err, errlen, "cannot create %s", path);
		return false;
	}
	/* a sheet name has at most 31 characters and none of []:*?/\ ; else a default name */
	lxw_worksheet *ws = workbook_add_worksheet(wb, t->sheet);
	if (!ws)
		ws = workbook_add_worksheet(wb, NULL);
	lxw_format *bold = workbook_add_format(wb);
	format_set_bold(bold);
	format_set_text_wrap(bold);
	for (size_t c = 0; ws && c < t->ncols; c++)
		worksheet_write_string(ws, 0, (lxw_col_t)c, t->headers[c], bold);
	for (size_t r = 0; ws && r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const struct export_cell *x = &t->rows[r][c];
			lxw_row_t row = (lxw_row_t)(r + 1);
			if (x->is_num)
				worksheet_write_number(ws, row, (lxw_col_t)c, x->num, NULL);
			else if (*x->text)
				worksheet_write_string(ws, row, (lxw_col_t)c, x->text, NULL);
		}
	}
	if (ws) {
		worksheet_freeze_panes(ws, 1, 0);
		worksheet_set_column(ws, 0, 0, 13, NULL);
		worksheet_set_column(ws, 1, 1, 28, NULL);
		worksheet_set_column(ws, 2, 3, 12, NULL);
		if (t->ncols > EXPORT_LEAD)
			worksheet_set_column(ws, EXPORT_LEAD, (lxw_col_t)(t->ncols - 1), 12, NULL);
	}
	lxw_error rc = workbook_close(wb);
	if (rc != LXW_NO_ERROR || !ws) {
		snprintf(err, errlen, "cannot write %s: %s", path, lxw_strerror(rc));
		return false;
	}
	return true;
}

/* page_export.c — one form of a period for the user's scope as CSV or XLSX, for Excel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/auth.h"
#include "../core/export.h"
#include "../core/log.h"
#include "app.h"
#include "pages.h"

/* Content-Disposition for a download: an ASCII file name and the Chinese one
 * (RFC 6266: a fallback and a UTF-8 filename*). */
static void export_disposition(struct http_request *req, const char *ascii, const char *name)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "attachment; filename=\"%s\"; filename*=UTF-8''", ascii);
	buf_urlencode(&b, name, strlen(name));
	http_header(req->res, "Content-Disposition", arena_strndup(req->arena, b.data, b.len));
	buf_free(&b);
}

/* Write the table as XLSX into the response (through a private temporary file). */
static bool export_xlsx_body(struct http_request *req, const struct export_table *t)
{
	char path[] = "/tmp/tianbao-export-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		log_error("export: cannot create a temporary file");
		return false;
	}
	close(fd);
	char err[256];
	bool ok = export_xlsx(t, path, err, sizeof(err));
	FILE *f = ok ? fopen(path, "rb") : NULL;
	if (!ok)
		log_error("export: %s", err);
	if (f) {
		char chunk[65536];
		size_t got;
		buf_reset(&req->res->body);
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&req->res->body, chunk, got);
		ok = !ferror(f);
		fclose(f);
	}
	unlink(path);
	return ok && f;
}

/* Answer with a table as a CSV or XLSX download (503 when it cannot be written). */
void export_respond(struct http_request *req, const struct export_table *t, bool csv,
                    const char *ascii_name, const char *name)
{
	if (csv) {
		buf_reset(&req->res->body);
		export_csv(t, &req->res->body);
		req->res->content_type = "text/csv; charset=utf-8";
	} else if (export_xlsx_body(req, t)) {
		req->res->content_type =
		    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
	} else {
		http_error(req, 503, NULL);
		return;
	}
	req->res->status = 200;
	export_disposition(req, ascii_name, name);
}

/* GET /export/{period}/{form}/{csv|xlsx} */
void page_export(struct http_request *req)
{
	struct arena *a = req->arena;
	const char *fmt = req->args[2];
	bool csv = strcmp(fmt, "csv") == 0;
	if (!csv && strcmp(fmt, "xlsx") != 0) {
		http_error(req, 404, NULL);
		return;
	}
	const struct form_set *set = app_forms(req->app);
	struct period p;
	int rc = !set                              ? -1
	         : period_code_valid(req->args[0]) ? period_get(&req->app->db, a, req->args[0], &p)
	                                           : 0;
	const struct form_def *form = rc == 1 ? form_find(set, req->args[1]) : NULL;
	bool in_period = false;
	for (size_t k = 0; form && k < p.nforms; k++)
		in_period = in_period || strcmp(p.forms[k], form->code) == 0;
	if (rc != 1 || !in_period) {
		http_error(req, rc < 0 ? 503 : 404, NULL);
		return;
	}
	struct export_table t;
	if (export_load(&req->app->db, a, set, &p, form->code, req->session->user.org_unit_id,
	                &t) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	export_respond(req, &t, csv, arena_printf(a, "%s-%s.%s", p.code, form->code, fmt),
	               arena_printf(a, "%s-%s.%s", p.name, form->name, fmt));
}

/* app.c — one worker's state and the life of one request through it. */
#include "app.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../core/log.h"
#include "router.h"

/* Open the worker's database connection and parse its templates. */
bool app_open(struct app *app, const struct config *cfg, char *err, size_t errlen)
{
	memset(app, 0, sizeof(*app));
	app->cfg = *cfg;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium cannot initialise");
		return false;
	}
	app->limits = http_default_limits;
	arena_init(&app->arena, 64 * 1024);
	http_response_init(&app->res);
	app->tmpl = tmpl_load_dir(cfg->templates, err, errlen);
	if (!app->tmpl)
		goto fail;
	if (!tmpl_has(app->tmpl, "error")) {
		snprintf(err, errlen, "%s: template error.mustache is missing", cfg->templates);
		goto fail;
	}
	if (!db_open(&app->db, cfg->database, cfg->busy_timeout_ms, err, errlen))
		goto fail;
	return true;
fail:
	app_close(app);
	return false;
}

/* Release the worker's resources. */
void app_close(struct app *app)
{
	if (app->db.h)
		db_close(&app->db);
	if (app->tmpl)
		tmpl_set_free(app->tmpl);
	ind_sets_free(app->indicators);
	app->indicators = NULL;
	form_set_free(app->forms);
	app->forms = NULL;
	app->tmpl = NULL;
	http_response_free(&app->res);
	arena_free(&app->arena);
}

/* The parsed forms, reloaded when their generation moved. */
const struct form_set *app_forms(struct app *app)
{
	if (app->forms && app->forms_checked)
		return app->forms;
	sqlite3_stmt *st = db_prep(&app->db, "SELECT CAST(value AS INTEGER) FROM setting"
	                                     " WHERE key = 'forms_generation'");
	if (!st)
		return NULL;
	long long gen = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	db_done(st);
	if (app->forms && gen == app->forms_gen) {
		app->forms_checked = true;
		return app->forms;
	}
	char err[512];
	struct form_set *set = form_set_load_db(&app->db, err, sizeof(err));
	if (!set) {
		log_error("cannot load the form definitions: %s", err);
		return NULL;
	}
	/* the indicators refer to the old forms' fields: parse them again too */
	ind_sets_free(app->indicators);
	app->indicators = NULL;
	form_set_free(app->forms);
	app->forms = set;
	app->forms_gen = gen;
	app->forms_checked = true;
	return set;
}

/* The parsed indicators, reloaded when their generation or the forms moved. */
const struct ind_sets *app_indicators(struct app *app)
{
	const struct form_set *forms = app_forms(app);
	if (!forms)
		return NULL;
	sqlite3_stmt *st = db_prep(&app->db, "SELECT CAST(value AS INTEGER) FROM setting"
	                                     " WHERE key = 'indicators_generation'");
	if (!st)
		return NULL;
	long long gen = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	db_done(st);
	if (app->indicators && gen == app->indicators_gen)
		return app->indicators;
	char err[512];
	struct ind_sets *s = ind_load_db(&app->db, forms, err, sizeof(err));
	if (!s) {
		log_error("cannot load the indicator definitions: %s", err);
		return NULL;
	}
	ind_sets_free(app->indicators);
	app->indicators = s;
	app->indicators_gen = gen;
	return s;
}

/* Parse, dispatch and answer one request; reset the arena afterwards. */
void app_handle(struct app *app, char **envp, http_read_fn read, void *rctx, http_write_fn write,
                void *wctx)
{
	struct http_request req = {0};
	req.arena = &app->arena;
	req.app = app;
	req.res = &app->res;
	http_response_reset(&app->res);
	const char *why = NULL;
	int status = http_request_parse(&req, envp, read, rctx, &app->limits, &why);
	if (status) {
		log_warn("%s %s refused with %d: %s", req.method_name ? req.method_name : "-",
		         req.path ? req.path : "-", status, why);
		http_error(&req, status, why);
	} else {
		route_dispatch(&req);
	}
	/* A transaction left open by a handler is a bug; never let it leak into
	 * the next request. */
	if (app->db.h && !sqlite3_get_autocommit(app->db.h)) {
		log_error("transaction left open by %s (begun at %s:%d)",
		          req.route ? req.route->name : "-",
		          app->db.tx_file ? app->db.tx_file : "-", app->db.tx_line);
		db_rollback(&app->db);
	}
	http_response_send(&req, write, wctx);
	arena_reset(&app->arena);
	app->forms_checked = false;
}

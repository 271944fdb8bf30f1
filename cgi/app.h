/* app.h — what one worker holds for its whole life: config, database, templates, buffers. */
#ifndef TB_APP_H
#define TB_APP_H

#include <stdbool.h>

#include "../core/config.h"
#include "../core/db.h"
#include "../core/form.h"
#include "../core/indicator.h"
#include "http.h"
#include "tmpl.h"

struct app {
	struct config cfg;
	struct db db;
	struct tmpl_set *tmpl;
	struct http_limits limits;
	struct arena arena;          /* per request; reset after each */
	struct http_response res;    /* reused by every request */
	struct form_set *forms;      /* parsed form definitions, see app_forms */
	long long forms_gen;         /* the forms_generation they were loaded at */
	bool forms_checked;          /* ... checked during this request: one set per request */
	struct ind_sets *indicators; /* parsed indicator definitions, see app_indicators */
	long long indicators_gen;    /* the indicators_generation they were loaded at */
};

/* Open the database and parse the templates for one worker. Returns false
 * with an English message in `err`. */
bool app_open(struct app *app, const struct config *cfg, char *err, size_t errlen);

/* Release everything app_open acquired. */
void app_close(struct app *app);

/* The form definitions, parsed once and parsed again when `tianbao-admin forms
 * load` has changed them (setting forms_generation, looked at once per request,
 * so that every call of one request gets the same set). NULL (logged) when they
 * cannot be read. */
const struct form_set *app_forms(struct app *app);

/* The indicator definitions, parsed against app_forms() and parsed again when
 * `tianbao-admin indicators load` (or a new form edition) changed them. NULL
 * (logged) when they cannot be read. */
const struct ind_sets *app_indicators(struct app *app);

/* Handle one request whose CGI environment and body reader are given, writing
 * the whole response through `write`. The request arena is reset afterwards. */
void app_handle(struct app *app, char **envp, http_read_fn read, void *rctx, http_write_fn write,
                void *wctx);

#endif

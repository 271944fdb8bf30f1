/* cmd_values.c — tianbao-admin values import: load values from DHIS2 dataValueSets JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/arena.h"
#include "core/dvs.h"
#include "core/fileread.h"
#include "core/form.h"

static const char values_usage_import[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] values import FILE.json [--state STATE]\n"
    "  Load values for one or many schools from JSON in the DHIS2 dataValueSets shape:\n"
    "    {\"dataValueSets\": [{\"dataSet\": \"staff\", \"period\": \"2025\",\n"
    "      \"orgUnit\": \"2199020001\", \"dataValues\": [{\"dataElement\": \"pri_teachers\",\n"
    "      \"value\": \"38\", \"comment\": \"...\"}, ...]}, ...]}\n"
    "  (or one such set). dataSet is a form of the period, orgUnit a school's 10-digit\n"
    "  code, dataElement a field code. Every value is checked like a web save; if\n"
    "  anything is wrong each problem is printed and nothing is imported. Fields a set\n"
    "  does not name keep their values; a comment becomes the explanation of the\n"
    "  warnings about its field. The period's window does not apply here.\n"
    "  --state draft (default) leaves drafts; submitted submits them (no errors, every\n"
    "  required field, every warning explained); approved also approves them (no\n"
    "  errors, every required field): the way to bring in last year's approved figures.\n"
    "  An import never queues a delivery to the provincial platform: approved figures\n"
    "  brought in this way are taken to be there already.\n";

/* values import FILE.json [--state STATE] */
static int values_import(struct admin_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {{"state", required_argument, NULL, 's'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	enum wf_state state = WS_DRAFT;
	int c;
	optind = 0;
	while ((c = admin_getopt(argc, argv, opts, "s", values_usage_import)) > 0) {
		state = wf_state_parse(optarg);
		if (state != WS_DRAFT && state != WS_SUBMITTED && state != WS_APPROVED) {
			fprintf(stderr,
			        "tianbao-admin: --state must be draft, submitted or approved\n");
			return 2;
		}
	}
	if (c < 0)
		return -c - 1;
	if (argc - optind != 1) {
		fputs(values_usage_import, stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct db db;
	int rc = admin_open_at(o, &db, 4);
	if (rc != 0)
		return rc;
	rc = 1;
	struct arena a;
	arena_init(&a, 64 * 1024);
	char err[1024];
	size_t len = 0, n = 0;
	struct dvs_set *sets = NULL;
	struct form_set *fs = form_set_load_db(&db, err, sizeof(err));
	char *json = NULL;
	if (!fs)
		fprintf(stderr, "tianbao-admin: the stored forms do not load: %s\n", err);
	else if (!(json = file_read(path, DVS_MAX_BYTES, &len, err, sizeof(err))))
		fprintf(stderr, "tianbao-admin: %s\n", err);
	if (!json)
		goto out;
	if (!dvs_parse(&a, json, len, &sets, &n, err, sizeof(err))) {
		fprintf(stderr, "%s: %s; nothing was imported\n", path, err);
		goto out;
	}
	long stored = dvs_import(&db, fs, sets, n, state, ADMIN_ACTOR, path, stderr);
	if (stored >= 0) {
		printf("%s: imported %ld data value set%s as %s\n", path, stored,
		       stored == 1 ? "" : "s", wf_state_code(state));
		rc = 0;
	}
out:
	free(json);
	form_set_free(fs);
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* Dispatch `values ACTION ...`. */
int cmd_values(struct admin_opts *o, int argc, char **argv)
{
	static const struct admin_action actions[] = {
	    {"import", values_import, values_usage_import},
	    {NULL, NULL, NULL},
	};
	return admin_dispatch(o, "values", actions, argc, argv);
}

/* cmd_forms.c — tianbao-admin forms: check and load form definitions, list the stored forms. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/fileread.h"
#include "core/form.h"
#include "core/migrate.h"

#define FORMS_MAX_BYTES (1024 * 1024) /* as core/form_check.c accepts */

/* Print the usage of `forms` (or of one of its actions when `action` is set). */
static void forms_usage(FILE *f, const char *action)
{
	if (!action || strcmp(action, "load") == 0)
		fprintf(
		    f,
		    "usage: tianbao-admin [-c CONFIG | --db PATH] forms load FILE.json...\n"
		    "  Check the form definitions together and store them in one transaction.\n"
		    "  Stored forms that the files do not replace take part in the check, so a\n"
		    "  rule that reads another form's field stays valid. A stored form is\n"
		    "  replaced by a higher or equal edition, never by a lower one, and a field\n"
		    "  that has stored values cannot be dropped. If anything is wrong, each\n"
		    "  problem is printed and nothing is stored (exit status 1).\n");
	if (!action)
		fputc('\n', f);
	if (!action || strcmp(action, "check") == 0)
		fprintf(
		    f,
		    "usage: tianbao-admin [-c CONFIG | --db PATH] forms check FILE.json...\n"
		    "  Check the definitions as 'forms load' does, without storing anything.\n"
		    "  Without -c or --db the files are checked on their own: a rule that reads\n"
		    "  another form needs that form among the files.\n");
	if (!action)
		fputc('\n', f);
	if (!action || strcmp(action, "list") == 0)
		fprintf(
		    f, "usage: tianbao-admin [-c CONFIG | --db PATH] forms list\n"
		       "  Print the stored forms as CSV: code,name,edition,fields,rules,loaded_at\n"
		       "  (fields: grid cells counted one by one; rules: per-stage rules once per\n"
		       "  stage).\n");
}

/* Parse the options of an action (only --help); returns -1 to go on, or an exit code. */
static int forms_opts(int argc, char **argv, const char *action)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			forms_usage(stdout, action);
			return 0;
		}
		fprintf(stderr, "tianbao-admin: forms %s: unknown option '%s'\n", action,
		        argv[optind - 1]);
		forms_usage(stderr, action);
		return 2;
	}
	return -1;
}

/* Read one definition file and add it to the set; false after printing the problem. */
static bool forms_add_file(struct form_set *set, const char *path)
{
	char err[1024];
	size_t len;
	char *buf = file_read(path, FORMS_MAX_BYTES, &len, err, sizeof(err));
	bool ok = buf && form_set_add_json(set, buf, len, path, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "tianbao-admin: %s\n", err);
	free(buf);
	return ok;
}

/* Add every file (each problem is printed); false if any had one. */
static bool forms_add_files(struct form_set *set, int nfiles, char **files)
{
	bool ok = true;
	for (int i = 0; i < nfiles; i++)
		if (!forms_add_file(set, files[i]))
			ok = false;
	return ok;
}

/* Add the stored forms that the set does not hold yet (context for cross-form rules). */
static bool forms_add_stored(struct form_set *set, struct db *db)
{
	char err[1024];
	int rc;
	sqlite3_stmt *st = db_prep(db, "SELECT code, definition FROM form ORDER BY code");
	if (!st) {
		fprintf(stderr, "tianbao-admin: cannot read the stored forms\n");
		return false;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (form_find(set, db_text(st, 0)))
			continue;
		if (!form_set_add_json(set, db_text(st, 1), (size_t)sqlite3_column_bytes(st, 1),
		                       "database", err, sizeof(err))) {
			fprintf(stderr, "tianbao-admin: %s\n", err);
			db_done(st);
			return false;
		}
	}
	db_done(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "tianbao-admin: cannot read the stored forms: %s\n",
		        sqlite3_errmsg(db->h));
		return false;
	}
	return true;
}

/* Print "VERB N forms: basic (edition 1, 6 fields, 0 rules), ..." for the first n forms. */
static void forms_summary(const struct form_set *set, size_t n, const char *verb)
{
	printf("%s %zu form%s:", verb, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		const struct form_def *d = form_at(set, i);
		printf("%s %s (edition %d, %zu field%s, %zu rule%s)", i ? "," : "", d->code,
		       d->edition, d->nfields, d->nfields == 1 ? "" : "s", d->nrules,
		       d->nrules == 1 ? "" : "s");
	}
	putchar('\n');
}

/* forms load FILE... and forms check FILE... (store = false). */
static int forms_load_or_check(struct admin_opts *o, int argc, char **argv, bool store)
{
	const char *action = store ? "load" : "check";
	char err[1024];
	struct db db;
	bool opened = false;
	struct form_set *set = NULL;
	int rc = forms_opts(argc, argv, action);
	if (rc >= 0)
		return rc;
	if (argc - optind < 1) {
		forms_usage(stderr, action);
		return 2;
	}
	bool use_db = store || o->cfg_path || o->db_path;
	if (store && !o->cfg_path && !o->db_path) {
		fprintf(stderr, "tianbao-admin: give -c CONFIG or --db PATH\n");
		return 2;
	}
	rc = 1;
	set = form_set_new();
	if (!set) {
		fprintf(stderr, "tianbao-admin: out of memory\n");
		goto out;
	}
	if (!forms_add_files(set, argc - optind, argv + optind))
		goto out;
	size_t nfiles = form_count(set);
	if (use_db) {
		int orc = admin_open_at(o, &db, 3);
		if (orc != 0) {
			rc = orc;
			goto out;
		}
		opened = true;
		if (!forms_add_stored(set, &db))
			goto out;
	}
	if (!form_set_finish(set, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: %s\n", err);
		goto out;
	}
	if (store && !form_store(&db, set, ADMIN_ACTOR, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: %s\n", err);
		goto out;
	}
	forms_summary(set, nfiles, store ? "loaded" : "checked");
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	if (rc == 1 && store)
		fprintf(stderr, "tianbao-admin: nothing was loaded\n");
	if (opened)
		db_close(&db);
	form_set_free(set);
	return rc;
}

/* forms list: the stored forms as CSV. */
static int forms_list(struct admin_opts *o, int argc, char **argv)
{
	char err[1024], num[3][24];
	struct db db;
	int rc = forms_opts(argc, argv, "list");
	if (rc >= 0)
		return rc;
	if (argc - optind != 0) {
		forms_usage(stderr, "list");
		return 2;
	}
	rc = admin_open_at(o, &db, 3);
	if (rc != 0)
		return rc;
	struct form_set *set = form_set_load_db(&db, err, sizeof(err));
	if (!set)
		fprintf(stderr, "tianbao-admin: the stored forms do not load: %s\n", err);
	sqlite3_stmt *st =
	    db_prep(&db, "SELECT code, name, edition, loaded_at FROM form ORDER BY code");
	rc = set && st ? 0 : 1;
	if (st) {
		printf("code,name,edition,fields,rules,loaded_at\n");
		int src;
		while ((src = sqlite3_step(st)) == SQLITE_ROW) {
			const struct form_def *d = form_find(set, db_text(st, 0));
			snprintf(num[0], sizeof(num[0]), "%lld", sqlite3_column_int64(st, 2));
			snprintf(num[1], sizeof(num[1]), "%zu", d ? d->nfields : 0);
			snprintf(num[2], sizeof(num[2]), "%zu", d ? d->nrules : 0);
			admin_csv_field(stdout, db_text(st, 0), ',');
			admin_csv_field(stdout, db_text(st, 1), ',');
			admin_csv_field(stdout, num[0], ',');
			admin_csv_field(stdout, d ? num[1] : NULL, ',');
			admin_csv_field(stdout, d ? num[2] : NULL, ',');
			admin_csv_field(stdout, db_text(st, 3), '\n');
		}
		if (src != SQLITE_DONE) {
			fprintf(stderr, "tianbao-admin: cannot list the forms: %s\n",
			        sqlite3_errmsg(db.h));
			rc = 1;
		}
		db_done(st);
	}
	if (fflush(stdout) != 0)
		rc = 1;
	form_set_free(set);
	db_close(&db);
	return rc;
}

/* Dispatch `forms ACTION ...`. */
int cmd_forms(struct admin_opts *o, int argc, char **argv)
{
	if (argc < 2) {
		forms_usage(stderr, NULL);
		return 2;
	}
	const char *action = argv[1];
	if (strcmp(action, "load") == 0)
		return forms_load_or_check(o, argc - 1, argv + 1, true);
	if (strcmp(action, "check") == 0)
		return forms_load_or_check(o, argc - 1, argv + 1, false);
	if (strcmp(action, "list") == 0)
		return forms_list(o, argc - 1, argv + 1);
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	    strcmp(action, "help") == 0) {
		forms_usage(stdout, NULL);
		return 0;
	}
	fprintf(stderr, "tianbao-admin: forms: unknown action '%s'\n", action);
	forms_usage(stderr, NULL);
	return 2;
}

/* cmd_orgunit.c — tianbao-admin orgunit: import org units from CSV, list them as CSV. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "core/arena.h"
#include "core/orgunit.h"

/* Print the usage of `orgunit` (or of one of its actions when `action` is set). */
static void orgunit_usage(FILE *f, const char *action)
{
	if (!action || strcmp(action, "import") == 0)
		fprintf(
		    f,
		    "usage: tianbao-admin [-c CONFIG | --db PATH] orgunit import FILE.csv\n"
		    "  Import org units from a UTF-8 CSV file ('-' reads standard input).\n"
		    "  The first line names the columns: code, name, parent_code (required),\n"
		    "  kind, school_type, ownership, inclusive, urban_rural, center_code, active.\n"
		    "  kind may be left out: school when school_type is set, city without\n"
		    "  parent_code, county otherwise. ownership: public/private or 公办/民办;\n"
		    "  inclusive and active: 1/0, yes/no or 是/否. Existing codes are updated.\n"
		    "  Every row is checked first; if any row is bad, each problem is printed\n"
		    "  as FILE:LINE: message and nothing is imported (exit status 1).\n");
	if (!action)
		fputc('\n', f);
	if (!action || strcmp(action, "list") == 0)
		fprintf(f, "usage: tianbao-admin [-c CONFIG | --db PATH] orgunit list\n"
		           "  Print every org unit as CSV (parents before children), in the\n"
		           "  format that 'orgunit import' reads.\n");
}

/* Parse the options of an action (only --help); returns -1 to go on, or an exit code. */
static int orgunit_opts(int argc, char **argv, const char *action)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			orgunit_usage(stdout, action);
			return 0;
		}
		fprintf(stderr, "tianbao-admin: orgunit %s: unknown option '%s'\n", action,
		        argv[optind - 1]);
		orgunit_usage(stderr, action);
		return 2;
	}
	return -1;
}

/* orgunit import FILE */
static int orgunit_import(struct admin_opts *o, int argc, char **argv)
{
	int rc = orgunit_opts(argc, argv, "import");
	if (rc >= 0)
		return rc;
	if (argc - optind != 1) {
		orgunit_usage(stderr, "import");
		return 2;
	}
	const char *path = argv[optind];
	bool use_stdin = strcmp(path, "-") == 0;
	FILE *in = use_stdin ? stdin : fopen(path, "rb");
	if (!in) {
		fprintf(stderr, "tianbao-admin: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	struct db db;
	rc = admin_open_existing(o, &db);
	if (rc != 0)
		goto out;
	long n = ou_import_csv(&db, in, use_stdin ? "<stdin>" : path, ADMIN_ACTOR, stderr, stderr);
	db_close(&db);
	if (n < 0) {
		fprintf(stderr, "tianbao-admin: %s: nothing was imported\n", path);
		rc = 1;
		goto out;
	}
	printf("imported %ld org unit%s\n", n, n == 1 ? "" : "s");
	rc = 0;
out:
	if (!use_stdin)
		fclose(in);
	return rc;
}

/* Print one unit as a CSV line. */
static void orgunit_print(const struct org_unit *u)
{
	admin_csv_field(stdout, u->code, ',');
	admin_csv_field(stdout, u->name, ',');
	admin_csv_field(stdout, u->kind, ',');
	admin_csv_field(stdout, u->parent_code, ',');
	admin_csv_field(stdout, u->school_type, ',');
	admin_csv_field(stdout, u->ownership, ',');
	admin_csv_field(stdout, u->inclusive == 1 ? "1" : u->inclusive == 0 ? "0" : NULL, ',');
	admin_csv_field(stdout, u->urban_rural, ',');
	admin_csv_field(stdout, u->center_code, ',');
	admin_csv_field(stdout, u->active ? "1" : "0", '\n');
}

/* orgunit list: each city, its counties, then its schools by county and code. */
static int orgunit_list(struct admin_opts *o, int argc, char **argv)
{
	int rc = orgunit_opts(argc, argv, "list");
	if (rc >= 0)
		return rc;
	if (argc - optind != 0) {
		orgunit_usage(stderr, "list");
		return 2;
	}
	struct db db;
	rc = admin_open_existing(o, &db);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 256 * 1024);
	struct org_unit *cities, *counties, *schools;
	size_t ncity, ncounty, nschool;
	rc = 1;
	if (ou_children(&db, &a, 0, &cities, &ncity) != 0)
		goto out;
	printf("code,name,kind,parent_code,school_type,ownership,inclusive,urban_rural,"
	       "center_code,active\n");
	for (size_t i = 0; i < ncity; i++) {
		if (ou_children(&db, &a, cities[i].id, &counties, &ncounty) != 0 ||
		    ou_schools(&db, &a, cities[i].id, &schools, &nschool) != 0)
			goto out;
		orgunit_print(&cities[i]);
		for (size_t k = 0; k < ncounty; k++)
			orgunit_print(&counties[k]);
		for (size_t k = 0; k < nschool; k++)
			orgunit_print(&schools[k]);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	if (rc != 0)
		fprintf(stderr, "tianbao-admin: cannot list org units\n");
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* Dispatch `orgunit ACTION ...`. */
int cmd_orgunit(struct admin_opts *o, int argc, char **argv)
{
	if (argc < 2) {
		orgunit_usage(stderr, NULL);
		return 2;
	}
	const char *action = argv[1];
	if (strcmp(action, "import") == 0)
		return orgunit_import(o, argc - 1, argv + 1);
	if (strcmp(action, "list") == 0)
		return orgunit_list(o, argc - 1, argv + 1);
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	    strcmp(action, "help") == 0) {
		orgunit_usage(stdout, NULL);
		return 0;
	}
	fprintf(stderr, "tianbao-admin: orgunit: unknown action '%s'\n", action);
	orgunit_usage(stderr, NULL);
	return 2;
}

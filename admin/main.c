/* main.c — tianbao-admin: create and migrate the database, dispatch orgunit, user and forms. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin/admin.h"
#include "core/log.h"
#include "core/migrate.h"

/* Print the usage text. */
static void usage(FILE *f)
{
	fprintf(f,
	        "usage: tianbao-admin [-c CONFIG | --db PATH] [--migrations DIR] COMMAND [ARGS]\n"
	        "\n"
	        "Commands:\n"
	        "  init       create a new database and apply all migrations\n"
	        "  migrate    apply the migrations the database does not have yet\n"
	        "  version    print the database's migration number\n"
	        "  orgunit    import and list org units (city, counties, schools)\n"
	        "  user       add, list, disable and enable accounts, set passwords\n"
	        "  forms      check, load and list form definitions (db/forms/*.json)\n"
	        "  period     add reporting periods, move their closing time, list them\n"
	        "  values     import values (DHIS2 dataValueSets JSON), e.g. last year's\n"
	        "  indicators check, load and list indicator definitions (db/indicators/*.json)\n"
	        "  report     print the indicators of a period for a county or the city (CSV)\n"
	        "\n"
	        "'tianbao-admin COMMAND --help' describes each command.\n"
	        "\n"
	        "Options:\n"
	        "  -c, --config FILE    configuration file (section [tianbao])\n"
	        "      --db PATH        database file (overrides the configuration)\n"
	        "      --migrations DIR directory of NNNN_name.sql files\n"
	        "  -h, --help           show this help\n");
}

/* Open the database named by the options. */
static bool admin_open(struct admin_opts *o, struct db *db)
{
	char err[512];
	if (!db_open(db, o->cfg.database, o->cfg.busy_timeout_ms, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: %s\n", err);
		return false;
	}
	return true;
}

/* Open a database that must exist already. */
int admin_open_existing(struct admin_opts *o, struct db *db)
{
	struct stat sb;
	if (!o->cfg_path && !o->db_path) {
		fprintf(stderr, "tianbao-admin: give -c CONFIG or --db PATH\n");
		return 2;
	}
	if (stat(o->cfg.database, &sb) != 0 || sb.st_size == 0) {
		fprintf(stderr,
		        "tianbao-admin: %s does not exist; create it with 'tianbao-admin init'\n",
		        o->cfg.database);
		return 1;
	}
	if (!admin_open(o, db))
		return 1;
	if (migrate_version(db) < 2) {
		fprintf(stderr,
		        "tianbao-admin: %s is not up to date; run 'tianbao-admin migrate'\n",
		        o->cfg.database);
		db_close(db);
		return 1;
	}
	return 0;
}

/* Open a database migrated at least to `version`. */
int admin_open_at(struct admin_opts *o, struct db *db, int version)
{
	int rc = admin_open_existing(o, db);
	if (rc != 0)
		return rc;
	if (migrate_version(db) < version) {
		fprintf(stderr,
		        "tianbao-admin: %s is not up to date; run 'tianbao-admin migrate'\n",
		        o->cfg.database);
		db_close(db);
		return 1;
	}
	return 0;
}

/* Write a CSV field, quoting only when needed. */
void admin_csv_field(FILE *f, const char *s, char sep)
{
	if (!s)
		s = "";
	size_t n = strlen(s);
	bool quote = n > 0 && (s[0] == ' ' || s[n - 1] == ' ' || strpbrk(s, ",\"\r\n") != NULL);
	if (!quote) {
		fputs(s, f);
	} else {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	}
	fputc(sep, f);
}

/* The command group being run, for admin_getopt's messages ("period add: ..."). */
static const char *admin_group = "";

/* Dispatch an action of a command group. */
int admin_dispatch(struct admin_opts *o, const char *group, const struct admin_action *actions,
                   int argc, char **argv)
{
	const char *action = argc >= 2 ? argv[1] : NULL;
	if (action) {
		for (const struct admin_action *a = actions; a->name; a++)
			if (strcmp(a->name, action) == 0) {
				admin_group = group;
				return a->run(o, argc - 1, argv + 1);
			}
	}
	bool help = action && (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	                       strcmp(action, "help") == 0);
	if (action && !help)
		fprintf(stderr, "tianbao-admin: %s: unknown action '%s'\n", group, action);
	for (const struct admin_action *a = actions; a->name; a++)
		fprintf(help ? stdout : stderr, "%s%s", a == actions ? "" : "\n", a->usage);
	return help ? 0 : 2;
}

/* getopt_long for an action, with the checks every action repeats. */
int admin_getopt(int argc, char **argv, const struct option *opts, const char *allowed,
                 const char *usage)
{
	opterr = 0;
	int c = getopt_long(argc, argv, ":h", opts, NULL);
	if (c == -1)
		return 0;
	if (c == 'h') {
		fputs(usage, stdout);
		return -1;
	}
	if (c == '?' || c == ':' || !strchr(allowed, c)) {
		/* a short option is named by optopt (argv may hold several clustered) */
		char shortopt[3] = {'-', (char)optopt, '\0'};
		bool is_short = optopt > ' ' && optopt < 127 && argv[optind - 1][1] != '-';
		fprintf(stderr, "tianbao-admin: %s%s%s: %s option '%s'\n", admin_group,
		        *admin_group ? " " : "", argv[0],
		        c == ':' ? "missing value for" : "unknown",
		        is_short ? shortopt : argv[optind - 1]);
		fputs(usage, stderr);
		return -3;
	}
	return c;
}

/* Read one line from stdin. */
bool admin_read_line(char *buf, size_t buflen)
{
	if (!fgets(buf, (int)buflen, stdin)) {
		fprintf(stderr, "tianbao-admin: no password on standard input\n");
		return false;
	}
	size_t n = strlen(buf);
	bool had_newline = n > 0 && buf[n - 1] == '\n';
	if (!had_newline && !feof(stdin)) {
		fprintf(stderr, "tianbao-admin: the password line is too long\n");
		return false;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "tianbao-admin: the password on standard input is empty\n");
		return false;
	}
	return true;
}

/* Apply migrations and report. */
static int admin_migrate(struct admin_opts *o, struct db *db)
{
	char err[1024];
	int n = migrate_apply(db, o->cfg.migrations, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "tianbao-admin: migration failed: %s\n", err);
		return 1;
	}
	printf("%s: %d migration%s applied, now at %04d\n", o->cfg.database, n, n == 1 ? "" : "s",
	       migrate_version(db));
	return 0;
}

/* init: the database must not exist yet (or be empty). */
static int cmd_init(struct admin_opts *o)
{
	struct stat sb;
	if (stat(o->cfg.database, &sb) == 0 && sb.st_size > 0) {
		fprintf(
		    stderr,
		    "tianbao-admin: %s already exists; use 'tianbao-admin migrate' to upgrade it\n",
		    o->cfg.database);
		return 1;
	}
	struct db db;
	if (!admin_open(o, &db))
		return 1;
	int rc = admin_migrate(o, &db);
	db_close(&db);
	return rc;
}

/* migrate: apply what is pending. */
static int cmd_migrate(struct admin_opts *o)
{
	struct stat sb;
	if (stat(o->cfg.database, &sb) != 0) {
		fprintf(stderr,
		        "tianbao-admin: %s does not exist; create it with 'tianbao-admin init'\n",
		        o->cfg.database);
		return 1;
	}
	struct db db;
	if (!admin_open(o, &db))
		return 1;
	int rc = admin_migrate(o, &db);
	db_close(&db);
	return rc;
}

/* version: print the migration number. */
static int cmd_version(struct admin_opts *o)
{
	struct db db;
	if (!admin_open(o, &db))
		return 1;
	int v = migrate_version(&db);
	db_close(&db);
	if (v < 0)
		return 1;
	printf("%04d\n", v);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
	                                     {"db", required_argument, NULL, 'd'},
	                                     {"migrations", required_argument, NULL, 'm'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	struct admin_opts o = {0};
	int c;
	log_init("tianbao-admin");
	config_defaults(&o.cfg);
	while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.cfg_path = optarg;
			break;
		case 'd':
			o.db_path = optarg;
			break;
		case 'm':
			o.migrations = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	char err[512];
	if (o.cfg_path && !config_load(&o.cfg, o.cfg_path, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: %s\n", err);
		return 1;
	}
	if (o.db_path)
		snprintf(o.cfg.database, sizeof(o.cfg.database), "%s", o.db_path);
	if (o.migrations)
		snprintf(o.cfg.migrations, sizeof(o.cfg.migrations), "%s", o.migrations);
	const char *cmd = argv[optind];
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	static const struct {
		const char *name;
		int (*run)(struct admin_opts *, int, char **);
	} cmds[] = {{"orgunit", cmd_orgunit}, {"user", cmd_user},
	            {"forms", cmd_forms},     {"period", cmd_period},
	            {"values", cmd_values},   {"indicators", cmd_indicators},
	            {"report", cmd_report}};
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].run(&o, argc - optind, argv + optind);
	static const struct {
		const char *name;
		int (*run)(struct admin_opts *);
	} simple[] = {{"init", cmd_init}, {"migrate", cmd_migrate}, {"version", cmd_version}};
	for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		if (strcmp(cmd, simple[i].name) != 0)
			continue;
		if (optind + 1 < argc) {
			bool help = strcmp(argv[optind + 1], "--help") == 0 ||
			            strcmp(argv[optind + 1], "-h") == 0;
			if (!help)
				fprintf(stderr, "tianbao-admin: %s takes no arguments\n", cmd);
			usage(help ? stdout : stderr);
			return help ? 0 : 2;
		}
		if (!o.cfg_path && !o.db_path) {
			fprintf(stderr, "tianbao-admin: give -c CONFIG or --db PATH\n");
			return 2;
		}
		return simple[i].run(&o);
	}
	fprintf(stderr, "tianbao-admin: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}

/* admin.h — tianbao-admin: shared options, helpers and the subcommand entry points. */
#ifndef TB_ADMIN_H
#define TB_ADMIN_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "core/config.h"
#include "core/db.h"

/* The actor recorded in audit rows written by the command line tool. */
#define ADMIN_ACTOR "admin-cli"

/* Options common to every subcommand. */
struct admin_opts {
	struct config cfg;
	const char *cfg_path;
	const char *db_path;
	const char *migrations;
};

/* Open the configured database, which must already exist (created by
 * `tianbao-admin init`) and be migrated. Returns 0, or the exit code after an
 * English message: 2 when neither -c nor --db was given, 1 otherwise. */
int admin_open_existing(struct admin_opts *o, struct db *db);

/* admin_open_existing, and the database must have migration `version` (the
 * tables a command needs): else an English message and exit code 1. */
int admin_open_at(struct admin_opts *o, struct db *db, int version);

/* Write one CSV field (quoted when it holds a comma, quote, CR/LF or
 * surrounding spaces; NULL writes an empty field), followed by `sep`
 * (',' or '\n'). */
void admin_csv_field(FILE *f, const char *s, char sep);

/* Read one line from stdin (a password) into buf, without the line end.
 * False with an English message on EOF, an empty line, or a line longer
 * than buflen - 2 bytes. */
bool admin_read_line(char *buf, size_t buflen);

/* One action of a command group ("period add"): its function (argv[0] is the
 * action's name) and usage text. */
struct admin_action {
	const char *name;
	int (*run)(struct admin_opts *o, int argc, char **argv);
	const char *usage;
};

/* Run `GROUP ACTION ARGS...` (argv[0] is the group) from a table ending in a
 * zeroed entry; help and unknown actions print the usage texts. Returns the
 * exit code. */
int admin_dispatch(struct admin_opts *o, const char *group, const struct admin_action *actions,
                   int argc, char **argv);

/* getopt_long over an action's arguments (set optind = 0 before the first
 * call): returns the next option character when it is in `allowed`; 0 when
 * the options are done; -1 after printing `usage` for --help (exit 0); -3
 * after an English message for an unknown, unexpected or incomplete option
 * (exit 2). So `return -c - 1` gives the exit code of a negative result. */
int admin_getopt(int argc, char **argv, const struct option *opts, const char *allowed,
                 const char *usage);

/* `tianbao-admin orgunit ...`: argv[0] is "orgunit". Returns the exit code. */
int cmd_orgunit(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin user ...`: argv[0] is "user". Returns the exit code. */
int cmd_user(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin forms ...`: argv[0] is "forms". Returns the exit code. */
int cmd_forms(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin period ...`: argv[0] is "period". Returns the exit code. */
int cmd_period(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin values ...`: argv[0] is "values". Returns the exit code. */
int cmd_values(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin indicators ...`: argv[0] is "indicators". Returns the exit code. */
int cmd_indicators(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin report ...`: argv[0] is "report". Returns the exit code. */
int cmd_report(struct admin_opts *o, int argc, char **argv);

#endif

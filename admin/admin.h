/* admin.h — tianbao-admin: shared options, helpers and the subcommand entry points. */
#ifndef TB_ADMIN_H
#define TB_ADMIN_H

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

/* Write one CSV field (quoted when it holds a comma, quote, CR/LF or
 * surrounding spaces; NULL writes an empty field), followed by `sep`
 * (',' or '\n'). */
void admin_csv_field(FILE *f, const char *s, char sep);

/* Read one line from stdin (a password) into buf, without the line end.
 * False with an English message on EOF, an empty line, or a line longer
 * than buflen - 2 bytes. */
bool admin_read_line(char *buf, size_t buflen);

/* `tianbao-admin orgunit ...`: argv[0] is "orgunit". Returns the exit code. */
int cmd_orgunit(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin user ...`: argv[0] is "user". Returns the exit code. */
int cmd_user(struct admin_opts *o, int argc, char **argv);

/* `tianbao-admin forms ...`: argv[0] is "forms". Returns the exit code. */
int cmd_forms(struct admin_opts *o, int argc, char **argv);

#endif

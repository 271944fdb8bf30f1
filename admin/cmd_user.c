/* cmd_user.c — tianbao-admin user: add, list, set passwords, disable and enable accounts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin/admin.h"
#include "core/arena.h"
#include "core/orgunit.h"
#include "core/user.h"

/* The options an action may take. */
struct user_opts {
	const char *name;
	bool password_stdin;
	bool no_force_change;
};

/* Print the usage of `user` (or of one action when `action` is set). */
static void user_usage(FILE *f, const char *action)
{
	static const struct {
		const char *action, *text;
	} texts[] = {
	    {"add", "usage: tianbao-admin [-c CONFIG | --db PATH] user add LOGIN ROLE ORG_CODE\n"
	            "           [--name NAME] [--password-stdin] [--no-force-change]\n"
	            "  Create an account. ROLE is school (ORG_CODE: a school), reviewer (a county\n"
	            "  or the city) or admin (the city). NAME defaults to the org unit's name.\n"
	            "  Without --password-stdin a one-time password is generated and printed\n"
	            "  once; with it, the password is the first line of standard input. The\n"
	            "  user must choose a new password at the first login unless\n"
	            "  --no-force-change is given.\n"},
	    {"list", "usage: tianbao-admin [-c CONFIG | --db PATH] user list\n"
	             "  Print every account as CSV: login,role,org_code,org_name,active.\n"},
	    {"passwd", "usage: tianbao-admin [-c CONFIG | --db PATH] user passwd LOGIN\n"
	               "           [--password-stdin] [--no-force-change]\n"
	               "  Set a new password (generated and printed once, or read from standard\n"
	               "  input) and end the user's sessions. The user must change it at the\n"
	               "  next login unless --no-force-change is given.\n"},
	    {"disable", "usage: tianbao-admin [-c CONFIG | --db PATH] user disable LOGIN\n"
	                "  Block the account and end its sessions.\n"},
	    {"enable", "usage: tianbao-admin [-c CONFIG | --db PATH] user enable LOGIN\n"
	               "  Allow a disabled account to log in again.\n"},
	};
	bool first = true;
	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		if (action && strcmp(action, texts[i].action) != 0)
			continue;
		if (!first)
			fputc('\n', f);
		fputs(texts[i].text, f);
		first = false;
	}
}

/* Parse an action's options (those not in `allowed` are refused) and check
 * that `npos` positional arguments follow. Returns -1 to go on, or an exit code. */
static int user_parse(int argc, char **argv, const char *action, const char *allowed, int npos,
                      struct user_opts *uo)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
	                                     {"password-stdin", no_argument, NULL, 'p'},
	                                     {"no-force-change", no_argument, NULL, 'f'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	int c;
	memset(uo, 0, sizeof(*uo));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			user_usage(stdout, action);
			return 0;
		}
		if (c == '?' || c == ':' || !strchr(allowed, c)) {
			fprintf(stderr, "tianbao-admin: user %s: %s option '%s'\n", action,
			        c == ':' ? "missing value for" : "unknown", argv[optind - 1]);
			user_usage(stderr, action);
			return 2;
		}
		if (c == 'n')
			uo->name = optarg;
		else if (c == 'p')
			uo->password_stdin = true;
		else if (c == 'f')
			uo->no_force_change = true;
	}
	if (argc - optind != npos) {
		user_usage(stderr, action);
		return 2;
	}
	return -1;
}

/* Get the new password: read from stdin, or generate one (in the arena).
 * Checks the policy; NULL after an English message. */
static const char *user_password(const struct user_opts *uo, struct arena *a, const char *login)
{
	const char *why;
	char *pw;
	if (uo->password_stdin) {
		pw = arena_alloc(a, USER_PASSWORD_MAX + 2);
		if (!admin_read_line(pw, USER_PASSWORD_MAX + 2))
			return NULL;
	} else {
		pw = user_random_password(a);
	}
	if (!user_password_ok(login, pw, &why)) {
		fprintf(
		    stderr,
		    "tianbao-admin: the password does not meet the policy (%d to %d characters, "
		    "not one character repeated, not the login, no control characters)\n",
		    USER_PASSWORD_MIN, USER_PASSWORD_MAX);
		return NULL;
	}
	return pw;
}

/* Tell a generated password once. */
static void user_show_password(const struct user_opts *uo, const char *login, const char *pw)
{
	if (uo->password_stdin)
		return;
	printf("password for %s: %s\n", login, pw);
	if (!uo->no_force_change)
		printf("(shown only now; it is a one-time password that must be changed at the "
		       "first login)\n");
}

/* user add LOGIN ROLE ORG_CODE */
static int user_add(struct admin_opts *o, int argc, char **argv)
{
	struct user_opts uo;
	int rc = user_parse(argc, argv, "add", "npf", 3, &uo);
	if (rc >= 0)
		return rc;
	const char *login = argv[optind], *role = argv[optind + 1], *org = argv[optind + 2];
	if (!user_login_valid(login)) {
		fprintf(stderr,
		        "tianbao-admin: invalid login '%s': use 1 to %d of A-Z a-z 0-9 . _ -\n",
		        login, USER_LOGIN_MAX);
		return 2;
	}
	if (!user_role_valid(role)) {
		fprintf(stderr, "tianbao-admin: unknown role '%s' (school, reviewer or admin)\n",
		        role);
		return 2;
	}
	struct db db;
	rc = admin_open_existing(o, &db);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 16 * 1024);
	struct org_unit unit;
	struct user existing, u;
	char err[512];
	rc = 1;
	int found = ou_get_by_code(&db, &a, org, &unit);
	if (found != 1) {
		if (found == 0)
			fprintf(stderr, "tianbao-admin: no org unit with code '%s'\n", org);
		goto out;
	}
	if (!user_role_fits_unit(role, unit.kind)) {
		fprintf(stderr,
		        "tianbao-admin: a %s account cannot belong to %s, which is a %s "
		        "(school: a school; reviewer: a county or the city; admin: the city)\n",
		        role, org, unit.kind);
		goto out;
	}
	if (!unit.active) {
		fprintf(stderr, "tianbao-admin: org unit %s is deactivated\n", org);
		goto out;
	}
	found = user_get_by_login(&db, &a, login, &existing, NULL, 0);
	if (found != 0) {
		if (found == 1)
			fprintf(stderr, "tianbao-admin: login '%s' is already taken\n", login);
		goto out;
	}
	const char *pw = user_password(&uo, &a, login);
	if (!pw)
		goto out;
	memset(&u, 0, sizeof(u));
	u.login = login;
	u.role = role;
	u.org_code = org;
	u.display_name = uo.name ? uo.name : unit.name;
	u.must_change = !uo.no_force_change;
	u.active = true;
	if (!user_create(&db, &u, pw, ADMIN_ACTOR, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: cannot create user %s: %s\n", login, err);
		goto out;
	}
	printf("created user %s (%s, %s %s)\n", login, role, unit.code, unit.name);
	user_show_password(&uo, login, pw);
	rc = 0;
out:
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* user list */
static int user_list_cmd(struct admin_opts *o, int argc, char **argv)
{
	struct user_opts uo;
	int rc = user_parse(argc, argv, "list", "", 0, &uo);
	if (rc >= 0)
		return rc;
	struct db db;
	rc = admin_open_existing(o, &db);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 64 * 1024);
	struct user *list;
	size_t n;
	rc = 1;
	if (user_list(&db, &a, 0, &list, &n) != 0) {
		fprintf(stderr, "tianbao-admin: cannot list users\n");
		goto out;
	}
	printf("login,role,org_code,org_name,active\n");
	for (size_t i = 0; i < n; i++) {
		admin_csv_field(stdout, list[i].login, ',');
		admin_csv_field(stdout, list[i].role, ',');
		admin_csv_field(stdout, list[i].org_code, ',');
		admin_csv_field(stdout, list[i].org_name, ',');
		admin_csv_field(stdout, list[i].active ? "1" : "0", '\n');
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* Load the account named by the single positional argument; 1 found. */
static int user_find(struct db *db, struct arena *a, const char *login, struct user *u)
{
	int found = user_get_by_login(db, a, login, u, NULL, 0);
	if (found == 0)
		fprintf(stderr, "tianbao-admin: no user '%s'\n", login);
	else if (found < 0)
		fprintf(stderr, "tianbao-admin: cannot read user '%s'\n", login);
	return found;
}

/* user passwd LOGIN */
static int user_passwd(struct admin_opts *o, int argc, char **argv)
{
	struct user_opts uo;
	int rc = user_parse(argc, argv, "passwd", "pf", 1, &uo);
	if (rc >= 0)
		return rc;
	const char *login = argv[optind];
	struct db db;
	rc = admin_open_existing(o, &db);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 16 * 1024);
	struct user u;
	char err[512];
	rc = 1;
	if (user_find(&db, &a, login, &u) != 1)
		goto out;
	const char *pw = user_password(&uo, &a, login);
	if (!pw)
		goto out;
	if (!user_set_password(&db, u.id, pw, !uo.no_force_change, ADMIN_ACTOR, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: cannot set the password of %s: %s\n", login, err);
		goto out;
	}
	printf("password of %s changed; its sessions have ended\n", login);
	user_show_password(&uo, login, pw);
	rc = 0;
out:
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* user disable LOGIN / user enable LOGIN */
static int user_active(struct admin_opts *o, int argc, char **argv, bool active)
{
	struct user_opts uo;
	const char *action = active ? "enable" : "disable";
	int rc = user_parse(argc, argv, action, "", 1, &uo);
	if (rc >= 0)
		return rc;
	const char *login = argv[optind];
	struct db db;
	rc = admin_open_existing(o, &db);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 16 * 1024);
	struct user u;
	char err[512];
	rc = 1;
	if (user_find(&db, &a, login, &u) != 1)
		goto out;
	if (!user_set_active(&db, u.id, active, ADMIN_ACTOR, err, sizeof(err))) {
		fprintf(stderr, "tianbao-admin: cannot %s %s: %s\n", action, login, err);
		goto out;
	}
	printf("%s %s\n", active ? "enabled" : "disabled", login);
	rc = 0;
out:
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* Dispatch `user ACTION ...`. */
int cmd_user(struct admin_opts *o, int argc, char **argv)
{
	if (argc < 2) {
		user_usage(stderr, NULL);
		return 2;
	}
	const char *action = argv[1];
	argc--;
	argv++;
	if (strcmp(action, "add") == 0)
		return user_add(o, argc, argv);
	if (strcmp(action, "list") == 0)
		return user_list_cmd(o, argc, argv);
	if (strcmp(action, "passwd") == 0)
		return user_passwd(o, argc, argv);
	if (strcmp(action, "disable") == 0)
		return user_active(o, argc, argv, false);
	if (strcmp(action, "enable") == 0)
		return user_active(o, argc, argv, true);
	if (strcmp(action, "--help") == 0 || strcmp(action, "-h") == 0 ||
	    strcmp(action, "help") == 0) {
		user_usage(stdout, NULL);
		return 0;
	}
	fprintf(stderr, "tianbao-admin: user: unknown action '%s'\n", action);
	user_usage(stderr, NULL);
	return 2;
}

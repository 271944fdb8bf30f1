/* cmd_period.c — tianbao-admin period: add a reporting period, move its closing time, list them. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "core/arena.h"
#include "core/period.h"

static const char period_usage_add[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] period add CODE --name NAME\n"
    "           --opens TIME --closes TIME --forms FORM[,FORM...]\n"
    "  Create a reporting period, e.g. period add 2026 --name 2026学年\n"
    "  --opens 2026-09-01 --closes '2026-09-20 18:00' --forms basic,students,staff,facilities\n"
    "  Times are China Standard Time (UTC+8): YYYY-MM-DD or 'YYYY-MM-DD HH:MM'. A date\n"
    "  alone opens at the start of that day and closes at the end of it. The forms must\n"
    "  be loaded ('forms load') and are shown to schools in the order given.\n";
static const char period_usage_extend[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] period extend CODE --closes TIME\n"
    "  Move the closing time of a period (usually later, to give schools more time).\n";
static const char period_usage_list[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] period list\n"
    "  Print the periods as CSV: code,name,opens,closes,forms,window (window: open,\n"
    "  not_yet or closed now).\n";

/* The options of period actions. */
struct period_opts {
	const char *name, *opens, *closes, *forms;
};

/* Parse the options of an action; only those in `allowed` are accepted, and
 * `npos` positional arguments must follow. -1 to go on, else the exit code. */
static int period_parse(int argc, char **argv, const char *usage, const char *allowed, int npos,
                        struct period_opts *po)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},   {"opens", required_argument, NULL, 'o'},
	    {"closes", required_argument, NULL, 'c'}, {"forms", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
	memset(po, 0, sizeof(*po));
	int c;
	optind = 0;
	while ((c = admin_getopt(argc, argv, opts, allowed, usage)) > 0) {
		if (c == 'n')
			po->name = optarg;
		else if (c == 'o')
			po->opens = optarg;
		else if (c == 'c')
			po->closes = optarg;
		else if (c == 'f')
			po->forms = optarg;
	}
	if (c < 0)
		return -c - 1;
	if (argc - optind != npos) {
		fputs(usage, stderr);
		return 2;
	}
	return -1;
}

/* Parse a time option; false after an English message. */
static bool period_time(const char *what, const char *s, bool end, long long *out)
{
	if (s && period_parse_time(s, end, out))
		return true;
	fprintf(stderr,
	        "tianbao-admin: --%s '%s' is not a time: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM' "
	        "(China Standard Time)\n",
	        what, s ? s : "");
	return false;
}

/* Split "a,b,c" into the arena. */
static size_t period_split(struct arena *a, const char *list, const char ***out)
{
	const char **v = arena_alloc(a, (PERIOD_MAX_FORMS + 1) * sizeof(*v));
	size_t n = 0;
	const char *p = list;
	while (*p && n <= PERIOD_MAX_FORMS) {
		size_t len = strcspn(p, ",");
		if (len)
			v[n++] = arena_strndup(a, p, len);
		p += len;
		if (*p == ',')
			p++;
	}
	*out = v;
	return n;
}

/* period add CODE --name --opens --closes --forms */
static int period_add_cmd(struct admin_opts *o, int argc, char **argv)
{
	struct period_opts po;
	int rc = period_parse(argc, argv, period_usage_add, "nocf", 1, &po);
	if (rc >= 0)
		return rc;
	if (!po.name || !po.opens || !po.closes || !po.forms) {
		fprintf(stderr,
		        "tianbao-admin: period add needs --name, --opens, --closes and --forms\n");
		fputs(period_usage_add, stderr);
		return 2;
	}
	struct period p = {.code = argv[optind], .name = po.name};
	if (!period_time("opens", po.opens, false, &p.opens_at) ||
	    !period_time("closes", po.closes, true, &p.closes_at))
		return 2;
	struct arena a;
	arena_init(&a, 4096);
	p.nforms = period_split(&a, po.forms, &p.forms);
	struct db db;
	rc = admin_open_at(o, &db, 4);
	if (rc == 0) {
		char err[512], t1[32], t2[32];
		if (period_add(&db, &p, ADMIN_ACTOR, err, sizeof(err))) {
			printf("period %s added: %s to %s (UTC+8), %zu forms\n", p.code,
			       period_format_time(p.opens_at, t1, sizeof(t1)),
			       period_format_time(p.closes_at, t2, sizeof(t2)), p.nforms);
		} else {
			fprintf(stderr, "tianbao-admin: %s\n", err);
			rc = 1;
		}
		db_close(&db);
	}
	arena_free(&a);
	return rc;
}

/* period extend CODE --closes TIME */
static int period_extend_cmd(struct admin_opts *o, int argc, char **argv)
{
	struct period_opts po;
	int rc = period_parse(argc, argv, period_usage_extend, "c", 1, &po);
	if (rc >= 0)
		return rc;
	long long closes;
	if (!po.closes) {
		fprintf(stderr, "tianbao-admin: period extend needs --closes\n");
		return 2;
	}
	if (!period_time("closes", po.closes, true, &closes))
		return 2;
	struct db db;
	rc = admin_open_at(o, &db, 4);
	if (rc != 0)
		return rc;
	char err[512], t[32];
	if (period_set_closes(&db, argv[optind], closes, ADMIN_ACTOR, err, sizeof(err))) {
		printf("period %s now closes %s (UTC+8)\n", argv[optind],
		       period_format_time(closes, t, sizeof(t)));
	} else {
		fprintf(stderr, "tianbao-admin: %s\n", err);
		rc = 1;
	}
	db_close(&db);
	return rc;
}

/* period list */
static int period_list_cmd(struct admin_opts *o, int argc, char **argv)
{
	struct period_opts po;
	int rc = period_parse(argc, argv, period_usage_list, "", 0, &po);
	if (rc >= 0)
		return rc;
	struct db db;
	rc = admin_open_at(o, &db, 4);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 4096);
	struct period *list;
	size_t n;
	if (period_list(&db, &a, &list, &n) != 0) {
		fprintf(stderr, "tianbao-admin: cannot read the periods\n");
		rc = 1;
	} else {
		static const char *const windows[] = {"not_yet", "open", "closed"};
		long long now = (long long)time(NULL);
		printf("code,name,opens,closes,forms,window\n");
		for (size_t i = 0; i < n; i++) {
			char t1[32], t2[32], forms[512] = "";
			for (size_t k = 0; k < list[i].nforms; k++) {
				size_t len = strlen(forms);
				snprintf(forms + len, sizeof(forms) - len, "%s%s", k ? " " : "",
				         list[i].forms[k]);
			}
			admin_csv_field(stdout, list[i].code, ',');
			admin_csv_field(stdout, list[i].name, ',');
			admin_csv_field(stdout,
			                period_format_time(list[i].opens_at, t1, sizeof(t1)), ',');
			admin_csv_field(stdout,
			                period_format_time(list[i].closes_at, t2, sizeof(t2)), ',');
			admin_csv_field(stdout, forms, ',');
			admin_csv_field(stdout, windows[period_window(&list[i], now)], '\n');
		}
	}
	arena_free(&a);
	db_close(&db);
	return rc;
}

/* Dispatch `period ACTION ...`. */
int cmd_period(struct admin_opts *o, int argc, char **argv)
{
	static const struct admin_action actions[] = {
	    {"add", period_add_cmd, period_usage_add},
	    {"extend", period_extend_cmd, period_usage_extend},
	    {"list", period_list_cmd, period_usage_list},
	    {NULL, NULL, NULL},
	};
	return admin_dispatch(o, "period", actions, argc, argv);
}

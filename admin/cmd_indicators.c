/* cmd_indicators.c — tianbao-admin indicators (check, load, list) and report (an indicator table).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/admin.h"
#include "core/fileread.h"
#include "core/form.h"
#include "core/indicator.h"
#include "core/measure.h"
#include "core/orgunit.h"
#include "core/period.h"

static const char usage_load[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] indicators load FILE.json...\n"
    "  Check indicator definitions (db/indicators/) against the loaded forms and store\n"
    "  them in one transaction; if anything is wrong every problem is printed and\n"
    "  nothing is stored. A higher or equal edition replaces a stored set.\n";
static const char usage_check[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] indicators check FILE.json...\n"
    "  Check the definitions as 'indicators load' does, without storing them.\n";
static const char usage_list[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] indicators list\n"
    "  Print the stored indicators as CSV: set,code,name,unit,stages,threshold,direction.\n";
static const char usage_report[] =
    "usage: tianbao-admin [-c CONFIG | --db PATH] report --period CODE --unit CODE\n"
    "           [--provisional]\n"
    "  Print the indicators of a period for an org unit (a county or the city) as CSV:\n"
    "  level,unit_code,unit_name,indicator,name,stage,value,numerator,denominator,\n"
    "  threshold,pass — one row per school and indicator (level school), per county\n"
    "  (county), for the unit (county or city: numerators and denominators summed, never\n"
    "  ratios averaged), the coefficients of variation of the 优质均衡 indicators\n"
    "  (level cv: value = the CV, threshold = the limit) and each school's 优质均衡\n"
    "  verdict per stage (level verdict: value PASS, FAIL or MISSING). Values at full\n"
    "  precision. Approved submissions only, unless --provisional adds submitted ones.\n";

/* Read the files into a collection parsed against the stored forms; false after messages. */
static bool ind_read_files(struct ind_sets *s, int n, char **files)
{
	bool ok = true;
	for (int i = 0; i < n; i++) {
		char err[1024];
		size_t len;
		char *buf = file_read(files[i], IND_MAX_JSON, &len, err, sizeof(err));
		if (!buf || !ind_sets_add_json(s, buf, len, files[i], err, sizeof(err))) {
			fprintf(stderr, "tianbao-admin: %s\n", err);
			ok = false;
		}
		free(buf);
	}
	return ok;
}

/* indicators load / check FILE... */
static int ind_load_or_check(struct admin_opts *o, int argc, char **argv, bool store)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *usage = store ? usage_load : usage_check;
	int c;
	optind = 0;
	while ((c = admin_getopt(argc, argv, opts, "", usage)) > 0)
		;
	if (c < 0)
		return -c - 1;
	if (argc - optind < 1) {
		fputs(usage, stderr);
		return 2;
	}
	struct db db;
	int rc = admin_open_at(o, &db, 6);
	if (rc != 0)
		return rc;
	char err[1024];
	rc = 1;
	struct form_set *forms = form_set_load_db(&db, err, sizeof(err));
	struct ind_sets *s = forms ? ind_sets_new(forms) : NULL;
	if (!forms)
		fprintf(stderr,
		        "tianbao-admin: the stored forms do not load (load the forms first): %s\n",
		        err);
	else if (s && ind_read_files(s, argc - optind, argv + optind)) {
		if (!store || ind_store(&db, s, ADMIN_ACTOR, err, sizeof(err))) {
			size_t n = 0;
			for (size_t i = 0; i < s->nsets; i++)
				n += s->sets[i]->ninds;
			printf("%s %zu indicator set%s, %zu indicators\n",
			       store ? "loaded" : "checked", s->nsets, s->nsets == 1 ? "" : "s", n);
			rc = 0;
		} else {
			fprintf(stderr, "tianbao-admin: %s\n", err);
		}
	}
	if (rc && store)
		fprintf(stderr, "tianbao-admin: nothing was loaded\n");
	ind_sets_free(s);
	form_set_free(forms);
	db_close(&db);
	return rc;
}

/* indicators load FILE... */
static int ind_load_cmd(struct admin_opts *o, int argc, char **argv)
{
	return ind_load_or_check(o, argc, argv, true);
}

/* indicators check FILE... */
static int ind_check_cmd(struct admin_opts *o, int argc, char **argv)
{
	return ind_load_or_check(o, argc, argv, false);
}

/* Open the database and parse the stored forms and indicators; 0 or an exit code. */
static int ind_open(struct admin_opts *o, struct db *db, struct form_set **forms,
                    struct ind_sets **defs)
{
	char err[1024];
	int rc = admin_open_at(o, db, 6);
	if (rc != 0)
		return rc;
	*forms = form_set_load_db(db, err, sizeof(err));
	*defs = *forms ? ind_load_db(db, *forms, err, sizeof(err)) : NULL;
	if (!*defs) {
		fprintf(stderr, "tianbao-admin: the stored definitions do not load: %s\n", err);
		form_set_free(*forms);
		db_close(db);
		return 1;
	}
	return 0;
}

/* indicators list */
static int ind_list_cmd(struct admin_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	optind = 0;
	while ((c = admin_getopt(argc, argv, opts, "", usage_list)) > 0)
		;
	if (c < 0)
		return -c - 1;
	struct db db;
	struct form_set *forms;
	struct ind_sets *defs;
	int rc = ind_open(o, &db, &forms, &defs);
	if (rc != 0)
		return rc;
	printf("set,code,name,unit,stages,threshold,direction\n");
	for (size_t i = 0; i < defs->nsets; i++)
		for (size_t k = 0; k < defs->sets[i]->ninds; k++) {
			const struct ind_def *d = &defs->sets[i]->inds[k];
			char stages[64] = "", th[160] = "";
			for (int st = 0; st <= IND_NSTAGES; st++) {
				bool used =
				    st == IND_WHOLE ? !d->stages : (d->stages & (1u << st)) != 0;
				if (!used)
					continue;
				size_t n = strlen(th);
				snprintf(th + n, sizeof(th) - n, "%s%g", n ? " " : "",
				         d->threshold[st]);
				if (st != IND_WHOLE) {
					n = strlen(stages);
					snprintf(stages + n, sizeof(stages) - n, "%s%s",
					         n ? " " : "", form_stage_prefix(1u << st));
				}
			}
			admin_csv_field(stdout, defs->sets[i]->code, ',');
			admin_csv_field(stdout, d->code, ',');
			admin_csv_field(stdout, d->name, ',');
			admin_csv_field(stdout, d->unit, ',');
			admin_csv_field(stdout, stages, ',');
			admin_csv_field(stdout, th, ',');
			admin_csv_field(stdout, d->dir == ID_GE ? ">=" : "<=", '\n');
		}
	ind_sets_free(defs);
	form_set_free(forms);
	db_close(&db);
	return 0;
}

/* One report row. */
static void report_row(const char *level, const char *code, const char *name,
                       const struct ms_col *c, const char *value, const double *num,
                       const double *den, const char *threshold, int pass)
{
	char n[40] = "", d[40] = "";
	if (num)
		snprintf(n, sizeof(n), "%.10g", *num);
	if (den)
		snprintf(d, sizeof(d), "%.10g", *den);
	admin_csv_field(stdout, level, ',');
	admin_csv_field(stdout, code, ',');
	admin_csv_field(stdout, name, ',');
	admin_csv_field(stdout, c->ind ? c->ind->code : c->set->code, ',');
	admin_csv_field(stdout, c->ind ? c->ind->name : c->set->name, ',');
	admin_csv_field(stdout, c->st == IND_WHOLE ? "" : form_stage_prefix(1u << c->st), ',');
	admin_csv_field(stdout, value, ',');
	admin_csv_field(stdout, n, ',');
	admin_csv_field(stdout, d, ',');
	admin_csv_field(stdout, threshold, ',');
	admin_csv_field(stdout, pass < 0 ? "" : pass ? "yes" : "no", '\n');
}

/* The rows of one group (a county or the unit). */
static void report_group(const struct ms_result *r, const struct ms_group *g, const char *level)
{
	for (size_t k = 0; k < r->ncols; k++) {
		const struct ms_col *c = &r->cols[k];
		const struct ms_agg *ag = &g->aggs[k];
		char v[40] = "", t[40];
		if (ag->has_value)
			snprintf(v, sizeof(v), "%.10g", ag->value);
		snprintf(t, sizeof(t), "%.10g", c->threshold);
		report_row(level, g->code, g->name, c, v, &ag->num, &ag->den, t, ag->pass);
		if (ag->has_cv) {
			snprintf(v, sizeof(v), "%.10g", ag->cv);
			snprintf(t, sizeof(t), "%.10g", c->set->cv_limit[c->st]);
			report_row("cv", g->code, g->name, c, v, NULL, NULL, t, ag->cv_pass);
		}
	}
}

/* report --period CODE --unit CODE [--provisional] */
static int report_cmd(struct admin_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {{"period", required_argument, NULL, 'p'},
	                                     {"unit", required_argument, NULL, 'u'},
	                                     {"provisional", no_argument, NULL, 'v'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *period = NULL, *unit = NULL;
	bool provisional = false;
	int c;
	optind = 0;
	while ((c = admin_getopt(argc, argv, opts, "puv", usage_report)) > 0) {
		if (c == 'p')
			period = optarg;
		else if (c == 'u')
			unit = optarg;
		else
			provisional = true;
	}
	if (c < 0)
		return -c - 1;
	if (!period || !unit || optind != argc) {
		fputs(usage_report, stderr);
		return 2;
	}
	struct db db;
	struct form_set *forms;
	struct ind_sets *defs;
	int rc = ind_open(o, &db, &forms, &defs);
	if (rc != 0)
		return rc;
	struct arena a;
	arena_init(&a, 1 << 20);
	struct period p;
	struct org_unit u;
	struct ms_result r;
	rc = 1;
	int got_p = period_code_valid(period) ? period_get(&db, &a, period, &p) : 0;
	int got_u = got_p == 1 ? ou_get_by_code(&db, &a, unit, &u) : 0;
	if (got_p < 0 || got_u < 0)
		fprintf(stderr, "tianbao-admin: cannot read the database\n");
	else if (got_p == 0)
		fprintf(stderr, "tianbao-admin: no period '%s'\n", period);
	else if (got_u == 0 || strcmp(u.kind, "school") == 0)
		fprintf(stderr, "tianbao-admin: '%s' is not a county or city code\n", unit);
	else if (ms_compute(&db, &a, defs, &p, u.id, provisional, &r) != 0)
		fprintf(stderr, "tianbao-admin: cannot compute the indicators (database error)\n");
	else
		rc = 0;
	if (rc == 0) {
		printf("level,unit_code,unit_name,indicator,name,stage,value,numerator,denominator,"
		       "threshold,pass\n");
		for (size_t i = 0; i < r.nschools; i++) {
			const struct ms_school *s = &r.schools[i];
			for (size_t k = 0; k < r.ncols; k++) {
				const struct ms_val *v = &s->vals[k];
				char val[40] = "", t[40];
				if (v->state == MV_NONE)
					continue;
				if (v->state == MV_OK)
					snprintf(val, sizeof(val), "%.10g", v->value);
				snprintf(t, sizeof(t), "%.10g", r.cols[k].threshold);
				report_row("school", s->school->code, s->school->name, &r.cols[k],
				           val, v->known ? &v->num : NULL,
				           v->known ? &v->den : NULL, t, v->pass);
			}
			for (size_t si = 0; si < defs->nsets; si++)
				for (int st = 0; st < IND_NSTAGES; st++) {
					static const char *const names[] = {"", "MISSING", "PASS",
					                                    "FAIL"};
					unsigned char vd = s->verdict[si * IND_NSTAGES + st];
					struct ms_col col = {.set = defs->sets[si], .st = st};
					if (vd != VD_NONE)
						report_row("verdict", s->school->code,
						           s->school->name, &col, names[vd], NULL,
						           NULL, "", vd == VD_PASS);
				}
		}
		for (size_t i = 0; i < r.ncounties; i++)
			report_group(&r, &r.counties[i], "county");
		r.total.code = u.code;
		r.total.name = u.name;
		report_group(&r, &r.total, u.kind);
	}
	arena_free(&a);
	ind_sets_free(defs);
	form_set_free(forms);
	db_close(&db);
	return rc;
}

/* Dispatch `indicators ACTION ...`. */
int cmd_indicators(struct admin_opts *o, int argc, char **argv)
{
	static const struct admin_action actions[] = {
	    {"load", ind_load_cmd, usage_load},
	    {"check", ind_check_cmd, usage_check},
	    {"list", ind_list_cmd, usage_list},
	    {NULL, NULL, NULL},
	};
	return admin_dispatch(o, "indicators", actions, argc, argv);
}

/* `report ...` (argv[0] is "report"). */
int cmd_report(struct admin_opts *o, int argc, char **argv)
{
	return report_cmd(o, argc, argv);
}

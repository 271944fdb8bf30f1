/* page_home.c — the home page of each role and the page of one school. */
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/orgunit.h"
#include "app.h"
#include "entry_view.h"
#include "pages.h"
#include "router.h"

/* The template values of one school row. */
static struct tv *home_school_row(struct arena *a, const struct org_unit *s)
{
	struct tv *row = tv_map(a);
	tv_set_str(a, row, "code", s->code);
	tv_set_str(a, row, "name", s->name);
	tv_set_str(a, row, "type", s->school_type ? s->school_type : "");
	const char *tn = s->school_type ? ou_school_type_name(s->school_type) : NULL;
	tv_set_str(a, row, "type_name", tn ? tn : "");
	const char *ur = s->urban_rural ? ou_urban_rural_name(s->urban_rural) : NULL;
	const char *grp = s->urban_rural ? ou_urban_rural_group(s->urban_rural) : NULL;
	tv_set_str(a, row, "urban_rural", s->urban_rural ? s->urban_rural : "");
	tv_set_str(a, row, "urban_rural_name", ur ? ur : "");
	tv_set_str(a, row, "urban_rural_group", grp ? grp : "");
	const char *own = s->ownership ? ou_ownership_name(s->ownership) : NULL;
	tv_set_str(a, row, "ownership_name", own ? own : "");
	tv_set_bool(a, row, "inclusive", s->inclusive == 1);
	tv_set_str(a, row, "county_name", s->parent_name ? s->parent_name : "");
	tv_set_bool(a, row, "inactive", !s->active);
	return row;
}

/* Admin: counts and the way to the management pages. */
static void home_admin(struct http_request *req, struct tv *ctx)
{
	struct arena *a = req->arena;
	struct org_unit *list;
	struct user *users;
	size_t n, nu;
	if (ou_schools(&req->app->db, a, req->session->user.org_unit_id, &list, &n) != 0 ||
	    user_list(&req->app->db, a, 0, &users, &nu) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	struct org_unit *counties;
	size_t nc;
	if (ou_children(&req->app->db, a, req->session->user.org_unit_id, &counties, &nc) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	tv_set_int(a, ctx, "school_count", (long long)n);
	tv_set_int(a, ctx, "county_count", (long long)nc);
	tv_set_int(a, ctx, "user_count", (long long)nu);
	http_render(req, 200, "home_admin", ctx);
}

/* School: its own name and code and its tasks. */
static void home_school(struct http_request *req, struct tv *ctx)
{
	struct arena *a = req->arena;
	struct org_unit s;
	if (ou_get(&req->app->db, a, req->session->user.org_unit_id, &s) != 1) {
		http_error(req, 503, NULL);
		return;
	}
	tv_set(a, ctx, "school", home_school_row(a, &s));
	const struct form_set *set = app_forms(req->app);
	struct period p;
	int rc = set ? period_current(&req->app->db, a, (long long)time(NULL), &p) : -1;
	struct entry e;
	if (rc < 0 || (rc == 1 && entry_open(&req->app->db, a, set, &p, &s, &e) != 0)) {
		http_error(req, 503, NULL);
		return;
	}
	if (rc == 1)
		entry_view_tasks(req, ctx, &e);
	http_render(req, 200, "home_school", ctx);
}

/* GET / — the public page, or the home of the logged-in user's role. */
void page_home(struct http_request *req)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "首页");
	if (!req->session) {
		http_render(req, 200, "home", ctx);
		return;
	}
	if (req->session->user.must_change) {
		http_redirect(req, "/password");
		return;
	}
	const char *role = req->session->user.role;
	if (strcmp(role, "school") == 0)
		home_school(req, ctx);
	else if (strcmp(role, "reviewer") == 0)
		page_overview(req);
	else
		home_admin(req, ctx);
}

/* GET /schools/{code} — one school's attributes (the router has checked scope). */
void page_school(struct http_request *req)
{
	struct arena *a = req->arena;
	if (strcmp(req->unit->kind, "school") != 0) {
		http_error(req, 404, NULL);
		return;
	}
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", req->unit->name);
	struct tv *s = tv_set(a, ctx, "school", home_school_row(a, req->unit));
	if (req->unit->center_code) {
		struct org_unit c;
		if (ou_get(&req->app->db, a, req->unit->center_id, &c) == 1) {
			tv_set_str(a, s, "center_code", c.code);
			tv_set_str(a, s, "center_name", c.name);
		}
	}
	const char *stages = ou_school_type_stages(req->unit->school_type);
	tv_set_str(a, s, "stages", stages ? stages : "");
	http_render(req, 200, "school", ctx);
}

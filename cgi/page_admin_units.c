/* page_admin_units.c — the city admin manages org units: list, create, edit, (de)activate. */
#include <stdio.h>
#include <string.h>

#include "../core/auth.h"
#include "../core/orgunit.h"
#include "app.h"
#include "pages.h"

/* A list of {code, name, selected} for a select box. */
static struct tv *units_options(struct arena *a, const char *(*at)(size_t),
                                const char *(*name)(const char *), const char *selected)
{
	struct tv *list = tv_list(a);
	const char *code;
	for (size_t i = 0; (code = at(i)); i++) {
		struct tv *o = tv_push(a, list, tv_map(a));
		tv_set_str(a, o, "code", code);
		tv_set_str(a, o, "name", name(code));
		tv_set_bool(a, o, "selected", selected && strcmp(selected, code) == 0);
	}
	return list;
}

/* Form value or "" (as typed, for re-display). */
static const char *units_in(struct http_request *req, const char *name)
{
	const char *v = http_form(req, name);
	return v ? v : "";
}

/* NULL for an empty string. */
static const char *units_nz(const char *s)
{
	return s && *s ? s : NULL;
}

/* Render the create/edit form with the values of `u` and an optional error. */
static void units_form(struct http_request *req, int status, const struct org_unit *u, bool is_new,
                       const char *error)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", is_new ? "新建单位" : "编辑单位");
	tv_set_bool(a, ctx, "is_new", is_new);
	if (error)
		tv_set_str(a, ctx, "error", error);
	if (http_param(req, "saved"))
		tv_set_str(a, ctx, "notice", "已保存。");
	struct tv *f = tv_set(a, ctx, "unit", tv_map(a));
	tv_set_str(a, f, "code", u->code ? u->code : "");
	tv_set_str(a, f, "name", u->name ? u->name : "");
	tv_set_str(a, f, "kind", u->kind ? u->kind : "school");
	tv_set_bool(a, f, "kind_county", u->kind && strcmp(u->kind, "county") == 0);
	tv_set_bool(a, f, "kind_school", !u->kind || strcmp(u->kind, "school") == 0);
	tv_set_bool(a, f, "kind_city", u->kind && strcmp(u->kind, "city") == 0);
	tv_set_str(a, f, "parent_code", u->parent_code ? u->parent_code : "");
	tv_set_str(a, f, "center_code", u->center_code ? u->center_code : "");
	tv_set_bool(a, f, "public", !u->ownership || strcmp(u->ownership, "public") == 0);
	tv_set_bool(a, f, "private", u->ownership && strcmp(u->ownership, "private") == 0);
	tv_set_bool(a, f, "inclusive_yes", u->inclusive == 1);
	tv_set_bool(a, f, "inclusive_no", u->inclusive == 0);
	tv_set_bool(a, f, "active", u->active);
	tv_set(a, f, "types",
	       units_options(a, ou_school_type_at, ou_school_type_name, u->school_type));
	tv_set(a, f, "urban_rural",
	       units_options(a, ou_urban_rural_at, ou_urban_rural_name, u->urban_rural));
	http_render(req, status, "admin_unit_form", ctx);
}

/* Fill `u` from the posted form. */
static void units_from_form(struct http_request *req, struct org_unit *u)
{
	memset(u, 0, sizeof(*u));
	u->code = units_in(req, "code");
	u->name = units_in(req, "name");
	u->kind = units_in(req, "kind");
	u->parent_code = units_nz(units_in(req, "parent_code"));
	if (strcmp(u->kind, "school") == 0) {
		u->school_type = units_nz(units_in(req, "school_type"));
		u->ownership = units_nz(units_in(req, "ownership"));
		u->urban_rural = units_nz(units_in(req, "urban_rural"));
		u->center_code = units_nz(units_in(req, "center_code"));
		const char *inc = units_in(req, "inclusive");
		u->inclusive = strcmp(inc, "1") == 0 ? 1 : strcmp(inc, "0") == 0 ? 0 : -1;
	} else {
		u->inclusive = -1;
	}
	u->active = true;
}

/* GET /admin/units — every unit, county by county. */
void page_admin_units(struct http_request *req)
{
	struct arena *a = req->arena;
	struct db *db = &req->app->db;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "单位管理");
	struct org_unit *counties, *schools;
	size_t nc, ns;
	long long city = req->session->user.org_unit_id;
	if (ou_children(db, a, city, &counties, &nc) != 0 ||
	    ou_schools(db, a, city, &schools, &ns) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	struct tv *list = tv_set(a, ctx, "counties", tv_list(a));
	for (size_t i = 0; i < nc; i++) {
		struct tv *c = tv_push(a, list, tv_map(a));
		tv_set_str(a, c, "code", counties[i].code);
		tv_set_str(a, c, "name", counties[i].name);
		tv_set_bool(a, c, "inactive", !counties[i].active);
		struct tv *rows = tv_set(a, c, "schools", tv_list(a));
		long long count = 0;
		for (size_t j = 0; j < ns; j++) {
			if (schools[j].parent_id != counties[i].id)
				continue;
			struct tv *r = tv_push(a, rows, tv_map(a));
			const struct org_unit *s = &schools[j];
			const char *tn = ou_school_type_name(s->school_type);
			const char *ur = ou_urban_rural_group(s->urban_rural);
			tv_set_str(a, r, "code", s->code);
			tv_set_str(a, r, "name", s->name);
			tv_set_str(a, r, "type_name", tn ? tn : s->school_type);
			tv_set_str(a, r, "urban_rural_group", ur ? ur : "");
			const char *own = ou_ownership_name(s->ownership);
			tv_set_str(a, r, "ownership_name", own ? own : "");
			tv_set_bool(a, r, "inactive", !s->active);
			count++;
		}
		tv_set_int(a, c, "school_count", count);
	}
	http_render(req, 200, "admin_units", ctx);
}

/* GET /admin/units/new */
void page_admin_unit_new(struct http_request *req)
{
	struct org_unit u;
	memset(&u, 0, sizeof(u));
	u.inclusive = -1;
	u.active = true;
	u.parent_code = http_param(req, "parent");
	units_form(req, 200, &u, true, NULL);
}

/* POST /admin/units — create; on error the form comes back as typed. */
void page_admin_unit_create(struct http_request *req)
{
	struct org_unit u;
	char err[512];
	units_from_form(req, &u);
	if (!ou_validate(&u, err, sizeof(err)) ||
	    !ou_create(&req->app->db, &u, req->session->user.login, err, sizeof(err))) {
		units_form(req, 422, &u, true, err);
		return;
	}
	http_redirect(req, arena_printf(req->arena, "/admin/units/%s?saved=1", u.code));
}

/* GET /admin/units/{code} */
void page_admin_unit_edit(struct http_request *req)
{
	units_form(req, 200, req->unit, false, NULL);
}

/* POST /admin/units/{code} — update name and attributes. */
void page_admin_unit_update(struct http_request *req)
{
	struct org_unit u;
	char err[512];
	units_from_form(req, &u);
	u.id = req->unit->id;
	u.code = req->unit->code;
	u.kind = req->unit->kind;
	u.parent_code = req->unit->parent_code;
	u.active = req->unit->active;
	if (strcmp(u.kind, "school") != 0) {
		u.school_type = u.ownership = u.urban_rural = u.center_code = NULL;
		u.inclusive = -1;
	}
	if (!ou_validate(&u, err, sizeof(err)) ||
	    !ou_update(&req->app->db, &u, req->session->user.login, err, sizeof(err))) {
		units_form(req, 422, &u, false, err);
		return;
	}
	http_redirect(req, arena_printf(req->arena, "/admin/units/%s?saved=1", u.code));
}

/* POST /admin/units/{code}/active — active=1 or 0. */
void page_admin_unit_active(struct http_request *req)
{
	char err[256];
	const char *v = http_form(req, "active");
	bool active = v && strcmp(v, "1") == 0;
	if (req->unit->id == req->session->user.org_unit_id && !active) {
		units_form(req, 422, req->unit, false, "不能停用本人所属的单位。");
		return;
	}
	if (!ou_set_active(&req->app->db, req->unit->id, active, req->session->user.login, err,
	                   sizeof(err))) {
		units_form(req, 422, req->unit, false, err);
		return;
	}
	http_redirect(req, arena_printf(req->arena, "/admin/units/%s?saved=1", req->unit->code));
}

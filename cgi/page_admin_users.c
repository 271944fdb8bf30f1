/* page_admin_users.c — the city admin manages accounts: list, create, edit, (de)activate, reset. */
#include <string.h>

#include "../core/auth.h"
#include "app.h"
#include "pages.h"

static const char *const users_roles[] = {"school", "reviewer", "admin"};

/* Form value or "". */
static const char *users_in(struct http_request *req, const char *name)
{
	const char *v = http_form(req, name);
	return v ? v : "";
}

/* Render the create/edit form for `u`. */
static void users_form(struct http_request *req, int status, const struct user *u, bool is_new,
                       const char *error)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", is_new ? "新建账号" : "编辑账号");
	tv_set_bool(a, ctx, "is_new", is_new);
	if (error)
		tv_set_str(a, ctx, "error", error);
	if (http_param(req, "saved"))
		tv_set_str(a, ctx, "notice", "已保存。");
	struct tv *f = tv_set(a, ctx, "account", tv_map(a));
	tv_set_str(a, f, "login", u->login ? u->login : "");
	tv_set_str(a, f, "display_name", u->display_name ? u->display_name : "");
	tv_set_str(a, f, "org_code", u->org_code ? u->org_code : "");
	tv_set_str(a, f, "org_name", u->org_name ? u->org_name : "");
	tv_set_bool(a, f, "active", u->active);
	tv_set_bool(a, f, "must_change", u->must_change);
	struct tv *roles = tv_set(a, f, "roles", tv_list(a));
	for (size_t i = 0; i < 3; i++) {
		struct tv *o = tv_push(a, roles, tv_map(a));
		tv_set_str(a, o, "code", users_roles[i]);
		tv_set_str(a, o, "name", user_role_name(users_roles[i]));
		tv_set_bool(a, o, "selected", u->role && strcmp(u->role, users_roles[i]) == 0);
	}
	http_render(req, status, "admin_user_form", ctx);
}

/* Show a freshly set one-time password, once (this response is not stored). */
static void users_show_password(struct http_request *req, const char *login, const char *pw,
                                bool created)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "一次性密码");
	tv_set_str(a, ctx, "login", login);
	tv_set_str(a, ctx, "password", pw);
	tv_set_bool(a, ctx, "created", created);
	http_render(req, 200, "admin_password_shown", ctx);
}

/* Load the account named in the path, or answer 404. */
static bool users_target(struct http_request *req, struct user *u)
{
	if (req->nargs < 1 || !user_login_valid(req->args[0]) ||
	    user_get_by_login(&req->app->db, req->arena, req->args[0], u, NULL, 0) != 1) {
		http_error(req, 404, NULL);
		return false;
	}
	return true;
}

/* GET /admin/users */
void page_admin_users(struct http_request *req)
{
	struct arena *a = req->arena;
	struct user *list;
	size_t n;
	if (user_list(&req->app->db, a, 0, &list, &n) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "账号管理");
	struct tv *rows = tv_set(a, ctx, "accounts", tv_list(a));
	for (size_t i = 0; i < n; i++) {
		struct tv *r = tv_push(a, rows, tv_map(a));
		tv_set_str(a, r, "login", list[i].login);
		tv_set_str(a, r, "display_name", list[i].display_name);
		tv_set_str(a, r, "role_name", user_role_name(list[i].role));
		tv_set_str(a, r, "org_code", list[i].org_code);
		tv_set_str(a, r, "org_name", list[i].org_name);
		tv_set_bool(a, r, "inactive", !list[i].active);
		tv_set_bool(a, r, "must_change", list[i].must_change);
	}
	tv_set_int(a, ctx, "count", (long long)n);
	http_render(req, 200, "admin_users", ctx);
}

/* GET /admin/users/new */
void page_admin_user_new(struct http_request *req)
{
	struct user u;
	memset(&u, 0, sizeof(u));
	u.active = true;
	u.role = "school";
	u.org_code = http_param(req, "org");
	users_form(req, 200, &u, true, NULL);
}

/* POST /admin/users — create with a one-time password shown once. */
void page_admin_user_create(struct http_request *req)
{
	struct user u;
	char err[512];
	memset(&u, 0, sizeof(u));
	u.login = users_in(req, "login");
	u.display_name = users_in(req, "display_name");
	u.role = users_in(req, "role");
	u.org_code = users_in(req, "org_code");
	u.must_change = true;
	u.active = true;
	char *pw = user_random_password(req->arena);
	if (!user_create(&req->app->db, &u, pw, req->session->user.login, err, sizeof(err))) {
		users_form(req, 422, &u, true, err);
		return;
	}
	users_show_password(req, u.login, pw, true);
}

/* GET /admin/users/{login} */
void page_admin_user_edit(struct http_request *req)
{
	struct user u;
	if (users_target(req, &u))
		users_form(req, 200, &u, false, NULL);
}

/* POST /admin/users/{login} — display name, role and unit. */
void page_admin_user_update(struct http_request *req)
{
	struct user u;
	char err[512];
	if (!users_target(req, &u))
		return;
	u.display_name = users_in(req, "display_name");
	u.role = users_in(req, "role");
	u.org_code = users_in(req, "org_code");
	if (u.id == req->session->user.id && strcmp(u.role, "admin") != 0) {
		users_form(req, 422, &u, false, "不能取消本人的管理员角色。");
		return;
	}
	if (!user_update(&req->app->db, &u, req->session->user.login, err, sizeof(err))) {
		users_form(req, 422, &u, false, err);
		return;
	}
	http_redirect(req, arena_printf(req->arena, "/admin/users/%s?saved=1", u.login));
}

/* POST /admin/users/{login}/active — active=1 or 0. */
void page_admin_user_active(struct http_request *req)
{
	struct user u;
	char err[256];
	if (!users_target(req, &u))
		return;
	const char *v = http_form(req, "active");
	bool active = v && strcmp(v, "1") == 0;
	if (u.id == req->session->user.id && !active) {
		users_form(req, 422, &u, false, "不能停用本人的账号。");
		return;
	}
	if (!user_set_active(&req->app->db, u.id, active, req->session->user.login, err,
	                     sizeof(err))) {
		users_form(req, 422, &u, false, err);
		return;
	}
	http_redirect(req, arena_printf(req->arena, "/admin/users/%s?saved=1", u.login));
}

/* POST /admin/users/{login}/reset — a new one-time password, shown once. */
void page_admin_user_reset(struct http_request *req)
{
	struct user u;
	char err[256];
	if (!users_target(req, &u))
		return;
	char *pw = user_random_password(req->arena);
	if (!user_set_password(&req->app->db, u.id, pw, true, req->session->user.login, err,
	                       sizeof(err))) {
		users_form(req, 503, &u, false, err);
		return;
	}
	users_show_password(req, u.login, pw, false);
}

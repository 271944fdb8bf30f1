/* page_home.c — the public home page and the login page. */
#include "app.h"
#include "router.h"

void page_home(struct http_request *req);
void page_login_form(struct http_request *req);

/* GET / — what Tianbao is and the way in. */
void page_home(struct http_request *req)
{
	struct tv *ctx = tv_map(req->arena);
	tv_set_str(req->arena, ctx, "page_title", "首页");
	http_render(req, 200, "home", ctx);
}

/* GET /login — the login form. */
void page_login_form(struct http_request *req)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "登录");
	const char *user = http_param(req, "username");
	if (user)
		tv_set_str(a, ctx, "username", user);
	http_render(req, 200, "login", ctx);
}

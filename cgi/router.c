/* router.c — match the static route table and enforce method, role and CSRF before handlers. */
#include "router.h"

#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/entry.h"
#include "../core/log.h"
#include "../core/orgunit.h"
#include "app.h"
#include "session.h"

/* Match pattern segments against path segments. */
bool route_match(const char *pattern, const char *path, struct arena *a, const char **args,
                 size_t max, size_t *nargs)
{
	size_t n = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			if (!pe)
				return false;
			if (!se)
				se = s + strlen(s);
			if (se == s || n == max)
				return false;
			args[n++] = arena_strndup(a, s, (size_t)(se - s));
			p = pe + 1;
			s = se;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	*nargs = n;
	return true;
}

/* Write the Allow value for a method mask into the arena. */
static const char *route_allow(struct arena *a, unsigned methods)
{
	const char *get = (methods & HTTP_GET) ? "GET, HEAD" : "";
	const char *post = (methods & HTTP_POST) ? "POST" : "";
	const char *sep = (*get && *post) ? ", " : "";
	return arena_printf(a, "%s%s%s", get, sep, post);
}

/* Find a route for the request. */
const struct route *route_find(const struct route *table, struct http_request *req, int *status,
                               const char **allow)
{
	unsigned allowed = 0;
	for (const struct route *r = table; r->pattern; r++) {
		const char *args[4];
		size_t nargs = 0;
		if (!route_match(r->pattern, req->path, req->arena, args, 4, &nargs))
			continue;
		unsigned methods = r->methods;
		if (methods & HTTP_GET)
			methods |= HTTP_HEAD;
		if (methods & req->method) {
			memcpy(req->args, args, sizeof(args));
			req->nargs = nargs;
			return r;
		}
		allowed |= r->methods;
	}
	if (allowed) {
		*status = 405;
		*allow = route_allow(req->arena, allowed);
	} else {
		*status = 404;
	}
	return NULL;
}

/* The role bit of a role name. */
unsigned route_role_bit(const char *role)
{
	if (strcmp(role, "school") == 0)
		return ROLE_SCHOOL;
	if (strcmp(role, "reviewer") == 0)
		return ROLE_REVIEWER;
	if (strcmp(role, "admin") == 0)
		return ROLE_ADMIN;
	return 0;
}

/* A POST to a ROUTE_KEEP_POST route whose session expired: keep the body for
 * the session's user when the request carries that session's CSRF token and
 * passes the Origin checks. True when it was kept. */
static bool route_keep_post(struct http_request *req)
{
	if (req->method != HTTP_POST || !(req->route->flags & ROUTE_KEEP_POST) ||
	    req->expired_user_id <= 0 || !session_origin_ok(req) ||
	    !auth_token_equal(http_form(req, "csrf"), req->expired_csrf))
		return false;
	struct buf body = BUF_INIT;
	for (size_t i = 0; i < req->nform; i++) {
		const struct http_param *p = &req->form[i];
		if (strcmp(p->name, "csrf") == 0)
			continue;
		if (body.len)
			buf_putc(&body, '&');
		buf_urlencode(&body, p->name, p->name_len);
		buf_putc(&body, '=');
		buf_urlencode(&body, p->value, p->value_len);
	}
	bool ok = entry_pending_add(&req->app->db, req->expired_user_id, req->path,
	                            body.data ? body.data : "", (long long)time(NULL));
	buf_free(&body);
	if (ok)
		log_info("%s: kept a save posted after the session of user %lld expired", req->path,
		         req->expired_user_id);
	return ok;
}

/* No session for a route that needs one: send the person to the login page
 * and bring them back afterwards. */
static void route_need_login(struct http_request *req)
{
	struct buf b = BUF_INIT;
	bool kept = route_keep_post(req);
	buf_puts(&b, "/login?next=");
	buf_urlencode(&b, req->path, strlen(req->path));
	if (req->method == HTTP_POST)
		buf_puts(&b, kept ? "&expired=1&kept=1" : "&expired=1");
	http_redirect(req, arena_strndup(req->arena, b.data, b.len));
	buf_free(&b);
}

/* Dispatch: find the route; check method, session, role, CSRF and scope in
 * that order; only then run the handler. */
void route_dispatch(struct http_request *req)
{
	int status = 404;
	const char *allow = NULL;
	const struct route *r = route_find(route_table, req, &status, &allow);
	if (!r) {
		http_error(req, status, NULL);
		if (allow)
			http_header(req->res, "Allow", allow);
		return;
	}
	req->route = r;
	session_load(req);
	if (r->roles != ROLE_PUBLIC) {
		if (!req->session) {
			route_need_login(req);
			return;
		}
		if (!(route_role_bit(req->session->user.role) & r->roles)) {
			http_error(req, 404, NULL);
			return;
		}
		if (req->session->user.must_change && !(r->flags & ROUTE_MUST_CHANGE_OK)) {
			http_redirect(req, "/password");
			return;
		}
	}
	if (req->method == HTTP_POST) {
		bool ok =
		    session_origin_ok(req) && ((r->flags & ROUTE_NO_CSRF) || session_csrf_ok(req));
		if (!ok) {
			log_warn("%s %s refused: CSRF/Origin check failed (origin %s)",
			         req->method_name, req->path, req->origin ? req->origin : "-");
			http_error(req, 403, NULL);
			return;
		}
	}
	if (r->flags & ROUTE_SCOPE_UNIT) {
		struct org_unit *u = arena_alloc(req->arena, sizeof(*u));
		if (!req->session || req->nargs < 1 ||
		    ou_get_by_code(&req->app->db, req->arena, req->args[0], u) != 1 ||
		    !ou_in_scope(&req->app->db, req->session->user.org_unit_id, u->id)) {
			http_error(req, 404, NULL);
			return;
		}
		req->unit = u;
	}
	r->handler(req);
}

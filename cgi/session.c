/* session.c — the session cookie, the CSRF and Origin checks of a request. */
#include "session.h"

#include <string.h>
#include <strings.h>
#include <time.h>

#include "../core/auth.h"
#include "app.h"

/* Cookie name depends on whether cookies are Secure (the __Host- prefix
 * requires Secure, Path=/ and no Domain). */
const char *session_cookie_name(const struct app *app)
{
	return config_cookie_secure(&app->cfg) ? "__Host-tb_session" : "tb_session";
}

/* Load the session named by the cookie. */
void session_load(struct http_request *req)
{
	struct app *app = req->app;
	req->session = NULL;
	const char *token = http_cookie(req, session_cookie_name(app));
	if (!token)
		return;
	struct auth_session *s = arena_alloc(req->arena, sizeof(*s));
	int rc = auth_session_lookup(&app->db, req->arena, token, (long long)time(NULL),
	                             (long long)app->cfg.session_idle_min * 60,
	                             (long long)app->cfg.session_max_hours * 3600, s);
	if (rc == 1) {
		req->session = s;
	} else if (rc == 2) {
		req->expired_user_id = s->user.id;
		req->expired_csrf = s->csrf;
	}
}

/* Set-Cookie with the attributes every session cookie carries. */
void session_set_cookie(struct http_request *req, const char *token)
{
	bool secure = config_cookie_secure(&req->app->cfg);
	http_header(req->res, "Set-Cookie",
	            arena_printf(req->arena, "%s=%s; Path=/; HttpOnly; SameSite=Lax%s",
	                         session_cookie_name(req->app), token, secure ? "; Secure" : ""));
}

/* Expire the cookie in the browser. */
void session_clear_cookie(struct http_request *req)
{
	bool secure = config_cookie_secure(&req->app->cfg);
	http_header(req->res, "Set-Cookie",
	            arena_printf(req->arena, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax%s",
	                         session_cookie_name(req->app), secure ? "; Secure" : ""));
}

/* Length of the scheme://host[:port] part of a URL. */
static size_t session_origin_len(const char *url)
{
	const char *p = strstr(url, "://");
	if (!p)
		return strlen(url);
	const char *slash = strchr(p + 3, '/');
	return slash ? (size_t)(slash - url) : strlen(url);
}

/* Origin and Sec-Fetch-Site checks. */
bool session_origin_ok(const struct http_request *req)
{
	if (req->sec_fetch_site && strcmp(req->sec_fetch_site, "same-origin") != 0 &&
	    strcmp(req->sec_fetch_site, "none") != 0)
		return false;
	if (!req->origin)
		return true;
	const char *base = req->app->cfg.base_url;
	size_t n = session_origin_len(base);
	return strlen(req->origin) == n && strncasecmp(req->origin, base, n) == 0;
}

/* The form's CSRF token is the session's. */
bool session_csrf_ok(const struct http_request *req)
{
	if (!req->session)
		return false;
	return auth_token_equal(http_form(req, "csrf"), req->session->csrf);
}

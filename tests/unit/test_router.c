/* test_router.c — the route table is well-formed and the matcher answers 404/405 correctly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cgi/router.h"

/* Every route: a pattern starting with '/', a handler, a name, known methods,
 * and no two routes with the same method and pattern. */
static void test_table_well_formed(void **state)
{
	(void)state;
	size_t n = 0;
	for (const struct route *r = route_table; r->pattern; r++, n++) {
		assert_non_null(r->handler);
		assert_non_null(r->name);
		assert_int_equal(r->pattern[0], '/');
		assert_true(r->methods != 0);
		assert_int_equal(r->methods & ~(unsigned)(HTTP_GET | HTTP_POST), 0);
		for (const struct route *q = route_table; q != r; q++)
			assert_false(strcmp(q->pattern, r->pattern) == 0 &&
			             (q->methods & r->methods));
	}
	assert_true(n >= 2);
}

/* Every POST route is protected: it needs a role (then the dispatcher checks
 * the session's CSRF token), or it is the login form, checked by Origin. */
static void test_post_routes_protected(void **state)
{
	(void)state;
	for (const struct route *r = route_table; r->pattern; r++) {
		if (!(r->methods & HTTP_POST))
			continue;
		if (r->roles == ROLE_PUBLIC)
			assert_string_equal(r->name, "login");
		else
			assert_false(r->flags & ROUTE_NO_CSRF);
	}
}

/* Literal and parameter segments. */
static void test_match(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 4096);
	const char *args[4];
	size_t n = 99;
	assert_true(route_match("/", "/", &a, args, 4, &n));
	assert_int_equal(n, 0);
	assert_false(route_match("/", "/x", &a, args, 4, &n));
	assert_true(route_match("/school/{code}", "/school/2133010001", &a, args, 4, &n));
	assert_int_equal(n, 1);
	assert_string_equal(args[0], "2133010001");
	assert_true(route_match("/s/{a}/f/{b}", "/s/1/f/staff", &a, args, 4, &n));
	assert_int_equal(n, 2);
	assert_string_equal(args[1], "staff");
	assert_false(route_match("/school/{code}", "/school/", &a, args, 4, &n));
	assert_false(route_match("/school/{code}", "/school/1/x", &a, args, 4, &n));
	assert_false(route_match("/school/{code}", "/schoolx/1", &a, args, 4, &n));
	assert_false(route_match("/login", "/login/", &a, args, 4, &n));
	assert_false(route_match("/{a}", "/x", &a, args, 0, &n));
	arena_free(&a);
}

static void handler_noop(struct http_request *req)
{
	(void)req;
}

static const struct route test_table[] = {
    {HTTP_GET, "/", ROLE_PUBLIC, 0, handler_noop, "home"},
    {HTTP_GET, "/form/{code}", ROLE_SCHOOL, 0, handler_noop, "form"},
    {HTTP_POST, "/form/{code}", ROLE_SCHOOL, 0, handler_noop, "form_save"},
    {HTTP_POST, "/only-post", ROLE_ADMIN, 0, handler_noop, "only_post"},
    {0, NULL, 0, 0, NULL, NULL},
};

/* route_find: the matching route, 404 for unknown paths, 405 with Allow. */
static void test_find(void **state)
{
	(void)state;
	struct arena a;
	arena_init(&a, 4096);
	struct http_request req = {.arena = &a};
	int status = 0;
	const char *allow = NULL;

	req.path = "/form/basic";
	req.method = HTTP_HEAD;
	const struct route *r = route_find(test_table, &req, &status, &allow);
	assert_non_null(r);
	assert_string_equal(r->name, "form");
	assert_int_equal(req.nargs, 1);
	assert_string_equal(req.args[0], "basic");

	req.method = HTTP_POST;
	r = route_find(test_table, &req, &status, &allow);
	assert_non_null(r);
	assert_string_equal(r->name, "form_save");

	req.path = "/nope";
	req.method = HTTP_GET;
	assert_null(route_find(test_table, &req, &status, &allow));
	assert_int_equal(status, 404);

	req.path = "/only-post";
	allow = NULL;
	assert_null(route_find(test_table, &req, &status, &allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "POST");

	req.path = "/";
	req.method = HTTP_POST;
	assert_null(route_find(test_table, &req, &status, &allow));
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, HEAD");

	req.method = HTTP_OTHER;
	assert_null(route_find(test_table, &req, &status, &allow));
	assert_int_equal(status, 405);
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table_well_formed),
	    cmocka_unit_test(test_post_routes_protected),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

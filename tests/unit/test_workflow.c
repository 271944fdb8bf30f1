/* test_workflow.c — the submission states: every allowed and every forbidden transition for
 * every role, and the codes, names and parsers of states, actions and roles (no database). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/user.h"
#include "core/workflow.h"

#define NROLES 4
static const unsigned roles[NROLES] = {WR_SCHOOL, WR_COUNTY, WR_CITY, WR_ADMIN};
static const char *const role_names[NROLES] = {"school", "county", "city", "admin"};
static const char *const state_names[WF_NSTATES] = {"none",     "draft",    "submitted",
                                                    "returned", "approved", "county_approved"};
static const char *const action_names[4] = {"submit", "approve", "return", "reopen"};

/* Short names for the expected table: X = refused. */
#define X WS_NONE
#define S WS_SUBMITTED
#define R WS_RETURNED
#define A WS_APPROVED
#define CA WS_COUNTY_APPROVED

/* The expected result of wf_next, written out from the specification (not from
 * the code's table): [levels - 1][from][action][role: school, county, city, admin].
 *
 * - a school submits a draft or a returned form;
 * - one level: a county reviewer, a city reviewer or the admin approves a submitted form (final);
 * - two levels: a county reviewer or the admin approves a submitted form into county_approved,
 *   a city reviewer or the admin approves a county_approved form (final);
 * - a county or city reviewer or the admin returns a submitted form;
 * - a city reviewer or the admin approves (final) or returns a county_approved form, also
 *   after the city has gone back to one level (the form must not be stuck);
 * - a county reviewer or the admin reopens an approved form (to returned);
 * - everything else is refused. */
static const enum wf_state expected[2][WF_NSTATES][4][NROLES] = {
    /* ---- one approval level ---- */
    {
        /* WS_NONE */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_DRAFT */
        {
            /* submit  */ {S, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_SUBMITTED */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, A, A, A},
            /* return  */ {X, R, R, R},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_RETURNED */
        {
            /* submit  */ {S, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_APPROVED */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, R, X, R},
        },
        /* WS_COUNTY_APPROVED (left from a time with two levels) */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, X, A, A},
            /* return  */ {X, X, R, R},
            /* reopen  */ {X, X, X, X},
        },
    },
    /* ---- two approval levels ---- */
    {
        /* WS_NONE */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_DRAFT */
        {
            /* submit  */ {S, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_SUBMITTED */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, CA, X, CA},
            /* return  */ {X, R, R, R},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_RETURNED */
        {
            /* submit  */ {S, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, X, X, X},
        },
        /* WS_APPROVED */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, X, X, X},
            /* return  */ {X, X, X, X},
            /* reopen  */ {X, R, X, R},
        },
        /* WS_COUNTY_APPROVED */
        {
            /* submit  */ {X, X, X, X},
            /* approve */ {X, X, A, A},
            /* return  */ {X, X, R, R},
            /* reopen  */ {X, X, X, X},
        },
    },
};

#undef X
#undef S
#undef R
#undef A
#undef CA

/* True when s holds at least one CJK ideograph (U+4E00..U+9FFF, UTF-8 lead bytes E4..E9). */
static bool has_cjk(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
		if (*p >= 0xE4 && *p <= 0xE9 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
			return true;
	return false;
}

/* Every state × action × role × level (1 and 2) against the expected table: an allowed
 * move leads to the expected state, a forbidden one returns WS_NONE with a non-empty
 * Chinese reason. */
static void test_every_transition(void **state)
{
	(void)state;
	int allowed = 0, refused = 0;
	for (int levels = 1; levels <= 2; levels++)
		for (int from = WS_NONE; from < WF_NSTATES; from++)
			for (int action = WA_SUBMIT; action <= WA_REOPEN; action++)
				for (int r = 0; r < NROLES; r++) {
					const char *why = NULL;
					enum wf_state want = expected[levels - 1][from][action][r];
					enum wf_state got =
					    wf_next((enum wf_state)from, (enum wf_action)action,
					            roles[r], levels, &why);
					if (got != want)
						fail_msg("levels %d, %s --%s--> by %s: expected %s,"
						         " got %s",
						         levels, state_names[from],
						         action_names[action], role_names[r],
						         state_names[want], state_names[got]);
					if (want != WS_NONE) {
						allowed++;
						continue;
					}
					refused++;
					if (!why || !*why || !has_cjk(why))
						fail_msg("levels %d, %s --%s--> by %s: refused"
						         " without a Chinese reason (%s)",
						         levels, state_names[from],
						         action_names[action], role_names[r],
						         why ? why : "NULL");
				}
	/* one level: 2 submits + 3 approvals + 3 returns + 2 reopens + 2 approvals and 2 returns
	 * of county_approved forms left from two levels; two levels: 2 submits + 2 county
	 * approvals + 2 city approvals + 3 + 2 returns + 2 reopens */
	assert_int_equal(allowed + refused, 2 * WF_NSTATES * 4 * NROLES);
	assert_int_equal(allowed, 14 + 13);
}

/* A user without a role bit (0) can do nothing, at either level. */
static void test_no_role(void **state)
{
	(void)state;
	for (int levels = 1; levels <= 2; levels++)
		for (int from = WS_NONE; from < WF_NSTATES; from++)
			for (int action = WA_SUBMIT; action <= WA_REOPEN; action++) {
				const char *why = NULL;
				assert_int_equal(wf_next((enum wf_state)from,
				                         (enum wf_action)action, 0, levels, &why),
				                 WS_NONE);
				assert_non_null(why);
				assert_true(has_cjk(why));
			}
}

/* State codes and Chinese names, and parsing a code back. */
static void test_state_codes(void **state)
{
	(void)state;
	static const struct {
		enum wf_state s;
		const char *code, *name;
	} t[] = {
	    {WS_NONE, "none", "未填写"},
	    {WS_DRAFT, "draft", "草稿"},
	    {WS_SUBMITTED, "submitted", "已上报"},
	    {WS_RETURNED, "returned", "已退回"},
	    {WS_APPROVED, "approved", "已审核"},
	    {WS_COUNTY_APPROVED, "county_approved", "区县已审核"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_string_equal(wf_state_code(t[i].s), t[i].code);
		assert_string_equal(wf_state_name(t[i].s), t[i].name);
		assert_int_equal(wf_state_parse(t[i].code), t[i].s);
	}
	/* unknown codes are WS_NONE */
	assert_int_equal(wf_state_parse(""), WS_NONE);
	assert_int_equal(wf_state_parse("Approved"), WS_NONE);
	assert_int_equal(wf_state_parse("已审核"), WS_NONE);
	assert_int_equal(wf_state_parse("approved "), WS_NONE);
	assert_int_equal(wf_state_parse(NULL), WS_NONE);
}

/* The state of a stored row: its state column and its reviewed flag ("submitted"
 * with reviewed = 1 is WS_COUNTY_APPROVED); anything unknown is WS_NONE. */
static void test_state_stored(void **state)
{
	(void)state;
	assert_int_equal(wf_state_stored("draft", 0), WS_DRAFT);
	assert_int_equal(wf_state_stored("submitted", 0), WS_SUBMITTED);
	assert_int_equal(wf_state_stored("submitted", 1), WS_COUNTY_APPROVED);
	assert_int_equal(wf_state_stored("returned", 0), WS_RETURNED);
	assert_int_equal(wf_state_stored("approved", 0), WS_APPROVED);
	/* county_approved is never a stored state of its own */
	assert_int_equal(wf_state_stored("county_approved", 0), WS_NONE);
	assert_int_equal(wf_state_stored("", 0), WS_NONE);
	assert_int_equal(wf_state_stored("bogus", 0), WS_NONE);
	assert_int_equal(wf_state_stored(NULL, 0), WS_NONE);
}

/* Action codes: the four known ones, -1 for anything else. */
static void test_action_parse(void **state)
{
	(void)state;
	assert_int_equal(wf_action_parse("submit"), WA_SUBMIT);
	assert_int_equal(wf_action_parse("approve"), WA_APPROVE);
	assert_int_equal(wf_action_parse("return"), WA_RETURN);
	assert_int_equal(wf_action_parse("reopen"), WA_REOPEN);
	assert_int_equal(wf_action_parse(""), -1);
	assert_int_equal(wf_action_parse("Approve"), -1);
	assert_int_equal(wf_action_parse("save"), -1);
	assert_int_equal(wf_action_parse("approve2"), -1);
	assert_int_equal(wf_action_parse(NULL), -1);
}

/* The role bit of a user: school, reviewer of a county, reviewer of the city
 * (org_kind "city"), admin; 0 for anything else. */
static void test_role_of(void **state)
{
	(void)state;
	struct user school = {.login = "3199220003", .role = "school", .org_kind = "school"};
	struct user county = {.login = "rev-990122", .role = "reviewer", .org_kind = "county"};
	struct user city = {.login = "rev-city", .role = "reviewer", .org_kind = "city"};
	struct user admin = {.login = "admin", .role = "admin", .org_kind = "city"};
	struct user other = {.login = "x", .role = "guest", .org_kind = "city"};
	struct user none = {.login = "y"};
	assert_int_equal(wf_role_of(&school), WR_SCHOOL);
	assert_int_equal(wf_role_of(&county), WR_COUNTY);
	assert_int_equal(wf_role_of(&city), WR_CITY);
	assert_int_equal(wf_role_of(&admin), WR_ADMIN);
	assert_int_equal(wf_role_of(&other), 0);
	assert_int_equal(wf_role_of(&none), 0);
	assert_int_equal(wf_role_of(NULL), 0);
}

/* The school may change values only before submission or after a return. */
static void test_editable(void **state)
{
	(void)state;
	assert_true(wf_editable(WS_NONE));
	assert_true(wf_editable(WS_DRAFT));
	assert_true(wf_editable(WS_RETURNED));
	assert_false(wf_editable(WS_SUBMITTED));
	assert_false(wf_editable(WS_APPROVED));
	assert_false(wf_editable(WS_COUNTY_APPROVED));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_transition), cmocka_unit_test(test_no_role),
	    cmocka_unit_test(test_state_codes),      cmocka_unit_test(test_state_stored),
	    cmocka_unit_test(test_action_parse),     cmocka_unit_test(test_role_of),
	    cmocka_unit_test(test_editable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

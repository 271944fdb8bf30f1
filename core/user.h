/* user.h — accounts: login names, roles, the org unit that scopes them, passwords. */
#ifndef TB_USER_H
#define TB_USER_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"

#define USER_LOGIN_MAX 64
#define USER_PASSWORD_MIN 8
#define USER_PASSWORD_MAX 256

/* One account (strings in the reader's arena). */
struct user {
	long long id;
	const char *login;
	const char *display_name;
	const char *role; /* "school", "reviewer", "admin" */
	long long org_unit_id;
	const char *org_code;
	const char *org_name;
	const char *org_kind;
	bool must_change; /* password set by an admin: choose a new one first */
	bool active;
};

/* A login name: 1..64 bytes of [A-Za-z0-9._-]. */
bool user_login_valid(const char *login);
/* A role name the system knows. */
bool user_role_valid(const char *role);
/* Chinese name of a role ("学校填报员", "区县审核员", "市级管理员"). */
const char *user_role_name(const char *role);
/* A role fits the kind of its org unit: school→school, reviewer→county (or
 * city for city-level reviewers), admin→city. */
bool user_role_fits_unit(const char *role, const char *unit_kind);
/* Password policy: 8..256 bytes, not all the same character, not equal to the
 * login. On failure *why is a Chinese message. */
bool user_password_ok(const char *login, const char *password, const char **why);

/* Hash with Argon2id (libsodium crypto_pwhash_str, INTERACTIVE limits) into
 * `out` (crypto_pwhash_STRBYTES bytes). False on out-of-memory. */
bool user_hash_password(const char *password, char *out, size_t outlen);
/* Verify a password against a stored hash in constant time. */
bool user_verify_password(const char *hash, const char *password);
/* Spend the same time as a verification for an unknown login. */
void user_verify_dummy(const char *password);
/* A one-time password of 12 characters from an unambiguous alphabet, in the arena. */
char *user_random_password(struct arena *a);

/* Load by login / id with the org unit's code, name and kind. Returns 1 found,
 * 0 not found, -1 on error. The password hash is copied to hash_out when not NULL. */
int user_get_by_login(struct db *db, struct arena *a, const char *login, struct user *out,
                      char *hash_out, size_t hashlen);
int user_get(struct db *db, struct arena *a, long long id, struct user *out);

/* All users, ordered by role, org code, login; or only those scoped at or
 * below `scope_id` when it is non-zero. */
int user_list(struct db *db, struct arena *a, long long scope_id, struct user **out, size_t *n);

/* Create an account (one transaction with its audit row). The unit is given
 * by code in u->org_code. Returns the new id or 0 with a Chinese message. */
long long user_create(struct db *db, const struct user *u, const char *password, const char *actor,
                      char *err, size_t errlen);
/* Change display name, role and org unit (by u->org_code). */
bool user_update(struct db *db, const struct user *u, const char *actor, char *err, size_t errlen);
/* Set a new password; must_change marks it as one-time (set by an admin).
 * Every session of the user ends. */
bool user_set_password(struct db *db, long long id, const char *password, bool must_change,
                       const char *actor, char *err, size_t errlen);
/* Activate or deactivate; deactivation ends every session of the user. */
bool user_set_active(struct db *db, long long id, bool active, const char *actor, char *err,
                     size_t errlen);

#endif

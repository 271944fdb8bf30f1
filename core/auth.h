/* auth.h — sessions (random tokens stored as hashes), CSRF tokens and the login lockout. */
#ifndef TB_AUTH_H
#define TB_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "db.h"
#include "user.h"

/* 256 random bits in unpadded base64url: 43 characters and a NUL. */
#define AUTH_TOKEN_LEN 43
#define AUTH_TOKEN_SIZE (AUTH_TOKEN_LEN + 1)
#define AUTH_HASH_SIZE 32

/* Lockout rule: this many failures within the window lock the account name
 * (and, separately, the client address) for the lock time. */
#define AUTH_MAX_FAILURES 10
#define AUTH_WINDOW_S (15 * 60)
#define AUTH_LOCK_S (15 * 60)

/* A session that timed out is remembered (user and CSRF token, never as a
 * login) this long, so that a save posted with it can be kept for the user. */
#define AUTH_EXPIRED_KEEP_S 86400

/* A fresh random token (session or CSRF). */
void auth_new_token(char out[AUTH_TOKEN_SIZE]);
/* True when s looks like a token (43 base64url characters). */
bool auth_token_wellformed(const char *s);
/* BLAKE2b-256 of the token: what the database keeps. */
void auth_token_hash(const char *token, unsigned char out[AUTH_HASH_SIZE]);
/* Constant-time string comparison of two tokens. */
bool auth_token_equal(const char *a, const char *b);

/* A logged-in session: the user and the session's CSRF token. */
struct auth_session {
	struct user user;
	const char *csrf;
	long long created_at, last_seen;
};

/* Create a session for `user_id` (one write transaction with its audit row
 * "session.login"); the new token and CSRF token are written to the buffers.
 * If `old_token` is given, that session is deleted in the same transaction
 * (rotation at login). */
bool auth_session_create(struct db *db, long long user_id, const char *login, const char *addr,
                         long long now, const char *old_token, char token[AUTH_TOKEN_SIZE],
                         char csrf[AUTH_TOKEN_SIZE]);

/* Find the session of a token. Returns 1 valid (last_seen refreshed when older
 * than a minute); 2 expired (idle or absolute; the row is deleted, a tombstone
 * kept) within AUTH_EXPIRED_KEEP_S, with only out->user.id and out->csrf set:
 * NOT a login; 0 none, or the user deactivated; -1 on database error. */
int auth_session_lookup(struct db *db, struct arena *a, const char *token, long long now,
                        long long idle_s, long long max_s, struct auth_session *out);

/* Delete the session of a token (logout), with an audit row. */
bool auth_session_delete(struct db *db, const char *token, const char *login);

/* Is this login name or client address locked now? */
bool auth_locked(struct db *db, const char *login, const char *addr, long long now);

/* Record a failed login; locks the name / address when the rule is met. */
void auth_login_failed(struct db *db, const char *login, const char *addr, long long now);

/* Forget the failures of a login name after a successful login. */
void auth_login_succeeded(struct db *db, const char *login);

#endif

/* page_auth.c — login, logout and changing one's password. */
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/log.h"
#include "app.h"
#include "pages.h"
#include "router.h"
#include "session.h"

/* A `next` target is followed only when it is a local path of ours. */
static const char *auth_safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
		return "/";
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x21 || *p == 0x7f)
			return "/";
	return next;
}

/* The username to put back into the form: as typed, minus control characters. */
static const char *auth_shown_username(struct arena *a, const char *s)
{
	size_t n = strlen(s), j = 0;
	char *d = arena_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
			d[j++] = s[i];
	d[j] = '\0';
	return d;
}

/* Render the login page with an optional error, keeping the username. */
static void auth_login_page(struct http_request *req, int status, const char *error,
                            const char *username)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "登录");
	if (error)
		tv_set_str(a, ctx, "error", error);
	if (username)
		tv_set_str(a, ctx, "username", auth_shown_username(a, username));
	const char *next = http_param(req, "next");
	if (next && strcmp(auth_safe_next(next), "/") != 0)
		tv_set_str(a, ctx, "next", next);
	if (http_param(req, "kept"))
		tv_set_str(a, ctx, "notice",
		           "登录已超时。您刚才提交的内容已保存在服务器上，重新登录后会自动恢复，不"
		           "会丢失。");
	else if (http_param(req, "expired"))
		tv_set_str(a, ctx, "notice", "登录已超时，请重新登录。");
	else if (http_param(req, "bye"))
		tv_set_str(a, ctx, "notice", "您已安全退出。");
	else if (http_param(req, "changed"))
		tv_set_str(a, ctx, "notice", "密码已修改，请用新密码登录。");
	http_render(req, status, "login", ctx);
}

/* GET /login */
void page_login_form(struct http_request *req)
{
	if (req->session) {
		http_redirect(req, "/");
		return;
	}
	auth_login_page(req, 200, NULL, http_param(req, "username"));
}

/* POST /login — check the password, rotate the session, go where the user
 * was headed. Every failure gives the same message; lockouts say so. */
void page_login_submit(struct http_request *req)
{
	struct app *app = req->app;
	const char *username = http_form(req, "username");
	const char *password = http_form(req, "password");
	const char *addr = req->remote_addr ? req->remote_addr : "";
	long long now = (long long)time(NULL);
	if (!username || !*username || !password || !*password) {
		auth_login_page(req, 200, "请输入用户名和密码。", username);
		return;
	}
	/* The lockout key: at most 64 bytes of whatever was typed. */
	char key[USER_LOGIN_MAX + 1];
	size_t klen = strlen(username);
	if (klen > USER_LOGIN_MAX)
		klen = USER_LOGIN_MAX;
	memcpy(key, username, klen);
	key[klen] = '\0';
	if (auth_locked(&app->db, key, addr, now)) {
		log_warn("login refused for %s from %s: locked", key, addr);
		auth_login_page(req, 429, "登录失败次数过多，已暂时锁定，请 15 分钟后再试。",
		                username);
		return;
	}
	struct user u;
	char hash[256];
	int found = 0;
	if (user_login_valid(username) && strlen(password) <= USER_PASSWORD_MAX)
		found = user_get_by_login(&app->db, req->arena, username, &u, hash, sizeof(hash));
	if (found < 0) {
		http_error(req, 503, NULL);
		return;
	}
	bool ok;
	if (found == 1 && u.active) {
		ok = user_verify_password(hash, password);
	} else {
		user_verify_dummy(password);
		ok = false;
	}
	if (!ok) {
		auth_login_failed(&app->db, key, addr, now);
		log_info("login failed for %s from %s", key, addr);
		auth_login_page(req, 200, "用户名或密码错误。", username);
		return;
	}
	char token[AUTH_TOKEN_SIZE], csrf[AUTH_TOKEN_SIZE];
	const char *old = http_cookie(req, session_cookie_name(app));
	if (!auth_session_create(&app->db, u.id, u.login, addr, now, old, token, csrf)) {
		http_error(req, 503, NULL);
		return;
	}
	auth_login_succeeded(&app->db, u.login);
	const char *resumed = u.must_change ? NULL : entry_resume(req, &u);
	session_set_cookie(req, token);
	http_redirect(req, u.must_change ? "/password"
	                   : resumed     ? resumed
	                                 : auth_safe_next(http_form(req, "next")));
}

/* POST /logout */
void page_logout(struct http_request *req)
{
	const char *token = http_cookie(req, session_cookie_name(req->app));
	auth_session_delete(&req->app->db, token, req->session->user.login);
	session_clear_cookie(req);
	http_redirect(req, "/login?bye=1");
}

/* Render the change-password page. */
static void auth_password_page(struct http_request *req, int status, const char *error)
{
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "修改密码");
	tv_set_bool(a, ctx, "must_change", req->session->user.must_change);
	if (error)
		tv_set_str(a, ctx, "error", error);
	if (http_param(req, "done"))
		tv_set_str(a, ctx, "notice", "密码已修改。");
	http_render(req, status, "password", ctx);
}

/* GET /password */
void page_password_form(struct http_request *req)
{
	auth_password_page(req, 200, NULL);
}

/* POST /password — verify the current password, set the new one, end every
 * session of the user and open a fresh one for this browser. */
void page_password_submit(struct http_request *req)
{
	struct app *app = req->app;
	const struct user *su = &req->session->user;
	const char *current = http_form(req, "current");
	const char *next = http_form(req, "new");
	const char *again = http_form(req, "again");
	const char *why;
	if (!current || !next || !again || !*current || !*next) {
		auth_password_page(req, 200, "请填写全部三项。");
		return;
	}
	if (strcmp(next, again) != 0) {
		auth_password_page(req, 200, "两次输入的新密码不一致。");
		return;
	}
	if (!user_password_ok(su->login, next, &why)) {
		auth_password_page(req, 200, why);
		return;
	}
	if (strcmp(current, next) == 0) {
		auth_password_page(req, 200, "新密码不能与当前密码相同。");
		return;
	}
	struct user u;
	char hash[256];
	if (user_get_by_login(&app->db, req->arena, su->login, &u, hash, sizeof(hash)) != 1 ||
	    !user_verify_password(hash, current)) {
		auth_password_page(req, 200, "当前密码不正确。");
		return;
	}
	char err[256];
	if (!user_set_password(&app->db, u.id, next, false, su->login, err, sizeof(err))) {
		auth_password_page(req, 503, err);
		return;
	}
	char token[AUTH_TOKEN_SIZE], csrf[AUTH_TOKEN_SIZE];
	if (!auth_session_create(&app->db, u.id, u.login, req->remote_addr, (long long)time(NULL),
	                         NULL, token, csrf)) {
		session_clear_cookie(req);
		http_redirect(req, "/login?changed=1");
		return;
	}
	session_set_cookie(req, token);
	http_redirect(req, "/password?done=1");
}

/* response.c — buffered responses: headers, rendering, redirects, the one error path. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/log.h"
#include "../core/notice.h"
#include "app.h"
#include "http.h"

/* Headers sent with every dynamic response (nginx adds the same to static files). */
static const char http_security_headers[] =
    "Content-Security-Policy: default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\n";

/* Reason phrase for a status code. */
const char *http_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 303:
		return "See Other";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 409:
		return "Conflict";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 415:
		return "Unsupported Media Type";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

/* Set up the buffers once per worker. */
void http_response_init(struct http_response *res)
{
	memset(res, 0, sizeof(*res));
	http_response_reset(res);
}

/* Empty the response for the next request (memory is kept). */
void http_response_reset(struct http_response *res)
{
	res->status = 200;
	res->content_type = NULL;
	buf_reset(&res->head);
	buf_reset(&res->body);
}

/* Free the buffers. */
void http_response_free(struct http_response *res)
{
	buf_free(&res->head);
	buf_free(&res->body);
}

/* True when s has no CR, LF or other control byte (header injection). */
static bool http_header_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return false;
	return true;
}

/* Append a header line. */
void http_header(struct http_response *res, const char *name, const char *value)
{
	if (!http_header_safe(name) || !http_header_safe(value)) {
		log_error("dropped header %s with control characters", name);
		return;
	}
	buf_printf(&res->head, "%s: %s\r\n", name, value);
}

/* 303 to a local path. */
void http_redirect(struct http_request *req, const char *location)
{
	struct http_response *res = req->res;
	if (location[0] != '/' || location[1] == '/' || location[1] == '\\') {
		log_error("refused redirect to non-local %s", location);
		location = "/";
	}
	res->status = 303;
	buf_reset(&res->body);
	http_header(res, "Location", location);
}

/* Add the values every page template may use: site names, the path, and for
 * a logged-in user the user, the CSRF token for forms, and the navigation. */
static void http_common_ctx(struct http_request *req, struct tv *ctx)
{
	struct arena *a = req->arena;
	if (!tv_get(ctx, "site_name"))
		tv_set_str(a, ctx, "site_name", "填报");
	if (!tv_get(ctx, "site_title"))
		tv_set_str(a, ctx, "site_title", "学校办学条件与师资年度填报");
	tv_set_str(a, ctx, "path", req->path);
	if (req->flash && !tv_get(ctx, "flash"))
		tv_set_str(a, ctx, "flash", req->flash);
	if (!req->session)
		return;
	const struct user *u = &req->session->user;
	struct tv *user = tv_set(a, ctx, "user", tv_map(a));
	tv_set_str(a, user, "login", u->login);
	tv_set_str(a, user, "display_name", u->display_name);
	tv_set_str(a, user, "role_name", user_role_name(u->role));
	tv_set_str(a, user, "org_name", u->org_name);
	tv_set_str(a, user, "org_code", u->org_code);
	tv_set_bool(a, user, "is_school", strcmp(u->role, "school") == 0);
	tv_set_bool(a, user, "is_reviewer", strcmp(u->role, "reviewer") == 0);
	tv_set_bool(a, user, "is_admin", strcmp(u->role, "admin") == 0);
	tv_set_str(a, ctx, "csrf_token", req->session->csrf);
	int unread = notice_unread(&req->app->db, u->id, u->org_unit_id, (long long)time(NULL));
	if (unread > 0)
		tv_set_int(a, user, "unread", unread);
	tv_set_bool(a, user, "can_review", strcmp(u->role, "school") != 0);
}

/* Render a template as the body. */
void http_render(struct http_request *req, int status, const char *name, struct tv *ctx)
{
	struct http_response *res = req->res;
	if (!ctx)
		ctx = tv_map(req->arena);
	http_common_ctx(req, ctx);
	res->status = status;
	buf_reset(&res->body);
	if (!tmpl_render(req->app->tmpl, name, ctx, req->arena, &res->body)) {
		log_error("missing template %s", name);
		http_error(req, 500, NULL);
	}
}

/* The standard Chinese message of an error status. */
static const char *http_error_message(int status)
{
	switch (status) {
	case 400:
		return "请求格式不正确，请返回上一页重试。";
	case 403:
		return "您没有权限执行此操作，或页面已过期。请刷新页面后重试。";
	case 404:
		return "您访问的页面不存在。请检查地址，或从首页重新进入。";
	case 405:
		return "此页面不支持该请求方式。";
	case 413:
		return "提交的内容过大，请分开多次提交。";
	case 414:
		return "请求的地址过长。";
	case 415:
		return "不支持的提交格式。";
	case 429:
		return "尝试次数过多，请稍后再试。";
	case 503:
		return "系统繁忙，请稍后再试。您填写的内容没有丢失，请返回后重新提交。";
	default:
		return "系统出现错误，请稍后再试。如果问题持续，请联系管理员。";
	}
}

/* The short Chinese title of an error status. */
static const char *http_error_title(int status)
{
	switch (status) {
	case 400:
		return "请求有误";
	case 403:
		return "禁止访问";
	case 404:
		return "页面不存在";
	case 405:
		return "请求方式不允许";
	case 413:
		return "内容过大";
	case 414:
		return "地址过长";
	case 415:
		return "格式不支持";
	case 429:
		return "请稍后再试";
	case 503:
		return "系统繁忙";
	default:
		return "系统错误";
	}
}

/* Reset the response and render the error page. Never recurses: if the error
 * template itself is missing a fixed plain page is used. */
void http_error(struct http_request *req, int status, const char *message)
{
	struct http_response *res = req->res;
	const char *msg = message ? message : http_error_message(status);
	const char *title = http_error_title(status);
	buf_reset(&res->head);
	buf_reset(&res->body);
	res->status = status;
	res->content_type = NULL;
	struct arena *a = req->arena;
	struct tv *ctx = tv_map(a);
	tv_set_int(a, ctx, "status", status);
	tv_set_str(a, ctx, "title", title);
	tv_set_str(a, ctx, "page_title", title);
	tv_set_str(a, ctx, "message", msg);
	http_common_ctx(req, ctx);
	if (!req->app || !req->app->tmpl ||
	    !tmpl_render(req->app->tmpl, "error", ctx, req->arena, &res->body)) {
		buf_reset(&res->body);
		buf_puts(&res->body, "<!doctype html><meta charset=\"utf-8\"><title>");
		buf_html(&res->body, title, strlen(title));
		buf_puts(&res->body, "</title><p>");
		buf_html(&res->body, msg, strlen(msg));
		buf_puts(&res->body, "</p>\n");
	}
}

/* Write the response out. */
void http_response_send(const struct http_request *req, http_write_fn write, void *wctx)
{
	const struct http_response *res = req->res;
	char line[256];
	int n = snprintf(
	    line, sizeof(line), "Status: %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
	    res->status, http_status_text(res->status),
	    res->content_type ? res->content_type : "text/html; charset=utf-8", res->body.len);
	write(wctx, line, (size_t)n);
	write(wctx, http_security_headers, sizeof(http_security_headers) - 1);
	if (!strstr(res->head.data ? res->head.data : "", "Cache-Control:"))
		write(wctx, "Cache-Control: no-store\r\n", 25);
	if (res->head.len)
		write(wctx, res->head.data, res->head.len);
	write(wctx, "\r\n", 2);
	if (req->method != HTTP_HEAD && res->body.len)
		write(wctx, res->body.data, res->body.len);
}

/* request.c — parse a FastCGI request into struct http_request, within hard limits. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"

const struct http_limits http_default_limits = {
    .max_body = 1024 * 1024,
    .max_fields = 4000,
    .max_name = 128,
    .max_value = 64 * 1024,
    .max_cookies = 32,
    .max_path = 1024,
    .max_query = 8 * 1024,
};

/* Value of "NAME=value" in the environment, or NULL. */
static const char *http_env(char **envp, const char *name)
{
	size_t len = strlen(name);
	for (char **e = envp; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

/* True when the path is something a route could match: starts with '/',
 * valid UTF-8, no control characters. */
static bool http_path_ok(const char *p, size_t len)
{
	if (len == 0 || p[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return urlenc_utf8_valid(p, len);
}

/* Check every parameter name against the allowed alphabet. */
static bool http_names_ok(const struct http_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!urlenc_name_ok(p[i].name, p[i].name_len))
			return false;
	return true;
}

/* Map a parser status to the HTTP answer. */
static int http_urlenc_status(enum urlenc_status st, const char **why)
{
	switch (st) {
	case URLENC_OK:
		return 0;
	case URLENC_TOO_MANY_FIELDS:
		*why = "提交的字段数量超过上限。";
		return 413;
	case URLENC_NAME_TOO_LONG:
		*why = "提交的字段名称过长。";
		return 400;
	case URLENC_VALUE_TOO_LONG:
		*why = "提交的内容过长，单个字段最多 64 KB。";
		return 413;
	}
	return 400;
}

/* Parse "a=b; c=d" into cookies (names are kept raw, values unquoted). */
static int http_parse_cookies(struct http_request *req, const char *h,
                              const struct http_limits *lim, const char **why)
{
	size_t cap = lim->max_cookies, n = 0;
	req->cookies = arena_alloc(req->arena, cap * sizeof(*req->cookies));
	const char *p = h;
	while (*p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (!*p)
			break;
		const char *end = strchr(p, ';');
		if (!end)
			end = p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		if (eq) {
			if (n == cap) {
				*why = "Cookie 数量过多。";
				return 400;
			}
			const char *v = eq + 1, *ve = end;
			while (ve > v && ve[-1] == ' ')
				ve--;
			if (ve - v >= 2 && *v == '"' && ve[-1] == '"') {
				v++;
				ve--;
			}
			struct http_param *c = &req->cookies[n++];
			c->name = arena_strndup(req->arena, p, (size_t)(eq - p));
			c->name_len = (size_t)(eq - p);
			c->value = arena_strndup(req->arena, v, (size_t)(ve - v));
			c->value_len = (size_t)(ve - v);
		}
		p = end;
	}
	req->ncookies = n;
	return 0;
}

/* Read the whole body (at most max_body + 1 bytes, to detect excess). */
static int http_read_body(struct http_request *req, http_read_fn read, void *rctx,
                          const struct http_limits *lim, const char *clen, const char **why,
                          char **body, size_t *body_len)
{
	size_t want = lim->max_body + 1;
	if (clen && *clen) {
		char *end;
		unsigned long long v = strtoull(clen, &end, 10);
		if (*end != '\0' || clen[0] == '-') {
			*why = "请求格式不正确。";
			return 400;
		}
		if (v > lim->max_body) {
			*why = "提交的内容过大，请分开多次提交。";
			return 413;
		}
		want = (size_t)v;
	}
	char *b = arena_alloc(req->arena, want + 1);
	size_t got = 0;
	while (got < want) {
		size_t r = read(rctx, b + got, want - got);
		if (r == 0)
			break;
		got += r;
	}
	if (got > lim->max_body) {
		*why = "提交的内容过大，请分开多次提交。";
		return 413;
	}
	if (clen && *clen && got < want) {
		*why = "提交的内容不完整，请重新提交。";
		return 400;
	}
	b[got] = '\0';
	*body = b;
	*body_len = got;
	return 0;
}

/* Fill `req` from the CGI environment and body; 0 or the status to answer. */
int http_request_parse(struct http_request *req, char **envp, http_read_fn read, void *rctx,
                       const struct http_limits *lim, const char **why)
{
	*why = "请求格式不正确。";
	const char *m = http_env(envp, "REQUEST_METHOD");
	req->method_name = m ? m : "GET";
	if (strcmp(req->method_name, "GET") == 0)
		req->method = HTTP_GET;
	else if (strcmp(req->method_name, "HEAD") == 0)
		req->method = HTTP_HEAD;
	else if (strcmp(req->method_name, "POST") == 0)
		req->method = HTTP_POST;
	else
		req->method = HTTP_OTHER;

	const char *path = http_env(envp, "DOCUMENT_URI");
	if (!path)
		path = http_env(envp, "SCRIPT_NAME");
	if (!path || !*path)
		path = "/";
	size_t plen = strlen(path);
	if (plen > lim->max_path) {
		*why = "请求的地址过长。";
		return 414;
	}
	if (!http_path_ok(path, plen))
		return 400;
	req->path = path;

	req->query = http_env(envp, "QUERY_STRING");
	if (!req->query)
		req->query = "";
	size_t qlen = strlen(req->query);
	if (qlen > lim->max_query) {
		*why = "请求的地址过长。";
		return 414;
	}
	struct urlenc_limits ul = {lim->max_fields, lim->max_name, lim->max_value};
	int st = http_urlenc_status(
	    urlenc_parse(req->arena, req->query, qlen, &ul, &req->query_params, &req->nquery), why);
	if (st)
		return st;
	if (!http_names_ok(req->query_params, req->nquery)) {
		*why = "请求参数名称不合法。";
		return 400;
	}

	req->content_type = http_env(envp, "CONTENT_TYPE");
	req->origin = http_env(envp, "HTTP_ORIGIN");
	req->sec_fetch_site = http_env(envp, "HTTP_SEC_FETCH_SITE");
	req->remote_addr = http_env(envp, "REMOTE_ADDR");
	req->host = http_env(envp, "HTTP_HOST");

	const char *cookie = http_env(envp, "HTTP_COOKIE");
	if (cookie && (st = http_parse_cookies(req, cookie, lim, why)))
		return st;

	if (req->method == HTTP_POST) {
		char *body = NULL;
		size_t blen = 0;
		st = http_read_body(req, read, rctx, lim, http_env(envp, "CONTENT_LENGTH"), why,
		                    &body, &blen);
		if (st)
			return st;
		if (blen > 0) {
			const char *ct = req->content_type ? req->content_type : "";
			if (strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
				*why = "不支持的提交格式。";
				return 415;
			}
			ul.max_fields =
			    lim->max_fields > req->nquery ? lim->max_fields - req->nquery : 1;
			st = http_urlenc_status(
			    urlenc_parse(req->arena, body, blen, &ul, &req->form, &req->nform),
			    why);
			if (st)
				return st;
			if (!http_names_ok(req->form, req->nform)) {
				*why = "提交的字段名称不合法。";
				return 400;
			}
		}
	}
	return 0;
}

/* First parameter of that name in a list. */
static const char *http_find(const struct http_param *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].value;
	return NULL;
}

/* Query parameter, then form parameter. */
const char *http_param(const struct http_request *req, const char *name)
{
	const char *v = http_find(req->query_params, req->nquery, name);
	return v ? v : http_find(req->form, req->nform, name);
}

/* Form (body) parameter only. */
const char *http_form(const struct http_request *req, const char *name)
{
	return http_find(req->form, req->nform, name);
}

/* Cookie value. */
const char *http_cookie(const struct http_request *req, const char *name)
{
	return http_find(req->cookies, req->ncookies, name);
}

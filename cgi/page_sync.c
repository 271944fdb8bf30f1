/* page_sync.c — 上报省平台: the delivery of approved submissions, and the admin's retries. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/outbox.h"
#include "../core/period.h"
#include "app.h"
#include "pages.h"

#define SYNC_PAGE_ROWS 300
#define SYNC_REPLY_SHOWN 2000 /* bytes of an upstream reply shown */
#define SYNC_ERROR_SHOWN 1000 /* bytes of a message shown */

/* A time for people, or NULL for 0. */
static const char *sync_time(struct arena *a, long long t)
{
	char buf[32];
	return t ? arena_strdup(a, period_format_time(t, buf, sizeof(buf))) : NULL;
}

/* Text that came from the platform, for the page: at most `max` bytes, cut at a
 * character boundary, invalid UTF-8 shown as U+FFFD (rows stored before the sync job
 * cleaned its text may hold any bytes). NULL stays NULL. In the arena. */
static const char *sync_text(struct arena *a, const char *s, size_t max)
{
	if (!s)
		return NULL;
	char *out = arena_alloc(a, max + 1);
	outbox_utf8_copy(out, max + 1, s, strlen(s));
	return out;
}

/* Did the platform refuse the endpoint or the credentials on this row's last attempt
 * (the sync job paused delivery)? */
static bool sync_paused(const struct outbox_row *r)
{
	long st = r->last_status;
	return r->state == OB_PENDING && r->last_error &&
	       (st == 401 || st == 403 || st == 404 || st == 407);
}

/* What the last attempt of a row came to, in Chinese (the message beside it is the
 * sync job's, in English, with the HTTP status). */
static const char *sync_outcome_label(const struct outbox_row *r)
{
	long st = r->last_status;
	switch (r->state) {
	case OB_SUPERSEDED:
		return "已被新版本取代，不再发送";
	case OB_DELIVERED:
		return r->last_error ? "已送达，但省平台忽略了部分数值" : "已送达";
	case OB_FAILED:
		return st >= 200 && st <= 299 ? "省平台导入失败" : "省平台拒收";
	case OB_DEAD:
		return "多次重试仍未成功，已搁置";
	case OB_PENDING:
		break;
	}
	if (!r->last_error)
		return "尚未发送";
	if (st == 0)
		return "未收到回复（网络、TLS 或超时），将自动重试";
	if (st == 404)
		return "上报地址不存在，发送已暂停，请检查上报配置";
	if (sync_paused(r))
		return "省平台或代理拒绝了凭据，发送已暂停，请检查上报配置";
	if (st >= 300 && st <= 399)
		return "被重定向（不跟随），将自动重试";
	if (st == 409 || st == 425)
		return "省平台仍在处理同一请求，将自动重试";
	if (st >= 200 && st <= 299)
		return "省平台的回复无法识别，将自动重试";
	return "省平台暂时不可用，将自动重试";
}

/* GET /sync — counts and the newest rows of the user's scope (?state= filters). Every
 * key of a row is set (null when empty): a missing one would be looked up among the
 * page's keys (Mustache searches the context stack). */
void page_sync(struct http_request *req)
{
	struct arena *a = req->arena;
	const struct user *u = &req->session->user;
	const char *state = http_param(req, "state");
	if (state && strcmp(outbox_state_code(outbox_state_parse(state)), state) != 0)
		state = NULL;
	struct outbox_counts c;
	struct outbox_row *rows;
	size_t n;
	if (outbox_count(&req->app->db, u->org_unit_id, &c) != 0 ||
	    outbox_list(&req->app->db, a, u->org_unit_id, state, SYNC_PAGE_ROWS, &rows, &n) != 0) {
		http_error(req, 503, NULL);
		return;
	}
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "上报省平台");
	tv_set_int(a, ctx, "pending", c.pending);
	tv_set_int(a, ctx, "delivered", c.delivered);
	tv_set_int(a, ctx, "failed", c.failed);
	tv_set_int(a, ctx, "dead", c.dead);
	tv_set_int(a, ctx, "superseded", c.superseded);
	tv_set_bool(a, ctx, "is_admin", strcmp(u->role, "admin") == 0);
	if (state)
		tv_set_str(a, ctx, "state", outbox_state_name(outbox_state_parse(state)));
	if (http_param(req, "retried"))
		tv_set_str(a, ctx, "notice", "已安排重新发送，上报程序下次运行时会发送。");
	struct tv *list = tv_set(a, ctx, "rows", tv_list(a));
	const struct outbox_row *paused = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct outbox_row *r = &rows[i];
		struct tv *t = tv_push(a, list, tv_map(a));
		tv_set_int(a, t, "id", r->id);
		tv_set_str(a, t, "school_code", r->school_code);
		tv_set_str(a, t, "school_name", r->school_name);
		tv_set_str(a, t, "county", r->county_name);
		tv_set_str(a, t, "form", r->form_name);
		tv_set_str(a, t, "review_url",
		           arena_printf(a, "/schools/%s/%s/%s/review", r->school_code,
		                        r->period_code, r->form_code));
		tv_set_int(a, t, "version", r->version);
		tv_set_str(a, t, "key", r->idem_key);
		tv_set_str(a, t, "state_code", outbox_state_code(r->state));
		tv_set_str(a, t, "state_name", outbox_state_name(r->state));
		tv_set_int(a, t, "attempts", r->attempts);
		tv_set_str(a, t, "outcome", sync_outcome_label(r));
		tv_set_str(a, t, "detail", sync_text(a, r->last_error, SYNC_ERROR_SHOWN));
		tv_set_str(a, t, "reply", sync_text(a, r->reply, SYNC_REPLY_SHOWN));
		tv_set_str(a, t, "created_at", sync_time(a, r->created_at));
		tv_set_str(a, t, "next_at",
		           r->state == OB_PENDING ? sync_time(a, r->next_attempt_at) : NULL);
		tv_set_str(a, t, "delivered_at",
		           r->state == OB_DELIVERED ? sync_time(a, r->delivered_at) : NULL);
		tv_set_bool(a, t, "retryable", r->state == OB_FAILED || r->state == OB_DEAD);
		if (sync_paused(r) && !paused)
			paused = r;
	}
	if (paused) {
		/* the sync job stopped: the token, the proxy or the address is wrong */
		struct tv *p = tv_set(a, ctx, "pause", tv_map(a));
		tv_set_int(a, p, "http", paused->last_status);
		tv_set_str(a, p, "message", sync_text(a, paused->last_error, SYNC_ERROR_SHOWN));
	}
	tv_set_bool(a, ctx, "has_rows", n > 0);
	http_render(req, 200, "sync", ctx);
}

/* POST /sync/{id}/retry — the admin sends a failed or dead row again (not one that a
 * newer version of its submission has superseded). */
void page_sync_retry(struct http_request *req)
{
	char *end;
	long long id = strtoll(req->args[0], &end, 10);
	char err[512];
	if (*end || id <= 0) {
		http_error(req, 404, NULL);
		return;
	}
	if (!outbox_retry(&req->app->db, id, req->session->user.login, (long long)time(NULL), err,
	                  sizeof(err))) {
		http_error(req, 409, err);
		return;
	}
	http_redirect(req, "/sync?retried=1");
}

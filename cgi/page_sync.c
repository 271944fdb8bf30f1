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

/* A time for people, or NULL for 0. */
static const char *sync_time(struct arena *a, long long t)
{
	char buf[32];
	return t ? arena_strdup(a, period_format_time(t, buf, sizeof(buf))) : NULL;
}

/* GET /sync — counts and the newest rows of the user's scope (?state= filters). */
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
	tv_set_bool(a, ctx, "is_admin", strcmp(u->role, "admin") == 0);
	if (state)
		tv_set_str(a, ctx, "state", outbox_state_name(outbox_state_parse(state)));
	if (http_param(req, "retried"))
		tv_set_str(a, ctx, "notice", "已安排重新发送，上报程序下次运行时会发送。");
	struct tv *list = tv_set(a, ctx, "rows", tv_list(a));
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
		if (r->last_status)
			tv_set_int(a, t, "status", r->last_status);
		if (r->last_error)
			tv_set_str(a, t, "error", r->last_error);
		if (r->reply)
			tv_set_str(a, t, "reply",
			           arena_strndup(a, r->reply, strnlen(r->reply, SYNC_REPLY_SHOWN)));
		tv_set_str(a, t, "created", sync_time(a, r->created_at));
		if (r->state == OB_PENDING)
			tv_set_str(a, t, "next", sync_time(a, r->next_attempt_at));
		if (r->delivered_at)
			tv_set_str(a, t, "delivered", sync_time(a, r->delivered_at));
		tv_set_bool(a, t, "retryable", r->state == OB_FAILED || r->state == OB_DEAD);
	}
	tv_set_bool(a, ctx, "has_rows", n > 0);
	http_render(req, 200, "sync", ctx);
}

/* POST /sync/{id}/retry — the admin sends a failed or dead row again. */
void page_sync_retry(struct http_request *req)
{
	char *end;
	long long id = strtoll(req->args[0], &end, 10);
	char err[256];
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

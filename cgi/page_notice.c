/* page_notice.c — the in-app notices of the logged-in user's org unit. */
#include <string.h>
#include <time.h>

#include "../core/auth.h"
#include "../core/notice.h"
#include "../core/period.h"
#include "app.h"
#include "pages.h"

#define NOTICE_PAGE 100

/* GET /notices — the newest notices, unread ones marked. */
void page_notices(struct http_request *req)
{
	struct arena *a = req->arena;
	const struct user *u = &req->session->user;
	struct notice *list;
	size_t n;
	long long now = (long long)time(NULL);
	if (notice_list(&req->app->db, a, u->id, u->org_unit_id, now, NOTICE_PAGE, &list, &n) !=
	    0) {
		http_error(req, 503, NULL);
		return;
	}
	struct tv *ctx = tv_map(a);
	tv_set_str(a, ctx, "page_title", "通知");
	struct tv *rows = tv_set(a, ctx, "notices", tv_list(a));
	bool unread = false;
	for (size_t i = 0; i < n; i++) {
		char t[32];
		struct tv *r = tv_push(a, rows, tv_map(a));
		tv_set_str(a, r, "text", list[i].text);
		tv_set_str(a, r, "kind", list[i].kind);
		tv_set_str(a, r, "at",
		           arena_strdup(a, period_format_time(list[i].at, t, sizeof(t))));
		tv_set_bool(a, r, "unread", !list[i].read);
		unread = unread || !list[i].read;
		if (list[i].school_code) {
			/* the school goes to its form; reviewers to the review page */
			bool school = strcmp(u->role, "school") == 0;
			tv_set_str(a, r, "url",
			           arena_printf(a, "/schools/%s/%s/%s%s", list[i].school_code,
			                        list[i].period_code, list[i].form_code,
			                        school ? "" : "/review"));
		}
	}
	tv_set_bool(a, ctx, "has_unread", unread);
	if (http_param(req, "read"))
		tv_set_str(a, ctx, "notice", "已全部标为已读。");
	http_render(req, 200, "notices", ctx);
}

/* POST /notices/read — mark every notice read. */
void page_notices_read(struct http_request *req)
{
	const struct user *u = &req->session->user;
	if (!notice_read_all(&req->app->db, u->id, u->org_unit_id, (long long)time(NULL))) {
		http_error(req, 503, NULL);
		return;
	}
	http_redirect(req, "/notices?read=1");
}

/* pages.h — the page handlers named in the route table. */
#ifndef TB_PAGES_H
#define TB_PAGES_H

#include "http.h"

struct user;

/* page_home.c */
void page_home(struct http_request *req);
void page_school(struct http_request *req);
/* page_auth.c */
void page_login_form(struct http_request *req);
void page_login_submit(struct http_request *req);
void page_logout(struct http_request *req);
void page_password_form(struct http_request *req);
void page_password_submit(struct http_request *req);
/* page_admin_units.c */
void page_admin_units(struct http_request *req);
void page_admin_unit_new(struct http_request *req);
void page_admin_unit_create(struct http_request *req);
void page_admin_unit_edit(struct http_request *req);
void page_admin_unit_update(struct http_request *req);
void page_admin_unit_active(struct http_request *req);
/* page_admin_users.c */
void page_admin_users(struct http_request *req);
void page_admin_user_new(struct http_request *req);
void page_admin_user_create(struct http_request *req);
void page_admin_user_edit(struct http_request *req);
void page_admin_user_update(struct http_request *req);
void page_admin_user_active(struct http_request *req);
void page_admin_user_reset(struct http_request *req);

/* page_entry.c */
void page_entry(struct http_request *req);
void page_entry_save(struct http_request *req);
void page_entry_discard(struct http_request *req);
void page_entry_history(struct http_request *req);
/* After a login: apply a save kept across an expired session; where to go, or NULL. */
const char *entry_resume(struct http_request *req, const struct user *u);
/* page_overview.c (also the reviewer's home page) */
void page_overview(struct http_request *req);
void page_overview_bulk(struct http_request *req);
/* page_review.c */
void page_review(struct http_request *req);
void page_review_decide(struct http_request *req);
/* page_notice.c */
void page_notices(struct http_request *req);
void page_notices_read(struct http_request *req);
/* page_indicators.c */
void page_indicators(struct http_request *req);
void page_indicators_export(struct http_request *req);
/* page_sync.c */
void page_sync(struct http_request *req);
void page_sync_retry(struct http_request *req);
/* page_export.c */
void page_export(struct http_request *req);
struct export_table;
/* Answer with a table as a CSV (csv) or XLSX download named ascii_name / name. */
void export_respond(struct http_request *req, const struct export_table *t, bool csv,
                    const char *ascii_name, const char *name);

#endif

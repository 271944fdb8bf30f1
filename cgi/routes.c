/* routes.c — every URL of tianbao-fcgi on one screen: method, path, role, flags, handler. */
#include "pages.h"
#include "router.h"

#define MC ROUTE_MUST_CHANGE_OK

const struct route route_table[] = {
    /* public */
    {HTTP_GET, "/", ROLE_PUBLIC, 0, page_home, "home"},
    {HTTP_GET, "/login", ROLE_PUBLIC, 0, page_login_form, "login_form"},
    {HTTP_POST, "/login", ROLE_PUBLIC, ROUTE_NO_CSRF, page_login_submit, "login"},
    /* every logged-in user */
    {HTTP_POST, "/logout", ROLE_ANY, MC, page_logout, "logout"},
    {HTTP_GET, "/password", ROLE_ANY, MC, page_password_form, "password_form"},
    {HTTP_POST, "/password", ROLE_ANY, MC, page_password_submit, "password"},
    {HTTP_GET, "/schools/{code}", ROLE_ANY, ROUTE_SCOPE_UNIT, page_school, "school"},
    /* data entry: one form of one school in one period */
    {HTTP_GET, "/schools/{code}/{period}/{form}", ROLE_ANY, ROUTE_SCOPE_UNIT, page_entry, "entry"},
    {HTTP_POST, "/schools/{code}/{period}/{form}", ROLE_SCHOOL, ROUTE_SCOPE_UNIT | ROUTE_KEEP_POST,
     page_entry_save, "entry_save"},
    {HTTP_POST, "/schools/{code}/{period}/{form}/discard", ROLE_SCHOOL, ROUTE_SCOPE_UNIT,
     page_entry_discard, "entry_discard"},
    {HTTP_GET, "/schools/{code}/{period}/{form}/history/{field}", ROLE_ANY, ROUTE_SCOPE_UNIT,
     page_entry_history, "entry_history"},
    {HTTP_GET, "/notices", ROLE_ANY, 0, page_notices, "notices"},
    {HTTP_POST, "/notices/read", ROLE_ANY, 0, page_notices_read, "notices_read"},
    /* review: county (and city) reviewers and the admin, within their org unit */
    {HTTP_GET, "/review", ROLE_REVIEWER | ROLE_ADMIN, 0, page_overview, "overview"},
    {HTTP_POST, "/review/approve", ROLE_REVIEWER | ROLE_ADMIN, 0, page_overview_bulk,
     "overview_bulk"},
    {HTTP_GET, "/schools/{code}/{period}/{form}/review", ROLE_REVIEWER | ROLE_ADMIN,
     ROUTE_SCOPE_UNIT, page_review, "review"},
    {HTTP_POST, "/schools/{code}/{period}/{form}/decide", ROLE_REVIEWER | ROLE_ADMIN,
     ROUTE_SCOPE_UNIT, page_review_decide, "review_decide"},
    {HTTP_GET, "/export/{period}/{form}/{format}", ROLE_REVIEWER | ROLE_ADMIN, 0, page_export,
     "export"},
    {HTTP_GET, "/indicators", ROLE_ANY, 0, page_indicators, "indicators"},
    {HTTP_GET, "/indicators/export/{table}/{format}", ROLE_REVIEWER | ROLE_ADMIN, 0,
     page_indicators_export, "indicators_export"},
    {HTTP_GET, "/sync", ROLE_REVIEWER | ROLE_ADMIN, 0, page_sync, "sync"},
    {HTTP_POST, "/sync/{id}/retry", ROLE_ADMIN, 0, page_sync_retry, "sync_retry"},
    /* city admin */
    {HTTP_GET, "/admin/units", ROLE_ADMIN, 0, page_admin_units, "admin_units"},
    {HTTP_GET, "/admin/units/new", ROLE_ADMIN, 0, page_admin_unit_new, "admin_unit_new"},
    {HTTP_POST, "/admin/units", ROLE_ADMIN, 0, page_admin_unit_create, "admin_unit_create"},
    {HTTP_GET, "/admin/units/{code}", ROLE_ADMIN, ROUTE_SCOPE_UNIT, page_admin_unit_edit,
     "admin_unit_edit"},
    {HTTP_POST, "/admin/units/{code}", ROLE_ADMIN, ROUTE_SCOPE_UNIT, page_admin_unit_update,
     "admin_unit_update"},
    {HTTP_POST, "/admin/units/{code}/active", ROLE_ADMIN, ROUTE_SCOPE_UNIT, page_admin_unit_active,
     "admin_unit_active"},
    {HTTP_GET, "/admin/users", ROLE_ADMIN, 0, page_admin_users, "admin_users"},
    {HTTP_GET, "/admin/users/new", ROLE_ADMIN, 0, page_admin_user_new, "admin_user_new"},
    {HTTP_POST, "/admin/users", ROLE_ADMIN, 0, page_admin_user_create, "admin_user_create"},
    {HTTP_GET, "/admin/users/{login}", ROLE_ADMIN, 0, page_admin_user_edit, "admin_user_edit"},
    {HTTP_POST, "/admin/users/{login}", ROLE_ADMIN, 0, page_admin_user_update, "admin_user_update"},
    {HTTP_POST, "/admin/users/{login}/active", ROLE_ADMIN, 0, page_admin_user_active,
     "admin_user_active"},
    {HTTP_POST, "/admin/users/{login}/reset", ROLE_ADMIN, 0, page_admin_user_reset,
     "admin_user_reset"},
    {0, NULL, 0, 0, NULL, NULL},
};

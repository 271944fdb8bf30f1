/* routes.c — every URL of tianbao-fcgi on one screen: method, path, role, flags, handler. */
#include "router.h"

void page_home(struct http_request *req);
void page_login_form(struct http_request *req);

const struct route route_table[] = {
    {HTTP_GET, "/", ROLE_PUBLIC, 0, page_home, "home"},
    {HTTP_GET, "/login", ROLE_PUBLIC, 0, page_login_form, "login_form"},
    {0, NULL, 0, 0, NULL, NULL},
};

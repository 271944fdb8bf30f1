/* config.c — the INI configuration file shared by the programs (libinih). */
#include "config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TB_DATADIR
#define TB_DATADIR "/usr/local/share/tianbao"
#endif

struct config_parse {
	struct config *c;
	char dir[CONFIG_PATH_MAX]; /* directory of the file, for relative paths */
	char err[256];
};

/* Fill in the defaults. */
void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->database, sizeof(c->database), "/var/lib/tianbao/tianbao.db");
	snprintf(c->socket, sizeof(c->socket), "/run/tianbao/fcgi.sock");
	c->socket_mode = 0660;
	c->workers = 0;
	snprintf(c->templates, sizeof(c->templates), "%s/templates", TB_DATADIR);
	snprintf(c->migrations, sizeof(c->migrations), "%s/migrations", TB_DATADIR);
	snprintf(c->base_url, sizeof(c->base_url), "http://127.0.0.1:8080");
	c->cookie_secure = -1;
	c->busy_timeout_ms = 5000;
	c->session_idle_min = 30;
	c->session_max_hours = 12;
	c->approval_levels = 1;
}

/* Store a path, resolving it against the config file's directory when relative. */
static bool config_path(struct config_parse *p, char *dst, const char *value)
{
	int n;
	if (value[0] == '/' || p->dir[0] == '\0')
		n = snprintf(dst, CONFIG_PATH_MAX, "%s", value);
	else
		n = snprintf(dst, CONFIG_PATH_MAX, "%s/%s", p->dir, value);
	return n > 0 && n < CONFIG_PATH_MAX;
}

/* Parse a whole decimal (or, with base 8, octal) integer within [lo, hi]. */
static bool config_int(const char *value, int base, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(value, &end, base);
	if (errno || end == value || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* inih callback: one key of the file. Returns 0 to stop with an error. */
static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *p = user;
	struct config *c = p->c;
	bool ok = true;
	if (strcmp(section, "tianbao") != 0)
		return 1;
	if (strcmp(name, "database") == 0)
		ok = config_path(p, c->database, value);
	else if (strcmp(name, "socket") == 0)
		ok = strchr(value, '/') ? config_path(p, c->socket, value)
		                        : snprintf(c->socket, sizeof(c->socket), "%s", value) <
		                              (int)sizeof(c->socket);
	else if (strcmp(name, "socket_mode") == 0)
		ok = config_int(value, 8, 0, 0777, &c->socket_mode);
	else if (strcmp(name, "workers") == 0)
		ok = config_int(value, 10, 0, 256, &c->workers);
	else if (strcmp(name, "templates") == 0)
		ok = config_path(p, c->templates, value);
	else if (strcmp(name, "migrations") == 0)
		ok = config_path(p, c->migrations, value);
	else if (strcmp(name, "base_url") == 0) {
		size_t len = strlen(value);
		ok = (strncmp(value, "http://", 7) == 0 || strncmp(value, "https://", 8) == 0) &&
		     len < CONFIG_PATH_MAX;
		if (ok) {
			memcpy(c->base_url, value, len + 1);
			while (len > 0 && c->base_url[len - 1] == '/')
				c->base_url[--len] = '\0';
		}
	} else if (strcmp(name, "cookie_secure") == 0) {
		if (strcmp(value, "auto") == 0)
			c->cookie_secure = -1;
		else if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0)
			c->cookie_secure = 1;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0)
			c->cookie_secure = 0;
		else
			ok = false;
	} else if (strcmp(name, "busy_timeout_ms") == 0)
		ok = config_int(value, 10, 1, 60000, &c->busy_timeout_ms);
	else if (strcmp(name, "session_idle_minutes") == 0)
		ok = config_int(value, 10, 1, 24 * 60, &c->session_idle_min);
	else if (strcmp(name, "session_max_hours") == 0)
		ok = config_int(value, 10, 1, 24 * 7, &c->session_max_hours);
	else if (strcmp(name, "approval_levels") == 0)
		ok = config_int(value, 10, 1, 2, &c->approval_levels);
	else {
		snprintf(p->err, sizeof(p->err), "unknown key '%s' in [tianbao]", name);
		return 0;
	}
	if (!ok) {
		snprintf(p->err, sizeof(p->err), "bad value for '%s': '%s'", name, value);
		return 0;
	}
	return 1;
}

/* Load the file over the values already in `c`. */
bool config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	struct config_parse p = {.c = c};
	const char *slash = strrchr(path, '/');
	if (slash) {
		size_t len = (size_t)(slash - path);
		if (len >= sizeof(p.dir))
			len = sizeof(p.dir) - 1;
		memcpy(p.dir, path, len);
		p.dir[len] = '\0';
		if (len == 0)
			snprintf(p.dir, sizeof(p.dir), "/");
	} else if (!getcwd(p.dir, sizeof(p.dir))) {
		p.dir[0] = '\0';
	}
	int rc = ini_parse(path, config_handler, &p);
	if (rc == -1) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return false;
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, rc, p.err[0] ? p.err : "syntax error");
		return false;
	}
	return true;
}

/* Secure cookies: forced on/off by the file, else whenever base_url is https. */
bool config_cookie_secure(const struct config *c)
{
	if (c->cookie_secure >= 0)
		return c->cookie_secure == 1;
	return strncmp(c->base_url, "https://", 8) == 0;
}

/* config.h — the INI configuration file shared by the programs. */
#ifndef TB_CONFIG_H
#define TB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CONFIG_PATH_MAX 1024

/* Settings of section [tianbao]; every program reads the ones it needs.
 * Relative paths are resolved against the config file's directory. */
struct config {
	char database[CONFIG_PATH_MAX];   /* SQLite file */
	char socket[CONFIG_PATH_MAX];     /* unix socket path, or host:port */
	int socket_mode;                  /* permissions of a unix socket (octal in the file) */
	int workers;                      /* 0 = four per core */
	char templates[CONFIG_PATH_MAX];  /* directory of *.mustache */
	char migrations[CONFIG_PATH_MAX]; /* directory of NNNN_name.sql */
	char base_url[CONFIG_PATH_MAX];   /* e.g. https://tianbao.example.cn */
	int cookie_secure;                /* -1 auto (from base_url), 0 no, 1 yes */
	int busy_timeout_ms;              /* SQLite busy timeout */
	int session_idle_min;             /* session idle timeout, minutes */
	int session_max_hours;            /* session absolute timeout, hours */
	int approval_levels;              /* 1: the county's approval is final; 2: the city's */
};

/* Fill `c` with the built-in defaults (installed paths from configure). */
void config_defaults(struct config *c);

/* Read `path` over the current values of `c`. Unknown keys in [tianbao] are
 * errors (a typo must not silently fall back to a default); other sections are
 * ignored here (they belong to other programs). On failure returns false and
 * writes an English message naming the file and line into `err`. */
bool config_load(struct config *c, const char *path, char *err, size_t errlen);

/* True when cookies must carry Secure and the __Host- prefix. */
bool config_cookie_secure(const struct config *c);

#endif

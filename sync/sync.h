/* sync.h — tianbao-sync: its configuration (the upstream settings only it reads) and its client. */
#ifndef TB_SYNC_H
#define TB_SYNC_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/config.h"
#include "sync/policy.h"

#define SYNC_TOKEN_MAX 4096
#define SYNC_REPLY_MAX (1024 * 1024) /* bytes of an answer kept; more is cut */

/* Section [sync] of the sync configuration file. */
struct sync_config {
	char base_url[CONFIG_PATH_MAX]; /* https://...; http only to a loopback address */
	char token[SYNC_TOKEN_MAX];     /* bearer token ("" for none) */
	char client_cert[CONFIG_PATH_MAX], client_key[CONFIG_PATH_MAX]; /* mutual TLS */
	char ca_bundle[CONFIG_PATH_MAX];                                /* "" for the system's */
	char proxy[CONFIG_PATH_MAX];    /* "" for none (environment proxies are ignored) */
	char database[CONFIG_PATH_MAX]; /* overrides [tianbao] database when set */
	int connect_timeout_s, timeout_s, low_speed_limit, low_speed_time_s;
	int batch_size, interval_s, max_attempts, backoff_base_s, backoff_max_s, lease_s;
};

/* Defaults, then the file's [sync] section (a token_file key reads the token
 * from the first line of that file, without the spaces, tabs and line end
 * around it; a line too long for SYNC_TOKEN_MAX is an error naming the file).
 * A token with control characters is refused. Unknown keys are errors; paths
 * are relative to the file. Uses libcurl's URL parser: curl_global_init must
 * have run. False with an English message naming file and line (never the
 * token). */
bool sync_config_load(struct sync_config *c, const char *path, char *err, size_t errlen);

/* One reusable libcurl handle and what an answer left behind. */
struct sync_client {
	CURL *h;
	const struct sync_config *cfg;
	char url[CONFIG_PATH_MAX + 32];
	char errbuf[CURL_ERROR_SIZE];
	struct buf body; /* the answer as received (up to SYNC_REPLY_MAX bytes) */
	char *clean;     /* the answer as valid UTF-8 (what the caller sees) */
	size_t clean_cap;
	char retry_after[128];
	char location[1024]; /* the Location of a 3xx answer */
	bool truncated;
};

/* Set the handle up: TLS verification on, timeouts, proxy, client certificate,
 * keep-alive, redirects never followed (a 3xx is an answer: see policy.h).
 * False with a message. */
bool sync_client_init(struct sync_client *c, const struct sync_config *cfg, char *err,
                      size_t errlen);

/* POST one payload to {base}/api/dataValueSets with its Idempotency-Key (and
 * the bearer token when configured); the answer is in *ans (its strings live
 * in the client until the next send; the body is valid UTF-8, invalid bytes
 * replaced by U+FFFD). When the request cannot be built (out of memory for
 * its headers) nothing is sent: a transport error, to be retried. */
void sync_client_send(struct sync_client *c, const char *idem_key, const char *payload,
                      struct sync_answer *ans);

void sync_client_free(struct sync_client *c);

#endif

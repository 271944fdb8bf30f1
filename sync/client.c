/* client.c — tianbao-sync's configuration file and its libcurl client. */
#include <errno.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sync/sync.h"

#define SYNC_LINE_MAX 198 /* the system libinih's line limit (INI_MAX_LINE 200) less CR LF */

/* What the inih callback needs. */
struct sync_parse {
	struct sync_config *c;
	char dir[CONFIG_PATH_MAX];
	char err[512];
};

/* A path relative to the config file's directory. */
static bool sync_path(const struct sync_parse *p, char *dst, const char *v)
{
	int n = v[0] == '/' || !p->dir[0] ? snprintf(dst, CONFIG_PATH_MAX, "%s", v)
	                                  : snprintf(dst, CONFIG_PATH_MAX, "%s/%s", p->dir, v);
	return n > 0 && n < CONFIG_PATH_MAX;
}

/* A whole number within [lo, hi]. */
static bool sync_int(const char *v, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi)
		return false;
	*out = (int)x;
	return true;
}

/* Read the token from a file: its first line, without the line end. */
static bool sync_token_file(struct sync_parse *p, const char *v)
{
	char path[CONFIG_PATH_MAX];
	if (!sync_path(p, path, v))
		return false;
	FILE *f = fopen(path, "r");
	if (!f || !fgets(p->c->token, sizeof(p->c->token), f)) {
		if (f)
			fclose(f);
		snprintf(p->err, sizeof(p->err), "cannot read the token file %.400s", path);
		return false;
	}
	fclose(f);
	p->c->token[strcspn(p->c->token, "\r\n")] = '\0';
	return true;
}

/* Is the URL's host a loopback address? */
static bool sync_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool loop = false;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		loop = strcmp(host, "127.0.0.1") == 0 || strcasecmp(host, "localhost") == 0 ||
		       strcmp(host, "[::1]") == 0;
	curl_free(host);
	curl_url_cleanup(u);
	return loop;
}

/* inih callback: one key of [sync]. */
static int sync_handler(void *user, const char *section, const char *name, const char *v)
{
	struct sync_parse *p = user;
	struct sync_config *c = p->c;
	bool ok = true;
	if (strcmp(section, "sync") != 0)
		return 1;
	if (strcmp(name, "base_url") == 0) {
		size_t n = strlen(v);
		ok = n < sizeof(c->base_url) &&
		     (strncmp(v, "https://", 8) == 0 ||
		      (strncmp(v, "http://", 7) == 0 && sync_loopback(v)));
		if (!ok) {
			snprintf(p->err, sizeof(p->err),
			         "base_url must be https:// (http:// only to a "
			         "loopback test platform)");
			return 0;
		}
		memcpy(c->base_url, v, n + 1);
		while (n > 0 && c->base_url[n - 1] == '/')
			c->base_url[--n] = '\0';
	} else if (strcmp(name, "token") == 0)
		ok = snprintf(c->token, sizeof(c->token), "%s", v) < (int)sizeof(c->token);
	else if (strcmp(name, "token_file") == 0) {
		if (!sync_token_file(p, v))
			return 0;
	} else if (strcmp(name, "client_cert") == 0)
		ok = sync_path(p, c->client_cert, v);
	else if (strcmp(name, "client_key") == 0)
		ok = sync_path(p, c->client_key, v);
	else if (strcmp(name, "ca_bundle") == 0)
		ok = sync_path(p, c->ca_bundle, v);
	else if (strcmp(name, "proxy") == 0)
		ok = snprintf(c->proxy, sizeof(c->proxy), "%s", v) < (int)sizeof(c->proxy);
	else if (strcmp(name, "database") == 0)
		ok = sync_path(p, c->database, v);
	else if (strcmp(name, "connect_timeout") == 0)
		ok = sync_int(v, 1, 600, &c->connect_timeout_s);
	else if (strcmp(name, "timeout") == 0)
		ok = sync_int(v, 1, 3600, &c->timeout_s);
	else if (strcmp(name, "low_speed_limit") == 0)
		ok = sync_int(v, 0, 1 << 30, &c->low_speed_limit);
	else if (strcmp(name, "low_speed_time") == 0)
		ok = sync_int(v, 1, 3600, &c->low_speed_time_s);
	else if (strcmp(name, "batch_size") == 0)
		ok = sync_int(v, 1, 10000, &c->batch_size);
	else if (strcmp(name, "interval") == 0)
		ok = sync_int(v, 1, 86400, &c->interval_s);
	else if (strcmp(name, "max_attempts") == 0)
		ok = sync_int(v, 1, 1000, &c->max_attempts);
	else if (strcmp(name, "backoff_base") == 0)
		ok = sync_int(v, 1, 86400, &c->backoff_base_s);
	else if (strcmp(name, "backoff_max") == 0)
		ok = sync_int(v, 1, 7 * 86400, &c->backoff_max_s);
	else if (strcmp(name, "lease") == 0)
		ok = sync_int(v, 1, 86400, &c->lease_s);
	else {
		snprintf(p->err, sizeof(p->err), "unknown key '%s' in [sync]", name);
		return 0;
	}
	if (!ok) {
		/* never echo a token */
		snprintf(p->err, sizeof(p->err), "bad value for '%s'", name);
		return 0;
	}
	return 1;
}

/* Read a configuration file (at most 64 KiB) into malloc'd text; NULL with a message. */
static char *sync_read_config(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(65537);
	size_t n = text ? fread(text, 1, 65536, f) : 0;
	bool too_big = text && !feof(f);
	fclose(f);
	if (!text || too_big) {
		snprintf(err, errlen, "%s: %s", path,
		         text ? "larger than 64 KiB" : "out of memory");
		free(text);
		return NULL;
	}
	text[n] = '\0';
	return text;
}

/* The number of line ends in text before position `at`. */
static size_t sync_count_lines(const char *text, const char *at)
{
	size_t n = 0;
	for (const char *p = text; p < at; p++)
		n += *p == '\n';
	return n;
}

/* Load the configuration. */
bool sync_config_load(struct sync_config *c, const char *path, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->connect_timeout_s = 10;
	c->timeout_s = 60;
	c->low_speed_limit = 100;
	c->low_speed_time_s = 30;
	c->batch_size = 50;
	c->interval_s = 60;
	c->max_attempts = 12;
	c->backoff_base_s = 30;
	c->backoff_max_s = 6 * 3600;
	c->lease_s = 300;
	struct sync_parse p = {.c = c};
	const char *slash = strrchr(path, '/');
	if (slash)
		snprintf(p.dir, sizeof(p.dir), "%.*s", (int)(slash - path), path);
	char *text = sync_read_config(path, err, errlen);
	if (!text)
		return false;
	/* the INI reader takes lines of SYNC_LINE_MAX characters at most; a longer
	 * "token = ..." line (a JWT) is taken here and blanked, so line numbers stay */
	int line = 0;
	for (char *l = text, *next; l && *l && line == 0; l = next) {
		next = strchr(l, '\n');
		size_t len = next ? (size_t)(next - l) : strlen(l);
		if (next)
			next++;
		if (len <= SYNC_LINE_MAX)
			continue;
		const char *v = l + strspn(l, " \t");
		if (strncmp(v, "token", 5) != 0 || v[5 + strspn(v + 5, " \t")] != '=') {
			snprintf(p.err, sizeof(p.err), "the line is longer than %d characters",
			         SYNC_LINE_MAX);
			line = 1 + (int)sync_count_lines(text, l);
			break;
		}
		v += 5 + strspn(v + 5, " \t") + 1;
		v += strspn(v, " \t");
		size_t vl = len - (size_t)(v - l);
		while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
			vl--;
		if (vl >= sizeof(c->token)) {
			snprintf(p.err, sizeof(p.err), "the token is longer than %d characters",
			         SYNC_TOKEN_MAX - 1);
			line = 1 + (int)sync_count_lines(text, l);
			break;
		}
		memcpy(c->token, v, vl);
		c->token[vl] = '\0';
		memset(l, ' ', len); /* blank: the INI reader sees an empty line */
	}
	if (line == 0)
		line = ini_parse_string(text, sync_handler, &p);
	sodium_memzero(text, strlen(text));
	free(text);
	if (line != 0) {
		snprintf(err, errlen, "%s:%d: %s", path, line, p.err[0] ? p.err : "syntax error");
		return false;
	}
	if (!c->base_url[0]) {
		snprintf(err, errlen, "%s: [sync] base_url is missing", path);
		return false;
	}
	if (c->lease_s <= c->timeout_s + c->connect_timeout_s) {
		snprintf(err, errlen,
		         "%s: [sync] lease must be longer than connect_timeout + timeout", path);
		return false;
	}
	return true;
}

/* libcurl write callback: keep up to SYNC_REPLY_MAX bytes of the body. */
static size_t sync_on_body(char *p, size_t size, size_t n, void *user)
{
	struct sync_client *c = user;
	size_t len = size * n;
	size_t room = SYNC_REPLY_MAX > c->body.len ? SYNC_REPLY_MAX - c->body.len : 0;
	if (len > room)
		c->truncated = true;
	buf_append(&c->body, p, len < room ? len : room);
	return len;
}

/* libcurl header callback: remember Retry-After. */
static size_t sync_on_header(char *p, size_t size, size_t n, void *user)
{
	struct sync_client *c = user;
	size_t len = size * n;
	static const char name[] = "retry-after:";
	if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0) {
		size_t v = len - (sizeof(name) - 1);
		if (v >= sizeof(c->retry_after))
			v = sizeof(c->retry_after) - 1;
		memcpy(c->retry_after, p + sizeof(name) - 1, v);
		c->retry_after[v] = '\0';
		c->retry_after[strcspn(c->retry_after, "\r\n")] = '\0';
	}
	return len;
}

/* Set the handle up once. */
bool sync_client_init(struct sync_client *c, const struct sync_config *cfg, char *err,
                      size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->h = curl_easy_init();
	if (!c->h) {
		snprintf(err, errlen, "libcurl cannot start");
		return false;
	}
	snprintf(c->url, sizeof(c->url), "%s/api/dataValueSets", cfg->base_url);
	bool https = strncmp(cfg->base_url, "https://", 8) == 0;
	CURL *h = c->h;
	CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(h, opt, val);                                        \
	} while (0)
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http");
	SET(CURLOPT_POSTREDIR, (long)CURL_REDIR_POST_ALL);
	SET(CURLOPT_MAXREDIRS, 3L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->ca_bundle[0])
		SET(CURLOPT_CAINFO, cfg->ca_bundle);
	if (cfg->client_cert[0])
		SET(CURLOPT_SSLCERT, cfg->client_cert);
	if (cfg->client_key[0])
		SET(CURLOPT_SSLKEY, cfg->client_key);
	SET(CURLOPT_PROXY, cfg->proxy); /* "" turns environment proxies off */
	SET(CURLOPT_CONNECTTIMEOUT, (long)cfg->connect_timeout_s);
	SET(CURLOPT_TIMEOUT, (long)cfg->timeout_s);
	SET(CURLOPT_LOW_SPEED_LIMIT, (long)cfg->low_speed_limit);
	SET(CURLOPT_LOW_SPEED_TIME, (long)cfg->low_speed_time_s);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_USERAGENT, "tianbao-sync/" PACKAGE_VERSION);
	SET(CURLOPT_ERRORBUFFER, c->errbuf);
	SET(CURLOPT_WRITEFUNCTION, sync_on_body);
	SET(CURLOPT_WRITEDATA, c);
	SET(CURLOPT_HEADERFUNCTION, sync_on_header);
	SET(CURLOPT_HEADERDATA, c);
#undef SET
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
		sync_client_free(c);
		return false;
	}
	return true;
}

/* One POST. */
void sync_client_send(struct sync_client *c, const char *idem_key, const char *payload,
                      struct sync_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	buf_reset(&c->body);
	c->retry_after[0] = '\0';
	c->errbuf[0] = '\0';
	c->truncated = false;
	struct curl_slist *hdr = NULL;
	char line[SYNC_TOKEN_MAX + 64];
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Accept: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	snprintf(line, sizeof(line), "Idempotency-Key: %s", idem_key);
	hdr = curl_slist_append(hdr, line);
	if (c->cfg->token[0]) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", c->cfg->token);
		hdr = curl_slist_append(hdr, line);
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
	CURLcode rc = curl_easy_perform(c->h);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hdr);
	memset(line, 0, sizeof(line)); /* the token */
	if (rc != CURLE_OK) {
		ans->transport_error = true;
		ans->transport_message = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
		ans->permanent = rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_TOO_MANY_REDIRECTS;
		return;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &ans->status);
	buf_putc(&c->body, '\0');
	c->body.len--;
	ans->body = c->body.data;
	ans->body_len = c->body.len;
	ans->retry_after = c->retry_after[0] ? c->retry_after : NULL;
}

/* Release the handle. */
void sync_client_free(struct sync_client *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	c->h = NULL;
	buf_free(&c->body);
}

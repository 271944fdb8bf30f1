/* client.c — tianbao-sync's configuration file and its libcurl client. */
#include <errno.h>
#include <ini.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/fileread.h"
#include "core/outbox.h" /* outbox_utf8_copy */
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

/* Read the token from a file: its first line, without the spaces, tabs and line end
 * around it. A line longer than the token may be, an empty one or one with control
 * characters is an error naming the file (never the token). */
static bool sync_token_file(struct sync_parse *p, const char *v)
{
	char path[CONFIG_PATH_MAX];
	char line[SYNC_TOKEN_MAX + 256]; /* room for blanks around a token of the longest */
	if (!sync_path(p, path, v))
		return false;
	FILE *f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		bool empty = f && !ferror(f);
		if (f)
			fclose(f);
		snprintf(p->err, sizeof(p->err),
		         empty ? "the token file %.400s is empty"
		               : "cannot read the token file %.400s",
		         path);
		return false;
	}
	size_t n = strlen(line);
	/* fgets stops at a full buffer too: then the line goes on (unless the file ends) */
	bool whole = n > 0 && line[n - 1] == '\n';
	if (!whole) {
		int next = fgetc(f);
		whole = next == EOF || next == '\n';
	}
	fclose(f);
	char *t = line + strspn(line, " \t");
	n = strlen(t);
	while (n > 0 && strchr(" \t\r\n", t[n - 1]))
		t[--n] = '\0';
	const char *why = NULL;
	if (!whole || n >= sizeof(p->c->token))
		why = "is longer than 4095 characters (or its line is cut)";
	else if (n == 0)
		why = "is empty";
	for (size_t i = 0; !why && i < n; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f)
			why = "holds control characters";
	if (!why)
		memcpy(p->c->token, t, n + 1);
	sodium_memzero(line, sizeof(line));
	if (why) {
		snprintf(p->err, sizeof(p->err), "the token in %.400s %s", path, why);
		return false;
	}
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
	size_t size;
	char *text = file_read(path, 64 * 1024, &size, err, errlen);
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
	for (const char *t = c->token; *t; t++)
		if ((unsigned char)*t < 0x20 || *t == 0x7f) {
			/* a line end in a header would start another header */
			sodium_memzero(c->token, sizeof(c->token));
			snprintf(err, errlen, "%s: [sync] the token holds control characters",
			         path);
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
	CURL *h = c->h;
	CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (rc == CURLE_OK)                                                                \
			rc = curl_easy_setopt(h, opt, val);                                        \
	} while (0)
	SET(CURLOPT_URL, c->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	/* never follow a redirect: replaying the POST with its token and key to wherever a
	 * server (or a captive portal, or a hijacked name) points is not ours to decide; a
	 * 3xx is an answer, retried later and shown with its Location (docs/upstream.md) */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
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

/* Append one header line; false (the list unchanged) when libcurl has no memory. */
static bool sync_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);
	if (!n)
		return false;
	*list = n;
	return true;
}

/* Wipe the header lines (one holds the token) and free the list. */
static void sync_headers_free(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		sodium_memzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

/* The answer's body as valid UTF-8 in c->clean (invalid bytes as U+FFFD); false
 * without memory. */
static bool sync_clean_body(struct sync_client *c)
{
	size_t need = 3 * c->body.len + 1; /* each invalid byte may become 3 */
	if (need > c->clean_cap) {
		char *p = realloc(c->clean, need);
		if (!p)
			return false;
		c->clean = p;
		c->clean_cap = need;
	}
	outbox_utf8_copy(c->clean, c->clean_cap, c->body.data, c->body.len);
	return true;
}

/* One POST. */
void sync_client_send(struct sync_client *c, const char *idem_key, const char *payload,
                      struct sync_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	buf_reset(&c->body);
	c->retry_after[0] = '\0';
	c->location[0] = '\0';
	c->errbuf[0] = '\0';
	c->truncated = false;
	struct curl_slist *hdr = NULL;
	char line[SYNC_TOKEN_MAX + 64];
	/* every line is needed: never send without the key or the token */
	bool ok = sync_header(&hdr, "Content-Type: application/json") &&
	          sync_header(&hdr, "Accept: application/json") && sync_header(&hdr, "Expect:");
	int n = snprintf(line, sizeof(line), "Idempotency-Key: %s", idem_key);
	ok = ok && n > 0 && (size_t)n < sizeof(line) && sync_header(&hdr, line);
	if (ok && c->cfg->token[0]) {
		n = snprintf(line, sizeof(line), "Authorization: Bearer %s", c->cfg->token);
		ok = n > 0 && (size_t)n < sizeof(line) && sync_header(&hdr, line);
	}
	sodium_memzero(line, sizeof(line)); /* the token */
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	if (ok)
		rc = curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, payload);
	if (rc == CURLE_OK)
		rc = curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE,
		                      (curl_off_t)strlen(payload));
	if (rc != CURLE_OK) {
		curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
		sync_headers_free(hdr);
		ans->transport_error = true;
		ans->transport_message = "the request could not be built (out of memory): not sent";
		return;
	}
	rc = curl_easy_perform(c->h);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	sync_headers_free(hdr);
	if (rc != CURLE_OK) {
		ans->transport_error = true;
		ans->transport_message = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
		ans->permanent = rc == CURLE_UNSUPPORTED_PROTOCOL;
		return;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &ans->status);
	char *loc = NULL;
	if (ans->status >= 300 && ans->status <= 399 &&
	    curl_easy_getinfo(c->h, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
		snprintf(c->location, sizeof(c->location), "%s", loc);
		ans->location = c->location;
	}
	ans->truncated = c->truncated;
	if (sync_clean_body(c)) {
		ans->body = c->clean;
		ans->body_len = strlen(c->clean);
	} else {
		ans->truncated = true; /* unreadable: a 2xx is retried */
	}
	ans->retry_after = c->retry_after[0] ? c->retry_after : NULL;
}

/* Release the handle. */
void sync_client_free(struct sync_client *c)
{
	if (c->h)
		curl_easy_cleanup(c->h);
	c->h = NULL;
	buf_free(&c->body);
	free(c->clean);
	c->clean = NULL;
	c->clean_cap = 0;
}

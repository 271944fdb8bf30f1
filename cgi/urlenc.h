/* urlenc.h — application/x-www-form-urlencoded parsing (WHATWG) with hard limits. */
#ifndef TB_URLENC_H
#define TB_URLENC_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"

struct http_param {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

struct urlenc_limits {
	size_t max_fields;
	size_t max_name;
	size_t max_value;
};

enum urlenc_status {
	URLENC_OK = 0,
	URLENC_TOO_MANY_FIELDS,
	URLENC_NAME_TOO_LONG,
	URLENC_VALUE_TOO_LONG
};

/* Parse `len` bytes of `in` by the WHATWG urlencoded parser: split on '&', skip empty
   sequences, split at the first '=', '+' → space, percent-decode (invalid escapes kept
   literally), then decode as UTF-8 without BOM replacing every invalid sequence with U+FFFD
   (per the WHATWG Encoding Standard "UTF-8 decode without BOM": maximal subpart replacement).
   Names and values are NUL-terminated copies in the arena (lengths exclude the NUL; values
   may contain NUL bytes from %00, hence the explicit lengths). On success *out and *n receive
   the pairs in order. Limits are checked on the decoded lengths (bytes); a limit of 0 means
   unlimited. */
enum urlenc_status urlenc_parse(struct arena *a, const char *in, size_t len,
                                const struct urlenc_limits *lim, struct http_param **out,
                                size_t *n);

/* Percent-decode only (no '+' handling, no UTF-8 repair) into the arena; used for cookies/paths. */
char *urlenc_percent_decode(struct arena *a, const char *in, size_t len, size_t *outlen);

/* True when name is a safe parameter name: 1..max bytes of [A-Za-z0-9_.-] only (like Fossil). */
bool urlenc_name_ok(const char *name, size_t len);

/* True when value has no NUL and no C0/DEL control characters; tab is allowed; CR and LF
   only when allow_newlines. Assumes already-valid UTF-8. */
bool urlenc_value_ok(const char *value, size_t len, bool allow_newlines);

/* True when s[0..len) is valid UTF-8 (no overlongs, no surrogates, max U+10FFFF). */
bool urlenc_utf8_valid(const char *s, size_t len);

#endif

/* tmpl.h — Mustache templates: values, parsing once per worker, HTML-escaped rendering. */
#ifndef TB_TMPL_H
#define TB_TMPL_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/arena.h"
#include "../core/buf.h"

/* ---- Values: the data a template is rendered against. ----
 * Built by handlers in the request arena; never freed one by one. */
enum tv_type { TV_NULL, TV_BOOL, TV_INT, TV_REAL, TV_STR, TV_LIST, TV_MAP };

struct tv;

struct tv_pair {
	const char *key;
	struct tv *val;
};

struct tv {
	enum tv_type type;
	union {
		bool b;
		long long i;
		double r;
		struct {
			const char *s;
			size_t len;
		} str;
		struct {
			struct tv **items;
			size_t n, cap;
		} list;
		struct {
			struct tv_pair *pairs;
			size_t n, cap;
		} map;
	} u;
};

struct tv *tv_null(struct arena *a);
struct tv *tv_bool(struct arena *a, bool b);
struct tv *tv_int(struct arena *a, long long i);
struct tv *tv_real(struct arena *a, double r);
/* A string value; the bytes are NOT copied (they must outlive the render). */
struct tv *tv_str(struct arena *a, const char *s);
struct tv *tv_strn(struct arena *a, const char *s, size_t len);
/* A string value from printf; the result lives in the arena. */
struct tv *tv_strf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
struct tv *tv_list(struct arena *a);
struct tv *tv_map(struct arena *a);
/* Append to a list; returns `item`. */
struct tv *tv_push(struct arena *a, struct tv *list, struct tv *item);
/* Set `key` in a map (replacing an existing value); returns `val`. The key is not copied. */
struct tv *tv_set(struct arena *a, struct tv *map, const char *key, struct tv *val);
/* Shorthands for the common cases of tv_set. */
void tv_set_str(struct arena *a, struct tv *map, const char *key, const char *s);
void tv_set_int(struct arena *a, struct tv *map, const char *key, long long i);
void tv_set_bool(struct arena *a, struct tv *map, const char *key, bool b);
/* Look a key up in a map (NULL when absent or `map` is not a map). */
struct tv *tv_get(const struct tv *map, const char *key);

/* ---- Templates ---- */

struct tmpl_set;

/* Parse every `*.mustache` file in `dir` (file name without the suffix is the
 * template's name, usable as a partial). Returns NULL and writes a message
 * naming file and line into `err` when any template fails to parse. The set
 * owns its memory; free it with tmpl_set_free. */
struct tmpl_set *tmpl_load_dir(const char *dir, char *err, size_t errlen);

/* Create an empty set and add templates from memory (used by tests and by
 * tmpl_load_dir). tmpl_add returns false and fills `err` on a parse error. */
struct tmpl_set *tmpl_set_new(void);
bool tmpl_add(struct tmpl_set *set, const char *name, const char *text, size_t len, char *err,
              size_t errlen);

/* True when the set holds a template of that name. */
bool tmpl_has(const struct tmpl_set *set, const char *name);

/* Render template `name` against `ctx` by Mustache rules, appending to `out`:
 * {{x}} is HTML-escaped, {{{x}}} and {{&x}} are raw (use only with trusted
 * text). Missing names render as empty; missing partials render as empty.
 * Returns false when `name` is not in the set. `scratch` holds temporaries. */
bool tmpl_render(const struct tmpl_set *set, const char *name, const struct tv *ctx,
                 struct arena *scratch, struct buf *out);

void tmpl_set_free(struct tmpl_set *set);

#endif

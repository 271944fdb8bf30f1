/* tmpl_value.c — constructors for template values (struct tv), all allocated in an arena. */
#include "tmpl.h"

#include <stdarg.h>
#include <string.h>

/* Allocate a zeroed value of type `t` in the arena. */
static struct tv *tv_new(struct arena *a, enum tv_type t)
{
	struct tv *v = arena_alloc(a, sizeof(*v));
	v->type = t;
	return v;
}

/* A null value: renders as nothing and is falsey in sections. */
struct tv *tv_null(struct arena *a)
{
	return tv_new(a, TV_NULL);
}

/* A boolean value. */
struct tv *tv_bool(struct arena *a, bool b)
{
	struct tv *v = tv_new(a, TV_BOOL);
	v->u.b = b;
	return v;
}

/* An integer value, rendered with %lld. */
struct tv *tv_int(struct arena *a, long long i)
{
	struct tv *v = tv_new(a, TV_INT);
	v->u.i = i;
	return v;
}

/* A floating-point value, rendered in its shortest round-trip form. */
struct tv *tv_real(struct arena *a, double r)
{
	struct tv *v = tv_new(a, TV_REAL);
	v->u.r = r;
	return v;
}

/* A string value pointing at `s` (not copied); a NULL `s` gives a null value. */
struct tv *tv_str(struct arena *a, const char *s)
{
	if (!s)
		return tv_null(a);
	return tv_strn(a, s, strlen(s));
}

/* A string value of `len` bytes at `s` (not copied); a NULL `s` gives a null value. */
struct tv *tv_strn(struct arena *a, const char *s, size_t len)
{
	if (!s)
		return tv_null(a);
	struct tv *v = tv_new(a, TV_STR);
	v->u.str.s = s;
	v->u.str.len = len;
	return v;
}

/* A string value formatted with printf into the arena. */
struct tv *tv_strf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return tv_strn(a, s, strlen(s));
}

/* An empty list. */
struct tv *tv_list(struct arena *a)
{
	return tv_new(a, TV_LIST);
}

/* An empty map. */
struct tv *tv_map(struct arena *a)
{
	return tv_new(a, TV_MAP);
}

/* Append `item` to `list`, doubling the item array in the arena when full.
 * A `list` that is not a list is left alone. Returns `item`. */
struct tv *tv_push(struct arena *a, struct tv *list, struct tv *item)
{
	if (!list || list->type != TV_LIST)
		return item;
	if (list->u.list.n == list->u.list.cap) {
		size_t cap = list->u.list.cap ? list->u.list.cap * 2 : 8;
		struct tv **items = arena_alloc(a, cap * sizeof(*items));
		if (list->u.list.n)
			memcpy(items, list->u.list.items, list->u.list.n * sizeof(*items));
		list->u.list.items = items;
		list->u.list.cap = cap;
	}
	list->u.list.items[list->u.list.n++] = item;
	return item;
}

/* Set `key` to `val` in `map`, replacing an existing entry; the key is not
 * copied. A `map` that is not a map is left alone. Returns `val`. */
struct tv *tv_set(struct arena *a, struct tv *map, const char *key, struct tv *val)
{
	if (!map || map->type != TV_MAP || !key)
		return val;
	for (size_t i = 0; i < map->u.map.n; i++) {
		if (strcmp(map->u.map.pairs[i].key, key) == 0) {
			map->u.map.pairs[i].val = val;
			return val;
		}
	}
	if (map->u.map.n == map->u.map.cap) {
		size_t cap = map->u.map.cap ? map->u.map.cap * 2 : 8;
		struct tv_pair *pairs = arena_alloc(a, cap * sizeof(*pairs));
		if (map->u.map.n)
			memcpy(pairs, map->u.map.pairs, map->u.map.n * sizeof(*pairs));
		map->u.map.pairs = pairs;
		map->u.map.cap = cap;
	}
	map->u.map.pairs[map->u.map.n].key = key;
	map->u.map.pairs[map->u.map.n].val = val;
	map->u.map.n++;
	return val;
}

/* Set `key` to the string `s` (not copied). */
void tv_set_str(struct arena *a, struct tv *map, const char *key, const char *s)
{
	tv_set(a, map, key, tv_str(a, s));
}

/* Set `key` to the integer `i`. */
void tv_set_int(struct arena *a, struct tv *map, const char *key, long long i)
{
	tv_set(a, map, key, tv_int(a, i));
}

/* Set `key` to the boolean `b`. */
void tv_set_bool(struct arena *a, struct tv *map, const char *key, bool b)
{
	tv_set(a, map, key, tv_bool(a, b));
}

/* Find `key` in `map` by linear scan; NULL when absent or not a map. */
struct tv *tv_get(const struct tv *map, const char *key)
{
	if (!map || map->type != TV_MAP || !key)
		return NULL;
	for (size_t i = 0; i < map->u.map.n; i++)
		if (strcmp(map->u.map.pairs[i].key, key) == 0)
			return map->u.map.pairs[i].val;
	return NULL;
}

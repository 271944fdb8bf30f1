/* arena.c — per-request bump allocator: many small allocations, one free. */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes in data[] */
	size_t used;
	_Alignas(max_align_t) unsigned char data[];
};

#define ARENA_ALIGN _Alignof(max_align_t)

/* Abort with a message; the caller cannot continue without memory. */
static void arena_oom(size_t n)
{
	fprintf(stderr, "tianbao: out of memory (arena request of %zu bytes)\n", n);
	abort();
}

/* Initialise an empty arena with the given default chunk size. */
void arena_init(struct arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 64 * 1024;
	a->used_total = 0;
	a->limit = 0;
}

/* Allocate a new chunk of at least `need` bytes and make it the head. */
static struct arena_chunk *arena_grow(struct arena *a, size_t need)
{
	size_t size = need > a->chunk_size ? need : a->chunk_size;
	struct arena_chunk *c = malloc(sizeof(*c) + size);
	if (!c)
		arena_oom(need);
	c->size = size;
	c->used = 0;
	c->next = a->head;
	a->head = c;
	return c;
}

/* Return `n` zeroed, aligned bytes from the arena (aborts on exhaustion). */
void *arena_alloc(struct arena *a, size_t n)
{
	size_t rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (rounded < n)
		arena_oom(n);
	if (a->limit && a->used_total + rounded > a->limit)
		arena_oom(n);
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < rounded)
		c = arena_grow(a, rounded);
	void *p = c->data + c->used;
	c->used += rounded;
	a->used_total += rounded;
	memset(p, 0, n);
	return p;
}

/* Copy `len` bytes and terminate them with NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *d = arena_alloc(a, len + 1);
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* Copy a NUL-terminated string; NULL stays NULL. */
char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

/* vprintf into the arena. */
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return arena_strdup(a, "");
	char *d = arena_alloc(a, (size_t)n + 1);
	vsnprintf(d, (size_t)n + 1, fmt, ap);
	return d;
}

/* printf into the arena. */
char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *d = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return d;
}

/* Free all chunks except the oldest one, and empty that. */
void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c && c->next) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = c;
	if (c) {
		/* An oversized first chunk is not worth keeping. */
		if (c->size > a->chunk_size) {
			free(c);
			a->head = NULL;
		} else {
			c->used = 0;
		}
	}
	a->used_total = 0;
}

/* Free every chunk. */
void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->used_total = 0;
}

/* arena.h — per-request bump allocator: many small allocations, one free. */
#ifndef TB_ARENA_H
#define TB_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;

/* An arena hands out memory from malloc'd chunks and frees it all at once.
 * Not thread-safe; one arena per request (or per long-lived owner). */
struct arena {
	struct arena_chunk *head; /* newest chunk; older chunks follow ->next */
	size_t chunk_size;        /* default size of a fresh chunk */
	size_t used_total;        /* bytes handed out since the last reset */
	size_t limit;             /* 0 = unlimited; else arena_alloc aborts past it */
};

/* Initialise an empty arena; nothing is allocated until first use. */
void arena_init(struct arena *a, size_t chunk_size);

/* Return `n` bytes aligned for any type, zero-filled. Never returns NULL:
 * out of memory (or over the arena's limit) aborts the process, which for a
 * prefork worker means the supervisor starts a fresh one. */
void *arena_alloc(struct arena *a, size_t n);

/* Copy `len` bytes of `s` into the arena and NUL-terminate the copy. */
char *arena_strndup(struct arena *a, const char *s, size_t len);

/* Copy the NUL-terminated string `s` (NULL gives NULL). */
char *arena_strdup(struct arena *a, const char *s);

/* printf into fresh arena memory. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Release everything but the first chunk, which is kept for the next request. */
void arena_reset(struct arena *a);

/* Release all memory of the arena. */
void arena_free(struct arena *a);

#endif

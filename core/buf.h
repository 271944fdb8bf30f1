/* buf.h — growable byte buffer for responses, templates and exports. */
#ifndef TB_BUF_H
#define TB_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A malloc'd byte string that grows as needed and is always NUL-terminated
 * (data may be NULL while len == 0). Reset keeps the memory for reuse. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

/* Append `n` bytes. Aborts on out-of-memory. */
void buf_append(struct buf *b, const void *p, size_t n);
/* Append a NUL-terminated string. */
void buf_puts(struct buf *b, const char *s);
/* Append one byte. */
void buf_putc(struct buf *b, char c);
/* Append formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append `n` bytes with HTML escaping of & < > " '. */
void buf_html(struct buf *b, const char *s, size_t n);
/* Append a string percent-encoded for a URL component (unreserved kept). */
void buf_urlencode(struct buf *b, const char *s, size_t n);
/* Forget the contents, keep the memory. */
void buf_reset(struct buf *b);
/* Release the memory. */
void buf_free(struct buf *b);

#endif

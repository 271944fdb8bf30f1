/* fileread.c — reading a whole file of bounded size into memory. */
#include "fileread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read a whole file, growing the buffer as it comes (the file may be a pipe). */
char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	*len = 0;
	FILE *in = fopen(path, "rb");
	if (!in) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = max < 65536 ? max + 1 : 65536, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			if (cap > max) {
				snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
				goto fail;
			}
			size_t bigger = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *b = realloc(buf, bigger + 1);
			if (!b)
				break;
			buf = b;
			cap = bigger;
		}
		size_t got = fread(buf + n, 1, cap - n, in);
		n += got;
		if (got == 0) {
			if (ferror(in)) {
				snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
				goto fail;
			}
			fclose(in);
			buf[n] = '\0';
			*len = n;
			return buf;
		}
	}
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	free(buf);
	fclose(in);
	return NULL;
}

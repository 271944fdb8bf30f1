/* fileread.h — reading a whole file of bounded size into memory. */
#ifndef TB_FILEREAD_H
#define TB_FILEREAD_H

#include <stddef.h>

/* The whole file at `path` in malloc'd memory, NUL-terminated, its length in
 * *len. NULL with an English message naming the file in `err` when it cannot be
 * opened or read, or holds more than `max` bytes. */
char *file_read(const char *path, size_t max, size_t *len, char *err, size_t errlen);

#endif

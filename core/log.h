/* log.h — one-line log records on stderr with control characters escaped. */
#ifndef TB_LOG_H
#define TB_LOG_H

/* Set the program name shown in every record (e.g. "tianbao-fcgi"). */
void log_init(const char *prog);

/* Write "time prog[pid] LEVEL message" to stderr. Bytes below 0x20 and 0x7f in
 * the formatted message are written as \xNN so that no input can forge a line. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

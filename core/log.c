/* log.c — one-line log records on stderr with control characters escaped. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "tianbao";

/* Remember the program name for every later record. */
void log_init(const char *prog)
{
	log_prog = prog;
}

/* Format one record and write it with a single write(2), so that records of
 * concurrent workers do not interleave. */
static void log_write(const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void log_write(const char *level, const char *fmt, va_list ap)
{
	char msg[2048], line[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02dZ %s[%ld] %s ",
	                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	                 tm.tm_sec, log_prog, (long)getpid(), level);
	size_t len = n > 0 ? (size_t)n : 0;
	for (const unsigned char *p = (const unsigned char *)msg; *p && len + 6 < sizeof(line);
	     p++) {
		if (*p < 0x20 || *p == 0x7f)
			len += (size_t)snprintf(line + len, sizeof(line) - len, "\\x%02x", *p);
		else
			line[len++] = (char)*p;
	}
	line[len++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

/* Informational record. */
void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write("info", fmt, ap);
	va_end(ap);
}

/* Something unexpected that the program recovered from. */
void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write("warn", fmt, ap);
	va_end(ap);
}

/* A failure. */
void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_write("error", fmt, ap);
	va_end(ap);
}

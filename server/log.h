/*
 * log: ward-server's log lines on standard error, each one line that
 * starts with an RFC 3339 UTC timestamp with milliseconds:
 *
 *   2026-12-05T20:41:07.123Z ward-server: serving on https://0.0.0.0:8443
 *
 * (Request lines are JSON objects with the same time in "@timestamp".)
 * Messages from outside are escaped before they get here (jcheck_escape).
 */
#ifndef WARD_SERVER_LOG_H
#define WARD_SERVER_LOG_H

#include <stdarg.h>

/* The time now, as the log writes it: out has at least 32 bytes. */
void log_now(char out[32]);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* libmicrohttpd's own messages (MHD_OPTION_EXTERNAL_LOGGER). */
void log_mhd(void *cls, const char *fmt, va_list ap);

#endif

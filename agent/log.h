/*
 * log: wardd's log lines, on standard error (the journal under systemd,
 * the caller's file otherwise).  Every line starts with an RFC 3339
 * timestamp in UTC with milliseconds, then who speaks:
 *
 *   2026-12-05T19:55:01.123Z wardd[812] supervisor: restarting the worker in 0.25 s
 *   2026-12-05T19:55:01.402Z wardd[815]: ready: /run/ward/control.sock (protecting)
 *
 * Each line is one write(2), so that the lines of the supervisor and of
 * the worker (and of the worker's threads) never mix in the middle.
 */
#ifndef WARD_AGENT_LOG_H
#define WARD_AGENT_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* "2026-12-05T19:55:01.123Z" and its NUL. */
#define LOG_STAMP_SIZE 25
/* A line is cut (and ends with "...") past this many bytes. */
#define LOG_LINE_MAX 4096

/* The time now, RFC 3339, UTC, milliseconds, in out (LOG_STAMP_SIZE bytes). */
void log_stamp(char out[LOG_STAMP_SIZE]);

/*
 * Writes one line: the timestamp, then "wardd[PID] ROLE: " (role NULL or
 * "": "wardd[PID]: "; with pid 0: "wardd: ", for what is said before the
 * agent runs), then the message and a newline.
 */
void log_line(long pid, const char *role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vline(long pid, const char *role, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif

/*
 * log: the log lines of ward's daemons (wardd, ward-server), on standard
 * error (the journal under systemd, the caller's file otherwise).  Every
 * line starts with an RFC 3339 timestamp in UTC with milliseconds, then
 * who speaks:
 *
 *   2026-12-05T19:55:01.123Z wardd[812] supervisor: restarting the worker in 0.25 s
 *   2026-12-05T19:55:01.402Z wardd[815]: ready: /run/ward/control.sock (protecting)
 *   2026-12-05T20:41:07.123Z ward-server: serving on https://0.0.0.0:8443
 *
 * Each line is one write(2), so that the lines of processes and threads
 * never mix in the middle, and one line whatever the message holds (a
 * newline inside it becomes a space: a message cannot forge a line).
 * Messages from outside are escaped before they get here (jcheck_escape).
 */
#ifndef WARD_UTIL_LOG_H
#define WARD_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* "2026-12-05T19:55:01.123Z" and its NUL. */
#define LOG_STAMP_SIZE 25
/* A line is cut (and ends with "...") past this many bytes. */
#define LOG_LINE_MAX 4096

/* The program the lines name ("wardd", "ward-server"; "ward" until set).
 * name must stay valid; call it first, before threads start. */
void log_program(const char *name);

/* The time now, RFC 3339, UTC, milliseconds, in out (LOG_STAMP_SIZE bytes). */
void log_stamp(char out[LOG_STAMP_SIZE]);

/*
 * Writes one line: the timestamp, then "PROGRAM[PID] ROLE: " (role NULL or
 * "": "PROGRAM[PID]: "; with pid 0: "PROGRAM: "), then the message and a
 * newline.  errno is kept.
 */
void log_line(long pid, const char *role, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_vline(long pid, const char *role, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* log_line(0, NULL, ...): "PROGRAM: message". */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

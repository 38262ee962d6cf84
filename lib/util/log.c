/*
 * log: timestamped log lines.  See log.h.
 *
 * Must hold: one write per line, never a partial line from us (a line too
 * long is cut and says so); nothing here allocates, so a line can still be
 * written when memory runs out.
 */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *program = "ward";

void
log_program(const char *name)
{
	program = name;
}

void
log_stamp(char out[LOG_STAMP_SIZE])
{
	struct timespec now;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(out, LOG_STAMP_SIZE, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0 || n + 6 > LOG_STAMP_SIZE) { /* a year past 9999 */
		snprintf(out, LOG_STAMP_SIZE, "9999-12-31T23:59:59.999Z");
		return;
	}
	snprintf(out + n, LOG_STAMP_SIZE - n, ".%03dZ", (int)(now.tv_nsec / 1000000) % 1000);
}

void
log_vline(long pid, const char *role, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX], stamp[LOG_STAMP_SIZE];
	size_t n, i, start, done = 0;
	int k, saved = errno; /* a caller may log between a failure and strerror */

	log_stamp(stamp);
	if (pid == 0)
		k = snprintf(line, sizeof(line), "%s %s: ", stamp, program);
	else if (role == NULL || role[0] == '\0')
		k = snprintf(line, sizeof(line), "%s %s[%ld]: ", stamp, program, pid);
	else
		k = snprintf(line, sizeof(line), "%s %s[%ld] %s: ", stamp, program, pid, role);
	n = k > 0 && (size_t)k < sizeof(line) ? (size_t)k : 0;
	start = n;
	k = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (k < 0)
		k = 0;
	if ((size_t)k >= sizeof(line) - n - 1) { /* cut: room for "...\n" */
		n = sizeof(line) - 5;
		memcpy(line + n, "...", 3);
		n += 3;
	} else {
		n += (size_t)k;
	}
	while (n > start &&
	       (line[n - 1] == '\n' || line[n - 1] == '\r')) /* (as libmicrohttpd's do) */
		n--;
	for (i = start; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	while (done < n) {
		ssize_t w = write(2, line + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	errno = saved;
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(0, NULL, fmt, ap);
	va_end(ap);
}

void
log_line(long pid, const char *role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(pid, role, fmt, ap);
	va_end(ap);
}

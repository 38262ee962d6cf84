/*
 * log: timestamped log lines.  See log.h.
 *
 * Must hold: one call writes one whole line (a single fwrite of a line
 * built first), so that lines of threads never interleave.
 */
#include "server/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void
log_now(char out[32])
{
	struct timespec now;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 32 - strlen(out), ".%03ldZ", now.tv_nsec / 1000000);
}

static void
vlog(const char *fmt, va_list ap)
{
	char line[2048];
	size_t n;

	log_now(line);
	n = strlen(line);
	n += (size_t)snprintf(line + n, sizeof(line) - n, " ward-server: ");
	if (n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n = strcspn(line, "\n"); /* one line, whatever the message held */
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	(void)fwrite(line, 1, n, stderr);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void
log_mhd(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	vlog(fmt, ap);
}

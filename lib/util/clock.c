/*
 * clock: monotonic seconds, and UTC times as text.  See clock.h.
 */
#include "util/clock.h"
#include "util/err.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

double
clock_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
clock_utc_parse(const char *s, int64_t *out)
{
	struct tm tm;
	unsigned y, mo, da, h, mi, se;
	int n = 0;
	time_t t;

	*out = 0;
	if (strlen(s) != 20 ||
	    sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2uZ%n", &y, &mo, &da, &h, &mi, &se, &n) != 6 ||
	    n != 20)
		return WARD_EFORMAT;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return WARD_EFORMAT;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = (int)mo - 1;
	tm.tm_mday = (int)da;
	tm.tm_hour = (int)h;
	tm.tm_min = (int)mi;
	tm.tm_sec = (int)se;
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != (int)da) /* Feb 30 normalises to March */
		return WARD_EFORMAT;
	*out = (int64_t)t;
	return 0;
}

void
clock_utc(int64_t t, char out[21])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 21, "1970-01-01T00:00:00Z");
}

/*
 * size: parsing of byte counts and durations.  See size.h.
 *
 * Must hold: a duration is at most WARD_MAX_DURATION_S, so that the time
 * it is added to never overflows into the past.
 */
#include "util/size.h"

#include "util/err.h"
#include "util/limits.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int
size_parse(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (s[0] < '0' || s[0] > '9') /* strtoull would take "-1" and " 1" */
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1024;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024;
	else if (*end == 'G' || *end == 'g')
		mul = 1024ull * 1024 * 1024;
	else if (*end != '\0')
		return -1;
	if (mul > 1 && end[1] != '\0' && strcmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0)
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

int
duration_parse(const char *s, long long *seconds)
{
	static const struct {
		char unit;
		long long mult;
	} units[] = {{'\0', 1}, {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}};
	char *end;
	long long v;
	size_t i;

	if (s[0] < '0' || s[0] > '9') /* strtoll would take "-1", "+1" and " 1" */
		return WARD_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end[0] != '\0' && end[1] != '\0')
		return WARD_EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == end[0])
			break;
	if (i == sizeof(units) / sizeof(units[0]) || (v == 0 && errno == 0))
		return WARD_EINVAL;
	if (errno == ERANGE || v > WARD_MAX_DURATION_S / units[i].mult)
		return WARD_ELIMIT;
	*seconds = v * units[i].mult;
	return 0;
}

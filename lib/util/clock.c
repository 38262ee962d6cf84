/*
 * clock: monotonic seconds.  See clock.h.
 */
#include "util/clock.h"

#include <time.h>

double
clock_mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

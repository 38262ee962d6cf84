/*
 * clock: monotonic time in seconds, for deadlines and durations; wall
 * times as RFC 3339 text.
 */
#ifndef WARD_UTIL_CLOCK_H
#define WARD_UTIL_CLOCK_H

#include <stdint.h>

/* Seconds on CLOCK_MONOTONIC (not wall time: never jumps). */
double clock_mono(void);

/* t (Unix seconds) as RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ" (20
 * characters and the NUL). */
void clock_utc(int64_t t, char out[21]);

/* Parses exactly that form into *out: 0, or WARD_EFORMAT. */
int clock_utc_parse(const char *s, int64_t *out);

#endif

/*
 * clock: monotonic time in seconds, for deadlines and durations.
 */
#ifndef WARD_UTIL_CLOCK_H
#define WARD_UTIL_CLOCK_H

/* Seconds on CLOCK_MONOTONIC (not wall time: never jumps). */
double clock_mono(void);

#endif

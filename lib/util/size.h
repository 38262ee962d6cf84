/*
 * size: byte counts as people write them on command lines and in
 * configuration files: "4096", "64K", "10M", "2G" (powers of 1024; "KB",
 * "KiB" and the like are accepted too).
 */
#ifndef WARD_UTIL_SIZE_H
#define WARD_UTIL_SIZE_H

#include <stdint.h>

#include "util/err.h"

/* Parses s into *out.  Returns 0, or -1 if s is not such a count or
 * overflows 64 bits. */
int size_parse(const char *s, uint64_t *out);

/* A duration: whole seconds, or a number followed by s, m, h or d ("90",
 * "30m", "7d"), at most WARD_MAX_DURATION_S (limits.h: 100 years).  0
 * with 0 < *seconds <= WARD_MAX_DURATION_S; WARD_ELIMIT if longer;
 * WARD_EINVAL if s is not such a duration (*seconds untouched). */
int duration_parse(const char *s, long long *seconds);

#endif

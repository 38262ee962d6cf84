/*
 * conf: YAML configuration files read through a table of keys, each with
 * its type, place in the caller's struct, size and range.  Nested
 * mappings name keys with dots ("crash_guard.max_crashes"), two levels
 * deep at most.  Unknown keys, wrong kinds of values, out-of-range
 * numbers and overlong strings are errors with the file, line and column.
 */
#ifndef WARD_UTIL_CONF_H
#define WARD_UTIL_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum conf_type {
	CONF_PATH,   /* absolute path, char[size] */
	CONF_UINT,   /* unsigned in [min, max] */
	CONF_SIZE,   /* uint64_t in [min, max], with K/M/G suffixes */
	CONF_LIST,   /* list of absolute paths: char[max][size], count at count_off */
	CONF_GLOBS,  /* list of strings: char[max][size], count at count_off */
	CONF_NAME,   /* non-empty string, char[size] */
	CONF_BOOL,   /* true/false/yes/no -> int */
	CONF_CHOICE, /* one of words -> its index, an int */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;  /* where the value goes */
	size_t size; /* bytes of a string (of one entry, for lists) */
	uint64_t min, max; /* numbers; max = capacity for lists */
	size_t count_off;  /* lists: where the number of entries goes (unsigned) */
	const char *const *words; /* CONF_CHOICE, NULL-terminated */
};

/* Reads path into base through keys.  0, or WARD_EIO / WARD_ESYNTAX /
 * WARD_EINVAL with d naming the file, line and problem. */
int conf_load(const char *path, const struct conf_key *keys, size_t nkeys, void *base,
	      struct ward_diag *d);

#endif

/*
 * regex: parser of YARA regular expressions (the text between the slashes)
 * into a ptree.  Internal to lib/pattern.
 */
#ifndef WARD_PATTERN_REGEX_H
#define WARD_PATTERN_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "pattern/ptree.h"
#include "util/err.h"

/*
 * Parses src (len bytes) into t (initialized by the caller, freed by the
 * caller with ptree_fini).  flags: PATTERN_NOCASE folds letters into
 * classes, PATTERN_DOTALL makes `.` match '\n'.  Returns 0 or a negative
 * WARD_E* with d->msg and d->col (1-based column within src) set.
 */
int regex_parse(const uint8_t *src, size_t len, unsigned flags, struct ptree *t,
		struct ward_diag *d);

#endif

/*
 * hex: parser of YARA hex strings (the text between { and }) into a ptree.
 * Internal to lib/pattern.
 */
#ifndef WARD_PATTERN_HEX_H
#define WARD_PATTERN_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "pattern/ptree.h"
#include "util/err.h"

/*
 * Parses src (len bytes) into t (initialized and freed by the caller).
 * Jumps become PT_REPEAT nodes (jump = 1, lazy) over an any-byte class.
 * Returns 0 or a negative WARD_E* with d->msg and d->col set.
 */
int hex_parse(const uint8_t *src, size_t len, struct ptree *t, struct ward_diag *d);

#endif

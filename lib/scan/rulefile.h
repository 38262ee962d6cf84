/*
 * rulefile: the compiled rule set file written by `ward rules compile` and
 * read by `ward scan --compiled`.
 *
 * Layout (little-endian):
 *   "WARDRSET"            8 bytes magic
 *   u32 format            RULEFILE_FORMAT
 *   char version[32]      ward version that wrote it, NUL-padded
 *   char arch[16]         CPU family (x86_64, aarch64, ...), NUL-padded
 *   u64 payload_len
 *   u8 sha256[32]         of the header before it and of the payload
 *   payload:              lenbytes(ruleset) lenbytes(hashsigs) lenbytes(vectorscan db)
 *
 * The reader refuses a file of another format, ward version or CPU family
 * with a message that says which, checks the checksum before it parses
 * anything, and then validates every section (ruleset_load runs the
 * bytecode verifier on every rule).
 */
#ifndef WARD_SCAN_RULEFILE_H
#define WARD_SCAN_RULEFILE_H

#include "rules/ruleset.h"
#include "scan/hashsig.h"
#include "scan/matcher.h"
#include "util/err.h"

/* 2: the strings' anchors are chosen across the rule set
 * (pattern_choose_anchors), which the database depends on. */
#define RULEFILE_FORMAT 2

/*
 * Appends the compiled file image of rs, hs (either may be NULL) and m's
 * database to out.
 */
int rulefile_image(const struct ruleset *rs, const struct hashsig_set *hs, const struct matcher *m,
		   struct wbuf *out, struct ward_diag *d);

/*
 * Writes rs, hs (either may be NULL) and m's database to path atomically
 * (temporary file, fsync, rename, fsync of the directory).
 */
int rulefile_write(const char *path, const struct ruleset *rs, const struct hashsig_set *hs,
		   const struct matcher *m, struct ward_diag *d);

/*
 * Parses a compiled rule file held in memory (untrusted bytes).  On success
 * the caller owns *rs, *hs and *m (free m first, it borrows rs and hs).
 * *rebuilt is set when the stored Vectorscan database did not fit this host
 * and was compiled again.
 */
int rulefile_parse(const uint8_t *p, size_t len, struct ruleset **rs, struct hashsig_set **hs,
		   struct matcher **m, int *rebuilt, struct ward_diag *d);

/* Reads and parses path (at most WARD_MAX_COMPILED_SIZE bytes). */
int rulefile_read(const char *path, struct ruleset **rs, struct hashsig_set **hs,
		  struct matcher **m, int *rebuilt, struct ward_diag *d);

/*
 * Computes the checksum of a whole compiled file (len bytes, at least the
 * header) into sum.  Returns 0 or WARD_EFORMAT / WARD_E* from OpenSSL.
 */
int rulefile_checksum(const uint8_t *p, size_t len, uint8_t sum[32]);

/* The CPU family this build targets ("x86_64", "aarch64", ...). */
const char *rulefile_arch(void);

#endif

/*
 * hashsig: hash signatures of whole files (SHA-256, SHA-1, MD5, SM3), each with the
 * file size so that only files of a listed size are hashed (as ClamAV's
 * .hsb lists do).
 *
 * Source form, one signature per line:
 *
 *     ALG:HEX:SIZE:NAME
 *
 * ALG is sha256, sha1, md5 or sm3 (any case); HEX the digest in hex (64, 40,
 * 32 or 64 digits, any case); SIZE a decimal byte count, `*` (any size) or
 * `>5` (any size above 5 bytes: what ClamAV's `*` means, since ClamAV never
 * scans a file of 5 bytes or less; ward's import of ClamAV lists writes it);
 * NAME the
 * signature name: 1 to WARD_MAX_SIG_NAME printable ASCII characters, not
 * starting with a space.  Leading and trailing blanks (space, tab, CR) of a
 * line are ignored; blank lines and lines whose first non-blank character is
 * `#` are ignored.
 *
 * Life cycle: hashsig_new, any number of hashsig_add_file/hashsig_add_line,
 * hashsig_finish (sorts and indexes), then any number of concurrent
 * hashsig_wants_size/hashsig_lookup calls.  A set from hashsig_load is
 * already finished.  Adding to a finished set unfinishes it.
 */
#ifndef WARD_SCAN_HASHSIG_H
#define WARD_SCAN_HASHSIG_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/digest.h"
#include "util/buf.h"
#include "util/err.h"

/* The SIZE of a `*` signature. */
#define HASHSIG_ANY_SIZE UINT64_MAX
/* The SIZE of a `>5` signature (ClamAV's `*`). */
#define HASHSIG_ANY_ABOVE_5 (UINT64_MAX - 1)

/* One parsed line.  name points into the parsed line and lives as long as it. */
struct hashsig_sig {
	enum digest_alg alg;
	uint8_t digest[DIGEST_MAX_SIZE]; /* digest_size(alg) bytes, rest zero */
	uint64_t size;			 /* HASHSIG_ANY_SIZE for `*`, HASHSIG_ANY_ABOVE_5 */
	const char *name;
	size_t name_len;
};

/*
 * Parses one line (len bytes, no newline needed, need not be NUL-terminated).
 * A pure function of (line, len): no I/O, no allocation.  On success returns
 * 0 and sets *is_sig to 1 and fills *sig, or sets *is_sig to 0 for a blank
 * or comment line.  On error returns WARD_ESYNTAX or WARD_ELIMIT and fills
 * diag (may be NULL) with file (may be NULL), lineno and the 1-based byte
 * column of the fault.
 */
int hashsig_parse_line(const char *line, size_t len, struct hashsig_sig *sig, int *is_sig,
		       const char *file, int lineno, struct ward_diag *diag);

struct hashsig_set;

/* Creates an empty set.  Returns 0 and *out (free with hashsig_free) or WARD_ENOMEM. */
int hashsig_new(struct hashsig_set **out);

/* Frees s and everything it owns; NULL is a no-op. */
void hashsig_free(struct hashsig_set *s);

/*
 * Parses line (see hashsig_parse_line) and adds its signature to s.
 * Returns 0, the parser's error, WARD_ELIMIT past WARD_MAX_HASH_SIGS
 * signatures, or WARD_ENOMEM; diag (may be NULL) says where.
 */
int hashsig_add_line(struct hashsig_set *s, const char *file, int lineno, const char *line,
		     size_t len, struct ward_diag *diag);

/*
 * Reads the hash list at path and adds every signature.  Stops at the first
 * error: WARD_EIO (cannot open/read; diag has strerror), or as
 * hashsig_add_line.  Signatures added before the error stay in s.
 */
int hashsig_add_file(struct hashsig_set *s, const char *path, struct ward_diag *diag);

/* Sorts and indexes s for lookups.  Returns 0 or WARD_ENOMEM. */
int hashsig_finish(struct hashsig_set *s);

/* Number of signatures in s (duplicates count). */
size_t hashsig_count(const struct hashsig_set *s);

/* Mask of DIGEST_BIT(alg) for every algorithm with at least one signature. */
unsigned hashsig_algs(const struct hashsig_set *s);

/*
 * Should a file of size bytes be hashed?  Returns 1 and sets *algs_mask to
 * the DIGEST_BIT()s of the algorithms to compute (those with a signature of
 * exactly this size or of size `*`), or returns 0 with *algs_mask = 0.
 * Cheap: a binary search over the distinct sizes.  0 for an unfinished set.
 */
int hashsig_wants_size(const struct hashsig_set *s, uint64_t size, unsigned *algs_mask);

/*
 * The name of a signature of alg whose digest (digest_size(alg) bytes)
 * equals digest and whose SIZE is size or `*`, or NULL.  When several match,
 * one of exact size wins over `*`, then the one added first.  The name
 * lives as long as s.  NULL for an unfinished set.
 */
const char *hashsig_lookup(const struct hashsig_set *s, enum digest_alg alg, const uint8_t *digest,
			   uint64_t size);

/*
 * Every name a file of size bytes with this digest is reported under, as
 * ClamAV reports a hash found both in its sized table and in its `*` table:
 * the first signature of exact size, the first `*` one, the first `>5` one
 * (when size > 5).  Fills names[0..return value), at most 3.
 */
size_t hashsig_lookup_all(const struct hashsig_set *s, enum digest_alg alg, const uint8_t *digest,
			  uint64_t size, const char *names[3]);

/*
 * Appends the binary form of s (which must be finished) to w.  Returns 0,
 * WARD_EINVAL for an unfinished set, or w's sticky error.
 */
int hashsig_save(const struct hashsig_set *s, struct wbuf *w);

/*
 * Reads a set written by hashsig_save from b (untrusted), validating every
 * field (names as the parser does, sizes, order), and advances b past it.
 * Returns 0 and a finished *out (owned by the caller), or WARD_EFORMAT,
 * WARD_EVERSION, WARD_ELIMIT, WARD_ENOMEM with *out NULL and b unmoved.
 */
int hashsig_load(struct rbuf *b, struct hashsig_set **out);

#endif

/*
 * digest: message digests (SHA-256, MD5, SM3, SHA-1) over OpenSSL 3's EVP API,
 * hex encoding, and constant-time comparison.
 *
 * A struct digest_ctx belongs to one thread at a time; the scanner keeps one
 * per worker and calls digest_reset() between files.
 */
#ifndef WARD_CRYPTO_DIGEST_H
#define WARD_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

enum digest_alg {
	DIGEST_SHA256 = 0,
	DIGEST_MD5 = 1,
	DIGEST_SM3 = 2,
	DIGEST_SHA1 = 3, /* ClamAV's .hsb lists (40 digits): not for ward's own signing */
};

/* Number of algorithms; enum values are 0 .. DIGEST_NALGS - 1. */
#define DIGEST_NALGS 4
/* Largest digest in bytes (SHA-256 and SM3). */
#define DIGEST_MAX_SIZE 32
/* Bit of alg in an algorithm mask (hashsig_wants_size). */
#define DIGEST_BIT(alg) (1u << (unsigned)(alg))

/* Digest length in bytes of alg, 0 if alg is not a known algorithm. */
size_t digest_size(enum digest_alg alg);

/* Lower-case name ("sha256", "md5", "sm3", "sha1") of alg, NULL if unknown.  Static. */
const char *digest_name(enum digest_alg alg);

/*
 * Parses name (len bytes, not necessarily NUL-terminated, case-insensitive)
 * into *alg.  Returns 0, or WARD_EINVAL if it names no algorithm.
 */
int digest_from_name(const char *name, size_t len, enum digest_alg *alg);

struct digest_ctx;

/*
 * Creates a context ready to hash with alg.  Returns 0 and sets *out (owned
 * by the caller, free with digest_free), WARD_EINVAL for an unknown alg,
 * WARD_ENOMEM, or WARD_EUNSUPPORTED if OpenSSL lacks the algorithm.
 */
int digest_new(enum digest_alg alg, struct digest_ctx **out);

/* The algorithm of c. */
enum digest_alg digest_alg_of(const struct digest_ctx *c);

/* Hashes n more bytes.  Returns 0 or WARD_EINVAL (OpenSSL failure). */
int digest_update(struct digest_ctx *c, const void *p, size_t n);

/*
 * Writes the digest (digest_size bytes) into out, which holds outlen bytes.
 * Returns 0, or WARD_EINVAL if outlen is too small or OpenSSL fails.
 * Afterwards c must be digest_reset() before it is used again.
 */
int digest_final(struct digest_ctx *c, uint8_t *out, size_t outlen);

/* Starts a new message on c.  Returns 0 or WARD_EINVAL. */
int digest_reset(struct digest_ctx *c);

/* The algorithm c computes. */
enum digest_alg digest_ctx_alg(const struct digest_ctx *c);

/* Frees c; NULL is a no-op. */
void digest_free(struct digest_ctx *c);

/* One-shot: digest of p[0..n) into out (outlen bytes).  Returns as above. */
int digest_buf(enum digest_alg alg, const void *p, size_t n, uint8_t *out, size_t outlen);

/*
 * Writes n bytes of d as 2n lower-case hex digits and a NUL into out
 * (outlen bytes).  Returns 0, or WARD_EINVAL if outlen < 2n + 1.  (The
 * digest's spelling of util/hex.h's hex_encode, which does the work.)
 */
int digest_to_hex(const uint8_t *d, size_t n, char *out, size_t outlen);

/*
 * Decodes hexlen hex digits (either case) into out (outlen bytes); *n is the
 * number of bytes written.  Returns 0, WARD_EINVAL if hexlen is odd, longer
 * than 2 * outlen, or a character is not a hex digit (then *n is 0).
 * (util/hex.h's hex_decode.)
 */
int digest_from_hex(const char *hex, size_t hexlen, uint8_t *out, size_t outlen, size_t *n);

/* 1 if a[0..n) equals b[0..n), else 0; time depends only on n. */
int digest_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif

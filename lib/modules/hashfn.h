/*
 * hashfn: the functions of the rule module `hash` with YARA 4.2.3's
 * semantics — md5, sha1, sha256 (lower-case hex), checksum32, crc32 — and
 * ward's own sm3, over a range of the scanned file read through a freader
 * or over a string.
 *
 * A range (off, len) is defined when 0 <= off < file size and len >= 0,
 * and is cut at the end of the file (mathfn_range); a range of no bytes
 * inside the file has the digest of nothing.  The range functions return
 * 1 and set their result when it is defined, 0 when it is undefined (also
 * when the file cannot be read), or a negative WARD_E* (WARD_ENOMEM, or
 * WARD_EUNSUPPORTED when OpenSSL lacks the digest).  YARA caches digests
 * per (off, len) within a scan; that cache is the caller's to keep.
 */
#ifndef WARD_MODULES_HASHFN_H
#define WARD_MODULES_HASHFN_H

#include <stddef.h>
#include <stdint.h>

#include "modules/freader.h"

enum hashfn_alg {
	HASHFN_MD5,
	HASHFN_SHA1,
	HASHFN_SHA256,
	HASHFN_SM3, /* ward's own: not in YARA */
};

/* Room for the longest hex digest and its NUL. */
#define HASHFN_HEX_MAX 65

/* Digest of the range (off, len) of f (borrowed) as lower-case hex into
 * hex (hexlen >= HASHFN_HEX_MAX bytes). */
int hashfn_digest(struct freader *f, enum hashfn_alg alg, int64_t off, int64_t len, char *hex,
		  size_t hexlen);
/* Digest of the n bytes at p: 1, or a negative WARD_E*. */
int hashfn_digest_str(enum hashfn_alg alg, const uint8_t *p, size_t n, char *hex, size_t hexlen);

/* hash.checksum32: the sum of the bytes modulo 2^32. */
int hashfn_checksum32(struct freader *f, int64_t off, int64_t len, int64_t *v);
int64_t hashfn_checksum32_str(const uint8_t *p, size_t n);

/* hash.crc32: the CRC-32 of zlib and PNG. */
int hashfn_crc32(struct freader *f, int64_t off, int64_t len, int64_t *v);
int64_t hashfn_crc32_str(const uint8_t *p, size_t n);

#endif

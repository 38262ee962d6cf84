/*
 * bundle: the content bundle file (docs/bundle-format.md) — parse and
 * validate, write, sign, verify signatures.
 *
 * A bundle is untrusted input until bundle_parse has returned 0: it checks
 * the container (magic, format, every length against a named limit, no
 * trailing bytes), the manifest (strict JSON: no duplicate keys, no unknown
 * keys, bounded numbers and strings, a fixed shape) and every member's size
 * and SHA-256, before any other code reads a byte of it.  Signatures are
 * checked separately (bundle_verify) because building and inspecting
 * happen before signing; bundle_split and bundle_parse_manifest are its
 * two halves, so that signatures can be checked before the manifest's
 * JSON is parsed (content_admit).
 */
#ifndef WARD_CONTENT_BUNDLE_H
#define WARD_CONTENT_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sign.h"
#include "util/buf.h"
#include "util/err.h"

#define BUNDLE_MAGIC "WARDBNDL"
#define BUNDLE_FORMAT 1

/* Limits (see docs/bundle-format.md). */
#define BUNDLE_MAX_SIZE ((uint64_t)1 << 30)	     /* whole file */
#define BUNDLE_MAX_MANIFEST (1u << 20)		     /* manifest bytes */
#define BUNDLE_MAX_MEMBERS 4096u		     /* member files */
#define BUNDLE_MAX_MEMBER_SIZE ((uint64_t)256 << 20) /* one member */
#define BUNDLE_MAX_SIGNATURES 16u
#define BUNDLE_MAX_NAME 64u	   /* bundle name */
#define BUNDLE_MAX_PATH 255u	   /* member name */
#define BUNDLE_MAX_TESTS 4096u	   /* test cases */
#define BUNDLE_MAX_EXPECT 1024u	   /* rule names expected of one sample */
#define BUNDLE_MAX_VERSION_TEXT 32 /* "MAJOR.MINOR.PATCH" */
/* Versions are JSON integers; 2^53 keeps them exact in every JSON reader. */
#define BUNDLE_MAX_VERSION ((int64_t)1 << 53)

enum bundle_member_type {
	BM_YARA = 1,	   /* YARA rule source */
	BM_HASHES = 2,	   /* hash signatures, ALG:HEX:SIZE:NAME lines */
	BM_SAMPLE = 3,	   /* a test sample */
	BM_SIGMA = 4,	   /* a process rule (Sigma, Linux process_creation) */
	BM_FIM = 5,	   /* a FIM watch policy (JSON, fim/watch.h) */
	BM_EXCEPTIONS = 6, /* exceptions to verdicts (JSON, scan/except.h) */
};

struct bundle_member {
	char *name;
	enum bundle_member_type type;
	uint64_t size;
	uint8_t sha256[32];
	const uint8_t *data; /* size bytes inside the bundle's buffer */
};

/* A sample and the (sorted, distinct) rule names it must match; none:
 * it must match nothing. */
struct bundle_test {
	uint32_t sample; /* member index */
	char **expect;
	uint32_t nexpect;
};

struct bundle_sig {
	enum sign_alg alg;
	uint8_t key_id[SIGN_KEY_ID_SIZE];
	uint8_t sig[SIGN_MAX_SIG];
	size_t len;
};

struct bundle {
	uint8_t *raw; /* the whole file (owned) */
	size_t rawlen;
	const uint8_t *manifest; /* inside raw */
	size_t manifest_len;
	char *name;
	int64_t version;
	int64_t created, expires; /* Unix seconds, UTC */
	char min_agent_version[BUNDLE_MAX_VERSION_TEXT];
	struct bundle_member *members;
	uint32_t nmembers;
	struct bundle_test *tests;
	uint32_t ntests;
	struct bundle_sig sigs[BUNDLE_MAX_SIGNATURES];
	uint32_t nsigs;
	size_t body_off; /* where the members begin in raw */
	int parsed;	 /* 1 once the manifest and members were checked */
};

/*
 * Validates data[0..len) and returns the bundle in *out (which copies the
 * bytes).  Errors: WARD_EFORMAT (container or manifest malformed),
 * WARD_ELIMIT (a limit exceeded), WARD_ECHECKSUM (a member's size or digest
 * differs from the manifest), WARD_ENOMEM; d says what and where.
 */
int bundle_parse(const uint8_t *data, size_t len, struct bundle **out, struct ward_diag *d);

/*
 * The first half of bundle_parse: checks the container's framing only —
 * magic, format, the manifest's length, the signature entries — and
 * returns in *out a bundle whose manifest bytes and signatures are set
 * (for bundle_verify) but whose manifest is not parsed: name, version,
 * members and tests are empty until bundle_parse_manifest.  No JSON is
 * read.  Errors as bundle_parse.
 */
int bundle_split(const uint8_t *data, size_t len, struct bundle **out, struct ward_diag *d);

/*
 * The second half: parses the manifest of a split bundle (strict JSON)
 * and checks every member's size and digest and that nothing trails.  On
 * failure b stays split only (free it).  Errors as bundle_parse.
 */
int bundle_parse_manifest(struct bundle *b, struct ward_diag *d);

/* Reads and parses a bundle file (WARD_EIO if it can't be read). */
int bundle_read(const char *path, struct bundle **out, struct ward_diag *d);

void bundle_free(struct bundle *b);

/*
 * Writes a bundle file image: manifest bytes (already in final form),
 * signatures, member data in manifest order.  The manifest is not checked
 * here; callers parse the result to validate it.
 */
int bundle_serialize(const uint8_t *manifest, size_t manifest_len, const struct bundle_sig *sigs,
		     uint32_t nsigs, const struct bundle_member *members, uint32_t nmembers,
		     struct wbuf *w);

/*
 * Adds key's signature over the manifest to b (replacing an earlier one by
 * the same key).  WARD_ELIMIT if b already has BUNDLE_MAX_SIGNATURES.
 */
int bundle_sign(struct bundle *b, const struct sign_key *key, struct ward_diag *d);

/* The bundle with its current signatures, as a file image. */
int bundle_image(const struct bundle *b, struct wbuf *w);

/*
 * Counts the distinct trusted keys with a valid signature on b's manifest
 * into *valid.  Returns 0 if *valid >= threshold (threshold >= 1), else
 * WARD_EVERIFY with d saying why (unsigned, untrusted keys, bad signatures,
 * below threshold).
 */
int bundle_verify(const struct bundle *b, struct sign_key *const *trusted, size_t ntrusted,
		  unsigned threshold, unsigned *valid, struct ward_diag *d);

/* Index of the member named name, or -1. */
int bundle_find_member(const struct bundle *b, const char *name);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" into Unix seconds.  0 or WARD_EFORMAT. */
int bundle_parse_time(const char *s, int64_t *out);

/* Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). */
void bundle_format_time(int64_t t, char out[21]);

/*
 * Compares "MAJOR.MINOR.PATCH" versions: <0, 0, >0 in *cmp.  0 or
 * WARD_EFORMAT if either is not of that form.
 */
int bundle_version_cmp(const char *a, const char *b, int *cmp);

const char *bundle_member_type_name(enum bundle_member_type t);

#endif

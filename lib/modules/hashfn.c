/*
 * hashfn: the rule module `hash`.  See hashfn.h.
 *
 * MD5, SHA-256 and SM3 come from crypto/digest; SHA-1, which ward has no
 * other use for and digest.h does not offer, from OpenSSL's EVP here.
 *
 * Must hold: the file is read only through the freader, in window-sized
 * pieces (mathfn_walk), and only inside the range YARA defines.
 */
#include "modules/hashfn.h"
#include "crypto/digest.h"
#include "modules/mathfn.h"
#include "util/err.h"

#include <openssl/evp.h>
#include <string.h>

/* One digest in progress: through crypto/digest, or EVP for SHA-1. */
struct hasher {
	struct digest_ctx *dc;
	EVP_MD_CTX *evp;
	int failed;
};

static int
hasher_init(struct hasher *h, enum hashfn_alg alg)
{
	static const enum digest_alg of[] = {
	    [HASHFN_MD5] = DIGEST_MD5,
	    [HASHFN_SHA256] = DIGEST_SHA256,
	    [HASHFN_SM3] = DIGEST_SM3,
	};

	memset(h, 0, sizeof(*h));
	if (alg == HASHFN_SHA1) {
		h->evp = EVP_MD_CTX_new();
		if (h->evp == NULL)
			return WARD_ENOMEM;
		return EVP_DigestInit_ex(h->evp, EVP_sha1(), NULL) == 1 ? 0 : WARD_EUNSUPPORTED;
	}
	if ((unsigned)alg > HASHFN_SM3)
		return WARD_EINVAL;
	return digest_new(of[alg], &h->dc);
}

static void
hasher_update(void *arg, const uint8_t *p, size_t n)
{
	struct hasher *h = arg;

	if (h->evp != NULL) {
		if (EVP_DigestUpdate(h->evp, p, n) != 1)
			h->failed = 1;
	} else if (digest_update(h->dc, p, n) != 0) {
		h->failed = 1;
	}
}

/* The digest as hex into hex: 1, or a negative WARD_E*. */
static int
hasher_final(struct hasher *h, char *hex, size_t hexlen)
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int r;

	if (h->failed)
		return WARD_EINVAL;
	if (h->evp != NULL) {
		if (EVP_DigestFinal_ex(h->evp, d, &n) != 1)
			return WARD_EINVAL;
	} else {
		n = (unsigned int)digest_size(digest_alg_of(h->dc));
		if ((r = digest_final(h->dc, d, sizeof(d))) != 0)
			return r;
	}
	r = digest_to_hex(d, n, hex, hexlen);
	return r == 0 ? 1 : r;
}

static void
hasher_free(struct hasher *h)
{
	EVP_MD_CTX_free(h->evp);
	digest_free(h->dc);
}

int
hashfn_digest(struct freader *f, enum hashfn_alg alg, int64_t off, int64_t len, char *hex,
	      size_t hexlen)
{
	struct hasher h;
	uint64_t start, n;
	int r;

	memset(&h, 0, sizeof(h));
	if (!mathfn_range(f, off, len, &start, &n)) {
		r = 0;
		goto out;
	}
	if ((r = hasher_init(&h, alg)) != 0)
		goto out;
	if (mathfn_walk(f, start, n, hasher_update, &h) != 0) {
		r = 0; /* unreadable: undefined */
		goto out;
	}
	r = hasher_final(&h, hex, hexlen);
out:
	hasher_free(&h);
	return r;
}

int
hashfn_digest_str(enum hashfn_alg alg, const uint8_t *p, size_t n, char *hex, size_t hexlen)
{
	struct hasher h;
	int r;

	if ((r = hasher_init(&h, alg)) != 0)
		goto out;
	hasher_update(&h, p, n);
	r = hasher_final(&h, hex, hexlen);
out:
	hasher_free(&h);
	return r;
}

static void
sum_bytes(void *arg, const uint8_t *p, size_t n)
{
	uint32_t *sum = arg;
	size_t i;

	for (i = 0; i < n; i++)
		*sum += p[i];
}

int
hashfn_checksum32(struct freader *f, int64_t off, int64_t len, int64_t *v)
{
	uint64_t start, n;
	uint32_t sum = 0;

	if (!mathfn_range(f, off, len, &start, &n) ||
	    mathfn_walk(f, start, n, sum_bytes, &sum) != 0)
		return 0;
	*v = sum;
	return 1;
}

int64_t
hashfn_checksum32_str(const uint8_t *p, size_t n)
{
	uint32_t sum = 0;

	sum_bytes(&sum, p, n);
	return sum;
}

/* A CRC-32 in progress, with its table (made per call: 2 KiB of work
 * against a range of the file, and no global state). */
struct crc {
	uint32_t tab[256];
	uint32_t c;
};

static void
crc_init(struct crc *k)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		k->tab[i] = c;
	}
	k->c = 0xffffffffu;
}

static void
crc_add(void *arg, const uint8_t *p, size_t n)
{
	struct crc *k = arg;
	size_t i;

	for (i = 0; i < n; i++)
		k->c = k->tab[(k->c ^ p[i]) & 0xff] ^ (k->c >> 8);
}

int
hashfn_crc32(struct freader *f, int64_t off, int64_t len, int64_t *v)
{
	struct crc k;
	uint64_t start, n;

	if (!mathfn_range(f, off, len, &start, &n))
		return 0;
	crc_init(&k);
	if (mathfn_walk(f, start, n, crc_add, &k) != 0)
		return 0;
	*v = k.c ^ 0xffffffffu;
	return 1;
}

int64_t
hashfn_crc32_str(const uint8_t *p, size_t n)
{
	struct crc k;

	crc_init(&k);
	crc_add(&k, p, n);
	return k.c ^ 0xffffffffu;
}

/*
 * digest: thin wrappers over OpenSSL 3 EVP digests.  See digest.h.
 *
 * Must hold: every output length is checked before a byte is written; the
 * EVP_MD is fetched once per context (implicit fetches on every init cost
 * a provider lookup per file); comparisons of digests are constant time.
 */
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/hex.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

struct digest_ctx {
	enum digest_alg alg;
	EVP_MD *md;
	EVP_MD_CTX *mctx;
};

struct digest_info {
	const char *name; /* ward's name, as in hash lists */
	const char *ossl; /* OpenSSL's fetch name */
	size_t size;
};

static const struct digest_info digest_table[DIGEST_NALGS] = {
    [DIGEST_SHA256] = {"sha256", "SHA2-256", 32},
    [DIGEST_MD5] = {"md5", "MD5", 16},
    [DIGEST_SM3] = {"sm3", "SM3", 32},
    [DIGEST_SHA1] = {"sha1", "SHA1", 20},
};

static int
digest_valid(enum digest_alg alg)
{
	return (unsigned)alg < DIGEST_NALGS;
}

size_t
digest_size(enum digest_alg alg)
{
	return digest_valid(alg) ? digest_table[alg].size : 0;
}

const char *
digest_name(enum digest_alg alg)
{
	return digest_valid(alg) ? digest_table[alg].name : NULL;
}

int
digest_from_name(const char *name, size_t len, enum digest_alg *alg)
{
	int r = WARD_EINVAL;
	unsigned i;

	*alg = DIGEST_SHA256;
	for (i = 0; i < DIGEST_NALGS; i++) {
		const char *n = digest_table[i].name;

		if (strlen(n) == len && strncasecmp(n, name, len) == 0) {
			*alg = (enum digest_alg)i;
			r = 0;
			break;
		}
	}
	return r;
}

int
digest_new(enum digest_alg alg, struct digest_ctx **out)
{
	struct digest_ctx *c = NULL;
	int r;

	*out = NULL;
	if (!digest_valid(alg)) {
		r = WARD_EINVAL;
		goto out;
	}
	if ((c = ward_calloc(1, sizeof(*c))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	c->alg = alg;
	if ((c->md = EVP_MD_fetch(NULL, digest_table[alg].ossl, NULL)) == NULL) {
		r = WARD_EUNSUPPORTED;
		goto out;
	}
	if ((c->mctx = EVP_MD_CTX_new()) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((r = digest_reset(c)) != 0)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	digest_free(c);
	return r;
}

enum digest_alg
digest_alg_of(const struct digest_ctx *c)
{
	return c->alg;
}

enum digest_alg
digest_ctx_alg(const struct digest_ctx *c)
{
	return c->alg;
}

int
digest_reset(struct digest_ctx *c)
{
	return EVP_DigestInit_ex(c->mctx, c->md, NULL) == 1 ? 0 : WARD_EINVAL;
}

int
digest_update(struct digest_ctx *c, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	return EVP_DigestUpdate(c->mctx, p, n) == 1 ? 0 : WARD_EINVAL;
}

int
digest_final(struct digest_ctx *c, uint8_t *out, size_t outlen)
{
	unsigned int len = 0;
	int r = 0;

	if (outlen < digest_table[c->alg].size) {
		r = WARD_EINVAL;
		goto out;
	}
	if (EVP_DigestFinal_ex(c->mctx, out, &len) != 1 || len != digest_table[c->alg].size)
		r = WARD_EINVAL;
out:
	return r;
}

void
digest_free(struct digest_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->mctx);
	EVP_MD_free(c->md);
	ward_free(c);
}

int
digest_buf(enum digest_alg alg, const void *p, size_t n, uint8_t *out, size_t outlen)
{
	struct digest_ctx *c = NULL;
	int r;

	if ((r = digest_new(alg, &c)) != 0)
		goto out;
	if ((r = digest_update(c, p, n)) != 0)
		goto out;
	r = digest_final(c, out, outlen);
out:
	digest_free(c);
	return r;
}

int
digest_to_hex(const uint8_t *d, size_t n, char *out, size_t outlen)
{
	return hex_encode(d, n, out, outlen);
}

int
digest_from_hex(const char *hex, size_t hexlen, uint8_t *out, size_t outlen, size_t *n)
{
	return hex_decode(hex, hexlen, out, outlen, n);
}

int
digest_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

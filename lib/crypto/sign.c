/*
 * sign: Ed25519 and SM2/SM3 keys and signatures over OpenSSL 3.  See sign.h.
 *
 * Must hold: a key of any other type is refused when read (an RSA or P-256
 * key in a trust list is an error, not a silently different algorithm);
 * SM2 always signs and verifies with SM3 and the default distinguishing id,
 * set explicitly so a change of OpenSSL's default cannot change signatures;
 * no signature byte is written past SIGN_MAX_SIG.
 */
#include "crypto/sign.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/err.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <strings.h>

/* GB/T 32918's default distinguishing identifier. */
static const char sm2_default_id[] = "1234567812345678";

struct sign_key {
	EVP_PKEY *pkey;
	enum sign_alg alg;
	int has_private;
	uint8_t id[SIGN_KEY_ID_SIZE];
};

const char *
sign_alg_name(enum sign_alg alg)
{
	switch (alg) {
	case SIGN_ED25519:
		return "ed25519";
	case SIGN_SM2:
		return "sm2";
	}
	return NULL;
}

int
sign_alg_from_name(const char *name, enum sign_alg *alg)
{
	if (strcasecmp(name, "ed25519") == 0)
		*alg = SIGN_ED25519;
	else if (strcasecmp(name, "sm2") == 0)
		*alg = SIGN_SM2;
	else
		return WARD_EINVAL;
	return 0;
}

/* Wraps pkey (taking ownership) after checking its type; sets the id. */
static int
key_wrap(EVP_PKEY *pkey, int has_private, struct sign_key **out)
{
	struct sign_key *k = NULL;
	unsigned char *der = NULL;
	uint8_t md[DIGEST_MAX_SIZE];
	int n, r;

	*out = NULL;
	k = ward_calloc(1, sizeof(*k));
	if (k == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if (EVP_PKEY_is_a(pkey, "ED25519")) {
		k->alg = SIGN_ED25519;
	} else if (EVP_PKEY_is_a(pkey, "SM2")) {
		k->alg = SIGN_SM2;
	} else {
		r = WARD_EFORMAT;
		goto out;
	}
	n = i2d_PUBKEY(pkey, &der);
	if (n <= 0) {
		r = WARD_EFORMAT;
		goto out;
	}
	r = digest_buf(DIGEST_SHA256, der, (size_t)n, md, sizeof(md));
	if (r != 0)
		goto out;
	memcpy(k->id, md, SIGN_KEY_ID_SIZE);
	k->pkey = pkey;
	k->has_private = has_private;
	pkey = NULL;
	*out = k;
	k = NULL;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	ward_free(k);
	return r;
}

int
sign_keygen(enum sign_alg alg, struct sign_key **out)
{
	EVP_PKEY *pkey = NULL;

	*out = NULL;
	if (alg == SIGN_ED25519)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else if (alg == SIGN_SM2)
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "SM2");
	else
		return WARD_EINVAL;
	if (pkey == NULL)
		return WARD_EUNSUPPORTED;
	return key_wrap(pkey, 1, out);
}

int
sign_key_from_pem(const char *pem, size_t len, int private, struct sign_key **out)
{
	EVP_PKEY *pkey;
	BIO *bio;

	*out = NULL;
	if (len > SIGN_MAX_PEM)
		return WARD_EFORMAT;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL)
		return WARD_ENOMEM;
	if (private)
		pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	else
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL)
		return WARD_EFORMAT;
	return key_wrap(pkey, private, out);
}

int
sign_key_to_pem(const struct sign_key *k, int private, struct wbuf *w)
{
	/* A private key's PEM goes through secure memory, wiped when freed. */
	BIO *bio = BIO_new(private ? BIO_s_secmem() : BIO_s_mem());
	char *p = NULL;
	long n;
	int ok, r = 0;

	if (bio == NULL)
		return WARD_ENOMEM;
	if (private && !k->has_private) {
		r = WARD_EINVAL;
		goto out;
	}
	if (private)
		ok = PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_bio_PUBKEY(bio, k->pkey);
	if (!ok) {
		r = WARD_ENOMEM;
		goto out;
	}
	n = BIO_get_mem_data(bio, &p);
	wbuf_put(w, p, (size_t)n);
	r = w->err;
out:
	BIO_free(bio);
	return r;
}

int
sign_key_has_private(const struct sign_key *k)
{
	return k->has_private;
}

enum sign_alg
sign_key_alg(const struct sign_key *k)
{
	return k->alg;
}

const uint8_t *
sign_key_id(const struct sign_key *k)
{
	return k->id;
}

void
sign_key_id_hex(const struct sign_key *k, char out[2 * SIGN_KEY_ID_SIZE + 1])
{
	(void)digest_to_hex(k->id, SIGN_KEY_ID_SIZE, out, 2 * SIGN_KEY_ID_SIZE + 1);
}

/*
 * A digest-sign or digest-verify context for k.  For SM2, *pctx is the key
 * context set into it, which EVP_MD_CTX_free does not free: md_ctx_free.
 */
static EVP_MD_CTX *
md_ctx_for(const struct sign_key *k, int signing, EVP_PKEY_CTX **pctxp)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const char *md = k->alg == SIGN_SM2 ? "SM3" : NULL;
	int ok;

	if (mctx == NULL)
		return NULL;
	if (k->alg == SIGN_SM2) {
		/* The id must be set on a context made before the init. */
		pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
		if (pctx == NULL ||
		    EVP_PKEY_CTX_set1_id(pctx, sm2_default_id, sizeof(sm2_default_id) - 1) <= 0) {
			EVP_PKEY_CTX_free(pctx);
			EVP_MD_CTX_free(mctx);
			return NULL;
		}
		EVP_MD_CTX_set_pkey_ctx(mctx, pctx);
	}
	if (signing)
		ok = EVP_DigestSignInit_ex(mctx, NULL, md, NULL, NULL, k->pkey, NULL);
	else
		ok = EVP_DigestVerifyInit_ex(mctx, NULL, md, NULL, NULL, k->pkey, NULL);
	if (ok <= 0) {
		EVP_MD_CTX_free(mctx);
		EVP_PKEY_CTX_free(pctx);
		return NULL;
	}
	*pctxp = pctx;
	return mctx;
}

static void
md_ctx_free(EVP_MD_CTX *mctx, EVP_PKEY_CTX *pctx)
{
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_CTX_free(pctx);
}

int
sign_message(const struct sign_key *k, const uint8_t *msg, size_t n, uint8_t *sig,
	     size_t *siglen)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx;
	size_t len = SIGN_MAX_SIG;
	int r = 0;

	*siglen = 0;
	if (!k->has_private)
		return WARD_EINVAL;
	mctx = md_ctx_for(k, 1, &pctx);
	if (mctx == NULL)
		return WARD_ENOMEM;
	if (EVP_DigestSign(mctx, sig, &len, msg, n) <= 0 || len > SIGN_MAX_SIG)
		r = WARD_EINVAL;
	else
		*siglen = len;
	md_ctx_free(mctx, pctx);
	return r;
}

int
sign_verify(const struct sign_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
	    size_t siglen)
{
	EVP_PKEY_CTX *pctx = NULL;
	EVP_MD_CTX *mctx;
	int r;

	if (siglen == 0 || siglen > SIGN_MAX_SIG)
		return WARD_EVERIFY;
	mctx = md_ctx_for(k, 0, &pctx);
	if (mctx == NULL)
		return WARD_ENOMEM;
	r = EVP_DigestVerify(mctx, sig, siglen, msg, n) == 1 ? 0 : WARD_EVERIFY;
	md_ctx_free(mctx, pctx);
	return r;
}

void
sign_key_free(struct sign_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	ward_free(k);
}

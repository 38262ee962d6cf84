/*
 * sign: signature keys and detached signatures over OpenSSL 3.
 *
 * Two algorithms: Ed25519, and SM2 with SM3 as its digest and the default
 * distinguishing identifier "1234567812345678" (GB/T 32918).  A key's id is
 * the first 16 bytes of the SHA-256 of its public key in DER
 * (SubjectPublicKeyInfo), so the same key has the same id everywhere.
 * Keys are read and written as PEM (PKCS#8 for private keys).
 */
#ifndef WARD_CRYPTO_SIGN_H
#define WARD_CRYPTO_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

enum sign_alg {
	SIGN_ED25519 = 1,
	SIGN_SM2 = 2,
};

/* Bytes of a key id. */
#define SIGN_KEY_ID_SIZE 16
/* Largest signature of either algorithm, bytes (SM2 DER is at most 72). */
#define SIGN_MAX_SIG 128
/* Largest PEM key file accepted. */
#define SIGN_MAX_PEM 16384

/* "ed25519" or "sm2"; NULL if alg is unknown.  Static. */
const char *sign_alg_name(enum sign_alg alg);

/* Parses "ed25519" / "sm2" (case-insensitive).  0 or WARD_EINVAL. */
int sign_alg_from_name(const char *name, enum sign_alg *alg);

struct sign_key;

/* A new random key pair.  0, WARD_EINVAL, WARD_ENOMEM or WARD_EUNSUPPORTED. */
int sign_keygen(enum sign_alg alg, struct sign_key **out);

/*
 * Reads a PEM private key (private = 1) or public key (private = 0) of one
 * of the two algorithms from pem[0..len).  Returns 0, WARD_EFORMAT if the
 * text is not such a key (or holds another algorithm), WARD_ENOMEM.
 */
int sign_key_from_pem(const char *pem, size_t len, int private, struct sign_key **out);

/* Appends the private key (PKCS#8 PEM) or the public key (PEM) to w; the
 * caller wipes w (OPENSSL_cleanse) before freeing a private key's. */
int sign_key_to_pem(const struct sign_key *k, int private, struct wbuf *w);

/* 1 if k holds a private key. */
int sign_key_has_private(const struct sign_key *k);

enum sign_alg sign_key_alg(const struct sign_key *k);

/* The key id (SIGN_KEY_ID_SIZE bytes). */
const uint8_t *sign_key_id(const struct sign_key *k);

/* The key id as 32 lower-case hex digits and a NUL (33 bytes). */
void sign_key_id_hex(const struct sign_key *k, char out[2 * SIGN_KEY_ID_SIZE + 1]);

/*
 * Signs msg[0..n) with private key k into sig (SIGN_MAX_SIG bytes); *siglen
 * is the signature's length.  0, WARD_EINVAL (no private key), WARD_ENOMEM.
 */
int sign_message(const struct sign_key *k, const uint8_t *msg, size_t n, uint8_t *sig,
		 size_t *siglen);

/* 0 if sig is k's valid signature of msg, WARD_EVERIFY if not. */
int sign_verify(const struct sign_key *k, const uint8_t *msg, size_t n, const uint8_t *sig,
		size_t siglen);

/* Frees k; NULL is a no-op. */
void sign_key_free(struct sign_key *k);

#endif

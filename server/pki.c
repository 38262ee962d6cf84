/*
 * pki: CA and server certificate.  See pki.h.
 *
 * Must hold: every file is a new one (never written over or through what
 * was there), and a private key is created 0600 by the descriptor that
 * writes it.
 */
#include "server/pki.h"
#include "util/file.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static EVP_PKEY *
new_key(void)
{
	return EVP_EC_gen("P-256");
}

static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ex == NULL)
		return -1;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

static X509 *
make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long days, int ca,
	  const char *san)
{
	X509 *c = X509_new();
	unsigned char serial[16];
	BIGNUM *bn;

	if (c == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f;
	X509_set_version(c, 2);
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), days * 86400);
	X509_set_pubkey(c, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "O", MBSTRING_ASC,
				   (const unsigned char *)"ward", -1, -1, 0);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(issuer != NULL ? issuer : c));
	if (add_ext(c, issuer != NULL ? issuer : c, NID_basic_constraints,
		    ca ? "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE") != 0 ||
	    add_ext(c, issuer != NULL ? issuer : c, NID_key_usage,
		    ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") != 0 ||
	    add_ext(c, issuer != NULL ? issuer : c, NID_subject_key_identifier, "hash") != 0 ||
	    (!ca && add_ext(c, issuer, NID_ext_key_usage, "serverAuth") != 0) ||
	    (san != NULL && add_ext(c, issuer, NID_subject_alt_name, san) != 0))
		goto fail;
	if (X509_sign(c, issuer_key != NULL ? issuer_key : key, EVP_sha256()) == 0)
		goto fail;
	return c;
fail:
	X509_free(c);
	return NULL;
}

/* Writes name in dfd, a new file: a key 0600, a certificate 0644. */
static int
write_pem(int dfd, const char *name, X509 *cert, EVP_PKEY *key, struct ward_diag *d)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;
	int r;

	if (b == NULL)
		return diag_set(d, WARD_ENOMEM, name, 0, 0, "out of memory");
	if ((cert != NULL && PEM_write_bio_X509(b, cert) != 1) ||
	    (key != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1)) {
		BIO_free(b);
		return diag_set(d, WARD_EIO, name, 0, 0, "cannot encode");
	}
	n = BIO_get_mem_data(b, &p);
	/* A key is born 0600 (a new file, O_EXCL), never chmod'ed afterwards. */
	r = file_replace_at(dfd, name, p, (size_t)n, key != NULL ? 0600 : 0644, FILE_NOREPLACE, d);
	if (key != NULL)
		OPENSSL_cleanse(p, (size_t)n);
	BIO_free(b);
	return r;
}

int
pki_init(int dfd, const char *const *names, unsigned nnames, struct ward_diag *d)
{
	EVP_PKEY *cakey = new_key(), *key = new_key();
	X509 *ca = NULL, *cert = NULL;
	char san[4096] = "";
	unsigned i;
	int r = WARD_EIO;

	for (i = 0; i < nnames; i++) {
		unsigned char addr[16];
		int ip = inet_pton(AF_INET, names[i], addr) == 1 || inet_pton(AF_INET6, names[i], addr) == 1;

		snprintf(san + strlen(san), sizeof(san) - strlen(san), "%s%s:%s", i ? "," : "",
			 ip ? "IP" : "DNS", names[i]);
	}
	if (cakey == NULL || key == NULL ||
	    (ca = make_cert(cakey, "ward fleet CA", NULL, NULL, 3650, 1, NULL)) == NULL ||
	    (cert = make_cert(key, nnames > 0 ? names[0] : "ward-server", ca, cakey, 730, 0,
			      nnames > 0 ? san : NULL)) == NULL) {
		diag_set(d, WARD_EIO, NULL, 0, 0, "cannot make the certificates");
		goto out;
	}
	if ((r = write_pem(dfd, "ca.crt", ca, NULL, d)) != 0 ||
	    (r = write_pem(dfd, "ca.key", NULL, cakey, d)) != 0 ||
	    (r = write_pem(dfd, "server.crt", cert, NULL, d)) != 0)
		goto out;
	r = write_pem(dfd, "server.key", NULL, key, d);
out:
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	return r;
}

/*
 * Unit tests of lib/crypto/sign: Ed25519 and SM2 round trips through PEM,
 * key ids, tampered messages and signatures, keys of other algorithms,
 * interoperability with the openssl command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/digest.h"
#include "crypto/sign.h"
#include "util/buf.h"
#include "util/err.h"

static const uint8_t msg[] = "{\"name\":\"default\",\"version\":1}";

static struct sign_key *
reload(const struct sign_key *k, int private)
{
	struct sign_key *r = NULL;
	struct wbuf w;

	wbuf_init(&w);
	assert_int_equal(sign_key_to_pem(k, private, &w), 0);
	assert_int_equal(sign_key_from_pem((const char *)w.p, w.len, private, &r), 0);
	wbuf_free(&w);
	return r;
}

static void
round_trip(enum sign_alg alg)
{
	struct sign_key *k = NULL, *priv, *pub, *other = NULL;
	uint8_t sig[SIGN_MAX_SIG], bad[sizeof(msg)];
	size_t len = 0;

	assert_int_equal(sign_keygen(alg, &k), 0);
	assert_int_equal(sign_key_alg(k), alg);
	assert_true(sign_key_has_private(k));
	priv = reload(k, 1);
	pub = reload(k, 0);
	assert_false(sign_key_has_private(pub));
	/* The id is the same for the private and the public key. */
	assert_memory_equal(sign_key_id(k), sign_key_id(pub), SIGN_KEY_ID_SIZE);
	assert_memory_equal(sign_key_id(k), sign_key_id(priv), SIGN_KEY_ID_SIZE);
	assert_int_equal(sign_message(priv, msg, sizeof(msg), sig, &len), 0);
	assert_true(len > 0 && len <= SIGN_MAX_SIG);
	if (alg == SIGN_ED25519)
		assert_int_equal(len, 64);
	assert_int_equal(sign_verify(pub, msg, sizeof(msg), sig, len), 0);
	/* One changed byte of the message or the signature fails. */
	memcpy(bad, msg, sizeof(msg));
	bad[3] ^= 1;
	assert_int_equal(sign_verify(pub, bad, sizeof(bad), sig, len), WARD_EVERIFY);
	sig[len / 2] ^= 0x40;
	assert_int_equal(sign_verify(pub, msg, sizeof(msg), sig, len), WARD_EVERIFY);
	sig[len / 2] ^= 0x40;
	assert_int_equal(sign_verify(pub, msg, sizeof(msg), sig, len - 1), WARD_EVERIFY);
	assert_int_equal(sign_verify(pub, msg, sizeof(msg), sig, 0), WARD_EVERIFY);
	/* Another key of the same algorithm does not verify it. */
	assert_int_equal(sign_keygen(alg, &other), 0);
	assert_memory_not_equal(sign_key_id(other), sign_key_id(k), SIGN_KEY_ID_SIZE);
	assert_int_equal(sign_verify(other, msg, sizeof(msg), sig, len), WARD_EVERIFY);
	/* A public key cannot sign. */
	assert_int_equal(sign_message(pub, msg, sizeof(msg), sig, &len), WARD_EINVAL);
	sign_key_free(k);
	sign_key_free(priv);
	sign_key_free(pub);
	sign_key_free(other);
}

static void
test_ed25519(void **state)
{
	(void)state;
	round_trip(SIGN_ED25519);
}

static void
test_sm2(void **state)
{
	(void)state;
	round_trip(SIGN_SM2);
}

static void
test_names(void **state)
{
	enum sign_alg a;

	(void)state;
	assert_int_equal(sign_alg_from_name("ED25519", &a), 0);
	assert_int_equal(a, SIGN_ED25519);
	assert_int_equal(sign_alg_from_name("sm2", &a), 0);
	assert_int_equal(a, SIGN_SM2);
	assert_int_equal(sign_alg_from_name("rsa", &a), WARD_EINVAL);
	assert_string_equal(sign_alg_name(SIGN_SM2), "sm2");
	assert_null(sign_alg_name((enum sign_alg)9));
}

/* Keys of other algorithms and garbage are refused. */
static void
test_refused_keys(void **state)
{
	/* A P-256 public key. */
	static const char p256[] =
	    "-----BEGIN PUBLIC KEY-----\n"
	    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVhEyE/SDmH4X2U4YC1O1Nx6vhQhM\n"
	    "sXkVg31U0t9HJ2hE0aOx3cG2o7S3oG1qkZ0bX4b9l7dM6ZXWjT6uW5o7Hg==\n"
	    "-----END PUBLIC KEY-----\n";
	static const char junk[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
	struct sign_key *k = NULL;

	(void)state;
	assert_int_equal(sign_key_from_pem(p256, sizeof(p256) - 1, 0, &k), WARD_EFORMAT);
	assert_null(k);
	assert_int_equal(sign_key_from_pem(junk, sizeof(junk) - 1, 0, &k), WARD_EFORMAT);
	assert_int_equal(sign_key_from_pem("", 0, 1, &k), WARD_EFORMAT);
}

/* A signature made by `openssl pkeyutl` verifies with ward (and the id is
 * the SHA-256 of the DER public key). */
static void
test_openssl_interop(void **state)
{
	char dir[] = "/tmp/ward-test-sign-XXXXXX", cmd[1024], path[512];
	uint8_t sig[SIGN_MAX_SIG], der[256], md[32];
	struct sign_key *k = NULL;
	size_t siglen, derlen;
	char pem[4096];
	size_t pemlen;
	FILE *f;
	const char *algs[] = {"ED25519", "SM2"};
	/* OpenSSL 3.0's command line signs SM2 with an empty id unless told the
	 * standard one; ward always uses the standard one. */
	const char *extra[] = {"", "-digest sm3 -pkeyopt distid:1234567812345678"};
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/msg", dir);
		f = fopen(path, "wb");
		assert_non_null(f);
		fwrite(msg, 1, sizeof(msg), f);
		fclose(f);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && openssl genpkey -algorithm %s -out k.pem 2>/dev/null && "
			 "openssl pkey -in k.pem -pubout -out p.pem && "
			 "openssl pkey -pubin -in p.pem -outform DER -out p.der && "
			 "openssl pkeyutl -sign -rawin %s -inkey k.pem -in msg -out sig",
			 dir, algs[i], extra[i]);
		if (system(cmd) != 0)
			fail_msg("the openssl command failed for %s (make deps installs it)",
				 algs[i]);
		snprintf(path, sizeof(path), "%s/p.pem", dir);
		f = fopen(path, "rb");
		pemlen = fread(pem, 1, sizeof(pem), f);
		fclose(f);
		assert_int_equal(sign_key_from_pem(pem, pemlen, 0, &k), 0);
		snprintf(path, sizeof(path), "%s/sig", dir);
		f = fopen(path, "rb");
		siglen = fread(sig, 1, sizeof(sig), f);
		fclose(f);
		assert_int_equal(sign_verify(k, msg, sizeof(msg), sig, siglen), 0);
		snprintf(path, sizeof(path), "%s/p.der", dir);
		f = fopen(path, "rb");
		derlen = fread(der, 1, sizeof(der), f);
		fclose(f);
		assert_int_equal(digest_buf(DIGEST_SHA256, der, derlen, md, sizeof(md)), 0);
		assert_memory_equal(md, sign_key_id(k), SIGN_KEY_ID_SIZE);
		sign_key_free(k);
		k = NULL;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ed25519),	   cmocka_unit_test(test_sm2),
	    cmocka_unit_test(test_names),	   cmocka_unit_test(test_refused_keys),
	    cmocka_unit_test(test_openssl_interop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

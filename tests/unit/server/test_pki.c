/*
 * Unit tests of server/pki: pki_init writes ca.crt, ca.key, server.crt
 * and server.key (the keys mode 0600), ECDSA P-256; the server
 * certificate verifies against the CA for TLS server use (OpenSSL's
 * X509_verify_cert), not against another server's CA, and carries the
 * requested names as subjectAltNames (DNS names and IP addresses).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "server/pki.h"

static const char *const files[] = {"ca.crt", "ca.key", "server.crt", "server.key"};

static void
make(char *dir, const char *const *names, unsigned n)
{
	struct ward_diag d;

	int dfd;

	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	if (pki_init(dfd, names, n, &d) != 0)
		fail_msg("pki_init: %s", d.msg);
	close(dfd);
}

static void
cleanup(const char *dir)
{
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static X509 *
read_cert(const char *dir, const char *name)
{
	char path[256];
	FILE *f;
	X509 *c;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(c);
	return c;
}

static EVP_PKEY *
read_key(const char *dir, const char *name)
{
	char path[256];
	FILE *f;
	EVP_PKEY *k;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(k);
	return k;
}

/* 1 if cert verifies against ca as a TLS server certificate. */
static int
verify(X509 *ca, X509 *cert)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, cert, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER), 1);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static void
test_files(void **state)
{
	static const char *const names[] = {"ward.example.org", "10.0.0.5"};
	char dir[] = "/tmp/ward-test-pki-XXXXXX", path[256];
	struct stat st;
	size_t i;

	(void)state;
	make(dir, names, 2);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_true(st.st_size > 0);
		if (strstr(files[i], ".key") != NULL)
			assert_int_equal(st.st_mode & 07777, 0600);
		else
			assert_int_equal(st.st_mode & 0022, 0); /* nobody else writes it */
	}
	cleanup(dir);
}

static void
test_keys(void **state)
{
	static const char *const names[] = {"localhost"};
	char dir[] = "/tmp/ward-test-pki-XXXXXX";
	X509 *ca, *cert;
	EVP_PKEY *cakey, *key;
	char group[64];
	size_t len;

	(void)state;
	make(dir, names, 1);
	ca = read_cert(dir, "ca.crt");
	cert = read_cert(dir, "server.crt");
	cakey = read_key(dir, "ca.key");
	key = read_key(dir, "server.key");
	/* Each key belongs to its certificate, and they differ. */
	assert_int_equal(X509_check_private_key(ca, cakey), 1);
	assert_int_equal(X509_check_private_key(cert, key), 1);
	assert_int_not_equal(X509_check_private_key(cert, cakey), 1);
	/* ECDSA P-256. */
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	assert_int_equal(EVP_PKEY_get_bits(key), 256);
	assert_int_equal(EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &len),
			 1);
	assert_string_equal(group, "prime256v1");
	assert_int_equal(EVP_PKEY_get_base_id(cakey), EVP_PKEY_EC);
	X509_free(ca);
	X509_free(cert);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	cleanup(dir);
}

static void
test_verify(void **state)
{
	static const char *const names[] = {"ward.example.org", "10.0.0.5"};
	char dir[] = "/tmp/ward-test-pki-XXXXXX", other[] = "/tmp/ward-test-pki-XXXXXX";
	X509 *ca, *cert, *ca2;
	int days, secs;

	(void)state;
	make(dir, names, 2);
	make(other, names, 2);
	ca = read_cert(dir, "ca.crt");
	cert = read_cert(dir, "server.crt");
	ca2 = read_cert(other, "ca.crt");

	/* The CA is a CA, self-signed; the server certificate is not. */
	assert_int_equal(X509_check_ca(ca), 1);
	assert_int_equal(X509_check_ca(cert), 0);
	assert_int_equal(X509_check_issued(ca, ca), X509_V_OK);
	assert_int_equal(X509_check_issued(ca, cert), X509_V_OK);

	assert_int_equal(verify(ca, cert), 1);
	/* Another server's CA does not vouch for it. */
	assert_int_not_equal(verify(ca2, cert), 1);

	/* Valid from before now, for about two years (server) and ten (CA). */
	assert_true(X509_cmp_current_time(X509_get0_notBefore(cert)) < 0);
	assert_int_equal(
	    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(cert), X509_get0_notAfter(cert)), 1);
	assert_true(days >= 729 && days <= 731);
	assert_int_equal(
	    ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca), X509_get0_notAfter(ca)), 1);
	assert_true(days >= 3649 && days <= 3651);

	X509_free(ca);
	X509_free(cert);
	X509_free(ca2);
	cleanup(dir);
	cleanup(other);
}

static void
test_names(void **state)
{
	static const char *const names[] = {"ward.example.org", "10.0.0.5", "fleet.internal",
					    "::1"};
	char dir[] = "/tmp/ward-test-pki-XXXXXX", cn[128];
	GENERAL_NAMES *sans;
	X509 *cert;
	int i, dns = 0, ip = 0;

	(void)state;
	make(dir, names, 4);
	cert = read_cert(dir, "server.crt");

	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	assert_non_null(sans);
	assert_int_equal(sk_GENERAL_NAME_num(sans), 4);
	for (i = 0; i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type == GEN_DNS)
			dns++;
		else if (g->type == GEN_IPADD)
			ip++;
	}
	assert_int_equal(dns, 2);
	assert_int_equal(ip, 2);
	GENERAL_NAMES_free(sans);

	assert_int_equal(X509_check_host(cert, "ward.example.org", 0, 0, NULL), 1);
	assert_int_equal(X509_check_host(cert, "fleet.internal", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(cert, "10.0.0.5", 0), 1);
	assert_int_equal(X509_check_ip_asc(cert, "::1", 0), 1);
	/* Names that were not asked for. */
	assert_int_not_equal(X509_check_host(cert, "other.example.org", 0, 0, NULL), 1);
	assert_int_not_equal(X509_check_host(cert, "10.0.0.5", 0, 0, NULL), 1); /* not as DNS */
	assert_int_not_equal(X509_check_ip_asc(cert, "10.0.0.6", 0), 1);
	assert_int_not_equal(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);

	/* The subject names the first. */
	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
					      sizeof(cn)) > 0);
	assert_string_equal(cn, "ward.example.org");
	X509_free(cert);
	cleanup(dir);
}

static void
test_errors(void **state)
{
	static const char *const names[] = {"localhost"};
	struct ward_diag d;
	char dir[] = "/tmp/ward-test-pki-XXXXXX", path[256], buf[64];
	struct stat st;
	ssize_t k;
	int dfd, fd;

	(void)state;
	diag_clear(&d);
	assert_int_equal(pki_init(-1, names, 1, &d), WARD_EIO);
	assert_true(d.msg[0] != '\0');

	/* A key already there (a server's, or one planted) is never written
	 * over: pki_init refuses and leaves it as it was. */
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	snprintf(path, sizeof(path), "%s/ca.key", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "old key\n", 8), 8);
	close(fd);
	diag_clear(&d);
	assert_int_equal(pki_init(dfd, names, 1, &d), WARD_EDUPLICATE);
	assert_string_equal(d.file, "ca.key");
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	k = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(k, 8);
	assert_memory_equal(buf, "old key\n", 8);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	close(dfd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ca.crt", dir); /* written before ca.key */
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

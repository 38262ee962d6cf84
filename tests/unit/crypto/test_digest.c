/*
 * Unit tests of lib/crypto/digest: known vectors, incremental hashing,
 * hex helpers with their length checks, constant-time compare, allocation
 * failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/err.h"

static void
check_vector(enum digest_alg alg, const char *msg, const char *hex)
{
	uint8_t d[DIGEST_MAX_SIZE];
	char h[2 * DIGEST_MAX_SIZE + 1];

	assert_int_equal(digest_buf(alg, msg, strlen(msg), d, sizeof(d)), 0);
	assert_int_equal(digest_to_hex(d, digest_size(alg), h, sizeof(h)), 0);
	assert_string_equal(h, hex);
}

static void
test_vectors(void **state)
{
	check_vector(DIGEST_SHA256, "abc",
		     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_vector(DIGEST_SHA256, "",
		     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_vector(DIGEST_MD5, "abc", "900150983cd24fb0d6963f7d28e17f72");
	check_vector(DIGEST_MD5, "", "d41d8cd98f00b204e9800998ecf8427e");
	check_vector(DIGEST_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d");
	check_vector(DIGEST_SM3, "abc",
		     "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
	check_vector(DIGEST_SM3, "abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabcd",
		     "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732");
}

static void
test_incremental(void **state)
{
	struct digest_ctx *c = NULL;
	uint8_t a[DIGEST_MAX_SIZE], b[DIGEST_MAX_SIZE];
	char buf[1000];
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	for (i = 0; i < DIGEST_NALGS; i++) {
		size_t off;

		assert_int_equal(digest_new((enum digest_alg)i, &c), 0);
		assert_int_equal(digest_alg_of(c), (enum digest_alg)i);
		for (off = 0; off < sizeof(buf); off += 33) {
			size_t n = sizeof(buf) - off < 33 ? sizeof(buf) - off : 33;

			assert_int_equal(digest_update(c, buf + off, n), 0);
		}
		assert_int_equal(digest_update(c, buf, 0), 0);
		assert_int_equal(digest_final(c, a, sizeof(a)), 0);
		assert_int_equal(digest_buf((enum digest_alg)i, buf, sizeof(buf), b, sizeof(b)), 0);
		assert_memory_equal(a, b, digest_size((enum digest_alg)i));
		/* reset and reuse gives the same answer */
		assert_int_equal(digest_reset(c), 0);
		assert_int_equal(digest_update(c, buf, sizeof(buf)), 0);
		memset(a, 0, sizeof(a));
		assert_int_equal(digest_final(c, a, sizeof(a)), 0);
		assert_memory_equal(a, b, digest_size((enum digest_alg)i));
		/* too small an output buffer is refused */
		assert_int_equal(digest_reset(c), 0);
		assert_int_equal(digest_final(c, a, digest_size((enum digest_alg)i) - 1),
				 WARD_EINVAL);
		digest_free(c);
		c = NULL;
	}
	digest_free(NULL);
}

static void
test_names(void **state)
{
	enum digest_alg a;

	assert_int_equal(digest_size(DIGEST_SHA256), 32);
	assert_int_equal(digest_size(DIGEST_MD5), 16);
	assert_int_equal(digest_size(DIGEST_SM3), 32);
	assert_int_equal(digest_size((enum digest_alg)7), 0);
	assert_string_equal(digest_name(DIGEST_SHA256), "sha256");
	assert_string_equal(digest_name(DIGEST_MD5), "md5");
	assert_string_equal(digest_name(DIGEST_SM3), "sm3");
	assert_int_equal(digest_size(DIGEST_SHA1), 20);
	assert_string_equal(digest_name(DIGEST_SHA1), "sha1");
	assert_null(digest_name((enum digest_alg)DIGEST_NALGS));
	assert_int_equal(digest_from_name("sha256", 6, &a), 0);
	assert_int_equal(a, DIGEST_SHA256);
	assert_int_equal(digest_from_name("MD5", 3, &a), 0);
	assert_int_equal(a, DIGEST_MD5);
	assert_int_equal(digest_from_name("sm3xyz", 3, &a), 0);
	assert_int_equal(a, DIGEST_SM3);
	assert_int_equal(digest_from_name("sm", 2, &a), WARD_EINVAL);
	assert_int_equal(digest_from_name("sha2566", 7, &a), WARD_EINVAL);
	assert_int_equal(digest_from_name("", 0, &a), WARD_EINVAL);
	{
		struct digest_ctx *c = (struct digest_ctx *)1;
		uint8_t d[32];

		assert_int_equal(digest_new((enum digest_alg)9, &c), WARD_EINVAL);
		assert_null(c);
		assert_int_equal(digest_buf((enum digest_alg)9, "", 0, d, sizeof(d)), WARD_EINVAL);
	}
}

static void
test_hex(void **state)
{
	uint8_t d[4] = {0x00, 0xab, 0xCD, 0xff}, o[4];
	char h[9];
	size_t n = 99;

	assert_int_equal(digest_to_hex(d, 4, h, sizeof(h)), 0);
	assert_string_equal(h, "00abcdff");
	assert_int_equal(digest_to_hex(d, 4, h, 8), WARD_EINVAL);
	assert_int_equal(digest_to_hex(d, 0, h, 1), 0);
	assert_string_equal(h, "");

	assert_int_equal(digest_from_hex("00ABcdfF", 8, o, sizeof(o), &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(o, d, 4);
	assert_int_equal(digest_from_hex("00abcdff00", 10, o, sizeof(o), &n), WARD_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(digest_from_hex("abc", 3, o, sizeof(o), &n), WARD_EINVAL);
	assert_int_equal(digest_from_hex("0g", 2, o, sizeof(o), &n), WARD_EINVAL);
	assert_int_equal(digest_from_hex("g0", 2, o, sizeof(o), &n), WARD_EINVAL);
	assert_int_equal(digest_from_hex("0 ", 2, o, sizeof(o), &n), WARD_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(digest_from_hex("", 0, o, sizeof(o), &n), 0);
	assert_int_equal(n, 0);
}

static void
test_equal(void **state)
{
	uint8_t a[32], b[32];

	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(digest_equal(a, b, 32));
	b[31] ^= 1;
	assert_false(digest_equal(a, b, 32));
	assert_true(digest_equal(a, b, 31));
	assert_true(digest_equal(a, b, 0));
}

static void
test_alloc_fail(void **state)
{
	struct digest_ctx *c = NULL;

	alloc_fail_after(1);
	assert_int_equal(digest_new(DIGEST_SHA256, &c), WARD_ENOMEM);
	assert_null(c);
	alloc_fail_after(0);
	assert_int_equal(digest_new(DIGEST_SHA256, &c), 0);
	digest_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vectors), cmocka_unit_test(test_incremental),
	    cmocka_unit_test(test_names),   cmocka_unit_test(test_hex),
	    cmocka_unit_test(test_equal),   cmocka_unit_test(test_alloc_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests of lib/modules/hashfn: the standard test vectors, YARA's
 * undefined ranges, ranges across the read window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/freader.h"
#include "modules/hashfn.h"
#include "util/alloc.h"
#include "util/err.h"

#define BIG (2 * FREADER_WINDOW + 9)

static uint8_t file[BIG];

static int
read_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	if (off > BIG || n > BIG - off)
		return -1;
	memcpy(buf, file + off, n);
	return 0;
}

static const char *const abc[] = {
    "900150983cd24fb0d6963f7d28e17f72",
    "a9993e364706816aba3e25717850c26c9cd0d89d",
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
};

static void
test_strings(void **state)
{
	char hex[HASHFN_HEX_MAX];
	int a;

	(void)state;
	for (a = HASHFN_MD5; a <= HASHFN_SM3; a++) {
		assert_int_equal(hashfn_digest_str(a, (const uint8_t *)"abc", 3, hex, sizeof(hex)),
				 1);
		assert_string_equal(hex, abc[a]);
	}
	assert_int_equal(hashfn_digest_str(HASHFN_MD5, NULL, 0, hex, sizeof(hex)), 1);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(hashfn_crc32_str((const uint8_t *)"123456789", 9), 0xcbf43926);
	assert_int_equal(hashfn_crc32_str(NULL, 0), 0);
	assert_int_equal(hashfn_checksum32_str((const uint8_t *)"abc", 3), 294);
	assert_int_equal(hashfn_checksum32_str((const uint8_t *)"\xff", 1), 255);
}

static void
test_ranges(void **state)
{
	char hex[HASHFN_HEX_MAX];
	struct freader f;
	int64_t v = 0;

	(void)state;
	freader_init_mem(&f, (const uint8_t *)"xabcx", 5);
	assert_int_equal(hashfn_digest(&f, HASHFN_SHA256, 1, 3, hex, sizeof(hex)), 1);
	assert_string_equal(hex, abc[HASHFN_SHA256]);
	/* An empty range inside the file has the digest of nothing. */
	assert_int_equal(hashfn_digest(&f, HASHFN_MD5, 4, 0, hex, sizeof(hex)), 1);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(hashfn_digest(&f, HASHFN_MD5, 5, 0, hex, sizeof(hex)), 0);
	assert_int_equal(hashfn_digest(&f, HASHFN_MD5, -1, 2, hex, sizeof(hex)), 0);
	assert_int_equal(hashfn_digest(&f, HASHFN_MD5, 0, -2, hex, sizeof(hex)), 0);
	/* Cut at the end of the file. */
	assert_int_equal(hashfn_digest(&f, HASHFN_SHA1, 1, 1000, hex, sizeof(hex)), 1);
	assert_int_equal(
	    hashfn_digest_str(HASHFN_SHA1, (const uint8_t *)"abcx", 4, hex + 0, sizeof(hex)), 1);
	assert_true(hashfn_checksum32(&f, 1, 3, &v) && v == 294);
	assert_false(hashfn_checksum32(&f, 5, 1, &v));
	assert_true(hashfn_crc32(&f, 0, 0, &v) && v == 0);
	assert_false(hashfn_crc32(&f, -3, 1, &v));
	/* Too small a buffer for the hex. */
	assert_true(hashfn_digest(&f, HASHFN_SHA256, 0, 5, hex, 10) < 0);
}

static void
test_windows(void **state)
{
	static uint8_t win[FREADER_WINDOW];
	char a[HASHFN_HEX_MAX], b[HASHFN_HEX_MAX];
	struct freader m, w;
	int64_t x, y;
	size_t i;
	int alg;

	(void)state;
	for (i = 0; i < BIG; i++)
		file[i] = (uint8_t)(i * 31 + (i >> 9));
	freader_init_mem(&m, file, BIG);
	freader_init_fn(&w, BIG, read_fn, NULL, win);
	for (alg = HASHFN_MD5; alg <= HASHFN_SM3; alg++) {
		assert_int_equal(hashfn_digest(&m, alg, 11, BIG, a, sizeof(a)), 1);
		assert_int_equal(hashfn_digest(&w, alg, 11, BIG, b, sizeof(b)), 1);
		assert_string_equal(a, b);
	}
	assert_true(hashfn_crc32(&m, 0, BIG, &x) && hashfn_crc32(&w, 0, BIG, &y) && x == y);
	assert_int_equal(x, hashfn_crc32_str(file, BIG));
	assert_true(hashfn_checksum32(&w, 3, BIG, &x));
	assert_int_equal(x, hashfn_checksum32_str(file + 3, BIG - 3));
}

static void
test_alloc_failures(void **state)
{
	char hex[HASHFN_HEX_MAX];
	struct freader f;
	unsigned long nth;
	int r, a, ok;

	(void)state;
	freader_init_mem(&f, (const uint8_t *)"abc", 3);
	for (a = HASHFN_MD5; a <= HASHFN_SM3; a++) {
		ok = 0;
		for (nth = 1; nth < 16 && !ok; nth++) {
			alloc_fail_after(nth);
			r = hashfn_digest(&f, a, 0, 3, hex, sizeof(hex));
			alloc_fail_after(0);
			assert_true(r == 1 || r == WARD_ENOMEM);
			ok = r == 1;
		}
		assert_true(ok);
		assert_string_equal(hex, abc[a]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_windows),
	    cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

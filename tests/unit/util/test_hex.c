/*
 * Unit tests of lib/util/hex: digits, encoding and decoding.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/hex.h"

static void
test_digits(void **state)
{
	int c;

	(void)state;
	for (c = -1; c < 256; c++) {
		int want = c >= '0' && c <= '9'	  ? c - '0'
			   : c >= 'a' && c <= 'f' ? c - 'a' + 10
			   : c >= 'A' && c <= 'F' ? c - 'A' + 10
						  : -1;

		assert_int_equal(hex_digit(c), want);
	}
}

static void
test_round_trip(void **state)
{
	uint8_t in[256], back[256];
	char text[513];
	size_t i, n = 0;

	(void)state;
	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	assert_int_equal(hex_encode(in, sizeof(in), text, sizeof(text)), 0);
	assert_int_equal(strlen(text), 512);
	assert_memory_equal(text, "000102", 6);
	assert_string_equal(text + 506, "fdfeff");
	assert_int_equal(hex_decode(text, 512, back, sizeof(back), &n), 0);
	assert_int_equal(n, sizeof(in));
	assert_memory_equal(in, back, sizeof(in));
	/* either case reads */
	assert_int_equal(hex_decode("ABcd", 4, back, sizeof(back), &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(back[0], 0xab);
	assert_int_equal(back[1], 0xcd);
}

static void
test_refusals(void **state)
{
	uint8_t out[2];
	char small[4];
	size_t n = 7;

	(void)state;
	/* an encoding that does not fit leaves out untouched */
	memcpy(small, "xyz", 4);
	assert_int_equal(hex_encode((const uint8_t *)"ab", 2, small, sizeof(small)), WARD_EINVAL);
	assert_string_equal(small, "xyz");
	assert_int_equal(hex_decode("abc", 3, out, sizeof(out), &n), WARD_EINVAL);
	assert_int_equal(n, 0);
	n = 7;
	assert_int_equal(hex_decode("abcdef", 6, out, sizeof(out), &n), WARD_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(hex_decode("0g", 2, out, sizeof(out), &n), WARD_EINVAL);
	assert_int_equal(hex_decode("\xff"
				    "0",
				    2, out, sizeof(out), &n),
			 WARD_EINVAL);
	assert_int_equal(hex_decode("", 0, out, sizeof(out), &n), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_digits),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

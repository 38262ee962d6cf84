/* Unit tests of lib/modules/mathfn: known values, YARA's undefined ranges
 * and quirks, the same answers from memory and through a read function
 * whose window the range crosses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/freader.h"
#include "modules/mathfn.h"

#define BIG (3 * FREADER_WINDOW + 5)

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

static int
fail_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	(void)off;
	(void)buf;
	(void)n;
	return -1;
}

static void
test_strings(void **state)
{
	uint8_t all[256];
	double v = 0;
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	assert_true(mathfn_entropy_str((const uint8_t *)"abc", 3, &v));
	assert_true(v == 1.5849625007211560757);
	assert_true(mathfn_entropy_str(all, 256, &v));
	assert_true(v == 8.0);
	assert_true(mathfn_entropy_str(NULL, 0, &v));
	assert_true(v == 0.0);
	assert_true(mathfn_mean_str((const uint8_t *)"abc", 3, &v));
	assert_true(v == 98.0);
	/* YARA reads a string's bytes as signed char here. */
	assert_true(mathfn_mean_str((const uint8_t *)"\xff", 1, &v));
	assert_true(v == -1.0);
	assert_false(mathfn_mean_str(NULL, 0, &v));
	assert_true(mathfn_deviation_str((const uint8_t *)"abc", 3, 127.5, &v));
	assert_true(v == 29.5);
	assert_false(mathfn_deviation_str(NULL, 0, 1.0, &v));
	/* ent's formula as YARA closes it: (3 * 29009 - 294^2) / 6. */
	assert_true(mathfn_serial_correlation_str((const uint8_t *)"abc", 3, &v));
	assert_true(v == 98.5);
	assert_true(mathfn_serial_correlation_str(NULL, 0, &v));
	assert_true(v == -100000.0);
	/* Fewer than six bytes make no point. */
	assert_false(mathfn_monte_carlo_pi_str((const uint8_t *)"abcde", 5, &v));
	assert_true(mathfn_monte_carlo_pi_str((const uint8_t *)"\0\0\0\0\0\0", 6, &v));
	/* The one point (0, 0) is inside: pi estimated as 4. */
	assert_true(v == (4.0 - 3.141592653589793) / 3.141592653589793);
}

static void
test_ranges(void **state)
{
	struct freader f;
	double v = 0;
	int64_t iv = 0;

	(void)state;
	freader_init_mem(&f, (const uint8_t *)"AAB", 3);
	assert_true(mathfn_entropy(&f, 0, 3, &v));
	assert_true(mathfn_entropy(&f, 0, 0, &v) && v == 0.0);
	assert_false(mathfn_entropy(&f, 3, 0, &v)); /* at the end: undefined */
	assert_false(mathfn_entropy(&f, -1, 2, &v));
	assert_false(mathfn_entropy(&f, 0, -1, &v));
	assert_false(mathfn_mean(&f, 1, 0, &v));		/* a mean of nothing */
	assert_true(mathfn_mean(&f, 2, 1000, &v) && v == 66.0); /* cut at the end */
	assert_true(mathfn_count(&f, 0x41, 0, 3, &iv) && iv == 2);
	assert_true(mathfn_count(&f, 0x141, 0, 3, &iv) && iv == 2); /* byte mod 256 */
	assert_true(mathfn_count(&f, 0x41, 1, 0, &iv) && iv == 0);
	assert_false(mathfn_count(&f, 0x41, 3, 1, &iv));
	/* Single precision, as YARA divides. */
	assert_true(mathfn_percentage(&f, 0x41, 0, 3, &v));
	assert_true(v == (double)(2.0f / 3.0f));
	assert_false(mathfn_percentage(&f, 0x41, 0, 0, &v));
	assert_true(mathfn_mode(&f, 0, 3, &iv) && iv == 0x41);
	assert_true(mathfn_mode(&f, 1, 2, &iv) && iv == 0x41); /* a tie: the lowest */
	assert_true(mathfn_mode(&f, 1, 0, &iv) && iv == 0);
	assert_true(mathfn_count_whole(&f, 0x42, &iv) && iv == 1);
	assert_true(mathfn_percentage_whole(&f, 0x42, &v) && v == (double)(1.0f / 3.0f));
	assert_true(mathfn_mode_whole(&f, &iv) && iv == 0x41);
	assert_true(mathfn_deviation(&f, 0, 3, 65.0, &v) && v == 1.0 / 3.0);
	assert_true(mathfn_serial_correlation(&f, 0, 0, &v) && v == -100000.0);
	assert_false(mathfn_monte_carlo_pi(&f, 0, 3, &v));
	/* An empty file has nothing for the whole-file forms either. */
	freader_init_mem(&f, NULL, 0);
	assert_false(mathfn_count_whole(&f, 0, &iv));
	assert_false(mathfn_percentage_whole(&f, 0, &v));
	assert_false(mathfn_mode_whole(&f, &iv));
	assert_false(mathfn_entropy(&f, 0, 0, &v));
}

/* The same values whole and through a window the ranges cross; a file
 * that cannot be read gives nothing defined. */
static void
test_windows(void **state)
{
	static uint8_t win[FREADER_WINDOW];
	struct freader m, w, bad;
	double a, b;
	int64_t ia, ib;
	size_t i;

	(void)state;
	for (i = 0; i < BIG; i++)
		file[i] = (uint8_t)(i * i + (i >> 7));
	freader_init_mem(&m, file, BIG);
	freader_init_fn(&w, BIG, read_fn, NULL, win);
	freader_init_fn(&bad, BIG, fail_fn, NULL, win);
	assert_true(mathfn_entropy(&m, 7, BIG, &a) && mathfn_entropy(&w, 7, BIG, &b) && a == b);
	assert_true(mathfn_serial_correlation(&m, 100, BIG, &a) &&
		    mathfn_serial_correlation(&w, 100, BIG, &b) && a == b);
	assert_true(mathfn_monte_carlo_pi(&m, 3, BIG, &a) &&
		    mathfn_monte_carlo_pi(&w, 3, BIG, &b) && a == b);
	assert_true(mathfn_mode(&m, FREADER_WINDOW - 3, 10, &ia) &&
		    mathfn_mode(&w, FREADER_WINDOW - 3, 10, &ib) && ia == ib);
	assert_false(mathfn_entropy(&bad, 0, 10, &a));
	assert_false(mathfn_mode_whole(&bad, &ia));
}

static void
test_integers(void **state)
{
	(void)state;
	/* YARA compares min and max as unsigned. */
	assert_int_equal(mathfn_min(-1, 1), 1);
	assert_int_equal(mathfn_max(-1, 1), -1);
	assert_int_equal(mathfn_min(3, 5), 3);
	assert_int_equal(mathfn_abs(-5), 5);
	assert_true(mathfn_abs(INT64_MIN) == INT64_MIN);
	assert_int_equal(mathfn_to_number(7), 1);
	assert_int_equal(mathfn_to_number(0), 0);
	assert_int_equal(mathfn_in_range(1.0, 1.0, 2.0), 1);
	assert_int_equal(mathfn_in_range(2.5, 1.0, 2.0), 0);
	assert_true(MATHFN_MEAN_BYTES == 127.5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_ranges),
	    cmocka_unit_test(test_windows),
	    cmocka_unit_test(test_integers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

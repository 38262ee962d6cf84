/*
 * Unit tests of lib/util/size: byte counts with their suffixes and their
 * 64-bit overflow; durations in every unit, up to WARD_MAX_DURATION_S and
 * not a second more, so that now + a duration can never wrap into the past
 * (an expiry of 9223372036854775807 seconds used to make a token that had
 * expired before it was made).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cmocka.h>

#include "util/limits.h"
#include "util/size.h"

static void
test_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(size_parse("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(size_parse("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(size_parse("10MiB", &v), 0);
	assert_int_equal(v, 10u << 20);
	assert_int_equal(size_parse("2GB", &v), 0);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(size_parse("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(size_parse("18446744073709551616", &v), -1);
	assert_int_equal(size_parse("17179869184G", &v), -1); /* 2^34 G = 2^64 */
	assert_int_equal(size_parse("-1", &v), -1);
	assert_int_equal(size_parse(" 1", &v), -1);
	assert_int_equal(size_parse("1T", &v), -1);
	assert_int_equal(size_parse("1Kb", &v), -1);
	assert_int_equal(size_parse("", &v), -1);
	assert_int_equal(v, 7); /* untouched on failure */
}

static void
test_duration(void **state)
{
	static const struct {
		const char *s;
		long long want;
	} good[] = {
	    {"1", 1},
	    {"90", 90},
	    {"90s", 90},
	    {"30m", 1800},
	    {"12h", 43200},
	    {"7d", 604800},
	    {"36600d", WARD_MAX_DURATION_S},
	    {"3162240000", WARD_MAX_DURATION_S},
	    {"878400h", WARD_MAX_DURATION_S},
	};
	static const char *const bad[] = {
	    "",	  "0",	 "0s",	 "-1", "+1",  " 1",   "1 ",
	    "1w", "1ms", "1.5h", "h",  "1hh", "0x10", "-9223372036854775808",
	};
	static const char *const too_long[] = {
	    "3162240001",
	    "36601d",
	    "878401h",
	    "52704001m",
	    "9223372036854775807",
	    "9223372036854775807s",
	    "9223372036854775807d",
	    "9223372036854775808",
	    "99999999999999999999999999d",
	    "106751991167301d", /* times 86400 just past LLONG_MAX */
	};
	long long s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		s = -1;
		if (duration_parse(good[i].s, &s) != 0 || s != good[i].want)
			fail_msg("\"%s\": got %lld", good[i].s, s);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = -1;
		if (duration_parse(bad[i], &s) != WARD_EINVAL || s != -1)
			fail_msg("\"%s\" was not refused as malformed", bad[i]);
	}
	for (i = 0; i < sizeof(too_long) / sizeof(too_long[0]); i++) {
		s = -1;
		if (duration_parse(too_long[i], &s) != WARD_ELIMIT || s != -1)
			fail_msg("\"%s\" was not refused as too long", too_long[i]);
	}
}

/* The point of the limit: now plus the longest duration is a time in the
 * future, far inside 64 bits, even counted in milliseconds. */
static void
test_duration_plus_now(void **state)
{
	long long s = 0;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	assert_int_equal(duration_parse("36600d", &s), 0);
	assert_true(now + s > now);
	assert_true(s < INT64_MAX - now);
	assert_true(WARD_MAX_DURATION_S < INT64_MAX / 1000); /* even in milliseconds */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_duration_plus_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

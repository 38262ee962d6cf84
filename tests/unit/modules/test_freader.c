/* Unit tests of lib/modules/freader: every read inside the file or refused,
 * from memory and through a read function with its window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modules/freader.h"
#include "util/err.h"

#define BIG (3 * FREADER_WINDOW + 17)

static uint8_t file[BIG];
static unsigned calls;

static int
read_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	calls++;
	if (off > BIG || n > BIG - off)
		return -1;
	memcpy(buf, file + off, n);
	return 0;
}

static int
setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < BIG; i++)
		file[i] = (uint8_t)(i * 7 + 3);
	memcpy(file + 100, "hello\0world", 12);
	return 0;
}

/* Both kinds of reader over the same bytes: every check runs on each. */
static void
check_reader(struct freader *f)
{
	uint8_t b[16];
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	char s[8];
	size_t len;

	assert_int_equal(freader_u16(f, 0, &v16), 0);
	assert_int_equal(v16, file[0] | file[1] << 8);
	assert_int_equal(freader_u16_be(f, 0, &v16), 0);
	assert_int_equal(v16, file[0] << 8 | file[1]);
	assert_int_equal(freader_u32(f, BIG - 4, &v32), 0);
	assert_int_equal(v32, (uint32_t)file[BIG - 4] | (uint32_t)file[BIG - 3] << 8 |
				  (uint32_t)file[BIG - 2] << 16 | (uint32_t)file[BIG - 1] << 24);
	/* One byte past the end, far past it, and offsets that would wrap. */
	assert_int_equal(freader_u32(f, BIG - 3, &v32), WARD_EFORMAT);
	assert_int_equal(freader_u64(f, BIG, &v64), WARD_EFORMAT);
	assert_int_equal(freader_u64(f, UINT64_MAX - 3, &v64), WARD_EFORMAT);
	assert_int_equal(freader_read(f, 8, b, SIZE_MAX), WARD_EFORMAT);
	assert_int_equal(freader_read(f, BIG, b, 0), 0);
	/* A read across the window's edge. */
	assert_int_equal(freader_read(f, FREADER_WINDOW - 8, b, 16), 0);
	assert_memory_equal(b, file + FREADER_WINDOW - 8, 16);
	assert_int_equal(freader_u64_be(f, FREADER_WINDOW - 4, &v64), 0);
	assert_int_equal(v64 >> 56, file[FREADER_WINDOW - 4]);
	/* Strings: whole, cut to the output, unterminated within max. */
	assert_int_equal(freader_cstr(f, 100, 64, s, sizeof(s), &len), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_int_equal(freader_cstr(f, 106, 64, s, 4, &len), 0);
	assert_string_equal(s, "wor");
	assert_int_equal(len, 5);
	assert_int_equal(freader_cstr(f, 100, 3, s, sizeof(s), &len), WARD_ELIMIT);
	assert_string_equal(s, "hel");
	assert_int_equal(freader_cstr(f, BIG + 1, 3, s, sizeof(s), &len), WARD_EFORMAT);
	assert_int_equal(freader_cstr(f, 0, 3, s, 0, &len), WARD_EINVAL);
}

static void
test_memory(void **state)
{
	struct freader f;

	(void)state;
	freader_init_mem(&f, file, BIG);
	check_reader(&f);
}

static void
test_function(void **state)
{
	static uint8_t win[FREADER_WINDOW];
	struct freader f;
	uint32_t v;
	const uint8_t *p;
	unsigned i, before;

	(void)state;
	freader_init_fn(&f, BIG, read_fn, NULL, win);
	check_reader(&f);
	/* Small reads close together cost one read of the file. */
	assert_int_equal(freader_u32(&f, 4096, &v), 0);
	before = calls;
	for (i = 0; i < 1000; i++)
		assert_int_equal(freader_u32(&f, 4096 + 4 * i, &v), 0);
	assert_int_equal(calls, before);
	/* A larger read than the window goes to the file; a peek cannot. */
	{
		static uint8_t big[FREADER_WINDOW + 5];

		assert_int_equal(freader_read(&f, 1, big, sizeof(big)), 0);
		assert_memory_equal(big, file + 1, sizeof(big));
	}
	assert_int_equal(freader_peek(&f, 0, FREADER_WINDOW + 1, &p), WARD_EINVAL);
}

/* A file that shrank after its size was taken: a read error, not stale
 * bytes. */
static int
short_fn(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	(void)off;
	(void)buf;
	(void)n;
	return -1;
}

static void
test_read_error(void **state)
{
	static uint8_t win[FREADER_WINDOW];
	struct freader f;
	uint32_t v = 7;

	(void)state;
	freader_init_fn(&f, BIG, short_fn, NULL, win);
	assert_int_equal(freader_u32(&f, 0, &v), WARD_EFORMAT);
	assert_int_equal(v, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory),
	    cmocka_unit_test(test_function),
	    cmocka_unit_test(test_read_error),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}

/* Unit tests of buf: checked reads never pass the end; writes round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

static void
test_round_trip(void **state)
{
	struct wbuf w;
	struct rbuf r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	const uint8_t *p;
	size_t n;

	(void)state;
	wbuf_init(&w);
	wbuf_u8(&w, 0xab);
	wbuf_u16(&w, 0x1234);
	wbuf_u32(&w, 0xdeadbeef);
	wbuf_u64(&w, 0x0102030405060708ull);
	wbuf_i64(&w, -5);
	wbuf_lenbytes(&w, "xyz", 3);
	wbuf_patch_u32(&w, 3, 0xcafef00d);
	assert_int_equal(w.err, 0);
	assert_int_equal(w.p[3], 0x0d); /* little-endian */
	rbuf_init(&r, w.p, w.len);
	assert_int_equal(rbuf_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(rbuf_u16(&r, &u16), 0);
	assert_int_equal(u16, 0x1234);
	assert_int_equal(rbuf_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xcafef00d);
	assert_int_equal(rbuf_u64(&r, &u64), 0);
	assert_true(u64 == 0x0102030405060708ull);
	assert_int_equal(rbuf_i64(&r, &i64), 0);
	assert_true(i64 == -5);
	assert_int_equal(rbuf_lenbytes(&r, 16, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "xyz", 3);
	assert_int_equal(rbuf_left(&r), 0);
	assert_int_equal(rbuf_u8(&r, &u8), WARD_EFORMAT);
	wbuf_free(&w);
}

static void
test_short_reads_do_not_move(void **state)
{
	static const uint8_t data[] = {5, 0, 0, 0, 'a', 'b'};
	struct rbuf r;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;
	size_t n;

	(void)state;
	rbuf_init(&r, data, sizeof(data));
	/* The length says 5 but only 2 bytes follow. */
	assert_int_equal(rbuf_lenbytes(&r, 100, &p, &n), WARD_EFORMAT);
	assert_null(p);
	assert_int_equal(r.off, 0);
	/* A limit below the length is refused too. */
	rbuf_init(&r, data, sizeof(data));
	assert_int_equal(rbuf_lenbytes(&r, 4, &p, &n), WARD_EFORMAT);
	assert_int_equal(r.off, 0);
	assert_int_equal(rbuf_u64(&r, &u64), WARD_EFORMAT);
	assert_int_equal(rbuf_u32(&r, &u32), 0);
	assert_int_equal(rbuf_bytes(&r, 3, &p), WARD_EFORMAT);
	assert_int_equal(rbuf_bytes(&r, 2, &p), 0);
	rbuf_init(&r, NULL, 10);
	assert_int_equal(rbuf_left(&r), 0);
}

static void
test_write_failure_is_sticky(void **state)
{
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	alloc_fail_after(1);
	wbuf_u32(&w, 1);
	alloc_fail_after(0);
	assert_int_equal(w.err, WARD_ENOMEM);
	wbuf_u32(&w, 2);
	assert_int_equal(w.len, 0);
	wbuf_free(&w);
}

/* rbuf_strdup: a string written by wbuf_str comes back NUL-terminated; a
 * NUL inside, a length above max or above what remains, an allocation
 * failure: refused, the cursor where it was, no string. */
static void
test_strdup(void **state)
{
	struct wbuf w;
	struct rbuf r;
	char *s = (char *)1;

	(void)state;
	wbuf_init(&w);
	wbuf_str(&w, "hello");
	wbuf_lenbytes(&w, "a\0b", 3);
	assert_int_equal(w.err, 0);
	rbuf_init(&r, w.p, w.len);
	assert_int_equal(rbuf_strdup(&r, 4, &s), WARD_EFORMAT); /* longer than max */
	assert_null(s);
	assert_int_equal(r.off, 0);
	assert_int_equal(rbuf_strdup(&r, 5, &s), 0);
	assert_string_equal(s, "hello");
	ward_free(s);
	assert_int_equal(rbuf_strdup(&r, 100, &s), WARD_EFORMAT); /* a NUL inside */
	assert_int_equal(r.off, 9);
	rbuf_init(&r, w.p, 8); /* shorter than its length says */
	assert_int_equal(rbuf_strdup(&r, 100, &s), WARD_EFORMAT);
	assert_int_equal(r.off, 0);
	rbuf_init(&r, w.p, w.len);
	alloc_fail_after(1);
	assert_int_equal(rbuf_strdup(&r, 100, &s), WARD_ENOMEM);
	alloc_fail_after(0);
	assert_null(s);
	assert_int_equal(r.off, 0);
	wbuf_free(&w);
}

static void
test_until(void **state)
{
	static const char text[] = "ab\tc\n\nlast";
	const uint8_t *p = NULL;
	struct rbuf b;
	size_t n = 9;

	(void)state;
	rbuf_init(&b, text, strlen(text));
	assert_int_equal(rbuf_until(&b, '\n', 100, &p, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "ab\tc", 4);
	assert_int_equal(rbuf_until(&b, '\n', 100, &p, &n), 0); /* an empty line */
	assert_int_equal(n, 0);
	assert_int_equal(rbuf_until(&b, '\n', 3, &p, &n), WARD_ELIMIT); /* "last": 4 > 3 */
	assert_null(p);
	assert_int_equal(rbuf_left(&b), 4);		      /* did not move */
	assert_int_equal(rbuf_until(&b, '\n', 4, &p, &n), 1); /* no newline at the end */
	assert_int_equal(n, 4);
	assert_memory_equal(p, "last", 4);
	assert_int_equal(rbuf_until(&b, '\n', 4, &p, &n), WARD_EFORMAT); /* nothing left */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_short_reads_do_not_move),
	    cmocka_unit_test(test_write_failure_is_sticky),
	    cmocka_unit_test(test_strdup),
	    cmocka_unit_test(test_until),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

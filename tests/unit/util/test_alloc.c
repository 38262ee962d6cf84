/* Unit tests of alloc: the failure hook and ward_grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/alloc.h"
#include "util/err.h"

static void
test_fail_nth(void **state)
{
	void *a, *b, *c;

	(void)state;
	alloc_fail_after(2);
	a = ward_malloc(8);
	b = ward_malloc(8);
	c = ward_malloc(8);
	assert_non_null(a);
	assert_null(b);
	assert_non_null(c);
	assert_int_equal(alloc_fail_after(0), 3);
	ward_free(a);
	ward_free(c);
	ward_free(NULL);
}

static void
test_dup(void **state)
{
	char *s;
	void *m;

	(void)state;
	s = ward_strndup("hello world", 5);
	assert_string_equal(s, "hello");
	ward_free(s);
	s = ward_strdup("x");
	assert_string_equal(s, "x");
	ward_free(s);
	m = ward_memdup("\0\1\2", 3);
	assert_memory_equal(m, "\0\1\2", 3);
	ward_free(m);
	alloc_fail_after(1);
	assert_null(ward_strdup("y"));
	alloc_fail_after(0);
}

static void
test_grow(void **state)
{
	int *arr = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(ward_grow(&arr, &cap, 3, sizeof(*arr)), 0);
	assert_true(cap >= 3);
	arr[2] = 7;
	assert_int_equal(ward_grow(&arr, &cap, 100, sizeof(*arr)), 0);
	assert_true(cap >= 100);
	assert_int_equal(arr[2], 7);
	alloc_fail_after(1);
	assert_int_equal(ward_grow(&arr, &cap, 1000, sizeof(*arr)), WARD_ENOMEM);
	alloc_fail_after(0);
	assert_int_equal(arr[2], 7);
	assert_int_equal(ward_grow(&arr, &cap, SIZE_MAX / 2, sizeof(*arr)), WARD_ENOMEM);
	ward_free(arr);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_nth),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of lib/util/strmap: values by key, the key limit, collisions.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/strmap.h"

static void
test_values(void **state)
{
	enum { N = 1000 };
	static char keys[N][16];
	struct strmap *m;
	uint32_t *v;
	int fresh, i;

	(void)state;
	assert_int_equal(strmap_new(N, &m), 0);
	for (i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		v = strmap_slot(m, keys[i], 7, &fresh);
		assert_non_null(v);
		assert_int_equal(fresh, 1);
		assert_int_equal(*v, 7);
		*v = (uint32_t)i;
	}
	/* Found again by an equal string at another address. */
	for (i = 0; i < N; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		v = strmap_slot(m, k, 7, &fresh);
		assert_non_null(v);
		assert_int_equal(fresh, 0);
		assert_int_equal(*v, (uint32_t)i);
	}
	/* Full: a new key is refused, a known one still found. */
	assert_null(strmap_slot(m, "new", 0, NULL));
	assert_non_null(strmap_slot(m, "k0", 0, NULL));
	assert_null(strmap_slot(m, "", 0, NULL));
	strmap_free(m);
	strmap_free(NULL);
}

static void
test_empty_key(void **state)
{
	struct strmap *m;
	uint32_t *v;

	(void)state;
	assert_int_equal(strmap_new(1, &m), 0);
	v = strmap_slot(m, "", 3, NULL);
	assert_non_null(v);
	assert_int_equal(*v, 3);
	assert_ptr_equal(strmap_slot(m, "", 0, NULL), v);
	strmap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_empty_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

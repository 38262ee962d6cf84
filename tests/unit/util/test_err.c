/* Unit tests of err: every code has a message; diagnostics format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/err.h"

static void
test_strerror_covers_all(void **state)
{
	int e;

	(void)state;
	for (e = WARD_ECLOSED; e <= WARD_OK; e++)
		assert_string_not_equal(ward_strerror(e), "unknown error");
	assert_string_equal(ward_strerror(-999), "unknown error");
}

static void
test_diag_format(void **state)
{
	struct ward_diag d;
	char buf[256];

	(void)state;
	assert_int_equal(diag_set(&d, WARD_ESYNTAX, "r.yar", 3, 7, "unexpected %s", "}"),
			 WARD_ESYNTAX);
	diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "r.yar:3:7: unexpected }");
	diag_set(&d, WARD_EIO, "r.yar", 3, 0, "x");
	diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "r.yar:3: x");
	diag_set(&d, WARD_EIO, "r.yar", 0, 0, "x");
	diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "r.yar: x");
	diag_set(&d, WARD_EIO, NULL, 0, 0, "x");
	diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "x");
	assert_int_equal(diag_set(NULL, WARD_EINVAL, NULL, 0, 0, "ignored"), WARD_EINVAL);
	diag_clear(&d);
	assert_int_equal(d.line, 0);
	diag_clear(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror_covers_all),
		cmocka_unit_test(test_diag_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

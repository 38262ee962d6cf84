/*
 * Unit tests of lib/proto/cause.c: every refusal cause has one name that
 * reads back as itself, and nothing else reads as a cause but the plain
 * refusal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "proto/cause.h"

static enum refusal_cause
named(const char *s)
{
	return cause_from_name(s, strlen(s));
}

static void
test_names_round_trip(void **state)
{
	unsigned i, j;

	(void)state;
	for (i = 0; i < CAUSE_N; i++) {
		const char *n = cause_name((enum refusal_cause)i);

		assert_non_null(n);
		assert_int_equal(named(n), i);
		for (j = 0; j < i; j++) /* names are distinct */
			assert_string_not_equal(n, cause_name((enum refusal_cause)j));
	}
	/* The names agents and servers already exchange. */
	assert_string_equal(cause_name(CAUSE_REFUSED), "refused");
	assert_string_equal(cause_name(CAUSE_CRASH_GUARD), "crash-guard");
	assert_string_equal(cause_name(CAUSE_FLEET_ROLLBACK), "fleet-rollback");
	assert_string_equal(cause_name(CAUSE_N), "refused");
	assert_string_equal(cause_name((enum refusal_cause) - 1), "refused");
}

static void
test_unknown_is_refused(void **state)
{
	static const char *const other[] = {
	    "",
	    "crash guard",
	    "Crash-Guard",
	    "crash-guard ",
	    "crash-guar",
	    "crash-guardx",
	    "fleet server stopped",
	    "validation\n",
	    "quantum-flux",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		assert_int_equal(named(other[i]), CAUSE_REFUSED);
	/* Exact bytes: a NUL inside does not end the name. */
	assert_int_equal(cause_from_name("crash-guard\0x", 13), CAUSE_REFUSED);
	assert_int_equal(cause_from_name("crash-guard", 11), CAUSE_CRASH_GUARD);
	assert_int_equal(cause_from_name(NULL, 0), CAUSE_REFUSED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names_round_trip),
	    cmocka_unit_test(test_unknown_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

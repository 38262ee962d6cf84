/*
 * Unit tests of lib/proto/enroll.c: the enrollment request, from clients
 * that have proven nothing yet.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto/enroll.h"

#define TOK "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID "0123456789abcdef0123456789abcdef"

static int
parse(const char *text, struct enroll_msg *m, struct ward_diag *d)
{
	return enroll_parse(text, strlen(text), m, d);
}

static void
test_good(void **state)
{
	struct enroll_msg m;
	struct ward_diag d;

	(void)state;
	assert_int_equal(parse("{\"token\": \"" TOK "\", \"machine_id\": \"\", \"hw_id\": \"h\","
			       " \"hostname\": \"db-01.example.org\", \"version\": \"0.1.0\"}",
			       &m, &d),
			 0);
	assert_string_equal(m.token, TOK);
	assert_string_equal(m.hostname, "db-01.example.org");
	assert_string_equal(m.agent_id, "");
	assert_int_equal(parse("{\"token\": \"" TOK "\", \"machine_id\": \"m\", \"hw_id\": \"h\","
			       " \"hostname\": \"x\", \"version\": \"0.1.0\", \"agent_id\": \"" ID
			       "\", \"secret\": \"" TOK "\"}",
			       &m, &d),
			 0);
	assert_string_equal(m.agent_id, ID);
	assert_string_equal(m.secret, TOK);
	enroll_wipe(&m);
	assert_string_equal(m.secret, "");
	assert_string_equal(m.token, "");
}

static void
test_refused(void **state)
{
	static const struct {
		const char *text, *why;
	} cases[] = {
	    {"{not json", "JSON object"},
	    {"[1]", "JSON object"},
	    {"{\"token\": 5, \"machine_id\": \"m\", \"hw_id\": \"h\", \"hostname\": \"x\","
	     " \"version\": \"1\"}",
	     "\"token\""},
	    /* A format check, not a length check. */
	    {"{\"token\": \"../../../../../../../../../../../../../../../../../../../../../etc/x\","
	     " \"machine_id\": \"m\", \"hw_id\": \"h\", \"hostname\": \"x\", \"version\": \"1\"}",
	     "\"token\""},
	    {"{\"token\": \"" TOK "\", \"machine_id\": \"m\", \"hw_id\": \"\", \"hostname\": \"x\","
	     " \"version\": \"1\"}",
	     "\"hw_id\""},
	    {"{\"token\": \"" TOK "\", \"machine_id\": \"m\", \"hw_id\": \"h\","
	     " \"hostname\": \"x\\u001b[2J\", \"version\": \"1\"}",
	     "\"hostname\""},
	    {"{\"token\": \"" TOK
	     "\", \"machine_id\": \"m\", \"hw_id\": \"h\", \"hostname\": \"x\","
	     " \"version\": \"1 2\"}",
	     "\"version\""},
	    {"{\"token\": \"" TOK
	     "\", \"machine_id\": \"m\", \"hw_id\": \"h\", \"hostname\": \"x\","
	     " \"version\": \"1\", \"agent_id\": \"" ID "\"}",
	     "both"},
	    {"{\"token\": \"" TOK
	     "\", \"machine_id\": \"m\", \"hw_id\": \"h\", \"hostname\": \"x\","
	     " \"version\": \"1\", \"token\": \"" TOK "\"}",
	     "JSON object"},
	};
	struct enroll_msg m;
	struct ward_diag d;
	char big[8192];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_clear(&d);
		assert_int_not_equal(parse(cases[i].text, &m, &d), 0);
		if (strstr(d.msg, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" does not say %s", i, d.msg, cases[i].why);
		assert_string_equal(m.token, "");
	}
	/* Larger than any enrollment: not even parsed. */
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 1] = '}';
	assert_int_equal(enroll_parse(big, sizeof(big), &m, &d), WARD_ELIMIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

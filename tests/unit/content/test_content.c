/*
 * Unit tests of lib/content/content: what a bundle's members compile to.
 * Here the `exceptions` member type: its members are parsed by the
 * exceptions parser in content_compile (so at build, at publish and in the
 * agent's validator alike), numbered across members, and a bad one fails
 * the whole content with the member's name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content/bundle.h"
#include "content/content.h"

static const char rules[] = "rule t { strings: $a = \"abc\" condition: $a }\n";

/* A bundle (not parsed: only what content.c reads) of a rule file and the
 * exceptions members given. */
static void
make(struct bundle *b, struct bundle_member *m, const char *const *members, unsigned n)
{
	static char names[8][32];
	unsigned i;

	memset(b, 0, sizeof(*b));
	memset(m, 0, sizeof(*m) * (n + 1));
	m[0].name = (char *)"rules/t.yar";
	m[0].type = BM_YARA;
	m[0].data = (const uint8_t *)rules;
	m[0].size = strlen(rules);
	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "exceptions/%u.json", i);
		m[i + 1].name = names[i];
		m[i + 1].type = BM_EXCEPTIONS;
		m[i + 1].data = (const uint8_t *)members[i];
		m[i + 1].size = strlen(members[i]);
	}
	b->members = m;
	b->nmembers = n + 1;
}

static void
test_exceptions_members(void **state)
{
	static const char *const good[] = {
	    "{\"exceptions\": [{\"rule\": \"t\", \"path\": \"/srv/**\"}, {\"path\": \"/opt/x\"}]}",
	    "{\"exceptions\": [{\"sha256\": "
	    "\"275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\"}]}",
	};
	struct bundle_member m[4];
	struct content_set cs;
	struct except_list l;
	struct bundle b;
	struct ward_diag d;

	(void)state;
	assert_string_equal(bundle_member_type_name(BM_EXCEPTIONS), "exceptions");
	make(&b, m, good, 2);
	memset(&l, 0, sizeof(l));
	assert_int_equal(content_exceptions(&b, &l, &d), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[2].id, 3);
	assert_int_equal(l.v[2].kind, EXCEPT_SHA256);
	except_list_free(&l);
	assert_int_equal(content_compile(&b, &cs, &d), 0);
	assert_int_equal(cs.exc.n, 3);
	assert_non_null(except_match(&cs.exc, "/srv/a/b", "t", NULL));
	content_set_free(&cs);
	assert_int_equal(cs.exc.n, 0);
}

static void
test_bad_member_fails_the_content(void **state)
{
	static const char *const bad[] = {
	    "{\"exceptions\": [{\"rule\": \"t\"}]}",
	    "{\"exceptions\": [{\"path\": \"/srv/../etc/**\"}]}",
	};
	struct bundle_member m[4];
	struct content_set cs;
	struct bundle b;
	struct ward_diag d;

	(void)state;
	make(&b, m, bad, 2);
	diag_clear(&d);
	assert_int_not_equal(content_compile(&b, &cs, &d), 0);
	assert_string_equal(d.file, "exceptions/1.json");
	assert_non_null(strstr(d.msg, ".."));
	assert_null(cs.m);
	assert_int_equal(cs.exc.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exceptions_members),
	    cmocka_unit_test(test_bad_member_fails_the_content),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

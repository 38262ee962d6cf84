/*
 * Unit tests of lib/content/content: what a bundle's members compile to.
 *
 * content_drop_unsupported, what `ward content build --skip-unsupported`
 * puts in a bundle: the rule members rewritten so that they compile,
 * without skipping, to exactly the rules kept, each rule left out named in
 * a comment, every line in place.
 *
 * The `exceptions` member type: its members are parsed by the exceptions
 * parser in content_compile (so at build, at publish and in the agent's
 * validator alike), numbered across members, and a bad one fails the whole
 * content with the member's name.
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
#include "rules/compile.h"
#include "util/alloc.h"

static struct content_src
src_of(const char *name, const char *text)
{
	struct content_src s;

	s.name = name;
	s.size = strlen(text);
	s.data = ward_malloc(s.size + 1);
	assert_non_null(s.data);
	memcpy(s.data, text, s.size);
	return s;
}

static int nreports;

static void
on_report(void *arg, const struct rules_skipped *s)
{
	(void)arg;
	(void)s;
	nreports++;
}

/* Compiles the sources strictly, as an agent does; returns the rule count. */
static uint32_t
strict_count(const struct content_src *s, uint32_t n)
{
	struct rules_compiler *c;
	struct ruleset *rs = NULL;
	struct ward_diag d;
	uint32_t i, count;

	assert_int_equal(rules_compiler_new(&c), 0);
	for (i = 0; i < n; i++)
		if (rules_compiler_add_string(c, s[i].name, (const char *)s[i].data, s[i].size,
					      &d) != 0)
			fail_msg("%s:%d:%d: %s", d.file, d.line, d.col, d.msg);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	count = rs->nrules;
	ruleset_free(rs);
	rules_compiler_free(c);
	return count;
}

/* The line of s that holds needle (1-based), or 0. */
static int
line_of(const struct content_src *s, const char *needle)
{
	char *t = ward_strndup((const char *)s->data, s->size), *p;
	int line = 1;

	assert_non_null(t);
	p = strstr(t, needle);
	if (p == NULL) {
		ward_free(t);
		return 0;
	}
	for (char *q = t; q < p; q++)
		line += *q == '\n';
	ward_free(t);
	return line;
}

static void
test_drop_rewrites(void **state)
{
	struct content_src s[2];
	struct ward_diag d;
	size_t dropped;

	(void)state;
	/* A module name that would end the comment early if copied as is. */
	s[0] = src_of("a.yar", "import \"pe*/ rule evil { condition: true } /*\"\n"
			       "rule keep1 { strings: $a = \"abc\" condition: $a }\n"
			       "rule gone1 {\n"
			       "  strings: $a = \"abc\"\n"
			       "  condition: 50% of them\n"
			       "} rule keep2 { condition: keep1 }\n");
	s[1] = src_of("b.yar", "rule gone2 { condition: gone1 }\n"
			       "rule keep3 { condition: keep2 and filesize > 1 }\n");
	nreports = 0;
	assert_int_equal(content_drop_unsupported(s, 2, on_report, NULL, &dropped, &d), 0);
	assert_int_equal(dropped, 2);
	assert_int_equal(nreports, 3);
	/* What is left compiles as it is, to the kept rules only. */
	assert_int_equal(strict_count(s, 2), 3);
	/* Each kept rule is on its line; each left out one is named. */
	assert_int_equal(line_of(&s[0], "rule keep1"), 2);
	assert_int_equal(line_of(&s[0], "rule keep2"), 6);
	assert_int_equal(line_of(&s[1], "rule keep3"), 2);
	assert_int_equal(line_of(&s[0], "left out rule gone1: \"N% of\" (percentage)"), 3);
	assert_int_equal(line_of(&s[1], "left out rule gone2: uses rule \"gone1\""), 1);
	assert_int_equal(line_of(&s[0], "left out import \"pe*| rule evil"), 1);
	assert_int_equal(line_of(&s[0], "rule evil"), 1); /* inside the comment */
	ward_free(s[0].data);
	ward_free(s[1].data);
}

static void
test_drop_errors(void **state)
{
	struct content_src s[1];
	struct ward_diag d;
	size_t dropped;

	(void)state;
	s[0] = src_of("a.yar", "rule a { strings: $a = \"abc\" xor condition: $a and }\n");
	assert_int_equal(content_drop_unsupported(s, 1, NULL, NULL, &dropped, &d), WARD_ESYNTAX);
	assert_string_equal(d.file, "a.yar");
	ward_free(s[0].data);
	s[0] = src_of("a.yar", "global rule g { condition: dotnet.is_dll() }\n");
	assert_int_equal(content_drop_unsupported(s, 1, NULL, NULL, &dropped, &d),
			 WARD_EUNSUPPORTED);
	ward_free(s[0].data);
	s[0] = src_of("a.yar", "include \"x.yar\"\n");
	assert_int_equal(content_drop_unsupported(s, 1, NULL, NULL, &dropped, &d),
			 WARD_EUNSUPPORTED);
	assert_non_null(strstr(d.msg, "include"));
	ward_free(s[0].data);
}

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
	    cmocka_unit_test(test_drop_rewrites),
	    cmocka_unit_test(test_drop_errors),
	    cmocka_unit_test(test_exceptions_members),
	    cmocka_unit_test(test_bad_member_fails_the_content),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

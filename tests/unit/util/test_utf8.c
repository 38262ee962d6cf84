/*
 * Tests of lib/util/utf8.c: text cut to a field keeps whole characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

static void
expect_cut(const char *in, const char *out)
{
	char s[64];

	strcpy(s, in);
	utf8_cut(s);
	assert_string_equal(s, out);
}

static void
test_cut(void **state)
{
	(void)state;
	expect_cut("", "");
	expect_cut("plain", "plain");
	/* whole characters stay: 2, 3 and 4 bytes */
	expect_cut("\xc3\xa9", "\xc3\xa9");
	expect_cut("a\xe2\x82\xac", "a\xe2\x82\xac");
	expect_cut("a\xf0\x9f\x98\x80", "a\xf0\x9f\x98\x80");
	/* a last character cut short goes */
	expect_cut("a\xc3", "a");
	expect_cut("a\xe2\x82", "a");
	expect_cut("a\xe2", "a");
	expect_cut("a\xf0\x9f\x98", "a");
	expect_cut("\xd0\xbe\xd1", "\xd0\xbe");
	/* bytes that are no UTF-8 are not its business */
	expect_cut("a\x80\x80\x80\x80", "a\x80\x80\x80\x80");
	expect_cut("\x80", "\x80");
}

/* What the agent's state does with it: a refusal's reason cut at the
 * field's size inside a character still saves (store.c uses utf8_cut). */
static void
test_cut_at_every_byte(void **state)
{
	static const char text[] = "r\xc3\xa9"
				   "f\xe2\x82\xac"
				   "s\xf0\x9f\x98\x80";
	char s[64];
	size_t n;

	(void)state;
	for (n = 0; n <= strlen(text); n++) {
		memcpy(s, text, n);
		s[n] = '\0';
		utf8_cut(s);
		/* the result is a prefix of whole characters */
		assert_true(strlen(s) <= n && memcmp(s, text, strlen(s)) == 0);
		assert_true(strlen(s) == 0 || strlen(s) == 1 || strlen(s) == 3 || strlen(s) == 4 ||
			    strlen(s) == 7 || strlen(s) == 8 || strlen(s) == 12);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cut),
	    cmocka_unit_test(test_cut_at_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

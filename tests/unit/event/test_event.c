/*
 * Tests of lib/event/event.c: events' fields, and strings from any bytes
 * (a file's name need not be UTF-8; JSON carries only UTF-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event/event.h"

static void
expect_str(const char *in, const char *shown)
{
	json_t *j = event_str(in);

	assert_non_null(j);
	assert_string_equal(json_string_value(j), shown);
	json_decref(j);
}

static void
test_event_str(void **state)
{
	(void)state;
	/* UTF-8 stays as it is, backslashes and all */
	expect_str("/srv/a\\b.txt", "/srv/a\\b.txt");
	expect_str("/home/\xd0\xbe\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf",
		   "/home/\xd0\xbe\xd1\x82\xd1\x87\xd1\x91\xd1\x82.pdf");
	expect_str("", "");
	/* anything else is shown byte by byte, never dropped */
	expect_str("/tmp/\xff.elf", "/tmp/\\xff.elf");
	expect_str("/tmp/\xd0", "/tmp/\\xd0");
	expect_str("/tmp/a\\b\xc3(", "/tmp/a\\x5cb\\xc3(");
	expect_str("\xc0\xaf", "\\xc0\\xaf"); /* an overlong '/' */
}

static void
test_event_fields(void **state)
{
	json_t *ev = event_new(EVENT_KIND_ALERT, "malware", "info", "test", "success");
	char *text;

	(void)state;
	assert_non_null(ev);
	assert_int_equal(event_set_str(ev, "file.path", "/tmp/\xfe\nx"), 0);
	assert_int_equal(event_set_int(ev, "file.size", 7), 0);
	assert_int_equal(event_set_str(ev, "file.name", NULL), 0);
	text = event_text(ev);
	assert_non_null(text);
	assert_non_null(strstr(text, "\"path\":\"/tmp/\\\\xfe\\\\x0ax\""));
	assert_non_null(strstr(text, "\"size\":7"));
	assert_null(strstr(text, "\"name\""));
	assert_null(strchr(text, '\n'));
	free(text);
	json_decref(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_event_str),
	    cmocka_unit_test(test_event_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

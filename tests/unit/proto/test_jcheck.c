/*
 * Unit tests of lib/proto/jcheck.c: checked fields of hostile JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proto/jcheck.h"

static json_t *
parse(const char *text)
{
	json_t *o = json_loads(text, 0, NULL);

	assert_non_null(o);
	return o;
}

static void
test_string(void **state)
{
	json_t *o = parse("{\"hex\": \"00ff\", \"up\": \"00FF\", \"tok\": \"v1.2-rc:3\","
			  " \"ctl\": \"a\\u0001b\", \"num\": 5, \"long\": \"abcdefghij\","
			  " \"nul\": null}");
	struct ward_diag d;
	char out[8];

	(void)state;
	assert_int_equal(jcheck_string(o, "hex", 0, JCHECK_HEX, 4, out, sizeof(out), &d), 0);
	assert_string_equal(out, "00ff");
	/* A format, not a length: uppercase is not our hex. */
	assert_int_equal(jcheck_string(o, "up", 0, JCHECK_HEX, 4, out, sizeof(out), &d),
			 WARD_EFORMAT);
	assert_non_null(strstr(d.msg, "\"up\""));
	assert_int_equal(jcheck_string(o, "tok", 0, JCHECK_TOKEN, 0, out, sizeof(out), &d),
			 WARD_EFORMAT); /* 9 bytes > 7 */
	assert_int_equal(jcheck_string(o, "ctl", 0, JCHECK_TEXT, 0, out, sizeof(out), &d),
			 WARD_EFORMAT);
	assert_string_equal(out, ""); /* nothing handed back on failure */
	assert_int_equal(jcheck_string(o, "num", 0, JCHECK_TEXT, 0, out, sizeof(out), &d),
			 WARD_EFORMAT);
	assert_int_equal(jcheck_string(o, "long", 0, JCHECK_TEXT, 0, out, sizeof(out), &d),
			 WARD_EFORMAT);
	assert_int_equal(jcheck_string(o, "hex", 0, JCHECK_HEX, 5, out, sizeof(out), &d),
			 WARD_EFORMAT); /* under min */
	/* Absent or null: "" when optional, an error otherwise. */
	assert_int_equal(jcheck_string(o, "none", 1, JCHECK_TEXT, 3, out, sizeof(out), &d), 0);
	assert_string_equal(out, "");
	assert_int_equal(jcheck_string(o, "nul", 1, JCHECK_TEXT, 0, out, sizeof(out), &d), 0);
	assert_int_equal(jcheck_string(o, "none", 0, JCHECK_TEXT, 0, out, sizeof(out), &d),
			 WARD_EFORMAT);
	assert_non_null(strstr(d.msg, "missing"));
	json_decref(o);
}

static void
test_int(void **state)
{
	json_t *o = parse("{\"a\": 5, \"b\": -1, \"c\": 5.5, \"d\": \"5\","
			  " \"big\": 9223372036854775807}");
	struct ward_diag d;
	int64_t v;

	(void)state;
	assert_int_equal(jcheck_int(o, "a", 0, 0, 10, 0, &v, &d), 0);
	assert_int_equal(v, 5);
	assert_int_equal(jcheck_int(o, "b", 0, 0, 10, 0, &v, &d), WARD_EFORMAT);
	assert_int_equal(jcheck_int(o, "c", 0, 0, 10, 0, &v, &d), WARD_EFORMAT);
	assert_int_equal(jcheck_int(o, "d", 0, 0, 10, 0, &v, &d), WARD_EFORMAT);
	assert_int_equal(jcheck_int(o, "big", 0, 0, (int64_t)1 << 53, 0, &v, &d), WARD_EFORMAT);
	assert_int_equal(jcheck_int(o, "zz", 1, 0, 10, 7, &v, &d), 0);
	assert_int_equal(v, 7);
	assert_int_equal(jcheck_int(o, "zz", 0, 0, 10, 7, &v, &d), WARD_EFORMAT);
	json_decref(o);
}

static void
test_bounded(void **state)
{
	json_t *o = parse("{\"ok\": {\"a\": [1, 2, {\"b\": \"x\"}], \"c\": true, \"n\": null},"
			  " \"deep\": [[[[[1]]]]], \"wide\": [1,2,3,4,5], \"ctl\": [\"a\\u0007\"],"
			  " \"key\": {\"\\u0001\": 1}}");
	struct ward_diag d;
	json_t *copy;

	(void)state;
	assert_int_equal(jcheck_bounded(json_object_get(o, "ok"), "ok", 3, 4, 10, &copy, &d), 0);
	assert_true(json_equal(copy, json_object_get(o, "ok")));
	json_decref(copy);
	assert_int_equal(jcheck_bounded(json_object_get(o, "deep"), "deep", 4, 4, 10, &copy, &d),
			 WARD_ELIMIT);
	assert_null(copy);
	assert_non_null(strstr(d.msg, "\"deep\""));
	assert_int_equal(jcheck_bounded(json_object_get(o, "wide"), "wide", 4, 4, 10, &copy, &d),
			 WARD_ELIMIT);
	assert_int_equal(jcheck_bounded(json_object_get(o, "ctl"), "ctl", 4, 4, 10, &copy, &d),
			 WARD_EFORMAT);
	assert_int_equal(jcheck_bounded(json_object_get(o, "key"), "key", 4, 4, 10, &copy, &d),
			 WARD_EFORMAT);
	assert_int_equal(jcheck_bounded(json_object_get(o, "ok"), "ok", 3, 4, 0, &copy, &d),
			 WARD_EFORMAT); /* "x" is longer than 0 */
	json_decref(o);
}

static void
test_escape_and_hex(void **state)
{
	char out[16];

	(void)state;
	jcheck_escape("ok \x1b[2J\r\n\xff\\", out, sizeof(out));
	assert_string_equal(out, "ok \\x1b[2J...");
	jcheck_escape("plain", out, sizeof(out));
	assert_string_equal(out, "plain");
	jcheck_escape("a\nb\\", out, sizeof(out));
	assert_string_equal(out, "a\\x0ab\\x5c");
	assert_true(jcheck_hex("00ff", 4));
	assert_false(jcheck_hex("00FF", 4));
	assert_false(jcheck_hex("00ff\r\n", 4));
	assert_false(jcheck_hex("00f", 4));
	assert_false(jcheck_hex(NULL, 4));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_string),
	    cmocka_unit_test(test_int),
	    cmocka_unit_test(test_bounded),
	    cmocka_unit_test(test_escape_and_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

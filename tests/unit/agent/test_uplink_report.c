/*
 * Unit tests of agent/uplink_report.c: wardd's check-in report, written
 * from the worker's typed state through report_encode and read back with
 * the server's parser (report_parse).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/uplink_report.h"
#include "content/store.h"
#include "proto/report.h"

/* A store with content 12 (and 11 before it), three refusals and a crash. */
static void
state(struct store_state *st)
{
	memset(st, 0, sizeof(*st));
	st->current = (struct store_entry){1, "default", 12, 1796119200, 1798761600};
	st->lkg = (struct store_entry){1, "default", 11, 1796000000, 1798000000};
	/* applied by hand, no valid signature: no release to name */
	st->rejected[0] = (struct store_reject){0, 1796000100, CAUSE_VALIDATION, "unsigned"};
	st->rejected[1] =
	    (struct store_reject){13, 1796000200, CAUSE_CRASH_GUARD, "crash guard: 3 crashes"};
	/* a reason quoting the refused bundle, a newline and an escape in it */
	st->rejected[2] = (struct store_reject){14, 1796000300, CAUSE_VALIDATION,
						"member \"a\nb\x1b[31m\" is not a relative path"};
	st->nrejected = 3;
	st->crashes[0] = (struct store_crash){13, 1796000150};
	st->ncrashes = 1;
}

/* The report's text, parsed as the server parses it. */
static void
encode_parse(const struct uplink_report_in *in, struct report *r)
{
	json_t *o = uplink_report_encode(in);
	struct ward_diag d;
	char *text;

	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	if (report_parse(text, strlen(text), r, &d) != 0)
		fail_msg("the server refuses the report: %s\n%s", d.msg, text);
	free(text);
	json_decref(o);
}

static void
test_typed_fields(void **unused)
{
	struct store_state st;
	struct uplink_report_in in;
	struct report r;
	json_t *cur;

	(void)unused;
	state(&st);
	memset(&in, 0, sizeof(in));
	in.st = &st;
	in.mode = "protecting";
	in.journal_id = "0123456789abcdef0123456789abcdef";
	in.wait_s = 30;
	in.status = json_object();
	encode_parse(&in, &r);
	assert_string_equal(r.mode, "protecting");
	assert_int_equal(r.current, 12);
	assert_int_equal(r.lkg, 11);
	assert_string_equal(r.current_shown.name, "default");
	assert_int_equal(r.current_shown.activated_at, 1796119200);
	assert_int_equal(r.current_shown.expires, 1798761600);
	assert_int_equal(r.lkg_shown.expires, 1798000000);
	assert_string_equal(r.journal_id, in.journal_id);
	assert_int_equal(r.wait_s, 30);
	/* version 0 is left out: the server would refuse the whole report */
	assert_int_equal(r.nrefusals, 2);
	assert_int_equal(r.refusals[0].version, 13);
	assert_int_equal(r.refusals[0].cause, CAUSE_CRASH_GUARD);
	assert_string_equal(r.refusals[0].reason, "crash guard: 3 crashes");
	/* the quoting reason goes escaped, and still counts with its cause */
	assert_int_equal(r.refusals[1].version, 14);
	assert_int_equal(r.refusals[1].cause, CAUSE_VALIDATION);
	assert_non_null(strstr(r.refusals[1].reason, "a\\x0ab\\x1b[31m"));
	assert_int_equal(r.ncrashes, 1);
	assert_int_equal(r.crashes[0].version, 13);
	assert_int_equal(r.exceptions, 0);
	cur = json_object_get(json_object_get(r.normal, "content"), "current");
	assert_string_equal(json_string_value(json_object_get(cur, "activated_at")),
			    "2026-12-01T10:00:00Z");
	report_free(&r);
	json_decref(in.status);
}

/* A reason the store cut inside a UTF-8 character cannot go as it is. */
static void
test_reason_not_utf8(void **unused)
{
	struct store_state st;
	struct uplink_report_in in;
	struct report r;

	(void)unused;
	state(&st);
	strcpy(st.rejected[1].reason, "refus\xc3"); /* half an é */
	memset(&in, 0, sizeof(in));
	in.st = &st;
	in.mode = "protecting";
	in.journal_id = "j";
	in.status = json_object();
	encode_parse(&in, &r);
	assert_string_equal(r.refusals[0].reason, "refus\\xc3");
	report_free(&r);
	json_decref(in.status);
}

/* The display-only parts of the status go as they are, FIM path lists as
 * counts; the status cannot overwrite a typed field (its "content",
 * "mode", or the exceptions' revisions), and what the server drops
 * ("config", "scanners") is not sent. */
static void
test_display_parts(void **unused)
{
	struct store_state st;
	struct uplink_report_in in;
	struct report r;
	json_t *o, *fim;

	(void)unused;
	state(&st);
	memset(&in, 0, sizeof(in));
	in.st = &st;
	in.mode = "protecting";
	in.journal_id = "j";
	in.exceptions = 1;
	in.exceptions_revision = 5;
	in.exceptions_refused = 6;
	in.cpu_pct = 1.5;
	in.rss_kb = 4096;
	in.status = json_pack(
	    "{s:s, s:{s:I}, s:I, s:s, s:[s], s:{s:{s:{s:[s,s], s:[s]}}}, s:{s:I, s:I, s:I},"
	    " s:{s:s}, s:[]}",
	    "mode", "safe", "content", "current", (json_int_t)99, "uptime_s", (json_int_t)7,
	    "agent_version", "0.1.0", "warnings", "no content installed", "sensors", "fim", "paths",
	    "config", "/etc", "/usr/bin", "content", "/var/www", "exceptions", "local",
	    (json_int_t)2, "fleet_revision", (json_int_t)1, "fleet_refused_revision", (json_int_t)1,
	    "config", "file", "/etc/ward/wardd.yaml", "scanners");
	assert_non_null(in.status);
	o = uplink_report_encode(&in);
	assert_non_null(o);
	assert_null(json_object_get(o, "config"));
	assert_null(json_object_get(o, "scanners"));
	json_decref(o);
	encode_parse(&in, &r);
	assert_string_equal(r.mode, "protecting");
	assert_int_equal(r.current, 12);
	assert_int_equal(r.exceptions, 1);
	assert_int_equal(r.exceptions_revision, 5);
	assert_int_equal(r.exceptions_refused, 6);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r.normal, "exceptions"), "local")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(r.normal, "uptime_s")), 7);
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(r.normal, "warnings"), 0)),
	    "no content installed");
	fim =
	    json_object_get(json_object_get(json_object_get(r.normal, "sensors"), "fim"), "paths");
	assert_int_equal(json_integer_value(json_object_get(fim, "config")), 2);
	assert_int_equal(json_integer_value(json_object_get(fim, "content")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r.normal, "resources"), "rss_kb")),
	    4096);
	report_free(&r);
	json_decref(in.status);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_typed_fields),
	    cmocka_unit_test(test_reason_not_utf8),
	    cmocka_unit_test(test_display_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

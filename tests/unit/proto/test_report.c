/*
 * Unit tests of lib/proto/report.c: agents' check-in reports as the
 * server takes them — bounded, checked, typed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/report.h"

static int
parse(const char *text, struct report *r, struct ward_diag *d)
{
	return report_parse(text, strlen(text), r, d);
}

static void
test_agent_report(void **state)
{
	struct report r;
	struct ward_diag d;
	char *text;

	(void)state;
	assert_int_equal(
	    parse("{\"mode\": \"protecting\", \"content\": {\"current\": {\"name\": \"default\","
		  " \"version\": 3, \"activated_at\": \"2026-12-01T10:00:00Z\", \"expires\":"
		  " \"2027-01-01T00:00:00Z\"}, \"last_known_good\": null, \"rejected\": ["
		  "{\"version\": 4, \"reason\": \"crash guard: the worker crashed 3 times\"},"
		  "{\"version\": 5, \"reason\": \"the fleet server stopped the release of version "
		  "5\"},"
		  "{\"version\": 6, \"reason\": \"validation failed: self-test\", \"cause\":"
		  " \"validation\"},"
		  "{\"version\": 7, \"reason\": \"whatever\", \"cause\": \"crash-guard\"},"
		  "{\"version\": 8, \"reason\": \"crash guard: spoofed\", \"cause\":"
		  " \"fleet-rollback\"},"
		  "{\"version\": 9, \"reason\": \"x\", \"cause\": \"quantum-flux\"},"
		  "{\"version\": 10, \"reason\": \"x\", \"cause\": \"crash guard\"},"
		  "{\"version\": 11, \"reason\": \"x\", \"cause\": \"crash-guard-but-a-very-long-"
		  "name-from-a-newer-agent\"}]},"
		  " \"crashes\": [{\"version\": 4, \"at\": \"2026-12-02T10:00:00Z\"}],"
		  " \"journal_id\": \"abc123\", \"wait_s\": 30, \"sensors\": {\"onaccess\":"
		  " {\"state\": \"on\", \"counters\": {\"events\": 5}}}, \"unknown\": [1, 2, 3]}",
		  &r, &d),
	    0);
	assert_string_equal(r.mode, "protecting");
	assert_int_equal(r.current, 3);
	assert_int_equal(r.lkg, 0);
	assert_int_equal(r.wait_s, 30);
	assert_string_equal(r.journal_id, "abc123");
	assert_int_equal(r.nrefusals, 8);
	/* No cause (an agent older than typed causes): a plain refusal, whatever
	 * its reason's words say. */
	assert_int_equal(r.refusals[0].cause, CAUSE_REFUSED);
	assert_int_equal(r.refusals[1].cause, CAUSE_REFUSED);
	assert_int_equal(r.refusals[2].cause, CAUSE_VALIDATION);
	assert_int_equal(r.refusals[3].cause, CAUSE_CRASH_GUARD);
	assert_int_equal(r.refusals[4].cause, CAUSE_FLEET_ROLLBACK); /* the cause, not the words */
	/* Names this build does not know (a newer agent's): plain refusals. */
	assert_int_equal(r.refusals[5].cause, CAUSE_REFUSED);
	assert_int_equal(r.refusals[6].cause, CAUSE_REFUSED);
	assert_int_equal(r.refusals[7].cause, CAUSE_REFUSED);
	assert_int_equal(r.ncrashes, 1);
	assert_int_equal(r.crashes[0].version, 4);
	/* What is kept: checked fields only; unknown keys dropped. */
	assert_null(json_object_get(r.normal, "unknown"));
	assert_non_null(json_object_get(r.normal, "sensors"));
	text = json_dumps(r.normal, JSON_COMPACT);
	assert_non_null(strstr(text, "\"cause\":\"crash-guard\""));
	assert_non_null(strstr(text, "\"cause\":\"fleet-rollback\""));
	assert_null(strstr(text, "quantum-flux")); /* kept as what it counts as */
	free(text);
	report_free(&r);
	/* Empty is a report (an agent with nothing yet). */
	assert_int_equal(parse("{}", &r, &d), 0);
	assert_int_equal(r.current, 0);
	report_free(&r);
}

static void
test_bounds(void **state)
{
	struct report r;
	struct ward_diag d;
	char *text = malloc(WARD_MAX_CHECKIN_BYTES * 2);
	size_t n;
	int i;

	(void)state;
	/* More refusals than an agent keeps. */
	n = (size_t)sprintf(text, "{\"content\": {\"rejected\": [");
	for (i = 1; i <= WARD_MAX_REPORT_REFUSALS + 1; i++)
		n += (size_t)sprintf(text + n, "%s{\"version\": %d}", i > 1 ? "," : "", i);
	sprintf(text + n, "]}}");
	assert_int_equal(parse(text, &r, &d), WARD_ELIMIT);
	assert_non_null(strstr(d.msg, "more than"));
	/* More crashes. */
	n = (size_t)sprintf(text, "{\"crashes\": [");
	for (i = 1; i <= WARD_MAX_REPORT_CRASHES + 1; i++)
		n += (size_t)sprintf(text + n, "%s{\"version\": %d}", i > 1 ? "," : "", i);
	sprintf(text + n, "]}");
	assert_int_equal(parse(text, &r, &d), WARD_ELIMIT);
	/* Larger than a report. */
	memset(text, ' ', WARD_MAX_CHECKIN_BYTES + 1);
	text[0] = '{';
	text[WARD_MAX_CHECKIN_BYTES] = '}';
	assert_int_equal(report_parse(text, WARD_MAX_CHECKIN_BYTES + 1, &r, &d), WARD_ELIMIT);
	/* Deep display-only parts. */
	assert_int_equal(parse("{\"sensors\": {\"a\": {\"b\": {\"c\": {\"d\": {}}}}}}", &r, &d),
			 WARD_ELIMIT);
	free(text);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"content\": []}",
	    "{\"content\": {\"current\": {\"version\": -1}}}",
	    "{\"content\": {\"current\": {\"version\": 9007199254740993}}}",
	    "{\"content\": {\"current\": 5}}",
	    "{\"content\": {\"rejected\": {\"version\": 1}}}",
	    "{\"content\": {\"rejected\": [{\"version\": \"1\"}]}}",
	    "{\"content\": {\"rejected\": [{\"version\": 0}]}}",
	    "{\"content\": {\"rejected\": [{\"version\": 1, \"reason\": 5}]}}",
	    "{\"content\": {\"rejected\": [{\"version\": 1, \"cause\": 5}]}}",
	    "{\"content\": {\"rejected\": [{\"version\": 1, \"cause\": [\"crash-guard\"]}]}}",
	    "{\"crashes\": [{\"version\": 1.5}]}",
	    "{\"crashes\": [7]}",
	    "{\"mode\": \"protect ing\"}",
	    "{\"journal_id\": \"../../x\"}",
	    "{\"wait_s\": 99999}",
	    "{\"warnings\": [\"a\\u0000b\"]}",
	};
	struct report r;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r, &d) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(r.normal);
	}
}

/* The fleet's exceptions an agent runs: typed (the server decides on the
 * revisions), bounded, optional (an agent before them sends none). */
static void
test_exceptions(void **state)
{
	static const char *const bad[] = {
	    "{\"exceptions\": []}",
	    "{\"exceptions\": {\"fleet_revision\": \"3\"}}",
	    "{\"exceptions\": {\"fleet_revision\": -1}}",
	    "{\"exceptions\": {\"fleet_revision\": 9007199254740993}}",
	    "{\"exceptions\": {\"fleet_refused_revision\": 1.5}}",
	};
	struct report r;
	struct ward_diag d;
	size_t i;

	(void)state;
	assert_int_equal(parse("{\"mode\": \"protecting\"}", &r, &d), 0);
	assert_int_equal(r.exceptions, 0);
	report_free(&r);
	assert_int_equal(parse("{\"exceptions\": {\"local\": 2, \"fleet\": 1,"
			       " \"fleet_revision\": 7, \"fleet_refused_revision\": 9,"
			       " \"fleet_refused\": \"why\"}}",
			       &r, &d),
			 0);
	assert_int_equal(r.exceptions, 1);
	assert_int_equal(r.exceptions_revision, 7);
	assert_int_equal(r.exceptions_refused, 9);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(r.normal, "exceptions"), "local")),
	    2);
	report_free(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r, &d) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(r.normal);
	}
}

/* Encodes r, parses the text back and checks every typed field came back. */
static void
round_trip(const struct report *r)
{
	struct report b;
	struct ward_diag d;
	json_t *o = report_encode(r);
	char *text;
	unsigned i;

	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(text);
	assert_int_equal(report_parse(text, strlen(text), &b, &d), 0);
	assert_string_equal(b.mode, r->mode);
	assert_int_equal(b.current, r->current);
	assert_int_equal(b.lkg, r->lkg);
	assert_string_equal(b.current_shown.name, r->current_shown.name);
	assert_int_equal(b.current_shown.activated_at, r->current_shown.activated_at);
	assert_int_equal(b.current_shown.expires, r->current_shown.expires);
	assert_string_equal(b.lkg_shown.name, r->lkg_shown.name);
	assert_int_equal(b.lkg_shown.activated_at, r->lkg_shown.activated_at);
	assert_int_equal(b.lkg_shown.expires, r->lkg_shown.expires);
	assert_string_equal(b.journal_id, r->journal_id);
	assert_int_equal(b.wait_s, r->wait_s);
	assert_int_equal(b.nrefusals, r->nrefusals);
	for (i = 0; i < r->nrefusals; i++) {
		assert_int_equal(b.refusals[i].version, r->refusals[i].version);
		assert_int_equal(b.refusals[i].cause, r->refusals[i].cause);
		assert_string_equal(b.refusals[i].reason, r->refusals[i].reason);
		assert_string_equal(b.refusals[i].at, r->refusals[i].at);
	}
	assert_int_equal(b.ncrashes, r->ncrashes);
	for (i = 0; i < r->ncrashes; i++) {
		assert_int_equal(b.crashes[i].version, r->crashes[i].version);
		assert_string_equal(b.crashes[i].at, r->crashes[i].at);
	}
	assert_int_equal(b.exceptions, r->exceptions);
	assert_int_equal(b.exceptions_revision, r->exceptions_revision);
	assert_int_equal(b.exceptions_refused, r->exceptions_refused);
	report_free(&b);
	free(text);
	json_decref(o);
}

/* parse(encode(r)) == r: an empty report, a full one with every cause and
 * the most refusals and crashes a report may carry, and a report of an agent
 * that takes the fleet's exceptions. */
static void
test_encode_round_trip(void **state)
{
	struct report r;
	unsigned i;

	(void)state;
	memset(&r, 0, sizeof(r));
	round_trip(&r);

	strcpy(r.mode, "protecting");
	r.current = 41;
	r.lkg = 40;
	strcpy(r.current_shown.name, "default");
	r.current_shown.activated_at = 1796000000;
	r.current_shown.expires = 253402300799;		/* 9999-12-31T23:59:59Z, the last */
	memset(r.lkg_shown.name, 'a', BUNDLE_MAX_NAME); /* the longest name */
	r.lkg_shown.activated_at = 1;			/* the first time after "not sent" */
	strcpy(r.journal_id, "0123abcd");
	r.wait_s = 3600;
	for (i = 0; i < WARD_MAX_REPORT_REFUSALS; i++) {
		r.refusals[i].version = 100 + i;
		r.refusals[i].cause = (enum refusal_cause)(i % CAUSE_N);
		snprintf(r.refusals[i].reason, sizeof(r.refusals[i].reason), "reason \"%u\" é", i);
		if (i % 2)
			strcpy(r.refusals[i].at, "2026-12-06T01:00:00Z");
	}
	r.nrefusals = WARD_MAX_REPORT_REFUSALS;
	for (i = 0; i < WARD_MAX_REPORT_CRASHES; i++) {
		r.crashes[i].version = i; /* 0: a crash with no content */
		strcpy(r.crashes[i].at, "2026-12-06T01:00:01Z");
	}
	r.ncrashes = WARD_MAX_REPORT_CRASHES;
	round_trip(&r);

	strcpy(r.mode, "safe");
	r.current = r.lkg = 0;
	memset(&r.current_shown, 0, sizeof(r.current_shown));
	memset(&r.lkg_shown, 0, sizeof(r.lkg_shown));
	r.nrefusals = r.ncrashes = 0;
	r.exceptions = 1;
	r.exceptions_revision = 7;
	r.exceptions_refused = 8;
	round_trip(&r);
	r.exceptions_revision = r.exceptions_refused = 0;
	round_trip(&r);
}

/* What is shown of the content an agent runs — its name, when it was
 * activated, when it expires — is typed: stored as written from the typed
 * values (what the agent sent is not copied), and a value that is not a
 * bundle name or a UTC time refuses the report instead of being shown. */
static void
test_content_shown(void **state)
{
	static const char *const bad[] = {
	    /* names no bundle has */
	    "{\"content\": {\"current\": {\"version\": 1, \"name\": \"a b\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"name\": \"a:b\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"name\": \"<script>\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"name\": \"a\\nb\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"name\": 5}}}",
	    "{\"content\": {\"last_known_good\": {\"version\": 1, \"name\": "
	    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}}",
	    /* times that are not times */
	    "{\"content\": {\"current\": {\"version\": 1, \"activated_at\": \"yesterday\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"activated_at\": 1796000000}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"expires\": \"2026-13-01T00:00:00Z\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"expires\": \"2027-02-30T00:00:00Z\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"expires\": \"1969-12-31T23:59:59Z\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"expires\": "
	    "\"10000-01-01T00:00:00Z\"}}}",
	    "{\"content\": {\"current\": {\"version\": 1, \"expires\": \"2027-01-01T00:00:00Z "
	    "\"}}}",
	    "{\"content\": {\"last_known_good\": {\"version\": 1, \"expires\": "
	    "\"2027-01-01T00:00:00+01:00\"}}}",
	    /* an entry is a version, or null */
	    "{\"content\": {\"current\": {\"version\": 0, \"name\": \"default\"}}}",
	    "{\"content\": {\"current\": {\"name\": \"default\"}}}",
	};
	struct report r;
	struct ward_diag d;
	json_t *cur;
	size_t i;

	(void)state;
	assert_int_equal(
	    parse("{\"content\": {\"current\": {\"name\": \"fleet-1.2_x\", \"version\": "
		  "7, \"activated_at\": \"2026-12-01T10:00:00Z\", \"expires\": "
		  "\"2027-01-01T00:00:00Z\"}, \"last_known_good\": {\"version\": 6}}}",
		  &r, &d),
	    0);
	assert_int_equal(r.current, 7);
	assert_string_equal(r.current_shown.name, "fleet-1.2_x");
	assert_int_equal(r.current_shown.activated_at, 1796119200);
	assert_int_equal(r.current_shown.expires, 1798761600);
	/* What is not sent is empty, and stored as empty strings: one shape. */
	assert_int_equal(r.lkg, 6);
	assert_string_equal(r.lkg_shown.name, "");
	assert_int_equal(r.lkg_shown.activated_at, 0);
	cur = json_object_get(json_object_get(r.normal, "content"), "current");
	assert_string_equal(json_string_value(json_object_get(cur, "name")), "fleet-1.2_x");
	assert_string_equal(json_string_value(json_object_get(cur, "activated_at")),
			    "2026-12-01T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(cur, "expires")),
			    "2027-01-01T00:00:00Z");
	assert_int_equal(json_integer_value(json_object_get(cur, "version")), 7);
	cur = json_object_get(json_object_get(r.normal, "content"), "last_known_good");
	assert_string_equal(json_string_value(json_object_get(cur, "name")), "");
	assert_string_equal(json_string_value(json_object_get(cur, "expires")), "");
	report_free(&r);
	/* A time is read, then written: the stored text is the typed value's. */
	assert_int_equal(parse("{\"content\": {\"current\": {\"version\": 2, \"expires\": "
			       "\"2026-06-15T12:00:60Z\"}}}",
			       &r, &d),
			 0);
	cur = json_object_get(json_object_get(r.normal, "content"), "current");
	assert_string_equal(json_string_value(json_object_get(cur, "expires")),
			    "2026-06-15T12:01:00Z");
	report_free(&r);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &r, &d) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_null(r.normal);
		/* the refusal names the entry, for the server's 400 and its log */
		if (strncmp(d.msg, "content.current", 15) != 0 &&
		    strncmp(d.msg, "content.last_known_good", 23) != 0)
			fail_msg("%s: %s", bad[i], d.msg);
	}
}

/* What report_encode is given that a report cannot carry (a name no bundle
 * has, a time past 9999) is left out, not sent: one bad field must not make
 * the server refuse every check-in of the agent. */
static void
test_encode_leaves_out(void **state)
{
	struct report r, b;
	struct ward_diag d;
	json_t *o;
	char *text;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.current = 3;
	strcpy(r.current_shown.name, "bad name");
	r.current_shown.activated_at = 253402300800; /* year 10000 */
	r.current_shown.expires = -5;
	o = report_encode(&r);
	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT);
	assert_int_equal(report_parse(text, strlen(text), &b, &d), 0);
	assert_int_equal(b.current, 3);
	assert_string_equal(b.current_shown.name, "");
	assert_int_equal(b.current_shown.activated_at, 0);
	assert_int_equal(b.current_shown.expires, 0);
	report_free(&b);
	free(text);
	json_decref(o);
}

/* The display-only parts an agent adds to the encoding are the ones the
 * server keeps; the typed ones are not among them. */
static void
test_display_keys(void **state)
{
	(void)state;
	assert_true(report_display_key("sensors"));
	assert_true(report_display_key("resources"));
	assert_true(report_display_key("warnings"));
	assert_true(report_display_key("exceptions"));
	assert_false(report_display_key("content"));
	assert_false(report_display_key("mode"));
	assert_false(report_display_key("crashes"));
	assert_false(report_display_key("config"));
	assert_false(report_display_key(""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agent_report),      cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_malformed),	      cmocka_unit_test(test_exceptions),
	    cmocka_unit_test(test_encode_round_trip), cmocka_unit_test(test_content_shown),
	    cmocka_unit_test(test_encode_leaves_out), cmocka_unit_test(test_display_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

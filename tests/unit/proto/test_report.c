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
	r.nrefusals = r.ncrashes = 0;
	r.exceptions = 1;
	r.exceptions_revision = 7;
	r.exceptions_refused = 8;
	round_trip(&r);
	r.exceptions_revision = r.exceptions_refused = 0;
	round_trip(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agent_report),      cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_malformed),	      cmocka_unit_test(test_exceptions),
	    cmocka_unit_test(test_encode_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of lib/proto/checkin.c: the fleet server's answer to a
 * check-in, taken by an agent that does not trust the server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/checkin.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int
parse(const char *text, struct checkin_answer *a, struct ward_diag *d)
{
	return checkin_answer_parse(text, strlen(text), a, d);
}

/* The answer ward-server sends today, every field typed. */
static void
test_server_answer(void **state)
{
	struct checkin_answer a;
	struct ward_diag d;

	(void)state;
	assert_int_equal(
	    parse("{\"next_checkin_s\": 30, \"events_acked\": 12, \"config\": "
		  "{\"checkin_interval_s\": 30, \"events_batch_max\": 500}, \"desired\": "
		  "{\"version\": 7, \"sha256\": \"" SHA "\", \"size\": 1000, \"url\": "
		  "\"/api/v1/bundles/" SHA "\"}, \"exceptions\": {\"revision\": 3, \"list\": []},"
		  " \"unknown\": [1]}",
		  &a, &d),
	    0);
	assert_int_equal(a.next_checkin_s, 30);
	assert_int_equal(a.events_acked, 12);
	assert_int_equal(a.checkin_interval_s, 30);
	assert_int_equal(a.events_batch_max, 500);
	assert_int_equal(a.desired_state, CHECKIN_DESIRED_OK);
	assert_int_equal(a.desired.version, 7);
	assert_int_equal(a.desired.size, 1000);
	assert_string_equal(a.desired.sha256, SHA);
	assert_non_null(a.exceptions);
	checkin_answer_free(&a);

	assert_int_equal(parse("{\"next_checkin_s\": 0, \"desired\": null}", &a, &d), 0);
	assert_int_equal(a.desired_state, CHECKIN_DESIRED_NONE);
	assert_int_equal(a.events_acked, 0);
	assert_null(a.exceptions);
	checkin_answer_free(&a);

	assert_int_equal(
	    parse("{\"next_checkin_s\": 5, \"desired\": {\"rollback_from\": 9}}", &a, &d), 0);
	assert_int_equal(a.desired_state, CHECKIN_DESIRED_OK);
	assert_int_equal(a.desired.rollback_from, 9);
	assert_int_equal(a.desired.version, 0);
	checkin_answer_free(&a);
}

/* A hostile server: wrong types and ranges refuse the answer whole; a bad
 * desired refuses only what it offers, with nothing of it kept. */
static void
test_hostile(void **state)
{
	static const char *const bad[] = {
	    "[]",
	    "{\"next_checkin_s\": 30",
	    "{}", /* next_checkin_s is required */
	    "{\"next_checkin_s\": -1}",
	    "{\"next_checkin_s\": 86401}",
	    "{\"next_checkin_s\": \"30\"}",
	    "{\"next_checkin_s\": 30.5}",
	    "{\"next_checkin_s\": 30, \"events_acked\": -5}",
	    "{\"next_checkin_s\": 30, \"events_acked\": true}",
	    "{\"next_checkin_s\": 30, \"config\": []}",
	    "{\"next_checkin_s\": 30, \"config\": {\"events_batch_max\": 0}}",
	    "{\"next_checkin_s\": 30, \"config\": {\"events_batch_max\": 1000000}}",
	    "{\"next_checkin_s\": 30, \"config\": {\"checkin_interval_s\": 99999999999}}",
	    "{\"next_checkin_s\": 30, \"exceptions\": [1]}",
	    "{\"next_checkin_s\": 30, \"next_checkin_s\": 1}",
	    NULL};
	static const char *const bad_desired[] = {
	    "{\"next_checkin_s\": 30, \"desired\": 7}",
	    "{\"next_checkin_s\": 30, \"desired\": {\"version\": 7}}",
	    "{\"next_checkin_s\": 30, \"desired\": {\"version\": 7, \"sha256\": \"" SHA
	    "\", \"size\": 10, \"url\": \"http://evil/" SHA "\"}}",
	    "{\"next_checkin_s\": 30, \"desired\": {\"version\": 7, \"sha256\": \"../../etc\", "
	    "\"size\": 10, \"url\": \"/api/v1/bundles/../../etc\"}}",
	    "{\"next_checkin_s\": 30, \"desired\": {\"version\": 7, \"sha256\": \"" SHA
	    "\", \"size\": 0, \"url\": \"/api/v1/bundles/" SHA "\"}}",
	    "{\"next_checkin_s\": 30, \"desired\": {\"rollback_from\": -1}}",
	    NULL};
	struct checkin_answer a;
	struct ward_diag d;
	char *big;
	unsigned i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		assert_int_not_equal(parse(bad[i], &a, &d), 0);
		assert_null(a.exceptions);
	}
	for (i = 0; bad_desired[i] != NULL; i++) {
		assert_int_equal(parse(bad_desired[i], &a, &d), 0);
		assert_int_equal(a.next_checkin_s, 30);
		assert_int_equal(a.desired_state, CHECKIN_DESIRED_BAD);
		assert_true(a.desired_why[0] != '\0');
		assert_int_equal(a.desired.version, 0);
		assert_int_equal(a.desired.url[0], '\0');
		checkin_answer_free(&a);
	}
	big = malloc(CHECKIN_MAX_BYTES + 2);
	assert_non_null(big);
	memset(big, ' ', CHECKIN_MAX_BYTES + 1);
	big[0] = '{';
	memcpy(big + CHECKIN_MAX_BYTES - 1, "}", 2);
	assert_int_equal(checkin_answer_parse(big, CHECKIN_MAX_BYTES + 1, &a, &d), WARD_ELIMIT);
	free(big);
}

/* checkin_answer_check(encode(a)) gives a back. */
static void
test_encode_round_trip(void **state)
{
	struct checkin_answer a, b;
	struct ward_diag d;
	json_t *o;

	(void)state;
	memset(&a, 0, sizeof(a));
	o = checkin_answer_encode(&a);
	assert_non_null(o);
	assert_int_equal(checkin_answer_check(o, &b, &d), 0);
	assert_int_equal(b.desired_state, CHECKIN_DESIRED_NONE);
	assert_int_equal(b.checkin_interval_s, 0);
	json_decref(o);

	a.next_checkin_s = CHECKIN_MAX_INTERVAL_S;
	a.events_acked = INT64_MAX;
	a.checkin_interval_s = 60;
	a.events_batch_max = CHECKIN_MAX_BATCH;
	a.desired_state = CHECKIN_DESIRED_OK;
	a.desired.version = 42;
	a.desired.size = 4096;
	strcpy(a.desired.sha256, SHA);
	strcpy(a.desired.url, "/api/v1/bundles/" SHA);
	a.exceptions = json_pack("{s:i, s:[]}", "revision", 4, "list");
	o = checkin_answer_encode(&a);
	assert_non_null(o);
	assert_int_equal(checkin_answer_check(o, &b, &d), 0);
	assert_int_equal(b.next_checkin_s, a.next_checkin_s);
	assert_int_equal(b.events_acked, a.events_acked);
	assert_int_equal(b.checkin_interval_s, 60);
	assert_int_equal(b.events_batch_max, CHECKIN_MAX_BATCH);
	assert_int_equal(b.desired_state, CHECKIN_DESIRED_OK);
	assert_memory_equal(&b.desired, &a.desired, sizeof(a.desired));
	assert_true(json_equal(b.exceptions, a.exceptions));
	checkin_answer_free(&b);
	json_decref(o);

	memset(&a.desired, 0, sizeof(a.desired));
	a.desired.rollback_from = 41;
	o = checkin_answer_encode(&a);
	assert_int_equal(checkin_answer_check(o, &b, &d), 0);
	assert_int_equal(b.desired_state, CHECKIN_DESIRED_OK);
	assert_int_equal(b.desired.rollback_from, 41);
	assert_int_equal(b.desired.version, 0);
	checkin_answer_free(&b);
	json_decref(o);
	checkin_answer_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server_answer),
	    cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_encode_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

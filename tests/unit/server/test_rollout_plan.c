/*
 * Unit tests of server/rollout's plans (the engine is test_rollout.c's):
 * the documented plan, refusals with a message, a ring that is not an
 * object, the default plan and others through rollout_plan_json and back
 * (names cut in whole characters).  Plans are pure: no database here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/rollout.h"

static void
parse(const char *text, struct plan *p)
{
	struct ward_diag d;

	if (rollout_parse_plan(text, strlen(text), p, &d) != 0)
		fail_msg("%s: %s", text, d.msg);
}

static const char documented[] =
    "{\"rings\": [\n"
    "   {\"name\": \"canary\", \"percent\": 1,  \"min\": 1, \"max\": 50, \"soak_s\": 900},\n"
    "   {\"name\": \"early\",  \"percent\": 10, \"soak_s\": 1800},\n"
    "   {\"name\": \"broad\",  \"percent\": 50, \"soak_s\": 3600},\n"
    "   {\"name\": \"all\",    \"percent\": 100, \"soak_s\": 0}],\n"
    " \"gate\": {\"min_active_pct\": 95, \"max_crash_rollbacks\": 0, \"max_rejections\": 0,\n"
    "          \"silent_checkins\": 3, \"alert_factor\": 10, \"alert_min\": 20}}\n";

static void
assert_plans_equal(const struct plan *a, const struct plan *b)
{
	unsigned i, k;

	assert_int_equal(a->nrings, b->nrings);
	for (i = 0; i < a->nrings; i++) {
		assert_string_equal(a->rings[i].name, b->rings[i].name);
		assert_int_equal(a->rings[i].ngroups, b->rings[i].ngroups);
		for (k = 0; k < a->rings[i].ngroups; k++)
			assert_string_equal(a->rings[i].groups[k], b->rings[i].groups[k]);
		assert_true(a->rings[i].percent == b->rings[i].percent);
		assert_int_equal(a->rings[i].min, b->rings[i].min);
		assert_int_equal(a->rings[i].max, b->rings[i].max);
		assert_int_equal(a->rings[i].soak_s, b->rings[i].soak_s);
	}
	assert_true(a->gate.min_active_pct == b->gate.min_active_pct);
	for (i = 0; i < GATE_NKINDS; i++) {
		assert_int_equal(a->gate.max[i], b->gate.max[i]);
		assert_true(a->gate.max_pct[i] == b->gate.max_pct[i]);
	}
	assert_int_equal(a->gate.silent_checkins, b->gate.silent_checkins);
	assert_true(a->gate.alert_factor == b->gate.alert_factor);
	assert_int_equal(a->gate.alert_min, b->gate.alert_min);
	assert_int_equal(a->gate.stall_s, b->gate.stall_s);
	assert_int_equal(a->gate.on_stall_continue, b->gate.on_stall_continue);
}

static void
test_parse_plan(void **state)
{
	struct plan p, def;

	(void)state;
	parse(documented, &p);
	assert_int_equal(p.nrings, 4);
	assert_string_equal(p.rings[0].name, "canary");
	assert_true(p.rings[0].percent == 1);
	assert_int_equal(p.rings[0].min, 1);
	assert_int_equal(p.rings[0].max, 50);
	assert_int_equal(p.rings[0].soak_s, 900);
	assert_int_equal(p.rings[0].ngroups, 0);
	assert_string_equal(p.rings[1].name, "early");
	assert_true(p.rings[1].percent == 10);
	assert_int_equal(p.rings[1].min, 0);
	assert_int_equal(p.rings[1].max, 0);
	assert_int_equal(p.rings[2].soak_s, 3600);
	assert_string_equal(p.rings[3].name, "all");
	assert_true(p.rings[3].percent == 100);
	assert_true(p.gate.min_active_pct == 95);
	assert_int_equal(p.gate.max[GATE_CRASH], 0);
	assert_int_equal(p.gate.max[GATE_REFUSED], 0);
	assert_true(p.gate.max_pct[GATE_CRASH] == 1);
	assert_true(p.gate.max_pct[GATE_SILENT] == 1);
	assert_int_equal(p.gate.silent_checkins, 3);
	assert_true(p.gate.alert_factor == 10);
	assert_int_equal(p.gate.alert_min, 20);
	/* The documented plan is the default plan. */
	rollout_default_plan(&def);
	assert_plans_equal(&p, &def);

	/* Groups; a ring without a name is named by its place; a missing
	 * gate, or missing gate keys, keep the defaults. */
	parse("{\"rings\": [{\"name\": \"c\", \"groups\": [\"canary-hosts\", \"qa\"],"
	      " \"soak_s\": 60}, {\"percent\": 100}],"
	      " \"gate\": {\"max_rejections\": 2, \"alert_factor\": 2.5}}",
	      &p);
	assert_int_equal(p.nrings, 2);
	assert_int_equal(p.rings[0].ngroups, 2);
	assert_string_equal(p.rings[0].groups[0], "canary-hosts");
	assert_string_equal(p.rings[0].groups[1], "qa");
	assert_true(p.rings[0].percent == 0);
	assert_int_equal(p.rings[0].soak_s, 60);
	assert_string_equal(p.rings[1].name, "ring1");
	assert_int_equal(p.rings[1].soak_s, 0);
	assert_int_equal(p.gate.max[GATE_REFUSED], 2);
	assert_true(p.gate.alert_factor == 2.5);
	assert_true(p.gate.min_active_pct == 95);
	assert_int_equal(p.gate.silent_checkins, 3);
	assert_int_equal(p.gate.alert_min, 20);
	/* A ring without percent or groups takes everyone left. */
	parse("{\"rings\": [{}]}", &p);
	assert_true(p.rings[0].percent == 100);
}

static void
test_parse_plan_errors(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *msg;
	} cases[] = {
	    {"{\"rings\": [{\"percent\": 10}], \"extra\": 1}", WARD_EINVAL,
	     "plan: unknown key \"extra\""},
	    {"{\"rings\": [{\"percent\": 10, \"pct\": 5}]}", WARD_EINVAL,
	     "ring: unknown key \"pct\""},
	    {"{\"rings\": [{\"percent\": 10}], \"gate\": {\"max_crashes\": 1}}", WARD_EINVAL,
	     "gate: unknown key \"max_crashes\""},
	    {"{\"rings\": []}", WARD_EINVAL, "1 to 16 rings"},
	    {"{}", WARD_EINVAL, "1 to 16 rings"},
	    {"{\"rings\": {\"name\": \"all\"}}", WARD_EINVAL, "1 to 16 rings"},
	    {"[1, 2]", WARD_EINVAL, "1 to 16 rings"},
	    {"{\"rings\": [{\"percent\": 101}]}", WARD_EINVAL,
	     "\"percent\" must be a number from 0 to 100"},
	    {"{\"rings\": [{\"percent\": -1}]}", WARD_EINVAL, "\"percent\" must be a number"},
	    {"{\"rings\": [{\"percent\": \"10\"}]}", WARD_EINVAL, "\"percent\" must be a number"},
	    {"{\"rings\": [{\"min\": -1}]}", WARD_EINVAL, "\"min\" must be a number"},
	    {"{\"rings\": [{\"max\": true}]}", WARD_EINVAL, "\"max\" must be a number"},
	    {"{\"rings\": [{\"soak_s\": 2592001}]}", WARD_EINVAL, "\"soak_s\" must be a number"},
	    {"{\"rings\": [{\"groups\": \"web\"}]}", WARD_EINVAL, "\"groups\" is a list"},
	    {"{\"rings\": [{\"groups\": [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"]}]}",
	     WARD_EINVAL, "\"groups\" is a list of at most 8"},
	    {"{\"rings\": [{\"groups\": [\"web\", 7]}]}", WARD_EINVAL, "group names are strings"},
	    {"{\"rings\": [{}], \"gate\": []}", WARD_EINVAL, "\"gate\" is an object"},
	    {"{\"rings\": [{}], \"gate\": {\"min_active_pct\": 101}}", WARD_EINVAL,
	     "\"min_active_pct\" must be a number from 0 to 100"},
	    {"{\"rings\": [{}], \"gate\": {\"silent_checkins\": 0}}", WARD_EINVAL,
	     "\"silent_checkins\" must be a number from 1"},
	    {"{\"rings\": [{}], \"gate\": {\"alert_factor\": 0.5}}", WARD_EINVAL,
	     "\"alert_factor\" must be a number from 1"},
	    {"{\"rings\": [{}], \"gate\": {\"alert_min\": 0}}", WARD_EINVAL,
	     "\"alert_min\" must be a number from 1"},
	    {"{\"rings\": [{}], \"gate\": {\"max_rejections\": -1}}", WARD_EINVAL,
	     "\"max_rejections\" must be a number"},
	    {"{\"rings\": [{}], \"gate\": {\"max_crash_rollbacks\": \"no\"}}", WARD_EINVAL,
	     "\"max_crash_rollbacks\" must be a number"},
	    {"{\"rings\": [", WARD_ESYNTAX, ""},
	    {"", WARD_ESYNTAX, ""},
	    {"{\"rings\": [{}], \"rings\": [{}]}", WARD_ESYNTAX, "duplicate"},
	};
	char text[2048];
	struct plan p;
	struct ward_diag d;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		diag_clear(&d);
		r = rollout_parse_plan(cases[i].text, strlen(cases[i].text), &p, &d);
		if (r != cases[i].err || strstr(d.msg, cases[i].msg) == NULL || d.msg[0] == '\0')
			fail_msg("case %zu (%s): got %d \"%s\"", i, cases[i].text, r, d.msg);
	}

	/* 16 rings at most. */
	for (n = 16; n <= 17; n++) {
		int k;

		snprintf(text, sizeof(text), "{\"rings\": [");
		for (k = 0; k < n; k++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
				 "%s{\"percent\": %d}", k ? ", " : "", k + 1);
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "]}");
		diag_clear(&d);
		if (n == 16) {
			assert_int_equal(rollout_parse_plan(text, strlen(text), &p, &d), 0);
			assert_int_equal(p.nrings, 16);
			assert_true(p.rings[15].percent == 16);
		} else {
			assert_int_equal(rollout_parse_plan(text, strlen(text), &p, &d),
					 WARD_EINVAL);
			assert_non_null(strstr(d.msg, "1 to 16 rings"));
		}
	}
	/* The text is (pointer, length): what follows is not read. */
	assert_int_equal(rollout_parse_plan("{\"rings\": [{}]} trailing", 15, &p, &d), 0);
}

/* Every ring of a plan must be a ring: anything else is refused, never
 * dropped with the rings after it. */
static void
test_parse_plan_ring_not_object(void **state)
{
	static const char *const texts[] = {
	    "{\"rings\": [5]}",
	    "{\"rings\": [\"canary\"]}",
	    "{\"rings\": [{\"percent\": 10}, null, {\"percent\": 100}]}",
	};
	struct plan p;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		diag_clear(&d);
		if (rollout_parse_plan(texts[i], strlen(texts[i]), &p, &d) == 0)
			fail_msg("accepted %s (%u rings)", texts[i], p.nrings);
		assert_true(d.msg[0] != '\0');
	}
}

static void
round_trip(const struct plan *p)
{
	json_t *j = rollout_plan_json(p);
	char *text;
	struct plan back;

	assert_non_null(j);
	text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(text);
	parse(text, &back);
	free(text);
	assert_plans_equal(p, &back);
}

static void
test_plan_json_round_trip(void **state)
{
	struct plan p;

	(void)state;
	rollout_default_plan(&p); /* the documented plan: test_parse_plan */
	round_trip(&p);

	parse("{\"rings\": [{\"name\": \"c\", \"groups\": [\"canary-hosts\", \"qa\"],"
	      " \"soak_s\": 60},"
	      " {\"name\": \"half\", \"percent\": 12.5, \"min\": 2, \"max\": 7, \"soak_s\": 1},"
	      " {\"percent\": 100}],"
	      " \"gate\": {\"min_active_pct\": 80.5, \"max_crash_rollbacks\": 3,"
	      " \"max_rejections\": 4, \"silent_checkins\": 5, \"alert_factor\": 6.25,"
	      " \"alert_min\": 7}}",
	      &p);
	round_trip(&p);

	/* A name longer than its field, cut inside a two-, three- or
	 * four-byte character: the cut drops the partial character, so the
	 * stored plan still holds every ring (it lost the ring before). */
	parse("{\"rings\": [{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\", \"percent\": 10},"
	      " {\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u20ac\", \"percent\": 50},"
	      " {\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaa\\ud83d\\ude00\", \"percent\": 100}]}",
	      &p);
	assert_int_equal(p.nrings, 3);
	assert_string_equal(p.rings[0].name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_string_equal(p.rings[1].name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_string_equal(p.rings[2].name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	round_trip(&p);
	/* a whole character that fits is kept */
	parse(
	    "{\"rings\": [{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\", \"percent\": 100}]}",
	    &p);
	assert_string_equal(p.rings[0].name, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xc3\xa9");
	round_trip(&p);
}

/* --- rings ----------------------------------------------------------------- */

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_plan),
	    cmocka_unit_test(test_parse_plan_errors),
	    cmocka_unit_test(test_parse_plan_ring_not_object),
	    cmocka_unit_test(test_plan_json_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

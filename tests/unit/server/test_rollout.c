/*
 * Unit tests of server/rollout's engine on an in-memory SQLite database
 * (its plans are test_rollout_plan.c's): rings (a percentage with min and
 * max, or the agents of named groups, from their enrollment tokens), a ring that
 * advances after its soak, a halt on a refusal or a crash, one release at
 * a time and versions only upwards, pause/resume/promote/abort, pins and
 * freeze in what rollout_desired tells an agent.
 *
 * rollout_tick takes the time as a parameter; it also reads the clock in
 * milliseconds to order check-ins after assignments, so a test that wants
 * a check-in to count sleeps a few milliseconds first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/rollout.h"
#include "util/clock.h"
#include "server/store.h"

#define NOW 1700000000
#define INTERVAL 30
#define MAX_AGENTS 32

struct fleet {
	struct db *db;
	char ids[MAX_AGENTS][STORE_ID_LEN + 1];
	char groups[MAX_AGENTS][64];
	int n;
};

static int
setup(void **state)
{
	struct fleet *f = calloc(1, sizeof(*f));
	struct ward_diag d;

	if (f == NULL)
		return -1;
	if (db_open("sqlite::memory:", &f->db, &d) != 0 || store_migrate(f->db, &d) != 0) {
		db_close(f->db);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fleet *f = *state;

	db_close(f->db);
	free(f);
	return 0;
}

/* Enrolls n agents with a token of group. */
static void
enroll(struct fleet *f, const char *group, int n)
{
	char t[STORE_SECRET_LEN + 1], m[32], h[32];
	struct enroll_res res;
	struct ward_diag d;
	int i;

	assert_int_equal(store_token_create(f->db, group, 0, 0, NOW - 100, t, &d), 0);
	for (i = 0; i < n; i++) {
		struct enroll_msg q;

		assert_true(f->n < MAX_AGENTS);
		snprintf(m, sizeof(m), "machine-%d", f->n);
		snprintf(h, sizeof(h), "hw-%d", f->n);
		memset(&q, 0, sizeof(q));
		snprintf(q.token, sizeof(q.token), "%s", t);
		snprintf(q.machine_id, sizeof(q.machine_id), "%s", m);
		snprintf(q.hw_id, sizeof(q.hw_id), "%s", h);
		snprintf(q.hostname, sizeof(q.hostname), "host");
		snprintf(q.version, sizeof(q.version), "0.1.0");
		assert_int_equal(store_enroll(f->db, &q, "-", NOW - 100, &res, &d), 0);
		assert_string_equal(res.group, group);
		snprintf(f->ids[f->n], sizeof(f->ids[0]), "%s", res.agent_id);
		snprintf(f->groups[f->n], sizeof(f->groups[0]), "%s", group);
		f->n++;
	}
}

/* Stores a bundle of version v (any bytes: rollout does not look inside)
 * under a made-up sha256. */
static void
bundle(struct fleet *f, long long v, char sha[65])
{
	unsigned char bytes[5] = {'W', 0, (unsigned char)v, 0xff, 0};
	struct ward_diag d;

	snprintf(sha, 65, "%064llx", 0xb0000 + v);
	assert_int_equal(store_bundle_put(f->db, sha, "default", v, bytes, sizeof(bytes), NOW, &d),
			 0);
}

static void
parse(const char *text, struct plan *p)
{
	struct ward_diag d;

	if (rollout_parse_plan(text, strlen(text), p, &d) != 0)
		fail_msg("%s: %s", text, d.msg);
}

static long long
create(struct fleet *f, const char *sha, const char *plan, int64_t now)
{
	struct plan p;
	struct ward_diag d;
	long long id = -1;

	parse(plan, &p);
	if (rollout_create(f->db, sha, &p, now, &id, &d) != 0)
		fail_msg("rollout_create: %s", d.msg);
	return id;
}

static void
tick(struct fleet *f, int64_t now)
{
	struct ward_diag d;

	if (rollout_tick(f->db, now, INTERVAL, &d) != 0)
		fail_msg("rollout_tick: %s", d.msg);
}

static long long
scalar(struct fleet *f, const char *sql, long long a, long long b)
{
	char x[24], y[24], v[32];
	const char *p[2] = {x, y};
	struct ward_diag d;

	snprintf(x, sizeof(x), "%lld", a);
	snprintf(y, sizeof(y), "%lld", b);
	if (db_scalar(f->db, sql, p, 2, v, sizeof(v), &d) != 0)
		fail_msg("%s: %s", sql, d.msg);
	return atoll(v);
}

/* Agents of release id in ring (-1: any ring). */
static long long
in_ring(struct fleet *f, long long id, long long ring)
{
	return scalar(f,
		      "SELECT count(*) FROM release_agents WHERE release_id = $1"
		      " AND (CAST($2 AS BIGINT) < 0 OR ring = $2)",
		      id, ring);
}

static int
assigned(struct fleet *f, long long id, int agent)
{
	const char *p[2];
	char rid[24], v[8];
	struct ward_diag d;

	snprintf(rid, sizeof(rid), "%lld", id);
	p[0] = rid;
	p[1] = f->ids[agent];
	assert_int_equal(db_scalar(f->db,
				   "SELECT count(*) FROM release_agents WHERE release_id = $1 AND"
				   " agent_id = $2",
				   p, 2, v, sizeof(v), &d),
			 0);
	return atoi(v);
}

static json_t *
release(struct fleet *f, long long id)
{
	struct ward_diag d;
	json_t *r = NULL;

	if (rollout_release(f->db, id, &r, &d) != 0)
		fail_msg("rollout_release: %s", d.msg);
	return r;
}

static const char *
state_of(struct fleet *f, long long id, char out[16])
{
	json_t *r = release(f, id);

	snprintf(out, 16, "%s", json_string_value(json_object_get(r, "state")));
	json_decref(r);
	return out;
}

/* The version rollout_desired tells agent i: 0 if none (NULL).  As the
 * API does, the answer counts as delivered. */
static long long
desired(struct fleet *f, int i, long long *rollback_from)
{
	struct ward_diag d;
	json_t *o = NULL;
	long long v, deliver = 0;

	if (rollout_desired(f->db, f->ids[i], f->groups[i], &o, &deliver, &d) != 0)
		fail_msg("rollout_desired: %s", d.msg);
	if (deliver > 0 && rollout_delivered(f->db, deliver, f->ids[i], &d) != 0)
		fail_msg("rollout_delivered: %s", d.msg);
	if (rollback_from != NULL)
		*rollback_from = json_integer_value(json_object_get(o, "rollback_from"));
	v = json_integer_value(json_object_get(o, "version"));
	json_decref(o);
	return v;
}

/* A check-in of agent i as the API takes it: the report parsed and
 * checked, stored, and what it says against a release recorded. */
static void
checkin(struct fleet *f, int i, int64_t now, long long version, const char *report)
{
	struct ward_diag d;
	struct report rep;
	long long acked;

	if (report_parse(report, strlen(report), &rep, &d) != 0)
		fail_msg("report_parse: %s", d.msg);
	assert_int_equal(
	    store_checkin(f->db, f->ids[i], now, report, version, "protect", "j", 0, &acked, &d),
	    0);
	if (rollout_observe(f->db, f->ids[i], &rep, &d) != 0)
		fail_msg("rollout_observe: %s", d.msg);
	report_free(&rep);
}

#define ONE_RING "{\"rings\": [{\"name\": \"all\", \"percent\": 100, \"soak_s\": 0}]}"

/* Takes a release of version through to completed: its agents take it
 * and say so (a ring passes only on that evidence). */
static void
complete(struct fleet *f, const char *sha, long long version, int64_t now)
{
	long long id = create(f, sha, ONE_RING, now);
	char st[16], report[128];
	int a;

	tick(f, now);
	usleep(2000); /* (check-ins after the assignment, by the millisecond) */
	snprintf(report, sizeof(report), "{\"content\": {\"current\": {\"version\": %lld}}}",
		 version);
	for (a = 0; a < f->n; a++)
		if (desired(f, a, NULL) == version)
			checkin(f, a, now, version, report);
	tick(f, now + 1);
	assert_string_equal(state_of(f, id, st), "completed");
}

static void
test_ring0_percent(void **state)
{
	static const struct {
		const char *plan;
		long long want;
	} cases[] = {
	    {"{\"rings\": [{\"percent\": 10, \"min\": 3, \"soak_s\": 60}, {\"percent\": 100}]}", 3},
	    {"{\"rings\": [{\"percent\": 25, \"soak_s\": 60}, {\"percent\": 100}]}", 3},
	    {"{\"rings\": [{\"percent\": 50, \"max\": 2, \"soak_s\": 60}, {}]}", 2},
	    {"{\"rings\": [{\"percent\": 1, \"min\": 1, \"max\": 50, \"soak_s\": 60}, {}]}", 1},
	    {"{\"rings\": [{\"percent\": 5, \"min\": 20, \"soak_s\": 60}, {}]}", 10},
	    {"{\"rings\": [{\"percent\": 100, \"soak_s\": 60}]}", 10},
	};
	struct fleet *f = *state;
	char sha[65], st[16];
	struct ward_diag d;
	size_t i;
	int a, got;

	enroll(f, "", 10);
	bundle(f, 1, sha);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long id = create(f, sha, cases[i].plan, NOW);
		json_t *r = release(f, id);

		/* Nothing is assigned before the engine looks. */
		assert_int_equal(json_integer_value(json_object_get(r, "ring")), -1);
		json_decref(r);
		assert_int_equal(in_ring(f, id, -1), 0);
		tick(f, NOW);
		if (in_ring(f, id, 0) != cases[i].want)
			fail_msg("case %zu: ring 0 has %lld agents", i, in_ring(f, id, 0));
		/* Within the soak nothing more happens. */
		tick(f, NOW + 59);
		assert_int_equal(in_ring(f, id, -1), cases[i].want);
		r = release(f, id);
		assert_int_equal(json_integer_value(json_object_get(r, "ring")), 0);
		assert_string_equal(json_string_value(json_object_get(r, "ring_name")), "ring0");
		json_decref(r);
		/* Exactly the ring's agents are told to run version 1. */
		for (a = got = 0; a < f->n; a++) {
			long long v = desired(f, a, NULL);

			assert_int_equal(v, assigned(f, id, a) ? 1 : 0);
			got += v == 1;
		}
		assert_int_equal(got, cases[i].want);
		assert_int_equal(rollout_action(f->db, id, "abort", "test", NOW, &d), 0);
		assert_string_equal(state_of(f, id, st), "aborted");
	}
}

static void
test_ring0_groups(void **state)
{
	struct fleet *f = *state;
	char sha[65];
	struct ward_diag d;
	long long id;
	int a;
	json_t *o = NULL;
	long long deliver = 0;

	enroll(f, "", 5);
	enroll(f, "canary-hosts", 3);
	enroll(f, "db", 2);
	bundle(f, 1, sha);
	id = create(f, sha,
		    "{\"rings\": [{\"name\": \"canaries\", \"groups\": [\"canary-hosts\"],"
		    " \"soak_s\": 600}, {\"name\": \"rest\", \"percent\": 100}]}",
		    NOW);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 3);
	for (a = 0; a < f->n; a++)
		assert_int_equal(assigned(f, id, a), strcmp(f->groups[a], "canary-hosts") == 0);
	for (a = 0; a < f->n; a++)
		assert_int_equal(desired(f, a, NULL),
				 strcmp(f->groups[a], "canary-hosts") == 0 ? 1 : 0);
	/* What the canaries are told. */
	assert_int_equal(rollout_desired(f->db, f->ids[5], "canary-hosts", &o, &deliver, &d), 0);
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "sha256")), sha);
	assert_int_equal(json_integer_value(json_object_get(o, "size")), 5);
	assert_non_null(strstr(json_string_value(json_object_get(o, "url")), sha));
	json_decref(o);
	assert_int_equal(rollout_action(f->db, id, "abort", "test", NOW, &d), 0);

	/* Two groups. */
	id = create(f, sha, "{\"rings\": [{\"groups\": [\"canary-hosts\", \"db\"]}, {}]}", NOW);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 5);
	for (a = 0; a < f->n; a++)
		assert_int_equal(assigned(f, id, a), f->groups[a][0] != '\0');
	assert_int_equal(rollout_action(f->db, id, "abort", "test", NOW, &d), 0);

	/* A group with no agents: an empty ring, skipped at once (no soak),
	 * and the timeline says so. */
	id = create(f, sha, "{\"rings\": [{\"groups\": [\"nobody\"], \"soak_s\": 60}, {}]}", NOW);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 0);
	tick(f, NOW + 1);
	assert_int_equal(in_ring(f, id, 1), f->n);
	{
		json_t *r = release(f, id), *e;
		size_t k;
		int skipped = 0;

		json_array_foreach(json_object_get(r, "timeline"), k, e) skipped |=
		    strstr(json_string_value(json_object_get(e, "text")),
			   "ring 0 has no agents: skipped") != NULL;
		assert_true(skipped);
		json_decref(r);
	}
}

static void
test_advance_and_complete(void **state)
{
	struct fleet *f = *state;
	char sha1[65], sha2[65], st[16];
	struct ward_diag d;
	struct plan p;
	long long id, id2;
	json_t *r, *rings;
	int a;

	enroll(f, "", 4);
	bundle(f, 1, sha1);
	id = create(f, sha1,
		    "{\"rings\": [{\"name\": \"half\", \"percent\": 50, \"soak_s\": 60},"
		    " {\"name\": \"rest\", \"percent\": 100, \"soak_s\": 0}]}",
		    NOW);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 2);

	/* Ring 0 runs the version (checking in after it was assigned). */
	usleep(5000);
	for (a = 0; a < f->n; a++)
		if (assigned(f, id, a))
			checkin(f, a, NOW + 10, 1, "{\"content\": {\"version\": 1}}");
	tick(f, NOW + 30);
	assert_int_equal(in_ring(f, id, 1), 0);
	r = release(f, id);
	rings = json_object_get(json_object_get(r, "plan"), "rings");
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_array_get(rings, 0), "agents"), "assigned")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(
			     json_object_get(json_array_get(rings, 0), "agents"), "active")),
			 2);
	json_decref(r);

	/* The soak is over: the next ring gets the rest. */
	tick(f, NOW + 60);
	assert_int_equal(in_ring(f, id, 0), 2);
	assert_int_equal(in_ring(f, id, 1), 2);
	r = release(f, id);
	assert_int_equal(json_integer_value(json_object_get(r, "ring")), 1);
	assert_string_equal(json_string_value(json_object_get(r, "ring_name")), "rest");
	assert_int_equal(json_array_size(json_object_get(r, "incidents")), 0);
	json_decref(r);
	for (a = 0; a < f->n; a++)
		assert_int_equal(desired(f, a, NULL), 1);
	/* Without evidence (ring 1 has not said it runs it) it does not pass. */
	tick(f, NOW + 61);
	assert_string_equal(state_of(f, id, st), "running");
	r = release(f, id);
	assert_non_null(strstr(json_string_value(json_object_get(r, "waiting")),
			       "none of its 2 agent(s) has checked in since the ring started"));
	json_decref(r);
	usleep(2000);
	for (a = 0; a < f->n; a++)
		checkin(f, a, NOW + 61, 1, "{\"content\": {\"current\": {\"version\": 1}}}");

	/* The last ring soaked: complete, and the fleet's content. */
	tick(f, NOW + 62);
	assert_string_equal(state_of(f, id, st), "completed");
	enroll(f, "", 1);
	assert_int_equal(desired(f, f->n - 1, NULL), 1);

	r = NULL;
	assert_int_equal(rollout_releases(f->db, &r, &d), 0);
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);

	/* A next version goes through the same way. */
	bundle(f, 2, sha2);
	rollout_default_plan(&p);
	assert_int_equal(rollout_create(f->db, sha2, &p, NOW + 100, &id2, &d), 0);
	assert_true(id2 > id);
	tick(f, NOW + 100);
	assert_int_equal(in_ring(f, id2, 0), 1); /* 1 % of 5, at least 1 */
	for (a = 0; a < f->n; a++)
		assert_int_equal(desired(f, a, NULL), assigned(f, id2, a) ? 2 : 1);
}

/* The agent of release id's ring 0 with the lowest index. */
static int
first_assigned(struct fleet *f, long long id)
{
	int a;

	for (a = 0; a < f->n; a++)
		if (assigned(f, id, a))
			return a;
	fail_msg("release %lld has no agents", id);
	return -1;
}

static void
test_halt(void **state)
{
	struct fleet *f = *state;
	char sha1[65], sha2[65], st[16], report[256];
	struct ward_diag d;
	long long id, id2, rb;
	json_t *r, *inc;
	int a, bad;

	enroll(f, "", 4);
	bundle(f, 1, sha1);
	bundle(f, 2, sha2);
	id = create(f, sha1,
		    "{\"rings\": [{\"percent\": 50, \"soak_s\": 600}, {\"percent\": 100}]}", NOW);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 2);

	/* One agent of the ring refuses the version: halted at once, well
	 * within the soak. */
	bad = first_assigned(f, id);
	usleep(5000);
	assert_int_equal(desired(f, bad, NULL), 1); /* the version reaches it */
	checkin(f, bad, NOW + 5, 0,
		"{\"content\": {\"rejected\": [{\"version\": 1, \"reason\": \"validation failed: "
		"self-test\"}]}}");
	tick(f, NOW + 6);
	r = release(f, id);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "halted");
	assert_non_null(
	    strstr(json_string_value(json_object_get(r, "reason")), "refused version 1"));
	inc = json_object_get(r, "incidents");
	assert_int_equal(json_array_size(inc), 1);
	assert_string_equal(
	    json_string_value(json_array_get(
		json_object_get(json_object_get(json_array_get(inc, 0), "evidence"), "rejections"),
		0)),
	    f->ids[bad]);
	json_decref(r);
	/* Its agents are pointed back; the others keep what they have. */
	for (a = 0; a < f->n; a++) {
		assert_int_equal(desired(f, a, &rb), 0);
		assert_int_equal(rb, assigned(f, id, a) ? 1 : 0);
	}
	/* Nothing further: no ring, no second incident. */
	tick(f, NOW + 1000);
	assert_int_equal(in_ring(f, id, -1), 2);
	r = release(f, id);
	assert_int_equal(json_array_size(json_object_get(r, "incidents")), 1);
	json_decref(r);
	assert_int_equal(rollout_action(f->db, id, "resume", "test", NOW, &d), WARD_EINVAL);
	assert_int_equal(rollout_action(f->db, id, "abort", "test", NOW, &d), WARD_EINVAL);

	/* A halted release does not hold the next one; a crash-guard
	 * rollback of the new version halts it too. */
	id2 = create(f, sha2, "{\"rings\": [{\"percent\": 100, \"soak_s\": 600}]}", NOW + 2000);
	tick(f, NOW + 2000);
	assert_int_equal(in_ring(f, id2, 0), 4);
	usleep(5000);
	snprintf(report, sizeof(report), "{\"crashes\": [{\"version\": 2, \"ts\": %d}]}",
		 NOW + 2001);
	assert_int_equal(desired(f, 3, NULL), 2);
	checkin(f, 3, NOW + 2002, 0, report);
	tick(f, NOW + 2003);
	assert_string_equal(state_of(f, id2, st), "halted");
	r = release(f, id2);
	assert_non_null(strstr(json_string_value(json_object_get(r, "reason")), "crash-guard"));
	json_decref(r);
	assert_int_equal(desired(f, 3, &rb), 0);
	assert_int_equal(rb, 2);
}

/* --- releases and operators ------------------------------------------------ */

/* An agent that lists refusals of versions before they reach it (to
 * halt every release) is not counted; the version's real refusals are. */
static void
test_prelisted_refusals(void **state)
{
	struct fleet *f = *state;
	char sha1[65], report[4096], st[16];
	long long id;
	json_t *r, *nc;
	int liar = 0, a, n = 0, k;

	enroll(f, "", 4);
	bundle(f, 1, sha1);
	/* The liar lists versions 1 to 32 as refused from the start. */
	n = snprintf(report, sizeof(report), "{\"content\": {\"rejected\": [");
	for (k = 1; k <= 32; k++)
		n += snprintf(report + n, sizeof(report) - (size_t)n,
			      "%s{\"version\": %d, \"reason\": \"validation failed\"}",
			      k > 1 ? ", " : "", k);
	snprintf(report + n, sizeof(report) - (size_t)n, "]}}");
	checkin(f, liar, NOW - 50, 0, report);
	id = create(f, sha1, "{\"rings\": [{\"percent\": 100, \"soak_s\": 600}]}", NOW);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 4);
	/* It checks in again (before and after the version reached it),
	 * with the same list: nothing counts. */
	usleep(5000);
	checkin(f, liar, NOW + 1, 0, report);
	for (a = 0; a < f->n; a++)
		assert_int_equal(desired(f, a, NULL), 1);
	usleep(5000);
	checkin(f, liar, NOW + 2, 0, report);
	tick(f, NOW + 3);
	assert_string_equal(state_of(f, id, st), "running");
	/* An honest agent's refusal after delivery halts the ring of 4. */
	checkin(f, 1, NOW + 4, 0,
		"{\"content\": {\"rejected\": [{\"version\": 1, \"reason\": \"validation "
		"failed: self-test\"}]}}");
	tick(f, NOW + 5);
	assert_string_equal(state_of(f, id, st), "halted");
	r = release(f, id);
	nc = json_object_get(
	    json_object_get(json_array_get(json_object_get(r, "incidents"), 0), "evidence"),
	    "not_counted");
	assert_int_equal(json_array_size(nc), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(nc, 0), "agent_id")),
			    f->ids[liar]);
	json_decref(r);
}

/* A rollback the fleet server itself ordered is not a refusal — known by
 * its typed cause, whatever its reason says; a reason that reads like one
 * without the cause is a plain refusal (no words are read). */
static void
test_own_rollback_not_counted(void **state)
{
	struct fleet *f = *state;
	char sha1[65], st[16];
	long long id;
	int a;

	enroll(f, "", 2);
	bundle(f, 1, sha1);
	id = create(f, sha1, "{\"rings\": [{\"percent\": 100, \"soak_s\": 600}]}", NOW);
	tick(f, NOW);
	for (a = 0; a < f->n; a++)
		assert_int_equal(desired(f, a, NULL), 1);
	usleep(5000);
	checkin(f, 0, NOW + 1, 0,
		"{\"content\": {\"rejected\": [{\"version\": 1, \"cause\": \"fleet-rollback\","
		" \"reason\": \"crash guard: the worker crashed 3 times\"}, {\"version\": 1,"
		" \"cause\": \"operator-rollback\", \"reason\": \"validation failed\"}]}}");
	tick(f, NOW + 2);
	assert_string_equal(state_of(f, id, st), "running");
	/* Kept (the evidence shows them), never counted. */
	assert_int_equal(scalar(f, "SELECT count(*) FROM agent_faults WHERE $1 = $2", 0, 0), 2);
	checkin(f, 1, NOW + 3, 0,
		"{\"content\": {\"rejected\": [{\"version\": 1, \"reason\": \"the fleet server "
		"stopped the release of version 1\"}]}}");
	tick(f, NOW + 4);
	assert_string_equal(state_of(f, id, st), "halted");
}

static void
test_create_refusals(void **state)
{
	struct fleet *f = *state;
	char sha1[65], sha2[65], sha3[65], st[16];
	struct ward_diag d;
	struct plan p;
	long long id, other = -1;
	int a;

	enroll(f, "", 3);
	bundle(f, 1, sha1);
	bundle(f, 2, sha2);
	bundle(f, 3, sha3);
	rollout_default_plan(&p);

	/* No such bundle. */
	assert_int_equal(rollout_create(f->db, "feed", &p, NOW, &other, &d), WARD_EUNDEFINED);

	/* One release at a time, running or paused. */
	id = create(f, sha2, ONE_RING, NOW);
	assert_int_equal(id, 1);
	diag_clear(&d);
	assert_int_equal(rollout_create(f->db, sha3, &p, NOW, &other, &d), WARD_EDUPLICATE);
	assert_non_null(strstr(d.msg, "another release"));
	assert_int_equal(rollout_action(f->db, id, "pause", "test", NOW, &d), 0);
	assert_int_equal(rollout_create(f->db, sha3, &p, NOW, &other, &d), WARD_EDUPLICATE);
	assert_int_equal(rollout_action(f->db, id, "resume", "test", NOW, &d), 0);
	/* Completed: no longer in the way. */
	tick(f, NOW);
	usleep(2000);
	for (a = 0; a < f->n; a++)
		if (desired(f, a, NULL) == 2)
			checkin(f, a, NOW, 2, "{\"content\": {\"current\": {\"version\": 2}}}");
	tick(f, NOW + 1);
	assert_string_equal(state_of(f, id, st), "completed");

	/* Versions only go up from the fleet's current one. */
	diag_clear(&d);
	assert_int_equal(rollout_create(f->db, sha1, &p, NOW + 2, &other, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "not above"));
	assert_int_equal(rollout_create(f->db, sha2, &p, NOW + 2, &other, &d), WARD_EINVAL);
	assert_int_equal(scalar(f, "SELECT count(*) FROM releases WHERE $1 = $2", 0, 0), 1);
	other = create(f, sha3, ONE_RING, NOW + 3);
	assert_int_equal(other, 2);
}

static void
test_actions(void **state)
{
	struct fleet *f = *state;
	char sha[65], st[16];
	struct ward_diag d;
	long long id;
	int a;
	json_t *r;

	enroll(f, "", 4);
	bundle(f, 1, sha);
	id = create(f, sha,
		    "{\"rings\": [{\"percent\": 50, \"soak_s\": 3600}, {\"percent\": 100, "
		    "\"soak_s\": 3600}]}",
		    NOW);

	/* Paused: the engine leaves it alone. */
	assert_int_equal(rollout_action(f->db, id, "pause", "alice", NOW, &d), 0);
	assert_string_equal(state_of(f, id, st), "paused");
	diag_clear(&d);
	assert_int_equal(rollout_action(f->db, id, "pause", "alice", NOW, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "is paused: cannot pause it"));
	assert_int_equal(rollout_action(f->db, id, "promote", "alice", NOW, &d), WARD_EINVAL);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, -1), 0);

	/* Resumed: it goes on. */
	assert_int_equal(rollout_action(f->db, id, "resume", "alice", NOW, &d), 0);
	assert_string_equal(state_of(f, id, st), "running");
	assert_int_equal(rollout_action(f->db, id, "resume", "alice", NOW, &d), WARD_EINVAL);
	tick(f, NOW);
	assert_int_equal(in_ring(f, id, 0), 2);

	/* Paused mid-ring, its agents keep being told to run it. */
	assert_int_equal(rollout_action(f->db, id, "pause", "alice", NOW + 1, &d), 0);
	assert_int_equal(desired(f, first_assigned(f, id), NULL), 1);
	tick(f, NOW + 7200);
	assert_int_equal(in_ring(f, id, 1), 0);
	assert_int_equal(rollout_action(f->db, id, "resume", "alice", NOW + 2, &d), 0);

	/* Promote ends the soak now (on evidence: ring 0 runs it). */
	usleep(2000);
	for (a = 0; a < f->n; a++)
		if (assigned(f, id, a))
			checkin(f, a, NOW + 9, 1, "{\"content\": {\"current\": {\"version\": 1}}}");
	tick(f, NOW + 10);
	assert_int_equal(in_ring(f, id, 1), 0);
	assert_int_equal(rollout_action(f->db, id, "promote", "alice", NOW + 11, &d), 0);
	tick(f, NOW + 12);
	assert_int_equal(in_ring(f, id, 1), 2);

	/* Abort: stopped, its agents pointed back. */
	assert_int_equal(rollout_action(f->db, id, "abort", "alice", NOW + 13, &d), 0);
	r = release(f, id);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "aborted");
	assert_string_equal(json_string_value(json_object_get(r, "reason")), "aborted by alice");
	json_decref(r);
	{
		long long rb;

		assert_int_equal(desired(f, first_assigned(f, id), &rb), 0);
		assert_int_equal(rb, 1);
	}
	assert_int_equal(rollout_action(f->db, id, "abort", "alice", NOW, &d), WARD_EINVAL);
	assert_int_equal(rollout_action(f->db, id, "resume", "alice", NOW, &d), WARD_EINVAL);
	assert_int_equal(rollout_action(f->db, id, "pause", "alice", NOW, &d), WARD_EINVAL);
	assert_int_equal(rollout_action(f->db, id, "promote", "alice", NOW, &d), WARD_EINVAL);

	/* No such release; no such action. */
	assert_int_equal(rollout_action(f->db, 99, "pause", "alice", NOW, &d), WARD_EUNDEFINED);
	id = create(f, sha, ONE_RING, NOW + 20);
	assert_int_equal(rollout_action(f->db, id, "explode", "alice", NOW, &d), WARD_EINVAL);
	assert_string_equal(state_of(f, id, st), "running");
	r = NULL;
	assert_int_equal(rollout_release(f->db, 99, &r, &d), WARD_EUNDEFINED);
	assert_null(r);
}

static void
test_pin(void **state)
{
	struct fleet *f = *state;
	char sha1[65], sha2[65];
	struct ward_diag d;
	json_t *o = NULL;
	long long deliver = 0;
	long long id;
	int a;

	enroll(f, "web", 2);
	enroll(f, "", 3);
	bundle(f, 1, sha1);
	bundle(f, 2, sha2);
	complete(f, sha1, 1, NOW);
	for (a = 0; a < f->n; a++)
		assert_int_equal(desired(f, a, NULL), 1);

	/* web stays on version 1; a release of 2 leaves it out. */
	assert_int_equal(rollout_pin(f->db, "web", 1, NOW + 10, &d), 0);
	id = create(f, sha2, "{\"rings\": [{\"percent\": 100, \"soak_s\": 600}]}", NOW + 20);
	tick(f, NOW + 20);
	assert_int_equal(in_ring(f, id, 0), 3);
	for (a = 0; a < f->n; a++) {
		assert_int_equal(assigned(f, id, a), strcmp(f->groups[a], "web") != 0);
		assert_int_equal(desired(f, a, NULL), strcmp(f->groups[a], "web") == 0 ? 1 : 2);
	}
	assert_int_equal(rollout_desired(f->db, f->ids[0], "web", &o, &deliver, &d), 0);
	assert_string_equal(json_string_value(json_object_get(o, "sha256")), sha1);
	json_decref(o);

	/* Pinned to 2 instead (one pin per group). */
	assert_int_equal(rollout_pin(f->db, "web", 2, NOW + 30, &d), 0);
	assert_int_equal(scalar(f, "SELECT count(*) FROM pins WHERE $1 = $2", 0, 0), 1);
	assert_int_equal(desired(f, 0, NULL), 2);

	/* No stored bundle of that version. */
	assert_int_equal(rollout_pin(f->db, "web", 7, NOW + 40, &d), WARD_EUNDEFINED);
	assert_int_equal(desired(f, 0, NULL), 2);

	/* Unpinned: the fleet's content again. */
	assert_int_equal(rollout_pin(f->db, "web", 0, NOW + 50, &d), 0);
	assert_int_equal(scalar(f, "SELECT count(*) FROM pins WHERE $1 = $2", 0, 0), 0);
	assert_int_equal(desired(f, 0, NULL), 1);
}

static void
test_freeze(void **state)
{
	struct fleet *f = *state;
	char sha1[65], sha2[65];
	struct ward_diag d;
	json_t *o = (json_t *)1;
	long long id, deliver = 0;
	int a;

	enroll(f, "web", 1);
	enroll(f, "", 2);
	bundle(f, 1, sha1);
	bundle(f, 2, sha2);
	complete(f, sha1, 1, NOW);
	id = create(f, sha2, "{\"rings\": [{\"percent\": 100, \"soak_s\": 600}]}", NOW + 10);
	tick(f, NOW + 10);
	assert_int_equal(in_ring(f, id, 0), 3);
	assert_int_equal(rollout_pin(f->db, "web", 1, NOW + 10, &d), 0);

	/* Frozen: no content change reaches anyone, pinned or not. */
	assert_int_equal(rollout_freeze(f->db, 1, NOW, &d), 0);
	for (a = 0; a < f->n; a++) {
		assert_int_equal(rollout_desired(f->db, f->ids[a], f->groups[a], &o, &deliver, &d),
				 0);
		assert_null(o);
	}
	assert_int_equal(rollout_freeze(f->db, 1, NOW, &d), 0);
	assert_int_equal(desired(f, 1, NULL), 0);

	/* Frozen, a release is not promoted and its ring is not decided
	 * (nothing reached its agents): no evidence, and no stall either. */
	diag_clear(&d);
	assert_int_equal(rollout_action(f->db, id, "promote", "bob", NOW + 20, &d), WARD_EINVAL);
	assert_non_null(strstr(d.msg, "frozen"));
	tick(f, NOW + 100000);
	{
		char st[16];

		assert_string_equal(state_of(f, id, st), "running");
	}

	/* Unfrozen: as before, and the ring's soak starts again. */
	assert_int_equal(rollout_freeze(f->db, 0, NOW + 100000, &d), 0);
	assert_int_equal(desired(f, 0, NULL), 1);
	assert_int_equal(desired(f, 1, NULL), 2);
	assert_int_equal(desired(f, 2, NULL), 2);
	{
		json_t *r = release(f, id), *e;
		size_t k;
		int frozen = 0, unfrozen = 0;
		char t[21];

		clock_utc(NOW + 100000, t);
		assert_string_equal(json_string_value(json_object_get(r, "ring_started")), t);
		json_array_foreach(json_object_get(r, "timeline"), k, e)
		{
			frozen |= strstr(json_string_value(json_object_get(e, "text")),
					 "content frozen") != NULL;
			unfrozen |= strstr(json_string_value(json_object_get(e, "text")),
					   "soak starts again") != NULL;
		}
		assert_true(frozen && unfrozen);
		json_decref(r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ring0_percent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ring0_groups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_advance_and_complete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_halt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prelisted_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_rollback_not_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_freeze, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of server/gate.c: the health gate's decision from a
 * release's agents and faults — thresholds by count and by share of the
 * ring, faults claimed before delivery, silence, passing a ring, and what
 * each refusal cause counts as (by its type, never its text).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "server/gate.h"

#define NOW_MS 1800000000000LL
#define MAXM 2000

struct world {
	struct gate g;
	struct gate_member m[MAXM];
	struct gate_fault f[MAXM];
	size_t nm, nf;
};

static struct world W_; /* the test's fixture: one at a time */

static struct world *
world(void)
{
	memset(&W_, 0, sizeof(W_));
	gate_defaults(&W_.g);
	return &W_;
}

/* n agents in ring, all online, running version (when running != 0),
 * delivered, checked in just now. */
static void
members(struct world *w, size_t n, long long ring, long long version)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct gate_member *m = &w->m[w->nm];

		snprintf(m->agent_id, sizeof(m->agent_id), "agent-%05zu", w->nm);
		snprintf(m->hostname, sizeof(m->hostname), "host-%zu", w->nm);
		m->ring = ring;
		m->assigned_ms = NOW_MS - 60000;
		m->delivered_ms = NOW_MS - 59000;
		m->seen_ms = NOW_MS - 1000;
		m->version = version;
		w->nm++;
	}
}

static void
fault(struct world *w, size_t member, enum gate_fault_kind k, int counted)
{
	struct gate_fault *f = &w->f[w->nf++];

	snprintf(f->agent_id, sizeof(f->agent_id), "agent-%05zu", member);
	f->kind = k;
	f->counted = counted;
	f->reported_ms = NOW_MS - 500;
	snprintf(f->detail, sizeof(f->detail), "validation failed: test");
}

static struct gate_result R_; /* the last decision's result */

/* Decides; reason is the halt's reason, *ev the evidence (the caller
 * releases it); the note stays in R_.note. */
static enum gate_verdict
decide_at(struct world *w, long long ring, int soak_over, long long stalled_s, char *reason,
	  json_t **ev)
{
	struct gate_input in;
	enum gate_verdict v;

	memset(&in, 0, sizeof(in));
	in.g = &w->g;
	in.version = 7;
	in.ring = ring;
	in.soak_over = soak_over;
	in.stalled_s = stalled_s;
	in.now_ms = NOW_MS;
	in.silent_after_ms = 90000;
	in.m = w->m;
	in.nm = w->nm;
	in.f = w->f;
	in.nf = w->nf;
	v = gate_decide(&in, &R_);
	snprintf(reason, 300, "%s", R_.reason);
	*ev = R_.evidence;
	return v;
}

static enum gate_verdict
decide(struct world *w, long long ring, int soak_over, char *reason, json_t **ev)
{
	return decide_at(w, ring, soak_over, 0, reason, ev);
}

/* By default one fault halts a ring of fewer than 100 agents, as before
 * there were shares: a canary ring stops on its first crash. */
static void
test_small_ring_halts_on_one(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;
	int k;

	(void)state;
	for (k = 0; k < GATE_NKINDS; k++) {
		if (k == GATE_SILENT)
			continue;
		w = world();
		members(w, 50, 0, 7);
		fault(w, 3, (enum gate_fault_kind)k, 1);
		assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_HALT);
		assert_non_null(strstr(reason, "version 7 in ring 0 (50 agents; 0 tolerated)"));
		assert_int_equal(json_array_size(json_object_get(ev, gate_kind_name(k))), 1);
		/* The evidence names the agent, its host and what it said. */
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(ev, "agents"), 0), "hostname")),
		    "host-3");
		assert_string_equal(
		    json_string_value(json_object_get(
			json_array_get(json_object_get(ev, "agents"), 0), "detail")),
		    "validation failed: test");
		json_decref(ev);
	}
}

/* A single agent cannot stop a large ring: 1 % of 300 agents is 3. */
static void
test_large_ring_tolerates_a_few(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;

	(void)state;
	members(w, 300, 0, 7);
	fault(w, 0, GATE_REFUSED, 1);
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_WAIT);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(json_object_get(ev, "rings"), 0),
					       "rejections_tolerated")),
	    3);
	json_decref(ev);
	fault(w, 1, GATE_REFUSED, 1);
	fault(w, 2, GATE_REFUSED, 1);
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_WAIT);
	json_decref(ev);
	fault(w, 3, GATE_REFUSED, 1);
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_HALT);
	assert_non_null(strstr(reason, "4 agent(s) refused version 7"));
	json_decref(ev);
	/* The operator can say otherwise: no share, one fault halts. */
	w->g.max_pct[GATE_REFUSED] = 0;
	w->nf = 1;
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_HALT);
	json_decref(ev);
	/* Or tolerate a count whatever the size. */
	w->g.max[GATE_REFUSED] = 5;
	w->nf = 4;
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_WAIT);
	json_decref(ev);
}

/* Faults claimed before the version reached an agent are shown, never
 * counted; faults of agents not in the release are ignored. */
static void
test_claims_before_delivery_do_not_count(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev, *nc;

	(void)state;
	members(w, 10, 0, 7);
	fault(w, 4, GATE_REFUSED, 0);
	fault(w, 4, GATE_CRASH, 0);
	fault(w, 999, GATE_CRASH, 1); /* not a member */
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_WAIT);
	nc = json_object_get(ev, "not_counted");
	assert_int_equal(json_array_size(nc), 2);
	assert_non_null(
	    strstr(json_string_value(json_object_get(json_array_get(nc, 0), "not_counted")),
		   "before the version reached"));
	assert_int_equal(json_array_size(json_object_get(ev, "agents")), 0);
	json_decref(ev);
}

/* Silent: delivered, then no check-in for longer than silent_after. */
static void
test_silence(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;

	(void)state;
	members(w, 10, 0, 7);
	w->m[2].seen_ms = NOW_MS - 100000;
	w->m[2].delivered_ms = NOW_MS - 100000;
	/* Not delivered: offline, not silent. */
	w->m[3].seen_ms = NOW_MS - 500000;
	w->m[3].delivered_ms = 0;
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_HALT);
	assert_non_null(strstr(reason, "1 agent(s) went silent"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(ev, "silent"), 0)),
			    "agent-00002");
	json_decref(ev);
}

/* Each ring is judged by its own size: a fault in a small earlier ring
 * halts while a large later ring soaks. */
static void
test_rings_are_judged_apart(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;

	(void)state;
	members(w, 10, 0, 7);
	members(w, 1000, 1, 7);
	fault(w, 5, GATE_CRASH, 1);
	assert_int_equal(decide(w, 1, 0, reason, &ev), GATE_HALT);
	assert_non_null(strstr(reason, "in ring 0"));
	json_decref(ev);
	w->nf = 0;
	fault(w, 500, GATE_CRASH, 1); /* one of the 1000 */
	assert_int_equal(decide(w, 1, 0, reason, &ev), GATE_WAIT);
	json_decref(ev);
}

/* A ring passes when its soak is over and enough of its agents that
 * checked in run the version; offline agents neither pass nor block. */
static void
test_pass(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;
	size_t i;

	(void)state;
	members(w, 20, 0, 7);
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_WAIT);
	json_decref(ev);
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_PASS);
	json_decref(ev);
	for (i = 0; i < 2; i++)
		w->m[i].version = 6; /* 18 of 20: 90 % < 95 % */
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_WAIT);
	json_decref(ev);
	w->m[0].seen_ms = w->m[0].assigned_ms - 1; /* offline, both: 18 of 18 */
	w->m[0].delivered_ms = 0;
	w->m[1].seen_ms = w->m[1].assigned_ms - 1;
	w->m[1].delivered_ms = 0;
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_PASS);
	assert_int_equal(json_integer_value(json_object_get(ev, "offline")), 2);
	json_decref(ev);
}

/* A ring without agents is skipped; a ring none of whose agents checked
 * in since the assignment never passes (no evidence), even promoted. */
static void
test_pass_needs_evidence(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;
	size_t i;

	(void)state;
	members(w, 5, 0, 7);
	assert_int_equal(decide(w, 1, 1, reason, &ev), GATE_SKIP);
	assert_non_null(strstr(R_.note, "no agents"));
	json_decref(ev);
	for (i = 0; i < w->nm; i++) {
		w->m[i].seen_ms = w->m[i].assigned_ms - 1; /* offline */
		w->m[i].delivered_ms = 0;
		w->m[i].version = 6;
	}
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_WAIT);
	assert_non_null(strstr(R_.note, "none of its 5 agent(s) has checked in"));
	json_decref(ev);
}

/* Why a ring waits, in words, and what happens when it waits too long. */
static void
test_stall(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;

	(void)state;
	members(w, 6, 0, 7);
	w->m[0].version = 9; /* ahead */
	w->m[1].version = 6; /* sent, does not run it */
	w->m[2].version = 6; /* refused it before it was sent */
	w->m[2].delivered_ms = 0;
	fault(w, 2, GATE_REFUSED, 0);
	w->m[3].version = 6; /* not sent (frozen, pinned) */
	w->m[3].delivered_ms = 0;
	w->m[4].seen_ms = w->m[4].assigned_ms - 1; /* offline */
	w->m[4].delivered_ms = 0;
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_WAIT);
	assert_non_null(strstr(R_.note, "1 of 4 agent(s) run version 7, 4 needed"));
	assert_non_null(strstr(R_.note, "1 agent(s) have not checked in"));
	assert_non_null(strstr(R_.note, "1 agent(s) received it but do not run it"));
	assert_non_null(strstr(R_.note, "1 agent(s) refused it before it was sent"));
	assert_non_null(strstr(R_.note, "1 agent(s) have not been sent it"));
	assert_non_null(strstr(R_.note, "1 agent(s) run a newer version 9: they will not take 7"));
	json_decref(ev);
	/* Before stall_s: it waits; after, it halts (default) or moves on. */
	assert_int_equal(decide_at(w, 0, 1, 1799, reason, &ev), GATE_WAIT);
	json_decref(ev);
	assert_int_equal(decide_at(w, 0, 1, 1800, reason, &ev), GATE_HALT);
	assert_non_null(strstr(reason, "ring 0 stalled 1800 s after its soak"));
	json_decref(ev);
	w->g.on_stall_continue = 1;
	assert_int_equal(decide_at(w, 0, 1, 1800, reason, &ev), GATE_PASS);
	assert_non_null(strstr(R_.note, "moved on"));
	json_decref(ev);
	/* stall_s 0: never. */
	w->g.stall_s = 0;
	w->g.on_stall_continue = 0;
	assert_int_equal(decide_at(w, 0, 1, 999999, reason, &ev), GATE_WAIT);
	json_decref(ev);
}

/* Agents on a newer version neither block nor count: a ring of them
 * alone passes, saying so. */
static void
test_agents_ahead(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;

	(void)state;
	members(w, 3, 0, 8);
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_PASS);
	assert_non_null(strstr(R_.note, "run a newer version 8"));
	json_decref(ev);
	members(w, 2, 0, 7);
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_PASS);
	assert_non_null(strstr(R_.note, "2 of 2 agent(s)"));
	json_decref(ev);
}

/* A refusal from member of ring 0 for cause, with a reason's text. */
static void
refusal(struct world *w, size_t member, enum refusal_cause cause, int counted, const char *text)
{
	fault(w, member, GATE_REFUSED, counted);
	w->f[w->nf - 1].cause = cause;
	snprintf(w->f[w->nf - 1].detail, sizeof(w->f[0].detail), "%s", text);
}

/* Every cause, by table: what one refusal of it in a canary ring does.
 * The reason's text says the opposite of the cause each time: the gate
 * counts the cause. */
static const struct {
	enum refusal_cause cause;
	enum gate_verdict verdict; /* in a ring of 50 still soaking */
	enum gate_fault_kind kind; /* of a halt; GATE_NKINDS: not counted */
	const char *text;
} cause_table[] = {
    {CAUSE_REFUSED, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_FORMAT, GATE_HALT, GATE_REFUSED, "rolled back by the operator"},
    {CAUSE_SIGNATURE, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_VERSION, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_EXPIRED, GATE_HALT, GATE_REFUSED, "rolled back by the operator"},
    {CAUSE_AGENT_VERSION, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_VALIDATION, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_RESOURCES, GATE_HALT, GATE_REFUSED, "rolled back by the operator"},
    {CAUSE_INSTALL, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_DAMAGED, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
    {CAUSE_CRASH_GUARD, GATE_HALT, GATE_CRASH, "the fleet server stopped the release"},
    {CAUSE_OPERATOR_ROLLBACK, GATE_WAIT, GATE_NKINDS, "crash guard: the worker crashed"},
    {CAUSE_FLEET_ROLLBACK, GATE_WAIT, GATE_NKINDS, "crash guard: the worker crashed 3 times"},
    /* Out of range (never from the parser): a plain refusal. */
    {CAUSE_N, GATE_HALT, GATE_REFUSED, "the fleet server stopped the release"},
};

static void
test_refusal_causes(void **state)
{
	unsigned seen[CAUSE_N + 1] = {0};
	char reason[300];
	json_t *ev, *a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cause_table) / sizeof(cause_table[0]); i++) {
		struct world *w = world();
		enum gate_fault_kind k;
		const char *why_not;

		seen[cause_table[i].cause]++;
		members(w, 50, 0, 7);
		refusal(w, 3, cause_table[i].cause, 1, cause_table[i].text);
		assert_int_equal(decide(w, 0, 0, reason, &ev), cause_table[i].verdict);
		assert_int_equal(gate_refusal_kind(cause_table[i].cause, &k, &why_not),
				 cause_table[i].kind != GATE_NKINDS);
		if (cause_table[i].verdict == GATE_HALT) {
			assert_int_equal(R_.why, GATE_WHY_FAULTS);
			assert_int_equal(R_.kind, cause_table[i].kind);
			assert_int_equal(k, cause_table[i].kind);
			assert_int_equal(R_.halt_ring, 0);
			assert_int_equal(json_array_size(json_object_get(
					     ev, gate_kind_name(cause_table[i].kind))),
					 1);
			a = json_array_get(json_object_get(ev, "agents"), 0);
			assert_string_equal(json_string_value(json_object_get(a, "cause")),
					    cause_name(cause_table[i].cause));
			assert_string_equal(json_string_value(json_object_get(a, "detail")),
					    cause_table[i].text);
		} else {
			/* Shown, with why it is not counted; the ring soaks on. */
			assert_int_equal(R_.why, GATE_WHY_SOAKING);
			assert_non_null(why_not);
			assert_int_equal(json_array_size(json_object_get(ev, "agents")), 0);
			a = json_array_get(json_object_get(ev, "not_counted"), 0);
			assert_string_equal(json_string_value(json_object_get(a, "cause")),
					    cause_name(cause_table[i].cause));
			assert_string_equal(json_string_value(json_object_get(a, "not_counted")),
					    why_not);
			/* ... and once the soak is over, the ring passes on the
			 * others (49 of 50 is above 95 %). */
			json_decref(ev);
			w->m[3].version = 6; /* it went back to last-known-good */
			assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_PASS);
			assert_int_equal(R_.why, GATE_WHY_ACTIVE);
		}
		json_decref(ev);
	}
	for (i = 0; i < CAUSE_N; i++) /* every cause is in the table */
		if (seen[i] != 1)
			fail_msg("cause %s: %u rows", cause_name((enum refusal_cause)i), seen[i]);
}

/* A crash and its crash-guard rollback are one crash of one agent: 1 % of
 * 300 is 3 tolerated, so three agents reporting both do not halt, four do. */
static void
test_one_fault_per_agent_and_kind(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;
	size_t i;

	(void)state;
	members(w, 300, 0, 7);
	for (i = 0; i < 3; i++) {
		fault(w, i, GATE_CRASH, 1);
		refusal(w, i, CAUSE_CRASH_GUARD, 1, "x");
		refusal(w, i, CAUSE_CRASH_GUARD, 1, "y"); /* (the store keeps one; the gate too) */
	}
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_WAIT);
	assert_int_equal(json_array_size(json_object_get(ev, "crash_rollbacks")), 3);
	json_decref(ev);
	refusal(w, 3, CAUSE_CRASH_GUARD, 1, "x");
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_HALT);
	assert_int_equal(R_.kind, GATE_CRASH);
	assert_non_null(strstr(reason, "4 crash-guard rollback(s) of version 7 in ring 0"));
	json_decref(ev);
	/* A crash and a refusal of one agent are two kinds: each counts. */
	w = world();
	members(w, 50, 0, 7);
	fault(w, 1, GATE_CRASH, 1);
	refusal(w, 1, CAUSE_VALIDATION, 1, "x");
	assert_int_equal(decide(w, 0, 0, reason, &ev), GATE_HALT);
	assert_int_equal(json_array_size(json_object_get(ev, "crash_rollbacks")), 1);
	assert_int_equal(json_array_size(json_object_get(ev, "rejections")), 1);
	json_decref(ev);
}

/* A rollback (not counted) claimed before delivery does not make the agent
 * one that "refused it before it was sent"; a real refusal does. */
static void
test_uncounted_causes_before_delivery(void **state)
{
	struct world *w = world();
	char reason[300];
	json_t *ev;

	(void)state;
	members(w, 2, 0, 6);
	refusal(w, 0, CAUSE_FLEET_ROLLBACK, 0, "x");
	refusal(w, 1, CAUSE_VALIDATION, 0, "x");
	assert_int_equal(decide(w, 0, 1, reason, &ev), GATE_WAIT);
	assert_int_equal(R_.why, GATE_WHY_TOO_FEW);
	assert_non_null(strstr(R_.note, "1 agent(s) refused it before it was sent"));
	assert_non_null(strstr(R_.note, "1 agent(s) received it but do not run it"));
	json_decref(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_ring_halts_on_one),
	    cmocka_unit_test(test_large_ring_tolerates_a_few),
	    cmocka_unit_test(test_claims_before_delivery_do_not_count),
	    cmocka_unit_test(test_silence),
	    cmocka_unit_test(test_rings_are_judged_apart),
	    cmocka_unit_test(test_pass),
	    cmocka_unit_test(test_pass_needs_evidence),
	    cmocka_unit_test(test_stall),
	    cmocka_unit_test(test_agents_ahead),
	    cmocka_unit_test(test_refusal_causes),
	    cmocka_unit_test(test_one_fault_per_agent_and_kind),
	    cmocka_unit_test(test_uncounted_causes_before_delivery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

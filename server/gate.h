/*
 * gate: the health gate of a release — a pure function of what the
 * release's agents did, so that it can be tested (and reasoned about)
 * without a database.
 *
 * Its inputs are the release's agents (ring, when the version was
 * assigned and delivered to them, when they last checked in, what they
 * run) and the faults recorded against it: crashes and refusals of the
 * version that agents reported after it reached them (see
 * rollout_observe), and alert storms.  A refusal counts by its typed
 * cause alone (gate_refusal_kind), never by the words of its reason: a
 * crash-guard rollback is a crash, the fleet's own rollback and an
 * operator's are not faults of the content, every other cause is a
 * refusal.  An agent that received the
 * version and then missed check-ins is silent.  A ring halts the release
 * when more of its agents show a kind of fault than the plan tolerates:
 * max(count, pct % of the ring's agents) — so that, by default, one fault
 * halts a ring of fewer than 100 agents (a canary ring) while a single
 * agent cannot stop a ring of hundreds.
 *
 * A ring passes only on evidence: once its soak is over, enough of its
 * agents that checked in since the assignment run the version (agents
 * that run a newer version are not counted either way: they will not
 * take an older one).  A ring without agents is skipped.  A ring that
 * cannot pass says why (agents offline, agents that received the version
 * and do not run it, agents that refused it before it was sent, agents
 * ahead), and after stall_s past its soak it halts the release, or moves
 * on if the plan says so: a release never waits without end.
 */
#ifndef WARD_SERVER_GATE_H
#define WARD_SERVER_GATE_H

#include <jansson.h>
#include <stddef.h>

#include "proto/cause.h"

enum gate_fault_kind { GATE_CRASH, GATE_REFUSED, GATE_SILENT, GATE_STORM, GATE_NKINDS };

/* The thresholds of a plan. */
struct gate {
	double min_active_pct;	     /* of the ring's agents that checked in */
	long long max[GATE_NKINDS];  /* faults of each kind a ring tolerates, */
	double max_pct[GATE_NKINDS]; /* or this % of its agents, if more */
	long long silent_checkins;   /* missed check-ins that make an agent silent */
	double alert_factor;	     /* alert rate over the agent's rate the day before */
	long long alert_min;	     /* alerts below this never make a storm */
	long long stall_s;	     /* a ring that cannot pass this long after its soak */
	int on_stall_continue;	     /* then moves on (1) or halts the release (0) */
};

/* The default gate: min_active_pct 95, counts 0 and 1 % for every kind,
 * silent after 3 check-ins, storms at 10 times the usual rate and 20
 * alerts, a stalled ring halts the release 1800 s after its soak. */
void gate_defaults(struct gate *g);

/* "crash_rollbacks", "rejections", "silent", "alert_storms": the plan's
 * key (max_NAME, max_NAME_pct) and the evidence's list of each kind. */
const char *gate_kind_name(enum gate_fault_kind k);

struct gate_member {
	char agent_id[40];
	char hostname[64];
	long long ring;
	long long assigned_ms, delivered_ms, seen_ms; /* delivered 0: not yet */
	long long version;			      /* what it runs */
};

/* What a refusal for cause c counts as: 1 with *k (GATE_CRASH or
 * GATE_REFUSED), or 0 when it is no fault of the content, with *why_not
 * saying so (a static string). */
int gate_refusal_kind(enum refusal_cause c, enum gate_fault_kind *k, const char **why_not);

struct gate_fault {
	char agent_id[40];
	/* What the agent reported: GATE_CRASH a crash of its worker with the
	 * version, GATE_STORM an alert storm, GATE_REFUSED a refusal — which
	 * counts as its cause says (gate_refusal_kind).  Never GATE_SILENT:
	 * the gate sees that itself. */
	enum gate_fault_kind kind;
	enum refusal_cause cause; /* GATE_REFUSED only */
	int counted;		  /* 0: claimed before the version reached the agent */
	long long reported_ms;
	char detail[300]; /* the agent's reason, or the alert counts */
};

struct gate_input {
	const struct gate *g;
	long long version;
	long long ring;	     /* the ring soaking now */
	int soak_over;	     /* its soak time is up, or an operator promoted it */
	long long stalled_s; /* seconds since its soak ended (0 while it soaks) */
	long long now_ms, silent_after_ms;
	struct gate_member *m; /* sorted by gate_decide */
	size_t nm;
	const struct gate_fault *f;
	size_t nf;
};

enum gate_verdict {
	GATE_WAIT, /* soaking, or not enough evidence yet (note says why) */
	GATE_HALT, /* a fault, or a stall (reason) */
	GATE_PASS, /* the ring passed (note says on what evidence) */
	GATE_SKIP, /* the ring has no agents */
};

/* Why the gate decided as it did, typed (reason and note say it in words). */
enum gate_why {
	GATE_WHY_SOAKING,   /* wait: the ring's soak is not over */
	GATE_WHY_UNSEEN,    /* wait: none of its agents checked in since the ring started */
	GATE_WHY_TOO_FEW,   /* wait: too few of its agents run the version (yet) */
	GATE_WHY_FAULTS,    /* halt: more faults of kind than a ring tolerates */
	GATE_WHY_STALLED,   /* halt: the ring could not pass stall_s after its soak */
	GATE_WHY_ACTIVE,    /* pass: enough of its agents run the version */
	GATE_WHY_AHEAD,	    /* pass: all of its agents run a newer version */
	GATE_WHY_MOVED_ON,  /* pass: stalled, and the plan says move on */
	GATE_WHY_NO_AGENTS, /* skip */
};

struct gate_result {
	enum gate_why why;
	enum gate_fault_kind kind; /* GATE_WHY_FAULTS: which kind halted it */
	long long halt_ring;	   /* GATE_WHY_FAULTS: in which ring */
	char reason[300];	   /* GATE_HALT */
	char note[600];		   /* what was seen: why it passed, or why it waits */
	json_t *evidence;	   /* per ring and per agent; a new reference, always */
};

/* Decides for the release (see the top).  *res is filled whatever the
 * verdict (res->evidence to be released by the caller). */
enum gate_verdict gate_decide(struct gate_input *in, struct gate_result *res);

#endif

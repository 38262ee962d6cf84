/*
 * rollout: releases, rings and health gates — "never everywhere at once".
 *
 * A release is a stored, verified bundle with a plan: a list of rings,
 * each selecting agents (named groups, or a percentage of the fleet not
 * yet in an earlier ring, ordered by a stable hash of the agent id, with
 * a minimum and maximum count) and a soak time, plus the health gate
 * thresholds.  A ring's agents are told to activate the release's content
 * at their next check-in.  The engine (rollout_tick, run every second by
 * every server, deciding under a database lock so that one decision is
 * made once) halts the release as soon as a ring shows a fault — a
 * crash-guard rollback or a validation rejection of the version, an agent
 * gone silent after receiving it, an alert storm — and advances it when
 * the ring's soak is over and enough of its agents run the version.  A
 * halted release points its agents back at their last-known-good content
 * and sends nothing further; an incident records the evidence.
 *
 * Operators pause, resume, abort and promote (skip the soak) releases,
 * pin a group to a version, and freeze content fleet-wide.
 */
#ifndef WARD_SERVER_ROLLOUT_H
#define WARD_SERVER_ROLLOUT_H

#include <jansson.h>
#include <stdint.h>

#include "server/db.h"
#include "server/gate.h"
#include "proto/report.h"

#define ROLLOUT_MAX_RINGS 16

struct ring_plan {
	char name[32];
	char groups[8][64]; /* or */
	unsigned ngroups;
	double percent; /* of the agents not in an earlier ring */
	long long min, max;
	long long soak_s;
};

struct plan {
	struct ring_plan rings[ROLLOUT_MAX_RINGS];
	unsigned nrings;
	struct gate gate;
};

/* The default plan: canary 1 % (1..50) 15 min, 10 % 30 min, 50 % 1 h,
 * 100 %, with the default gate. */
void rollout_default_plan(struct plan *p);

/* Parses a plan (JSON text; missing gate keys keep their defaults).  0 or
 * WARD_ESYNTAX / WARD_EINVAL with d. */
int rollout_parse_plan(const char *text, size_t len, struct plan *p, struct ward_diag *d);
json_t *rollout_plan_json(const struct plan *p);

/* Creates a release of a stored bundle (sha256) with plan p: WARD_EDUPLICATE
 * when another release is running or paused. */
int rollout_create(struct db *db, const char *sha256, const struct plan *p, int64_t now,
		   long long *id, struct ward_diag *d);

/* One step of the engine at now; interval_s is the agents' check-in
 * interval (for silence). */
int rollout_tick(struct db *db, int64_t now, long long interval_s, struct ward_diag *d);

/* pause, resume, abort, promote: WARD_EUNDEFINED (no such release) or
 * WARD_EINVAL (not in a state that allows it, with d). */
int rollout_action(struct db *db, long long id, const char *action, const char *who, int64_t now,
		   struct ward_diag *d);

/* Pins group to the bundle of version (0: unpin). */
int rollout_pin(struct db *db, const char *group, long long version, int64_t now,
		struct ward_diag *d);
/* Freezes (on) or unfreezes content fleet-wide; at unfreeze the running
 * ring's soak starts again (nothing reached its agents meanwhile). */
int rollout_freeze(struct db *db, int on, int64_t now, struct ward_diag *d);

/*
 * What the agent should run: NULL (keep what it has), or
 * {version, sha256, size, url} and/or {rollback_from: V}.  *deliver is
 * the id of a release whose version this answer would hand the agent for
 * the first time (0 if none): call rollout_delivered once it is sent.
 */
int rollout_desired(struct db *db, const char *agent_id, const char *group, json_t **out,
		    long long *deliver, struct ward_diag *d);

/* Notes that the agent was told to run release_id's version now: from
 * then on its refusals and crashes of it count, and its silence. */
int rollout_delivered(struct db *db, long long release_id, const char *agent_id,
		      struct ward_diag *d);

/*
 * Records what a check-in report says against the release the agent is
 * assigned to: crashes and refusals of that release's version (a
 * rollback the fleet server itself ordered is not one).  Only faults first
 * reported after the version was delivered will count; one claimed
 * before is kept as evidence of a lying agent.  One transaction.
 */
int rollout_observe(struct db *db, const char *agent_id, const struct report *rep,
		    struct ward_diag *d);

/* A number that changes whenever what some agent should run may have
 * changed (a ring started, a halt, a pin...); -1 on error. */
long long rollout_generation(struct db *db);

/* 1 if content is frozen fleet-wide (0 if not, or on error). */
int rollout_frozen(struct db *db);

/* Something agents must hear at once changed (a revocation...): held
 * check-ins are answered again. */
int rollout_wake(struct db *db, struct ward_diag *d);

/* The pins: [{group, version, sha256, since}]. */
int rollout_pins(struct db *db, json_t **out, struct ward_diag *d);

/* Releases (newest first) or one release with its rings, incidents,
 * timeline and why it waits. */
int rollout_releases(struct db *db, json_t **out, struct ward_diag *d);
int rollout_release(struct db *db, long long id, json_t **out, struct ward_diag *d);

#endif

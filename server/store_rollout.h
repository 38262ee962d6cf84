/*
 * store_rollout: what the release engine keeps — releases, which agents
 * each ring of a release selected, the faults agents report against a
 * release, its incidents and timeline, group pins, and the fleet-wide
 * settings the engine reads (content freeze, the generation that wakes
 * held check-ins).  The only place that knows those tables' SQL; the
 * engine (rollout*.c) sees typed rows.
 *
 * Atomicity.  Every function here is one statement, so atomic on its
 * own, except three that must run inside a rollout transaction:
 * store_release_facts (three reads that must agree), store_release_insert
 * (the next id, then the row) and store_release_halt (the release, its
 * incident and the audit line).  The engine's read-decide-write steps (a
 * tick, an operator's action, a new release, an agent's faults, a pin, a
 * freeze) each open one with store_rollout_begin: a write transaction
 * (SQLite: BEGIN IMMEDIATE, the database's single writer) that also holds
 * the rollout advisory lock (PostgreSQL: pg_advisory_xact_lock), so two
 * server threads or two servers on one database that tick at once decide
 * one after the other, the second reading what the first wrote.  Callers sharing a struct db
 * hold db_lock around it, as everywhere in the server.
 *
 * Text columns are bounded by the fields here: longer values are cut.
 */
#ifndef WARD_SERVER_STORE_ROLLOUT_H
#define WARD_SERVER_STORE_ROLLOUT_H

#include <stddef.h>
#include <stdint.h>

#include "server/db.h"
#include "server/gate.h"

/* A transaction for one decision of the engine (see above); end it with
 * store_rollout_commit or store_rollout_rollback. */
int store_rollout_begin(struct db *db, struct ward_diag *d);
int store_rollout_commit(struct db *db, struct ward_diag *d);
void store_rollout_rollback(struct db *db);

/* --- settings ------------------------------------------------------------------- */

/* One more generation: what agents should run changed. */
int store_generation_bump(struct db *db, struct ward_diag *d);
/* The generation (0 before the first bump). */
int store_generation(struct db *db, long long *gen, struct ward_diag *d);
/* Content freeze: *on is 1 if frozen. */
int store_freeze_get(struct db *db, int *on, struct ward_diag *d);
int store_freeze_set(struct db *db, int on, struct ward_diag *d);

/* --- releases ------------------------------------------------------------------- */

struct store_release {
	long long id, version, ring, ring_started, promote, created, updated;
	char bundle[65], state[16];
	char reason[300];  /* why it halted or who aborted it */
	char waiting[600]; /* why its ring waits, as last said */
	char *plan;	   /* its plan as JSON text (store_release_free) */
};

void store_release_free(struct store_release *r);
void store_releases_free(struct store_release *r, size_t n);

/* Release id into *r: *found 0 if there is none. */
int store_release_get(struct db *db, long long id, struct store_release *r, int *found,
		      struct ward_diag *d);
/* The oldest running release: *found 0 if none runs. */
int store_release_running(struct db *db, struct store_release *r, int *found, struct ward_diag *d);
/* Every release, newest first (*out: store_releases_free). */
int store_release_list(struct db *db, struct store_release **out, size_t *n, struct ward_diag *d);

/* The facts a new release is checked against. */
struct store_release_facts {
	long long version; /* of the bundle (found: bundle_found) */
	int bundle_found;
	long long active; /* releases running or paused */
	long long top;	  /* the highest completed version (found: top_found) */
	int top_found;
};
int store_release_facts(struct db *db, const char *sha256, struct store_release_facts *f,
			struct ward_diag *d);
/* Inserts a running release with the next id (*id); plan is JSON text. */
int store_release_insert(struct db *db, const char *sha256, long long version, const char *plan,
			 int64_t now, long long *id, struct ward_diag *d);

/* Ring ring of release id starts at now: its soak, no promotion, no wait. */
int store_release_start_ring(struct db *db, long long id, long long ring, int64_t now,
			     struct ward_diag *d);
/* running, paused or aborted (reason: NULL keeps the old one). */
int store_release_set_state(struct db *db, long long id, const char *state, const char *reason,
			    int64_t now, struct ward_diag *d);
/* The last ring passed: completed, waiting for nothing. */
int store_release_complete(struct db *db, long long id, int64_t now, struct ward_diag *d);
/* An operator ended the running ring's soak. */
int store_release_promote(struct db *db, long long id, int64_t now, struct ward_diag *d);
int store_release_set_waiting(struct db *db, long long id, const char *waiting,
			      struct ward_diag *d);
/* The running ring's soak starts again at now (after an unfreeze). */
int store_release_restart_soak(struct db *db, int64_t now, struct ward_diag *d);
/*
 * Halts release id in ring: its state and reason, an incident with
 * evidence (JSON text) and an audit line (detail: JSON text).  Three
 * statements: inside store_rollout_begin.
 */
int store_release_halt(struct db *db, long long id, long long ring, const char *reason,
		       const char *evidence, const char *detail, int64_t now, struct ward_diag *d);

/* --- rings: who a release selected -------------------------------------------- */

struct store_candidate {
	char agent_id[40], group[64];
};
/* Agents not revoked, not in a pinned group and not yet assigned to
 * release id, in no particular order (*out: free). */
int store_release_candidates(struct db *db, long long id, struct store_candidate **out, size_t *n,
			     struct ward_diag *d);
/* Assigns agent_id to ring of release id at now (an agent already
 * assigned keeps its ring). */
int store_release_assign(struct db *db, long long id, const char *agent_id, long long ring,
			 int64_t now, long long now_ms, struct ward_diag *d);
/* The release's assigned agents that are not revoked (*out: free). */
int store_ring_members(struct db *db, long long id, struct gate_member **out, size_t *n,
		       struct ward_diag *d);
/* Appends the faults agents reported against release id to *f (*nf
 * items, *cap allocated: ward_grow). */
int store_release_faults(struct db *db, long long id, struct gate_fault **f, size_t *nf,
			 size_t *cap, struct ward_diag *d);

struct store_alert_count {
	char agent_id[40];
	long long since;    /* alerts received since its assignment */
	long long before;   /* in the day before it */
	long long assigned; /* when (unix seconds) */
};
int store_release_alerts(struct db *db, long long id, struct store_alert_count **out, size_t *n,
			 struct ward_diag *d);

struct store_ring_count {
	long long ring, assigned, active; /* active: runs the version, seen since */
};
int store_ring_counts(struct db *db, long long id, struct store_ring_count **out, size_t *n,
		      struct ward_diag *d);

/* --- timeline and incidents ---------------------------------------------------- */

/* A line in release id's timeline. */
int store_timeline_add(struct db *db, long long id, long long ring, int64_t now, const char *text,
		       struct ward_diag *d);
/* The same line in the timeline of every running or paused release. */
int store_timeline_add_active(struct db *db, int64_t now, const char *text, struct ward_diag *d);

struct store_timeline_line {
	long long ts, ring;
	char text[700];
};
int store_timeline(struct db *db, long long id, struct store_timeline_line **out, size_t *n,
		   struct ward_diag *d);

struct store_incident {
	long long ts, ring;
	char reason[300];
	char *evidence; /* JSON text (store_incidents_free) */
};
int store_incidents(struct db *db, long long id, struct store_incident **out, size_t *n,
		    struct ward_diag *d);
void store_incidents_free(struct store_incident *in, size_t n);

/* --- what agents run -------------------------------------------------------------- */

struct store_target {
	long long version, size;
	char sha256[65];
	char state[16];		/* of the release (store_assignment_latest) */
	long long release_id;	/* of the assignment */
	long long delivered_ms; /* 0: not yet sent to the agent */
};
/* The bundle group is pinned to: *found 0 if none. */
int store_pin_target(struct db *db, const char *group, struct store_target *t, int *found,
		     struct ward_diag *d);
/* The newest release agent_id was assigned to, whatever its state. */
int store_assignment_latest(struct db *db, const char *agent_id, struct store_target *t, int *found,
			    struct ward_diag *d);
/* The newest running or paused release agent_id was assigned to (size
 * not read). */
int store_assignment_active(struct db *db, const char *agent_id, struct store_target *t, int *found,
			    struct ward_diag *d);
/* The fleet's current content: the newest completed release. */
int store_current_target(struct db *db, struct store_target *t, int *found, struct ward_diag *d);
/* The version reached agent_id at now_ms (the first time only counts). */
int store_assignment_delivered(struct db *db, long long id, const char *agent_id, long long now_ms,
			       struct ward_diag *d);
/* A fault agent_id reports against release id (kind: "crash" or a
 * refusal cause's name); the first report of a kind is kept. */
int store_fault_add(struct db *db, long long id, const char *agent_id, const char *kind,
		    int counted, long long now_ms, const char *detail, struct ward_diag *d);

/* --- pins ------------------------------------------------------------------------- */

/* The bundle stored as version: *found 0 if none. */
int store_bundle_by_version(struct db *db, long long version, char sha256[65], int *found,
			    struct ward_diag *d);
int store_pin_set(struct db *db, const char *group, const char *sha256, int64_t now,
		  struct ward_diag *d);
int store_pin_clear(struct db *db, const char *group, struct ward_diag *d);

struct store_pin {
	char group[64], sha256[65];
	long long version, since;
};
/* Pins by group name (*out: free). */
int store_pin_list(struct db *db, struct store_pin **out, size_t *n, struct ward_diag *d);

#endif

/*
 * store: everything the fleet server keeps, behind one narrow interface
 * over either database backend (db.h): enrollment tokens, agents, their
 * last check-in, their events, admin tokens and the audit log.  Each
 * function is one transaction; callers hold db_lock.  The release
 * engine's tables are store_rollout.h's, the exceptions store_except.c's.
 *
 * Secrets (enrollment tokens, agent secrets, admin tokens) are random
 * 256-bit values shown once; only their SHA-256 is stored.
 */
#ifndef WARD_SERVER_STORE_H
#define WARD_SERVER_STORE_H

#include <jansson.h>
#include <stdint.h>

#include "proto/enroll.h"
#include "server/db.h"

#define STORE_ID_LEN 32	    /* agent ids: 128 random bits, hex */
#define STORE_SECRET_LEN 64 /* secrets and tokens: 256 random bits, hex */
#define STORE_SCHEMA_VERSION 5

/* Creates or upgrades the schema (versioned migrations, run once even
 * with several servers starting together). */
int store_migrate(struct db *db, struct ward_diag *d);

/* A new enrollment token for group (may be ""), usable uses times
 * (0: unlimited) until expires (unix seconds; 0: never). */
int store_token_create(struct db *db, const char *group, long long uses, int64_t expires,
		       int64_t now, char token[STORE_SECRET_LEN + 1], struct ward_diag *d);

struct enroll_res {
	char agent_id[STORE_ID_LEN + 1];
	char secret[STORE_SECRET_LEN + 1];
	char group[64];
	/* "new"; "re-enrolled" (it proved the identity it held: same agent,
	 * new secret); "pending" (it claimed an existing agent's identity —
	 * same hardware — without its secret: the new secret works only once
	 * an operator approves, and the old one keeps working meanwhile);
	 * "clone" (same machine id on other hardware: a new agent, noted) */
	char how[16];
	char clone_of[STORE_ID_LEN + 1];
};

/*
 * Enrolls with a token (peer: the client's address, noted on a pending
 * request).  WARD_EVERIFY (with d) for an unknown, used-up or expired
 * token, or for a host whose agent is revoked (until an operator lifts
 * the revocation).  res->secret is wiped on failure.
 */
int store_enroll(struct db *db, const struct enroll_msg *q, const char *peer, int64_t now,
		 struct enroll_res *res, struct ward_diag *d);

enum store_auth { STORE_AUTH_OK, STORE_AUTH_UNKNOWN, STORE_AUTH_REVOKED, STORE_AUTH_PENDING };

/* 0 if agent_id and secret match an agent that is not revoked (group
 * filled in); WARD_EVERIFY otherwise, *why saying which (unknown or wrong
 * secret, revoked, or a secret still waiting for approval). */
int store_agent_auth(struct db *db, const char *agent_id, const char *secret, int *why,
		     char group[64], struct ward_diag *d);

/* Approves (approve = 1) or denies the re-enrolment waiting on agent_id:
 * WARD_EUNDEFINED when none waits. */
int store_agent_approve(struct db *db, const char *agent_id, int approve, struct ward_diag *d);

/* Records a check-in: its report (JSON text) and the fields read out of
 * it, and that the agent stays connected for hold_s (a long poll); *acked
 * is the highest committed event of the agent's journal journal_id (0 if
 * none, or another journal). */
int store_checkin(struct db *db, const char *agent_id, int64_t now, const char *report,
		  long long content_version, const char *mode, const char *journal_id,
		  long long hold_s, long long *acked, struct ward_diag *d);

/* A held check-in wakes: whether agent_id was revoked meanwhile, and
 * (if not) *acked as store_checkin says it. */
int store_agent_held(struct db *db, const char *agent_id, const char *journal_id, int *revoked,
		     long long *acked, struct ward_diag *d);

/*
 * Commits a batch of events of an agent's journal journal_id (seqs[i],
 * bodies[i]: JSON text) idempotently: a (journal, sequence number) already
 * stored is skipped.  *acked is then the highest committed sequence
 * number of that journal.  A new journal id (the agent lost its state)
 * starts the count again.
 */
int store_events_commit(struct db *db, const char *agent_id, const char *journal_id,
			const long long *seqs, const char *const *bodies, const char *const *kinds,
			size_t n, int64_t now, long long *acked, struct ward_diag *d);

/* Content signing keys trusted at run time (besides content.trusted_keys):
 * added (WARD_EDUPLICATE if it is already), removed (WARD_EUNDEFINED if
 * it was not added so), listed as [{key_id, pem, added, by}]. */
int store_key_put(struct db *db, const char *key_id, const char *pem, const char *who, int64_t now,
		  struct ward_diag *d);
int store_key_remove(struct db *db, const char *key_id, struct ward_diag *d);
int store_keys(struct db *db, json_t **out, struct ward_diag *d);

/* Stores a verified bundle's bytes (idempotent by sha256). */
int store_bundle_put(struct db *db, const char *sha256, const char *name, long long version,
		     const void *data, size_t len, int64_t now, struct ward_diag *d);
/* The bundle's bytes (*data: ward_free), WARD_EUNDEFINED if none. */
int store_bundle_get(struct db *db, const char *sha256, void **data, size_t *len,
		     struct ward_diag *d);

/* Agents as a JSON array (revoked ones too, flagged): times as RFC 3339,
 * "connected" when a long poll of theirs is held at now. */
int store_agents(struct db *db, int64_t now, json_t **out, struct ward_diag *d);

/* How many agents: {total, revoked, pending, connected (a long poll
 * held at now), by_content_version: {"N": count}} (not revoked). */
int store_agent_counts(struct db *db, int64_t now, json_t **out, struct ward_diag *d);

/* Events of an agent (or all, agent_id NULL) with seq > since, oldest
 * first, at most limit, as a JSON array of {agent_id, seq, event}. */
int store_events(struct db *db, const char *agent_id, long long since, long long limit,
		 json_t **out, struct ward_diag *d);

/* Revokes an agent (revoke = 1; a waiting re-enrolment goes too), or
 * lifts its revocation (0): WARD_EUNDEFINED when there is no such agent
 * in the state to change. */
int store_agent_revoke(struct db *db, const char *agent_id, int64_t now, int revoke,
		       struct ward_diag *d);

/* Admin API tokens: role is viewer, operator or admin. */
int store_admin_token_create(struct db *db, const char *name, const char *role, int64_t now,
			     char token[STORE_SECRET_LEN + 1], struct ward_diag *d);
/* 0 with role and name, or WARD_EVERIFY. */
int store_admin_auth(struct db *db, const char *token, char role[16], char name[64],
		     struct ward_diag *d);

/* Appends to the audit log: who did what, with detail (JSON text). */
int store_audit(struct db *db, const char *who, const char *action, const char *detail,
		int64_t now, struct ward_diag *d);
int store_audit_list(struct db *db, long long limit, json_t **out, struct ward_diag *d);

/*
 * Retention: removes events received more than events_days ago (at most
 * STORE_PURGE_ROWS of them per call, so that the write lock is short) and
 * audit entries older than audit_days (0: keep for ever).  *deleted is
 * how many rows went; call again while it is STORE_PURGE_ROWS or more.
 */
#define STORE_PURGE_ROWS 10000
#define STORE_PURGE_ROWS_TEXT "10000"
int store_purge(struct db *db, int64_t now, unsigned events_days, unsigned audit_days,
		long long *deleted, struct ward_diag *d);

/*
 * The fleet's exceptions to verdicts (store_except.c): for every agent
 * (group "") or one group's, at most WARD_MAX_EXCEPTIONS in all.  Each
 * change raises their revision (which agents report back, so that the
 * server knows who has the list of now) and wakes held check-ins.
 */
/* Adds an exception: spec its text form, entry its JSON (checked by the
 * caller with the exceptions parser).  *id is its number (also the new
 * revision).  WARD_EDUPLICATE (the same for that group exists: d names
 * it), WARD_ELIMIT. */
int store_except_add(struct db *db, const char *group, const char *spec, const char *entry,
		     const char *who, int64_t now, long long *id, struct ward_diag *d);
/* Removes exception id; *removed (owned by the caller) is what it was.
 * WARD_EUNDEFINED when there is none. */
int store_except_remove(struct db *db, long long id, json_t **removed, struct ward_diag *d);
/* All of them, oldest first: [{id, group, match, added, by, sha256|path|rule, reason}]. */
int store_except_list(struct db *db, json_t **out, struct ward_diag *d);
/* The revision of the list (0: never changed). */
long long store_except_revision(struct db *db);
/* What an agent of group gets: *list [{id, added, by, sha256|path|rule,
 * reason}] of the fleet's and its group's, and the revision it is of
 * (read first: a change in between makes it older, never newer). */
int store_except_for(struct db *db, const char *group, long long *revision, json_t **list,
		     struct ward_diag *d);

/* Random hex of n bytes into out (2n + 1). */
int store_random_hex(char *out, size_t nbytes);

#endif

/*
 * rollout_agent: what the release engine tells an agent and hears from it
 * — the content it should run, when a version reached it, and the faults
 * it reports against the release it was assigned.  See rollout.h.
 *
 * Must hold: a release's version reaches only agents a ring of it
 * selected; a fault counts only if the agent first reported it after the
 * version was delivered to it, and only for that release's version.
 * agent_faults.kind is "crash" (the agent reported a crash) or the name of
 * a refusal's cause (rows written before causes say "refused": a plain
 * refusal).
 */
#include "server/rollout_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- what an agent should run ---------------------------------------------------- */

struct target {
	int found;
	char state[16], sha[65];
	long long version, size;
	long long release_id, delivered_ms; /* of an assignment */
};

static int
on_target(void *arg, int ncols, const char *const *v)
{
	struct target *t = arg;

	if (t->found)
		return 0;
	t->found = 1;
	snprintf(t->state, sizeof(t->state), "%s", ncols > 3 && v[3] != NULL ? v[3] : "");
	t->version = atoll(v[0]);
	snprintf(t->sha, sizeof(t->sha), "%s", v[1]);
	t->size = atoll(v[2]);
	t->release_id = ncols > 5 ? atoll(v[4]) : 0;
	t->delivered_ms = ncols > 5 ? atoll(v[5]) : 0;
	return 0;
}

static json_t *
target_json(const struct target *t)
{
	char url[128];

	snprintf(url, sizeof(url), "/api/v1/bundles/%s", t->sha);
	return json_pack("{s:I, s:s, s:I, s:s}", "version", (json_int_t)t->version, "sha256",
			 t->sha, "size", (json_int_t)t->size, "url", url);
}

int
rollout_desired(struct db *db, const char *agent_id, const char *group, json_t **out,
		long long *deliver, struct ward_diag *d)
{
	struct target t;
	char frozen[8];
	const char *q[1];
	json_t *o = NULL;
	int r;

	*out = NULL;
	*deliver = 0;
	if ((r = db_scalar(db, "SELECT value FROM settings WHERE name = 'freeze'", NULL, 0, frozen,
			   sizeof(frozen), d)) != 0)
		return r;
	if (strcmp(frozen, "1") == 0)
		return 0; /* frozen: everyone keeps what they run */
	memset(&t, 0, sizeof(t));
	q[0] = group;
	if ((r = db_exec(db,
			 "SELECT b.version, b.sha256, b.size FROM pins p JOIN bundles b"
			 " ON b.sha256 = p.bundle WHERE p.grp = $1",
			 q, 1, on_target, &t, d)) != 0)
		return r;
	if (t.found) {
		*out = target_json(&t);
		return 0;
	}
	q[0] = agent_id;
	if ((r = db_exec(db,
			 "SELECT r.version, b.sha256, b.size, r.state, r.id, ra.delivered_ms"
			 " FROM release_agents ra JOIN releases r ON r.id = ra.release_id"
			 " JOIN bundles b ON b.sha256 = r.bundle WHERE ra.agent_id = $1"
			 " ORDER BY r.id DESC LIMIT 1",
			 q, 1, on_target, &t, d)) != 0)
		return r;
	if (t.found && (strcmp(t.state, "running") == 0 || strcmp(t.state, "paused") == 0)) {
		*out = target_json(&t);
		if (t.delivered_ms == 0)
			*deliver = t.release_id;
		return 0;
	}
	if (t.found && strcmp(t.state, "completed") != 0) /* stopped: back to last-known-good */
		o = json_pack("{s:I}", "rollback_from", (json_int_t)t.version);
	/* Otherwise the fleet's current content: the newest completed release. */
	memset(&t, 0, sizeof(t));
	if ((r = db_exec(db,
			 "SELECT r.version, b.sha256, b.size FROM releases r JOIN bundles b"
			 " ON b.sha256 = r.bundle WHERE r.state = 'completed' ORDER BY r.id DESC"
			 " LIMIT 1",
			 NULL, 0, on_target, &t, d)) != 0) {
		json_decref(o);
		return r;
	}
	if (t.found) {
		json_t *b = target_json(&t);

		if (o != NULL) {
			json_object_update(b, o);
			json_decref(o);
		}
		o = b;
	}
	*out = o;
	return 0;
}

int
rollout_delivered(struct db *db, long long release_id, const char *agent_id, struct ward_diag *d)
{
	char rid[24], ms[24];
	const char *q[3] = {rid, agent_id, ms};

	rollout_lltoa(release_id, rid);
	rollout_lltoa(rollout_now_ms(), ms);
	return db_exec(db,
		       "UPDATE release_agents SET delivered_ms = $3 WHERE release_id = $1"
		       " AND agent_id = $2 AND delivered_ms = 0",
		       q, 3, NULL, NULL, d);
}

/* The agent's assignment to a release that is still going. */
struct assignment {
	int found;
	long long release_id, version, delivered_ms;
};

static int
on_assignment(void *arg, int ncols, const char *const *v)
{
	struct assignment *a = arg;

	(void)ncols;
	a->found = 1;
	a->release_id = atoll(v[0]);
	a->version = atoll(v[1]);
	a->delivered_ms = atoll(v[2]);
	return 0;
}

static int
record_fault(struct db *db, const struct assignment *as, const char *agent_id, const char *kind,
	     const char *detail, struct ward_diag *d)
{
	char rid[24], ms[24];
	const char *q[6] = {rid, agent_id, kind, as->delivered_ms > 0 ? "1" : "0", ms, detail};

	rollout_lltoa(as->release_id, rid);
	rollout_lltoa(rollout_now_ms(), ms);
	/* The first report of a fault decides whether it counts: a fault
	 * claimed before the version reached the agent never will. */
	return db_exec(db,
		       "INSERT INTO agent_faults (release_id, agent_id, kind, counted, reported_ms,"
		       " detail) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
		       q, 6, NULL, NULL, d);
}

int
rollout_observe(struct db *db, const char *agent_id, const struct report *rep, struct ward_diag *d)
{
	struct assignment as;
	const char *q[1] = {agent_id};
	unsigned i;
	int r;

	if (rep->nrefusals == 0 && rep->ncrashes == 0)
		return 0; /* the usual check-in: nothing to look up */
	memset(&as, 0, sizeof(as));
	if ((r = db_begin_write(db, d)) != 0)
		return r;
	if ((r = db_exec(db,
			 "SELECT ra.release_id, r.version, ra.delivered_ms FROM release_agents ra"
			 " JOIN releases r ON r.id = ra.release_id WHERE ra.agent_id = $1 AND"
			 " r.state IN ('running', 'paused') ORDER BY r.id DESC LIMIT 1",
			 q, 1, on_assignment, &as, d)) != 0)
		goto fail;
	for (i = 0; as.found && r == 0 && i < rep->ncrashes; i++)
		if (rep->crashes[i].version == as.version)
			r = record_fault(db, &as, agent_id, "crash", "the agent crashed with it",
					 d);
	/* A refusal is kept under its cause's name; what it counts as is the
	 * gate's to say (gate_refusal_kind). */
	for (i = 0; as.found && r == 0 && i < rep->nrefusals; i++) {
		const struct report_refusal *f = &rep->refusals[i];

		if (f->version == as.version)
			r = record_fault(db, &as, agent_id, cause_name(f->cause), f->reason, d);
	}
	if (r != 0)
		goto fail;
	return db_commit(db, d);
fail:
	db_rollback(db);
	return r;
}

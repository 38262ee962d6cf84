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

static json_t *
target_json(const struct store_target *t)
{
	char url[128];

	snprintf(url, sizeof(url), "/api/v1/bundles/%s", t->sha256);
	return json_pack("{s:I, s:s, s:I, s:s}", "version", (json_int_t)t->version, "sha256",
			 t->sha256, "size", (json_int_t)t->size, "url", url);
}

int
rollout_desired(struct db *db, const char *agent_id, const char *group, json_t **out,
		long long *deliver, struct ward_diag *d)
{
	struct store_target t;
	json_t *o = NULL;
	int frozen, found, r;

	*out = NULL;
	*deliver = 0;
	if ((r = store_freeze_get(db, &frozen, d)) != 0)
		return r;
	if (frozen)
		return 0; /* frozen: everyone keeps what they run */
	if ((r = store_pin_target(db, group, &t, &found, d)) != 0)
		return r;
	if (found) {
		*out = target_json(&t);
		return 0;
	}
	if ((r = store_assignment_latest(db, agent_id, &t, &found, d)) != 0)
		return r;
	if (found && (strcmp(t.state, "running") == 0 || strcmp(t.state, "paused") == 0)) {
		*out = target_json(&t);
		if (t.delivered_ms == 0)
			*deliver = t.release_id;
		return 0;
	}
	if (found && strcmp(t.state, "completed") != 0) /* stopped: back to last-known-good */
		o = json_pack("{s:I}", "rollback_from", (json_int_t)t.version);
	/* Otherwise the fleet's current content: the newest completed release. */
	if ((r = store_current_target(db, &t, &found, d)) != 0) {
		json_decref(o);
		return r;
	}
	if (found) {
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
	return store_assignment_delivered(db, release_id, agent_id, rollout_now_ms(), d);
}

/* The first report of a fault decides whether it counts: a fault claimed
 * before the version reached the agent never will. */
static int
record_fault(struct db *db, const struct store_target *as, const char *agent_id, const char *kind,
	     const char *detail, struct ward_diag *d)
{
	return store_fault_add(db, as->release_id, agent_id, kind, as->delivered_ms > 0,
			       rollout_now_ms(), detail, d);
}

int
rollout_observe(struct db *db, const char *agent_id, const struct report *rep, struct ward_diag *d)
{
	struct store_target as;
	unsigned i;
	int found = 0, r;

	if (rep->nrefusals == 0 && rep->ncrashes == 0)
		return 0; /* the usual check-in: nothing to look up */
	if ((r = store_rollout_begin(db, d)) != 0)
		return r;
	if ((r = store_assignment_active(db, agent_id, &as, &found, d)) != 0)
		goto fail;
	for (i = 0; found && r == 0 && i < rep->ncrashes; i++)
		if (rep->crashes[i].version == as.version)
			r = record_fault(db, &as, agent_id, "crash", "the agent crashed with it",
					 d);
	/* A refusal is kept under its cause's name; what it counts as is the
	 * gate's to say (gate_refusal_kind). */
	for (i = 0; found && r == 0 && i < rep->nrefusals; i++) {
		const struct report_refusal *f = &rep->refusals[i];

		if (f->version == as.version)
			r = record_fault(db, &as, agent_id, cause_name(f->cause), f->reason, d);
	}
	if (r != 0)
		goto fail;
	return store_rollout_commit(db, d);
fail:
	store_rollout_rollback(db);
	return r;
}

/*
 * rollout: the release engine.  See rollout.h.
 *
 * Must hold: every decision (start a ring, halt, advance, complete) is
 * made inside one write transaction holding the rollout lock, so several
 * servers on one database make it once; a release never reaches an agent
 * that no ring of it selected; a halt is never undone by the engine (only
 * an operator's new release moves the fleet on).
 *
 * The engine knows no SQL: it reads a release and its agents, faults and
 * alert counts through store_rollout.h, asks gate_decide (pure, gate.c)
 * and writes what was decided back through the store, all inside one
 * store_rollout_begin transaction.  Plans are parsed by rollout_parse_plan
 * (rollout_view.c), which touches no database.
 */
#include "server/rollout_int.h"
#include "crypto/digest.h"
#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What agents should run changed: held check-ins are looked at again. */
int
rollout_bump(struct db *db, struct ward_diag *d)
{
	return store_generation_bump(db, d);
}

long long
rollout_generation(struct db *db)
{
	struct ward_diag d;
	long long gen;

	return store_generation(db, &gen, &d) != 0 ? -1 : gen;
}

int
rollout_note(struct db *db, long long id, long long ring, int64_t now, struct ward_diag *d,
	     const char *fmt, ...)
{
	char text[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return store_timeline_add(db, id, ring, now, text, d);
}

int
rollout_wake(struct db *db, struct ward_diag *d)
{
	return rollout_bump(db, d);
}

int
rollout_frozen(struct db *db)
{
	struct ward_diag d;
	int on;

	return store_freeze_get(db, &on, &d) == 0 && on;
}

/* --- releases -------------------------------------------------------------- */

/* A release as the engine reads it: the stored row and its parsed plan. */
struct release {
	struct store_release row;
	struct plan plan;
};

/* Reads release id (or, id < 0, the oldest running one) into *rel. */
static int
release_read(struct db *db, long long id, struct release *rel, int *found, struct ward_diag *d)
{
	struct ward_diag pd;
	int r;

	memset(rel, 0, sizeof(*rel));
	r = id < 0 ? store_release_running(db, &rel->row, found, d)
		   : store_release_get(db, id, &rel->row, found, d);
	/* A stored plan was checked when the release was made: one that no
	 * longer parses has no rings, and the engine leaves it alone. */
	if (r == 0 && *found &&
	    rollout_parse_plan(rel->row.plan, strlen(rel->row.plan), &rel->plan, &pd) != 0)
		memset(&rel->plan, 0, sizeof(rel->plan));
	return r;
}

int
rollout_create(struct db *db, const char *sha256, const struct plan *p, int64_t now, long long *id,
	       struct ward_diag *d)
{
	struct store_release_facts f;
	char *plan = NULL;
	json_t *pj = rollout_plan_json(p);
	int r;

	plan = json_dumps(pj, JSON_COMPACT);
	json_decref(pj);
	if (plan == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if ((r = store_rollout_begin(db, d)) != 0) {
		free(plan);
		return r;
	}
	if ((r = store_release_facts(db, sha256, &f, d)) != 0)
		goto fail;
	if (!f.bundle_found) {
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no stored bundle %s", sha256);
		goto fail;
	}
	if (f.active > 0) {
		r = diag_set(d, WARD_EDUPLICATE, NULL, 0, 0,
			     "another release is running or paused: let it finish, or abort it");
		goto fail;
	}
	if (f.top_found && f.version <= f.top) {
		r = diag_set(
		    d, WARD_EINVAL, NULL, 0, 0,
		    "version %lld is not above the fleet's current version %lld (agents refuse "
		    "to go back: publish the old content again as a new version)",
		    f.version, f.top);
		goto fail;
	}
	if ((r = store_release_insert(db, sha256, f.version, plan, now, id, d)) != 0 ||
	    (r = rollout_note(db, *id, -1, now, d, "published: version %lld in %u ring(s)%s",
			      f.version, p->nrings,
			      rollout_frozen(db) ? " (content is frozen: it waits for unfreeze)"
						 : "")) != 0)
		goto fail;
	free(plan);
	return store_rollout_commit(db, d);
fail:
	free(plan);
	store_rollout_rollback(db);
	return r;
}

/* --- the engine ---------------------------------------------------------------- */

struct cand {
	struct store_candidate a;
	uint64_t h;
};

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->h < y->h ? -1 : x->h > y->h;
}

long long
rollout_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Assigns ring k's agents and starts its soak. */
static int
start_ring(struct db *db, struct release *rel, long long k, int64_t now, struct ward_diag *d)
{
	const struct ring_plan *rp = &rel->plan.rings[k];
	struct store_candidate *sc = NULL;
	struct cand *cs = NULL;
	size_t i, n = 0, take = 0, sel = 0;
	long long now_ms = rollout_now_ms();
	int r;

	if ((r = store_release_candidates(db, rel->row.id, &sc, &n, d)) != 0)
		goto out;
	if (n > 0 && (cs = ward_calloc(n, sizeof(*cs))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint8_t md[32];

		cs[i].a = sc[i];
		/* The stable order of the fleet: a hash of the agent id. */
		(void)digest_buf(DIGEST_SHA256, cs[i].a.agent_id, strlen(cs[i].a.agent_id), md,
				 sizeof(md));
		memcpy(&cs[i].h, md, sizeof(cs[i].h));
	}
	if (n > 0)
		qsort(cs, n, sizeof(*cs), cand_cmp);
	if (rp->ngroups > 0) {
		for (i = 0; i < n; i++) {
			unsigned g;
			int in = 0;

			for (g = 0; g < rp->ngroups; g++)
				in |= strcmp(cs[i].a.group, rp->groups[g]) == 0;
			if (in)
				cs[sel++] = cs[i];
		}
		take = sel;
	} else {
		take = (size_t)ceil(rp->percent / 100.0 * (double)n - 1e-9);
		if (rp->min > 0 && take < (size_t)rp->min)
			take = (size_t)rp->min;
		if (rp->max > 0 && take > (size_t)rp->max)
			take = (size_t)rp->max;
		if (take > n)
			take = n;
	}
	for (i = 0; i < take && r == 0; i++)
		r = store_release_assign(db, rel->row.id, cs[i].a.agent_id, k, now, now_ms, d);
	if (r == 0)
		r = store_release_start_ring(db, rel->row.id, k, now, d);
	if (r == 0)
		r = rollout_note(db, rel->row.id, k, now, d,
				 "ring %lld (%s) started: %zu agent(s), soak %lld s", k, rp->name,
				 take, rp->soak_s);
	if (r == 0)
		r = rollout_bump(db, d);
out:
	ward_free(sc);
	ward_free(cs);
	return r;
}

/* Alert storms: agents whose alerts since the version outnumber, by the
 * gate's factor, what their day before it would have made. */
static int
add_storms(const struct gate *gt, const struct store_alert_count *c, size_t n, int64_t now,
	   struct gate_fault **f, size_t *nf, size_t *cap)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double window =
		    (double)(now - c[i].assigned) > 1 ? (double)(now - c[i].assigned) : 1;
		double expected = (double)c[i].before / 86400.0 * window;
		struct gate_fault *g;

		if (c[i].since < gt->alert_min || c[i].since <= gt->alert_factor * expected)
			continue;
		if (ward_grow(f, cap, *nf + 1, sizeof(**f)) != 0)
			return WARD_ENOMEM;
		g = &(*f)[(*nf)++];
		memset(g, 0, sizeof(*g));
		snprintf(g->agent_id, sizeof(g->agent_id), "%s", c[i].agent_id);
		g->kind = GATE_STORM;
		g->counted = 1;
		g->reported_ms = (long long)now * 1000;
		snprintf(g->detail, sizeof(g->detail),
			 "%lld alerts since the version; %.1f expected", c[i].since, expected);
	}
	return 0;
}

static int
halt(struct db *db, const struct release *rel, const char *reason, json_t *evidence, int64_t now,
     struct ward_diag *d)
{
	char *ev = json_dumps(evidence, JSON_COMPACT), *text;
	json_t *detail =
	    json_pack("{s:I, s:I, s:s, s:O}", "release", (json_int_t)rel->row.id, "ring",
		      (json_int_t)rel->row.ring, "reason", reason, "evidence", evidence);
	int r;

	text = json_dumps(detail, JSON_COMPACT);
	r = store_release_halt(db, rel->row.id, rel->row.ring, reason, ev != NULL ? ev : "{}",
			       text != NULL ? text : "{}", now, d);
	if (r == 0)
		r = rollout_bump(db, d);
	free(text);
	json_decref(detail);
	free(ev);
	return r;
}

static int
evaluate(struct db *db, struct release *rel, int64_t now, long long interval_s, struct ward_diag *d)
{
	struct gate_member *m = NULL;
	struct gate_fault *f = NULL;
	struct store_alert_count *ac = NULL;
	size_t nm = 0, nf = 0, fcap = 0, na = 0;
	struct gate_input in;
	struct gate_result res;
	json_t *evidence = NULL;
	enum gate_verdict v;
	long long soak_end;
	int r;

	if ((r = store_ring_members(db, rel->row.id, &m, &nm, d)) != 0 ||
	    (r = store_release_faults(db, rel->row.id, &f, &nf, &fcap, d)) != 0 ||
	    (r = store_release_alerts(db, rel->row.id, &ac, &na, d)) != 0)
		goto out;
	if (add_storms(&rel->plan.gate, ac, na, now, &f, &nf, &fcap) != 0) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	memset(&in, 0, sizeof(in));
	in.g = &rel->plan.gate;
	in.version = rel->row.version;
	in.ring = rel->row.ring;
	soak_end = rel->row.ring_started + rel->plan.rings[rel->row.ring].soak_s;
	in.soak_over = now >= soak_end || rel->row.promote;
	in.stalled_s = now > soak_end ? now - soak_end : 0;
	in.now_ms = rollout_now_ms();
	in.silent_after_ms = rel->plan.gate.silent_checkins * interval_s * 1000;
	in.m = m;
	in.nm = nm;
	in.f = f;
	in.nf = nf;
	v = gate_decide(&in, &res);
	evidence = res.evidence;
	if (v == GATE_HALT) {
		r = halt(db, rel, res.reason, evidence, now, d);
	} else if (v == GATE_PASS || v == GATE_SKIP) {
		r = rollout_note(db, rel->row.id, rel->row.ring, now, d, "%s", res.note);
		if (r == 0 && rel->row.ring + 1 >= (long long)rel->plan.nrings) {
			r = store_release_complete(db, rel->row.id, now, d);
			if (r == 0)
				r = rollout_note(db, rel->row.id, rel->row.ring, now, d,
						 "completed");
			if (r == 0)
				r = rollout_bump(db, d);
		} else if (r == 0) {
			r = start_ring(db, rel, rel->row.ring + 1, now, d);
		}
	} else if (strcmp(res.note, rel->row.waiting) != 0) {
		/* Why it waits changed: said once, on the release and in its
		 * timeline. */
		r = store_release_set_waiting(db, rel->row.id, res.note, d);
		if (r == 0 && res.note[0] != '\0')
			r = rollout_note(db, rel->row.id, rel->row.ring, now, d, "%s", res.note);
	}
out:
	json_decref(evidence);
	ward_free(m);
	ward_free(f);
	ward_free(ac);
	return r;
}

int
rollout_tick(struct db *db, int64_t now, long long interval_s, struct ward_diag *d)
{
	struct release rel;
	int found = 0, r;

	memset(&rel, 0, sizeof(rel));
	if ((r = store_rollout_begin(db, d)) != 0)
		return r;
	if ((r = release_read(db, -1, &rel, &found, d)) != 0)
		goto fail;
	if (found && rel.plan.nrings > 0 && rollout_frozen(db)) {
		/* Frozen: nothing reaches the agents, so nothing is decided;
		 * the soak starts again at unfreeze (rollout_freeze). */
	} else if (found && rel.plan.nrings > 0 && rel.row.ring < (long long)rel.plan.nrings) {
		if (rel.row.ring < 0)
			r = start_ring(db, &rel, 0, now, d);
		else
			r = evaluate(db, &rel, now, interval_s, d);
		if (r != 0)
			goto fail;
	}
	store_release_free(&rel.row);
	return store_rollout_commit(db, d);
fail:
	store_release_free(&rel.row);
	store_rollout_rollback(db);
	return r;
}

int
rollout_action(struct db *db, long long id, const char *action, const char *who, int64_t now,
	       struct ward_diag *d)
{
	struct release rel;
	const char *st;
	char reason[160];
	int found = 0, ok = 0, r;

	memset(&rel, 0, sizeof(rel));
	if ((r = store_rollout_begin(db, d)) != 0)
		return r;
	if ((r = release_read(db, id, &rel, &found, d)) != 0)
		goto fail;
	if (!found) {
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no release %lld", id);
		goto fail;
	}
	st = rel.row.state;
	if (strcmp(action, "promote") == 0 && rollout_frozen(db)) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
			     "content is frozen fleet-wide: no agent can take release %lld, so its "
			     "ring cannot be promoted (ward fleet unfreeze first)",
			     id);
		goto fail;
	}
	if (strcmp(action, "pause") == 0 && strcmp(st, "running") == 0) {
		ok = 1;
		r = store_release_set_state(db, id, "paused", NULL, now, d);
	} else if (strcmp(action, "resume") == 0 && strcmp(st, "paused") == 0) {
		ok = 1;
		r = store_release_set_state(db, id, "running", NULL, now, d);
	} else if (strcmp(action, "promote") == 0 && strcmp(st, "running") == 0 &&
		   rel.row.ring >= 0) {
		ok = 1;
		r = store_release_promote(db, id, now, d);
	} else if (strcmp(action, "abort") == 0 &&
		   (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0)) {
		ok = 1;
		snprintf(reason, sizeof(reason), "aborted by %.100s", who);
		r = store_release_set_state(db, id, "aborted", reason, now, d);
	}
	if (!ok) {
		r = diag_set(
		    d, WARD_EINVAL, NULL, 0, 0, "release %lld is %s%s: cannot %s it", id, st,
		    rel.row.ring < 0 && strcmp(action, "promote") == 0 ? " (no ring started yet)"
								       : "",
		    action);
		goto fail;
	}
	if (r != 0 ||
	    (r = rollout_note(db, id, rel.row.ring, now, d, "%s by %.100s",
			      strcmp(action, "pause") == 0     ? "paused"
			      : strcmp(action, "resume") == 0  ? "resumed"
			      : strcmp(action, "promote") == 0 ? "soak ended (promoted)"
							       : "aborted",
			      who)) != 0 ||
	    (r = rollout_bump(db, d)) != 0)
		goto fail;
	store_release_free(&rel.row);
	return store_rollout_commit(db, d);
fail:
	store_release_free(&rel.row);
	store_rollout_rollback(db);
	return r;
}

/* Pins and freezes are decisions too: one transaction under the rollout
 * lock, so a tick sees all of one or none of it (an unfreeze and the soak
 * it restarts together). */
int
rollout_pin(struct db *db, const char *group, long long version, int64_t now, struct ward_diag *d)
{
	char sha[65];
	int found = 0, r;

	if ((r = store_rollout_begin(db, d)) != 0)
		return r;
	if (version == 0) {
		r = store_pin_clear(db, group, d);
	} else if ((r = store_bundle_by_version(db, version, sha, &found, d)) == 0) {
		if (!found)
			r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0,
				     "no stored bundle has version %lld", version);
		else
			r = store_pin_set(db, group, sha, now, d);
	}
	if (r == 0)
		r = rollout_bump(db, d);
	if (r != 0) {
		store_rollout_rollback(db);
		return r;
	}
	return store_rollout_commit(db, d);
}

int
rollout_freeze(struct db *db, int on, int64_t now, struct ward_diag *d)
{
	int was = 0, r;

	if ((r = store_rollout_begin(db, d)) != 0)
		return r;
	r = store_freeze_get(db, &was, d);
	if (r == 0)
		r = store_freeze_set(db, on, d);
	if (r == 0 && was && !on) /* the running ring's soak starts again */
		r = store_release_restart_soak(db, now, d);
	if (r == 0 && was != on)
		r = store_timeline_add_active(db, now,
					      on ? "content frozen fleet-wide: the release waits"
						 : "content unfrozen: the ring's soak starts again",
					      d);
	if (r == 0)
		r = rollout_bump(db, d);
	if (r != 0) {
		store_rollout_rollback(db);
		return r;
	}
	return store_rollout_commit(db, d);
}

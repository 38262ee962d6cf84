/*
 * rollout: the release engine.  See rollout.h.
 *
 * Must hold: every decision (start a ring, halt, advance, complete) is
 * made inside one write transaction holding the rollout lock, so several
 * servers on one database make it once; a release never reaches an agent
 * that no ring of it selected; a halt is never undone by the engine (only
 * an operator's new release moves the fleet on).
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

void
rollout_lltoa(long long v, char out[24])
{
	snprintf(out, 24, "%lld", v);
}

/* What agents should run changed: held check-ins are looked at again. */
int
rollout_bump(struct db *db, struct ward_diag *d)
{
	return db_exec(db,
		       "INSERT INTO settings (name, value) VALUES ('generation', '1')"
		       " ON CONFLICT (name) DO UPDATE SET"
		       " value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)",
		       NULL, 0, NULL, NULL, d);
}

long long
rollout_generation(struct db *db)
{
	struct ward_diag d;
	char v[24];

	if (db_scalar(db, "SELECT value FROM settings WHERE name = 'generation'", NULL, 0, v,
		      sizeof(v), &d) != 0)
		return -1;
	return atoll(v);
}

int
rollout_note(struct db *db, long long id, long long ring, int64_t now, struct ward_diag *d,
	     const char *fmt, ...)
{
	char rid[24], n[24], rg[24], text[700];
	const char *q[4] = {rid, n, rg, text};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	rollout_lltoa(id, rid);
	rollout_lltoa(now, n);
	rollout_lltoa(ring, rg);
	return db_exec(db,
		       "INSERT INTO release_log (release_id, n, ts, ring, text) VALUES ($1,"
		       " (SELECT coalesce(max(n), 0) + 1 FROM release_log WHERE release_id = $1),"
		       " $2, $3, $4)",
		       q, 4, NULL, NULL, d);
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
	char v[8];

	return db_scalar(db, "SELECT value FROM settings WHERE name = 'freeze'", NULL, 0, v,
			 sizeof(v), &d) == 0 &&
	       strcmp(v, "1") == 0;
}

/* --- releases -------------------------------------------------------------- */

struct release {
	int found;
	long long id, version, ring, ring_started, promote;
	char bundle[65], state[16];
	char waiting[600]; /* why its ring waits, as last said */
	struct plan plan;
};

static int
on_release(void *arg, int ncols, const char *const *v)
{
	struct release *r = arg;
	struct ward_diag d;

	(void)ncols;
	r->found = 1;
	r->id = atoll(v[0]);
	snprintf(r->bundle, sizeof(r->bundle), "%s", v[1]);
	r->version = atoll(v[2]);
	(void)rollout_parse_plan(v[3], strlen(v[3]), &r->plan, &d);
	snprintf(r->state, sizeof(r->state), "%s", v[4]);
	r->ring = atoll(v[5]);
	r->ring_started = atoll(v[6]);
	r->promote = atoll(v[7]);
	snprintf(r->waiting, sizeof(r->waiting), "%s", v[8]);
	return 0;
}

#define RELEASE_COLS "id, bundle, version, plan, state, ring, ring_started, promote, waiting"

int
rollout_create(struct db *db, const char *sha256, const struct plan *p, int64_t now, long long *id,
	       struct ward_diag *d)
{
	char busy[24], ver[24], top[24], next[24], n[24], *plan = NULL;
	json_t *pj = rollout_plan_json(p);
	const char *q[6];
	int r;

	plan = json_dumps(pj, JSON_COMPACT);
	json_decref(pj);
	if (plan == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if ((r = db_begin_write(db, d)) != 0 || (r = db_xact_lock(db, LOCK_ROLLOUT, d)) != 0)
		goto fail;
	q[0] = sha256;
	if ((r = db_scalar(db, "SELECT version FROM bundles WHERE sha256 = $1", q, 1, ver,
			   sizeof(ver), d)) != 0 ||
	    (r = db_scalar(db, "SELECT count(*) FROM releases WHERE state IN ('running', 'paused')",
			   NULL, 0, busy, sizeof(busy), d)) != 0 ||
	    (r = db_scalar(db, "SELECT max(version) FROM releases WHERE state = 'completed'", NULL,
			   0, top, sizeof(top), d)) != 0 ||
	    (r = db_scalar(db, "SELECT coalesce(max(id), 0) + 1 FROM releases", NULL, 0, next,
			   sizeof(next), d)) != 0)
		goto fail;
	if (ver[0] == '\0') {
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no stored bundle %s", sha256);
		goto fail;
	}
	if (atoll(busy) > 0) {
		r = diag_set(d, WARD_EDUPLICATE, NULL, 0, 0,
			     "another release is running or paused: let it finish, or abort it");
		goto fail;
	}
	if (top[0] != '\0' && atoll(ver) <= atoll(top)) {
		r = diag_set(
		    d, WARD_EINVAL, NULL, 0, 0,
		    "version %s is not above the fleet's current version %s (agents refuse "
		    "to go back: publish the old content again as a new version)",
		    ver, top);
		goto fail;
	}
	rollout_lltoa(now, n);
	q[0] = next;
	q[1] = sha256;
	q[2] = ver;
	q[3] = plan;
	q[4] = n;
	if ((r = db_exec(
		 db,
		 "INSERT INTO releases (id, bundle, version, plan, state, ring, ring_started,"
		 " promote, created, updated, reason) VALUES ($1, $2, $3, $4, 'running', -1,"
		 " 0, 0, $5, $5, '')",
		 q, 5, NULL, NULL, d)) != 0 ||
	    (r = rollout_note(db, atoll(next), -1, now, d, "published: version %s in %u ring(s)%s",
			      ver, p->nrings,
			      rollout_frozen(db) ? " (content is frozen: it waits for unfreeze)"
						 : "")) != 0)
		goto fail;
	free(plan);
	*id = atoll(next);
	return db_commit(db, d);
fail:
	free(plan);
	db_rollback(db);
	return r;
}

/* --- the engine ---------------------------------------------------------------- */

struct cand {
	char id[40], grp[64];
	uint64_t h;
};

struct cands {
	struct cand *c;
	size_t n, cap;
};

static int
on_cand(void *arg, int ncols, const char *const *v)
{
	struct cands *cs = arg;
	struct cand *c;
	uint8_t md[32];

	(void)ncols;
	if (ward_grow(&cs->c, &cs->cap, cs->n + 1, sizeof(*cs->c)) != 0)
		return WARD_ENOMEM;
	c = &cs->c[cs->n++];
	snprintf(c->id, sizeof(c->id), "%s", v[0]);
	snprintf(c->grp, sizeof(c->grp), "%s", v[1]);
	/* The stable order of the fleet: a hash of the agent id. */
	(void)digest_buf(DIGEST_SHA256, c->id, strlen(c->id), md, sizeof(md));
	memcpy(&c->h, md, sizeof(c->h));
	return 0;
}

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
	struct cands cs = {NULL, 0, 0};
	char rid[24], rk[24], n[24], ms[24];
	const char *q[5] = {rid, NULL, rk, n, ms};
	size_t i, take = 0, sel = 0;
	int r;

	rollout_lltoa(rel->id, rid);
	rollout_lltoa(k, rk);
	rollout_lltoa(now, n);
	rollout_lltoa(rollout_now_ms(), ms);
	r = db_exec(
	    db,
	    "SELECT id, grp FROM agents WHERE revoked = 0 AND id NOT IN (SELECT agent_id FROM"
	    " release_agents WHERE release_id = $1) AND grp NOT IN (SELECT grp FROM pins)",
	    q, 1, on_cand, &cs, d);
	if (r != 0)
		goto out;
	qsort(cs.c, cs.n, sizeof(*cs.c), cand_cmp);
	if (rp->ngroups > 0) {
		for (i = 0; i < cs.n; i++) {
			unsigned g;
			int in = 0;

			for (g = 0; g < rp->ngroups; g++)
				in |= strcmp(cs.c[i].grp, rp->groups[g]) == 0;
			if (in)
				cs.c[sel++] = cs.c[i];
		}
		take = sel;
	} else {
		take = (size_t)ceil(rp->percent / 100.0 * (double)cs.n - 1e-9);
		if (rp->min > 0 && take < (size_t)rp->min)
			take = (size_t)rp->min;
		if (rp->max > 0 && take > (size_t)rp->max)
			take = (size_t)rp->max;
		if (take > cs.n)
			take = cs.n;
	}
	for (i = 0; i < take && r == 0; i++) {
		q[1] = cs.c[i].id;
		r = db_exec(
		    db,
		    "INSERT INTO release_agents (release_id, agent_id, ring, assigned, assigned_ms)"
		    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
		    q, 5, NULL, NULL, d);
	}
	if (r == 0) {
		q[1] = rk;
		q[2] = n;
		r = db_exec(
		    db,
		    "UPDATE releases SET ring = $2, ring_started = $3, promote = 0, updated = $3,"
		    " waiting = '' WHERE id = $1",
		    q, 3, NULL, NULL, d);
	}
	if (r == 0)
		r = rollout_note(db, rel->id, k, now, d,
				 "ring %lld (%s) started: %zu agent(s), soak %lld s", k, rp->name,
				 take, rp->soak_s);
	if (r == 0)
		r = rollout_bump(db, d);
out:
	ward_free(cs.c);
	return r;
}

/* What the gate reads of a release: its agents and its faults. */
struct gate_data {
	struct gate_member *m;
	size_t nm, mcap;
	struct gate_fault *f;
	size_t nf, fcap;
	const struct release *rel;
	int64_t now;
};

static int
on_member(void *arg, int ncols, const char *const *v)
{
	struct gate_data *g = arg;
	struct gate_member *m;

	(void)ncols;
	if (ward_grow(&g->m, &g->mcap, g->nm + 1, sizeof(*g->m)) != 0)
		return WARD_ENOMEM;
	m = &g->m[g->nm++];
	snprintf(m->agent_id, sizeof(m->agent_id), "%s", v[0]);
	m->ring = atoll(v[1]);
	/* Milliseconds: a check-in in the same second as the assignment may
	 * have come before it (and not received the version). */
	m->assigned_ms = atoll(v[2]);
	m->delivered_ms = atoll(v[3]);
	m->seen_ms = atoll(v[4]);
	m->version = atoll(v[5]);
	snprintf(m->hostname, sizeof(m->hostname), "%s", v[6]);
	return 0;
}

static struct gate_fault *
new_fault(struct gate_data *g)
{
	if (ward_grow(&g->f, &g->fcap, g->nf + 1, sizeof(*g->f)) != 0)
		return NULL;
	memset(&g->f[g->nf], 0, sizeof(g->f[0]));
	return &g->f[g->nf++];
}

static int
on_fault(void *arg, int ncols, const char *const *v)
{
	struct gate_data *g = arg;
	struct gate_fault *f = new_fault(g);

	(void)ncols;
	if (f == NULL)
		return WARD_ENOMEM;
	snprintf(f->agent_id, sizeof(f->agent_id), "%s", v[0]);
	/* "crash", or a refusal's cause by name (rollout_observe). */
	f->kind = strcmp(v[1], "crash") == 0 ? GATE_CRASH : GATE_REFUSED;
	f->cause = cause_from_name(v[1], strlen(v[1]));
	f->counted = atoll(v[2]) != 0;
	f->reported_ms = atoll(v[3]);
	snprintf(f->detail, sizeof(f->detail), "%s", v[4]);
	return 0;
}

static int
on_alerts(void *arg, int ncols, const char *const *v)
{
	struct gate_data *g = arg;
	const struct gate *gt = &g->rel->plan.gate;
	long long count = atoll(v[1]), base = atoll(v[2]), assigned = atoll(v[3]);
	double window = (double)(g->now - assigned) > 1 ? (double)(g->now - assigned) : 1;
	double expected = (double)base / 86400.0 * window;
	struct gate_fault *f;

	(void)ncols;
	if (count < gt->alert_min || count <= gt->alert_factor * expected)
		return 0;
	if ((f = new_fault(g)) == NULL)
		return WARD_ENOMEM;
	snprintf(f->agent_id, sizeof(f->agent_id), "%s", v[0]);
	f->kind = GATE_STORM;
	f->counted = 1;
	f->reported_ms = (long long)g->now * 1000;
	snprintf(f->detail, sizeof(f->detail), "%lld alerts since the version; %.1f expected",
		 count, expected);
	return 0;
}

static int
halt(struct db *db, const struct release *rel, const char *reason, json_t *evidence, int64_t now,
     struct ward_diag *d)
{
	char rid[24], n[24], ring[24], *ev = json_dumps(evidence, JSON_COMPACT);
	const char *q[5] = {rid, n, ring, reason, ev != NULL ? ev : "{}"};
	int r;

	rollout_lltoa(rel->id, rid);
	rollout_lltoa(now, n);
	rollout_lltoa(rel->ring, ring);
	{
		const char *u[3] = {rid, n, reason}; /* (PostgreSQL wants every $N used) */

		r = db_exec(db,
			    "UPDATE releases SET state = 'halted', reason = $3, updated = $2"
			    " WHERE id = $1",
			    u, 3, NULL, NULL, d);
	}
	if (r == 0)
		r = db_exec(db,
			    "INSERT INTO incidents (release_id, ts, ring, reason, evidence)"
			    " VALUES ($1, $2, $3, $4, $5)",
			    q, 5, NULL, NULL, d);
	if (r == 0) { /* and in the audit log, where operators look first */
		json_t *detail =
		    json_pack("{s:I, s:I, s:s, s:O}", "release", (json_int_t)rel->id, "ring",
			      (json_int_t)rel->ring, "reason", reason, "evidence", evidence);
		char *text = json_dumps(detail, JSON_COMPACT);
		const char *a[2] = {n, text != NULL ? text : "{}"};

		r = db_exec(db,
			    "INSERT INTO audit (ts, who, action, detail)"
			    " VALUES ($1, 'rollout', 'release-halted', $2)",
			    a, 2, NULL, NULL, d);
		if (r == 0)
			r = rollout_bump(db, d);
		free(text);
		json_decref(detail);
	}
	free(ev);
	return r;
}

static int
evaluate(struct db *db, struct release *rel, int64_t now, long long interval_s, struct ward_diag *d)
{
	struct gate_data g;
	struct gate_input in;
	struct gate_result res;
	char rid[24], n[24];
	const char *q[2] = {rid, n};
	json_t *evidence = NULL;
	enum gate_verdict v;
	long long soak_end;
	int r;

	memset(&g, 0, sizeof(g));
	g.rel = rel;
	g.now = now;
	rollout_lltoa(rel->id, rid);
	rollout_lltoa(now, n);
	r = db_exec(db,
		    "SELECT ra.agent_id, ra.ring, ra.assigned_ms, ra.delivered_ms, a.seen_ms,"
		    " a.content_version, a.hostname FROM release_agents ra JOIN agents a"
		    " ON a.id = ra.agent_id WHERE ra.release_id = $1 AND a.revoked = 0",
		    q, 1, on_member, &g, d);
	if (r == 0)
		r = db_exec(db,
			    "SELECT agent_id, kind, counted, reported_ms, detail FROM agent_faults"
			    " WHERE release_id = $1",
			    q, 1, on_fault, &g, d);
	if (r == 0)
		r = db_exec(db,
			    "SELECT ra.agent_id,"
			    " (SELECT count(*) FROM events e WHERE e.agent_id = ra.agent_id AND"
			    "  e.kind = 'alert' AND e.received >= ra.assigned),"
			    " (SELECT count(*) FROM events e WHERE e.agent_id = ra.agent_id AND"
			    "  e.kind = 'alert' AND e.received >= ra.assigned - 86400 AND"
			    "  e.received < ra.assigned), ra.assigned"
			    " FROM release_agents ra WHERE ra.release_id = $1 AND $2 <> ''",
			    q, 2, on_alerts, &g, d);
	if (r != 0)
		goto out;
	memset(&in, 0, sizeof(in));
	in.g = &rel->plan.gate;
	in.version = rel->version;
	in.ring = rel->ring;
	soak_end = rel->ring_started + rel->plan.rings[rel->ring].soak_s;
	in.soak_over = now >= soak_end || rel->promote;
	in.stalled_s = now > soak_end ? now - soak_end : 0;
	in.now_ms = rollout_now_ms();
	in.silent_after_ms = rel->plan.gate.silent_checkins * interval_s * 1000;
	in.m = g.m;
	in.nm = g.nm;
	in.f = g.f;
	in.nf = g.nf;
	v = gate_decide(&in, &res);
	evidence = res.evidence;
	if (v == GATE_HALT) {
		r = halt(db, rel, res.reason, evidence, now, d);
	} else if (v == GATE_PASS || v == GATE_SKIP) {
		r = rollout_note(db, rel->id, rel->ring, now, d, "%s", res.note);
		if (r == 0 && rel->ring + 1 >= (long long)rel->plan.nrings) {
			r = db_exec(
			    db,
			    "UPDATE releases SET state = 'completed', updated = $2, waiting = ''"
			    " WHERE id = $1",
			    q, 2, NULL, NULL, d);
			if (r == 0)
				r = rollout_note(db, rel->id, rel->ring, now, d, "completed");
			if (r == 0)
				r = rollout_bump(db, d);
		} else if (r == 0) {
			r = start_ring(db, rel, rel->ring + 1, now, d);
		}
	} else if (strcmp(res.note, rel->waiting) != 0) {
		/* Why it waits changed: said once, on the release and in its
		 * timeline. */
		const char *w[2] = {rid, res.note};

		r = db_exec(db, "UPDATE releases SET waiting = $2 WHERE id = $1", w, 2, NULL, NULL,
			    d);
		if (r == 0 && res.note[0] != '\0')
			r = rollout_note(db, rel->id, rel->ring, now, d, "%s", res.note);
	}
out:
	json_decref(evidence);
	ward_free(g.m);
	ward_free(g.f);
	return r;
}

int
rollout_tick(struct db *db, int64_t now, long long interval_s, struct ward_diag *d)
{
	struct release rel;
	int r;

	memset(&rel, 0, sizeof(rel));
	if ((r = db_begin_write(db, d)) != 0)
		return r;
	if ((r = db_xact_lock(db, LOCK_ROLLOUT, d)) != 0 ||
	    (r = db_exec(db,
			 "SELECT " RELEASE_COLS " FROM releases WHERE state = 'running' ORDER BY id"
			 " LIMIT 1",
			 NULL, 0, on_release, &rel, d)) != 0)
		goto fail;
	if (rel.found && rel.plan.nrings > 0 && rollout_frozen(db)) {
		/* Frozen: nothing reaches the agents, so nothing is decided;
		 * the soak starts again at unfreeze (rollout_freeze). */
	} else if (rel.found && rel.plan.nrings > 0) {
		if (rel.ring < 0)
			r = start_ring(db, &rel, 0, now, d);
		else
			r = evaluate(db, &rel, now, interval_s, d);
		if (r != 0)
			goto fail;
	}
	return db_commit(db, d);
fail:
	db_rollback(db);
	return r;
}

int
rollout_action(struct db *db, long long id, const char *action, const char *who, int64_t now,
	       struct ward_diag *d)
{
	struct release rel;
	char rid[24], n[24], reason[160];
	const char *q[3] = {rid, n, reason};
	const char *sql = NULL;
	int r;

	memset(&rel, 0, sizeof(rel));
	rollout_lltoa(id, rid);
	rollout_lltoa(now, n);
	if ((r = db_begin_write(db, d)) != 0)
		return r;
	if ((r = db_xact_lock(db, LOCK_ROLLOUT, d)) != 0 ||
	    (r = db_exec(db, "SELECT " RELEASE_COLS " FROM releases WHERE id = $1", q, 1,
			 on_release, &rel, d)) != 0)
		goto fail;
	if (!rel.found) {
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no release %lld", id);
		goto fail;
	}
	if (strcmp(action, "promote") == 0 && rollout_frozen(db)) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
			     "content is frozen fleet-wide: no agent can take release %lld, so its "
			     "ring cannot be promoted (ward fleet unfreeze first)",
			     id);
		goto fail;
	}
	if (strcmp(action, "pause") == 0 && strcmp(rel.state, "running") == 0)
		sql = "UPDATE releases SET state = 'paused', updated = $2 WHERE id = $1";
	else if (strcmp(action, "resume") == 0 && strcmp(rel.state, "paused") == 0)
		sql = "UPDATE releases SET state = 'running', updated = $2 WHERE id = $1";
	else if (strcmp(action, "promote") == 0 && strcmp(rel.state, "running") == 0 &&
		 rel.ring >= 0)
		sql = "UPDATE releases SET promote = 1, updated = $2 WHERE id = $1";
	else if (strcmp(action, "abort") == 0 &&
		 (strcmp(rel.state, "running") == 0 || strcmp(rel.state, "paused") == 0)) {
		snprintf(reason, sizeof(reason), "aborted by %.100s", who);
		sql = "UPDATE releases SET state = 'aborted', reason = $3, updated = $2 WHERE id = "
		      "$1";
	}
	if (sql == NULL) {
		r = diag_set(
		    d, WARD_EINVAL, NULL, 0, 0, "release %lld is %s%s: cannot %s it", id, rel.state,
		    rel.ring < 0 && strcmp(action, "promote") == 0 ? " (no ring started yet)" : "",
		    action);
		goto fail;
	}
	if ((r = db_exec(db, sql, q, strstr(sql, "$3") != NULL ? 3 : 2, NULL, NULL, d)) != 0 ||
	    (r = rollout_note(db, id, rel.ring, now, d, "%s by %.100s",
			      strcmp(action, "pause") == 0     ? "paused"
			      : strcmp(action, "resume") == 0  ? "resumed"
			      : strcmp(action, "promote") == 0 ? "soak ended (promoted)"
							       : "aborted",
			      who)) != 0 ||
	    (r = rollout_bump(db, d)) != 0)
		goto fail;
	return db_commit(db, d);
fail:
	db_rollback(db);
	return r;
}

int
rollout_pin(struct db *db, const char *group, long long version, int64_t now, struct ward_diag *d)
{
	char v[24], n[24], sha[65];
	const char *q[3] = {group, sha, n};
	int r;

	if (version == 0) {
		r = db_exec(db, "DELETE FROM pins WHERE grp = $1", q, 1, NULL, NULL, d);
		return r != 0 ? r : rollout_bump(db, d);
	}
	rollout_lltoa(version, v);
	rollout_lltoa(now, n);
	q[0] = v;
	if ((r = db_scalar(db, "SELECT sha256 FROM bundles WHERE version = $1", q, 1, sha,
			   sizeof(sha), d)) != 0)
		return r;
	if (sha[0] == '\0')
		return diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no stored bundle has version %lld",
				version);
	q[0] = group;
	r = db_exec(db,
		    "INSERT INTO pins (grp, bundle, created) VALUES ($1, $2, $3)"
		    " ON CONFLICT (grp) DO UPDATE SET bundle = $2, created = $3",
		    q, 3, NULL, NULL, d);
	return r != 0 ? r : rollout_bump(db, d);
}

int
rollout_freeze(struct db *db, int on, int64_t now, struct ward_diag *d)
{
	const char *q[1] = {on ? "1" : "0"};
	char n[24];
	const char *u[1] = {n};
	int was = rollout_frozen(db), r;

	r = db_exec(db,
		    "INSERT INTO settings (name, value) VALUES ('freeze', $1)"
		    " ON CONFLICT (name) DO UPDATE SET value = $1",
		    q, 1, NULL, NULL, d);
	rollout_lltoa(now, n);
	if (r == 0 && was && !on) /* the running ring's soak starts again */
		r = db_exec(db,
			    "UPDATE releases SET ring_started = CAST($1 AS BIGINT) WHERE state ="
			    " 'running' AND ring >= 0",
			    u, 1, NULL, NULL, d);
	if (r == 0 && was != on) {
		const char *t[2] = {n, on ? "content frozen fleet-wide: the release waits"
					  : "content unfrozen: the ring's soak starts again"};

		r = db_exec(
		    db,
		    "INSERT INTO release_log (release_id, n, ts, ring, text) SELECT id,"
		    " (SELECT coalesce(max(l.n), 0) + 1 FROM release_log l WHERE"
		    " l.release_id = releases.id), CAST($1 AS BIGINT), ring, $2 FROM releases"
		    " WHERE state IN ('running', 'paused')",
		    t, 2, NULL, NULL, d);
	}
	return r != 0 ? r : rollout_bump(db, d);
}

/*
 * rollout: the release engine.  See rollout.h.
 *
 * Must hold: every decision (start a ring, halt, advance, complete) is
 * made inside one write transaction holding the rollout lock, so several
 * servers on one database make it once; a release never reaches an agent
 * that no ring of it selected; a halt is never undone by the engine (only
 * an operator's new release moves the fleet on).
 */
#include "server/rollout.h"
#include "crypto/digest.h"
#include "util/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOCK_ROLLOUT 0x726f6c6cLL /* "roll" */

static void
lltoa(long long v, char out[24])
{
	snprintf(out, 24, "%lld", v);
}

/* What agents should run changed: held check-ins are looked at again. */
static int
bump(struct db *db, struct ward_diag *d)
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

/* --- plans --------------------------------------------------------------- */

void
rollout_default_plan(struct plan *p)
{
	static const struct {
		const char *name;
		double pct;
		long long min, max, soak;
	} rings[] = {
	    {"canary", 1, 1, 50, 900}, {"early", 10, 0, 0, 1800}, {"broad", 50, 0, 0, 3600},
	    {"all", 100, 0, 0, 0},
	};
	unsigned i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 4; i++) {
		snprintf(p->rings[i].name, sizeof(p->rings[i].name), "%s", rings[i].name);
		p->rings[i].percent = rings[i].pct;
		p->rings[i].min = rings[i].min;
		p->rings[i].max = rings[i].max;
		p->rings[i].soak_s = rings[i].soak;
	}
	p->nrings = 4;
	gate_defaults(&p->gate);
}

static int
num(json_t *o, const char *key, double lo, double hi, double *out, struct ward_diag *d)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
		return diag_set(d, WARD_EINVAL, "plan", 0, 0, "\"%s\" must be a number from %g to %g",
				key, lo, hi);
	*out = json_number_value(v);
	return 0;
}

static int
check_keys(json_t *o, const char *const *allowed, const char *where, struct ward_diag *d)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v) {
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], key) != 0; i++)
			;
		if (allowed[i] == NULL)
			return diag_set(d, WARD_EINVAL, "plan", 0, 0, "%s: unknown key \"%.60s\"", where,
					key);
	}
	return 0;
}

/* The gate's keys of a plan (those absent keep their defaults). */
static int
gate_parse(json_t *g, struct gate *gt, struct ward_diag *d)
{
	char key[48];
	double v;
	int k, rc;

	if ((rc = num(g, "min_active_pct", 0, 100, &gt->min_active_pct, d)) != 0)
		return rc;
	for (k = 0; k < GATE_NKINDS; k++) {
		snprintf(key, sizeof(key), "max_%s", gate_kind_name(k));
		v = (double)gt->max[k];
		if ((rc = num(g, key, 0, 1e9, &v, d)) != 0)
			return rc;
		gt->max[k] = (long long)v;
		snprintf(key, sizeof(key), "max_%s_pct", gate_kind_name(k));
		if ((rc = num(g, key, 0, 100, &gt->max_pct[k], d)) != 0)
			return rc;
	}
	v = (double)gt->silent_checkins;
	if ((rc = num(g, "silent_checkins", 1, 1000, &v, d)) != 0)
		return rc;
	gt->silent_checkins = (long long)v;
	if ((rc = num(g, "alert_factor", 1, 1e6, &gt->alert_factor, d)) != 0)
		return rc;
	v = (double)gt->alert_min;
	if ((rc = num(g, "alert_min", 1, 1e9, &v, d)) != 0)
		return rc;
	gt->alert_min = (long long)v;
	return 0;
}

int
rollout_parse_plan(const char *text, size_t len, struct plan *p, struct ward_diag *d)
{
	static const char *const top_keys[] = {"rings", "gate", NULL};
	static const char *const ring_keys[] = {"name", "groups", "percent", "min", "max", "soak_s",
						NULL};
	static const char *const gate_keys[] = {"min_active_pct",
						"max_crash_rollbacks",
						"max_crash_rollbacks_pct",
						"max_rejections",
						"max_rejections_pct",
						"max_silent",
						"max_silent_pct",
						"max_alert_storms",
						"max_alert_storms_pct",
						"silent_checkins",
						"alert_factor",
						"alert_min",
						NULL};
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *rings, *r, *g;
	size_t i, k;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	gate_defaults(&p->gate);
	if (o == NULL)
		return diag_set(d, WARD_ESYNTAX, "plan", je.line, je.column, "%s", je.text);
	rings = json_object_get(o, "rings");
	if (!json_is_object(o) || (rc = check_keys(o, top_keys, "plan", d)) != 0 ||
	    !json_is_array(rings) || json_array_size(rings) == 0 ||
	    json_array_size(rings) > ROLLOUT_MAX_RINGS) {
		json_decref(o);
		return rc != 0 ? rc
			       : diag_set(d, WARD_EINVAL, "plan", 0, 0,
					  "a plan is {\"rings\": [1 to %d rings], \"gate\": {...}}",
					  ROLLOUT_MAX_RINGS);
	}
	json_array_foreach(rings, i, r) {
		struct ring_plan *rp = &p->rings[i];
		json_t *groups = json_object_get(r, "groups"), *gv;
		double v;

		if (!json_is_object(r)) {
			rc = diag_set(d, WARD_EINVAL, "plan", 0, 0, "ring %zu is not an object", i);
			break;
		}
		if ((rc = check_keys(r, ring_keys, "ring", d)) != 0)
			break;
		snprintf(rp->name, sizeof(rp->name), "%s",
			 json_is_string(json_object_get(r, "name"))
			     ? json_string_value(json_object_get(r, "name"))
			     : "");
		if (rp->name[0] == '\0')
			snprintf(rp->name, sizeof(rp->name), "ring%zu", i);
		if (groups != NULL) {
			if (!json_is_array(groups) || json_array_size(groups) > 8) {
				rc = diag_set(d, WARD_EINVAL, "plan", 0, 0,
					      "ring %s: \"groups\" is a list of at most 8 names", rp->name);
				break;
			}
			json_array_foreach(groups, k, gv) {
				if (!json_is_string(gv) || json_string_length(gv) >= 64) {
					rc = diag_set(d, WARD_EINVAL, "plan", 0, 0,
						      "ring %s: group names are strings", rp->name);
					break;
				}
				snprintf(rp->groups[rp->ngroups++], 64, "%s", json_string_value(gv));
			}
		}
		v = groups != NULL ? 0 : 100;
		if (rc != 0 || (rc = num(r, "percent", 0, 100, &v, d)) != 0)
			break;
		rp->percent = v;
		v = 0;
		if ((rc = num(r, "min", 0, 1e9, &v, d)) != 0)
			break;
		rp->min = (long long)v;
		v = 0;
		if ((rc = num(r, "max", 0, 1e9, &v, d)) != 0)
			break;
		rp->max = (long long)v;
		v = 0;
		if ((rc = num(r, "soak_s", 0, 30 * 86400, &v, d)) != 0)
			break;
		rp->soak_s = (long long)v;
		p->nrings++;
	}
	g = json_object_get(o, "gate");
	if (rc == 0 && g != NULL) {
		if (!json_is_object(g) || (rc = check_keys(g, gate_keys, "gate", d)) != 0) {
			if (rc == 0)
				rc = diag_set(d, WARD_EINVAL, "plan", 0, 0, "\"gate\" is an object");
		} else {
			rc = gate_parse(g, &p->gate, d);
		}
	}
	json_decref(o);
	return rc;
}

json_t *
rollout_plan_json(const struct plan *p)
{
	json_t *rings = json_array(), *gate;
	unsigned i, k;

	for (i = 0; i < p->nrings; i++) {
		const struct ring_plan *r = &p->rings[i];
		json_t *o = json_pack("{s:s, s:I}", "name", r->name, "soak_s", (json_int_t)r->soak_s);

		if (r->ngroups > 0) {
			json_t *g = json_array();

			for (k = 0; k < r->ngroups; k++)
				json_array_append_new(g, json_string(r->groups[k]));
			json_object_set_new(o, "groups", g);
		} else {
			json_object_set_new(o, "percent", json_real(r->percent));
		}
		if (r->min > 0)
			json_object_set_new(o, "min", json_integer(r->min));
		if (r->max > 0)
			json_object_set_new(o, "max", json_integer(r->max));
		json_array_append_new(rings, o);
	}
	gate = json_pack("{s:f, s:I, s:f, s:I}", "min_active_pct", p->gate.min_active_pct,
			 "silent_checkins", (json_int_t)p->gate.silent_checkins, "alert_factor",
			 p->gate.alert_factor, "alert_min", (json_int_t)p->gate.alert_min);
	for (k = 0; k < GATE_NKINDS; k++) {
		char key[48];

		snprintf(key, sizeof(key), "max_%s", gate_kind_name(k));
		json_object_set_new(gate, key, json_integer(p->gate.max[k]));
		snprintf(key, sizeof(key), "max_%s_pct", gate_kind_name(k));
		json_object_set_new(gate, key, json_real(p->gate.max_pct[k]));
	}
	return json_pack("{s:o, s:o}", "rings", rings, "gate", gate);
}

/* --- releases -------------------------------------------------------------- */

struct release {
	int found;
	long long id, version, ring, ring_started, promote;
	char bundle[65], state[16];
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
	return 0;
}

#define RELEASE_COLS "id, bundle, version, plan, state, ring, ring_started, promote"

int
rollout_create(struct db *db, const char *sha256, const struct plan *p, int64_t now,
	       long long *id, struct ward_diag *d)
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
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
			     "version %s is not above the fleet's current version %s (agents refuse "
			     "to go back: publish the old content again as a new version)",
			     ver, top);
		goto fail;
	}
	lltoa(now, n);
	q[0] = next;
	q[1] = sha256;
	q[2] = ver;
	q[3] = plan;
	q[4] = n;
	if ((r = db_exec(db,
			 "INSERT INTO releases (id, bundle, version, plan, state, ring, ring_started,"
			 " promote, created, updated, reason) VALUES ($1, $2, $3, $4, 'running', -1,"
			 " 0, 0, $5, $5, '')",
			 q, 5, NULL, NULL, d)) != 0)
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

static long long
now_ms(void)
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

	lltoa(rel->id, rid);
	lltoa(k, rk);
	lltoa(now, n);
	lltoa(now_ms(), ms);
	r = db_exec(db,
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
		r = db_exec(db,
			    "INSERT INTO release_agents (release_id, agent_id, ring, assigned, assigned_ms)"
			    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
			    q, 5, NULL, NULL, d);
	}
	if (r == 0) {
		q[1] = rk;
		q[2] = n;
		r = db_exec(db,
			    "UPDATE releases SET ring = $2, ring_started = $3, promote = 0, updated = $3"
			    " WHERE id = $1",
			    q, 3, NULL, NULL, d);
	}
	if (r == 0)
		r = bump(db, d);
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
	f->kind = strcmp(v[1], "crash") == 0 ? GATE_CRASH : GATE_REFUSED;
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

	lltoa(rel->id, rid);
	lltoa(now, n);
	lltoa(rel->ring, ring);
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
		json_t *detail = json_pack("{s:I, s:I, s:s, s:O}", "release", (json_int_t)rel->id,
					   "ring", (json_int_t)rel->ring, "reason", reason,
					   "evidence", evidence);
		char *text = json_dumps(detail, JSON_COMPACT);
		const char *a[2] = {n, text != NULL ? text : "{}"};

		r = db_exec(db,
			    "INSERT INTO audit (ts, who, action, detail)"
			    " VALUES ($1, 'rollout', 'release-halted', $2)",
			    a, 2, NULL, NULL, d);
		if (r == 0)
			r = bump(db, d);
		free(text);
		json_decref(detail);
	}
	free(ev);
	return r;
}

static int
evaluate(struct db *db, struct release *rel, int64_t now, long long interval_s,
	 struct ward_diag *d)
{
	struct gate_data g;
	struct gate_input in;
	char rid[24], n[24], reason[300];
	const char *q[2] = {rid, n};
	json_t *evidence = NULL;
	enum gate_verdict v;
	int r;

	memset(&g, 0, sizeof(g));
	g.rel = rel;
	g.now = now;
	lltoa(rel->id, rid);
	lltoa(now, n);
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
	in.soak_over = now - rel->ring_started >= rel->plan.rings[rel->ring].soak_s || rel->promote;
	in.now_ms = now_ms();
	in.silent_after_ms = rel->plan.gate.silent_checkins * interval_s * 1000;
	in.m = g.m;
	in.nm = g.nm;
	in.f = g.f;
	in.nf = g.nf;
	v = gate_decide(&in, reason, sizeof(reason), &evidence);
	if (v == GATE_HALT) {
		r = halt(db, rel, reason, evidence, now, d);
	} else if (v == GATE_PASS && rel->ring + 1 >= (long long)rel->plan.nrings) {
		r = db_exec(db,
			    "UPDATE releases SET state = 'completed', updated = $2 WHERE id = $1",
			    q, 2, NULL, NULL, d);
		if (r == 0)
			r = bump(db, d);
	} else if (v == GATE_PASS) {
		r = start_ring(db, rel, rel->ring + 1, now, d);
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
	if (rel.found && rel.plan.nrings > 0) {
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
	lltoa(id, rid);
	lltoa(now, n);
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
	if (strcmp(action, "pause") == 0 && strcmp(rel.state, "running") == 0)
		sql = "UPDATE releases SET state = 'paused', updated = $2 WHERE id = $1";
	else if (strcmp(action, "resume") == 0 && strcmp(rel.state, "paused") == 0)
		sql = "UPDATE releases SET state = 'running', updated = $2 WHERE id = $1";
	else if (strcmp(action, "promote") == 0 && strcmp(rel.state, "running") == 0)
		sql = "UPDATE releases SET promote = 1, updated = $2 WHERE id = $1";
	else if (strcmp(action, "abort") == 0 &&
		 (strcmp(rel.state, "running") == 0 || strcmp(rel.state, "paused") == 0)) {
		snprintf(reason, sizeof(reason), "aborted by %.100s", who);
		sql = "UPDATE releases SET state = 'aborted', reason = $3, updated = $2 WHERE id = $1";
	}
	if (sql == NULL) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "release %lld is %s: cannot %s it", id,
			     rel.state, action);
		goto fail;
	}
	if ((r = db_exec(db, sql, q, strstr(sql, "$3") != NULL ? 3 : 2, NULL, NULL, d)) != 0 ||
	    (r = bump(db, d)) != 0)
		goto fail;
	return db_commit(db, d);
fail:
	db_rollback(db);
	return r;
}

int
rollout_pin(struct db *db, const char *group, long long version, int64_t now,
	    struct ward_diag *d)
{
	char v[24], n[24], sha[65];
	const char *q[3] = {group, sha, n};
	int r;

	if (version == 0) {
		r = db_exec(db, "DELETE FROM pins WHERE grp = $1", q, 1, NULL, NULL, d);
		return r != 0 ? r : bump(db, d);
	}
	lltoa(version, v);
	lltoa(now, n);
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
	return r != 0 ? r : bump(db, d);
}

int
rollout_freeze(struct db *db, int on, struct ward_diag *d)
{
	const char *q[1] = {on ? "1" : "0"};
	int r = db_exec(db,
			"INSERT INTO settings (name, value) VALUES ('freeze', $1)"
			" ON CONFLICT (name) DO UPDATE SET value = $1",
			q, 1, NULL, NULL, d);

	return r != 0 ? r : bump(db, d);
}

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

	lltoa(release_id, rid);
	lltoa(now_ms(), ms);
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

	lltoa(as->release_id, rid);
	lltoa(now_ms(), ms);
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
	for (i = 0; as.found && r == 0 && i < rep->nrefusals; i++) {
		const struct report_refusal *f = &rep->refusals[i];

		if (f->version != as.version || f->cause == REPORT_FLEET_ROLLBACK)
			continue; /* another version, or our own halt's rollback */
		r = record_fault(db, &as, agent_id,
				 f->cause == REPORT_CRASH_GUARD ? "crash" : "refused", f->reason,
				 d);
	}
	if (r != 0)
		goto fail;
	return db_commit(db, d);
fail:
	db_rollback(db);
	return r;
}

/* --- views ----------------------------------------------------------------------- */

static int
on_release_row(void *arg, int ncols, const char *const *v)
{
	json_t *plan = json_loads(v[3], 0, NULL);
	json_t *o = json_pack("{s:I, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:s, s:o}", "id",
			      (json_int_t)atoll(v[0]), "bundle", v[1], "version",
			      (json_int_t)atoll(v[2]), "state", v[4], "ring", (json_int_t)atoll(v[5]),
			      "ring_started", (json_int_t)atoll(v[6]), "created",
			      (json_int_t)atoll(v[8]), "updated", (json_int_t)atoll(v[9]), "reason",
			      v[10], "plan", plan != NULL ? plan : json_object());

	(void)ncols;
	if (o == NULL)
		return WARD_ENOMEM;
	if (atoll(v[5]) >= 0 && atoll(v[5]) < (long long)json_array_size(json_object_get(plan, "rings")))
		json_object_set(o, "ring_name",
				json_object_get(json_array_get(json_object_get(plan, "rings"),
							       (size_t)atoll(v[5])),
						"name"));
	json_array_append_new((json_t *)arg, o);
	return 0;
}

#define RELEASE_VIEW                                                                               \
	"SELECT id, bundle, version, plan, state, ring, ring_started, promote, created, updated,"  \
	" reason FROM releases"

int
rollout_releases(struct db *db, json_t **out, struct ward_diag *d)
{
	int r;

	*out = json_array();
	r = db_exec(db, RELEASE_VIEW " ORDER BY id DESC", NULL, 0, on_release_row, *out, d);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

static int
on_ring_count(void *arg, int ncols, const char *const *v)
{
	json_t *rings = arg, *ring;

	(void)ncols;
	ring = json_array_get(rings, (size_t)atoll(v[0]));
	if (ring != NULL)
		json_object_set_new(ring, "agents",
				    json_pack("{s:I, s:I}", "assigned", (json_int_t)atoll(v[1]),
					      "active", (json_int_t)atoll(v[2])));
	return 0;
}

static int
on_incident(void *arg, int ncols, const char *const *v)
{
	json_t *ev = json_loads(v[3], 0, NULL);

	(void)ncols;
	json_array_append_new((json_t *)arg,
			      json_pack("{s:I, s:I, s:s, s:o}", "ts", (json_int_t)atoll(v[0]), "ring",
					(json_int_t)atoll(v[1]), "reason", v[2], "evidence",
					ev != NULL ? ev : json_object()));
	return 0;
}

int
rollout_release(struct db *db, long long id, json_t **out, struct ward_diag *d)
{
	json_t *arr = json_array(), *rel, *rings, *inc = json_array();
	char rid[24];
	const char *q[1] = {rid};
	int r;

	*out = NULL;
	lltoa(id, rid);
	r = db_exec(db, RELEASE_VIEW " WHERE id = $1", q, 1, on_release_row, arr, d);
	if (r == 0 && json_array_size(arr) == 0)
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no release %lld", id);
	if (r != 0) {
		json_decref(arr);
		json_decref(inc);
		return r;
	}
	rel = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	rings = json_object_get(json_object_get(rel, "plan"), "rings");
	r = db_exec(db,
		    "SELECT ra.ring, count(*), sum(CASE WHEN a.content_version = r.version AND"
		    " a.seen_ms > ra.assigned_ms THEN 1 ELSE 0 END) FROM release_agents ra"
		    " JOIN agents a ON a.id = ra.agent_id JOIN releases r ON r.id = ra.release_id"
		    " WHERE ra.release_id = $1 GROUP BY ra.ring",
		    q, 1, on_ring_count, rings, d);
	if (r == 0)
		r = db_exec(db,
			    "SELECT ts, ring, reason, evidence FROM incidents WHERE release_id = $1"
			    " ORDER BY ts",
			    q, 1, on_incident, inc, d);
	json_object_set_new(rel, "incidents", inc);
	if (r != 0) {
		json_decref(rel);
		return r;
	}
	*out = rel;
	return 0;
}

/*
 * store_rollout: the release engine's tables (releases, release_agents,
 * agent_faults, incidents, release_log, pins) and settings (freeze,
 * generation), and the only SQL that touches them.  See store_rollout.h
 * for which functions are atomic and how a decision stays consistent.
 *
 * Must hold: every value travels as a parameter; a row's text is copied
 * into a bounded field (cut, never overrun); an out-of-memory while
 * collecting rows stops the query with WARD_ENOMEM and frees what was
 * collected.
 */
#include "server/store_rollout.h"
#include "server/store_priv.h"
#include "proto/cause.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Serialises the engine's decisions across servers (db_xact_lock). */
#define LOCK_ROLLOUT 0x726f6c6cLL /* "roll" */

static long long
num(const char *v)
{
	return v != NULL ? atoll(v) : 0;
}

/* Copies v into its field; a cut drops a last, partial UTF-8 character
 * (the views put these values in JSON, which could not hold it). */
static void
copy(char *dst, size_t len, const char *v)
{
	size_t n, i;

	v = v != NULL ? v : "";
	snprintf(dst, len, "%s", v);
	n = strlen(dst);
	if (v[n] == '\0')
		return; /* whole */
	i = n;
	while (i > 0 && n - i < 3 && ((unsigned char)dst[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && ((unsigned char)dst[i - 1] & 0xc0) == 0xc0) {
		unsigned char lead = (unsigned char)dst[i - 1];
		size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

		if (n - (i - 1) < need)
			dst[i - 1] = '\0';
	}
}

/* Decodes one row of a query's columns v into row (zeroed before): one
 * such function per row type, used by every query that returns that type. */
typedef int (*row_fill_fn)(void *row, int ncols, const char *const *v);

/* Rows collected into a growing array of elem-sized items, each decoded by
 * fill. */
struct rows {
	void *a;
	size_t n, cap, elem;
	row_fill_fn fill;
};

static int
on_row(void *arg, int ncols, const char *const *v)
{
	struct rows *rs = arg;
	char *p;

	if (ward_grow(&rs->a, &rs->cap, rs->n + 1, rs->elem) != 0)
		return WARD_ENOMEM;
	p = (char *)rs->a + rs->n * rs->elem;
	memset(p, 0, rs->elem);
	rs->n++; /* counted before fill: drop frees what a failed fill kept */
	return rs->fill(p, ncols, v);
}

/* Runs sql collecting its rows, decoded by fill, into out and n.  On failure
 * nothing is returned: drop (NULL: the array alone) frees what was
 * collected, and items that own memory with it. */
static int
collect(struct db *db, const char *sql, const char *const *q, int nq, row_fill_fn fill, size_t elem,
	void (*drop)(void *a, size_t n), void **out, size_t *n, struct ward_diag *d)
{
	struct rows rs = {NULL, 0, 0, elem, fill};
	int r;

	*out = NULL;
	*n = 0;
	r = db_exec(db, sql, q, nq, on_row, &rs, d);
	if (r == WARD_ENOMEM)
		diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if (r != 0) {
		if (drop != NULL)
			drop(rs.a, rs.n);
		else
			ward_free(rs.a);
		return r;
	}
	*out = rs.a;
	*n = rs.n;
	return 0;
}

/* The first row of sql, decoded by fill into row (zeroed), and whether
 * there was one. */
struct first_row {
	void *row;
	int *found;
	row_fill_fn fill;
};

static int
on_first_row(void *arg, int ncols, const char *const *v)
{
	struct first_row *o = arg;

	if (*o->found)
		return 0;
	*o->found = 1;
	return o->fill(o->row, ncols, v);
}

int
store_rollout_begin(struct db *db, struct ward_diag *d)
{
	int r;

	if ((r = db_begin_write(db, d)) != 0)
		return r;
	if ((r = db_xact_lock(db, LOCK_ROLLOUT, d)) != 0)
		db_rollback(db);
	return r;
}

int
store_rollout_commit(struct db *db, struct ward_diag *d)
{
	return db_commit(db, d);
}

void
store_rollout_rollback(struct db *db)
{
	db_rollback(db);
}

/* --- settings ------------------------------------------------------------------- */

int
store_generation_bump(struct db *db, struct ward_diag *d)
{
	return db_exec(db,
		       "INSERT INTO settings (name, value) VALUES ('generation', '1')"
		       " ON CONFLICT (name) DO UPDATE SET"
		       " value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)",
		       NULL, 0, NULL, NULL, d);
}

int
store_generation(struct db *db, long long *gen, struct ward_diag *d)
{
	char v[24];
	int r;

	*gen = 0;
	if ((r = db_scalar(db, "SELECT value FROM settings WHERE name = 'generation'", NULL, 0, v,
			   sizeof(v), d)) == 0)
		*gen = atoll(v);
	return r;
}

int
store_freeze_get(struct db *db, int *on, struct ward_diag *d)
{
	char v[8];
	int r;

	*on = 0;
	if ((r = db_scalar(db, "SELECT value FROM settings WHERE name = 'freeze'", NULL, 0, v,
			   sizeof(v), d)) == 0)
		*on = strcmp(v, "1") == 0;
	return r;
}

int
store_freeze_set(struct db *db, int on, struct ward_diag *d)
{
	const char *q[1] = {on ? "1" : "0"};

	return db_exec(db,
		       "INSERT INTO settings (name, value) VALUES ('freeze', $1)"
		       " ON CONFLICT (name) DO UPDATE SET value = $1",
		       q, 1, NULL, NULL, d);
}

/* --- releases ------------------------------------------------------------------- */

#define RELEASE_COLS                                                                               \
	"SELECT id, bundle, version, plan, state, ring, ring_started, promote, created, updated,"  \
	" reason, waiting FROM releases"

static int
release_row(void *row, int ncols, const char *const *v)
{
	struct store_release *r = row;

	(void)ncols;
	r->id = num(v[0]);
	copy(r->bundle, sizeof(r->bundle), v[1]);
	r->version = num(v[2]);
	if ((r->plan = strdup(v[3] != NULL ? v[3] : "")) == NULL)
		return WARD_ENOMEM;
	copy(r->state, sizeof(r->state), v[4]);
	r->ring = num(v[5]);
	r->ring_started = num(v[6]);
	r->promote = num(v[7]);
	r->created = num(v[8]);
	r->updated = num(v[9]);
	copy(r->reason, sizeof(r->reason), v[10]);
	copy(r->waiting, sizeof(r->waiting), v[11]);
	return 0;
}

void
store_release_free(struct store_release *r)
{
	free(r->plan);
	r->plan = NULL;
}

void
store_releases_free(struct store_release *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++)
		store_release_free(&r[i]);
	ward_free(r);
}

static void
drop_releases(void *a, size_t n)
{
	store_releases_free(a, n);
}

static int
release_one(struct db *db, const char *sql, const char *const *q, int nq, struct store_release *r,
	    int *found, struct ward_diag *d)
{
	struct first_row o = {r, found, release_row};
	int res;

	memset(r, 0, sizeof(*r));
	*found = 0;
	res = db_exec(db, sql, q, nq, on_first_row, &o, d);
	if (res == WARD_ENOMEM)
		diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if (res != 0) {
		store_release_free(r);
		*found = 0;
	}
	return res;
}

int
store_release_get(struct db *db, long long id, struct store_release *r, int *found,
		  struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return release_one(db, RELEASE_COLS " WHERE id = $1", q, 1, r, found, d);
}

int
store_release_running(struct db *db, struct store_release *r, int *found, struct ward_diag *d)
{
	return release_one(db, RELEASE_COLS " WHERE state = 'running' ORDER BY id LIMIT 1", NULL, 0,
			   r, found, d);
}

int
store_release_list(struct db *db, struct store_release **out, size_t *n, struct ward_diag *d)
{
	return collect(db, RELEASE_COLS " ORDER BY id DESC", NULL, 0, release_row, sizeof(**out),
		       drop_releases, (void **)out, n, d);
}

int
store_release_facts(struct db *db, const char *sha256, struct store_release_facts *f,
		    struct ward_diag *d)
{
	char ver[24], busy[24], top[24];
	const char *q[1] = {sha256};
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = db_scalar(db, "SELECT version FROM bundles WHERE sha256 = $1", q, 1, ver,
			   sizeof(ver), d)) != 0 ||
	    (r = db_scalar(db, "SELECT count(*) FROM releases WHERE state IN ('running', 'paused')",
			   NULL, 0, busy, sizeof(busy), d)) != 0 ||
	    (r = db_scalar(db, "SELECT max(version) FROM releases WHERE state = 'completed'", NULL,
			   0, top, sizeof(top), d)) != 0)
		return r;
	f->bundle_found = ver[0] != '\0';
	f->version = atoll(ver);
	f->active = atoll(busy);
	f->top_found = top[0] != '\0';
	f->top = atoll(top);
	return 0;
}

int
store_release_insert(struct db *db, const char *sha256, long long version, const char *plan,
		     int64_t now, long long *id, struct ward_diag *d)
{
	char next[24], ver[24], n[24];
	const char *q[5] = {next, sha256, ver, plan, n};
	int r;

	if ((r = db_scalar(db, "SELECT coalesce(max(id), 0) + 1 FROM releases", NULL, 0, next,
			   sizeof(next), d)) != 0)
		return r;
	store_lltoa(version, ver);
	store_lltoa(now, n);
	if ((r = db_exec(
		 db,
		 "INSERT INTO releases (id, bundle, version, plan, state, ring, ring_started,"
		 " promote, created, updated, reason) VALUES ($1, $2, $3, $4, 'running', -1,"
		 " 0, 0, $5, $5, '')",
		 q, 5, NULL, NULL, d)) != 0)
		return r;
	*id = atoll(next);
	return 0;
}

int
store_release_start_ring(struct db *db, long long id, long long ring, int64_t now,
			 struct ward_diag *d)
{
	char rid[24], rk[24], n[24];
	const char *q[3] = {rid, rk, n};

	store_lltoa(id, rid);
	store_lltoa(ring, rk);
	store_lltoa(now, n);
	return db_exec(
	    db,
	    "UPDATE releases SET ring = $2, ring_started = $3, promote = 0, updated = $3,"
	    " waiting = '' WHERE id = $1",
	    q, 3, NULL, NULL, d);
}

int
store_release_set_state(struct db *db, long long id, const char *state, const char *reason,
			int64_t now, struct ward_diag *d)
{
	char rid[24], n[24];
	const char *q[4] = {rid, n, state, reason};

	store_lltoa(id, rid);
	store_lltoa(now, n);
	if (reason == NULL)
		return db_exec(db, "UPDATE releases SET state = $3, updated = $2 WHERE id = $1", q,
			       3, NULL, NULL, d);
	return db_exec(db,
		       "UPDATE releases SET state = $3, reason = $4, updated = $2 WHERE id = $1", q,
		       4, NULL, NULL, d);
}

int
store_release_complete(struct db *db, long long id, int64_t now, struct ward_diag *d)
{
	char rid[24], n[24];
	const char *q[2] = {rid, n};

	store_lltoa(id, rid);
	store_lltoa(now, n);
	return db_exec(db,
		       "UPDATE releases SET state = 'completed', updated = $2, waiting = ''"
		       " WHERE id = $1",
		       q, 2, NULL, NULL, d);
}

int
store_release_promote(struct db *db, long long id, int64_t now, struct ward_diag *d)
{
	char rid[24], n[24];
	const char *q[2] = {rid, n};

	store_lltoa(id, rid);
	store_lltoa(now, n);
	return db_exec(db, "UPDATE releases SET promote = 1, updated = $2 WHERE id = $1", q, 2,
		       NULL, NULL, d);
}

int
store_release_set_waiting(struct db *db, long long id, const char *waiting, struct ward_diag *d)
{
	char rid[24];
	const char *q[2] = {rid, waiting};

	store_lltoa(id, rid);
	return db_exec(db, "UPDATE releases SET waiting = $2 WHERE id = $1", q, 2, NULL, NULL, d);
}

int
store_release_restart_soak(struct db *db, int64_t now, struct ward_diag *d)
{
	char n[24];
	const char *q[1] = {n};

	store_lltoa(now, n);
	return db_exec(db,
		       "UPDATE releases SET ring_started = CAST($1 AS BIGINT) WHERE state ="
		       " 'running' AND ring >= 0",
		       q, 1, NULL, NULL, d);
}

int
store_release_halt(struct db *db, long long id, long long ring, const char *reason,
		   const char *evidence, const char *detail, int64_t now, struct ward_diag *d)
{
	char rid[24], n[24], rg[24];
	const char *q[5] = {rid, n, rg, reason, evidence};
	const char *u[3] = {rid, n, reason}; /* (PostgreSQL wants every $N used) */
	const char *a[2] = {n, detail};
	int r;

	store_lltoa(id, rid);
	store_lltoa(now, n);
	store_lltoa(ring, rg);
	if ((r = db_exec(db,
			 "UPDATE releases SET state = 'halted', reason = $3, updated = $2"
			 " WHERE id = $1",
			 u, 3, NULL, NULL, d)) != 0 ||
	    (r = db_exec(db,
			 "INSERT INTO incidents (release_id, ts, ring, reason, evidence)"
			 " VALUES ($1, $2, $3, $4, $5)",
			 q, 5, NULL, NULL, d)) != 0)
		return r;
	/* and in the audit log, where operators look first */
	return db_exec(db,
		       "INSERT INTO audit (ts, who, action, detail)"
		       " VALUES ($1, 'rollout', 'release-halted', $2)",
		       a, 2, NULL, NULL, d);
}

/* --- rings -------------------------------------------------------------------------- */

static int
candidate_row(void *row, int ncols, const char *const *v)
{
	struct store_candidate *c = row;

	(void)ncols;
	copy(c->agent_id, sizeof(c->agent_id), v[0]);
	copy(c->group, sizeof(c->group), v[1]);
	return 0;
}

int
store_release_candidates(struct db *db, long long id, struct store_candidate **out, size_t *n,
			 struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return collect(
	    db,
	    "SELECT id, grp FROM agents WHERE revoked = 0 AND id NOT IN (SELECT agent_id FROM"
	    " release_agents WHERE release_id = $1) AND grp NOT IN (SELECT grp FROM pins)",
	    q, 1, candidate_row, sizeof(**out), NULL, (void **)out, n, d);
}

int
store_release_assign(struct db *db, long long id, const char *agent_id, long long ring, int64_t now,
		     long long now_ms, struct ward_diag *d)
{
	char rid[24], rk[24], n[24], ms[24];
	const char *q[5] = {rid, agent_id, rk, n, ms};

	store_lltoa(id, rid);
	store_lltoa(ring, rk);
	store_lltoa(now, n);
	store_lltoa(now_ms, ms);
	return db_exec(
	    db,
	    "INSERT INTO release_agents (release_id, agent_id, ring, assigned, assigned_ms)"
	    " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
	    q, 5, NULL, NULL, d);
}

static int
member_row(void *row, int ncols, const char *const *v)
{
	struct gate_member *m = row;

	(void)ncols;
	copy(m->agent_id, sizeof(m->agent_id), v[0]);
	m->ring = num(v[1]);
	m->assigned_ms = num(v[2]);
	m->delivered_ms = num(v[3]);
	m->seen_ms = num(v[4]);
	m->version = num(v[5]);
	copy(m->hostname, sizeof(m->hostname), v[6]);
	return 0;
}

int
store_ring_members(struct db *db, long long id, struct gate_member **out, size_t *n,
		   struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return collect(db,
		       "SELECT ra.agent_id, ra.ring, ra.assigned_ms, ra.delivered_ms, a.seen_ms,"
		       " a.content_version, a.hostname FROM release_agents ra JOIN agents a"
		       " ON a.id = ra.agent_id WHERE ra.release_id = $1 AND a.revoked = 0",
		       q, 1, member_row, sizeof(**out), NULL, (void **)out, n, d);
}

static int
fault_row(void *row, int ncols, const char *const *v)
{
	struct gate_fault *f = row;
	const char *kind = v[1] != NULL ? v[1] : "";

	(void)ncols;
	copy(f->agent_id, sizeof(f->agent_id), v[0]);
	/* "crash", or a refusal's cause by name (store_fault_add) */
	f->kind = strcmp(kind, "crash") == 0 ? GATE_CRASH : GATE_REFUSED;
	f->cause = cause_from_name(kind, strlen(kind));
	f->counted = num(v[2]) != 0;
	f->reported_ms = num(v[3]);
	copy(f->detail, sizeof(f->detail), v[4]);
	return 0;
}

int
store_release_faults(struct db *db, long long id, struct gate_fault **f, size_t *nf, size_t *cap,
		     struct ward_diag *d)
{
	struct rows rs = {*f, *nf, *cap, sizeof(**f), fault_row};
	char rid[24];
	const char *q[1] = {rid};
	int r;

	store_lltoa(id, rid);
	r = db_exec(db,
		    "SELECT agent_id, kind, counted, reported_ms, detail FROM agent_faults"
		    " WHERE release_id = $1",
		    q, 1, on_row, &rs, d);
	if (r == WARD_ENOMEM)
		diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	/* the caller owns the array either way */
	*f = rs.a;
	*nf = rs.n;
	*cap = rs.cap;
	return r;
}

static int
alerts_row(void *row, int ncols, const char *const *v)
{
	struct store_alert_count *c = row;

	(void)ncols;
	copy(c->agent_id, sizeof(c->agent_id), v[0]);
	c->since = num(v[1]);
	c->before = num(v[2]);
	c->assigned = num(v[3]);
	return 0;
}

int
store_release_alerts(struct db *db, long long id, struct store_alert_count **out, size_t *n,
		     struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return collect(db,
		       "SELECT ra.agent_id,"
		       " (SELECT count(*) FROM events e WHERE e.agent_id = ra.agent_id AND"
		       "  e.kind = 'alert' AND e.received >= ra.assigned),"
		       " (SELECT count(*) FROM events e WHERE e.agent_id = ra.agent_id AND"
		       "  e.kind = 'alert' AND e.received >= ra.assigned - 86400 AND"
		       "  e.received < ra.assigned), ra.assigned"
		       " FROM release_agents ra WHERE ra.release_id = $1",
		       q, 1, alerts_row, sizeof(**out), NULL, (void **)out, n, d);
}

static int
ring_count_row(void *row, int ncols, const char *const *v)
{
	struct store_ring_count *c = row;

	(void)ncols;
	c->ring = num(v[0]);
	c->assigned = num(v[1]);
	c->active = num(v[2]);
	return 0;
}

int
store_ring_counts(struct db *db, long long id, struct store_ring_count **out, size_t *n,
		  struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return collect(
	    db,
	    "SELECT ra.ring, count(*), sum(CASE WHEN a.content_version = r.version AND"
	    " a.seen_ms > ra.assigned_ms THEN 1 ELSE 0 END) FROM release_agents ra"
	    " JOIN agents a ON a.id = ra.agent_id JOIN releases r ON r.id = ra.release_id"
	    " WHERE ra.release_id = $1 GROUP BY ra.ring",
	    q, 1, ring_count_row, sizeof(**out), NULL, (void **)out, n, d);
}

/* --- timeline and incidents ---------------------------------------------------- */

int
store_timeline_add(struct db *db, long long id, long long ring, int64_t now, const char *text,
		   struct ward_diag *d)
{
	char rid[24], n[24], rg[24];
	const char *q[4] = {rid, n, rg, text};

	store_lltoa(id, rid);
	store_lltoa(now, n);
	store_lltoa(ring, rg);
	return db_exec(db,
		       "INSERT INTO release_log (release_id, n, ts, ring, text) VALUES ($1,"
		       " (SELECT coalesce(max(n), 0) + 1 FROM release_log WHERE release_id = $1),"
		       " $2, $3, $4)",
		       q, 4, NULL, NULL, d);
}

int
store_timeline_add_active(struct db *db, int64_t now, const char *text, struct ward_diag *d)
{
	char n[24];
	const char *q[2] = {n, text};

	store_lltoa(now, n);
	return db_exec(db,
		       "INSERT INTO release_log (release_id, n, ts, ring, text) SELECT id,"
		       " (SELECT coalesce(max(l.n), 0) + 1 FROM release_log l WHERE"
		       " l.release_id = releases.id), CAST($1 AS BIGINT), ring, $2 FROM releases"
		       " WHERE state IN ('running', 'paused')",
		       q, 2, NULL, NULL, d);
}

static int
line_row(void *row, int ncols, const char *const *v)
{
	struct store_timeline_line *l = row;

	(void)ncols;
	l->ts = num(v[0]);
	l->ring = num(v[1]);
	copy(l->text, sizeof(l->text), v[2]);
	return 0;
}

int
store_timeline(struct db *db, long long id, struct store_timeline_line **out, size_t *n,
	       struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return collect(db,
		       "SELECT ts, ring, text FROM release_log WHERE release_id = $1 ORDER BY n", q,
		       1, line_row, sizeof(**out), NULL, (void **)out, n, d);
}

static int
incident_row(void *row, int ncols, const char *const *v)
{
	struct store_incident *in = row;

	(void)ncols;
	in->ts = num(v[0]);
	in->ring = num(v[1]);
	copy(in->reason, sizeof(in->reason), v[2]);
	if ((in->evidence = strdup(v[3] != NULL ? v[3] : "{}")) == NULL)
		return WARD_ENOMEM;
	return 0;
}

void
store_incidents_free(struct store_incident *in, size_t n)
{
	size_t i;

	for (i = 0; in != NULL && i < n; i++)
		free(in[i].evidence);
	ward_free(in);
}

static void
drop_incidents(void *a, size_t n)
{
	store_incidents_free(a, n);
}

int
store_incidents(struct db *db, long long id, struct store_incident **out, size_t *n,
		struct ward_diag *d)
{
	char rid[24];
	const char *q[1] = {rid};

	store_lltoa(id, rid);
	return collect(db,
		       "SELECT ts, ring, reason, evidence FROM incidents WHERE release_id = $1"
		       " ORDER BY ts",
		       q, 1, incident_row, sizeof(**out), drop_incidents, (void **)out, n, d);
}

/* --- what agents run -------------------------------------------------------------- */

static int
target_row(void *row, int ncols, const char *const *v)
{
	struct store_target *t = row;

	t->version = num(v[0]);
	copy(t->sha256, sizeof(t->sha256), v[1]);
	t->size = num(v[2]);
	copy(t->state, sizeof(t->state), ncols > 3 ? v[3] : "");
	t->release_id = ncols > 5 ? num(v[4]) : 0;
	t->delivered_ms = ncols > 5 ? num(v[5]) : 0;
	return 0;
}

static int
target_one(struct db *db, const char *sql, const char *key, struct store_target *t, int *found,
	   struct ward_diag *d)
{
	struct first_row o = {t, found, target_row};
	const char *q[1] = {key};

	memset(t, 0, sizeof(*t));
	*found = 0;
	return db_exec(db, sql, q, key != NULL ? 1 : 0, on_first_row, &o, d);
}

int
store_pin_target(struct db *db, const char *group, struct store_target *t, int *found,
		 struct ward_diag *d)
{
	return target_one(db,
			  "SELECT b.version, b.sha256, b.size FROM pins p JOIN bundles b"
			  " ON b.sha256 = p.bundle WHERE p.grp = $1",
			  group, t, found, d);
}

int
store_assignment_latest(struct db *db, const char *agent_id, struct store_target *t, int *found,
			struct ward_diag *d)
{
	return target_one(db,
			  "SELECT r.version, b.sha256, b.size, r.state, r.id, ra.delivered_ms"
			  " FROM release_agents ra JOIN releases r ON r.id = ra.release_id"
			  " JOIN bundles b ON b.sha256 = r.bundle WHERE ra.agent_id = $1"
			  " ORDER BY r.id DESC LIMIT 1",
			  agent_id, t, found, d);
}

int
store_assignment_active(struct db *db, const char *agent_id, struct store_target *t, int *found,
			struct ward_diag *d)
{
	return target_one(db,
			  "SELECT r.version, r.bundle, 0, r.state, r.id, ra.delivered_ms"
			  " FROM release_agents ra JOIN releases r ON r.id = ra.release_id"
			  " WHERE ra.agent_id = $1 AND r.state IN ('running', 'paused') ORDER BY "
			  "r.id DESC LIMIT 1",
			  agent_id, t, found, d);
}

int
store_current_target(struct db *db, struct store_target *t, int *found, struct ward_diag *d)
{
	return target_one(db,
			  "SELECT r.version, b.sha256, b.size FROM releases r JOIN bundles b"
			  " ON b.sha256 = r.bundle WHERE r.state = 'completed' ORDER BY r.id DESC"
			  " LIMIT 1",
			  NULL, t, found, d);
}

int
store_assignment_delivered(struct db *db, long long id, const char *agent_id, long long now_ms,
			   struct ward_diag *d)
{
	char rid[24], ms[24];
	const char *q[3] = {rid, agent_id, ms};

	store_lltoa(id, rid);
	store_lltoa(now_ms, ms);
	return db_exec(db,
		       "UPDATE release_agents SET delivered_ms = $3 WHERE release_id = $1"
		       " AND agent_id = $2 AND delivered_ms = 0",
		       q, 3, NULL, NULL, d);
}

int
store_fault_add(struct db *db, long long id, const char *agent_id, const char *kind, int counted,
		long long now_ms, const char *detail, struct ward_diag *d)
{
	char rid[24], ms[24];
	const char *q[6] = {rid, agent_id, kind, counted ? "1" : "0", ms, detail};

	store_lltoa(id, rid);
	store_lltoa(now_ms, ms);
	return db_exec(db,
		       "INSERT INTO agent_faults (release_id, agent_id, kind, counted, reported_ms,"
		       " detail) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
		       q, 6, NULL, NULL, d);
}

/* --- pins ------------------------------------------------------------------------- */

int
store_bundle_by_version(struct db *db, long long version, char sha256[65], int *found,
			struct ward_diag *d)
{
	char v[24];
	const char *q[1] = {v};
	int r;

	store_lltoa(version, v);
	*found = 0;
	if ((r = db_scalar(db, "SELECT sha256 FROM bundles WHERE version = $1", q, 1, sha256, 65,
			   d)) != 0)
		return r;
	*found = sha256[0] != '\0';
	return 0;
}

int
store_pin_set(struct db *db, const char *group, const char *sha256, int64_t now,
	      struct ward_diag *d)
{
	char n[24];
	const char *q[3] = {group, sha256, n};

	store_lltoa(now, n);
	return db_exec(db,
		       "INSERT INTO pins (grp, bundle, created) VALUES ($1, $2, $3)"
		       " ON CONFLICT (grp) DO UPDATE SET bundle = $2, created = $3",
		       q, 3, NULL, NULL, d);
}

int
store_pin_clear(struct db *db, const char *group, struct ward_diag *d)
{
	const char *q[1] = {group};

	return db_exec(db, "DELETE FROM pins WHERE grp = $1", q, 1, NULL, NULL, d);
}

static int
pin_row(void *row, int ncols, const char *const *v)
{
	struct store_pin *p = row;

	(void)ncols;
	copy(p->group, sizeof(p->group), v[0]);
	p->version = num(v[1]);
	copy(p->sha256, sizeof(p->sha256), v[2]);
	p->since = num(v[3]);
	return 0;
}

int
store_pin_list(struct db *db, struct store_pin **out, size_t *n, struct ward_diag *d)
{
	return collect(db,
		       "SELECT p.grp, b.version, b.sha256, p.created FROM pins p JOIN bundles b"
		       " ON b.sha256 = p.bundle ORDER BY p.grp",
		       NULL, 0, pin_row, sizeof(**out), NULL, (void **)out, n, d);
}

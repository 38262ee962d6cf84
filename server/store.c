/*
 * store: the fleet server's data.  See store.h.  Owns the schema and its
 * migrations, enrollment tokens, agents' enrolment, authentication and
 * check-ins, and the events agents send (what operators read and manage —
 * listings, admin tokens, audit, keys, bundles, retention — is
 * store_admin.c's; the release engine's tables are store_rollout.c's, the
 * exceptions store_except.c's).
 *
 * Must hold: every function is one transaction (a failure changes
 * nothing); token uses are counted under the write lock, so two
 * enrollments cannot both take a token's last use; events are keyed by
 * (agent, sequence number), so a retried batch adds nothing.
 */
#include "server/store.h"
#include "server/store_priv.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[] = {
    /* 1: enrollment, agents, events, admin tokens, audit */
    "CREATE TABLE enroll_tokens (hash TEXT PRIMARY KEY, grp TEXT NOT NULL, uses_left BIGINT,"
    " expires BIGINT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE agents (id TEXT PRIMARY KEY, machine_id TEXT NOT NULL, hw_id TEXT NOT NULL,"
    " hostname TEXT NOT NULL, version TEXT NOT NULL, grp TEXT NOT NULL,"
    " secret_hash TEXT NOT NULL, enrolled BIGINT NOT NULL, last_seen BIGINT NOT NULL,"
    " revoked BIGINT NOT NULL DEFAULT 0, clone_of TEXT, report TEXT,"
    " content_version BIGINT NOT NULL DEFAULT 0, mode TEXT NOT NULL DEFAULT '',"
    " journal_id TEXT NOT NULL DEFAULT '', acked_seq BIGINT NOT NULL DEFAULT 0,"
    " checkins BIGINT NOT NULL DEFAULT 0);"
    "CREATE INDEX agents_machine ON agents (machine_id);"
    "CREATE INDEX agents_hw ON agents (hw_id);"
    "CREATE TABLE events (agent_id TEXT NOT NULL, journal_id TEXT NOT NULL, seq BIGINT NOT NULL,"
    " received BIGINT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (agent_id, journal_id, seq));"
    "CREATE TABLE admin_tokens (hash TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
    " created BIGINT NOT NULL);"
    "CREATE TABLE audit (ts BIGINT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,"
    " detail TEXT NOT NULL);"
    "CREATE INDEX audit_ts ON audit (ts);",
    /* 2: bundles, releases and their rings, incidents, pins, settings */
    "CREATE TABLE bundles (sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, version BIGINT NOT NULL,"
    " size BIGINT NOT NULL, created BIGINT NOT NULL, data TEXT NOT NULL);"
    "CREATE TABLE releases (id BIGINT PRIMARY KEY, bundle TEXT NOT NULL, version BIGINT NOT NULL,"
    " plan TEXT NOT NULL, state TEXT NOT NULL, ring BIGINT NOT NULL, ring_started BIGINT NOT NULL,"
    " promote BIGINT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL,"
    " reason TEXT NOT NULL);"
    "CREATE TABLE release_agents (release_id BIGINT NOT NULL, agent_id TEXT NOT NULL,"
    " ring BIGINT NOT NULL, assigned BIGINT NOT NULL, assigned_ms BIGINT NOT NULL,"
    " PRIMARY KEY (release_id, agent_id));"
    "ALTER TABLE agents ADD COLUMN seen_ms BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX release_agents_agent ON release_agents (agent_id);"
    "CREATE TABLE incidents (release_id BIGINT NOT NULL, ts BIGINT NOT NULL, ring BIGINT NOT NULL,"
    " reason TEXT NOT NULL, evidence TEXT NOT NULL);"
    "CREATE TABLE pins (grp TEXT PRIMARY KEY, bundle TEXT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "ALTER TABLE events ADD COLUMN kind TEXT NOT NULL DEFAULT '';"
    "CREATE INDEX events_alerts ON events (agent_id, kind, received);",
    /* 3: re-enrolments waiting for approval, the faults the gate counts
     * (recorded as agents report them), when a release reached an agent,
     * and indexes for retention */
    "ALTER TABLE agents ADD COLUMN pending_hash TEXT;"
    "ALTER TABLE agents ADD COLUMN pending TEXT;"
    "ALTER TABLE release_agents ADD COLUMN delivered_ms BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE agent_faults (release_id BIGINT NOT NULL, agent_id TEXT NOT NULL,"
    " kind TEXT NOT NULL, counted BIGINT NOT NULL, reported_ms BIGINT NOT NULL,"
    " detail TEXT NOT NULL, PRIMARY KEY (release_id, agent_id, kind));"
    "CREATE INDEX events_received ON events (received);",
    /* 4: a release's timeline, and why its ring waits */
    "CREATE TABLE release_log (release_id BIGINT NOT NULL, n BIGINT NOT NULL,"
    " ts BIGINT NOT NULL, ring BIGINT NOT NULL, text TEXT NOT NULL,"
    " PRIMARY KEY (release_id, n));"
    "ALTER TABLE releases ADD COLUMN waiting TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE agents ADD COLUMN connected_until BIGINT NOT NULL DEFAULT 0;"
    "CREATE TABLE trusted_keys (key_id TEXT PRIMARY KEY, pem TEXT NOT NULL,"
    " added BIGINT NOT NULL, who TEXT NOT NULL);",
    /* 5: exceptions to verdicts for the fleet (grp '') or a group
     * (store_except.c): spec is the exception's text form, entry its JSON */
    "CREATE TABLE exceptions (id BIGINT PRIMARY KEY, grp TEXT NOT NULL, spec TEXT NOT NULL,"
    " entry TEXT NOT NULL, created BIGINT NOT NULL, who TEXT NOT NULL);"
    "CREATE UNIQUE INDEX exceptions_spec ON exceptions (grp, spec);",
};

#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))
/* Rows per INSERT: PostgreSQL gains most from fewer round trips; SQLite
 * compiles long statements slower than it saves (measured: 32 rows best). */
#define EVENT_ROWS(db) (db_kind(db) == DB_SQLITE ? 32u : 500u)

int
store_random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];

	if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1)
		return WARD_EIO;
	return digest_to_hex(b, nbytes, out, 2 * nbytes + 1);
}

void
store_sha256_hex(const char *s, char out[65])
{
	uint8_t md[32];

	(void)digest_buf(DIGEST_SHA256, s, strlen(s), md, sizeof(md));
	(void)digest_to_hex(md, sizeof(md), out, 65);
}

/* Runs the statements of one migration text (';'-separated, no ';' in
 * strings). */
static int
exec_script(struct db *db, const char *script, struct ward_diag *d)
{
	char stmt[2048];
	const char *p = script, *semi;
	int r = 0;

	while (r == 0 && *p != '\0') {
		semi = strchr(p, ';');
		if (semi == NULL)
			semi = p + strlen(p);
		snprintf(stmt, sizeof(stmt), "%.*s", (int)(semi - p), p);
		if (stmt[strspn(stmt, " \n\t")] != '\0')
			r = db_exec(db, stmt, NULL, 0, NULL, NULL, d);
		p = *semi ? semi + 1 : semi;
	}
	return r;
}

int
store_migrate(struct db *db, struct ward_diag *d)
{
	char v[32];
	long long have;
	size_t i;
	int r;

	if ((r = db_begin_write(db, d)) != 0)
		return r;
	/* One server migrates; the others wait here, then find it done. */
	if ((r = db_xact_lock(db, 0x77617264 /* "ward" */, d)) != 0 ||
	    (r = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)",
			 NULL, 0, NULL, NULL, d)) != 0 ||
	    (r = db_scalar(db, "SELECT max(version) FROM schema_version", NULL, 0, v, sizeof(v),
			   d)) != 0)
		goto fail;
	have = atoll(v);
	if (have > (long long)NMIGRATIONS) {
		r = diag_set(
		    d, WARD_EVERSION, NULL, 0, 0,
		    "the database has schema version %lld; this ward-server knows up to %zu "
		    "(upgrade ward-server)",
		    have, NMIGRATIONS);
		goto fail;
	}
	for (i = (size_t)have; i < NMIGRATIONS; i++) {
		char n[24];
		const char *p[1] = {n};

		store_lltoa((long long)i + 1, n);
		if ((r = exec_script(db, migrations[i], d)) != 0 ||
		    (r = db_exec(db, "INSERT INTO schema_version (version) VALUES ($1)", p, 1, NULL,
				 NULL, d)) != 0)
			goto fail;
	}
	return db_commit(db, d);
fail:
	db_rollback(db);
	return r;
}

int
store_token_create(struct db *db, const char *group, long long uses, int64_t expires, int64_t now,
		   char token[STORE_SECRET_LEN + 1], struct ward_diag *d)
{
	char hash[65], u[24], e[24], c[24];
	const char *p[5] = {hash, group, uses > 0 ? u : NULL, e, c};

	if (store_random_hex(token, STORE_SECRET_LEN / 2) != 0)
		return diag_set(d, WARD_EIO, NULL, 0, 0, "no randomness");
	store_sha256_hex(token, hash);
	store_lltoa(uses, u);
	store_lltoa(expires, e);
	store_lltoa(now, c);
	return db_exec(db,
		       "INSERT INTO enroll_tokens (hash, grp, uses_left, expires, created)"
		       " VALUES ($1, $2, $3, $4, $5)",
		       p, 5, NULL, NULL, d);
}

/* The agents whose identity an enrollment names: same machine and
 * hardware (exact), same hardware only, same machine only (a clone). */
struct match {
	char exact[STORE_ID_LEN + 1], hw[STORE_ID_LEN + 1], machine[STORE_ID_LEN + 1];
	int exact_revoked, hw_revoked;
	const struct enroll_msg *q;
};

static int
on_candidate(void *arg, int ncols, const char *const *v)
{
	struct match *m = arg;
	int same_machine = strcmp(v[1], m->q->machine_id) == 0,
	    same_hw = strcmp(v[2], m->q->hw_id) == 0;
	int revoked = atoll(v[3]) != 0;

	(void)ncols;
	if (same_machine && same_hw && m->exact[0] == '\0') {
		snprintf(m->exact, sizeof(m->exact), "%s", v[0]);
		m->exact_revoked = revoked;
	} else if (same_hw && !same_machine && m->hw[0] == '\0') {
		snprintf(m->hw, sizeof(m->hw), "%s", v[0]);
		m->hw_revoked = revoked;
	} else if (same_machine && !same_hw && m->machine[0] == '\0' && !revoked) {
		snprintf(m->machine, sizeof(m->machine), "%s", v[0]);
	}
	return 0;
}

struct tok {
	int found;
	char grp[64];
	long long uses_left, expires;
	int unlimited;
};

static int
on_token(void *arg, int ncols, const char *const *v)
{
	struct tok *t = arg;

	(void)ncols;
	t->found = 1;
	snprintf(t->grp, sizeof(t->grp), "%s", v[0]);
	t->unlimited = v[1] == NULL;
	t->uses_left = v[1] != NULL ? atoll(v[1]) : 0;
	t->expires = atoll(v[2]);
	return 0;
}

struct authrow {
	int found;
	char hash[65], pending[65], grp[64];
	long long revoked;
};

static int
on_auth(void *arg, int ncols, const char *const *v)
{
	struct authrow *a = arg;

	(void)ncols;
	a->found = 1;
	snprintf(a->hash, sizeof(a->hash), "%s", v[0]);
	snprintf(a->grp, sizeof(a->grp), "%s", v[1]);
	a->revoked = atoll(v[2]);
	snprintf(a->pending, sizeof(a->pending), "%s", v[3] != NULL ? v[3] : "");
	return 0;
}

static int
agent_row(struct db *db, const char *agent_id, struct authrow *a, struct ward_diag *d)
{
	const char *p[1] = {agent_id};

	memset(a, 0, sizeof(*a));
	return db_exec(db,
		       "SELECT secret_hash, grp, revoked, pending_hash FROM agents WHERE id = $1",
		       p, 1, on_auth, a, d);
}

/* 1 if secret's hash is hash (64 hex digits), in constant time. */
static int
secret_is(const char *secret, const char *hash)
{
	char h[65];
	int ok;

	if (strlen(hash) != 64)
		return 0;
	store_sha256_hex(secret, h);
	ok = digest_equal((const uint8_t *)h, (const uint8_t *)hash, 64);
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

/* The same agent again, with a new secret: its identity fields follow
 * the host (its group does not: that is the operator's). */
static int
renew(struct db *db, const struct enroll_msg *q, const char *agent_id, const char *shash,
      const char *nowtxt, struct ward_diag *d)
{
	const char *p[6] = {shash, q->machine_id, q->hostname, q->version, nowtxt, agent_id};

	return db_exec(db,
		       "UPDATE agents SET secret_hash = $1, machine_id = $2, hostname = $3,"
		       " version = $4, last_seen = $5, pending_hash = NULL, pending = NULL"
		       " WHERE id = $6",
		       p, 6, NULL, NULL, d);
}

int
store_enroll(struct db *db, const struct enroll_msg *q, const char *peer, int64_t now,
	     struct enroll_res *res, struct ward_diag *d)
{
	char thash[65], shash[65], nowtxt[24];
	const char *p[9];
	struct tok t;
	struct match m;
	struct authrow prev;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&t, 0, sizeof(t));
	memset(&m, 0, sizeof(m));
	m.q = q;
	store_sha256_hex(q->token, thash);
	store_lltoa(now, nowtxt);
	if ((r = db_begin_write(db, d)) != 0)
		return r;
	p[0] = thash;
	if ((r = db_exec(db, "SELECT grp, uses_left, expires FROM enroll_tokens WHERE hash = $1", p,
			 1, on_token, &t, d)) != 0)
		goto fail;
	if (!t.found || (!t.unlimited && t.uses_left <= 0) ||
	    (t.expires != 0 && t.expires <= now)) {
		r = diag_set(d, WARD_EVERIFY, NULL, 0, 0, "%s",
			     !t.found ? "unknown enrollment token"
			     : (t.expires != 0 && t.expires <= now)
				 ? "the enrollment token has expired"
				 : "the enrollment token is used up");
		goto fail;
	}
	if (!t.unlimited &&
	    (r = db_exec(db, "UPDATE enroll_tokens SET uses_left = uses_left - 1 WHERE hash = $1",
			 p, 1, NULL, NULL, d)) != 0)
		goto fail;
	if (store_random_hex(res->secret, STORE_SECRET_LEN / 2) != 0) {
		r = diag_set(d, WARD_EIO, NULL, 0, 0, "no randomness");
		goto fail;
	}
	store_sha256_hex(res->secret, shash);
	snprintf(res->group, sizeof(res->group), "%s", t.grp);
	/* A proof of the identity it held: the same agent, at once. */
	if (q->agent_id[0] != '\0') {
		if ((r = agent_row(db, q->agent_id, &prev, d)) != 0)
			goto fail;
		if (prev.found && prev.revoked) {
			r = diag_set(d, WARD_EVERIFY, NULL, 0, 0,
				     "agent %s is revoked: an operator must lift that (ward fleet "
				     "unrevoke %s) before it may enroll again",
				     q->agent_id, q->agent_id);
			goto fail;
		}
		if (prev.found && secret_is(q->secret, prev.hash)) {
			snprintf(res->agent_id, sizeof(res->agent_id), "%s", q->agent_id);
			snprintf(res->group, sizeof(res->group), "%s", prev.grp);
			snprintf(res->how, sizeof(res->how), "re-enrolled");
			if ((r = renew(db, q, res->agent_id, shash, nowtxt, d)) != 0)
				goto fail;
			return db_commit(db, d);
		}
		/* A stale or wrong proof proves nothing: on as without one. */
	}
	p[0] = q->machine_id;
	p[1] = q->hw_id;
	if ((r = db_exec(db,
			 "SELECT id, machine_id, hw_id, revoked FROM agents WHERE machine_id = $1"
			 " OR hw_id = $2 ORDER BY enrolled",
			 p, 2, on_candidate, &m, d)) != 0)
		goto fail;
	if ((m.exact[0] && m.exact_revoked) || (!m.exact[0] && m.hw[0] && m.hw_revoked)) {
		const char *id = m.exact[0] ? m.exact : m.hw;

		r = diag_set(
		    d, WARD_EVERIFY, NULL, 0, 0,
		    "this host's agent %s is revoked: an operator must lift that (ward fleet "
		    "unrevoke %s) before it may enroll again",
		    id, id);
		goto fail;
	}
	if (m.exact[0] || m.hw[0]) {
		/* An identity that exists, claimed without its secret: a
		 * reinstall — or someone else claiming it.  The old secret
		 * keeps working; the new one waits for an operator. */
		json_t *why = json_pack(
		    "{s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "hostname", q->hostname, "machine_id",
		    q->machine_id, "version", q->version, "token_group", t.grp, "peer",
		    peer != NULL ? peer : "", "match",
		    m.exact[0] ? "machine and hardware" : "hardware", "requested", (json_int_t)now);
		char *text = why != NULL ? json_dumps(why, JSON_COMPACT) : NULL;

		json_decref(why);
		snprintf(res->agent_id, sizeof(res->agent_id), "%s", m.exact[0] ? m.exact : m.hw);
		snprintf(res->how, sizeof(res->how), "pending");
		p[0] = shash;
		p[1] = text != NULL ? text : "{}";
		p[2] = res->agent_id;
		r = db_exec(db, "UPDATE agents SET pending_hash = $1, pending = $2 WHERE id = $3",
			    p, 3, NULL, NULL, d);
		free(text);
		if (r != 0)
			goto fail;
		return db_commit(db, d);
	}
	if (store_random_hex(res->agent_id, STORE_ID_LEN / 2) != 0) {
		r = diag_set(d, WARD_EIO, NULL, 0, 0, "no randomness");
		goto fail;
	}
	snprintf(res->how, sizeof(res->how), "%s", m.machine[0] ? "clone" : "new");
	snprintf(res->clone_of, sizeof(res->clone_of), "%s", m.machine);
	p[0] = res->agent_id;
	p[1] = q->machine_id;
	p[2] = q->hw_id;
	p[3] = q->hostname;
	p[4] = q->version;
	p[5] = t.grp;
	p[6] = shash;
	p[7] = nowtxt;
	p[8] = m.machine[0] ? m.machine : NULL;
	if ((r = db_exec(db,
			 "INSERT INTO agents (id, machine_id, hw_id, hostname, version, grp,"
			 " secret_hash, enrolled, last_seen, clone_of)"
			 " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)",
			 p, 9, NULL, NULL, d)) != 0)
		goto fail;
	return db_commit(db, d);
fail:
	db_rollback(db);
	OPENSSL_cleanse(res->secret, sizeof(res->secret));
	return r;
}

int
store_agent_auth(struct db *db, const char *agent_id, const char *secret, int *why, char group[64],
		 struct ward_diag *d)
{
	struct authrow a;
	int r;

	*why = STORE_AUTH_UNKNOWN;
	if ((r = agent_row(db, agent_id, &a, d)) != 0)
		return r;
	if (a.found && !secret_is(secret, a.hash) && secret_is(secret, a.pending)) {
		*why = STORE_AUTH_PENDING;
		return diag_set(
		    d, WARD_EVERIFY, NULL, 0, 0,
		    "this agent's enrollment waits for an operator's approval (ward fleet "
		    "approve %s)",
		    agent_id);
	}
	if (!a.found || !secret_is(secret, a.hash))
		return diag_set(d, WARD_EVERIFY, NULL, 0, 0, "unknown agent or wrong secret");
	if (a.revoked != 0) {
		*why = STORE_AUTH_REVOKED;
		return diag_set(d, WARD_EVERIFY, NULL, 0, 0, "this agent has been revoked");
	}
	*why = STORE_AUTH_OK;
	snprintf(group, 64, "%s", a.grp);
	return 0;
}

static int
on_text(void *arg, int ncols, const char *const *v)
{
	(void)ncols;
	*(char **)arg = v[0] != NULL ? strdup(v[0]) : NULL;
	return 0;
}

int
store_agent_approve(struct db *db, const char *agent_id, int approve, struct ward_diag *d)
{
	const char *p[4] = {agent_id};
	char *pending = NULL;
	json_t *o = NULL;
	int r;

	if ((r = db_begin_write(db, d)) != 0)
		return r;
	if ((r = db_exec(db,
			 "SELECT pending FROM agents WHERE id = $1 AND pending_hash IS NOT NULL", p,
			 1, on_text, &pending, d)) != 0)
		goto fail;
	if (pending == NULL) {
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0,
			     "agent %s has no enrollment waiting for approval", agent_id);
		goto fail;
	}
	if (approve) { /* the host as it enrolled: its machine id, name, version */
		o = json_loads(pending, 0, NULL);
		p[1] = json_string_value(json_object_get(o, "machine_id"));
		p[2] = json_string_value(json_object_get(o, "hostname"));
		p[3] = json_string_value(json_object_get(o, "version"));
		if (p[1] == NULL || p[2] == NULL || p[3] == NULL) {
			r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				     "agent %s: its waiting enrollment is "
				     "damaged",
				     agent_id);
			goto fail;
		}
		r = db_exec(
		    db,
		    "UPDATE agents SET secret_hash = pending_hash, machine_id = $2, hostname = $3,"
		    " version = $4, pending_hash = NULL, pending = NULL WHERE id = $1",
		    p, 4, NULL, NULL, d);
	} else {
		r = db_exec(db,
			    "UPDATE agents SET pending_hash = NULL, pending = NULL WHERE id = $1",
			    p, 1, NULL, NULL, d);
	}
	if (r != 0)
		goto fail;
	free(pending);
	json_decref(o);
	return db_commit(db, d);
fail:
	free(pending);
	json_decref(o);
	db_rollback(db);
	return r;
}

int
store_checkin(struct db *db, const char *agent_id, int64_t now, const char *report,
	      long long content_version, const char *mode, const char *journal_id, long long hold_s,
	      long long *acked, struct ward_diag *d)
{
	char n[24], v[24], a[24], ms[24], cu[24];
	const char *p[7] = {n, report, v, mode, agent_id, ms, cu};
	struct timespec ts;
	int r;

	store_lltoa(now, n);
	store_lltoa(content_version, v);
	clock_gettime(CLOCK_REALTIME,
		      &ts); /* the rollout gate orders check-ins finer than seconds */
	store_lltoa((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ms);
	store_lltoa(now + (hold_s > 0 ? hold_s : 0), cu); /* a long poll: connected meanwhile */
	if ((r = db_exec(db,
			 "UPDATE agents SET last_seen = $1, report = $2, content_version = $3,"
			 " mode = $4, checkins = checkins + 1, seen_ms = $6, connected_until = $7"
			 " WHERE id = $5",
			 p, 7, NULL, NULL, d)) != 0)
		return r;
	p[0] = agent_id;
	p[1] = journal_id;
	r = db_scalar(db, "SELECT acked_seq FROM agents WHERE id = $1 AND journal_id = $2", p, 2, a,
		      sizeof(a), d);
	*acked = atoll(a); /* 0 for another journal */
	return r;
}

int
store_agent_held(struct db *db, const char *agent_id, const char *journal_id, int *revoked,
		 long long *acked, struct ward_diag *d)
{
	const char *p[2] = {agent_id, journal_id};
	char v[24], a[24];
	int r;

	*revoked = 0;
	*acked = 0;
	if ((r = db_scalar(db, "SELECT revoked FROM agents WHERE id = $1", p, 1, v, sizeof(v),
			   d)) != 0)
		return r;
	*revoked = atoll(v) != 0;
	if (*revoked)
		return 0;
	r = db_scalar(db, "SELECT acked_seq FROM agents WHERE id = $1 AND journal_id = $2", p, 2, a,
		      sizeof(a), d);
	*acked = atoll(a); /* 0 for another journal */
	return r;
}

int
store_events_commit(struct db *db, const char *agent_id, const char *journal_id,
		    const long long *seqs, const char *const *bodies, const char *const *kinds,
		    size_t n, int64_t now, long long *acked, struct ward_diag *d)
{
	char s[24], t[24], a[24];
	const char *p[6];
	long long top = 0;
	size_t i;
	int r;

	store_lltoa(now, t);
	if ((r = db_begin_write(db, d)) != 0)
		return r;
	/* A new journal (the agent's state was wiped): count from 0 again. */
	p[0] = journal_id;
	p[1] = agent_id;
	if ((r = db_exec(db,
			 "UPDATE agents SET journal_id = $1, acked_seq = 0 WHERE id = $2"
			 " AND journal_id <> $1",
			 p, 2, NULL, NULL, d)) != 0)
		goto fail;
	/* Many rows per statement (one parse, one round trip): $1..$3 are
	 * the agent, journal and time, then seq, body, kind per row. */
	for (i = 0; i < n; i += EVENT_ROWS(db)) {
		size_t k, rows = n - i < EVENT_ROWS(db) ? n - i : EVENT_ROWS(db);
		char *sql = ward_malloc(160 + rows * 48);
		const char **q = ward_malloc((3 + 3 * rows) * sizeof(*q));
		char(*seqtxt)[24] = ward_malloc(rows * sizeof(*seqtxt));
		size_t len;

		if (sql == NULL || q == NULL || seqtxt == NULL) {
			ward_free(sql);
			ward_free(q);
			ward_free(seqtxt);
			r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
			goto fail;
		}
		q[0] = agent_id;
		q[1] = journal_id;
		q[2] = t;
		len =
		    (size_t)sprintf(sql, "INSERT INTO events (agent_id, journal_id, seq, received,"
					 " body, kind) VALUES ");
		for (k = 0; k < rows; k++) {
			store_lltoa(seqs[i + k], seqtxt[k]);
			q[3 + 3 * k] = seqtxt[k];
			q[4 + 3 * k] = bodies[i + k];
			q[5 + 3 * k] = kinds[i + k];
			len += (size_t)sprintf(sql + len, "%s($1, $2, $%zu, $3, $%zu, $%zu)",
					       k ? ", " : "", 4 + 3 * k, 5 + 3 * k, 6 + 3 * k);
			if (seqs[i + k] > top)
				top = seqs[i + k];
		}
		sprintf(sql + len, " ON CONFLICT DO NOTHING");
		r = db_exec(db, sql, q, (int)(3 + 3 * rows), NULL, NULL, d);
		ward_free(sql);
		ward_free(q);
		ward_free(seqtxt);
		if (r != 0)
			goto fail;
	}
	store_lltoa(top, s);
	p[0] = s;
	p[1] = agent_id;
	if ((r = db_exec(
		 db,
		 "UPDATE agents SET acked_seq = CASE WHEN acked_seq < $1 THEN $1 ELSE acked_seq"
		 " END WHERE id = $2",
		 p, 2, NULL, NULL, d)) != 0)
		goto fail;
	p[0] = agent_id;
	if ((r = db_scalar(db, "SELECT acked_seq FROM agents WHERE id = $1", p, 1, a, sizeof(a),
			   d)) != 0)
		goto fail;
	if ((r = db_commit(db, d)) != 0)
		return r;
	*acked = atoll(a);
	return 0;
fail:
	db_rollback(db);
	return r;
}

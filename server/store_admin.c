/*
 * store_admin: what the operators' API reads and manages in the fleet
 * server's data.  See store.h.  Listings of agents, their counts and
 * events, revocation, admin tokens and their authentication, the audit
 * log, signing keys, bundles and retention (store.c owns the schema).
 *
 * Must hold: every function is one transaction (a failure changes
 * nothing); admin tokens are stored only as their SHA-256 and compared by
 * that hash, never by the token.
 */
#include "server/store.h"
#include "server/store_priv.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct agents_view {
	json_t *arr;
	int64_t now;
};

static json_t *
utc_json(const char *secs)
{
	char t[21];

	clock_utc((int64_t)atoll(secs), t);
	return json_string(t);
}

static int
on_agent(void *arg, int ncols, const char *const *v)
{
	struct agents_view *av = arg;
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:I, s:s, s:I, s:I}", "id",
		      v[0], "hostname", v[1], "group", v[2], "version", v[3], "machine_id", v[4],
		      "enrolled", utc_json(v[5]), "last_seen", utc_json(v[6]), "connected",
		      atoll(v[15]) >= (long long)av->now, "revoked", atoll(v[7]) != 0,
		      "content_version", (json_int_t)atoll(v[8]), "mode", v[9], "acked_seq",
		      (json_int_t)atoll(v[10]), "checkins", (json_int_t)atoll(v[11]));

	(void)ncols;
	if (o == NULL)
		return WARD_ENOMEM;
	if (v[12] != NULL)
		json_object_set_new(o, "clone_of", json_string(v[12]));
	if (v[13] != NULL) {
		json_t *rep = json_loads(v[13], 0, NULL);

		if (rep != NULL)
			json_object_set_new(o, "report", rep);
	}
	if (v[14] != NULL) { /* a re-enrolment waiting for approval */
		json_t *pend = json_loads(v[14], 0, NULL);

		if (pend != NULL)
			json_object_set_new(o, "pending", pend);
	}
	json_array_append_new(av->arr, o);
	return 0;
}

int
store_agents(struct db *db, int64_t now, json_t **out, struct ward_diag *d)
{
	struct agents_view av;
	int r;

	*out = json_array();
	av.arr = *out;
	av.now = now;
	r = db_exec(db,
		    "SELECT id, hostname, grp, version, machine_id, enrolled, last_seen, revoked,"
		    " content_version, mode, acked_seq, checkins, clone_of, report, pending,"
		    " connected_until FROM agents ORDER BY enrolled, id",
		    NULL, 0, on_agent, &av, d);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

static int
on_count(void *arg, int ncols, const char *const *v)
{
	json_t *o = arg;

	(void)ncols;
	json_object_set_new(o, v[0], json_integer(atoll(v[1])));
	return 0;
}

int
store_agent_counts(struct db *db, int64_t now, json_t **out, struct ward_diag *d)
{
	char n[24];
	const char *p[1] = {n};
	json_t *versions = json_object();
	int r;

	store_lltoa(now, n);
	*out = json_object();
	r = db_exec(db,
		    "SELECT 'total', count(*) FROM agents UNION ALL SELECT 'revoked', count(*) FROM"
		    " agents WHERE revoked <> 0 UNION ALL SELECT 'pending', count(*) FROM agents"
		    " WHERE pending_hash IS NOT NULL UNION ALL SELECT 'connected', count(*) FROM"
		    " agents WHERE connected_until >= CAST($1 AS BIGINT) AND revoked = 0",
		    p, 1, on_count, *out, d);
	if (r == 0)
		r = db_exec(db,
			    "SELECT CAST(content_version AS TEXT), count(*) FROM agents WHERE"
			    " revoked = 0 GROUP BY content_version ORDER BY content_version",
			    NULL, 0, on_count, versions, d);
	json_object_set_new(*out, "by_content_version", versions);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

static int
on_event(void *arg, int ncols, const char *const *v)
{
	json_t *ev = json_loads(v[2], 0, NULL);

	(void)ncols;
	json_array_append_new((json_t *)arg, json_pack("{s:s, s:I, s:o}", "agent_id", v[0], "seq",
						       (json_int_t)atoll(v[1]), "event",
						       ev != NULL ? ev : json_null()));
	return 0;
}

int
store_events(struct db *db, const char *agent_id, long long since, long long limit, json_t **out,
	     struct ward_diag *d)
{
	char s[24], l[24];
	const char *p[3] = {s, l, agent_id};
	int r;

	store_lltoa(since, s);
	store_lltoa(limit, l);
	*out = json_array();
	if (agent_id != NULL)
		r = db_exec(db,
			    "SELECT agent_id, seq, body FROM events WHERE seq > $1 AND $2 <> ''"
			    " AND agent_id = $3 ORDER BY seq LIMIT CAST($2 AS BIGINT)",
			    p, 3, on_event, *out, d);
	else
		r = db_exec(db,
			    "SELECT agent_id, seq, body FROM events WHERE seq > $1 AND $2 <> ''"
			    " ORDER BY received, agent_id, seq LIMIT CAST($2 AS BIGINT)",
			    p, 2, on_event, *out, d);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

int
store_agent_revoke(struct db *db, const char *agent_id, int64_t now, int revoke,
		   struct ward_diag *d)
{
	char n[24];
	const char *p[2] = {n, agent_id};
	int r;

	store_lltoa(now, n);
	r = db_exec(
	    db,
	    revoke ? "UPDATE agents SET revoked = $1, pending_hash = NULL, pending = NULL"
		     " WHERE id = $2 AND revoked = 0"
		   : "UPDATE agents SET revoked = 0 WHERE id = $2 AND revoked <> 0 AND $1 <> ''",
	    p, 2, NULL, NULL, d);
	if (r == 0 && db_changes(db) == 0)
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0,
			     revoke ? "no enrolled agent %s" : "no revoked agent %s", agent_id);
	return r;
}

int
store_admin_token_create(struct db *db, const char *name, const char *role, int64_t now,
			 char token[STORE_SECRET_LEN + 1], struct ward_diag *d)
{
	char hash[65], n[24];
	const char *p[4] = {hash, name, role, n};

	if (strcmp(role, "viewer") != 0 && strcmp(role, "operator") != 0 &&
	    strcmp(role, "admin") != 0)
		return diag_set(d, WARD_EINVAL, NULL, 0, 0,
				"role must be viewer, operator or admin");
	if (store_random_hex(token, STORE_SECRET_LEN / 2) != 0)
		return diag_set(d, WARD_EIO, NULL, 0, 0, "no randomness");
	store_sha256_hex(token, hash);
	store_lltoa(now, n);
	return db_exec(
	    db, "INSERT INTO admin_tokens (hash, name, role, created) VALUES ($1, $2, $3, $4)", p,
	    4, NULL, NULL, d);
}

struct admrow {
	int found;
	char role[16], name[64];
};

static int
on_admin(void *arg, int ncols, const char *const *v)
{
	struct admrow *a = arg;

	(void)ncols;
	a->found = 1;
	snprintf(a->role, sizeof(a->role), "%s", v[0]);
	snprintf(a->name, sizeof(a->name), "%s", v[1]);
	return 0;
}

int
store_admin_auth(struct db *db, const char *token, char role[16], char name[64],
		 struct ward_diag *d)
{
	struct admrow a;
	char hash[65];
	const char *p[1] = {hash};
	int r;

	memset(&a, 0, sizeof(a));
	store_sha256_hex(token, hash);
	if ((r = db_exec(db, "SELECT role, name FROM admin_tokens WHERE hash = $1", p, 1, on_admin,
			 &a, d)) != 0)
		return r;
	if (!a.found)
		return diag_set(d, WARD_EVERIFY, NULL, 0, 0, "unknown API token");
	snprintf(role, 16, "%s", a.role);
	snprintf(name, 64, "%s", a.name);
	return 0;
}

int
store_audit(struct db *db, const char *who, const char *action, const char *detail, int64_t now,
	    struct ward_diag *d)
{
	char n[24];
	const char *p[4] = {n, who, action, detail};

	store_lltoa(now, n);
	return db_exec(db, "INSERT INTO audit (ts, who, action, detail) VALUES ($1, $2, $3, $4)", p,
		       4, NULL, NULL, d);
}

static int
on_audit(void *arg, int ncols, const char *const *v)
{
	json_t *detail = json_loads(v[3], 0, NULL);

	(void)ncols;
	json_array_append_new((json_t *)arg, json_pack("{s:o, s:s, s:s, s:o}", "at", utc_json(v[0]),
						       "who", v[1], "action", v[2], "detail",
						       detail != NULL ? detail : json_object()));
	return 0;
}

int
store_audit_list(struct db *db, long long limit, json_t **out, struct ward_diag *d)
{
	char l[24];
	const char *p[1] = {l};
	int r;

	store_lltoa(limit, l);
	*out = json_array();
	r = db_exec(db,
		    "SELECT ts, who, action, detail FROM audit ORDER BY ts DESC"
		    " LIMIT CAST($1 AS BIGINT)",
		    p, 1, on_audit, *out, d);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

int
store_purge(struct db *db, int64_t now, unsigned events_days, unsigned audit_days,
	    long long *deleted, struct ward_diag *d)
{
	char ev[24], au[24];
	const char *p[1];
	int r = 0;

	*deleted = 0;
	store_lltoa(now - (int64_t)events_days * 86400, ev);
	store_lltoa(now - (int64_t)audit_days * 86400, au);
	if (events_days > 0) {
		p[0] = ev;
		r = db_exec(
		    db,
		    "DELETE FROM events WHERE (agent_id, journal_id, seq) IN (SELECT agent_id,"
		    " journal_id, seq FROM events WHERE received < CAST($1 AS BIGINT) "
		    "LIMIT " STORE_PURGE_ROWS_TEXT ")",
		    p, 1, NULL, NULL, d);
		*deleted += db_changes(db);
	}
	if (r == 0 && audit_days > 0) {
		p[0] = au;
		r = db_exec(db, "DELETE FROM audit WHERE ts < CAST($1 AS BIGINT)", p, 1, NULL, NULL,
			    d);
		*deleted += db_changes(db);
	}
	return r;
}

int
store_key_put(struct db *db, const char *key_id, const char *pem, const char *who, int64_t now,
	      struct ward_diag *d)
{
	char n[24];
	const char *p[4] = {key_id, pem, n, who};
	int r;

	store_lltoa(now, n);
	r = db_exec(db,
		    "INSERT INTO trusted_keys (key_id, pem, added, who) VALUES ($1, $2, $3, $4)"
		    " ON CONFLICT DO NOTHING",
		    p, 4, NULL, NULL, d);
	if (r == 0 && db_changes(db) == 0)
		r = diag_set(d, WARD_EDUPLICATE, NULL, 0, 0, "key %s is trusted already", key_id);
	return r;
}

int
store_key_remove(struct db *db, const char *key_id, struct ward_diag *d)
{
	const char *p[1] = {key_id};
	int r = db_exec(db, "DELETE FROM trusted_keys WHERE key_id = $1", p, 1, NULL, NULL, d);

	if (r == 0 && db_changes(db) == 0)
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0,
			     "no key %s was added with the API (keys of content.trusted_keys are "
			     "removed from server.yaml)",
			     key_id);
	return r;
}

static int
on_key(void *arg, int ncols, const char *const *v)
{
	(void)ncols;
	json_array_append_new((json_t *)arg,
			      json_pack("{s:s, s:s, s:o, s:s}", "key_id", v[0], "pem", v[1],
					"added", utc_json(v[2]), "by", v[3]));
	return 0;
}

int
store_keys(struct db *db, json_t **out, struct ward_diag *d)
{
	int r;

	*out = json_array();
	r = db_exec(db, "SELECT key_id, pem, added, who FROM trusted_keys ORDER BY added, key_id",
		    NULL, 0, on_key, *out, d);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

int
store_bundle_put(struct db *db, const char *sha256, const char *name, long long version,
		 const void *data, size_t len, int64_t now, struct ward_diag *d)
{
	char v[24], sz[24], n[24], *b64 = ward_malloc(4 * ((len + 2) / 3) + 1);
	const char *p[6] = {sha256, name, v, sz, n, b64};
	int r;

	if (b64 == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	store_lltoa(version, v);
	store_lltoa((long long)len, sz);
	store_lltoa(now, n);
	r = db_exec(db,
		    "INSERT INTO bundles (sha256, name, version, size, created, data)"
		    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
		    p, 6, NULL, NULL, d);
	ward_free(b64);
	return r;
}

struct blob {
	void *data;
	size_t len;
	int found, bad;
};

static int
on_blob(void *arg, int ncols, const char *const *v)
{
	struct blob *b = arg;
	size_t n = strlen(v[0]), size = (size_t)atoll(v[1]);
	int k;

	(void)ncols;
	b->found = 1;
	b->data = ward_malloc(3 * (n / 4) + 3);
	if (b->data == NULL)
		return WARD_ENOMEM;
	k = EVP_DecodeBlock(b->data, (const unsigned char *)v[0], (int)n);
	if (k < 0 || (size_t)k < size) {
		b->bad = 1;
		return 0;
	}
	b->len = size; /* DecodeBlock counts the padding as zero bytes */
	return 0;
}

int
store_bundle_get(struct db *db, const char *sha256, void **data, size_t *len, struct ward_diag *d)
{
	struct blob b = {NULL, 0, 0, 0};
	const char *p[1] = {sha256};
	int r;

	*data = NULL;
	*len = 0;
	r = db_exec(db, "SELECT data, size FROM bundles WHERE sha256 = $1", p, 1, on_blob, &b, d);
	if (r == 0 && !b.found)
		r = diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no bundle %s", sha256);
	if (r == 0 && b.bad)
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "bundle %s is damaged in the database",
			     sha256);
	if (r != 0) {
		ward_free(b.data);
		return r;
	}
	*data = b.data;
	*len = b.len;
	return 0;
}

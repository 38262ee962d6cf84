/*
 * api_admin: the calls operators make — agents, tokens, events, the audit
 * log, bundles, releases, pins and freezes.  See api.h and docs/server.md.
 *
 * Must hold: listings run on a read connection (never under the write
 * lock); every change is audited with who made it; numbers from the body
 * are range-checked before they are added to a time.
 */
#include "server/api_int.h"
#include "server/rollout.h"
#include "content/admit.h"
#include "content/bundle.h"
#include "content/content.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "util/alloc.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The longest an enrollment token may be valid for: ten years. */
#define TOKEN_MAX_EXPIRES_S (10LL * 366 * 86400)

void
api_agents(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *out = NULL;
	struct db *db;
	int rc;

	(void)q;
	(void)c;
	db = api_reader(a);
	rc = store_agents(db, api_now(), &out, &d);
	api_reader_done(a, db);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:o}", "agents", out) : NULL);
}

/* POST /api/v1/agents/ID/revoke|unrevoke|approve|deny */
void
api_agent_action(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	static const struct {
		const char *word, *audit;
	} acts[] = {{"revoke", "agent-revoked"},
		    {"unrevoke", "agent-unrevoked"},
		    {"approve", "agent-approved"},
		    {"deny", "agent-denied"}};
	const char *id = c->arg;
	struct ward_diag d;
	size_t i;
	int rc;

	(void)q;
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]) && strcmp(acts[i].word, c->word) != 0; i++)
		;
	if (i == sizeof(acts) / sizeof(acts[0])) {
		http_error(r, 404, "no such call: agents/ID/%s (revoke, unrevoke, approve, deny)",
			   c->word);
		return;
	}
	db_lock(a->db);
	if (i < 2)
		rc = store_agent_revoke(a->db, id, api_now(), i == 0, &d);
	else
		rc = store_agent_approve(a->db, id, i == 2, &d);
	if (rc == 0)
		api_audit(a, &c->who, acts[i].audit, json_pack("{s:s}", "agent_id", id));
	if (rc == 0 && i == 0) /* a revoked agent's held check-in hears it at once */
		(void)rollout_wake(a->db, &d);
	db_unlock(a->db);
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:s, s:s}", "agent_id", id, "done", c->word) : NULL);
}

void
api_token(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	char token[STORE_SECRET_LEN + 1];
	json_t *b, *uses, *exp;
	const char *group;
	long long u = 0, e = 0;
	int rc;

	if ((b = api_body_json(q, r)) == NULL)
		return;
	group = json_object_get(b, "group") != NULL ? api_field(b, "group", 63) : "";
	uses = json_object_get(b, "uses");
	exp = json_object_get(b, "expires_s");
	if (group == NULL ||
	    (uses != NULL && (!json_is_integer(uses) || json_integer_value(uses) < 0 ||
			      json_integer_value(uses) > 1000000000)) ||
	    (exp != NULL && (!json_is_integer(exp) || json_integer_value(exp) < 0 ||
			     json_integer_value(exp) > TOKEN_MAX_EXPIRES_S))) {
		http_error(r, 400,
			   "token: \"group\" (a string), \"uses\" (0 to 1000000000) and "
			   "\"expires_s\" (0 to %lld: ten years); 0: unlimited",
			   TOKEN_MAX_EXPIRES_S);
		json_decref(b);
		return;
	}
	/* By default a token enrolls one host within a day: an unlimited,
	 * everlasting token is asked for (uses 0, expires_s 0). */
	u = uses != NULL ? (long long)json_integer_value(uses) : 1;
	e = exp == NULL			   ? api_now() + 86400
	    : json_integer_value(exp) > 0 ? api_now() + json_integer_value(exp)
					   : 0;
	db_lock(a->db);
	rc = store_token_create(a->db, group, u, e, api_now(), token, &d);
	if (rc == 0)
		api_audit(a, &c->who, "token-created",
			  json_pack("{s:s, s:I, s:I}", "group", group, "uses", (json_int_t)u,
				    "expires", (json_int_t)e));
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:s, s:s, s:I, s:I}", "token", token, "group", group, "uses",
				    (json_int_t)u, "expires", (json_int_t)e);
	OPENSSL_cleanse(token, sizeof(token));
	json_decref(b); /* group points into it */
}

/* A non-negative integer argument of at most max, or dflt when absent;
 * -1 when malformed. */
static long long
int_arg(const struct http_req *q, const char *name, long long dflt, long long max)
{
	const char *v = http_arg(q, name);
	char *end;
	long long n;

	if (v == NULL)
		return dflt;
	n = strtoll(v, &end, 10);
	return v[0] == '\0' || *end != '\0' || n < 0 || n > max ? -1 : n;
}

void
api_event_list(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	const char *agent = http_arg(q, "agent");
	struct ward_diag d;
	json_t *out = NULL;
	long long lim = int_arg(q, "limit", 1000, 100000),
		  since = int_arg(q, "since", 0, 1LL << 62);
	struct db *db;
	int rc;

	(void)c;
	if (lim <= 0 || since < 0 || (agent != NULL && strlen(agent) > STORE_ID_LEN)) {
		http_error(r, 400, "events: ?agent=ID&since=SEQ&limit=N (1 to 100000)");
		return;
	}
	db = api_reader(a);
	rc = store_events(db, agent, since, lim, &out, &d);
	api_reader_done(a, db);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:o}", "events", out) : NULL);
}

void
api_audit_list(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *out = NULL;
	struct db *db;
	int rc;

	(void)q;
	(void)c;
	db = api_reader(a);
	rc = store_audit_list(db, 1000, &out, &d);
	api_reader_done(a, db);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:o}", "audit", out) : NULL);
}

/* The keys a bundle may be signed with: content.trusted_keys (loaded at
 * start, borrowed) and those added with the API (loaded now).  Their
 * count; keys[] holds them. */
static unsigned
trusted_keys(struct api *a, struct sign_key **keys)
{
	struct ward_diag d;
	json_t *list = NULL, *e;
	struct db *db;
	unsigned n = 0;
	size_t i;

	for (i = 0; i < a->ntrusted && n < API_MAX_KEYS; i++)
		keys[n++] = a->trusted[i];
	db = api_reader(a);
	if (store_keys(db, &list, &d) != 0)
		list = NULL;
	api_reader_done(a, db);
	json_array_foreach(list, i, e) {
		const char *pem = json_string_value(json_object_get(e, "pem"));

		if (n < API_MAX_KEYS && pem != NULL &&
		    sign_key_from_pem(pem, strlen(pem), 0, &keys[n]) == 0)
			n++;
	}
	json_decref(list);
	return n;
}

static void
free_keys(struct api *a, struct sign_key **keys, unsigned n)
{
	unsigned i;

	for (i = a->ntrusted; i < n; i++) /* (the first ones are the configuration's) */
		sign_key_free(keys[i]);
}

/* GET /api/v1/keys: the content signing keys the server verifies with. */
void
api_keys(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *list = NULL, *out = json_array(), *e;
	struct db *db;
	size_t i;
	int rc;

	(void)q;
	(void)c;
	for (i = 0; i < a->ntrusted; i++) {
		char id[2 * SIGN_KEY_ID_SIZE + 1];

		sign_key_id_hex(a->trusted[i], id);
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s}", "key_id", id, "alg",
						     sign_alg_name(sign_key_alg(a->trusted[i])),
						     "source", "config", "path",
						     a->cfg->trusted_keys[i]));
	}
	db = api_reader(a);
	rc = store_keys(db, &list, &d);
	api_reader_done(a, db);
	json_array_foreach(list, i, e) {
		const char *pem = json_string_value(json_object_get(e, "pem"));
		struct sign_key *k = NULL;

		if (pem == NULL || sign_key_from_pem(pem, strlen(pem), 0, &k) != 0)
			continue;
		json_object_set_new(e, "alg", json_string(sign_alg_name(sign_key_alg(k))));
		json_object_set_new(e, "source", json_string("api"));
		json_array_append(out, e);
		sign_key_free(k);
	}
	json_decref(list);
	if (rc != 0)
		json_decref(out);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:o, s:i}", "keys", out, "threshold",
						 (int)a->cfg->signature_threshold)
				     : NULL);
}

/* POST /api/v1/keys {pem}: trust a content signing key (admin). */
void
api_key_add(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct sign_key *k = NULL;
	struct ward_diag d;
	char id[2 * SIGN_KEY_ID_SIZE + 1];
	const char *pem;
	json_t *b;
	int rc;

	if ((b = api_body_json(q, r)) == NULL)
		return;
	pem = api_field(b, "pem", SIGN_MAX_PEM);
	if (pem == NULL || sign_key_from_pem(pem, strlen(pem), 0, &k) != 0) {
		http_error(r, 400, "keys: {\"pem\": an Ed25519 or SM2 public key in PEM form}");
		json_decref(b);
		return;
	}
	sign_key_id_hex(k, id);
	db_lock(a->db);
	rc = store_key_put(a->db, id, pem, c->who.name, api_now(), &d);
	if (rc == 0)
		api_audit(a, &c->who, "key-trusted",
			  json_pack("{s:s, s:s}", "key_id", id, "alg", sign_alg_name(sign_key_alg(k))));
	db_unlock(a->db);
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:s, s:s}", "key_id", id, "alg",
				      sign_alg_name(sign_key_alg(k)))
			  : NULL);
	sign_key_free(k);
	json_decref(b);
}

/* POST /api/v1/keys/ID/remove (admin). */
void
api_key_remove(struct api *a, const struct http_req *q, struct http_resp *r,
	       const struct call *c)
{
	struct ward_diag d;
	int rc;

	(void)q;
	if (strcmp(c->word, "remove") != 0) {
		http_error(r, 404, "no such call: keys/ID/%s (remove)", c->word);
		return;
	}
	db_lock(a->db);
	rc = store_key_remove(a->db, c->arg, &d);
	if (rc == 0)
		api_audit(a, &c->who, "key-removed", json_pack("{s:s}", "key_id", c->arg));
	db_unlock(a->db);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:s, s:s}", "key_id", c->arg, "done", "removed")
				     : NULL);
}

/* POST /api/v1/bundles: a signed bundle, admitted as an agent would admit
 * it (format, signatures of the trusted keys, compile, its own tests);
 * expiry and min_agent_version are the agents' to judge at activation. */
void
api_bundle_upload(struct api *a, const struct http_req *q, struct http_resp *r,
		  const struct call *c)
{
	struct admit_policy pol;
	struct admit_verdict v;
	struct ward_diag d;
	struct sign_key *keys[API_MAX_KEYS];
	const struct bundle *b;
	uint8_t md[32];
	char sha[65], msg[1100];
	unsigned ntrusted;
	int rc;

	ntrusted = trusted_keys(a, keys);
	if (ntrusted == 0) {
		http_error(r, 409,
			   "the server trusts no content signing key to verify releases with: add one "
			   "(ward fleet keys add KEY.pub, or content.trusted_keys in server.yaml)");
		return;
	}
	memset(&pol, 0, sizeof(pol));
	pol.trusted = keys;
	pol.ntrusted = ntrusted;
	pol.threshold = a->cfg->signature_threshold;
	pol.now = api_now(); /* an expired bundle would be refused by every agent */
	pol.compile = admit_compile_here;
	pol.run_tests = 1;
	if (content_admit((const uint8_t *)q->body, q->len, &pol, &v) != 0) {
		diag_format(&v.diag, msg, sizeof(msg));
		http_error(r, 422, "bundle refused: %s", msg);
		goto out;
	}
	b = v.bundle;
	(void)digest_buf(DIGEST_SHA256, q->body, q->len, md, sizeof(md));
	(void)digest_to_hex(md, sizeof(md), sha, sizeof(sha));
	db_lock(a->db);
	rc = store_bundle_put(a->db, sha, b->name, (long long)b->version, q->body, q->len,
			      api_now(), &d);
	if (rc == 0)
		api_audit(a, &c->who, "bundle-stored",
			  json_pack("{s:s, s:s, s:I}", "sha256", sha, "name", b->name, "version",
				    (json_int_t)b->version));
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:s, s:s, s:I, s:I, s:i}", "sha256", sha, "name", b->name,
				    "version", (json_int_t)b->version, "size", (json_int_t)q->len,
				    "signatures", (int)v.valid);
out:
	admit_verdict_free(&v);
	free_keys(a, keys, ntrusted);
}

void
api_release_create(struct api *a, const struct http_req *q, struct http_resp *r,
		   const struct call *c)
{
	json_t *b, *pj;
	const char *sha;
	struct plan plan;
	struct ward_diag d;
	long long id = 0;
	char *ptext = NULL;
	int rc = 0;

	if ((b = api_body_json(q, r)) == NULL)
		return;
	sha = api_field(b, "bundle", 64);
	pj = json_object_get(b, "plan");
	if (sha == NULL) {
		http_error(r, 400, "a release needs \"bundle\" (the sha256 of a stored bundle)");
		json_decref(b);
		return;
	}
	if (pj == NULL) {
		rollout_default_plan(&plan);
	} else if ((ptext = json_dumps(pj, JSON_COMPACT)) == NULL ||
		   (rc = rollout_parse_plan(ptext, strlen(ptext), &plan, &d)) != 0) {
		http_error(r, 400, "plan: %s", ptext != NULL ? d.msg : "out of memory");
		free(ptext);
		json_decref(b);
		return;
	}
	free(ptext);
	db_lock(a->db);
	rc = rollout_create(a->db, sha, &plan, api_now(), &id, &d);
	if (rc == 0)
		api_audit(a, &c->who, "release-created",
			  json_pack("{s:I, s:s, s:o}", "release", (json_int_t)id, "bundle", sha,
				    "plan", rollout_plan_json(&plan)));
	db_unlock(a->db);
	json_decref(b);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:I}", "release", (json_int_t)id) : NULL);
}

void
api_release_get(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *out = NULL;
	struct db *db;
	int one = c->arg[0] != '\0', rc;

	(void)q;
	db = api_reader(a);
	rc = one ? rollout_release(db, atoll(c->arg), &out, &d) : rollout_releases(db, &out, &d);
	api_reader_done(a, db);
	api_reply(r, rc, &d, rc != 0 ? NULL : one ? out : json_pack("{s:o}", "releases", out));
}

void
api_release_action(struct api *a, const struct http_req *q, struct http_resp *r,
		   const struct call *c)
{
	long long id = atoll(c->arg);
	struct ward_diag d;
	int rc;

	(void)q;
	db_lock(a->db);
	rc = rollout_action(a->db, id, c->word, c->who.name, api_now(), &d);
	if (rc == 0) {
		char act[32];

		snprintf(act, sizeof(act), "release-%s", c->word);
		api_audit(a, &c->who, act, json_pack("{s:I}", "release", (json_int_t)id));
	}
	db_unlock(a->db);
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:I, s:s}", "release", (json_int_t)id, "done", c->word)
			  : NULL);
}

void
api_pin(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *b, *v;
	const char *group;
	int rc;

	if ((b = api_body_json(q, r)) == NULL)
		return;
	group = api_field(b, "group", 63);
	v = json_object_get(b, "version");
	if (group == NULL || !json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) >= BUNDLE_MAX_VERSION) {
		http_error(r, 400, "pin: {\"group\": NAME, \"version\": N (0: unpin)}");
		json_decref(b);
		return;
	}
	db_lock(a->db);
	rc = rollout_pin(a->db, group, (long long)json_integer_value(v), api_now(), &d);
	if (rc == 0)
		api_audit(a, &c->who, json_integer_value(v) ? "group-pinned" : "group-unpinned",
			  json_pack("{s:s, s:I}", "group", group, "version",
				    (json_int_t)json_integer_value(v)));
	db_unlock(a->db);
	api_reply(r, rc, &d,
		  rc == 0 ? json_pack("{s:s, s:I}", "group", group, "version",
				      (json_int_t)json_integer_value(v))
			  : NULL);
	json_decref(b);
}

void
api_freeze(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *b, *on;
	int rc;

	if ((b = api_body_json(q, r)) == NULL)
		return;
	on = json_object_get(b, "frozen");
	if (!json_is_boolean(on)) {
		http_error(r, 400, "freeze: {\"frozen\": true|false}");
		json_decref(b);
		return;
	}
	db_lock(a->db);
	rc = rollout_freeze(a->db, json_is_true(on), api_now(), &d);
	if (rc == 0)
		api_audit(a, &c->who, json_is_true(on) ? "content-frozen" : "content-unfrozen",
			  json_object());
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:b}", "frozen", json_is_true(on));
	json_decref(b);
}

void
api_pins(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *out = NULL;
	struct db *db;
	int rc;

	(void)q;
	(void)c;
	db = api_reader(a);
	rc = rollout_pins(db, &out, &d);
	api_reader_done(a, db);
	api_reply(r, rc, &d, rc == 0 ? json_pack("{s:o}", "pins", out) : NULL);
}

/* GET /api/v1/status: the fleet at a glance — frozen or not, pins, the
 * release under way and why it waits, agents by state and version. */
void
api_status(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct ward_diag d;
	json_t *pins = NULL, *rels = NULL, *agents = NULL, *cur = json_null(), *e;
	struct db *db;
	size_t i;
	int rc, frozen;

	(void)q;
	(void)c;
	db = api_reader(a);
	frozen = rollout_frozen(db);
	rc = rollout_pins(db, &pins, &d);
	if (rc == 0)
		rc = rollout_releases(db, &rels, &d);
	if (rc == 0)
		rc = store_agent_counts(db, api_now(), &agents, &d);
	api_reader_done(a, db);
	json_array_foreach(
	    rels, i,
	    e) if (strcmp(json_string_value(json_object_get(e, "state")), "running") == 0 ||
		   strcmp(json_string_value(json_object_get(e, "state")), "paused") == 0)
	{
		cur = json_incref(e);
		json_object_del(cur, "plan");
		break;
	}
	json_decref(rels);
	api_reply(r, rc, &d,
		  rc == 0
		      ? json_pack("{s:b, s:o, s:o, s:o, s:s}", "frozen", frozen, "pins", pins,
				  "release", cur, "agents", agents, "server_version", WARD_VERSION)
		      : NULL);
	if (rc != 0) {
		json_decref(pins);
		json_decref(agents);
		json_decref(cur);
	}
}

/*
 * api: request handlers.  See api.h.
 *
 * Must hold: a request is authenticated before it is read; a malformed,
 * unauthenticated or forbidden request gets a 4xx with a JSON error and
 * changes nothing; agents are untrusted input (every field is checked for
 * type and size); event batches are acknowledged only once committed.
 */
#include "server/api.h"
#include "server/rollout.h"
#include "server/store.h"
#include "content/bundle.h"
#include "content/content.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/file.h"

#include <fcntl.h>
#include <microhttpd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_FIELD 256

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };

struct who {
	enum role role; /* for API tokens */
	char name[64];	/* token name, or agent id */
	char group[64]; /* agents */
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static json_t *
body_json(const struct http_req *q, struct http_resp *r)
{
	json_error_t e;
	json_t *j = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &e);

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		http_error(r, 400, "the body must be a JSON object%s%s", j == NULL ? ": " : "",
			   j == NULL ? e.text : "");
		return NULL;
	}
	return j;
}

/* A string field of at most max bytes (no NUL inside), or NULL. */
static const char *
field(json_t *o, const char *name, size_t max)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

static const char *
bearer(const struct http_req *q)
{
	if (q->authorization == NULL || strncmp(q->authorization, "Bearer ", 7) != 0)
		return NULL;
	return q->authorization + 7;
}

static void
audit(struct api *a, const struct who *w, const char *action, json_t *detail)
{
	struct ward_diag d;
	char *text = json_dumps(detail, JSON_COMPACT);
	char who[80];

	snprintf(who, sizeof(who), "%s", w->name);
	if (text != NULL)
		(void)store_audit(a->db, who, action, text, now_s(), &d);
	free(text);
	json_decref(detail);
}

/* An agent's credentials; 401 (unknown) or 403 (revoked) otherwise. */
static int
auth_agent(struct api *a, const struct http_req *q, struct http_resp *r, struct who *w)
{
	const char *b = bearer(q), *colon;
	char id[STORE_ID_LEN + 1];
	struct ward_diag d;
	int revoked, rc;

	memset(w, 0, sizeof(*w));
	if (b == NULL || (colon = strchr(b, ':')) == NULL || colon - b != STORE_ID_LEN) {
		http_error(r, 401, "agent credentials required (Authorization: Bearer ID:SECRET)");
		return -1;
	}
	memcpy(id, b, STORE_ID_LEN);
	id[STORE_ID_LEN] = '\0';
	db_lock(a->db);
	rc = store_agent_auth(a->db, id, colon + 1, &revoked, w->group, &d);
	db_unlock(a->db);
	if (rc != 0) {
		http_error(r, revoked ? 403 : 401, "%s", d.msg);
		return -1;
	}
	snprintf(w->name, sizeof(w->name), "%s", id);
	snprintf(r->who, sizeof(r->who), "agent:%s", id);
	return 0;
}

/* An API token with at least role need; 401/403 otherwise. */
static int
auth_admin(struct api *a, const struct http_req *q, struct http_resp *r, enum role need,
	   struct who *w)
{
	static const char *const names[] = {"", "viewer", "operator", "admin"};
	const char *b = bearer(q);
	char role[16];
	struct ward_diag d;
	int rc, i;

	memset(w, 0, sizeof(*w));
	if (b == NULL || strlen(b) != STORE_SECRET_LEN) {
		http_error(r, 401, "an API token is required (Authorization: Bearer TOKEN)");
		return -1;
	}
	db_lock(a->db);
	rc = store_admin_auth(a->db, b, role, w->name, &d);
	db_unlock(a->db);
	if (rc != 0) {
		http_error(r, 401, "%s", d.msg);
		return -1;
	}
	for (i = 1; i <= 3; i++)
		if (strcmp(role, names[i]) == 0)
			w->role = (enum role)i;
	snprintf(r->who, sizeof(r->who), "token:%s", w->name);
	if (w->role < need) {
		http_error(r, 403, "this call needs the %s role; the token has %s", names[need], role);
		db_lock(a->db);
		audit(a, w, "call-refused",
		      json_pack("{s:s, s:s, s:s}", "method", q->method, "path", q->path, "needs",
				names[need]));
		db_unlock(a->db);
		return -1;
	}
	if (strcmp(q->method, "GET") == 0) { /* reads are audited too; changes say more below */
		db_lock(a->db);
		audit(a, w, "read", json_pack("{s:s}", "path", q->path));
		db_unlock(a->db);
	}
	return 0;
}

/* Answers a store or rollout call: ok (built only on success) or the
 * error's status — 404 no such thing, 409 not in a state for it, 500. */
static void
reply(struct http_resp *r, int rc, const struct ward_diag *d, json_t *ok)
{
	if (rc == 0)
		r->json = ok;
	else if (rc == WARD_EUNDEFINED)
		http_error(r, 404, "%s", d->msg);
	else if (rc == WARD_EDUPLICATE || rc == WARD_EINVAL)
		http_error(r, 409, "%s", d->msg);
	else
		http_error(r, 500, "%s", d->msg);
}

/* --- agents ------------------------------------------------------------- */

static void
do_enroll(struct api *a, const struct http_req *q, struct http_resp *r)
{
	json_t *b = body_json(q, r);
	struct enroll_req er;
	struct enroll_res res;
	struct ward_diag d;
	int rc;

	if (b == NULL)
		return;
	er.token = field(b, "token", MAX_FIELD);
	er.machine_id = field(b, "machine_id", MAX_FIELD);
	er.hw_id = field(b, "hw_id", MAX_FIELD);
	er.hostname = field(b, "hostname", MAX_FIELD);
	er.version = field(b, "version", 64);
	if (er.token == NULL || er.machine_id == NULL || er.hw_id == NULL || er.hostname == NULL ||
	    er.version == NULL) {
		http_error(r, 400, "enroll needs token, machine_id, hw_id, hostname and version "
				   "(strings of at most 256 bytes)");
		json_decref(b);
		return;
	}
	db_lock(a->db);
	rc = store_enroll(a->db, &er, now_s(), &res, &d);
	if (rc == 0) {
		struct who w;

		memset(&w, 0, sizeof(w));
		snprintf(w.name, sizeof(w.name), "agent:%s", res.agent_id);
		audit(a, &w, "agent-enrolled",
		      json_pack("{s:s, s:s, s:s, s:s, s:s}", "agent_id", res.agent_id, "hostname",
				er.hostname, "group", res.group, "how", res.how, "clone_of",
				res.clone_of));
	}
	db_unlock(a->db);
	json_decref(b);
	if (rc == WARD_EVERIFY) {
		http_error(r, 403, "%s", d.msg);
		return;
	}
	if (rc != 0) {
		http_error(r, 500, "%s", d.msg);
		return;
	}
	snprintf(r->who, sizeof(r->who), "agent:%s", res.agent_id);
	r->json = json_pack("{s:s, s:s, s:s, s:s, s:i}", "agent_id", res.agent_id, "secret",
			    res.secret, "group", res.group, "how", res.how, "checkin_interval_s",
			    (int)a->cfg->checkin_interval_s);
}

/* The next check-in in interval +- jitter seconds. */
static int
next_checkin(const struct server_config *c)
{
	double j = c->checkin_interval_s * c->checkin_jitter_pct / 100.0;
	double v = c->checkin_interval_s - j + 2 * j * ((double)rand() / RAND_MAX);

	return v < 1 ? 1 : (int)(v + 0.5);
}

/* 1 if the agent that reported (current version, refused versions) has
 * nothing to do about desired: then its check-in may be held. */
static int
nothing_to_do(json_t *desired, long long current, json_t *rejected)
{
	json_int_t want = json_integer_value(json_object_get(desired, "version"));
	json_int_t back = json_integer_value(json_object_get(desired, "rollback_from"));
	json_t *e;
	size_t i;

	if (desired == NULL || (back > 0 && back == current))
		return desired == NULL;
	if (want <= current)
		return 1;
	json_array_foreach(rejected, i, e)
		if (json_integer_value(json_object_get(e, "version")) == want)
			return 1; /* it refused that version: asking again changes nothing */
	return 0;
}

/*
 * POST /api/v1/checkin.  With "wait_s", a long poll: when the agent has
 * nothing to do, the answer is held (no thread kept) until what it
 * should run changes or the time is up (at most checkin.interval_s, so
 * that silence is still seen in time), and it calls again at once.
 */
static void
do_checkin(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct who w;
	json_t *b, *content, *wv;
	struct ward_diag d;
	char *report = NULL, acked_txt[24];
	const char *mode, *jid;
	long long version, acked = 0, wait_ms = 0;
	json_t *desired = NULL;
	int rc;

	if (auth_agent(a, q, r, &w) != 0 || (b = body_json(q, r)) == NULL)
		return;
	content = json_object_get(b, "content");
	version = json_integer_value(json_object_get(json_object_get(content, "current"), "version"));
	mode = field(b, "mode", 32);
	jid = json_object_get(b, "journal_id") != NULL ? field(b, "journal_id", 64) : "";
	wv = json_object_get(b, "wait_s");
	if (jid == NULL || (wv != NULL && (!json_is_integer(wv) || json_integer_value(wv) < 0 ||
					   json_integer_value(wv) > 3600))) {
		http_error(r, 400, "\"journal_id\" must be a string of at most 64 bytes, \"wait_s\" "
				   "a number of seconds");
		json_decref(b);
		return;
	}
	if (json_integer_value(wv) > 0) {
		long long s = json_integer_value(wv) < a->cfg->checkin_interval_s
				  ? json_integer_value(wv)
				  : a->cfg->checkin_interval_s;

		wait_ms = s * 1000 * (100 - (long long)(rand() % (a->cfg->checkin_jitter_pct + 1))) / 100;
	}
	db_lock(a->db);
	if (!q->resumed) {
		report = json_dumps(b, JSON_COMPACT);
		rc = store_checkin(a->db, w.name, now_s(), report != NULL ? report : "{}", version,
				   mode != NULL ? mode : "", jid, &acked, &d);
	} else {
		const char *p[2] = {w.name, jid};

		rc = db_scalar(a->db, "SELECT acked_seq FROM agents WHERE id = $1 AND journal_id = $2",
			       p, 2, acked_txt, sizeof(acked_txt), &d);
		acked = atoll(acked_txt);
	}
	if (rc == 0)
		rc = rollout_desired(a->db, w.name, w.group, &desired, &d);
	db_unlock(a->db);
	free(report);
	if (rc == 0 && wait_ms > 0 && (!q->resumed || q->remaining_ms > 0) &&
	    nothing_to_do(desired, version, json_object_get(content, "rejected"))) {
		r->hold_ms = q->resumed ? q->remaining_ms : wait_ms;
		json_decref(desired);
		json_decref(b);
		return;
	}
	json_decref(b);
	if (rc != 0) {
		json_decref(desired);
		http_error(r, 500, "%s", d.msg);
		return;
	}
	r->json = json_pack("{s:i, s:o, s:I, s:{s:i, s:i}}", "next_checkin_s",
			    wait_ms > 0 ? 0 : next_checkin(a->cfg), "desired",
			    desired != NULL ? desired : json_null(), "events_acked", (json_int_t)acked,
			    "config", "checkin_interval_s", (int)a->cfg->checkin_interval_s,
			    "events_batch_max", (int)a->cfg->event_batch_max);
}

static void
do_events(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct who w;
	json_t *b, *arr, *e;
	long long *seqs = NULL, acked = 0;
	char **bodies = NULL;
	const char **kinds = NULL;
	const char *jid;
	struct ward_diag d;
	size_t i, n;
	int rc = 0;

	if (auth_agent(a, q, r, &w) != 0 || (b = body_json(q, r)) == NULL)
		return;
	arr = json_object_get(b, "events");
	n = json_array_size(arr);
	jid = field(b, "journal_id", 64);
	if (!json_is_array(arr) || n > a->cfg->event_batch_max || jid == NULL) {
		http_error(r, 400,
			   "events needs \"journal_id\" (a string) and \"events\", a list of at most "
			   "%u {seq, event}",
			   a->cfg->event_batch_max);
		json_decref(b);
		return;
	}
	seqs = calloc(n + 1, sizeof(*seqs));
	bodies = calloc(n + 1, sizeof(*bodies));
	kinds = calloc(n + 1, sizeof(*kinds));
	for (i = 0; seqs != NULL && bodies != NULL && kinds != NULL && i < n; i++) {
		json_t *s;

		e = json_array_get(arr, i);
		s = json_object_get(e, "seq");
		if (!json_is_integer(s) || json_integer_value(s) <= 0 ||
		    !json_is_object(json_object_get(e, "event"))) {
			rc = 1;
			break;
		}
		seqs[i] = (long long)json_integer_value(s);
		kinds[i] = json_string_value(
		    json_object_get(json_object_get(json_object_get(e, "event"), "event"), "kind"));
		if (kinds[i] == NULL || strlen(kinds[i]) > 16)
			kinds[i] = "";
		bodies[i] = json_dumps(json_object_get(e, "event"), JSON_COMPACT);
		if (bodies[i] == NULL) {
			rc = 1;
			break;
		}
	}
	if (seqs == NULL || bodies == NULL || kinds == NULL) {
		http_error(r, 500, "out of memory");
	} else if (rc != 0) {
		http_error(r, 400, "events[%zu]: needs a positive integer \"seq\" and an object "
				   "\"event\"",
			   i);
	} else {
		db_lock(a->db);
		rc = store_events_commit(a->db, w.name, jid, seqs, (const char *const *)bodies,
					 kinds, n, now_s(), &acked, &d);
		db_unlock(a->db);
		if (rc != 0)
			http_error(r, 503, "not committed: %s", d.msg);
		else
			r->json = json_pack("{s:I, s:I}", "acked", (json_int_t)acked, "received",
					    (json_int_t)n);
	}
	for (i = 0; bodies != NULL && i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(kinds);
	free(seqs);
	json_decref(b);
}

/* --- operators -------------------------------------------------------------- */

static void
do_agents(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct who w;
	struct ward_diag d;
	json_t *out = NULL;
	int rc;

	if (auth_admin(a, q, r, ROLE_VIEWER, &w) != 0)
		return;
	db_lock(a->db);
	rc = store_agents(a->db, &out, &d);
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:o}", "agents", out);
}

static void
do_revoke(struct api *a, const struct http_req *q, struct http_resp *r, const char *id)
{
	struct who w;
	struct ward_diag d;
	int rc;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0)
		return;
	db_lock(a->db);
	rc = store_agent_revoke(a->db, id, now_s(), &d);
	if (rc == 0)
		audit(a, &w, "agent-revoked", json_pack("{s:s}", "agent_id", id));
	db_unlock(a->db);
	reply(r, rc, &d, rc == 0 ? json_pack("{s:b, s:s}", "revoked", 1, "agent_id", id) : NULL);
}

static void
do_token(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct who w;
	struct ward_diag d;
	char token[STORE_SECRET_LEN + 1];
	json_t *b, *uses, *exp;
	const char *group;
	long long u = 0, e = 0;
	int rc;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0 || (b = body_json(q, r)) == NULL)
		return;
	group = json_object_get(b, "group") != NULL ? field(b, "group", 63) : "";
	uses = json_object_get(b, "uses");
	exp = json_object_get(b, "expires_s");
	if (group == NULL || (uses != NULL && (!json_is_integer(uses) || json_integer_value(uses) < 0)) ||
	    (exp != NULL && (!json_is_integer(exp) || json_integer_value(exp) < 0))) {
		http_error(r, 400, "token: \"group\" (string), \"uses\" and \"expires_s\" (integers "
				   "of at least 0; 0: unlimited)");
		json_decref(b);
		return;
	}
	u = uses != NULL ? (long long)json_integer_value(uses) : 0;
	e = exp != NULL && json_integer_value(exp) > 0 ? now_s() + json_integer_value(exp) : 0;
	db_lock(a->db);
	rc = store_token_create(a->db, group, u, e, now_s(), token, &d);
	if (rc == 0)
		audit(a, &w, "token-created",
		      json_pack("{s:s, s:I, s:I}", "group", group, "uses", (json_int_t)u, "expires",
				(json_int_t)e));
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:s, s:s, s:I, s:I}", "token", token, "group", group, "uses",
				    (json_int_t)u, "expires", (json_int_t)e);
	json_decref(b); /* group points into it */
}

static void
do_event_list(struct api *a, const struct http_req *q, struct http_resp *r)
{
	const char *agent = http_arg(q, "agent"), *since = http_arg(q, "since"),
		   *limit = http_arg(q, "limit");
	struct who w;
	struct ward_diag d;
	json_t *out = NULL;
	long long lim = limit != NULL ? atoll(limit) : 1000;
	int rc;

	if (auth_admin(a, q, r, ROLE_VIEWER, &w) != 0)
		return;
	if (lim <= 0 || lim > 100000)
		lim = 1000;
	db_lock(a->db);
	rc = store_events(a->db, agent, since != NULL ? atoll(since) : 0, lim, &out, &d);
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:o}", "events", out);
}

static void
do_audit(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct who w;
	struct ward_diag d;
	json_t *out = NULL;
	int rc;

	if (auth_admin(a, q, r, ROLE_ADMIN, &w) != 0)
		return;
	db_lock(a->db);
	rc = store_audit_list(a->db, 1000, &out, &d);
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:o}", "audit", out);
}

/* --- content and releases -------------------------------------------------- */

int
api_load_keys(struct api *a, struct ward_diag *d)
{
	unsigned i;

	for (i = 0; i < a->cfg->ntrusted; i++) {
		uint8_t *buf = NULL;
		size_t len = 0;
		int r = file_read_all(a->cfg->trusted_keys[i], SIGN_MAX_PEM, &buf, &len, d);

		if (r == 0 && sign_key_from_pem((const char *)buf, len, 0, &a->trusted[i]) != 0)
			r = diag_set(d, WARD_EFORMAT, a->cfg->trusted_keys[i], 0, 0,
				     "not an Ed25519 or SM2 public key");
		ward_free(buf);
		if (r != 0)
			return r;
		a->ntrusted++;
	}
	return 0;
}

/* POST /api/v1/bundles: a signed bundle, checked as an agent would check
 * it (format, signatures of the trusted keys, compile, its own tests). */
static void
do_bundle_upload(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct bundle *b = NULL;
	struct content_set cs;
	struct ward_diag d;
	struct who w;
	uint8_t md[32];
	char sha[65], msg[1100];
	unsigned valid = 0;
	int rc;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0)
		return;
	if (a->ntrusted == 0) {
		http_error(r, 409, "the server has no content.trusted_keys to verify releases with");
		return;
	}
	memset(&cs, 0, sizeof(cs));
	if ((rc = bundle_parse((const uint8_t *)q->body, q->len, &b, &d)) != 0 ||
	    (rc = bundle_verify(b, a->trusted, a->ntrusted, a->cfg->signature_threshold, &valid,
				&d)) != 0 ||
	    (rc = content_compile(b, &cs, &d)) != 0 || (rc = content_run_tests(b, &cs, &d)) != 0) {
		diag_format(&d, msg, sizeof(msg));
		http_error(r, 422, "bundle refused: %s", msg);
		content_set_free(&cs);
		bundle_free(b);
		return;
	}
	content_set_free(&cs);
	(void)digest_buf(DIGEST_SHA256, q->body, q->len, md, sizeof(md));
	(void)digest_to_hex(md, sizeof(md), sha, sizeof(sha));
	db_lock(a->db);
	rc = store_bundle_put(a->db, sha, b->name, (long long)b->version, q->body, q->len, now_s(),
			      &d);
	if (rc == 0)
		audit(a, &w, "bundle-stored",
		      json_pack("{s:s, s:s, s:I}", "sha256", sha, "name", b->name, "version",
				(json_int_t)b->version));
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:s, s:s, s:I, s:I, s:i}", "sha256", sha, "name", b->name,
				    "version", (json_int_t)b->version, "size", (json_int_t)q->len,
				    "signatures", (int)valid);
	bundle_free(b);
}

/* GET /api/v1/bundles/SHA: for agents (and viewers), with Range. */
static void
do_bundle_get(struct api *a, const struct http_req *q, struct http_resp *r, const char *sha)
{
	struct ward_diag d;
	struct who w;
	char path[SCONF_MAX_PATH + 100];
	void *data = NULL;
	size_t len = 0;
	unsigned long long from = 0;
	struct stat st;
	int fd, rc;

	if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
		http_error(r, 404, "no such bundle");
		return;
	}
	if (bearer(q) != NULL && strchr(bearer(q), ':') != NULL) {
		if (auth_agent(a, q, r, &w) != 0)
			return;
	} else if (auth_admin(a, q, r, ROLE_VIEWER, &w) != 0) {
		return;
	}
	/* Served from a file cache of the database's copy. */
	snprintf(path, sizeof(path), "%s/bundles/%s.wbundle", a->cfg->data_dir, sha);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		db_lock(a->db);
		rc = store_bundle_get(a->db, sha, &data, &len, &d);
		db_unlock(a->db);
		if (rc == WARD_EUNDEFINED) {
			http_error(r, 404, "no such bundle");
			return;
		}
		if (rc != 0) {
			http_error(r, 500, "%s", d.msg);
			return;
		}
		snprintf(path, sizeof(path), "%s/bundles", a->cfg->data_dir);
		(void)mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/bundles/%s.wbundle", a->cfg->data_dir, sha);
		if (file_replace(path, data, len, 0600, &d) != 0) {
			ward_free(data);
			http_error(r, 500, "%s", d.msg);
			return;
		}
		ward_free(data);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			http_error(r, 500, "cannot read %s", path);
			return;
		}
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		http_error(r, 500, "cannot read the bundle");
		return;
	}
	if (q->range != NULL &&
	    (sscanf(q->range, "bytes=%llu-", &from) != 1 || from >= (unsigned long long)st.st_size)) {
		close(fd);
		http_error(r, 416, "range not satisfiable");
		return;
	}
	r->fd = fd;
	r->off = from;
	r->len = (uint64_t)st.st_size - from;
	r->total = (uint64_t)st.st_size;
	r->status = q->range != NULL ? 206 : 200;
}

static void
do_release_create(struct api *a, const struct http_req *q, struct http_resp *r)
{
	json_t *b, *pj;
	const char *sha;
	struct plan plan;
	struct ward_diag d;
	struct who w;
	long long id = 0;
	char *ptext = NULL;
	int rc = 0;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0 || (b = body_json(q, r)) == NULL)
		return;
	sha = field(b, "bundle", 64);
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
	rc = rollout_create(a->db, sha, &plan, now_s(), &id, &d);
	if (rc == 0)
		audit(a, &w, "release-created",
		      json_pack("{s:I, s:s, s:o}", "release", (json_int_t)id, "bundle", sha, "plan",
				rollout_plan_json(&plan)));
	db_unlock(a->db);
	json_decref(b);
	reply(r, rc, &d, rc == 0 ? json_pack("{s:I}", "release", (json_int_t)id) : NULL);
}

static void
do_release_get(struct api *a, const struct http_req *q, struct http_resp *r, const char *idtext)
{
	struct ward_diag d;
	struct who w;
	json_t *out = NULL;
	int rc;

	if (auth_admin(a, q, r, ROLE_VIEWER, &w) != 0)
		return;
	db_lock(a->db);
	rc = idtext == NULL ? rollout_releases(a->db, &out, &d)
			    : rollout_release(a->db, atoll(idtext), &out, &d);
	db_unlock(a->db);
	reply(r, rc, &d,
	      rc != 0 ? NULL : idtext == NULL ? json_pack("{s:o}", "releases", out) : out);
}

static void
do_release_action(struct api *a, const struct http_req *q, struct http_resp *r, long long id,
		  const char *action)
{
	struct ward_diag d;
	struct who w;
	int rc;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0)
		return;
	db_lock(a->db);
	rc = rollout_action(a->db, id, action, w.name, now_s(), &d);
	if (rc == 0) {
		char act[32];

		snprintf(act, sizeof(act), "release-%s", action);
		audit(a, &w, act, json_pack("{s:I}", "release", (json_int_t)id));
	}
	db_unlock(a->db);
	reply(r, rc, &d,
	      rc == 0 ? json_pack("{s:I, s:s}", "release", (json_int_t)id, "done", action) : NULL);
}

static void
do_pin(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct ward_diag d;
	struct who w;
	json_t *b, *v;
	const char *group;
	int rc;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0 || (b = body_json(q, r)) == NULL)
		return;
	group = field(b, "group", 63);
	v = json_object_get(b, "version");
	if (group == NULL || !json_is_integer(v) || json_integer_value(v) < 0) {
		http_error(r, 400, "pin: {\"group\": NAME, \"version\": N (0: unpin)}");
		json_decref(b);
		return;
	}
	db_lock(a->db);
	rc = rollout_pin(a->db, group, (long long)json_integer_value(v), now_s(), &d);
	if (rc == 0)
		audit(a, &w, json_integer_value(v) ? "group-pinned" : "group-unpinned",
		      json_pack("{s:s, s:I}", "group", group, "version",
				(json_int_t)json_integer_value(v)));
	db_unlock(a->db);
	reply(r, rc, &d,
	      rc == 0 ? json_pack("{s:s, s:I}", "group", group, "version",
				  (json_int_t)json_integer_value(v))
		      : NULL);
	json_decref(b);
}

static void
do_freeze(struct api *a, const struct http_req *q, struct http_resp *r)
{
	struct ward_diag d;
	struct who w;
	json_t *b, *on;
	int rc;

	if (auth_admin(a, q, r, ROLE_OPERATOR, &w) != 0 || (b = body_json(q, r)) == NULL)
		return;
	on = json_object_get(b, "frozen");
	if (!json_is_boolean(on)) {
		http_error(r, 400, "freeze: {\"frozen\": true|false}");
		json_decref(b);
		return;
	}
	db_lock(a->db);
	rc = rollout_freeze(a->db, json_is_true(on), &d);
	if (rc == 0)
		audit(a, &w, json_is_true(on) ? "content-frozen" : "content-unfrozen", json_object());
	db_unlock(a->db);
	if (rc != 0)
		http_error(r, 500, "%s", d.msg);
	else
		r->json = json_pack("{s:b}", "frozen", json_is_true(on));
	json_decref(b);
}

void
api_handle(void *ctx, const struct http_req *q, struct http_resp *r)
{
	struct api *a = ctx;
	const char *p = q->path;
	int post = strcmp(q->method, "POST") == 0, get = strcmp(q->method, "GET") == 0;

	if (strncmp(p, "/api/v1/", 8) != 0) {
		http_error(r, 404, "no such path: %.200s", p);
		return;
	}
	p += 8;
	if (get && strcmp(p, "health") == 0)
		r->json = json_pack("{s:b, s:s}", "ok", 1, "version", WARD_VERSION);
	else if (post && strcmp(p, "enroll") == 0)
		do_enroll(a, q, r);
	else if (post && strcmp(p, "checkin") == 0)
		do_checkin(a, q, r);
	else if (post && strcmp(p, "events") == 0)
		do_events(a, q, r);
	else if (get && strcmp(p, "agents") == 0)
		do_agents(a, q, r);
	else if (post && strncmp(p, "agents/", 7) == 0 && strlen(p) == 7 + STORE_ID_LEN + 7 &&
		 strcmp(p + 7 + STORE_ID_LEN, "/revoke") == 0) {
		char id[STORE_ID_LEN + 1];

		snprintf(id, sizeof(id), "%.*s", STORE_ID_LEN, p + 7);
		do_revoke(a, q, r, id);
	} else if (post && strcmp(p, "tokens") == 0)
		do_token(a, q, r);
	else if (get && strcmp(p, "events") == 0)
		do_event_list(a, q, r);
	else if (get && strcmp(p, "audit") == 0)
		do_audit(a, q, r);
	else if (post && strcmp(p, "bundles") == 0)
		do_bundle_upload(a, q, r);
	else if (get && strncmp(p, "bundles/", 8) == 0)
		do_bundle_get(a, q, r, p + 8);
	else if (post && strcmp(p, "releases") == 0)
		do_release_create(a, q, r);
	else if (get && strcmp(p, "releases") == 0)
		do_release_get(a, q, r, NULL);
	else if (get && strncmp(p, "releases/", 9) == 0 && strspn(p + 9, "0123456789") == strlen(p + 9) &&
		 p[9] != '\0')
		do_release_get(a, q, r, p + 9);
	else if (post && strncmp(p, "releases/", 9) == 0 && strchr(p + 9, '/') != NULL &&
		 (size_t)(strchr(p + 9, '/') - (p + 9)) == strspn(p + 9, "0123456789") &&
		 strchr(p + 9, '/') != p + 9)
		do_release_action(a, q, r, atoll(p + 9), strchr(p + 9, '/') + 1);
	else if (post && strcmp(p, "pins") == 0)
		do_pin(a, q, r);
	else if (post && strcmp(p, "freeze") == 0)
		do_freeze(a, q, r);
	else
		http_error(r, get || post ? 404 : 405, "no such call: %s %.200s", q->method, q->path);
}

/*
 * api: routing, admission and credentials.  See api.h.
 *
 * Must hold: a request is routed and authenticated from its headers
 * before a byte of its body is read, and gets the body limit of its call;
 * a malformed, unauthenticated or forbidden request gets a 4xx with a
 * JSON error and changes nothing (but the audit log's note of a refusal);
 * agents are untrusted input (every field is checked for type and size).
 */
#include "server/api_int.h"
#include "server/ratelimit.h"
#include "proto/jcheck.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/limits.h"

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void
health(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	(void)a;
	(void)q;
	(void)c;
	r->json = json_pack("{s:b, s:s}", "ok", 1, "version", WARD_VERSION);
}

static const struct route routes[] = {
    {"GET", "health", AUTH_NONE, 0, health},
    {"POST", "enroll", AUTH_NONE, WARD_MAX_ENROLL_BYTES, api_enroll},
    {"POST", "checkin", AUTH_AGENT, WARD_MAX_CHECKIN_BYTES, api_checkin},
    {"POST", "events", AUTH_AGENT, WARD_MAX_EVENTS_BODY, api_events},
    {"GET", "bundles/{sha}", AUTH_AGENT_OR_VIEWER, 0, api_bundle_get},
    {"GET", "agents", AUTH_VIEWER, 0, api_agents},
    {"POST", "agents/{id}/{word}", AUTH_OPERATOR, 1024, api_agent_action},
    {"POST", "tokens", AUTH_OPERATOR, 4096, api_token},
    {"GET", "events", AUTH_VIEWER, 0, api_event_list},
    {"GET", "audit", AUTH_ADMIN, 0, api_audit_list},
    {"POST", "bundles", AUTH_OPERATOR, API_BODY_BUNDLE, api_bundle_upload},
    {"POST", "releases", AUTH_OPERATOR, 64 * 1024, api_release_create},
    {"GET", "releases", AUTH_VIEWER, 0, api_release_get},
    {"GET", "releases/{n}", AUTH_VIEWER, 0, api_release_get},
    {"POST", "releases/{n}/{word}", AUTH_OPERATOR, 1024, api_release_action},
    {"POST", "pins", AUTH_OPERATOR, 4096, api_pin},
    {"GET", "pins", AUTH_VIEWER, 0, api_pins},
    {"GET", "status", AUTH_VIEWER, 0, api_status},
    {"GET", "keys", AUTH_VIEWER, 0, api_keys},
    {"POST", "keys", AUTH_ADMIN, 16 * 1024, api_key_add},
    {"POST", "keys/{id}/{word}", AUTH_ADMIN, 1024, api_key_remove},
    {"POST", "freeze", AUTH_OPERATOR, 1024, api_freeze},
    {"GET", "exceptions", AUTH_VIEWER, 0, api_except_list},
    {"POST", "exceptions", AUTH_OPERATOR, 16 * 1024, api_except_add},
    {"POST", "exceptions/{n}/remove", AUTH_OPERATOR, 1024, api_except_remove},
};

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

int64_t
api_now(void)
{
	return (int64_t)time(NULL);
}

json_t *
api_body_json(const struct http_req *q, struct http_resp *r)
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

const char *
api_field(json_t *o, const char *name, size_t max)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

void
api_audit(struct api *a, const struct who *w, const char *action, json_t *detail)
{
	struct ward_diag d;
	char *text = json_dumps(detail, JSON_COMPACT);
	char who[80];

	snprintf(who, sizeof(who), "%s", w->name);
	if (text != NULL)
		(void)store_audit(a->db, who, action, text, api_now(), &d);
	free(text);
	json_decref(detail);
}

void
api_reply(struct http_resp *r, int rc, const struct ward_diag *d, json_t *ok)
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

struct db *
api_reader(struct api *a)
{
	struct db *db = a->db;

	if (a->nrd > 0)
		db = a->rd[__atomic_fetch_add(&a->next_rd, 1, __ATOMIC_RELAXED) % a->nrd];
	db_lock(db);
	return db;
}

void
api_reader_done(struct api *a, struct db *db)
{
	(void)a;
	db_unlock(db);
}

int
api_open(struct api *a, const struct server_config *cfg, struct db *db, struct ward_diag *d)
{
	unsigned i;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->db = db;
	a->events_rate = ratelimit_new((double)cfg->event_agent_kb_min * 1024);
	if (a->events_rate == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	if (strstr(cfg->database, ":memory:") != NULL)
		return 0; /* another connection would be another database */
	for (i = 0; i < API_READERS; i++) {
		int r = db_open(cfg->database, &a->rd[i], d);

		if (r != 0)
			return r;
		a->nrd++;
	}
	return 0;
}

void
api_close(struct api *a)
{
	unsigned i;

	for (i = 0; i < a->nrd; i++)
		db_close(a->rd[i]);
	db_close(a->db);
	ratelimit_free(a->events_rate);
	for (i = 0; i < a->ntrusted; i++)
		sign_key_free(a->trusted[i]);
	memset(a, 0, sizeof(*a));
}

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

/* --- routing ---------------------------------------------------------------- */

/* The variable segments of a route's path, and what each may hold. */
static const struct {
	const char *name, *set;
	size_t lo, hi;
} vars[] = {
    {"{id}", "0123456789abcdef", 32, 32},	     /* an agent id */
    {"{sha}", "0123456789abcdef", 64, 64},	     /* a bundle's sha256 */
    {"{n}", "0123456789", 1, 18},		     /* a release id */
    {"{word}", "abcdefghijklmnopqrstuvwxyz", 1, 15}, /* an action (struct call.word) */
};

/* 1 if segment seg (n bytes) matches pattern segment pat; the variable
 * part goes to c. */
static int
segment(const char *pat, size_t plen, const char *seg, size_t n, struct call *c)
{
	size_t i, k;

	for (k = 0; k < sizeof(vars) / sizeof(vars[0]); k++)
		if (strlen(vars[k].name) == plen && strncmp(pat, vars[k].name, plen) == 0)
			break;
	if (k == sizeof(vars) / sizeof(vars[0]))
		return plen == n && strncmp(pat, seg, n) == 0;
	if (n < vars[k].lo || n > vars[k].hi)
		return 0;
	for (i = 0; i < n; i++)
		if (strchr(vars[k].set, seg[i]) == NULL || seg[i] == '\0')
			return 0;
	if (strcmp(vars[k].name, "{word}") == 0)
		snprintf(c->word, sizeof(c->word), "%.*s", (int)n, seg);
	else
		snprintf(c->arg, sizeof(c->arg), "%.*s", (int)n, seg);
	return 1;
}

static int
path_matches(const char *pat, const char *path, struct call *c)
{
	for (;;) {
		size_t pl = strcspn(pat, "/"), sl = strcspn(path, "/");

		if (!segment(pat, pl, path, sl, c))
			return 0;
		pat += pl;
		path += sl;
		if (*pat == '\0' || *path == '\0')
			return *pat == *path;
		pat++;
		path++;
	}
}

/* --- credentials ------------------------------------------------------------ */

static const char *
bearer(const struct http_req *q)
{
	if (q->authorization == NULL || strncmp(q->authorization, "Bearer ", 7) != 0)
		return NULL;
	return q->authorization + 7;
}

/* An agent's credentials: 401 (unknown), 403 (revoked) or 409 (waiting
 * for approval) otherwise. */
static int
auth_agent(struct api *a, const struct http_req *q, struct http_resp *r, struct who *w)
{
	const char *b = bearer(q), *colon;
	char id[STORE_ID_LEN + 1];
	struct ward_diag d;
	struct db *db;
	int why, rc;

	memset(w, 0, sizeof(*w));
	if (b == NULL || (colon = strchr(b, ':')) == NULL || colon - b != STORE_ID_LEN ||
	    strlen(colon + 1) != STORE_SECRET_LEN) {
		http_error(r, 401, "agent credentials required (Authorization: Bearer ID:SECRET)");
		return -1;
	}
	memcpy(id, b, STORE_ID_LEN);
	id[STORE_ID_LEN] = '\0';
	db = api_reader(a);
	rc = store_agent_auth(db, id, colon + 1, &why, w->group, &d);
	api_reader_done(a, db);
	if (rc != 0) {
		http_error(r,
			   why == STORE_AUTH_REVOKED   ? 403
			   : why == STORE_AUTH_PENDING ? 409
						       : 401,
			   "%s", d.msg);
		if (why == STORE_AUTH_PENDING)
			r->retry_after_s = 60;
		return -1;
	}
	w->agent = 1;
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
	struct db *db;
	int rc, i;

	memset(w, 0, sizeof(*w));
	if (b == NULL || strlen(b) != STORE_SECRET_LEN) {
		http_error(r, 401, "an API token is required (Authorization: Bearer TOKEN)");
		return -1;
	}
	db = api_reader(a);
	rc = store_admin_auth(db, b, role, w->name, &d);
	api_reader_done(a, db);
	if (rc != 0) {
		http_error(r, 401, "%s", d.msg);
		return -1;
	}
	for (i = 1; i <= 3; i++)
		if (strcmp(role, names[i]) == 0)
			w->role = (enum role)i;
	snprintf(r->who, sizeof(r->who), "token:%s", w->name);
	if (w->role < need) {
		char path[300], method[40];

		jcheck_escape(q->path, path, sizeof(path));
		jcheck_escape(q->method, method, sizeof(method));
		http_error(r, 403, "this call needs the %s role; the token has %s", names[need],
			   role);
		db_lock(a->db);
		api_audit(a, w, "call-refused",
			  json_pack("{s:s, s:s, s:s, s:s}", "method", method, "path", path, "needs",
				    names[need], "peer", q->peer != NULL ? q->peer : ""));
		db_unlock(a->db);
		return -1;
	}
	return 0;
}

static int
authenticate(struct api *a, const struct http_req *q, struct http_resp *r, enum auth need,
	     struct who *w)
{
	const char *b = bearer(q);

	switch (need) {
	case AUTH_NONE:
		memset(w, 0, sizeof(*w));
		return 0;
	case AUTH_AGENT:
		return auth_agent(a, q, r, w);
	case AUTH_AGENT_OR_VIEWER:
		if (b != NULL && strchr(b, ':') != NULL)
			return auth_agent(a, q, r, w);
		return auth_admin(a, q, r, ROLE_VIEWER, w);
	case AUTH_VIEWER:
		return auth_admin(a, q, r, ROLE_VIEWER, w);
	case AUTH_OPERATOR:
		return auth_admin(a, q, r, ROLE_OPERATOR, w);
	case AUTH_ADMIN:
		return auth_admin(a, q, r, ROLE_ADMIN, w);
	}
	return -1;
}

size_t
api_admit(void *ctx, const struct http_req *q, long long content_length, struct http_resp *r,
	  void **callp)
{
	struct api *a = ctx;
	struct call c, *keep;
	const char *p = q->path;
	size_t i, max;
	int other_method = 0;

	(void)content_length; /* http compares it with what this returns */
	*callp = NULL;
	memset(&c, 0, sizeof(c));
	if (strncmp(p, "/api/v1/", 8) != 0) {
		http_error(r, 404, "no such path");
		return 0;
	}
	p += 8;
	for (i = 0; i < NROUTES; i++) {
		memset(&c, 0, sizeof(c));
		if (!path_matches(routes[i].path, p, &c))
			continue;
		if (strcmp(q->method, routes[i].method) == 0)
			break;
		other_method = 1;
	}
	if (i == NROUTES) {
		char m[40];

		jcheck_escape(q->method, m, sizeof(m));
		http_error(r, other_method ? 405 : 404, "no such call: %s %s", m,
			   other_method ? "on this path" : "(see docs/server.md)");
		return 0;
	}
	c.route = &routes[i];
	if (authenticate(a, q, r, c.route->auth, &c.who) != 0)
		return 0;
	if (a->cfg->audit_reads && !c.who.agent && c.route->auth != AUTH_NONE &&
	    strcmp(q->method, "GET") == 0) {
		char path[300];

		jcheck_escape(q->path, path, sizeof(path));
		db_lock(a->db);
		api_audit(a, &c.who, "read", json_pack("{s:s}", "path", path));
		db_unlock(a->db);
	}
	snprintf(c.label, sizeof(c.label), "%s", r->who);
	if ((keep = ward_malloc(sizeof(*keep))) == NULL) {
		http_error(r, 503, "out of memory");
		return 0;
	}
	*keep = c;
	*callp = keep;
	max = c.route->max_body;
	if (max == API_BODY_BUNDLE)
		max = (size_t)a->cfg->max_body_kb << 10;
	return max;
}

void
api_handle(void *ctx, const struct http_req *q, struct http_resp *r)
{
	const struct call *c = q->call;

	if (c == NULL || c->route == NULL) {
		http_error(r, 500, "the request was not admitted");
		return;
	}
	if (r->who[0] == '\0') /* (set at admission, on its own answer) */
		snprintf(r->who, sizeof(r->who), "%s", c->label);
	c->route->fn(ctx, q, r, c);
}

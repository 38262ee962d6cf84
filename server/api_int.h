/*
 * api_int: what the API's files share — the route table's types, who is
 * calling, and helpers.  Not a public header.
 */
#ifndef WARD_SERVER_API_INT_H
#define WARD_SERVER_API_INT_H

#include <jansson.h>
#include <stdint.h>

#include "server/api.h"
#include "server/store.h"

enum role { ROLE_NONE, ROLE_VIEWER, ROLE_OPERATOR, ROLE_ADMIN };

/* Who may make a call. */
enum auth { AUTH_NONE, AUTH_AGENT, AUTH_AGENT_OR_VIEWER, AUTH_VIEWER, AUTH_OPERATOR, AUTH_ADMIN };

struct who {
	int agent;	/* an agent (name is its id), or an API token */
	enum role role; /* of a token */
	char name[64];	/* token name, or agent id */
	char group[64]; /* agents */
};

struct call;
typedef void (*api_fn)(struct api *a, const struct http_req *q, struct http_resp *r,
		       const struct call *c);

/* Content signing keys verified with at once: the configuration's and
 * those added with the API. */
#define API_MAX_KEYS 64

/* Body limits that come from the configuration. */
#define API_BODY_BUNDLE ((size_t)-1) /* limits.max_body_kb */

struct route {
	const char *method;
	const char *path; /* after /api/v1/; {id} {sha} {n} {word} match one segment */
	enum auth auth;
	size_t max_body;
	api_fn fn;
};

/* What admission made of a request: its route, its caller, and the
 * variable parts of its path. */
struct call {
	const struct route *route;
	struct who who;
	char label[80]; /* who, for the request's log line */
	char arg[80];	/* {id}, {sha} or {n} */
	char word[16];	/* {word} */
};

int64_t api_now(void);

/* The body as a JSON object, or NULL with r set to 400. */
json_t *api_body_json(const struct http_req *q, struct http_resp *r);

/* A string field of at most max bytes (no NUL inside), or NULL. */
const char *api_field(json_t *o, const char *name, size_t max);

/* Appends to the audit log (takes detail).  Caller holds db_lock(a->db). */
void api_audit(struct api *a, const struct who *w, const char *action, json_t *detail);

/* Answers a store or rollout call: ok (taken) or the error's status. */
void api_reply(struct http_resp *r, int rc, const struct ward_diag *d, json_t *ok);

/* A read-only connection, locked (api_reader_done unlocks it). */
struct db *api_reader(struct api *a);
void api_reader_done(struct api *a, struct db *db);

/* The calls. */
void api_enroll(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_checkin(struct api *a, const struct http_req *q, struct http_resp *r,
		 const struct call *c);
void api_events(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_bundle_get(struct api *a, const struct http_req *q, struct http_resp *r,
		    const struct call *c);
void api_agents(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_agent_action(struct api *a, const struct http_req *q, struct http_resp *r,
		      const struct call *c);
void api_token(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_event_list(struct api *a, const struct http_req *q, struct http_resp *r,
		    const struct call *c);
void api_audit_list(struct api *a, const struct http_req *q, struct http_resp *r,
		    const struct call *c);
void api_bundle_upload(struct api *a, const struct http_req *q, struct http_resp *r,
		       const struct call *c);
void api_release_create(struct api *a, const struct http_req *q, struct http_resp *r,
			const struct call *c);
void api_release_get(struct api *a, const struct http_req *q, struct http_resp *r,
		     const struct call *c);
void api_release_action(struct api *a, const struct http_req *q, struct http_resp *r,
			const struct call *c);
void api_pin(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_keys(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_key_add(struct api *a, const struct http_req *q, struct http_resp *r,
		 const struct call *c);
void api_key_remove(struct api *a, const struct http_req *q, struct http_resp *r,
		    const struct call *c);
void api_pins(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_status(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_freeze(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c);
void api_except_list(struct api *a, const struct http_req *q, struct http_resp *r,
		     const struct call *c);
void api_except_add(struct api *a, const struct http_req *q, struct http_resp *r,
		    const struct call *c);
void api_except_remove(struct api *a, const struct http_req *q, struct http_resp *r,
		       const struct call *c);

#endif

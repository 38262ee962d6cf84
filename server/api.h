/*
 * api: the fleet server's JSON API over http.h (docs/server.md lists every
 * call).  Agents authenticate with "Authorization: Bearer AGENT_ID:SECRET"
 * (after enrolling with a token), operators with "Bearer TOKEN" of an API
 * token whose role (viewer < operator < admin) allows the call.  Every
 * request is routed and authenticated from its headers alone (api_admit),
 * before its body is read, and each call has its own body limit; every
 * call that changes something, and every refusal of a role, is written
 * to the audit log (reads too with audit.reads).
 *
 * Reads that operators make (agents, events, audit, releases) and every
 * credential check run on read-only database connections of their own, so
 * that a large listing never holds the lock that check-ins and event
 * uploads write under.
 */
#ifndef WARD_SERVER_API_H
#define WARD_SERVER_API_H

#include "server/config.h"
#include "server/db.h"
#include "server/http.h"

struct sign_key;
struct ratelimit;

#define API_READERS 4

struct api {
	const struct server_config *cfg;
	struct db *db;		    /* writes (and reads, when there are no readers) */
	struct db *rd[API_READERS]; /* read-only connections (api_open) */
	unsigned nrd, next_rd;
	struct ratelimit *events_rate; /* per agent */
	struct sign_key *trusted[32];  /* content.trusted_keys */
	unsigned ntrusted;
};

/* Sets a up over db (taken: api_close closes it): read connections to
 * cfg->database (none for an in-memory SQLite database) and the event rate
 * limit.  0, or an error with d. */
int api_open(struct api *a, const struct server_config *cfg, struct db *db, struct ward_diag *d);
void api_close(struct api *a);

/* Loads content.trusted_keys into a.  0, or an error with d. */
int api_load_keys(struct api *a, struct ward_diag *d);

/* The http_admit and http_handler of the server (ctx: struct api). */
size_t api_admit(void *ctx, const struct http_req *q, long long content_length, struct http_resp *r,
		 void **call);
void api_handle(void *ctx, const struct http_req *q, struct http_resp *r);

#endif

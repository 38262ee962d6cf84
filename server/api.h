/*
 * api: the fleet server's JSON API over http.h (docs/server.md lists every
 * call).  Agents authenticate with "Authorization: Bearer AGENT_ID:SECRET"
 * (after enrolling with a token), operators with "Bearer TOKEN" of an API
 * token whose role (viewer < operator < admin) allows the call; every
 * call that changes something is written to the audit log.
 */
#ifndef WARD_SERVER_API_H
#define WARD_SERVER_API_H

#include "server/config.h"
#include "server/db.h"
#include "server/http.h"

struct sign_key;

struct api {
	const struct server_config *cfg;
	struct db *db;
	struct sign_key *trusted[32]; /* content.trusted_keys */
	unsigned ntrusted;
};

/* Loads content.trusted_keys into a.  0, or an error with d. */
int api_load_keys(struct api *a, struct ward_diag *d);

/* The http_handler of the server (ctx: struct api). */
void api_handle(void *ctx, const struct http_req *q, struct http_resp *r);

#endif

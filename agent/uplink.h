/*
 * uplink: the agent's side of the fleet server (docs/server.md).
 *
 * With server.url set, the agent enrolls once with server.enroll_token
 * (its agent id and secret are kept in STATE_DIR/uplink.json, mode 0600),
 * then checks in every interval the server gives (its status: content
 * versions, mode, crashes, sensors, CPU and memory) and uploads its
 * journal in batches; the server acknowledges what it has committed, and
 * only then may the journal drop those records (and only once the local
 * outputs have them too).  When the server has more of the journal than
 * the journal holds (it was lost or restored from a backup), the events go
 * on under a new journal id, so that none is taken for a duplicate.  The
 * server is trusted with nothing else: its certificate must chain to
 * server.ca, content it points to goes through the same checks as any
 * other, and the exceptions it sends are taken only as server.exceptions
 * allows (agent/exceptions.h).
 */
#ifndef WARD_AGENT_UPLINK_H
#define WARD_AGENT_UPLINK_H

#include <stddef.h>

#include "agent/config.h"

struct journal;
struct json_t;

/* Starts the uplink thread when server.url is set.  0, or -1 with why. */
int uplink_start(const struct agent_config *c, struct journal *j, char *why, size_t whylen);

/* New events are in the journal. */
void uplink_kick(void);

/* 1 when server.enroll_token is set but no longer needed: the agent is
 * enrolled (and approved). */
int uplink_token_unneeded(void);

/* The uplink's state for `ward agent status`, or NULL when off. */
struct json_t *uplink_status(void);

#endif

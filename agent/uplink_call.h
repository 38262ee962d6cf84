/*
 * uplink_call: the worker's side of the uplink process (agent/uplink_net.h)
 * — starting it (and again after it died or broke the protocol), and the
 * four calls the fleet protocol makes, each a typed request answered by a
 * typed message (lib/proto/upmsg.h) that is checked here before anything
 * of it is used.
 *
 * The uplink process holds no state: the agent's identity, the journal,
 * what to run and every signature and version check stay in the worker
 * (agent/uplink.c).  A call returns what the server answered as an HTTP
 * status, as a client library would: 200 (or 202) with the typed answer,
 * 0 when the server was not reached or the uplink failed, otherwise the
 * server's status — with err saying why.  Check-ins go on a channel of
 * their own (the server may hold one for a long poll); the other calls
 * share the second.  Calls on one channel are serialised.
 */
#ifndef WARD_AGENT_UPLINK_CALL_H
#define WARD_AGENT_UPLINK_CALL_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "proto/checkin.h"
#include "proto/upmsg.h"

/*
 * Readies the calls for configuration c (borrowed for the agent's life):
 * the downloads directory STATE_DIR/downloads, made or taken over for
 * server.user (0700).  The process starts at the first call.  0, or -1
 * with why.
 */
int uplink_call_init(const struct agent_config *c, char *why, size_t whylen);

/* Enrolls with the request body[0..len): 200 or 202 with *out. */
long uplink_call_enroll(const char *body, size_t len, struct upmsg_enrolled *out, char *err,
			size_t errlen);

/* Checks in as cred ("ID:SECRET") with the report body[0..len): 200 with
 * *ans (its exceptions field NULL) and *exc, the fleet's exceptions as the
 * uplink read them (the caller frees them with upmsg_exceptions_free). */
long uplink_call_checkin(const char *cred, const char *body, size_t len, struct checkin_answer *ans,
			 struct upmsg_exceptions *exc, char *err, size_t errlen);

/* Uploads the events batch body[0..len): 200 with *acked. */
long uplink_call_events(const char *cred, const char *body, size_t len, int64_t *acked, char *err,
			size_t errlen);

/*
 * Downloads the bundle t: 200 with *p, t->size bytes whose SHA-256 is
 * t->sha256 (checked here), mapped from a sealed memory file until
 * uplink_call_unmap(*p, t->size).
 */
long uplink_call_fetch(const char *cred, const struct download_target *t, const uint8_t **p,
		       char *err, size_t errlen);
void uplink_call_unmap(const uint8_t *p, uint64_t size);

/* Reaps an uplink process that ended between calls (a kill, a crash
 * outside a call), so that no zombie waits for the next call; the next
 * call starts a new one, after the usual backoff.  Called each second. */
void uplink_call_tick(void);

/* The uplink process's pid (0: not running) and how many times it was
 * started, for status. */
void uplink_call_proc(long *pid, unsigned *starts);

#endif

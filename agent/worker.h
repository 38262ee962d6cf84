/*
 * worker: the agent process that owns the content and the scanner.  It
 * loads the current content from the store, serves the control socket
 * (status, apply, rollback, scan) and activates new content: checks,
 * sandboxed validation, atomic install, hot swap.
 */
#ifndef WARD_AGENT_WORKER_H
#define WARD_AGENT_WORKER_H

#include "agent/config.h"
#include "proto/cause.h"

#include <stddef.h>

/* Exit status of a worker that cannot run with this configuration: the
 * supervisor does not restart it (EX_CONFIG). */
#define WORKER_EXIT_CONFIG 78

/*
 * Runs the worker until SIGTERM with the configuration c (read from
 * config_path, which status shows; c must live as long as the process).
 * heartbeat (or NULL) gets a heartbeat frame every second while the
 * worker is healthy, and one as soon as it serves requests; cfg (or NULL)
 * brings reloaded configurations from the supervisor (reload.h), applied
 * as they come.  Both channels are taken.  Returns the process exit
 * status.
 */
struct ipc;
int worker_main(const struct agent_config *c, const char *config_path, struct ipc *heartbeat,
		struct ipc *cfg);

/*
 * For the worker's sensors (agent-internal): the content in use, held by
 * reference so that a hot swap never pulls it away mid-scan.
 */
struct active;
struct json_t;
/* The active content with a reference, or NULL (none, safe mode). */
struct active *worker_content_get(void);
void worker_content_put(struct active *a);
long long worker_content_version(const struct active *a);
/* Unique to this load of the content (never 0): what a scratch made for
 * it is kept by, since a freed matcher's address can come back. */
unsigned long long worker_content_serial(const struct active *a);
struct sigma_set;
const struct sigma_set *worker_content_sigma(const struct active *a); /* may be NULL */
struct fim_watch;
const struct fim_watch *worker_content_fim(const struct active *a);
const char *worker_content_name(const struct active *a);
/* The content's compiled image in a sealed memory file (borrowed: lives as
 * long as a), for the scanner processes; *fd -1 if it could not be made. */
void worker_content_image(const struct active *a, int *fd, uint64_t *size);
struct except_list;
/* The content's exceptions to verdicts (never NULL; may be empty). */
const struct except_list *worker_content_exceptions(const struct active *a);
/* The exceptions in force beside the content's (agent/exceptions.h). */
struct exceptions;
struct exceptions *worker_exceptions(void);
/* Journals an event (takes the reference). */
void worker_emit(struct json_t *ev);
/* A log line (log.h): timestamp, "wardd[pid]: ", the message. */
void worker_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For the control socket. */
int worker_safe_mode(void);
struct json_t *worker_status_json(void);
/* For the uplink: a copy of the content store's state (versions, refusals
 * with their causes, crashes) and the mode ("protecting", "waiting",
 * "safe"; a static string), taken together under the worker's lock. */
struct store_state;
void worker_content_state(struct store_state *st, const char **mode);
/* The activation pipeline for the bundle bytes p[0..n): 0 with *version
 * and *ms set, or an error with reason filled in.  *version comes in as
 * the version the caller was told the bundle is (the fleet server's
 * desired version), or 0: a refusal before the bundle's own version can
 * be trusted (its signatures) is recorded under it, so that the server
 * hears which of its releases was refused. */
int worker_activate(const unsigned char *p, size_t n, long long *version, double *ms, char *reason,
		    size_t rlen);
/* Back to last-known-good, the current version recorded as refused for
 * cause (CAUSE_OPERATOR_ROLLBACK, CAUSE_FLEET_ROLLBACK) with reason: 0
 * with msg set, or an error with msg the why. */
int worker_rollback(enum refusal_cause cause, const char *reason, char *msg, size_t mlen);

#endif

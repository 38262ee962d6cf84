/*
 * worker: the agent process that owns the content and the scanner.  It
 * loads the current content from the store, serves the control socket
 * (status, apply, rollback, scan) and activates new content: checks,
 * sandboxed validation, atomic install, hot swap.
 */
#ifndef WARD_AGENT_WORKER_H
#define WARD_AGENT_WORKER_H

#include "agent/config.h"

/* Exit status of a worker that cannot run with this configuration: the
 * supervisor does not restart it (EX_CONFIG). */
#define WORKER_EXIT_CONFIG 78

/*
 * Runs the worker until SIGTERM.  config_path is passed on to validator
 * children; heartbeat_fd (or -1) receives a byte every second while the
 * worker is healthy, and one as soon as it serves requests.  Returns the
 * process exit status.
 */
int worker_main(const struct agent_config *c, const char *config_path, int heartbeat_fd);

/*
 * For the worker's sensors (agent-internal): the content in use, held by
 * reference so that a hot swap never pulls it away mid-scan.
 */
struct active;
struct matcher;
struct ruleset;
struct json_t;
/* The active content with a reference, or NULL (none, safe mode). */
struct active *worker_content_get(void);
void worker_content_put(struct active *a);
const struct matcher *worker_content_matcher(const struct active *a);
const struct ruleset *worker_content_rules(const struct active *a);
long long worker_content_version(const struct active *a);
struct sigma_set;
const struct sigma_set *worker_content_sigma(const struct active *a); /* may be NULL */
/* Journals an event (takes the reference). */
void worker_emit(struct json_t *ev);

#endif

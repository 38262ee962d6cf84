/*
 * supervisor: the small process that starts the worker, restarts it with
 * backoff, and keeps the crash guard: K crashes of one content version
 * within T seconds mark it bad and restore last-known-good; with no
 * last-known-good left, the worker restarts in safe mode (no content)
 * instead of looping.  It speaks systemd's notify protocol (READY=1, and
 * WATCHDOG=1 while the worker's heartbeat arrives) and kills a worker
 * whose heartbeat stops (a hang counts as a crash).  On SIGHUP it reads
 * the configuration file again and passes what a reload may change to the
 * worker (reload.h); a file with an error is refused, and said.
 */
#ifndef WARD_AGENT_SUPERVISOR_H
#define WARD_AGENT_SUPERVISOR_H

#include "agent/config.h"

/* Runs until SIGTERM/SIGINT with the configuration c read from
 * config_path (taken: from ward_malloc, freed when it returns); locks[0..1] are the locks of the
 * state and run directories
 * (-1 for one not taken), which each worker holds too, so that no second
 * wardd starts while a worker of this one still runs.  Returns the
 * process exit status. */
int supervisor_main(struct agent_config *c, const char *config_path, const int locks[2]);

/* Sends state (e.g. "READY=1") to systemd if NOTIFY_SOCKET is set. */
void sd_notify_send(const char *state);

#endif

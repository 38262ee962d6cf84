/*
 * procmon: process execution monitoring.  Exec events come from the netlink
 * process connector; each is enriched from /proc (executable, command
 * line, working directory, user, parent's executable and command line;
 * a process gone too soon yields a partial, flagged event) and matched
 * against the active content's process rules (Sigma): a match is an
 * alert, and a rule with `action: kill` kills the process.
 */
#ifndef WARD_AGENT_PROCMON_H
#define WARD_AGENT_PROCMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/sensor.h"

struct procmon_stats {
	uint64_t execs;	  /* exec events seen */
	uint64_t matches; /* rule matches */
	uint64_t killed;  /* processes killed */
	uint64_t partial; /* processes gone before they could be read whole */
	uint64_t lost;	  /* times the kernel dropped events (receive buffer full) */
};

/* Starts the sensor, reporting to h (borrowed: lives as long as the
 * process); -1 with why when the connector is not available. */
int procmon_start(const struct sensor_host *h, char *why, size_t whylen);
int procmon_running(void);
void procmon_get_stats(struct procmon_stats *st);

/* The executable, name and parent of a recent exec by pid, kept for
 * who-data when the process is gone before another sensor reads it.
 * 0, or -1 (not seen). */
int procmon_recent(pid_t pid, char *exe, size_t exelen, char *comm, size_t commlen, pid_t *ppid);

#endif

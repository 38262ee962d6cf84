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

/* The sensor's state (opaque): procmon_new gives one (NULL: out of
 * memory), procmon_free frees it (NULL: nothing) once its thread is gone
 * — in practice it lives as long as the process. */
struct procmon;
struct procmon *procmon_new(void);
void procmon_free(struct procmon *pm);

/* Starts the sensor, reporting to h (borrowed: lives as long as pm); -1
 * with why when the connector is not available. */
int procmon_start(struct procmon *pm, const struct sensor_host *h, char *why, size_t whylen);
int procmon_running(struct procmon *pm);
void procmon_get_stats(struct procmon *pm, struct procmon_stats *st);

/* The executable, name and parent of a recent exec by pid, kept for
 * who-data when the process is gone before another sensor reads it.
 * 0, or -1 (not seen; pm NULL). */
int procmon_recent(struct procmon *pm, pid_t pid, char *exe, size_t exelen, char *comm,
		   size_t commlen, pid_t *ppid);

/* The files of /proc/PID an exec is read from (bits of procmon_reads). */
enum {
	PROCMON_READ_EXE = 1u << 0,	   /* exe: always, the process may be gone soon */
	PROCMON_READ_STAT = 1u << 1,	   /* stat: parent and name, always (who-data) */
	PROCMON_READ_STATUS = 1u << 2,	   /* status: the real uid, for User */
	PROCMON_READ_CMDLINE = 1u << 3,	   /* cmdline */
	PROCMON_READ_CWD = 1u << 4,	   /* cwd */
	PROCMON_READ_PARENT_EXE = 1u << 5, /* the parent's exe */
	PROCMON_READ_PARENT_CMDLINE = 1u << 6,
};

/*
 * What must be read of an exec for the fields fields (bits (1u <<
 * enum sigma_field)) when have of them are read already (base: exe and
 * stat read already).  Each read is a system call or three that an exec
 * storm pays per exec, so only what a rule looks at is read.
 */
unsigned procmon_reads(unsigned fields, unsigned have, int base);

#endif

/*
 * procfs: what the sensors read about a process from /proc.  A process
 * may be gone by the time it is read: every function says so by its
 * return value and leaves an empty string, never a stale one.
 */
#ifndef WARD_AGENT_PROCFS_H
#define WARD_AGENT_PROCFS_H

#include <stddef.h>
#include <sys/types.h>

/* The target of /proc/PID/WHAT ("exe", "cwd", "fd/3"; pid 0 = this
 * process).  0, or -1 with out = "". */
int procfs_link(pid_t pid, const char *what, char *out, size_t outlen);

/* The parent pid and the name (comm) of pid, from /proc/PID/stat. */
int procfs_stat(pid_t pid, pid_t *ppid, char *comm, size_t commlen);

#endif

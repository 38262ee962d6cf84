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

/* What an exec event needs of /proc/PID/status, in one read. */
struct procfs_status {
	char name[64]; /* comm, as status escapes it */
	long ppid;     /* -1: not read */
	long uid;      /* the real user id; -1: not read */
};

/* Parses the text of a status file (n bytes, need not end in a NUL):
 * 0 when Name, PPid and Uid were all found, else -1 (what was found is
 * kept, the rest is "" / -1). */
int procfs_parse_status(const char *text, size_t n, struct procfs_status *st);

/* /proc/PID/status, read once and parsed. */
int procfs_status(pid_t pid, struct procfs_status *st);

#endif

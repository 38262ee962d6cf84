/*
 * fimwho: the decisions of the real-time FIM sensor that need no kernel —
 * who made a change (the writer's name and whether a package manager is
 * among its ancestors) and how many events one path may give a minute.
 * The sensor (fimmon) feeds them what /proc and the clock say; the unit
 * tests feed them tables.
 */
#ifndef WARD_AGENT_FIMWHO_H
#define WARD_AGENT_FIMWHO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How far up the process tree a package manager is looked for. */
#define FIMWHO_ANCESTRY_MAX 16

/* The name (comm) and parent of pid: 0, or -1 when it cannot be known. */
typedef int (*fimwho_lookup_fn)(void *arg, pid_t pid, pid_t *ppid, char *comm, size_t commlen);

/*
 * Walks from pid up to init (at most FIMWHO_ANCESTRY_MAX processes):
 * name gets pid's own name, pkg the first package manager met (dpkg, rpm,
 * apt, yum, dnf, ...: matched whole, as comm gives it), "" if none.
 */
void fimwho_ancestry(pid_t pid, fimwho_lookup_fn lookup, void *arg, char *name, size_t namelen,
		     char *pkg, size_t pkglen);

/* 1 if comm is the name of a package manager. */
int fimwho_is_package_manager(const char *comm);

/* Per-path event budgets: a window of window_s seconds from a path's first
 * event, in which it may give at most limit events (0: no limit). */
#define FIMWHO_RATE_SLOTS 4096

struct fimwho_rate_slot {
	uint64_t h;
	int64_t window; /* when it began, seconds */
	unsigned count, suppressed;
};

struct fimwho_rate {
	struct fimwho_rate_slot slot[FIMWHO_RATE_SLOTS];
};

/*
 * 1 if an event for path may go out at time now (seconds); 0 if the
 * path's budget is spent (counted).  *suppressed: when a new window
 * begins, how many the last one held back (to say so), else 0.  Paths
 * sharing a slot share a budget only until the other is seen: a slot
 * holds one path at a time.
 */
int fimwho_rate_ok(struct fimwho_rate *t, const char *path, int64_t now, unsigned limit,
		   int64_t window_s, unsigned *suppressed);

#endif

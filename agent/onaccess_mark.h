/*
 * onaccess_mark: what the on-access sensor marks — the configured paths,
 * each opened once per round of marking without following a link a user
 * could have put on the way, checked to lead to the mount it is under as
 * written, and marked through that descriptor.  See onaccess.h.
 */
#ifndef WARD_AGENT_ONACCESS_MARK_H
#define WARD_AGENT_ONACCESS_MARK_H

#include "agent/config.h"

/* Every configured path: onaccess.paths and onaccess.block_open. */
#define TARGETS_MAX (2 * CONFIG_MAX_KEYS)
/* What the status says about the paths that are not watched. */
#define PARTIAL_MAX 1024

/*
 * The configured paths, each opened once for one round of marking (start,
 * new content): whatever is marked is marked through these descriptors,
 * so what a path led to when it was checked is what gets the mark.
 */
struct onaccess_targets {
	int fd[TARGETS_MAX];	/* -1: not watched this round (said in refused) */
	int mount[TARGETS_MAX]; /* 1: the whole mount (paths), 0: the directory (block_open) */
	const char *path[TARGETS_MAX];
	unsigned n;
	char refused[PARTIAL_MAX]; /* "PATH: why; PATH: why" */
};

/* Opens path[0..npaths) (onaccess.paths: their whole mounts) and the
 * nblock after them (onaccess.block_open: those directories), see
 * onaccess_path_open; the refused ones are said in t->refused. */
void onaccess_targets_open(const char *const *path, unsigned npaths, unsigned nblock,
			   struct onaccess_targets *t);
void onaccess_targets_close(struct onaccess_targets *t);

/*
 * Marks the opened paths in group fan: a path of onaccess.paths marks the
 * mount its descriptor is on (exec, close-write); one of block_open marks
 * that directory (opens of the files in it).  Returns how many were
 * marked; the others are said in t->refused.
 */
unsigned onaccess_targets_mark(int fan, struct onaccess_targets *t);

/* Removes every mark of group fan (its pending events still get answers). */
void onaccess_clear_marks(int fan);

#endif

/*
 * onaccess: on-access scanning and blocking with fanotify.
 *
 * Marks the mounts of onaccess.paths for FAN_OPEN_EXEC_PERM (executing a
 * detected file is denied: the exec fails with EPERM) and FAN_CLOSE_WRITE
 * (what was just written is scanned and reported).  Verdicts are cached by
 * (device, inode, mtime, ctime, size, content version); a write drops the
 * file's entry.  A file found clean on a permission event also gets an
 * evictable ignore mark, so that the kernel stops asking until the file
 * is modified or the content changes (the cheapest cache: no context
 * switch at all).
 *
 * A configured path is opened once per marking (at start, and when new
 * content moves the marks to the other group) without following a
 * symbolic link that is not root's (path_open_dir, PATH_ROOT_LINKS), and
 * marked through that descriptor: a user who can write a directory on the
 * way cannot send the mark to another mount.  A path of onaccess.paths
 * must also lead to the mount it is under as written.  A path refused is
 * left out and said (status "partial", a sensor-partial alert); with none
 * left the sensor is off.  A verdict that is not ready within onaccess.deadline_ms
 * is answered with allow (fail open) unless onaccess.fail_closed is set,
 * and counted.  The agent's own accesses are allowed at once.  If the
 * worker dies, the kernel releases every pending access when the fanotify
 * descriptor closes.
 */
#ifndef WARD_AGENT_ONACCESS_H
#define WARD_AGENT_ONACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/sensor.h"

struct onaccess_stats {
	uint64_t events;  /* permission and write events read */
	uint64_t allowed; /* permission events answered allow */
	uint64_t denied;  /* permission events answered deny */
	uint64_t cache_hits;
	uint64_t late;	     /* answered at the deadline, before the scan ended */
	uint64_t overflow;   /* answered at once because the queue was full */
	uint64_t written;    /* close-write events scanned */
	uint64_t detections; /* files that matched (exec or write) */
	uint64_t ignored;    /* clean files the kernel no longer asks about */
	uint64_t excepted;   /* detections an exception suppressed (journaled) */
	uint64_t poison;     /* files that crashed a scanner, now or before: the deadline policy */
};

/*
 * The sensor's state (opaque): onaccess_new gives one, idle (NULL: out of
 * memory); onaccess_free frees it (NULL: nothing).  Its threads, once
 * started, run as long as the process and use it: free only one never
 * started, or whose start failed.
 */
struct onaccess;
struct onaccess *onaccess_new(void);
void onaccess_free(struct onaccess *o);

/*
 * Starts the sensor o when c->onaccess_npaths > 0.  Returns 0 (also when
 * there is nothing to watch) or a negative WARD_E* code with why (why,
 * whylen) — then the sensor is off and the agent says so in its status.
 * Its events and content go through h (borrowed: lives as long as o).
 */
int onaccess_start(struct onaccess *o, const struct sensor_host *h, const struct agent_config *c,
		   char *why, size_t whylen);

/* 1 if running. */
int onaccess_running(struct onaccess *o);

/* The counters, and in partial (partlen bytes) the configured paths not
 * watched and why ("" when all are). */
void onaccess_get_stats(struct onaccess *o, struct onaccess_stats *st, char *partial,
			size_t partlen);

/*
 * Opens the configured directory path as the sensor does before it marks
 * it: absolute, no "." or "..", no symbolic link on the way but root's own
 * in directories only root can write; with whole_mount, the mount the
 * descriptor is on must be the one the path is under as written (its
 * mount point in mnt, mntlen bytes).  Returns the descriptor (the caller
 * closes it), or -1 with why (whylen bytes) saying why not.
 */
int onaccess_path_open(const char *path, int whole_mount, char *mnt, size_t mntlen, char *why,
		       size_t whylen);

/* New content is in use: the kernel forgets every clean verdict of the
 * old content (its ignore marks), without a moment unwatched. */
void onaccess_content_changed(struct onaccess *o);

/*
 * A reload: the onaccess.* keys of c (copied) from now on, except
 * onaccess.threads and onaccess.cache_entries (read at start).  The paths
 * are marked again as for new content (the standby group first, so that
 * a path in both configurations is never unwatched); with none left the
 * sensor is off, and it starts if it was off.  0 (also when there is
 * nothing to watch), or an error with why (no path could be marked).
 */
int onaccess_reconfigure(struct onaccess *o, const struct sensor_host *h,
			 const struct agent_config *c, char *why, size_t whylen);

#endif

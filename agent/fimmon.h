/*
 * fimmon: real-time file integrity monitoring with fanotify FID events.
 *
 * Watches fim.paths from the configuration plus the "fim" policy of the
 * content in use (unless fim.content_paths is false) (trees or single
 * files, minus fim.exclude and the
 * content's exclusions, never the agent's own state and run directories):
 * every directory gets an inode mark, new directories are marked as they
 * appear.  Each creation, deletion, rename, write (on close) and
 * attribute change becomes an event with the file's metadata, the hash
 * of what was written, and the pid and executable of the process that
 * did it (who-data).  Changes made by a package manager (dpkg, rpm, apt,
 * ... or their children) are tagged and, by fim.package_manager, kept as
 * alerts, lowered to events, or dropped.  At most fim.rate_limit events
 * per path per minute; the rest are counted in the next one.
 *
 * No blind window: a policy applied again keeps the marks of what stays
 * watched while it marks the new set; a start compares the trees with what
 * the last worker recorded in STATE_DIR (fimstate.h) and reports what
 * changed while no worker ran (ward.fim.detected: on-start).
 */
#ifndef WARD_AGENT_FIMMON_H
#define WARD_AGENT_FIMMON_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/sensor.h"

struct fimmon_stats {
	uint64_t dirs;		  /* directories watched */
	uint64_t events;	  /* kernel events read */
	uint64_t reported;	  /* events journaled */
	uint64_t suppressed;	  /* dropped by the rate limit */
	uint64_t package_manager; /* changes made by a package manager */
	uint64_t lost;		  /* kernel queue overflows */
};

/* Where the catch-up of the start is. */
enum fimmon_catchup_state {
	FIMMON_CATCHUP_IDLE,	/* the sensor has not started */
	FIMMON_CATCHUP_RUNNING, /* comparing, or reading the events queued meanwhile */
	FIMMON_CATCHUP_DONE,
};

/*
 * What the catch-up of the start did: the watched trees compared with
 * what the last worker recorded (fimstate.h), each difference reported as
 * found on start.
 */
struct fimmon_catchup {
	enum fimmon_catchup_state state;
	int previous;	   /* 1: a state from before was read (0: a first start, or unusable) */
	uint64_t known;	   /* files that state knew */
	uint64_t checked;  /* files found that were watched then: compared with it */
	uint64_t reported; /* changes found and reported (ward.fim.detected: on-start) */
	uint64_t ms;	   /* how long it took (so far, while it runs) */
};

/*
 * The sensor's state (opaque here; fimmon_ctx.h for its own files):
 * fimmon_new gives one, idle (NULL: out of memory); fimmon_free frees it
 * (NULL: nothing).  Its thread, once started, runs as long as the process
 * and uses it: free only one never started, or whose start failed.
 */
struct fimmon_ctx;
struct fimmon_ctx *fimmon_new(void);
void fimmon_free(struct fimmon_ctx *f);

/*
 * Starts the sensor f (when there is anything to watch now or later).
 * 0, or an error with why: then the sensor is off and the agent says so.
 * Its events and content go through h (borrowed: lives as long as f).
 */
int fimmon_start(struct fimmon_ctx *f, const struct sensor_host *h, const struct agent_config *c,
		 char *why, size_t whylen);

int fimmon_running(struct fimmon_ctx *f);

/* The counters, what the catch-up of the start did (cu), and why the
 * sensor watches less than asked (partial, partlen bytes; "" when nothing
 * is missing). */
void fimmon_get_stats(struct fimmon_ctx *f, struct fimmon_stats *st, struct fimmon_catchup *cu,
		      char *partial, size_t partlen);

/* The content in use changed: its FIM policy is applied. */
void fimmon_content_changed(struct fimmon_ctx *f);

/*
 * A reload: the fim.* keys of c (copied) from now on — paths, exclusions,
 * hash, limits; fim.content_paths false leaves the content's paths out;
 * fim.realtime false stops watching, true starts the sensor if it was
 * off.  The sensor's thread applies it within a moment.  0, or an error
 * with why (the sensor could not start).
 */
int fimmon_reconfigure(struct fimmon_ctx *f, const struct sensor_host *h,
		       const struct agent_config *c, char *why, size_t whylen);

#endif

/*
 * scan_run: the scanning side of `ward scan` — a pool of threads that scan
 * the files handed to them with the matcher (each thread owns a matcher
 * scratch and, when the rules read filename, filepath, extension, filetype
 * or owner, its own values of those externals, set per file), report
 * through output.c, draw the progress line, and in the end print the
 * summary and decide the exit status.
 *
 * In one process (not root, or --no-sandbox) the walker hands it each
 * file directly; run as root, the sandboxed scanner (scan_child.c) hands
 * it what the walker sent, and learns through the done callback when each
 * is reported, to acknowledge it.
 */
#ifndef WARD_CLI_SCAN_RUN_H
#define WARD_CLI_SCAN_RUN_H

#include <signal.h>
#include <stdint.h>

#include "cli.h"
#include "output.h"
#include "scan/filevars.h"
#include "scan/walkmsg.h"

/* One file to scan: all of it the pool's once submitted. */
struct scanrun_item {
	uint64_t id;	/* the walker's (0 in one process) */
	int fd;		/* open read-only */
	char *path;	/* ward_malloc'd */
	unsigned depth; /* 0: a PATH given */
	char *owner;	/* ward_malloc'd: owner's value looked up by the walker, or NULL */
	int sized;	/* size is the regular file's, as the channel checked it: no
			 * need to look again (then owner is given if the rules read it) */
	uint64_t size;
	uid_t owner_uid; /* the file's, for its members' owner (set by the pool) */
};

struct scanrun_opts {
	const struct loaded *l;	   /* borrowed */
	const struct filevars *fv; /* externals set per file, or NULL; borrowed */
	unsigned threads;
	size_t queue;			       /* items the pool queues */
	uint64_t max_filesize;		       /* 0: no limit */
	int archives;			       /* look inside containers (scan/container.h) */
	const struct container_limits *limits; /* borrowed; when archives */
	locale_t locale;		       /* for member names, or 0 */
	volatile sig_atomic_t *stop;	       /* set by SIGINT/SIGTERM (or told) */
	/*
	 * Called in the worker once the item is reported (what output.c
	 * prints for it is written to stdio), with what became of it.  May be
	 * NULL.
	 */
	void (*done)(void *arg, uint64_t id, enum walkmsg_outcome what, uint32_t matches,
		     uint64_t bytes);
	/* Called in a worker that has nothing to do (pool_ops.idle).  May be NULL. */
	void (*idle)(void *arg);
	void *arg; /* for done and idle */
};

struct scanrun;

/*
 * Starts the pool's threads (each with its scratch) and, when o->progress,
 * the progress line's: returns 0 and *out, or prints why on stderr and
 * returns EXIT_ERROR.  o is borrowed and must outlive *out.
 */
int scanrun_new(const struct scanrun_opts *opts, struct out *o, struct scanrun **out);

/*
 * Queues it (blocking while the queue is full): 0, or WARD_EINTR when the
 * scan was stopped — it is then dropped (its descriptor closed, its
 * strings freed), as every item is once submitted.
 */
int scanrun_submit(struct scanrun *r, struct scanrun_item *it);

/* No more items: waits until the queued ones are scanned (or drops them
 * when the scan was stopped), joins the threads and stops the progress
 * line.  Idempotent. */
void scanrun_finish(struct scanrun *r);

/* Finishes r if needed and frees it; NULL is a no-op. */
void scanrun_free(struct scanrun *r);

/* What a dead scanner had done, carried over to the next one. */
struct scanrun_totals {
	unsigned long long files, bytes, matches, path_errors, file_errors;
	unsigned long long skipped[OUT_SKIP_COUNT];
};

/* Adds t to o's counts. */
void scanrun_totals_add(struct out *o, const struct scanrun_totals *t);

/*
 * Prints the summary (out_summary) and returns the exit status: 130 when
 * stopped; 2 when the walk ended on an error (walk_err, which the caller
 * has said) or a sandboxed scanner died (crashes); 1 when something
 * matched; 2 when a PATH could not be scanned (or with strict, any file);
 * else 0.
 */
int scanrun_status(struct out *o, int stopped, int walk_err, int strict, unsigned crashes);

#endif

/*
 * cmd_scan: what the parts of `ward scan` share — the scan as the command
 * line asked for it, and the walk that hands what it finds to a sink:
 * the pool of scan_run.c in one process, or, run as root, the channel to
 * the sandboxed scanner (scan_priv.c).
 */
#ifndef WARD_CLI_CMD_SCAN_H
#define WARD_CLI_CMD_SCAN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "output.h"
#include "scan/container.h"
#include "scan/filevars.h"
#include "scan/walker.h"

/* The scan asked for; everything borrowed from cmd_scan, which outlives it. */
struct scan_cfg {
	const struct loaded *l;
	const struct filevars *fv; /* externals set per file, or NULL */
	enum out_format format;
	int quiet, print_meta, progress;
	long long rules_skipped; /* --skip-unsupported: rules left out; -1: not asked */
	unsigned threads;
	uint64_t max_filesize; /* 0: no limit */
	int follow_symlinks, strict;
	int archives;			    /* look inside containers (default; --no-archive) */
	struct container_limits limits;	    /* theirs (--max-scansize, ...) */
	int alert_exceeds, alert_encrypted; /* --alert-exceeds-max, --alert-encrypted */
	locale_t locale;		    /* member names' (container_locale), or 0 */
	const char *const *excludes;
	size_t nexcludes;
	const char *const *paths;
	size_t npaths;
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
	double start;		     /* out_now() when the scan began */
};

/* Where the walk hands what it finds. */
struct scan_sink {
	/* A regular file e, opened as fd (taken): 0, or a negative WARD_E*
	 * value that stops the walk. */
	int (*file)(void *ctx, int fd, const struct walker_entry *e);
	/* An error to report for path (depth 0: a PATH given). */
	void (*error)(void *ctx, const char *path, const char *msg, unsigned depth);
	/* An entry not scanned, by kind. */
	void (*skip)(void *ctx, enum out_skip why);
	void *ctx;
};

/* Walks cfg's paths, handing what it finds to sink: walker_run's result
 * (0, WARD_EINTR when stopped, or the error that ended the walk). */
int scan_walk(const struct scan_cfg *cfg, const struct scan_sink *sink);

/* out_init for cfg, with its output settings and start. */
void scan_out_init(const struct scan_cfg *cfg, struct out *o);

#endif

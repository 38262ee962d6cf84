/*
 * output: how `ward scan` reports matches, errors, progress and the summary.
 * Matches go to stdout (text: clamscan's "PATH: RULE FOUND"; json: one
 * object per line), errors to stderr in text form and to stdout as
 * {"path","error"} objects in json form.  Safe to call from many threads.
 */
#ifndef WARD_CLI_OUTPUT_H
#define WARD_CLI_OUTPUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "scan/matcher.h"

enum out_format {
	OUT_TEXT,
	OUT_JSON,
};

struct out {
	enum out_format format;
	int quiet;
	int progress; /* stderr is a terminal and not quiet */
	pthread_mutex_t lock;
	const struct ruleset *rs;
	atomic_ullong files, bytes, matches, errors, skipped;
	double start;
	long long rules_skipped; /* --skip-unsupported: rules left out; -1: not asked */
};

void out_init(struct out *o, enum out_format format, int quiet, const struct ruleset *rs);
void out_fini(struct out *o);

/* The matcher_report_fn for a file: arg is a struct out_file. */
struct out_file {
	struct out *o;
	const char *path;
	int matched;
};
int out_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name);

/* A problem with one path; scanning goes on. */
void out_error(struct out *o, const char *path, const char *msg);

/* Redraws the progress line (if enabled). */
void out_progress(struct out *o, const char *current);

/* Prints the summary block on stderr (unless quiet). */
void out_summary(struct out *o, int interrupted);

/* Seconds since an arbitrary point, monotonic. */
double out_now(void);

#endif

/*
 * output: how `ward scan` reports matches, errors, progress and the summary.
 * Matches go to stdout (text: clamscan's "PATH: RULE FOUND", with
 * --print-meta "PATH: RULE [META] FOUND" as yara -m shows META; json: one
 * object per line with the rule's meta), errors to stderr in text form and
 * to stdout as {"path","error"} objects in json form.  The summary goes to
 * stderr, and in json form also to stdout as a last {"summary": ...} line.
 * Safe to call from many threads.
 */
#ifndef WARD_CLI_OUTPUT_H
#define WARD_CLI_OUTPUT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "scan/container.h"
#include "scan/matcher.h"

enum out_format {
	OUT_TEXT,
	OUT_JSON,
};

/* Why an entry of the tree was not scanned, as the summary counts it. */
enum out_skip {
	OUT_SKIP_SYMLINK,   /* a symbolic link met while walking, not followed */
	OUT_SKIP_DUPLICATE, /* a hard link (or path) to a file or directory already seen */
	OUT_SKIP_SPECIAL,   /* a FIFO, socket or device */
	OUT_SKIP_TOO_LARGE, /* larger than --max-filesize */
	OUT_SKIP_EXCLUDED,  /* matched --exclude */
	OUT_SKIP_VIRTUAL,   /* a virtual filesystem (/proc, /sys, ...), not entered */
	OUT_SKIP_DANGLING,  /* a followed symbolic link that leads nowhere */
	OUT_SKIP_LOOP,	    /* a directory that is its own ancestor */
	OUT_SKIP_COUNT
};

struct out {
	enum out_format format;
	int quiet;
	int print_meta; /* text: the rule's meta after its name, as yara -m */
	int progress;	/* stderr is a terminal and not quiet */
	pthread_mutex_t lock;
	const struct ruleset *rs;
	atomic_ullong files, bytes, matches;
	/* Errors: a PATH given that could not be scanned at all, or a file
	 * (or directory) inside a tree that could not be read. */
	atomic_ullong path_errors, file_errors;
	atomic_ullong skipped[OUT_SKIP_COUNT];
	double start;
	long long rules_skipped; /* --skip-unsupported: rules left out; -1: not asked */
	/* Containers: --alert-exceeds-max, --alert-encrypted (each hit is then
	 * also a match, as clamscan's heuristics are), and the notes met. */
	int alert_exceeds, alert_encrypted;
	atomic_ullong notes[CONTAINER_NOTE_COUNT];
};

void out_init(struct out *o, enum out_format format, int quiet, const struct ruleset *rs);
void out_fini(struct out *o);

/* The matcher_report_fn for a file: arg is a struct out_file. */
struct out_file {
	struct out *o;
	const char *path;
	int matched;
	unsigned nmatches; /* reported for this file */
};
int out_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name);

/*
 * container_report_fn and container_note_fn for a file (arg: a struct
 * out_file): a match in a member is reported as PATH//MEMBER//...: RULE
 * FOUND in text (bytes of member names below 0x20 and 0x7f written as
 * \xHH, so that a name cannot start a line of its own) and with
 * "member": [...] in JSON.  A note is a JSON object {"path", "member",
 * "limit": WORD} (or "notice": "encrypted" / "damaged"), a line on stderr
 * in text form, counted in the summary; with --alert-exceeds-max (a limit)
 * or --alert-encrypted, also "PATH: Heuristics... FOUND", a match.
 */
int out_report_member(void *arg, const struct matcher_scratch *s, uint32_t rule,
		      const char *hash_name, const struct container_where *where);
void out_note(void *arg, enum container_note n, const struct container_where *where,
	      const char *format);

/* The name of where in path: "PATH//A//B", ward_malloc'd (NULL: out of
 * memory); with escape, as out_report_member writes it in text. */
char *out_member_path(const char *path, const struct container_where *where, int escape);

/*
 * A problem with one path; scanning goes on.  is_operand: path is one of
 * the PATHs given, which could not be scanned at all (the exit status is
 * then 2); otherwise an entry inside a tree that could not be read.
 */
void out_error(struct out *o, const char *path, const char *msg, int is_operand);

/* Counts an entry not scanned. */
void out_skip(struct out *o, enum out_skip why);

/* Redraws the progress line (if enabled). */
void out_progress(struct out *o, const char *current);

/*
 * Prints the summary: the block on stderr (unless quiet) and, in json
 * form, the {"summary": ...} line on stdout (unless quiet).
 */
void out_summary(struct out *o, int interrupted);

/* Seconds since an arbitrary point, monotonic. */
double out_now(void);

#endif

/*
 * matcher: runs a compiled rule set (and hash signatures) over files.
 *
 * One Vectorscan block-mode database holds an expression for every variant
 * of every string of every rule; one pass over the data yields candidate
 * match ends, the pattern verifier confirms exact starts and lengths with
 * YARA's semantics, and the rule conditions are then evaluated.
 *
 * A struct matcher is immutable and shared by all scanning threads; each
 * thread owns a struct matcher_scratch.  Files are read in bounded windows,
 * so memory does not grow with file size.
 */
#ifndef WARD_SCAN_MATCHER_H
#define WARD_SCAN_MATCHER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/ruleset.h"
#include "scan/hashsig.h"
#include "util/err.h"

struct matcher;
struct matcher_scratch;

/*
 * Builds a matcher for rs and hs (either may be NULL, not both; both are
 * borrowed and must outlive the matcher).  Compiles the Vectorscan
 * database; d names the string Vectorscan refused, if any.
 */
int matcher_new(const struct ruleset *rs, const struct hashsig_set *hs, struct matcher **out,
		struct ward_diag *d);

/*
 * Like matcher_new, but starts from a serialized Vectorscan database (from
 * matcher_db_save).  If the database does not fit this host or does not
 * describe rs's strings, it is rebuilt from rs and *rebuilt is set to 1.
 */
int matcher_new_with_db(const struct ruleset *rs, const struct hashsig_set *hs, const uint8_t *db,
			size_t dblen, struct matcher **out, int *rebuilt, struct ward_diag *d);

/* Frees m; NULL is a no-op. */
void matcher_free(struct matcher *m);

/* Serializes the Vectorscan database into w (empty when there are no strings). */
void matcher_db_save(const struct matcher *m, struct wbuf *w);

/* Per-thread state; freed with matcher_scratch_free (NULL is a no-op). */
int matcher_scratch_new(const struct matcher *m, struct matcher_scratch **out);
void matcher_scratch_free(struct matcher_scratch *s);

/*
 * The values of the rule set's externals for the scans that follow with s:
 * an array of rs->next entries with the types of rs->ext (borrowed; it
 * must stay as it is until the scan returns), or NULL (the default) for
 * the rule set's own values.  The scanner sets it per file for the
 * externals it gives each file (scan/filevars.h).
 */
void matcher_scratch_externals(struct matcher_scratch *s, const struct rs_external *ext);

/*
 * Called once per matching, non-private rule (rule = its index) and once
 * per matching hash signature (rule = UINT32_MAX, hash_name set).  The
 * string matches of the rule can be read with matcher_matches() during the
 * call.  Return 0 to go on, non-zero to stop the file's reporting.
 */
typedef int (*matcher_report_fn)(void *arg, const struct matcher_scratch *s, uint32_t rule,
				 const char *hash_name);

/*
 * Scans the open file fd of size bytes.  Returns 0, WARD_EIO (read error;
 * errno preserved), WARD_EINTR (*cancel became non-zero) or another
 * WARD_E*.  A file that shrinks while it is read is scanned as far as it
 * goes.
 */
int matcher_scan_fd(const struct matcher *m, struct matcher_scratch *s, int fd, uint64_t size,
		    matcher_report_fn report, void *arg, const volatile sig_atomic_t *cancel);

/* Scans a buffer held in memory (tests, small inputs). */
int matcher_scan_buf(const struct matcher *m, struct matcher_scratch *s, const uint8_t *data,
		     size_t len, matcher_report_fn report, void *arg);

/* The matches of string index str in the file being reported. */
const struct rs_matches *matcher_matches(const struct matcher_scratch *s, uint32_t str);

/* The window size m uses for large files (bytes), for tests. */
size_t matcher_window_size(const struct matcher *m);

#endif

/*
 * fim: file integrity baseline and check, aide-style.
 *
 * A baseline records, for every file, directory and symbolic link under
 * the policy's paths (not following links, staying on nothing but the
 * exclusions): type, mode, owner, group, size, mtime, inode, the link
 * target, and the SHA-256 or SM3 of regular files' content.  A check walks
 * the same paths again and reports what was added, removed or changed
 * (and which attributes), with aide's exit bits: 1 added, 2 removed,
 * 4 changed.  Hashing runs on a bounded pool of threads at low CPU and I/O
 * priority, so a large baseline does not make the host unresponsive.
 *
 * Root runs this over trees where users own directories, and a user can
 * swap a directory of theirs for a symbolic link at any moment.  So a
 * policy path is reached following no link but root's own (in
 * directories only root can write; its last component is never
 * followed), the walk opens each directory relative to its parent's
 * descriptor without following a link, and each file is looked at and
 * hashed by its name in the descriptor of the directory it was found in:
 * what is recorded is what is in the tree, never a file elsewhere that a
 * link put in the way leads to.
 */
#ifndef WARD_FIM_FIM_H
#define WARD_FIM_FIM_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/digest.h"
#include "util/err.h"

#define FIM_MAX_PATHS 64

struct fim_policy {
	const char *paths[FIM_MAX_PATHS];
	unsigned npaths;
	const char *excludes[FIM_MAX_PATHS]; /* fnmatch globs on the full path */
	unsigned nexcludes;
	enum digest_alg hash; /* DIGEST_SHA256 or DIGEST_SM3 */
	unsigned threads;     /* hashing threads (0: 2) */
	/* Optional: told of each policy path left out (counted as an error
	 * too), and why — a link on its way that is not root's, or absent. */
	void (*note)(void *arg, const char *path, const char *why);
	void *note_arg;
};

enum fim_change {
	FIM_ADDED = 1,
	FIM_REMOVED = 2,
	FIM_CHANGED = 4,
};

/* One difference found by a check: what, and for FIM_CHANGED which
 * attributes ("type,mode,uid,gid,size,mtime,inode,hash,target"). */
typedef void (*fim_diff_fn)(void *arg, enum fim_change what, const char *path, const char *fields);

struct fim_stats {
	uint64_t entries, files, bytes_hashed, errors;
};

/* Walks the policy's paths and writes the baseline to path (atomically). */
int fim_baseline(const struct fim_policy *p, const char *path, struct fim_stats *st,
		 struct ward_diag *d);

/*
 * Compares the tree with the baseline at path; calls fn per difference
 * (sorted by path) and returns the bitmask of enum fim_change found in
 * *bits.  0 or an error (no baseline, unreadable).
 */
int fim_check(const struct fim_policy *p, const char *path, fim_diff_fn fn, void *arg,
	      unsigned *bits, struct fim_stats *st, struct ward_diag *d);

/* Lowers the calling thread to nice 19 and the idle I/O class. */
void fim_lower_priority(void);

struct digest_ctx;
struct stat;

/*
 * The hex digest (dc's algorithm) of what the descriptor fd (borrowed)
 * reads from where it is, read through buf.  With max_size > 0, only a
 * regular file of at most max_size bytes is hashed.  Adds the bytes read
 * to *hashed (if not NULL).  0, or -1.
 */
int fim_hash_fd(int fd, struct digest_ctx *dc, uint8_t *buf, size_t buflen, uint64_t max_size,
		char *hex, size_t hexlen, uint64_t *hashed);

/*
 * What name is in the directory dirfd (borrowed), looked up there without
 * following a symbolic link — "." for the directory itself: its metadata
 * in *st, and with dc, when it is a regular file of at most max_size bytes
 * (0: any), the hex digest of its content in hex ("" otherwise).  The
 * metadata of a hashed file is that of the descriptor that was read, so
 * they always describe the same file.  Only a name that is a regular file
 * when looked at is opened (without blocking, O_NOCTTY), and hashed only
 * if what was opened is one.  0, or -1 with errno when the name is not
 * there.
 */
int fim_file_at(int dirfd, const char *name, struct digest_ctx *dc, uint8_t *buf, size_t buflen,
		uint64_t max_size, struct stat *st, char *hex, size_t hexlen);

#endif

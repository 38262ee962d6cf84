/*
 * walker: the recursive file tree walk of `ward scan PATH...`.
 *
 * walker_run visits each PATH in order; a regular file is reported to the
 * file callback, a directory is walked depth-first.  The order is
 * deterministic: the entries of a directory are visited sorted by name
 * (bytewise), and a subdirectory is walked completely when it is met.
 *
 * What is visited:
 *   - regular files, each (st_dev, st_ino) once: a file with several hard
 *     links is reported under the first path met; with follow_symlinks, a
 *     file reached both directly and through links is reported once;
 *   - directories, each (st_dev, st_ino) once; a directory that is its own
 *     ancestor (symlink or bind-mount cycle) is skipped as WALKER_SKIP_LOOP,
 *     so the walk always ends;
 *   - symbolic links: a PATH named explicitly is followed (as find -H
 *     does: `ward scan /link-to-dir` scans the directory); a link met
 *     while walking is skipped unless follow_symlinks is set (find -L);
 *   - special files (devices, FIFOs, sockets) are skipped, never opened;
 *   - a directory on a virtual filesystem (proc, sysfs, devpts, cgroup,
 *     debugfs, tracefs, securityfs, pstore, bpf, configfs, fusectl, mqueue,
 *     hugetlbfs, binfmt_misc, autofs, selinuxfs, efivarfs, nsfs, ...) met
 *     while walking is skipped, as are proc, sys and dev directly under
 *     the root directory (devtmpfs cannot be told from tmpfs by its magic).
 *     A PATH named explicitly is walked even if it is virtual;
 *   - exclude patterns are fnmatch(3) globs (flags 0: `*` also matches `/`)
 *     tried against the full path and against the base name; an excluded
 *     directory is not entered.  They apply to the PATHs too.
 *
 * Errors (an unreadable directory, an entry that vanished) go to the error
 * callback and the walk goes on.
 *
 * Resources: memory holds the names of the directories on the current path
 * (not the whole tree), the set of visited directories, and the set of files
 * with several links (with follow_symlinks: of every file).  File
 * descriptors stay bounded on deep trees: only every 32nd ancestor and the
 * last 32 keep theirs, others are reopened (and checked by device and
 * inode) when the walk comes back to them.  Paths are built in full and can
 * exceed PATH_MAX in very deep trees: use dirfd + name to open an entry.
 */
#ifndef WARD_SCAN_WALKER_H
#define WARD_SCAN_WALKER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

enum walker_skip {
	WALKER_SKIP_SPECIAL = 1,   /* device, FIFO or socket */
	WALKER_SKIP_SYMLINK,	   /* a link met while walking, follow_symlinks off */
	WALKER_SKIP_DANGLING,	   /* a followed link whose target does not exist */
	WALKER_SKIP_VIRTUAL,	   /* a virtual filesystem, or /proc /sys /dev */
	WALKER_SKIP_EXCLUDED,	   /* matched an exclude pattern */
	WALKER_SKIP_LOOP,	   /* a directory that is its own ancestor */
	WALKER_SKIP_DUPLICATE,	   /* a file or directory visited before */
	WALKER_SKIP_NOT_RECURSIVE, /* a subdirectory, with no_recurse set */
};

/* A static English description of why, never NULL. */
const char *walker_skip_reason(enum walker_skip why);

/* A regular file found by the walk.  Everything is valid during the callback only. */
struct walker_entry {
	const char *path; /* PATH as given, then "/name" per level; NUL-terminated */
	size_t path_len;
	int dirfd; /* the directory holding the file, or AT_FDCWD for a PATH */
	/*
	 * The file's name relative to dirfd: a symlink when it was followed
	 * (follow_symlinks, or a PATH), so open it with O_NOFOLLOW only when
	 * follow_symlinks is off and depth > 0.  Compare the opened file's
	 * fstat (st_dev, st_ino) with st to catch a file replaced meanwhile.
	 */
	const char *name;
	const struct stat *st; /* of the file (of the target for a followed link) */
	unsigned depth;	       /* 0 for a PATH, 1 for its entries, ... */
};

struct walker_opts {
	int follow_symlinks;	     /* follow links met while walking (find -L) */
	int no_recurse;		     /* do not enter subdirectories of the PATHs */
	const char *const *excludes; /* fnmatch globs; borrowed */
	size_t nexcludes;
	/* Checked between entries: when nonzero, walker_run stops with WARD_EINTR.  May be NULL. */
	const volatile sig_atomic_t *cancel;
	/*
	 * Called for each regular file.  Return 0 to go on, or a negative
	 * WARD_E* value to stop the walk (walker_run returns it).  Required.
	 */
	int (*file)(void *ctx, const struct walker_entry *e);
	/*
	 * Called for each entry skipped and why; depth as in walker_entry (0:
	 * one of the PATHs itself).  May be NULL.
	 */
	void (*skip)(void *ctx, const char *path, enum walker_skip why, unsigned depth);
	/*
	 * Called when an entry cannot be examined: what is a short phrase
	 * ("cannot open directory"), errnum an errno value for strerror, depth
	 * the entry's (0: one of the PATHs, which then could not be walked;
	 * for "cannot read directory", the directory's own).  The walk goes
	 * on.  May be NULL.
	 */
	void (*error)(void *ctx, const char *path, const char *what, int errnum, unsigned depth);
	void *ctx; /* passed to the callbacks; borrowed */
};

struct walker_stats {
	uint64_t files;	  /* reported to the file callback */
	uint64_t dirs;	  /* directories walked */
	uint64_t skipped; /* reported to the skip callback */
	uint64_t errors;  /* reported to the error callback */
};

/*
 * Walks the npaths paths.  Returns 0 when the walk is complete (errors
 * included: see stats->errors), WARD_EINTR if cancelled, WARD_EINVAL for a
 * NULL file callback, WARD_ENOMEM, or the file callback's negative value.
 * stats (may be NULL) is filled in every case.  Not thread-safe per call,
 * but calls on different threads are independent (no global state).
 */
/*
 * Opens the regular file e reports (read-only, O_NONBLOCK, O_NOCTTY, and
 * O_NOATIME when the caller may), as its contract above says: without
 * following a final symbolic link unless follow_symlinks (or e is a PATH),
 * and only if what was opened is the file that was examined (same st_dev
 * and st_ino as e->st).  Returns the descriptor, or -1 with errno (ESTALE:
 * the file was replaced in between).
 */
int walker_open(const struct walker_entry *e, int follow_symlinks);

int walker_run(const struct walker_opts *o, const char *const *paths, size_t npaths,
	       struct walker_stats *stats);

#endif

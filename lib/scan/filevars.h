/*
 * filevars: the external variables that LOKI and THOR give each file they
 * scan — filename, filepath, extension, filetype, owner — which many rules
 * of signature-base test (`filename == "rundll32.exe"`, `filetype ==
 * "EXE"`, `owner == "confluence"`).  With `yara` they are one -d value for
 * every file; with `ward scan` each file gets its own, as those rules'
 * authors meant:
 *
 *   filename   the file's name, without its directory ("cmd.exe");
 *   filepath   its directory, absolute, without a trailing slash (the
 *              working directory is put in front of a relative path,
 *              without resolving links; "/" for a file in /);
 *   extension  from the last dot of the name, lower case (ASCII), with the
 *              dot (".exe"); "" when the name has no dot other than
 *              leading ones (".bashrc") — Python's os.path.splitext;
 *   filetype   a name from the first bytes of the file, from
 *              signature-base's misc/file-type-signatures.txt in LOKI's
 *              order ("EXE", "ELF", "PDF", "ZIP", ...; "UNKNOWN");
 *   owner      the name of the file's owner, or its uid in decimal when
 *              the user database has none.
 *
 * Names are the bytes of the path (LOKI replaces non-ASCII characters by
 * "?", a workaround for its Python binding; THOR does not).
 */
#ifndef WARD_SCAN_FILEVARS_H
#define WARD_SCAN_FILEVARS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "rules/ruleset.h"

enum filevars_var {
	FILEVARS_FILENAME,
	FILEVARS_FILEPATH,
	FILEVARS_EXTENSION,
	FILEVARS_FILETYPE,
	FILEVARS_OWNER,
	FILEVARS_COUNT
};

/* The variable's name ("filename", ...); static, never NULL. */
const char *filevars_name(enum filevars_var v);
/* The -d definition that declares it as an empty string ("filename="). */
const char *filevars_decl(enum filevars_var v);

/* Which externals of a rule set are given per file; shared by threads. */
struct filevars;
/* One thread's values; not shared. */
struct filevars_scratch;

/*
 * Plans the per-file values for rs (borrowed; it must outlive *out): each
 * variable that rs has as a string external, that the condition of some
 * rule reads, and that is not named in fixed (the -d NAME=VALUE
 * definitions of this scan, whose value then holds for every file).  cwd
 * (copied; NULL or "" when unknown) makes relative paths absolute.
 * Returns 0 with *out NULL when there is nothing to set per file, 0 with
 * *out owned by the caller (filevars_free), or WARD_ENOMEM / WARD_EVERIFY.
 */
int filevars_new(const struct ruleset *rs, const char *const *fixed, size_t nfixed, const char *cwd,
		 struct filevars **out);
/* NULL is a no-op. */
void filevars_free(struct filevars *fv);

/* Whether fv sets variable v per file. */
int filevars_sets(const struct filevars *fv, enum filevars_var v);

/* Per-thread state for fv (borrowed, must outlive it); NULL is freed as a no-op. */
int filevars_scratch_new(const struct filevars *fv, struct filevars_scratch **out);
void filevars_scratch_free(struct filevars_scratch *s);

/*
 * The externals for one file, for matcher_scratch_externals: path as the
 * walk reported it, fd the open file (its first bytes are read with pread
 * when filetype is set; the offset does not move; borrowed), st its
 * status.  The array and its strings live in s until the next call.
 * Returns NULL when out of memory.
 */
const struct rs_external *filevars_set(struct filevars_scratch *s, const char *path, int fd,
				       const struct stat *st);

/*
 * filevars_set with owner's value given (borrowed until the next call),
 * not looked up: for a process that cannot read the user database (`ward
 * scan`'s sandboxed scanner, whose walker looks the names up with
 * filevars_owner).  owner NULL: looked up, as filevars_set does.
 */
const struct rs_external *filevars_set_owner(struct filevars_scratch *s, const char *path, int fd,
					     const struct stat *st, const char *owner);

/*
 * The value of owner for a file of uid: its user name, or the uid in
 * decimal when the user database has none (looked up once per uid in s's
 * cache).  Static in s until the next call; never NULL.
 */
const char *filevars_owner(struct filevars_scratch *s, uid_t uid);

/*
 * The pieces, pure functions for tests.  filevars_extension writes the
 * extension of name (a file name, no '/') into out (outlen >= 1; cut to
 * fit) and returns its length.  filevars_filetype returns the type of a
 * file that starts with the n bytes head (static, "UNKNOWN" when none
 * matches).  FILEVARS_HEAD is how many bytes it ever looks at.
 */
size_t filevars_extension(const char *name, char *out, size_t outlen);
const char *filevars_filetype(const uint8_t *head, size_t n);
#define FILEVARS_HEAD 16
/* Bytes of a user name kept for owner, with its NUL (longer names are
 * cut, as in ls -l's column). */
#define FILEVARS_OWNER_MAX 256

/*
 * Splits path into the directory and the name as filepath and filename
 * have them: cwd (may be NULL) is put in front of a relative path, and
 * empty and "." components are dropped (".." stays: links are not
 * resolved).  *dir and *name point into *buf (grown with ward_grow; *cap
 * its size) or at static strings ("/" for a file in the root directory),
 * until the next call with that buffer.  Returns 0 or WARD_ENOMEM.
 */
int filevars_split(const char *path, const char *cwd, char **buf, size_t *cap, const char **dir,
		   const char **name);

#endif

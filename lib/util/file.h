/*
 * file: whole-file reads with a size bound; atomic replacement (a new
 * temporary file, fsync, rename, fsync of the directory), so a crash or a
 * power cut leaves either the old file or the new one, never a mix; and the
 * check that a directory the programs keep their state in is theirs alone.
 *
 * A temporary file is always a new file (O_CREAT | O_EXCL | O_NOFOLLOW)
 * under a random name, NAME.tmp.<16 hex digits>: a name someone else made
 * beforehand — a file, a symbolic link — is never opened, written or
 * removed; another random name is tried instead.
 */
#ifndef WARD_UTIL_FILE_H
#define WARD_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/* file_replace_at: fail with WARD_EDUPLICATE if name exists (as anything,
 * a dangling symbolic link too) instead of replacing it. */
#define FILE_NOREPLACE 0x1

/*
 * Writes p[0..n) to name in the directory dfd (opened O_RDONLY |
 * O_DIRECTORY; borrowed), created with mode (umask applies), replacing
 * what name was (a symbolic link is replaced, never followed), or with
 * FILE_NOREPLACE refusing to.  name is one path component.  Returns 0,
 * WARD_EINVAL (bad name), WARD_EDUPLICATE (FILE_NOREPLACE and name
 * exists) or WARD_EIO, with d (file: name) saying which step failed; on
 * failure the temporary file this call made is removed and name is as it
 * was.
 */
int file_replace_at(int dfd, const char *name, const void *p, size_t n, mode_t mode, int flags,
		    struct ward_diag *d);

/* file_replace_at on path's directory and last component, without flags
 * (d names path). */
int file_replace(const char *path, const void *p, size_t n, mode_t mode, struct ward_diag *d);

/*
 * Opens the directory path (first creating it, mode 0700, when create is
 * set and it does not exist) and checks that only owner (and root) can
 * change what it holds: it must belong to owner and be writable by no one
 * else (no group or other write bit), and each directory above it must
 * belong to root or owner and be writable by no one else unless it has
 * the sticky bit (as /tmp); a symbolic link on the path as written must
 * be root's or owner's, in such a directory.  Returns 0 with *dfd
 * (O_RDONLY | O_DIRECTORY,
 * the caller closes it), or WARD_EIO (cannot create or open) / WARD_EINVAL
 * (not safe) with d naming the directory, its owner and mode, and the
 * command that fixes it.  *dfd is -1 on failure.
 */
int file_dir_open(const char *path, int create, uid_t owner, int *dfd, struct ward_diag *d);

/*
 * Reads the regular file path whole into *out (owned by the caller, freed
 * with ward_free; one extra NUL byte follows the data).  WARD_EIO if it
 * can't be read or is not a regular file, WARD_ELIMIT if larger than max.
 */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len, struct ward_diag *d);

/* Writes p[0..n) to fd, retrying on EINTR and short writes.  0 or WARD_EIO. */
int file_write_all(int fd, const void *p, size_t n);

#endif

/*
 * file: whole-file reads with a size bound, and atomic replacement
 * (temporary file, fsync, rename, fsync of the directory), so a crash or a
 * power cut leaves either the old file or the new one, never a mix.
 */
#ifndef WARD_UTIL_FILE_H
#define WARD_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

/*
 * Replaces path with p[0..n), created with mode (umask applies).  Returns 0
 * or WARD_EIO with d saying which step failed; the temporary file is
 * removed on failure.
 */
int file_replace(const char *path, const void *p, size_t n, mode_t mode, struct ward_diag *d);

/*
 * Reads the regular file path whole into *out (owned by the caller, freed
 * with ward_free; one extra NUL byte follows the data).  WARD_EIO if it
 * can't be read or is not a regular file, WARD_ELIMIT if larger than max.
 */
int file_read_all(const char *path, size_t max, uint8_t **out, size_t *len, struct ward_diag *d);

/* Writes p[0..n) to fd, retrying on EINTR and short writes.  0 or WARD_EIO. */
int file_write_all(int fd, const void *p, size_t n);

#endif

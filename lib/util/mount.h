/*
 * mount: which mount an open descriptor is on, and where that mount is.
 *
 * A program that acts on "the mount of this path" (a fanotify mount mark)
 * must name the mount from the descriptor it opened, not by looking the
 * path up again: the mount id comes from the descriptor (statx, or the
 * file-handle call on kernels before 5.8), and its mount point from the
 * kernel's table, /proc/self/mountinfo.  The same table says which mount a
 * path names as written (the deepest mount point on its way), so a caller
 * can check that what it opened is what it was asked for.
 *
 * The table is read whole and parsed as untrusted text (mount points are
 * names users may choose, escaped by the kernel), within
 * WARD_MAX_MOUNTINFO bytes.
 */
#ifndef WARD_UTIL_MOUNT_H
#define WARD_UTIL_MOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* The id of the mount the descriptor fd (borrowed) is on, as the first
 * field of mountinfo.  0, or -1 with errno. */
int mount_id_of(int fd, uint64_t *id);

/*
 * Reads /proc/self/mountinfo into *out (the caller frees it with
 * ward_free; a NUL byte follows the text) and its length into *len.
 * 0, or WARD_EIO, WARD_ELIMIT (larger than WARD_MAX_MOUNTINFO),
 * WARD_ENOMEM, with d saying which.
 */
int mount_info_read(uint8_t **out, size_t *len, struct ward_diag *d);

/*
 * In the mountinfo text p[0..n): the mount point of the mount id,
 * unescaped, into out (outlen bytes).  0, WARD_EINVAL when no line has
 * that id, WARD_EFORMAT for a line that is not mountinfo, WARD_ELIMIT when
 * the mount point does not fit.
 */
int mount_point_of(const void *p, size_t n, uint64_t id, char *out, size_t outlen);

/*
 * In the same text: the mount point under which the absolute path lies as
 * written — the longest one that is path itself or a directory above it,
 * compared by whole components ("/a" is above "/a/b", not "/ab") — into
 * out.  0, WARD_EINVAL (no mount point is above path: not absolute, or no
 * "/" in the table), WARD_EFORMAT, WARD_ELIMIT.
 */
int mount_point_above(const void *p, size_t n, const char *path, char *out, size_t outlen);

#endif

/*
 * mount: a descriptor's mount, by id, and mount points from the kernel's
 * table.  See mount.h.
 *
 * Must hold: the table's bytes are read only through an rbuf, one byte at
 * a time, into bounded buffers; a line that is not mountinfo is an error,
 * never a guess; an escape is exactly a backslash and three octal digits,
 * as the kernel writes them.
 */
#include "util/mount.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

/* Room for a mount point: none longer can be above a path we can open. */
#define POINT_MAX PATH_MAX

int
mount_id_of(int fd, uint64_t *id)
{
	union {
		struct file_handle fh;
		char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	struct statx stx;
	int mnt, r = -1;

	*id = 0;
	if (statx(fd, "", AT_EMPTY_PATH, STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID) != 0) {
		*id = stx.stx_mnt_id;
		r = 0;
		goto out;
	}
	/* Before Linux 5.8: the file-handle call says the mount too. */
	u.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(fd, "", &u.fh, &mnt, AT_EMPTY_PATH) == 0) {
		*id = (uint64_t)(unsigned)mnt;
		r = 0;
	}
out:
	return r;
}

int
mount_info_read(uint8_t **out, size_t *len, struct ward_diag *d)
{
	const char *path = "/proc/self/mountinfo";
	uint8_t *buf = NULL;
	size_t cap = 0, got = 0;
	ssize_t k;
	int fd, r = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
	/* A file of /proc has no size: read until the end. */
	for (;;) {
		if (got + 1 >= cap) {
			if (cap >= WARD_MAX_MOUNTINFO) {
				r = diag_set(d, WARD_ELIMIT, path, 0, 0, "larger than %u bytes",
					     (unsigned)WARD_MAX_MOUNTINFO);
				goto out;
			}
			if (ward_grow(&buf, &cap, got + 65536, 1) != 0) {
				r = diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
				goto out;
			}
		}
		k = read(fd, buf + got, cap - got - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
			goto out;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	buf[got] = 0;
	*out = buf;
	*len = got;
	buf = NULL;
out:
	ward_free(buf);
	close(fd);
	return r;
}

/*
 * Reads one space-separated field into out (outlen bytes, NUL-terminated;
 * NULL: skipped), unescaping \ooo.  *end is set when the field ended its
 * line (or the text).  *over when it did not fit.  0 or WARD_EFORMAT.
 */
static int
field(struct rbuf *b, char *out, size_t outlen, int *end, int *over)
{
	size_t n = 0;
	uint8_t c, o[3];
	unsigned i;

	*end = 1;
	*over = 0;
	while (rbuf_u8(b, &c) == 0) {
		if (c == ' ' || c == '\n') {
			*end = c == '\n';
			break;
		}
		if (c == '\\') {
			for (i = 0; i < 3; i++)
				if (rbuf_u8(b, &o[i]) != 0 || o[i] < '0' || o[i] > '7')
					return WARD_EFORMAT;
			if (o[0] > '3')
				return WARD_EFORMAT;
			c = (uint8_t)((o[0] - '0') << 6 | (o[1] - '0') << 3 | (o[2] - '0'));
			if (c == 0)
				return WARD_EFORMAT;
		}
		if (out != NULL && n + 1 < outlen)
			out[n++] = (char)c;
		else if (out != NULL)
			*over = 1;
	}
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

/* Skips what is left of the line. */
static void
skip_line(struct rbuf *b)
{
	uint8_t c;

	while (rbuf_u8(b, &c) == 0 && c != '\n')
		;
}

/*
 * The next line's id and mount point (point: POINT_MAX bytes).  1 with
 * them, 0 at the end of the text, or WARD_EFORMAT.  *over when the mount
 * point was too long to keep.
 */
static int
next_line(struct rbuf *b, uint64_t *id, char *point, int *over)
{
	char num[24];
	int end, big, r = WARD_EFORMAT;
	unsigned i;

	if (rbuf_left(b) == 0)
		return 0;
	if (field(b, num, sizeof(num), &end, &big) != 0 || end || big || num[0] == '\0')
		goto out;
	*id = 0;
	for (i = 0; num[i] != '\0'; i++) {
		if (num[i] < '0' || num[i] > '9' || *id > (UINT64_MAX - 9) / 10)
			goto out;
		*id = *id * 10 + (uint64_t)(num[i] - '0');
	}
	/* Parent id, major:minor, root within the filesystem. */
	for (i = 0; i < 3; i++)
		if (field(b, NULL, 0, &end, &big) != 0 || end)
			goto out;
	if (field(b, point, POINT_MAX, &end, over) != 0 || end || point[0] != '/')
		goto out;
	skip_line(b);
	r = 1;
out:
	return r;
}

int
mount_point_of(const void *p, size_t n, uint64_t id, char *out, size_t outlen)
{
	char point[POINT_MAX];
	struct rbuf b;
	uint64_t lid;
	int over, r;

	rbuf_init(&b, p, n);
	while ((r = next_line(&b, &lid, point, &over)) == 1) {
		if (lid != id)
			continue;
		if (over || strlen(point) >= outlen)
			return WARD_ELIMIT;
		memcpy(out, point, strlen(point) + 1);
		return 0;
	}
	return r == 0 ? WARD_EINVAL : r;
}

/* 1 if the path a is b or a directory above it, by whole components
 * ("/" is above all, "/a" above "/a" and "/a/b", not "/ab"), else 0. */
static int
is_above(const char *a, const char *b)
{
	size_t k;

	for (;;) {
		while (*a == '/')
			a++;
		while (*b == '/')
			b++;
		if (*a == '\0')
			return 1;
		k = strcspn(a, "/");
		if (strncmp(a, b, k) != 0 || (b[k] != '\0' && b[k] != '/'))
			return 0;
		a += k;
		b += k;
	}
}

/* The number of components of the absolute path p. */
static size_t
depth(const char *p)
{
	size_t n = 0;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return n;
		n++;
		p += strcspn(p, "/");
	}
}

int
mount_point_above(const void *p, size_t n, const char *path, char *out, size_t outlen)
{
	char point[POINT_MAX];
	struct rbuf b;
	uint64_t id;
	size_t best = 0;
	int over, found = 0, r;

	if (path[0] != '/')
		return WARD_EINVAL;
	rbuf_init(&b, p, n);
	while ((r = next_line(&b, &id, point, &over)) == 1) {
		if (over || !is_above(point, path) || (found && depth(point) <= best))
			continue;
		if (strlen(point) >= outlen)
			return WARD_ELIMIT;
		memcpy(out, point, strlen(point) + 1);
		best = depth(point);
		found = 1;
	}
	if (r != 0)
		return r;
	return found ? 0 : WARD_EINVAL;
}

/*
 * file: bounded whole-file reads and atomic replacement.  See file.h.
 *
 * Must hold: the new content is on disk (fsync) before the rename makes it
 * visible, and the rename is on disk (fsync of the directory) before
 * file_replace returns; a read never allocates more than the bound.
 */
#include "util/file.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
file_write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return WARD_EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

int
file_replace(const char *path, const void *p, size_t n, mode_t mode, struct ward_diag *d)
{
	char tmp[4096], dirbuf[4096];
	int fd = -1, dfd = -1, r = 0, renamed = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return diag_set(d, WARD_EINVAL, path, 0, 0, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (file_write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	renamed = 1;
	snprintf(dirbuf, sizeof(dirbuf), "%s", path);
	dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0)
		r = diag_set(d, WARD_EIO, path, 0, 0, "cannot sync the directory: %s",
			     strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (r != 0 && !renamed)
		(void)unlink(tmp);
	return r;
}

int
file_read_all(const char *path, size_t max, uint8_t **out, size_t *len, struct ward_diag *d)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t k;
	int fd, r = 0;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = diag_set(d, WARD_ELIMIT, path, 0, 0, "file larger than %zu bytes", max);
		goto out;
	}
	buf = ward_malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		r = diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		k = read(fd, buf + got, (size_t)st.st_size - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = diag_set(d, WARD_EIO, path, 0, 0, "%s",
				     k < 0 ? strerror(errno) : "file shrank while read");
			goto out;
		}
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

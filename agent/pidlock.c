/*
 * pidlock: the lock that keeps a second wardd off a state directory.  See
 * pidlock.h.
 *
 * Must hold: the lock file is opened relative to the checked directory's
 * descriptor, never through a symbolic link, and only a regular file is
 * locked; a pid read back from it is a number or nothing (the file is
 * ours, but a crash may have left it empty or half written).
 */
#include "agent/pidlock.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The pid written in fd, or 0. */
static pid_t
read_pid(int fd)
{
	char text[24];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
	long v = 0;
	ssize_t i;

	if (n <= 0)
		return 0;
	for (i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++)
		if ((v = v * 10 + (text[i] - '0')) > 0x3fffffff) /* beyond any pid_max */
			return 0;
	return i > 0 && (i == n || text[i] == '\n') ? (pid_t)v : 0;
}

int
pidlock_take(int dfd, const char *name, int *fd, pid_t *holder, struct ward_diag *d)
{
	struct stat st;
	int lfd, r = 0;

	*fd = -1;
	*holder = 0;
	lfd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		     0600);
	if (lfd < 0)
		return diag_set(d, WARD_EIO, name, 0, 0, "cannot open the lock file: %s",
				strerror(errno));
	if (fstat(lfd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = diag_set(d, WARD_EIO, name, 0, 0, "the lock file is not a regular file");
		goto out;
	}
	if (flock(lfd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			*holder = read_pid(lfd);
			r = 1;
		} else {
			r = diag_set(d, WARD_EIO, name, 0, 0, "cannot lock: %s", strerror(errno));
		}
		goto out;
	}
	*fd = lfd;
	lfd = -1;
out:
	if (lfd >= 0)
		close(lfd);
	return r;
}

int
pidlock_write(int fd, pid_t pid)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%ld\n", (long)pid);

	if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != (ssize_t)n)
		return WARD_EIO;
	return 0;
}

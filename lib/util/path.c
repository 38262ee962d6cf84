/*
 * path: directories opened without being redirected.  See path.h.
 *
 * Must hold: each component is opened relative to the descriptor of the
 * one before it, with O_NOFOLLOW; a symbolic link is followed only with
 * PATH_ROOT_LINKS, only when root owns it and its directory and neither
 * group nor others may write that directory, and at most LINKS_MAX times
 * per open, so a loop of links ends.  openat2 does the strict case in one
 * call; without it (kernels before 5.6, or a seccomp profile that does not
 * know it: ENOSYS, EPERM) the same holds one component at a time.
 */
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Links followed in one open, as the kernel's MAXSYMLINKS: ends loops. */
#define LINKS_MAX 40

/* 1 if nobody but root can have made or changed the link st, in dirfd. */
static int
link_is_roots(int dirfd, const struct stat *st)
{
	struct stat dir;

	return st->st_uid == 0 && fstat(dirfd, &dir) == 0 && dir.st_uid == 0 &&
	       (dir.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/*
 * Replaces the component that starts at comp in buf (a link whose target
 * is target[0..n)) and everything before it by the target, keeping what
 * follows at end: buf becomes target + end.  0, or -1 (too long).
 */
static int
splice_link(char *buf, size_t buflen, const char *target, size_t n, const char *end)
{
	char rest[PATH_MAX];
	int k;

	k = snprintf(rest, sizeof(rest), "%s", end);
	if (k < 0 || (size_t)k >= sizeof(rest) || n + (size_t)k >= buflen)
		return -1;
	memcpy(buf, target, n);
	memcpy(buf + n, rest, (size_t)k + 1);
	return 0;
}

/* The open one component at a time.  fd or -1 with errno. */
static int
open_walk(const char *path, unsigned flags)
{
	char buf[PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX];
	const char *p, *end;
	unsigned links = 0;
	struct stat st;
	int fd, next, err;
	ssize_t n;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (p = buf; fd >= 0; p = end) {
		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		if (end == p)
			break;
		if ((size_t)(end - p) > NAME_MAX) {
			close(fd);
			fd = -1;
			errno = ENAMETOOLONG;
			break;
		}
		memcpy(comp, p, (size_t)(end - p));
		comp[end - p] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		err = errno;
		/* A link says ELOOP, or ENOTDIR because of O_DIRECTORY: say ELOOP. */
		if (next < 0 && (err == ENOTDIR || err == ELOOP) &&
		    fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
			err = ELOOP;
			if ((flags & PATH_ROOT_LINKS) && links < LINKS_MAX &&
			    link_is_roots(fd, &st) &&
			    (n = readlinkat(fd, comp, target, sizeof(target))) > 0 &&
			    (size_t)n < sizeof(target) &&
			    splice_link(buf, sizeof(buf), target, (size_t)n, end) == 0) {
				links++;
				/* A relative target goes on from the link's directory. */
				if (target[0] == '/') {
					close(fd);
					fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				}
				end = buf;
				continue;
			}
		}
		close(fd);
		fd = next;
		errno = err;
	}
	return fd;
}

int
path_open_dir(const char *path, unsigned flags)
{
	int fd = -1;

	if (path[0] != '/') {
		errno = EINVAL;
		goto out;
	}
#ifdef SYS_openat2
	{
		struct open_how how;

		memset(&how, 0, sizeof(how));
		how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
		how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
		fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
		/* A link on the way may still be root's: then walk. */
		if (fd >= 0 || (errno != ENOSYS && errno != EPERM &&
				!(errno == ELOOP && (flags & PATH_ROOT_LINKS))))
			goto out;
	}
#endif
	fd = open_walk(path, flags);
out:
	return fd;
}

int
path_open_parent(const char *path, unsigned flags, char *name, size_t namelen)
{
	char dir[PATH_MAX];
	char *slash;
	size_t n = strlen(path);
	int fd = -1;

	if (path[0] != '/') {
		errno = EINVAL;
		goto out;
	}
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		goto out;
	}
	memcpy(dir, path, n + 1);
	while (n > 1 && dir[n - 1] == '/')
		dir[--n] = '\0';
	slash = strrchr(dir, '/');
	if (n == 1) {
		snprintf(name, namelen, ".");
	} else {
		if (strlen(slash + 1) > NAME_MAX || strlen(slash + 1) >= namelen) {
			errno = ENAMETOOLONG;
			goto out;
		}
		memcpy(name, slash + 1, strlen(slash + 1) + 1);
		slash[slash == dir] = '\0';
	}
	fd = path_open_dir(dir, flags);
out:
	return fd;
}

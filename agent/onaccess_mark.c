/*
 * onaccess_mark: the paths the on-access sensor marks.  See onaccess_mark.h.
 *
 * Must hold: a mark goes through the descriptor that was checked, never
 * through a path looked up again; a path refused is said, never dropped.
 */
#include "agent/onaccess_mark.h"
#include "agent/onaccess.h"
#include "util/alloc.h"
#include "util/mount.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

static void say_refused(struct onaccess_targets *t, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say_refused(struct onaccess_targets *t, const char *path, const char *fmt, ...)
{
	size_t n = strlen(t->refused);
	va_list ap;

	if (n + 1 >= sizeof(t->refused))
		return;
	snprintf(t->refused + n, sizeof(t->refused) - n, "%s%s: ", n > 0 ? "; " : "", path);
	n = strlen(t->refused);
	va_start(ap, fmt);
	vsnprintf(t->refused + n, sizeof(t->refused) - n, fmt, ap);
	va_end(ap);
}

/* 1 if path is absolute with no "." or ".." component: what it names does
 * not depend on where a directory of it has been moved. */
static int
plain_path(const char *path)
{
	const char *p = path;
	size_t k;

	if (path[0] != '/')
		return 0;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return 1;
		k = strcspn(p, "/");
		if ((k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += k;
	}
}

int
onaccess_path_open(const char *path, int whole_mount, char *mnt, size_t mntlen, char *why,
		   size_t whylen)
{
	char above[PATH_MAX];
	struct ward_diag d;
	uint8_t *info = NULL;
	size_t len = 0;
	uint64_t id;
	int fd = -1, r;

	mnt[0] = '\0';
	why[0] = '\0';
	if (!plain_path(path)) {
		snprintf(why, whylen, "not an absolute path without '.' and '..'");
		goto out;
	}
	/* Never through a link a user could have put on the way. */
	fd = path_open_dir(path, PATH_ROOT_LINKS);
	if (fd < 0) {
		if (errno == ELOOP)
			snprintf(why, whylen, "a symbolic link on its way is not root's");
		else
			snprintf(why, whylen, "%s", strerror(errno));
		goto out;
	}
	if (!whole_mount)
		goto out;
	/* The mount the descriptor is on is the one the mark goes to; it must
	 * be the mount the path is under as written. */
	if (mount_id_of(fd, &id) != 0) {
		snprintf(why, whylen, "cannot tell which mount it is on: %s", strerror(errno));
		goto refuse;
	}
	if ((r = mount_info_read(&info, &len, &d)) != 0) {
		snprintf(why, whylen, "cannot tell which mount it is on: %.200s", d.msg);
		goto refuse;
	}
	if ((r = mount_point_of(info, len, id, mnt, mntlen)) != 0 ||
	    (r = mount_point_above(info, len, path, above, sizeof(above))) != 0) {
		snprintf(why, whylen, "cannot tell which mount it is on: %s", ward_strerror(r));
		goto refuse;
	}
	if (strcmp(mnt, above) != 0) {
		snprintf(why, whylen,
			 "leads to the mount at %.400s, not to the one at %.400s that it is under "
			 "as written (a link on its way crosses mounts: give the path without it)",
			 mnt, above);
		goto refuse;
	}
	goto out;
refuse:
	close(fd);
	fd = -1;
	mnt[0] = '\0';
out:
	ward_free(info);
	return fd;
}

/* Opens every configured path (see onaccess_path_open); the refused ones
 * are said in t->refused. */
void
onaccess_targets_open(const char *const *path, unsigned npaths, unsigned nblock,
		      struct onaccess_targets *t)
{
	char why[1024], mnt[PATH_MAX];
	unsigned i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < npaths + nblock; i++) {
		int whole = i < npaths;

		t->path[i] = path[i];
		t->mount[i] = whole;
		t->fd[i] =
		    onaccess_path_open(t->path[i], whole, mnt, sizeof(mnt), why, sizeof(why));
		if (t->fd[i] < 0)
			say_refused(t, t->path[i], "%s", why);
		t->n++;
	}
}

void
onaccess_targets_close(struct onaccess_targets *t)
{
	unsigned i;

	for (i = 0; i < t->n; i++)
		if (t->fd[i] >= 0)
			close(t->fd[i]);
}

/* The parent of process pid, from /proc/PID/stat; 0 if unknown. */
static int
parent_of(int pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd, ppid = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold spaces and parentheses. */
	if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
		return 0;
	return ppid;
}

/*
 * 1 if this process is in a mount namespace other than its ancestors' and
 * pid 1's (a unit's ProtectSystem=, PrivateTmp= and the like make one for
 * wardd); -1 if it cannot tell (pid 1's and no ancestor's could be
 * read).  A mount mark there is on this namespace's copy of the mount,
 * and the host's processes, which access files through their own copies,
 * are never seen.
 */
static int
private_mount_ns(void)
{
	struct stat self, other;
	char path[64];
	int pid = getppid(), depth, compared = 0;

	if (stat("/proc/self/ns/mnt", &self) != 0)
		return -1;
	if (stat("/proc/1/ns/mnt", &other) == 0)
		return self.st_dev != other.st_dev || self.st_ino != other.st_ino;
	/* Where pid 1's cannot be read: the processes that started wardd. */
	for (depth = 0; depth < 8 && pid > 1; depth++, pid = parent_of(pid)) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		if (stat(path, &other) != 0)
			continue;
		if (self.st_dev != other.st_dev || self.st_ino != other.st_ino)
			return 1;
		compared = 1;
	}
	return compared ? 0 : -1;
}

/*
 * Marks the opened paths in group fan: a path of onaccess.paths marks the
 * mount its descriptor is on (exec, close-write); one of block_open marks
 * that directory (opens of the files in it).  Returns how many were
 * marked; the others are said in t->refused.
 */
unsigned
onaccess_targets_mark(int fan, struct onaccess_targets *t)
{
	unsigned i, n = 0;
	int r, ns = private_mount_ns();

	for (i = 0; i < t->n; i++) {
		if (t->fd[i] < 0)
			continue;
		if (t->mount[i] && ns == 1)
			say_refused(t, t->path[i],
				    "marked, but wardd runs in a mount namespace of its own, not pid "
				    "1's: it sees only accesses made in that namespace (run it in the "
				    "host's, without ProtectSystem= and the like in its unit)");
		else if (t->mount[i] && ns < 0)
			say_refused(t, t->path[i],
				    "marked, but wardd cannot tell whether it shares pid 1's mount "
				    "namespace (/proc/1/ns/mnt cannot be read): in one of its own, "
				    "it would see no access made outside it");
		if (t->mount[i])
			r = fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_MOUNT,
					  FAN_OPEN_EXEC_PERM | FAN_CLOSE_WRITE, t->fd[i], NULL);
		else
			r = fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_ONLYDIR,
					  FAN_OPEN_PERM | FAN_EVENT_ON_CHILD, t->fd[i], NULL);
		if (r != 0)
			say_refused(t, t->path[i], "cannot watch it: %s", strerror(errno));
		else
			n++;
	}
	return n;
}

/* Removes every mark of group fan (its pending events still get answers). */
void
onaccess_clear_marks(int fan)
{
	(void)fanotify_mark(fan, FAN_MARK_FLUSH | FAN_MARK_MOUNT, 0, AT_FDCWD, NULL);
	(void)fanotify_mark(fan, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
}

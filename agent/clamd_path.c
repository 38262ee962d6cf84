/*
 * clamd_path: the path commands of the clamd socket (SCAN, CONTSCAN,
 * MULTISCAN, ALLMATCHSCAN): files opened on behalf of the client, never
 * as root.
 *
 * Must hold:
 *   - every open of a client's path is done by this thread with the
 *     client's filesystem credentials (setfsuid, setfsgid and the raw
 *     setgroups system call act on the calling thread only; glibc's
 *     setgroups would change every thread's), so the kernel checks the
 *     client's own permissions on every component: the socket is no way
 *     to probe or read what the client could not;
 *   - the worker's credentials are back before anything else runs here
 *     (creds_enter ... creds_leave around the openat alone);
 *   - every entry is opened O_PATH | O_NOFOLLOW first and only a regular
 *     file or a directory is then opened for reading, through that
 *     descriptor (never the name again): no device is ever opened, no
 *     link followed; each directory entry is opened by its directory's
 *     descriptor;
 *   - at most CLAMD_MAX_DEPTH levels, paths of at most PATH_MAX bytes.
 *
 * Answers follow clamd 1.4 (clamd/scanner.c scan_callback, session.c
 * command): SCAN and ALLMATCHSCAN stop at the first file found, CONTSCAN
 * and MULTISCAN go on; "PATH: OK" ends a command in which nothing was
 * found and not everything failed.
 */
#include "agent/clamd_int.h"
#include "agent/scanpool.h"
#include "util/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The worker's own credentials, to come back to (set once by
 * clamd_path_init before any connection thread runs; read-only after). */
static struct {
	uid_t uid;
	gid_t gid;
	gid_t groups[CLAMD_MAX_GROUPS];
	int ngroups;
} own;

int
clamd_path_init(void)
{
	own.uid = geteuid();
	own.gid = getegid();
	own.ngroups = getgroups(CLAMD_MAX_GROUPS, own.groups);
	return own.ngroups < 0 ? -1 : 0;
}

/* This thread only, from now: the peer's filesystem credentials.  0, or
 * -1 (the worker's are restored). */
static int
creds_enter(const struct clamd_peer *p)
{
	if (syscall(SYS_setgroups, (size_t)p->ngroups, p->groups) != 0)
		return -1;
	(void)setfsgid(p->gid);
	(void)setfsuid(p->uid);
	/* Each returns the previous value: asking again reads what holds. */
	if ((gid_t)setfsgid((gid_t)-1) != p->gid || (uid_t)setfsuid((uid_t)-1) != p->uid)
		return -1;
	return 0;
}

static void
creds_leave(void)
{
	(void)setfsuid(own.uid);
	(void)setfsgid(own.gid);
	(void)syscall(SYS_setgroups, (size_t)own.ngroups, own.groups);
}

/* openat as the peer (flags as given, O_CLOEXEC added); -1 with errno
 * on failure. */
static int
open_as(const struct clamd_peer *p, int dirfd, const char *name, int flags)
{
	int fd, e;

	if (creds_enter(p) != 0) {
		creds_leave();
		errno = EPERM;
		return -1;
	}
	fd = openat(dirfd, name, flags | O_CLOEXEC);
	e = errno;
	creds_leave();
	errno = e;
	return fd;
}

/*
 * Looks name up in dirfd as the peer (O_PATH, the last component not
 * followed) without following any magic link on the way: procfs lets a
 * process's own threads through /proc/self/fd/N, /proc/self/cwd and
 * /proc/self/root whatever their fsuid, so a client could reach, by
 * another client's directory the worker holds open, files below
 * directories it may not enter.  Needs openat2 (Linux 5.6): without it
 * the path is refused (EOPNOTSUPP), not opened the old way.
 */
static int
lookup_as(const struct clamd_peer *p, int dirfd, const char *name)
{
	struct open_how how;
	int fd, e;

	memset(&how, 0, sizeof(how));
	how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	if (creds_enter(p) != 0) {
		creds_leave();
		errno = EPERM;
		return -1;
	}
	fd = (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	e = errno == ENOSYS ? EOPNOTSUPP : errno;
	creds_leave();
	errno = e;
	return fd;
}

/*
 * Opens name in dirfd for reading as the peer, only if it is a regular
 * file or a directory: first O_PATH (no device's open routine runs: a
 * walk through /dev must not arm a watchdog or rewind a tape), then, by
 * that descriptor, for reading (the read permission checked then, as the
 * peer).  0 with *fd and *st; 0 with *fd -1 for another type (st set);
 * -1 with errno (ELOOP for a symbolic link).
 */
static int
open_entry(const struct clamd_peer *p, int dirfd, const char *name, int *fd, struct stat *st)
{
	char self[64];
	struct stat again;
	int pfd = lookup_as(p, dirfd, name), e = 0;

	*fd = -1;
	memset(st, 0, sizeof(*st));
	if (pfd < 0)
		return -1;
	if (fstat(pfd, st) != 0) {
		e = errno;
	} else if (S_ISLNK(st->st_mode)) {
		e = ELOOP;
	} else if (S_ISDIR(st->st_mode)) {
		*fd = open_as(p, pfd, ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
		e = errno;
	} else if (S_ISREG(st->st_mode)) {
		/* The magic link is this very file, not a name to resolve. */
		snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
		*fd = open_as(p, AT_FDCWD, self, O_RDONLY | O_NONBLOCK | O_NOCTTY);
		e = errno;
	}
	close(pfd);
	if (*fd >= 0 &&
	    (fstat(*fd, &again) != 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino)) {
		close(*fd);
		*fd = -1;
		e = EIO;
	} else if (*fd < 0 && (S_ISDIR(st->st_mode) || S_ISREG(st->st_mode))) {
		e = e != 0 ? e : EIO;
	} else if (*fd >= 0 || e == 0) {
		return 0;
	}
	errno = e;
	return -1;
}

struct walk {
	struct clamd_conn *c;
	const struct clamd_peer *peer;
	enum clamdproto_cmd cmd;
	unsigned total, errors, found;
	int stop; /* SCAN, ALLMATCHSCAN: the first file found ends it */
	/* CONTSCAN, MULTISCAN: files held for one batch to a scanner (many
	 * small files cost one wake-up each otherwise). */
	struct {
		int fd;
		struct stat st;
		char *path;
		size_t len;
	} held[SCANPOOL_BATCH];
	unsigned nheld;
	char path[PATH_MAX + 1];
};

/* Scans and answers the files held, in the order they were found. */
static void
flush_held(struct walk *w)
{
	struct clamd_file f[SCANPOOL_BATCH];
	unsigned i, n = w->nheld;

	for (i = 0; i < n; i++)
		f[i] = (struct clamd_file){.fd = w->held[i].fd,
					   .st = &w->held[i].st,
					   .name = w->held[i].path,
					   .namelen = w->held[i].len,
					   .result = -1};
	/* Nobody is left to answer: not scanned. */
	if (n > 0 && !clamd_conn_broken(w->c))
		clamd_scan_files(w->c, f, n, 0);
	for (i = 0; i < n; i++) {
		if (f[i].result < 0)
			w->errors++;
		else if (f[i].result > 0)
			w->found++;
		close(w->held[i].fd);
		ward_free(w->held[i].path);
	}
	w->nheld = 0;
}

/* "PATH: File path check failure: <why>. ERROR", as clamd answers a path
 * it cannot stat. */
static void
reply_errno(struct walk *w, const char *path, size_t len, int e)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "File path check failure: %s.", strerror(e));
	clamd_reply(w->c, path, len, msg, "ERROR");
}

static void walk_dir(struct walk *w, int dfd, size_t len, unsigned depth);

/* The entry open at fd (-1: not a file or directory), st its fstat,
 * named w->path[0..len). */
static void
visit(struct walk *w, int fd, const struct stat *st, size_t len, unsigned depth, int top)
{
	int r;

	if (S_ISDIR(st->st_mode)) {
		if (top)
			w->total++; /* clamd counts the top directory as one answer */
		if (clamd_fs_refused(fd)) {
			/* /proc, /sys, a FUSE mount met on the way: skipped (clamd
			 * skips /proc); named when it is what was asked for. */
			if (top) {
				w->errors++;
				clamd_reply(w->c, w->path, len, CLAMD_FS_REFUSED, "ERROR");
			}
			close(fd);
			return;
		}
		if (depth < CLAMD_MAX_DEPTH)
			walk_dir(w, fd, len, depth + 1); /* takes fd */
		else
			close(fd);
		return;
	}
	w->total++;
	if (fd < 0) {
		/* Devices, FIFOs, sockets: only the path given is answered. */
		if (top)
			clamd_reply(w->c, w->path, len, "Not supported file type", "ERROR");
		return;
	}
	if (clamd_fs_refused(fd)) {
		clamd_reply(w->c, w->path, len, CLAMD_FS_REFUSED, "ERROR");
		w->errors++;
		close(fd);
		return;
	}
	if (w->cmd == CLAMDPROTO_CONTSCAN || w->cmd == CLAMDPROTO_MULTISCAN) {
		char *copy = ward_malloc(len + 1);

		if (copy == NULL) {
			clamd_reply(w->c, w->path, len, "Can't allocate memory", "ERROR");
			w->errors++;
			close(fd);
			return;
		}
		memcpy(copy, w->path, len + 1);
		w->held[w->nheld].fd = fd;
		w->held[w->nheld].st = *st;
		w->held[w->nheld].path = copy;
		w->held[w->nheld].len = len;
		if (++w->nheld == SCANPOOL_BATCH)
			flush_held(w);
		return;
	}
	r = clamd_scan_fd(w->c, fd, st, w->path, len, w->cmd == CLAMDPROTO_ALLMATCHSCAN);
	close(fd);
	if (r < 0)
		w->errors++;
	else if (r > 0) {
		w->found++;
		if (w->stop)
			w->stop = 2;
	}
}

/* Walks the directory open at dfd (taken), named w->path[0..len). */
static void
walk_dir(struct walk *w, int dfd, size_t len, unsigned depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;

	if (d == NULL) {
		close(dfd);
		return;
	}
	while (w->stop < 2 && !clamd_conn_broken(w->c) && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		struct stat st;
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (len + 1 + n > PATH_MAX) {
			w->total++;
			w->errors++;
			continue;
		}
		w->path[len] = '/';
		memcpy(w->path + len + 1, e->d_name, n + 1);
		if (open_entry(w->peer, dirfd(d), e->d_name, &fd, &st) != 0) {
			/* Symbolic links are not followed, as clamd's default. */
			if (errno != ELOOP) {
				w->total++;
				w->errors++;
				if (errno == EACCES || errno == EPERM)
					clamd_reply(w->c, w->path, len + 1 + n, "Access denied.",
						    "ERROR");
				else
					reply_errno(w, w->path, len + 1 + n, errno);
			}
			continue;
		}
		visit(w, fd, &st, len + 1 + n, depth, 0);
	}
	w->path[len] = '\0';
	closedir(d);
}

void
clamd_path_command(struct clamd_conn *c, enum clamdproto_cmd cmd, const uint8_t *path, size_t len)
{
	struct walk *w = ward_malloc(sizeof(*w));
	struct stat st;
	int fd;

	if (w == NULL) {
		clamd_reply(c, NULL, 0, "Can't allocate memory", "ERROR");
		return;
	}
	memset(w, 0, sizeof(*w));
	w->c = c;
	w->peer = clamd_conn_peer(c);
	w->cmd = cmd;
	w->stop = cmd == CLAMDPROTO_SCAN || cmd == CLAMDPROTO_ALLMATCHSCAN;
	if (!w->peer->paths_ok) {
		clamd_reply(c, NULL, 0, NULL, "COMMAND UNAVAILABLE");
		goto out;
	}
	if (len > PATH_MAX || len == 0 || path[0] != '/') {
		/* The worker's directory is no client's: only absolute paths. */
		reply_errno(w, (const char *)path, len, len > PATH_MAX ? ENAMETOOLONG : ENOENT);
		goto out;
	}
	memcpy(w->path, path, len);
	w->path[len] = '\0';
	/* clamd answers the path as given, less trailing slashes. */
	while (len > 1 && w->path[len - 1] == '/')
		w->path[--len] = '\0';
	if (open_entry(w->peer, AT_FDCWD, w->path, &fd, &st) != 0) {
		if (errno == EACCES || errno == EPERM)
			clamd_reply(c, w->path, len, "Access denied.", "ERROR");
		else
			reply_errno(w, w->path, len, errno);
		goto out;
	}
	visit(w, fd, &st, len, 0, 1);
	flush_held(w);
	if (w->found == 0 && w->errors != w->total)
		clamd_reply(c, w->path, len, NULL, "OK");
out:
	ward_free(w);
}

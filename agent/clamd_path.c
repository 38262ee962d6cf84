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
 *   - O_NOFOLLOW on every open, O_NONBLOCK (a FIFO never blocks), each
 *     directory entry opened by its directory's descriptor, and the
 *     descriptor (never the name again) is what is examined and scanned;
 *   - at most CLAMD_MAX_DEPTH levels, paths of at most PATH_MAX bytes.
 *
 * Answers follow clamd 1.4 (clamd/scanner.c scan_callback, session.c
 * command): SCAN and ALLMATCHSCAN stop at the first file found, CONTSCAN
 * and MULTISCAN go on; "PATH: OK" ends a command in which nothing was
 * found and not everything failed.
 */
#include "agent/clamd_int.h"
#include "util/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* openat as the peer; -1 with errno on failure. */
static int
open_as(const struct clamd_peer *p, int dirfd, const char *name, int flags)
{
	int fd, e;

	if (creds_enter(p) != 0) {
		creds_leave();
		errno = EPERM;
		return -1;
	}
	fd = openat(dirfd, name, flags | O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	e = errno;
	creds_leave();
	errno = e;
	return fd;
}

struct walk {
	struct clamd_conn *c;
	const struct clamd_peer *peer;
	enum clamdproto_cmd cmd;
	unsigned total, errors, found;
	int stop; /* SCAN, ALLMATCHSCAN: the first file found ends it */
	char path[PATH_MAX + 1];
};

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

/* The entry open at fd, named w->path[0..len). */
static void
visit(struct walk *w, int fd, size_t len, unsigned depth, int top)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) != 0) {
		w->total++;
		w->errors++;
		reply_errno(w, w->path, len, errno);
		close(fd);
		return;
	}
	if (S_ISDIR(st.st_mode)) {
		if (top)
			w->total++; /* clamd counts the top directory as one answer */
		if (depth < CLAMD_MAX_DEPTH)
			walk_dir(w, fd, len, depth + 1); /* takes fd */
		else
			close(fd);
		return;
	}
	w->total++;
	if (!S_ISREG(st.st_mode)) {
		/* Devices, FIFOs, sockets: only the path given is answered. */
		if (top)
			clamd_reply(w->c, w->path, len, "Not supported file type", "ERROR");
		close(fd);
		return;
	}
	r = clamd_scan_fd(w->c, fd, &st, w->path, len, w->cmd == CLAMDPROTO_ALLMATCHSCAN);
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
	while (w->stop < 2 && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
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
		fd = open_as(w->peer, dirfd(d), e->d_name, 0);
		if (fd < 0) {
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
		visit(w, fd, len + 1 + n, depth, 0);
	}
	w->path[len] = '\0';
	closedir(d);
}

void
clamd_path_command(struct clamd_conn *c, enum clamdproto_cmd cmd, const uint8_t *path, size_t len)
{
	struct walk *w = ward_malloc(sizeof(*w));
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
	fd = open_as(w->peer, AT_FDCWD, w->path, 0);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			clamd_reply(c, w->path, len, "Access denied.", "ERROR");
		else
			reply_errno(w, w->path, len, errno);
		goto out;
	}
	visit(w, fd, len, 0, 1);
	if (w->found == 0 && w->errors != w->total)
		clamd_reply(c, w->path, len, NULL, "OK");
out:
	ward_free(w);
}

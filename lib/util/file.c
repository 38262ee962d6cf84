/*
 * file: bounded whole-file reads, atomic replacement, private directories.
 * See file.h.
 *
 * Must hold: a temporary file is one this call created (O_EXCL) under a
 * name it drew at random, never a name found in place, so a file or a
 * symbolic link planted under a name we might use is never opened, written
 * or removed; the new content is on disk (fsync) before the rename makes it
 * visible, and the rename is on disk (fsync of the directory) before
 * file_replace returns; on failure only the temporary file this call made
 * is removed, by its name in the directory descriptor; a read never
 * allocates more than the bound.
 */
#include "util/file.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX_LEN 21 /* ".tmp." and 16 hex digits */

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

/* Creates a new file for name in dfd under a random name, put in tmp.
 * Returns its descriptor, or -1 with errno set. */
static int
tmp_create(int dfd, const char *name, mode_t mode, char tmp[NAME_MAX + 1])
{
	size_t keep = strlen(name);
	uint64_t rnd;
	ssize_t k;
	int i, fd = -1;

	if (keep > NAME_MAX - TMP_SUFFIX_LEN)
		keep = NAME_MAX - TMP_SUFFIX_LEN;
	errno = EEXIST;
	for (i = 0; i < WARD_MAX_TMP_TRIES && fd < 0 && errno == EEXIST; i++) {
		do
			k = getrandom(&rnd, sizeof(rnd), 0);
		while (k < 0 && errno == EINTR);
		if (k != (ssize_t)sizeof(rnd)) {
			if (k >= 0)
				errno = EIO;
			return -1;
		}
		snprintf(tmp, NAME_MAX + 1, "%.*s.tmp.%016llx", (int)keep, name,
			 (unsigned long long)rnd);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	}
	return fd;
}

/* Puts tmp in name's place: rename(2), or with FILE_NOREPLACE a rename
 * that fails if name exists.  0, or -1 with errno set. */
static int
install(int dfd, const char *tmp, const char *name, int flags)
{
	if (!(flags & FILE_NOREPLACE))
		return renameat(dfd, tmp, dfd, name);
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -1;
	/* A file system without RENAME_NOREPLACE: link(2) never replaces either. */
	if (linkat(dfd, tmp, dfd, name, 0) != 0)
		return -1;
	(void)unlinkat(dfd, tmp, 0);
	return 0;
}

/* file_replace_at; shown is the name diagnostics give. */
static int
replace_at(int dfd, const char *name, const char *shown, const void *p, size_t n, mode_t mode,
	   int flags, struct ward_diag *d)
{
	char tmp[NAME_MAX + 1];
	int fd = -1, r = 0, made = 0;

	if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || strlen(name) > NAME_MAX)
		return diag_set(d, WARD_EINVAL, shown, 0, 0, "not a file name");
	fd = tmp_create(dfd, name, mode, tmp);
	if (fd < 0) {
		r = diag_set(d, WARD_EIO, shown, 0, 0, "cannot create a temporary file: %s",
			     strerror(errno));
		goto out;
	}
	made = 1;
	if (file_write_all(fd, p, n) != 0 || fsync(fd) != 0) {
		r = diag_set(d, WARD_EIO, shown, 0, 0, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = diag_set(d, WARD_EIO, shown, 0, 0, "cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (install(dfd, tmp, name, flags) != 0) {
		if (errno == EEXIST && (flags & FILE_NOREPLACE))
			r = diag_set(d, WARD_EDUPLICATE, shown, 0, 0,
				     "exists already: not replaced");
		else
			r = diag_set(d, WARD_EIO, shown, 0, 0, "cannot rename %s: %s", tmp,
				     strerror(errno));
		goto out;
	}
	made = 0;
	if (fsync(dfd) != 0)
		r = diag_set(d, WARD_EIO, shown, 0, 0, "cannot sync the directory: %s",
			     strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlinkat(dfd, tmp, 0);
	return r;
}

int
file_replace_at(int dfd, const char *name, const void *p, size_t n, mode_t mode, int flags,
		struct ward_diag *d)
{
	return replace_at(dfd, name, name, p, n, mode, flags, d);
}

int
file_replace(const char *path, const void *p, size_t n, mode_t mode, struct ward_diag *d)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int dfd, r;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return diag_set(d, WARD_EINVAL, path, 0, 0, "path too long");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return diag_set(d, WARD_EIO, path, 0, 0, "cannot open its directory: %s",
				strerror(errno));
	r = replace_at(dfd, slash != NULL ? slash + 1 : path, path, p, n, mode, 0, d);
	close(dfd);
	return r;
}

/* The name of uid, or its number. */
static void
user_name(uid_t uid, char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[1024];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
		snprintf(out, outlen, "%s", pw.pw_name);
	else
		snprintf(out, outlen, "%u", (unsigned)uid);
}

static int
writable_by_others(const struct stat *st)
{
	return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* The directory itself: owner's, and no one else may write in it. */
static int
refuse_dir(const char *path, const struct stat *st, uid_t owner, struct ward_diag *d)
{
	char who[64], want[64];

	user_name(st->st_uid, who, sizeof(who));
	user_name(owner, want, sizeof(want));
	return diag_set(
	    d, WARD_EINVAL, path, 0, 0,
	    "refusing this directory: it is owned by %s (uid %u) with mode %04o, and it "
	    "must be owned by %s and writable by no one else; fix it with: chown %s "
	    "'%.120s' && chmod go-w '%.120s'",
	    who, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), want, want, path, path);
}

/* A directory above it: whoever can write there can rename it away and put
 * one of theirs in its place. */
static int
refuse_above(const char *path, const char *above, const struct stat *st, uid_t owner,
	     struct ward_diag *d)
{
	char who[64], want[64];

	user_name(st->st_uid, who, sizeof(who));
	user_name(owner, want, sizeof(want));
	return diag_set(d, WARD_EINVAL, path, 0, 0,
			"refusing this directory: %.120s above it is owned by %s (uid %u) with "
			"mode %04o, so others could replace it; directories above must be owned by "
			"root or %s and not writable by group or others (unless sticky, as /tmp); "
			"fix it with: chown root '%.120s' && chmod go-w '%.120s'",
			above, who, (unsigned)st->st_uid, (unsigned)(st->st_mode & 07777), want,
			above, above);
}

/* Checks the directory fd (named path) and those above it, walking up by
 * ".." from the descriptor (not by name, which could change under us). */
static int
dir_check(int fd, const char *path, uid_t owner, struct ward_diag *d)
{
	struct stat st, up;
	char above[PATH_MAX], *slash;
	int cur = fd, parent = -1, depth, r = 0, top = 0;

	if (fstat(fd, &st) != 0)
		return diag_set(d, WARD_EIO, path, 0, 0, "%s", strerror(errno));
	if (st.st_uid != owner || writable_by_others(&st))
		return refuse_dir(path, &st, owner, d);
	if (realpath(path, above) == NULL) /* only for messages */
		snprintf(above, sizeof(above), "%s", path);
	for (depth = 0; depth < WARD_MAX_DIR_DEPTH && !top && r == 0; depth++) {
		parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (parent < 0 || fstat(parent, &up) != 0) {
			r = diag_set(d, WARD_EIO, path, 0, 0,
				     "cannot check the directories above it: %s", strerror(errno));
			break;
		}
		if (up.st_dev == st.st_dev && up.st_ino == st.st_ino) {
			top = 1; /* the root: its ".." is itself */
			break;
		}
		slash = strrchr(above, '/');
		if (slash == above)
			above[1] = '\0';
		else if (slash != NULL)
			*slash = '\0';
		if ((up.st_uid != 0 && up.st_uid != owner) ||
		    (writable_by_others(&up) && !(up.st_mode & S_ISVTX)))
			r = refuse_above(path, above, &up, owner, d);
		if (cur != fd)
			close(cur);
		cur = parent;
		parent = -1;
		st = up;
	}
	if (r == 0 && !top)
		r = diag_set(d, WARD_EINVAL, path, 0, 0, "more than %d directories deep",
			     WARD_MAX_DIR_DEPTH);
	if (parent >= 0)
		close(parent);
	if (cur != fd)
		close(cur);
	return r;
}

/*
 * The path as written, before it is followed: a symbolic link on it must be
 * root's or owner's and sit in a directory no one else can change, or
 * whoever could change it would choose where the path leads (the walk up
 * in dir_check sees only where it led this time).  Checked from the root
 * down, so each link's directory is trusted before the link is.
 */
static int
path_check(const char *path, uid_t owner, struct ward_diag *d)
{
	char prefix[PATH_MAX], who[64], *slash;
	struct stat st, up;
	size_t i, n = strlen(path);

	if (n >= sizeof(prefix))
		return diag_set(d, WARD_EINVAL, path, 0, 0, "path too long");
	for (i = 1; i <= n; i++) {
		if ((i < n && path[i] != '/') || path[i - 1] == '/')
			continue; /* not the end of a component */
		memcpy(prefix, path, i);
		prefix[i] = '\0';
		if (lstat(prefix, &st) != 0)
			return 0; /* missing: mkdir or open will say so */
		if (!S_ISLNK(st.st_mode))
			continue;
		if (st.st_uid != 0 && st.st_uid != owner) {
			user_name(st.st_uid, who, sizeof(who));
			return diag_set(d, WARD_EINVAL, path, 0, 0,
					"refusing this directory: %.200s on its path is a symbolic "
					"link owned by %s (uid %u), who could point it elsewhere",
					prefix, who, (unsigned)st.st_uid);
		}
		slash = strrchr(prefix, '/'); /* the link's directory */
		if (slash == NULL)
			snprintf(prefix, sizeof(prefix), ".");
		else if (slash == prefix)
			prefix[1] = '\0';
		else
			*slash = '\0';
		if (stat(prefix, &up) == 0 &&
		    ((up.st_uid != 0 && up.st_uid != owner) ||
		     (writable_by_others(&up) && !(up.st_mode & S_ISVTX))))
			return refuse_above(path, prefix, &up, owner, d);
	}
	return 0;
}

int
file_dir_open(const char *path, int create, uid_t owner, int *dfd, struct ward_diag *d)
{
	int fd, r;

	*dfd = -1;
	if ((r = path_check(path, owner, d)) != 0)
		return r;
	if (create && mkdir(path, 0700) != 0 && errno != EEXIST)
		return diag_set(d, WARD_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return diag_set(d, WARD_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
	if ((r = dir_check(fd, path, owner, d)) != 0) {
		close(fd);
		return r;
	}
	*dfd = fd;
	return 0;
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

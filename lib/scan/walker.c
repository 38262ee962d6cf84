/*
 * walker: an iterative depth-first walk with openat/fstatat, for
 * `ward scan`.  See walker.h for what is visited and in which order.
 *
 * Must hold:
 *   - no recursion: the walk keeps an explicit stack of frames, one per
 *     directory on the current path, so a 100 000-level tree is only memory;
 *   - a frame reads all of its directory's names when it is pushed (then the
 *     directory stream is closed), so at most one directory is being read;
 *   - descriptors: frame d keeps its fd if d % WK_FD_SPAN == 0 (checkpoint)
 *     or if d is within WK_FD_SPAN of the top; a frame whose fd was closed
 *     is reopened from the nearest open ancestor with openat, name by name,
 *     and must have the (dev, ino) it had: a directory renamed or replaced
 *     meanwhile is reported and abandoned, never walked by mistake;
 *   - every directory is entered at most once (set of (dev, ino)), which
 *     ends every cycle; links are never followed with O_NOFOLLOW missing
 *     unless the entry was a symlink we chose to follow;
 *   - a callback's failure or cancel stops the walk; everything else is
 *     reported and the walk goes on.
 */
#include "scan/walker.h"
#include "util/alloc.h"
#include "util/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

/* Spacing of the ancestors that keep their fd, and length of the open tail. */
#define WK_FD_SPAN 32

struct wk_key {
	uint64_t dev, ino;
};

/* An open-addressing set of (dev, ino); cap is a power of two or 0. */
struct wk_set {
	struct wk_key *keys;
	uint8_t *used;
	size_t n, cap;
};

struct wk_frame {
	int fd; /* -1 while closed to bound descriptors */
	dev_t dev;
	ino_t ino;
	int via_symlink;  /* reached through a followed link: reopen following it */
	const char *name; /* in the parent frame's pool; NULL for a PATH */
	size_t path_len;  /* of this directory's path */
	char *pool;	  /* the names, NUL-terminated, back to back */
	size_t pool_len, pool_cap;
	size_t *offs; /* offsets of the names in pool, sorted by name */
	size_t n, next, offs_cap;
};

struct wk {
	const struct walker_opts *o;
	struct wk_frame *fr; /* the stack; frames past depth keep their buffers */
	size_t depth, cap;   /* frames in use, frames allocated */
	char *path;
	size_t path_len, path_cap;
	struct wk_set dirs, files;
	int have_fsroot;
	struct stat fsroot; /* of "/" */
	struct walker_stats stats;
};

const char *
walker_skip_reason(enum walker_skip why)
{
	switch (why) {
	case WALKER_SKIP_SPECIAL:
		return "special file";
	case WALKER_SKIP_SYMLINK:
		return "symbolic link not followed";
	case WALKER_SKIP_DANGLING:
		return "dangling symbolic link";
	case WALKER_SKIP_VIRTUAL:
		return "virtual filesystem";
	case WALKER_SKIP_EXCLUDED:
		return "excluded";
	case WALKER_SKIP_LOOP:
		return "directory loop";
	case WALKER_SKIP_DUPLICATE:
		return "already visited";
	case WALKER_SKIP_NOT_RECURSIVE:
		return "subdirectory not walked";
	}
	return "skipped";
}

/* ---- (dev, ino) set ---- */

static size_t
wk_hash(uint64_t dev, uint64_t ino)
{
	uint64_t x = ino * 0x9e3779b97f4a7c15ull ^ dev;

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 29;
	return (size_t)x;
}

static int
wk_set_has(const struct wk_set *s, dev_t dev, ino_t ino)
{
	size_t i;

	if (s->cap == 0)
		return 0;
	for (i = wk_hash(dev, ino) & (s->cap - 1); s->used[i]; i = (i + 1) & (s->cap - 1))
		if (s->keys[i].dev == (uint64_t)dev && s->keys[i].ino == (uint64_t)ino)
			return 1;
	return 0;
}

static void
wk_set_put(struct wk_set *s, uint64_t dev, uint64_t ino)
{
	size_t i = wk_hash(dev, ino) & (s->cap - 1);

	while (s->used[i])
		i = (i + 1) & (s->cap - 1);
	s->used[i] = 1;
	s->keys[i].dev = dev;
	s->keys[i].ino = ino;
	s->n++;
}

/* Adds (dev, ino), which must not be in s.  Returns 0 or WARD_ENOMEM. */
static int
wk_set_add(struct wk_set *s, dev_t dev, ino_t ino)
{
	struct wk_set t = {NULL, NULL, 0, 0};
	size_t i;
	int r = 0;

	if ((s->n + 1) * 2 > s->cap) {
		t.cap = s->cap == 0 ? 64 : s->cap * 2;
		if (t.cap < s->cap || (t.keys = ward_calloc(t.cap, sizeof(*t.keys))) == NULL ||
		    (t.used = ward_calloc(t.cap, 1)) == NULL) {
			ward_free(t.keys);
			r = WARD_ENOMEM;
			goto out;
		}
		for (i = 0; i < s->cap; i++)
			if (s->used[i])
				wk_set_put(&t, s->keys[i].dev, s->keys[i].ino);
		ward_free(s->keys);
		ward_free(s->used);
		*s = t;
	}
	wk_set_put(s, (uint64_t)dev, (uint64_t)ino);
out:
	return r;
}

static void
wk_set_free(struct wk_set *s)
{
	ward_free(s->keys);
	ward_free(s->used);
	memset(s, 0, sizeof(*s));
}

/* ---- reporting ---- */

/* The entry at w->path, at depth w->depth (0: a PATH), is skipped. */
static void
wk_skip(struct wk *w, enum walker_skip why)
{
	w->stats.skipped++;
	if (w->o->skip != NULL)
		w->o->skip(w->o->ctx, w->path, why, (unsigned)w->depth);
}

/* The entry at w->path, at that depth, cannot be examined. */
static void
wk_error_at(struct wk *w, size_t depth, const char *what, int errnum)
{
	w->stats.errors++;
	if (w->o->error != NULL)
		w->o->error(w->o->ctx, w->path, what, errnum, (unsigned)depth);
}

static void
wk_error(struct wk *w, const char *what, int errnum)
{
	wk_error_at(w, w->depth, what, errnum);
}

/* ---- path buffer ---- */

/* Sets the path to the first len bytes of p.  Returns 0 or WARD_ENOMEM. */
static int
wk_path_set(struct wk *w, const char *p, size_t len)
{
	if (ward_grow(&w->path, &w->path_cap, len + 1, 1) != 0)
		return WARD_ENOMEM;
	memcpy(w->path, p, len);
	w->path[len] = '\0';
	w->path_len = len;
	return 0;
}

/* Truncates the path to base bytes and appends "/name". */
static int
wk_path_child(struct wk *w, size_t base, const char *name)
{
	size_t nl = strlen(name);
	int slash = base > 0 && w->path[base - 1] != '/';

	if (ward_grow(&w->path, &w->path_cap, base + (size_t)slash + nl + 1, 1) != 0)
		return WARD_ENOMEM;
	if (slash)
		w->path[base] = '/';
	memcpy(w->path + base + slash, name, nl + 1);
	w->path_len = base + (size_t)slash + nl;
	return 0;
}

static int
wk_excluded(const struct wk *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->o->nexcludes; i++)
		if (fnmatch(w->o->excludes[i], w->path, 0) == 0 ||
		    fnmatch(w->o->excludes[i], name, 0) == 0)
			return 1;
	return 0;
}

/* ---- virtual filesystems ---- */

static int
wk_virtual_magic(long type)
{
	static const unsigned long magic[] = {
	    PROC_SUPER_MAGIC,
	    SYSFS_MAGIC,
	    DEVPTS_SUPER_MAGIC,
	    CGROUP_SUPER_MAGIC,
	    CGROUP2_SUPER_MAGIC,
	    DEBUGFS_MAGIC,
	    TRACEFS_MAGIC,
	    SECURITYFS_MAGIC,
	    PSTOREFS_MAGIC,
	    BPF_FS_MAGIC,
	    0x62656570 /* configfs */,
	    0x65735543 /* fusectl */,
	    0x19800202 /* mqueue */,
	    HUGETLBFS_MAGIC,
	    BINFMTFS_MAGIC,
	    AUTOFS_SUPER_MAGIC,
	    SELINUX_MAGIC,
	    EFIVARFS_MAGIC,
	    NSFS_MAGIC,
	    SMACK_MAGIC,
	    0x67596969 /* rpc_pipefs */,
	};
	size_t i;

	for (i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)(unsigned int)type == magic[i])
			return 1;
	return 0;
}

static int
wk_special_top(const struct wk *w, const struct wk_frame *f, const char *name)
{
	return w->have_fsroot && f->dev == w->fsroot.st_dev && f->ino == w->fsroot.st_ino &&
	       (strcmp(name, "proc") == 0 || strcmp(name, "sys") == 0 || strcmp(name, "dev") == 0);
}

/* ---- frames ---- */

static int
wk_name_cmp(const void *a, const void *b, void *pool)
{
	return strcmp((const char *)pool + *(const size_t *)a,
		      (const char *)pool + *(const size_t *)b);
}

/* Reads every name of the directory open at f->fd into f (errors reported);
 * f is the top frame, so the directory's own depth is w->depth - 1. */
static int
wk_read_names(struct wk *w, struct wk_frame *f)
{
	struct dirent *de;
	DIR *d = NULL;
	int fd2, r = 0;

	f->pool_len = 0;
	f->n = 0;
	f->next = 0;
	if ((fd2 = fcntl(f->fd, F_DUPFD_CLOEXEC, 0)) < 0 || (d = fdopendir(fd2)) == NULL) {
		wk_error_at(w, w->depth - 1, "cannot read directory", errno);
		if (fd2 >= 0)
			close(fd2);
		goto out;
	}
	for (;;) {
		size_t nl;

		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				wk_error_at(w, w->depth - 1, "cannot read directory", errno);
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		nl = strlen(de->d_name);
		if (ward_grow(&f->pool, &f->pool_cap, f->pool_len + nl + 1, 1) != 0 ||
		    ward_grow(&f->offs, &f->offs_cap, f->n + 1, sizeof(*f->offs)) != 0) {
			r = WARD_ENOMEM;
			goto out;
		}
		memcpy(f->pool + f->pool_len, de->d_name, nl + 1);
		f->offs[f->n++] = f->pool_len;
		f->pool_len += nl + 1;
	}
	if (f->n > 1)
		qsort_r(f->offs, f->n, sizeof(*f->offs), wk_name_cmp, f->pool);
out:
	if (d != NULL)
		closedir(d);
	return r;
}

/*
 * Pushes a frame for the directory open at fd (taken over), whose path is
 * the current path.  Returns 0 or WARD_ENOMEM (fd is closed then).
 */
static int
wk_push(struct wk *w, int fd, const struct stat *st, const char *name, int via_symlink)
{
	struct wk_frame *f;
	size_t d = w->depth, j;
	int r;

	if (d == w->cap) {
		size_t ocap = w->cap;

		if ((r = ward_grow(&w->fr, &w->cap, d + 1, sizeof(*w->fr))) != 0) {
			close(fd);
			goto out;
		}
		memset(w->fr + ocap, 0, (w->cap - ocap) * sizeof(*w->fr));
	}
	f = &w->fr[d];
	f->fd = fd;
	f->dev = st->st_dev;
	f->ino = st->st_ino;
	f->via_symlink = via_symlink;
	f->name = name;
	f->path_len = w->path_len;
	w->depth++;
	w->stats.dirs++;
	if (d % WK_FD_SPAN == 0 && d > 0)
		for (j = d - 1; j > d - WK_FD_SPAN; j--)
			if (w->fr[j].fd >= 0) {
				close(w->fr[j].fd);
				w->fr[j].fd = -1;
			}
	r = wk_read_names(w, f);
out:
	return r;
}

static void
wk_pop(struct wk *w)
{
	struct wk_frame *f = &w->fr[--w->depth];

	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->n = 0;
	f->next = 0;
	f->pool_len = 0;
}

/*
 * Makes sure the top frame has its fd, reopening it and closed ancestors
 * from the nearest open one.  A frame that cannot be reopened as the same
 * directory is reported and popped with its descendants.  Returns 1 if the
 * top frame (maybe another one after pops) is ready, 0 if the stack shrank
 * and the caller should look again.
 */
static int
wk_ensure_fd(struct wk *w)
{
	size_t top = w->depth - 1, c, j;
	struct stat st;
	int fd;

	if (w->fr[top].fd >= 0)
		return 1;
	for (c = top; c > 0 && w->fr[c].fd < 0; c--)
		;
	for (j = c + 1; j <= top; j++) {
		struct wk_frame *f = &w->fr[j];
		int fl = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY;

		if (!f->via_symlink)
			fl |= O_NOFOLLOW;
		fd = openat(w->fr[j - 1].fd, f->name, fl);
		if (fd >= 0 &&
		    (fstat(fd, &st) != 0 || st.st_dev != f->dev || st.st_ino != f->ino)) {
			close(fd);
			fd = -1;
			errno = ESTALE;
		}
		if (fd < 0) {
			int e = errno;

			while (w->depth > j)
				wk_pop(w);
			w->path_len = f->path_len;
			w->path[w->path_len] = '\0';
			wk_error(w, "cannot reopen directory", e);
			return 0;
		}
		f->fd = fd;
	}
	return 1;
}

static int
wk_on_stack(const struct wk *w, dev_t dev, ino_t ino)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (w->fr[i].dev == dev && w->fr[i].ino == ino)
			return 1;
	return 0;
}

/* Reports a regular file once per (dev, ino) that is tracked. */
static int
wk_file(struct wk *w, int dirfd, const char *name, const struct stat *st, int track)
{
	struct walker_entry e;
	int r = 0;

	if (track) {
		if (wk_set_has(&w->files, st->st_dev, st->st_ino)) {
			wk_skip(w, WALKER_SKIP_DUPLICATE);
			goto out;
		}
		if ((r = wk_set_add(&w->files, st->st_dev, st->st_ino)) != 0)
			goto out;
	}
	e.path = w->path;
	e.path_len = w->path_len;
	e.dirfd = dirfd;
	e.name = name;
	e.st = st;
	e.depth = (unsigned)w->depth;
	w->stats.files++;
	r = w->o->file(w->o->ctx, &e);
	if (r > 0)
		r = 0;
out:
	return r;
}

/* Enters the directory name of the top frame (st from fstatat). */
static int
wk_enter(struct wk *w, const char *name, const struct stat *st, int via)
{
	struct wk_frame *f = &w->fr[w->depth - 1];
	int fl = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY;
	struct statfs sf;
	struct stat st2;
	int fd = -1, r = 0;

	if (wk_special_top(w, f, name)) {
		wk_skip(w, WALKER_SKIP_VIRTUAL);
		goto out;
	}
	if (w->o->no_recurse) {
		wk_skip(w, WALKER_SKIP_NOT_RECURSIVE);
		goto out;
	}
	if (wk_set_has(&w->dirs, st->st_dev, st->st_ino)) {
		wk_skip(w, wk_on_stack(w, st->st_dev, st->st_ino) ? WALKER_SKIP_LOOP
								  : WALKER_SKIP_DUPLICATE);
		goto out;
	}
	if (!via)
		fl |= O_NOFOLLOW;
	if ((fd = openat(f->fd, name, fl)) < 0) {
		wk_error(w, "cannot open directory", errno);
		goto out;
	}
	if (fstat(fd, &st2) != 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino) {
		wk_error(w, "directory changed while walking", ESTALE);
		goto out;
	}
	if (st2.st_dev != f->dev && fstatfs(fd, &sf) == 0 && wk_virtual_magic((long)sf.f_type)) {
		wk_skip(w, WALKER_SKIP_VIRTUAL);
		goto out;
	}
	if ((r = wk_set_add(&w->dirs, st->st_dev, st->st_ino)) != 0)
		goto out;
	r = wk_push(w, fd, st, name, via);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Visits the next entry of the top frame, whose fd is open. */
static int
wk_visit(struct wk *w)
{
	struct wk_frame *f = &w->fr[w->depth - 1];
	const char *name = f->pool + f->offs[f->next++];
	struct stat st;
	int r, via = 0;

	if ((r = wk_path_child(w, f->path_len, name)) != 0)
		goto out;
	if (wk_excluded(w, name)) {
		wk_skip(w, WALKER_SKIP_EXCLUDED);
		goto out;
	}
	if (fstatat(f->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		wk_error(w, "cannot stat", errno);
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!w->o->follow_symlinks) {
			wk_skip(w, WALKER_SKIP_SYMLINK);
			goto out;
		}
		if (fstatat(f->fd, name, &st, 0) != 0) {
			if (errno == ENOENT)
				wk_skip(w, WALKER_SKIP_DANGLING);
			else
				wk_error(w, "cannot follow symbolic link", errno);
			goto out;
		}
		via = 1;
	}
	if (S_ISREG(st.st_mode))
		r = wk_file(w, f->fd, name, &st, w->o->follow_symlinks || st.st_nlink > 1);
	else if (S_ISDIR(st.st_mode))
		r = wk_enter(w, name, &st, via);
	else
		wk_skip(w, WALKER_SKIP_SPECIAL);
out:
	return r;
}

static int
wk_cancelled(const struct wk *w)
{
	return w->o->cancel != NULL && *w->o->cancel != 0;
}

/* Walks the tree below the root frame until the stack is empty. */
static int
wk_loop(struct wk *w)
{
	int r = 0;

	while (w->depth > 0) {
		struct wk_frame *f = &w->fr[w->depth - 1];

		if (wk_cancelled(w)) {
			r = WARD_EINTR;
			break;
		}
		if (f->next == f->n) {
			wk_pop(w);
			continue;
		}
		if (!wk_ensure_fd(w))
			continue;
		if ((r = wk_visit(w)) != 0)
			break;
	}
	while (w->depth > 0)
		wk_pop(w);
	return r;
}

static int
wk_root(struct wk *w, const char *root)
{
	size_t len = strlen(root);
	const char *base;
	struct stat st;
	int fd = -1, r;

	while (len > 1 && root[len - 1] == '/')
		len--;
	if ((r = wk_path_set(w, root, len)) != 0)
		goto out;
	base = strrchr(w->path, '/');
	base = base != NULL && base[1] != '\0' ? base + 1 : w->path;
	if (wk_excluded(w, base)) {
		wk_skip(w, WALKER_SKIP_EXCLUDED);
		goto out;
	}
	if (stat(w->path, &st) != 0) {
		int e = errno;

		if (lstat(w->path, &st) == 0 && S_ISLNK(st.st_mode))
			wk_skip(w, WALKER_SKIP_DANGLING);
		else
			wk_error(w, "cannot stat", e);
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		r = wk_file(w, AT_FDCWD, w->path, &st, 1);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		wk_skip(w, WALKER_SKIP_SPECIAL);
		goto out;
	}
	if (wk_set_has(&w->dirs, st.st_dev, st.st_ino)) {
		wk_skip(w, WALKER_SKIP_DUPLICATE);
		goto out;
	}
	if ((fd = open(w->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY)) < 0) {
		wk_error(w, "cannot open directory", errno);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		wk_error(w, "cannot stat", errno);
		goto out;
	}
	if ((r = wk_set_add(&w->dirs, st.st_dev, st.st_ino)) != 0)
		goto out;
	r = wk_push(w, fd, &st, NULL, 1);
	fd = -1;
	if (r == 0)
		r = wk_loop(w);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int
walker_run(const struct walker_opts *o, const char *const *paths, size_t npaths,
	   struct walker_stats *stats)
{
	struct wk w;
	size_t i;
	int r = 0;

	memset(&w, 0, sizeof(w));
	w.o = o;
	if (o == NULL || o->file == NULL) {
		r = WARD_EINVAL;
		goto out;
	}
	w.have_fsroot = stat("/", &w.fsroot) == 0;
	for (i = 0; i < npaths; i++) {
		if (wk_cancelled(&w)) {
			r = WARD_EINTR;
			break;
		}
		if ((r = wk_root(&w, paths[i])) != 0)
			break;
	}
out:
	while (w.depth > 0)
		wk_pop(&w);
	for (i = 0; i < w.cap; i++) {
		ward_free(w.fr[i].pool);
		ward_free(w.fr[i].offs);
	}
	ward_free(w.fr);
	ward_free(w.path);
	wk_set_free(&w.dirs);
	wk_set_free(&w.files);
	if (stats != NULL)
		*stats = w.stats;
	return r;
}

int
walker_open(const struct walker_entry *e, int follow_symlinks)
{
	int flags = O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, fd;
	struct stat st;

	if (!follow_symlinks && e->depth > 0)
		flags |= O_NOFOLLOW;
	fd = openat(e->dirfd, e->name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM) /* O_NOATIME on another user's file */
		fd = openat(e->dirfd, e->name, flags);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || st.st_dev != e->st->st_dev || st.st_ino != e->st->st_ino) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

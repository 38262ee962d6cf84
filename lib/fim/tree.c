/*
 * tree: directories by descriptor and by file handle.  See tree.h.
 *
 * Must hold: a subdirectory is opened only relative to its parent's
 * descriptor, with O_NOFOLLOW | O_DIRECTORY, and read only through a
 * descriptor of that same directory (the one opened, or its identity
 * reopened); no path is opened again but a filesystem's noted path, whose
 * descriptor serves only to decode handles and is accepted only when it is
 * on the filesystem of the handle (fsid).
 */
#include "fim/tree.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

/* A filesystem met by a walk. */
struct fs {
	unsigned char fsid[8];
	char *path; /* where a directory of it was met */
	int fd;	    /* that directory, or -1 until needed */
	int lost;   /* path no longer leads there: replaced when met again */
};

/* A directory watched: open addressing, linear probing, a power of two
 * slots at most half full. */
struct dent {
	uint64_t h;
	struct fim_tree_id id; /* len 0: free */
	char *path;
};

struct fim_tree {
	struct fs *fs;
	size_t n, cap;
	struct fim_tree_id last; /* the directory of fim_tree_dir */
	int lastfd;		 /* -1: none */
	struct dent *map;
	size_t mapcap, mapn;
};

/* A directory waiting to be read. */
struct item {
	struct fim_tree_id id;
	char path[];
};

union handle {
	struct file_handle fh;
	char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
};

int
fim_tree_id_make(const void *fsid, const struct file_handle *fh, struct fim_tree_id *id)
{
	unsigned n = fh->handle_bytes;

	id->len = 0;
	if (n > MAX_HANDLE_SZ)
		return -1;
	memcpy(id->b, fsid, 8);
	memcpy(id->b + 8, &fh->handle_type, 4);
	memcpy(id->b + 12, &n, 4);
	memcpy(id->b + 16, fh->f_handle, n);
	id->len = 16 + n;
	return 0;
}

int
fim_tree_id_of(int fd, struct fim_tree_id *id)
{
	union handle u;
	struct statfs sf;
	int mnt, r = -1;

	id->len = 0;
	u.fh.handle_bytes = MAX_HANDLE_SZ;
	if (fstatfs(fd, &sf) != 0 || name_to_handle_at(fd, "", &u.fh, &mnt, AT_EMPTY_PATH) != 0)
		goto out;
	r = fim_tree_id_make(&sf.f_fsid, &u.fh, id);
out:
	return r;
}

int
fim_tree_new(struct fim_tree **t)
{
	*t = ward_calloc(1, sizeof(**t));
	if (*t != NULL)
		(*t)->lastfd = -1;
	return *t == NULL ? WARD_ENOMEM : 0;
}

void
fim_tree_reset(struct fim_tree *t)
{
	size_t i;

	fim_tree_idle(t);
	for (i = 0; i < t->n; i++)
		ward_free(t->fs[i].path);
	t->n = 0;
	for (i = 0; i < t->mapcap; i++)
		if (t->map[i].id.len != 0)
			ward_free(t->map[i].path);
	ward_free(t->map);
	t->map = NULL;
	t->mapcap = t->mapn = 0;
}

void
fim_tree_free(struct fim_tree *t)
{
	if (t == NULL)
		return;
	fim_tree_reset(t);
	ward_free(t->fs);
	ward_free(t);
}

void
fim_tree_idle(struct fim_tree *t)
{
	size_t i;

	if (t->lastfd >= 0)
		close(t->lastfd);
	t->lastfd = -1;
	for (i = 0; i < t->n; i++)
		if (t->fs[i].fd >= 0) {
			close(t->fs[i].fd);
			t->fs[i].fd = -1;
		}
}

static struct fs *
fs_find(struct fim_tree *t, const unsigned char *fsid)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (memcmp(t->fs[i].fsid, fsid, 8) == 0)
			return &t->fs[i];
	return NULL;
}

void
fim_tree_note(struct fim_tree *t, const struct fim_tree_id *id, const char *path, int fd)
{
	struct fs *f = fs_find(t, id->b);
	char *p;

	/* Keep the first path met: the top of the filesystem in the tree. */
	if (f != NULL && !f->lost) {
		if (f->fd < 0)
			f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		return;
	}
	if ((p = ward_strdup(path)) == NULL)
		return;
	if (f == NULL) {
		if (ward_grow(&t->fs, &t->cap, t->n + 1, sizeof(*t->fs)) != 0) {
			ward_free(p);
			return;
		}
		f = &t->fs[t->n++];
		memset(f, 0, sizeof(*f));
		memcpy(f->fsid, id->b, 8);
		f->fd = -1;
	}
	ward_free(f->path);
	f->path = p;
	f->lost = 0;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

/* The directory at path if it is on the filesystem fsid, or -1.  Another
 * filesystem would decode a handle as one of its own files. */
static int
open_on(const char *path, const unsigned char *fsid)
{
	struct statfs sf;
	int fd = path_open_dir(path, PATH_ROOT_LINKS);

	if (fd >= 0 && (fstatfs(fd, &sf) != 0 || memcmp(&sf.f_fsid, fsid, 8) != 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* A descriptor of the filesystem fsid (kept in t), or -1. */
static int
fs_fd(struct fim_tree *t, const unsigned char *fsid)
{
	struct fs *f = fs_find(t, fsid);
	char p[PATH_MAX], *slash;

	if (f == NULL || f->fd >= 0)
		goto out;
	/* The path, or if it was renamed or replaced, a directory above it
	 * that is still on the filesystem. */
	snprintf(p, sizeof(p), "%s", f->path);
	while ((f->fd = open_on(p, fsid)) < 0 && strcmp(p, "/") != 0 &&
	       (slash = strrchr(p, '/')) != NULL)
		slash[slash == p] = '\0';
	f->lost = f->fd < 0;
out:
	return f != NULL ? f->fd : -1;
}

int
fim_tree_open(struct fim_tree *t, const struct fim_tree_id *id)
{
	union handle u;
	int mfd, fd = -1;

	memcpy(&u.fh.handle_bytes, id->b + 12, 4);
	if (id->len < 16 || u.fh.handle_bytes > MAX_HANDLE_SZ) {
		errno = EINVAL;
		goto out;
	}
	if ((mfd = fs_fd(t, id->b)) < 0) {
		errno = ENODEV;
		goto out;
	}
	memcpy(&u.fh.handle_type, id->b + 8, 4);
	memcpy(u.fh.f_handle, id->b + 16, u.fh.handle_bytes);
	fd = open_by_handle_at(mfd, &u.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
out:
	return fd;
}

int
fim_tree_dir(struct fim_tree *t, const struct fim_tree_id *id)
{
	if (t->lastfd >= 0 && (t->last.len != id->len || memcmp(t->last.b, id->b, id->len) != 0)) {
		close(t->lastfd);
		t->lastfd = -1;
	}
	if (t->lastfd < 0 && (t->lastfd = fim_tree_open(t, id)) >= 0)
		t->last = *id;
	return t->lastfd;
}

static int
push(struct item ***stack, size_t *n, size_t *cap, const char *path, const struct fim_tree_id *id)
{
	size_t len = strlen(path);
	struct item *it;

	if (ward_grow(stack, cap, *n + 1, sizeof(**stack)) != 0 ||
	    (it = ward_malloc(sizeof(*it) + len + 1)) == NULL)
		return WARD_ENOMEM;
	it->id = *id;
	memcpy(it->path, path, len + 1);
	(*stack)[(*n)++] = it;
	return 0;
}

/* Reads the directory fd (taken) at path: its entries to ops->entry, its
 * subdirectories to ops->dir and, when it wants them read, the stack. */
static int
read_dir(struct fim_tree *t, int fd, const char *path, const struct fim_tree_id *id,
	 const struct fim_tree_ops *ops, void *arg, struct item ***stack, size_t *n, size_t *cap)
{
	char child[PATH_MAX];
	struct fim_tree_id cid;
	struct dirent *de;
	DIR *dir;
	int r = 0, cfd;

	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		goto out;
	}
	while (r == 0 && (de = readdir(dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") == 0 ? "" : path,
			     de->d_name) >= (int)sizeof(child))
			continue;
		if (!ops->entry(arg, dirfd(dir), child, de->d_name))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		/* The name may be anything by now: only a directory opens so. */
		cfd =
		    openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0)
			continue;
		if (fim_tree_id_of(cfd, &cid) != 0) {
			(void)ops->dir(arg, cfd, child, NULL);
		} else {
			/* A filesystem mounted here: remember how to reach it. */
			if (memcmp(cid.b, id->b, 8) != 0)
				fim_tree_note(t, &cid, child, cfd);
			if (ops->dir(arg, cfd, child, &cid))
				r = push(stack, n, cap, child, &cid);
		}
		close(cfd);
	}
	closedir(dir);
out:
	return r;
}

int
fim_tree_walk(struct fim_tree *t, int fd, const char *path, const struct fim_tree_ops *ops,
	      void *arg)
{
	struct item **stack = NULL;
	size_t n = 0, cap = 0;
	struct fim_tree_id id;
	int r = 0;

	if (fim_tree_id_of(fd, &id) != 0) {
		(void)ops->dir(arg, fd, path, NULL);
		close(fd);
		goto out;
	}
	fim_tree_note(t, &id, path, fd);
	if (!ops->dir(arg, fd, path, &id)) {
		close(fd);
		goto out;
	}
	r = read_dir(t, fd, path, &id, ops, arg, &stack, &n, &cap);
	while (r == 0 && n > 0) {
		struct item *it = stack[--n];

		/* Gone since it was found (ESTALE): nothing to read. */
		if ((fd = fim_tree_open(t, &it->id)) >= 0)
			r = read_dir(t, fd, it->path, &it->id, ops, arg, &stack, &n, &cap);
		ward_free(it);
	}
	while (n > 0)
		ward_free(stack[--n]);
	ward_free(stack);
out:
	return r;
}

/* --- the directories watched ---------------------------------------------- */

static uint64_t
hash_id(const struct fim_tree_id *id)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
	unsigned i;

	for (i = 0; i < id->len; i++)
		h = (h ^ id->b[i]) * 0x100000001b3ull;
	return h;
}

/* The slot of id: its entry, or the free slot where it would go. */
static struct dent *
map_find(struct fim_tree *t, const struct fim_tree_id *id, uint64_t h)
{
	size_t i;

	for (i = h & (t->mapcap - 1);; i = (i + 1) & (t->mapcap - 1)) {
		struct dent *e = &t->map[i];

		if (e->id.len == 0)
			return e;
		if (e->h == h && e->id.len == id->len && memcmp(e->id.b, id->b, id->len) == 0)
			return e;
	}
}

static struct dent *
map_get(struct fim_tree *t, const struct fim_tree_id *id)
{
	struct dent *e = t->mapcap != 0 && id->len != 0 ? map_find(t, id, hash_id(id)) : NULL;

	return e != NULL && e->id.len != 0 ? e : NULL;
}

/* Removes e, moving later entries of its probe run back into place. */
static void
map_del(struct fim_tree *t, struct dent *e)
{
	size_t i = (size_t)(e - t->map), j = i;

	ward_free(e->path);
	e->id.len = 0;
	t->mapn--;
	for (;;) {
		size_t want;

		j = (j + 1) & (t->mapcap - 1);
		if (t->map[j].id.len == 0)
			return;
		want = t->map[j].h & (t->mapcap - 1);
		/* Move j into the hole i unless its home lies in (i, j]. */
		if ((i <= j) ? (want <= i || want > j) : (want <= i && want > j)) {
			t->map[i] = t->map[j];
			t->map[j].id.len = 0;
			i = j;
		}
	}
}

int
fim_tree_put(struct fim_tree *t, const struct fim_tree_id *id, const char *path)
{
	uint64_t h = hash_id(id);
	struct dent *e;
	char *p;
	int r = WARD_ENOMEM;

	if ((t->mapn + 1) * 2 > t->mapcap) {
		struct dent *old = t->map;
		size_t oldcap = t->mapcap, i;
		struct dent *map = ward_calloc(oldcap ? oldcap * 2 : 1024, sizeof(*map));

		if (map == NULL)
			goto out;
		t->map = map;
		t->mapcap = oldcap ? oldcap * 2 : 1024;
		for (i = 0; i < oldcap; i++)
			if (old[i].id.len != 0)
				*map_find(t, &old[i].id, old[i].h) = old[i];
		ward_free(old);
	}
	if ((p = ward_strdup(path)) == NULL)
		goto out;
	e = map_find(t, id, h);
	r = e->id.len == 0;
	if (r) {
		e->h = h;
		e->id = *id;
		t->mapn++;
	} else {
		ward_free(e->path);
	}
	e->path = p;
out:
	return r;
}

const char *
fim_tree_path(struct fim_tree *t, const struct fim_tree_id *id)
{
	struct dent *e = map_get(t, id);

	return e != NULL ? e->path : NULL;
}

int
fim_tree_del(struct fim_tree *t, const struct fim_tree_id *id)
{
	struct dent *e = map_get(t, id);

	if (e != NULL)
		map_del(t, e);
	return e != NULL;
}

size_t
fim_tree_del_under(struct fim_tree *t, const char *path,
		   void (*fn)(void *arg, const struct fim_tree_id *id), void *arg)
{
	size_t n = strlen(path), i = 0, k = 0;

	while (i < t->mapcap) {
		struct dent *e = &t->map[i];

		if (e->id.len == 0 || strncmp(e->path, path, n) != 0 ||
		    (e->path[n] != '\0' && e->path[n] != '/')) {
			i++;
			continue;
		}
		if (fn != NULL)
			fn(arg, &e->id);
		map_del(t, e); /* may move a later entry into slot i: look again */
		k++;
	}
	return k;
}

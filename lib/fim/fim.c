/*
 * fim: baseline and check.  See fim.h.
 *
 * Must hold: the walk never follows a symbolic link — a policy path is
 * reached through root's own links at most (path_open_parent), each
 * directory below it is opened relative to its parent's descriptor with
 * O_NOFOLLOW | O_DIRECTORY — and a file is looked at and hashed only by
 * its name in the descriptor of the directory the walk found it in
 * (fim_file_at), never by its path again.  Run as root over trees where
 * users own directories, a user who swaps a directory for a link to one of
 * root's while the walk or the hashing goes on thus cannot make root
 * record, with owner, mode and hash, a file the user could not read.
 * A file that vanishes or cannot be read during the walk is counted as an
 * error, not a crash or a false difference of something else; hashing
 * threads run at nice 19 and idle I/O priority; descriptors stay bounded
 * (the directories the walk is in, and at most WARD_MAX_FIM_OPEN_DIRS
 * more kept for files queued for hashing); the baseline is replaced
 * atomically.
 */
#include "fim/fim.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FORMAT_LINE "ward-fim 1"
#define HASH_BUF (1 << 20)
/* Files handed from the walk to a hashing thread at a time: one lock and
 * one wake-up for many small files. */
#define JOB_BATCH 64

struct fent {
	char type; /* f d l o; 0: gone before it could be looked at */
	unsigned mode;
	unsigned long uid, gid;
	uint64_t size;
	int64_t mtime_ns;
	uint64_t ino;
	char *target;  /* symbolic links */
	char hash[65]; /* hex; "" if not a regular file or unreadable */
	char path[];
};

/* Entries by pointer: the walk adds while hashing threads fill them in. */
struct flist {
	struct fent **e;
	size_t n, cap;
};

/* A directory the walk opened: its descriptor serves the walk while it
 * reads it, and the hashing of each of its files queued. */
struct wdir {
	DIR *dir;      /* NULL for a policy path's parent, which is not read */
	int fd;	       /* dirfd(dir), or the parent's own */
	unsigned refs; /* the walk's, and one per file queued; under w->lock */
	int held;      /* the walk is done with it: kept for its files only */
};

struct job {
	struct fent *e;
	struct wdir *dir;
	const char *name; /* the file's name in dir: the end of e->path */
};

/* One walk and its hashing. */
struct walk {
	const struct fim_policy *p;
	struct flist *l;
	struct fim_stats *st;
	pthread_mutex_t lock;
	pthread_cond_t more; /* a job was queued, or the walk ended */
	pthread_cond_t room; /* a job was taken, or a held directory closed */
	struct job *q;	     /* ring of WARD_MAX_FIM_QUEUE */
	size_t head, count;
	unsigned held; /* directories kept only for their queued files */
	unsigned nthreads;
	struct job batch[JOB_BATCH]; /* files the walk found, not queued yet */
	size_t nbatch;
	int done; /* no more jobs will come */
	int err;  /* WARD_ENOMEM: the walk stopped */
	/* Without hashing threads the walk hashes each file itself. */
	struct digest_ctx *dc;
	uint8_t *buf;
	char path[PATH_MAX]; /* of what the walk is at */
};

static int
excluded(const struct fim_policy *p, const char *path)
{
	unsigned i;

	for (i = 0; i < p->nexcludes; i++)
		if (fnmatch(p->excludes[i], path, 0) == 0)
			return 1;
	return 0;
}

static void
count(struct walk *w, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&w->lock);
	*counter += n;
	pthread_mutex_unlock(&w->lock);
}

/* A new entry for w->path[0..len), added to the list (by the walk only). */
static struct fent *
fent_new(struct walk *w, size_t len)
{
	struct fent *e = NULL;

	if (ward_grow(&w->l->e, &w->l->cap, w->l->n + 1, sizeof(*w->l->e)) != 0 ||
	    (e = ward_calloc(1, sizeof(*e) + len + 1)) == NULL) {
		w->err = WARD_ENOMEM;
		goto out;
	}
	memcpy(e->path, w->path, len);
	e->path[len] = '\0';
	w->l->e[w->l->n++] = e;
out:
	return e;
}

/* e's attributes from st; a link's target read by name in dirfd. */
static void
fent_set(struct fent *e, const struct stat *st, int dirfd, const char *name)
{
	char target[PATH_MAX];
	ssize_t n;

	e->type = S_ISREG(st->st_mode)	 ? 'f'
		  : S_ISDIR(st->st_mode) ? 'd'
		  : S_ISLNK(st->st_mode) ? 'l'
					 : 'o';
	e->mode = (unsigned)(st->st_mode & 07777);
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->size = e->type == 'd' ? 0 : (uint64_t)st->st_size; /* dir sizes vary by fs */
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ino = (uint64_t)st->st_ino;
	if (e->type == 'l' && e->target == NULL) {
		n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		e->target = ward_strdup(target);
	}
}

/* --- hashing ------------------------------------------------------------- */

void
fim_lower_priority(void)
{
	/* nice 19 and the idle I/O class, for this thread only. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	(void)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, (int)syscall(SYS_gettid),
		      3 << 13 /* IOPRIO_CLASS_IDLE */);
}

int
fim_hash_fd(int fd, struct digest_ctx *dc, uint8_t *buf, size_t buflen, uint64_t max_size,
	    char *hex, size_t hexlen, uint64_t *hashed)
{
	uint8_t md[DIGEST_MAX_SIZE];
	struct stat st;
	ssize_t k;
	int r = -1;

	if (max_size > 0 &&
	    (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max_size))
		goto out;
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	(void)digest_reset(dc);
	while ((k = read(fd, buf, buflen)) > 0) {
		(void)digest_update(dc, buf, (size_t)k);
		if (hashed != NULL)
			*hashed += (uint64_t)k;
	}
	if (k != 0 || digest_final(dc, md, sizeof(md)) != 0)
		goto out;
	r = digest_to_hex(md, digest_size(digest_ctx_alg(dc)), hex, hexlen);
out:
	return r;
}

int
fim_file_at(int dirfd, const char *name, struct digest_ctx *dc, uint8_t *buf, size_t buflen,
	    uint64_t max_size, struct stat *st, char *hex, size_t hexlen)
{
	int fd = -1, r = -1;

	if (hexlen > 0)
		hex[0] = '\0';
	if (strcmp(name, ".") == 0) {
		r = fstat(dirfd, st);
		goto out;
	}
	/* Look first: only a regular file is opened (opening a device can
	 * have effects of its own, opening a FIFO can wait for a writer). */
	if (fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) != 0)
		goto out;
	r = 0;
	if (dc == NULL || !S_ISREG(st->st_mode))
		goto out;
	fd = openat(dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOATIME);
	if (fd < 0)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	/* What is said is what was read: the metadata of the file hashed,
	 * even if the name was given to another file since the look. */
	if (fd < 0 || fstat(fd, st) != 0 || !S_ISREG(st->st_mode))
		goto out;
	if (fim_hash_fd(fd, dc, buf, buflen, max_size, hex, hexlen, NULL) != 0 && hexlen > 0)
		hex[0] = '\0';
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* Drops a reference to d (w->lock held); the last one closes it. */
static void
wdir_put_locked(struct walk *w, struct wdir *d)
{
	if (--d->refs > 0)
		return;
	if (d->held) {
		w->held--;
		pthread_cond_broadcast(&w->room);
	}
	if (d->dir != NULL)
		closedir(d->dir);
	else
		close(d->fd);
	ward_free(d);
}

/* The walk is done reading d: it stays open while files of it wait.
 * (Its files batched by the walk are queued first: flush.) */
static void
wdir_done(struct walk *w, struct wdir *d)
{
	pthread_mutex_lock(&w->lock);
	if (d->refs > 1) {
		d->held = 1;
		w->held++;
	}
	wdir_put_locked(w, d);
	pthread_mutex_unlock(&w->lock);
}

/* What hashing one file adds to the counters. */
struct tally {
	uint64_t files, bytes, errors;
};

/* Looks at and hashes the file of j, by its name in its directory. */
static void
hash_job(const struct job *j, struct digest_ctx *dc, uint8_t *buf, struct tally *t)
{
	struct fent *e = j->e;
	struct stat st;

	if (fim_file_at(j->dir->fd, j->name, dc, buf, HASH_BUF, 0, &st, e->hash, sizeof(e->hash)) !=
	    0) {
		e->type = 0; /* gone since the walk listed it */
		t->errors++;
		return;
	}
	fent_set(e, &st, j->dir->fd, j->name);
	if (e->type != 'f')
		return;
	t->files++;
	if (e->hash[0] == '\0')
		t->errors++;
	else
		t->bytes += (uint64_t)st.st_size;
}

/* Adds t to the counters and lets go of the directories of jobs[0..n). */
static void
jobs_done(struct walk *w, const struct job *jobs, size_t n, const struct tally *t)
{
	size_t i;

	pthread_mutex_lock(&w->lock);
	w->st->files += t->files;
	w->st->bytes_hashed += t->bytes;
	w->st->errors += t->errors;
	for (i = 0; i < n; i++)
		wdir_put_locked(w, jobs[i].dir);
	pthread_mutex_unlock(&w->lock);
}

static void *
hasher(void *arg)
{
	struct walk *w = arg;
	struct digest_ctx *dc = NULL;
	uint8_t *buf = ward_malloc(HASH_BUF);
	struct job jobs[JOB_BATCH];
	size_t n, i;

	fim_lower_priority();
	if (buf != NULL && digest_new(w->p->hash, &dc) != 0)
		dc = NULL;
	for (;;) {
		struct tally t = {0, 0, 0};

		pthread_mutex_lock(&w->lock);
		while (w->count == 0 && !w->done)
			pthread_cond_wait(&w->more, &w->lock);
		/* A share of what waits, so that every thread has some. */
		n = w->count / w->nthreads;
		n = n < 1 ? w->count : n > JOB_BATCH ? JOB_BATCH : n;
		for (i = 0; i < n; i++) {
			jobs[i] = w->q[w->head];
			w->head = (w->head + 1) % WARD_MAX_FIM_QUEUE;
		}
		w->count -= n;
		if (n > 0)
			pthread_cond_broadcast(&w->room);
		pthread_mutex_unlock(&w->lock);
		if (n == 0)
			break;
		/* Without memory, the files are still said, unhashed (errors). */
		for (i = 0; i < n; i++)
			hash_job(&jobs[i], dc, buf, &t);
		jobs_done(w, jobs, n, &t);
	}
	digest_free(dc);
	ward_free(buf);
	return NULL;
}

/* Queues the files the walk batched (they hold their directories from
 * here), or hashes them now when there are no hashing threads. */
static void
flush(struct walk *w)
{
	struct tally t = {0, 0, 0};
	size_t i;

	if (w->nbatch == 0)
		return;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < w->nbatch; i++)
		w->batch[i].dir->refs++;
	if (w->nthreads == 0) {
		pthread_mutex_unlock(&w->lock);
		for (i = 0; i < w->nbatch; i++)
			hash_job(&w->batch[i], w->dc, w->buf, &t);
		jobs_done(w, w->batch, w->nbatch, &t);
		w->nbatch = 0;
		return;
	}
	while (w->count + w->nbatch > WARD_MAX_FIM_QUEUE)
		pthread_cond_wait(&w->room, &w->lock);
	for (i = 0; i < w->nbatch; i++)
		w->q[(w->head + w->count + i) % WARD_MAX_FIM_QUEUE] = w->batch[i];
	w->count += w->nbatch;
	pthread_cond_broadcast(&w->more);
	pthread_mutex_unlock(&w->lock);
	w->nbatch = 0;
}

/* The regular file at w->path[0..len), named name in d: to be hashed. */
static void
queue_file(struct walk *w, struct wdir *d, size_t len, const char *name)
{
	struct job *j;

	if (w->nbatch == JOB_BATCH)
		flush(w);
	j = &w->batch[w->nbatch];
	if ((j->e = fent_new(w, len)) == NULL)
		return;
	j->e->type = 'f';
	j->dir = d;
	j->name = j->e->path + len - strlen(name);
	w->nbatch++;
}

static void walk_dir(struct walk *w, struct wdir *d, size_t len);

/* Records the directory open as fd (taken), at w->path[0..len), and walks it. */
static void
walk_into(struct walk *w, int fd, size_t len)
{
	struct fent *e;
	struct wdir *d;
	struct stat st;

	/* What is recorded is the directory that is read. */
	if (fstat(fd, &st) != 0) {
		count(w, &w->st->errors, 1);
		close(fd);
		return;
	}
	if ((e = fent_new(w, len)) == NULL) {
		close(fd);
		return;
	}
	fent_set(e, &st, -1, NULL);
	if ((d = ward_calloc(1, sizeof(*d))) == NULL) {
		w->err = WARD_ENOMEM;
		close(fd);
		return;
	}
	if ((d->dir = fdopendir(fd)) == NULL) {
		count(w, &w->st->errors, 1);
		close(fd);
		ward_free(d);
		return;
	}
	d->fd = dirfd(d->dir);
	d->refs = 1;
	walk_dir(w, d, len);
	flush(w);
	wdir_done(w, d);
}

/*
 * The entry name of the directory d, whose path is w->path[0..len), of
 * type dtype as readdir said (DT_UNKNOWN if not known).  Whatever it is
 * by now, it is looked at by name in d, without following a link.
 */
static void
walk_entry(struct walk *w, struct wdir *d, size_t len, const char *name, unsigned char dtype)
{
	struct stat st;
	struct fent *e;
	int fd, unreadable = 0;

	if (excluded(w->p, w->path))
		return;
	if (dtype == DT_REG) {
		queue_file(w, d, len, name);
		return;
	}
	if (dtype == DT_DIR || dtype == DT_UNKNOWN) {
		/* Fewer directories held open first: hashing frees them. */
		pthread_mutex_lock(&w->lock);
		while (w->held >= WARD_MAX_FIM_OPEN_DIRS)
			pthread_cond_wait(&w->room, &w->lock);
		pthread_mutex_unlock(&w->lock);
		/* Only a directory opens so: a link put in its place does not. */
		fd = openat(d->fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			walk_into(w, fd, len);
			return;
		}
		unreadable = errno != ENOTDIR && errno != ELOOP && errno != ENOENT;
	}
	if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		count(w, &w->st->errors, 1); /* gone since it was listed */
		return;
	}
	if (S_ISREG(st.st_mode)) {
		queue_file(w, d, len, name);
		return;
	}
	if ((e = fent_new(w, len)) == NULL)
		return;
	fent_set(e, &st, d->fd, name);
	if (S_ISDIR(st.st_mode) && unreadable)
		count(w, &w->st->errors, 1);
}

/* Walks the entries of the directory d, whose path is w->path[0..len). */
static void
walk_dir(struct walk *w, struct wdir *d, size_t len)
{
	struct dirent *de;
	size_t n, at = len == 1 && w->path[0] == '/' ? 1 : len + 1;

	while (w->err == 0 && (de = readdir(d->dir)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n = strlen(de->d_name);
		if (at + n >= sizeof(w->path)) {
			count(w, &w->st->errors, 1);
			continue;
		}
		w->path[len] = '/';
		memcpy(w->path + at, de->d_name, n + 1);
		walk_entry(w, d, at + n, de->d_name, de->d_type);
	}
	w->path[len] = '\0';
}

/* A path of the policy: reached following root's own links at most; its
 * last component is not followed (a link is recorded as a link). */
static void
walk_path(struct walk *w, const char *path)
{
	char name[NAME_MAX + 1];
	struct wdir *d;
	struct stat st;
	size_t len = strlen(path);
	int fd, err;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(w->path)) {
		count(w, &w->st->errors, 1);
		return;
	}
	memcpy(w->path, path, len);
	w->path[len] = '\0';
	if (excluded(w->p, w->path))
		return;
	fd = path_open_parent(w->path, PATH_ROOT_LINKS, name, sizeof(name));
	err = errno;
	if (fd >= 0 && fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		err = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		count(w, &w->st->errors, 1);
		if (w->p->note != NULL)
			w->p->note(w->p->note_arg, w->path,
				   err == ELOOP
				       ? "a symbolic link on its way is not root's: not followed"
				   : err == ENOENT || err == ENOTDIR ? "does not exist"
								     : strerror(err));
		return;
	}
	if ((d = ward_calloc(1, sizeof(*d))) == NULL) {
		w->err = WARD_ENOMEM;
		close(fd);
		return;
	}
	d->fd = fd;
	d->refs = 1;
	walk_entry(w, d, len, name, DT_UNKNOWN);
	flush(w);
	wdir_done(w, d);
}

static int
fent_cmp(const void *a, const void *b)
{
	return strcmp((*(struct fent *const *)a)->path, (*(struct fent *const *)b)->path);
}

static void
flist_free(struct flist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		ward_free(l->e[i]->target);
		ward_free(l->e[i]);
	}
	ward_free(l->e);
	memset(l, 0, sizeof(*l));
}

/* Walks the policy's paths into l, hashing as it goes; then drops what
 * vanished meanwhile and sorts by path. */
static int
collect(const struct fim_policy *p, struct flist *l, struct fim_stats *st, struct ward_diag *d)
{
	pthread_t t[16];
	struct walk w;
	unsigned i, nt = p->threads ? p->threads : 2;
	size_t k, n;
	int r = 0;

	memset(l, 0, sizeof(*l));
	memset(&w, 0, sizeof(w));
	w.p = p;
	w.l = l;
	w.st = st;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.more, NULL);
	pthread_cond_init(&w.room, NULL);
	if ((w.q = ward_calloc(WARD_MAX_FIM_QUEUE, sizeof(*w.q))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (nt > 16)
		nt = 16;
	/* The threads wait for the lock until they know how many they are. */
	pthread_mutex_lock(&w.lock);
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, hasher, &w) != 0)
			break;
	w.nthreads = i;
	pthread_mutex_unlock(&w.lock);
	if (w.nthreads == 0 &&
	    ((w.buf = ward_malloc(HASH_BUF)) == NULL || digest_new(p->hash, &w.dc) != 0))
		w.err = WARD_ENOMEM;
	for (i = 0; i < p->npaths && w.err == 0; i++)
		walk_path(&w, p->paths[i]);
	pthread_mutex_lock(&w.lock);
	w.done = 1;
	pthread_cond_broadcast(&w.more);
	pthread_mutex_unlock(&w.lock);
	for (i = 0; i < w.nthreads; i++)
		pthread_join(t[i], NULL);
	if (w.err != 0) {
		flist_free(l);
		r = diag_set(d, w.err, NULL, 0, 0, "out of memory");
		goto out;
	}
	for (k = n = 0; k < l->n; k++) {
		if (l->e[k]->type != 0) {
			l->e[n++] = l->e[k];
		} else {
			ward_free(l->e[k]->target);
			ward_free(l->e[k]);
		}
	}
	l->n = n;
	st->entries = n;
	if (l->n > 1) /* (no array at all when empty) */
		qsort(l->e, l->n, sizeof(*l->e), fent_cmp);
out:
	digest_free(w.dc);
	ward_free(w.buf);
	ward_free(w.q);
	pthread_cond_destroy(&w.room);
	pthread_cond_destroy(&w.more);
	pthread_mutex_destroy(&w.lock);
	return r;
}

/* --- the baseline file ------------------------------------------------------ */

static void
put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* Undoes put_escaped on p[0..n) into o (at least n + 1 bytes): 0, or -1
 * for a byte put_escaped never writes there (a NUL, a tab or a newline
 * left raw, a backslash before anything but \\, t or n, or at the end). */
static int
unescape_to(char *o, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0' || p[i] == '\t' || p[i] == '\n')
			return -1;
		if (p[i] != '\\') {
			*o++ = (char)p[i];
			continue;
		}
		if (++i == n || (p[i] != '\\' && p[i] != 't' && p[i] != 'n'))
			return -1;
		*o++ = p[i] == 't' ? '\t' : p[i] == 'n' ? '\n' : '\\';
	}
	*o = '\0';
	return 0;
}

/* Digits of base (8 or 10) p[0..n), one at least, with a '-' first when
 * neg is allowed, into *v (at most max in size): 0 or -1. */
static int
number(const uint8_t *p, size_t n, unsigned base, int neg, uint64_t max, int64_t *sv, uint64_t *v)
{
	uint64_t x = 0;
	size_t i = 0;
	int minus = 0;

	if (neg && n > 0 && p[0] == '-') {
		minus = 1;
		i = 1;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		unsigned dgt = (unsigned)p[i] - '0';

		if (p[i] < '0' || dgt >= base || x > (max - dgt) / base)
			return -1;
		x = x * base + dgt;
	}
	if (v != NULL)
		*v = x;
	if (sv != NULL)
		*sv = minus ? -(int64_t)x : (int64_t)x;
	return 0;
}

/* One line of a baseline, fields p[i][0..n[i]), into *out (a new entry,
 * owned by the caller).  0, WARD_EFORMAT (what is wrong in why) or
 * WARD_ENOMEM. */
static int
parse_entry(const uint8_t *const *p, const size_t *n, enum digest_alg alg, struct fent **out,
	    const char **why)
{
	static const char types[] = {'f', 'd', 'l', 'o', 0};
	size_t hexlen = 2 * digest_size(alg), i;
	uint64_t v[6];
	int64_t mtime = 0;
	struct fent *e;

	*out = NULL;
	*why = NULL;
	if (n[0] == 0 || p[0][0] != '/' || n[1] != 1 ||
	    memchr(types, p[1][0], sizeof(types)) == NULL)
		*why = "a path from / and a type (f, d, l, o) come first";
	else if (number(p[2], n[2], 8, 0, UINT32_MAX, NULL, &v[0]) != 0 ||
		 number(p[3], n[3], 10, 0, UINT32_MAX, NULL, &v[1]) != 0 ||
		 number(p[4], n[4], 10, 0, UINT32_MAX, NULL, &v[2]) != 0 ||
		 number(p[5], n[5], 10, 0, UINT64_MAX, NULL, &v[3]) != 0 ||
		 number(p[6], n[6], 10, 1, INT64_MAX, &mtime, NULL) != 0 ||
		 number(p[7], n[7], 10, 0, UINT64_MAX, NULL, &v[5]) != 0)
		*why = "mode, owner, group, size, time or inode is not a number in range";
	else if (!(n[8] == 1 && p[8][0] == '-') && n[8] != hexlen)
		*why = "the digest is neither - nor of the baseline's algorithm";
	else if (!(n[9] == 1 && p[9][0] == '-') && p[1][0] != 'l')
		*why = "a link target beside what is not a link";
	for (i = 0; *why == NULL && n[8] == hexlen && i < hexlen; i++)
		if (!((p[8][i] >= '0' && p[8][i] <= '9') || (p[8][i] >= 'a' && p[8][i] <= 'f')))
			*why = "the digest is not lowercase hex";
	if (*why != NULL)
		return WARD_EFORMAT;
	if ((e = ward_calloc(1, sizeof(*e) + n[0] + 1)) == NULL)
		return WARD_ENOMEM;
	if (unescape_to(e->path, p[0], n[0]) != 0) {
		ward_free(e);
		*why = "the path is not escaped as ward writes it";
		return WARD_EFORMAT;
	}
	e->type = (char)p[1][0];
	e->mode = (unsigned)v[0];
	e->uid = (unsigned long)v[1];
	e->gid = (unsigned long)v[2];
	e->size = v[3];
	e->mtime_ns = mtime;
	e->ino = v[5];
	if (n[8] == hexlen) {
		memcpy(e->hash, p[8], hexlen);
		e->hash[hexlen] = '\0';
	}
	if (e->type == 'l' && !(n[9] == 1 && p[9][0] == '-')) {
		if ((e->target = ward_malloc(n[9] + 1)) == NULL) {
			ward_free(e);
			return WARD_ENOMEM;
		}
		if (unescape_to(e->target, p[9], n[9]) != 0) {
			ward_free(e->target);
			ward_free(e);
			*why = "the link target is not escaped as ward writes it";
			return WARD_EFORMAT;
		}
	}
	*out = e;
	return 0;
}

int
fim_baseline(const struct fim_policy *p, const char *path, struct fim_stats *st,
	     struct ward_diag *d)
{
	struct flist l;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = collect(p, &l, st, d)) != 0)
		return r;
	f = open_memstream(&text, &len);
	if (f == NULL) {
		flist_free(&l);
		return diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
	}
	fprintf(f, "%s %s\n", FORMAT_LINE, digest_name(p->hash));
	for (i = 0; i < l.n; i++) {
		const struct fent *e = l.e[i];

		put_escaped(f, e->path);
		fprintf(f, "\t%c\t%o\t%lu\t%lu\t%" PRIu64 "\t%" PRId64 "\t%" PRIu64 "\t%s\t",
			e->type, e->mode, e->uid, e->gid, e->size, e->mtime_ns, e->ino,
			e->hash[0] ? e->hash : "-");
		if (e->target != NULL)
			put_escaped(f, e->target);
		else
			fputc('-', f);
		fputc('\n', f);
	}
	fclose(f);
	flist_free(&l);
	if (text == NULL)
		return diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
	r = file_replace(path, text, len, 0600, d);
	free(text);
	return r;
}

/*
 * Reads a baseline ward wrote: its head line, then a line per file of ten
 * tab-separated fields, every one checked (parse_entry) — a file that is
 * not one (damaged, cut, edited by hand, crafted) is refused with the
 * line that is wrong, never read in part.
 */
static int
load_baseline(const char *path, enum digest_alg alg, struct flist *l, struct ward_diag *d)
{
	const uint8_t *line = NULL, *p[10];
	size_t n[10], len = 0, linelen = 0;
	unsigned long lineno = 1;
	struct rbuf b, lb;
	uint8_t *buf = NULL;
	char head[64];
	const char *why = NULL;
	int r, k, end;

	memset(l, 0, sizeof(*l));
	if ((r = file_read_all(path, WARD_MAX_FIM_BASELINE_BYTES, &buf, &len, d)) != 0)
		return r;
	snprintf(head, sizeof(head), "%s %s", FORMAT_LINE, digest_name(alg));
	rbuf_init(&b, buf, len);
	if (rbuf_until(&b, '\n', sizeof(head), &line, &linelen) != 0 || linelen != strlen(head) ||
	    memcmp(line, head, linelen) != 0) {
		ward_free(buf);
		return diag_set(d, WARD_EFORMAT, path, 1, 0,
				"not a ward FIM baseline made with %s (make a new one)",
				digest_name(alg));
	}
	while (rbuf_left(&b) > 0) {
		struct fent *e = NULL;

		lineno++;
		end =
		    rbuf_until(&b, '\n', 10 * (WARD_MAX_FIM_BASELINE_FIELD + 32), &line, &linelen);
		if (end < 0 || end == 1) { /* too long, or cut before its newline */
			why = end < 0 ? "a line too long" : "the last line has no end (cut?)";
			r = WARD_EFORMAT;
			break;
		}
		rbuf_init(&lb, line, linelen);
		/* nine fields ended by a tab, the tenth by the line's end */
		for (k = 0; k < 10; k++)
			if (rbuf_until(&lb, '\t', WARD_MAX_FIM_BASELINE_FIELD, &p[k], &n[k]) !=
			    (k < 9 ? 0 : 1))
				break;
		if (k != 10 || rbuf_left(&lb) != 0) {
			why = "not ten tab-separated fields";
			r = WARD_EFORMAT;
			break;
		}
		if ((r = parse_entry(p, n, alg, &e, &why)) != 0)
			break;
		if (e->type == 0) { /* gone before it could be looked at: not kept */
			ward_free(e);
			continue;
		}
		if (ward_grow(&l->e, &l->cap, l->n + 1, sizeof(*l->e)) != 0) {
			ward_free(e->target);
			ward_free(e);
			r = WARD_ENOMEM;
			break;
		}
		l->e[l->n++] = e;
	}
	ward_free(buf);
	if (r != 0) {
		flist_free(l);
		if (r == WARD_ENOMEM)
			return diag_set(d, r, path, 0, 0, "out of memory");
		return diag_set(d, r, path, lineno, 0,
				"%s: not a baseline ward wrote (make a new one)", why);
	}
	if (l->n > 1) /* (no array at all when empty) */
		qsort(l->e, l->n, sizeof(*l->e), fent_cmp);
	return 0;
}

static void
diff_fields(const struct fent *a, const struct fent *b, char *out, size_t outlen)
{
	size_t n = 0;

	out[0] = '\0';
#define FIELD(cond, name)                                                                          \
	do {                                                                                       \
		if (cond)                                                                          \
			n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%s%s",        \
					      n ? "," : "", name);                                 \
	} while (0)
	FIELD(a->type != b->type, "type");
	FIELD(a->mode != b->mode, "mode");
	FIELD(a->uid != b->uid, "uid");
	FIELD(a->gid != b->gid, "gid");
	FIELD(a->size != b->size, "size");
	FIELD(a->mtime_ns != b->mtime_ns && a->type != 'd', "mtime");
	FIELD(a->ino != b->ino, "inode");
	FIELD(strcmp(a->hash, b->hash) != 0, "hash");
	FIELD((a->target || b->target) &&
		  (!a->target || !b->target || strcmp(a->target, b->target) != 0),
	      "target");
#undef FIELD
}

int
fim_check(const struct fim_policy *p, const char *path, fim_diff_fn fn, void *arg, unsigned *bits,
	  struct fim_stats *st, struct ward_diag *d)
{
	struct flist base, cur;
	size_t i = 0, j = 0;
	char fields[128];
	int r;

	*bits = 0;
	memset(st, 0, sizeof(*st));
	if ((r = load_baseline(path, p->hash, &base, d)) != 0)
		return r;
	if ((r = collect(p, &cur, st, d)) != 0) {
		flist_free(&base);
		return r;
	}
	while (i < base.n || j < cur.n) {
		int c = i == base.n ? 1 : j == cur.n ? -1 : strcmp(base.e[i]->path, cur.e[j]->path);

		if (c < 0) {
			*bits |= FIM_REMOVED;
			fn(arg, FIM_REMOVED, base.e[i]->path, "");
			i++;
		} else if (c > 0) {
			*bits |= FIM_ADDED;
			fn(arg, FIM_ADDED, cur.e[j]->path, "");
			j++;
		} else {
			diff_fields(base.e[i], cur.e[j], fields, sizeof(fields));
			if (fields[0] != '\0') {
				*bits |= FIM_CHANGED;
				fn(arg, FIM_CHANGED, cur.e[j]->path, fields);
			}
			i++;
			j++;
		}
	}
	flist_free(&base);
	flist_free(&cur);
	return 0;
}

/*
 * fim: baseline and check.  See fim.h.
 *
 * Must hold: the walk never follows a symbolic link; a file that vanishes
 * or cannot be read during the walk is counted as an error, not a crash or
 * a false difference of something else; hashing threads run at nice 19 and
 * idle I/O priority; the baseline is replaced atomically.
 */
#include "fim/fim.h"
#include "util/alloc.h"
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FORMAT_LINE "ward-fim 1"

struct fent {
	char *path;
	char type; /* f d l o */
	unsigned mode;
	unsigned long uid, gid;
	uint64_t size;
	int64_t mtime_ns;
	uint64_t ino;
	char *target;  /* symbolic links */
	char hash[65]; /* hex; "" if not a regular file or unreadable */
};

struct flist {
	struct fent *e;
	size_t n, cap;
	int err;
};

/* nftw has no argument: one walk at a time. */
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct flist *walk_list;
static const struct fim_policy *walk_policy;
static struct fim_stats *walk_stats;

static int
excluded(const struct fim_policy *p, const char *path)
{
	unsigned i;

	for (i = 0; i < p->nexcludes; i++)
		if (fnmatch(p->excludes[i], path, 0) == 0)
			return 1;
	return 0;
}

static int
on_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct fent *e;
	char target[4096];
	ssize_t n;

	(void)ftw;
	if (excluded(walk_policy, path))
		return flag == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE;
	if (flag == FTW_NS || flag == FTW_DNR) {
		walk_stats->errors++;
		if (flag == FTW_NS)
			return FTW_CONTINUE;
	}
	if (ward_grow(&walk_list->e, &walk_list->cap, walk_list->n + 1, sizeof(*walk_list->e)) !=
	    0) {
		walk_list->err = WARD_ENOMEM;
		return FTW_STOP;
	}
	e = &walk_list->e[walk_list->n];
	memset(e, 0, sizeof(*e));
	e->path = ward_strdup(path);
	if (e->path == NULL) {
		walk_list->err = WARD_ENOMEM;
		return FTW_STOP;
	}
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
	if (e->type == 'l') {
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		e->target = ward_strdup(target);
	}
	walk_list->n++;
	walk_stats->entries++;
	return FTW_CONTINUE;
}

/* --- hashing ------------------------------------------------------------- */

struct hjob {
	struct flist *l;
	enum digest_alg alg;
	size_t next;
	pthread_mutex_t lock;
	struct fim_stats *st;
};

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
fim_hash_file(const char *path, struct digest_ctx *dc, uint8_t *buf, size_t buflen,
	      uint64_t max_size, char *hex, size_t hexlen, uint64_t *hashed)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME | O_NONBLOCK);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	r = fim_hash_fd(fd, dc, buf, buflen, max_size, hex, hexlen, hashed);
	close(fd);
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

static void *
hasher(void *arg)
{
	struct hjob *j = arg;
	struct digest_ctx *dc = NULL;
	static uint8_t unused;
	uint8_t *buf = ward_malloc(1 << 20);

	(void)unused;
	fim_lower_priority();
	if (buf == NULL || digest_new(j->alg, &dc) != 0) {
		ward_free(buf);
		return NULL;
	}
	for (;;) {
		struct fent *e;
		uint64_t hashed;
		size_t i;
		int ok;

		pthread_mutex_lock(&j->lock);
		while (j->next < j->l->n && j->l->e[j->next].type != 'f')
			j->next++;
		i = j->next++;
		pthread_mutex_unlock(&j->lock);
		if (i >= j->l->n)
			break;
		e = &j->l->e[i];
		hashed = 0;
		ok = fim_hash_file(e->path, dc, buf, 1 << 20, 0, e->hash, sizeof(e->hash),
				   &hashed) == 0;
		pthread_mutex_lock(&j->lock);
		j->st->bytes_hashed += hashed;
		pthread_mutex_unlock(&j->lock);
		pthread_mutex_lock(&j->lock);
		j->st->files++;
		j->st->errors += !ok;
		pthread_mutex_unlock(&j->lock);
	}
	digest_free(dc);
	ward_free(buf);
	return NULL;
}

static int
fent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fent *)a)->path, ((const struct fent *)b)->path);
}

static void
flist_free(struct flist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		ward_free(l->e[i].path);
		ward_free(l->e[i].target);
	}
	ward_free(l->e);
	memset(l, 0, sizeof(*l));
}

/* Walks and hashes the policy's tree into l (sorted by path). */
static int
collect(const struct fim_policy *p, struct flist *l, struct fim_stats *st, struct ward_diag *d)
{
	struct hjob job;
	pthread_t t[16];
	unsigned i, nt = p->threads ? p->threads : 2;

	memset(l, 0, sizeof(*l));
	pthread_mutex_lock(&walk_lock);
	walk_list = l;
	walk_policy = p;
	walk_stats = st;
	for (i = 0; i < p->npaths && l->err == 0; i++)
		if (nftw(p->paths[i], on_entry, 64, FTW_PHYS | FTW_ACTIONRETVAL) != 0 &&
		    l->err == 0 && errno == ENOENT)
			st->errors++;
	pthread_mutex_unlock(&walk_lock);
	if (l->err != 0)
		return diag_set(d, l->err, NULL, 0, 0, "out of memory");
	qsort(l->e, l->n, sizeof(*l->e), fent_cmp);
	memset(&job, 0, sizeof(job));
	job.l = l;
	job.alg = p->hash;
	job.st = st;
	pthread_mutex_init(&job.lock, NULL);
	if (nt > 16)
		nt = 16;
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, hasher, &job) != 0)
			break;
	nt = i;
	if (nt == 0)
		hasher(&job);
	for (i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	pthread_mutex_destroy(&job.lock);
	return 0;
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

static char *
unescape(const char *s, size_t n)
{
	char *o = ward_malloc(n + 1), *w = o;
	size_t i;

	if (o == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			*w++ = s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' : s[i];
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return o;
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
		const struct fent *e = &l.e[i];

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

static int
load_baseline(const char *path, enum digest_alg alg, struct flist *l, struct ward_diag *d)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char *p, *end, *nl, head[64];
	int r;

	memset(l, 0, sizeof(*l));
	if ((r = file_read_all(path, (size_t)1 << 32, &buf, &len, d)) != 0)
		return r;
	snprintf(head, sizeof(head), "%s %s\n", FORMAT_LINE, digest_name(alg));
	if (len < strlen(head) || memcmp(buf, head, strlen(head)) != 0) {
		ward_free(buf);
		return diag_set(d, WARD_EFORMAT, path, 1, 0,
				"not a ward FIM baseline made with %s (make a new one)",
				digest_name(alg));
	}
	p = (char *)buf + strlen(head);
	end = (char *)buf + len;
	for (; p < end; p = nl + 1) {
		char *f[10];
		struct fent *e;
		int k = 0;
		char *q = p;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		f[k++] = q;
		while (k < 10 && (q = strchr(q, '\t')) != NULL) {
			*q++ = '\0';
			f[k++] = q;
		}
		if (k != 10)
			continue;
		if (ward_grow(&l->e, &l->cap, l->n + 1, sizeof(*l->e)) != 0) {
			r = WARD_ENOMEM;
			break;
		}
		e = &l->e[l->n++];
		memset(e, 0, sizeof(*e));
		e->path = unescape(f[0], strlen(f[0]));
		e->type = f[1][0];
		e->mode = (unsigned)strtoul(f[2], NULL, 8);
		e->uid = strtoul(f[3], NULL, 10);
		e->gid = strtoul(f[4], NULL, 10);
		e->size = strtoull(f[5], NULL, 10);
		e->mtime_ns = strtoll(f[6], NULL, 10);
		e->ino = strtoull(f[7], NULL, 10);
		if (strcmp(f[8], "-") != 0)
			snprintf(e->hash, sizeof(e->hash), "%s", f[8]);
		if (e->type == 'l')
			e->target = unescape(f[9], strlen(f[9]));
	}
	ward_free(buf);
	if (r != 0) {
		flist_free(l);
		return diag_set(d, r, path, 0, 0, "out of memory");
	}
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
		int c = i == base.n ? 1 : j == cur.n ? -1 : strcmp(base.e[i].path, cur.e[j].path);

		if (c < 0) {
			*bits |= FIM_REMOVED;
			fn(arg, FIM_REMOVED, base.e[i].path, "");
			i++;
		} else if (c > 0) {
			*bits |= FIM_ADDED;
			fn(arg, FIM_ADDED, cur.e[j].path, "");
			j++;
		} else {
			diff_fields(&base.e[i], &cur.e[j], fields, sizeof(fields));
			if (fields[0] != '\0') {
				*bits |= FIM_CHANGED;
				fn(arg, FIM_CHANGED, cur.e[j].path, fields);
			}
			i++;
			j++;
		}
	}
	flist_free(&base);
	flist_free(&cur);
	return 0;
}

/*
 * fimstate: the FIM's record of watched files across restarts, and the
 * catch-up's comparison.  See fimstate.h.
 *
 * Must hold: the state file is read only through the sized reader, each
 * frame's length checked against what remains and its CRC against its
 * bytes before its payload is parsed, each path bounded by PATH_MAX and
 * NUL-free, the number of files by WARD_MAX_FIM_STATE_ENTRIES; a bad
 * frame ends the reading (what came before it stands).  A path the walk
 * could not look at is never said gone.
 */
#include "agent/fimstate.h"
#include "event/journal.h"
#include "fim/watch.h"
#include "util/alloc.h"
#include "util/strmap.h"
#include "util/file.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAGIC 0x31534657u /* "WFS1" */
/* A frame's payload: a path pair and metadata, or the header's policy
 * (2 × FIM_MAX_PATHS strings of at most PATH_MAX). */
#define FRAME_MAX (2u * FIM_MAX_PATHS * (PATH_MAX + 4) + 64)
/* Directories read by a walk that are not files of the state (the
 * parents of single watched files). */
#define EXTRA_READ_MAX (2 * FIM_MAX_PATHS)

enum op { OP_HEAD = 1, OP_PUT, OP_DEL, OP_DELTREE, OP_MOVE };

/* The header's flags: a policy follows; some files are not in the state. */
enum head { HEAD_WATCH = 1, HEAD_PARTIAL = 2 };

enum flag { CAUGHT = 1, SEEN = 2, READ = 4, GONE = 8, DROP = 16 };

struct node {
	struct node *next;
	struct fimstate_attr a;
	unsigned flags;
	char path[];
};

struct fimstate {
	struct node **b;
	size_t nb, n, ngone;
	struct fim_watch *watch; /* NULL: none recorded */
	int partial;		 /* some watched files are not in it (a limit) */
	int was_partial;	 /* ... in the state read at the start */
	char *extra[EXTRA_READ_MAX];
	unsigned nextra;
};

/* --- attributes ---------------------------------------------------------- */

void
fimstate_attr_of(const struct stat *st, struct fimstate_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->type = S_ISREG(st->st_mode)	 ? FIMSTATE_REG
		  : S_ISDIR(st->st_mode) ? FIMSTATE_DIR
		  : S_ISLNK(st->st_mode) ? FIMSTATE_LNK
					 : FIMSTATE_OTHER;
	a->mode = (uint32_t)(st->st_mode & 07777);
	a->uid = (uint32_t)st->st_uid;
	a->gid = (uint32_t)st->st_gid;
	a->size = (uint64_t)st->st_size;
	a->ino = (uint64_t)st->st_ino;
	a->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	a->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

int
fimstate_differs(const struct fimstate_attr *was, const struct fimstate_attr *now,
		 enum sensor_fim_action *act)
{
	int dir = was->type == FIMSTATE_DIR && now->type == FIMSTATE_DIR;

	if (was->type != now->type || was->ino != now->ino ||
	    (!dir && (was->size != now->size || was->mtime_ns != now->mtime_ns))) {
		*act = SENSOR_FIM_MODIFIED;
		return 1;
	}
	if (was->mode != now->mode || was->uid != now->uid || was->gid != now->gid ||
	    (!dir && was->ctime_ns != now->ctime_ns)) {
		*act = SENSOR_FIM_ATTRIBUTES;
		return 1;
	}
	return 0;
}

/* --- the map --------------------------------------------------------------- */

int
fimstate_new(struct fimstate **s)
{
	int r = 0;

	*s = ward_calloc(1, sizeof(**s));
	if (*s == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	(*s)->nb = 1024;
	if (((*s)->b = ward_calloc((*s)->nb, sizeof(*(*s)->b))) == NULL) {
		ward_free(*s);
		*s = NULL;
		r = WARD_ENOMEM;
	}
out:
	return r;
}

static void
watch_free(struct fim_watch *w)
{
	if (w != NULL) {
		fim_watch_free(w);
		ward_free(w);
	}
}

void
fimstate_free(struct fimstate *s)
{
	size_t i;
	unsigned k;

	if (s == NULL)
		return;
	for (i = 0; i < s->nb; i++) {
		struct node *e = s->b[i], *next;

		for (; e != NULL; e = next) {
			next = e->next;
			ward_free(e);
		}
	}
	for (k = 0; k < s->nextra; k++)
		ward_free(s->extra[k]);
	ward_free(s->b);
	watch_free(s->watch);
	ward_free(s);
}

size_t
fimstate_count(const struct fimstate *s)
{
	return s->n - s->ngone;
}

const struct fim_watch *
fimstate_watch(const struct fimstate *s)
{
	return s->watch;
}

int
fimstate_set_watch(struct fimstate *s, const struct fim_watch *w)
{
	struct fim_watch *c = ward_calloc(1, sizeof(*c));
	struct ward_diag d;
	unsigned i;
	int r = c == NULL ? WARD_ENOMEM : 0;

	for (i = 0; r == 0 && i < w->npaths; i++)
		r = fim_watch_add_path(c, w->paths[i], &d);
	for (i = 0; r == 0 && i < w->nexcludes; i++)
		r = fim_watch_add_exclude(c, w->excludes[i], &d);
	if (r != 0) {
		watch_free(c);
		goto out;
	}
	watch_free(s->watch);
	s->watch = c;
out:
	return r;
}

static struct node *
find(const struct fimstate *s, const char *path)
{
	struct node *e = s->b[strmap_hash(path) % s->nb];

	while (e != NULL && strcmp(e->path, path) != 0)
		e = e->next;
	return e;
}

const struct fimstate_attr *
fimstate_get(const struct fimstate *s, const char *path)
{
	const struct node *e = find(s, path);

	return e != NULL && !(e->flags & GONE) ? &e->a : NULL;
}

/* Twice the buckets when the chains grow long (if memory allows). */
static void
grow(struct fimstate *s)
{
	size_t nb = s->nb * 2, i;
	struct node **b;

	if (s->n < s->nb * 2 || (b = ward_calloc(nb, sizeof(*b))) == NULL)
		return;
	for (i = 0; i < s->nb; i++) {
		struct node *e = s->b[i], *next;

		for (; e != NULL; e = next) {
			size_t h = strmap_hash(e->path) % nb;

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	}
	ward_free(s->b);
	s->b = b;
	s->nb = nb;
}

/* The node of path, made (with flags 0) if new; NULL with *r. */
static struct node *
get_node(struct fimstate *s, const char *path, int *r)
{
	struct node *e = find(s, path);
	size_t len = strlen(path), h;

	*r = 0;
	if (e != NULL)
		goto out;
	if (len >= PATH_MAX || s->n >= WARD_MAX_FIM_STATE_ENTRIES) {
		s->partial = 1;
		*r = WARD_ELIMIT;
		goto out;
	}
	if ((e = ward_calloc(1, sizeof(*e) + len + 1)) == NULL) {
		*r = WARD_ENOMEM;
		goto out;
	}
	memcpy(e->path, path, len + 1);
	h = strmap_hash(path) % s->nb;
	e->next = s->b[h];
	s->b[h] = e;
	s->n++;
	grow(s);
out:
	return e;
}

int
fimstate_put(struct fimstate *s, const char *path, const struct fimstate_attr *a)
{
	int r;
	struct node *e = get_node(s, path, &r);

	if (e == NULL)
		goto out;
	if (e->flags & GONE)
		s->ngone--;
	e->flags &= ~(unsigned)GONE;
	e->a = *a;
out:
	return r;
}

/* 1 if path is base or under it. */
static int
under(const char *path, const char *base)
{
	size_t n = strlen(base);

	if (n == 1 && base[0] == '/')
		return path[0] == '/';
	return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Unlinks and frees every node for which drop says so. */
static void
sweep(struct fimstate *s, int (*drop)(struct node *e, const void *arg), const void *arg)
{
	size_t i;

	for (i = 0; i < s->nb; i++) {
		struct node **pp = &s->b[i];

		while (*pp != NULL) {
			struct node *e = *pp;

			if (!drop(e, arg)) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			if (e->flags & GONE)
				s->ngone--;
			s->n--;
			ward_free(e);
		}
	}
}

static int
drop_tree(struct node *e, const void *arg)
{
	return under(e->path, arg);
}

/* Unlinks the node of path from its chain (NULL if there is none). */
static struct node *
unlink_node(struct fimstate *s, const char *path)
{
	struct node **pp = &s->b[strmap_hash(path) % s->nb], *e;

	while (*pp != NULL && strcmp((*pp)->path, path) != 0)
		pp = &(*pp)->next;
	if ((e = *pp) == NULL)
		goto out;
	*pp = e->next;
	if (e->flags & GONE)
		s->ngone--;
	s->n--;
out:
	return e;
}

/* Links e (not in the map) in. */
static void
link_node(struct fimstate *s, struct node *e)
{
	size_t h = strmap_hash(e->path) % s->nb;

	e->next = s->b[h];
	s->b[h] = e;
	s->n++;
	if (e->flags & GONE)
		s->ngone++;
}

void
fimstate_del(struct fimstate *s, const char *path, int subtree)
{
	/* A whole subtree means a look at every file: only when asked. */
	if (subtree)
		sweep(s, drop_tree, path);
	else
		ward_free(unlink_node(s, path));
}

int
fimstate_move(struct fimstate *s, const char *from, const char *to)
{
	struct node *moved = NULL, *e, *next;
	size_t i, nf = strlen(from), nt = strlen(to);
	int r = 0;

	if (strcmp(from, to) == 0)
		goto out;
	/* A file's rename moves one entry; a directory's, its subtree. */
	e = find(s, from);
	if (e != NULL && e->a.type != FIMSTATE_DIR) {
		struct node *c = nt < PATH_MAX ? ward_calloc(1, sizeof(*c) + nt + 1) : NULL;
		struct fimstate_attr a = e->a;
		int gone = (e->flags & GONE) != 0;

		ward_free(unlink_node(s, from));
		ward_free(unlink_node(s, to));
		if (c == NULL || gone) {
			r = c == NULL && nt < PATH_MAX ? WARD_ENOMEM : 0;
			ward_free(c);
			goto out;
		}
		memcpy(c->path, to, nt + 1);
		c->a = a;
		link_node(s, c);
		grow(s);
		goto out;
	}
	/* Out of the map first (their new paths may collide with old ones). */
	for (i = 0; i < s->nb; i++) {
		struct node **pp = &s->b[i];

		while (*pp != NULL) {
			e = *pp;
			if (!under(e->path, from)) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			e->next = moved;
			moved = e;
			if (e->flags & GONE)
				s->ngone--;
			s->n--;
		}
	}
	fimstate_del(s, to, 1); /* what the move replaced */
	for (e = moved; e != NULL; e = next) {
		size_t rest = strlen(e->path) - nf;
		struct node *c;

		next = e->next;
		if ((e->flags & GONE) || nt + rest >= PATH_MAX) {
			ward_free(e); /* gone, or a path too long to say */
			continue;
		}
		if ((c = ward_calloc(1, sizeof(*c) + nt + rest + 1)) != NULL) {
			memcpy(c->path, to, nt);
			memcpy(c->path + nt, e->path + nf, rest + 1);
			c->a = e->a;
			if (s->n < WARD_MAX_FIM_STATE_ENTRIES && find(s, c->path) == NULL) {
				size_t h = strmap_hash(c->path) % s->nb;

				c->next = s->b[h];
				s->b[h] = c;
				s->n++;
			} else {
				ward_free(c);
			}
		} else {
			r = WARD_ENOMEM;
		}
		ward_free(e);
	}
	grow(s);
out:
	return r;
}

/* --- the file ------------------------------------------------------------ */

/* Appends the frame of payload p[0..n) to out. */
static void
frame(struct wbuf *out, const struct wbuf *p)
{
	if (p->err != 0) {
		out->err = out->err != 0 ? out->err : p->err;
		return;
	}
	wbuf_u32(out, (uint32_t)p->len);
	wbuf_u32(out, journal_crc32c(p->p, p->len));
	wbuf_put(out, p->p, p->len);
}

static void
put_attr(struct wbuf *b, const struct fimstate_attr *a)
{
	wbuf_u8(b, a->type);
	wbuf_u32(b, a->mode);
	wbuf_u32(b, a->uid);
	wbuf_u32(b, a->gid);
	wbuf_u64(b, a->size);
	wbuf_u64(b, a->ino);
	wbuf_i64(b, a->mtime_ns);
	wbuf_i64(b, a->ctime_ns);
}

static int
get_attr(struct rbuf *b, struct fimstate_attr *a)
{
	int r = rbuf_u8(b, &a->type);

	if (r == 0 && (a->type < FIMSTATE_REG || a->type > FIMSTATE_OTHER))
		r = WARD_EFORMAT;
	if (r == 0)
		r = rbuf_u32(b, &a->mode);
	if (r == 0)
		r = rbuf_u32(b, &a->uid);
	if (r == 0)
		r = rbuf_u32(b, &a->gid);
	if (r == 0)
		r = rbuf_u64(b, &a->size);
	if (r == 0)
		r = rbuf_u64(b, &a->ino);
	if (r == 0)
		r = rbuf_i64(b, &a->mtime_ns);
	if (r == 0)
		r = rbuf_i64(b, &a->ctime_ns);
	return r;
}

void
fimstate_frame_put(struct wbuf *out, const char *path, const struct fimstate_attr *a)
{
	struct wbuf p;

	wbuf_init(&p);
	wbuf_u8(&p, OP_PUT);
	wbuf_str(&p, path);
	put_attr(&p, a);
	frame(out, &p);
	wbuf_free(&p);
}

void
fimstate_frame_del(struct wbuf *out, const char *path, int subtree)
{
	struct wbuf p;

	wbuf_init(&p);
	wbuf_u8(&p, subtree ? OP_DELTREE : OP_DEL);
	wbuf_str(&p, path);
	frame(out, &p);
	wbuf_free(&p);
}

void
fimstate_frame_move(struct wbuf *out, const char *from, const char *to)
{
	struct wbuf p;

	wbuf_init(&p);
	wbuf_u8(&p, OP_MOVE);
	wbuf_str(&p, from);
	wbuf_str(&p, to);
	frame(out, &p);
	wbuf_free(&p);
}

int
fimstate_encode(const struct fimstate *s, struct wbuf *out)
{
	struct fim_watch none;
	struct wbuf p, body;
	int partial = s->partial;
	size_t i;

	/* The files first: a whole beyond half the size a start reads (the
	 * rest is room for what is appended) is cut, and said partial. */
	wbuf_init(&body);
	for (i = 0; i < s->nb && body.err == 0; i++) {
		const struct node *e;

		for (e = s->b[i]; e != NULL && body.len <= WARD_MAX_FIM_STATE_BYTES / 2;
		     e = e->next)
			if (!(e->flags & GONE))
				fimstate_frame_put(&body, e->path, &e->a);
		partial |= e != NULL;
	}
	memset(&none, 0, sizeof(none));
	wbuf_init(&p);
	wbuf_u8(&p, OP_HEAD);
	wbuf_u32(&p, MAGIC);
	wbuf_u8(&p, (uint8_t)((s->watch != NULL ? HEAD_WATCH : 0) | (partial ? HEAD_PARTIAL : 0)));
	(void)fim_watch_encode(s->watch != NULL ? s->watch : &none, &p);
	frame(out, &p);
	wbuf_free(&p);
	if (body.err != 0 && out->err == 0)
		out->err = body.err;
	else
		wbuf_put(out, body.p, body.len);
	wbuf_free(&body);
	return out->err;
}

/* An absolute path of at most PATH_MAX - 1 bytes, from b (caller frees). */
static int
get_path(struct rbuf *b, char **path)
{
	int r = rbuf_strdup(b, PATH_MAX - 1, path);

	if (r == 0 && (*path)[0] != '/') {
		ward_free(*path);
		*path = NULL;
		r = WARD_EFORMAT;
	}
	return r;
}

/* The header's payload: the policy, into s. */
static int
read_head(struct fimstate *s, struct rbuf *b, struct ward_diag *d)
{
	struct fim_watch *w = NULL;
	uint32_t magic;
	uint8_t op, has;
	int r;

	if ((r = rbuf_u8(b, &op)) != 0 || op != OP_HEAD || (r = rbuf_u32(b, &magic)) != 0 ||
	    magic != MAGIC || (r = rbuf_u8(b, &has)) != 0 || (has & ~(HEAD_WATCH | HEAD_PARTIAL))) {
		r = diag_set(d, WARD_EFORMAT, FIMSTATE_FILE, 0, 0, "not a FIM state file");
		goto out;
	}
	if ((w = ward_calloc(1, sizeof(*w))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, FIMSTATE_FILE, 0, 0, "out of memory");
		goto out;
	}
	if ((r = fim_watch_decode(b, w, d)) != 0 || rbuf_left(b) != 0) {
		r = r != 0 ? r : diag_set(d, WARD_EFORMAT, FIMSTATE_FILE, 0, 0, "bad header");
		goto out;
	}
	s->partial = s->was_partial = (has & HEAD_PARTIAL) != 0;
	if (has & HEAD_WATCH) {
		s->watch = w;
		w = NULL;
	}
out:
	watch_free(w);
	return r;
}

/* One record's payload applied to s.  0, WARD_EFORMAT (a bad record:
 * the reading ends) or WARD_ENOMEM. */
static int
read_record(struct fimstate *s, struct rbuf *b)
{
	struct fimstate_attr a;
	char *path = NULL, *to = NULL;
	uint8_t op;
	int r = rbuf_u8(b, &op);

	if (r == 0)
		r = get_path(b, &path);
	if (r != 0)
		goto out;
	switch (op) {
	case OP_PUT:
		if ((r = get_attr(b, &a)) == 0 && rbuf_left(b) == 0) {
			r = fimstate_put(s, path, &a);
			r = r == WARD_ELIMIT ? 0 : r; /* the rest still counts */
		}
		break;
	case OP_DEL:
	case OP_DELTREE:
		if (rbuf_left(b) == 0)
			fimstate_del(s, path, op == OP_DELTREE);
		break;
	case OP_MOVE:
		if ((r = get_path(b, &to)) == 0 && rbuf_left(b) == 0)
			r = fimstate_move(s, path, to);
		break;
	default:
		r = WARD_EFORMAT;
		break;
	}
	if (r == 0 && rbuf_left(b) != 0)
		r = WARD_EFORMAT;
out:
	ward_free(path);
	ward_free(to);
	return r;
}

/* The next frame's payload in *pl; WARD_EFORMAT when torn or corrupted. */
static int
next_frame(struct rbuf *b, struct rbuf *pl)
{
	const uint8_t *p;
	uint32_t len, crc;
	size_t at = b->off;
	int r = rbuf_u32(b, &len);

	if (r == 0)
		r = rbuf_u32(b, &crc);
	if (r == 0 && len > FRAME_MAX)
		r = WARD_EFORMAT;
	if (r == 0)
		r = rbuf_bytes(b, len, &p);
	if (r == 0 && journal_crc32c(p, len) != crc)
		r = WARD_EFORMAT;
	if (r != 0)
		b->off = at;
	else
		rbuf_init(pl, p, len);
	return r;
}

int
fimstate_decode(struct fimstate *s, const void *p, size_t n, int *torn, struct ward_diag *d)
{
	struct rbuf b, pl;
	int r;

	*torn = 0;
	rbuf_init(&b, p, n);
	if (next_frame(&b, &pl) != 0) {
		r = diag_set(d, WARD_EFORMAT, FIMSTATE_FILE, 0, 0, "not a FIM state file");
		goto out;
	}
	if ((r = read_head(s, &pl, d)) != 0)
		goto out;
	while (rbuf_left(&b) > 0) {
		if (next_frame(&b, &pl) != 0 || (r = read_record(s, &pl)) == WARD_EFORMAT) {
			*torn = 1;
			r = 0;
			break;
		}
		if (r != 0) {
			r = diag_set(d, r, FIMSTATE_FILE, 0, 0, "out of memory");
			goto out;
		}
	}
out:
	return r;
}

int
fimstate_load_at(struct fimstate *s, int dfd, const char *name, int *torn, struct ward_diag *d)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t k;
	int fd, r = 0;

	*torn = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		r = diag_set(d, WARD_EIO, name, 0, 0, "cannot open: %s", strerror(e));
		errno = e;
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > WARD_MAX_FIM_STATE_BYTES) {
		r = diag_set(d, WARD_EIO, name, 0, 0, "not a regular file of at most %u bytes",
			     WARD_MAX_FIM_STATE_BYTES);
		errno = EINVAL;
		goto out;
	}
	if ((buf = ward_malloc((size_t)st.st_size + 1)) == NULL) {
		r = diag_set(d, WARD_ENOMEM, name, 0, 0, "out of memory");
		goto out;
	}
	/* What was there when looked at: a file growing meanwhile is read
	 * up to that size. */
	while (
	    got < (size_t)st.st_size &&
	    ((k = read(fd, buf + got, (size_t)st.st_size - got)) > 0 || (k < 0 && errno == EINTR)))
		got += k > 0 ? (size_t)k : 0;
	r = fimstate_decode(s, buf, got, torn, d);
out:
	if (fd >= 0)
		close(fd);
	ward_free(buf);
	return r;
}

int
fimstate_save_at(const struct fimstate *s, int dfd, const char *name, int *fd, struct ward_diag *d)
{
	struct wbuf b;
	int r;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	wbuf_init(&b);
	if (fimstate_encode(s, &b) != 0) {
		r = diag_set(d, WARD_ENOMEM, name, 0, 0, "out of memory");
		goto out;
	}
	if ((r = file_replace_at(dfd, name, b.p, b.len, 0600, 0, d)) != 0)
		goto out;
	*fd = openat(dfd, name, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (*fd < 0)
		r = diag_set(d, WARD_EIO, name, 0, 0, "cannot open to append: %s", strerror(errno));
out:
	wbuf_free(&b);
	return r;
}

/* --- the catch-up ---------------------------------------------------------- */

void
fimstate_scan_begin(struct fimstate *s)
{
	size_t i;
	unsigned k;

	for (i = 0; i < s->nb; i++) {
		struct node *e;

		for (e = s->b[i]; e != NULL; e = e->next)
			e->flags &= ~(unsigned)(SEEN | READ);
	}
	for (k = 0; k < s->nextra; k++)
		ward_free(s->extra[k]);
	s->nextra = 0;
	s->partial = 0; /* the walk puts every file again */
}

int
fimstate_scan_found(struct fimstate *s, const char *path, const struct fimstate_attr *a,
		    enum fimstate_how how, enum sensor_fim_action *act)
{
	struct node *e = find(s, path);
	int r = 0, isnew = e == NULL || (e->flags & GONE);

	if (how == FIMSTATE_KEEP && !isnew) {
		e->flags |= SEEN;
		goto out;
	}
	if (e == NULL && (e = get_node(s, path, &r)) == NULL)
		goto out;
	if (how == FIMSTATE_REPORT && isnew && !s->was_partial) {
		*act = SENSOR_FIM_CREATED;
		r = 1;
	} else if (how == FIMSTATE_REPORT && !isnew) {
		r = fimstate_differs(&e->a, a, act);
	}
	if (e->flags & GONE)
		s->ngone--;
	e->flags = (e->flags & ~(unsigned)GONE) | SEEN | (r == 1 ? CAUGHT : 0);
	e->a = *a;
out:
	return r;
}

int
fimstate_scan_read(struct fimstate *s, const char *path)
{
	struct node *e = find(s, path);
	int r = 0;

	if (e != NULL && !(e->flags & GONE)) {
		e->flags |= SEEN | READ;
	} else if (s->nextra < EXTRA_READ_MAX) {
		if ((s->extra[s->nextra] = ward_strdup(path)) == NULL)
			r = WARD_ENOMEM;
		else
			s->nextra++;
	}
	return r;
}

static int
extra_read(const struct fimstate *s, const char *path)
{
	unsigned k;

	for (k = 0; k < s->nextra; k++)
		if (strcmp(s->extra[k], path) == 0)
			return 1;
	return 0;
}

/* 1 if the walk read the nearest directory above path that it saw. */
static int
parent_read(const struct fimstate *s, const char *path)
{
	char p[PATH_MAX];
	char *slash;

	snprintf(p, sizeof(p), "%s", path);
	while ((slash = strrchr(p, '/')) != NULL && strcmp(p, "/") != 0) {
		const struct node *e;

		slash[slash == p] = '\0'; /* "/a" -> "/" */
		if (extra_read(s, p))
			return 1;
		e = find(s, p);
		if (e != NULL && !(e->flags & GONE) && (e->flags & SEEN))
			return (e->flags & READ) != 0;
	}
	return 0;
}

static int
drop_flagged(struct node *e, const void *arg)
{
	(void)arg;
	return (e->flags & DROP) != 0;
}

void
fimstate_scan_end(struct fimstate *s, int (*covered)(void *arg, const char *path),
		  void (*gone)(void *arg, const char *path), void *arg)
{
	size_t i;

	for (i = 0; i < s->nb; i++) {
		struct node *e;

		for (e = s->b[i]; e != NULL; e = e->next) {
			if (e->flags & (SEEN | GONE))
				continue;
			if (!covered(arg, e->path)) {
				e->flags |= DROP;
			} else if (gone != NULL && parent_read(s, e->path)) {
				e->flags |= GONE | CAUGHT;
				s->ngone++;
			}
		}
	}
	/* Said once all are decided: a parent's GONE must not hide that
	 * the walk read the directory above it. */
	for (i = 0; i < s->nb; i++) {
		struct node *e;

		for (e = s->b[i]; e != NULL; e = e->next)
			if ((e->flags & (GONE | CAUGHT)) == (GONE | CAUGHT) && gone != NULL &&
			    !(e->flags & DROP))
				gone(arg, e->path);
	}
	sweep(s, drop_flagged, NULL);
}

int
fimstate_live(struct fimstate *s, const char *path, const struct fimstate_attr *a,
	      enum sensor_fim_action *act)
{
	struct node *e = find(s, path);
	enum sensor_fim_action was;
	int r = 1;

	if (e == NULL || !(e->flags & CAUGHT))
		goto out;
	if ((e->flags & GONE) && *act == SENSOR_FIM_DELETED) {
		r = 0; /* the deletion the catch-up said */
		goto out;
	}
	/* While the file is as the walk saw it (its ctime too: any change
	 * moves it), each event queued is one the catch-up said (a creation
	 * and its close come as two). */
	if (!(e->flags & GONE) && a != NULL && *act != SENSOR_FIM_DELETED &&
	    *act != SENSOR_FIM_RENAMED && !fimstate_differs(&e->a, a, &was)) {
		r = 0;
		goto out;
	}
	e->flags &= ~(unsigned)CAUGHT;
	if ((e->flags & GONE) && *act != SENSOR_FIM_RENAMED)
		*act = SENSOR_FIM_CREATED; /* made anew after the walk found it gone */
	else if (!(e->flags & GONE) && *act == SENSOR_FIM_CREATED && a != NULL &&
		 e->a.ino == a->ino)
		*act = SENSOR_FIM_MODIFIED; /* its creation was said: this is a write */
out:
	return r;
}

static int
drop_gone(struct node *e, const void *arg)
{
	(void)arg;
	e->flags &= ~(unsigned)CAUGHT;
	return (e->flags & GONE) != 0;
}

void
fimstate_caught_done(struct fimstate *s)
{
	sweep(s, drop_gone, NULL);
}

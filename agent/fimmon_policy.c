/*
 * fimmon_policy: the real-time FIM's marks and what it knows of the
 * watched files — applying a policy (at the start, on a content update, on
 * a reload), walking new trees, the catch-up after a restart and the state
 * it keeps for the next one.  See fimmon.h, fimmon_ctx.h and fimstate.h.
 *
 * Must hold: a policy change never leaves a moment in which a directory
 * watched before and after is unmarked (the new set is marked in the same
 * group before the old marks go); a walk reaches directories by
 * descriptor only (fim/tree.h); the state file is appended to right after
 * a change's event is journaled and rewritten whole only atomically.
 */
#include "agent/fimmon_ctx.h"
#include "agent/worker.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

void
fimmon_stat_add(struct fimmon_ctx *f, uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&f->lock);
	*counter += n;
	pthread_mutex_unlock(&f->lock);
}

void
fimmon_say_partial(struct fimmon_ctx *f, int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&f->lock);
	if (f->partial[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(f->partial, sizeof(f->partial), fmt, ap);
		va_end(ap);
		if (err != 0)
			snprintf(f->partial + strlen(f->partial),
				 sizeof(f->partial) - strlen(f->partial), ": %s", strerror(err));
	}
	pthread_mutex_unlock(&f->lock);
}

#ifdef WARD_FAULT_INJECTION
/*
 * Tests: a pause of WARD_FAULT_FIM_STALL_MS when the sensor is about to mark
 * and read a directory named WARD_FAULT_FIM_STALL_DIR, or to look at a file
 * named WARD_FAULT_FIM_STALL_FILE for an event, so that a test can swap it
 * meanwhile; the file WARD_FAULT_FIM_STALL_FLAG is created when the pause
 * begins.
 */
void
fimmon_fault_stall(const char *which, const char *path)
{
	const char *name = getenv(which);
	const char *ms = getenv("WARD_FAULT_FIM_STALL_MS");
	const char *flag = getenv("WARD_FAULT_FIM_STALL_FLAG");
	const char *base = strrchr(path, '/');
	int fd;

	if (name == NULL || ms == NULL || strcmp(base != NULL ? base + 1 : path, name) != 0)
		return;
	if (flag != NULL && (fd = open(flag, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	usleep((useconds_t)atoi(ms) * 1000);
}
#endif

/* Marks the directory open as fd, found at path, and keeps its map entry. */
static int
mark_dir(struct fimmon_ctx *f, int fd, const char *path, const struct fim_tree_id *id)
{
#ifdef WARD_FAULT_INJECTION
	fimmon_fault_stall("WARD_FAULT_FIM_STALL_DIR", path);
#endif
	if (f->st.dirs >= f->cfg->fim_max_dirs) {
		fimmon_say_partial(
		    f, 0, "more than fim.max_dirs directories: %s and later ones are not watched",
		    path);
		return -1;
	}
	if (id == NULL) {
		fimmon_say_partial(f, 0, "%s cannot be watched (no file handles on its filesystem)",
				   path);
		return -1;
	}
	/* The directory the descriptor is, whatever its path leads to now. */
	if (fanotify_mark(f->fan, FAN_MARK_ADD | FAN_MARK_ONLYDIR, MARK_MASK, fd, NULL) != 0) {
		fimmon_say_partial(f, errno, "cannot watch %s", path);
		return -1;
	}
	if (fim_tree_put(f->tree, id, path) > 0)
		fimmon_stat_add(f, &f->st.dirs, 1);
	return 0;
}

struct walk_arg {
	struct fimmon_ctx *f;
	enum walk_mode mode;
	const struct who *w;
};

/*
 * What apply_policy's walk found at l (as st; its entries read if read):
 * at the start, a path watched before is compared with what was known
 * (the catch-up: a difference is reported); on a policy change, a path
 * watched before is left to the kernel's events; a path new in sight is
 * only recorded.
 */
static void
scan_found(struct fimmon_ctx *f, const struct loc *l, const struct stat *st, int read)
{
	enum fimstate_how how = f->prev == NULL || !fim_watch_covers(f->prev, l->path)
				    ? FIMSTATE_QUIET
				: f->scanning ? FIMSTATE_REPORT
					      : FIMSTATE_KEEP;
	enum sensor_fim_action act;
	struct fimstate_attr a;
	int r;

	fimstate_attr_of(st, &a);
	/* A directory is found twice, as its parent's entry and as itself
	 * ("."): counted once. */
	if (how == FIMSTATE_REPORT && (!S_ISDIR(st->st_mode) || strcmp(l->name, ".") == 0))
		fimmon_stat_add(f, &f->cu.checked, 1);
	r = fimstate_scan_found(f->state, l->path, &a, how, &act);
	if (r == WARD_ELIMIT)
		fimmon_say_partial(
		    f, 0, "more than %u files: %s and others are not caught up on after a restart",
		    WARD_MAX_FIM_STATE_ENTRIES, l->path);
	else if (r == 1)
		fimmon_report(f, act, l, NULL, NULL);
	if (read)
		(void)fimstate_scan_read(f->state, l->path);
}

static int
walk_dir(void *arg, int fd, const char *path, const struct fim_tree_id *id)
{
	struct loc l = {path, fd, NULL, "."};
	const struct walk_arg *a = arg;
	struct fimmon_ctx *f = a->f;
	struct stat st;
	int r;

	if (fim_watch_excluded(&f->watch, path))
		return 0;
	r = mark_dir(f, fd, path, id) == 0;
	if (f->walking && fstat(fd, &st) == 0)
		scan_found(f, &l, &st, r);
	return r;
}

static int
walk_entry(void *arg, int dirfd, const char *path, const char *name)
{
	const struct walk_arg *a = arg;
	struct fimmon_ctx *f = a->f;
	struct loc l = {path, dirfd, NULL, name};
	struct stat st;

	if (!fim_watch_covers(&f->watch, path))
		return 0;
	if (a->mode == WALK_MARK_REPORT)
		fimmon_report(f, SENSOR_FIM_CREATED, &l, a->w, NULL);
	else if (f->walking && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		scan_found(f, &l, &st, 0);
	return 1;
}

/* The directory tree of fd (taken), found at path. */
static void
walk(struct fimmon_ctx *f, int fd, const char *path, enum walk_mode mode, const struct who *w)
{
	static const struct fim_tree_ops ops = {walk_dir, walk_entry};
	struct walk_arg a = {f, mode, w};

	if (fim_tree_walk(f->tree, fd, path, &ops, &a) != 0)
		fimmon_say_partial(f, 0, "out of memory while walking %s", path);
}

/* The tree of the directory name in dir (by identity), found at path. */
void
fimmon_walk_at(struct fimmon_ctx *f, const struct fim_tree_id *dir, const char *name,
	       const char *path, enum walk_mode mode, const struct who *w)
{
	int dfd = fim_tree_open(f->tree, dir), fd = -1;

	if (dfd >= 0) {
		/* Only a directory, not a link put in its place since. */
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
	}
	if (fd >= 0)
		walk(f, fd, path, mode, w);
}

/* Marks every path of the policy: trees, and for a single file (or one
 * not there yet) its directory.  The way to each is opened following
 * only root's own symbolic links; the last component, none. */
static void
mark_all(struct fimmon_ctx *f)
{
	char name[NAME_MAX + 1], parent[PATH_MAX];
	struct fim_tree_id id;
	unsigned i;

	for (i = 0; i < f->watch.npaths; i++) {
		const char *p = f->watch.paths[i];
		int pfd = path_open_parent(p, PATH_ROOT_LINKS, name, sizeof(name)), fd;
		char *slash;

		if (pfd < 0 && errno == ELOOP)
			fimmon_say_partial(f, 0, "%s: a symbolic link on its way is not root's", p);
		else if (pfd < 0 && (errno == ENOENT || errno == ENOTDIR))
			fimmon_say_partial(f, 0, "%s does not exist", p);
		else if (pfd < 0)
			fimmon_say_partial(f, errno, "cannot watch %s", p);
		if (pfd < 0)
			continue;
		fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			close(pfd);
			walk(f, fd, p, WALK_MARK, NULL);
			continue;
		}
		snprintf(parent, sizeof(parent), "%s", p);
		while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
			parent[strlen(parent) - 1] = '\0';
		slash = strrchr(parent, '/');
		slash[slash == parent] = '\0';
		if (fim_tree_id_of(pfd, &id) == 0) {
			fim_tree_note(f->tree, &id, parent, pfd);
			(void)mark_dir(f, pfd, parent, &id);
		} else {
			(void)mark_dir(f, pfd, parent, NULL);
		}
		/* The single file (or its absence) is what the walk sees of it. */
		if (f->walking) {
			struct loc l = {p, pfd, NULL, name};
			struct stat st;

			(void)fimstate_scan_read(f->state, parent);
			if (fim_watch_covers(&f->watch, p) &&
			    fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
				scan_found(f, &l, &st, 0);
		}
		close(pfd);
	}
}

/* The policy: configuration plus content, minus the agent's own dirs. */
static int
build_watch(struct fimmon_ctx *f, struct fim_watch *w)
{
	const struct agent_config *c = f->cfg;
	struct active *a = f->host->content_get(f->host->arg);
	struct ward_diag d;
	char own[CONFIG_MAX_PATH + 4];
	unsigned i;
	int r = 0;

	memset(w, 0, sizeof(*w));
	if (!c->fim_realtime) { /* turned off by a reload: watch nothing */
		f->host->content_put(f->host->arg, a);
		return 0;
	}
	for (i = 0; i < c->fim_npaths && r == 0; i++)
		r = fim_watch_add_path(w, c->fim_paths[i], &d);
	for (i = 0; i < c->fim_nexcludes && r == 0; i++)
		r = fim_watch_add_exclude(w, c->fim_excludes[i], &d);
	if (c->fim_content_paths && a != NULL && worker_content_fim(a) != NULL) {
		const struct fim_watch *cw = worker_content_fim(a);

		for (i = 0; i < cw->npaths && r == 0; i++)
			r = fim_watch_add_path(w, cw->paths[i], &d);
		for (i = 0; i < cw->nexcludes && r == 0; i++)
			r = fim_watch_add_exclude(w, cw->excludes[i], &d);
	}
	f->host->content_put(f->host->arg, a);
	snprintf(own, sizeof(own), "%s", c->state_dir);
	if (r == 0)
		r = fim_watch_add_exclude(w, own, &d);
	snprintf(own, sizeof(own), "%s/*", c->state_dir);
	if (r == 0)
		r = fim_watch_add_exclude(w, own, &d);
	snprintf(own, sizeof(own), "%s", c->run_dir);
	if (r == 0)
		r = fim_watch_add_exclude(w, own, &d);
	snprintf(own, sizeof(own), "%s/*", c->run_dir);
	if (r == 0)
		r = fim_watch_add_exclude(w, own, &d);
	if (r != 0)
		fimmon_say_partial(f, 0, "%.250s", d.msg);
	return r;
}

static int
same_list(char *const *a, unsigned na, char *const *b, unsigned nb)
{
	unsigned i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

/* A tree whose directories' marks are removed, in the sensor f. */
struct unmark_arg {
	struct fimmon_ctx *f;
	struct fim_tree *t;
};

/* Removes the mark of the directory id of the tree of arg. */
static void
unmark(void *arg, const struct fim_tree_id *id)
{
	const struct unmark_arg *u = arg;
	int fd = fim_tree_open(u->t, id);

	if (fd >= 0) {
		(void)fanotify_mark(u->f->fan, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, MARK_MASK, fd,
				    NULL);
		close(fd);
	}
}

/* The old tree's directory id, unless the new policy keeps it marked. */
static void
unmark_stale(void *arg, const struct fim_tree_id *id)
{
	const struct unmark_arg *u = arg;

	if (fim_tree_path(u->f->tree, id) == NULL)
		unmark(arg, id);
}

static int
covered(void *arg, const char *path)
{
	const struct fimmon_ctx *f = arg;

	return fim_watch_covers(&f->watch, path);
}

/* A file the catch-up found gone. */
static void
scan_gone(void *arg, const char *path)
{
	struct fimmon_ctx *f = arg;
	struct loc l = {path, -1, NULL, NULL};

	fimmon_report(f, SENSOR_FIM_DELETED, &l, NULL, NULL);
}

/* The state written whole (then appended to again). */
void
fimmon_save_state(struct fimmon_ctx *f)
{
	struct ward_diag d;
	struct stat st;
	char msg[400];

	if (f->sdir < 0)
		return;
	if (fimstate_save_at(f->state, f->sdir, FIMSTATE_FILE, &f->sfd, &d) != 0) {
		snprintf(msg, sizeof(msg), "fim: cannot keep its state for a restart: %.300s",
			 d.msg);
		f->host->log(f->host->arg, msg);
	}
	f->appended = 0;
	f->saved = f->sfd >= 0 && fstat(f->sfd, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/*
 * (Re)applies the policy; nothing happens when it did not change (unless
 * force).  The new set of directories is marked in the same group before
 * the marks the new set does not keep are removed: a directory watched
 * before and after stays marked throughout (marking it again only adds
 * to its mark), so no change there goes unseen, and as one group gets one
 * event per change, none is said twice.  The first time (the start), the
 * walk is also the catch-up.
 */
void
fimmon_apply_policy(struct fimmon_ctx *f, int force)
{
	struct fim_tree *old = f->tree;
	struct unmark_arg u = {f, old};
	struct fim_watch w, was;
	char parent[PATH_MAX];
	unsigned i;

	(void)build_watch(f, &w);
	if (!force && same_list(w.paths, w.npaths, f->watch.paths, f->watch.npaths) &&
	    same_list(w.excludes, w.nexcludes, f->watch.excludes, f->watch.nexcludes)) {
		fim_watch_free(&w);
		return;
	}
	if (fim_tree_new(&f->tree) != 0) {
		f->tree = old;
		fim_watch_free(&w);
		fimmon_say_partial(f, 0, "out of memory: a change of the policy is not applied");
		return;
	}
	pthread_mutex_lock(&f->lock);
	f->st.dirs = 0;
	f->partial[0] = '\0';
	pthread_mutex_unlock(&f->lock);
	was = f->watch;
	f->watch = w;
	f->scanning = !f->applied;
	f->prev = f->scanning ? fimstate_watch(f->state) : &was;
	f->walking = 1;
	fimstate_scan_begin(f->state);
	mark_all(f);
	f->walking = 0;
	/* Every directory of the old tree is under one of its paths or their
	 * parents. */
	for (i = 0; i < was.npaths; i++) {
		char *slash;

		(void)fim_tree_del_under(old, was.paths[i], unmark_stale, &u);
		snprintf(parent, sizeof(parent), "%s", was.paths[i]);
		if ((slash = strrchr(parent, '/')) != NULL) {
			slash[slash == parent] = '\0';
			(void)fim_tree_del_under(old, parent, unmark_stale, &u);
		}
	}
	fim_tree_free(old);
	fimstate_scan_end(f->state, covered, f->scanning ? scan_gone : NULL, f);
	f->prev = NULL;
	f->scanning = 0;
	f->catching |= !f->applied;
	f->applied = 1;
	fim_watch_free(&was);
	if (fimstate_set_watch(f->state, &f->watch) != 0)
		fimmon_say_partial(f, 0, "out of memory: no catch-up after a restart");
	fimmon_save_state(f);
}

/* The records of b appended to the state file, by one write. */
static void
append(struct fimmon_ctx *f, const struct wbuf *b)
{
	if (f->sfd >= 0 && b->err == 0 && b->len > 0 && file_write_all(f->sfd, b->p, b->len) == 0)
		f->appended += b->len;
}

/*
 * What the state knows once a change of l's file was said or left unsaid
 * (st: the file as looked at, or NULL): appended to the state file at
 * once, right after the event was journaled, so that a restart reports
 * it neither again nor never.  apply_policy's walk and catch-up record
 * what they find themselves (and write the whole state after).
 */
void
fimmon_record(struct fimmon_ctx *f, enum sensor_fim_action action, const struct loc *l,
	      const struct stat *st, const char *previous)
{
	struct fimstate_attr a;
	struct stat own;
	struct wbuf b;
	int fd = l->dirfd;

	if (f->walking || f->scanning)
		return;
	wbuf_init(&b);
	/* (A directory is deleted empty; one moved out of sight is forgotten
	 * with its subtree by fimmon_forget_subtree.) */
	if (action == SENSOR_FIM_DELETED) {
		fimstate_del(f->state, l->path, 0);
		fimstate_frame_del(&b, l->path, 0);
		goto write;
	}
	if (action == SENSOR_FIM_RENAMED && previous != NULL) {
		(void)fimstate_move(f->state, previous, l->path);
		fimstate_frame_move(&b, previous, l->path);
	}
	if (st == NULL && fd < 0 && l->dir != NULL)
		fd = fim_tree_dir(f->tree, l->dir);
	if (st == NULL && fd >= 0 && l->name != NULL &&
	    fim_file_at(fd, l->name, NULL, NULL, 0, 0, &own, NULL, 0) == 0)
		st = &own;
	if (st != NULL) {
		fimstate_attr_of(st, &a);
		if (fimstate_put(f->state, l->path, &a) == 0)
			fimstate_frame_put(&b, l->path, &a);
	}
write:
	append(f, &b);
	wbuf_free(&b);
}

/* The directory at from and everything under it left the policy's sight
 * (to a place we may not know): their marks, map entries and state go. */
void
fimmon_forget_subtree(struct fimmon_ctx *f, const char *from)
{
	struct unmark_arg u = {f, f->tree};
	size_t n = fim_tree_del_under(f->tree, from, unmark, &u);
	struct wbuf b;

	fimmon_stat_add(f, &f->st.dirs, (uint64_t)0 - n);
	wbuf_init(&b);
	fimstate_del(f->state, from, 1);
	fimstate_frame_del(&b, from, 1);
	append(f, &b);
	wbuf_free(&b);
}

/* What was known before this start (none: nothing to catch up on). */
void
fimmon_load_state(struct fimmon_ctx *f)
{
	struct ward_diag d;
	char msg[400];
	int torn = 0, r;

	if (f->sdir < 0)
		return;
	r = fimstate_load_at(f->state, f->sdir, FIMSTATE_FILE, &torn, &d);
	if (r == WARD_EIO && errno == ENOENT)
		return; /* a first start */
	if (r != 0 || torn) {
		snprintf(msg, sizeof(msg), "fim: its state from before %s: %.300s",
			 r != 0 ? "is not usable, no catch-up this time"
				: "ends early, read up to there",
			 r != 0 ? d.msg : "a torn or corrupted record");
		f->host->log(f->host->arg, msg);
	}
	if (r != 0) {
		fimstate_free(f->state);
		f->state = NULL;
		if (fimstate_new(&f->state) != 0)
			f->sdir = -1; /* (start had one: memory is short, no catch-up) */
		return;
	}
	pthread_mutex_lock(&f->lock);
	f->cu.previous = 1;
	f->cu.known = fimstate_count(f->state);
	pthread_mutex_unlock(&f->lock);
}

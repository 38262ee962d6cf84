/*
 * fimmon: real-time FIM — its thread, the kernel's events, reporting.
 * See fimmon.h; marks, policy, the catch-up after a restart and the state
 * kept for it are in fimmon_policy.c.
 *
 * Must hold: one thread owns the fanotify group, the directory map and
 * the rate table (no locks but the stats'); an event whose directory is
 * unknown or whose path is outside the policy is dropped, never reported
 * under a wrong path; a process gone before it is read yields a partial,
 * flagged event; the kernel's queue overflow is an event too.  Users own
 * directories in watched trees: nothing is marked, walked or looked at by
 * a path — a directory by its descriptor or its identity (fim/tree.h), a
 * file by its name in its directory's descriptor (fim_file_at) — so that
 * a path changed between a check and a use cannot send root elsewhere.
 */
#include "agent/fimmon_ctx.h"
#include "agent/sensor_event.h"
#include "agent/procfs.h"
#include "agent/worker.h"
#include "crypto/digest.h"
#include "event/event.h"
#include "fim/fim.h"
#include "fim/tree.h"
#include "fim/watch.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/limits.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct fimmon_ctx *
fimmon_new(void)
{
	struct fimmon_ctx *f = ward_calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->fan = f->wake = f->sdir = f->sfd = -1;
	pthread_mutex_init(&f->lock, NULL);
	return f;
}

void
fimmon_free(struct fimmon_ctx *f)
{
	unsigned i;

	if (f == NULL)
		return;
	for (i = 0; i < f->npend; i++)
		ward_free(f->pend[i].path);
	fim_watch_free(&f->watch);
	fim_tree_free(f->tree);
	fimstate_free(f->state);
	digest_free(f->dc);
	ward_free(f->buf);
	ward_free(f->cfg);
	ward_free(f->next);
	if (f->fan >= 0)
		close(f->fan);
	if (f->wake >= 0)
		close(f->wake);
	if (f->sdir >= 0)
		close(f->sdir);
	if (f->sfd >= 0)
		close(f->sfd);
	pthread_mutex_destroy(&f->lock);
	ward_free(f);
}

/* --- who made the change ------------------------------------------------ */

/* The name and parent of pid: from /proc, or if it is gone, from what
 * the exec sensor saw. */
/* What the exec sensor remembers of pid, through the agent. */
static int
recent_exec(struct fimmon_ctx *f, pid_t pid, char *exe, size_t exelen, char *comm, size_t commlen,
	    pid_t *ppid)
{
	if (f->host->recent_exec == NULL)
		return -1;
	return f->host->recent_exec(f->host->arg, pid, exe, exelen, comm, commlen, ppid);
}

static int
ancestor(void *arg, pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	struct fimmon_ctx *f = arg;
	char exe[8];

	if (procfs_stat(pid, ppid, comm, commlen) == 0)
		return 0;
	return recent_exec(f, pid, exe, sizeof(exe), comm, commlen, ppid);
}

static void
who_of(struct fimmon_ctx *f, pid_t pid, struct who *w)
{
	pid_t pp;
	char comm[32];

	memset(w, 0, sizeof(*w));
	w->pid = pid;
	if (pid <= 0)
		return;
	/* An exited writer (even a zombie) has no exe link any more. */
	if (procfs_link(pid, "exe", w->exe, sizeof(w->exe)) != 0) {
		w->partial = 1;
		(void)recent_exec(f, pid, w->exe, sizeof(w->exe), comm, sizeof(comm), &pp);
	}
	fimwho_ancestry(pid, ancestor, f, w->name, sizeof(w->name), w->pkg, sizeof(w->pkg));
}

/* --- reporting ---------------------------------------------------------- */

/* 1 if an event for path may go out now; counts what the limit holds. */
static int
rate_ok(struct fimmon_ctx *f, const char *path, unsigned *suppressed)
{
	if (fimwho_rate_ok(&f->rates, path, (int64_t)clock_mono(), f->cfg->fim_rate_limit,
			   RATE_WINDOW_S, suppressed))
		return 1;
	fimmon_stat_add(f, &f->st.suppressed, 1);
	return 0;
}

/*
 * Looks at the file of l as the event for action needs (not for a
 * deletion): its metadata in *st, the hash of what was written in hex
 * (hexlen bytes; "" when not hashed), the owner's name in owner.
 * 1 if looked at, 0 if not (gone, not reachable).
 */
static int
look_at(struct fimmon_ctx *f, enum sensor_fim_action action, const struct loc *l, struct stat *st,
	char *hex, size_t hexlen, char *owner, size_t ownerlen)
{
	struct passwd pw, *res = NULL;
	char pwbuf[1024];
	int fd = l->dirfd, r = 0;

	hex[0] = owner[0] = '\0';
	if (!sensor_fim_looks(action))
		goto out;
#ifdef WARD_FAULT_INJECTION
	fimmon_fault_stall("WARD_FAULT_FIM_STALL_FILE", l->path);
#endif
	/* The directory the kernel named, and the name in it: metadata and
	 * hash of one file, wherever its path leads now. */
	if (fd < 0 && l->dir != NULL)
		fd = fim_tree_dir(f->tree, l->dir);
	if (fd < 0 || fim_file_at(fd, l->name, sensor_fim_hashes(action) ? f->dc : NULL, f->buf,
				  1 << 16, HASH_MAX, st, hex, hexlen) != 0)
		goto out;
	if (getpwuid_r(st->st_uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL)
		snprintf(owner, ownerlen, "%s", pw.pw_name);
	r = 1;
out:
	return r;
}

void
fimmon_report(struct fimmon_ctx *f, enum sensor_fim_action action, const struct loc *l,
	      const struct who *w, const char *previous)
{
	struct sensor_fim_change c = {.path = l->path, .previous = previous};
	struct sensor_fim_who who;
	char hex[2 * DIGEST_MAX_SIZE + 1], owner[256];
	struct fimstate_attr a;
	struct stat st;
	json_t *ev;
	int by_pkg = w != NULL && w->pkg[0] != '\0', looked;

	if (by_pkg)
		fimmon_stat_add(f, &f->st.package_manager, 1);
	if ((c.kind = sensor_fim_kind(by_pkg, f->cfg->fim_package_manager)) == NULL ||
	    !rate_ok(f, l->path, &c.suppressed)) {
		fimmon_record(f, action, l, NULL, previous);
		return;
	}
	looked = look_at(f, action, l, &st, hex, sizeof(hex), owner, sizeof(owner));
	if (looked)
		fimstate_attr_of(&st, &a);
	/* A change the catch-up reported and the kernel queued as well. */
	if (f->catching && !f->scanning &&
	    !fimstate_live(f->state, l->path, looked ? &a : NULL, &action)) {
		fimmon_record(f, action, l, looked ? &st : NULL, previous);
		return;
	}
	c.action = action;
	if (looked) {
		c.st = &st;
		c.owner = owner;
		c.hash = hex;
		c.hash_field = f->dc != NULL && digest_ctx_alg(f->dc) == DIGEST_SM3
				   ? "file.hash.sm3"
				   : "file.hash.sha256";
	}
	if (w != NULL) {
		who.pid = w->pid;
		who.exe = w->exe;
		who.name = w->name;
		who.pkg = w->pkg;
		who.partial = w->partial;
		c.who = &who;
	}
	if ((ev = sensor_event_fim(&c)) == NULL)
		return;
	if (f->scanning) /* found by the catch-up, not seen as it happened */
		(void)event_set_str(ev, "ward.fim.detected", "on-start");
	f->host->emit(f->host->arg, ev);
	fimmon_record(f, action, l, looked ? &st : NULL, previous);
	fimmon_stat_add(f, &f->st.reported, 1);
	if (f->scanning)
		fimmon_stat_add(f, &f->cu.reported, 1);
}

/* The event's record r, said and looked at. */
static void
report_rec(struct fimmon_ctx *f, enum sensor_fim_action action, const struct rec *r,
	   const struct who *w, const char *previous)
{
	struct loc l = {r->path, -1, &r->dir, r->name};

	fimmon_report(f, action, &l, w, previous);
}

/* The creation p was waiting for: reported now; p is freed. */
static void
pending_report(struct fimmon_ctx *f, struct pending *p)
{
	struct loc l = {p->path, -1, &p->dir, p->name};

	fimmon_report(f, SENSOR_FIM_CREATED, &l, &p->w, NULL);
	ward_free(p->path);
}

/* Creations wait for their first close (or PENDING_S). */
static void
pending_flush(struct fimmon_ctx *f, int all, double now)
{
	unsigned i = 0;

	while (i < f->npend) {
		struct pending p = f->pend[i];

		if (!all && now - p.at < PENDING_S) {
			i++;
			continue;
		}
		f->pend[i] = f->pend[--f->npend];
		pending_report(f, &p);
	}
}

/* 1 if path's creation was waiting (it is reported now). */
static int
pending_take(struct fimmon_ctx *f, const char *path)
{
	unsigned i;

	for (i = 0; i < f->npend; i++) {
		if (strcmp(f->pend[i].path, path) == 0) {
			struct pending p = f->pend[i];

			f->pend[i] = f->pend[--f->npend];
			pending_report(f, &p);
			return 1;
		}
	}
	return 0;
}

static void
pending_add(struct fimmon_ctx *f, const struct rec *r, const struct who *w)
{
	struct pending *p;

	/* The catch-up may have reported it: that is decided now, while its
	 * events queued meanwhile are read (a write after is a modification). */
	if (f->catching) {
		report_rec(f, SENSOR_FIM_CREATED, r, w, NULL);
		return;
	}
	if (f->npend == PENDING_MAX)
		pending_flush(f, 1, 0);
	p = &f->pend[f->npend];
	if (strlen(r->name) >= sizeof(p->name) || (p->path = ward_strdup(r->path)) == NULL) {
		report_rec(f, SENSOR_FIM_CREATED, r, w, NULL);
		return;
	}
	p->dir = r->dir;
	memcpy(p->name, r->name, strlen(r->name) + 1);
	p->w = *w;
	p->at = clock_mono();
	f->npend++;
}

/* --- events ------------------------------------------------------------- */

/* The record is the object itself (no name, or "."), not an entry of a
 * directory. */
static int
record_is_self(const struct fanotify_event_info_fid *fid)
{
	const struct file_handle *fh = (const void *)fid->handle;

	return fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME ||
	       strcmp((const char *)fh->f_handle + fh->handle_bytes, ".") == 0;
}

/* What an info record names (its directory from the map, plus the name)
 * in *r; 0 when the directory is unknown. */
static int
record_path(struct fimmon_ctx *f, const struct fanotify_event_info_fid *fid, struct rec *r)
{
	const struct file_handle *fh = (const void *)fid->handle;
	const char *dir;

	if (fim_tree_id_make(&fid->fsid, fh, &r->dir) != 0 ||
	    (dir = fim_tree_path(f->tree, &r->dir)) == NULL)
		return 0;
	r->name = (const char *)fh->f_handle + fh->handle_bytes;
	if (fid->hdr.info_type == FAN_EVENT_INFO_TYPE_FID ||
	    fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID || strcmp(r->name, ".") == 0) {
		r->name = ".";
		snprintf(r->path, sizeof(r->path), "%s", dir);
	} else {
		snprintf(r->path, sizeof(r->path), "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
			 r->name);
	}
	return 1;
}

/* A watched directory is gone: forget it (the kernel dropped its mark;
 * its removal was reported by its parent). */
static void
forget_dir(struct fimmon_ctx *f, const struct fanotify_event_info_fid *fid)
{
	struct fim_tree_id id;

	if (record_is_self(fid) &&
	    fim_tree_id_make(&fid->fsid, (const void *)fid->handle, &id) == 0 &&
	    fim_tree_del(f->tree, &id))
		fimmon_stat_add(f, &f->st.dirs, (uint64_t)-1);
}

static void
on_rename(struct fimmon_ctx *f, const struct rec *from, const struct rec *to, int isdir,
	  const struct who *w)
{
	int in_from = from->path[0] != '\0' && fim_watch_covers(&f->watch, from->path);
	int in_to = to->path[0] != '\0' && fim_watch_covers(&f->watch, to->path);

	if (in_from && in_to)
		report_rec(f, SENSOR_FIM_RENAMED, to, w, from->path);
	else if (in_from)
		report_rec(f, SENSOR_FIM_DELETED, from, w, NULL); /* moved out of sight */
	else if (in_to)
		report_rec(f, SENSOR_FIM_CREATED, to, w, NULL);
	/* A directory's subtree moves with it: new paths, and marks on what
	 * came into sight (its entries reported as created), off what left. */
	if (isdir && in_to)
		fimmon_walk_at(f, &to->dir, to->name, to->path,
			       in_from ? WALK_MARK : WALK_MARK_REPORT, w);
	else if (isdir && from->path[0] != '\0')
		fimmon_forget_subtree(f, from->path);
}

static void
handle(struct fimmon_ctx *f, const struct fanotify_event_metadata *md, const char *raw)
{
	const char *p = raw + md->metadata_len, *end = raw + md->event_len;
	const struct fanotify_event_info_fid *self = NULL;
	struct rec path, old, nw;
	int isdir = (md->mask & FAN_ONDIR) != 0, known = 0;
	struct who w;

	path.path[0] = old.path[0] = nw.path[0] = '\0';
	fimmon_stat_add(f, &f->st.events, 1);
	if (md->mask & FAN_Q_OVERFLOW) {
		json_t *ev = event_new("alert", "file", "info", "fim-events-lost", "failure");

		fimmon_stat_add(f, &f->st.lost, 1);
		if (ev != NULL) {
			event_set_str(ev, "message",
				      "the kernel's event queue overflowed: some file "
				      "changes were not seen (run ward fim check)");
			f->host->emit(f->host->arg, ev);
		}
		return;
	}
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_fid *fid = (const void *)p;

		if (fid->hdr.len == 0 || p + fid->hdr.len > end)
			break;
		switch (fid->hdr.info_type) {
		case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
			known |= record_path(f, fid, &old);
			break;
		case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
			known |= record_path(f, fid, &nw);
			break;
		case FAN_EVENT_INFO_TYPE_DFID_NAME:
		case FAN_EVENT_INFO_TYPE_DFID:
		case FAN_EVENT_INFO_TYPE_FID:
			known |= record_path(f, fid, &path);
			self = fid;
			break;
		default:
			break;
		}
		p += fid->hdr.len;
	}
	if (md->fd >= 0)
		close(md->fd);
	if (!known)
		return;
	if ((md->mask & FAN_DELETE_SELF) && self != NULL) {
		forget_dir(f, self);
		return;
	}
	who_of(f, md->pid, &w);
	if (md->mask & FAN_RENAME) {
		on_rename(f, &old, &nw, isdir, &w);
		return;
	}
	if (path.path[0] == '\0' || !fim_watch_covers(&f->watch, path.path))
		return;
	if (md->mask & FAN_CREATE) {
		if (isdir || (md->mask & FAN_CLOSE_WRITE))
			report_rec(f, SENSOR_FIM_CREATED, &path, &w, NULL);
		else
			pending_add(f, &path, &w);
		/* What was made inside before the mark is reported as created. */
		if (isdir)
			fimmon_walk_at(f, &path.dir, path.name, path.path, WALK_MARK_REPORT, &w);
	}
	if ((md->mask & FAN_CLOSE_WRITE) && !(md->mask & FAN_CREATE) && !pending_take(f, path.path))
		report_rec(f, SENSOR_FIM_MODIFIED, &path, &w, NULL);
	if ((md->mask & FAN_ATTRIB) && !(md->mask & (FAN_CREATE | FAN_DELETE)))
		report_rec(f, SENSOR_FIM_ATTRIBUTES, &path, &w, NULL);
	if (md->mask & FAN_DELETE) {
		(void)pending_take(f, path.path);
		report_rec(f, SENSOR_FIM_DELETED, &path, &w, NULL);
	}
}

/* --- the thread --------------------------------------------------------- */

/* The events in buf[0..n).  With file identifiers their lengths are
 * multiples of 4, not 8: each header is copied out before it is read. */
static void
handle_all(struct fimmon_ctx *f, const char *buf, size_t n)
{
	struct fanotify_event_metadata md;
	size_t off = 0;

	while (n - off >= sizeof(md)) {
		memcpy(&md, buf + off, sizeof(md));
		if (md.event_len < sizeof(md) || md.event_len > n - off)
			break;
		if (md.vers == FANOTIFY_METADATA_VERSION && md.metadata_len >= sizeof(md) &&
		    md.metadata_len <= md.event_len)
			handle(f, &md, buf + off);
		else if (md.fd >= 0)
			close(md.fd);
		off += md.event_len;
	}
}

/*
 * Takes a reload's configuration if one came (the fim thread is the only
 * reader of f->cfg, so it swaps it itself).  1 if it did: the policy is
 * applied again whatever it holds (an exclusion or a limit may have
 * changed what is marked).
 */
static int
take_config(struct fimmon_ctx *f)
{
	struct agent_config *c;

	pthread_mutex_lock(&f->lock);
	c = f->next;
	f->next = NULL;
	if (c != NULL)
		f->running = c->fim_realtime;
	pthread_mutex_unlock(&f->lock);
	if (c == NULL)
		return 0;
	if (strcmp(c->fim_hash, f->cfg->fim_hash) != 0) {
		struct digest_ctx *dc = NULL;

		if (digest_new(strcmp(c->fim_hash, "sm3") == 0 ? DIGEST_SM3 : DIGEST_SHA256, &dc) ==
		    0) {
			digest_free(f->dc);
			f->dc = dc;
		}
	}
	ward_free(f->cfg);
	f->cfg = c;
	memset(&f->rates, 0, sizeof(f->rates)); /* fim.rate_limit may have changed */
	return 1;
}

/* The events the kernel queued, all read. */
static void
drain(struct fimmon_ctx *f, char *buf, size_t len)
{
	ssize_t n;

	while ((n = read(f->fan, buf, len)) > 0)
		handle_all(f, buf, (size_t)n);
}

static void *
fim_thread(void *arg)
{
	char buf[64 * 1024] __attribute__((aligned(8)));
	struct fimmon_ctx *f = arg;
	double kept = clock_mono();

	fim_lower_priority();
	fimmon_load_state(f);
	fimmon_apply_policy(f, 1);
	/* The changes queued during the catch-up are read with its reports at
	 * hand (each said once); from then on the kernel's events alone say. */
	drain(f, buf, sizeof(buf));
	fimstate_caught_done(f->state);
	f->catching = 0;
	pthread_mutex_lock(&f->lock);
	f->cu.state = FIMMON_CATCHUP_DONE;
	f->cu.ms = (uint64_t)((clock_mono() - f->cu_begin) * 1000);
	pthread_mutex_unlock(&f->lock);
	for (;;) {
		struct pollfd pf[2] = {{f->fan, POLLIN, 0}, {f->wake, POLLIN, 0}};
		int quiet;

		quiet = poll(pf, 2, f->npend > 0 ? 100 : 1000) == 0;
		if (pf[1].revents & POLLIN) {
			uint64_t v;

			if (read(f->wake, &v, sizeof(v)) == (ssize_t)sizeof(v))
				fimmon_apply_policy(f, take_config(f));
		}
		if (pf[0].revents & POLLIN)
			drain(f, buf, sizeof(buf));
		pending_flush(f, 0, clock_mono());
		/* Rewritten whole once the appended part is as large as the whole
		 * (and at a quarter of what a start reads at most: a whole is cut
		 * at half of it, so the file always stays readable). */
		if (f->appended > STATE_COMPACT &&
		    (f->appended > f->saved || f->appended > WARD_MAX_FIM_STATE_BYTES / 4))
			fimmon_save_state(f);
		/* The descriptors of watched filesystems, kept while events come
		 * (reopening one per event costs), go when it is quiet and at
		 * least every FS_KEEP_S: an idle sensor holds no filesystem busy. */
		if (quiet || clock_mono() - kept >= FS_KEEP_S) {
			fim_tree_idle(f->tree);
			kept = clock_mono();
		}
	}
	return NULL;
}

int
fimmon_start(struct fimmon_ctx *f, const struct sensor_host *h, const struct agent_config *c,
	     char *why, size_t whylen)
{
	enum digest_alg alg = strcmp(c->fim_hash, "sm3") == 0 ? DIGEST_SM3 : DIGEST_SHA256;
	pthread_t t;

	why[0] = '\0';
	f->host = h;
	f->cfg = ward_malloc(sizeof(*f->cfg));
	if (f->cfg == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	memcpy(f->cfg, c, sizeof(*f->cfg));
	f->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			       O_RDONLY | O_CLOEXEC);
	if (f->fan < 0) {
		snprintf(why, whylen,
			 "fanotify with file identifiers is not available (Linux 5.9 or later): %s",
			 strerror(errno));
		ward_free(f->cfg);
		f->cfg = NULL;
		return WARD_EIO;
	}
	/* FAN_RENAME (Linux 5.17) reports both names of a rename at once. */
	if (fanotify_mark(f->fan, FAN_MARK_ADD | FAN_MARK_ONLYDIR, MARK_MASK, AT_FDCWD,
			  c->state_dir) != 0 &&
	    errno == EINVAL) {
		snprintf(why, whylen,
			 "fanotify rename events are not available (Linux 5.17 or later)");
		goto fail;
	}
	(void)fanotify_mark(f->fan, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, MARK_MASK, AT_FDCWD,
			    c->state_dir);
	f->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->buf = ward_malloc(1 << 16);
	if (f->wake < 0 || f->buf == NULL || digest_new(alg, &f->dc) != 0 ||
	    fim_tree_new(&f->tree) != 0 || fimstate_new(&f->state) != 0) {
		snprintf(why, whylen, "out of resources");
		goto fail;
	}
	/* Without it, the sensor runs, with no catch-up after a restart. */
	f->sdir = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	pthread_mutex_lock(&f->lock);
	memset(&f->cu, 0, sizeof(f->cu));
	f->cu.state = FIMMON_CATCHUP_RUNNING;
	f->cu_begin = clock_mono();
	pthread_mutex_unlock(&f->lock);
	if (pthread_create(&t, NULL, fim_thread, f) != 0) {
		snprintf(why, whylen, "cannot start a thread");
		goto fail;
	}
	pthread_detach(t);
	pthread_mutex_lock(&f->lock);
	f->running = 1;
	f->started = 1;
	pthread_mutex_unlock(&f->lock);
	return 0;
fail:
	ward_free(f->cfg);
	f->cfg = NULL;
	ward_free(f->buf);
	f->buf = NULL;
	digest_free(f->dc);
	f->dc = NULL;
	fim_tree_free(f->tree);
	f->tree = NULL;
	fimstate_free(f->state);
	f->state = NULL;
	if (f->sdir >= 0)
		close(f->sdir);
	f->sdir = -1;
	close(f->fan);
	f->fan = -1;
	if (f->wake >= 0)
		close(f->wake);
	f->wake = -1;
	return WARD_EIO;
}

int
fimmon_running(struct fimmon_ctx *f)
{
	int r;

	pthread_mutex_lock(&f->lock);
	r = f->running;
	pthread_mutex_unlock(&f->lock);
	return r;
}

void
fimmon_get_stats(struct fimmon_ctx *f, struct fimmon_stats *st, struct fimmon_catchup *cu,
		 char *partial, size_t partlen)
{
	pthread_mutex_lock(&f->lock);
	*st = f->st;
	*cu = f->cu;
	if (cu->state == FIMMON_CATCHUP_RUNNING)
		cu->ms = (uint64_t)((clock_mono() - f->cu_begin) * 1000);
	snprintf(partial, partlen, "%s", f->partial);
	pthread_mutex_unlock(&f->lock);
}

void
fimmon_content_changed(struct fimmon_ctx *f)
{
	uint64_t one = 1;

	if (fimmon_running(f) && write(f->wake, &one, sizeof(one)) < 0) {
		/* A wake-up is already pending. */
	}
}

int
fimmon_reconfigure(struct fimmon_ctx *f, const struct sensor_host *h, const struct agent_config *c,
		   char *why, size_t whylen)
{
	struct agent_config *copy;
	uint64_t one = 1;
	int started;

	why[0] = '\0';
	pthread_mutex_lock(&f->lock);
	started = f->started;
	pthread_mutex_unlock(&f->lock);
	if (!started) /* off since the start: fim.realtime was false, or it failed */
		return c->fim_realtime ? fimmon_start(f, h, c, why, whylen) : 0;
	copy = ward_malloc(sizeof(*copy));
	if (copy == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	memcpy(copy, c, sizeof(*copy));
	pthread_mutex_lock(&f->lock);
	ward_free(f->next); /* one not taken yet: this one is newer */
	f->next = copy;
	pthread_mutex_unlock(&f->lock);
	if (write(f->wake, &one, sizeof(one)) < 0) {
		/* A wake-up is already pending. */
	}
	return 0;
}

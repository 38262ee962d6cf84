/*
 * fimmon: real-time FIM.  See fimmon.h.
 *
 * Must hold: one thread owns the fanotify group, the directory map and
 * the rate table (no locks but the stats'); an event whose directory is
 * unknown or whose path is outside the policy is dropped, never reported
 * under a wrong path; a process gone before it is read yields a partial,
 * flagged event; the kernel's queue overflow is an event too.
 */
#include "agent/fimmon.h"
#include "agent/procfs.h"
#include "agent/procmon.h"
#include "agent/worker.h"
#include "crypto/digest.h"
#include "event/event.h"
#include "fim/fim.h"
#include "fim/watch.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <dirent.h>
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
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define MARK_MASK                                                                                  \
	(FAN_CREATE | FAN_DELETE | FAN_RENAME | FAN_CLOSE_WRITE | FAN_ATTRIB | FAN_DELETE_SELF |   \
	 FAN_ONDIR | FAN_EVENT_ON_CHILD)
#define KEY_MAX (8 + 8 + MAX_HANDLE_SZ)
#define RATE_SLOTS 4096
#define RATE_WINDOW_S 60
#define PENDING_MAX 256
#define PENDING_S 0.5		   /* a creation waits this long for its first close */
#define HASH_MAX (64ull << 20) /* larger files are reported without a hash */
#define ANCESTRY_MAX 16

/* A directory we marked: its file handle (with fsid) and its path. */
struct dent {
	uint64_t h;
	unsigned klen; /* 0: free */
	unsigned char key[KEY_MAX];
	char *path;
};

struct rate {
	uint64_t h;
	int64_t window; /* when it began, monotonic seconds */
	unsigned count, suppressed;
};

/* Who made a change. */
struct who {
	pid_t pid;
	char exe[PATH_MAX], name[32], pkg[32];
	int partial;
};

/* A creation waiting for its first close (to report the final size and
 * hash once). */
struct pending {
	char *path;
	struct who w;
	double at;
};

static const char *const package_managers[] = {
    "dpkg", "rpm", "apt", "apt-get", "aptitude", "yum", "dnf", "zypper", "apk", "pacman",
    "unattended-upgr", "packagekitd", "microdnf", "tdnf", NULL};

static struct {
	const struct agent_config *cfg;
	int fan, wake;
	int running;
	struct fim_watch watch;
	struct dent *map;
	size_t mapcap, mapn;
	struct rate rates[RATE_SLOTS];
	struct pending pend[PENDING_MAX];
	unsigned npend;
	struct digest_ctx *dc;
	uint8_t *buf;
	pthread_mutex_t lock; /* st, partial */
	struct fimmon_stats st;
	char partial[300];
} F = {.fan = -1, .wake = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static void
stat_add(uint64_t *counter, uint64_t n)
{
	pthread_mutex_lock(&F.lock);
	*counter += n;
	pthread_mutex_unlock(&F.lock);
}

static void say_partial(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Says (once, the first reason) why the sensor watches less than asked. */
static void
say_partial(int err, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&F.lock);
	if (F.partial[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(F.partial, sizeof(F.partial), fmt, ap);
		va_end(ap);
		if (err != 0)
			snprintf(F.partial + strlen(F.partial), sizeof(F.partial) - strlen(F.partial),
				 ": %s", strerror(err));
	}
	pthread_mutex_unlock(&F.lock);
}

/* --- the directory map -------------------------------------------------- */

static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

/* The map key of a file handle on the filesystem fsid. */
static unsigned
make_key(const void *fsid, const struct file_handle *fh, unsigned char *key)
{
	unsigned n = fh->handle_bytes;

	if (n > MAX_HANDLE_SZ)
		return 0;
	memcpy(key, fsid, 8);
	memcpy(key + 8, &fh->handle_type, 4);
	memcpy(key + 12, &n, 4);
	memcpy(key + 16, fh->f_handle, n);
	return 16 + n;
}

static struct dent *
map_find(const unsigned char *key, unsigned klen, uint64_t h)
{
	size_t i;

	if (F.mapcap == 0)
		return NULL;
	for (i = h & (F.mapcap - 1);; i = (i + 1) & (F.mapcap - 1)) {
		struct dent *e = &F.map[i];

		if (e->klen == 0)
			return e;
		if (e->h == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
			return e;
	}
}

static int
map_put(const unsigned char *key, unsigned klen, const char *path)
{
	uint64_t h = hash_bytes(key, klen);
	struct dent *e;

	if ((F.mapn + 1) * 2 > F.mapcap) {
		struct dent *old = F.map;
		size_t oldcap = F.mapcap, i;

		F.mapcap = oldcap ? oldcap * 2 : 1024;
		F.map = ward_calloc(F.mapcap, sizeof(*F.map));
		if (F.map == NULL) {
			F.map = old;
			F.mapcap = oldcap;
			return -1;
		}
		for (i = 0; i < oldcap; i++)
			if (old[i].klen != 0)
				*map_find(old[i].key, old[i].klen, old[i].h) = old[i];
		ward_free(old);
	}
	e = map_find(key, klen, h);
	if (e->klen != 0) {
		char *p = ward_strdup(path);

		if (p == NULL)
			return -1;
		ward_free(e->path);
		e->path = p;
		return 0;
	}
	if ((e->path = ward_strdup(path)) == NULL)
		return -1;
	e->h = h;
	e->klen = klen;
	memcpy(e->key, key, klen);
	F.mapn++;
	return 0;
}

/* Removes e, moving later entries of its probe run back into place. */
static void
map_del(struct dent *e)
{
	size_t i = (size_t)(e - F.map), j = i;

	ward_free(e->path);
	e->klen = 0;
	F.mapn--;
	for (;;) {
		size_t want;

		j = (j + 1) & (F.mapcap - 1);
		if (F.map[j].klen == 0)
			return;
		want = F.map[j].h & (F.mapcap - 1);
		/* Move j into the hole i unless its home lies in (i, j]. */
		if ((i <= j) ? (want <= i || want > j) : (want <= i && want > j)) {
			F.map[i] = F.map[j];
			F.map[j].klen = 0;
			i = j;
		}
	}
}

static void
map_clear(void)
{
	size_t i;

	for (i = 0; i < F.mapcap; i++)
		if (F.map[i].klen != 0)
			ward_free(F.map[i].path);
	ward_free(F.map);
	F.map = NULL;
	F.mapcap = F.mapn = 0;
}

/* The key of the directory at path (0 when it has no file handle). */
static unsigned
key_of_path(const char *path, unsigned char *key)
{
	union {
		struct file_handle fh;
		char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	struct statfs sf;
	int mnt;

	u.fh.handle_bytes = MAX_HANDLE_SZ;
	if (statfs(path, &sf) != 0 || name_to_handle_at(AT_FDCWD, path, &u.fh, &mnt, 0) != 0)
		return 0;
	return make_key(&sf.f_fsid, &u.fh, key);
}

/* --- marking ------------------------------------------------------------ */

#ifdef WARD_FAULT_INJECTION
/*
 * Tests: a pause of WARD_FAULT_FIM_STALL_MS when the sensor is about to mark
 * and read a directory named WARD_FAULT_FIM_STALL_DIR, or to look at a file
 * named WARD_FAULT_FIM_STALL_FILE for an event, so that a test can swap it
 * meanwhile; the file WARD_FAULT_FIM_STALL_FLAG is created when the pause
 * begins.
 */
static void
fault_stall(const char *which, const char *path)
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

enum walk_mode { WALK_MARK, WALK_MARK_REPORT, WALK_UNMARK };

static void report_path(const char *action, const char *path, const struct who *w,
			const char *previous);

/* Marks (or unmarks) the directory at path and keeps its map entry. */
static int
mark_dir(const char *path, enum walk_mode mode)
{
	unsigned char key[KEY_MAX];
	unsigned klen;

	if (mode == WALK_UNMARK) {
		(void)fanotify_mark(F.fan, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, MARK_MASK, AT_FDCWD,
				    path);
		if ((klen = key_of_path(path, key)) != 0) {
			struct dent *e = map_find(key, klen, hash_bytes(key, klen));

			if (e != NULL && e->klen != 0) {
				map_del(e);
				stat_add(&F.st.dirs, (uint64_t)-1);
			}
		}
		return 0;
	}
#ifdef WARD_FAULT_INJECTION
	fault_stall("WARD_FAULT_FIM_STALL_DIR", path);
#endif
	if (F.st.dirs >= F.cfg->fim_max_dirs) {
		say_partial(0, "more than fim.max_dirs directories: %s and later ones are not watched", path);
		return -1;
	}
	if ((klen = key_of_path(path, key)) == 0) {
		say_partial(errno, "%s cannot be watched (no file handles on its filesystem)", path);
		return -1;
	}
	if (fanotify_mark(F.fan, FAN_MARK_ADD | FAN_MARK_ONLYDIR, MARK_MASK, AT_FDCWD, path) != 0) {
		say_partial(errno, "cannot watch %s", path);
		return -1;
	}
	{
		struct dent *e = map_find(key, klen, hash_bytes(key, klen));
		int fresh = e == NULL || e->klen == 0;

		if (map_put(key, klen, path) == 0 && fresh)
			stat_add(&F.st.dirs, 1);
	}
	return 0;
}

/* The directory tree at root, depth first with an explicit stack. */
static void
walk(const char *root, enum walk_mode mode, const struct who *w)
{
	char **stack = NULL;
	size_t n = 0, cap = 0;
	char *top;

	if (ward_grow(&stack, &cap, 1, sizeof(*stack)) != 0 || (stack[0] = ward_strdup(root)) == NULL) {
		ward_free(stack);
		return;
	}
	n = 1;
	while (n > 0) {
		DIR *dir;
		struct dirent *de;

		top = stack[--n];
		if ((mode != WALK_UNMARK && fim_watch_excluded(&F.watch, top)) ||
		    mark_dir(top, mode) != 0 || (dir = opendir(top)) == NULL) {
			ward_free(top);
			continue;
		}
		while ((de = readdir(dir)) != NULL) {
			char path[PATH_MAX];
			struct stat st;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", strcmp(top, "/") == 0 ? "" : top,
				     de->d_name) >= (int)sizeof(path))
				continue;
			if (mode != WALK_UNMARK && !fim_watch_covers(&F.watch, path))
				continue;
			if (mode == WALK_MARK_REPORT)
				report_path("file-created", path, w, NULL);
			if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
				continue;
			if (ward_grow(&stack, &cap, n + 1, sizeof(*stack)) != 0)
				break;
			if ((stack[n] = ward_strdup(path)) != NULL)
				n++;
		}
		closedir(dir);
		ward_free(top);
	}
	while (n > 0)
		ward_free(stack[--n]);
	ward_free(stack);
}

/* Marks every path of the policy: trees, and for a single file (or one
 * not there yet) its directory. */
static void
mark_all(void)
{
	unsigned i;

	for (i = 0; i < F.watch.npaths; i++) {
		const char *p = F.watch.paths[i];
		struct stat st;

		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			walk(p, WALK_MARK, NULL);
		} else {
			char parent[PATH_MAX];
			char *slash;

			snprintf(parent, sizeof(parent), "%s", p);
			slash = strrchr(parent, '/');
			if (slash == parent)
				slash[1] = '\0';
			else if (slash != NULL)
				*slash = '\0';
			if (lstat(parent, &st) != 0 || !S_ISDIR(st.st_mode))
				say_partial(0, "%s does not exist", p);
			else
				(void)mark_dir(parent, WALK_MARK);
		}
	}
}

/* The policy: configuration plus content, minus the agent's own dirs. */
static int
build_watch(struct fim_watch *w)
{
	const struct agent_config *c = F.cfg;
	struct active *a = worker_content_get();
	struct ward_diag d;
	char own[CONFIG_MAX_PATH + 4];
	unsigned i;
	int r = 0;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < c->fim_npaths && r == 0; i++)
		r = fim_watch_add_path(w, c->fim_paths[i], &d);
	for (i = 0; i < c->fim_nexcludes && r == 0; i++)
		r = fim_watch_add_exclude(w, c->fim_excludes[i], &d);
	if (a != NULL && worker_content_fim(a) != NULL) {
		const struct fim_watch *cw = worker_content_fim(a);

		for (i = 0; i < cw->npaths && r == 0; i++)
			r = fim_watch_add_path(w, cw->paths[i], &d);
		for (i = 0; i < cw->nexcludes && r == 0; i++)
			r = fim_watch_add_exclude(w, cw->excludes[i], &d);
	}
	worker_content_put(a);
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
		say_partial(0, "%.250s", d.msg);
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

/* (Re)applies the policy; nothing happens when it did not change. */
static void
apply_policy(int first)
{
	struct fim_watch w;

	(void)build_watch(&w);
	if (!first && same_list(w.paths, w.npaths, F.watch.paths, F.watch.npaths) &&
	    same_list(w.excludes, w.nexcludes, F.watch.excludes, F.watch.nexcludes)) {
		fim_watch_free(&w);
		return;
	}
	(void)fanotify_mark(F.fan, FAN_MARK_FLUSH, 0, AT_FDCWD, NULL);
	map_clear();
	pthread_mutex_lock(&F.lock);
	F.st.dirs = 0;
	F.partial[0] = '\0';
	pthread_mutex_unlock(&F.lock);
	fim_watch_free(&F.watch);
	F.watch = w;
	mark_all();
}

/* --- who made the change ------------------------------------------------ */

/* The name and parent of pid: from /proc, or if it is gone, from what
 * the exec sensor saw. */
static int
ancestor(pid_t pid, pid_t *ppid, char *comm, size_t commlen)
{
	char exe[8];

	if (procfs_stat(pid, ppid, comm, commlen) == 0)
		return 0;
	return procmon_recent(pid, exe, sizeof(exe), comm, commlen, ppid);
}

static void
who_of(pid_t pid, struct who *w)
{
	pid_t p = pid, pp;
	char comm[32];
	unsigned depth, i;

	memset(w, 0, sizeof(*w));
	w->pid = pid;
	if (pid <= 0)
		return;
	/* An exited writer (even a zombie) has no exe link any more. */
	if (procfs_link(pid, "exe", w->exe, sizeof(w->exe)) != 0) {
		w->partial = 1;
		(void)procmon_recent(pid, w->exe, sizeof(w->exe), comm, sizeof(comm), &pp);
	}
	for (depth = 0; depth < ANCESTRY_MAX && p > 1; depth++) {
		if (ancestor(p, &pp, comm, sizeof(comm)) != 0)
			break;
		if (depth == 0)
			snprintf(w->name, sizeof(w->name), "%s", comm);
		for (i = 0; package_managers[i] != NULL; i++)
			if (strcmp(comm, package_managers[i]) == 0) {
				snprintf(w->pkg, sizeof(w->pkg), "%s", comm);
				return;
			}
		p = pp;
	}
}

/* --- reporting ---------------------------------------------------------- */

/* 1 if an event for path may go out now; counts what the limit holds. */
static int
rate_ok(const char *path, unsigned *suppressed)
{
	uint64_t h = hash_bytes(path, strlen(path));
	struct rate *r = &F.rates[h % RATE_SLOTS];
	int64_t now = (int64_t)clock_mono();

	*suppressed = 0;
	if (F.cfg->fim_rate_limit == 0)
		return 1;
	/* A window per path from its first event (not aligned on the clock,
	 * where a burst across a minute's boundary would get twice the limit). */
	if (r->h != h || now - r->window >= RATE_WINDOW_S) {
		if (r->h == h)
			*suppressed = r->suppressed;
		r->h = h;
		r->window = now;
		r->count = 0;
		r->suppressed = 0;
	}
	if (r->count >= F.cfg->fim_rate_limit) {
		r->suppressed++;
		stat_add(&F.st.suppressed, 1);
		return 0;
	}
	r->count++;
	return 1;
}

static const char *
file_type(mode_t m)
{
	return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "symlink" : "other";
}

static void
set_file(json_t *ev, const char *path, const char *action)
{
	struct stat st;
	char s[64];
	struct passwd pw, *res = NULL;
	char pwbuf[1024];
	struct tm tm;

	event_set_str(ev, "file.path", path);
	if (strcmp(action, "file-deleted") == 0)
		return;
#ifdef WARD_FAULT_INJECTION
	fault_stall("WARD_FAULT_FIM_STALL_FILE", path);
#endif
	if (lstat(path, &st) != 0)
		return;
	event_set_str(ev, "file.type", file_type(st.st_mode));
	snprintf(s, sizeof(s), "%04o", (unsigned)(st.st_mode & 07777));
	event_set_str(ev, "file.mode", s);
	snprintf(s, sizeof(s), "%u", (unsigned)st.st_uid);
	event_set_str(ev, "file.uid", s);
	snprintf(s, sizeof(s), "%u", (unsigned)st.st_gid);
	event_set_str(ev, "file.gid", s);
	if (getpwuid_r(st.st_uid, &pw, pwbuf, sizeof(pwbuf), &res) == 0 && res != NULL)
		event_set_str(ev, "file.owner", pw.pw_name);
	event_set_int(ev, "file.inode", (int64_t)st.st_ino);
	if (!S_ISDIR(st.st_mode))
		event_set_int(ev, "file.size", (int64_t)st.st_size);
	gmtime_r(&st.st_mtim.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	event_set_str(ev, "file.mtime", s);
	if (S_ISREG(st.st_mode) && F.dc != NULL &&
	    (strcmp(action, "file-created") == 0 || strcmp(action, "file-modified") == 0)) {
		char hex[2 * DIGEST_MAX_SIZE + 1];

		if (fim_hash_file(path, F.dc, F.buf, 1 << 16, HASH_MAX, hex, sizeof(hex), NULL) == 0)
			event_set_str(ev, digest_ctx_alg(F.dc) == DIGEST_SM3 ? "file.hash.sm3"
									     : "file.hash.sha256",
				      hex);
	}
}

static void
report_path(const char *action, const char *path, const struct who *w, const char *previous)
{
	const char *type = strcmp(action, "file-created") == 0   ? "creation"
			   : strcmp(action, "file-deleted") == 0 ? "deletion"
								 : "change";
	const char *kind = "alert";
	unsigned suppressed;
	json_t *ev;

	if (w != NULL && w->pkg[0] != '\0') {
		stat_add(&F.st.package_manager, 1);
		if (F.cfg->fim_package_manager == CONFIG_PKG_IGNORE)
			return;
		if (F.cfg->fim_package_manager == CONFIG_PKG_INFO)
			kind = "event";
	}
	if (!rate_ok(path, &suppressed))
		return;
	ev = event_new(kind, "file", type, action, NULL);
	if (ev == NULL)
		return;
	set_file(ev, path, action);
	if (previous != NULL)
		event_set_str(ev, "ward.fim.previous_path", previous);
	if (w != NULL && w->pid > 0) {
		event_set_int(ev, "process.pid", w->pid);
		if (w->exe[0] != '\0')
			event_set_str(ev, "process.executable", w->exe);
		if (w->name[0] != '\0')
			event_set_str(ev, "process.name", w->name);
		if (w->partial)
			event_set(ev, "ward.process.partial", json_true());
	}
	if (w != NULL && w->pkg[0] != '\0')
		event_set_str(ev, "ward.fim.package_manager", w->pkg);
	if (suppressed > 0)
		event_set_int(ev, "ward.fim.suppressed", suppressed);
	worker_emit(ev);
	stat_add(&F.st.reported, 1);
}

/* Creations wait for their first close (or PENDING_S). */
static void
pending_flush(int all, double now)
{
	unsigned i = 0;

	while (i < F.npend) {
		struct pending *p = &F.pend[i];

		if (!all && now - p->at < PENDING_S) {
			i++;
			continue;
		}
		report_path("file-created", p->path, &p->w, NULL);
		ward_free(p->path);
		F.pend[i] = F.pend[--F.npend];
	}
}

/* 1 if path's creation was waiting (it is reported now). */
static int
pending_take(const char *path)
{
	unsigned i;

	for (i = 0; i < F.npend; i++) {
		if (strcmp(F.pend[i].path, path) == 0) {
			struct pending p = F.pend[i];

			F.pend[i] = F.pend[--F.npend];
			report_path("file-created", p.path, &p.w, NULL);
			ward_free(p.path);
			return 1;
		}
	}
	return 0;
}

static void
pending_add(const char *path, const struct who *w)
{
	if (F.npend == PENDING_MAX)
		pending_flush(1, 0);
	F.pend[F.npend].path = ward_strdup(path);
	if (F.pend[F.npend].path == NULL) {
		report_path("file-created", path, w, NULL);
		return;
	}
	F.pend[F.npend].w = *w;
	F.pend[F.npend].at = clock_mono();
	F.npend++;
}

/* --- events ------------------------------------------------------------- */

/* The path an info record names (its directory from the map, plus the
 * name), or 0 when the directory is unknown. */
static int
record_path(const struct fanotify_event_info_fid *fid, char *out, size_t outlen)
{
	const struct file_handle *fh = (const void *)fid->handle;
	const char *name = (const char *)fh->f_handle + fh->handle_bytes;
	unsigned char key[KEY_MAX];
	unsigned klen = make_key(&fid->fsid, fh, key);
	struct dent *e;

	if (klen == 0 || (e = map_find(key, klen, hash_bytes(key, klen))) == NULL || e->klen == 0)
		return 0;
	if (fid->hdr.info_type == FAN_EVENT_INFO_TYPE_FID || fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID ||
	    strcmp(name, ".") == 0)
		snprintf(out, outlen, "%s", e->path);
	else
		snprintf(out, outlen, "%s/%s", strcmp(e->path, "/") == 0 ? "" : e->path, name);
	return 1;
}

/* The record names its object itself (no name, or "."), not an entry of
 * a directory. */
static int
record_is_self(const struct fanotify_event_info_fid *fid)
{
	const struct file_handle *fh = (const void *)fid->handle;

	return fid->hdr.info_type != FAN_EVENT_INFO_TYPE_DFID_NAME ||
	       strcmp((const char *)fh->f_handle + fh->handle_bytes, ".") == 0;
}

/* A watched directory is gone: forget it (the kernel dropped its mark;
 * its removal was reported by its parent). */
static void
forget_dir(const struct fanotify_event_info_fid *fid)
{
	unsigned char key[KEY_MAX];
	unsigned klen = make_key(&fid->fsid, (const void *)fid->handle, key);
	struct dent *e;

	if (klen == 0 || !record_is_self(fid))
		return;
	e = map_find(key, klen, hash_bytes(key, klen));
	if (e != NULL && e->klen != 0) {
		map_del(e);
		stat_add(&F.st.dirs, (uint64_t)-1);
	}
}

/* The directory at from and everything under it left the policy's sight
 * (to a place we may not know): their marks and map entries go. */
static void
forget_subtree(const char *from)
{
	union {
		struct file_handle fh;
		char space[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	} u;
	char parent[PATH_MAX], *slash;
	size_t n = strlen(from), i = 0;
	int mfd;

	snprintf(parent, sizeof(parent), "%s", from);
	if ((slash = strrchr(parent, '/')) != NULL)
		slash[slash == parent] = '\0';
	mfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* any fd of the mount */
	while (i < F.mapcap) {
		struct dent *e = &F.map[i];
		int fd;

		if (e->klen == 0 || strncmp(e->path, from, n) != 0 ||
		    (e->path[n] != '\0' && e->path[n] != '/')) {
			i++;
			continue;
		}
		memcpy(&u.fh.handle_type, e->key + 8, 4);
		memcpy(&u.fh.handle_bytes, e->key + 12, 4);
		memcpy(u.fh.f_handle, e->key + 16, u.fh.handle_bytes);
		fd = mfd >= 0 ? open_by_handle_at(mfd, &u.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
		if (fd >= 0) {
			(void)fanotify_mark(F.fan, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, MARK_MASK, fd,
					    NULL);
			close(fd);
		}
		map_del(e); /* may move a later entry into slot i: look again */
		stat_add(&F.st.dirs, (uint64_t)-1);
	}
	if (mfd >= 0)
		close(mfd);
}

static void
on_rename(const char *from, const char *to, int isdir, const struct who *w)
{
	int in_from = from[0] != '\0' && fim_watch_covers(&F.watch, from);
	int in_to = to[0] != '\0' && fim_watch_covers(&F.watch, to);

	if (in_from && in_to)
		report_path("file-renamed", to, w, from);
	else if (in_from)
		report_path("file-deleted", from, w, NULL); /* moved out of sight */
	else if (in_to)
		report_path("file-created", to, w, NULL);
	/* A directory's subtree moves with it: new paths, and marks on what
	 * came into sight (its entries reported as created), off what left. */
	if (isdir && in_to)
		walk(to, in_from ? WALK_MARK : WALK_MARK_REPORT, w);
	else if (isdir && from[0] != '\0')
		forget_subtree(from);
}

static void
handle(const struct fanotify_event_metadata *md)
{
	const char *p = (const char *)(md + 1), *end = (const char *)md + md->event_len;
	const struct fanotify_event_info_fid *self = NULL;
	char path[PATH_MAX] = "", old[PATH_MAX] = "", nw[PATH_MAX] = "";
	int isdir = (md->mask & FAN_ONDIR) != 0, known = 0;
	struct who w;

	stat_add(&F.st.events, 1);
	if (md->mask & FAN_Q_OVERFLOW) {
		json_t *ev = event_new("alert", "file", "info", "fim-events-lost", "failure");

		stat_add(&F.st.lost, 1);
		if (ev != NULL) {
			event_set_str(ev, "message", "the kernel's event queue overflowed: some file "
						     "changes were not seen (run ward fim check)");
			worker_emit(ev);
		}
		return;
	}
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_fid *fid = (const void *)p;

		if (fid->hdr.len == 0 || p + fid->hdr.len > end)
			break;
		switch (fid->hdr.info_type) {
		case FAN_EVENT_INFO_TYPE_OLD_DFID_NAME:
			known |= record_path(fid, old, sizeof(old));
			break;
		case FAN_EVENT_INFO_TYPE_NEW_DFID_NAME:
			known |= record_path(fid, nw, sizeof(nw));
			break;
		case FAN_EVENT_INFO_TYPE_DFID_NAME:
		case FAN_EVENT_INFO_TYPE_DFID:
		case FAN_EVENT_INFO_TYPE_FID:
			known |= record_path(fid, path, sizeof(path));
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
		forget_dir(self);
		return;
	}
	who_of(md->pid, &w);
	if (md->mask & FAN_RENAME) {
		on_rename(old, nw, isdir, &w);
		return;
	}
	if (path[0] == '\0' || !fim_watch_covers(&F.watch, path))
		return;
	if (md->mask & FAN_CREATE) {
		if (isdir || (md->mask & FAN_CLOSE_WRITE))
			report_path("file-created", path, &w, NULL);
		else
			pending_add(path, &w);
		/* What was made inside before the mark is reported as created. */
		if (isdir)
			walk(path, WALK_MARK_REPORT, &w);
	}
	if ((md->mask & FAN_CLOSE_WRITE) && !(md->mask & FAN_CREATE) && !pending_take(path))
		report_path("file-modified", path, &w, NULL);
	if ((md->mask & FAN_ATTRIB) && !(md->mask & (FAN_CREATE | FAN_DELETE)))
		report_path("file-attributes-changed", path, &w, NULL);
	if (md->mask & FAN_DELETE) {
		(void)pending_take(path);
		report_path("file-deleted", path, &w, NULL);
	}
}

/* --- the thread --------------------------------------------------------- */

static void *
fim_thread(void *arg)
{
	char buf[64 * 1024] __attribute__((aligned(8)));

	(void)arg;
	fim_lower_priority();
	apply_policy(1);
	for (;;) {
		struct pollfd pf[2] = {{F.fan, POLLIN, 0}, {F.wake, POLLIN, 0}};
		ssize_t n;

		(void)poll(pf, 2, F.npend > 0 ? 100 : 1000);
		if (pf[1].revents & POLLIN) {
			uint64_t v;

			if (read(F.wake, &v, sizeof(v)) == (ssize_t)sizeof(v))
				apply_policy(0);
		}
		if (pf[0].revents & POLLIN) {
			while ((n = read(F.fan, buf, sizeof(buf))) > 0) {
				const struct fanotify_event_metadata *md = (const void *)buf;

				while (FAN_EVENT_OK(md, n)) {
					if (md->vers == FANOTIFY_METADATA_VERSION)
						handle(md);
					else if (md->fd >= 0)
						close(md->fd);
					md = FAN_EVENT_NEXT(md, n);
				}
			}
		}
		pending_flush(0, clock_mono());
	}
	return NULL;
}

int
fimmon_start(const struct agent_config *c, char *why, size_t whylen)
{
	enum digest_alg alg = strcmp(c->fim_hash, "sm3") == 0 ? DIGEST_SM3 : DIGEST_SHA256;
	pthread_t t;

	why[0] = '\0';
	F.cfg = c;
	F.fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_REPORT_DFID_NAME,
			      O_RDONLY | O_CLOEXEC);
	if (F.fan < 0) {
		snprintf(why, whylen,
			 "fanotify with file identifiers is not available (Linux 5.9 or later): %s",
			 strerror(errno));
		return WARD_EIO;
	}
	/* FAN_RENAME (Linux 5.17) reports both names of a rename at once. */
	if (fanotify_mark(F.fan, FAN_MARK_ADD | FAN_MARK_ONLYDIR, MARK_MASK, AT_FDCWD, c->state_dir) != 0 &&
	    errno == EINVAL) {
		snprintf(why, whylen, "fanotify rename events are not available (Linux 5.17 or later)");
		goto fail;
	}
	(void)fanotify_mark(F.fan, FAN_MARK_REMOVE | FAN_MARK_ONLYDIR, MARK_MASK, AT_FDCWD, c->state_dir);
	F.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	F.buf = ward_malloc(1 << 16);
	if (F.wake < 0 || F.buf == NULL || digest_new(alg, &F.dc) != 0) {
		snprintf(why, whylen, "out of resources");
		goto fail;
	}
	if (pthread_create(&t, NULL, fim_thread, NULL) != 0) {
		snprintf(why, whylen, "cannot start a thread");
		goto fail;
	}
	pthread_detach(t);
	pthread_mutex_lock(&F.lock);
	F.running = 1;
	pthread_mutex_unlock(&F.lock);
	return 0;
fail:
	close(F.fan);
	F.fan = -1;
	if (F.wake >= 0)
		close(F.wake);
	F.wake = -1;
	return WARD_EIO;
}

int
fimmon_running(void)
{
	int r;

	pthread_mutex_lock(&F.lock);
	r = F.running;
	pthread_mutex_unlock(&F.lock);
	return r;
}

void
fimmon_get_stats(struct fimmon_stats *st, char *partial, size_t partlen)
{
	pthread_mutex_lock(&F.lock);
	*st = F.st;
	snprintf(partial, partlen, "%s", F.partial);
	pthread_mutex_unlock(&F.lock);
}

void
fimmon_content_changed(void)
{
	uint64_t one = 1;

	if (fimmon_running() && write(F.wake, &one, sizeof(one)) < 0) {
		/* A wake-up is already pending. */
	}
}

/*
 * onaccess: fanotify on-access scanning.  See onaccess.h.
 *
 * Must hold: every permission event gets exactly one answer (from the
 * scanner when it finishes in time, else from the reader at the
 * deadline); the reader never blocks on a scan; the agent's own accesses
 * are allowed at once (a scan of our own files must never wait on us);
 * queues and the cache are bounded.
 */
#include "agent/onaccess.h"
#include "agent/onaccess_cache.h"
#include "agent/onaccess_mark.h"
#include "agent/sensor_event.h"
#include "agent/exceptions.h"
#include "agent/procfs.h"
#include "agent/worker.h"
#include "event/event.h"
#include "response/quarantine.h"
#include "rules/ruleset.h"
#include "agent/scanpool.h"
#include "scan/scanmsg.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/mount.h"
#include "util/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_MAX 4096

struct item {
	int fan; /* the group it came from, to answer on */
	int fd;
	pid_t pid;
	uint64_t mask;
	int perm;	   /* needs an answer */
	int answered;	   /* under o->lock */
	double deadline;   /* monotonic seconds */
	struct item *next; /* queue */
	unsigned refs;	   /* reader's pending list + scanner */
};

/*
 * The settings the sensor goes by, out of the agent's configuration: the
 * paths packed after the struct, so that a copy costs what the paths
 * take, not the 200 KiB of a whole struct agent_config.
 */
struct oa_conf {
	int quarantine; /* onaccess.on_write: quarantine */
	int fail_closed;
	unsigned deadline_ms;
	unsigned npaths; /* path[0..npaths): onaccess.paths, then nblock of block_open */
	unsigned nblock;
	const char *path[TARGETS_MAX];
	char text[]; /* the strings of path */
};

/*
 * Two fanotify groups take turns: the active one holds the marks and the
 * ignore marks of files found clean by the content in use.  New content
 * marks the standby group first, then the old one is emptied, so the
 * watched paths are never unwatched and no clean verdict of old content
 * survives.
 */
struct onaccess {
	const struct sensor_host *host; /* the agent, from start on */
	/* Its own copy of the settings in force (a reload replaces it):
	 * swapped holding mark_lock and lock, read holding either. */
	struct oa_conf *cfg;
	char state_dir[CONFIG_MAX_PATH]; /* never reloaded */
	pthread_mutex_t mark_lock;	 /* one marking at a time */
	int started;			 /* the threads run (even with nothing marked) */
	int fan[2];
	unsigned cur;  /* index of the active group */
	unsigned gen;  /* content changes seen, under lock */
	int ignore_ok; /* evictable ignore marks work here */
	int running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct item *head, *tail;
	unsigned queued;
	struct item **pending; /* permission items not yet answered */
	unsigned npending;
	size_t cappending;
	struct onaccess_cache *cache;
	struct onaccess_stats st;
	char partial[PARTIAL_MAX]; /* the paths not watched and why; under lock */
};

/* Answers a permission event once (o->lock held). */
static void
answer_locked(struct onaccess *o, struct item *it, int allow)
{
	struct fanotify_response resp;

	if (!it->perm || it->answered)
		return;
	resp.fd = it->fd;
	resp.response = allow ? FAN_ALLOW : FAN_DENY;
	if (write(it->fan, &resp, sizeof(resp)) != (ssize_t)sizeof(resp)) {
		/* The kernel lets the access through when we cannot answer. */
	}
	it->answered = 1;
	if (allow)
		o->st.allowed++;
	else
		o->st.denied++;
}

static void
item_put_locked(struct item *it)
{
	if (--it->refs == 0) {
		close(it->fd);
		ward_free(it);
	}
}

struct onaccess *
onaccess_new(void)
{
	struct onaccess *o = ward_calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->fan[0] = o->fan[1] = -1;
	pthread_mutex_init(&o->mark_lock, NULL);
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->cond, NULL);
	return o;
}

void
onaccess_free(struct onaccess *o)
{
	struct item *it, *next;
	unsigned i;

	if (o == NULL)
		return;
	/* What is still queued or waits for an answer: the kernel answers
	 * the latter itself once its group's descriptor is closed below. */
	for (it = o->head; it != NULL; it = next) {
		next = it->next;
		item_put_locked(it);
	}
	for (i = 0; i < o->npending; i++)
		item_put_locked(o->pending[i]);
	ward_free(o->pending);
	for (i = 0; i < 2; i++)
		if (o->fan[i] >= 0)
			close(o->fan[i]);
	onaccess_cache_free(o->cache);
	ward_free(o->cfg);
	pthread_cond_destroy(&o->cond);
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->mark_lock);
	ward_free(o);
}

/* The sensor's settings out of c, in one allocation (ward_free), or NULL
 * when out of memory. */
static struct oa_conf *
oa_conf_new(const struct agent_config *c)
{
	struct oa_conf *o;
	size_t len = 0, k;
	unsigned i, n = c->onaccess_npaths + c->onaccess_nblock_open;
	char *p;

	if (n > TARGETS_MAX)
		n = TARGETS_MAX;
	for (i = 0; i < n; i++)
		len += strlen(i < c->onaccess_npaths
				  ? c->onaccess_paths[i]
				  : c->onaccess_block_open[i - c->onaccess_npaths]) +
		       1;
	if ((o = ward_malloc(sizeof(*o) + len)) == NULL)
		return NULL;
	o->quarantine = c->onaccess_quarantine;
	o->fail_closed = c->onaccess_fail_closed;
	o->deadline_ms = c->onaccess_deadline_ms;
	o->npaths = c->onaccess_npaths < n ? c->onaccess_npaths : n;
	o->nblock = n - o->npaths;
	for (i = 0, p = o->text; i < n; i++, p += k + 1) {
		const char *s =
		    i < o->npaths ? c->onaccess_paths[i] : c->onaccess_block_open[i - o->npaths];

		k = strlen(s);
		memcpy(p, s, k + 1);
		o->path[i] = p;
	}
	return o;
}

/* Journals that the sensor watches less than configured (when what it
 * leaves out changed: each round would otherwise repeat it). */
static void
report_partial(struct onaccess *o, const char *refused)
{
	json_t *ev;

	if (refused[0] == '\0')
		return;
	ev = event_new(EVENT_KIND_ALERT, "host", "info", "sensor-partial", "failure");
	if (ev == NULL)
		return;
	event_set_str(ev, "ward.sensor", "onaccess");
	event_set_str(ev, "message", refused);
	o->host->emit(o->host->arg, ev);
}

void
onaccess_content_changed(struct onaccess *o)
{
	struct onaccess_targets t;
	unsigned next;
	int running, changed;

	pthread_mutex_lock(&o->mark_lock);
	pthread_mutex_lock(&o->lock);
	running = o->running;
	pthread_mutex_unlock(&o->lock);
	if (!running) {
		pthread_mutex_unlock(&o->mark_lock);
		return;
	}
	/* Opened without the lock: opening waits on the filesystem. */
	onaccess_targets_open(o->cfg->path, o->cfg->npaths, o->cfg->nblock, &t);
	pthread_mutex_lock(&o->lock);
	/* The new group gets what the paths lead to now (a path refused now
	 * is left out, and said); then the old one, with the clean verdicts
	 * of the old content, is emptied. */
	next = o->cur ^ 1;
	(void)onaccess_targets_mark(o->fan[next], &t);
	onaccess_clear_marks(o->fan[o->cur]);
	o->cur = next;
	changed = strcmp(o->partial, t.refused) != 0;
	snprintf(o->partial, sizeof(o->partial), "%s", t.refused);
	o->gen++;
	pthread_mutex_unlock(&o->lock);
	pthread_mutex_unlock(&o->mark_lock);
	if (changed)
		report_partial(o, t.refused);
	onaccess_targets_close(&t);
}

/* --- scanning ----------------------------------------------------------- */

struct hit {
	char rule[256];
	int found;
	/* Exceptions: the file's path (looked up at the first match) and the
	 * first exception that suppressed a match. */
	struct exceptions *x;
	const struct except_list *content;
	int fd;
	int have_path;
	char path[PATH_MAX];
	int excepted;
	char xrule[256];
	struct exceptions_applied ap;
};

/* One rule the scanner found matching (in its order): 1 when it decides. */
static int
on_rule(struct hit *h, const char *name)
{
	if (h->x != NULL) {
		struct exceptions_applied ap;

		if (!h->have_path) {
			char fd[32];

			snprintf(fd, sizeof(fd), "fd/%d", h->fd);
			if (procfs_link(0, fd, h->path, sizeof(h->path)) != 0)
				h->path[0] = '\0';
			h->have_path = 1;
		}
		/* An excepted match does not decide: another one may still. */
		if (exceptions_hit(h->x, h->content, h->path[0] != '\0' ? h->path : NULL, name,
				   &ap)) {
			if (!h->excepted) {
				h->ap = ap;
				snprintf(h->xrule, sizeof(h->xrule), "%s", name);
			}
			h->excepted = 1;
			return 0;
		}
	}
	if (!h->found)
		snprintf(h->rule, sizeof(h->rule), "%s", name);
	h->found = 1;
	return 1; /* one match decides */
}

/* A verdict an exception suppressed, journaled with the exception (each
 * scan of the file, not each access: the allow is cached as a clean one). */
static void
report_excepted(struct onaccess *o, const struct item *it, struct hit *h, const char *sha,
		long long version, int quarantine)
{
	char exe[PATH_MAX];
	const char *would = (it->mask & FAN_OPEN_EXEC_PERM) ? "deny-execution"
			    : (it->mask & FAN_OPEN_PERM)    ? "deny-open"
			    : quarantine		    ? "quarantine"
							    : "alert";
	json_t *ev = exceptions_event(h->x, &h->ap, h->path, h->xrule, would, sha);

	if (ev == NULL)
		return;
	(void)procfs_link(it->pid, "exe", exe, sizeof(exe));
	event_set_int(ev, "process.pid", it->pid);
	if (exe[0] != '\0')
		event_set_str(ev, "process.executable", exe);
	event_set_int(ev, "ward.content.version", version);
	o->host->emit(o->host->arg, ev);
}

/* what: 0 written, 1 execution denied, 2 execution allowed at the deadline,
 * 3 open denied, 4 open allowed at the deadline. */
static void
report(struct onaccess *o, const struct item *it, const char *rule, long long version,
       enum sensor_oa_what what, const struct stat *st)
{
	struct sensor_oa_detection d = {
	    .what = what, .pid = it->pid, .rule = rule, .version = version};
	char path[PATH_MAX], exe[PATH_MAX], fd[32];

	snprintf(fd, sizeof(fd), "fd/%d", it->fd);
	(void)procfs_link(0, fd, path, sizeof(path));
	(void)procfs_link(it->pid, "exe", exe, sizeof(exe));
	d.path = path;
	d.exe = exe;
	d.size = st->st_size;
	d.inode = (int64_t)st->st_ino;
	o->host->emit(o->host->arg, sensor_event_onaccess(&d));
}

/*
 * on_write: quarantine — move the detected file away; say what happened.
 * The path is only where to look: the library removes the name only if it
 * still refers to the descriptor's file, in the directory it was found in.
 */
static void
respond_quarantine(struct onaccess *o, const struct item *it, const char *rule)
{
	struct quarantine_entry e;
	struct quarantine_op *op;
	struct ward_diag d;
	char path[PATH_MAX], fd[32];
	json_t *ev;
	int r;

	snprintf(fd, sizeof(fd), "fd/%d", it->fd);
	(void)procfs_link(0, fd, path, sizeof(path));
	diag_clear(&d);
	memset(&e, 0, sizeof(e));
	r = quarantine_begin(o->state_dir, path, it->fd, rule, &op, &d);
	if (r == 0) {
#ifdef WARD_FAULT_INJECTION
		/* Tests: a window between the stored copy and the removal, to race in. */
		const char *stall = getenv("WARD_FAULT_QUARANTINE_STALL_MS");

		if (stall != NULL)
			usleep((useconds_t)atoi(stall) * 1000);
#endif
		r = quarantine_commit(op, &e, &d);
	}
	ev = event_new(EVENT_KIND_EVENT, "malware", r == 0 ? "deletion" : "info",
		       r == 0 ? "file-quarantined" : "file-quarantine-failed",
		       r == 0 ? "success" : "failure");
	if (ev == NULL)
		return;
	event_set_str(ev, "file.path", path);
	event_set_str(ev, "rule.name", rule);
	if (r == 0) {
		event_set_str(ev, "ward.quarantine.id", e.id);
		event_set_str(ev, "file.hash.sha256", e.sha256);
		event_set_int(ev, "file.size", (int64_t)e.size);
	} else {
		char msg[1200];

		diag_format(&d, msg, sizeof(msg));
		event_set_str(ev, "message", msg);
	}
	o->host->emit(o->host->arg, ev);
}

/*
 * After a clean verdict on a permission event: the kernel stops asking
 * about this file (an evictable ignore mark on its inode, which the
 * kernel drops on the file's next modification) — unless the content
 * changed since the scan began (gen) or the file changed while it was
 * scanned.  o->lock held.
 */
static void
ignore_clean_locked(struct onaccess *o, const struct item *it, unsigned gen,
		    const struct stat *scanned)
{
	struct stat now;
	int fan = o->fan[o->cur];

	if (!o->ignore_ok || gen != o->gen)
		return;
	if (fanotify_mark(fan, FAN_MARK_ADD | FAN_MARK_IGNORED_MASK | FAN_MARK_EVICTABLE,
			  FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM, it->fd, NULL) != 0) {
		if (errno == EINVAL) /* before Linux 5.19: no marks that let inodes go */
			o->ignore_ok = 0;
		return;
	}
	if (fstat(it->fd, &now) != 0 || !onaccess_cache_same(&now, scanned))
		(void)fanotify_mark(fan, FAN_MARK_REMOVE | FAN_MARK_IGNORED_MASK,
				    FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM, it->fd, NULL);
	else
		o->st.ignored++;
}

static void
scan_item(struct onaccess *o, struct item *it)
{
	struct scanmsg_verdict *v = NULL;
	struct active *a;
	struct hit hit, *h = &hit;
	struct stat st;
	long long version;
	unsigned long long xgen;
	unsigned gen;
	char sha[65] = "";
	int verdict = 0, cached = 0, r = 0, quarantine, fail_closed, policy_deny = 0;
	unsigned k;

	pthread_mutex_lock(&o->lock);
	gen = o->gen; /* before the content: a change after this is seen */
	/* The settings this scan goes by, read once under the lock: a
	 * reload frees the configuration they were read from. */
	quarantine = o->cfg->quarantine;
	fail_closed = o->cfg->fail_closed;
	pthread_mutex_unlock(&o->lock);
	xgen = o->host->exceptions(o->host->arg) != NULL
		   ? exceptions_generation(o->host->exceptions(o->host->arg))
		   : 0;
	a = o->host->content_get(o->host->arg);
	memset(h, 0, sizeof(*h));
	if (a == NULL || fstat(it->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		pthread_mutex_lock(&o->lock);
		answer_locked(o, it, 1);
		pthread_mutex_unlock(&o->lock);
		o->host->content_put(o->host->arg, a);
		return;
	}
	version = worker_content_version(a);
	h->x = o->host->exceptions(o->host->arg);
	h->content = worker_content_exceptions(a);
	h->fd = it->fd;
	pthread_mutex_lock(&o->lock);
	if (it->mask & FAN_CLOSE_WRITE) {
		onaccess_cache_drop(o->cache, &st);
	} else if (onaccess_cache_get(o->cache, &st, version, xgen, &verdict, h->rule,
				      sizeof(h->rule))) {
		cached = 1;
		o->st.cache_hits++;
	}
	pthread_mutex_unlock(&o->lock);
	if (!cached) {
#ifdef WARD_FAULT_INJECTION
		const char *stall = getenv("WARD_FAULT_SCAN_STALL_MS");

		if (stall != NULL)
			usleep((useconds_t)atoi(stall) * 1000);
#endif
		/* The bytes are read and matched by a scanner process; what
		 * the verdict means here (exceptions, cache, response) is the
		 * worker's.  A file that crashes scanners gets the deadline
		 * policy's answer, as a scan that does not end would. */
		v = ward_malloc(sizeof(*v));
		r = v == NULL ? WARD_ENOMEM : scanpool_scan(a, it->fd, &st, NULL, v);
		if (r == SCANPOOL_POISON || r == SCANPOOL_CRASHED) {
			policy_deny = fail_closed;
			pthread_mutex_lock(&o->lock);
			o->st.poison++;
			pthread_mutex_unlock(&o->lock);
		} else if (r == 0 && v->result == SCANMSG_ERROR) {
			r = WARD_EIO;
		}
		for (k = 0; r == 0 && k < v->nrules && !on_rule(h, v->rule[k]); k++)
			;
		/* A match that stands, unless the file's bytes are excepted. */
		if (r == 0 && h->found && h->x != NULL &&
		    exceptions_by_hash(h->x, h->content, it->fd, sha, &h->ap)) {
			memcpy(h->xrule, h->rule, sizeof(h->xrule));
			h->found = 0;
			h->excepted = 1;
		}
		verdict = h->found;
		if (r == 0) {
			pthread_mutex_lock(&o->lock);
			onaccess_cache_put(o->cache, &st, version, xgen, verdict, h->rule);
			pthread_mutex_unlock(&o->lock);
		}
	}
	pthread_mutex_lock(&o->lock);
	if (it->mask & FAN_CLOSE_WRITE)
		o->st.written++;
	if (verdict)
		o->st.detections++;
	if (!cached && !verdict && h->excepted)
		o->st.excepted++;
	if (it->perm && !verdict && r == 0)
		ignore_clean_locked(o, it, gen, &st);
	if (it->perm && !it->answered) {
		answer_locked(o, it, !verdict && !policy_deny);
		pthread_mutex_unlock(&o->lock);
		if (verdict)
			report(o, it, h->rule, version,
			       (it->mask & FAN_OPEN_PERM) ? SENSOR_OA_OPEN_DENIED
							  : SENSOR_OA_EXEC_DENIED,
			       &st);
	} else {
		pthread_mutex_unlock(&o->lock);
		if (verdict)
			report(o, it, h->rule, version,
			       !it->perm		    ? SENSOR_OA_WRITTEN
			       : (it->mask & FAN_OPEN_PERM) ? SENSOR_OA_OPEN_LATE
							    : SENSOR_OA_EXEC_LATE,
			       &st);
		if (verdict && !it->perm && quarantine)
			respond_quarantine(o, it, h->rule);
	}
	if (!cached && !verdict && h->excepted)
		report_excepted(o, it, h, sha, version, quarantine);
	o->host->content_put(o->host->arg, a);
	ward_free(v);
}

static void *
scanner_thread(void *arg)
{
	struct onaccess *o = arg;

	for (;;) {
		struct item *it;

		pthread_mutex_lock(&o->lock);
		while (o->head == NULL)
			pthread_cond_wait(&o->cond, &o->lock);
		it = o->head;
		o->head = it->next;
		if (o->head == NULL)
			o->tail = NULL;
		o->queued--;
		pthread_mutex_unlock(&o->lock);
		scan_item(o, it);
		pthread_mutex_lock(&o->lock);
		item_put_locked(it);
		pthread_mutex_unlock(&o->lock);
	}
	return NULL;
}

/* --- the reader ----------------------------------------------------------- */

/* Answers what passed its deadline; drops answered items from the list. */
static void
expire_pending(struct onaccess *o, double now)
{
	unsigned i, k = 0;

	pthread_mutex_lock(&o->lock);
	for (i = 0; i < o->npending; i++) {
		struct item *it = o->pending[i];

		if (!it->answered && now >= it->deadline) {
			answer_locked(o, it, !o->cfg->fail_closed);
			o->st.late++;
		}
		if (it->answered)
			item_put_locked(it);
		else
			o->pending[k++] = it;
	}
	o->npending = k;
	pthread_mutex_unlock(&o->lock);
}

static void
handle(struct onaccess *o, int fan, const struct fanotify_event_metadata *md)
{
	struct item *it;
	int perm = (md->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM)) != 0;

	if (md->fd < 0)
		return; /* queue overflow notice: nothing to answer */
	pthread_mutex_lock(&o->lock);
	o->st.events++;
	/* Our own accesses never wait on us. */
	if (md->pid == getpid() || (perm && o->queued >= QUEUE_MAX) ||
	    (perm &&
	     ward_grow(&o->pending, &o->cappending, o->npending + 1, sizeof(*o->pending)) != 0)) {
		struct item tmp = {.fan = fan, .fd = md->fd, .perm = perm};

		if (md->pid != getpid())
			o->st.overflow++;
		answer_locked(o, &tmp, md->pid == getpid() || !o->cfg->fail_closed);
		pthread_mutex_unlock(&o->lock);
		close(md->fd);
		return;
	}
	it = ward_calloc(1, sizeof(*it));
	if (it == NULL) {
		struct item tmp = {.fan = fan, .fd = md->fd, .perm = perm};

		answer_locked(o, &tmp, !o->cfg->fail_closed);
		pthread_mutex_unlock(&o->lock);
		close(md->fd);
		return;
	}
	it->fan = fan;
	it->fd = md->fd;
	it->pid = md->pid;
	it->mask = md->mask;
	it->perm = perm;
	it->deadline = clock_mono() + o->cfg->deadline_ms / 1000.0;
	it->refs = 1;
	if (perm) {
		o->pending[o->npending++] = it;
		it->refs++;
	}
	if (o->tail != NULL)
		o->tail->next = it;
	else
		o->head = it;
	o->tail = it;
	o->queued++;
	pthread_cond_signal(&o->cond);
	pthread_mutex_unlock(&o->lock);
}

static void *
reader_thread(void *arg)
{
	struct onaccess *o = arg;
	char buf[64 * 1024] __attribute__((aligned(8)));

	for (;;) {
		struct pollfd p[2] = {{o->fan[0], POLLIN, 0}, {o->fan[1], POLLIN, 0}};
		int timeout = o->npending > 0 ? 10 : 1000;
		unsigned g;
		ssize_t n;

		(void)poll(p, 2, timeout);
		for (g = 0; g < 2; g++) {
			const struct fanotify_event_metadata *md = (const void *)buf;

			if (!(p[g].revents & POLLIN) || (n = read(p[g].fd, buf, sizeof(buf))) <= 0)
				continue;
			while (FAN_EVENT_OK(md, n)) {
				if (md->vers == FANOTIFY_METADATA_VERSION)
					handle(o, p[g].fd, md);
				else if (md->fd >= 0)
					close(md->fd);
				md = FAN_EVENT_NEXT(md, n);
			}
		}
		expire_pending(o, clock_mono());
	}
	return NULL;
}

int
onaccess_start(struct onaccess *o, const struct sensor_host *h, const struct agent_config *c,
	       char *why, size_t whylen)
{
	struct onaccess_targets t;
	pthread_t th;
	unsigned i, marked;

	why[0] = '\0';
	if (c->onaccess_npaths == 0 && c->onaccess_nblock_open == 0)
		return 0;
	o->host = h;
	o->cfg = oa_conf_new(c);
	if (o->cfg == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	snprintf(o->state_dir, sizeof(o->state_dir), "%s", c->state_dir);
	o->cache = onaccess_cache_new(c->onaccess_cache_entries);
	if (o->cache == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	for (i = 0; i < 2; i++) {
		o->fan[i] = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
					  O_RDONLY | O_LARGEFILE | O_CLOEXEC | O_NOATIME);
		if (o->fan[i] < 0)
			o->fan[i] = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK,
						  O_RDONLY | O_LARGEFILE | O_CLOEXEC);
		if (o->fan[i] < 0) {
			snprintf(why, whylen, "fanotify is not available: %s", strerror(errno));
			goto fail;
		}
	}
	o->ignore_ok = 1;
	onaccess_targets_open(o->cfg->path, o->cfg->npaths, o->cfg->nblock, &t);
	marked = onaccess_targets_mark(o->fan[0], &t);
	onaccess_targets_close(&t);
	if (marked == 0) {
		snprintf(why, whylen, "%s", t.refused);
		goto fail;
	}
	for (i = 0; i < c->onaccess_threads; i++) {
		if (pthread_create(&th, NULL, scanner_thread, o) != 0)
			break;
		pthread_detach(th);
	}
	if (i == 0 || pthread_create(&th, NULL, reader_thread, o) != 0) {
		snprintf(why, whylen, "cannot start threads");
		goto fail;
	}
	pthread_detach(th);
	pthread_mutex_lock(&o->lock);
	o->running = 1;
	o->started = 1;
	snprintf(o->partial, sizeof(o->partial), "%s", t.refused);
	pthread_mutex_unlock(&o->lock);
	report_partial(o, t.refused);
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (o->fan[i] >= 0)
			close(o->fan[i]);
		o->fan[i] = -1;
	}
	onaccess_cache_free(o->cache);
	o->cache = NULL;
	ward_free(o->cfg);
	o->cfg = NULL;
	return WARD_EIO;
}

int
onaccess_reconfigure(struct onaccess *o, const struct sensor_host *h, const struct agent_config *c,
		     char *why, size_t whylen)
{
	struct oa_conf *copy, *old;
	struct onaccess_targets t;
	unsigned next, marked;
	int changed;

	why[0] = '\0';
	if (!o->started) /* off since the start (no paths, or it failed): start it now */
		return onaccess_start(o, h, c, why, whylen);
	copy = oa_conf_new(c);
	if (copy == NULL) {
		snprintf(why, whylen, "out of memory");
		return WARD_ENOMEM;
	}
	pthread_mutex_lock(&o->mark_lock);
	/* As for new content: the standby group gets the new paths, then
	 * the old one is emptied — what both configurations watch is never
	 * unwatched for a moment. */
	onaccess_targets_open(copy->path, copy->npaths, copy->nblock, &t);
	pthread_mutex_lock(&o->lock);
	next = o->cur ^ 1;
	marked = onaccess_targets_mark(o->fan[next], &t);
	onaccess_clear_marks(o->fan[o->cur]);
	o->cur = next;
	changed = strcmp(o->partial, t.refused) != 0;
	snprintf(o->partial, sizeof(o->partial), "%s", t.refused);
	o->gen++;
	old = o->cfg;
	o->cfg = copy;
	o->running = marked > 0;
	pthread_mutex_unlock(&o->lock);
	pthread_mutex_unlock(&o->mark_lock);
	ward_free(old);
	if (marked == 0 && t.n > 0)
		snprintf(why, whylen, "%s", t.refused);
	else if (changed)
		report_partial(o, t.refused);
	onaccess_targets_close(&t);
	return marked == 0 && t.n > 0 ? WARD_EIO : 0;
}

int
onaccess_running(struct onaccess *o)
{
	int r;

	pthread_mutex_lock(&o->lock);
	r = o->running;
	pthread_mutex_unlock(&o->lock);
	return r;
}

void
onaccess_get_stats(struct onaccess *o, struct onaccess_stats *st, char *partial, size_t partlen)
{
	pthread_mutex_lock(&o->lock);
	*st = o->st;
	snprintf(partial, partlen, "%s", o->partial);
	pthread_mutex_unlock(&o->lock);
}

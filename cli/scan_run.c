/*
 * scan_run: the pool of scanning threads of `ward scan`.  See scan_run.h.
 *
 * Must hold: every item submitted is closed and freed exactly once
 * (worked or dropped); the done callback runs after everything output.c
 * writes for the item, and only for items worked; the stop flag is read,
 * never written, here (the pool and the matcher watch it, so a stop is
 * seen within one window's work).
 */
#include "scan_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "scan/pool.h"
#include "util/alloc.h"

struct scanrun {
	struct scanrun_opts opts;
	struct out *o;
	struct pool *pool;
	struct matcher_scratch **scratch; /* per worker */
	struct filevars_scratch **fvs;	  /* per worker, when fv */
	int finished;
	/* The file a worker last started, for the progress line. */
	pthread_mutex_t current_lock;
	char current[256];
	/* The progress line's thread. */
	pthread_t prog_thread;
	int prog_started;
	pthread_mutex_t prog_lock;
	pthread_cond_t prog_cond;
	int prog_done;
};

static int
worker_init(void *arg, unsigned w)
{
	struct scanrun *r = arg;
	int e;

	if ((e = matcher_scratch_new(r->opts.l->m, &r->scratch[w])) != 0)
		return e;
	return r->opts.fv != NULL ? filevars_scratch_new(r->opts.fv, &r->fvs[w]) : 0;
}

static void
worker_fini(void *arg, unsigned w)
{
	struct scanrun *r = arg;

	matcher_scratch_free(r->scratch[w]);
	r->scratch[w] = NULL;
	if (r->opts.fv != NULL) {
		filevars_scratch_free(r->fvs[w]);
		r->fvs[w] = NULL;
	}
}

static void
item_free(struct scanrun_item *it)
{
	if (it->fd >= 0)
		close(it->fd);
	it->fd = -1;
	ward_free(it->path);
	ward_free(it->owner);
	it->path = NULL;
	it->owner = NULL;
}

/* What a member's callbacks need: the file's report, and its externals. */
struct member_ctx {
	struct out_file *f;
	struct scanrun *r;
	unsigned w;
	const struct scanrun_item *it;
};

static int
member_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name,
	      const struct container_where *where)
{
	struct member_ctx *mc = arg;

	return out_report_member(mc->f, s, rule, hash_name, where);
}

static void
member_note(void *arg, enum container_note n, const struct container_where *where,
	    const char *format)
{
	struct member_ctx *mc = arg;

	out_note(mc->f, n, where, format);
}

/*
 * A member's externals: those of a file at PATH//A//B (filename B, its
 * extension; filepath PATH's directory and name with A's path below it;
 * filetype from the member's bytes; owner the file on disk's).  Out of
 * memory: the member keeps the externals last set.
 */
static void
member_start(void *arg, const struct container_where *where, int fd, uint64_t size)
{
	struct member_ctx *mc = arg;
	const struct rs_external *ext;
	struct stat st;
	char *p;

	if (mc->r->opts.fv == NULL || (p = out_member_path(mc->it->path, where, 0)) == NULL)
		return;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG;
	st.st_size = (off_t)size;
	st.st_uid = mc->it->owner_uid;
	ext = filevars_set_owner(mc->r->fvs[mc->w], p, fd, &st, mc->it->owner);
	if (ext != NULL)
		matcher_scratch_externals(mc->r->scratch[mc->w], ext);
	ward_free(p);
}

/* Scans one file; what became of it in *what, the bytes in *bytes. */
static void
scan_one(struct scanrun *r, unsigned w, struct scanrun_item *it, struct out_file *f,
	 enum walkmsg_outcome *what, uint64_t *bytes)
{
	struct out *o = r->o;
	struct member_ctx mc = {f, r, w, it};
	struct container_opts co;
	struct stat st;
	int e;

	memset(&co, 0, sizeof(co));
	*what = WALKMSG_ERROR;
	*bytes = 0;
	if (it->sized) {
		/* What the channel's check of the descriptor found; no more of
		 * st is read (the owner's name came with the file). */
		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFREG;
		st.st_size = (off_t)it->size;
		st.st_uid = (uid_t)-1;
	} else if (fstat(it->fd, &st) != 0) {
		out_error(o, it->path, strerror(errno), it->depth == 0);
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		out_skip(o, OUT_SKIP_SPECIAL);
		*what = WALKMSG_SKIP_SPECIAL;
		return;
	}
	if (r->opts.max_filesize > 0 && (uint64_t)st.st_size > r->opts.max_filesize) {
		out_skip(o, OUT_SKIP_TOO_LARGE);
		*what = WALKMSG_SKIP_TOO_LARGE;
		return;
	}
	if (r->opts.fv != NULL) {
		const struct rs_external *ext =
		    filevars_set_owner(r->fvs[w], it->path, it->fd, &st, it->owner);

		if (ext == NULL) {
			out_error(o, it->path, ward_strerror(WARD_ENOMEM), it->depth == 0);
			return;
		}
		matcher_scratch_externals(r->scratch[w], ext);
	}
	if (o->progress) {
		pthread_mutex_lock(&r->current_lock);
		snprintf(r->current, sizeof(r->current), "%s", it->path);
		pthread_mutex_unlock(&r->current_lock);
	}
	co.limits = r->opts.limits;
	co.archives = r->opts.archives;
	co.locale = r->opts.locale;
	co.name = it->path;
	co.report = member_report;
	co.note = member_note;
	co.member = member_start;
	co.arg = &mc;
	co.cancel = r->opts.stop;
	it->owner_uid = st.st_uid;
	e = container_scan_fd(r->opts.l->m, r->scratch[w], it->fd, (uint64_t)st.st_size, &co);
	if (e == WARD_EINTR) {
		*what = WALKMSG_STOPPED;
		return;
	}
	if (e != 0) {
		out_error(o, it->path, e == WARD_EIO ? strerror(errno) : ward_strerror(e),
			  it->depth == 0);
		return;
	}
	atomic_fetch_add(&o->files, 1);
	atomic_fetch_add(&o->bytes, (unsigned long long)st.st_size);
	*what = WALKMSG_SCANNED;
	*bytes = (uint64_t)st.st_size;
}

static void
worker_work(void *arg, unsigned w, void *item)
{
	struct scanrun *r = arg;
	struct scanrun_item *it = item;
	struct out_file f = {.o = r->o, .path = it->path, .matched = 0, .nmatches = 0};
	enum walkmsg_outcome what;
	uint64_t bytes, id = it->id;

	scan_one(r, w, it, &f, &what, &bytes);
	item_free(it);
	if (r->opts.done != NULL)
		r->opts.done(r->opts.arg, id, what, f.nmatches, bytes);
}

static void
worker_drop(void *arg, void *item)
{
	(void)arg;
	item_free(item);
}

static void
worker_idle(void *arg, unsigned w)
{
	struct scanrun *r = arg;

	(void)w;
	r->opts.idle(r->opts.arg);
}

static void *
progress_main(void *arg)
{
	struct scanrun *r = arg;
	struct timespec ts;

	pthread_mutex_lock(&r->prog_lock);
	while (!r->prog_done) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->prog_cond, &r->prog_lock, &ts);
		if (!r->prog_done) {
			char cur[sizeof(r->current)];

			pthread_mutex_lock(&r->current_lock);
			memcpy(cur, r->current, sizeof(cur));
			pthread_mutex_unlock(&r->current_lock);
			out_progress(r->o, cur[0] != '\0' ? cur : NULL);
		}
	}
	pthread_mutex_unlock(&r->prog_lock);
	return NULL;
}

int
scanrun_new(const struct scanrun_opts *opts, struct out *o, struct scanrun **out)
{
	struct scanrun *r;
	struct pool_ops ops;
	int e, status = EXIT_ERROR;

	*out = NULL;
	if ((r = ward_calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->opts = *opts;
	r->o = o;
	pthread_mutex_init(&r->current_lock, NULL);
	pthread_mutex_init(&r->prog_lock, NULL);
	pthread_cond_init(&r->prog_cond, NULL);
	r->scratch = ward_calloc(opts->threads, sizeof(*r->scratch));
	r->fvs = ward_calloc(opts->threads, sizeof(*r->fvs));
	if (r->scratch == NULL || r->fvs == NULL)
		goto nomem;
	memset(&ops, 0, sizeof(ops));
	ops.init = worker_init;
	ops.fini = worker_fini;
	ops.work = worker_work;
	ops.drop = worker_drop;
	ops.idle = opts->idle != NULL ? worker_idle : NULL;
	ops.ctx = r;
	ops.stop = opts->stop;
	if ((e = pool_new(opts->threads, opts->queue, sizeof(struct scanrun_item), &ops,
			  &r->pool)) != 0) {
		fprintf(stderr, "ward: cannot start %u scanning threads: %s\n", opts->threads,
			ward_strerror(e));
		goto out;
	}
	if (o->progress)
		r->prog_started = pthread_create(&r->prog_thread, NULL, progress_main, r) == 0;
	*out = r;
	r = NULL;
	status = 0;
	goto out;
nomem:
	fprintf(stderr, "ward: out of memory\n");
out:
	scanrun_free(r);
	return status;
}

int
scanrun_submit(struct scanrun *r, struct scanrun_item *it)
{
	int e = r->finished ? WARD_EINVAL : pool_submit(r->pool, it);

	if (e != 0)
		item_free(it);
	return e;
}

void
scanrun_finish(struct scanrun *r)
{
	if (r->finished)
		return;
	r->finished = 1;
	if (r->opts.stop != NULL && *r->opts.stop)
		pool_cancel(r->pool);
	(void)pool_finish(r->pool);
	if (r->prog_started) {
		pthread_mutex_lock(&r->prog_lock);
		r->prog_done = 1;
		pthread_cond_signal(&r->prog_cond);
		pthread_mutex_unlock(&r->prog_lock);
		pthread_join(r->prog_thread, NULL);
		r->prog_started = 0;
	}
}

void
scanrun_free(struct scanrun *r)
{
	if (r == NULL)
		return;
	if (r->pool != NULL)
		scanrun_finish(r);
	pool_free(r->pool);
	ward_free(r->scratch);
	ward_free(r->fvs);
	pthread_mutex_destroy(&r->current_lock);
	pthread_mutex_destroy(&r->prog_lock);
	pthread_cond_destroy(&r->prog_cond);
	ward_free(r);
}

void
scanrun_totals_add(struct out *o, const struct scanrun_totals *t)
{
	int k;

	atomic_fetch_add(&o->files, t->files);
	atomic_fetch_add(&o->bytes, t->bytes);
	atomic_fetch_add(&o->matches, t->matches);
	atomic_fetch_add(&o->path_errors, t->path_errors);
	atomic_fetch_add(&o->file_errors, t->file_errors);
	for (k = 0; k < OUT_SKIP_COUNT; k++)
		atomic_fetch_add(&o->skipped[k], t->skipped[k]);
}

int
scanrun_status(struct out *o, int stopped, int walk_err, int strict, unsigned crashes)
{
	out_summary(o, stopped);
	/* clamscan's order: found beats an error, an error beats clean; a
	 * walk cut short or a scanner that died beats found (what was not
	 * scanned may hold more). */
	if (stopped)
		return EXIT_INTR;
	if ((walk_err != 0 && walk_err != WARD_EINTR) || crashes > 0)
		return EXIT_ERROR;
	if (atomic_load(&o->matches) > 0)
		return EXIT_FOUND;
	if (atomic_load(&o->path_errors) > 0 || (strict && atomic_load(&o->file_errors) > 0))
		return EXIT_ERROR;
	return EXIT_CLEAN;
}

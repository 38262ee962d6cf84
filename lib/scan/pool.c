/*
 * pool: fixed worker threads and a bounded ring of items.  See pool.h.
 *
 * Must hold:
 *   - every field below the mutex is read and written with the mutex held;
 *   - an item is worked at most once: it leaves the ring under the mutex,
 *     and is either worked or (on cancel) dropped, never both;
 *   - pool_new returns only after every worker ran its init, so a failing
 *     init (no memory for a scratch) is an error of pool_new, not a worker
 *     that silently never works;
 *   - workers block asynchronous signals, so that a SIGINT handler runs in
 *     the producer thread; ops.stop is read only by the producer (in
 *     pool_submit and pool_finish, which poll it while they wait), never by
 *     a worker, so a volatile sig_atomic_t is enough: workers learn of a
 *     stop through `cancelled`, under the mutex.
 */
#include "scan/pool.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* How often a blocked producer looks at ops.stop. */
#define POOL_POLL_NS (50 * 1000 * 1000L)

struct pool_worker {
	struct pool *p;
	unsigned idx;
	void *item; /* the worker's copy of the item it works */
};

struct pool {
	struct pool_ops ops;
	unsigned nthreads;
	size_t item_size, cap;
	struct pool_worker *w;
	pthread_t *th;
	unsigned nstarted; /* threads created (joined when > 0 and !joined) */
	int joined;

	pthread_mutex_t mu;
	pthread_cond_t not_empty; /* items queued, closing or cancelled */
	pthread_cond_t not_full;  /* room in the ring, or cancelled */
	pthread_cond_t ready;	  /* one more init ran */
	pthread_cond_t exited;	  /* one more worker is about to return */
	uint8_t *ring;
	size_t head, count;
	unsigned nready;
	unsigned nexited;
	int init_err;
	int closing;
	int cancelled;
};

static int
pool_stop_requested(const struct pool *p)
{
	return p->ops.stop != NULL && *p->ops.stop != 0;
}

/*
 * With the mutex held: waits on cv, for at most POOL_POLL_NS when there is a
 * stop flag to poll.
 */
static void
pool_wait(struct pool *p, pthread_cond_t *cv)
{
	struct timespec ts;

	if (p->ops.stop == NULL) {
		pthread_cond_wait(cv, &p->mu);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += POOL_POLL_NS;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, &p->mu, &ts);
}

/* With the mutex held: drops every queued item. */
static void
pool_drop_all(struct pool *p)
{
	while (p->count > 0) {
		void *it = p->ring + p->head * p->item_size;

		if (p->ops.drop != NULL)
			p->ops.drop(p->ops.ctx, it);
		p->head = (p->head + 1) % p->cap;
		p->count--;
	}
}

/* With the mutex held. */
static void
pool_cancel_locked(struct pool *p)
{
	p->cancelled = 1;
	pool_drop_all(p);
	pthread_cond_broadcast(&p->not_empty);
	pthread_cond_broadcast(&p->not_full);
}

static void *
pool_main(void *arg)
{
	struct pool_worker *w = arg;
	struct pool *p = w->p;
	int r = 0;

	if (p->ops.init != NULL)
		r = p->ops.init(p->ops.ctx, w->idx);
	pthread_mutex_lock(&p->mu);
	p->nready++;
	if (r != 0 && p->init_err == 0)
		p->init_err = r;
	pthread_cond_broadcast(&p->ready);
	if (r != 0)
		goto out;
	for (;;) {
		/* The idle hook runs once before each wait, unlocked: it may
		 * block (a send), and items queued meanwhile are seen below. */
		if (p->count == 0 && !p->closing && !p->cancelled && p->ops.idle != NULL) {
			pthread_mutex_unlock(&p->mu);
			p->ops.idle(p->ops.ctx, w->idx);
			pthread_mutex_lock(&p->mu);
		}
		while (p->count == 0 && !p->closing && !p->cancelled)
			pthread_cond_wait(&p->not_empty, &p->mu);
		if (p->cancelled || p->count == 0)
			break;
		memcpy(w->item, p->ring + p->head * p->item_size, p->item_size);
		p->head = (p->head + 1) % p->cap;
		p->count--;
		pthread_cond_signal(&p->not_full);
		pthread_mutex_unlock(&p->mu);
		p->ops.work(p->ops.ctx, w->idx, w->item);
		pthread_mutex_lock(&p->mu);
	}
out:
	pthread_mutex_unlock(&p->mu);
	if (r == 0 && p->ops.fini != NULL)
		p->ops.fini(p->ops.ctx, w->idx);
	pthread_mutex_lock(&p->mu);
	p->nexited++;
	pthread_cond_broadcast(&p->exited);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void
pool_join(struct pool *p)
{
	unsigned i;

	if (p->joined)
		return;
	for (i = 0; i < p->nstarted; i++)
		pthread_join(p->th[i], NULL);
	p->joined = 1;
	pthread_mutex_lock(&p->mu);
	pool_drop_all(p); /* left behind by a stop seen in a worker */
	pthread_mutex_unlock(&p->mu);
}

/* Starts the workers with asynchronous signals blocked. */
static int
pool_start(struct pool *p)
{
	static const int sync_sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
	sigset_t all, old;
	unsigned i;
	int r = 0;

	sigfillset(&all);
	for (i = 0; i < sizeof(sync_sigs) / sizeof(sync_sigs[0]); i++)
		sigdelset(&all, sync_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < p->nthreads; i++) {
		if (pthread_create(&p->th[i], NULL, pool_main, &p->w[i]) != 0) {
			r = WARD_EIO;
			break;
		}
		p->nstarted++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&p->mu);
	while (p->nready < p->nstarted)
		pthread_cond_wait(&p->ready, &p->mu);
	if (r == 0)
		r = p->init_err;
	if (r != 0)
		pool_cancel_locked(p);
	pthread_mutex_unlock(&p->mu);
	return r;
}

int
pool_new(unsigned nthreads, size_t queue_cap, size_t item_size, const struct pool_ops *ops,
	 struct pool **out)
{
	struct pool *p = NULL;
	pthread_condattr_t ca;
	unsigned i;
	int r;

	*out = NULL;
	if (nthreads == 0 || nthreads > WARD_MAX_THREADS || queue_cap == 0 ||
	    queue_cap > WARD_MAX_POOL_QUEUE || item_size == 0 || item_size > WARD_MAX_POOL_ITEM ||
	    ops == NULL || ops->work == NULL) {
		r = WARD_EINVAL;
		goto out;
	}
	if ((p = ward_calloc(1, sizeof(*p))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	p->ops = *ops;
	p->nthreads = nthreads;
	p->item_size = item_size;
	p->cap = queue_cap;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->not_empty, &ca);
	pthread_cond_init(&p->not_full, &ca);
	pthread_cond_init(&p->ready, &ca);
	pthread_cond_init(&p->exited, &ca);
	pthread_condattr_destroy(&ca);
	if ((p->ring = ward_calloc(queue_cap, item_size)) == NULL ||
	    (p->w = ward_calloc(nthreads, sizeof(*p->w))) == NULL ||
	    (p->th = ward_calloc(nthreads, sizeof(*p->th))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < nthreads; i++) {
		p->w[i].p = p;
		p->w[i].idx = i;
		if ((p->w[i].item = ward_malloc(item_size)) == NULL) {
			r = WARD_ENOMEM;
			goto out;
		}
	}
	if ((r = pool_start(p)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	pool_free(p);
	return r;
}

int
pool_submit(struct pool *p, const void *item)
{
	int r = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (!p->cancelled && pool_stop_requested(p))
			pool_cancel_locked(p);
		if (p->cancelled) {
			r = WARD_EINTR;
			goto out;
		}
		if (p->closing) {
			r = WARD_EINVAL;
			goto out;
		}
		if (p->count < p->cap)
			break;
		pool_wait(p, &p->not_full);
	}
	memcpy(p->ring + ((p->head + p->count) % p->cap) * p->item_size, item, p->item_size);
	p->count++;
	pthread_cond_signal(&p->not_empty);
out:
	pthread_mutex_unlock(&p->mu);
	return r;
}

int
pool_finish(struct pool *p)
{
	int r;

	pthread_mutex_lock(&p->mu);
	p->closing = 1;
	pthread_cond_broadcast(&p->not_empty);
	while (p->nexited < p->nstarted) {
		if (!p->cancelled && pool_stop_requested(p))
			pool_cancel_locked(p);
		pool_wait(p, &p->exited);
	}
	pthread_mutex_unlock(&p->mu);
	pool_join(p);
	pthread_mutex_lock(&p->mu);
	r = p->cancelled ? WARD_EINTR : 0;
	pthread_mutex_unlock(&p->mu);
	return r;
}

void
pool_cancel(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	pool_cancel_locked(p);
	pthread_mutex_unlock(&p->mu);
}

int
pool_cancelled(struct pool *p)
{
	int c;

	pthread_mutex_lock(&p->mu);
	c = p->cancelled;
	pthread_mutex_unlock(&p->mu);
	return c;
}

unsigned
pool_threads(const struct pool *p)
{
	return p->nthreads;
}

void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	if (!p->joined && p->nstarted > 0) {
		pool_cancel(p);
		pool_join(p);
	}
	pthread_mutex_lock(&p->mu);
	pool_drop_all(p);
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&p->not_empty);
	pthread_cond_destroy(&p->not_full);
	pthread_cond_destroy(&p->ready);
	pthread_cond_destroy(&p->exited);
	pthread_mutex_destroy(&p->mu);
	if (p->w != NULL)
		for (i = 0; i < p->nthreads; i++)
			ward_free(p->w[i].item);
	ward_free(p->w);
	ward_free(p->th);
	ward_free(p->ring);
	ward_free(p);
}

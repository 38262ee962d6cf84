/*
 * Unit tests of lib/scan/pool: every item worked exactly once, FIFO order
 * with one worker, per-worker init/fini, blocking submit on a full queue,
 * cancel (drop callback, blocked producer released), the stop flag, init
 * failure, bad arguments, the idle hook (once per wait, after the last item).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <unistd.h>

#include <cmocka.h>

#include "scan/pool.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/limits.h"

#define NITEMS 20000

struct tctx {
	pthread_mutex_t mu;
	unsigned char seen[NITEMS];
	unsigned order[NITEMS];
	size_t norder;
	unsigned inits[8], finis[8], per_worker[8];
	int fail_init_worker; /* -1: none */
	size_t dropped;
	/* gate: workers wait while closed */
	pthread_cond_t gate_cv;
	int gate_closed;
	int slow_us;
	volatile sig_atomic_t stop;
};

struct item {
	unsigned n;
	char pad[20];
};

static void
tctx_init(struct tctx *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->gate_cv, NULL);
	t->fail_init_worker = -1;
}

static int
t_init(void *ctx, unsigned w)
{
	struct tctx *t = ctx;
	int r = 0;

	pthread_mutex_lock(&t->mu);
	t->inits[w]++;
	if ((int)w == t->fail_init_worker)
		r = WARD_ENOMEM;
	pthread_mutex_unlock(&t->mu);
	return r;
}

static void
t_fini(void *ctx, unsigned w)
{
	struct tctx *t = ctx;

	pthread_mutex_lock(&t->mu);
	t->finis[w]++;
	pthread_mutex_unlock(&t->mu);
}

static void
t_work(void *ctx, unsigned w, void *item)
{
	struct tctx *t = ctx;
	struct item *it = item;

	assert_true(w < 8);
	pthread_mutex_lock(&t->mu);
	while (t->gate_closed)
		pthread_cond_wait(&t->gate_cv, &t->mu);
	assert_true(it->n < NITEMS);
	assert_int_equal(t->seen[it->n], 0);
	assert_int_equal(it->pad[19], (char)it->n);
	t->seen[it->n] = 1;
	t->order[t->norder++] = it->n;
	t->per_worker[w]++;
	pthread_mutex_unlock(&t->mu);
	if (t->slow_us > 0)
		usleep((useconds_t)t->slow_us);
}

static void
t_drop(void *ctx, void *item)
{
	struct tctx *t = ctx;

	(void)item;
	t->dropped++; /* runs in the cancelling thread, with the pool locked */
}

static struct pool_ops
ops_of(struct tctx *t)
{
	struct pool_ops o = {t_init, t_fini, t_work, t_drop, t, NULL, NULL};

	return o;
}

static struct item
mk(unsigned n)
{
	struct item it;

	memset(&it, 0, sizeof(it));
	it.n = n;
	it.pad[19] = (char)n;
	return it;
}

static void
test_all_once(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	unsigned i, sum = 0;

	tctx_init(&t);
	o = ops_of(&t);
	assert_int_equal(pool_new(4, 16, sizeof(struct item), &o, &p), 0);
	assert_int_equal(pool_threads(p), 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(t.inits[i], 1);
	for (i = 0; i < NITEMS; i++) {
		struct item it = mk(i);

		assert_int_equal(pool_submit(p, &it), 0);
	}
	assert_int_equal(pool_finish(p), 0);
	assert_int_equal(pool_finish(p), 0); /* idempotent */
	{
		struct item it = mk(0);

		assert_int_equal(pool_submit(p, &it), WARD_EINVAL);
	}
	pool_free(p);
	assert_int_equal(t.norder, NITEMS);
	for (i = 0; i < NITEMS; i++)
		assert_int_equal(t.seen[i], 1);
	for (i = 0; i < 4; i++) {
		assert_int_equal(t.finis[i], 1);
		sum += t.per_worker[i];
	}
	assert_int_equal(sum, NITEMS);
	assert_int_equal(t.dropped, 0);
}

static void
test_fifo_one_worker(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	unsigned i;

	tctx_init(&t);
	o = ops_of(&t);
	assert_int_equal(pool_new(1, 3, sizeof(struct item), &o, &p), 0);
	for (i = 0; i < 1000; i++) {
		struct item it = mk(i);

		assert_int_equal(pool_submit(p, &it), 0);
	}
	assert_int_equal(pool_finish(p), 0);
	pool_free(p);
	for (i = 0; i < 1000; i++)
		assert_int_equal(t.order[i], i);
}

/* The idle hook: called by a worker that finds the queue empty, once
 * before each wait — after the last item, with every item worked by it —
 * and not again while nothing comes.  Its context starts with the tctx
 * the other callbacks take. */
struct idle_ctx {
	struct tctx t;
	unsigned calls;
	size_t seen_at_last; /* items worked when idle was last called */
};

static void
t_idle(void *ctx, unsigned w)
{
	struct idle_ctx *ic = ctx;

	(void)w;
	pthread_mutex_lock(&ic->t.mu);
	ic->calls++;
	ic->seen_at_last = ic->t.norder;
	pthread_mutex_unlock(&ic->t.mu);
}

static void
test_idle_hook(void **state)
{
	static struct idle_ctx ic;
	struct pool_ops o;
	struct pool *p = NULL;
	unsigned i, calls, tries;
	int done;

	(void)state;
	memset(&ic, 0, sizeof(ic));
	tctx_init(&ic.t);
	o = ops_of(&ic.t);
	o.idle = t_idle;
	o.ctx = &ic;
	assert_int_equal(pool_new(1, 16, sizeof(struct item), &o, &p), 0);
	for (i = 0; i < 10; i++) {
		struct item it = mk(i);

		assert_int_equal(pool_submit(p, &it), 0);
	}
	/* The worker drains the queue, then goes idle having worked all 10. */
	for (tries = 0; tries < 500; tries++) {
		pthread_mutex_lock(&ic.t.mu);
		done = ic.seen_at_last == 10;
		pthread_mutex_unlock(&ic.t.mu);
		if (done)
			break;
		usleep(2000);
	}
	assert_true(tries < 500);
	pthread_mutex_lock(&ic.t.mu);
	calls = ic.calls;
	pthread_mutex_unlock(&ic.t.mu);
	usleep(100 * 1000);
	pthread_mutex_lock(&ic.t.mu);
	assert_int_equal(ic.calls, calls); /* once per wait, not a spin */
	pthread_mutex_unlock(&ic.t.mu);
	assert_int_equal(pool_finish(p), 0);
	pool_free(p);
}

struct producer {
	struct pool *p;
	unsigned n;
	int last_r;
	atomic_uint submitted;
	unsigned stop_at;
	volatile sig_atomic_t *stop;
};

static void *
producer_main(void *arg)
{
	struct producer *pr = arg;
	unsigned i;

	for (i = 0; i < pr->n; i++) {
		struct item it = mk(i);

		if (pr->stop_at != 0 && i == pr->stop_at)
			*pr->stop = 1; /* as a SIGINT handler in this thread would */
		if ((pr->last_r = pool_submit(pr->p, &it)) != 0)
			break;
		pr->submitted++;
	}
	return NULL;
}

/* The queue holds cap items: a producer blocks, then cancel frees it. */
static void
test_block_and_cancel(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	struct producer pr;
	pthread_t th;
	int i;

	tctx_init(&t);
	t.gate_closed = 1;
	o = ops_of(&t);
	assert_int_equal(pool_new(2, 4, sizeof(struct item), &o, &p), 0);
	memset(&pr, 0, sizeof(pr));
	pr.p = p;
	pr.n = 100;
	assert_int_equal(pthread_create(&th, NULL, producer_main, &pr), 0);
	/* 2 items taken by the blocked workers + 4 queued, then it blocks */
	for (i = 0; i < 200; i++) {
		usleep(5000);
		if (atomic_load(&pr.submitted) == 6)
			break;
	}
	usleep(20000);
	assert_int_equal(pr.submitted, 6);
	pool_cancel(p);
	assert_true(pool_cancelled(p));
	pthread_join(th, NULL);
	assert_int_equal(pr.last_r, WARD_EINTR);
	assert_int_equal(t.dropped, 4);
	pthread_mutex_lock(&t.mu);
	t.gate_closed = 0;
	pthread_cond_broadcast(&t.gate_cv);
	pthread_mutex_unlock(&t.mu);
	assert_int_equal(pool_finish(p), WARD_EINTR);
	pool_free(p);
	assert_int_equal(t.norder, 2); /* only the items already taken */
	assert_int_equal(t.finis[0] + t.finis[1], 2);
}

/* The stop flag releases a blocked producer and stops the workers. */
static void
test_stop_flag(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	struct producer pr;
	pthread_t th;

	tctx_init(&t);
	t.slow_us = 2000;
	o = ops_of(&t);
	o.stop = &t.stop;
	assert_int_equal(pool_new(2, 8, sizeof(struct item), &o, &p), 0);
	memset(&pr, 0, sizeof(pr));
	pr.p = p;
	pr.n = NITEMS;
	pr.stop_at = 50;
	pr.stop = &t.stop;
	assert_int_equal(pthread_create(&th, NULL, producer_main, &pr), 0);
	pthread_join(th, NULL);
	assert_int_equal(pr.last_r, WARD_EINTR);
	assert_int_equal(pool_finish(p), WARD_EINTR);
	pool_free(p);
	assert_true(t.norder < NITEMS);
	assert_int_equal(t.norder + t.dropped, pr.submitted);
}

static volatile sig_atomic_t usr1_flag;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1_flag = 1;
}

/* A signal handler sets the flag while the producer is blocked on a full queue. */
static void
test_stop_signal(void **state)
{
	struct sigaction sa;
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	struct producer pr;
	pthread_t th;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	usr1_flag = 0;
	tctx_init(&t);
	t.gate_closed = 1;
	o = ops_of(&t);
	o.stop = &usr1_flag;
	assert_int_equal(pool_new(1, 2, sizeof(struct item), &o, &p), 0);
	memset(&pr, 0, sizeof(pr));
	pr.p = p;
	pr.n = 100;
	assert_int_equal(pthread_create(&th, NULL, producer_main, &pr), 0);
	for (i = 0; i < 200 && atomic_load(&pr.submitted) < 3; i++)
		usleep(5000);
	usleep(20000);
	assert_int_equal(atomic_load(&pr.submitted), 3); /* blocked on a full queue */
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	assert_int_equal(pr.last_r, WARD_EINTR);
	assert_true(pool_cancelled(p));
	assert_int_equal(t.dropped, 2);
	pthread_mutex_lock(&t.mu);
	t.gate_closed = 0;
	pthread_cond_broadcast(&t.gate_cv);
	pthread_mutex_unlock(&t.mu);
	assert_int_equal(pool_finish(p), WARD_EINTR);
	pool_free(p);
	assert_int_equal(t.norder, 1);
}

/* Cancel and free without finish; free of a running pool. */
static void
test_free_running(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	unsigned i;

	tctx_init(&t);
	o = ops_of(&t);
	assert_int_equal(pool_new(3, 64, sizeof(struct item), &o, &p), 0);
	for (i = 0; i < 50; i++) {
		struct item it = mk(i);

		assert_int_equal(pool_submit(p, &it), 0);
	}
	pool_free(p);
	assert_int_equal(t.norder + t.dropped, 50);
	assert_int_equal(t.finis[0] + t.finis[1] + t.finis[2], 3);
	pool_free(NULL);
}

static void
test_init_fails(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = (struct pool *)1;
	unsigned i;

	tctx_init(&t);
	t.fail_init_worker = 2;
	o = ops_of(&t);
	assert_int_equal(pool_new(4, 4, sizeof(struct item), &o, &p), WARD_ENOMEM);
	assert_null(p);
	for (i = 0; i < 4; i++)
		assert_int_equal(t.inits[i], 1);
	/* fini runs for each worker whose init succeeded */
	assert_int_equal(t.finis[0] + t.finis[1] + t.finis[3], 3);
	assert_int_equal(t.finis[2], 0);
}

static void
test_bad_args(void **state)
{
	struct tctx t;
	struct pool_ops o;
	struct pool *p = NULL;
	unsigned long n, i;
	int r;

	tctx_init(&t);
	o = ops_of(&t);
	assert_int_equal(pool_new(0, 4, 8, &o, &p), WARD_EINVAL);
	assert_int_equal(pool_new(WARD_MAX_THREADS + 1, 4, 8, &o, &p), WARD_EINVAL);
	assert_int_equal(pool_new(1, 0, 8, &o, &p), WARD_EINVAL);
	assert_int_equal(pool_new(1, WARD_MAX_POOL_QUEUE + 1, 8, &o, &p), WARD_EINVAL);
	assert_int_equal(pool_new(1, 4, 0, &o, &p), WARD_EINVAL);
	assert_int_equal(pool_new(1, 4, WARD_MAX_POOL_ITEM + 1, &o, &p), WARD_EINVAL);
	assert_int_equal(pool_new(1, 4, 8, NULL, &p), WARD_EINVAL);
	o.work = NULL;
	assert_int_equal(pool_new(1, 4, 8, &o, &p), WARD_EINVAL);
	assert_null(p);
	/* every allocation failure of pool_new is clean */
	o = ops_of(&t);
	alloc_fail_after(0);
	assert_int_equal(pool_new(2, 4, 8, &o, &p), 0);
	pool_free(p);
	n = alloc_fail_after(0);
	for (i = 1; i <= n; i++) {
		alloc_fail_after(i);
		r = pool_new(2, 4, 8, &o, &p);
		alloc_fail_after(0);
		assert_int_equal(r, WARD_ENOMEM);
		assert_null(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_once),	     cmocka_unit_test(test_fifo_one_worker),
	    cmocka_unit_test(test_block_and_cancel), cmocka_unit_test(test_stop_flag),
	    cmocka_unit_test(test_stop_signal),	     cmocka_unit_test(test_free_running),
	    cmocka_unit_test(test_init_fails),	     cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_idle_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

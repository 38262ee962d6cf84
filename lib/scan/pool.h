/*
 * pool: a fixed-size pool of worker threads fed through a bounded queue,
 * for `ward scan --threads N`.
 *
 * Items are copied by value (item_size bytes) into the queue; a producer
 * blocks in pool_submit while the queue is full, so memory stays bounded
 * however fast the walker is.  Each worker has an index in [0, nthreads)
 * that it passes to every callback, so per-worker state (a Vectorscan
 * scratch, digest contexts, read buffers) can live in an array indexed by it
 * without locks.
 *
 * One thread (the producer) calls pool_submit, pool_finish and pool_free;
 * pool_cancel may be called from any thread, never from a signal handler
 * (a handler sets a flag; the producer sees it and calls pool_cancel).
 */
#ifndef WARD_SCAN_POOL_H
#define WARD_SCAN_POOL_H

#include <signal.h>
#include <stddef.h>

struct pool_ops {
	/*
	 * Called once in each worker thread before its first item; returns 0,
	 * or a negative WARD_E* code that makes pool_new fail.  May be NULL.
	 */
	int (*init)(void *ctx, unsigned worker);
	/* Called once in each worker whose init succeeded, as it exits.  May be NULL. */
	void (*fini)(void *ctx, unsigned worker);
	/* Processes one item (a copy owned by the pool while the call lasts). */
	void (*work)(void *ctx, unsigned worker, void *item);
	/*
	 * Called for each queued item that pool_cancel drops without working
	 * it, so that resources the item owns (a file descriptor, a path) can
	 * be released.  Runs in the cancelling thread.  May be NULL.
	 */
	void (*drop)(void *ctx, void *item);
	void *ctx; /* passed to every callback; borrowed */
	/*
	 * Optional stop flag set by a SIGINT handler running in the producer
	 * thread (workers block asynchronous signals): when it becomes nonzero
	 * the pool cancels itself as pool_cancel does.  Only the producer
	 * reads it, in pool_submit and pool_finish, which notice it within
	 * 50 ms while they wait.  Borrowed; may be NULL.
	 */
	const volatile sig_atomic_t *stop;
	/*
	 * Called in a worker that found the queue empty, before it waits for
	 * the next item (once per wait, without the pool's lock): a worker
	 * can hand on what it holds back (`ward scan`'s sandboxed scanner
	 * sends the acknowledgements it batched).  May be NULL.
	 */
	void (*idle)(void *ctx, unsigned worker);
};

struct pool;

/*
 * Starts nthreads workers (1 .. WARD_MAX_THREADS) with a queue of queue_cap
 * items (1 .. WARD_MAX_POOL_QUEUE) of item_size bytes (1 .. WARD_MAX_POOL_ITEM)
 * and waits until every worker's init has run.  Returns 0 and *out (free
 * with pool_free); WARD_EINVAL for bad sizes or a NULL ops->work;
 * WARD_ENOMEM; WARD_EIO if a thread cannot be created; or the first error
 * an init returned (every started worker is then stopped and joined).
 */
int pool_new(unsigned nthreads, size_t queue_cap, size_t item_size, const struct pool_ops *ops,
	     struct pool **out);

/*
 * Copies item (item_size bytes) into the queue, blocking while it is full.
 * Returns 0, or WARD_EINTR if the pool was cancelled (also while waiting),
 * or WARD_EINVAL after pool_finish; the item was then not queued and the
 * caller still owns whatever it refers to.
 */
int pool_submit(struct pool *p, const void *item);

/*
 * No more items: waits until every queued item is worked, then joins the
 * workers (each runs fini).  Returns 0, or WARD_EINTR if the pool was
 * cancelled before or during the drain.  Idempotent.
 */
int pool_finish(struct pool *p);

/*
 * Stops the pool soon: workers finish the item they are working on and
 * exit; queued items are dropped (ops->drop) and blocked producers return
 * WARD_EINTR.  Does not wait; pool_finish or pool_free joins.
 */
void pool_cancel(struct pool *p);

/* 1 once pool_cancel was called. */
int pool_cancelled(struct pool *p);

/* Number of worker threads of p. */
unsigned pool_threads(const struct pool *p);

/* Cancels p if it is still running, joins its workers and frees it; NULL is a no-op. */
void pool_free(struct pool *p);

#endif

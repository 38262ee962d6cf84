/*
 * ratelimit: token buckets by key.  See ratelimit.h.
 *
 * Must hold: a key's tokens never exceed a minute's worth; a refused take
 * takes nothing.  Keys are kept for the life of the server: there are as
 * many as enrolled agents, which the server keeps anyway.
 */
#include "server/ratelimit.h"
#include "util/alloc.h"
#include "util/strmap.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define NBUCKETS 4096

struct entry {
	char key[48];
	double tokens, last;
	struct entry *next;
};

struct ratelimit {
	pthread_mutex_t lock;
	double rate; /* per minute */
	struct entry *b[NBUCKETS];
};

struct ratelimit *
ratelimit_new(double per_minute)
{
	struct ratelimit *rl = ward_calloc(1, sizeof(*rl));

	if (rl == NULL)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = per_minute;
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	struct entry *e, *next;
	size_t i;

	if (rl == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++)
		for (e = rl->b[i]; e != NULL; e = next) {
			next = e->next;
			ward_free(e);
		}
	pthread_mutex_destroy(&rl->lock);
	ward_free(rl);
}

void
ratelimit_set_rate(struct ratelimit *rl, double per_minute)
{
	pthread_mutex_lock(&rl->lock);
	rl->rate = per_minute;
	pthread_mutex_unlock(&rl->lock);
}

int
ratelimit_take(struct ratelimit *rl, const char *key, double n, double now)
{
	struct entry *e, **slot = &rl->b[strmap_hash(key) % NBUCKETS];
	int wait = 0;

	pthread_mutex_lock(&rl->lock);
	if (n > rl->rate) /* more than a minute's worth: once the bucket is full */
		n = rl->rate;
	for (e = *slot; e != NULL && strncmp(e->key, key, sizeof(e->key) - 1) != 0; e = e->next)
		;
	if (e == NULL && (e = ward_calloc(1, sizeof(*e))) != NULL) {
		strncpy(e->key, key, sizeof(e->key) - 1);
		e->tokens = rl->rate;
		e->last = now;
		e->next = *slot;
		*slot = e;
	}
	if (e != NULL) {
		e->tokens += (now - e->last) * rl->rate / 60.0;
		if (e->tokens > rl->rate)
			e->tokens = rl->rate;
		e->last = now;
		if (n <= e->tokens)
			e->tokens -= n;
		else
			wait = (int)ceil((n - e->tokens) * 60.0 / rl->rate);
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

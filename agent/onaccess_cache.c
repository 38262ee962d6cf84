/*
 * onaccess_cache: on-access verdicts by file identity.  See
 * onaccess_cache.h.
 *
 * Must hold: a hit needs every part of the key to be equal — the file's
 * identity and times, the content version and the exceptions generation —
 * so that new content, a new exception or a write (which moves mtime and
 * ctime, and is dropped explicitly besides) is never answered from here.
 */
#include "agent/onaccess_cache.h"
#include "util/alloc.h"

#include <stdint.h>
#include <stdio.h>

struct centry {
	dev_t dev;
	ino_t ino;
	int64_t mtime_ns, ctime_ns;
	off_t size;
	long long version;
	unsigned long long xgen; /* the exceptions in force (exceptions_generation) */
	int verdict;		 /* 1 detected, 0 clean (or excepted) */
	int used;
	char rule[64]; /* what matched, for the events of later hits */
};

struct onaccess_cache {
	struct centry *e;
	unsigned n;
};

static int64_t
ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

static struct centry *
slot(const struct onaccess_cache *c, const struct stat *st)
{
	uint64_t h = (uint64_t)st->st_ino * 0x9e3779b97f4a7c15ull ^ (uint64_t)st->st_dev;

	return &c->e[h % c->n];
}

struct onaccess_cache *
onaccess_cache_new(unsigned n)
{
	struct onaccess_cache *c = NULL;

	if (n == 0)
		goto out;
	if ((c = ward_calloc(1, sizeof(*c))) == NULL)
		goto out;
	c->n = n;
	if ((c->e = ward_calloc(n, sizeof(*c->e))) == NULL) {
		ward_free(c);
		c = NULL;
	}
out:
	return c;
}

void
onaccess_cache_free(struct onaccess_cache *c)
{
	if (c == NULL)
		return;
	ward_free(c->e);
	ward_free(c);
}

int
onaccess_cache_same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int
onaccess_cache_get(const struct onaccess_cache *c, const struct stat *st, long long version,
		   unsigned long long xgen, int *verdict, char *rule, size_t rulelen)
{
	const struct centry *e = slot(c, st);
	int hit;

	hit = e->used && e->xgen == xgen && e->dev == st->st_dev && e->ino == st->st_ino &&
	      e->mtime_ns == ns(&st->st_mtim) && e->ctime_ns == ns(&st->st_ctim) &&
	      e->size == st->st_size && e->version == version;
	if (hit) {
		*verdict = e->verdict;
		if (rulelen > 0)
			snprintf(rule, rulelen, "%s", e->rule);
	}
	return hit;
}

void
onaccess_cache_put(struct onaccess_cache *c, const struct stat *st, long long version,
		   unsigned long long xgen, int verdict, const char *rule)
{
	struct centry *e = slot(c, st);

	e->xgen = xgen;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->mtime_ns = ns(&st->st_mtim);
	e->ctime_ns = ns(&st->st_ctim);
	e->size = st->st_size;
	e->version = version;
	e->verdict = verdict;
	e->used = 1;
	snprintf(e->rule, sizeof(e->rule), "%.63s", rule != NULL ? rule : "");
}

void
onaccess_cache_drop(struct onaccess_cache *c, const struct stat *st)
{
	struct centry *e = slot(c, st);

	if (e->used && e->dev == st->st_dev && e->ino == st->st_ino)
		e->used = 0;
}

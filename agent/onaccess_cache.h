/*
 * onaccess_cache: on-access verdicts by file identity.
 *
 * A verdict is kept by (device, inode, mtime, ctime, size) and by what it
 * was decided with: the content version and the generation of the
 * exceptions in force.  A change of any of them is a miss, so a stale
 * verdict is never answered.  The table is direct-mapped and of fixed
 * size (onaccess.cache_entries, bounded by the configuration): a
 * collision replaces the older entry.  Not locked: the caller holds its
 * own lock around every call.
 */
#ifndef WARD_AGENT_ONACCESS_CACHE_H
#define WARD_AGENT_ONACCESS_CACHE_H

#include <stddef.h>
#include <sys/stat.h>

struct onaccess_cache;

/* A cache of n entries (n > 0), or NULL (out of memory, n == 0).  The
 * caller frees it with onaccess_cache_free (NULL: nothing). */
struct onaccess_cache *onaccess_cache_new(unsigned n);
void onaccess_cache_free(struct onaccess_cache *c);

/*
 * The verdict for the file st describes, decided with content version and
 * exceptions generation xgen: 1 (hit) with *verdict (1 detected, 0 clean)
 * and the rule that matched in rule (rulelen bytes, "" if none), or 0.
 */
int onaccess_cache_get(const struct onaccess_cache *c, const struct stat *st, long long version,
		       unsigned long long xgen, int *verdict, char *rule, size_t rulelen);

/* Keeps verdict (and rule, cut to 63 bytes; NULL: none) for st. */
void onaccess_cache_put(struct onaccess_cache *c, const struct stat *st, long long version,
			unsigned long long xgen, int verdict, const char *rule);

/* Forgets st's file (it was written), whatever its times now are. */
void onaccess_cache_drop(struct onaccess_cache *c, const struct stat *st);

/* 1 if a and b are the same file with the same contents as far as stat
 * can tell (device, inode, size, mtime and ctime to the nanosecond). */
int onaccess_cache_same(const struct stat *a, const struct stat *b);

#endif

/*
 * strmap: a map from NUL-terminated strings to a uint32_t each, for a
 * number of keys known in advance (open addressing, never resized).  Keys
 * are borrowed: they must outlive the map.  Used to find the strings of a
 * rule set that share an expression.
 */
#ifndef WARD_UTIL_STRMAP_H
#define WARD_UTIL_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap;

/* FNV-1a (64 bits) of a NUL-terminated string: the hash of every string
 * table of ward. */
uint64_t strmap_hash(const char *s);

/* A map for up to n keys: 0 and *out (free with strmap_free), or
 * WARD_ENOMEM. */
int strmap_new(size_t n, struct strmap **out);
void strmap_free(struct strmap *m);

/*
 * The value of key, added with value init when new (then *fresh is 1, else
 * 0; fresh may be NULL).  NULL when the map already holds the n keys it
 * was made for and key is not among them.
 */
uint32_t *strmap_slot(struct strmap *m, const char *key, uint32_t init, int *fresh);

#endif

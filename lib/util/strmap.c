/*
 * strmap: see strmap.h.  Capacity is a power of two at least twice the
 * number of keys, so a probe always ends at a free slot.
 */
#include "util/strmap.h"

#include <string.h>

#include "util/alloc.h"
#include "util/err.h"

struct slot {
	const char *key; /* NULL: free */
	uint32_t value;
};

struct strmap {
	struct slot *slot;
	size_t cap;    /* a power of two */
	size_t n, max; /* keys held, and at most */
};

uint64_t
strmap_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

int
strmap_new(size_t n, struct strmap **out)
{
	struct strmap *m;

	*out = NULL;
	if (n > SIZE_MAX / 4 / sizeof(struct slot))
		return WARD_ENOMEM;
	if ((m = ward_calloc(1, sizeof(*m))) == NULL)
		return WARD_ENOMEM;
	m->max = n;
	for (m->cap = 16; m->cap < 2 * n; m->cap *= 2)
		;
	if ((m->slot = ward_calloc(m->cap, sizeof(*m->slot))) == NULL) {
		ward_free(m);
		return WARD_ENOMEM;
	}
	*out = m;
	return 0;
}

void
strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	ward_free(m->slot);
	ward_free(m);
}

uint32_t *
strmap_slot(struct strmap *m, const char *key, uint32_t init, int *fresh)
{
	size_t i = (size_t)strmap_hash(key) & (m->cap - 1);

	if (fresh != NULL)
		*fresh = 0;
	while (m->slot[i].key != NULL && strcmp(m->slot[i].key, key) != 0)
		i = (i + 1) & (m->cap - 1);
	if (m->slot[i].key == NULL) {
		if (m->n == m->max)
			return NULL;
		m->slot[i].key = key;
		m->slot[i].value = init;
		m->n++;
		if (fresh != NULL)
			*fresh = 1;
	}
	return &m->slot[i].value;
}

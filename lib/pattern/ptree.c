/*
 * ptree: node array and class bitmaps for the pattern parsers.  See ptree.h.
 *
 * Must hold: a tree never has more than WARD_MAX_PATTERN_NODES nodes, and
 * every index stored in a node is below nn (ptree_add is the only way a
 * node comes to exist).
 */
#include "pattern/ptree.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/limits.h"

#include <string.h>

void
ptree_init(struct ptree *t)
{
	memset(t, 0, sizeof(*t));
	t->root = PTREE_NONE;
}

void
ptree_fini(struct ptree *t)
{
	if (t == NULL)
		return;
	ward_free(t->n);
	ptree_init(t);
}

int
ptree_add(struct ptree *t, enum ptree_type type, uint32_t col, uint32_t *idx)
{
	struct ptree_node *n;
	int r;

	*idx = PTREE_NONE;
	if (t->nn >= WARD_MAX_PATTERN_NODES) {
		r = WARD_ELIMIT;
		goto out;
	}
	r = ward_grow(&t->n, &t->cap, t->nn + 1, sizeof(*t->n));
	if (r != 0)
		goto out;
	n = &t->n[t->nn];
	memset(n, 0, sizeof(*n));
	n->type = (uint8_t)type;
	n->child = PTREE_NONE;
	n->last = PTREE_NONE;
	n->next = PTREE_NONE;
	n->min = 1;
	n->max = 1;
	n->col = col;
	*idx = (uint32_t)t->nn++;
	r = 0;
out:
	return r;
}

void
ptree_append(struct ptree *t, uint32_t p, uint32_t c)
{
	struct ptree_node *pn = &t->n[p];

	if (pn->last == PTREE_NONE)
		pn->child = c;
	else
		t->n[pn->last].next = c;
	pn->last = c;
}

void
ptree_bm_set(uint8_t *bm, unsigned c)
{
	bm[(c & 0xffu) >> 3] |= (uint8_t)(1u << (c & 7u));
}

void
ptree_bm_range(uint8_t *bm, unsigned lo, unsigned hi)
{
	unsigned c;

	for (c = lo; c <= hi && c < 256; c++)
		ptree_bm_set(bm, c);
}

void
ptree_bm_not(uint8_t *bm)
{
	size_t i;

	for (i = 0; i < 32; i++)
		bm[i] = (uint8_t)~bm[i];
}

void
ptree_bm_fold(uint8_t *bm)
{
	unsigned c;

	for (c = 'a'; c <= 'z'; c++) {
		if (ptree_bm_has(bm, c) || ptree_bm_has(bm, c - 32)) {
			ptree_bm_set(bm, c);
			ptree_bm_set(bm, c - 32);
		}
	}
}

unsigned
ptree_bm_count(const uint8_t *bm)
{
	uint64_t q;
	unsigned i, n = 0;

	for (i = 0; i < 32; i += 8) {
		memcpy(&q, bm + i, 8);
		n += (unsigned)__builtin_popcountll(q);
	}
	return n;
}

int
ptree_bm_first(const uint8_t *bm)
{
	unsigned i, b;

	for (i = 0; i < 32; i++)
		if (bm[i] != 0)
			for (b = 0; b < 8; b++)
				if (bm[i] & (1u << b))
					return (int)(i * 8 + b);
	return -1;
}

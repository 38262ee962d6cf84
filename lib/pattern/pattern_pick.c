/*
 * pattern_pick: which run of exact characters each string of a rule set
 * looks for (pattern_choose_anchors).
 *
 * A string's anchor is its longest run (pattern_use_anchor), and a hit of
 * the anchor is verified for every string that has it.  Generated rule
 * sets share runs by the hundred: signature-base's VersionInfo rules are
 * { "ProductVersion" [1-8] "2.2.0.0" } in UTF-16, and 990 of their strings
 * have the key as their longest run, so each ProductVersion of every PE
 * file was verified 990 times.  Their values are rarely shared: a string
 * whose anchor is shared by more than PICK_SHARED others looks for the
 * least shared of its other runs instead.
 *
 * Must hold: the choice depends only on the patterns and their order, so
 * that a rule set loaded from a compiled file chooses as its compiler did
 * (the database holds the chosen runs; nothing else records the choice).
 */
#include "pattern/pattern.h"
#include "util/alloc.h"
#include "util/err.h"

#include <string.h>

/* Strings that may share an anchor before one looks for another run. */
#define PICK_SHARED 8

struct slot {
	const char *s; /* borrowed from a pattern; NULL: free */
	uint32_t n;    /* strings looking for it */
};

struct table {
	struct slot *slot;
	size_t cap; /* a power of two */
};

static uint64_t
fnv(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h;
}

/* The slot of s, added with n = 0 when new; the table never fills (its
 * capacity is twice the number of runs). */
static struct slot *
slot_of(struct table *t, const char *s)
{
	size_t i = (size_t)fnv(s) & (t->cap - 1);

	while (t->slot[i].s != NULL && strcmp(t->slot[i].s, s) != 0)
		i = (i + 1) & (t->cap - 1);
	if (t->slot[i].s == NULL)
		t->slot[i].s = s;
	return &t->slot[i];
}

static const char *
run_expr(const struct pattern *p, size_t v, size_t k)
{
	struct pattern_hs ph;

	pattern_expr_anchor(p, v, k, &ph);
	return ph.expr;
}

int
pattern_choose_anchors(const struct pattern *const *pats, const uint32_t *vars, size_t n,
		       uint32_t *choice)
{
	struct table t = {NULL, 16};
	size_t i, k, nk, runs = 0;
	int pass, r = 0;

	for (i = 0; i < n; i++) {
		choice[i] = 0;
		runs += pattern_nanchors(pats[i], vars[i]);
	}
	while (t.cap < 2 * runs)
		t.cap *= 2;
	if ((t.slot = ward_calloc(t.cap, sizeof(*t.slot))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		nk = pattern_nanchors(pats[i], vars[i]);
		for (k = 0; k < nk; k++)
			slot_of(&t, run_expr(pats[i], vars[i], k))->n += k == 0;
	}
	/* Two passes: a string that moves can make another's run rarer. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			struct slot *cur, *best = NULL, *s;
			uint32_t bk = 0;

			nk = pattern_nanchors(pats[i], vars[i]);
			cur = slot_of(&t, run_expr(pats[i], vars[i], choice[i]));
			if (nk < 2 || cur->n <= PICK_SHARED)
				continue;
			for (k = 0; k < nk; k++) {
				if (k == choice[i])
					continue;
				s = slot_of(&t, run_expr(pats[i], vars[i], k));
				if (best == NULL || s->n < best->n) {
					best = s;
					bk = (uint32_t)k;
				}
			}
			if (best != NULL && best->n + 1 < cur->n) {
				cur->n--;
				best->n++;
				choice[i] = bk;
			}
		}
	}
out:
	ward_free(t.slot);
	return r;
}

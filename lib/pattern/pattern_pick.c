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
#include "pattern/pattern_impl.h"
#include "util/alloc.h"
#include "util/err.h"
#include "util/strmap.h"

/* Strings that may share an anchor before one looks for another run. */
#define PICK_SHARED 8

size_t
pattern_nanchors(const struct pattern *p, size_t v)
{
	return v < p->nvar ? 1 + (size_t)p->var[v].nalt : 1;
}

void
pattern_expr_anchor(const struct pattern *p, size_t v, size_t k, struct pattern_hs *out)
{
	const struct pattern_alt *a;

	pattern_expr(p, v, out);
	if (v >= p->nvar || k == 0 || k > p->var[v].nalt)
		return;
	a = &p->var[v].alt[k - 1];
	out->expr = a->expr;
	out->end_min = a->end_min;
	out->end_max = a->end_max;
	if (p->var[v].ctx != NULL) {
		out->ctx = p->var[v].ctx + k * PATTERN_MAX_CTX;
		out->nctx = p->var[v].nctx[k];
	}
}

static const char *
run_expr(const struct pattern *p, size_t v, size_t k)
{
	struct pattern_hs ph;

	pattern_expr_anchor(p, v, k, &ph);
	return ph.expr;
}

/* The count of strings looking for run k of expression i. */
static uint32_t *
count_of(struct strmap *t, const struct pattern *p, uint32_t v, size_t k)
{
	return strmap_slot(t, run_expr(p, v, k), 0, NULL);
}

int
pattern_choose_anchors(const struct pattern *const *pats, const uint32_t *vars, size_t n,
		       uint32_t *choice)
{
	struct strmap *t = NULL;
	size_t i, k, nk, runs = 0;
	int pass, r;

	for (i = 0; i < n; i++) {
		choice[i] = 0;
		runs += pattern_nanchors(pats[i], vars[i]);
	}
	if ((r = strmap_new(runs, &t)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		nk = pattern_nanchors(pats[i], vars[i]);
		for (k = 0; k < nk; k++)
			*count_of(t, pats[i], vars[i], k) += k == 0;
	}
	/* Two passes: a string that moves can make another's run rarer. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			uint32_t *cur, *best = NULL, *c, bk = 0;

			nk = pattern_nanchors(pats[i], vars[i]);
			cur = count_of(t, pats[i], vars[i], choice[i]);
			if (nk < 2 || *cur <= PICK_SHARED)
				continue;
			for (k = 0; k < nk; k++) {
				if (k == choice[i])
					continue;
				c = count_of(t, pats[i], vars[i], k);
				if (best == NULL || *c < *best) {
					best = c;
					bk = (uint32_t)k;
				}
			}
			if (best != NULL && *best + 1 < *cur) {
				(*cur)--;
				(*best)++;
				choice[i] = bk;
			}
		}
	}
out:
	strmap_free(t);
	return r;
}

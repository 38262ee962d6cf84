/*
 * pattern_pick: which run of exact characters each string of a rule set
 * looks for (pattern_choose_anchors), and the characters its matches can
 * begin with (pattern_first_chars), by which the matcher skips starts.
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
#include "util/limits.h"
#include "util/strmap.h"

#include <string.h>

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

/* Adds to set the characters that can begin a run of the program from
 * pc; 0 when a match could be empty there or any character begin it. */
static int
first_chars(const struct pattern *p, uint32_t pc0, uint8_t *set)
{
	uint16_t stk[2 * WARD_MAX_PATTERN_PROG + 2];
	uint8_t seen[WARD_MAX_PATTERN_PROG / 8];
	size_t sp = 0, k;
	uint32_t pc;

	memset(seen, 0, sizeof(seen));
	stk[sp++] = (uint16_t)pc0;
	while (sp > 0) {
		pc = stk[--sp];
		if (pc >= p->nprog)
			return 0;
		if ((seen[pc >> 3] >> (pc & 7)) & 1)
			continue;
		seen[pc >> 3] |= (uint8_t)(1u << (pc & 7));
		switch (p->prog[pc].op) {
		case POP_BYTE:
			set[p->prog[pc].x >> 3] |= (uint8_t)(1u << (p->prog[pc].x & 7));
			break;
		case POP_CLASS:
			for (k = 0; k < 32; k++)
				set[k] |= p->cls[p->prog[pc].x][k];
			break;
		case POP_SPLIT:
			stk[sp++] = (uint16_t)p->prog[pc].y;
			stk[sp++] = (uint16_t)p->prog[pc].x;
			break;
		case POP_JMP:
			stk[sp++] = (uint16_t)p->prog[pc].x;
			break;
		case POP_BOL:
		case POP_EOL:
		case POP_WORDB:
		case POP_NWORDB:
			stk[sp++] = (uint16_t)(pc + 1); /* passed or not: a superset */
			break;
		default: /* POP_MATCH, POP_ANY */
			return 0;
		}
	}
	return 1;
}

int
pattern_first_chars(const struct pattern *p, uint8_t set[32])
{
	uint32_t k;
	int r = 0;

	memset(set, 0, 32);
	if (p->ekind == PATTERN_TEXT || (p->flags & PATTERN_XOR) || p->nprog == 0)
		goto out;
	if (p->npieces <= 1 && p->nbranch > 1) {
		for (k = 0; k < p->nbranch; k++)
			if (!first_chars(p, p->branch[k], set))
				goto out;
		r = 1;
	} else {
		r = first_chars(p, p->piece[0].pc, set);
	}
out:
	return r;
}

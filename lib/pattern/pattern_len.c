/*
 * pattern_len: what a pattern tree measures: the instructions its program
 * takes, its shortest and longest match, and the pieces YARA cuts it into
 * at its long jumps (chained strings).  Pure functions of the tree.
 *
 * Must hold: sizes and lengths saturate at PATTERN_SIZE_CAP, never wrap.
 */
#include "pattern/pattern.h"
#include "pattern/pattern_impl.h"
#include "pattern/ptree.h"
#include "util/limits.h"

uint64_t
pattern_sat_add(uint64_t a, uint64_t b)
{
	return a + b > PATTERN_SIZE_CAP ? PATTERN_SIZE_CAP : a + b;
}

uint64_t
pattern_sat_mul(uint64_t a, uint64_t b)
{
	if (a != 0 && b > PATTERN_SIZE_CAP / a)
		return PATTERN_SIZE_CAP;
	return a * b;
}

/* Instructions node n compiles to (saturating). */
uint64_t
pattern_tree_size(const struct ptree *t, uint32_t n)
{
	const struct ptree_node *nd = &t->n[n];
	uint64_t s = 0, sc, k = 0;
	uint32_t c;

	switch (nd->type) {
	case PT_CLASS:
	case PT_BOL:
	case PT_EOL:
	case PT_WORDB:
	case PT_NWORDB:
		s = 1;
		break;
	case PT_CAT:
	case PT_ALT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			s = pattern_sat_add(s, pattern_tree_size(t, c));
			k++;
		}
		if (nd->type == PT_ALT && k > 1)
			s = pattern_sat_add(s, 2 * (k - 1));
		break;
	case PT_REPEAT:
		sc = pattern_tree_size(t, nd->child);
		s = pattern_sat_mul(nd->min, sc);
		if (nd->max == PTREE_INF)
			s = pattern_sat_add(s, sc + 2);
		else
			s = pattern_sat_add(s, pattern_sat_mul(nd->max - nd->min, sc + 1));
		break;
	default:
		break;
	}
	return s;
}

/* Shortest and longest match of node n in characters (longest saturates). */
void
pattern_tree_len(const struct ptree *t, uint32_t n, uint64_t *mn, uint64_t *mx)
{
	const struct ptree_node *nd = &t->n[n];
	uint64_t a, b, smin = 0, smax = 0;
	uint32_t c;
	int first = 1;

	switch (nd->type) {
	case PT_CLASS:
		smin = smax = 1;
		break;
	case PT_CAT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			pattern_tree_len(t, c, &a, &b);
			smin = pattern_sat_add(smin, a);
			smax = pattern_sat_add(smax, b);
		}
		break;
	case PT_ALT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			pattern_tree_len(t, c, &a, &b);
			if (first || a < smin)
				smin = a;
			if (first || b > smax)
				smax = b;
			first = 0;
		}
		break;
	case PT_REPEAT:
		pattern_tree_len(t, nd->child, &a, &b);
		smin = pattern_sat_mul(nd->min, a);
		smax = nd->max == PTREE_INF ? (b == 0 ? 0 : PATTERN_SIZE_CAP)
					    : pattern_sat_mul(nd->max, b);
		break;
	default:
		break;
	}
	*mn = smin;
	*mx = smax;
}

int
pattern_is_chain_jump(const struct ptree_node *nd)
{
	return nd->type == PT_REPEAT && nd->jump &&
	       (nd->min > PTREE_CHAIN_THRESHOLD || nd->max > PTREE_CHAIN_THRESHOLD);
}

/* Whether p is cut into pieces at its long top-level jumps (a condition's
 * regexp is not: yr_re_compile does not cut). */
int
pattern_cuts_chains(const struct pattern *p, const struct ptree *t)
{
	return t->n[t->root].type == PT_CAT && !(p->flags & PATTERN_SEARCH);
}

/* Instructions the program of p takes (the jumps between pieces take
 * none). */
uint64_t
pattern_prog_size(const struct pattern *p, const struct ptree *t)
{
	uint64_t s = 0;
	uint32_t c;

	if (!pattern_cuts_chains(p, t))
		return pattern_tree_size(t, t->root);
	for (c = t->n[t->root].child; c != PTREE_NONE; c = t->n[c].next) {
		if (!pattern_is_chain_jump(&t->n[c]))
			s = pattern_sat_add(s, pattern_tree_size(t, c));
	}
	return s;
}

/*
 * The shortest and longest match in bytes of a chained string in
 * characters of cs bytes: each piece at most the scan limit, the gaps in
 * bytes (YARA's, also for the wide form); a regexp's .{n,}? ends at
 * RE_MAX_RANGE, a hex [n-] is unbounded.
 */
void
pattern_chain_len(const struct pattern *p, const struct ptree *t, unsigned cs, uint64_t *tmin,
		  uint64_t *tmax)
{
	const struct ptree_node *nd;
	uint64_t mn, mx, pmin = 0, pmax = 0, lim = WARD_RE_SCAN_LIMIT - WARD_RE_SCAN_LIMIT % cs;
	uint32_t c;

	*tmin = *tmax = 0;
	for (c = t->n[t->root].child;; c = nd->next) {
		nd = c != PTREE_NONE ? &t->n[c] : NULL;
		if (nd == NULL || pattern_is_chain_jump(nd)) {
			*tmin = pattern_sat_add(*tmin, pattern_sat_mul(pmin, cs));
			*tmax = pattern_sat_add(*tmax,
						pattern_sat_mul(pmax, cs) > lim ? lim : pmax * cs);
			pmin = pmax = 0;
			if (nd == NULL)
				break;
			*tmin = pattern_sat_add(*tmin, nd->min);
			mx = nd->max != PTREE_INF	 ? nd->max
			     : p->ekind == PATTERN_REGEX ? WARD_MAX_REPEAT
							 : PATTERN_SIZE_CAP;
			*tmax = pattern_sat_add(*tmax, mx);
			continue;
		}
		pattern_tree_len(t, c, &mn, &mx);
		pmin = pattern_sat_add(pmin, mn);
		pmax = pattern_sat_add(pmax, mx);
	}
}

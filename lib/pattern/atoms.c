/*
 * atoms: YARA 4.2's choice of atoms for a regexp, re-implemented from its
 * documented behaviour (libyara/atoms.c) and checked against yara.
 *
 * The regexp is walked left to right.  Consecutive literals and `.`
 * (including the copies a repeat {n,m} must match, at most four) form a
 * run; anything else ends it.  Each run gives one candidate: its best
 * window of at most four characters (first best wins), trimmed of leading
 * and trailing `.`, and cut to its first character when it has as many
 * `.` as literals.  The candidates of one scope compete: the best quality
 * wins, the first on ties.  An alternation competes as a whole: it needs
 * one atom per alternative, and its quality is that of its worst
 * alternative (an alternative without atoms makes it unusable).
 *
 * Must hold: no allocation; recursion depth follows the tree's (bounded by
 * the parser); work is bounded by AT_BUDGET.
 */
#include "pattern/atoms.h"

#include <string.h>

#define AT_LEN ATOMS_LEN
#define AT_QMAX 255		    /* YR_MAX_ATOM_QUALITY */
#define AT_QMIN 0		    /* YR_MIN_ATOM_QUALITY */
#define AT_BUDGET ((size_t)1 << 16) /* characters pushed into runs */

struct at_list {
	struct atoms_atom a[ATOMS_MAX];
	size_t n;
};

/* A scope where candidates compete (YARA's OR node): the best so far. */
struct at_scope {
	int q; /* AT_QMIN: nothing usable yet */
	struct at_list best;
};

struct at {
	const struct ptree *t;
	size_t work;
	int over;
	/* the current run: its last AT_LEN characters */
	uint32_t node[AT_LEN];
	uint8_t byte[AT_LEN], mask[AT_LEN];
	size_t n;
	/* the run's best full window so far (bq < 0: none evaluated) */
	int bq;
	struct atoms_atom best;
};

static int
at_common(uint8_t b)
{
	return b == 0x00 || b == 0x20 || b == 0xcc || b == 0xff;
}

static int
at_letter(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

/* YARA's heuristic quality of len characters (mask 0: `.`). */
static int
at_quality(const uint8_t *b, const uint8_t *mask, size_t len)
{
	uint8_t seen[32];
	int q = 0, uniq = 0, last = 0;
	size_t i;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < len; i++) {
		if (mask[i] == 0) {
			q -= 10;
			continue;
		}
		q += at_common(b[i]) ? 12 : at_letter(b[i]) ? 18 : 20;
		if (!(seen[b[i] >> 3] & (1u << (b[i] & 7)))) {
			seen[b[i] >> 3] |= (uint8_t)(1u << (b[i] & 7));
			uniq++;
			last = b[i];
		}
	}
	if (uniq == 1 && (at_common((uint8_t)last) || last == 0x90))
		q -= 10 * (int)len;
	else
		q += 2 * uniq;
	return AT_QMAX - 22 * AT_LEN + q;
}

/*
 * The current window, trimmed, into *w (w->len 0 when it is all `.`);
 * returns its quality.
 */
static int
at_window(const struct at *a, struct atoms_atom *w)
{
	size_t lo = 0, hi = a->n, i, ff = 0, zero = 0, len;

	while (lo < hi && a->mask[lo] == 0)
		lo++;
	while (hi > lo && a->mask[hi - 1] == 0)
		hi--;
	memset(w, 0, sizeof(*w));
	w->node = lo < a->n ? a->node[lo] : UINT32_MAX;
	len = hi - lo;
	for (i = lo; i < hi; i++) {
		if (a->mask[i] != 0)
			ff++;
		else
			zero++;
	}
	if (len > 0 && zero >= ff)
		len = 1;
	w->len = (uint8_t)len;
	memcpy(w->byte, a->byte + lo, len);
	memcpy(w->mask, a->mask + lo, len);
	return at_quality(w->byte, w->mask, len);
}

static void
at_offer(struct at_scope *s, int q, const struct at_list *l)
{
	if (q > s->q) {
		s->q = q;
		s->best = *l;
	}
}

/* Ends the current run: its candidate joins scope s. */
static void
at_flush(struct at *a, struct at_scope *s)
{
	struct at_list l;
	struct atoms_atom w;
	int q;

	if (a->n == 0)
		goto out;
	q = at_window(a, &w);
	if (q <= a->bq) {
		q = a->bq;
		w = a->best;
	}
	if (w.len > 0) {
		l.n = 1;
		l.a[0] = w;
		at_offer(s, q, &l);
	}
out:
	a->n = 0;
	a->bq = -1;
}

static void
at_push(struct at *a, uint32_t node, uint8_t byte, uint8_t mask)
{
	struct atoms_atom w;
	int q;

	if (++a->work > AT_BUDGET) {
		a->over = 1;
		return;
	}
	if (a->n < AT_LEN) {
		a->node[a->n] = node;
		a->byte[a->n] = byte;
		a->mask[a->n] = mask;
		a->n++;
		return;
	}
	if (a->bq >= AT_QMAX)
		return; /* YARA stops sliding once a window is perfect */
	q = at_window(a, &w);
	if (q > a->bq) {
		a->bq = q;
		a->best = w;
	}
	memmove(a->node, a->node + 1, (AT_LEN - 1) * sizeof(a->node[0]));
	memmove(a->byte, a->byte + 1, AT_LEN - 1);
	memmove(a->mask, a->mask + 1, AT_LEN - 1);
	a->node[AT_LEN - 1] = node;
	a->byte[AT_LEN - 1] = byte;
	a->mask[AT_LEN - 1] = mask;
}

static void at_walk(struct at *a, uint32_t n, struct at_scope *s);

/*
 * An alternation: one atom per alternative, the worst quality counts.  The
 * run before it competes after it (YARA files the alternation first).
 */
static void
at_alt(struct at *a, uint32_t n, struct at_scope *s)
{
	struct at_scope alt, before;
	struct at_list all;
	uint32_t c;
	size_t i;
	int q = AT_QMAX;

	before.q = AT_QMIN;
	before.best.n = 0;
	at_flush(a, &before);
	all.n = 0;
	for (c = a->t->n[n].child; c != PTREE_NONE; c = a->t->n[c].next) {
		alt.q = AT_QMIN;
		alt.best.n = 0;
		at_walk(a, c, &alt);
		at_flush(a, &alt);
		if (alt.q < q)
			q = alt.q;
		for (i = 0; i < alt.best.n; i++) {
			if (all.n == ATOMS_MAX) {
				a->over = 1;
				break;
			}
			all.a[all.n++] = alt.best.a[i];
		}
	}
	at_offer(s, q, &all);
	at_offer(s, before.q, &before.best);
}

static void
at_repeat(struct at *a, uint32_t n, struct at_scope *s)
{
	const struct ptree_node *nd = &a->t->n[n];
	const struct ptree_node *ch = &a->t->n[nd->child];
	uint32_t i, k = 0;

	/* x+ and x{n,m} (n > 0) contribute their first copies; .? and .{n,m}
	 * are gaps for YARA, x* and x{0,m} contribute nothing */
	if (nd->quant == '+')
		k = 1;
	else if (nd->quant != '*' && !(ch->type == PT_CLASS && ch->lit == PL_ANY))
		k = nd->min < AT_LEN ? nd->min : AT_LEN;
	for (i = 0; i < k && !a->over; i++)
		at_walk(a, nd->child, s);
	at_flush(a, s);
}

static void
at_walk(struct at *a, uint32_t n, struct at_scope *s)
{
	const struct ptree_node *nd = &a->t->n[n];
	uint32_t c;

	if (a->over)
		return;
	switch (nd->type) {
	case PT_CLASS:
		if (nd->lit == PL_LITERAL)
			at_push(a, n, nd->val, 0xff);
		else if (nd->lit == PL_ANY)
			at_push(a, n, 0, 0);
		else
			at_flush(a, s);
		break;
	case PT_CAT:
		for (c = nd->child; c != PTREE_NONE && !a->over; c = a->t->n[c].next)
			at_walk(a, c, s);
		break;
	case PT_ALT:
		at_alt(a, n, s);
		break;
	case PT_REPEAT:
		at_repeat(a, n, s);
		break;
	default:
		at_flush(a, s);
		break;
	}
}

size_t
atoms_literal_len(const struct ptree *t)
{
	const struct ptree_node *root;
	uint32_t c;
	size_t n = 0;

	if (t->root == PTREE_NONE)
		goto out;
	root = &t->n[t->root];
	if (root->type != PT_CAT)
		goto out;
	for (c = root->child; c != PTREE_NONE; c = t->n[c].next) {
		if (t->n[c].type != PT_CLASS || t->n[c].lit != PL_LITERAL) {
			n = 0;
			goto out;
		}
		n++;
	}
out:
	return n;
}

int
atoms_choose(const struct ptree *t, struct atoms_atom atom[ATOMS_MAX], size_t *n)
{
	struct at a;
	struct at_scope root;
	int r = 0;

	*n = 0;
	if (t->root == PTREE_NONE || atoms_literal_len(t) > 0)
		goto out;
	memset(&a, 0, sizeof(a));
	a.t = t;
	a.bq = -1;
	root.q = AT_QMIN;
	root.best.n = 0;
	at_walk(&a, t->root, &root);
	at_flush(&a, &root);
	if (a.over) {
		r = -1;
		goto out;
	}
	memcpy(atom, root.best.a, root.best.n * sizeof(atom[0]));
	*n = root.best.n;
out:
	return r;
}

size_t
atoms_literal_window(const uint8_t *b, size_t n, size_t *off)
{
	static const uint8_t all[AT_LEN] = {0xff, 0xff, 0xff, 0xff};
	size_t j, best = 0;
	int q, bq = 0;

	*off = 0;
	if (n <= AT_LEN)
		return n;
	for (j = 0; j + AT_LEN <= n; j++) {
		q = at_quality(b + j, all, AT_LEN);
		if (j == 0 || q > bq) {
			bq = q;
			best = j;
		}
	}
	*off = best;
	return AT_LEN;
}

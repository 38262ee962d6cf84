/*
 * pattern_expr: a pattern tree written as a Vectorscan/Hyperscan expression.
 *
 * What must hold: the expression's language contains every true match of
 * the string (it may be larger: the exact verifier decides), every byte is
 * written as \xHH so nothing in the source can change the syntax, and a
 * wide variant interleaves a 0x00 after every character.
 */
#include "pattern/pattern.h"
#include "pattern/pattern_impl.h"
#include "pattern/ptree.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Vectorscan expressions ------------------------------------------ */

void
pattern_ex_byte(struct wbuf *w, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	char s[4] = {'\\', 'x', hex[(c >> 4) & 15u], hex[c & 15u]};

	wbuf_put(w, s, 4);
}

void
pattern_ex_class(struct wbuf *w, const uint8_t *bm, int wide)
{
	unsigned cnt = ptree_bm_count(bm), c, e;
	int neg = cnt > 128;

	if (cnt == 256) {
		wbuf_put(w, ".", 1);
	} else if (cnt == 1) {
		pattern_ex_byte(w, (unsigned)ptree_bm_first(bm));
	} else {
		wbuf_put(w, neg ? "[^" : "[", neg ? 2 : 1);
		for (c = 0; c < 256; c = e + 1) {
			e = c;
			if (ptree_bm_has(bm, c) == neg)
				continue;
			while (e + 1 < 256 && ptree_bm_has(bm, e + 1) != neg)
				e++;
			pattern_ex_byte(w, c);
			if (e > c) {
				if (e > c + 1)
					wbuf_put(w, "-", 1);
				pattern_ex_byte(w, e);
			}
		}
		wbuf_put(w, "]", 1);
	}
	if (wide)
		wbuf_put(w, "\\x00", 4);
}

void
pattern_ex_node(struct wbuf *w, const struct ptree *t, uint32_t n, int wide)
{
	const struct ptree_node *nd = &t->n[n];
	uint32_t c, mn, mx;
	char q[48];

	switch (nd->type) {
	case PT_CLASS:
		pattern_ex_class(w, nd->bm, wide);
		break;
	case PT_CAT:
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next)
			pattern_ex_node(w, t, c, wide);
		break;
	case PT_ALT:
		wbuf_put(w, "(?:", 3);
		for (c = nd->child; c != PTREE_NONE; c = t->n[c].next) {
			if (c != nd->child)
				wbuf_put(w, "|", 1);
			pattern_ex_node(w, t, c, wide);
		}
		wbuf_put(w, ")", 1);
		break;
	case PT_REPEAT:
		if (nd->max == 0)
			break;
		wbuf_put(w, "(?:", 3);
		if (nd->jump)
			wbuf_put(w, ".", 1); /* a chain's gap: any byte (HS_FLAG_DOTALL) */
		else
			pattern_ex_node(w, t, nd->child, wide);
		wbuf_put(w, ")", 1);
		mn = nd->min > WARD_MAX_HS_REPEAT ? WARD_MAX_HS_REPEAT : nd->min;
		mx = nd->max;
		if (mx != PTREE_INF && mx > WARD_MAX_HS_REPEAT)
			mx = PTREE_INF;
		if (mx == PTREE_INF)
			snprintf(q, sizeof(q), "{%u,}", (unsigned)mn);
		else
			snprintf(q, sizeof(q), "{%u,%u}", (unsigned)mn, (unsigned)mx);
		wbuf_put(w, q, strlen(q));
		break;
	default:
		break; /* assertions and empty: dropped, the verifier checks them */
	}
}

int
pattern_ex_finish(struct wbuf *w, struct pattern_variant *v)
{
	int r;

	if (w->len == 0)
		wbuf_put(w, "(?:)", 4);
	wbuf_put(w, "", 1);
	r = w->err;
	if (r == 0) {
		v->expr = (char *)w->p;
		w->p = NULL;
	}
	wbuf_free(w);
	return r;
}

/* --- anchors ------------------------------------------------------------ */

/* Shortest run of exact characters worth looking for instead of the whole
 * string: shorter runs hit too often in binaries to save anything. */
#define ANCHOR_MIN 3
/* Shortest run that may be the anchor of a string that has one of
 * ANCHOR_MIN: two rare bytes beat three zeros. */
#define ANCHOR_PART 2
/* Least run_quality of a run kept as an alternative anchor. */
#define ANCHOR_ALT_QUALITY 9

/* A run of exact characters among a pattern's top-level items. */
struct run {
	uint32_t first; /* its first node */
	uint32_t n;	/* characters */
	uint64_t omin, omax;
	unsigned q; /* run_quality */
};

/* Bytes that fill binaries (padding, NOP, INT3, space): a run made of
 * them is found everywhere. */
static int
common_byte(int c)
{
	return c == 0x00 || c == 0xff || c == 0x20 || c == 0x90 || c == 0xcc;
}

/*
 * How selective the run of n nodes from first is, as YARA weighs its atoms
 * (atoms.c): each distinct character adds 3, or 1 when it is a common
 * byte, so that 00 00 00 (1) or 01 00 00 00 (4) lose to 81 EB (6) — the
 * first two are found millions of times in a few PE files.
 */
static unsigned
run_quality(const struct ptree *t, uint32_t first, uint32_t n)
{
	uint8_t seen[32] = {0};
	unsigned q = 0;
	uint32_t i, c;

	for (i = 0, c = first; i < n; i++, c = t->n[c].next) {
		int ch = ptree_bm_first(t->n[c].bm);

		if (ch >= 0 && !ptree_bm_has(seen, (unsigned)ch)) {
			ptree_bm_set(seen, (unsigned)ch);
			q += common_byte(ch) ? 1 : 3;
		}
	}
	return q;
}

/* Does run a make a better anchor than run b: more selective, then fewer
 * starts to verify per hit, then longer (the earlier of equal ones). */
static int
run_better(const struct run *a, const struct run *b)
{
	if (a->q != b->q)
		return a->q > b->q;
	if (a->omax - a->omin != b->omax - b->omin)
		return a->omax - a->omin < b->omax - b->omin;
	return a->n > b->n;
}

/*
 * The runs of exact characters of a hex string or regexp among its
 * top-level items (each one must be in every match, in order), with the
 * range of each run's offset from the start of a match, in bytes
 * (characters of cs bytes; a chain's gap counts bytes): the runs of at
 * least ANCHOR_PART characters whose offset is bounded by maxlen bytes, best first (run_better), at
 * most nmax.  Returns how many; 0 when the string has no other items (the whole string is already a
 * literal) or no run has ANCHOR_MIN characters (Vectorscan then gets the whole string).
 */
static size_t
tree_runs(const struct ptree *t, uint64_t maxlen, unsigned cs, struct run *out, size_t nmax)
{
	const struct ptree_node *root = &t->n[t->root];
	uint64_t at_min = 0, at_max = 0, mn, mx;
	struct run cur = {PTREE_NONE, 0, 0, 0, 0};
	int only_chars = 1, long_run = 0;
	size_t n = 0, i;
	uint32_t c;

	if (root->type != PT_CAT)
		return 0;
	for (c = root->child;; c = t->n[c].next) {
		const struct ptree_node *nd = c != PTREE_NONE ? &t->n[c] : NULL;

		if (nd != NULL && nd->type == PT_CLASS && ptree_bm_count(nd->bm) == 1) {
			if (cur.n++ == 0) {
				cur.first = c;
				cur.omin = at_min;
				cur.omax = at_max;
			}
		} else {
			if (cur.n >= ANCHOR_PART && cur.omax < PATTERN_SIZE_CAP &&
			    cur.omax + cur.n * cs <= maxlen) {
				long_run |= cur.n >= ANCHOR_MIN;
				cur.q = run_quality(t, cur.first, cur.n);
				/* insert in order; an equal one after */
				for (i = n; i > 0 && run_better(&cur, &out[i - 1]); i--)
					if (i < nmax)
						out[i] = out[i - 1];
				if (i < nmax) {
					out[i] = cur;
					if (n < nmax)
						n++;
				}
			}
			cur.n = 0;
			if (nd == NULL)
				break;
			only_chars = 0;
		}
		pattern_tree_len(t, c, &mn, &mx);
		if (!(nd->type == PT_REPEAT && nd->jump)) { /* a chain's gap counts bytes */
			mn = mn * cs;
			mx = mx >= PATTERN_SIZE_CAP ? mx : mx * cs;
		}
		at_min = pattern_sat_add(at_min, mn);
		at_max = pattern_sat_add(at_max, mx);
	}
	return only_chars || !long_run ? 0 : n;
}

/* How far from a run its neighbour checks may be, in characters. */
#define CTX_SPAN 16

/* Adds the check of node c (a class) at off to the candidates in *cand
 * when the class is a byte under a mask: one exact byte, or a nibble. */
static void
ctx_add(const struct ptree *t, uint32_t c, int32_t off, unsigned cs, struct pattern_ctx *cand,
	size_t *n, size_t cap)
{
	const uint8_t *bm = t->n[c].bm;
	unsigned count = ptree_bm_count(bm), and = 0xff, or = 0, ch, free;

	if (count == 0 || count > 16 || *n + 2 > cap)
		return;
	for (ch = 0; ch < 256; ch++) {
		if (ptree_bm_has(bm, ch)) {
			and &= ch;
			or |= ch;
		}
	}
	/* the members agree on the mask's bits, and every byte with them is
	 * a member */
	free = (unsigned)__builtin_popcount(and ^ or);
	if (count != 1u << free)
		return;
	cand[*n].off = (int16_t)off;
	cand[*n].mask = (uint8_t)~(and ^ or);
	cand[*n].val = (uint8_t)and;
	(*n)++;
	if (cs == 2) { /* the character's high byte */
		cand[*n].off = (int16_t)(off + 1);
		cand[*n].mask = 0xff;
		cand[*n].val = 0;
		(*n)++;
	}
}

/* How much a check tells: its fixed bits, and a rare byte more. */
static int
ctx_weight(const struct pattern_ctx *c)
{
	return __builtin_popcount(c->mask) * 2 + (c->mask == 0xff && !common_byte(c->val));
}

static int
ctx_cmp(const void *a, const void *b)
{
	const struct pattern_ctx *x = a, *y = b;
	int wx = ctx_weight(x), wy = ctx_weight(y);

	if (wx != wy)
		return wy - wx;
	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * The checks of run u's neighbours: the classes next to it among the
 * top-level items, up to CTX_SPAN characters on each side and up to the
 * first item of another length (a jump, a group, a repeat, an assertion),
 * each at its offset from the run's end in bytes; the PATTERN_MAX_CTX that
 * tell most, into ctx.
 */
static uint8_t
run_context(const struct ptree *t, const struct run *u, unsigned cs, struct pattern_ctx *ctx)
{
	struct pattern_ctx cand[4 * CTX_SPAN + 4];
	uint32_t before[CTX_SPAN], c, i, nb = 0, last = u->first;
	size_t n = 0, k;
	int32_t off;

	/* the items before the run, nearest last */
	for (c = t->n[t->root].child; c != PTREE_NONE && c != u->first; c = t->n[c].next) {
		if (nb == CTX_SPAN)
			memmove(before, before + 1, (CTX_SPAN - 1) * sizeof(before[0]));
		before[nb < CTX_SPAN ? nb++ : CTX_SPAN - 1] = c;
	}
	for (i = 1; i < u->n; i++)
		last = t->n[last].next;
	off = 0;
	for (c = t->n[last].next, i = 0; c != PTREE_NONE && i < CTX_SPAN; c = t->n[c].next, i++) {
		if (t->n[c].type != PT_CLASS)
			break;
		ctx_add(t, c, off, cs, cand, &n, sizeof(cand) / sizeof(cand[0]));
		off += (int32_t)cs;
	}
	off = -(int32_t)(u->n * cs);
	for (k = u->n * cs < INT16_MAX / 2 ? nb : 0; k > 0; k--) {
		c = before[k - 1];
		if (t->n[c].type != PT_CLASS)
			break;
		off -= (int32_t)cs;
		ctx_add(t, c, off, cs, cand, &n, sizeof(cand) / sizeof(cand[0]));
	}
	qsort(cand, n, sizeof(cand[0]), ctx_cmp);
	if (n > PATTERN_MAX_CTX)
		n = PATTERN_MAX_CTX;
	memcpy(ctx, cand, n * sizeof(cand[0]));
	return (uint8_t)n;
}

/* The expression of run u of variant pv into *expr (owned by the caller),
 * and its ends after a match's start. */
static int
run_expr(const struct ptree *t, const struct run *u, const struct pattern_variant *pv, char **expr,
	 uint32_t *end_min, uint32_t *end_max)
{
	uint32_t i, c, cs = pv->wide ? 2 : 1;
	struct pattern_variant tmp;
	struct wbuf w;
	int r;

	wbuf_init(&w);
	for (i = 0, c = u->first; i < u->n; i++, c = t->n[c].next)
		pattern_ex_node(&w, t, c, pv->wide);
	memset(&tmp, 0, sizeof(tmp));
	if ((r = pattern_ex_finish(&w, &tmp)) != 0)
		return r;
	*expr = tmp.expr;
	*end_min = (uint32_t)(u->omin + u->n * cs);
	*end_max = (uint32_t)(u->omax + u->n * cs);
	return 0;
}

/*
 * Makes variant v look for its anchor, the best run (tree_runs), when it
 * has one: Vectorscan then looks for that literal alone and the verifier
 * checks the whole string around it, as YARA does with its atoms.  Wildcard
 * nibbles, classes and jumps are what make Vectorscan's compile time
 * explode (2 000 such hex strings take seconds, 200 regexps with a bounded
 * class repeat a quarter of a second), while literals compile in
 * microseconds.  The next runs are kept as alternatives (struct
 * pattern_alt) when they have three distinct rare characters or more
 * (ANCHOR_ALT_QUALITY).
 */
int
pattern_use_anchor(struct pattern *p, const struct ptree *t, size_t v)
{
	struct pattern_variant *pv = &p->var[v];
	struct run runs[PATTERN_MAX_ALTS + 1 + 4];
	size_t n, i;
	int r;

	for (i = 0; i < pv->nalt; i++)
		ward_free(pv->alt[i].expr);
	pv->nalt = 0;
	ward_free(pv->ctx);
	pv->ctx = NULL;
	n = tree_runs(t, pv->maxlen, pv->wide ? 2 : 1, runs, sizeof(runs) / sizeof(runs[0]));
	if (n == 0)
		return 0;
	pv->ctx = ward_calloc(1 + PATTERN_MAX_ALTS, PATTERN_MAX_CTX * sizeof(*pv->ctx));
	if (pv->ctx == NULL)
		return WARD_ENOMEM;
	ward_free(pv->expr);
	pv->expr = NULL;
	pv->hs_flags = HS_FLAG_DOTALL;
	if ((r = run_expr(t, &runs[0], pv, &pv->expr, &pv->end_min, &pv->end_max)) != 0)
		return r;
	pv->nctx[0] = run_context(t, &runs[0], pv->wide ? 2 : 1, pv->ctx);
	for (i = 1; i < n && pv->nalt < PATTERN_MAX_ALTS; i++) {
		struct pattern_alt *a = &pv->alt[pv->nalt];

		if (runs[i].q < ANCHOR_ALT_QUALITY)
			continue;
		if ((r = run_expr(t, &runs[i], pv, &a->expr, &a->end_min, &a->end_max)) != 0)
			return r;
		pv->nalt++;
		pv->nctx[pv->nalt] = run_context(t, &runs[i], pv->wide ? 2 : 1,
						 pv->ctx + pv->nalt * PATTERN_MAX_CTX);
	}
	return 0;
}

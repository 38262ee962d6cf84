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

/*
 * The anchor of a hex string or regexp: its longest run of exact characters
 * among the top-level items (each one must be in every match, in order),
 * with the range of the run's offset from the start of a match, in bytes
 * (characters of cs bytes; a chain's gap counts bytes).  Vectorscan then looks for that literal
 * alone and the verifier checks the whole string around it, as YARA does with its atoms: wildcard
 * nibbles, classes and jumps are what make Vectorscan's compile time explode (2 000 such hex
 * strings take seconds, 200 regexps with a bounded class repeat a quarter of a second), while
 * literals compile in microseconds.  Returns the run's length: 0 when the string has no other items
 * (the whole string is already a literal), or no run of ANCHOR_MIN characters has an offset bounded
 * by maxlen bytes.
 */
static uint32_t
tree_anchor(const struct ptree *t, uint64_t maxlen, unsigned cs, uint32_t *first, uint64_t *omin,
	    uint64_t *omax)
{
	const struct ptree_node *root = &t->n[t->root];
	uint64_t at_min = 0, at_max = 0, run_min = 0, run_max = 0, mn, mx;
	uint32_t c, run = 0, run_first = PTREE_NONE, best = 0;
	int only_chars = 1;

	if (root->type != PT_CAT)
		return 0;
	for (c = root->child;; c = t->n[c].next) {
		const struct ptree_node *nd = c != PTREE_NONE ? &t->n[c] : NULL;

		if (nd != NULL && nd->type == PT_CLASS && ptree_bm_count(nd->bm) == 1) {
			if (run++ == 0) {
				run_first = c;
				run_min = at_min;
				run_max = at_max;
			}
		} else {
			if (run > best && run_max < PATTERN_SIZE_CAP &&
			    run_max + run * cs <= maxlen) {
				best = run;
				*first = run_first;
				*omin = run_min;
				*omax = run_max;
			}
			run = 0;
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
	return only_chars || best < ANCHOR_MIN ? 0 : best;
}

/* Makes variant v look for its anchor (tree_anchor), when it has one. */
int
pattern_use_anchor(struct pattern *p, const struct ptree *t, size_t v)
{
	struct pattern_variant *pv = &p->var[v];
	uint32_t first = PTREE_NONE, n, c, i, cs = pv->wide ? 2 : 1;
	uint64_t omin = 0, omax = 0;
	struct wbuf w;

	n = tree_anchor(t, pv->maxlen, cs, &first, &omin, &omax);
	if (n == 0)
		return 0;
	wbuf_init(&w);
	for (i = 0, c = first; i < n; i++, c = t->n[c].next)
		pattern_ex_node(&w, t, c, pv->wide);
	ward_free(pv->expr);
	pv->expr = NULL;
	pv->hs_flags = HS_FLAG_DOTALL;
	pv->end_min = (uint32_t)(omin + n * cs);
	pv->end_max = (uint32_t)(omax + n * cs);
	return pattern_ex_finish(&w, pv);
}

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

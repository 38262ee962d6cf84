/*
 * sigma_code: the compiled form of a set of process rules — what the
 * agent's sandboxed validator sends its root worker instead of YAML.  See
 * sigma.h (sigma_set_encode, sigma_set_decode).
 *
 * Must hold: the decoder reads only through the sized reader; every count
 * is bounded by a named limit and by the bytes that remain (so a count
 * cannot make it allocate more than the input could fill); every string
 * is length-checked and NUL-free; every index points inside its rule and
 * a node's children come before it (evaluation always ends); a regexp
 * passes the same cost check as in a rule file before regcomp sees it.
 * A set that decodes matches exactly as the set that was encoded.
 */
#include "sigma/sigma_int.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <string.h>

/* The fewest bytes each encoded item takes: a count above what remains
 * divided by this is refused before it is allocated. */
#define MIN_RULE 25
#define MIN_SEL 8
#define MIN_MAP 4
#define MIN_TERM 9
#define MIN_VALUE 4
#define MIN_NODE 17
#define MIN_INDEX 4

#define MODS_KNOWN (M_CONTAINS | M_STARTS | M_ENDS | M_ALL | M_RE | M_CASED)

static void
encode_rule(const struct srule *r, struct wbuf *w)
{
	unsigned i, j, k, v;

	wbuf_str(w, r->title);
	wbuf_str(w, r->id);
	wbuf_str(w, r->level);
	wbuf_u8(w, (uint8_t)r->action);
	wbuf_u32(w, r->nsel);
	for (i = 0; i < r->nsel; i++) {
		wbuf_str(w, r->sel[i].name);
		wbuf_u32(w, r->sel[i].nm);
		for (j = 0; j < r->sel[i].nm; j++) {
			wbuf_u32(w, r->sel[i].m[j].nt);
			for (k = 0; k < r->sel[i].m[j].nt; k++) {
				const struct sterm *t = &r->sel[i].m[j].t[k];

				wbuf_u8(w, (uint8_t)t->f);
				wbuf_u32(w, t->mods);
				wbuf_u32(w, t->nv);
				for (v = 0; v < t->nv; v++)
					wbuf_str(w, t->v[v].pat);
			}
		}
	}
	wbuf_u32(w, r->nn);
	for (i = 0; i < r->nn; i++) {
		const struct snode *n = &r->n[i];

		wbuf_u8(w, (uint8_t)n->op);
		wbuf_u32(w, (uint32_t)n->a);
		wbuf_u32(w, (uint32_t)n->b);
		wbuf_u32(w, n->sel);
		wbuf_u32(w, n->nsels);
		for (j = 0; j < n->nsels; j++)
			wbuf_u32(w, n->sels[j]);
	}
	wbuf_u32(w, (uint32_t)r->root);
}

int
sigma_set_encode(const struct sigma_set *s, struct wbuf *out)
{
	size_t i;

	wbuf_u32(out, s != NULL ? (uint32_t)s->n : 0);
	for (i = 0; s != NULL && i < s->n; i++)
		encode_rule(&s->r[i], out);
	return out->err;
}

/* --- decoding ----------------------------------------------------------- */

struct dec {
	struct rbuf *b;
	struct ward_diag *d;
	size_t rule;
};

static int
bad(struct dec *c, int err, const char *what)
{
	return diag_set(c->d, err != 0 ? err : WARD_EFORMAT, NULL, 0, 0,
			"compiled process rule %zu: %s", c->rule, what);
}

/* A count of items of at least min bytes each, at most max. */
static int
count(struct dec *c, uint32_t max, size_t min, uint32_t *n, const char *what)
{
	if (rbuf_u32(c->b, n) != 0 || *n > max || *n > rbuf_left(c->b) / min)
		return bad(c, WARD_EFORMAT, what);
	return 0;
}

static int
str(struct dec *c, char **out, const char *what)
{
	int r = rbuf_strdup(c->b, SIGMA_MAX_SOURCE, out);

	return r != 0 ? bad(c, r, what) : 0;
}

static int
decode_value(struct dec *c, const struct sterm *t, struct svalue *v)
{
	const char *why;
	int r;

	if ((r = str(c, &v->pat, "a bad value")) != 0)
		return r;
	if (!(t->mods & M_RE))
		return 0;
	if ((why = sigma_re_unsafe(v->pat)) != NULL)
		return bad(c, WARD_EFORMAT, why);
	if (regcomp(&v->re, v->pat, REG_EXTENDED | REG_NOSUB) != 0)
		return bad(c, WARD_EFORMAT, "a regexp that does not compile");
	v->is_re = 1;
	return 0;
}

static int
decode_term(struct dec *c, struct sterm *t)
{
	uint8_t f;
	uint32_t n;
	int r;

	if (rbuf_u8(c->b, &f) != 0 || f >= SF_COUNT || rbuf_u32(c->b, &t->mods) != 0 ||
	    (t->mods & ~(unsigned)MODS_KNOWN) != 0)
		return bad(c, WARD_EFORMAT, "a bad field or modifier");
	t->f = (enum sigma_field)f;
	if ((r = count(c, SIGMA_MAX_SOURCE, MIN_VALUE, &n, "a bad count of values")) != 0)
		return r;
	if (n > 0 && (t->v = ward_calloc(n, sizeof(*t->v))) == NULL)
		return bad(c, WARD_ENOMEM, "out of memory");
	for (t->nv = 0; t->nv < n; t->nv++)
		if ((r = decode_value(c, t, &t->v[t->nv])) != 0) {
			t->nv++; /* cleared with the others */
			return r;
		}
	return 0;
}

static int
decode_sel(struct dec *c, struct ssel *sel)
{
	uint32_t nm, nt, j;
	int r;

	if ((r = str(c, &sel->name, "a bad selection name")) != 0 ||
	    (r = count(c, SIGMA_MAX_SOURCE, MIN_MAP, &nm, "a bad count of mappings")) != 0)
		return r;
	if (nm > 0 && (sel->m = ward_calloc(nm, sizeof(*sel->m))) == NULL)
		return bad(c, WARD_ENOMEM, "out of memory");
	for (sel->nm = 0; sel->nm < nm; sel->nm++) {
		struct smap *m = &sel->m[sel->nm];

		if ((r = count(c, SIGMA_MAX_SOURCE, MIN_TERM, &nt, "a bad count of terms")) != 0)
			return r;
		if (nt > 0 && (m->t = ward_calloc(nt, sizeof(*m->t))) == NULL)
			return bad(c, WARD_ENOMEM, "out of memory");
		sel->nm++; /* m is cleared with the others from here on */
		for (j = 0; j < nt; j++, m->nt++)
			if ((r = decode_term(c, &m->t[j])) != 0) {
				m->nt++;
				return r;
			}
		sel->nm--;
	}
	return 0;
}

/* One condition node: its children must come before it (index i). */
static int
decode_node(struct dec *c, const struct srule *r, uint32_t i, struct snode *n)
{
	uint8_t op;
	uint32_t a, b, sel, ns, j;
	int rc;

	if (rbuf_u8(c->b, &op) != 0 || rbuf_u32(c->b, &a) != 0 || rbuf_u32(c->b, &b) != 0 ||
	    rbuf_u32(c->b, &sel) != 0 || op > N_OR)
		return bad(c, WARD_EFORMAT, "a bad condition node");
	if ((rc = count(c, r->nsel, MIN_INDEX, &ns, "a bad count of selections")) != 0)
		return rc;
	n->op = op;
	n->a = (int)(a < i ? a : 0);
	n->b = (int)(b < i ? b : 0);
	n->sel = sel;
	if (((op == N_NOT || op == N_AND || op == N_OR) && a >= i) ||
	    ((op == N_AND || op == N_OR) && b >= i) || (op == N_SEL && sel >= r->nsel) ||
	    ((op == N_ONE || op == N_ALL) != (ns > 0)))
		return bad(c, WARD_EFORMAT, "a condition node out of range");
	if (ns > 0 && (n->sels = ward_calloc(ns, sizeof(*n->sels))) == NULL)
		return bad(c, WARD_ENOMEM, "out of memory");
	for (j = 0; j < ns; j++) {
		if (rbuf_u32(c->b, &n->sels[j]) != 0 || n->sels[j] >= r->nsel)
			return bad(c, WARD_EFORMAT, "a condition names no selection");
		n->nsels++;
	}
	return 0;
}

static int
decode_rule(struct dec *c, struct srule *r)
{
	uint8_t action;
	uint32_t nsel, nn, root;
	int rc;

	if ((rc = str(c, &r->title, "a bad title")) != 0 ||
	    (rc = str(c, &r->id, "a bad id")) != 0 || (rc = str(c, &r->level, "a bad level")) != 0)
		return rc;
	if (rbuf_u8(c->b, &action) != 0 || action > SIGMA_KILL)
		return bad(c, WARD_EFORMAT, "a bad action");
	r->action = (enum sigma_action)action;
	if ((rc = count(c, SIGMA_MAX_SOURCE, MIN_SEL, &nsel, "a bad count of selections")) != 0)
		return rc;
	if (nsel > 0 && (r->sel = ward_calloc(nsel, sizeof(*r->sel))) == NULL)
		return bad(c, WARD_ENOMEM, "out of memory");
	for (r->nsel = 0; r->nsel < nsel;) {
		rc = decode_sel(c, &r->sel[r->nsel]);
		r->nsel++; /* cleared with the others, even half decoded */
		if (rc != 0)
			return rc;
	}
	if ((rc = count(c, SIGMA_MAX_SOURCE, MIN_NODE, &nn, "a bad count of nodes")) != 0)
		return rc;
	if (nn == 0)
		return bad(c, WARD_EFORMAT, "no condition");
	if ((r->n = ward_calloc(nn, sizeof(*r->n))) == NULL)
		return bad(c, WARD_ENOMEM, "out of memory");
	r->capn = nn;
	for (r->nn = 0; r->nn < nn;) {
		rc = decode_node(c, r, r->nn, &r->n[r->nn]);
		r->nn++;
		if (rc != 0)
			return rc;
	}
	if (rbuf_u32(c->b, &root) != 0 || root >= nn)
		return bad(c, WARD_EFORMAT, "a bad condition root");
	r->root = (int)root;
	if ((rc = sigma_rule_depth_check(r)) != 0)
		return bad(c, rc == WARD_ENOMEM ? rc : WARD_EFORMAT,
			   "a condition nested deeper than SIGMA_MAX_DEPTH");
	return 0;
}

int
sigma_set_decode(struct rbuf *b, struct sigma_set **out, struct ward_diag *d)
{
	struct dec c = {b, d, 0};
	struct sigma_set *s = NULL;
	uint32_t n;
	int r;

	*out = NULL;
	diag_clear(d);
	if ((r = count(&c, SIGMA_MAX_RULES, MIN_RULE, &n, "a bad count of rules")) != 0)
		goto out;
	if (n == 0)
		goto out;
	if ((r = sigma_set_new(&s)) != 0 || (s->r = ward_calloc(n, sizeof(*s->r))) == NULL) {
		r = bad(&c, WARD_ENOMEM, "out of memory");
		goto out;
	}
	s->cap = n;
	for (s->n = 0; s->n < n;) {
		c.rule = s->n;
		r = decode_rule(&c, &s->r[s->n]);
		s->n++; /* freed with the others, even half decoded */
		if (r != 0)
			goto out;
	}
	*out = s;
	s = NULL;
out:
	sigma_set_free(s);
	return r;
}

/*
 * sigma_match: evaluating a compiled process rule against an exec event
 * (sigma_match), and whether it can still match while some fields are
 * not read yet (sigma_may_match).  Parsing and compiling are sigma.c.
 */
#include "sigma/sigma.h"
#include "sigma/sigma_int.h"
#include "util/alloc.h"

#include <ctype.h>
#include <regex.h>
#include <string.h>
#include <strings.h>

/* --- matching ----------------------------------------------------------- */

static int
ceq(char a, char b, int icase)
{
	return icase ? tolower((unsigned char)a) == tolower((unsigned char)b) : a == b;
}

/* Glob match of s against p: * any run, ? one character, \* \? \\ literal. */
int
sigma_glob_match(const char *p, const char *s, int icase)
{
	const char *star_p = NULL, *star_s = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star_p = ++p;
			star_s = s;
			continue;
		}
		if (*p == '?') {
			p++;
			s++;
			continue;
		}
		if (*p == '\\' && (p[1] == '*' || p[1] == '?' || p[1] == '\\')) {
			if (ceq(p[1], *s, icase)) {
				p += 2;
				s++;
				continue;
			}
		} else if (*p != '\0' && ceq(*p, *s, icase)) {
			p++;
			s++;
			continue;
		}
		if (star_p == NULL)
			return 0;
		p = star_p;
		s = ++star_s;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int
value_match(const struct sterm *t, const struct svalue *v, const char *s)
{
	if (v->is_re)
		return regexec(&v->re, s, 0, NULL, 0) == 0;
	return sigma_glob_match(v->pat, s, !(t->mods & M_CASED));
}

static int
term_match(const struct sterm *t, const struct sigma_event *ev)
{
	const char *s = ev->field[t->f];
	unsigned i;

	if (s == NULL)
		return 0;
	for (i = 0; i < t->nv; i++) {
		int m = value_match(t, &t->v[i], s);

		if ((t->mods & M_ALL) && !m)
			return 0;
		if (!(t->mods & M_ALL) && m)
			return 1;
	}
	return (t->mods & M_ALL) != 0;
}

static int
sel_match(const struct ssel *sel, const struct sigma_event *ev)
{
	unsigned i, j;

	for (i = 0; i < sel->nm; i++) {
		for (j = 0; j < sel->m[i].nt && term_match(&sel->m[i].t[j], ev); j++)
			;
		if (j == sel->m[i].nt)
			return 1;
	}
	return 0;
}

static int
node_eval(const struct srule *r, int n, const struct sigma_event *ev)
{
	const struct snode *nd = &r->n[n];
	unsigned i;

	switch (nd->op) {
	case N_SEL:
		return sel_match(&r->sel[nd->sel], ev);
	case N_ONE:
		for (i = 0; i < nd->nsels; i++)
			if (sel_match(&r->sel[nd->sels[i]], ev))
				return 1;
		return 0;
	case N_ALL:
		for (i = 0; i < nd->nsels; i++)
			if (!sel_match(&r->sel[nd->sels[i]], ev))
				return 0;
		return 1;
	case N_NOT:
		return !node_eval(r, nd->a, ev);
	case N_AND:
		return node_eval(r, nd->a, ev) && node_eval(r, nd->b, ev);
	case N_OR:
		return node_eval(r, nd->a, ev) || node_eval(r, nd->b, ev);
	}
	return 0;
}

/*
 * The same evaluation with some fields not read yet (unknown): each term,
 * selection and node is true, false or unknown (Kleene's logic: "not"
 * of unknown is unknown, "and" is false as soon as one side is), so that
 * false means false whatever the unknown fields turn out to hold.
 */
enum { TV_FALSE = 0, TV_TRUE = 1, TV_UNKNOWN = 2 };

static int
term_may(const struct sterm *t, const struct sigma_event *ev, unsigned unknown)
{
	if (unknown & (1u << t->f))
		return TV_UNKNOWN;
	return term_match(t, ev) ? TV_TRUE : TV_FALSE;
}

static int
sel_may(const struct ssel *sel, const struct sigma_event *ev, unsigned unknown)
{
	unsigned i, j;
	int any = TV_FALSE;

	for (i = 0; i < sel->nm; i++) {
		int m = TV_TRUE;

		for (j = 0; j < sel->m[i].nt && m != TV_FALSE; j++) {
			int t = term_may(&sel->m[i].t[j], ev, unknown);

			if (t != TV_TRUE)
				m = t;
		}
		if (m == TV_TRUE)
			return TV_TRUE;
		if (m == TV_UNKNOWN)
			any = TV_UNKNOWN;
	}
	return any;
}

static int
tv_and(int a, int b)
{
	return a == TV_FALSE || b == TV_FALSE ? TV_FALSE
	       : a == TV_TRUE && b == TV_TRUE ? TV_TRUE
					      : TV_UNKNOWN;
}

static int
tv_or(int a, int b)
{
	return a == TV_TRUE || b == TV_TRUE	? TV_TRUE
	       : a == TV_FALSE && b == TV_FALSE ? TV_FALSE
						: TV_UNKNOWN;
}

static int
node_may(const struct srule *r, int n, const struct sigma_event *ev, unsigned unknown)
{
	const struct snode *nd = &r->n[n];
	unsigned i;
	int v;

	switch (nd->op) {
	case N_SEL:
		return sel_may(&r->sel[nd->sel], ev, unknown);
	case N_ONE:
		for (i = 0, v = TV_FALSE; i < nd->nsels && v != TV_TRUE; i++)
			v = tv_or(v, sel_may(&r->sel[nd->sels[i]], ev, unknown));
		return v;
	case N_ALL:
		for (i = 0, v = TV_TRUE; i < nd->nsels && v != TV_FALSE; i++)
			v = tv_and(v, sel_may(&r->sel[nd->sels[i]], ev, unknown));
		return v;
	case N_NOT:
		v = node_may(r, nd->a, ev, unknown);
		return v == TV_UNKNOWN ? TV_UNKNOWN : !v;
	case N_AND:
		v = node_may(r, nd->a, ev, unknown);
		return v == TV_FALSE ? TV_FALSE : tv_and(v, node_may(r, nd->b, ev, unknown));
	case N_OR:
		v = node_may(r, nd->a, ev, unknown);
		return v == TV_TRUE ? TV_TRUE : tv_or(v, node_may(r, nd->b, ev, unknown));
	}
	return TV_FALSE;
}

int
sigma_may_match(const struct sigma_set *s, size_t i, const struct sigma_event *ev, unsigned unknown)
{
	return node_may(&s->r[i], s->r[i].root, ev, unknown) != TV_FALSE;
}

int
sigma_rule_depth_check(const struct srule *r)
{
	unsigned *depth, i, a, b;
	int ok = 1;

	if (r->nn == 0)
		return 0;
	/* Children come first, so one pass in index order sees them done. */
	if ((depth = ward_calloc(r->nn, sizeof(*depth))) == NULL)
		return WARD_ENOMEM;
	for (i = 0; i < r->nn && ok; i++) {
		const struct snode *n = &r->n[i];

		a = b = 0;
		if (n->op == N_NOT || n->op == N_AND || n->op == N_OR)
			a = (unsigned)n->a < i ? depth[n->a] : SIGMA_MAX_DEPTH;
		if (n->op == N_AND || n->op == N_OR)
			b = (unsigned)n->b < i ? depth[n->b] : SIGMA_MAX_DEPTH;
		depth[i] = 1 + (a > b ? a : b);
		ok = depth[i] <= SIGMA_MAX_DEPTH;
	}
	ward_free(depth);
	return ok ? 0 : WARD_ELIMIT;
}

int
sigma_match(const struct sigma_set *s, size_t i, const struct sigma_event *ev)
{
	return node_eval(&s->r[i], s->r[i].root, ev);
}

/*
 * regex: recursive-descent parser for the regexp subset of YARA 4.2:
 * literals and escapes (\n \t \r \f \a \xHH, escaped punctuation), classes
 * [...] with ranges, negation and \w \s \d inside, `.`, quantifiers
 * * + ? {n} {n,} {,m} {n,m} greedy and lazy, alternation, groups, anchors
 * ^ $ and \b \B.  Everything else (backreferences, (?...) groups, \p{..},
 * unknown letter escapes) is refused with the column of the offending
 * character.
 *
 * Must hold: every byte of src is read through the rbuf (no pointer
 * arithmetic on it); recursion depth is bounded by WARD_MAX_PATTERN_DEPTH;
 * YARA's rule that greedy and lazy quantifiers can't be mixed is enforced.
 */
#include "pattern/regex.h"
#include "pattern/pattern.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/hex.h"

#include <string.h>

struct rx {
	struct rbuf b;
	struct ptree *t;
	unsigned flags;
	struct ward_diag *d;
};

static int rx_alt(struct rx *x, unsigned depth, uint32_t *out);

static int
rx_err(struct rx *x, int err, size_t off, const char *msg)
{
	return diag_set(x->d, err, NULL, 0, (int)(off + 1), "%s", msg);
}

/* Next byte without consuming; -1 at the end. */
static int
rx_peek(const struct rx *x)
{
	struct rbuf c = x->b;
	uint8_t v;

	if (rbuf_u8(&c, &v) != 0)
		return -1;
	return v;
}

static int
rx_peek2(const struct rx *x)
{
	struct rbuf c = x->b;
	uint8_t v;

	if (rbuf_u8(&c, &v) != 0 || rbuf_u8(&c, &v) != 0)
		return -1;
	return v;
}

static int
rx_get(struct rx *x)
{
	uint8_t v;

	if (rbuf_u8(&x->b, &v) != 0)
		return -1;
	return v;
}

static int
rx_node(struct rx *x, enum ptree_type type, size_t off, uint32_t *idx)
{
	int r = ptree_add(x->t, type, (uint32_t)(off + 1), idx);

	if (r == WARD_ELIMIT)
		r = rx_err(x, r, off, "regular expression too large (WARD_MAX_PATTERN_NODES)");
	else if (r != 0)
		r = diag_set(x->d, r, NULL, 0, 0, "out of memory");
	return r;
}

static void
rx_set_word(uint8_t *bm)
{
	ptree_bm_range(bm, '0', '9');
	ptree_bm_range(bm, 'a', 'z');
	ptree_bm_range(bm, 'A', 'Z');
	ptree_bm_set(bm, '_');
}

static void
rx_set_space(uint8_t *bm)
{
	ptree_bm_set(bm, ' ');
	ptree_bm_range(bm, '\t', '\r'); /* \t \n \v \f \r */
}

/*
 * Reads one escape after the backslash (already consumed at offset off).
 * Sets *byte to a single byte (return kind 1), or fills set (kind 2), or
 * *assert to PT_WORDB/PT_NWORDB (kind 3).  Returns the kind or a negative
 * error.
 */
static int
rx_escape(struct rx *x, size_t off, int *byte, uint8_t *set, int *assert)
{
	int c = rx_get(x), h, l, r;
	uint8_t tmp[32];

	memset(tmp, 0, sizeof(tmp));
	switch (c) {
	case -1:
		r = rx_err(x, WARD_ESYNTAX, off, "regular expression ends with a backslash");
		break;
	case 'n':
		*byte = '\n';
		r = 1;
		break;
	case 't':
		*byte = '\t';
		r = 1;
		break;
	case 'r':
		*byte = '\r';
		r = 1;
		break;
	case 'f':
		*byte = '\f';
		r = 1;
		break;
	case 'a':
		*byte = '\a';
		r = 1;
		break;
	case 'x':
		h = hex_digit(rx_get(x));
		l = hex_digit(rx_get(x));
		if (h < 0 || l < 0) {
			r = rx_err(x, WARD_ESYNTAX, off,
				   "illegal escape sequence: \\x needs two hex digits");
			break;
		}
		*byte = h * 16 + l;
		r = 1;
		break;
	case 'w':
	case 'W':
		rx_set_word(tmp);
		if (c == 'W')
			ptree_bm_not(tmp);
		memcpy(set, tmp, 32);
		r = 2;
		break;
	case 's':
	case 'S':
		rx_set_space(tmp);
		if (c == 'S')
			ptree_bm_not(tmp);
		memcpy(set, tmp, 32);
		r = 2;
		break;
	case 'd':
	case 'D':
		ptree_bm_range(tmp, '0', '9');
		if (c == 'D')
			ptree_bm_not(tmp);
		memcpy(set, tmp, 32);
		r = 2;
		break;
	case 'b':
		*assert = PT_WORDB;
		r = 3;
		break;
	case 'B':
		*assert = PT_NWORDB;
		r = 3;
		break;
	default:
		if (c >= '1' && c <= '9')
			r = rx_err(x, WARD_EUNSUPPORTED, off, "backreferences are not supported");
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '0')
			r = rx_err(x, WARD_EUNSUPPORTED, off,
				   "unsupported escape sequence in regular expression");
		else {
			*byte = c; /* escaped punctuation stands for itself */
			r = 1;
		}
		break;
	}
	return r;
}

/* Parses a class after '[' (at offset off). */
static int
rx_class(struct rx *x, size_t off, uint8_t *bm)
{
	uint8_t set[32];
	int neg = 0, first = 1, c, lo, hi, kind, assert = 0, r;
	size_t coff;

	memset(bm, 0, 32);
	if (rx_peek(x) == '^') {
		rx_get(x);
		neg = 1;
	}
	for (;;) {
		coff = x->b.off;
		c = rx_get(x);
		if (c < 0) {
			r = rx_err(x, WARD_ESYNTAX, off, "missing ] in character class");
			goto out;
		}
		if (c == ']' && !first)
			break;
		first = 0;
		lo = c;
		if (c == '\\') {
			kind = rx_escape(x, coff, &lo, set, &assert);
			if (kind < 0) {
				r = kind;
				goto out;
			}
			if (kind == 3) {
				/* \b inside a class: backspace, as in PCRE */
				lo = '\b';
			} else if (kind == 2) {
				for (hi = 0; hi < 32; hi++)
					bm[hi] |= set[hi];
				if (rx_peek(x) == '-' && rx_peek2(x) != ']' && rx_peek2(x) >= 0) {
					r = rx_err(x, WARD_ESYNTAX, coff, "bad character range");
					goto out;
				}
				continue;
			}
		}
		if (rx_peek(x) == '-' && rx_peek2(x) != ']' && rx_peek2(x) >= 0) {
			rx_get(x);
			coff = x->b.off;
			hi = rx_get(x);
			if (hi == '\\') {
				kind = rx_escape(x, coff, &hi, set, &assert);
				if (kind < 0) {
					r = kind;
					goto out;
				}
				if (kind == 3)
					hi = '\b';
				else if (kind != 1) {
					r = rx_err(x, WARD_ESYNTAX, coff, "bad character range");
					goto out;
				}
			}
			if (hi < lo) {
				r = rx_err(x, WARD_ESYNTAX, coff, "bad character range");
				goto out;
			}
			ptree_bm_range(bm, (unsigned)lo, (unsigned)hi);
		} else {
			ptree_bm_set(bm, (unsigned)lo);
		}
	}
	/* YARA folds case first, then negates: [^a] with /i excludes 'A'. */
	if (x->flags & PATTERN_NOCASE)
		ptree_bm_fold(bm);
	if (neg)
		ptree_bm_not(bm);
	r = 0;
out:
	return r;
}

static int
rx_digits(struct rbuf *b, uint32_t *v, int *any)
{
	struct rbuf c = *b;
	uint8_t ch;
	uint64_t n = 0;
	int r = 0;

	*any = 0;
	while (rbuf_u8(&c, &ch) == 0 && ch >= '0' && ch <= '9') {
		*b = c;
		n = n * 10 + (uint64_t)(ch - '0');
		if (n > 0xffffffffu) {
			r = -1;
			n = 0xffffffffu;
		}
		*any = 1;
	}
	*v = (uint32_t)n;
	return r;
}

/*
 * Tries to read a {n,m} quantifier at the cursor (which is at '{').
 * Returns 1 and advances when it is one, 0 (cursor unchanged) when the '{'
 * is a literal, negative on error.
 */
static int
rx_braces(struct rx *x, uint32_t *min, uint32_t *max)
{
	struct rbuf c = x->b;
	size_t off = x->b.off;
	uint8_t ch;
	int anyn, anym, ovf = 0, r;

	rbuf_u8(&c, &ch);
	ovf |= rx_digits(&c, min, &anyn);
	if (rbuf_u8(&c, &ch) != 0) {
		r = 0;
		goto out;
	}
	if (ch == '}') {
		if (!anyn) {
			r = 0;
			goto out;
		}
		*max = *min;
	} else if (ch == ',') {
		ovf |= rx_digits(&c, max, &anym);
		if (rbuf_u8(&c, &ch) != 0 || ch != '}' || (!anyn && !anym)) {
			r = 0;
			goto out;
		}
		if (!anyn)
			*min = 0;
		if (!anym)
			*max = PTREE_INF;
	} else {
		r = 0;
		goto out;
	}
	if (ovf || *min > WARD_MAX_REPEAT || (*max != PTREE_INF && *max > WARD_MAX_REPEAT)) {
		r = rx_err(x, WARD_ELIMIT, off, "repeat interval too large (WARD_MAX_REPEAT)");
		goto out;
	}
	if (*max != PTREE_INF && *min > *max) {
		r = rx_err(x, WARD_ESYNTAX, off, "bad repeat interval");
		goto out;
	}
	x->b = c;
	r = 1;
out:
	return r;
}

/* Parses one atom; *out = PTREE_NONE when the next byte ends a sequence. */
static int
rx_atom(struct rx *x, unsigned depth, uint32_t *out, int *quantifiable)
{
	size_t off = x->b.off;
	int c = rx_peek(x), b = 0, kind, assert = 0, r;
	uint32_t idx = PTREE_NONE, mn, mx;
	uint8_t set[32];

	*out = PTREE_NONE;
	*quantifiable = 1;
	if (c < 0 || c == '|' || c == ')') {
		r = 0;
		goto out;
	}
	rx_get(x);
	switch (c) {
	case '(':
		if (rx_peek(x) == '?') {
			r = rx_err(x, WARD_EUNSUPPORTED, off,
				   "(?...) groups (non-capturing, lookaround, named, flags) are "
				   "not supported");
			goto out;
		}
		if (rx_peek(x) == ')') {
			r = rx_err(x, WARD_ESYNTAX, off, "empty group");
			goto out;
		}
		r = rx_alt(x, depth + 1, &idx);
		if (r != 0)
			goto out;
		if (rx_get(x) != ')') {
			r = rx_err(x, WARD_ESYNTAX, off, "missing ) to close this group");
			goto out;
		}
		break;
	case '[':
		r = rx_node(x, PT_CLASS, off, &idx);
		if (r != 0)
			goto out;
		r = rx_class(x, off, x->t->n[idx].bm);
		if (r != 0)
			goto out;
		break;
	case '.':
		r = rx_node(x, PT_CLASS, off, &idx);
		if (r != 0)
			goto out;
		x->t->n[idx].lit = PL_ANY;
		ptree_bm_range(x->t->n[idx].bm, 0, 255);
		if (!(x->flags & PATTERN_DOTALL))
			x->t->n[idx].bm['\n' >> 3] &= (uint8_t) ~(1u << ('\n' & 7));
		break;
	case '^':
	case '$':
		r = rx_node(x, c == '^' ? PT_BOL : PT_EOL, off, &idx);
		if (r != 0)
			goto out;
		*quantifiable = 0;
		break;
	case '*':
	case '+':
	case '?':
		r = rx_err(x, WARD_ESYNTAX, off, "quantifier without anything to repeat");
		goto out;
	case '{':
		x->b.off = off;
		r = rx_braces(x, &mn, &mx);
		if (r < 0)
			goto out;
		if (r == 1) {
			r = rx_err(x, WARD_ESYNTAX, off, "quantifier without anything to repeat");
			goto out;
		}
		rx_get(x);
		b = '{';
		goto literal;
	case '\\':
		kind = rx_escape(x, off, &b, set, &assert);
		if (kind < 0) {
			r = kind;
			goto out;
		}
		if (kind == 3) {
			r = rx_node(x, (enum ptree_type)assert, off, &idx);
			if (r != 0)
				goto out;
			*quantifiable = 0;
			break;
		}
		r = rx_node(x, PT_CLASS, off, &idx);
		if (r != 0)
			goto out;
		if (kind == 2) {
			memcpy(x->t->n[idx].bm, set, 32);
		} else {
			ptree_bm_set(x->t->n[idx].bm, (unsigned)b);
			x->t->n[idx].lit = PL_LITERAL;
			x->t->n[idx].val = (uint8_t)b;
		}
		if (x->flags & PATTERN_NOCASE)
			ptree_bm_fold(x->t->n[idx].bm);
		break;
	default:
		b = c;
	literal:
		r = rx_node(x, PT_CLASS, off, &idx);
		if (r != 0)
			goto out;
		ptree_bm_set(x->t->n[idx].bm, (unsigned)b);
		x->t->n[idx].lit = PL_LITERAL;
		x->t->n[idx].val = (uint8_t)b;
		if (x->flags & PATTERN_NOCASE)
			ptree_bm_fold(x->t->n[idx].bm);
		break;
	}
	*out = idx;
	r = 0;
out:
	return r;
}

/* An atom followed by at most one quantifier. */
static int
rx_repeat(struct rx *x, unsigned depth, uint32_t *out)
{
	uint32_t atom, rep, mn = 0, mx = 0;
	size_t off;
	int q, c, r;

	*out = PTREE_NONE;
	r = rx_atom(x, depth, &atom, &q);
	if (r != 0 || atom == PTREE_NONE)
		goto out;
	*out = atom;
	off = x->b.off;
	c = rx_peek(x);
	if (c == '*' || c == '+' || c == '?') {
		rx_get(x);
		mn = c == '+' ? 1 : 0;
		mx = c == '?' ? 1 : PTREE_INF;
	} else if (c == '{') {
		r = rx_braces(x, &mn, &mx);
		if (r <= 0)
			goto out; /* a literal '{' follows, or an error */
	} else {
		r = 0;
		goto out;
	}
	if (!q) {
		r = rx_err(x, WARD_ESYNTAX, off, "quantifier after an anchor or assertion");
		goto out;
	}
	r = rx_node(x, PT_REPEAT, off, &rep);
	if (r != 0)
		goto out;
	x->t->n[rep].min = mn;
	x->t->n[rep].max = mx;
	x->t->n[rep].quant = (uint8_t)c;
	x->t->n[rep].greedy = 1;
	if (rx_peek(x) == '?') {
		rx_get(x);
		x->t->n[rep].greedy = 0;
	}
	if (x->t->n[rep].greedy)
		x->t->has_greedy = 1;
	else
		x->t->has_lazy = 1;
	if (x->t->has_greedy && x->t->has_lazy) {
		r = rx_err(
		    x, WARD_ESYNTAX, off,
		    "greedy and ungreedy quantifiers can't be mixed in a regular expression");
		goto out;
	}
	ptree_append(x->t, rep, atom);
	c = rx_peek(x);
	if (c == '*' || c == '+' || c == '?' ||
	    (c == '{' &&
	     (r = rx_braces(&(struct rx){x->b, x->t, x->flags, NULL}, &mn, &mx)) != 0)) {
		r = rx_err(x, WARD_ESYNTAX, x->b.off, "quantifier follows a quantifier");
		goto out;
	}
	*out = rep;
	r = 0;
out:
	return r;
}

static int
rx_cat(struct rx *x, unsigned depth, uint32_t *out)
{
	uint32_t cat, item = PTREE_NONE;
	int r;

	r = rx_node(x, PT_CAT, x->b.off, &cat);
	if (r != 0)
		goto out;
	for (;;) {
		r = rx_repeat(x, depth, &item);
		if (r != 0)
			goto out;
		if (item == PTREE_NONE)
			break;
		ptree_append(x->t, cat, item);
	}
	*out = cat;
out:
	return r;
}

static int
rx_alt(struct rx *x, unsigned depth, uint32_t *out)
{
	uint32_t alt = PTREE_NONE, cat;
	size_t off = x->b.off;
	int r;

	if (depth > WARD_MAX_PATTERN_DEPTH) {
		r = rx_err(x, WARD_ELIMIT, off,
			   "regular expression nested too deeply (WARD_MAX_PATTERN_DEPTH)");
		goto out;
	}
	r = rx_cat(x, depth, &cat);
	if (r != 0)
		goto out;
	while (rx_peek(x) == '|') {
		rx_get(x);
		if (alt == PTREE_NONE) {
			r = rx_node(x, PT_ALT, off, &alt);
			if (r != 0)
				goto out;
			ptree_append(x->t, alt, cat);
			x->t->has_alt = 1;
		}
		r = rx_cat(x, depth, &cat);
		if (r != 0)
			goto out;
		ptree_append(x->t, alt, cat);
	}
	*out = alt != PTREE_NONE ? alt : cat;
out:
	return r;
}

/*
 * YARA cuts a regexp into chained strings at a lazy .{n,m}? of the
 * top-level sequence, neither first nor last, with n or m above the
 * threshold (re.c, yr_re_ast_split_at_chaining_point): the bytes in such a
 * gap are not checked at all (a '\n' is no obstacle), its bounds count
 * bytes, also for the wide form, and .{n,}? ends at RE_MAX_RANGE.  After a
 * cut the next item starts a piece and is never a cut itself.
 */
static void
rx_chain_points(struct ptree *t)
{
	struct ptree_node *root = &t->n[t->root], *nd, *ch;
	uint32_t c;
	int first = 1;

	if (root->type != PT_CAT)
		return;
	for (c = root->child; c != PTREE_NONE; c = nd->next) {
		nd = &t->n[c];
		ch = nd->type == PT_REPEAT ? &t->n[nd->child] : NULL;
		if (!first && nd->next != PTREE_NONE && ch != NULL && ch->type == PT_CLASS &&
		    ch->lit == PL_ANY && nd->quant == '{' && !nd->greedy &&
		    (nd->min > PTREE_CHAIN_THRESHOLD || nd->max > PTREE_CHAIN_THRESHOLD)) {
			nd->jump = 1;
			first = 1;
			continue;
		}
		first = 0;
	}
}

int
regex_parse(const uint8_t *src, size_t len, unsigned flags, struct ptree *t, struct ward_diag *d)
{
	struct rx x;
	uint32_t root;
	int r;

	rbuf_init(&x.b, src, len);
	x.t = t;
	x.flags = flags;
	x.d = d;
	if (len == 0) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "empty regular expression");
		goto out;
	}
	if (len > WARD_MAX_PATTERN_SOURCE) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "regular expression too long (WARD_MAX_PATTERN_SOURCE)");
		goto out;
	}
	r = rx_alt(&x, 0, &root);
	if (r != 0)
		goto out;
	if (rbuf_left(&x.b) > 0) {
		r = rx_err(&x, WARD_ESYNTAX, x.b.off, "unmatched )");
		goto out;
	}
	t->root = root;
	rx_chain_points(t);
out:
	return r;
}

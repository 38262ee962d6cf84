/*
 * hex: parser for YARA 4.2 hex strings: byte pairs (`AA`, also run together
 * as `AABB`), wildcards `??`, nibble wildcards `4?` `?A`, jumps `[n]`
 * `[n-m]` `[n-]` `[-]`, alternatives `( AA | BB CC )` (nested), and
 * `//` and slash-star comments.
 *
 * Must hold (as in YARA): a hex string neither starts nor ends with a jump,
 * nor does an alternative; `[0]` and `[n-m]` with n > m are errors; inside
 * alternatives jumps are bounded and at most PTREE_CHAIN_THRESHOLD long.
 * Bytes of src are read only through the rbuf; recursion is bounded by
 * WARD_MAX_PATTERN_DEPTH.
 */
#include "pattern/hex.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/hex.h"

#include <string.h>

struct hx {
	struct rbuf b;
	struct ptree *t;
	struct ward_diag *d;
};

static int hx_seq(struct hx *x, unsigned depth, uint32_t *out);

static int
hx_err(struct hx *x, int err, size_t off, const char *msg)
{
	return diag_set(x->d, err, NULL, 0, (int)(off + 1), "%s", msg);
}

static int
hx_node(struct hx *x, enum ptree_type type, size_t off, uint32_t *idx)
{
	int r = ptree_add(x->t, type, (uint32_t)(off + 1), idx);

	if (r == WARD_ELIMIT)
		r = hx_err(x, r, off, "hex string too large (WARD_MAX_PATTERN_NODES)");
	else if (r != 0)
		r = diag_set(x->d, r, NULL, 0, 0, "out of memory");
	return r;
}

static int
hx_peek_at(const struct hx *x, size_t ahead)
{
	struct rbuf c = x->b;
	const uint8_t *p;

	if (rbuf_bytes(&c, ahead, &p) != 0 || rbuf_bytes(&c, 1, &p) != 0)
		return -1;
	return p[0];
}

static int
hx_get(struct hx *x)
{
	uint8_t v;

	if (rbuf_u8(&x->b, &v) != 0)
		return -1;
	return v;
}

/* Skips blanks and comments; an unterminated comment is an error. */
static int
hx_skip(struct hx *x)
{
	int c, r = 0;
	size_t off;

	for (;;) {
		c = hx_peek_at(x, 0);
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
			hx_get(x);
		} else if (c == '/' && hx_peek_at(x, 1) == '/') {
			while ((c = hx_get(x)) >= 0 && c != '\n')
				;
		} else if (c == '/' && hx_peek_at(x, 1) == '*') {
			off = x->b.off;
			hx_get(x);
			hx_get(x);
			for (;;) {
				c = hx_get(x);
				if (c < 0) {
					r = hx_err(x, WARD_ESYNTAX, off,
						   "unterminated comment in hex string");
					goto out;
				}
				if (c == '*' && hx_peek_at(x, 0) == '/') {
					hx_get(x);
					break;
				}
			}
		} else {
			break;
		}
	}
out:
	return r;
}

/* A hex string's nibble: its value, 16 for the wildcard '?', or -1. */
static int
hx_nibble(int c)
{
	return c == '?' ? 16 : hex_digit(c);
}

static int
hx_number(struct hx *x, uint32_t *v, int *any)
{
	uint64_t n = 0;
	int c, r = 0;

	*any = 0;
	while ((c = hx_peek_at(x, 0)) >= '0' && c <= '9') {
		hx_get(x);
		n = n * 10 + (uint64_t)(c - '0');
		if (n > 0x7fffffffu) {
			r = -1;
			n = 0x7fffffffu;
		}
		*any = 1;
	}
	*v = (uint32_t)n;
	return r;
}

static int
hx_blank(struct hx *x)
{
	int c;

	while ((c = hx_peek_at(x, 0)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		hx_get(x);
	return 0;
}

/* A jump after '[' (at offset off). */
static int
hx_jump(struct hx *x, size_t off, unsigned depth, uint32_t *out)
{
	uint32_t mn = 0, mx = 0, idx, any;
	int anyn, anym, ovf = 0, c, r;

	hx_blank(x);
	ovf |= hx_number(x, &mn, &anyn);
	hx_blank(x);
	c = hx_get(x);
	if (c == ']') {
		if (!anyn) {
			r = hx_err(x, WARD_ESYNTAX, off, "empty jump");
			goto out;
		}
		mx = mn;
		if (mn == 0) {
			r = hx_err(x, WARD_ESYNTAX, off, "invalid jump length [0]");
			goto out;
		}
	} else if (c == '-') {
		hx_blank(x);
		ovf |= hx_number(x, &mx, &anym);
		hx_blank(x);
		if (hx_get(x) != ']') {
			r = hx_err(x, WARD_ESYNTAX, off, "malformed jump: expected ]");
			goto out;
		}
		if (!anyn)
			mn = 0;
		if (!anym)
			mx = PTREE_INF;
	} else {
		r = hx_err(x, WARD_ESYNTAX, off, "malformed jump: expected a number, - or ]");
		goto out;
	}
	if (ovf) {
		r = hx_err(x, WARD_ELIMIT, off, "jump too large");
		goto out;
	}
	if (mx != PTREE_INF && mn > mx) {
		r = hx_err(x, WARD_ESYNTAX, off,
			   "invalid jump range: the lower bound exceeds the upper");
		goto out;
	}
	if (depth > 0 && mx == PTREE_INF) {
		r = hx_err(x, WARD_ESYNTAX, off, "unbounded jumps not allowed inside alternation");
		goto out;
	}
	if (depth > 0 && mx > PTREE_CHAIN_THRESHOLD) {
		r = hx_err(x, WARD_ESYNTAX, off,
			   "jumps over 200 bytes not allowed inside alternation");
		goto out;
	}
	r = hx_node(x, PT_REPEAT, off, &idx);
	if (r != 0)
		goto out;
	x->t->n[idx].min = mn;
	x->t->n[idx].max = mx;
	x->t->n[idx].greedy = 0;
	x->t->n[idx].jump = 1;
	r = hx_node(x, PT_CLASS, off, &any);
	if (r != 0)
		goto out;
	ptree_bm_range(x->t->n[any].bm, 0, 255);
	ptree_append(x->t, idx, any);
	*out = idx;
out:
	return r;
}

/* A byte pair at the cursor (first char c1 at offset off already peeked). */
static int
hx_byte(struct hx *x, size_t off, uint32_t *out)
{
	int h = hx_nibble(hx_get(x)), l = hx_nibble(hx_peek_at(x, 0)), r;
	unsigned v;
	uint32_t idx;

	if (l < 0) {
		r = hx_err(x, WARD_ESYNTAX, off, "odd number of hex digits");
		goto out;
	}
	hx_get(x);
	r = hx_node(x, PT_CLASS, off, &idx);
	if (r != 0)
		goto out;
	for (v = 0; v < 256; v++) {
		if ((h == 16 || (int)(v >> 4) == h) && (l == 16 || (int)(v & 15) == l))
			ptree_bm_set(x->t->n[idx].bm, v);
	}
	*out = idx;
out:
	return r;
}

/* An alternative group after '(' (at offset off). */
static int
hx_group(struct hx *x, size_t off, unsigned depth, uint32_t *out)
{
	uint32_t alt, seq;
	int c, r;

	if (depth + 1 > WARD_MAX_PATTERN_DEPTH) {
		r = hx_err(x, WARD_ELIMIT, off,
			   "alternatives nested too deeply (WARD_MAX_PATTERN_DEPTH)");
		goto out;
	}
	r = hx_node(x, PT_ALT, off, &alt);
	if (r != 0)
		goto out;
	x->t->has_alt = 1;
	for (;;) {
		r = hx_seq(x, depth + 1, &seq);
		if (r != 0)
			goto out;
		ptree_append(x->t, alt, seq);
		c = hx_get(x);
		if (c == ')')
			break;
		if (c != '|') {
			r = hx_err(x, WARD_ESYNTAX, off, "missing ) to close the alternatives");
			goto out;
		}
	}
	*out = alt;
out:
	return r;
}

/*
 * A sequence of tokens up to '|', ')' or the end.  It must not be empty and
 * must neither start nor end with a jump.
 */
static int
hx_seq(struct hx *x, unsigned depth, uint32_t *out)
{
	uint32_t cat, item = PTREE_NONE, last = PTREE_NONE;
	size_t off, lastoff = 0;
	int c, r;

	r = hx_skip(x);
	if (r != 0)
		goto out;
	r = hx_node(x, PT_CAT, x->b.off, &cat);
	if (r != 0)
		goto out;
	for (;;) {
		r = hx_skip(x);
		if (r != 0)
			goto out;
		off = x->b.off;
		c = hx_peek_at(x, 0);
		if (c < 0 || c == '|' || c == ')')
			break;
		if (c == '[') {
			hx_get(x);
			if (last == PTREE_NONE) {
				r = hx_err(x, WARD_ESYNTAX, off,
					   depth > 0 ? "an alternative can't start with a jump"
						     : "a hex string can't start with a jump");
				goto out;
			}
			r = hx_jump(x, off, depth, &item);
		} else if (c == '(') {
			hx_get(x);
			r = hx_group(x, off, depth, &item);
		} else if (hx_nibble(c) >= 0) {
			r = hx_byte(x, off, &item);
		} else if (c == '~') {
			r = hx_err(x, WARD_EUNSUPPORTED, off,
				   "~ (not) in hex strings is not supported");
		} else {
			r = hx_err(x, WARD_ESYNTAX, off, "unexpected character in hex string");
		}
		if (r != 0)
			goto out;
		ptree_append(x->t, cat, item);
		last = item;
		lastoff = off;
	}
	if (last == PTREE_NONE) {
		r = hx_err(x, WARD_ESYNTAX, x->b.off,
			   depth > 0 ? "empty alternative in hex string" : "empty hex string");
		goto out;
	}
	if (x->t->n[last].type == PT_REPEAT) {
		r = hx_err(x, WARD_ESYNTAX, lastoff,
			   depth > 0 ? "an alternative can't end with a jump"
				     : "a hex string can't end with a jump");
		goto out;
	}
	*out = cat;
out:
	return r;
}

int
hex_parse(const uint8_t *src, size_t len, struct ptree *t, struct ward_diag *d)
{
	struct hx x;
	uint32_t root;
	int r;

	rbuf_init(&x.b, src, len);
	x.t = t;
	x.d = d;
	if (len > WARD_MAX_PATTERN_SOURCE) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "hex string too long (WARD_MAX_PATTERN_SOURCE)");
		goto out;
	}
	r = hx_seq(&x, 0, &root);
	if (r != 0)
		goto out;
	if (rbuf_left(&x.b) > 0) {
		r = hx_err(&x, WARD_ESYNTAX, x.b.off,
			   hx_peek_at(&x, 0) == ')' ? "unmatched ) in hex string"
						    : "| outside of alternatives in hex string");
		goto out;
	}
	t->root = root;
out:
	return r;
}

/*
 * clamdb_hex: ClamAV's body signature syntax (bytes, `??`, nibbles `a?`
 * `?a`, `*`, `{n}` `{-n}` `{n-}` `{n-m}`, `[n-m]`, `(a|b)`, `!(a|b)`,
 * anchors) and offsets, turned into YARA strings and conditions that match
 * exactly what ClamAV matches.
 *
 * Must hold: every byte of the signature is read through an rbuf; what
 * YARA cannot say exactly is refused (WARD_EUNSUPPORTED) with the reason,
 * never approximated; what ClamAV itself would refuse as malformed is
 * WARD_ESYNTAX.  A hex string is used where it can be (it keeps unbounded
 * jumps exact through YARA's chaining); a regexp only where hex cannot say
 * it (negated alternatives), and only when its longest match fits in
 * WARD_RE_SCAN_LIMIT, beyond which a regexp match would be cut.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clamav/clamdb_int.h"
#include "util/hex.h"
#include "util/alloc.h"
#include "util/limits.h"

enum tk_type {
	TK_BYTE,   /* v under mask: 0xff exact, 0xf0 `a?`, 0x0f `?a`, 0x00 `??` */
	TK_JUMP,   /* min..max bytes; max == TK_INF for `*` and `{n-}` */
	TK_ALT,	   /* (a|b|...): alternatives [alt_first, alt_first + alt_n) */
	TK_NALT,   /* !(a|b|...): fixed-length alternatives, none of which is there */
	TK_ANCHOR, /* (B), (L), (W) inside a part: v is the letter */
};

#define TK_INF UINT32_MAX
/* Tokens of one signature: a line is at most WARD_MAX_CLAMDB_LINE bytes,
 * and each token takes at least one. */
#define TK_MAX WARD_MAX_CLAMDB_LINE

struct tk {
	enum tk_type t;
	uint8_t v, mask;
	uint32_t min, max;
	int bracket;		   /* TK_JUMP written [n-m]: ClamAV does not split there */
	int neg;		   /* TK_ANCHOR written !(X): not of the class */
	int edge;		   /* TK_ANCHOR: the check after the match, folded in */
	uint32_t alt_first, alt_n; /* TK_ALT/TK_NALT: indexes into hx.alts */
};

/* One alternative: a run of TK_BYTE tokens [first, first + n) of hx.abytes. */
struct alt {
	uint32_t first, n;
};

struct hx {
	struct rbuf b;
	struct tk *tk;
	uint32_t ntk;
	struct alt *alts;
	uint32_t nalts;
	struct tk *abytes;
	uint32_t nabytes;
	char *why;
	size_t whylen;
	struct clamdb_hexinfo *hi;
};

void
clamdb_puts(struct wbuf *w, const char *s)
{
	wbuf_put(w, s, strlen(s));
}

void
clamdb_printf(struct wbuf *w, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= sizeof(buf)) {
		if (w->err == 0)
			w->err = WARD_EINVAL;
		return;
	}
	wbuf_put(w, buf, (size_t)k);
}

static int hx_fail(struct hx *x, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
hx_fail(struct hx *x, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->why, x->whylen, fmt, ap);
	va_end(ap);
	return err;
}

static int
hx_peek(const struct hx *x, size_t ahead)
{
	struct rbuf c = x->b;
	const uint8_t *p;

	if (rbuf_bytes(&c, ahead + 1, &p) != 0)
		return -1;
	return p[ahead];
}

/* A byte position: two hex digits, `??`, `a?` or `?a`.  Returns 1 when one
 * was read into *t, 0 when the next characters are not one. */
static int
hx_byte(struct hx *x, struct tk *t)
{
	int c0 = hx_peek(x, 0), c1 = hx_peek(x, 1), h = hex_digit(c0), l = hex_digit(c1);
	const uint8_t *p;

	memset(t, 0, sizeof(*t));
	t->t = TK_BYTE;
	if (h >= 0 && l >= 0)
		t->v = (uint8_t)(h << 4 | l), t->mask = 0xff;
	else if (c0 == '?' && c1 == '?')
		t->mask = 0;
	else if (h >= 0 && c1 == '?')
		t->v = (uint8_t)(h << 4), t->mask = 0xf0;
	else if (c0 == '?' && l >= 0)
		t->v = (uint8_t)l, t->mask = 0x0f;
	else
		return 0;
	rbuf_bytes(&x->b, 2, &p);
	return 1;
}

/* A decimal number of at most 9 digits (ClamAV reads them with atoi). */
static int
hx_num(struct hx *x, uint32_t *v)
{
	int c, n = 0;

	*v = 0;
	while ((c = hx_peek(x, 0)) >= '0' && c <= '9' && n < 9) {
		*v = *v * 10 + (uint32_t)(c - '0');
		rbuf_u8(&x->b, &(uint8_t){0});
		n++;
	}
	return n;
}

static int
hx_push(struct hx *x, const struct tk *t)
{
	if (x->ntk >= TK_MAX)
		return hx_fail(x, WARD_ELIMIT, "too many elements");
	x->tk[x->ntk++] = *t;
	return 0;
}

/* `{n}`, `{-n}`, `{n-}`, `{n-m}` (the `{` read) or `[n-m]` (the `[` read). */
static int
hx_range(struct hx *x, int close, struct tk *t)
{
	uint32_t a = 0, b = 0;
	int na, nb, dash = 0;
	uint8_t c;

	memset(t, 0, sizeof(*t));
	t->t = TK_JUMP;
	na = hx_num(x, &a);
	if (hx_peek(x, 0) == '-') {
		rbuf_u8(&x->b, &c);
		dash = 1;
	}
	nb = dash ? hx_num(x, &b) : 0;
	if (rbuf_u8(&x->b, &c) != 0 || c != close || (na == 0 && nb == 0))
		return hx_fail(x, WARD_ESYNTAX, "malformed range '%c...%c'",
			       close == '}' ? '{' : '[', close);
	if (!dash)
		t->min = t->max = a;
	else if (na == 0)
		t->min = 0, t->max = b;
	else if (nb == 0)
		t->min = a, t->max = TK_INF;
	else
		t->min = a, t->max = b;
	if (t->max < t->min)
		return hx_fail(x, WARD_ESYNTAX, "range {%u-%u} runs backwards", t->min, t->max);
	t->bracket = close == ']';
	/* libclamav reads "%u-%u": `[n]` is `[n-n]`, `[n-]` and `[-m]` are
	 * malformed. */
	if (close == ']' && (na == 0 || (dash && nb == 0) || t->max > 32))
		return hx_fail(x, WARD_ESYNTAX, "[n-m] needs n, m <= 32");
	return 0;
}

/* `(a|b|...)` or `!(...)`, the `(` read; anchors `(B)` `(L)` `(W)` are
 * told apart by the caller. */
static int
hx_alt(struct hx *x, int negated, struct tk *t)
{
	uint32_t len = UINT32_MAX;
	struct tk bt;
	uint8_t c;
	int r = 0;

	memset(t, 0, sizeof(*t));
	t->t = negated ? TK_NALT : TK_ALT;
	t->alt_first = x->nalts;
	for (;;) {
		struct alt *a;

		if (x->nalts >= TK_MAX)
			return hx_fail(x, WARD_ELIMIT, "too many alternatives");
		a = &x->alts[x->nalts];
		a->first = x->nabytes;
		a->n = 0;
		while (hx_byte(x, &bt)) {
			if (x->nabytes >= TK_MAX)
				return hx_fail(x, WARD_ELIMIT, "too many elements");
			x->abytes[x->nabytes++] = bt;
			a->n++;
		}
		if (a->n == 0) {
			c = (uint8_t)hx_peek(x, 0);
			if (c == '{' || c == '*' || c == '[' || c == '(')
				return hx_fail(x, WARD_EUNSUPPORTED,
					       "ranges or groups inside an alternative");
			return hx_fail(x, WARD_ESYNTAX, "empty alternative");
		}
		x->nalts++;
		t->alt_n++;
		if (negated) {
			if (len != UINT32_MAX && len != a->n)
				return hx_fail(x, WARD_ESYNTAX,
					       "negated alternatives must all have one length");
			len = a->n;
		}
		if (rbuf_u8(&x->b, &c) != 0)
			return hx_fail(x, WARD_ESYNTAX, "unterminated alternative");
		if (c == ')')
			break;
		if (c != '|') {
			if (c == '{' || c == '*' || c == '[' || c == '(')
				return hx_fail(x, WARD_EUNSUPPORTED,
					       "ranges or groups inside an alternative");
			return hx_fail(x, WARD_ESYNTAX, "unexpected '%c' in an alternative",
				       c >= 0x20 && c < 0x7f ? c : '?');
		}
	}
	if (negated) {
		uint32_t i, k;

		for (i = 0; i < t->alt_n; i++)
			for (k = 0; k < x->alts[t->alt_first + i].n; k++)
				if (x->abytes[x->alts[t->alt_first + i].first + k].mask != 0xff)
					return hx_fail(x, WARD_ESYNTAX,
						       "wildcards in a negated alternative");
	}
	return r;
}

/*
 * ClamAV splits a signature at `*` and at ranges (but for `{n}` with
 * n < 128, which it turns into n `??`, and `[n-m]`, which it checks beside
 * one byte), and refuses one with a part shorter than two bytes
 * (cli_ac_addsig: "too short").
 */
static int
hx_parts(struct hx *x)
{
	uint32_t i, len = 0;

	for (i = 0; i <= x->ntk; i++) {
		const struct tk *t = i < x->ntk ? &x->tk[i] : NULL;

		if (t == NULL ||
		    (t->t == TK_JUMP && !t->bracket && !(t->min == t->max && t->max < 128))) {
			if (len < 2)
				return hx_fail(x, WARD_ESYNTAX,
					       "a part of the signature is shorter than 2 bytes");
			len = 0;
		} else if (t->t == TK_JUMP) {
			len += t->max;
		} else if (t->t == TK_BYTE || t->t == TK_ANCHOR) {
			len++;
		} else {
			len += x->alts[t->alt_first].n;
		}
	}
	return 0;
}

static int
hx_splits(const struct tk *t)
{
	return t->t == TK_JUMP && !t->bracket && !(t->min == t->max && t->max < 128);
}

/*
 * `[n-m]` as libclamav's cli_ac_addsig takes it, per part: the text before
 * the first `[` is one byte (`XX[n-m]rest`, then at most one more
 * `...[n-m]YY`), or the text after it is one byte (`rest[n-m]YY`); a byte
 * here is two hex digits, a nibble or `??`, never an anchor or a group.
 * Anything else makes ClamAV refuse the database: so does ward.
 */
static int
hx_brackets(struct hx *x)
{
	uint32_t s = 0, e, i, nb, b[3];

	while (s < x->ntk) {
		for (e = s; e < x->ntk && !hx_splits(&x->tk[e]); e++)
			;
		for (nb = 0, i = s; i < e; i++)
			if (x->tk[i].t == TK_JUMP && x->tk[i].bracket && nb < 3)
				b[nb++] = i;
		if (nb > 0) {
			int left = b[0] == s + 1 && x->tk[s].t == TK_BYTE;
			int rlast = e >= 2 && b[nb - 1] == e - 2 && x->tk[e - 1].t == TK_BYTE;

			if (!((left && nb == 1) || (left && nb == 2 && rlast) ||
			      (!left && nb == 1 && rlast)))
				return hx_fail(x, WARD_ESYNTAX,
					       "[n-m] needs a single byte on one side");
			if (left && s == 0)
				x->hi->lead_gap = 1;
		}
		s = e + 1;
	}
	return 0;
}

/*
 * Anchors.  libclamav (cli_ac_addsig) takes a plain `(B)` `(L)` `(W)` as
 * the very first token as a check of the byte before the match (or the
 * file's start), and any anchor, plain or negated, as the last token as a
 * check of the byte after it (or, not negated, the file's end); anywhere
 * else, a negated left one included, it is one byte of the match of its
 * class (negated: not of it).  The right check runs on ClamAV's scan
 * window: exact for files up to 128 KiB (docs/clamav.md).  The ends come
 * out of the token list into x->hi; anchors beside a range ClamAV splits
 * at check its parts' ends, which ward does not say.
 */
static int
hx_anchors(struct hx *x)
{
	struct clamdb_hexinfo *hi = x->hi;
	uint32_t i;

	if (x->ntk > 1 && x->tk[0].t == TK_ANCHOR && !x->tk[0].neg) {
		hi->left = x->tk[0].v;
		memmove(x->tk, x->tk + 1, (x->ntk - 1) * sizeof(*x->tk));
		x->ntk--;
	}
	if (x->ntk > 1 && x->tk[x->ntk - 1].t == TK_ANCHOR) {
		hi->right = x->tk[x->ntk - 1].v;
		hi->rneg = x->tk[x->ntk - 1].neg;
		/* At the end of the file a plain check passes, a negated one
		 * fails, but for !(L) whose '\r' may be the last byte. */
		hi->eof = !hi->rneg || hi->right == 'L';
		x->ntk--;
	}
	if (x->tk[0].t == TK_JUMP || x->tk[x->ntk - 1].t == TK_JUMP)
		return hx_fail(x, WARD_EUNSUPPORTED, "an anchor beside a range");
	/* A left !(X) is the first byte of the match but, as a left XX[n-m],
	 * one ClamAV filters by offset twice (clamdb_match_cond). */
	if (x->tk[0].t == TK_ANCHOR && x->tk[0].neg)
		hi->lead_gap = 1;
	for (i = 0; i < x->ntk; i++) {
		const struct tk *t = &x->tk[i];

		if (t->t != TK_ANCHOR)
			continue;
		if ((i > 0 && hx_splits(&x->tk[i - 1])) ||
		    (i + 1 < x->ntk && hx_splits(&x->tk[i + 1])))
			return hx_fail(x, WARD_EUNSUPPORTED,
				       "anchor (%c) beside a range ClamAV splits at", t->v);
		/* !(L) refuses a '\r' only when a '\n' follows: ward says it
		 * when the next byte is fixed. */
		if (t->neg && t->v == 'L' &&
		    (i + 1 >= x->ntk || x->tk[i + 1].t != TK_BYTE || x->tk[i + 1].mask != 0xff))
			return hx_fail(x, WARD_EUNSUPPORTED,
				       "!(L) before anything but a fixed byte");
	}
	return 0;
}

/* libclamav's boundary[] table (matcher-ac.c): 1 may precede a match
 * ((B) on the left), 2 may follow one (on the right), 3 both. */
unsigned
clamdb_anchor_bnd(unsigned c)
{
	switch (c) {
	case '.':
	case '<':
	case '@':
		return 1;
	case '\n':
	case '\r':
	case '"':
	case '\'':
	case '=':
	case '>':
		return 2;
	case ' ':
	case '-':
	case '/':
	case '_':
		return 3;
	default:
		return 0;
	}
}

static int
anchor_alnum(unsigned c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Is byte c one that anchor t takes as its byte (inside: (B) any byte of
 * boundary[], (W) not isalnum in the C locale; at the right edge: (B) one
 * of boundary[] >= 2)?  Negated: the opposite.  Not for (L). */
static int
anchor_has(const struct tk *t, unsigned c)
{
	int in;

	if (t->v == 'B')
		in = t->edge ? clamdb_anchor_bnd(c) >= 2 : clamdb_anchor_bnd(c) != 0;
	else
		in = !anchor_alnum(c);
	return t->neg ? !in : in;
}

/* The alternatives "[pre] c" for every byte c with set[c]: hex or regexp
 * (a class); *first tracks the '|' between hex alternatives. */
static void
emit_set(struct wbuf *w, const uint8_t *set, int pre, int rx, int *first)
{
	unsigned c;

	if (rx) {
		if (pre >= 0)
			clamdb_printf(w, "\\x%02x", (unsigned)pre);
		clamdb_puts(w, "[");
		for (c = 0; c < 256; c++)
			if (set[c])
				clamdb_printf(w, "\\x%02x", c);
		clamdb_puts(w, "]");
		return;
	}
	for (c = 0; c < 256; c++) {
		if (!set[c])
			continue;
		clamdb_puts(w, *first ? "" : "| ");
		if (pre >= 0)
			clamdb_printf(w, "%02X ", (unsigned)pre);
		clamdb_printf(w, "%02X ", c);
		*first = 0;
	}
}

/* The bytes anchor t stands for; next is the token after it (NULL at the
 * end), needed by !(L). */
static void
emit_anchor(struct wbuf *w, const struct tk *t, const struct tk *next, int rx)
{
	uint8_t set[256], set2[256];
	unsigned c;
	int first = 1;

	if (t->v == 'L' && !t->neg) {
		clamdb_puts(w, rx ? "(\\n|\\r\\n)" : "( 0A | 0D 0A ) ");
		return;
	}
	memset(set2, 0, sizeof(set2));
	for (c = 0; c < 256; c++) {
		if (t->v == 'L') {
			/* !(L): not '\n', and '\r' only when no '\n' follows */
			set[c] = c != '\n' && c != '\r';
			set2[c] = c != '\n';
		} else {
			set[c] = (uint8_t)anchor_has(t, c);
		}
	}
	if (t->v == 'L' && !t->edge && next != NULL && next->v != '\n')
		set['\r'] = 1;
	clamdb_puts(w, rx ? "(" : "( ");
	emit_set(w, set, -1, rx, &first);
	if (t->v == 'L' && t->edge) {
		if (rx)
			clamdb_puts(w, "|");
		emit_set(w, set2, '\r', rx, &first);
	}
	clamdb_puts(w, rx ? ")" : ") ");
}

static int
hx_parse(struct hx *x)
{
	struct tk t;
	uint8_t c;
	int r = 0;

	while (rbuf_left(&x->b) > 0 && r == 0) {
		if (hx_byte(x, &t)) {
			r = hx_push(x, &t);
			continue;
		}
		rbuf_u8(&x->b, &c);
		if (c == '*') {
			memset(&t, 0, sizeof(t));
			t.t = TK_JUMP;
			t.max = TK_INF;
			r = hx_push(x, &t);
		} else if (c == '{' || c == '[') {
			if ((r = hx_range(x, c == '{' ? '}' : ']', &t)) == 0)
				r = hx_push(x, &t);
		} else if (c == '(' &&
			   (hx_peek(x, 0) == 'B' || hx_peek(x, 0) == 'L' || hx_peek(x, 0) == 'W') &&
			   hx_peek(x, 1) == ')') {
			/* One byte (two for CR LF) of a class, or a check
			 * at an end: see hx_anchors. */
			memset(&t, 0, sizeof(t));
			t.t = TK_ANCHOR;
			rbuf_u8(&x->b, &t.v);
			rbuf_u8(&x->b, &c);
			r = hx_push(x, &t);
		} else if (c == '(') {
			if ((r = hx_alt(x, 0, &t)) == 0)
				r = hx_push(x, &t);
		} else if (c == '!' && hx_peek(x, 0) == '(' &&
			   (hx_peek(x, 1) == 'B' || hx_peek(x, 1) == 'L' || hx_peek(x, 1) == 'W') &&
			   hx_peek(x, 2) == ')') {
			/* A byte not of the class (at the left end too: only a
			 * plain anchor first is a check of the byte before). */
			memset(&t, 0, sizeof(t));
			t.t = TK_ANCHOR;
			t.neg = 1;
			rbuf_u8(&x->b, &c);
			rbuf_u8(&x->b, &t.v);
			rbuf_u8(&x->b, &c);
			r = hx_push(x, &t);
		} else if (c == '!' && hx_peek(x, 0) == '(') {
			rbuf_u8(&x->b, &c);
			if ((r = hx_alt(x, 1, &t)) == 0)
				r = hx_push(x, &t);
		} else {
			r = hx_fail(x, WARD_ESYNTAX, "invalid character '%c' in hex signature",
				    c >= 0x20 && c < 0x7f ? c : '?');
		}
	}
	if (r == 0 && x->ntk == 0)
		r = hx_fail(x, WARD_ESYNTAX, "empty hex signature");
	if (r == 0 && (x->tk[0].t == TK_JUMP || x->tk[x->ntk - 1].t == TK_JUMP))
		r = hx_fail(x, WARD_ESYNTAX, "a hex signature cannot start or end with a range");
	if (r == 0)
		r = hx_brackets(x);
	if (r == 0)
		r = hx_parts(x);
	if (r == 0)
		r = hx_anchors(x);
	return r;
}

/* --- emitting ---------------------------------------------------------- */

/* A fixed ASCII letter under ::i: either case (libclamav's CLI_NOCASE). */
static int
hex_nocase(const struct tk *t, int nocase)
{
	uint8_t c = (uint8_t)(t->v | 0x20);

	return nocase && t->mask == 0xff && c >= 'a' && c <= 'z';
}

static void
emit_hex_byte(struct wbuf *w, const struct tk *t)
{
	static const char d[] = "0123456789ABCDEF";
	char s[3] = {'?', '?', ' '};

	if (t->mask & 0xf0)
		s[0] = d[t->v >> 4];
	if (t->mask & 0x0f)
		s[1] = d[t->v & 0xf];
	wbuf_put(w, s, 3);
}

static void alt_sort(const struct hx *x, uint32_t *ord, uint32_t *tmp, uint32_t n);

/*
 * A negated alternative as hex alternatives: every sequence of len bytes
 * that is none of the alternatives [first, first + n) of ord (sorted,
 * equal in their first depth bytes, which are in pre): at this depth a
 * byte none has, then anything; or one they have, then what none of those
 * continues with.  *count bounds the alternatives written; returns 0, or
 * -1 past WARD_MAX_CLAMDB_NALT_HEX.
 */
static int
emit_nalt_hex(const struct hx *x, const uint32_t *ord, uint32_t first, uint32_t n, uint32_t depth,
	      uint32_t len, uint8_t *pre, struct wbuf *w, uint32_t *count)
{
	uint8_t seen[256];
	uint32_t i, j, k, c;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++)
		seen[x->abytes[x->alts[ord[first + i]].first + depth].v] = 1;
	for (c = 0; c < 256; c++) {
		if (seen[c])
			continue;
		if (++*count > WARD_MAX_CLAMDB_NALT_HEX)
			return -1;
		clamdb_puts(w, *count > 1 ? "| " : "");
		for (k = 0; k < depth; k++)
			clamdb_printf(w, "%02X ", pre[k]);
		clamdb_printf(w, "%02X ", c);
		for (k = depth + 1; k < len; k++)
			clamdb_puts(w, "?? ");
	}
	if (depth + 1 >= len)
		return 0;
	for (i = 0; i < n; i = j) {
		uint8_t b = x->abytes[x->alts[ord[first + i]].first + depth].v;

		for (j = i + 1; j < n && x->abytes[x->alts[ord[first + j]].first + depth].v == b;
		     j++)
			;
		pre[depth] = b;
		if (emit_nalt_hex(x, ord, first + i, j - i, depth + 1, len, pre, w, count) != 0)
			return -1;
	}
	return 0;
}

static int
emit_hex_nalt(const struct hx *x, const struct tk *t, struct wbuf *w)
{
	uint32_t a, count = 0, *ord = NULL, *tmp = NULL;
	uint8_t *pre = NULL;
	int r = 0;

	ord = ward_calloc(t->alt_n, sizeof(*ord));
	tmp = ward_calloc(t->alt_n, sizeof(*tmp));
	pre = ward_calloc(x->alts[t->alt_first].n + 1, 1);
	if (ord == NULL || tmp == NULL || pre == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (a = 0; a < t->alt_n; a++)
		ord[a] = t->alt_first + a;
	alt_sort(x, ord, tmp, t->alt_n);
	clamdb_puts(w, "( ");
	if (emit_nalt_hex(x, ord, 0, t->alt_n, 0, x->alts[t->alt_first].n, pre, w, &count) != 0 ||
	    count == 0)
		r = WARD_EUNSUPPORTED;
	clamdb_puts(w, ") ");
out:
	ward_free(ord);
	ward_free(tmp);
	ward_free(pre);
	return r;
}

static int
emit_hex(const struct hx *x, struct wbuf *w, int nocase)
{
	uint32_t i, a, k;
	int r;

	clamdb_puts(w, "{ ");
	for (i = 0; i < x->ntk; i++) {
		const struct tk *t = &x->tk[i];

		if (hex_nocase(t, nocase)) {
			clamdb_printf(w, "( %02X | %02X ) ", t->v & 0xdf, t->v | 0x20);
		} else if (t->t == TK_BYTE) {
			emit_hex_byte(w, t);
		} else if (t->t == TK_ANCHOR) {
			emit_anchor(w, t, i + 1 < x->ntk ? &x->tk[i + 1] : NULL, 0);
		} else if (t->t == TK_JUMP) {
			if (t->max == 0)
				continue; /* XX[0]YY: adjacent (YARA refuses [0]) */
			if (t->max == TK_INF)
				clamdb_printf(w, "[%u-] ", t->min);
			else if (t->min == t->max)
				clamdb_printf(w, "[%u] ", t->min);
			else
				clamdb_printf(w, "[%u-%u] ", t->min, t->max);
		} else if (t->t == TK_NALT) {
			if ((r = emit_hex_nalt(x, t, w)) != 0)
				return r;
		} else {
			clamdb_puts(w, "( ");
			for (a = 0; a < t->alt_n; a++) {
				const struct alt *al = &x->alts[t->alt_first + a];

				if (a > 0)
					clamdb_puts(w, "| ");
				for (k = 0; k < al->n; k++) {
					const struct tk *b = &x->abytes[al->first + k];

					if (hex_nocase(b, nocase))
						clamdb_printf(w, "( %02X | %02X ) ", b->v & 0xdf,
							      b->v | 0x20);
					else
						emit_hex_byte(w, b);
				}
			}
			clamdb_puts(w, ") ");
		}
	}
	clamdb_puts(w, "}");
	return w->err;
}

static void
emit_rx_byte(struct wbuf *w, const struct tk *t)
{
	unsigned i;

	if (t->mask == 0xff)
		clamdb_printf(w, "\\x%02x", t->v);
	else if (t->mask == 0)
		clamdb_puts(w, ".");
	else if (t->mask == 0xf0)
		clamdb_printf(w, "[\\x%02x-\\x%02x]", t->v, t->v | 0x0f);
	else {
		clamdb_puts(w, "[");
		for (i = 0; i < 16; i++)
			clamdb_printf(w, "\\x%02x", (unsigned)(i << 4 | t->v));
		clamdb_puts(w, "]");
	}
}

/*
 * The bytes of k positions that are none of the alternatives [first,
 * first + n) (sorted, all of length len, equal in their first depth
 * bytes): at this depth, either a byte no alternative has here followed by
 * anything, or one they have followed by what none of those that have it
 * continues with.  Returns 0 when nothing at all can follow (every byte is
 * taken and every continuation is complete), so the caller leaves it out.
 */
static int
emit_nalt(const struct hx *x, const uint32_t *ord, uint32_t first, uint32_t n, uint32_t depth,
	  uint32_t len, struct wbuf *w)
{
	uint8_t seen[256];
	uint32_t i, j, nseen = 0, branches = 0;
	struct wbuf part;
	int any = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		uint8_t b = x->abytes[x->alts[ord[first + i]].first + depth].v;

		if (!seen[b])
			nseen++;
		seen[b] = 1;
	}
	wbuf_init(&part);
	if (nseen < 256) {
		wbuf_put(&part, "[^", 2);
		for (i = 0; i < 256; i++)
			if (seen[i])
				clamdb_printf(&part, "\\x%02x", i);
		wbuf_put(&part, "]", 1);
		if (len - depth - 1 > 0)
			clamdb_printf(&part, ".{%u}", len - depth - 1);
		branches++;
		any = 1;
	}
	if (depth + 1 < len) {
		for (i = 0; i < n; i = j) {
			uint8_t b = x->abytes[x->alts[ord[first + i]].first + depth].v;
			struct wbuf sub;

			for (j = i + 1;
			     j < n && x->abytes[x->alts[ord[first + j]].first + depth].v == b; j++)
				;
			wbuf_init(&sub);
			if (emit_nalt(x, ord, first + i, j - i, depth + 1, len, &sub)) {
				if (branches++ > 0)
					wbuf_put(&part, "|", 1);
				clamdb_printf(&part, "\\x%02x", b);
				wbuf_put(&part, sub.p, sub.len);
				any = 1;
			}
			if (sub.err && part.err == 0)
				part.err = sub.err;
			wbuf_free(&sub);
		}
	}
	if (any) {
		if (branches > 1)
			wbuf_put(w, "(", 1);
		wbuf_put(w, part.p, part.len);
		if (branches > 1)
			wbuf_put(w, ")", 1);
	}
	if (part.err && w->err == 0)
		w->err = part.err;
	wbuf_free(&part);
	return any;
}

/* Alternative a before b: byte order of their (equal-length) bytes. */
static int
alt_less(const struct hx *x, uint32_t a, uint32_t b)
{
	const struct alt *p = &x->alts[a], *q = &x->alts[b];
	uint32_t i;

	for (i = 0; i < p->n && i < q->n; i++) {
		uint8_t u = x->abytes[p->first + i].v, v = x->abytes[q->first + i].v;

		if (u != v)
			return u < v;
	}
	return 0;
}

/* Sorts ord[0..n) by alt_less: a bottom-up merge sort through tmp. */
static void
alt_sort(const struct hx *x, uint32_t *ord, uint32_t *tmp, uint32_t n)
{
	uint32_t width, i, l, m, h, a, b, k;

	for (width = 1; width < n; width *= 2) {
		for (i = 0; i < n; i += 2 * width) {
			l = i;
			m = i + width < n ? i + width : n;
			h = i + 2 * width < n ? i + 2 * width : n;
			for (a = l, b = m, k = l; k < h; k++)
				tmp[k] = (a < m && (b >= h || !alt_less(x, ord[b], ord[a])))
					     ? ord[a++]
					     : ord[b++];
		}
		memcpy(ord, tmp, n * sizeof(*ord));
	}
}

static int
emit_rx(const struct hx *x, struct wbuf *w, char *why, size_t whylen)
{
	uint32_t i, a, k, *ord = NULL, *tmp = NULL;
	int r = 0;

	clamdb_puts(w, "/");
	for (i = 0; i < x->ntk && r == 0; i++) {
		const struct tk *t = &x->tk[i];

		if (t->t == TK_BYTE) {
			emit_rx_byte(w, t);
		} else if (t->t == TK_ANCHOR) {
			emit_anchor(w, t, i + 1 < x->ntk ? &x->tk[i + 1] : NULL, 1);
		} else if (t->t == TK_JUMP) {
			if (t->min == t->max)
				clamdb_printf(w, ".{%u}", t->min);
			else
				clamdb_printf(w, ".{%u,%u}", t->min, t->max);
		} else if (t->t == TK_ALT) {
			clamdb_puts(w, "(");
			for (a = 0; a < t->alt_n; a++) {
				const struct alt *al = &x->alts[t->alt_first + a];

				if (a > 0)
					clamdb_puts(w, "|");
				for (k = 0; k < al->n; k++)
					emit_rx_byte(w, &x->abytes[al->first + k]);
			}
			clamdb_puts(w, ")");
		} else {
			ord = ward_calloc(t->alt_n, sizeof(*ord));
			tmp = ward_calloc(t->alt_n, sizeof(*tmp));
			if (ord == NULL || tmp == NULL) {
				r = WARD_ENOMEM;
				break;
			}
			for (a = 0; a < t->alt_n; a++)
				ord[a] = t->alt_first + a;
			alt_sort(x, ord, tmp, t->alt_n);
			if (!emit_nalt(x, ord, 0, t->alt_n, 0, x->alts[t->alt_first].n, w)) {
				snprintf(why, whylen,
					 "a negated alternative that excludes every byte");
				r = WARD_EUNSUPPORTED;
			}
			ward_free(ord);
			ward_free(tmp);
			ord = tmp = NULL;
		}
	}
	clamdb_puts(w, "/s");
	ward_free(ord);
	ward_free(tmp);
	return r;
}

/* The longest match, TK_INF when unbounded. */
static uint64_t
hx_maxlen(const struct hx *x)
{
	uint64_t n = 0, m;
	uint32_t i, a;

	for (i = 0; i < x->ntk; i++) {
		const struct tk *t = &x->tk[i];

		if (t->t == TK_BYTE)
			n++;
		else if (t->t == TK_ANCHOR)
			n += 2;
		else if (t->t == TK_JUMP) {
			if (t->max == TK_INF)
				return TK_INF;
			n += t->max;
		} else {
			for (m = 0, a = 0; a < t->alt_n; a++)
				if (x->alts[t->alt_first + a].n > m)
					m = x->alts[t->alt_first + a].n;
			n += m;
		}
	}
	return n;
}

/* Plain bytes only (a text string can say it with modifiers). */
static int
hx_plain(const struct hx *x)
{
	uint32_t i;

	for (i = 0; i < x->ntk; i++)
		if (x->tk[i].t != TK_BYTE || x->tk[i].mask != 0xff)
			return 0;
	return 1;
}

static void
emit_mods(struct wbuf *w, unsigned mods)
{
	if (mods & CLAMDB_MOD_NOCASE)
		clamdb_puts(w, " nocase");
	if (mods & CLAMDB_MOD_WIDE)
		clamdb_puts(w, " wide");
	if ((mods & CLAMDB_MOD_ASCII) || !(mods & CLAMDB_MOD_WIDE))
		clamdb_puts(w, (mods & CLAMDB_MOD_WIDE) ? " ascii" : "");
	if (mods & CLAMDB_MOD_FULLWORD)
		clamdb_puts(w, " fullword");
}

/* The YARA string for the tokens of x into w (see clamdb_hex_convert). */
static int
hx_emit(struct hx *x, unsigned mods, struct wbuf *w)
{
	uint32_t i;
	int negated = 0;

	for (i = 0; i < x->ntk; i++)
		negated |= x->tk[i].t == TK_NALT;
	if (mods != 0 && hx_plain(x)) {
		/* A text string: YARA applies nocase, wide, fullword to it as
		 * ClamAV applies ::i, ::w, ::f. */
		clamdb_puts(w, "\"");
		for (i = 0; i < x->ntk; i++)
			clamdb_printf(w, "\\x%02x", x->tk[i].v);
		clamdb_puts(w, "\"");
		emit_mods(w, mods);
	} else if (mods == 0 && !negated) {
		/* YARA's hex strings start and end with a byte: ClamAV's own
		 * rule, checked by hx_parse.  Jumps in alternatives are
		 * refused there. */
		return emit_hex(x, w, 0);
	} else {
		int rx_ok = hx_maxlen(x) <= WARD_RE_SCAN_LIMIT;

		for (i = 0; i < x->ntk; i++)
			if (x->tk[i].t == TK_JUMP && x->tk[i].max > WARD_MAX_REPEAT)
				rx_ok = 0;
		/* A negated alternative, or ::i, in a signature a regexp
		 * cannot hold: hex, with the alternative spelt out, or both
		 * cases of each letter. */
		if (!rx_ok && (mods == 0 || (mods == CLAMDB_MOD_NOCASE && !negated)) &&
		    emit_hex(x, w, mods == CLAMDB_MOD_NOCASE) == 0)
			return 0;
		w->len = 0;
		w->err = 0;
		if (hx_maxlen(x) > WARD_RE_SCAN_LIMIT)
			return hx_fail(x, WARD_EUNSUPPORTED,
				       "%s with a match longer than %u bytes (a regexp's limit)",
				       negated ? "a negated alternative" : "modifiers on wildcards",
				       WARD_RE_SCAN_LIMIT);
		for (i = 0; i < x->ntk; i++)
			if (x->tk[i].t == TK_JUMP && x->tk[i].max > WARD_MAX_REPEAT)
				return hx_fail(x, WARD_EUNSUPPORTED, "range too long for a regexp");
		if (emit_rx(x, w, x->why, x->whylen) != 0)
			return WARD_EUNSUPPORTED;
		emit_mods(w, mods);
	}
	return w->err;
}

int
clamdb_hex_convert(const uint8_t *p, size_t n, unsigned mods, struct wbuf *w, struct wbuf *wz,
		   struct clamdb_hexinfo *hi, char *why, size_t whylen)
{
	struct hx x;
	int r;

	memset(&x, 0, sizeof(x));
	memset(hi, 0, sizeof(*hi));
	why[0] = '\0';
	x.why = why;
	x.whylen = whylen;
	x.hi = hi;
	rbuf_init(&x.b, p, n);
	if (n > WARD_MAX_CLAMDB_LINE) {
		r = hx_fail(&x, WARD_ELIMIT, "hex signature longer than WARD_MAX_CLAMDB_LINE");
		goto out;
	}
	/* Every element takes at least one character; one more for the
	 * right check folded in. */
	x.tk = ward_calloc(n + 2, sizeof(*x.tk));
	x.alts = ward_calloc(n + 1, sizeof(*x.alts));
	x.abytes = ward_calloc(n + 1, sizeof(*x.abytes));
	if (x.tk == NULL || x.alts == NULL || x.abytes == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((r = hx_parse(&x)) != 0)
		goto out;
	if ((hi->left || hi->right) && (mods & (CLAMDB_MOD_WIDE | CLAMDB_MOD_FULLWORD))) {
		/* libclamav checks wide and fullword ends its own way */
		r = hx_fail(&x, WARD_EUNSUPPORTED, "an anchor at an end with ::w or ::f");
		goto out;
	}
	if (hi->right) {
		/* A match followed by a byte the check takes: one string. */
		struct tk *t = &x.tk[x.ntk++];

		memset(t, 0, sizeof(*t));
		t->t = TK_ANCHOR;
		t->v = hi->right;
		t->neg = hi->rneg;
		t->edge = 1;
	}
	if ((r = hx_emit(&x, mods, w)) != 0)
		goto out;
	if (hi->eof) {
		/* The match at the file's end: the caller checks that end. */
		x.ntk--;
		if (hi->rneg) {
			struct tk *t = &x.tk[x.ntk++];

			memset(t, 0, sizeof(*t));
			t->t = TK_BYTE;
			t->v = '\r';
			t->mask = 0xff;
		}
		r = hx_emit(&x, mods, wz);
	}
out:
	ward_free(x.tk);
	ward_free(x.alts);
	ward_free(x.abytes);
	return r;
}

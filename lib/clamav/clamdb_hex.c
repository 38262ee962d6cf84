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

#include "clamav/clamdb_hex.h"

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

int
clamdb_hex_fail(struct hx *x, int err, const char *fmt, ...)
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
		return clamdb_hex_fail(x, WARD_ELIMIT, "too many elements");
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
		return clamdb_hex_fail(x, WARD_ESYNTAX, "malformed range '%c...%c'",
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
		return clamdb_hex_fail(x, WARD_ESYNTAX, "range {%u-%u} runs backwards", t->min, t->max);
	t->bracket = close == ']';
	/* libclamav reads "%u-%u": `[n]` is `[n-n]`, `[n-]` and `[-m]` are
	 * malformed. */
	if (close == ']' && (na == 0 || (dash && nb == 0) || t->max > 32))
		return clamdb_hex_fail(x, WARD_ESYNTAX, "[n-m] needs n, m <= 32");
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
			return clamdb_hex_fail(x, WARD_ELIMIT, "too many alternatives");
		a = &x->alts[x->nalts];
		a->first = x->nabytes;
		a->n = 0;
		while (hx_byte(x, &bt)) {
			if (x->nabytes >= TK_MAX)
				return clamdb_hex_fail(x, WARD_ELIMIT, "too many elements");
			x->abytes[x->nabytes++] = bt;
			a->n++;
		}
		if (a->n == 0) {
			c = (uint8_t)hx_peek(x, 0);
			if (c == '{' || c == '*' || c == '[' || c == '(')
				return clamdb_hex_fail(x, WARD_EUNSUPPORTED,
					       "ranges or groups inside an alternative");
			return clamdb_hex_fail(x, WARD_ESYNTAX, "empty alternative");
		}
		x->nalts++;
		t->alt_n++;
		if (negated) {
			if (len != UINT32_MAX && len != a->n)
				return clamdb_hex_fail(x, WARD_ESYNTAX,
					       "negated alternatives must all have one length");
			len = a->n;
		}
		if (rbuf_u8(&x->b, &c) != 0)
			return clamdb_hex_fail(x, WARD_ESYNTAX, "unterminated alternative");
		if (c == ')')
			break;
		if (c != '|') {
			if (c == '{' || c == '*' || c == '[' || c == '(')
				return clamdb_hex_fail(x, WARD_EUNSUPPORTED,
					       "ranges or groups inside an alternative");
			return clamdb_hex_fail(x, WARD_ESYNTAX, "unexpected '%c' in an alternative",
				       c >= 0x20 && c < 0x7f ? c : '?');
		}
	}
	if (negated) {
		uint32_t i, k;

		for (i = 0; i < t->alt_n; i++)
			for (k = 0; k < x->alts[t->alt_first + i].n; k++)
				if (x->abytes[x->alts[t->alt_first + i].first + k].mask != 0xff)
					return clamdb_hex_fail(x, WARD_ESYNTAX,
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
				return clamdb_hex_fail(x, WARD_ESYNTAX,
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
				return clamdb_hex_fail(x, WARD_ESYNTAX,
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
		return clamdb_hex_fail(x, WARD_EUNSUPPORTED, "an anchor beside a range");
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
			return clamdb_hex_fail(x, WARD_EUNSUPPORTED,
				       "anchor (%c) beside a range ClamAV splits at", t->v);
		/* !(L) refuses a '\r' only when a '\n' follows: ward says it
		 * when the next byte is fixed. */
		if (t->neg && t->v == 'L' &&
		    (i + 1 >= x->ntk || x->tk[i + 1].t != TK_BYTE || x->tk[i + 1].mask != 0xff))
			return clamdb_hex_fail(x, WARD_EUNSUPPORTED,
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
			r = clamdb_hex_fail(x, WARD_ESYNTAX, "invalid character '%c' in hex signature",
				    c >= 0x20 && c < 0x7f ? c : '?');
		}
	}
	if (r == 0 && x->ntk == 0)
		r = clamdb_hex_fail(x, WARD_ESYNTAX, "empty hex signature");
	if (r == 0 && (x->tk[0].t == TK_JUMP || x->tk[x->ntk - 1].t == TK_JUMP))
		r = clamdb_hex_fail(x, WARD_ESYNTAX, "a hex signature cannot start or end with a range");
	if (r == 0)
		r = hx_brackets(x);
	if (r == 0)
		r = hx_parts(x);
	if (r == 0)
		r = hx_anchors(x);
	return r;
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
		r = clamdb_hex_fail(&x, WARD_ELIMIT, "hex signature longer than WARD_MAX_CLAMDB_LINE");
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
		r = clamdb_hex_fail(&x, WARD_EUNSUPPORTED, "an anchor at an end with ::w or ::f");
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
	if ((r = clamdb_hex_emit(&x, mods, w)) != 0)
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
		r = clamdb_hex_emit(&x, mods, wz);
	}
out:
	ward_free(x.tk);
	ward_free(x.alts);
	ward_free(x.abytes);
	return r;
}


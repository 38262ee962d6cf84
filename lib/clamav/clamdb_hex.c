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
#include "util/alloc.h"
#include "util/limits.h"

enum tk_type {
	TK_BYTE, /* v under mask: 0xff exact, 0xf0 `a?`, 0x0f `?a`, 0x00 `??` */
	TK_JUMP, /* min..max bytes; max == TK_INF for `*` and `{n-}` */
	TK_ALT,	 /* (a|b|...): alternatives [alt_first, alt_first + alt_n) */
	TK_NALT, /* !(a|b|...): fixed-length alternatives, none of which is there */
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

static int
hx_fail(struct hx *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

static int
hx_nib(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A byte position: two hex digits, `??`, `a?` or `?a`.  Returns 1 when one
 * was read into *t, 0 when the next characters are not one. */
static int
hx_byte(struct hx *x, struct tk *t)
{
	int c0 = hx_peek(x, 0), c1 = hx_peek(x, 1), h = hx_nib(c0), l = hx_nib(c1);
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
		return hx_fail(x, WARD_ESYNTAX, "malformed range '%c...%c'", close == '}' ? '{' : '[',
			       close);
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
	if (close == ']' && (!dash || nb == 0 || t->max > 32))
		return hx_fail(x, WARD_ESYNTAX, "[n-m] needs both bounds and m <= 32");
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
		} else if (t->t == TK_BYTE) {
			len++;
		} else {
			len += x->alts[t->alt_first].n;
		}
	}
	return 0;
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
		} else if (c == '(' && (hx_peek(x, 0) == 'B' || hx_peek(x, 0) == 'L' ||
					hx_peek(x, 0) == 'W') &&
			   hx_peek(x, 1) == ')') {
			/* ClamAV tests these at a match's ends only when the scan
			 * buffer holds the whole file (matcher-ac.c), and in the
			 * middle against its own boundary table: no YARA form has
			 * that meaning. */
			r = hx_fail(x, WARD_EUNSUPPORTED,
				    "anchor (%c): ClamAV's boundary test depends on its scan buffers",
				    hx_peek(x, 0));
		} else if (c == '(') {
			if ((r = hx_alt(x, 0, &t)) == 0)
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
		r = hx_parts(x);
	return r;
}

/* --- emitting ---------------------------------------------------------- */

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

static void
emit_hex(const struct hx *x, struct wbuf *w)
{
	uint32_t i, a, k;

	clamdb_puts(w, "{ ");
	for (i = 0; i < x->ntk; i++) {
		const struct tk *t = &x->tk[i];

		if (t->t == TK_BYTE) {
			emit_hex_byte(w, t);
		} else if (t->t == TK_JUMP) {
			if (t->max == TK_INF)
				clamdb_printf(w, "[%u-] ", t->min);
			else if (t->min == t->max)
				clamdb_printf(w, "[%u] ", t->min);
			else
				clamdb_printf(w, "[%u-%u] ", t->min, t->max);
		} else {
			clamdb_puts(w, "( ");
			for (a = 0; a < t->alt_n; a++) {
				const struct alt *al = &x->alts[t->alt_first + a];

				if (a > 0)
					clamdb_puts(w, "| ");
				for (k = 0; k < al->n; k++)
					emit_hex_byte(w, &x->abytes[al->first + k]);
			}
			clamdb_puts(w, ") ");
		}
	}
	clamdb_puts(w, "}");
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
				tmp[k] = (a < m && (b >= h || !alt_less(x, ord[b], ord[a]))) ? ord[a++]
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
				snprintf(why, whylen, "a negated alternative that excludes every byte");
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

int
clamdb_hex_convert(const uint8_t *p, size_t n, unsigned mods, struct wbuf *w, char *why,
		   size_t whylen)
{
	struct hx x;
	uint32_t i, j;
	int r, negated = 0;

	memset(&x, 0, sizeof(x));
	why[0] = '\0';
	x.why = why;
	x.whylen = whylen;
	rbuf_init(&x.b, p, n);
	if (n > WARD_MAX_CLAMDB_LINE) {
		r = hx_fail(&x, WARD_ELIMIT, "hex signature longer than WARD_MAX_CLAMDB_LINE");
		goto out;
	}
	/* Every element takes at least one character. */
	x.tk = ward_calloc(n + 1, sizeof(*x.tk));
	x.alts = ward_calloc(n + 1, sizeof(*x.alts));
	x.abytes = ward_calloc(n + 1, sizeof(*x.abytes));
	if (x.tk == NULL || x.alts == NULL || x.abytes == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	if ((r = hx_parse(&x)) != 0)
		goto out;
	for (i = 0; i < x.ntk; i++)
		negated |= x.tk[i].t == TK_NALT;
	if (mods != 0 && hx_plain(&x)) {
		/* A text string: YARA applies nocase, wide, fullword to it as
		 * ClamAV applies ::i, ::w, ::f. */
		clamdb_puts(w, "\"");
		for (i = 0; i < x.ntk; i++)
			clamdb_printf(w, "\\x%02x", x.tk[i].v);
		clamdb_puts(w, "\"");
		emit_mods(w, mods);
	} else if (mods == 0 && !negated) {
		/* YARA's hex strings start and end with a byte: ClamAV's own
		 * rule, checked by hx_parse.  Jumps in alternatives are
		 * refused there. */
		emit_hex(&x, w);
	} else {
		uint64_t max = hx_maxlen(&x);

		if (max > WARD_RE_SCAN_LIMIT) {
			r = hx_fail(&x, WARD_EUNSUPPORTED,
				    "%s with a match longer than %u bytes (a regexp's limit)",
				    negated ? "a negated alternative" : "modifiers on wildcards",
				    WARD_RE_SCAN_LIMIT);
			goto out;
		}
		for (j = 0; j < x.ntk; j++)
			if (x.tk[j].t == TK_JUMP && x.tk[j].max > WARD_MAX_REPEAT) {
				r = hx_fail(&x, WARD_EUNSUPPORTED, "range too long for a regexp");
				goto out;
			}
		if ((r = emit_rx(&x, w, why, whylen)) != 0)
			goto out;
		emit_mods(w, mods);
	}
	if (w->err != 0)
		r = w->err;
out:
	ward_free(x.tk);
	ward_free(x.alts);
	ward_free(x.abytes);
	return r;
}

/* --- offsets ----------------------------------------------------------- */

/* A decimal number of 1 to 9 digits, all of [*p, end): ClamAV's
 * cli_isnumber and atoi. */
static int
off_num(struct rbuf *b, size_t end, uint32_t *v)
{
	uint8_t c;
	size_t n = 0;

	*v = 0;
	while (b->off < end && rbuf_u8(b, &c) == 0) {
		if (c < '0' || c > '9' || ++n > 9)
			return -1;
		*v = *v * 10 + (uint32_t)(c - '0');
	}
	return n > 0 ? 0 : -1;
}

/* Does (p, n) start with the text s? */
static int
off_prefix(const uint8_t *p, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n >= k && memcmp(p, s, k) == 0;
}

int
clamdb_offset_convert(const uint8_t *p, size_t n, const char *id, unsigned target,
		      struct wbuf *w, int *uses_pe, int *uses_elf, char *why, size_t whylen)
{
	struct rbuf b;
	size_t end = n, i;
	uint32_t shift = 0, v = 0, sec = 0;
	int has_shift = 0, r = 0, exe = target == 1 || target == 6 || target == 9;
	char base[160];

	why[0] = '\0';
	if (n == 1 && p[0] == '*') {
		clamdb_puts(w, id);
		goto out;
	}
	if (n == 0 || n > 64) {
		snprintf(why, whylen, "offset missing or longer than 64 characters");
		r = WARD_ESYNTAX;
		goto out;
	}
	for (i = 0; i < n; i++)
		if (p[i] == ',')
			break;
	if (i < n) {
		rbuf_init(&b, p, n);
		b.off = i + 1;
		if (off_num(&b, n, &shift) != 0) {
			snprintf(why, whylen, "invalid offset shift");
			r = WARD_ESYNTAX;
			goto out;
		}
		has_shift = 1;
		end = i;
	}
	rbuf_init(&b, p, end);
	if (off_prefix(p, end, "EP+") || off_prefix(p, end, "EP-")) {
		b.off = 3;
		if (off_num(&b, end, &v) != 0)
			goto bad;
		if (!exe) {
			r = WARD_ESYNTAX;
			snprintf(why, whylen, "EP offsets need target type 1, 6 or 9");
			goto out;
		}
		if (target == 1) {
			*uses_pe = 1;
			snprintf(base, sizeof(base), "pe.entry_point %c %u", p[2], v);
		} else if (target == 6) {
			*uses_elf = 1;
			snprintf(base, sizeof(base), "elf.entry_point %c %u", p[2], v);
		} else {
			r = WARD_EUNSUPPORTED;
			snprintf(why, whylen, "EP offsets of Mach-O files (ward has no Mach-O module)");
			goto out;
		}
	} else if (off_prefix(p, end, "SE") || off_prefix(p, end, "SL+") ||
		   (end > 1 && p[0] == 'S')) {
		if (!exe) {
			r = WARD_ESYNTAX;
			snprintf(why, whylen, "section offsets need target type 1, 6 or 9");
			goto out;
		}
		if (target != 1) {
			r = WARD_EUNSUPPORTED;
			snprintf(why, whylen, "section offsets of ELF and Mach-O files");
			goto out;
		}
		*uses_pe = 1;
		if (off_prefix(p, end, "SE")) {
			b.off = 2;
			if (off_num(&b, end, &sec) != 0)
				goto bad;
			/* The whole section, plus the shift past its end, as
			 * ClamAV's cli_caloff has it. */
			clamdb_printf(w,
				      "(%u < pe.number_of_sections and %s in "
				      "(pe.sections[%u].raw_data_offset .. "
				      "pe.sections[%u].raw_data_offset + pe.sections[%u].raw_data_size"
				      " + %u))",
				      sec, id, sec, sec, sec, shift);
			goto out;
		}
		if (off_prefix(p, end, "SL+")) {
			b.off = 3;
			if (off_num(&b, end, &v) != 0)
				goto bad;
			snprintf(base, sizeof(base),
				 "pe.sections[pe.number_of_sections - 1].raw_data_offset + %u", v);
			clamdb_puts(w, "(pe.number_of_sections > 0 and ");
		} else {
			size_t plus;

			for (plus = 1; plus < end && p[plus] != '+'; plus++)
				;
			b.off = 1;
			if (plus >= end || off_num(&b, plus, &sec) != 0)
				goto bad;
			b.off = plus + 1;
			if (off_num(&b, end, &v) != 0)
				goto bad;
			snprintf(base, sizeof(base), "pe.sections[%u].raw_data_offset + %u", sec, v);
			clamdb_printf(w, "(%u < pe.number_of_sections and ", sec);
		}
		if (has_shift)
			clamdb_printf(w, "%s in (%s .. %s + %u))", id, base, base, shift);
		else
			clamdb_printf(w, "%s at %s)", id, base);
		goto out;
	} else if (off_prefix(p, end, "EOF-")) {
		b.off = 4;
		if (off_num(&b, end, &v) != 0)
			goto bad;
		snprintf(base, sizeof(base), "filesize - %u", v);
	} else if (off_prefix(p, end, "VI") || memchr(p, '$', end) != NULL) {
		r = WARD_EUNSUPPORTED;
		snprintf(why, whylen, "version-information and macro offsets");
		goto out;
	} else {
		if (off_num(&b, end, &v) != 0)
			goto bad;
		snprintf(base, sizeof(base), "%u", v);
	}
	if (has_shift)
		clamdb_printf(w, "%s in (%s .. %s + %u)", id, base, base, shift);
	else
		clamdb_printf(w, "%s at %s", id, base);
	goto out;
bad:
	r = WARD_ESYNTAX;
	snprintf(why, whylen, "invalid offset");
out:
	if (r == 0 && w->err != 0)
		r = w->err;
	return r;
}

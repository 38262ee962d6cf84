/*
 * clamdb_hexemit: the YARA string for a parsed ClamAV body signature
 * (clamdb_hex.c parses it): a hex string where it can say the signature
 * exactly, with the anchors' byte classes; a regexp where only a regexp
 * can (negated alternatives), and only when its longest match fits in
 * WARD_RE_SCAN_LIMIT.
 */
#include <stdio.h>
#include <string.h>

#include "clamav/clamdb_hex.h"
#include "util/alloc.h"

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
int
clamdb_hex_emit(struct hx *x, unsigned mods, struct wbuf *w)
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
			return clamdb_hex_fail(x, WARD_EUNSUPPORTED,
				       "%s with a match longer than %u bytes (a regexp's limit)",
				       negated ? "a negated alternative" : "modifiers on wildcards",
				       WARD_RE_SCAN_LIMIT);
		for (i = 0; i < x->ntk; i++)
			if (x->tk[i].t == TK_JUMP && x->tk[i].max > WARD_MAX_REPEAT)
				return clamdb_hex_fail(x, WARD_EUNSUPPORTED, "range too long for a regexp");
		if (emit_rx(x, w, x->why, x->whylen) != 0)
			return WARD_EUNSUPPORTED;
		emit_mods(w, mods);
	}
	return w->err;
}

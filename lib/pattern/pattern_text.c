/*
 * pattern_text: text strings and their xor and base64 modifiers, with
 * YARA 4.2's semantics (checked against yara 4.2.3).
 *
 * A plain or xor string stays a text pattern: its Vectorscan expression is
 * the string (for xor: its deltas, see XOR_DELTA_MIN_BYTES) and the
 * verifier compares bytes.  A base64 string becomes the regexp YARA builds
 * for it, an alternation of its encodings, and runs as that regexp.
 *
 * Must hold: an xor expression in the bytes lists exactly the keys in
 * [xor_min, xor_max] (its matches are exact); one in the delta domain
 * stands for every key and is always verified; the base64 regexp source is built
 * only from \xHH escapes, so no byte of the string or the alphabet can be
 * read as a regexp operator.
 */
#include "pattern/atoms.h"
#include "pattern/pattern.h"
#include "pattern/pattern_impl.h"
#include "pattern/ptree.h"
#include "pattern/regex.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <hs/hs.h>
#include <string.h>

/* Characters of a wide literal that fit in one YARA atom (4 bytes). */
#define PATTERN_ATOM_CHARS 2

/*
 * An xor string is looked for in the XOR of neighbouring bytes, where it
 * is one literal for all its keys (s[i] ^ k ^ s[i+1] ^ k = s[i] ^ s[i+1];
 * wide, the deltas are s0 s1 s1 s2 s2 ...): 256 literals per string take
 * Vectorscan seconds to compile, one takes nothing, and the key range is
 * checked by the verifier.  Below this many bytes the deltas are too short
 * to be selective, and the string is one literal per key instead; those
 * are short, so Vectorscan's limit on the length of an expression holds.
 */
#define XOR_DELTA_MIN_BYTES 5

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *
b64_name(unsigned flags)
{
	return (flags & PATTERN_BASE64) ? "base64" : "base64wide";
}

int
pattern_check_mods(enum pattern_kind kind, const struct pattern_mods *m, struct ward_diag *d)
{
	unsigned f = m->flags;
	int r = 0;

	if (kind != PATTERN_TEXT && (f & (PATTERN_XOR | PATTERN_BASE64 | PATTERN_BASE64WIDE))) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
			     "syntax error, unexpected keyword \"%s\" (xor and base64 apply to "
			     "text strings only)",
			     (f & PATTERN_XOR) ? "xor" : b64_name(f));
	} else if ((f & PATTERN_XOR) && (f & PATTERN_NOCASE)) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
			     "invalid modifier combination: xor nocase");
	} else if ((f & (PATTERN_BASE64 | PATTERN_BASE64WIDE)) &&
		   (f & (PATTERN_NOCASE | PATTERN_FULLWORD | PATTERN_XOR))) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "invalid modifier combination: %s %s",
			     b64_name(f),
			     (f & PATTERN_NOCASE)     ? "nocase"
			     : (f & PATTERN_FULLWORD) ? "fullword"
						      : "xor");
	} else if ((f & PATTERN_XOR) && m->xor_min > m->xor_max) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "xor lower bound exceeds upper bound");
	}
	return r;
}

/* --- xor ----------------------------------------------------------------- */

/* The byte at i of the string's form: wide, each character is followed by
 * a zero byte. */
static uint8_t
form_byte(const struct pattern *p, int wide, size_t i)
{
	return wide ? (i % 2 ? 0 : p->src[i / 2]) : p->src[i];
}

/* One literal per key: the string's form XORed with the key. */
static void
xor_expr(const struct pattern *p, int wide, size_t nb, struct wbuf *w)
{
	unsigned k;
	size_t i;

	wbuf_put(w, "(?:", 3);
	for (k = p->xor_min; k <= p->xor_max; k++) {
		if (k > p->xor_min)
			wbuf_put(w, "|", 1);
		for (i = 0; i < nb; i++)
			pattern_ex_byte(w, form_byte(p, wide, i) ^ k);
	}
	wbuf_put(w, ")", 1);
}

/* The string's form in the delta domain (see XOR_DELTA_MIN_BYTES). */
static void
xor_delta_expr(const struct pattern *p, int wide, size_t nb, struct wbuf *w)
{
	size_t i;

	for (i = 0; i + 1 < nb; i++)
		pattern_ex_byte(w, form_byte(p, wide, i) ^ form_byte(p, wide, i + 1));
}

uint32_t
pattern_xor_match(const struct pattern *p, const uint8_t *d, size_t avail, unsigned cs)
{
	size_t n = p->srclen, i;
	uint8_t k;
	uint32_t r = 0;

	if (avail < n * cs)
		goto out;
	k = d[0] ^ p->src[0];
	if (k < p->xor_min || k > p->xor_max)
		goto out;
	for (i = 0; i < n; i++) {
		if (d[i * cs] != (p->src[i] ^ k) || (cs == 2 && d[i * 2 + 1] != k))
			goto out;
	}
	r = (uint32_t)(n * cs);
out:
	return r;
}

int
pattern_compile_text(struct pattern *p, struct ward_diag *d)
{
	struct wbuf w;
	size_t v, i, cs, nb;
	uint8_t bm[32];
	int r = 0;

	if (p->srclen == 0) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "empty string");
		goto out;
	}
	if (p->srclen > WARD_MAX_STRING_BYTES) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0, "string too long (WARD_MAX_STRING_BYTES)");
		goto out;
	}
	if (p->flags & PATTERN_DOTALL) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "/s applies to regular expressions only");
		goto out;
	}
	for (v = 0; v < p->nvar && r == 0; v++) {
		wbuf_init(&w);
		cs = p->var[v].wide ? 2 : 1;
		nb = p->srclen * cs;
		p->var[v].xor_delta = (p->flags & PATTERN_XOR) && nb >= XOR_DELTA_MIN_BYTES;
		if (p->var[v].xor_delta)
			xor_delta_expr(p, p->var[v].wide, nb, &w);
		else if (p->flags & PATTERN_XOR)
			xor_expr(p, p->var[v].wide, nb, &w);
		for (i = 0; i < p->srclen && !(p->flags & PATTERN_XOR); i++) {
			if (!(p->flags & PATTERN_NOCASE)) {
				pattern_ex_byte(&w, p->src[i]);
				if (p->var[v].wide)
					wbuf_put(&w, "\\x00", 4);
				continue;
			}
			memset(bm, 0, sizeof(bm));
			ptree_bm_set(bm, p->src[i]);
			ptree_bm_fold(bm);
			pattern_ex_class(&w, bm, p->var[v].wide);
		}
		r = pattern_ex_finish(&w, &p->var[v]);
		p->var[v].hs_flags = HS_FLAG_DOTALL;
		p->var[v].minlen = p->var[v].maxlen = (uint32_t)nb;
		p->var[v].end_min = p->var[v].end_max = (uint32_t)nb;
		p->var[v].exact = !(p->flags & PATTERN_FULLWORD) && !p->var[v].xor_delta;
	}
	p->whole_atom = p->nvar == 2 && p->srclen <= PATTERN_ATOM_CHARS;
	if (r != 0)
		r = diag_set(d, r, NULL, 0, 0, "out of memory");
out:
	return r;
}

/* --- base64 -------------------------------------------------------------- */

/* YARA's base64 encoding of s (n bytes) after i filler bytes, less the
 * characters the neighbouring bytes change, into out (each character
 * followed by 0x00 when wide); returns its length. */
static size_t
b64_encoding(const uint8_t *s, size_t n, const uint8_t *abc, size_t i, int wide, uint8_t *out)
{
	size_t total = n + i, pad = total % 3 ? 3 - total % 3 : 0;
	size_t nout = (total + pad) / 3 * 4, lead = i ? i + 1 : 0, trail = pad ? pad + 1 : 0;
	size_t c, j, k = 0;
	uint32_t q;

	for (c = lead; c + trail < nout; c++) {
		/* character c encodes bits 6c..6c+5 of the filler-prefixed bytes */
		q = 0;
		for (j = 0; j < 3; j++) {
			size_t b = c / 4 * 3 + j;
			uint8_t x = b < i ? 'A' : (b < total ? s[b - i] : 0);

			q = q << 8 | x;
		}
		out[k++] = abc[(q >> (18 - 6 * (c % 4))) & 63u];
		if (wide)
			out[k++] = 0;
	}
	return k;
}

struct b64_alts {
	struct wbuf *w;	 /* the regexp */
	uint8_t *tmp;	 /* room for one encoding */
	uint32_t *found; /* per alternative: where its atom ends */
	uint32_t nfound;
};

/* The three alignments of s, one alternative each (YARA skips the middle
 * one of a one-byte string: nothing of it is left once trimmed). */
static void
b64_nodes(const uint8_t *s, size_t n, const uint8_t *abc, int wide, struct b64_alts *a)
{
	size_t i, k, len, off;

	for (i = 0; i <= 2; i++) {
		if (i == 1 && n == 1)
			continue;
		if (a->nfound > 0)
			wbuf_put(a->w, "|", 1);
		len = b64_encoding(s, n, abc, i, wide, a->tmp);
		for (k = 0; k < len; k++)
			pattern_ex_byte(a->w, a->tmp[k]);
		len = atoms_literal_window(a->tmp, len, &off);
		if (a->nfound < PATTERN_B64_ALTS)
			a->found[a->nfound] = (uint32_t)(off + len);
		a->nfound++;
	}
}

/*
 * The regexp YARA compiles for a base64 string, in YARA's order: the
 * encodings of the wide form (wide), then of the string (ascii, or neither
 * of ascii and wide); in each, base64 before base64wide.  found[k] gets
 * where the atom YARA searches for alternative k ends, in bytes from its
 * start (see pattern_b64_found).
 */
int
pattern_b64_source(const struct pattern *p, struct wbuf *w, uint32_t found[PATTERN_B64_ALTS])
{
	const uint8_t *abc = p->has_alphabet ? p->alphabet : (const uint8_t *)b64_std;
	uint8_t *ws = NULL;
	struct b64_alts a = {w, NULL, found, 0};
	size_t i;
	int r = 0;

	/* an encoding of the wide form, widened: 4/3 of 2n, times 2, plus slack */
	ws = ward_calloc(2 * p->srclen + 1, 1);
	a.tmp = ward_calloc(6 * p->srclen + 16, 1);
	if (ws == NULL || a.tmp == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < p->srclen; i++)
		ws[2 * i] = p->src[i];
	wbuf_put(w, "(", 1);
	if (p->flags & PATTERN_WIDE) {
		if (p->flags & PATTERN_BASE64)
			b64_nodes(ws, 2 * p->srclen, abc, 0, &a);
		if (p->flags & PATTERN_BASE64WIDE)
			b64_nodes(ws, 2 * p->srclen, abc, 1, &a);
	}
	if ((p->flags & PATTERN_ASCII) || !(p->flags & PATTERN_WIDE)) {
		if (p->flags & PATTERN_BASE64)
			b64_nodes(p->src, p->srclen, abc, 0, &a);
		if (p->flags & PATTERN_BASE64WIDE)
			b64_nodes(p->src, p->srclen, abc, 1, &a);
	}
	wbuf_put(w, ")", 1);
	r = w->err;
out:
	ward_free(ws);
	ward_free(a.tmp);
	return r;
}

int
pattern_compile_b64(struct pattern *p, struct ptree *t, struct ward_diag *d)
{
	struct wbuf w;
	int r;

	wbuf_init(&w);
	if (p->srclen == 0) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "empty string");
		goto out;
	}
	if (p->srclen > WARD_MAX_STRING_BYTES) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0, "string too long (WARD_MAX_STRING_BYTES)");
		goto out;
	}
	if ((r = pattern_b64_source(p, &w, p->b64_found)) != 0) {
		r = diag_set(d, r, NULL, 0, 0, "out of memory");
		goto out;
	}
	p->ekind = PATTERN_REGEX;
	r = regex_parse(w.p, w.len, 0, t, d);
	if (r == 0)
		r = pattern_compile_tree(p, t, d);
	if (r == WARD_ELIMIT)
		r = diag_set(d, r, NULL, 0, 0,
			     "base64 string too long: its encodings exceed WARD_MAX_PATTERN_PROG "
			     "instructions");
	/* one program per alternative, in order: b64_found applies */
	if (r == 0 && p->nbranch > 0 && p->nbranch <= PATTERN_B64_ALTS)
		p->nb64 = p->nbranch;
out:
	wbuf_free(&w);
	return r;
}

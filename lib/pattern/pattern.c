/*
 * pattern: compiles one YARA string (text, hex or regexp) into Vectorscan
 * expressions (one per variant: ascii, wide) and a Pike-VM program for the
 * exact verifier in pattern_exec.c; saves and loads compiled patterns.
 * The entry points are here; the code generator is pattern_cg.c (the
 * tree's sizes and lengths pattern_len.c), text strings and their xor and
 * base64 modifiers are pattern_text.c.
 *
 * Must hold: pattern_load trusts nothing: it recompiles the saved source
 * with pattern_compile, so a loaded pattern is exactly as safe as a
 * compiled one.
 */
#include "pattern/pattern.h"
#include "pattern/hex.h"
#include "pattern/pattern_impl.h"
#include "pattern/ptree.h"
#include "pattern/regex.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <string.h>

/* Version 2 adds the xor keys and the base64 alphabet; version 1 is still
 * read (a pattern without them). */
#define PATTERN_FORMAT_VERSION 2
#define PATTERN_ALL_FLAGS                                                                          \
	(PATTERN_NOCASE | PATTERN_WIDE | PATTERN_ASCII | PATTERN_FULLWORD | PATTERN_PRIVATE |      \
	 PATTERN_DOTALL | PATTERN_XOR | PATTERN_BASE64 | PATTERN_BASE64WIDE | PATTERN_SEARCH)

/* Bytes of a base64 alphabet. */
#define PATTERN_B64_ALPHABET 64

/* --- compile --------------------------------------------------------- */

static void
pattern_set_variants(struct pattern *p)
{
	p->nvar = 0;
	if (p->flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE)) {
		p->var[p->nvar++].wide = 0; /* the encodings are searched as they are */
		return;
	}
	if (!(p->flags & PATTERN_WIDE) || (p->flags & PATTERN_ASCII))
		p->var[p->nvar++].wide = 0;
	if (p->flags & PATTERN_WIDE)
		p->var[p->nvar++].wide = 1;
}

/* Cuts the piece, branch and atom arrays to their used length. */
static void
pattern_shrink(struct pattern *p)
{
	void *n;

	if ((n = ward_realloc(p->piece, (p->npieces ? p->npieces : 1) * sizeof(*p->piece))) != NULL)
		p->piece = n;
	if ((n = ward_realloc(p->branch, (p->nbranch ? p->nbranch : 1) * sizeof(*p->branch))) !=
	    NULL)
		p->branch = n;
	if ((n = ward_realloc(p->atom, (p->natom ? p->natom : 1) * sizeof(*p->atom))) != NULL)
		p->atom = n;
}

int
pattern_compile(enum pattern_kind kind, const uint8_t *src, size_t len, unsigned flags,
		struct pattern **out, struct ward_diag *d)
{
	struct pattern_mods m = {flags, 0, 255, NULL};

	return pattern_compile_mods(kind, src, len, &m, out, d);
}

int
pattern_compile_mods(enum pattern_kind kind, const uint8_t *src, size_t len,
		     const struct pattern_mods *m, struct pattern **out, struct ward_diag *d)
{
	struct pattern *p = NULL;
	struct ptree t;
	unsigned flags = m != NULL ? m->flags : 0;
	int r;

	ptree_init(&t);
	if (out != NULL)
		*out = NULL;
	if (out == NULL || m == NULL || (src == NULL && len > 0) ||
	    (kind != PATTERN_TEXT && kind != PATTERN_HEX && kind != PATTERN_REGEX) ||
	    (flags & ~PATTERN_ALL_FLAGS) != 0 ||
	    ((flags & PATTERN_SEARCH) &&
	     (kind != PATTERN_REGEX ||
	      (flags & ~(PATTERN_SEARCH | PATTERN_NOCASE | PATTERN_DOTALL))))) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "invalid arguments to pattern_compile");
		goto out;
	}
	if (len > WARD_MAX_PATTERN_SOURCE) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "pattern source too long (WARD_MAX_PATTERN_SOURCE)");
		goto out;
	}
	if ((r = pattern_check_mods(kind, m, d)) != 0)
		goto out;
	if (kind == PATTERN_HEX && (flags & ~(PATTERN_PRIVATE | PATTERN_ASCII)) != 0) {
		r = diag_set(d, WARD_ESYNTAX, NULL, 0, 0,
			     "hex strings accept only the private modifier (not %s)",
			     (flags & PATTERN_NOCASE)	  ? "nocase"
			     : (flags & PATTERN_WIDE)	  ? "wide"
			     : (flags & PATTERN_FULLWORD) ? "fullword"
							  : "/s");
		goto out;
	}
	p = ward_calloc(1, sizeof(*p));
	/* Room for the most pieces, branches and atoms while compiling; cut to
	 * what the pattern uses afterwards (10 000 patterns would otherwise
	 * keep 12 MiB of empty slots). */
	if (p == NULL || (p->src = ward_malloc(len + 1)) == NULL ||
	    (p->piece = ward_calloc(PATTERN_MAX_PIECES, sizeof(*p->piece))) == NULL ||
	    (p->branch = ward_calloc(PATTERN_MAX_PIECES, sizeof(*p->branch))) == NULL ||
	    (p->atom = ward_calloc(ATOMS_MAX, sizeof(*p->atom))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	if (len > 0)
		memcpy(p->src, src, len);
	p->src[len] = 0;
	p->srclen = len;
	p->kind = p->ekind = kind;
	p->flags = flags;
	if (flags & PATTERN_XOR) {
		p->xor_min = m->xor_min;
		p->xor_max = m->xor_max;
	}
	if ((flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE)) && m->alphabet != NULL) {
		p->has_alphabet = 1;
		memcpy(p->alphabet, m->alphabet, PATTERN_B64_ALPHABET);
	}
	pattern_set_variants(p);
	if (kind == PATTERN_TEXT && (flags & (PATTERN_BASE64 | PATTERN_BASE64WIDE))) {
		r = pattern_compile_b64(p, &t, d);
		goto out;
	}
	if (kind == PATTERN_TEXT) {
		r = pattern_compile_text(p, d);
		goto out;
	}
	if (kind == PATTERN_HEX)
		r = hex_parse(src, len, &t, d);
	else
		r = regex_parse(src, len, flags, &t, d);
	if (r != 0)
		goto out;
	r = pattern_compile_tree(p, &t, d);
out:
	ptree_fini(&t);
	if (r == 0)
		pattern_shrink(p);
	if (r == 0)
		*out = p;
	else
		pattern_free(p);
	return r;
}

void
pattern_free(struct pattern *p)
{
	size_t v, a;

	if (p == NULL)
		return;
	for (v = 0; v < 2; v++) {
		ward_free(p->var[v].expr);
		ward_free(p->var[v].ctx);
		for (a = 0; a < p->var[v].nalt; a++)
			ward_free(p->var[v].alt[a].expr);
	}
	ward_free(p->src);
	ward_free(p->prog);
	ward_free(p->cls);
	ward_free(p->piece);
	ward_free(p->branch);
	ward_free(p->atom);
	ward_free(p->pre_atom);
	ward_free(p);
}

unsigned
pattern_flags(const struct pattern *p)
{
	return p->flags;
}

size_t
pattern_nvariants(const struct pattern *p)
{
	return p->nvar;
}

void
pattern_expr(const struct pattern *p, size_t v, struct pattern_hs *out)
{
	const struct pattern_variant *pv;

	if (v >= p->nvar)
		v = 0;
	pv = &p->var[v];
	out->expr = pv->expr;
	out->hs_flags = pv->hs_flags;
	out->minlen = pv->minlen;
	out->maxlen = pv->maxlen;
	out->end_min = pv->end_min;
	out->end_max = pv->end_max;
	out->exact = pv->exact;
	out->xor_delta = pv->xor_delta;
	out->ctx = pv->ctx;
	out->nctx = pv->ctx != NULL ? pv->nctx[0] : 0;
}

int
pattern_same(const struct pattern *a, const struct pattern *b)
{
	return a->kind == b->kind && a->flags == b->flags && a->srclen == b->srclen &&
	       a->xor_min == b->xor_min && a->xor_max == b->xor_max &&
	       a->has_alphabet == b->has_alphabet &&
	       (!a->has_alphabet || memcmp(a->alphabet, b->alphabet, sizeof(a->alphabet)) == 0) &&
	       memcmp(a->src, b->src, a->srclen) == 0;
}

void
pattern_save(const struct pattern *p, struct wbuf *w)
{
	wbuf_u8(w, PATTERN_FORMAT_VERSION);
	wbuf_u8(w, (uint8_t)p->kind);
	wbuf_u32(w, p->flags);
	wbuf_lenbytes(w, p->src, p->srclen);
	wbuf_u8(w, p->xor_min);
	wbuf_u8(w, p->xor_max);
	wbuf_u8(w, (uint8_t)p->has_alphabet);
	if (p->has_alphabet)
		wbuf_put(w, p->alphabet, PATTERN_B64_ALPHABET);
}

int
pattern_load(struct rbuf *r, struct pattern **out)
{
	struct pattern_mods m = {0, 0, 255, NULL};
	uint8_t ver, kind, has_abc = 0;
	uint32_t flags;
	const uint8_t *src;
	size_t n;
	int e;

	*out = NULL;
	e = rbuf_u8(r, &ver);
	if (e == 0)
		e = rbuf_u8(r, &kind);
	if (e == 0)
		e = rbuf_u32(r, &flags);
	if (e == 0)
		e = rbuf_lenbytes(r, WARD_MAX_PATTERN_SOURCE, &src, &n);
	if (e == 0 && ver == PATTERN_FORMAT_VERSION) {
		e = rbuf_u8(r, &m.xor_min);
		if (e == 0)
			e = rbuf_u8(r, &m.xor_max);
		if (e == 0)
			e = rbuf_u8(r, &has_abc);
		if (e == 0 && has_abc == 1)
			e = rbuf_bytes(r, PATTERN_B64_ALPHABET, &m.alphabet);
		if (e == 0 && has_abc > 1)
			e = WARD_EFORMAT;
	} else if (e == 0 && ver == 1 &&
		   (flags & (PATTERN_XOR | PATTERN_BASE64 | PATTERN_BASE64WIDE))) {
		e = WARD_EFORMAT; /* version 1 had no such flags */
	}
	if (e != 0 || ver < 1 || ver > PATTERN_FORMAT_VERSION) {
		e = WARD_EFORMAT;
		goto out;
	}
	/* pattern_compile_mods checks the flags, the key range and the
	 * combinations: what it would refuse from a rule file is refused here */
	m.flags = flags;
	e = pattern_compile_mods((enum pattern_kind)kind, src, n, &m, out, NULL);
	if (e != 0 && e != WARD_ENOMEM)
		e = WARD_EFORMAT;
out:
	return e;
}

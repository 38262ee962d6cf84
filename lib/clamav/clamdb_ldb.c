/*
 * clamdb_ldb: ClamAV logical signatures (.ldb) -> YARA rules.
 *
 *     NAME;TDB;EXPRESSION;SUBSIG0[;SUBSIG1...]
 *
 * The target description block (TDB) fields that concern the file itself
 * (Engine, Target, FileSize, EntryPoint, NumberOfSections) become
 * conditions; those about where the file sits (Container, Intermediates),
 * icon groups and HandlerType are refused with the reason.
 *
 * The logical expression is read exactly as libclamav's cli_ac_chklsig
 * reads it, quirks included: at the top level it splits at the FIRST
 * operator (0&1|2 is 0&(1|2)), inside parentheses at the LAST one ((0&1|2)
 * is (0&1)|2), there is no precedence, and a count modifier on a block
 * ((A)>X,Y) counts the matches of the block's subsignatures that made it
 * true.  A counted block is converted when it is a chain of one operator
 * over plain subsignatures (as in every official signature); a counted
 * subsignature must have no offset (ClamAV counts only the matches at
 * the offset; YARA's #s counts all of them).
 *
 * Must hold: the expression is read through bounds-checked indexes into
 * a copy of at most WARD_MAX_CLAMDB_LINE bytes; recursion is bounded by
 * WARD_MAX_PATTERN_DEPTH.
 */
#include <stdio.h>
#include <string.h>

#include "clamav/clamdb_int.h"
#include "util/alloc.h"
#include "util/limits.h"

/* One subsignature, converted. */
struct sub {
	struct wbuf str;   /* the YARA string after "$sN = " */
	struct wbuf cond;  /* its condition: "$sN", "$sN at ...", ... */
	struct wbuf zstr;  /* $sNz: the match at the file's end (clamdb_hexinfo) */
	int anywhere;	   /* offset `*`: #sN counts what ClamAV counts */
	struct wbuf count; /* the integer ClamAV counts: "#sN", "#sN in (..)"; empty: none */
	int used;
};

struct ldb {
	const char *e; /* the expression, NUL-terminated copy */
	size_t n;
	struct sub *subs;
	uint32_t nsubs;
	uint32_t maxid; /* the largest subsignature number named, plus one */
	char *why;
	size_t whylen;
};

static int
ldb_fail(struct ldb *l, int err, const char *msg)
{
	snprintf(l->why, l->whylen, "%s", msg);
	return err;
}

/* The unsigned number at e[i..hi) (sscanf %u: leading digits); -1 if none. */
static int
ldb_num(const struct ldb *l, size_t i, size_t hi, uint32_t *v)
{
	size_t k = 0;

	*v = 0;
	while (i < hi && l->e[i] >= '0' && l->e[i] <= '9' && k < 9) {
		*v = *v * 10 + (uint32_t)(l->e[i] - '0');
		i++, k++;
	}
	return k > 0 ? 0 : -1;
}

static const char *
cmp_op(char mod)
{
	return mod == '=' ? "==" : mod == '<' ? "<" : ">";
}

static int
cmp_const(char mod, uint32_t a, uint32_t b)
{
	return mod == '=' ? a == b : mod == '<' ? a < b : a > b;
}

/*
 * A chain of one operator op over plain subsignatures, in [lo, hi) (with
 * ClamAV's parentheses): appends "#sA + #sB ..." to sum and "$sA, $sB ..."
 * to set, and sets *offs when a count is only at an offset (set does not
 * say that).  Returns 0, or WARD_EUNSUPPORTED when it is anything else.
 */
static int
ldb_chain(struct ldb *l, size_t lo, size_t hi, char *op, struct wbuf *sum, struct wbuf *set,
	  int *offs)
{
	size_t i;
	uint32_t id;
	int first = 1;

	for (i = lo; i < hi; i++) {
		char c = l->e[i];

		if (c == '(' || c == ')')
			continue;
		if (c == '&' || c == '|') {
			if (*op != 0 && *op != c)
				return ldb_fail(l, WARD_EUNSUPPORTED,
						"a count on a block that mixes & and |");
			*op = c;
			continue;
		}
		if (ldb_num(l, i, hi, &id) != 0 || id >= l->nsubs)
			return ldb_fail(l, WARD_EUNSUPPORTED,
					"a count on a block of anything but subsignatures");
		if (l->subs[id].count.len == 0)
			return ldb_fail(
			    l, WARD_EUNSUPPORTED,
			    "a count of a subsignature with an offset ward cannot count");
		if (!l->subs[id].anywhere)
			*offs = 1;
		l->subs[id].used = 1;
		if (id + 1 > l->maxid)
			l->maxid = id + 1;
		clamdb_printf(sum, "%s", first ? "" : " + ");
		wbuf_put(sum, l->subs[id].count.p, l->subs[id].count.len);
		clamdb_printf(set, "%s$s%u", first ? "" : ", ", id);
		first = 0;
		while (i + 1 < hi && l->e[i + 1] >= '0' && l->e[i + 1] <= '9')
			i++;
	}
	return 0;
}

/* The YARA condition of e[lo, hi), as cli_ac_chklsig evaluates it. */
static int
ldb_expr(struct ldb *l, size_t lo, size_t hi, unsigned depth, struct wbuf *w)
{
	size_t i, opoff = 0, op1off = 0, blkend = 0, modoff = 0, lstart = lo, rend = hi;
	unsigned pth = 0;
	uint32_t v1 = 0, v2 = 0, id;
	char op = 0, op1 = 0, mod = 0, blkmod = 0;
	int r;

	if (depth > WARD_MAX_PATTERN_DEPTH)
		return ldb_fail(l, WARD_ELIMIT, "logical expression nested too deeply");
	if (lo >= hi)
		return ldb_fail(l, WARD_ESYNTAX, "empty logical (sub)expression");
	for (i = lo; i < hi; i++) {
		char c = l->e[i];

		if (c == '(') {
			pth++;
		} else if (c == ')') {
			if (pth == 0)
				return ldb_fail(l, WARD_ESYNTAX, "missing opening parenthesis");
			pth--;
			mod = c, modoff = i;
		} else if (c == '>' || c == '<' || c == '=') {
			mod = c, modoff = i;
		} else if (c == '&' || c == '|') {
			if (pth == 0)
				op = c, opoff = i;
			else if (pth == 1)
				op1 = c, op1off = i;
		}
		if (op)
			break;
		if (op1 && pth == 0) {
			blkend = i;
			if (i + 1 < hi &&
			    (l->e[i + 1] == '>' || l->e[i + 1] == '<' || l->e[i + 1] == '=')) {
				blkmod = l->e[i + 1];
				v2 = 0;
				if (ldb_num(l, i + 2, hi, &v1) != 0)
					return ldb_fail(l, WARD_ESYNTAX,
							"missing number after a count");
				for (i += 2;
				     i + 1 < hi && ((l->e[i + 1] >= '0' && l->e[i + 1] <= '9') ||
						    l->e[i + 1] == ',');
				     i++)
					if (l->e[i + 1] == ',')
						ldb_num(l, i + 2, hi, &v2);
			}
			if (i + 1 == hi)
				break;
			blkmod = 0;
		}
	}
	if (pth != 0)
		return ldb_fail(l, WARD_ESYNTAX, "missing closing parenthesis");
	if (!op && !op1) {
		if (l->e[lo] == '(')
			return ldb_expr(l, lo + 1, hi - 1, depth + 1, w);
		if (ldb_num(l, lo, hi, &id) != 0)
			return ldb_fail(l, WARD_ESYNTAX, "expected a subsignature number");
		if (id >= l->nsubs)
			return ldb_fail(l, WARD_ESYNTAX,
					"the expression names a missing subsignature");
		l->subs[id].used = 1;
		if (id + 1 > l->maxid)
			l->maxid = id + 1;
		if (!mod || mod == ')') {
			/* A PCRE's trigger holds an expression over earlier
			 * subsignatures, copied here: bounded, or a line of a few
			 * hundred bytes doubles its text at each level. */
			if (w->len + l->subs[id].cond.len > WARD_MAX_CLAMDB_SIG_TEXT)
				return ldb_fail(l, WARD_EUNSUPPORTED,
						"its rule would be larger than "
						"WARD_MAX_CLAMDB_SIG_TEXT");
			wbuf_put(w, l->subs[id].cond.p, l->subs[id].cond.len);
			return 0;
		}
		if (ldb_num(l, modoff + 1, hi, &v1) != 0)
			return ldb_fail(l, WARD_ESYNTAX, "missing number after a count");
		if (l->subs[id].count.len == 0)
			return ldb_fail(
			    l, WARD_EUNSUPPORTED,
			    "a count of a subsignature with an offset ward cannot count "
			    "or a PCRE");
		wbuf_put(w, l->subs[id].count.p, l->subs[id].count.len);
		clamdb_printf(w, " %s %u", cmp_op(mod), v1);
		return 0;
	}
	if (!op) {
		op = op1, opoff = op1off;
		lstart = lo + 1;
		rend = blkend;
	}
	if (opoff == lo || opoff + 1 >= rend)
		return ldb_fail(l, WARD_ESYNTAX, "an operator without its argument");
	if (!blkmod) {
		clamdb_puts(w, "(");
		if ((r = ldb_expr(l, lstart, opoff, depth + 1, w)) != 0)
			return r;
		clamdb_puts(w, op == '&' ? " and " : " or ");
		if ((r = ldb_expr(l, opoff + 1, rend, depth + 1, w)) != 0)
			return r;
		clamdb_puts(w, ")");
		return 0;
	}
	/* A counted block: when the block is false its count is 0 (and no
	 * subsignature is in its set); when true, the sum of its counts. */
	{
		struct wbuf sum, set, inner;
		char cop = 0;
		int offs = 0;

		wbuf_init(&sum);
		wbuf_init(&set);
		wbuf_init(&inner);
		r = ldb_chain(l, lstart, rend, &cop, &sum, &set, &offs);
		if (r == 0 && v2 > 0 && offs)
			r = ldb_fail(l, WARD_EUNSUPPORTED,
				     "a count of distinct subsignatures with an offset");
		if (r == 0) {
			r = ldb_expr(l, lstart, opoff, depth + 1, &inner);
			clamdb_puts(&inner, op == '&' ? " and " : " or ");
			if (r == 0)
				r = ldb_expr(l, opoff + 1, rend, depth + 1, &inner);
		}
		if (r == 0) {
			wbuf_u8(&inner, 0);
			wbuf_u8(&sum, 0);
			wbuf_u8(&set, 0);
			if (inner.err || sum.err || set.err)
				r = WARD_ENOMEM;
		}
		if (r == 0) {
			if (v2 > 0)
				clamdb_printf(w, "((%s) and %s %s %u and %u of (%s))",
					      (const char *)inner.p, (const char *)sum.p,
					      cmp_op(blkmod), v1, v2, (const char *)set.p);
			else if (cmp_const(blkmod, 0, v1))
				clamdb_printf(w, "(not (%s) or %s %s %u)", (const char *)inner.p,
					      (const char *)sum.p, cmp_op(blkmod), v1);
			else
				clamdb_printf(w, "((%s) and %s %s %u)", (const char *)inner.p,
					      (const char *)sum.p, cmp_op(blkmod), v1);
		}
		wbuf_free(&sum);
		wbuf_free(&set);
		wbuf_free(&inner);
		return r;
	}
}

/*
 * A PCRE subsignature, TRIGGER/RE/FLAGS (ClamAV takes RE between the first
 * and the last '/').  Converted where ward's regexp finds exactly what
 * PCRE finds: no offset before the trigger (the regexp is then searched in
 * the whole file once the trigger holds), flags among i, s and g, and an
 * expression without what YARA's regexps would say otherwise: no
 * unbounded or counted repetition (`*`, `+`, `{`: a YARA match is cut at
 * WARD_RE_SCAN_LIMIT bytes, and PCRE gives up past its match limit), no
 * `$` (PCRE's also matches before a last newline), no `(?` group; a
 * regexp no longer than WARD_RE_SCAN_LIMIT characters.  ward's compiler
 * refuses the rest of what it does not have (backreferences, ...).
 */
static int
ldb_pcre(struct ldb *l, uint32_t i, const struct clamdb_fld *s)
{
	size_t first, last, k;
	struct wbuf cond;
	unsigned flags = 0;
	int r, esc = 0, cls = 0;

	for (first = 0; s->p[first] != '/'; first++)
		;
	for (last = s->n - 1; s->p[last] != '/'; last--)
		;
	if (last <= first + 1)
		return ldb_fail(l, WARD_ESYNTAX, "malformed PCRE subsignature");
	for (k = last + 1; k < s->n; k++) {
		uint8_t c = s->p[k];

		if (c == 'i')
			flags |= 1;
		else if (c == 's')
			flags |= 2;
		else if (c != 'g')
			return ldb_fail(l, WARD_EUNSUPPORTED,
					strchr("rempxAEU", c) != NULL
					    ? "a PCRE flag other than i, s and g"
					    : "unknown PCRE flag");
	}
	if (memchr(s->p, ':', first) != NULL)
		return ldb_fail(l, WARD_EUNSUPPORTED, "a PCRE subsignature with an offset");
	if (last - first - 1 > WARD_RE_SCAN_LIMIT)
		return ldb_fail(l, WARD_EUNSUPPORTED, "a PCRE longer than a regexp's match limit");
	for (k = first + 1; k < last; k++) {
		uint8_t c = s->p[k];

		if (esc) {
			esc = 0;
			continue;
		}
		if (c == '\\')
			esc = 1;
		else if (c == '[')
			cls = 1;
		else if (c == ']')
			cls = 0;
		else if (!cls && (c == '*' || c == '+' || c == '{'))
			return ldb_fail(l, WARD_EUNSUPPORTED,
					"a PCRE with unbounded or counted repetition");
		else if (!cls && c == '$')
			return ldb_fail(l, WARD_EUNSUPPORTED, "a PCRE with '$'");
		else if (!cls && c == '(' && k + 1 < last && s->p[k + 1] == '?')
			return ldb_fail(l, WARD_EUNSUPPORTED, "a PCRE with a (? group");
	}
	/* The trigger: an expression over earlier subsignatures, read as
	 * the signature's own expression is. */
	wbuf_init(&cond);
	{
		char *ex = ward_strndup((const char *)s->p, first);
		const char *saved = l->e;
		size_t saved_n = l->n;
		uint32_t saved_nsubs = l->nsubs, saved_max = l->maxid;

		if (ex == NULL) {
			wbuf_free(&cond);
			return WARD_ENOMEM;
		}
		l->e = ex;
		l->n = first;
		l->nsubs = i; /* only earlier subsignatures */
		r = ldb_expr(l, 0, first, 0, &cond);
		l->e = saved;
		l->n = saved_n;
		l->nsubs = saved_nsubs;
		l->maxid = saved_max;
		ward_free(ex);
	}
	if (r != 0) {
		wbuf_free(&cond);
		return r;
	}
	clamdb_printf(&l->subs[i].cond, "(");
	wbuf_put(&l->subs[i].cond, cond.p, cond.len);
	clamdb_printf(&l->subs[i].cond, " and $s%u)", i);
	wbuf_free(&cond);
	clamdb_puts(&l->subs[i].str, "/");
	esc = 0;
	for (k = first + 1; k < last; k++) {
		/* ClamAV does not require '/' to be escaped inside; YARA does. */
		if (s->p[k] == '/' && !esc)
			wbuf_u8(&l->subs[i].str, '\\');
		esc = !esc && s->p[k] == '\\';
		wbuf_u8(&l->subs[i].str, s->p[k]);
	}
	clamdb_puts(&l->subs[i].str, (flags & 2) ? "/s" : "/");
	if (flags & 1)
		clamdb_puts(&l->subs[i].str, " nocase");
	l->subs[i].anywhere = 0; /* PCRE counts its own way (g): not #s */
	return l->subs[i].str.err != 0 || l->subs[i].cond.err != 0 ? WARD_ENOMEM : 0;
}

/* `X-Y` of a TDB range. */
static int
tdb_range(const struct clamdb_fld *v, uint32_t *lo, uint32_t *hi)
{
	struct clamdb_fld f[2];

	if (clamdb_split(v->p, v->n, '-', f, 2) != 2 || clamdb_fld_num(&f[0], lo) != 0 ||
	    clamdb_fld_num(&f[1], hi) != 0)
		return -1;
	return 0;
}

/* A subsignature: [OFFSET:]HEX[::MODIFIERS]. */
static int
ldb_sub(struct ldb *l, uint32_t i, const struct clamdb_fld *s, uint32_t target, int *pe, int *elf)
{
	struct clamdb_fld f[3], hex = *s, off = {(const uint8_t *)"*", 1};
	struct clamdb_hexinfo hi;
	unsigned mods = 0;
	size_t k, j;
	char id[16];
	int r;

	/* Hex never holds a '/': PCRE subsignatures do (TRIGGER/RE/FLAGS). */
	if (memchr(s->p, '/', s->n) != NULL)
		return ldb_pcre(l, i, s);
	/* The modifiers follow the last "::". */
	for (k = s->n; k >= 2; k--)
		if (s->p[k - 1] == ':' && s->p[k - 2] == ':')
			break;
	if (k >= 2) {
		for (j = k; j < s->n; j++) {
			uint8_t c = s->p[j];

			mods |= c == 'i'   ? CLAMDB_MOD_NOCASE
				: c == 'w' ? CLAMDB_MOD_WIDE
				: c == 'f' ? CLAMDB_MOD_FULLWORD
				: c == 'a' ? CLAMDB_MOD_ASCII
					   : 0x100u;
		}
		if (mods & 0x100u)
			return ldb_fail(l, WARD_ESYNTAX, "unknown subsignature modifier");
		hex.n = k - 2;
	}
	if (clamdb_split(hex.p, hex.n, ':', f, 3) == 2)
		off = f[0], hex = f[1];
	else if (clamdb_split(hex.p, hex.n, ':', f, 3) > 2)
		return ldb_fail(l, WARD_ESYNTAX, "malformed subsignature");
	for (k = 0; k < hex.n; k++)
		if (hex.p[k] == '#' || hex.p[k] == '$')
			return ldb_fail(l, WARD_EUNSUPPORTED,
					"byte-compare and macro subsignatures are not converted");
	if ((r = clamdb_hex_convert(hex.p, hex.n, mods, &l->subs[i].str, &l->subs[i].zstr, &hi,
				    l->why, l->whylen)) != 0)
		return r;
	snprintf(id, sizeof(id), "s%u", i);
	/* #sN counts what ClamAV counts only without checks beside it */
	l->subs[i].anywhere = off.n == 1 && off.p[0] == '*' && !hi.left && !hi.eof && !hi.lead_gap;
	if ((r = clamdb_match_cond(off.p, off.n, id, target, &hi, &l->subs[i].cond, pe, elf, l->why,
				   l->whylen)) != 0)
		return r;
	/* Its count: the matches at its offset, when no check beside the
	 * string decides which match counts. */
	if (!hi.left && !hi.eof && !hi.lead_gap) {
		char why[256];
		int npe = 0, nelf = 0;

		snprintf(id, sizeof(id), "#s%u", i);
		if (clamdb_offset_convert(off.p, off.n, id, target, &l->subs[i].count, &npe, &nelf,
					  why, sizeof(why)) != 0)
			l->subs[i].count.len = 0;
	}
	return l->subs[i].count.err;
}

/* The TDB's conditions into w; target into *target.  Returns 0, 1 (outside
 * ward's functionality level: why says so), or an error with why. */
static int
ldb_tdb(struct ldb *l, const struct clamdb_fld *tdb, uint32_t *target, struct wbuf *w, int *pe,
	int *elf)
{
	struct clamdb_fld a[16], kv[2];
	size_t na = clamdb_split(tdb->p, tdb->n, ',', a, 16), i;
	uint32_t lo, hi;
	int have_target = 0, outside = 0, newext = 0;
	const char *unsup = NULL;
	uint32_t engine_lo = 0;

	*target = 0;
	for (i = 0; i < na; i++) {
		if (clamdb_split(a[i].p, a[i].n, ':', kv, 2) != 2)
			return ldb_fail(l, WARD_ESYNTAX, "malformed target description block");
		if (clamdb_fld_eq(&kv[0], "Target")) {
			if (clamdb_fld_num(&kv[1], target) != 0)
				return ldb_fail(l, WARD_ESYNTAX, "invalid Target");
			have_target = 1;
		} else if (clamdb_fld_eq(&kv[0], "Engine")) {
			if (i != 0)
				return ldb_fail(l, WARD_ESYNTAX,
						"Engine must come first in the TDB");
			if (tdb_range(&kv[1], &lo, &hi) != 0)
				return ldb_fail(l, WARD_ESYNTAX, "invalid Engine range");
			engine_lo = lo;
			if (lo > WARD_CLAMDB_FLEVEL || hi < WARD_CLAMDB_FLEVEL) {
				snprintf(l->why, l->whylen,
					 "functionality level %u..%u does not include ward's (%u, "
					 "ClamAV 1.4)",
					 lo, hi, WARD_CLAMDB_FLEVEL);
				outside = 1;
			}
		} else if (clamdb_fld_eq(&kv[0], "FileSize") ||
			   clamdb_fld_eq(&kv[0], "EntryPoint") ||
			   clamdb_fld_eq(&kv[0], "NumberOfSections")) {
			if (tdb_range(&kv[1], &lo, &hi) != 0)
				return ldb_fail(l, WARD_ESYNTAX, "invalid range in the TDB");
			newext = 1;
			if (clamdb_fld_eq(&kv[0], "FileSize"))
				clamdb_printf(w, " and filesize >= %u and filesize <= %u", lo, hi);
			else
				clamdb_printf(
				    w, " and %%M.%s >= %u and %%M.%s <= %u",
				    clamdb_fld_eq(&kv[0], "EntryPoint") ? "entry_point"
									: "number_of_sections",
				    lo,
				    clamdb_fld_eq(&kv[0], "EntryPoint") ? "entry_point"
									: "number_of_sections",
				    hi);
		} else if (clamdb_fld_eq(&kv[0], "Container") ||
			   clamdb_fld_eq(&kv[0], "Intermediates")) {
			unsup = "Container/Intermediates: ward scans files, not what "
				"ClamAV extracts from containers";
			newext = 1;
		} else if (clamdb_fld_eq(&kv[0], "IconGroup1") ||
			   clamdb_fld_eq(&kv[0], "IconGroup2")) {
			unsup = "icon groups (.idb) are not converted";
			newext = 1;
		} else if (clamdb_fld_eq(&kv[0], "HandlerType")) {
			unsup = "HandlerType: a file type re-scan, not a detection";
			newext = 1;
		} else {
			/* ClamAV skips a signature with an attribute it does not know. */
			unsup = "unknown target description attribute";
			newext = 1;
		}
	}
	if (!have_target)
		return ldb_fail(l, WARD_ESYNTAX, "no Target in the target description block");
	/* libclamav's lsigattribs: attributes other than Target need an
	 * Engine of at least 51 (0.96). */
	if (newext && engine_lo < 51)
		return ldb_fail(l, WARD_ESYNTAX,
				"attributes other than Target need Engine:51 or more first");
	if (unsup != NULL)
		return ldb_fail(l, WARD_EUNSUPPORTED, unsup);
	(void)pe;
	(void)elf;
	return outside;
}

/* Replaces each %M in src (NUL-terminated) by the module of target. */
static void
put_module(struct wbuf *w, const char *src, uint32_t target)
{
	for (; *src != '\0'; src++) {
		if (src[0] == '%' && src[1] == 'M') {
			clamdb_puts(w, target == 6 ? "elf" : "pe");
			src++;
		} else {
			wbuf_u8(w, (uint8_t)*src);
		}
	}
}

static int
ldb_convert(struct clamdb *c, struct ldb *l, const struct clamdb_fld *f, size_t k, struct wbuf *out)
{
	struct wbuf tdbw, cond;
	uint32_t target = 0, i;
	int pe = 0, elf = 0, r;
	const char *tc;
	char *ex = NULL;

	wbuf_init(&tdbw);
	wbuf_init(&cond);
	if ((r = ldb_tdb(l, &f[1], &target, &tdbw, &pe, &elf)) != 0)
		goto out;
	for (i = 0; i < l->nsubs && r == 0; i++)
		r = ldb_sub(l, i, &f[3 + i], target, &pe, &elf);
	if (r != 0)
		goto out;
	if ((ex = ward_strndup((const char *)f[2].p, f[2].n)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	l->e = ex;
	l->n = f[2].n;
	if ((r = ldb_expr(l, 0, l->n, 0, &cond)) != 0)
		goto out;
	/* libclamav's cli_loadldb refuses the database then. */
	if (l->maxid != l->nsubs) {
		r = ldb_fail(l, WARD_ESYNTAX,
			     "the number of subsignatures does not match the expression's");
		goto out;
	}
	wbuf_u8(&tdbw, 0);
	if (tdbw.err != 0 || cond.err != 0) {
		r = WARD_ENOMEM;
		goto out;
	}
	if (strstr((const char *)tdbw.p, "%M") != NULL) {
		if (target != 1 && target != 6 && target != 9) {
			r = ldb_fail(l, WARD_ESYNTAX,
				     "EntryPoint/NumberOfSections need target type 1, 6 or 9");
			goto out;
		}
		if (target == 9) {
			r = ldb_fail(l, WARD_EUNSUPPORTED,
				     "EntryPoint/NumberOfSections of Mach-O files (ward has no "
				     "Mach-O module)");
			goto out;
		}
		pe |= target == 1;
		elf |= target == 6;
	}
	if ((tc = clamdb_target_cond(target, l->why, l->whylen)) == NULL) {
		r = WARD_EUNSUPPORTED;
		goto out;
	}
	(void)k;
	clamdb_rule_begin(c, out, &f[0], pe, elf, 0);
	clamdb_puts(out, "\tstrings:\n");
	for (i = 0; i < l->nsubs; i++) {
		if (!l->subs[i].used)
			continue;
		clamdb_printf(out, "\t\t$s%u = ", i);
		wbuf_put(out, l->subs[i].str.p, l->subs[i].str.len);
		clamdb_puts(out, "\n");
		if (l->subs[i].zstr.len > 0) {
			clamdb_printf(out, "\t\t$s%uz = ", i);
			wbuf_put(out, l->subs[i].zstr.p, l->subs[i].zstr.len);
			clamdb_puts(out, "\n");
		}
	}
	clamdb_printf(out, "\tcondition:\n\t\t%s", tc);
	put_module(out, (const char *)tdbw.p, target);
	clamdb_puts(out, " and ");
	wbuf_put(out, cond.p, cond.len);
	clamdb_puts(out, "\n}\n");
	if (out->err != 0)
		r = WARD_ENOMEM;
out:
	ward_free(ex);
	wbuf_free(&tdbw);
	wbuf_free(&cond);
	return r;
}

int
clamdb_ldb_add(struct clamdb *c, const char *file, int line, const uint8_t *p, size_t n,
	       struct ward_diag *d)
{
	struct clamdb_fld f[3 + WARD_MAX_CLAMDB_SUBSIGS + 1];
	size_t k = clamdb_split(p, n, ';', f, sizeof(f) / sizeof(f[0]));
	struct ldb l;
	struct wbuf w;
	char why[256];
	uint32_t i;
	int r = 0, nl;

	memset(&l, 0, sizeof(l));
	wbuf_init(&w);
	why[0] = '\0';
	l.why = why;
	l.whylen = sizeof(why);
	nl = (int)(f[0].n > 256 ? 256 : f[0].n);
	if (k < 4) {
		r = diag_set(d, WARD_ESYNTAX, file, line, 0,
			     "expected NAME;TDB;EXPRESSION;SUBSIG0[;SUBSIG1...]");
		goto out;
	}
	if (k > 3 + WARD_MAX_CLAMDB_SUBSIGS) {
		r = diag_set(d, WARD_ESYNTAX, file, line, 0,
			     "%.*s: more than %u subsignatures (WARD_MAX_CLAMDB_SUBSIGS)", nl,
			     (const char *)f[0].p, WARD_MAX_CLAMDB_SUBSIGS);
		goto out;
	}
	c->st.read++;
	l.nsubs = (uint32_t)(k - 3);
	if ((l.subs = ward_calloc(l.nsubs, sizeof(*l.subs))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	for (i = 0; i < l.nsubs; i++) {
		wbuf_init(&l.subs[i].str);
		wbuf_init(&l.subs[i].cond);
		wbuf_init(&l.subs[i].zstr);
		wbuf_init(&l.subs[i].count);
	}
	r = ldb_convert(c, &l, f, k, &w);
	if (r == 1) {
		c->st.flevel++;
		r = clamdb_skip_add(c, (const char *)f[0].p, f[0].n, file, line, why);
	} else if (r == WARD_ESYNTAX || r == WARD_ELIMIT) {
		r = diag_set(d, r, file, line, 0, "%.*s: %s", nl, (const char *)f[0].p, why);
	} else if (r == 0 && !clamdb_name_ok(&f[0])) {
		r = clamdb_skip_add(c, (const char *)f[0].p, f[0].n, file, line,
				    "the name is not 1 to 256 printable ASCII characters");
	} else if (r == WARD_EUNSUPPORTED) {
		r = clamdb_skip_add(c, (const char *)f[0].p, f[0].n, file, line, why);
	} else if (r == 0) {
		r = clamdb_rec_add(c, REC_RULE, (const char *)f[0].p, f[0].n, file, line,
				   clamdb_take_str(&w));
	}
out:
	for (i = 0; l.subs != NULL && i < l.nsubs; i++) {
		wbuf_free(&l.subs[i].str);
		wbuf_free(&l.subs[i].cond);
		wbuf_free(&l.subs[i].zstr);
		wbuf_free(&l.subs[i].count);
	}
	ward_free(l.subs);
	wbuf_free(&w);
	return r;
}

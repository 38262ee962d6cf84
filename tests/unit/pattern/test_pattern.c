/*
 * Unit tests of lib/pattern: text strings, the Vectorscan expressions
 * (they compile, and on random data every true match end is reported),
 * lengths, save/load and damaged saved forms.
 */
#include "test_helpers.h"

#include <hs/hs.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/buf.h"
#include "util/limits.h"

struct corpus_pat {
	enum pattern_kind kind;
	const char *src;
	unsigned flags;
};

/* Patterns exercised by the Vectorscan tests. */
static const struct corpus_pat corpus[] = {
    {PATTERN_TEXT, "ab", 0},
    {PATTERN_TEXT, "aB", PATTERN_NOCASE},
    {PATTERN_TEXT, "ab", PATTERN_WIDE},
    {PATTERN_TEXT, "ab", PATTERN_WIDE | PATTERN_ASCII},
    {PATTERN_TEXT, "a b", PATTERN_FULLWORD},
    {PATTERN_TEXT, "a\nb", PATTERN_WIDE | PATTERN_FULLWORD | PATTERN_NOCASE},
    {PATTERN_HEX, "61 62", 0},
    {PATTERN_HEX, "61 ?? 62", 0},
    {PATTERN_HEX, "6? [1-3] ?2", 0},
    {PATTERN_HEX, "61 ( 62 | 20 [0-2] 61 ) 62", 0},
    {PATTERN_HEX, "61 [-] 62", 0},
    {PATTERN_HEX, "61 [300-400] 62 [0-2] 61", 0},
    {PATTERN_HEX, "00 [0-300] 61", 0},
    /* Anchored on a run of exact bytes (hex_anchor). */
    {PATTERN_HEX, "6? [0-2] 61 62 61 ?? 62", 0},
    {PATTERN_HEX, "61 ?? 62 [1-3] 61 61 62 61 ( 62 | 20 )", 0},
    {PATTERN_HEX, "62 62 61 [-] 61 62", 0},
    {PATTERN_HEX, "61 [300-400] 62 62 61 6?", 0},
    {PATTERN_REGEX, "ab*", 0},
    {PATTERN_REGEX, "a.b", 0},
    {PATTERN_REGEX, "a.b", PATTERN_DOTALL},
    {PATTERN_REGEX, "(a|b)+?a", 0},
    {PATTERN_REGEX, "[^ab]{2,5}", 0},
    {PATTERN_REGEX, "a{3}", PATTERN_WIDE | PATTERN_ASCII},
    {PATTERN_REGEX, "\\bab?\\b", 0},
    {PATTERN_REGEX, "^a|b$", 0},
    {PATTERN_REGEX, "b*", 0},
    {PATTERN_REGEX, "(ab|a)(b|)", 0},
    {PATTERN_REGEX, "A[B ]", PATTERN_NOCASE | PATTERN_FULLWORD},
    {PATTERN_REGEX, "\\s\\S\\w\\W\\d\\D", 0},
    {PATTERN_REGEX, "a.{0,300}b", PATTERN_DOTALL},
    {PATTERN_REGEX, "a.{280}", PATTERN_DOTALL},
    {PATTERN_REGEX, "x*\\b", 0},
    {PATTERN_REGEX, "(a|b){2,}?", PATTERN_WIDE},
    /* Regexps anchored on a run of exact characters. */
    {PATTERN_REGEX, "ab[ab]{1,3}aab", 0},
    {PATTERN_REGEX, "b[^a]?aab\\b", PATTERN_WIDE | PATTERN_ASCII},
    {PATTERN_REGEX, "(a|b)+?ba a", PATTERN_FULLWORD},
};
#define NCORPUS (sizeof(corpus) / sizeof(corpus[0]))

static void
test_text(void **state)
{
	static const uint8_t w[] = "a\0b\0 \0A\0B\0x\0a\0b\0";

	(void)state;
	th_check(PATTERN_TEXT, "aa", 0, TH_STR("aaaa"), "0:2,1:2,2:2");
	th_check(PATTERN_TEXT, "aB", PATTERN_NOCASE, TH_STR("ab AB xAbx"), "0:2,3:2,7:2");
	th_check(PATTERN_TEXT, "ab", PATTERN_FULLWORD, TH_STR("ab xab ab_ ab"), "0:2,7:2,11:2");
	th_check(PATTERN_TEXT, "ab", PATTERN_WIDE, w, sizeof(w) - 1, "0:4,12:4");
	th_check(PATTERN_TEXT, "ab", PATTERN_WIDE | PATTERN_NOCASE, w, sizeof(w) - 1,
		 "0:4,6:4,12:4");
	th_check(PATTERN_TEXT, "ab", PATTERN_WIDE | PATTERN_FULLWORD, w, sizeof(w) - 1, "0:4");
	th_check(PATTERN_TEXT, "ab", PATTERN_WIDE | PATTERN_ASCII, TH_STR("ab a\0b\0"), "0:2,3:4");
	/* nocase is ASCII only */
	th_check(PATTERN_TEXT, "\xc3\xa9", PATTERN_NOCASE, TH_STR("\xc3\x89\xc3\xa9"), "2:2");
}

static void
test_text_errors(void **state)
{
	(void)state;
	assert_int_equal(th_error(PATTERN_TEXT, "", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_TEXT, "a", 0x1000, NULL, NULL, 0), WARD_EINVAL);
	assert_int_equal(th_error((enum pattern_kind)9, "a", 0, NULL, NULL, 0), WARD_EINVAL);
}

static void
test_expr_fields(void **state)
{
	struct pattern *p;
	struct pattern_hs h;

	(void)state;
	p = th_compile(PATTERN_TEXT, "ab", PATTERN_WIDE | PATTERN_ASCII);
	assert_int_equal(pattern_nvariants(p), 2);
	assert_int_equal(pattern_flags(p), PATTERN_WIDE | PATTERN_ASCII);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x61\\x62");
	assert_int_equal(h.minlen, 2);
	assert_int_equal(h.maxlen, 2);
	assert_true(h.exact);
	pattern_expr(p, 1, &h);
	assert_string_equal(h.expr, "\\x61\\x00\\x62\\x00");
	assert_int_equal(h.minlen, 4);
	assert_int_equal(h.maxlen, 4);
	pattern_free(p);
	p = th_compile(PATTERN_TEXT, "ab", PATTERN_FULLWORD);
	pattern_expr(p, 0, &h);
	assert_false(h.exact);
	pattern_free(p);
	p = th_compile(PATTERN_HEX, "61 [2-4] 62", 0);
	pattern_expr(p, 0, &h);
	assert_int_equal(h.minlen, 4);
	assert_int_equal(h.maxlen, 6);
	assert_int_equal(h.end_min, 4);
	assert_int_equal(h.end_max, 6);
	assert_false(h.exact);
	assert_true(h.hs_flags & HS_FLAG_DOTALL);
	pattern_free(p);
	/* Wildcards and jumps: Vectorscan looks for the longest exact run. */
	p = th_compile(PATTERN_HEX, "61 ?? 62 [1-3] 63 64 65 6? 66", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x63\\x64\\x65");
	assert_int_equal(h.minlen, 9);
	assert_int_equal(h.maxlen, 11);
	assert_int_equal(h.end_min, 7);
	assert_int_equal(h.end_max, 9);
	pattern_free(p);
	/* Runs too short, or a pure literal: the whole string. */
	p = th_compile(PATTERN_HEX, "61 62 ?? 63 64", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x61\\x62.\\x63\\x64");
	pattern_free(p);
	p = th_compile(PATTERN_HEX, "61 62 63 64", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x61\\x62\\x63\\x64");
	pattern_free(p);
	/* Regexps too, in each variant. */
	p = th_compile(PATTERN_REGEX, "ab[0-9]{1,3}cde", PATTERN_WIDE | PATTERN_ASCII);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x63\\x64\\x65");
	assert_int_equal(h.end_min, 6);
	assert_int_equal(h.end_max, 8);
	pattern_expr(p, 1, &h);
	assert_string_equal(h.expr, "\\x63\\x00\\x64\\x00\\x65\\x00");
	assert_int_equal(h.end_min, 12);
	assert_int_equal(h.end_max, 16);
	pattern_free(p);
	/* A run after an unbounded jump has no bounded offset. */
	p = th_compile(PATTERN_HEX, "61 ?? [-] 62 63 64 65", 0);
	pattern_expr(p, 0, &h);
	assert_int_equal(h.end_max, UINT32_MAX);
	pattern_free(p);
	p = th_compile(PATTERN_HEX, "61 [-] 62", 0);
	pattern_expr(p, 0, &h);
	assert_int_equal(h.minlen, 2);
	assert_int_equal(h.maxlen, UINT32_MAX);
	pattern_free(p);
	p = th_compile(PATTERN_REGEX, "a+", PATTERN_WIDE);
	pattern_expr(p, 0, &h);
	assert_int_equal(h.minlen, 2);
	assert_int_equal(h.maxlen, WARD_RE_SCAN_LIMIT);
	pattern_free(p);
	p = th_compile(PATTERN_REGEX, "a*", 0);
	pattern_expr(p, 0, &h);
	assert_true(h.hs_flags & HS_FLAG_ALLOWEMPTY);
	assert_int_equal(h.minlen, 1);
	pattern_free(p);
}

static int
on_end(unsigned int id, unsigned long long from, unsigned long long to, unsigned int fl, void *ctx)
{
	uint8_t *ends = ctx;

	(void)id;
	(void)from;
	(void)fl;
	ends[to] = 1;
	return 0;
}

/* All expressions of the corpus compile together in one block database. */
static void
test_hs_compile_all(void **state)
{
	const char *exprs[2 * NCORPUS];
	unsigned fl[2 * NCORPUS], ids[2 * NCORPUS];
	struct pattern *pats[NCORPUS];
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	struct pattern_hs h;
	size_t i, v, n = 0;

	(void)state;
	for (i = 0; i < NCORPUS; i++) {
		pats[i] = th_compile(corpus[i].kind, corpus[i].src, corpus[i].flags);
		for (v = 0; v < pattern_nvariants(pats[i]); v++) {
			pattern_expr(pats[i], v, &h);
			exprs[n] = h.expr;
			fl[n] = h.hs_flags;
			ids[n] = (unsigned)n;
			n++;
		}
	}
	if (hs_compile_multi(exprs, fl, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &db, &ce) !=
	    HS_SUCCESS) {
		fprintf(stderr, "hs: %s (expr %d)\n", ce->message, ce->expression);
		hs_free_compile_error(ce);
		fail();
	}
	hs_free_database(db);
	for (i = 0; i < NCORPUS; i++)
		pattern_free(pats[i]);
}

/*
 * For each pattern variant and random data: every offset where
 * pattern_match_at finds a match of length L must have S + L among the
 * ends Vectorscan reports, and L within [minlen, maxlen].
 */
static void
test_hs_differential(void **state)
{
	static const char alpha[] = "aabbAB x\n\0_1";
	static uint8_t data[1200], ends[1201];
	hs_database_t *db;
	hs_compile_error_t *ce;
	hs_scratch_t *scr = NULL;
	struct pattern *p;
	struct pattern_hs h;
	unsigned seed = 12345;
	uint32_t l, k;
	size_t i, v, s, round;
	int found;

	(void)state;
	for (i = 0; i < NCORPUS; i++) {
		p = th_compile(corpus[i].kind, corpus[i].src, corpus[i].flags);
		for (v = 0; v < pattern_nvariants(p); v++) {
			pattern_expr(p, v, &h);
			db = NULL;
			ce = NULL;
			if (hs_compile(h.expr, h.hs_flags, HS_MODE_BLOCK, NULL, &db, &ce) !=
			    HS_SUCCESS) {
				fprintf(stderr, "hs: %s: %s\n", h.expr, ce->message);
				hs_free_compile_error(ce);
				fail();
			}
			assert_int_equal(hs_alloc_scratch(db, &scr), HS_SUCCESS);
			for (round = 0; round < 20; round++) {
				size_t n = round < 10 ? 64 : sizeof(data);

				for (s = 0; s < n; s++) {
					seed = seed * 1103515245u + 12345u;
					data[s] =
					    (uint8_t)alpha[(seed >> 16) % (sizeof(alpha) - 1)];
					if (pattern_flags(p) & PATTERN_WIDE && (seed >> 8) % 3 == 0)
						data[s] = 0;
				}
				memset(ends, 0, sizeof(ends));
				assert_int_equal(hs_scan(db, (const char *)data, (unsigned)n, 0,
							 scr, on_end, ends),
						 HS_SUCCESS);
				for (s = 0; s < n; s++) {
					l = pattern_match_at(p, NULL, v, data, n, s, 0, 1);
					if (l == 0)
						continue;
					found = 0;
					for (k = h.end_min; k <= h.end_max && s + k <= n; k++)
						found |= ends[s + k];
					if (!found || l < h.minlen || l > h.maxlen)
						fprintf(stderr, "%s v%zu at %zu len %u (%u..%u)\n",
							corpus[i].src, v, s, l, h.minlen, h.maxlen);
					assert_true(found);
					assert_true(l >= h.minlen && l <= h.maxlen);
				}
				if (h.exact) {
					for (s = h.minlen; s <= n; s++)
						if (ends[s])
							assert_int_equal(
							    pattern_match_at(p, NULL, v, data, n,
									     s - h.minlen, 0, 1),
							    h.minlen);
				}
			}
			hs_free_scratch(scr);
			scr = NULL;
			hs_free_database(db);
		}
		pattern_free(p);
	}
}

static struct pattern *
roundtrip(const struct pattern *p)
{
	struct wbuf w;
	struct rbuf r;
	struct pattern *q = NULL;

	wbuf_init(&w);
	pattern_save(p, &w);
	assert_int_equal(w.err, 0);
	rbuf_init(&r, w.p, w.len);
	assert_int_equal(pattern_load(&r, &q), 0);
	assert_int_equal(rbuf_left(&r), 0);
	wbuf_free(&w);
	return q;
}

static void
test_save_load(void **state)
{
	static const char data[] = "xaab ab a\nb AB abbbbba";
	struct pattern *p, *q;
	char a[1024], b[1024];
	size_t i;

	(void)state;
	for (i = 0; i < NCORPUS; i++) {
		p = th_compile(corpus[i].kind, corpus[i].src, corpus[i].flags);
		q = roundtrip(p);
		assert_int_equal(pattern_flags(q), pattern_flags(p));
		assert_int_equal(pattern_nvariants(q), pattern_nvariants(p));
		th_matches(p, data, sizeof(data) - 1, a, sizeof(a));
		th_matches(q, data, sizeof(data) - 1, b, sizeof(b));
		assert_string_equal(a, b);
		pattern_free(p);
		pattern_free(q);
	}
}

static void
test_load_damaged(void **state)
{
	struct pattern *p, *q;
	struct wbuf w;
	struct rbuf r;
	uint8_t *buf;
	size_t i, k, len;
	unsigned seed = 7;
	int e;

	(void)state;
	p = th_compile(PATTERN_HEX, "61 ( 62 | 63 [1-2] 64 ) [300-] 65", 0);
	wbuf_init(&w);
	pattern_save(p, &w);
	len = w.len;
	buf = ward_malloc(len);
	assert_non_null(buf);
	/* every truncation fails cleanly */
	for (i = 0; i < len; i++) {
		rbuf_init(&r, w.p, i);
		q = (struct pattern *)1;
		assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
		assert_null(q);
	}
	/* random byte damage never crashes; what loads is usable */
	for (i = 0; i < 3000; i++) {
		memcpy(buf, w.p, len);
		for (k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 8) % len] = (uint8_t)(seed >> 20);
		}
		rbuf_init(&r, buf, len);
		q = NULL;
		e = pattern_load(&r, &q);
		assert_true(e == 0 || e == WARD_EFORMAT);
		if (e == 0) {
			(void)pattern_match_at(q, NULL, 0, (const uint8_t *)"abcde", 5, 0, 0, 1);
			pattern_free(q);
		} else {
			assert_null(q);
		}
	}
	/* wrong version, unknown kind, unknown flags, huge length */
	memcpy(buf, w.p, len);
	buf[0] = 99;
	rbuf_init(&r, buf, len);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	memcpy(buf, w.p, len);
	buf[1] = 7;
	rbuf_init(&r, buf, len);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	memcpy(buf, w.p, len);
	buf[5] = 0x80;
	rbuf_init(&r, buf, len);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	memcpy(buf, w.p, len);
	buf[9] = 0x7f;
	rbuf_init(&r, buf, len);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	ward_free(buf);
	wbuf_free(&w);
	pattern_free(p);
}

static void
test_match_at_bounds(void **state)
{
	struct pattern *p;
	static const uint8_t d[] = "ab";

	(void)state;
	p = th_compile(PATTERN_REGEX, "ab", PATTERN_WIDE);
	assert_int_equal(pattern_match_at(p, NULL, 0, d, 2, 0, 0, 1), 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, d, 2, 2, 0, 1), 0);
	assert_int_equal(pattern_match_at(p, NULL, 5, d, 2, 0, 0, 1), 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, NULL, 0, 0, 0, 1), 0);
	pattern_free(p);
	/* ^ is file offset 0: not at data[0] when base > 0 */
	p = th_compile(PATTERN_REGEX, "^ab", 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, d, 2, 0, 0, 1), 2);
	assert_int_equal(pattern_match_at(p, NULL, 0, d, 2, 0, 100, 1), 0);
	pattern_free(p);
	/* $ needs the end of the file */
	p = th_compile(PATTERN_REGEX, "ab$", 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, d, 2, 0, 0, 1), 2);
	assert_int_equal(pattern_match_at(p, NULL, 0, d, 2, 0, 0, 0), 0);
	pattern_free(p);
}

/* One regexp or text string over data: its matches as th_matches gives. */
struct aw_case {
	enum pattern_kind kind;
	const char *src;
	unsigned flags;
	const char *data;
	size_t n;
	const char *want;
};

#define AW (PATTERN_ASCII | PATTERN_WIDE)
#define AW_DATA(s) s, sizeof(s) - 1
#define AW_W "A\0g\0\x13\0j\0t\0n\0'\0" /* wide "Ag\x13jtn'" */

/*
 * `ascii wide` strings: YARA verifies a regexp from its atom, running the
 * rest as ascii first and as wide only when that fails, so a wide match is
 * lost when the part from the atom on also matches as ascii there.  The
 * expected results are yara 4.2.3's.
 */
static const struct aw_case aw_cases[] = {
    /* atom "'" (quality beats "A"): "'" alone matches ascii in "'\0" */
    {PATTERN_REGEX, "A\\S{4}[n]'", AW, AW_DATA(AW_W), ""},
    {PATTERN_REGEX, "A\\S{4}[n]'", PATTERN_WIDE, AW_DATA(AW_W), "0:14"},
    {PATTERN_REGEX, "A\\S{4}[\\sn]'", AW, AW_DATA(AW_W), ""},
    {PATTERN_REGEX, "a\\S{4}?[r-s\\sn-p]'", AW | PATTERN_NOCASE, AW_DATA(AW_W), ""},
    {PATTERN_REGEX, "A\\S{4}[n].'", AW, AW_DATA(AW_W "'\0"), ""},
    {PATTERN_REGEX, "A\\S{4}[n]'+", AW, AW_DATA(AW_W "'\0"), ""},
    {PATTERN_REGEX, "A\\S{4}[n]'\\x00", AW, AW_DATA(AW_W "\0\0"), ""},
    /* the ascii match elsewhere is still found */
    {PATTERN_REGEX, "A\\S{4}[n]'", AW, AW_DATA(AW_W "Ag\x13jtn'"), "14:7"},
    /* atom "n'": fails as ascii, so wide is tried */
    {PATTERN_REGEX, "A\\S{4}n'", AW, AW_DATA(AW_W), "0:14"},
    {PATTERN_REGEX, "A\\S{4}[n]'{2}", AW, AW_DATA(AW_W "'\0"), "0:16"},
    {PATTERN_REGEX, "A\\S{4}[n]'[x]", AW, AW_DATA(AW_W "x\0"), "0:16"},
    /* no atom after the class: "A" at the start, as before */
    {PATTERN_REGEX, "A\\S{4}?[\\sn]", AW, AW_DATA(AW_W), "0:12"},
    {PATTERN_REGEX, "A\\S{4}[n]'?", AW, AW_DATA(AW_W "'\0"), "0:14"},
    /* a tie goes to the first candidate: "A" before "z" */
    {PATTERN_REGEX, "A\\S{4}[n]z", AW, AW_DATA("A\0g\0\x13\0j\0t\0n\0z\0"), "0:14"},
    /* alternations: one atom per alternative, the worst one counts, and
     * the alternation competes before the run preceding it */
    {PATTERN_REGEX, "(Ab|Cd)\\S{4}[n]'", AW, AW_DATA("A\0b\0g\0\x13\0j\0t\0n\0'\0"), "0:16"},
    {PATTERN_REGEX, "(A|C)\\S{4}[n]'", AW, AW_DATA(AW_W), ""},
    {PATTERN_REGEX, "A\\S{4}[n]('|=)!", AW, AW_DATA(AW_W "!\0"), "0:16"},
    {PATTERN_REGEX, "A\\S{4}[n]'(!|#)", AW, AW_DATA(AW_W "!\0"), ""},
    {PATTERN_REGEX, "A\\S{4}[n]'(!|#)[x]", AW, AW_DATA(AW_W "!\0x\0"), "0:18"},
    /* literals of at most two characters: each form is its own atom, an
     * ascii match refused by fullword does not hide the wide one (see also
     * the text string below) */
    {PATTERN_REGEX, "a\\x00", AW | PATTERN_FULLWORD, AW_DATA("xa\0\0\0"), "1:4"},
    {PATTERN_REGEX, "ab\\x00", AW | PATTERN_FULLWORD, AW_DATA("xab\0\0\0\0\0"), ""},
};

/* Compiles each case and compares its matches with what yara reported. */
static void
run_cases(const struct aw_case *cases, size_t n)
{
	struct pattern *p;
	char got[256];
	size_t i;

	for (i = 0; i < n; i++) {
		const struct aw_case *c = &cases[i];

		p = th_compile(c->kind, c->src, c->flags);
		th_matches(p, c->data, c->n, got, sizeof(got));
		if (strcmp(got, c->want) != 0)
			fprintf(stderr, "case %zu /%s/: got \"%s\" want \"%s\"\n", i, c->src, got,
				c->want);
		assert_string_equal(got, c->want);
		pattern_free(p);
	}
}

static void
test_ascii_wide_atoms(void **state)
{
	struct pattern *p;
	char got[256];

	(void)state;
	run_cases(aw_cases, sizeof(aw_cases) / sizeof(aw_cases[0]));
	/* the text string "\0" */
	p = NULL;
	assert_int_equal(
	    pattern_compile(PATTERN_TEXT, (const uint8_t *)"", 1, AW | PATTERN_FULLWORD, &p, NULL),
	    0);
	th_matches(p, "y\0\0i", 4, got, sizeof(got));
	assert_string_equal(got, "1:2");
	pattern_free(p);
}

/*
 * YARA's entry points (see pattern.c): a regexp without atoms is verified
 * from its root's entry, past a leading x?, and x+ loops back to x's
 * entry, forwards after the atom and backwards before it.  The expected
 * results are yara 4.2.3's.
 */
static const struct aw_case entry_cases[] = {
    {PATTERN_REGEX, "b?[lm]", 0, AW_DATA("m"), ""},
    {PATTERN_REGEX, "b?[lm]", 0, AW_DATA("xbm"), "1:2"},
    {PATTERN_REGEX, "(b?)?[lm]", 0, AW_DATA("m"), ""},
    {PATTERN_REGEX, "q?((xdf).i|\\w\\s|.\\x07?h)?v*[j-mu-w]", PATTERN_NOCASE, AW_DATA("m"), ""},
    /* .? is one instruction: nothing to skip */
    {PATTERN_REGEX, ".?[lm]", 0, AW_DATA("m"), "0:1"},
    /* x{0,2} and x* are entered at their first instruction */
    {PATTERN_REGEX, "b{0,2}[lm]", 0, AW_DATA("m"), "0:1"},
    {PATTERN_REGEX, "(b?[cd]){2}[mn]", 0, AW_DATA("ccm"), ""},
    {PATTERN_REGEX, "(b?[cd]){2}[mn]", 0, AW_DATA("bccm"), "0:4"},
    {PATTERN_REGEX, "(b?[cd])+[mn]", 0, AW_DATA("bccm"), ""},
    {PATTERN_REGEX, "[mn](b?[cd])+[mn]", 0, AW_DATA("mccm"), ""},
    {PATTERN_REGEX, "[mn](b?[cd])+[mn]", 0, AW_DATA("mcbcm"), "0:5"},
    {PATTERN_REGEX, "[mn](b?[cd])*[mn]", 0, AW_DATA("mccm"), "0:4"},
    {PATTERN_REGEX, "[mn](b?[cd]){1,}[mn]", 0, AW_DATA("mccm"), "0:4"},
    /* before the atom "x" the loop is entered backwards */
    {PATTERN_REGEX, "([cd]b?)+x", 0, AW_DATA("cdx"), "1:2"},
    {PATTERN_REGEX, "([cd]b?)+x", 0, AW_DATA("cbdbx"), "0:5,2:3"},
    {PATTERN_REGEX, "(b?[cd])+x", 0, AW_DATA("ccx"), "0:3,1:2"},
};

static void
test_yara_entry_points(void **state)
{
	(void)state;
	run_cases(entry_cases, sizeof(entry_cases) / sizeof(entry_cases[0]));
}

/*
 * The scratch's memo shares verifications between starts: every start must get what
 * it gets without one, over data that hits the atoms often, and a memo
 * moved to other data must forget what it held.
 */
static void
test_memo(void **state)
{
	static const char *const re[] = {"[a-z](ab)+?c", "-(ab|-)+?c", "(abcdefgh|abcdef)x*",
					 "[a-z]+abc",	 "\\w+abc\\b", "a(bc|x)+?"};
	static const unsigned fl[] = {
	    PATTERN_FULLWORD, PATTERN_FULLWORD, 0, PATTERN_WIDE | PATTERN_ASCII,
	    PATTERN_FULLWORD, PATTERN_FULLWORD};
	uint8_t buf[600];
	struct pattern_vm *vm = pattern_vm_new();
	struct pattern *p;
	size_t i, k, v;
	uint32_t a, b;
	unsigned seed = 7;

	(void)state;
	assert_non_null(vm);
	pattern_vm_free(NULL);
	pattern_vm_new_data(NULL);
	for (k = 0; k < sizeof(re) / sizeof(re[0]); k++) {
		p = th_compile(PATTERN_REGEX, re[k], fl[k]);
		for (i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t) "abcdefghx- \0ab--ab"[(seed >> 16) % 19];
		}
		pattern_vm_new_data(vm);
		for (v = 0; v < pattern_nvariants(p); v++) {
			for (i = 0; i < sizeof(buf); i++) {
				a = pattern_match_at(p, NULL, v, buf, sizeof(buf), i, 0, 1);
				b = pattern_match_at(p, vm, v, buf, sizeof(buf), i, 0, 1);
				assert_int_equal(a, b);
			}
		}
		/* other data at the same address, after a reset */
		memset(buf, '-', sizeof(buf));
		pattern_vm_new_data(vm);
		for (i = 0; i < sizeof(buf); i++)
			assert_int_equal(
			    pattern_match_at(p, vm, 0, buf, sizeof(buf), i, 0, 1),
			    pattern_match_at(p, NULL, 0, buf, sizeof(buf), i, 0, 1));
		pattern_free(p);
	}
	/* another base is other data: the memo forgets by itself */
	p = th_compile(PATTERN_REGEX, "(abcdefgh|abcdef)", 0);
	memcpy(buf, "abcdefgh", 8);
	assert_int_equal(pattern_match_at(p, vm, 0, buf, 8, 0, 0, 1), 8);
	memcpy(buf, "abcdefxx", 8);
	assert_int_equal(pattern_match_at(p, vm, 0, buf, 8, 0, 100, 1), 6);
	pattern_free(p);
	pattern_vm_free(vm);
}

static void
test_alloc_failures(void **state)
{
	struct pattern *p;
	unsigned long n, i;
	size_t c;
	int r;

	(void)state;
	for (c = 0; c < NCORPUS; c++) {
		alloc_fail_after(0);
		p = th_compile(corpus[c].kind, corpus[c].src, corpus[c].flags);
		pattern_free(p);
		n = alloc_fail_after(0);
		for (i = 1; i <= n; i++) {
			alloc_fail_after(i);
			p = NULL;
			r = pattern_compile(corpus[c].kind, (const uint8_t *)corpus[c].src,
					    strlen(corpus[c].src), corpus[c].flags, &p, NULL);
			alloc_fail_after(0);
			assert_true(r == 0 || r == WARD_ENOMEM);
			pattern_free(p);
		}
	}
}

/*
 * The anchor is the most selective run, not the longest: 00 00 00 is found
 * millions of times in PE files, 81 EB rarely.  Among runs, those with
 * three distinct rare characters or more are kept as alternatives.
 */
static void
test_anchor_quality(void **state)
{
	struct pattern *p;
	struct pattern_hs h;

	(void)state;
	p = th_compile(PATTERN_HEX,
		       "60 [0-8] 9C [0-8] BB ?? ?? ?? ?? [0-8] 81 EB ?? ?? ?? ?? [0-8] E8 ?? 00 "
		       "00 00 [0-8] 58 [0-8] 2B C3",
		       0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x81\\xeb");
	assert_int_equal(pattern_nanchors(p, 0), 1);
	pattern_free(p);
	/* No run of three: the whole string, as before. */
	p = th_compile(PATTERN_HEX, "81 EB [0-8] 2B C3", 0);
	pattern_expr(p, 0, &h);
	assert_int_equal(pattern_nanchors(p, 0), 1);
	assert_non_null(strstr(h.expr, "{0,8}"));
	pattern_free(p);
	/* A key and a value: the key (more distinct characters) first, the
	 * value kept as an alternative, with its own ends. */
	p = th_compile(PATTERN_HEX, "41 42 43 44 45 46 [1-8] 31 2E 32 2E 33", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x41\\x42\\x43\\x44\\x45\\x46");
	assert_int_equal(h.end_min, 6);
	assert_int_equal(h.end_max, 6);
	assert_int_equal(pattern_nanchors(p, 0), 2);
	pattern_expr_anchor(p, 0, 1, &h);
	assert_string_equal(h.expr, "\\x31\\x2e\\x32\\x2e\\x33");
	assert_int_equal(h.end_min, 12);
	assert_int_equal(h.end_max, 19);
	assert_int_equal(h.minlen, 12);
	pattern_free(p);
}

/* Every match of p in data passes the checks of its anchor's neighbours
 * (an anchor at a fixed offset from the start). */
static void
assert_ctx_holds(const struct pattern *p, const struct pattern_hs *h, const uint8_t *data,
		 size_t n)
{
	size_t st, to, k, found = 0;

	assert_int_equal(h->end_min, h->end_max);
	for (st = 0; st < n; st++) {
		if (pattern_match_at(p, NULL, 0, data, n, st, 0, 1) == 0)
			continue;
		found++;
		to = st + h->end_min;
		for (k = 0; k < h->nctx; k++)
			assert_int_equal(data[to + (size_t)(ptrdiff_t)h->ctx[k].off] & h->ctx[k].mask,
					 h->ctx[k].val);
	}
	assert_true(found > 0);
}

/*
 * An anchor's neighbours at fixed distances are checked before its starts
 * are verified: exact bytes and nibbles, after and before it, the most
 * telling first; a wildcard tells nothing and a jump ends them.
 */
static void
test_anchor_context(void **state)
{
	static const uint8_t fwd[] = "\x00\x85\xc0\x74\x11\xc7\x8a\x22\x00\x99\x98\x41\x42";
	static const uint8_t back[] = "\x47\x8b\x05\x01\x02\x03\x04\x48\x83\xc0\x01";
	struct pattern *p;
	struct pattern_hs h;

	(void)state;
	p = th_compile(PATTERN_HEX, "85 C0 74 ?? C7 8? ?? 00 [2-4] 41 42", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x85\\xc0\\x74");
	assert_int_equal(h.nctx, 3);
	assert_int_equal(h.ctx[0].off, 1); /* C7: exact and rare */
	assert_int_equal(h.ctx[0].mask, 0xff);
	assert_int_equal(h.ctx[0].val, 0xc7);
	assert_int_equal(h.ctx[1].off, 4); /* 00: exact */
	assert_int_equal(h.ctx[1].val, 0);
	assert_int_equal(h.ctx[2].off, 2); /* 8?: a nibble */
	assert_int_equal(h.ctx[2].mask, 0xf0);
	assert_int_equal(h.ctx[2].val, 0x80);
	assert_ctx_holds(p, &h, fwd, sizeof(fwd) - 1);
	pattern_free(p);

	p = th_compile(PATTERN_HEX, "4? 8B 05 ?? ?? ?? ?? 48 83 C0 01", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x48\\x83\\xc0\\x01");
	assert_int_equal(h.nctx, 3);
	assert_int_equal(h.ctx[0].off, -10); /* 8B */
	assert_int_equal(h.ctx[1].off, -9);  /* 05 */
	assert_int_equal(h.ctx[2].off, -11); /* 4? */
	assert_int_equal(h.ctx[2].mask, 0xf0);
	assert_ctx_holds(p, &h, back, sizeof(back) - 1);
	pattern_free(p);

	/* a jump next to the run: nothing to check */
	p = th_compile(PATTERN_HEX, "E8 [4-16] 89 C6 9A [4-24] 8D", 0);
	pattern_expr(p, 0, &h);
	assert_string_equal(h.expr, "\\x89\\xc6\\x9a");
	assert_int_equal(h.nctx, 0);
	pattern_free(p);
}

/*
 * Strings that share their anchor with many others look for a rarer run;
 * the choice is the same each time for the same patterns.
 */
static void
test_choose_anchors(void **state)
{
	enum { N = 20 };
	struct pattern *p[N + 1];
	const struct pattern *pats[N + 1];
	uint32_t vars[N + 1] = {0}, choice[N + 1], again[N + 1];
	char src[128];
	size_t i, moved = 0;

	(void)state;
	for (i = 0; i < N; i++) {
		snprintf(src, sizeof(src), "41 42 43 44 45 46 [1-8] 3%zu 2E 3%zu 2E 3%zu", i % 10,
			 i / 10, i % 7);
		pats[i] = p[i] = th_compile(PATTERN_HEX, src, 0);
	}
	/* One without alternatives keeps its anchor. */
	pats[N] = p[N] = th_compile(PATTERN_HEX, "41 42 43 44 45 46 [1-8] 00 00", 0);
	assert_int_equal(pattern_choose_anchors(pats, vars, N + 1, choice), 0);
	for (i = 0; i < N; i++)
		moved += choice[i] != 0;
	/* All but the few the threshold lets share the key. */
	assert_true(moved >= N - 8);
	assert_int_equal(choice[N], 0);
	assert_int_equal(pattern_choose_anchors(pats, vars, N + 1, again), 0);
	assert_memory_equal(choice, again, sizeof(choice));
	for (i = 0; i <= N; i++)
		pattern_free(p[i]);
}

/* The characters a match can begin with: what the matcher checks before
 * verifying a start. */
static void
test_first_chars(void **state)
{
	static const struct {
		enum pattern_kind kind;
		const char *src;
		unsigned flags;
		const char *first; /* NULL: any character */
	} cases[] = {
	    {PATTERN_HEX, "89 [1-16] FF 15 41 42 43", 0, "\x89"},
	    {PATTERN_HEX, "( 61 | 62 ) 63 64 65", 0, "ab"},
	    {PATTERN_HEX, "?? 63 64 65", 0, NULL},
	    {PATTERN_REGEX, "a?bcd", 0, "ab"},
	    {PATTERN_REGEX, "A[B ]cd", PATTERN_NOCASE, "Aa"},
	    {PATTERN_REGEX, "\\bxyz", PATTERN_WIDE, "x"},
	    {PATTERN_REGEX, ".bcd", PATTERN_DOTALL, NULL},
	    {PATTERN_REGEX, "b*", 0, NULL},
	    {PATTERN_TEXT, "abc", 0, NULL},
	};
	uint8_t set[32];
	size_t i, c;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pattern *p = th_compile(cases[i].kind, cases[i].src, cases[i].flags);
		int r = pattern_first_chars(p, set);

		assert_int_equal(r, cases[i].first != NULL);
		for (c = 0; r && c < 256; c++)
			assert_int_equal((set[c >> 3] >> (c & 7)) & 1,
					 c != 0 && strchr(cases[i].first, (int)c) != NULL);
		pattern_free(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_errors),
	    cmocka_unit_test(test_expr_fields),
	    cmocka_unit_test(test_hs_compile_all),
	    cmocka_unit_test(test_hs_differential),
	    cmocka_unit_test(test_save_load),
	    cmocka_unit_test(test_load_damaged),
	    cmocka_unit_test(test_match_at_bounds),
	    cmocka_unit_test(test_ascii_wide_atoms),
	    cmocka_unit_test(test_yara_entry_points),
	    cmocka_unit_test(test_memo),
	    cmocka_unit_test(test_alloc_failures),
	    cmocka_unit_test(test_anchor_quality),
	    cmocka_unit_test(test_anchor_context),
	    cmocka_unit_test(test_choose_anchors),
	    cmocka_unit_test(test_first_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

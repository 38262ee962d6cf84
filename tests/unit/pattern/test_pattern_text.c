/*
 * Unit tests of lib/pattern/pattern_text.c: the xor and base64 modifiers.
 * Expected matches were taken from `yara -s -L` (4.2.3) on the same bytes.
 */
#include <hs/hs.h>
#include <stdlib.h>

#include "test_helpers.h"
#include "util/alloc.h"
#include "util/buf.h"

static const uint8_t alt_abc[] =
    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`";

static struct pattern *
mods_compile(const char *src, unsigned flags, unsigned lo, unsigned hi, const uint8_t *abc)
{
	struct pattern_mods m = {flags, (uint8_t)lo, (uint8_t)hi, abc};
	struct pattern *p = NULL;
	struct ward_diag d;
	int r;

	memset(&d, 0, sizeof(d));
	r = pattern_compile_mods(PATTERN_TEXT, (const uint8_t *)src, strlen(src), &m, &p, &d);
	if (r != 0)
		fprintf(stderr, "compile %s failed: %d %s\n", src, r, d.msg);
	assert_int_equal(r, 0);
	return p;
}

static int
on_end(unsigned id, unsigned long long from, unsigned long long to, unsigned fl, void *ctx)
{
	uint8_t *ends = ctx;

	(void)id;
	(void)from;
	(void)fl;
	ends[to] = 1;
	return 0;
}

/* th_matches, and every match is also found by Vectorscan: its variant's
 * expression reports S + end_min (== end_max for these patterns), in the
 * bytes or in their deltas. */
static void
matches_hs(const struct pattern *p, const uint8_t *data, size_t n, char *out, size_t outlen)
{
	hs_database_t *db = NULL;
	hs_compile_error_t *ce = NULL;
	hs_scratch_t *sc = NULL;
	struct pattern_hs h;
	uint8_t *ends = calloc(n + 1, 1);
	size_t v, i;
	uint32_t l;

	assert_non_null(ends);
	th_matches(p, data, n, out, outlen);
	for (v = 0; v < pattern_nvariants(p); v++) {
		pattern_expr(p, v, &h);
		if (hs_compile(h.expr, h.hs_flags, HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
			fprintf(stderr, "hs: %s\n", ce->message);
			fail();
		}
		assert_int_equal(hs_alloc_scratch(db, &sc), HS_SUCCESS);
		memset(ends, 0, n + 1);
		if (h.xor_delta) {
			/* in the XOR of neighbouring bytes; an end E there is E + 1 */
			uint8_t *dd = malloc(n);

			assert_non_null(dd);
			for (i = 0; i + 1 < n; i++)
				dd[i] = data[i] ^ data[i + 1];
			assert_int_equal(hs_scan(db, (const char *)dd, (unsigned)(n - 1), 0, sc,
						 on_end, ends + 1),
					 HS_SUCCESS);
			free(dd);
		} else {
			assert_int_equal(
			    hs_scan(db, (const char *)data, (unsigned)n, 0, sc, on_end, ends),
			    HS_SUCCESS);
		}
		for (i = 0; i < n; i++) {
			l = pattern_match_at(p, NULL, v, data, n, i, 0, 1);
			if (l == 0)
				continue;
			assert_int_equal(l, h.minlen);
			assert_true(i + h.end_min <= n && ends[i + h.end_min]);
		}
		hs_free_scratch(sc);
		sc = NULL;
		hs_free_database(db);
	}
	free(ends);
}

/* "hello" XORed with 0, 4, 7, wide with 4 and 0, widened then XORed, and
 * XORed with 5 after a word character. */
static const uint8_t xd[] = "..hello lahhk obkkh l\x04"
			    "a\x04h\x04h\x04k\x04.h\0e\0l\0l\0o\0!l\0a\0h\0h\0k\0am`iij ";

static void
test_xor_matches(void **state)
{
	struct pattern *p;
	char got[512];
	size_t n = sizeof(xd) - 1;

	(void)state;
	p = mods_compile("hello", PATTERN_XOR, 0, 255, NULL);
	matches_hs(p, xd, n, got, sizeof(got));
	assert_string_equal(got, "2:5,8:5,14:5,53:5");
	pattern_free(p);
	p = mods_compile("hello", PATTERN_XOR | PATTERN_WIDE, 0, 255, NULL);
	matches_hs(p, xd, n, got, sizeof(got));
	assert_string_equal(got, "20:10,31:10");
	pattern_free(p);
	p = mods_compile("hello", PATTERN_XOR | PATTERN_WIDE | PATTERN_ASCII, 0, 255, NULL);
	matches_hs(p, xd, n, got, sizeof(got));
	assert_string_equal(got, "2:5,8:5,14:5,20:10,31:10,53:5");
	pattern_free(p);
	p = mods_compile("hello", PATTERN_XOR, 3, 5, NULL);
	matches_hs(p, xd, n, got, sizeof(got));
	assert_string_equal(got, "8:5,53:5");
	pattern_free(p);
	p = mods_compile("hello", PATTERN_XOR | PATTERN_FULLWORD | PATTERN_WIDE | PATTERN_ASCII, 0,
			 255, NULL);
	matches_hs(p, xd, n, got, sizeof(got));
	assert_string_equal(got, "2:5,8:5,14:5,20:10,31:10");
	pattern_free(p);
}

/* A long wide string, found through its deltas and verified: every key,
 * the range, the zero bytes XORed too. */
static void
test_xor_long(void **state)
{
	static const char s[] = "This program cannot be run in DOS mode";
	uint8_t data[256];
	struct pattern *p;
	char got[512], want[64];
	size_t n = strlen(s), i;
	unsigned k;

	(void)state;
	for (k = 0; k < 256; k += 51) {
		memset(data, 'x', sizeof(data));
		for (i = 0; i < n; i++)
			data[10 + 2 * i] = (uint8_t)(s[i] ^ k), data[11 + 2 * i] = (uint8_t)k;
		data[11 + 2 * 20] ^= 1; /* one damaged zero byte: no wide match */
		p = mods_compile(s, PATTERN_XOR | PATTERN_WIDE, 0, 255, NULL);
		matches_hs(p, data, sizeof(data), got, sizeof(got));
		assert_string_equal(got, "");
		pattern_free(p);
		data[11 + 2 * 20] ^= 1;
		p = mods_compile(s, PATTERN_XOR | PATTERN_WIDE, 0, 255, NULL);
		matches_hs(p, data, sizeof(data), got, sizeof(got));
		snprintf(want, sizeof(want), "10:%zu", 2 * n);
		assert_string_equal(got, want);
		pattern_free(p);
		p = mods_compile(s, PATTERN_XOR | PATTERN_WIDE, k == 0 ? 1 : 0,
				 k == 0 ? 255 : k - 1, NULL);
		matches_hs(p, data, sizeof(data), got, sizeof(got));
		assert_string_equal(got, ""); /* the key is outside the range */
		pattern_free(p);
	}
}

/* base64 of "Qhello", of "QQhello!", widened base64 of "hello", base64 of
 * wide "hello", and base64 of "hello" in another alphabet. */
static const uint8_t bd[] = "xxUWhlbGxv|UVFoZWxsbyE=|a\0G\0V\0s\0b\0G\0"
			    "8\0=\0|aABlAGwAbABvAA==|;'6M<']=|";

static void
test_base64_matches(void **state)
{
	static const struct {
		unsigned flags;
		const uint8_t *abc;
		const char *want;
	} c[] = {
	    {PATTERN_BASE64, NULL, "4:6,14:6"},
	    {PATTERN_BASE64WIDE, NULL, "24:12"},
	    {PATTERN_BASE64 | PATTERN_WIDE, NULL, "41:13"},
	    {PATTERN_BASE64, alt_abc, "58:6"},
	    {PATTERN_BASE64 | PATTERN_BASE64WIDE | PATTERN_ASCII | PATTERN_WIDE, NULL,
	     "4:6,14:6,24:12,41:13"},
	};
	struct pattern *p;
	char got[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		p = mods_compile("hello", c[i].flags, 0, 0, c[i].abc);
		assert_int_equal(pattern_nvariants(p), 1);
		th_matches(p, bd, sizeof(bd) - 1, got, sizeof(got));
		assert_string_equal(got, c[i].want);
		pattern_free(p);
	}
	/* two encodings match at 8: yara keeps the one whose atom it finds
	 * first (the longer one here), the shorter one alone at 10 */
	{
		static const uint8_t abc[] =
		    "\x7e\x21\x6c\x4f\x29\x68\x5f\x66\x3d\x23\x30\x3c\x7a\x4b\x67\x6d"
		    "\x63\x32\x4d\x6b\x47\x3e\x5c\x62\x7d\x7b\x61\x3a\x74\x5d\x35\x59"
		    "\x44\x64\x76\x2b\x48\x58\x6e\x38\x7c\x37\x26\x4c\x31\x24\x4a\x6a"
		    "\x22\x36\x2e\x5a\x25\x27\x78\x5e\x39\x4e\x52\x6f\x54\x72\x42\x3f";
		static const uint8_t d[] = "\x6f\x4a\x2b\x3d\x37\x00\x44\x00\x7e\x00\x7e\x00"
					   "\x7e\x00\x63\x00\x7e\x00\x3d\x00";
		struct pattern_mods m = {
		    PATTERN_BASE64 | PATTERN_BASE64WIDE | PATTERN_WIDE | PATTERN_ASCII, 0, 0, abc};
		struct ward_diag dg;

		p = NULL;
		assert_int_equal(
		    pattern_compile_mods(PATTERN_TEXT, (const uint8_t *)"\0\1", 2, &m, &p, &dg), 0);
		th_matches(p, d, sizeof(d) - 1, got, sizeof(got));
		assert_string_equal(got, "8:8,10:4");
		pattern_free(p);
	}
	/* a one-byte string: the middle alignment has nothing left (yara) */
	p = mods_compile("a", PATTERN_BASE64, 0, 0, NULL);
	th_matches(p, (const uint8_t *)"xxYzzhqqQW", 10, got, sizeof(got));
	assert_string_equal(got, "2:1,5:1");
	pattern_free(p);
}

static void
test_refusals(void **state)
{
	static const struct {
		enum pattern_kind kind;
		unsigned flags;
		unsigned lo, hi;
		const char *msg;
	} c[] = {
	    {PATTERN_TEXT, PATTERN_XOR | PATTERN_NOCASE, 0, 255,
	     "invalid modifier combination: xor nocase"},
	    {PATTERN_TEXT, PATTERN_BASE64 | PATTERN_NOCASE | PATTERN_XOR, 0, 255,
	     "invalid modifier combination: xor nocase"},
	    {PATTERN_TEXT, PATTERN_BASE64 | PATTERN_FULLWORD | PATTERN_XOR, 0, 255,
	     "invalid modifier combination: base64 fullword"},
	    {PATTERN_TEXT, PATTERN_BASE64WIDE | PATTERN_XOR, 0, 255,
	     "invalid modifier combination: base64wide xor"},
	    {PATTERN_TEXT, PATTERN_BASE64WIDE | PATTERN_NOCASE, 0, 255,
	     "invalid modifier combination: base64wide nocase"},
	    {PATTERN_TEXT, PATTERN_XOR, 9, 8, "xor lower bound exceeds upper bound"},
	    {PATTERN_HEX, PATTERN_XOR, 0, 255, "unexpected keyword \"xor\""},
	    {PATTERN_REGEX, PATTERN_BASE64WIDE, 0, 255, "unexpected keyword \"base64wide\""},
	};
	struct pattern *p;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct pattern_mods m = {c[i].flags, (uint8_t)c[i].lo, (uint8_t)c[i].hi, NULL};

		memset(&d, 0, sizeof(d));
		p = (struct pattern *)1;
		assert_int_equal(
		    pattern_compile_mods(c[i].kind, (const uint8_t *)"41", 2, &m, &p, &d),
		    WARD_ESYNTAX);
		assert_null(p);
		if (strstr(d.msg, c[i].msg) == NULL)
			fail_msg("case %zu: %s", i, d.msg);
	}
}

static struct pattern *
roundtrip(const struct pattern *p)
{
	struct pattern *q = NULL;
	struct wbuf w;
	struct rbuf r;

	wbuf_init(&w);
	pattern_save(p, &w);
	assert_int_equal(w.err, 0);
	rbuf_init(&r, w.p, w.len);
	assert_int_equal(pattern_load(&r, &q), 0);
	assert_int_equal(rbuf_left(&r), 0);
	wbuf_free(&w);
	return q;
}

/* Keys and alphabet survive save/load; damaged ones are refused. */
static void
test_save_load(void **state)
{
	struct pattern *p, *q;
	struct wbuf w;
	struct rbuf r;
	char a[512], b[512];
	size_t len;

	(void)state;
	p = mods_compile("hello", PATTERN_XOR | PATTERN_WIDE | PATTERN_ASCII, 3, 5, NULL);
	q = roundtrip(p);
	th_matches(p, xd, sizeof(xd) - 1, a, sizeof(a));
	th_matches(q, xd, sizeof(xd) - 1, b, sizeof(b));
	assert_string_equal(a, "8:5,20:10,53:5");
	assert_string_equal(a, b);
	pattern_free(q);
	/* xor_min > xor_max on load */
	wbuf_init(&w);
	pattern_save(p, &w);
	len = w.len;
	w.p[len - 3] = 200;
	rbuf_init(&r, w.p, len);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	assert_null(q);
	/* version 1 had no xor */
	w.p[len - 3] = 3;
	w.p[0] = 1;
	rbuf_init(&r, w.p, len - 3);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	wbuf_free(&w);
	pattern_free(p);

	p = mods_compile("hello", PATTERN_BASE64, 0, 0, alt_abc);
	q = roundtrip(p);
	th_matches(p, bd, sizeof(bd) - 1, a, sizeof(a));
	th_matches(q, bd, sizeof(bd) - 1, b, sizeof(b));
	assert_string_equal(a, "58:6");
	assert_string_equal(a, b);
	pattern_free(q);
	/* an alphabet marker other than 0 or 1 */
	wbuf_init(&w);
	pattern_save(p, &w);
	w.p[w.len - 65] = 2;
	rbuf_init(&r, w.p, w.len);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	/* cut inside the alphabet */
	w.p[w.len - 65] = 1;
	rbuf_init(&r, w.p, w.len - 1);
	assert_int_equal(pattern_load(&r, &q), WARD_EFORMAT);
	wbuf_free(&w);
	pattern_free(p);
}

/* The largest string in every form compiles or is refused with a limit,
 * and every allocation failure is clean. */
static void
test_limits_and_alloc(void **state)
{
	struct pattern_mods m = {PATTERN_BASE64 | PATTERN_BASE64WIDE | PATTERN_WIDE | PATTERN_ASCII,
				 0, 255, NULL};
	char *big = malloc(4097);
	struct pattern *p = NULL;
	struct ward_diag d;
	unsigned long n;
	int r;

	(void)state;
	assert_non_null(big);
	memset(big, 'q', 4096);
	big[4096] = 0;
	r = pattern_compile_mods(PATTERN_TEXT, (const uint8_t *)big, 4096, &m, &p, &d);
	assert_true(r == 0 || r == WARD_ELIMIT);
	pattern_free(p);
	p = mods_compile(big, PATTERN_XOR | PATTERN_WIDE | PATTERN_ASCII, 0, 255, NULL);
	pattern_free(p);
	free(big);
	for (n = 1;; n++) {
		alloc_fail_after(n);
		p = NULL;
		r = pattern_compile_mods(PATTERN_TEXT, (const uint8_t *)"hello", 5, &m, &p, &d);
		alloc_fail_after(0);
		if (r == 0)
			break;
		assert_int_equal(r, WARD_ENOMEM);
		assert_null(p);
	}
	pattern_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xor_matches),	   cmocka_unit_test(test_xor_long),
	    cmocka_unit_test(test_base64_matches), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_save_load),	   cmocka_unit_test(test_limits_and_alloc),
	};

	(void)th_check; /* shared helpers this file does not need */
	(void)th_error;
	(void)th_compile;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

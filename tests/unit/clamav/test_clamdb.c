/*
 * Unit tests of lib/clamav (clamdb): each hex syntax element, offset kind,
 * target type, hash format, logical expression form and refusal reason,
 * checked by what the converted content matches on buffers (through the
 * real compiler and matcher) and by the text written; the .cvd signature
 * check with a real ClamAV-signed header; containers built here; limits,
 * hostile lines and allocation failures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "clamav/clamdb.h"
#include "clamav/clamdb_int.h"
#include "crypto/digest.h"
#include "rules/compile.h"
#include "scan/hashsig.h"
#include "scan/matcher.h"
#include "util/alloc.h"
#include "util/limits.h"

int clamdb_cvd_dsig_check(const uint8_t *dsig, size_t n, const uint8_t md5[16], const char *nstr,
			  const char *estr);

struct hits {
	char names[2048];
	const struct ruleset *rs;
};

static int
on_hit(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct hits *h = arg;
	size_t n = strlen(h->names);

	(void)s;
	snprintf(h->names + n, sizeof(h->names) - n, "%s%s", n > 0 ? "," : "",
		 rule == UINT32_MAX ? hash_name : ruleset_report_name(&h->rs->rules[rule]));
	return 0;
}

/* Converts db (of kind), scans data with it, and returns the report names
 * matched, comma-separated (static buffer); st gets the counts. */
static const char *
scan_db(enum clamdb_kind kind, const char *db, const void *data, size_t len,
	struct clamdb_stats *st)
{
	static struct hits h;
	struct clamdb *c = NULL;
	struct rules_compiler *rc = NULL;
	struct ruleset *rs = NULL;
	struct hashsig_set *hs = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	struct ward_diag d;
	const char *ht, *nl;
	size_t hn;
	int line = 1;

	memset(&h, 0, sizeof(h));
	diag_clear(&d);
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add(c, kind, "t", (const uint8_t *)db, strlen(db), &d), 0);
	assert_int_equal(rules_compiler_new(&rc), 0);
	rules_compiler_skip_unsupported(rc);
	assert_int_equal(clamdb_finish(c, rc), 0);
	assert_int_equal(rules_compiler_finish(rc, &rs, &d), 0);
	ht = clamdb_hashes(c, &hn);
	if (hn > 0) {
		assert_int_equal(hashsig_new(&hs), 0);
		for (; *ht != '\0'; ht = nl + 1, line++) {
			nl = strchr(ht, '\n');
			assert_non_null(nl);
			assert_int_equal(hashsig_add_line(hs, "t", line, ht, (size_t)(nl - ht), &d),
					 0);
		}
		assert_int_equal(hashsig_finish(hs), 0);
	}
	if (st != NULL)
		clamdb_get_stats(c, st);
	assert_int_equal(matcher_new(rs, hs, &m, &d), 0);
	assert_int_equal(matcher_scratch_new(m, &s), 0);
	h.rs = rs;
	assert_int_equal(matcher_scan_buf(m, s, data, len, on_hit, &h), 0);
	matcher_scratch_free(s);
	matcher_free(m);
	ruleset_free(rs);
	hashsig_free(hs);
	rules_compiler_free(rc);
	clamdb_free(c);
	return h.names;
}

static const char *
scan_s(enum clamdb_kind kind, const char *db, const char *data)
{
	return scan_db(kind, db, data, strlen(data), NULL);
}

/* Converts one hex signature; returns the error and the YARA string. */
static int
hex(const char *sig, unsigned mods, char *out, size_t outlen, char *why)
{
	struct clamdb_hexinfo hi;
	struct wbuf w, wz;
	int r;

	wbuf_init(&w);
	wbuf_init(&wz);
	r = clamdb_hex_convert((const uint8_t *)sig, strlen(sig), mods, &w, &wz, &hi, why, 256);
	snprintf(out, outlen, "%.*s", (int)w.len, w.p != NULL ? (const char *)w.p : "");
	wbuf_free(&w);
	wbuf_free(&wz);
	return r;
}

static void
expect_hex(const char *sig, const char *want)
{
	char out[1024], why[256];

	assert_int_equal(hex(sig, 0, out, sizeof(out), why), 0);
	assert_string_equal(out, want);
}

static void
expect_hex_err(const char *sig, int err, const char *want_why)
{
	char out[1024], why[256];

	assert_int_equal(hex(sig, 0, out, sizeof(out), why), err);
	assert_non_null(strstr(why, want_why));
}

static void
test_hex_syntax(void **state)
{
	(void)state;
	expect_hex("aabbcc", "{ AA BB CC }");
	expect_hex("aa??bb", "{ AA ?? BB }");
	expect_hex("aa4?b?", "{ AA 4? B? }");
	expect_hex("aa?4bb", "{ AA ?4 BB }");
	expect_hex("aabb*ccdd", "{ AA BB [0-] CC DD }");
	expect_hex("aabb{3}ccdd", "{ AA BB [3] CC DD }");
	expect_hex("aabb{-3}ccdd", "{ AA BB [0-3] CC DD }");
	expect_hex("aabb{3-}ccdd", "{ AA BB [3-] CC DD }");
	expect_hex("aabb{3-5}ccdd", "{ AA BB [3-5] CC DD }");
	expect_hex("aa[1-4]bbccdd", "{ AA [1-4] BB CC DD }");
	expect_hex("aa[3]bbccdd", "{ AA [3] BB CC DD }");
	expect_hex("aabbcc[0-2]dd", "{ AA BB CC [0-2] DD }");
	expect_hex("aa[1-2]bbcc[0-2]dd", "{ AA [1-2] BB CC [0-2] DD }");
	/* a negated anchor inside is a byte not of its class */
	expect_hex("aabb!(W)ccdd",
		   "{ AA BB ( 30 | 31 | 32 | 33 | 34 | 35 | 36 | 37 | 38 | 39 | 41 "
		   "| 42 | 43 | 44 | 45 | 46 | 47 | 48 | 49 | 4A | 4B | 4C | 4D | 4E "
		   "| 4F | 50 | 51 | 52 | 53 | 54 | 55 | 56 | 57 | 58 | 59 | 5A | 61 "
		   "| 62 | 63 | 64 | 65 | 66 | 67 | 68 | 69 | 6A | 6B | 6C | 6D | 6E "
		   "| 6F | 70 | 71 | 72 | 73 | 74 | 75 | 76 | 77 | 78 | 79 | 7A ) CC "
		   "DD }");
	/* a right (L) folds its byte in (the file's end is a second string) */
	expect_hex("aabb(L)", "{ AA BB ( 0A | 0D 0A ) }");
	expect_hex("aabb(cc|dd)ee", "{ AA BB ( CC | DD ) EE }");
	expect_hex("aabb(ccdd|eeff)", "{ AA BB ( CC DD | EE FF ) }");
	expect_hex("aabb(c?dd|eeff11)", "{ AA BB ( C? DD | EE FF 11 ) }");
	expect_hex("aabb!(cc|dd)", "/\\xaa\\xbb[^\\xcc\\xdd]/s");
	/* anchors inside a part: a byte of a class (CR LF for (L)) */
	expect_hex("aabb(L)ccdd", "{ AA BB ( 0A | 0D 0A ) CC DD }");
	expect_hex("aabb(B)ccdd", "{ AA BB ( 0A | 0D | 20 | 22 | 27 | 2D | 2E | 2F | 3C | 3D | 3E "
				  "| 40 | 5F ) CC DD }");
	expect_hex("aabb!(cc|dd)(L)ee", "/\\xaa\\xbb[^\\xcc\\xdd](\\n|\\r\\n)\\xee/s");
	/* a negated alternative where a regexp cannot go (an unbounded
	 * jump): every other byte, in hex */
	{
		static char out[32768];
		char why[256];

		assert_int_equal(hex("aabb!(cc|dd)*eeff", 0, out, sizeof(out), why), 0);
		assert_non_null(strstr(out, "{ AA BB ( 00 | 01 | "));
		assert_non_null(strstr(out, "| CB | CD | CE | "));
		assert_non_null(strstr(out, "| DC | DE | "));
		assert_null(strstr(out, "CC"));
		assert_non_null(strstr(out, "| FF ) [0-] EE FF }"));
		assert_int_equal(hex("aabb!(ccdd|ccee)*eeff", 0, out, sizeof(out), why), 0);
		assert_non_null(strstr(out, "| CB ?? | CD ?? | "));
		assert_non_null(strstr(out, "| CC DC | CC DE | CC DF | "));
		assert_non_null(strstr(out, "| CC ED | CC EF | "));
	}
	/* ::i on a signature too long for a regexp: both cases in hex */
	{
		char out[1024], why[256];

		assert_int_equal(hex("4142??"
				     "(43|4d4e)*6162",
				     CLAMDB_MOD_NOCASE, out, sizeof(out), why),
				 0);
		assert_string_equal(out, "{ ( 41 | 61 ) ( 42 | 62 ) ?? ( ( 43 | 63 ) | ( 4D | 6D ) "
					 "( 4E | 6E ) ) [0-] ( 41 | 61 ) ( 42 | 62 ) }");
	}
	/* multi-byte negation: what is neither ccdd nor ccee */
	expect_hex("aabb!(ccdd|ccee)", "/\\xaa\\xbb([^\\xcc].{1}|\\xcc[^\\xdd\\xee])/s");
}

static void
test_hex_refused(void **state)
{
	(void)state;
	expect_hex_err("aabb*(W)ccdd", WARD_EUNSUPPORTED, "anchor (W) beside a range");
	expect_hex_err("aabb(L){200}ccdd", WARD_EUNSUPPORTED, "anchor (L) beside a range");
	expect_hex_err("aabb!(L)??cc", WARD_EUNSUPPORTED, "!(L) before anything");
	/* [n-m] needs one byte alone on a side, as libclamav's cli_ac_addsig */
	expect_hex_err("aabbcc[1-2]ddeeff", WARD_ESYNTAX, "a single byte on one side");
	expect_hex_err("(B)aa[1-2]bbcc", WARD_ESYNTAX, "a single byte on one side");
	expect_hex_err("aa[1-2]bb[1-2]cc[1-2]dd", WARD_ESYNTAX, "a single byte on one side");
	expect_hex_err("aa[-2]bbcc", WARD_ESYNTAX, "[n-m] needs n");
	expect_hex_err("aa[2-]bbcc", WARD_ESYNTAX, "[n-m] needs n");
	expect_hex_err("aabb(cc{2}|dd)", WARD_EUNSUPPORTED, "ranges or groups inside");
	expect_hex_err("aabb!(cc|dd)*eeff", 0, ""); /* spelt out in hex: see test_hex_syntax */
	/* malformed: ClamAV refuses the database too */
	expect_hex_err("", WARD_ESYNTAX, "empty");
	expect_hex_err("aabbz", WARD_ESYNTAX, "invalid character 'z'");
	expect_hex_err("aabbc", WARD_ESYNTAX, "invalid character 'c'");
	expect_hex_err("*aabb", WARD_ESYNTAX, "cannot start or end with a range");
	expect_hex_err("aabb{5-3}cc", WARD_ESYNTAX, "backwards");
	expect_hex_err("aabb{x}ccdd", WARD_ESYNTAX, "malformed range");
	expect_hex_err("aa[1-40]bbcc", WARD_ESYNTAX, "m <= 32");
	expect_hex_err("aabb(cc|dd", WARD_ESYNTAX, "unterminated");
	expect_hex_err("aabb(cc|)", WARD_ESYNTAX, "empty alternative");
	expect_hex_err("aabb!(cc|ddee)", WARD_ESYNTAX, "one length");
	expect_hex_err("aabb!(c?|dd)", WARD_ESYNTAX, "wildcards in a negated");
	expect_hex_err("aa*bbcc", WARD_ESYNTAX, "shorter than 2 bytes");
	expect_hex_err("aabb!(00|01|02|03|04|05|06|07|08|09|0a|0b|0c|0d|0e|0f)", 0, "");
}

static void
test_hex_matches(void **state)
{
	const char *db = "Plain:0:*:68656c6c6f\n"
			 "Wild:0:*:68656c??6f20\n"
			 "NibHi:0:*:68656c6c6?20\n"
			 "NibLo:0:*:68656c6c?f20\n"
			 "Star:0:*:68656c6c*646f6e65\n"
			 "Jump:0:*:6865{2}6f20\n"
			 "JumpMax:0:*:6865{-2}6c6f20\n"
			 "JumpMin:0:*:6865{10-}6f6e65\n"
			 "JumpRange:0:*:6865{1-2}6f20\n"
			 "Alt:0:*:68(65|61)6c6c6f\n"
			 "NAlt:0:*:68!(61|62)6c6c6f\n"
			 "NAltMiss:0:*:68!(65|62)6c6c6f\n"
			 "NAlt2:0:*:6865!(6c6c|6c6d)6f\n"
			 "Missing:0:*:646f6e6521\n"
			 "AnchorW:0:*:68656c6c6f(W)776f726c64\n"
			 "AnchorWMiss:0:*:68656c6c(W)6f20776f\n"
			 "AnchorB:0:*:776f726c642c(B)646f6e65\n";

	(void)state;
	assert_string_equal(scan_s(CLAMDB_NDB, db, "hello world, done"),
			    "Plain,Wild,NibHi,NibLo,Star,Jump,JumpMax,JumpMin,JumpRange,Alt,NAlt,"
			    "AnchorW,AnchorB");
}

/* The anchors at the ends, negated anchors and `[n]`, scanned. */
static void
test_hex_anchors(void **state)
{
	const char *db = "LeftW:0:*:(W)776f726c64\n"
			 "LeftWMiss:0:*:(W)6f726c64\n"
			 "LeftB:0:*:(B)68656c6c6f\n"
			 "LeftBAt:0:0:(B)68656c6c6f\n"
			 "NegLeftW:0:*:!(W)6f726c64\n"
			 "NegLeftWAt:0:6:!(W)6f726c64\n"
			 "NegLeftWMiss:0:*:!(W)776f726c64\n"
			 "RightB:0:*:68656c6c6f(B)\n"
			 "RightBMiss:0:*:68656c6c(B)\n"
			 "RightWEof:0:*:646f6e65(W)\n"
			 "RightWEofAt:0:EOF-4:646f6e65(W)\n"
			 "RightLEof:0:*:646f6e65(L)\n"
			 "NegRightB:0:*:68656c6c!(B)\n"
			 "NegRightBMiss:0:*:68656c6c6f!(B)\n"
			 "NegRightWEofMiss:0:*:646f6e65!(W)\n"
			 "NegMidB:0:*:6865!(B)6c6f\n"
			 "NegMidBMiss:0:*:6f!(B)776f\n"
			 "OneRange:0:*:68[3]6f20\n"
			 "OneRangeMiss:0:*:68[2]6f20\n";

	(void)state;
	assert_string_equal(scan_s(CLAMDB_NDB, db, "hello world, done"),
			    "LeftW,LeftB,LeftBAt,NegLeftW,RightB,RightWEof,RightWEofAt,RightLEof,"
			    "NegRightB,NegMidB,OneRange");
}

static void
test_offsets(void **state)
{
	const char *db = "At0:0:0:68656c6c6f\n"
			 "At1:0:1:68656c6c6f\n"
			 "Float:0:4,3:6f20776f\n"
			 "FloatMiss:0:0,3:6f20776f\n"
			 "Eof:0:EOF-4:646f6e65\n"
			 "EofMiss:0:EOF-5:646f6e65\n"
			 "EofFloat:0:EOF-6,2:646f6e65\n";
	char out[1024], why[256];
	struct wbuf w;
	int pe = 0, elf = 0;

	(void)state;
	assert_string_equal(scan_s(CLAMDB_NDB, db, "hello world, done"), "At0,Float,Eof,EofFloat");

#define OFF(s, t, want)                                                                            \
	do {                                                                                       \
		wbuf_init(&w);                                                                     \
		assert_int_equal(clamdb_offset_convert((const uint8_t *)s, strlen(s), "$a", t, &w, \
						       &pe, &elf, why, sizeof(why)),               \
				 0);                                                               \
		snprintf(out, sizeof(out), "%.*s", (int)w.len, (const char *)w.p);                 \
		wbuf_free(&w);                                                                     \
		assert_string_equal(out, want);                                                    \
	} while (0)
#define OFF_ERR(s, t, err, want)                                                                   \
	do {                                                                                       \
		wbuf_init(&w);                                                                     \
		assert_int_equal(clamdb_offset_convert((const uint8_t *)s, strlen(s), "$a", t, &w, \
						       &pe, &elf, why, sizeof(why)),               \
				 err);                                                             \
		wbuf_free(&w);                                                                     \
		assert_non_null(strstr(why, want));                                                \
	} while (0)

	OFF("*", 0, "$a");
	OFF("12", 0, "$a at 12");
	OFF("12,5", 0, "$a in (12 .. 12 + 5)");
	OFF("EOF-7", 0, "$a at filesize - 7");
	OFF("EOF-7,3", 0, "$a in (filesize - 7 .. filesize - 7 + 3)");
	OFF("EP+16", 1, "$a at pe.entry_point + 16");
	assert_int_equal(pe, 1);
	OFF("EP-2,8", 1, "$a in (pe.entry_point - 2 .. pe.entry_point - 2 + 8)");
	OFF("EP+0", 6, "$a at elf.entry_point + 0");
	assert_int_equal(elf, 1);
	OFF("S2+78", 1,
	    "(2 < pe.number_of_sections and $a at pe.sections[2].raw_data_offset + 78)");
	OFF("SL+550", 1,
	    "(pe.number_of_sections > 0 and $a at "
	    "pe.sections[pe.number_of_sections - 1].raw_data_offset + 550)");
	OFF("SE1", 1,
	    "(1 < pe.number_of_sections and $a in (pe.sections[1].raw_data_offset .. "
	    "pe.sections[1].raw_data_offset + pe.sections[1].raw_data_size + 0))");
	OFF_ERR("EP+1", 0, WARD_ESYNTAX, "need target type");
	OFF_ERR("S1+1", 0, WARD_ESYNTAX, "need target type");
	OFF("S1+1", 6, "(1 < elf.number_of_sections and $a at elf.sections[1].offset + 1)");
	OFF("SE0,4", 6,
	    "(0 < elf.number_of_sections and $a in (elf.sections[0].offset .. "
	    "elf.sections[0].offset + elf.sections[0].size + 4))");
	OFF_ERR("S1+1", 9, WARD_EUNSUPPORTED, "section offsets of Mach-O");
	OFF_ERR("EP+1", 9, WARD_EUNSUPPORTED, "Mach-O");
	OFF_ERR("VI", 1, WARD_EUNSUPPORTED, "version-information");
	OFF_ERR("$1$", 0, WARD_EUNSUPPORTED, "macro");
	OFF_ERR("1x", 0, WARD_ESYNTAX, "invalid offset");
	OFF_ERR("1,x", 0, WARD_ESYNTAX, "invalid offset shift");
	OFF_ERR("EOF-", 0, WARD_ESYNTAX, "invalid offset");
	OFF_ERR("", 0, WARD_ESYNTAX, "missing");
	OFF_ERR("12345678901234567890123456789012345678901234567890123456789012345", 0,
		WARD_ESYNTAX, "longer than 64");
#undef OFF
#undef OFF_ERR
}

static void
test_targets(void **state)
{
	const char *db = "Any:0:*:4d5a9000\n"
			 "Pe:1:*:4d5a9000\n"
			 "Elf:6:*:4d5a9000\n"
			 "Html:3:*:4d5a9000\n"
			 "Ole:2:*:4d5a9000\n";
	struct clamdb_stats st;
	const char *got;

	(void)state;
	got = scan_db(CLAMDB_NDB, db, "MZ\x90\x00rest", 8, &st);
	assert_string_equal(got, "Any,Pe");
	assert_int_equal(st.read, 5);
	assert_int_equal(st.converted, 3);
	assert_int_equal(st.skipped, 2);
	assert_string_equal(scan_db(CLAMDB_NDB, db,
				    "\x7f"
				    "ELF\x4d\x5a\x90\x00",
				    8, NULL),
			    "Any,Elf");
}

static void
test_hashes(void **state)
{
	/* MD5, SHA-1 and SHA-256 of "abcdef"; `*` sizes; a functionality level */
	const char *db =
	    "e80b5017098950fc58aad83c8c14978e:6:Abc.Md5\n"
	    "1F8AC10F23C5B5BC1167BDA84B833E5C057A77D2:*:Abc.Sha1:73\n"
	    "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721:6:Abc.Sha256\n"
	    "e80b5017098950fc58aad83c8c14978e:4:Abc.WrongSize\n"
	    "e80b5017098950fc58aad83c8c14978e:6:Abc.Future:255\n"
	    "e80b5017098950fc58aad83c8c14978e:6:Abc.Past:1:20\n";
	/* "abcde": 5 bytes, never scanned by ClamAV; a sized and a `*` twin */
	const char *small = "ab56b4d92b40713acc5af89985d4b786:5:Five.Md5\n"
			    "ab56b4d92b40713acc5af89985d4b786:*:Five.Any:73\n"
			    "e80b5017098950fc58aad83c8c14978e:*:Abc.AnyMd5:73\n";
	struct clamdb_stats st;
	struct clamdb *c;
	struct ward_diag d;

	(void)state;
	assert_string_equal(scan_db(CLAMDB_HSB, db, "abcdef", 6, &st),
			    "Abc.Sha256,Abc.Md5,Abc.Sha1");
	assert_int_equal(st.read, 6);
	assert_int_equal(st.flevel, 2);
	assert_string_equal(scan_db(CLAMDB_HDB, db, "abcdef", 6, NULL),
			    "Abc.Sha256,Abc.Md5,Abc.Sha1");
	/* nothing from ClamAV matches a file of 5 bytes or less; the sized
	 * hash is left out, the `*` one written `>5` */
	assert_string_equal(scan_db(CLAMDB_HDB, small, "abcde", 5, &st), "");
	assert_int_equal(st.skipped, 1);
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(
	    clamdb_add(c, CLAMDB_HDB, "s.hdb", (const uint8_t *)small, strlen(small), &d), 0);
	assert_int_equal(clamdb_finish(c, NULL), 0);
	assert_non_null(strstr(clamdb_hashes(c, &(size_t){0}),
			       "md5:ab56b4d92b40713acc5af89985d4b786:>5:Five.Any\n"));
	clamdb_free(c);
	assert_string_equal(scan_db(CLAMDB_NDB, "Five.Body:0:*:6162636465\n", "abcde", 5, NULL),
			    "");
	assert_string_equal(scan_db(CLAMDB_NDB, "Five.Body:0:*:6162636465\n", "abcdef", 6, NULL),
			    "Five.Body");
	/* a hash listed with its size and with `*`: both names, as clamscan */
	{
		char twin[512];

		snprintf(twin, sizeof(twin), "%s%s", db, small);
		assert_string_equal(scan_db(CLAMDB_HDB, twin, "abcdef", 6, NULL),
				    "Abc.Sha256,Abc.Md5,Abc.AnyMd5,Abc.Sha1");
	}
	/* malformed lines refuse the database, with FILE:LINE */
	assert_int_equal(clamdb_new(&c), 0);
	diag_clear(&d);
	assert_int_equal(
	    clamdb_add(c, CLAMDB_HDB, "x.hdb", (const uint8_t *)"\n# c\nabc:3:N\n", 12, &d),
	    WARD_ESYNTAX);
	assert_int_equal(d.line, 3);
	assert_string_equal(d.file, "x.hdb");
	assert_int_equal(clamdb_add(c, CLAMDB_HDB, "x.hdb",
				    (const uint8_t *)"900150983cd24fb0d6963f7d28e17f72:x:N", 36,
				    &d),
			 WARD_ESYNTAX);
	assert_int_equal(clamdb_add(c, CLAMDB_HDB, "x.hdb", (const uint8_t *)"a:b", 3, &d),
			 WARD_ESYNTAX);
	assert_int_equal(clamdb_add(c, CLAMDB_HDB, "x.hdb",
				    (const uint8_t *)"900150983cd24fb0d6963f7d28e17f72:*:N:72", 39,
				    &d),
			 WARD_ESYNTAX);
	assert_non_null(strstr(d.msg, "at least 73"));
	clamdb_free(c);
}

static void
test_section_hashes(void **state)
{
	struct clamdb *c;
	struct ward_diag d;
	const char *t;
	size_t n;
	const char *db = "45056:900150983cd24fb0d6963f7d28e17f72:Sec.Md5\n"
			 "*:a9993e364706816aba3e25717850c26c9cd0d89d:Sec.Sha1:73\n";

	(void)state;
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_MDB, "x.mdb", (const uint8_t *)db, strlen(db), &d),
			 0);
	assert_int_equal(clamdb_finish(c, NULL), 0);
	t = clamdb_rules(c, &n);
	assert_non_null(strstr(t, "pe.sections[i].raw_data_size == 45056 and "
				  "hash.md5(pe.sections[i].raw_data_offset, 45056) == "
				  "\"900150983cd24fb0d6963f7d28e17f72\""));
	assert_non_null(strstr(t, "hash.sha1(pe.sections[i].raw_data_offset, "
				  "pe.sections[i].raw_data_size) == "
				  "\"a9993e364706816aba3e25717850c26c9cd0d89d\""));
	assert_non_null(strstr(t, "ward_report_name = \"Sec.Sha1\""));
	clamdb_free(c);
}

static void
test_ldb(void **state)
{
	const char *db = "And;Target:0;0&1;68656c6c6f;776f726c64\n"
			 "Or;Target:0;0|1;deadbeef;776f726c64\n"
			 "Count;Engine:51-255,Target:0;0>0;6c6c\n"
			 "CountEq;Target:0;0=2;6f20\n"
			 "CountLt;Target:0;0<2;6c6c\n"
			 "Neg;Target:0;0&1=0;68656c6c6f;deadbeef\n"
			 "Block;Target:0;(0|1|2)>2,2;6c6f;6f72;6c64\n"
			 "BlockMiss;Target:0;(0|1)>5,2;6c6f;7a7a\n"
			 "BlockZero;Target:0;(0|1)=0;7a7a;7979\n"
			 "TopFirst;Target:0;0&1|2;deadbeef;776f726c64;68656c6c6f\n"
			 "InnerLast;Target:0;(0&1|2);deadbeef;776f726c64;68656c6c6f\n"
			 "NoCase;Engine:81-255,Target:0;0;48454c4c4f::i\n"
			 "Wide;Engine:81-255,Target:0;0;6869::w\n"
			 "Full;Engine:81-255,Target:0;0;68656c6c::f\n"
			 "Full2;Engine:81-255,Target:0;0;68656c6c6f::f\n"
			 "Size;Engine:51-255,Target:0,FileSize:10-100;0;68656c6c6f\n"
			 "SizeMiss;Engine:51-255,Target:0,FileSize:100-200;0;68656c6c6f\n"
			 "Off;Target:0;0&1;0:68656c6c6f;EOF-4:646f6e65\n"
			 "Pcre;Target:0;0&1;68656c6c6f;0/hel+o/\n"
			 "Cont;Engine:51-255,Target:0,Container:CL_TYPE_ZIP;0;68656c6c6f\n"
			 "Flevel;Engine:250-255,Target:0;0;68656c6c6f\n"
			 "CountOff;Target:0;0>1;0:6865\n";
	struct clamdb_stats st;

	(void)state;
	assert_string_equal(
	    scan_db(CLAMDB_LDB, db, "hello world, done", 17, &st),
	    "And,Or,Count,CountLt,Neg,Block,BlockZero,InnerLast,NoCase,Full2,Size,Off");
	assert_int_equal(st.read, 22);
	assert_int_equal(st.skipped, 3);
	assert_int_equal(st.flevel, 1);
	assert_string_equal(scan_db(CLAMDB_LDB, db, "h\0i\0 hello hello ll", 19, NULL),
			    "Count,CountEq,Neg,BlockZero,InnerLast,NoCase,Wide,Full2,Size");
}

static void
test_ldb_pcre(void **state)
{
	const char *db = "P.Simple;Engine:81-255,Target:0;0&1;68656c6c6f;0/hel?lo w[aeo]rld/\n"
			 "P.Case;Engine:81-255,Target:0;0&1;68656c6c6f;0/HELLO\\sWORLD/i\n"
			 "P.Miss;Engine:81-255,Target:0;0&1;68656c6c6f;0/hello there/\n"
			 "P.Trig;Engine:81-255,Target:0;0&1&2;68656c6c6f;deadbeef;0&1/world/\n"
			 "P.Trig2;Engine:81-255,Target:0;0|2;68656c6c6f;deadbeef;1/world/\n"
			 "P.Slash;Engine:81-255,Target:0;0&1;68656c6c6f;0/a/b|wor/\n"
			 "P.Star;Engine:81-255,Target:0;0&1;68656c6c6f;0/hel.*world/\n"
			 "P.Dollar;Engine:81-255,Target:0;0&1;68656c6c6f;0/done$/\n"
			 "P.Off;Engine:81-255,Target:0;0&1;68656c6c6f;5:0/world/\n"
			 "P.Flag;Engine:81-255,Target:0;0&1;68656c6c6f;0/world/r\n"
			 "P.Count;Engine:81-255,Target:0;0&1>1;68656c6c6f;0/world/g\n";
	struct clamdb_stats st;

	(void)state;
	assert_string_equal(scan_db(CLAMDB_LDB, db, "hello world, done", 17, &st),
			    "P.Simple,P.Case,P.Trig2,P.Slash");
	assert_int_equal(st.skipped, 5);
}

static void
expect_ldb_err(const char *line, int err, const char *want)
{
	struct clamdb *c;
	struct ward_diag d;

	assert_int_equal(clamdb_new(&c), 0);
	diag_clear(&d);
	assert_int_equal(
	    clamdb_add(c, CLAMDB_LDB, "x.ldb", (const uint8_t *)line, strlen(line), &d), err);
	assert_non_null(strstr(d.msg, want));
	clamdb_free(c);
}

static void
test_ldb_errors(void **state)
{
	char big[64 * 8 + 64];
	size_t i;

	(void)state;
	expect_ldb_err("X;Target:0;0&1;6868", WARD_ESYNTAX, "missing subsignature");
	expect_ldb_err("X;Target:0;0;6868;6969", WARD_ESYNTAX, "does not match");
	expect_ldb_err("X;Engine:51-255;0;6868", WARD_ESYNTAX, "no Target");
	expect_ldb_err("X;Target:0,FileSize:1-2;0;6868", WARD_ESYNTAX, "Engine:51");
	expect_ldb_err("X;Target:0,Engine:51-255;0;6868", WARD_ESYNTAX, "Engine must come first");
	expect_ldb_err("X;Target:0;(0;6868", WARD_ESYNTAX, "closing parenthesis");
	expect_ldb_err("X;Target:0;0);6868", WARD_ESYNTAX, "opening parenthesis");
	expect_ldb_err("X;Target:0;0&;6868", WARD_ESYNTAX, "without its argument");
	expect_ldb_err("X;Target:0;0;6868::q", WARD_ESYNTAX, "modifier");
	expect_ldb_err("X;Target:0", WARD_ESYNTAX, "expected NAME;TDB");
	strcpy(big, "X;Target:0;0");
	for (i = 0; i < 65; i++)
		strcat(big, ";6868");
	expect_ldb_err(big, WARD_ESYNTAX, "more than 64 subsignatures");
}

/* A few database bytes that would say much rule text are left out by name,
 * not held: boundary anchors by the thousand, and PCRE triggers that copy
 * an expression over the one before (each doubling the text). */
static void
test_expansion_bounded(void **state)
{
	struct clamdb *c;
	struct clamdb_stats st;
	struct ward_diag d;
	const struct clamdb_skip *sk;
	size_t n, i, len;
	char *db = malloc(64 * 1024);

	(void)state;
	assert_non_null(db);
	len = (size_t)snprintf(db, 64, "Anchors:0:*:4142");
	for (i = 0; i < 8000; i++)
		len += (size_t)snprintf(db + len, 8, "(W)");
	len += (size_t)snprintf(db + len, 8, "4344\n");
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_NDB, "a.ndb", (const uint8_t *)db, len, &d), 0);
	len = (size_t)snprintf(db, 64, "Doubling;Engine:81-255,Target:0;40;41424344");
	for (i = 0; i < 40; i++)
		len += (size_t)snprintf(db + len, 32, ";%zu&%zu/a/", i, i);
	len += (size_t)snprintf(db + len, 8, "\n");
	assert_int_equal(clamdb_add(c, CLAMDB_LDB, "d.ldb", (const uint8_t *)db, len, &d), 0);
	assert_int_equal(clamdb_finish(c, NULL), 0);
	clamdb_get_stats(c, &st);
	assert_int_equal(st.converted, 0);
	sk = clamdb_skipped(c, &n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(sk[0].why, "WARD_MAX_CLAMDB_SIG_TEXT"));
	assert_non_null(strstr(sk[1].why, "WARD_MAX_CLAMDB_SIG_TEXT"));
	clamdb_free(c);
	free(db);
}

static void
test_ign2_and_fp(void **state)
{
	struct clamdb *c;
	struct clamdb_stats st;
	struct ward_diag d;
	const struct clamdb_skip *sk;
	size_t n;
	const char *ndb = "Keep:0:*:68656c6c6f\nDrop:0:*:68656c6c6f\n";
	const char *sfp =
	    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD:3:Fp.\"Abc\"\n";

	(void)state;
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_NDB, "x.ndb", (const uint8_t *)ndb, strlen(ndb), &d),
			 0);
	assert_int_equal(clamdb_add(c, CLAMDB_IGN2, "x.ign2", (const uint8_t *)"Drop\n", 5, &d), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_FP, "x.fp",
				    (const uint8_t *)"900150983cd24fb0d6963f7d28e17f72:3:Fp.Abc\n",
				    42, &d),
			 0);
	assert_int_equal(clamdb_add(c, CLAMDB_SFP, "x.sfp", (const uint8_t *)sfp, strlen(sfp), &d),
			 0);
	assert_int_equal(clamdb_add(c, CLAMDB_SFP, "x.sfp", (const uint8_t *)"zz:3:N\n", 7, &d),
			 WARD_ESYNTAX);
	assert_int_equal(clamdb_finish(c, NULL), 0);
	clamdb_get_stats(c, &st);
	assert_int_equal(st.ignored, 1);
	assert_int_equal(st.converted, 3);
	/* MD5 and SHA-256 false positives: a private rule every ClamAV rule
	 * needs false */
	assert_string_equal(clamdb_allow(c, &n), "");
	assert_int_equal(n, 2);
	assert_non_null(strstr(clamdb_rules(c, &n), "(filesize == 3 and hash.md5(0, filesize) == "
						    "\"900150983cd24fb0d6963f7d28e17f72\")"));
	assert_non_null(strstr(clamdb_rules(c, &n), "hash.sha256(0, filesize) == \"ba7816bf"));
	assert_non_null(strstr(clamdb_rules(c, &n), ") and not c0_clamav_false_positives\n}"));
	sk = clamdb_skipped(c, &n);
	assert_int_equal(n, 0);
	(void)sk;
	assert_null(strstr(clamdb_rules(c, &n), "Drop"));
	assert_int_equal(clamdb_finish(c, NULL), WARD_EINVAL);
	clamdb_free(c);
	clamdb_free(NULL);
}

static void
test_kind_and_limits(void **state)
{
	enum clamdb_kind k;
	struct clamdb *c;
	struct ward_diag d;
	char *line;

	(void)state;
	assert_int_equal(clamdb_kind_of("main.cvd", &k), 0);
	assert_int_equal(k, CLAMDB_CVD);
	assert_int_equal(clamdb_kind_of("x/daily.cld", &k), 0);
	assert_int_equal(k, CLAMDB_CVD);
	assert_int_equal(clamdb_kind_of("a.ign2", &k), 0);
	assert_int_equal(k, CLAMDB_IGN2);
	assert_int_equal(clamdb_kind_of("a.ldb", &k), 0);
	assert_int_equal(k, CLAMDB_LDB);
	assert_int_equal(clamdb_kind_of("a.yar", &k), WARD_EINVAL);
	assert_int_equal(clamdb_kind_of(".ndb", &k), WARD_EINVAL);

	line = malloc(WARD_MAX_CLAMDB_LINE + 10);
	assert_non_null(line);
	memset(line, 'a', WARD_MAX_CLAMDB_LINE + 9);
	line[WARD_MAX_CLAMDB_LINE + 9] = '\n';
	assert_int_equal(clamdb_new(&c), 0);
	diag_clear(&d);
	assert_int_equal(
	    clamdb_add(c, CLAMDB_NDB, "x", (const uint8_t *)line, WARD_MAX_CLAMDB_LINE + 10, &d),
	    WARD_ELIMIT);
	assert_int_equal(d.line, 1);
	/* hostile bytes: NULs, control characters, no newline at the end */
	assert_int_equal(clamdb_add(c, CLAMDB_NDB, "x", (const uint8_t *)"N\0:0:*:6868", 11, &d),
			 0);
	assert_int_equal(
	    clamdb_add(c, CLAMDB_NDB, "x", (const uint8_t *)"\x01\x02:0:*:6868", 11, &d), 0);
	free(line);
	clamdb_free(c);
}

/* The header of ClamAV's own signed bytecode.cvd (unit_tests/input of
 * Cisco-Talos/clamav; `sigtool -i` says "Verification OK"). */
static const char real_md5[] = "f341ae79c7e73561b89d4e0b8f6a79c0";
static const char real_dsig[] =
    "u1zx79ANlYhjROCU1oZTRrgWIeOzEKWpF0i3Qzz5jW9RRuLuW3pHDM2LB28kcAStuzM2lURMP9/diA0Q13qvK4Sx82"
    "+HS5aMKbOWtMz3OKPWrnk6A/KbAz+GG8N8bL3yRcTeGTHJn9d8zWL1Lb411Kpid+JYEwszbTMaUIi6xig";

static void
unhex16(const char *s, uint8_t out[16])
{
	size_t i;
	unsigned v;

	for (i = 0; i < 16; i++) {
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static void
test_cvd_dsig(void **state)
{
	uint8_t md5[16];
	char bad[sizeof(real_dsig)];

	(void)state;
	unhex16(real_md5, md5);
	assert_int_equal(
	    clamdb_cvd_dsig_check((const uint8_t *)real_dsig, strlen(real_dsig), md5, NULL, NULL),
	    1);
	md5[3] ^= 1;
	assert_int_equal(
	    clamdb_cvd_dsig_check((const uint8_t *)real_dsig, strlen(real_dsig), md5, NULL, NULL),
	    0);
	md5[3] ^= 1;
	memcpy(bad, real_dsig, sizeof(bad));
	bad[10] = bad[10] == 'a' ? 'b' : 'a';
	assert_int_equal(clamdb_cvd_dsig_check((const uint8_t *)bad, strlen(bad), md5, NULL, NULL),
			 0);
	bad[10] = '*'; /* not a digit of ClamAV's base 64 */
	assert_int_equal(clamdb_cvd_dsig_check((const uint8_t *)bad, strlen(bad), md5, NULL, NULL),
			 0);
	assert_int_equal(clamdb_cvd_dsig_check((const uint8_t *)"", 0, md5, NULL, NULL), 0);
}

/* A container: header then a tar (gz when gz) of one .hdb member. */
static size_t
make_container(uint8_t *out, size_t cap, int gz, const char *dsig, int good_md5)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	const char *hdb = "e80b5017098950fc58aad83c8c14978e:6:Abc.In.Cvd\n";
	size_t used = 0;
	uint8_t md5[16];
	char head[513];
	int k;

	archive_write_set_format_ustar(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_memory(a, out + 512, cap - 512, &used), ARCHIVE_OK);
	archive_entry_set_pathname(e, "x.hdb");
	archive_entry_set_size(e, (la_int64_t)strlen(hdb));
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, hdb, strlen(hdb)), (la_ssize_t)strlen(hdb));
	archive_write_close(a);
	archive_write_free(a);
	archive_entry_free(e);
	assert_int_equal(digest_buf(DIGEST_MD5, out + 512, used, md5, sizeof(md5)), 0);
	if (!good_md5)
		md5[0] ^= 1;
	k = snprintf(head, sizeof(head),
		     "ClamAV-VDB:06 Dec 2026 10-00 +0000:7:1:216:"
		     "%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x:%s:ward:1",
		     md5[0], md5[1], md5[2], md5[3], md5[4], md5[5], md5[6], md5[7], md5[8], md5[9],
		     md5[10], md5[11], md5[12], md5[13], md5[14], md5[15], dsig);
	memset(out, ' ', 512);
	memcpy(out, head, (size_t)k);
	return 512 + used;
}

static void
test_containers(void **state)
{
	static uint8_t buf[65536];
	struct clamdb_cvd_info info;
	struct clamdb *c;
	struct ward_diag d;
	const char *h;
	size_t n, hn;

	(void)state;
	/* a .cld: no signature to check, plain tar */
	n = make_container(buf, sizeof(buf), 0, "X", 1);
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add_cvd(c, "dir/daily.cld", buf, n, 0, &info, &d), 0);
	assert_int_equal(info.signed_kind, 0);
	assert_int_equal(info.version, 7);
	assert_int_equal(info.flevel, 216);
	assert_string_equal(info.name, "daily");
	assert_int_equal(clamdb_finish(c, NULL), 0);
	h = clamdb_hashes(c, &hn);
	assert_string_equal(h, "md5:e80b5017098950fc58aad83c8c14978e:6:Abc.In.Cvd\n");
	clamdb_free(c);

	/* a .cvd whose signature is not ClamAV's: refused, unless allowed */
	n = make_container(buf, sizeof(buf), 1, real_dsig, 1);
	assert_int_equal(clamdb_new(&c), 0);
	diag_clear(&d);
	assert_int_equal(clamdb_add_cvd(c, "daily.cvd", buf, n, 0, &info, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "the digital signature does not verify"));
	assert_int_equal(clamdb_add_cvd(c, "daily.cvd", buf, n, 1, &info, &d), 0);
	assert_int_equal(info.signed_kind, 1);
	assert_int_equal(info.verified, 0);
	clamdb_free(c);

	/* a body that does not have the header's MD5 */
	n = make_container(buf, sizeof(buf), 1, real_dsig, 0);
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add_cvd(c, "daily.cvd", buf, n, 0, &info, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "MD5"));
	/* damaged: no header, short, a body that is not a tar */
	assert_int_equal(clamdb_add_cvd(c, "x.cvd", (const uint8_t *)"ClamAV", 6, 1, &info, &d),
			 WARD_EFORMAT);
	memset(buf + 512, 0x55, 600);
	assert_int_equal(clamdb_add_cvd(c, "x.cld", buf, 1112, 1, &info, &d), WARD_EFORMAT);
	clamdb_free(c);
}

static void
test_names(void **state)
{
	struct clamdb *c;
	struct ward_diag d;
	const char *t;
	size_t n;
	const char *db = "Win.Trojan.Agent-123:0:*:68656c6c6f\n"
			 "Quote\"Back\\slash:0:*:68656c6c6f\n";

	(void)state;
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_NDB, "x", (const uint8_t *)db, strlen(db), &d), 0);
	assert_int_equal(clamdb_finish(c, NULL), 0);
	t = clamdb_rules(c, &n);
	assert_non_null(strstr(t, "rule c1_Win_Trojan_Agent_123"));
	assert_non_null(strstr(t, "ward_report_name = \"Win.Trojan.Agent-123\""));
	assert_non_null(strstr(t, "ward_report_name = \"Quote\\\"Back\\\\slash\""));
	clamdb_free(c);
	assert_string_equal(scan_s(CLAMDB_NDB, db, "hello!"),
			    "Win.Trojan.Agent-123,Quote\"Back\\slash");
}

static void
test_alloc_fail(void **state)
{
	const char *ndb = "A:0:*:68656c6c6f\nB:0:*:6865!(6c6c|6c6d)6f\nC:3:*:6868\n";
	const char *ldb = "L;Target:0;(0|1)>1,1;6868;6969\n";
	unsigned long i, n;
	struct clamdb *c;
	struct ward_diag d;
	int r;

	(void)state;
	alloc_fail_after(0);
	assert_int_equal(clamdb_new(&c), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_NDB, "x", (const uint8_t *)ndb, strlen(ndb), &d), 0);
	assert_int_equal(clamdb_add(c, CLAMDB_LDB, "x", (const uint8_t *)ldb, strlen(ldb), &d), 0);
	clamdb_free(c);
	n = alloc_fail_after(0);
	for (i = 1; i <= n; i++) {
		alloc_fail_after(i);
		c = NULL;
		r = clamdb_new(&c);
		if (r == 0)
			r = clamdb_add(c, CLAMDB_NDB, "x", (const uint8_t *)ndb, strlen(ndb), &d);
		if (r == 0)
			r = clamdb_add(c, CLAMDB_LDB, "x", (const uint8_t *)ldb, strlen(ldb), &d);
		alloc_fail_after(0);
		assert_true(r == 0 || r == WARD_ENOMEM);
		clamdb_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_syntax),	cmocka_unit_test(test_hex_refused),
	    cmocka_unit_test(test_hex_matches), cmocka_unit_test(test_hex_anchors),
	    cmocka_unit_test(test_offsets),	cmocka_unit_test(test_targets),
	    cmocka_unit_test(test_hashes),	cmocka_unit_test(test_section_hashes),
	    cmocka_unit_test(test_ldb),		cmocka_unit_test(test_ldb_errors),
	    cmocka_unit_test(test_ldb_pcre),	cmocka_unit_test(test_expansion_bounded),
	    cmocka_unit_test(test_ign2_and_fp), cmocka_unit_test(test_kind_and_limits),
	    cmocka_unit_test(test_cvd_dsig),	cmocka_unit_test(test_containers),
	    cmocka_unit_test(test_names),	cmocka_unit_test(test_alloc_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of lib/pattern's hex string parser and hex semantics.
 * Expected answers were checked against yara 4.2.3 (`yara -s`).
 */
#include "test_helpers.h"

#include "util/alloc.h"

static void
test_hex_bytes(void **state)
{
	(void)state;
	th_check(PATTERN_HEX, "61 62", 0, TH_STR("xabab"), "1:2,3:2");
	th_check(PATTERN_HEX, "6162", 0, TH_STR("ab"), "0:2");
	th_check(PATTERN_HEX, "6? ?2", 0, TH_STR("abcd ab"), "0:2,5:2");
	th_check(PATTERN_HEX, "?? 62", 0, TH_STR("abb"), "0:2,1:2");
	th_check(PATTERN_HEX, "61 ??", 0, TH_STR("ab a"), "0:2");
	th_check(PATTERN_HEX, "4? ?1", 0, TH_STR("AAqa"), "0:2,1:2");
	th_check(PATTERN_HEX, "00 FF", 0, "\0\xff", 2, "0:2");
	th_check(PATTERN_HEX, "61 // comment\n 62", 0, TH_STR("ab"), "0:2");
	th_check(PATTERN_HEX, "61 /* x\n y */ 62", 0, TH_STR("ab"), "0:2");
	/* hex ignores case of hex digits but never of data */
	th_check(PATTERN_HEX, "6a", 0, TH_STR("jJ"), "0:1");
}

static void
test_hex_jumps(void **state)
{
	(void)state;
	/* hex strings take the shortest match */
	th_check(PATTERN_HEX, "61 [0-3] 62", 0, TH_STR("abbb"), "0:2");
	th_check(PATTERN_HEX, "61 [1] 62", 0, TH_STR("ab axb"), "3:3");
	th_check(PATTERN_HEX, "61 [0-0] 62", 0, TH_STR("ab"), "0:2");
	th_check(PATTERN_HEX, "61 [1-1] 62", 0, TH_STR("ab"), "");
	th_check(PATTERN_HEX, "61 [2-3] [1-2] 63", 0, TH_STR("abcdef abbbcd"), "7:5");
	th_check(PATTERN_HEX, "61 [2-] 62", 0, TH_STR("ab axb axxb"), "0:6,3:8,7:4");
	th_check(PATTERN_HEX, "61 [ 1 - 2 ] 62", 0, TH_STR("axb"), "0:3");
}

static void
test_hex_alternatives(void **state)
{
	(void)state;
	th_check(PATTERN_HEX, "( 61 | 62 )", 0, TH_STR("abcdef abbbcd"),
		 "0:1,1:1,7:1,8:1,9:1,10:1");
	th_check(PATTERN_HEX, "61 ( 62 | 63 [1-2] 64 )", 0, TH_STR("abcdef abbbcd"), "0:2,7:2");
	th_check(PATTERN_HEX, "61 ( 62 | ( 63 | 64 ) )", 0, TH_STR("abcdef abbbcd"), "0:2,7:2");
	th_check(PATTERN_HEX, "61 ( ?? | 62 ) 63", 0, TH_STR("abcdef abbbcd"), "0:3");
	th_check(PATTERN_HEX, "61 ( 62 )", 0, TH_STR("ab"), "0:2");
}

static void
test_hex_chains(void **state)
{
	static uint8_t buf[50000];
	struct pattern *p;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	buf[0] = 'a';
	buf[40001] = 'b';
	/* long jumps chain pieces: no scan limit across the gap (yara) */
	p = th_compile(PATTERN_HEX, "61 [-] 62", 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 40002);
	pattern_free(p);
	p = th_compile(PATTERN_HEX, "61 [300-] 62", 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 40002);
	pattern_free(p);
	p = th_compile(PATTERN_HEX, "61 [10-4500] 62", 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 0);
	buf[4001] = 'b';
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 4002);
	pattern_free(p);
	/* three pieces, the earliest tail wins */
	memset(buf, 'x', 2000);
	memcpy(buf, "ab", 2);
	memcpy(buf + 400, "cd", 2);
	memcpy(buf + 700, "cd", 2);
	memcpy(buf + 1200, "ef", 2);
	memcpy(buf + 1500, "ef", 2);
	p = th_compile(PATTERN_HEX, "61 62 [201-500] 63 64 [300-900] 65 66", 0);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, 2000, 0, 0, 1), 1202);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, 2000, 1, 0, 1), 0);
	pattern_free(p);
}

static void
test_hex_errors(void **state)
{
	char msg[512];
	int col;

	(void)state;
	assert_int_equal(th_error(PATTERN_HEX, "", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "  // x\n", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "[1] 61", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 1);
	assert_int_equal(th_error(PATTERN_HEX, "61 [1]", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 4);
	assert_int_equal(th_error(PATTERN_HEX, "61 [2-1] 62", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 4);
	assert_int_equal(th_error(PATTERN_HEX, "61 [0] 62", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 [x] 62", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 [1-2 62", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 6", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 4);
	assert_int_equal(th_error(PATTERN_HEX, "61 6 2", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 zz", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 4);
	assert_int_equal(th_error(PATTERN_HEX, "61 ~62", 0, NULL, NULL, 0), WARD_EUNSUPPORTED);
	assert_int_equal(th_error(PATTERN_HEX, "61 ( 62 | [1-2] 63 )", 0, NULL, NULL, 0),
			 WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 ( 62 | 63 [1-2] ) 65", 0, NULL, NULL, 0),
			 WARD_ESYNTAX);
	assert_int_equal(
	    th_error(PATTERN_HEX, "61 ( 62 | 63 [1-201] 64 )", 0, &col, msg, sizeof(msg)),
	    WARD_ESYNTAX);
	assert_string_equal(msg, "jumps over 200 bytes not allowed inside alternation");
	assert_int_equal(col, 14);
	assert_int_equal(th_error(PATTERN_HEX, "61 ( 62 | 63 [1-] 64 )", 0, NULL, msg, sizeof(msg)),
			 WARD_ESYNTAX);
	assert_string_equal(msg, "unbounded jumps not allowed inside alternation");
	assert_int_equal(th_error(PATTERN_HEX, "61 ( 62 | ) 63", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 ( 62 63", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 62 )", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 | 62", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 /* 62", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61 [99999999999] 62", 0, NULL, NULL, 0),
			 WARD_ELIMIT);
	/* modifiers yara refuses on hex strings */
	assert_int_equal(th_error(PATTERN_HEX, "61", PATTERN_NOCASE, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61", PATTERN_WIDE, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_HEX, "61", PATTERN_FULLWORD, NULL, NULL, 0),
			 WARD_ESYNTAX);
}

static void
test_hex_nesting_limit(void **state)
{
	char src[1000];
	size_t i, o = 0;

	(void)state;
	for (i = 0; i < 70; i++)
		o += (size_t)snprintf(src + o, sizeof(src) - o, "( 61 | ");
	o += (size_t)snprintf(src + o, sizeof(src) - o, "62");
	for (i = 0; i < 70; i++)
		o += (size_t)snprintf(src + o, sizeof(src) - o, " )");
	assert_int_equal(th_error(PATTERN_HEX, src, 0, NULL, NULL, 0), WARD_ELIMIT);
}

static void
test_hex_alloc_failures(void **state)
{
	struct pattern *p;
	struct ward_diag d;
	unsigned long n, i;
	const char *src = "61 ( 62 | 63 [1-3] 64 ) [300-] 65 ?? 66";
	int r;

	(void)state;
	alloc_fail_after(0);
	r = pattern_compile(PATTERN_HEX, (const uint8_t *)src, strlen(src), 0, &p, &d);
	assert_int_equal(r, 0);
	pattern_free(p);
	n = alloc_fail_after(0);
	for (i = 1; i <= n + 1; i++) {
		alloc_fail_after(i);
		r = pattern_compile(PATTERN_HEX, (const uint8_t *)src, strlen(src), 0, &p, &d);
		alloc_fail_after(0);
		assert_true(r == 0 || r == WARD_ENOMEM);
		if (r == 0)
			pattern_free(p);
		else
			assert_null(p);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hex_bytes),	       cmocka_unit_test(test_hex_jumps),
	    cmocka_unit_test(test_hex_alternatives),   cmocka_unit_test(test_hex_chains),
	    cmocka_unit_test(test_hex_errors),	       cmocka_unit_test(test_hex_nesting_limit),
	    cmocka_unit_test(test_hex_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of lib/pattern's regexp parser and regexp semantics.
 * Expected answers were checked against yara 4.2.3 (`yara -s`).
 */
#include "test_helpers.h"

static void
test_regex_literals(void **state)
{
	(void)state;
	th_check(PATTERN_REGEX, "abc", 0, TH_STR("xabcabc"), "1:3,4:3");
	th_check(PATTERN_REGEX, "a\\.c", 0, TH_STR("abc a.c"), "4:3");
	th_check(PATTERN_REGEX, "\\x41\\n", 0, TH_STR("A\nA"), "0:2");
	th_check(PATTERN_REGEX, "a\\/b", 0, TH_STR("a/b"), "0:3");
	th_check(PATTERN_REGEX, "a{x", 0, TH_STR("a{x"), "0:3");
	th_check(PATTERN_REGEX, "\\t\\r\\f\\a", 0, TH_STR("\t\r\f\a"), "0:4");
}

static void
test_regex_classes(void **state)
{
	(void)state;
	th_check(PATTERN_REGEX, "[a-c]+", 0, TH_STR("xabcd"), "1:3,2:2,3:1");
	th_check(PATTERN_REGEX, "[^a-c]", 0, TH_STR("ad"), "1:1");
	th_check(PATTERN_REGEX, "[]a]", 0, TH_STR("]a"), "0:1,1:1");
	th_check(PATTERN_REGEX, "[a-]", 0, TH_STR("-"), "0:1");
	th_check(PATTERN_REGEX, "[\\d]", 0, TH_STR("a5"), "1:1");
	th_check(PATTERN_REGEX, "[\\x41-\\x42]", 0, TH_STR("ABC"), "0:1,1:1");
	/* yara folds case before negating: [^a]/i excludes 'A' */
	th_check(PATTERN_REGEX, "[^a]", PATTERN_NOCASE, TH_STR("AaBb\nab"), "2:1,3:1,4:1,6:1");
	th_check(PATTERN_REGEX, "\\s", 0, TH_STR(" \t\n\r\v\fx"), "0:1,1:1,2:1,3:1,4:1,5:1");
	th_check(PATTERN_REGEX, "\\w\\W\\d\\D\\S", 0, TH_STR("a-1-x"), "0:5");
	th_check(PATTERN_REGEX, "a.b", 0, TH_STR("a\nb axb"), "4:3");
	th_check(PATTERN_REGEX, "a.b", PATTERN_DOTALL, TH_STR("a\nb axb"), "0:3,4:3");
}

static void
test_regex_quantifiers(void **state)
{
	(void)state;
	/* empty matches are never reported; overlapping ones are */
	th_check(PATTERN_REGEX, "b*", 0, TH_STR("bbb"), "0:3,1:2,2:1");
	th_check(PATTERN_REGEX, "ab+", 0, TH_STR("abbbc"), "0:4");
	th_check(PATTERN_REGEX, "ab+?", 0, TH_STR("abbbc"), "0:2");
	th_check(PATTERN_REGEX, "ab{2}", 0, TH_STR("abbbc"), "0:3");
	th_check(PATTERN_REGEX, "ab{1,2}", 0, TH_STR("abbbc"), "0:3");
	th_check(PATTERN_REGEX, "ab{2,}", 0, TH_STR("abbbc"), "0:4");
	th_check(PATTERN_REGEX, "ab{,2}c", 0, TH_STR("ac abc abbc abbbc"), "0:2,3:3,7:4");
	th_check(PATTERN_REGEX, "a[bx]*?b", 0, TH_STR("abxbb"), "0:2");
	/* alternation keeps priority order (checked with yara) */
	th_check(PATTERN_REGEX, "(a|ab)(c|cd)x?", 0, TH_STR("abcd"), "0:3");
	th_check(PATTERN_REGEX, "(a|ab)(cd|c)x?", 0, TH_STR("abcd"), "0:4");
	th_check(PATTERN_REGEX, "(ab|a)c?", 0, TH_STR("abbbc abc"), "0:2,6:3");
	th_check(PATTERN_REGEX, "(a|ab)(c|cd)", 0, TH_STR("abcd"), "0:3");
	/* a leading alternation: yara verifies each alternative from its own
	 * atom (see test_regex_atoms) */
	th_check(PATTERN_REGEX, "(ab|a)", 0, TH_STR("abbbc abc"), "0:1,6:1");
	th_check(PATTERN_REGEX, "(a|ab)c?", 0, TH_STR("abbbc abc"), "0:2,6:3");
	th_check(PATTERN_REGEX, "\\x00|\\x00\\x00\\x00?", 0, "\0\0x", 3, "0:2,1:1");
	th_check(PATTERN_REGEX, ".{2,}?(c{2}?[\\d ])|x", 0, TH_STR("ab1 x"), "4:1");
}

static void
test_regex_anchors(void **state)
{
	(void)state;
	th_check(PATTERN_REGEX, "^ab", 0, TH_STR("abab"), "0:2");
	th_check(PATTERN_REGEX, "ab$", 0, TH_STR("abab"), "2:2");
	th_check(PATTERN_REGEX, "a\\b", 0, TH_STR("a ab"), "0:1");
	th_check(PATTERN_REGEX, "a\\B", 0, TH_STR("a ab"), "2:1");
	th_check(PATTERN_REGEX, "\\bab", 0, TH_STR("ab cab"), "0:2");
	/* \b holds at the start and the end of the file whatever the
	 * characters (yara's run cannot look past them), \B never does */
	th_check(PATTERN_REGEX, "\\b.\\W{3,4}?-v\\W.", 0, TH_STR(";%,\xb3-v~\xe7"), "0:8");
	th_check(PATTERN_REGEX, "\\B[^t-v\\w].", PATTERN_DOTALL, TH_STR("\x11\xd0 \x11\xd0"),
		 "1:2,2:2,3:2");
	th_check(PATTERN_REGEX, "-\\b", 0, TH_STR("a- x-"), "4:1");
	th_check(PATTERN_REGEX, "-\\B", 0, TH_STR("a- x-"), "1:1");
	th_check(PATTERN_REGEX, "\\bx\\b", PATTERN_WIDE, "x\0 \0x\0", 6, "0:2,4:2");
}

/*
 * yara verifies a regexp from each place where one of its atoms is found,
 * in the order they are found; at one start the first verification stays,
 * the last one for a regexp with a greedy quantifier.  Without atoms it
 * runs the regexp once from the start.  (Checked with yara 4.2.3.)
 */
#define W_ABC "a\0b\0c\0d\0e\0f\0g\0h\0x\0x\0 \0a\0b\0c\0d\0e\0f\0x\0"

static void
test_regex_atoms(void **state)
{
	(void)state;
	/* both atoms "abcd" end together: the regexp's order */
	th_check(PATTERN_REGEX, "(abcdefgh|abcdef)", 0, TH_STR("abcdefgh abcdefx"), "0:8,9:6");
	th_check(PATTERN_REGEX, "(abcdef|abcdefgh)", 0, TH_STR("abcdefgh abcdefx"), "0:6,9:6");
	th_check(PATTERN_REGEX, "(abcdefgh|abcdef)x*", 0, TH_STR("abcdefghxx abcdefx"), "0:6,11:7");
	/* wide atoms are verified in the reverse order, and the other cases
	 * of a nocase atom before it */
	th_check(PATTERN_REGEX, "(abcdefgh|abcdef)", PATTERN_WIDE, W_ABC, sizeof(W_ABC) - 1,
		 "0:12,22:12");
	th_check(PATTERN_REGEX, "(abcdef|abcdefgh)", PATTERN_WIDE, W_ABC, sizeof(W_ABC) - 1,
		 "0:16,22:12");
	th_check(PATTERN_REGEX, "(abcdefgh|abcdef)x*", PATTERN_WIDE, W_ABC, sizeof(W_ABC) - 1,
		 "0:20,22:14");
	th_check(PATTERN_REGEX, "(abcdefgh|abcdef)", PATTERN_NOCASE,
		 TH_STR("ABCDEFGHxx abcdefghxx"), "0:6,11:8");
	th_check(PATTERN_REGEX, "(abcdefgh|ABCDEF)", PATTERN_NOCASE,
		 TH_STR("ABCDEFGHxx abcdefghxx"), "0:8,11:6");
	th_check(PATTERN_REGEX, "(abcdefgh|abcdef)x*", PATTERN_NOCASE,
		 TH_STR("ABCDEFGHxx abcdefghxx"), "0:10,11:6");
	/* no atoms: priority order from the start */
	th_check(PATTERN_REGEX, "(\\w|\\w\\w)[0-9]*", 0, TH_STR("ab1 x9"), "0:1,1:2,2:1,4:2,5:1");
	th_check(PATTERN_REGEX, "(\\w\\w|\\w)", 0, TH_STR("ab1 x9"), "0:2,1:2,2:1,4:2,5:1");
	/* the atom after a loop: one verification per place it is found */
	th_check(PATTERN_REGEX, "[a-z]+abc", 0, TH_STR("xxabcabc"), "0:8,1:7,2:6,3:5,4:4");
	th_check(PATTERN_REGEX, "[a-z]+?abc", 0, TH_STR("xxabcabc"), "0:5,1:4,2:6,3:5,4:4");
	th_check(PATTERN_REGEX, "\\w+abc\\b", PATTERN_FULLWORD, TH_STR("xabcabc abcabc-"),
		 "0:7,8:6");
	/* a lazy regexp with fullword: a later atom gives the longer match
	 * that passes fullword */
	th_check(PATTERN_REGEX, "a(bc|x)+?", PATTERN_FULLWORD, TH_STR("abcbcx abc abcbc-"),
		 "0:6,7:3,11:5");
	th_check(PATTERN_REGEX, "hg.(t{4}?x|q??h{3}?)+?",
		 PATTERN_DOTALL | PATTERN_NOCASE | PATTERN_WIDE | PATTERN_FULLWORD,
		 "h\0G\0q\0h\0H\0H\0T\0t\0T\0t\0X\0\0\0", 24, "0:22");
}

/*
 * A repeat whose body can match empty: yara runs one piece of code for the
 * middle iterations of x{n,m} and for every iteration of x+, and a thread
 * meeting a split it took since it last read a character dies, so only one
 * iteration of that code can be empty at a time.  (Checked with yara.)
 */
static void
test_regex_empty_iterations(void **state)
{
	static const char d[] = "ab a\"b a\"\"b a\"\"\"b a\"\"\"\"b";

	(void)state;
	th_check(PATTERN_REGEX, "a(\"*){3,5}b", 0, TH_STR(d), "");
	th_check(PATTERN_REGEX, "a(\"?){3,5}b", 0, TH_STR(d), "3:3,7:4,12:5,18:6");
	th_check(PATTERN_REGEX, "a(\"*)+b", 0, TH_STR(d), "0:2,3:3,7:4,12:5,18:6");
}

static void
test_regex_modifiers(void **state)
{
	static const uint8_t w[] = "a\0b\0b\0b\0 \0a\0#\0";

	(void)state;
	th_check(PATTERN_REGEX, "ab+", PATTERN_WIDE, w, sizeof(w) - 1, "0:8");
	th_check(PATTERN_REGEX, "a[^b]", PATTERN_WIDE, w, sizeof(w) - 1, "10:4");
	th_check(PATTERN_REGEX, "a\\b", PATTERN_WIDE, w, sizeof(w) - 1, "10:2");
	th_check(PATTERN_REGEX, "a.", PATTERN_WIDE, w, sizeof(w) - 1, "0:4,10:4");
	th_check(PATTERN_REGEX, "AB", PATTERN_NOCASE, TH_STR("ab aB Ab"), "0:2,3:2,6:2");
	/* fullword is checked on the chosen length only (yara) */
	th_check(PATTERN_REGEX, "ab+", PATTERN_FULLWORD, TH_STR("abbbc ab b abxb "), "6:2");
	th_check(PATTERN_REGEX, "a[bx]*?b", PATTERN_FULLWORD, TH_STR("abbbc ab b abxb "), "6:2");
	/* ascii is tried first; wide only when ascii does not match at all */
	th_check(PATTERN_REGEX, "[\\d]", PATTERN_WIDE | PATTERN_ASCII | PATTERN_FULLWORD,
		 TH_STR("B1\0xx 2"), "6:1");
}

static void
test_regex_scan_limit(void **state)
{
	static uint8_t buf[5000];
	struct pattern *p;

	(void)state;
	memset(buf, 'x', sizeof(buf));
	buf[0] = 'a';
	buf[4095] = 'b';
	p = th_compile(PATTERN_REGEX, "a.*b", PATTERN_DOTALL);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 4096);
	buf[4095] = 'x';
	buf[4096] = 'b';
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 0);
	pattern_free(p);
	/* from an atom at its end, yara runs up to the limit backwards and
	 * the rest of the regexp forwards: the match is longer than the limit */
	memset(buf, '-', sizeof(buf));
	buf[0] = 'x';
	memcpy(buf + 4096, "abcd", 4);
	p = th_compile(PATTERN_REGEX, "x.+?abcd", PATTERN_DOTALL);
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 4100);
	memmove(buf + 4097, "abcd", 4);
	buf[4096] = '-';
	assert_int_equal(pattern_match_at(p, NULL, 0, buf, sizeof(buf), 0, 0, 1), 0);
	pattern_free(p);
}

static void
test_regex_errors(void **state)
{
	char msg[512];
	int col;

	(void)state;
	assert_int_equal(th_error(PATTERN_REGEX, "", 0, &col, msg, sizeof(msg)), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "ab*c+?", 0, &col, msg, sizeof(msg)),
			 WARD_ESYNTAX);
	assert_string_equal(
	    msg, "greedy and ungreedy quantifiers can't be mixed in a regular expression");
	assert_int_equal(col, 5);
	assert_int_equal(th_error(PATTERN_REGEX, "a{2}b*?", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "(a", 0, &col, msg, sizeof(msg)), WARD_ESYNTAX);
	assert_int_equal(col, 1);
	assert_int_equal(th_error(PATTERN_REGEX, "a)", 0, &col, msg, sizeof(msg)), WARD_ESYNTAX);
	assert_int_equal(col, 2);
	assert_int_equal(th_error(PATTERN_REGEX, "*a", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 1);
	assert_int_equal(th_error(PATTERN_REGEX, "a**", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 3);
	assert_int_equal(th_error(PATTERN_REGEX, "[abc", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "[z-a]", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 4);
	assert_int_equal(th_error(PATTERN_REGEX, "[\\w-z]", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "a{3,2}", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 2);
	assert_int_equal(th_error(PATTERN_REGEX, "a{1,40000}", 0, NULL, NULL, 0), WARD_ELIMIT);
	assert_int_equal(th_error(PATTERN_REGEX, "\\x4", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "ab\\", 0, &col, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(col, 3);
	assert_int_equal(th_error(PATTERN_REGEX, "(a)\\1", 0, &col, msg, sizeof(msg)),
			 WARD_EUNSUPPORTED);
	assert_int_equal(col, 4);
	assert_int_equal(th_error(PATTERN_REGEX, "(?:a)", 0, NULL, NULL, 0), WARD_EUNSUPPORTED);
	assert_int_equal(th_error(PATTERN_REGEX, "a(?=b)", 0, &col, NULL, 0), WARD_EUNSUPPORTED);
	assert_int_equal(col, 2);
	assert_int_equal(th_error(PATTERN_REGEX, "(?P<n>a)", 0, NULL, NULL, 0), WARD_EUNSUPPORTED);
	assert_int_equal(th_error(PATTERN_REGEX, "\\p{L}", 0, NULL, NULL, 0), WARD_EUNSUPPORTED);
	assert_int_equal(th_error(PATTERN_REGEX, "()", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "^*", 0, NULL, NULL, 0), WARD_ESYNTAX);
	assert_int_equal(th_error(PATTERN_REGEX, "{2}", 0, NULL, NULL, 0), WARD_ESYNTAX);
	/* (.{1000}){1000} expands past WARD_MAX_PATTERN_PROG */
	assert_int_equal(th_error(PATTERN_REGEX, "(.{1000}){1000}", 0, NULL, NULL, 0), WARD_ELIMIT);
}

static void
test_regex_depth(void **state)
{
	char src[400];
	size_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		src[i] = '(';
	src[100] = 'a';
	for (i = 0; i < 100; i++)
		src[101 + i] = ')';
	src[201] = 0;
	assert_int_equal(th_error(PATTERN_REGEX, src, 0, NULL, NULL, 0), WARD_ELIMIT);
	src[40] = 0;
	memset(src, '(', 40);
	src[40] = 'a';
	memset(src + 41, ')', 40);
	src[81] = 0;
	th_check(PATTERN_REGEX, src, 0, TH_STR("xa"), "1:1");
}

static struct pattern *
search_re(const char *src, unsigned flags)
{
	return th_compile(PATTERN_REGEX, src, flags | PATTERN_SEARCH);
}

/* The answer of yara's yr_re_exec with RE_FLAGS_SCAN: where the last match
 * found ended, -1 for none (checked with yara 4.2.3 through `matches` and
 * pe.imports(/dll/, /fn/), which counts answers above 0). */
static void
test_regex_search(void **state)
{
	struct pattern *p;

	(void)state;
	p = search_re("b+c", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"aabbc", 5), 5);
	assert_int_equal(pattern_search(p, (const uint8_t *)"aabb", 4), -1);
	pattern_free(p);
	p = search_re("^ab$", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"ab", 2), 2);
	assert_int_equal(pattern_search(p, (const uint8_t *)"xab", 3), -1);
	pattern_free(p);
	p = search_re("ABC", PATTERN_NOCASE);
	assert_int_equal(pattern_search(p, (const uint8_t *)"xxabc", 5), 5);
	pattern_free(p);
	/* empty matches count: a thread starts at each offset and matches
	 * there at once, the last one at the last offset */
	p = search_re("x*", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"", 0), 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"a", 1), 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"abc", 3), 2);
	pattern_free(p);
	/* "abc" matches /(Get)?/: the regexp is entered at its start, not past
	 * the optional group as a string's zero-length atom is */
	p = search_re("(Get)?", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"abc", 3), 2);
	pattern_free(p);
	p = search_re("(Get)?x", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"abx", 3), 3);
	assert_int_equal(pattern_search(p, (const uint8_t *)"abc", 3), -1);
	pattern_free(p);
	/* a later match ends the threads that started after it, not those
	 * that started before */
	p = search_re("a.*b|c", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"xacb", 4), 4);
	pattern_free(p);
	/* \b holds at both ends of the string whatever the characters */
	p = search_re("\\b-", 0);
	assert_int_equal(pattern_search(p, (const uint8_t *)"-x", 2), 1);
	assert_int_equal(pattern_search(p, (const uint8_t *)"x -", 3), -1);
	pattern_free(p);
	/* PATTERN_SEARCH is for regexps, with /i and /s only */
	assert_int_equal(th_error(PATTERN_REGEX, "a", PATTERN_SEARCH | PATTERN_WIDE, NULL, NULL, 0),
			 WARD_EINVAL);
	assert_int_equal(th_error(PATTERN_TEXT, "a", PATTERN_SEARCH, NULL, NULL, 0), WARD_EINVAL);
}

/*
 * A lazy .{n,m}? of the top-level sequence with n or m above 200 cuts a
 * regexp into chained pieces, as YARA does: the gap's bytes are not
 * checked ('\n' included), its bounds count bytes in the wide form too,
 * and fullword holds for each piece.  (Checked with yara 4.2.3.)
 */
static void
test_regex_chains(void **state)
{
	static uint8_t d[1300];
	size_t i, n = 0;

	(void)state;
	th_check(PATTERN_REGEX, "n.{0,}?l", PATTERN_NOCASE, TH_STR("n\nl nxl"), "0:3,4:3");
	th_check(PATTERN_REGEX, "n.{1,}?l", 0, TH_STR("n\nl nxl"), "0:3,4:3");
	th_check(PATTERN_REGEX, "n.*?l", 0, TH_STR("n\nl nxl"), "4:3");
	th_check(PATTERN_REGEX, "n.{0,5}?l", 0, TH_STR("n\nl nxl"), "4:3");
	th_check(PATTERN_REGEX, "n.{0,}l", 0, TH_STR("n\nl nxl"), "4:3");
	/* wide: 300 bytes of gap are 150 characters */
	for (i = 0; i < 2; i++)
		d[n++] = (uint8_t) "ab"[i], d[n++] = 0;
	for (i = 0; i < 150; i++)
		d[n++] = 'x', d[n++] = 0;
	for (i = 0; i < 2; i++)
		d[n++] = (uint8_t) "cd"[i], d[n++] = 0;
	th_check(PATTERN_REGEX, "ab.{300}?cd", PATTERN_WIDE, d, n, "0:308");
	th_check(PATTERN_REGEX, "ab.{600}?cd", PATTERN_WIDE, d, n, "");
	/* fullword on each piece: "ab" is followed by a word character */
	memcpy(d, "ab", 2);
	memset(d + 2, 'x', 201);
	memcpy(d + 203, "cd ab", 5);
	memset(d + 208, '-', 201);
	memcpy(d + 409, "cd", 2);
	th_check(PATTERN_REGEX, "ab.{201,}?cd", PATTERN_FULLWORD, d, 411, "206:205");
	th_check(PATTERN_REGEX, "ab.{201,}?cd", 0, d, 411, "0:205,206:205");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regex_literals),	   cmocka_unit_test(test_regex_classes),
	    cmocka_unit_test(test_regex_quantifiers),	   cmocka_unit_test(test_regex_anchors),
	    cmocka_unit_test(test_regex_modifiers),	   cmocka_unit_test(test_regex_scan_limit),
	    cmocka_unit_test(test_regex_errors),	   cmocka_unit_test(test_regex_depth),
	    cmocka_unit_test(test_regex_search),	   cmocka_unit_test(test_regex_atoms),
	    cmocka_unit_test(test_regex_empty_iterations), cmocka_unit_test(test_regex_chains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

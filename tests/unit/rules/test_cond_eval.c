/*
 * Unit tests of lib/rules/cond_eval: the interpreter's YARA semantics on a
 * hand-built scan environment (each expectation checked against yara
 * 4.2.3), whole rule sets, cond_false_without_matches (which rules need
 * not be evaluated on a file where none of their strings matched), and
 * module values in conditions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modules/module.h"
#include "rules/compile.h"
#include "rules/cond.h"
#include "util/alloc.h"
#include "util/limits.h"

/* --- interpreter ---------------------------------------------------- */

static const uint8_t file_data[] = "abcabcXabc";

static int
rd(void *arg, uint64_t off, void *buf, size_t n)
{
	(void)arg;
	if (off > sizeof(file_data) - 1 || sizeof(file_data) - 1 - off < n)
		return -1;
	memcpy(buf, file_data + off, n);
	return 0;
}

/* Compiles src (rules over strings $a="abc" $b="zzz" $c="X"), evaluates with
 * matches of "abcabcXabc", returns the result of the last rule. */
static int
eval_src(const char *cond)
{
	static struct rs_match ma[] = {{0, 3}, {3, 3}, {7, 3}}, mc[] = {{6, 1}};
	struct rs_matches m[3] = {{ma, 3, 3}, {NULL, 0, 0}, {mc, 1, 1}};
	struct rs_scan_env env = {m, 10, rd, NULL, NULL, NULL};
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	char src[1024];
	uint8_t res[4];
	int r;

	snprintf(src, sizeof(src),
		 "rule r { strings: $a = \"abc\" $b = \"zzz\" $c = \"X\" condition: (%s) and "
		 "($a or $b or $c or true) }",
		 cond);
	assert_int_equal(rules_compiler_new(&c), 0);
	if ((r = rules_compiler_add_string(c, "t", src, strlen(src), &d)) != 0)
		fail_msg("%s: %s", cond, d.msg);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	r = res[rs->nrules - 1];
	ruleset_free(rs);
	return r;
}

struct ecase {
	const char *cond;
	int want;
};

/* Each expectation was checked against yara 4.2.3 on the same data. */
static const struct ecase ecases[] = {
    {"uint32(100)", 0},
    {"not uint32(100)", 0},
    {"not (uint32(100) or false)", 1},
    {"uint32(100) or true", 1},
    {"not (false or uint32(100))", 1},
    {"not (true or uint32(100))", 0},
    {"not (uint32(100) and true)", 1},
    {"not (uint32(100) or uint32(104))", 1},
    {"not ((uint32(100) < 1) or (uint32be(104) < 200))", 1},
    {"not (uint32(100) == 1)", 0},
    {"not (uint32(100) + 1 > 0)", 0},
    {"not (not uint32(100))", 0},
    {"not defined uint32(100)", 1},
    {"for all i in (1..1) : (true)", 1},
    {"for all i in (2..1) : (true)", 0},
    {"not for all i in (2..1) : (true)", 1},
    {"not for none i in (2..1) : (true)", 1},
    {"for 0 i in (1..2) : (false)", 1},
    {"not (@a[4] == 7)", 0},
    {"not (@a[0] == 7)", 0},
    {"#b == 0", 1},
    {"not ($a at uint32(100))", 1},
    {"not ($a in (0..uint32(100)))", 0},
    {"not ($a in (4..3))", 1},
    {"$a in (3..3)", 1},
    {"0 of them", 0},
    {"0 of ($b)", 1},
    {"none of ($a)", 0},
    {"4 of them", 0},
    {"-1 of them", 1},
    {"uint32(100) of them", 0},
    {"for any of ($a,$c) : ($ at 6)", 1},
    {"for all of ($a,$c) : (# >= 1)", 1},
    {"for any of ($a*) : (@[2] == 3)", 1},
    {"for all of ($a,$b) : (@[1] < 5)", 0},
    {"for 0 of ($a) : ($)", 1},
    {"for uint32(100) i in (1..2) : (i == 1)", 0},
    {"for uint32(100) of ($a,$c) : ($)", 1},
    {"for none i in (1..2) : (uint32(100) == 1)", 1},
    {"for -1 i in (1..2) : (true)", 1},
    {"for 3 i in (1..2) : (true)", 0},
    {"for all i in (1..3) : (for any j in (i..3) : (j==3))", 1},
    {"not (1 \\ (filesize-10) == 0)", 0},
    {"#a in (0..5) == 2", 1},
    {"not (#a in (0..uint32(100)) == 2)", 0},
    {"!a[1] == 3 and !a == 3 and @a == 0", 1},
    {"not (uint8(-1) == 0)", 0},
    {"uint32(0) == 0x61636261 and uint16be(0) == 0x6162 and int8(6) == 0x58", 1},
    {"uint8(filesize - 1) == 0x63 and not (uint8(filesize) == 0)", 0},
    {"-7 % 3 == -1 and -1 \\ 2 == 0 and 1 << 64 == 0 and -8 >> 1 == -4", 1},
    {"not (1 << -1 == 0)", 0},
    {"\"abc\" contains \"b\" and \"abc\" iequals \"ABC\" and \"a\" < \"b\"", 1},
    {"\"\"", 0},
    {"not \"\"", 1},
    /* matches: an empty match counts; the regexp is entered at its start */
    {"\"abc\" matches /(Get)?/ and \"a\" matches /x*/", 1},
    {"\"abc\" matches /(Get)?x/", 0},
    {"\"-x\" matches /\\b-/ and not (\"x -\" matches /\\b-/)", 1},
    {"for any i in (1..#a) : (@a[i] == 7)", 1},
    {"for 2 i in (1..#a) : (@a[i] > 0)", 1},
    {"for none i in (-0x7fffffffffffffff - 1..-0x7fffffffffffffff) : (i > 0)", 1},
    /* Where yara hangs (a range ending at INT64_MAX wraps) or dies of SIGFPE
     * (INT64_MIN \ -1), ward ends and gives a defined answer. */
    {"for all i in (0x7ffffffffffffffe..0x7fffffffffffffff) : (i < 0)", 0},
    {"(filesize - 10 - 0x7fffffffffffffff - 1) \\ -1 < 0", 1},
    {"(filesize - 10 - 0x7fffffffffffffff - 1) % -1 == 0", 1},
    /* Floats: an int beside a float converted, == within DBL_EPSILON,
     * \ by zero an infinity (a NaN equals nothing), undefined spreads. */
    {"1.5 > 1 and 2.5 * 2 == 5 and 7 \\ 2 == 3 and 7.0 \\ 2 == 3.5", 1},
    {"1.5", 1},
    {"0.0", 0},
    {"not 0.5", 0},
    {"-1.5 < 0 and -(1.5) < 0 and 1.5 + 1 > 2 and filesize + 0.5 > 10", 1},
    {"1.0 \\ 0 > 1000 and defined (1.0 \\ 0) and (1.0 + 1) \\ 0 > 5", 1},
    {"0.0 \\ 0 == 0.0 \\ 0", 0},
    {"0.0 \\ 0 != 0.0 \\ 0", 0},
    {"0.1 + 0.2 == 0.3 and 1.0 != 1.0000000000000002", 1},
    {"int8(0) + 0.5 > 0 and filesize - 10.25 == 0.0 - 0.25", 1},
    {"not (uint32(100) + 0.5 > 0)", 0},
    {"not defined (uint32(100) * 1.5)", 1},
};

static void
test_eval(void **state)
{
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(ecases) / sizeof(ecases[0]); i++) {
		got = eval_src(ecases[i].cond);
		if (got != ecases[i].want)
			fail_msg("%s: got %d want %d", ecases[i].cond, got, ecases[i].want);
	}
}

static void
test_eval_rules(void **state)
{
	const char *src = "rule a { condition: true }\n"
			  "global rule g { condition: filesize > 100 }\n"
			  "rule b { condition: a }\n"
			  "private rule p { condition: ei == 7 and es == \"abc\" }\n";
	struct rs_scan_env env = {NULL, 10, rd, NULL, NULL, NULL};
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	uint8_t res[4];

	(void)state;
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_define(c, "ei=7", &d), 0);
	assert_int_equal(rules_compiler_define(c, "es=abc", &d), 0);
	assert_int_equal(rules_compiler_add_string(c, "t", src, strlen(src), &d), 0);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	/* the false global rule makes every rule of the namespace false */
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	assert_memory_equal(res, "\0\0\0\0", 4);
	env.filesize = 200;
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	assert_memory_equal(res, "\1\1\1\1", 4);
	ruleset_free(rs);
}

/* --- false without matches ------------------------------------------ */

/* cond_false_without_matches for the last rule of src. */
static int
quiet_src(const char *src)
{
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	int yes = -1;

	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_define(c, "ei=0", &d), 0);
	assert_int_equal(rules_compiler_define(c, "es=abc", &d), 0);
	if (rules_compiler_add_string(c, "t", src, strlen(src), &d) != 0)
		fail_msg("%s: %s", src, d.msg);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	assert_int_equal(cond_false_without_matches(rs, rs->nrules - 1, &yes), 0);
	ruleset_free(rs);
	return yes;
}

static void
test_false_without_matches(void **state)
{
	static const struct {
		const char *cond;
		int yes;
	} cases[] = {
	    {"$a", 1},
	    {"not $a", 0},
	    {"#a > 2", 1},
	    {"#a == 0", 0},
	    {"#a >= ei", 0}, /* ei could be 0 */
	    {"$a or filesize > 10", 0},
	    {"$a and filesize > 10", 1},
	    {"filesize > 10 and $a", 1},
	    {"uint16(0) == 0x5a4d and ($a or $b)", 1},
	    {"any of them", 1},
	    {"2 of them", 1},
	    {"all of them", 1},
	    {"none of them", 0},
	    {"ei of them", 0},
	    {"@a[1] < 100", 1},	      /* undefined is false */
	    {"not (@a[1] < 100)", 1}, /* not undefined is undefined */
	    {"!a[1] == 3 or $b at 0", 1},
	    {"$a in (0..filesize)", 0}, /* undefined or false: not told apart */
	    {"$a in (0..100)", 1},
	    {"for any of them : ($ at 0)", 0}, /* loops are not analysed */
	    {"for any i in (1..#a) : (@a[i] > 0)", 0},
	    {"true", 0},
	    {"es contains \"x\" and $a", 1},
	    {"es contains \"x\" or $a", 0},
	    {"defined @a[1]", 1},
	    {"not defined @a[1]", 0},
	};
	char src[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(src, sizeof(src),
			 "rule r { strings: $a = \"abc\" $b = \"zzz\" condition: (%s) and "
			 "($a or $b or true) }",
			 cases[i].cond);
		if (quiet_src(src) != cases[i].yes)
			fail_msg("%s: expected %d", cases[i].cond, cases[i].yes);
	}
	/* Another rule's result is unknown to the analysis. */
	assert_int_equal(quiet_src("rule p { condition: filesize > 1 } "
				   "rule r { strings: $a = \"x\" condition: $a or p }"),
			 0);
	assert_int_equal(quiet_src("rule p { condition: filesize > 1 } "
				   "rule r { strings: $a = \"x\" condition: $a and p }"),
			 1);
	/* A loop over a module's array is unknown as a whole. */
	assert_int_equal(quiet_src("import \"elf\" rule r { strings: $a = \"x\" condition: $a "
				   "or for any s in elf.sections : (s.size > 0) }"),
			 0);
	assert_int_equal(quiet_src("import \"elf\" rule r { strings: $a = \"x\" condition: $a "
				   "and for any s in elf.sections : (s.size > 0) }"),
			 1);
}

/* Floats and modules: the verifier knows their types, and a module's
 * number, value and function must exist with the stack its signature
 * asks for. */
/* A module used without its import is an undefined identifier, as in
 * yara; with it, its values work in conditions. */
static void
test_module_rules(void **state)
{
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	const char *bad[][2] = {
	    {"rule r { condition: time.now() > 0 }", "undefined identifier \"time\""},
	    {"import \"time\" rule r { condition: time.now > 0 }", "is a function"},
	    {"import \"time\" rule r { condition: time.then() > 0 }", "invalid field name"},
	    {"import \"time\" rule r { condition: time.now(1) > 0 }",
	     "wrong arguments for function \"now\""},
	    {"import \"time\" rule r { condition: time.now()[0] > 0 }", "invalid use"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rules_compiler_new(&c), 0);
		if (rules_compiler_add_string(c, "t", bad[i][0], strlen(bad[i][0]), &d) == 0)
			fail_msg("accepted: %s", bad[i][0]);
		if (strstr(d.msg, bad[i][1]) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", bad[i][0], d.msg, bad[i][1]);
		rules_compiler_free(c);
	}
	assert_int_equal(rules_compiler_new(&c), 0);
	{
		const char *ok = "import \"time\" rule r { condition: time.now() > 1700000000 and "
				 "time.now() + 0.5 > 1.0 and defined time.now() }";

		if (rules_compiler_add_string(c, "t", ok, strlen(ok), &d) != 0)
			fail_msg("%s", d.msg);
	}
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	{
		struct mod_file *mf = calloc(1, sizeof(*mf));
		struct rs_scan_env env = {NULL, 10, rd, NULL, NULL, mf};
		uint8_t res[1];

		mod_file_init(mf, (const uint8_t *)"abcabcXabc", 10, NULL, NULL, NULL);
		assert_int_equal(ruleset_eval(rs, &env, res), 0);
		assert_int_equal(res[0], 1);
		mod_file_done(mf);
		/* Without a module state every module value is undefined. */
		env.mods = NULL;
		assert_int_equal(ruleset_eval(rs, &env, res), 0);
		assert_int_equal(res[0], 0);
		free(mf);
	}
	ruleset_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval),
	    cmocka_unit_test(test_eval_rules),
	    cmocka_unit_test(test_false_without_matches),
	    cmocka_unit_test(test_module_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

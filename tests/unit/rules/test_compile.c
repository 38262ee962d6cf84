/*
 * Unit tests of lib/rules/compile (with the parser it drives): every error
 * message path with its line and column, the refusal of unsupported YARA,
 * externals (-d), includes, leaving out unsupported rules
 * (rules_compiler_skip_unsupported), and allocation-failure sweeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules/compile.h"
#include "rules_helpers.h"
#include "scan/matcher.h"
#include "util/alloc.h"
#include "util/limits.h"

static const struct ccase cases[] = {
    {"rule r { strings: $a = \"abc\" condition: true }", WARD_ESEMANTIC, 1, 19,
     "unreferenced string \"$a\""},
    {"rule r { strings: $a = \"abc\" $a = \"x\" condition: $a }", WARD_EDUPLICATE, 1, 30,
     "duplicated string identifier \"$a\""},
    {"rule r { condition: $b }", WARD_EUNDEFINED, 1, 21, "undefined string \"$b\""},
    {"rule r { condition: all of them }", WARD_EUNDEFINED, 1, 21, "undefined string \"$*\""},
    {"rule r { condition: r2 }", WARD_EUNDEFINED, 1, 21, "undefined identifier \"r2\""},
    {"rule r { condition: r }", WARD_EUNDEFINED, 1, 21, "undefined identifier \"r\""},
    {"rule r { condition: true }\nrule r { condition: true }", WARD_EDUPLICATE, 2, 6,
     "duplicated identifier \"r\""},
    {"rule ei { condition: true }", WARD_EDUPLICATE, 1, 6, "duplicated identifier \"ei\""},
    {"rule r { condition: filename == \"x\" }", WARD_EUNDEFINED, 1, 21,
     "undefined identifier \"filename\""},
    {"import \"dotnet\"\nrule r { condition: true }", WARD_EUNSUPPORTED, 1, 1,
     "\"dotnet\" module is not supported by ward"},
    {"rule r { condition: dotnet.is_dll() }", WARD_EUNSUPPORTED, 1, 21,
     "\"dotnet\" module is not supported by ward"},
    {"rule r { condition: dotnet.number_of_streams > 7 }", WARD_EUNSUPPORTED, 1, 21,
     "\"dotnet\" module is not supported by ward"},
    {"import \"math\" rule r { condition: math.entropy(0, 1.5) > 7 }", WARD_ESEMANTIC, 1, 35,
     "wrong arguments for function \"entropy\""},
    {"import \"math\" rule r { condition: math.entropy > 7 }", WARD_ESEMANTIC, 1, 39,
     "\"math.entropy\" is a function: call it"},
    {"import \"hash\" rule r { condition: hash.md5(0, 1) == 1 }", WARD_ESEMANTIC, 1, 50,
     "mismatching types for '==' operator"},
    {"import \"math\" rule r { condition: math.MEAN_BYTES.x == 1 }", WARD_ESEMANTIC, 1, 50,
     "is a constant"},
    {"rule r { condition: foo(1) }", WARD_EUNDEFINED, 1, 21, "undefined identifier \"foo\""},
    {"rule r { strings: $a = { 41 42 } nocase condition: $a }", WARD_ESYNTAX, 1, 34,
     "only \"private\" is allowed on hex strings"},
    {"rule r { strings: $a = { 41 42 } fullword condition: $a }", WARD_ESYNTAX, 1, 34,
     "unexpected keyword \"fullword\""},
    {"rule r { strings: $a = \"ab\" nocase nocase condition: $a }", WARD_ESYNTAX, 1, 36,
     "duplicated modifier"},
    /* xor and base64, with yara 4.2.3's words */
    {"rule r { strings: $a = \"ab\" xor nocase condition: $a }", WARD_ESYNTAX, 1, 19,
     "invalid modifier combination: xor nocase"},
    {"rule r { strings: $a = \"ab\" nocase xor base64 condition: $a }", WARD_ESYNTAX, 1, 19,
     "invalid modifier combination: xor nocase"},
    {"rule r { strings: $a = \"ab\" base64 nocase condition: $a }", WARD_ESYNTAX, 1, 19,
     "invalid modifier combination: base64 nocase"},
    {"rule r { strings: $a = \"ab\" base64wide nocase condition: $a }", WARD_ESYNTAX, 1, 19,
     "invalid modifier combination: base64wide nocase"},
    {"rule r { strings: $a = \"ab\" base64wide base64 fullword xor condition: $a }", WARD_ESYNTAX,
     1, 19, "invalid modifier combination: base64 fullword"},
    {"rule r { strings: $a = \"ab\" xor base64wide condition: $a }", WARD_ESYNTAX, 1, 19,
     "invalid modifier combination: base64wide xor"},
    {"rule r { strings: $a = \"ab\" xor(300) condition: $a }", WARD_ESYNTAX, 1, 29,
     "invalid xor range"},
    {"rule r { strings: $a = \"ab\" xor(1KB) condition: $a }", WARD_ESYNTAX, 1, 29,
     "invalid xor range"},
    {"rule r { strings: $a = \"ab\" xor(300-400) condition: $a }", WARD_ESYNTAX, 1, 29,
     "upper bound for xor range exceeded (max: 255)"},
    {"rule r { strings: $a = \"ab\" xor(300-200) condition: $a }", WARD_ESYNTAX, 1, 29,
     "xor lower bound exceeds upper bound"},
    {"rule r { strings: $a = \"ab\" xor(-1) condition: $a }", WARD_ESYNTAX, 1, 33, "syntax error"},
    {"rule r { strings: $a = \"ab\" xor() condition: $a }", WARD_ESYNTAX, 1, 33, "syntax error"},
    {"rule r { strings: $a = \"ab\" xor(1-2-3) condition: $a }", WARD_ESYNTAX, 1, 36,
     "syntax error"},
    {"rule r { strings: $a = \"ab\" xor xor(2) condition: $a }", WARD_ESYNTAX, 1, 33,
     "duplicated modifier"},
    {"rule r { strings: $a = \"ab\" base64(\"abc\") condition: $a }", WARD_ESYNTAX, 1, 36,
     "length of base64 alphabet must be 64"},
    {"rule r { strings: $a = \"ab\" base64(\"!AB\") base64wide condition: $a }", WARD_ESYNTAX, 1,
     36, "length of base64 alphabet must be 64"},
    {"rule r { strings: $a = \"ab\" base64(\"!BCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
     "0123456789+/\") base64wide condition: $a }",
     WARD_ESYNTAX, 1, 104, "can not specify multiple alphabets"},
    {"rule r { strings: $a = \"ab\" base64 base64 condition: $a }", WARD_ESYNTAX, 1, 36,
     "duplicated modifier"},
    {"rule r { strings: $a = { 41 42 } xor condition: $a }", WARD_ESYNTAX, 1, 34,
     "unexpected keyword \"xor\""},
    {"rule r { strings: $a = /ab/ base64 condition: $a }", WARD_ESYNTAX, 1, 29,
     "unexpected keyword \"base64\""},
    {"rule r { strings: $a = /ab/ xor condition: $a }", WARD_ESYNTAX, 1, 29,
     "unexpected keyword \"xor\""},
    {"rule r { condition: 2.5 % 2 == 0 }", WARD_ESEMANTIC, 1, 25,
     "wrong type \"float\" for '%' operator"},
    {"rule r { condition: 1.5 & 1 == 1 }", WARD_ESEMANTIC, 1, 25,
     "wrong type \"float\" for '&' operator"},
    {"rule r { condition: ~1.5 == 1 }", WARD_ESEMANTIC, 1, 22,
     "wrong type \"float\" for ~ operator"},
    {"rule r { condition: 1.5 == \"a\" }", WARD_ESEMANTIC, 1, 25,
     "mismatching types for '==' operator"},
    {"rule r { condition: for any i in (0..1.5) : (true) }", WARD_ESEMANTIC, 1, 38,
     "integer expected"},
    {"rule r { condition: uint8(1.5) == 0 }", WARD_ESEMANTIC, 1, 27, "integer expected"},
    {"rule r { condition: for any i in (1,2,3) : (i == 2) }", WARD_EUNSUPPORTED, 1, 35,
     "enumeration"},
    {"rule r { strings: $a = \"a\" condition: 50% of them }", WARD_EUNSUPPORTED, 1, 41,
     "percentage"},
    {"rule r { strings: $a = \"a\" condition: any of them in (0..10) }", WARD_EUNSUPPORTED, 1, 51,
     "\"of ... in (range)\" is not supported"},
    {"rule r { strings: $a = \"a\" condition: any of them at 0 }", WARD_EUNSUPPORTED, 1, 51,
     "\"of ... at offset\" is not supported"},
    {"rule r { condition: entrypoint == 1 }", WARD_EUNSUPPORTED, 1, 21,
     "\"entrypoint\" is not supported"},
    {"rule r { strings: $a = \"a\" condition: $c* }", WARD_ESYNTAX, 1, 39,
     "syntax error, unexpected string identifier \"$c*\""},
    {"rule r { strings: $a = \"a\" condition: any of ($c*) }", WARD_EUNDEFINED, 1, 47,
     "undefined string \"$c*\""},
    {"rule r { strings: $a = \"x\" condition: any of ($a, $b) }", WARD_EUNDEFINED, 1, 51,
     "undefined string \"$b\""},
    {"rule r { strings: $a = \"\" condition: $a }", WARD_ESYNTAX, 1, 19, "empty string \"$a\""},
    {"rule r { condition: for any i in (1..3) : (for any j in (1..3) : (for any k in (1..3) :"
     " (for any l in (1..3) : (for any m in (1..3) : (true))))) }",
     WARD_ELIMIT, 1, 113, "loop nesting limit exceeded"},
    {"rule r { condition: for any i in (1..3) : (for any i in (1..3) : (true)) }", WARD_EDUPLICATE,
     1, 44, "duplicated loop identifier \"i\""},
    {"rule r { strings: $a = \"a\" condition: for any of them : (for any of them : ($)) }",
     WARD_ESEMANTIC, 1, 58, "loops can't be nested"},
    {"rule r { strings: $a = \"a\" condition: $ }", WARD_ESEMANTIC, 1, 39,
     "wrong use of anonymous string"},
    {"rule r { strings: $a = \"a\" condition: # == 1 }", WARD_ESEMANTIC, 1, 39,
     "wrong use of anonymous string"},
    {"rule r { condition: i == 1 }", WARD_EUNDEFINED, 1, 21, "undefined identifier \"i\""},
    {"rule r { condition: true", WARD_ESYNTAX, 1, 25, "syntax error, unexpected end of file"},
    {"rule r { condition: 0x7fffffffffffffff + 1 < 0 }", WARD_ESEMANTIC, 1, 40,
     "integer overflow in \"9223372036854775807 + 1\""},
    {"rule r { condition: 1 \\ 0 }", WARD_ESEMANTIC, 1, 23, "division by zero"},
    {"rule r { condition: filesize % (1-1) }", WARD_ESEMANTIC, 1, 30, "division by zero"},
    {"rule r { condition: \"a\\q\" == \"b\" }", WARD_ESYNTAX, 1, 23, "illegal escape sequence"},
    {"rule r { condition: 1 == 1 == 1 }", WARD_ESYNTAX, 1, 28, "syntax error, unexpected '=='"},
    {"rule r { condition: true + 1 }", WARD_ESYNTAX, 1, 26, "syntax error, unexpected '+'"},
    {"rule r { condition: 1 + true }", WARD_ESYNTAX, 1, 25, "boolean expression is not allowed"},
    {"rule r { condition: \"a\" + 1 }", WARD_ESEMANTIC, 1, 25, "wrong type for '+' operator"},
    {"rule r { condition: eb + 1 }", WARD_ESEMANTIC, 1, 24, "wrong type for '+' operator"},
    {"rule r { condition: \"a\" == 1 }", WARD_ESEMANTIC, 1, 25,
     "mismatching types for '==' operator"},
    {"rule r { condition: 1 contains \"a\" }", WARD_ESEMANTIC, 1, 23,
     "wrong type for contains operator"},
    {"rule r { condition: 1 matches /a/ }", WARD_ESEMANTIC, 1, 21, "string expected"},
    {"rule r { condition: - \"a\" }", WARD_ESEMANTIC, 1, 23, "integer expected"},
    {"rule r { condition: uint8(true) }", WARD_ESYNTAX, 1, 27, "boolean expression is not allowed"},
    {"rule r : a a { condition: true }", WARD_EDUPLICATE, 1, 12, "duplicated tag identifier \"a\""},
    {"rule r { meta: a = b condition: true }", WARD_ESYNTAX, 1, 20,
     "syntax error, unexpected identifier \"b\""},
    {"rule r { meta: a = -x condition: true }", WARD_ESYNTAX, 1, 21, "unexpected identifier"},
    {"rule r { strings: $a* = \"a\" condition: $a }", WARD_ESYNTAX, 1, 19,
     "unexpected string identifier \"$a*\""},
    {"rule r { strings: $a \"a\" condition: $a }", WARD_ESYNTAX, 1, 22, "expecting '='"},
    {"rule r { strings: $a = 5 condition: $a }", WARD_ESYNTAX, 1, 24,
     "unexpected integer number \"5\""},
    {"rule r { strings: $a = \"a\" }", WARD_ESYNTAX, 1, 28, "expecting condition"},
    {"rule r { condition: }", WARD_ESYNTAX, 1, 21, "syntax error, unexpected '}'"},
    {"private private rule r { condition: true }", WARD_ESYNTAX, 1, 9,
     "unexpected keyword \"private\""},
    {"include 5", WARD_ESYNTAX, 1, 9, "unexpected integer number"},
    {"include \"/nonexistent/x.yar\"", WARD_EIO, 1, 1,
     "can't open include file: /nonexistent/x.yar"},
    {"rule r { condition: (true }", WARD_ESYNTAX, 1, 27, "expecting ')'"},
    {"rule r { condition: @a[1 }", WARD_ESYNTAX, 1, 26, "expecting ']'"},
    {"rule r { condition: 1 of (r) }", WARD_ESYNTAX, 1, 27, "unexpected identifier \"r\""},
    {"rule r { strings: $a = \"x\" condition: 1 of $a }", WARD_ESYNTAX, 1, 44, "expecting '('"},
    {"rule r { strings: $a = \"x\" condition: for all of them }", WARD_ESYNTAX, 1, 55,
     "expecting ':'"},
    {"rule r { strings: $a = \"x\" condition: for all of them : $a }", WARD_ESYNTAX, 1, 57,
     "unexpected string identifier"},
    {"rule r { condition: all }", WARD_ESYNTAX, 1, 25, "expecting of"},
    {"rule r { condition: not }", WARD_ESYNTAX, 1, 25, "unexpected '}'"},
    {"rule r {\n  condition:\n    true and\n    $x\n}", WARD_EUNDEFINED, 4, 5,
     "undefined string \"$x\""},
    {"rule r { strings: $a = \"x\" condition: $a and es matches /(/ }", WARD_ESYNTAX, 1, 0, NULL},
};

static void
test_errors(void **state)
{
	struct ward_diag d;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = compile_src(cases[i].src, NULL, &d);
		if (r != cases[i].err)
			fail_msg("case %zu (%s): got %d (%s), want %d", i, cases[i].src, r, d.msg,
				 cases[i].err);
		if (cases[i].msg == NULL)
			continue;
		if (d.line != cases[i].line || d.col != cases[i].col)
			fail_msg("case %zu (%s): at %d:%d, want %d:%d (%s)", i, cases[i].src,
				 d.line, d.col, cases[i].line, cases[i].col, d.msg);
		if (strstr(d.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, d.msg, cases[i].msg);
		assert_string_equal(d.file, "t.yar");
	}
}

static void
test_accepts(void **state)
{
	static const char *const ok[] = {
	    "rule r { strings: $a = /a/ wide nocase fullword ascii private condition: $a }",
	    "rule r { strings: $a = /a/i nocase condition: $a }",
	    "global private rule r { condition: true } rule s { condition: r }",
	    "rule r : t1 t2 { meta: a = \"x\" b = 1 c = true d = -5 condition: true }",
	    "rule r { condition: es matches /a/ and ei == 5 and eb and es == \"abc\" }",
	    "rule r { condition: es contains \"b\" and es icontains \"B\" and es startswith \"a\" "
	    "and es istartswith \"A\" and es endswith \"c\" and es iendswith \"C\" and "
	    "es iequals \"ABC\" and es != \"x\" and es < \"b\" and es <= \"abc\" and "
	    "es > \"a\" and es >= \"abc\" }",
	    "rule r { strings: $a = \"x\" $ = \"y\" $ = { 41 ?? 4? ?1 [2] [1-3] [2-] ( 41 | 42 43 "
	    ") } "
	    "condition: all of them and any of ($*) and none of ($a*) and 2 of ($a, $) }",
	    "rule r { strings: $a = \"x\" condition: for any of ($a) : ($ at 0 or # > 1 or "
	    "@[1] == 0 or !  == 1 or ! [1] == 1 or $ in (0..5)) }",
	    "rule r { strings: $a = \"x\" condition: #a in (0..filesize) == 1 and @a[1] + !a[1] "
	    "< 10 and $a at 0 and $a in (0..10) }",
	    "rule r { condition: uint8(0) + uint16(0) + uint32(0) + int8(0) + int16(0) + "
	    "int32(0) + uint8be(0) + uint16be(0) + uint32be(0) + int8be(0) + int16be(0) + "
	    "int32be(0) > 0 }",
	    "rule r { condition: (1 + 2) * 3 \\ 4 % 5 & 6 | 7 ^ 8 << 1 >> 1 == -~1 and "
	    "defined filesize and not false and 1KB + 1MB + 0x10 + 0o7 > 0 }",
	    "rule r { condition: for all i in (1..3) : (for any j in (i..3) : (for 2 k in "
	    "(1..3) : (for none l in (1..3) : (i + j + k + l > 100)))) }",
	    "rule a { condition: true } rule b { condition: a and not a or a }",
	    /* fuzz regression: an empty meta string reached memcpy(NULL, 0) */
	    "rule r { meta: x = \"\" condition: \"\" == \"\" }",
	    "rule r { strings: $a = \"x\" condition: for 1 of them : ($) and "
	    "for any i in (1..2) : (for any of them : (@[i] > 0)) }",
	    /* a '}' inside a comment of a hex string does not end it (signature-base) */
	    "rule r { strings: $a = { 5f // pop edi {__saved_edi}\n 49 /* } */ 5e } "
	    "condition: $a }",
	};
	struct ward_diag d;
	struct ruleset *rs;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (compile_src(ok[i], &rs, &d) != 0)
			fail_msg("case %zu (%s): %d:%d: %s", i, ok[i], d.line, d.col, d.msg);
		ruleset_free(rs);
	}
}

static void
test_structure(void **state)
{
	const char *src = "rule a : t1 t2 { meta: k = \"v\" n = -3 b = true strings: $x = \"x\" "
			  "$y = { 41 } condition: $x or $y }\n"
			  "private rule b { condition: filesize > 0 }\n"
			  "global rule c { strings: $z = /z/ condition: $z and b }\n"
			  "rule d { condition: ei == 5 }\n";
	struct ward_diag d;
	struct ruleset *rs;

	(void)state;
	assert_int_equal(compile_src(src, &rs, &d), 0);
	assert_int_equal(rs->nrules, 4);
	assert_int_equal(rs->nstrings, 3);
	assert_string_equal(rs->rules[0].name, "a");
	assert_string_equal(rs->rules[0].ns, "default");
	assert_int_equal(rs->rules[0].ntags, 2);
	assert_string_equal(rs->rules[0].tags[1], "t2");
	assert_int_equal(rs->rules[0].nmeta, 3);
	assert_int_equal(rs->rules[0].meta[0].type, RS_STR);
	assert_string_equal(rs->rules[0].meta[0].s, "v");
	assert_int_equal(rs->rules[0].meta[1].i, -3);
	assert_int_equal(rs->rules[0].meta[2].type, RS_BOOL);
	assert_int_equal(rs->rules[0].str_first, 0);
	assert_int_equal(rs->rules[0].str_count, 2);
	assert_int_equal(rs->rules[0].needs_strings, 1);
	assert_int_equal(rs->rules[1].flags, RS_RULE_PRIVATE);
	assert_int_equal(rs->rules[1].needs_strings, 0);
	assert_int_equal(rs->rules[2].flags, RS_RULE_GLOBAL);
	assert_int_equal(rs->rules[2].str_first, 2);
	assert_string_equal(rs->strings[2].id, "$z");
	assert_int_equal(rs->strings[2].rule, 2);
	assert_int_equal(rs->rules[3].needs_strings, 0);
	assert_int_equal(rs->next, 3);
	ruleset_free(rs);
}

static void
test_defines(void **state)
{
	struct rules_compiler *c;
	struct ward_diag d;
	struct ruleset *rs;

	(void)state;
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_define(c, "n=-12", &d), 0);
	assert_int_equal(rules_compiler_define(c, "h=0x10", &d), 0);
	assert_int_equal(rules_compiler_define(c, "b=false", &d), 0);
	assert_int_equal(rules_compiler_define(c, "s=hello world", &d), 0);
	assert_int_equal(rules_compiler_define(c, "q=\"5\"", &d), 0);
	assert_int_equal(rules_compiler_define(c, "n=7", &d), 0); /* redefinition replaces */
	assert_int_equal(rules_compiler_define(c, "=1", &d), WARD_EINVAL);
	assert_int_equal(rules_compiler_define(c, "noequal", &d), WARD_EINVAL);
	assert_int_equal(rules_compiler_define(c, "1x=1", &d), WARD_EINVAL);
	assert_int_equal(rules_compiler_define(c, "f=1.5", &d), WARD_EUNSUPPORTED);
	assert_non_null(strstr(d.msg, "floating-point"));
	assert_int_equal(rules_compiler_define(c, "big=99999999999999999999", &d), WARD_ELIMIT);
	{
		/* As yara's -d: only decimal integers, strings as written. */
		const char *s = "rule r { condition: n == 7 and h == \"0x10\" and not b and "
				"s == \"hello world\" and q == \"\\\"5\\\"\" }";

		assert_int_equal(rules_compiler_add_string(c, "t", s, strlen(s), &d), 0);
	}
	/* -d after a file is refused */
	assert_int_equal(rules_compiler_define(c, "late=1", &d), WARD_EINVAL);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	assert_int_equal(rs->next, 5);
	assert_int_equal(rs->ext[0].type, RS_INT);
	assert_int_equal(rs->ext[0].i, 7);
	assert_int_equal(rs->ext[1].type, RS_STR);
	assert_int_equal(rs->ext[3].type, RS_STR);
	assert_int_equal(rs->ext[4].type, RS_STR);
	/* finished: only free */
	assert_int_equal(rules_compiler_add_string(c, "t", "", 0, &d), WARD_EINVAL);
	rules_compiler_free(c);
	/* externals of the rule set can be set again with the same type */
	assert_int_equal(ruleset_set_external(rs, "n=9", &d), 0);
	assert_int_equal(rs->ext[0].i, 9);
	assert_int_equal(ruleset_set_external(rs, "n=abc", &d), WARD_ESEMANTIC);
	assert_int_equal(ruleset_set_external(rs, "zz=1", &d), WARD_EUNDEFINED);
	ruleset_free(rs);
}

static void
test_after_error(void **state)
{
	struct rules_compiler *c;
	struct ward_diag d;
	struct ruleset *rs = NULL;

	(void)state;
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_add_string(c, "t", "rule {", 6, &d), WARD_ESYNTAX);
	assert_int_equal(rules_compiler_add_string(c, "t", "rule r { condition: true }", 26, &d),
			 WARD_EINVAL);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), WARD_EINVAL);
	assert_null(rs);
	rules_compiler_free(c);
	rules_compiler_free(NULL);
}

static void
write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static void
test_includes(void **state)
{
	char dir[] = "/tmp/ward_inc_XXXXXX", p[256];
	struct rules_compiler *c;
	struct ward_diag d;
	struct ruleset *rs;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/main.yar", dir);
	write_file(p, "include \"sub/a.yar\"\nrule m { condition: a }\n");
	snprintf(p, sizeof(p), "%s/sub/a.yar", dir);
	write_file(p, "include \"b.yar\"\nrule a { condition: b }\n");
	snprintf(p, sizeof(p), "%s/sub/b.yar", dir);
	write_file(p, "rule b { condition: true }\n");
	snprintf(p, sizeof(p), "%s/loop.yar", dir);
	write_file(p, "rule x { condition: true }\ninclude \"loop.yar\"\n");
	snprintf(p, sizeof(p), "%s/bad.yar", dir);
	write_file(p, "rule x {\n  condition: $nope\n}\n");

	assert_int_equal(rules_compiler_new(&c), 0);
	snprintf(p, sizeof(p), "%s/main.yar", dir);
	assert_int_equal(rules_compiler_add_file(c, p, &d), 0);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	assert_int_equal(rs->nrules, 3);
	assert_string_equal(rs->rules[0].name, "b");
	assert_string_equal(rs->rules[2].name, "m");
	ruleset_free(rs);
	rules_compiler_free(c);

	/* an include cycle ends at the depth limit (the rule is duplicated first) */
	assert_int_equal(rules_compiler_new(&c), 0);
	snprintf(p, sizeof(p), "%s/loop.yar", dir);
	assert_int_not_equal(rules_compiler_add_file(c, p, &d), 0);
	rules_compiler_free(c);

	/* errors name the included file, line and column */
	assert_int_equal(rules_compiler_new(&c), 0);
	snprintf(p, sizeof(p), "%s/bad.yar", dir);
	assert_int_equal(rules_compiler_add_file(c, p, &d), WARD_EUNDEFINED);
	assert_string_equal(d.file, p);
	assert_int_equal(d.line, 2);
	assert_int_equal(d.col, 14);
	rules_compiler_free(c);

	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_add_file(c, "/nonexistent/r.yar", &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "can't open rule file"));
	rules_compiler_free(c);
}

static void
test_include_depth(void **state)
{
	char dir[] = "/tmp/ward_incd_XXXXXX", p[256];
	struct rules_compiler *c;
	struct ward_diag d;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/self.yar", dir);
	write_file(p, "include \"self.yar\"\n");
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_add_file(c, p, &d), WARD_ELIMIT);
	assert_non_null(strstr(d.msg, "WARD_MAX_INCLUDE_DEPTH"));
	rules_compiler_free(c);
}

static void
test_limits(void **state)
{
	struct ward_diag d;
	char *src;
	size_t n = 0, i, cap = 16 * (WARD_MAX_EXPR_CHAIN + 10) + 100;

	(void)state;
	src = malloc(cap);
	assert_non_null(src);
	n += (size_t)sprintf(src + n, "rule r { condition: true");
	for (i = 0; i < WARD_MAX_EXPR_CHAIN + 5; i++)
		n += (size_t)sprintf(src + n, " or true");
	sprintf(src + n, " }");
	assert_int_equal(compile_src(src, NULL, &d), WARD_ELIMIT);
	assert_non_null(strstr(d.msg, "WARD_MAX_EXPR_CHAIN"));
	n = 0;
	n += (size_t)sprintf(src + n, "rule r { condition: ");
	for (i = 0; i < WARD_MAX_EXPR_DEPTH + 5; i++)
		n += (size_t)sprintf(src + n, "(");
	sprintf(src + n, "true");
	assert_int_equal(compile_src(src, NULL, &d), WARD_ELIMIT);
	assert_non_null(strstr(d.msg, "WARD_MAX_EXPR_DEPTH"));
	free(src);
}

/* Fails every allocation in turn: each must end in WARD_ENOMEM, cleanly. */
static void
test_alloc_sweep(void **state)
{
	const char *src =
	    "rule a : t { meta: k = \"v\" strings: $x = \"abc\" nocase $y = { 41 ?? 42 } "
	    "$z = /a[bc]+d/ condition: $x and #y > 0 or for any of ($z) : ($ at 0) }\n"
	    "rule b { condition: a and es matches /ab+/ and for all i in (1..2) : (i > 0) }\n";
	struct ward_diag d;
	struct ruleset *rs;
	unsigned long n, total;
	int r;

	(void)state;
	alloc_fail_after(0);
	assert_int_equal(compile_src(src, &rs, &d), 0);
	total = alloc_fail_after(0);
	ruleset_free(rs);
	assert_true(total > 10);
	for (n = 1; n <= total; n++) {
		alloc_fail_after(n);
		r = compile_src(src, &rs, &d);
		alloc_fail_after(0);
		if (r == 0) {
			ruleset_free(rs);
			continue;
		}
		if (r != WARD_ENOMEM)
			fail_msg("allocation %lu: got %d (%s)", n, r, d.msg);
	}
}

/* --- skipping unsupported rules ---------------------------------------- */

/* Compiles src (one file) with rules_compiler_skip_unsupported. */
static int
skip_src(const char *src, struct rules_compiler **cp, struct ruleset **out, struct ward_diag *d)
{
	struct rules_compiler *c = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	*out = NULL;
	*cp = NULL;
	if ((r = rules_compiler_new(&c)) != 0)
		goto out;
	rules_compiler_skip_unsupported(c);
	if ((r = rules_compiler_define(c, "ei=5", d)) != 0)
		goto out;
	if ((r = rules_compiler_add_string(c, "t.yar", src, strlen(src), d)) != 0)
		goto out;
	r = rules_compiler_finish(c, out, d);
out:
	*cp = c;
	return r;
}

static int
find_rule(const struct ruleset *rs, const char *name)
{
	uint32_t i;

	for (i = 0; i < rs->nrules; i++)
		if (strcmp(rs->rules[i].name, name) == 0)
			return (int)i;
	return -1;
}

struct hitlist {
	const struct ruleset *rs;
	char names[8][32];
	int n;
};

static int
on_hit(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct hitlist *h = arg;

	(void)s;
	(void)hash_name;
	if (h->n < 8)
		snprintf(h->names[h->n++], sizeof(h->names[0]), "%s", h->rs->rules[rule].name);
	return 0;
}

/* The rules of rs that match data, in rule order, as "a,b". */
static void
scan_names(const struct ruleset *rs, const char *data, char *out, size_t outlen)
{
	struct matcher *m = NULL;
	struct matcher_scratch *s = NULL;
	struct hitlist h;
	struct ward_diag d;
	int i;

	memset(&h, 0, sizeof(h));
	h.rs = rs;
	assert_int_equal(matcher_new(rs, NULL, &m, &d), 0);
	assert_int_equal(matcher_scratch_new(m, &s), 0);
	assert_int_equal(matcher_scan_buf(m, s, (const uint8_t *)data, strlen(data), on_hit, &h),
			 0);
	out[0] = '\0';
	for (i = 0; i < h.n; i++) {
		strncat(out, i ? "," : "", outlen - strlen(out) - 1);
		strncat(out, h.names[i], outlen - strlen(out) - 1);
	}
	matcher_scratch_free(s);
	matcher_free(m);
}

/* A file with a supported and an unsupported rule: the supported one
 * compiles and matches, the other is named with where and why. */
static void
test_skip_keeps_supported(void **state)
{
	const char *src = "rule ok { strings: $a = \"hello\" condition: $a }\n"
			  "rule bad {\n  strings: $a = \"abc\"\n  condition: 50% of them\n}\n"
			  "rule ok2 { strings: $a = \"world\" condition: $a and ei == 5 }\n";
	struct rules_compiler *c;
	const struct rules_skipped *sk;
	struct ruleset *rs;
	struct ward_diag d;
	char got[128];
	size_t n;

	(void)state;
	/* Without skipping, the file is refused at the percentage. */
	assert_int_equal(compile_src(src, NULL, &d), WARD_EUNSUPPORTED);
	assert_int_equal(d.line, 4);
	assert_int_equal(d.col, 16);

	assert_int_equal(skip_src(src, &c, &rs, &d), 0);
	assert_non_null(rs);
	assert_int_equal(rs->nrules, 2);
	assert_true(find_rule(rs, "ok") >= 0);
	assert_true(find_rule(rs, "ok2") >= 0);
	assert_int_equal(find_rule(rs, "bad"), -1);
	/* ok2's string is its own, not bad's: bad took its strings away. */
	assert_int_equal(rs->nstrings, 2);
	sk = rules_compiler_skipped(c, &n);
	assert_int_equal(n, 1);
	assert_string_equal(sk[0].rule, "bad");
	assert_null(sk[0].module);
	assert_null(sk[0].uses);
	assert_string_equal(sk[0].why.file, "t.yar");
	assert_int_equal(sk[0].why.line, 4);
	assert_int_equal(sk[0].why.col, 16);
	assert_non_null(strstr(sk[0].why.msg, "(percentage) is not supported"));
	assert_int_equal(sk[0].line, 2);
	/* The span is the rule's whole text. */
	assert_int_equal(sk[0].off, strchr(src, '\n') + 1 - src);
	assert_int_equal(sk[0].end, strstr(src, "}\nrule ok2") + 1 - src);

	scan_names(rs, "say hello world", got, sizeof(got));
	assert_string_equal(got, "ok,ok2");
	scan_names(rs, "abc", got, sizeof(got));
	assert_string_equal(got, "");
	ruleset_free(rs);
	rules_compiler_free(c);
}

/* Every construct outside the subset is read past; each rule is named. */
static void
test_skip_constructs(void **state)
{
	static const char *const bad[] = {
	    "rule u { condition: dotnet.number_of_sections > 2 and dotnet.exports(\"x\") }",
	    "rule u { condition: dotnet.exports(/ab+c/) and dotnet.sections[0].name == \".text\" }",
	    "rule u { condition: for any s in dotnet.sections : (s.name == \".x\") }",
	    "rule u { condition: for any k, v in dotnet.version_info : (k == \"a\") }",
	    "rule u { condition: dotnet.number_of_streams >= 7 }",
	    "rule u { condition: entrypoint == 0 }",
	    "rule u { strings: $a = \"abcd\" $b = \"efgh\" condition: 50% of them }",
	    "rule u { strings: $a = \"abcd\" condition: any of them in (0..10) }",
	    "rule u { strings: $a = \"abcd\" condition: any of them at 0 }",
	    "rule u { condition: for any i in (1, 2, 3) : (i == 2) }",
	    "rule u { strings: $a = /a(b)\\1/ condition: $a }",
	};
	struct rules_compiler *c;
	const struct rules_skipped *sk;
	struct ruleset *rs;
	struct ward_diag d;
	char src[512];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(src, sizeof(src),
			 "rule k1 { condition: true }\n%s\nrule k2 { condition: k1 }\n", bad[i]);
		if (skip_src(src, &c, &rs, &d) != 0)
			fail_msg("%s: %s:%d:%d: %s", bad[i], d.file, d.line, d.col, d.msg);
		sk = rules_compiler_skipped(c, &n);
		assert_int_equal(n, 1);
		assert_string_equal(sk[0].rule, "u");
		assert_int_equal(sk[0].why.line, 2);
		assert_non_null(strstr(sk[0].why.msg, "not supported"));
		assert_int_equal(rs->nrules, 2);
		ruleset_free(rs);
		rules_compiler_free(c);
	}
}

/* An import is left out (named); rules that use the module go, others stay. */
static void
test_skip_import(void **state)
{
	const char *src = "import \"dotnet\"\nrule a { condition: dotnet.is_dll() }\n"
			  "rule b { condition: filesize > 0 }\n";
	struct rules_compiler *c;
	const struct rules_skipped *sk;
	struct ruleset *rs;
	struct ward_diag d;
	size_t n;

	(void)state;
	assert_int_equal(skip_src(src, &c, &rs, &d), 0);
	sk = rules_compiler_skipped(c, &n);
	assert_int_equal(n, 2);
	assert_null(sk[0].rule);
	assert_string_equal(sk[0].module, "dotnet");
	assert_int_equal(sk[0].off, 0);
	assert_int_equal(sk[0].end, strlen("import \"dotnet\""));
	assert_string_equal(sk[1].rule, "a");
	assert_int_equal(rs->nrules, 1);
	assert_string_equal(rs->rules[0].name, "b");
	ruleset_free(rs);
	rules_compiler_free(c);
}

/* A rule that names a skipped rule goes too, and so on down the chain;
 * a private rule can be skipped; the name of a skipped rule stays taken. */
static void
test_skip_dependents(void **state)
{
	const char *src = "private rule p { strings: $a = \"abcd\" condition: 50% of them }\n"
			  "rule a { strings: $a = \"zzz1\" condition: $a and p }\n"
			  "rule b { condition: a or filesize > 100 }\n"
			  "rule c { strings: $a = \"zzz2\" condition: $a }\n"
			  "rule d { condition: c and not b }\n";
	struct rules_compiler *c;
	const struct rules_skipped *sk;
	struct ruleset *rs;
	struct ward_diag d;
	char got[64];
	size_t n;

	(void)state;
	assert_int_equal(skip_src(src, &c, &rs, &d), 0);
	sk = rules_compiler_skipped(c, &n);
	assert_int_equal(n, 4);
	assert_string_equal(sk[0].rule, "p");
	assert_null(sk[0].uses);
	assert_string_equal(sk[1].rule, "a");
	assert_string_equal(sk[1].uses, "p");
	assert_int_equal(sk[1].why.line, 2);
	assert_int_equal(sk[1].why.col, 49);
	assert_non_null(strstr(sk[1].why.msg, "uses rule \"p\", which is skipped"));
	assert_string_equal(sk[2].rule, "b");
	assert_string_equal(sk[2].uses, "a");
	assert_string_equal(sk[3].rule, "d");
	assert_string_equal(sk[3].uses, "b");
	/* Only c is left, with its own string. */
	assert_int_equal(rs->nrules, 1);
	assert_int_equal(rs->nstrings, 1);
	scan_names(rs, "zzz1 zzz2", got, sizeof(got));
	assert_string_equal(got, "c");
	ruleset_free(rs);
	rules_compiler_free(c);

	/* A skipped rule's name is still taken, as in yara. */
	assert_int_equal(skip_src("rule x { condition: entrypoint == 0 }\n"
				  "rule x { condition: true }\n",
				  &c, &rs, &d),
			 WARD_EDUPLICATE);
	assert_int_equal(d.line, 2);
	rules_compiler_free(c);
	assert_int_equal(skip_src("rule x { condition: true }\n"
				  "rule x { condition: entrypoint == 0 }\n",
				  &c, &rs, &d),
			 WARD_EDUPLICATE);
	rules_compiler_free(c);
}

/* A global rule decides every rule of its namespace: it is never skipped,
 * neither for what it uses nor for a rule it names. */
static void
test_skip_global_refused(void **state)
{
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;

	(void)state;
	assert_int_equal(skip_src("rule a { condition: true }\n"
				  "global rule g { condition: dotnet.is_dll() }\n",
				  &c, &rs, &d),
			 WARD_EUNSUPPORTED);
	assert_null(rs);
	assert_int_equal(d.line, 2);
	assert_int_equal(d.col, 28);
	assert_non_null(strstr(d.msg, "global rule \"g\" cannot be skipped"));
	rules_compiler_free(c);
	assert_int_equal(skip_src("rule u { strings: $a = \"abcd\" condition: 50% of them }\n"
				  "global private rule g { condition: u or filesize > 0 }\n",
				  &c, &rs, &d),
			 WARD_EUNSUPPORTED);
	assert_non_null(strstr(d.msg, "cannot be skipped"));
	assert_non_null(strstr(d.msg, "uses rule \"u\""));
	rules_compiler_free(c);
}

/* Only unsupported constructs are skippable: a syntax error in a rule that
 * also uses one is an error; after it the file is taken out whole, and
 * the compiler goes on with the next file. */
static void
test_skip_syntax_is_error(void **state)
{
	static const char *const srcs[] = {
	    "rule a { strings: $a = \"abcd\" xor condition: $a and and }",
	    "rule a { condition: dotnet.exports(\"x\" }",
	    "rule a { condition: dotnet..x }",
	    "rule a { strings: $a = \"abcd\" xor(1-2-3-4) condition: $a }",
	    "rule a { condition: for any k, 3 in dotnet.x : (true) }",
	    "rule a { condition: 1.5 > }",
	    "import pe\nrule a { condition: true }",
	};
	const struct rules_skipped *sk;
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	const char *f1 = "rule keep { condition: true }\n"
			 "rule gone { condition: true }\n"
			 "rule u { condition: dotnet.is_dll() }\n"
			 "rule bad { condition: ( }\n";
	const char *f2 = "rule gone { strings: $a = \"qqq\" condition: $a and keep }\n";
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		assert_int_equal(skip_src(srcs[i], &c, &rs, &d), WARD_ESYNTAX);
		rules_compiler_free(c);
	}
	assert_int_equal(rules_compiler_new(&c), 0);
	rules_compiler_skip_unsupported(c);
	assert_int_equal(rules_compiler_add_string(c, "f1", f1, strlen(f1), &d), WARD_ESYNTAX);
	assert_int_equal(d.line, 4);
	/* f1 is out whole: its rules and what it skipped. */
	assert_int_equal(rules_compiler_count(c), 0);
	(void)rules_compiler_skipped(c, &n);
	assert_int_equal(n, 0);
	/* So "gone" is free again, and "keep" is not defined. */
	assert_int_equal(rules_compiler_add_string(c, "f2", f2, strlen(f2), &d), WARD_EUNDEFINED);
	assert_int_equal(rules_compiler_count(c), 0);
	assert_int_equal(rules_compiler_add_string(c, "f3", f1, 60, &d), 0);
	assert_int_equal(rules_compiler_count(c), 2);
	f2 = "rule gone2 { strings: $a = \"qqq\" condition: $a and keep }\n";
	assert_int_equal(rules_compiler_add_string(c, "f2", f2, strlen(f2), &d), 0);
	sk = rules_compiler_skipped(c, &n);
	assert_int_equal(n, 0);
	(void)sk;
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	assert_int_equal(rs->nrules, 3);
	assert_int_equal(rs->nstrings, 1);
	ruleset_free(rs);
	rules_compiler_free(c);
}

/* Fails every allocation in turn while skipping: WARD_ENOMEM, cleanly. */
static void
test_skip_alloc_sweep(void **state)
{
	const char *src = "import \"dotnet\"\n"
			  "rule a { strings: $x = \"abc\" condition: $x }\n"
			  "private rule u { strings: $x = \"abcd\" condition: 50% of them }\n"
			  "rule v { strings: $x = /ab+c/ condition: $x and u }\n"
			  "rule w { condition: a and dotnet.is_dll() }\n"
			  "rule z { strings: $x = \"def\" condition: $x and a }\n";
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	unsigned long n, total;
	int r;

	(void)state;
	alloc_fail_after(0);
	assert_int_equal(skip_src(src, &c, &rs, &d), 0);
	total = alloc_fail_after(0);
	ruleset_free(rs);
	rules_compiler_free(c);
	assert_true(total > 10);
	for (n = 1; n <= total; n++) {
		alloc_fail_after(n);
		r = skip_src(src, &c, &rs, &d);
		alloc_fail_after(0);
		ruleset_free(rs);
		rules_compiler_free(c);
		if (r != 0 && r != WARD_ENOMEM)
			fail_msg("allocation %lu: got %d (%s)", n, r, d.msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_accepts),
	    cmocka_unit_test(test_structure),
	    cmocka_unit_test(test_defines),
	    cmocka_unit_test(test_after_error),
	    cmocka_unit_test(test_includes),
	    cmocka_unit_test(test_include_depth),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_alloc_sweep),
	    cmocka_unit_test(test_skip_keeps_supported),
	    cmocka_unit_test(test_skip_constructs),
	    cmocka_unit_test(test_skip_import),
	    cmocka_unit_test(test_skip_dependents),
	    cmocka_unit_test(test_skip_global_refused),
	    cmocka_unit_test(test_skip_syntax_is_error),
	    cmocka_unit_test(test_skip_alloc_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

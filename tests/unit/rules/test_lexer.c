/*
 * Unit tests of lib/rules/lexer: tokens, escapes, numbers, positions and
 * every error message of the lexer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rules/lexer.h"
#include "util/limits.h"

/* Lexes src fully; returns the first error, and the token types in types[]. */
static int
lex_all(const char *src, enum tok_type *types, size_t max, size_t *n, struct ward_diag *d)
{
	struct lexer *lx;
	struct token t;
	int r;

	*n = 0;
	assert_int_equal(lexer_new("t.yar", src, strlen(src), &lx), 0);
	for (;;) {
		if ((r = lexer_next(lx, &t, d)) != 0)
			break;
		if (*n < max)
			types[(*n)++] = t.type;
		if (t.type == TOK_EOF)
			break;
	}
	lexer_free(lx);
	return r;
}

static void
test_tokens(void **state)
{
	enum tok_type ty[64];
	struct ward_diag d;
	size_t n;

	(void)state;
	assert_int_equal(
	    lex_all("rule r : t { condition: $a and #a == 1 or @a[1] != !a }", ty, 64, &n, &d), 0);
	assert_int_equal(ty[0], TOK_RULE);
	assert_int_equal(ty[1], TOK_IDENT);
	assert_int_equal(ty[2], TOK_COLON);
	assert_int_equal(ty[4], TOK_LBRACE);
	assert_int_equal(ty[5], TOK_CONDITION);
	assert_int_equal(ty[7], TOK_STRID);
	assert_int_equal(ty[8], TOK_AND);
	assert_int_equal(ty[9], TOK_STRCOUNT);
	assert_int_equal(ty[10], TOK_EQ);
	assert_int_equal(ty[12], TOK_OR);
	assert_int_equal(ty[13], TOK_STROFF);
	assert_int_equal(ty[17], TOK_NEQ);
	assert_int_equal(ty[18], TOK_STRLEN);
	assert_int_equal(ty[n - 1], TOK_EOF);
	assert_int_equal(
	    lex_all("1..2 << >> <= >= < > \\ % & | ^ ~ . , [ ] ( ) + - *", ty, 64, &n, &d), 0);
	assert_int_equal(ty[0], TOK_INT);
	assert_int_equal(ty[1], TOK_DOTDOT);
	assert_int_equal(ty[2], TOK_INT);
	assert_int_equal(ty[3], TOK_SHL);
	assert_int_equal(ty[4], TOK_SHR);
	assert_int_equal(ty[5], TOK_LE);
	assert_int_equal(ty[6], TOK_GE);
	assert_int_equal(ty[9], TOK_BSLASH);
	assert_int_equal(ty[10], TOK_PERCENT);
	assert_int_equal(ty[15], TOK_DOT);
	/* comments */
	assert_int_equal(lex_all("// x\n/* y \n z */ rule", ty, 64, &n, &d), 0);
	assert_int_equal(ty[0], TOK_RULE);
	assert_int_equal(n, 2);
}

static void
test_values(void **state)
{
	struct lexer *lx;
	struct token t;
	struct ward_diag d;
	const char *src = "\"a\\n\\t\\r\\\"\\\\\\x41\" 0x10 0o17 2KB 3MB 42 = { 41 ?? } /a\\/b/is";

	(void)state;
	assert_int_equal(lexer_new("t", src, strlen(src), &lx), 0);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.type, TOK_TEXT);
	assert_int_equal(t.blen, 7);
	assert_memory_equal(t.buf, "a\n\t\r\"\\A", 7);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.ival, 16);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.ival, 15);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.ival, 2048);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.ival, 3 * 1024 * 1024);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.ival, 42);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.type, TOK_ASSIGN);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.type, TOK_HEX);
	assert_int_equal(t.blen, 7);
	assert_memory_equal(t.buf, " 41 ?? ", 7);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.type, TOK_REGEX);
	assert_int_equal(t.blen, 3);
	assert_memory_equal(t.buf, "a/b", 3);
	assert_int_equal(t.ival, LEXER_RE_NOCASE | LEXER_RE_DOTALL);
	lexer_free(lx);
}

static void
test_positions(void **state)
{
	struct lexer *lx;
	struct token t;
	struct ward_diag d;
	const char *src = "rule\n  abc\n\tx";
	int line, col;

	(void)state;
	assert_int_equal(lexer_new("t", src, strlen(src), &lx), 0);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.line, 1);
	assert_int_equal(t.col, 1);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.line, 2);
	assert_int_equal(t.col, 3);
	assert_int_equal(lexer_next(lx, &t, &d), 0);
	assert_int_equal(t.line, 3);
	assert_int_equal(t.col, 2);
	lexer_linecol(lx, 7, &line, &col);
	assert_int_equal(line, 2);
	assert_int_equal(col, 3);
	lexer_free(lx);
}

struct lex_err {
	const char *src;
	int err;
	int line, col;
	const char *msg;
};

static void
test_errors(void **state)
{
	static const struct lex_err cases[] = {
	    {"\"abc", WARD_ESYNTAX, 1, 1, "unterminated string"},
	    {"x \"ab\ncd\"", WARD_ESYNTAX, 1, 3, "unterminated string"},
	    {"\"a\\qb\"", WARD_ESYNTAX, 1, 3, "illegal escape sequence"},
	    {"\"a\\x4\"", WARD_ESYNTAX, 1, 3, "illegal escape sequence"},
	    {"/* abc", WARD_ESYNTAX, 1, 1, "unterminated comment"},
	    {"/abc", WARD_ESYNTAX, 1, 1, "unterminated regular expression"},
	    {"/abc/x", WARD_ESYNTAX, 1, 6, "invalid regular expression modifier"},
	    {"= { 41", WARD_ESYNTAX, 1, 3, "unterminated hex string"},
	    {"99999999999999999999", WARD_ESYNTAX, 1, 1, "integer overflow in"},
	    {"0x", WARD_ESYNTAX, 1, 1, "invalid number"},
	    {"12abc", WARD_ESYNTAX, 1, 1, "invalid number"},
	    {"9007199254740992KB", WARD_ESYNTAX, 1, 1, "integer overflow"},
	    {"rule `", WARD_ESYNTAX, 1, 6, "unexpected character '`'"},
	    {"\x01", WARD_ESYNTAX, 1, 1, "unexpected byte 0x01"},
	};
	enum tok_type ty[8];
	struct ward_diag d;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&d, 0, sizeof(d));
		assert_int_equal(lex_all(cases[i].src, ty, 8, &n, &d), cases[i].err);
		assert_int_equal(d.line, cases[i].line);
		assert_int_equal(d.col, cases[i].col);
		if (strstr(d.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, d.msg, cases[i].msg);
		assert_string_equal(d.file, "t.yar");
	}
}

static void
test_limits(void **state)
{
	enum tok_type ty[8];
	struct ward_diag d;
	char ident[WARD_MAX_IDENTIFIER + 3];
	static char big[WARD_MAX_STRING_BYTES + 8];
	size_t n;

	(void)state;
	memset(ident, 'a', sizeof(ident) - 1);
	ident[sizeof(ident) - 1] = '\0';
	assert_int_equal(lex_all(ident, ty, 8, &n, &d), WARD_ELIMIT);
	assert_non_null(strstr(d.msg, "WARD_MAX_IDENTIFIER"));
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '"';
	big[sizeof(big) - 2] = '"';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(lex_all(big, ty, 8, &n, &d), WARD_ELIMIT);
	assert_non_null(strstr(d.msg, "WARD_MAX_STRING_BYTES"));
	/* a source without NUL terminator is never read past its length */
	{
		struct lexer *lx;
		struct token t;
		const char src[4] = {'r', 'u', 'l', 'e'};

		assert_int_equal(lexer_new("t", src, 3, &lx), 0);
		assert_int_equal(lexer_next(lx, &t, &d), 0);
		assert_int_equal(t.type, TOK_IDENT);
		assert_int_equal(t.len, 3);
		lexer_free(lx);
	}
}

static void
test_toknames(void **state)
{
	(void)state;
	assert_string_equal(lexer_tokname(TOK_EOF), "end of file");
	assert_string_equal(lexer_tokname(TOK_RBRACE), "'}'");
	assert_string_equal(lexer_tokname(TOK_CONDITION), "condition");
	assert_string_equal(lexer_tokname(TOK_COUNT_), "token");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens),    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_positions), cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),    cmocka_unit_test(test_toknames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

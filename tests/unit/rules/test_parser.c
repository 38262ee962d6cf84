/*
 * Unit tests of lib/rules/parser: the rules it hands to the compiler, the
 * syntactic classes of YARA's grammar, operator precedence, includes, and
 * its refusals, independently of the compiler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rules/cond.h"
#include "rules/parser.h"

struct seen {
	int nrules;
	int nincludes;
	char last_include[64];
	struct ast *keep; /* the condition of the last rule (moved out) */
	uint32_t flags, nstrings, ntags, nmeta;
	unsigned sflags[4];
	enum pattern_kind kinds[4];
};

static int
on_rule(void *arg, struct prule *r, const struct lexer *lx, struct ward_diag *d)
{
	struct seen *s = arg;
	uint32_t i;

	(void)lx;
	(void)d;
	s->nrules++;
	ast_free(s->keep);
	s->keep = r->cond;
	r->cond = NULL;
	s->flags = r->flags;
	s->nstrings = r->nstrings;
	s->ntags = r->ntags;
	s->nmeta = r->nmeta;
	for (i = 0; i < r->nstrings && i < 4; i++) {
		s->sflags[i] = r->strings[i].flags;
		s->kinds[i] = r->strings[i].kind;
	}
	return 0;
}

static int
on_include(void *arg, const char *path, int line, int col, struct ward_diag *d)
{
	struct seen *s = arg;

	(void)line;
	(void)col;
	(void)d;
	s->nincludes++;
	strncpy(s->last_include, path, sizeof(s->last_include) - 1);
	return 0;
}

static int
parse(const char *src, struct seen *s, struct ward_diag *d)
{
	struct parser_cb cb = {s, on_rule, on_include, NULL, NULL};

	memset(s, 0, sizeof(*s));
	memset(d, 0, sizeof(*d));
	return parser_parse("p.yar", src, strlen(src), &cb, d);
}

static void
test_rules(void **state)
{
	struct seen s;
	struct ward_diag d;

	(void)state;
	assert_int_equal(parse("include \"a/b.yar\"\n"
			       "global private rule r : x y { meta: a = 1 b = \"s\" strings: "
			       "$a = \"t\" wide nocase $b = { 41 } private $c = /r/is fullword "
			       "condition: true }\nrule s { condition: false }",
			       &s, &d),
			 0);
	assert_int_equal(s.nincludes, 1);
	assert_string_equal(s.last_include, "a/b.yar");
	assert_int_equal(s.nrules, 2);
	ast_free(s.keep);
	assert_int_equal(parse("global private rule r : x y { meta: a = 1 b = \"s\" strings: "
			       "$a = \"t\" wide nocase $b = { 41 } private $c = /r/is fullword "
			       "condition: true }",
			       &s, &d),
			 0);
	assert_int_equal(s.flags, RS_RULE_GLOBAL | RS_RULE_PRIVATE);
	assert_int_equal(s.ntags, 2);
	assert_int_equal(s.nmeta, 2);
	assert_int_equal(s.nstrings, 3);
	assert_int_equal(s.kinds[0], PATTERN_TEXT);
	assert_int_equal(s.sflags[0], PATTERN_WIDE | PATTERN_NOCASE);
	assert_int_equal(s.kinds[1], PATTERN_HEX);
	assert_int_equal(s.sflags[1], PATTERN_PRIVATE);
	assert_int_equal(s.kinds[2], PATTERN_REGEX);
	assert_int_equal(s.sflags[2], PATTERN_NOCASE | PATTERN_DOTALL | PATTERN_FULLWORD);
	assert_int_equal(s.keep->op, AST_TRUE);
	ast_free(s.keep);
}

static void
test_precedence(void **state)
{
	struct seen s;
	struct ward_diag d;
	const struct ast *a;

	(void)state;
	/* a or b and c  ==  a or (b and c) */
	assert_int_equal(parse("rule r { condition: true or false and true }", &s, &d), 0);
	assert_int_equal(s.keep->op, AST_OR);
	assert_int_equal(s.keep->b->op, AST_AND);
	ast_free(s.keep);
	/* not a == b  ==  not (a == b) */
	assert_int_equal(parse("rule r { condition: not 1 == 2 }", &s, &d), 0);
	assert_int_equal(s.keep->op, AST_NOT);
	assert_int_equal(s.keep->a->op, AST_BIN);
	assert_int_equal(s.keep->a->tok, TOK_EQ);
	ast_free(s.keep);
	/* 1 + 2 * 3 << 1 | 4  ==  ((1 + (2 * 3)) << 1) | 4 */
	assert_int_equal(parse("rule r { condition: 1 + 2 * 3 << 1 | 4 }", &s, &d), 0);
	a = s.keep;
	assert_int_equal(a->tok, TOK_PIPE);
	assert_int_equal(a->a->tok, TOK_SHL);
	assert_int_equal(a->a->a->tok, TOK_PLUS);
	assert_int_equal(a->a->a->b->tok, TOK_STAR);
	assert_int_equal(a->cls, AST_PRIM);
	ast_free(s.keep);
	/* left associativity: 10 - 2 - 3 == (10 - 2) - 3 */
	assert_int_equal(parse("rule r { condition: 10 - 2 - 3 }", &s, &d), 0);
	assert_int_equal(s.keep->a->tok, TOK_MINUS);
	assert_int_equal(s.keep->b->i, 3);
	ast_free(s.keep);
	/* -5 is folded into a literal; $a at 1 + 2 takes the whole sum */
	assert_int_equal(parse("rule r { condition: $a at 1 + 2 and -5 < 0 }", &s, &d), 0);
	assert_int_equal(s.keep->a->op, AST_AT);
	assert_int_equal(s.keep->a->a->tok, TOK_PLUS);
	assert_int_equal(s.keep->b->a->op, AST_INT);
	assert_int_equal(s.keep->b->a->i, -5);
	ast_free(s.keep);
	/* N of, for loops, quantifiers */
	assert_int_equal(parse("rule r { condition: 1 + 1 of ($a*, $b) and for 2 i in (1..3) : "
			       "(i > 1) and for none of them : ($) }",
			       &s, &d),
			 0);
	a = s.keep;
	assert_int_equal(a->a->a->op, AST_OF);
	assert_int_equal(a->a->a->quant, COND_Q_EXPR);
	assert_int_equal(a->a->a->nset, 2);
	assert_int_equal(a->a->b->op, AST_FOR_RANGE);
	assert_int_equal(a->b->op, AST_FOR_OF);
	assert_int_equal(a->b->quant, COND_Q_NONE);
	assert_int_equal(a->b->them, 1);
	ast_free(s.keep);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *src;
		int err;
		int line, col;
	} cases[] = {
	    {"rule r { condition: 1 == 1 == 1 }", WARD_ESYNTAX, 1, 28},
	    {"rule r { condition: true + 1 }", WARD_ESYNTAX, 1, 26},
	    {"rule r { condition: (true) * 2 }", WARD_ESYNTAX, 1, 28},
	    {"rule r { condition: $a == 1 }", WARD_ESYNTAX, 1, 24},
	    {"import \"dotnet\"", WARD_EUNSUPPORTED, 1, 1},
	    {"rule r { condition: x.y }", WARD_EUNDEFINED, 1, 21},
	    {"rule r { condition: dotnet.version == \"x\" }", WARD_EUNSUPPORTED, 1, 21},
	    {"rule", WARD_ESYNTAX, 1, 5},
	    {"rule r", WARD_ESYNTAX, 1, 7},
	    {"rule r {", WARD_ESYNTAX, 1, 9},
	    {"rule r { condition: true } }", WARD_ESYNTAX, 1, 28},
	    {"rule r { condition: uint8 }", WARD_ESYNTAX, 1, 27},
	    {"rule r { condition: for any i in (1..2) }", WARD_ESYNTAX, 1, 41},
	    {"rule r { condition: for any i in (1..2) : true }", WARD_ESYNTAX, 1, 43},
	    {"rule r { condition: them }", WARD_ESYNTAX, 1, 21},
	};
	struct seen s;
	struct ward_diag d;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = parse(cases[i].src, &s, &d);
		ast_free(s.keep);
		if (r != cases[i].err || d.line != cases[i].line || d.col != cases[i].col)
			fail_msg("case %zu (%s): %d at %d:%d (%s)", i, cases[i].src, r, d.line,
				 d.col, d.msg);
		assert_string_equal(d.file, "p.yar");
	}
}

static void
test_empty(void **state)
{
	struct seen s;
	struct ward_diag d;

	(void)state;
	assert_int_equal(parse("", &s, &d), 0);
	assert_int_equal(s.nrules, 0);
	assert_int_equal(parse("// only a comment\n/* and another */", &s, &d), 0);
	assert_int_equal(s.nrules, 0);
}

/* What the recovering parser handed over. */
struct skips {
	int nrules, nskips, nimports;
	char names[8][16];
	int line[8], col[8];
	size_t off[8], end[8];
};

static int
rec_rule(void *arg, struct prule *r, const struct lexer *lx, struct ward_diag *d)
{
	struct skips *k = arg;

	(void)r;
	(void)lx;
	(void)d;
	k->nrules++;
	return 0;
}

static int
rec_skip(void *arg, const struct parser_skip *sk, struct ward_diag *d)
{
	struct skips *k = arg;
	int i = k->nskips++;

	(void)d;
	if (sk->rule == NULL)
		k->nimports++;
	if (i < 8) {
		snprintf(k->names[i], sizeof(k->names[i]), "%s",
			 sk->rule != NULL ? sk->rule->name : sk->module);
		k->line[i] = sk->why->line;
		k->col[i] = sk->why->col;
		k->off[i] = sk->off;
		k->end[i] = sk->end;
	}
	return 0;
}

/* With cb->unsupported, a rule with a construct outside the subset is read
 * to its end and handed over whole, at its first such construct; the
 * rules around it are parsed as usual; a syntax error is still one. */
static void
test_recover(void **state)
{
	const char *src = "import \"dotnet\"\n"
			  "rule a { condition: true }\n"
			  "rule b { strings: $x = \"abcd\" xor(1-2) condition: "
			  "50% of them and dotnet.number_of_streams > 7 and $x }\n"
			  "rule c { condition: entrypoint == 0 }\n"
			  "rule d { condition: false }\n";
	struct parser_cb cb = {NULL, rec_rule, on_include, rec_skip, NULL};
	struct skips k;
	struct ward_diag d;

	(void)state;
	memset(&k, 0, sizeof(k));
	cb.arg = &k;
	memset(&d, 0, sizeof(d));
	assert_int_equal(parser_parse("p.yar", src, strlen(src), &cb, &d), 0);
	assert_int_equal(k.nrules, 2);
	assert_int_equal(k.nskips, 3);
	assert_int_equal(k.nimports, 1);
	assert_string_equal(k.names[0], "dotnet");
	assert_int_equal(k.off[0], 0);
	assert_int_equal(k.end[0], 15);
	assert_string_equal(k.names[1], "b");
	assert_int_equal(k.line[1], 3);
	assert_int_equal(k.col[1], 53); /* the first: the percentage */
	assert_int_equal(k.off[1], strstr(src, "rule b") - src);
	assert_int_equal(k.end[1], strstr(src, "\nrule c") - src);
	assert_string_equal(k.names[2], "c");
	assert_int_equal(k.col[2], 21);

	/* Without the callback, the first construct is the error. */
	cb.unsupported = NULL;
	memset(&k, 0, sizeof(k));
	assert_int_equal(parser_parse("p.yar", src, strlen(src), &cb, &d), WARD_EUNSUPPORTED);
	assert_int_equal(d.line, 1);
	assert_int_equal(k.nskips, 0);

	cb.unsupported = rec_skip;
	memset(&k, 0, sizeof(k));
	src = "rule b { condition: pe.x and }\n";
	assert_int_equal(parser_parse("p.yar", src, strlen(src), &cb, &d), WARD_ESYNTAX);
	assert_int_equal(k.nskips, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules),      cmocka_unit_test(test_recover),
	    cmocka_unit_test(test_precedence), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

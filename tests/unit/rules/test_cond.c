/*
 * Unit tests of lib/rules/cond: the bytecode verifier against hand-crafted
 * hostile programs (indices past what exists — the "21st field where 20
 * exist" — truncation, stack abuse, bad jumps, bad loops, type confusion)
 * and the interpreter's YARA semantics on a hand-built scan environment.
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

/*
 * A fixed rule set: rule 0 owns strings 0..1, rule 1 owns strings 2..21
 * (20 strings: indices 2..21), one int external, one string external, no
 * regexps.  The rule under test is rule 1; its code is replaced per case.
 */
static struct ruleset *
mkset(void)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	uint32_t i;

	rs->nrules = 2;
	rs->rules = calloc(2, sizeof(*rs->rules));
	rs->rules[0].name = ward_strdup("r0");
	rs->rules[0].str_first = 0;
	rs->rules[0].str_count = 2;
	rs->rules[1].name = ward_strdup("r1");
	rs->rules[1].str_first = 2;
	rs->rules[1].str_count = 20;
	rs->nstrings = 22;
	rs->strings = calloc(22, sizeof(*rs->strings));
	for (i = 0; i < 22; i++) {
		rs->strings[i].id = ward_strdup("$s");
		rs->strings[i].rule = i < 2 ? 0 : 1;
	}
	rs->next = 2;
	rs->ext = calloc(2, sizeof(*rs->ext));
	rs->ext[0].name = ward_strdup("ei");
	rs->ext[0].type = RS_INT;
	rs->ext[0].i = 7;
	rs->ext[1].name = ward_strdup("es");
	rs->ext[1].type = RS_STR;
	rs->ext[1].s = ward_strdup("abc");
	rs->ext[1].slen = 3;
	return rs;
}

static void
setcode(struct ruleset *rs, const struct wbuf *w)
{
	ward_free(rs->rules[1].code);
	rs->rules[1].code = ward_memdup(w->p, w->len);
	rs->rules[1].code_len = (uint32_t)w->len;
}

static int
verify(struct ruleset *rs, const struct wbuf *w, struct ward_diag *d)
{
	setcode(rs, w);
	memset(d, 0, sizeof(*d));
	return cond_verify(rs, 1, d);
}

static void
expect_reject(struct ruleset *rs, struct wbuf *w, const char *why)
{
	struct ward_diag d;

	assert_int_equal(w->err, 0);
	if (verify(rs, w, &d) != WARD_EVERIFY)
		fail_msg("accepted, want \"%s\"", why);
	if (strstr(d.msg, why) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", d.msg, why);
	wbuf_free(w);
}

static void
expect_accept(struct ruleset *rs, struct wbuf *w)
{
	struct ward_diag d;

	assert_int_equal(w->err, 0);
	if (verify(rs, w, &d) != 0)
		fail_msg("rejected: %s", d.msg);
	wbuf_free(w);
}

static void
test_indices(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;

	(void)state;
	/* the 20 strings of rule 1 are 2..21: index 21 is the 20th, fine */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_FOUND, 21);
	expect_accept(rs, &w);
	/* a 21st string (index 22) where 20 exist */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_FOUND, 22);
	expect_reject(rs, &w, "string index out of range");
	/* another rule's string */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_COUNT, 1);
	expect_reject(rs, &w, "string index out of range");
	/* a huge index */
	wbuf_init(&w);
	cond_emit_int(&w, 0);
	cond_emit_op_u32(&w, COND_AT, 0xfffffff0u);
	expect_reject(rs, &w, "string index out of range");
	/* string sets check every member */
	wbuf_init(&w);
	wbuf_u8(&w, COND_OF);
	wbuf_u8(&w, COND_Q_ANY);
	wbuf_u32(&w, 2);
	wbuf_u32(&w, 3);
	wbuf_u32(&w, 40);
	expect_reject(rs, &w, "string index out of range");
	wbuf_init(&w);
	wbuf_u8(&w, COND_OF);
	wbuf_u8(&w, COND_Q_ANY);
	wbuf_u32(&w, 0);
	expect_reject(rs, &w, "bad string set size");
	/* rule references: only earlier rules */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_RULE, 0);
	expect_accept(rs, &w);
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_RULE, 1);
	expect_reject(rs, &w, "earlier rule");
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_RULE, 5);
	expect_reject(rs, &w, "earlier rule");
	/* externals and regexps */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_EXT, 2);
	expect_reject(rs, &w, "external variable index");
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_EXT, 1);
	cond_emit_op_u32(&w, COND_MATCHES, 0);
	expect_reject(rs, &w, "regular expression index");
	/* the current string outside a for-of loop */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_FOUND, COND_STR_CURRENT);
	expect_reject(rs, &w, "outside a for-of loop");
	/* a loop variable outside a range loop */
	wbuf_init(&w);
	wbuf_u8(&w, COND_PUSH_VAR);
	wbuf_u8(&w, 0);
	expect_reject(rs, &w, "loop variable slot");
	/* read kinds */
	wbuf_init(&w);
	cond_emit_int(&w, 0);
	wbuf_u8(&w, COND_READ);
	wbuf_u8(&w, COND_RD_MAX_);
	expect_reject(rs, &w, "bad read kind");
	/* the rule index itself */
	{
		struct ward_diag d;

		assert_int_equal(cond_verify(rs, 2, &d), WARD_EVERIFY);
		assert_int_equal(cond_verify(NULL, 0, &d), WARD_EVERIFY);
	}
	ruleset_free(rs);
}

static void
test_decoding(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;

	(void)state;
	wbuf_init(&w);
	wbuf_u8(&w, COND_PUSH_INT);
	wbuf_u32(&w, 1); /* 4 of the 8 operand bytes */
	expect_reject(rs, &w, "truncated");
	wbuf_init(&w);
	wbuf_u8(&w, COND_PUSH_STR);
	wbuf_u32(&w, 100);
	wbuf_put(&w, "abc", 3);
	expect_reject(rs, &w, "string literal extends past the code");
	wbuf_init(&w);
	wbuf_u8(&w, 0);
	expect_reject(rs, &w, "unknown opcode");
	wbuf_init(&w);
	wbuf_u8(&w, COND_OP_MAX_);
	expect_reject(rs, &w, "unknown opcode");
	wbuf_init(&w);
	wbuf_u8(&w, 0xff);
	expect_reject(rs, &w, "unknown opcode");
	wbuf_init(&w);
	wbuf_u8(&w, COND_OF);
	wbuf_u8(&w, 9);
	wbuf_u32(&w, 1);
	wbuf_u32(&w, 2);
	expect_reject(rs, &w, "bad quantifier");
	/* empty code */
	{
		struct ward_diag d;

		ward_free(rs->rules[1].code);
		rs->rules[1].code = NULL;
		rs->rules[1].code_len = 0;
		assert_int_equal(cond_verify(rs, 1, &d), WARD_EVERIFY);
	}
	ruleset_free(rs);
}

static void
test_stack(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;
	int i;

	(void)state;
	wbuf_init(&w);
	cond_emit_op(&w, COND_AND);
	expect_reject(rs, &w, "stack underflow");
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_ADD);
	expect_reject(rs, &w, "stack underflow");
	wbuf_init(&w);
	for (i = 0; i < WARD_MAX_STACK + 1; i++)
		cond_emit_int(&w, 1);
	expect_reject(rs, &w, "stack overflow");
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	cond_emit_int(&w, 1);
	expect_reject(rs, &w, "exactly one");
	/* types: a string where an integer is expected, and the converse */
	wbuf_init(&w);
	cond_emit_str(&w, (const uint8_t *)"a", 1);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_ADD);
	expect_reject(rs, &w, "wrong type");
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_CONTAINS);
	expect_reject(rs, &w, "wrong type");
	wbuf_init(&w);
	cond_emit_str(&w, (const uint8_t *)"a", 1);
	expect_reject(rs, &w, "boolean");
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_EXT, 1);
	cond_emit_op(&w, COND_STR_TO_BOOL);
	expect_accept(rs, &w);
	ruleset_free(rs);
}

static void
test_jumps(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;
	size_t j;

	(void)state;
	/* a well-formed `a and b` */
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	j = cond_emit_jump(&w, COND_JFALSE);
	cond_emit_int(&w, 0);
	cond_emit_op(&w, COND_AND);
	cond_patch_jump(&w, j);
	expect_accept(rs, &w);
	/* past the end */
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	wbuf_u8(&w, COND_JTRUE);
	wbuf_u32(&w, 100);
	expect_reject(rs, &w, "leaves its enclosing code");
	/* a "backward" jump is an offset that wraps: refused the same way */
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	wbuf_u8(&w, COND_JTRUE);
	wbuf_u32(&w, 0xfffffff0u);
	expect_reject(rs, &w, "leaves its enclosing code");
	/* into the middle of an instruction */
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	wbuf_u8(&w, COND_JTRUE);
	wbuf_u32(&w, 3);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_OR);
	expect_reject(rs, &w, "middle of an instruction");
	/* a jump whose target sees a different stack */
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	j = cond_emit_jump(&w, COND_JTRUE);
	cond_emit_int(&w, 1);
	cond_patch_jump(&w, j);
	cond_emit_op(&w, COND_OR);
	expect_reject(rs, &w, "stack differs");
	/* a jump without a value */
	wbuf_init(&w);
	wbuf_u8(&w, COND_JTRUE);
	wbuf_u32(&w, 0);
	cond_emit_int(&w, 1);
	expect_reject(rs, &w, "without a boolean");
	/* a jump out of a loop body */
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	cond_emit_int(&w, 2);
	wbuf_u8(&w, COND_LOOP_RANGE);
	wbuf_u8(&w, COND_Q_ANY);
	wbuf_u8(&w, 0);
	wbuf_u32(&w, 9 + 5);
	cond_emit_int(&w, 1);
	wbuf_u8(&w, COND_JTRUE);
	wbuf_u32(&w, 9); /* lands after the body */
	cond_emit_int(&w, 1);
	expect_reject(rs, &w, "leaves its enclosing code");
	ruleset_free(rs);
}

static void
emit_range_loop(struct wbuf *w, int slot, size_t *lenoff)
{
	cond_emit_int(w, 1);
	cond_emit_int(w, 2);
	wbuf_u8(w, COND_LOOP_RANGE);
	wbuf_u8(w, COND_Q_ANY);
	wbuf_u8(w, (uint8_t)slot);
	*lenoff = w->len;
	wbuf_u32(w, 0);
}

static void
test_loops(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;
	size_t lo[8];
	int i;

	(void)state;
	/* 4 nested range loops are fine, using their variables */
	wbuf_init(&w);
	for (i = 0; i < WARD_MAX_LOOP_DEPTH; i++)
		emit_range_loop(&w, i, &lo[i]);
	wbuf_u8(&w, COND_PUSH_VAR);
	wbuf_u8(&w, 3);
	for (i = WARD_MAX_LOOP_DEPTH - 1; i >= 0; i--)
		wbuf_patch_u32(&w, lo[i], (uint32_t)(w.len - lo[i] - 4));
	expect_accept(rs, &w);
	/* 5 are not */
	wbuf_init(&w);
	for (i = 0; i < WARD_MAX_LOOP_DEPTH + 1; i++)
		emit_range_loop(&w, i, &lo[i]);
	cond_emit_int(&w, 1);
	for (i = WARD_MAX_LOOP_DEPTH; i >= 0; i--)
		wbuf_patch_u32(&w, lo[i], (uint32_t)(w.len - lo[i] - 4));
	expect_reject(rs, &w, "nested too deeply");
	/* a wrong slot */
	wbuf_init(&w);
	emit_range_loop(&w, 2, &lo[0]);
	cond_emit_int(&w, 1);
	wbuf_patch_u32(&w, lo[0], (uint32_t)(w.len - lo[0] - 4));
	expect_reject(rs, &w, "slot");
	/* a body longer than the code */
	wbuf_init(&w);
	emit_range_loop(&w, 0, &lo[0]);
	cond_emit_int(&w, 1);
	wbuf_patch_u32(&w, lo[0], 1000);
	expect_reject(rs, &w, "loop body extends past");
	/* a body that leaves nothing, or underflows into the loop's operands */
	wbuf_init(&w);
	emit_range_loop(&w, 0, &lo[0]);
	wbuf_patch_u32(&w, lo[0], 0);
	expect_reject(rs, &w, "exactly one");
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	emit_range_loop(&w, 0, &lo[0]);
	cond_emit_op(&w, COND_NOT);
	wbuf_patch_u32(&w, lo[0], (uint32_t)(w.len - lo[0] - 4));
	cond_emit_op(&w, COND_AND);
	expect_reject(rs, &w, "stack underflow");
	/* for-of: the current string is fine inside, nested for-of is not */
	wbuf_init(&w);
	wbuf_u8(&w, COND_LOOP_OF);
	wbuf_u8(&w, COND_Q_ALL);
	wbuf_u32(&w, 1);
	wbuf_u32(&w, 5);
	lo[0] = w.len;
	wbuf_u32(&w, 0);
	cond_emit_op_u32(&w, COND_FOUND, COND_STR_CURRENT);
	wbuf_patch_u32(&w, lo[0], (uint32_t)(w.len - lo[0] - 4));
	expect_accept(rs, &w);
	wbuf_init(&w);
	wbuf_u8(&w, COND_LOOP_OF);
	wbuf_u8(&w, COND_Q_ALL);
	wbuf_u32(&w, 1);
	wbuf_u32(&w, 5);
	lo[0] = w.len;
	wbuf_u32(&w, 0);
	wbuf_u8(&w, COND_LOOP_OF);
	wbuf_u8(&w, COND_Q_ALL);
	wbuf_u32(&w, 1);
	wbuf_u32(&w, 5);
	lo[1] = w.len;
	wbuf_u32(&w, 0);
	cond_emit_int(&w, 1);
	wbuf_patch_u32(&w, lo[1], (uint32_t)(w.len - lo[1] - 4));
	wbuf_patch_u32(&w, lo[0], (uint32_t)(w.len - lo[0] - 4));
	expect_reject(rs, &w, "nested for-of");
	ruleset_free(rs);
}

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

/* Code that passes the verifier runs within WARD_MAX_EVAL_STEPS. */
static void
test_steps(void **state)
{
	struct ruleset *rs = mkset();
	struct rs_scan_env env = {NULL, 10, rd, NULL, NULL, NULL};
	struct wbuf w;
	struct ward_diag d;
	uint64_t steps = WARD_MAX_EVAL_STEPS - 3;
	uint8_t results[2] = {0, 0};
	int res;

	(void)state;
	wbuf_init(&w);
	cond_emit_int(&w, 1);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_ADD);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_ADD);
	assert_int_equal(verify(rs, &w, &d), 0);
	assert_int_equal(cond_eval(rs, 1, &env, results, &steps, &res), WARD_ELIMIT);
	steps = 0;
	assert_int_equal(cond_eval(rs, 1, &env, results, &steps, &res), 0);
	assert_int_equal(res, 1);
	assert_int_equal(steps, 5);
	wbuf_free(&w);
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
static void
test_floats_and_modules(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;

	(void)state;
	/* A float is not a boolean, and int operators refuse it. */
	wbuf_init(&w);
	cond_emit_float(&w, 1.5);
	expect_reject(rs, &w, "must leave exactly one boolean");
	wbuf_init(&w);
	cond_emit_float(&w, 1.5);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_ADD);
	cond_emit_op(&w, COND_NOT);
	expect_reject(rs, &w, "wrong type");
	wbuf_init(&w);
	cond_emit_float(&w, 1.5);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_ITOF);
	cond_emit_op(&w, COND_F_LT);
	expect_accept(rs, &w);
	wbuf_init(&w);
	cond_emit_float(&w, 1.5);
	cond_emit_op(&w, COND_ITOF);
	cond_emit_op(&w, COND_F_TO_BOOL);
	expect_reject(rs, &w, "wrong type");
	wbuf_init(&w);
	wbuf_u8(&w, COND_PUSH_FLOAT);
	wbuf_u32(&w, 0);
	expect_reject(rs, &w, "truncated");
	/* time.now(): module 5, function 1, no arguments, an integer. */
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_CALL);
	wbuf_u8(&w, 5);
	wbuf_u16(&w, 1);
	cond_emit_int(&w, 0);
	cond_emit_op(&w, COND_GT);
	expect_accept(rs, &w);
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_CALL);
	wbuf_u8(&w, 99);
	wbuf_u16(&w, 1);
	expect_reject(rs, &w, "no such module");
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_CALL);
	wbuf_u8(&w, 5);
	wbuf_u16(&w, 2);
	expect_reject(rs, &w, "no such value or function");
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_CALL);
	wbuf_u8(&w, 5);
	wbuf_u16(&w, 0);
	expect_reject(rs, &w, "no such value or function");
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_VALUE);
	wbuf_u8(&w, 5);
	wbuf_u16(&w, 1);
	expect_reject(rs, &w, "no such value or function");
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_CALL);
	wbuf_u8(&w, 5);
	expect_reject(rs, &w, "truncated");
	/* A regexp argument names a regexp of the rule set (there are none). */
	wbuf_init(&w);
	cond_emit_op_u32(&w, COND_PUSH_REGEX, 0);
	cond_emit_op(&w, COND_DEFINED);
	expect_reject(rs, &w, "regular expression index out of range");
	ruleset_free(rs);
}

/* An items loop over elf.sections (elf is module 2; its count of sections
 * is value 260, a section's type value 100): N, count, the loop. */
static void
emit_items_loop(struct wbuf *w, int quant, int slot, size_t *lenoff)
{
	if (quant == COND_Q_EXPR)
		cond_emit_int(w, 2);
	wbuf_u8(w, COND_MOD_VALUE);
	wbuf_u8(w, 2);
	wbuf_u16(w, 260);
	wbuf_u8(w, COND_LOOP_ITEMS);
	wbuf_u8(w, (uint8_t)quant);
	wbuf_u8(w, (uint8_t)slot);
	*lenoff = w->len;
	wbuf_u32(w, 0);
}

static void
end_loop(struct wbuf *w, size_t lenoff)
{
	wbuf_patch_u32(w, lenoff, (uint32_t)(w->len - lenoff - 4));
}

/* COND_LOOP_ITEMS: the count an integer on the stack (and N under it for
 * COND_Q_EXPR), the slot the loop's depth, the body a sub-program that
 * may read the slot as a range loop's; nesting counted with the others. */
static void
test_items_loops(void **state)
{
	struct ruleset *rs = mkset();
	struct wbuf w;
	size_t lo[8];
	int i;

	(void)state;
	/* sections[slot].type == 1, for 2 of them */
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_EXPR, 0, &lo[0]);
	wbuf_u8(&w, COND_PUSH_VAR);
	wbuf_u8(&w, 0);
	wbuf_u8(&w, COND_MOD_VALUE);
	wbuf_u8(&w, 2);
	wbuf_u16(&w, 100);
	cond_emit_int(&w, 1);
	cond_emit_op(&w, COND_EQ);
	end_loop(&w, lo[0]);
	expect_accept(rs, &w);
	/* N missing: the count is taken for it, and then nothing is left */
	wbuf_init(&w);
	wbuf_u8(&w, COND_MOD_VALUE);
	wbuf_u8(&w, 2);
	wbuf_u16(&w, 260);
	wbuf_u8(&w, COND_LOOP_ITEMS);
	wbuf_u8(&w, COND_Q_EXPR);
	wbuf_u8(&w, 0);
	lo[0] = w.len;
	wbuf_u32(&w, 0);
	cond_emit_int(&w, 1);
	end_loop(&w, lo[0]);
	expect_reject(rs, &w, "stack underflow");
	/* no count at all */
	wbuf_init(&w);
	wbuf_u8(&w, COND_LOOP_ITEMS);
	wbuf_u8(&w, COND_Q_ANY);
	wbuf_u8(&w, 0);
	wbuf_u32(&w, 9);
	cond_emit_int(&w, 1);
	expect_reject(rs, &w, "stack underflow");
	/* a count that is a string */
	wbuf_init(&w);
	cond_emit_str(&w, (const uint8_t *)"3", 1);
	wbuf_u8(&w, COND_LOOP_ITEMS);
	wbuf_u8(&w, COND_Q_ALL);
	wbuf_u8(&w, 0);
	wbuf_u32(&w, 9);
	cond_emit_int(&w, 1);
	expect_reject(rs, &w, "wrong type");
	/* a bad quantifier, a wrong slot, a body past the code, truncation */
	wbuf_init(&w);
	emit_items_loop(&w, 9, 0, &lo[0]);
	cond_emit_int(&w, 1);
	end_loop(&w, lo[0]);
	expect_reject(rs, &w, "bad quantifier");
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_ANY, 1, &lo[0]);
	cond_emit_int(&w, 1);
	end_loop(&w, lo[0]);
	expect_reject(rs, &w, "slot");
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_ANY, 0, &lo[0]);
	cond_emit_int(&w, 1);
	wbuf_patch_u32(&w, lo[0], 1000);
	expect_reject(rs, &w, "loop body extends past");
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_ANY, 0, &lo[0]);
	w.len -= 2;
	expect_reject(rs, &w, "truncated");
	/* a body that pops the count's place */
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_ALL, 0, &lo[0]);
	cond_emit_op(&w, COND_NOT);
	end_loop(&w, lo[0]);
	expect_reject(rs, &w, "stack underflow");
	/* the slot read after its loop ended */
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_ALL, 0, &lo[0]);
	cond_emit_int(&w, 1);
	end_loop(&w, lo[0]);
	wbuf_u8(&w, COND_PUSH_VAR);
	wbuf_u8(&w, 0);
	cond_emit_op(&w, COND_AND);
	expect_reject(rs, &w, "does not name an enclosing range or items loop");
	/* nested with range loops: 4 deep, the innermost reading every slot */
	wbuf_init(&w);
	for (i = 0; i < WARD_MAX_LOOP_DEPTH; i++)
		if (i % 2)
			emit_range_loop(&w, i, &lo[i]);
		else
			emit_items_loop(&w, COND_Q_ANY, i, &lo[i]);
	for (i = 0; i < WARD_MAX_LOOP_DEPTH; i++) {
		wbuf_u8(&w, COND_PUSH_VAR);
		wbuf_u8(&w, (uint8_t)i);
		if (i > 0)
			cond_emit_op(&w, COND_ADD);
	}
	for (i = WARD_MAX_LOOP_DEPTH - 1; i >= 0; i--)
		end_loop(&w, lo[i]);
	expect_accept(rs, &w);
	wbuf_init(&w);
	for (i = 0; i < WARD_MAX_LOOP_DEPTH + 1; i++)
		emit_items_loop(&w, COND_Q_ANY, i, &lo[i]);
	cond_emit_int(&w, 1);
	for (i = WARD_MAX_LOOP_DEPTH; i >= 0; i--)
		end_loop(&w, lo[i]);
	expect_reject(rs, &w, "nested too deeply");
	/* a for-of string inside an items loop is no for-of loop */
	wbuf_init(&w);
	emit_items_loop(&w, COND_Q_ANY, 0, &lo[0]);
	cond_emit_op_u32(&w, COND_FOUND, COND_STR_CURRENT);
	end_loop(&w, lo[0]);
	expect_reject(rs, &w, "outside a for-of loop");
	ruleset_free(rs);
}

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
	    cmocka_unit_test(test_indices),
	    cmocka_unit_test(test_decoding),
	    cmocka_unit_test(test_stack),
	    cmocka_unit_test(test_jumps),
	    cmocka_unit_test(test_loops),
	    cmocka_unit_test(test_eval),
	    cmocka_unit_test(test_eval_rules),
	    cmocka_unit_test(test_steps),
	    cmocka_unit_test(test_false_without_matches),
	    cmocka_unit_test(test_floats_and_modules),
	    cmocka_unit_test(test_module_rules),
	    cmocka_unit_test(test_items_loops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

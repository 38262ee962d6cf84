/*
 * Unit tests of lib/rules/cond: the bytecode verifier against hand-crafted
 * hostile programs (indices past what exists — the "21st field where 20
 * exist" — truncation, stack abuse, bad jumps, bad loops, type confusion),
 * and the step bound of what it accepts.  The interpreter's YARA semantics
 * are test_cond_eval.c's.
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

/* Code that passes the verifier runs within WARD_MAX_EVAL_STEPS. */
static void
test_steps(void **state)
{
	struct ruleset *rs = mkset();
	struct rs_scan_env env = {NULL, 10, NULL, NULL, NULL, NULL}; /* reads nothing */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_indices),
	    cmocka_unit_test(test_decoding),
	    cmocka_unit_test(test_stack),
	    cmocka_unit_test(test_jumps),
	    cmocka_unit_test(test_loops),
	    cmocka_unit_test(test_steps),
	    cmocka_unit_test(test_floats_and_modules),
	    cmocka_unit_test(test_items_loops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

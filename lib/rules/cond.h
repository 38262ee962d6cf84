/*
 * cond: the condition bytecode of a rule, its emitter, its verifier and its
 * interpreter.
 *
 * A condition is a program for a small stack machine.  Each instruction is
 * one opcode byte followed by fixed-size little-endian operands (listed
 * next to each opcode).  The machine's values are 64-bit integers (which
 * also carry booleans), doubles, byte strings, or "undefined", as in
 * YARA.
 *
 * Control flow is structured so that every program ends:
 *   - COND_JFALSE/COND_JTRUE jump forward only (u32 offset counted from the
 *     end of the jump instruction), never out of the enclosing loop body;
 *   - loops (COND_LOOP_RANGE, COND_LOOP_OF, COND_LOOP_ITEMS) name their body
 *     by length; the interpreter runs the body once per item, so there is no
 *     backward jump.
 *
 * cond_verify must accept a rule's code before cond_eval runs it; the
 * interpreter nevertheless checks every stack access, so even code that
 * slipped past the verifier cannot make it read out of bounds.
 */
#ifndef WARD_RULES_COND_H
#define WARD_RULES_COND_H

#include <stddef.h>
#include <stdint.h>

#include "rules/ruleset.h"
#include "util/buf.h"
#include "util/err.h"

enum cond_op {
	COND_PUSH_INT = 1, /* i64 value */
	COND_PUSH_UNDEF,   /* - */
	COND_PUSH_STR,	   /* u32 len, len bytes */
	COND_PUSH_EXT,	   /* u32 external index (type from the rule set) */
	COND_PUSH_RULE,	   /* u32 rule index (< current rule) -> bool */
	COND_PUSH_VAR,	   /* u8 loop slot (an enclosing range or items loop) -> int */
	COND_FILESIZE,	   /* - -> int */
	COND_READ,	   /* u8 COND_RD_* ; pops offset -> int/undef */
	COND_FOUND,	   /* u32 string -> bool          ($a) */
	COND_COUNT,	   /* u32 string -> int           (#a) */
	COND_COUNT_IN,	   /* u32 string; pops lo, hi -> int (#a in (lo..hi)) */
	COND_AT,	   /* u32 string; pops off -> bool ($a at off) */
	COND_IN,	   /* u32 string; pops lo, hi -> bool ($a in (lo..hi)) */
	COND_OFFSET,	   /* u32 string; pops i -> int   (@a[i]) */
	COND_LENGTH,	   /* u32 string; pops i -> int   (!a[i]) */
	COND_OF,	   /* u8 quant, u32 n, n x u32 string; [pops N] -> bool */
	COND_LOOP_OF,	   /* u8 quant, u32 n, n x u32 string, u32 body_len; [pops N] */
	COND_LOOP_RANGE,   /* u8 quant, u8 slot, u32 body_len; pops [N], lo, hi */
	COND_ADD,	   /* binary integer operators: pop b, pop a, push a op b */
	COND_SUB,
	COND_MUL,
	COND_DIV,
	COND_MOD,
	COND_BAND,
	COND_BOR,
	COND_BXOR,
	COND_SHL,
	COND_SHR,
	COND_LT, /* integer comparisons -> bool */
	COND_LE,
	COND_GT,
	COND_GE,
	COND_EQ,
	COND_NE,
	COND_NEG, /* unary integer operators */
	COND_BNOT,
	COND_SEQ, /* string comparisons: pop b, pop a -> bool */
	COND_SNE,
	COND_SLT,
	COND_SLE,
	COND_SGT,
	COND_SGE,
	COND_CONTAINS,
	COND_ICONTAINS,
	COND_STARTSWITH,
	COND_ISTARTSWITH,
	COND_ENDSWITH,
	COND_IENDSWITH,
	COND_IEQUALS,
	COND_MATCHES,	  /* u32 regex index; pops string -> bool */
	COND_STR_TO_BOOL, /* pops string -> bool (non-empty) */
	COND_AND,	  /* pop b, pop a -> bool, YARA's undefined rules */
	COND_OR,
	COND_NOT,
	COND_DEFINED,
	COND_JFALSE, /* u32 forward offset; jumps if the top is defined and false */
	COND_JTRUE,  /* u32 forward offset; jumps if the top is defined and true */
	/* Floats (YARA's "float" values: math's results, literals such as
	 * 7.2).  New opcodes go after the last: compiled content in the field
	 * keeps its numbers. */
	COND_PUSH_FLOAT, /* f64 value (its IEEE 754 bits as a little-endian u64) */
	COND_ITOF,	 /* pops int -> float */
	COND_F_ADD,	 /* float operators: pop b, pop a, push a op b */
	COND_F_SUB,
	COND_F_MUL,
	COND_F_DIV, /* IEEE: by zero gives an infinity, 0 \ 0 a NaN, as in yara */
	COND_F_LT,  /* float comparisons -> bool (a NaN compares false) */
	COND_F_LE,
	COND_F_GT,
	COND_F_GE,
	COND_F_EQ,
	COND_F_NE,
	COND_F_NEG,
	COND_F_TO_BOOL, /* pops float -> bool (non-zero) */
	/* Modules (modules/module.h).  The indexes and then the arguments are
	 * on the stack, in order, typed as the value's or function's
	 * signature says; the result is of its return type. */
	COND_PUSH_REGEX, /* u32 regex index -> a regexp argument of a call */
	COND_MOD_VALUE,	 /* u8 module, u16 value id; pops its indexes */
	COND_MOD_CALL,	 /* u8 module, u16 function id; pops its indexes and arguments */
	/* A loop over a module's array or dictionary (`for any s in
	 * pe.sections : (...)`): the body runs once per item, its loop
	 * variable slot holding the item's position 0, 1, ... count - 1 (at
	 * most WARD_MAX_LOOP_ITEMS); the body reads the item through module
	 * values indexed by that position (the count and the keys are module
	 * values too: mod_member.len_id, key_id).  An undefined count runs no
	 * item, as YARA treats an undefined array as an empty one. */
	COND_LOOP_ITEMS, /* u8 quant, u8 slot, u32 body_len; pops [N], count */
	COND_OP_MAX_
};

/* Quantifiers of COND_OF / COND_LOOP_*. COND_Q_EXPR pops N (pushed first). */
enum cond_quant {
	COND_Q_ALL = 1,
	COND_Q_ANY = 2,
	COND_Q_NONE = 3,
	COND_Q_EXPR = 4,
};

/* COND_READ kinds: uint8 uint16 uint32 int8 int16 int32, then the be forms. */
enum cond_read {
	COND_RD_UINT8 = 0,
	COND_RD_UINT16,
	COND_RD_UINT32,
	COND_RD_INT8,
	COND_RD_INT16,
	COND_RD_INT32,
	COND_RD_UINT8BE,
	COND_RD_UINT16BE,
	COND_RD_UINT32BE,
	COND_RD_INT8BE,
	COND_RD_INT16BE,
	COND_RD_INT32BE,
	COND_RD_MAX_
};

/* A string operand naming the current string of the enclosing for-of loop. */
#define COND_STR_CURRENT 0xffffffffu

/* Emitting: thin wrappers over a wbuf (sticky errors in w->err). */
void cond_emit_op(struct wbuf *w, enum cond_op op);
void cond_emit_op_u32(struct wbuf *w, enum cond_op op, uint32_t v);
void cond_emit_int(struct wbuf *w, int64_t v);
void cond_emit_float(struct wbuf *w, double v);
void cond_emit_str(struct wbuf *w, const uint8_t *s, uint32_t len);
/* Emits a jump with a zero offset and returns the offset to patch. */
size_t cond_emit_jump(struct wbuf *w, enum cond_op op);
/* Points the jump emitted at jump_off (from cond_emit_jump) at w->len. */
void cond_patch_jump(struct wbuf *w, size_t jump_off);

/*
 * Checks rule number `rule` of rs: every instruction decodes inside the
 * code, every string index belongs to the rule (or is the current string
 * inside a for-of body), rule indices are < rule, external and regexp
 * indices are in range, jumps go forward and stay in their body, loops nest
 * at most WARD_MAX_LOOP_DEPTH deep, the stack never underflows nor exceeds
 * WARD_MAX_STACK, operand types agree and the program leaves exactly one
 * value.  Returns 0 or WARD_EVERIFY (WARD_ENOMEM) with a message in d.
 * *needs_strings (may be NULL) is set when the code reads any string.
 */
int cond_verify(const struct ruleset *rs, uint32_t rule, struct ward_diag *d);
int cond_verify_ex(const struct ruleset *rs, uint32_t rule, int *needs_strings,
		   struct ward_diag *d);

/*
 * Verifies rule `rule` as cond_verify does and sets ext_used[i] to 1 for
 * each external i its code reads (ext_used has rs->next bytes; entries of
 * other externals are left as they are).  Returns 0 or WARD_EVERIFY
 * (WARD_ENOMEM) with a message in d.
 */
int cond_externals_used(const struct ruleset *rs, uint32_t rule, uint8_t *ext_used,
			struct ward_diag *d);

/*
 * Verifies rule `rule` as cond_verify does and sets mods_used[id] to 1 for
 * each module (modules/module.h MOD_ID_*) its code reads (mods_used has
 * MOD_ID_MAX_ bytes; other entries are left as they are).
 */
int cond_modules_used(const struct ruleset *rs, uint32_t rule, uint8_t *mods_used,
		      struct ward_diag *d);

/*
 * Runs the verified code of rule `rule` against env.  results[] holds the
 * results of the earlier rules (for rule references).  *steps counts
 * executed instructions across calls; the run stops with WARD_ELIMIT when
 * it passes WARD_MAX_EVAL_STEPS.  *result is 1 when the condition is
 * defined and true, else 0.  Does not allocate; thread-safe.
 */
int cond_eval(const struct ruleset *rs, uint32_t rule, const struct rs_scan_env *env,
	      const uint8_t *results, uint64_t *steps, int *result);

/*
 * Decides whether rule `rule` (verified code) is false on every file where
 * none of its own strings matched, whatever else the file holds: the code
 * runs with empty match lists and every other input (file size, contents,
 * externals, other rules, loop variables, loops) unknown.  *yes = 1 means
 * the scanner may skip evaluating the rule on such files.  Returns 0 or a
 * negative WARD_E*.  A 0 in *yes is always safe.
 */
int cond_false_without_matches(const struct ruleset *rs, uint32_t rule, int *yes);

#endif

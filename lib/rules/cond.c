/*
 * cond: bytecode emitter and verifier (the interpreter is in cond_eval.c).
 *
 * What must hold: cond_verify accepts a program only if running it can
 * touch nothing outside what it names — instructions decode inside the
 * code (operands are read through an rbuf bounded by the end of the
 * enclosing body), every index is checked against the rule set's counts,
 * the stack depth and the type of every slot are known statically, jumps go
 * forward to an instruction boundary inside their own body and nest like
 * the and/or expressions that produce them, and loop bodies are verified as
 * sub-programs that start on the current stack and leave one value.  This is
 * the check that would have refused "a 21st field where 20 exist".
 */
#include "rules/cond.h"
#include "modules/module.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <stdio.h>
#include <string.h>

void
cond_emit_op(struct wbuf *w, enum cond_op op)
{
	wbuf_u8(w, (uint8_t)op);
}

void
cond_emit_op_u32(struct wbuf *w, enum cond_op op, uint32_t v)
{
	wbuf_u8(w, (uint8_t)op);
	wbuf_u32(w, v);
}

void
cond_emit_int(struct wbuf *w, int64_t v)
{
	wbuf_u8(w, COND_PUSH_INT);
	wbuf_i64(w, v);
}

void
cond_emit_float(struct wbuf *w, double v)
{
	int64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	wbuf_u8(w, COND_PUSH_FLOAT);
	wbuf_i64(w, bits);
}

void
cond_emit_str(struct wbuf *w, const uint8_t *s, uint32_t len)
{
	wbuf_u8(w, COND_PUSH_STR);
	wbuf_lenbytes(w, s, len);
}

size_t
cond_emit_jump(struct wbuf *w, enum cond_op op)
{
	size_t at;

	wbuf_u8(w, (uint8_t)op);
	at = w->len;
	wbuf_u32(w, 0);
	return at;
}

void
cond_patch_jump(struct wbuf *w, size_t jump_off)
{
	if (w->err != 0 || w->len < jump_off + 4)
		return;
	wbuf_patch_u32(w, jump_off, (uint32_t)(w->len - jump_off - 4));
}

/* ------------------------------------------------------------------ */

#define V_INT 1
#define V_STR 2
#define V_FLT 3
#define V_RE 4

/* The verifier's type of a signature letter ('i' 'f' 's' 'r'), or 0. */
static int
vsig_type(char c)
{
	return c == 'i' || c == 'b' ? V_INT
	       : c == 'f'	    ? V_FLT
	       : c == 's'	    ? V_STR
	       : c == 'r'	    ? V_RE
				    : 0;
}

struct vpend {
	size_t target;
	int depth;
};

struct vstate {
	const struct ruleset *rs;
	uint32_t rule;
	const struct rs_rule *r;
	struct rbuf b;
	uint8_t types[WARD_MAX_STACK];
	int sp;
	int loop_is_of[WARD_MAX_LOOP_DEPTH];
	int nloops;
	struct vpend pend[WARD_MAX_STACK];
	int npend;
	int needs_strings;
	uint8_t *ext_used;  /* cond_externals_used: externals read, or NULL */
	uint8_t *mods_used; /* cond_modules_used: modules read (by id), or NULL */
	struct ward_diag *d;
	char name[64];
};

static int
vfail(struct vstate *v, size_t pc, const char *what)
{
	return diag_set(v->d, WARD_EVERIFY, NULL, 0, 0,
			"rule \"%s\": bytecode rejected at offset %zu: %s", v->name, pc, what);
}

static int
vpop(struct vstate *v, int base, int type, size_t pc)
{
	if (v->sp <= base)
		return vfail(v, pc, "stack underflow");
	v->sp--;
	if (type != 0 && v->types[v->sp] != type)
		return vfail(v, pc, "operand has the wrong type");
	return 0;
}

static int
vpush(struct vstate *v, int type, size_t pc)
{
	if (v->sp >= WARD_MAX_STACK)
		return vfail(v, pc, "stack overflow (WARD_MAX_STACK)");
	v->types[v->sp++] = (uint8_t)type;
	return 0;
}

/* A string operand: the rule's own strings, or the current for-of string. */
static int
vstring(struct vstate *v, size_t pc, int allow_current)
{
	uint32_t s;
	int k;

	if (rbuf_u32(&v->b, &s) != 0)
		return vfail(v, pc, "truncated instruction");
	v->needs_strings = 1;
	if (s == COND_STR_CURRENT && allow_current) {
		for (k = 0; k < v->nloops; k++)
			if (v->loop_is_of[k])
				return 0;
		return vfail(v, pc, "current string used outside a for-of loop");
	}
	if (s < v->r->str_first || s - v->r->str_first >= v->r->str_count || s >= v->rs->nstrings)
		return vfail(v, pc, "string index out of range for this rule");
	return 0;
}

static int vrange(struct vstate *v, size_t start, size_t end);

/* The operands of OF / LOOP_OF: quantifier, count, string indices. */
static int
vset(struct vstate *v, size_t pc, uint8_t *q)
{
	uint32_t n, i;
	int r;

	if (rbuf_u8(&v->b, q) != 0 || rbuf_u32(&v->b, &n) != 0)
		return vfail(v, pc, "truncated instruction");
	if (*q < COND_Q_ALL || *q > COND_Q_EXPR)
		return vfail(v, pc, "bad quantifier");
	if (n == 0 || n > WARD_MAX_STRINGS_PER_RULE)
		return vfail(v, pc, "bad string set size");
	for (i = 0; i < n; i++)
		if ((r = vstring(v, pc, 0)) != 0)
			return r;
	return 0;
}

/* Verifies a loop body [pc_body, pc_body + len) and steps over it. */
static int
vbody(struct vstate *v, size_t pc, size_t end, int is_of)
{
	uint32_t len;
	size_t start, save_len;
	int r, k;

	if (rbuf_u32(&v->b, &len) != 0)
		return vfail(v, pc, "truncated instruction");
	start = v->b.off;
	if (len > end - start)
		return vfail(v, pc, "loop body extends past its enclosing code");
	if (v->nloops >= WARD_MAX_LOOP_DEPTH)
		return vfail(v, pc, "loops nested too deeply (WARD_MAX_LOOP_DEPTH)");
	if (is_of)
		for (k = 0; k < v->nloops; k++)
			if (v->loop_is_of[k])
				return vfail(v, pc, "nested for-of loops");
	v->loop_is_of[v->nloops++] = is_of;
	save_len = v->b.len;
	r = vrange(v, start, start + len);
	v->b.len = save_len;
	v->b.off = start + len;
	v->nloops--;
	if (r != 0)
		return r;
	/* vrange left the body's value on the stack; the loop consumes it. */
	v->sp--;
	return vpush(v, V_INT, pc);
}

static int
vbinary(struct vstate *v, int base, int type, size_t pc)
{
	int r;

	if ((r = vpop(v, base, type, pc)) != 0 || (r = vpop(v, base, type, pc)) != 0)
		return r;
	return vpush(v, V_INT, pc);
}

/* COND_MOD_VALUE / COND_MOD_CALL: the module and id exist, and the stack
 * holds the indexes and arguments of its signature. */
static int
vmodule(struct vstate *v, uint8_t op, size_t pc, int base)
{
	const struct module *m;
	const struct mod_sig *sig;
	char letters[2 * MOD_MAX_ARGS + 1];
	uint16_t id;
	uint8_t mid;
	size_t n;
	int r;

	if (rbuf_u8(&v->b, &mid) != 0 || rbuf_u16(&v->b, &id) != 0)
		return vfail(v, pc, "truncated instruction");
	if ((m = mod_get(mid)) == NULL)
		return vfail(v, pc, "no such module");
	if (v->mods_used != NULL)
		v->mods_used[mid] = 1;
	if (op == COND_MOD_VALUE ? id == 0 || id >= m->nvalues : id == 0 || id >= m->nfuncs)
		return vfail(v, pc, "no such value or function in the module");
	sig = op == COND_MOD_VALUE ? &m->values[id] : &m->funcs[id];
	if (sig->ret == 0 || vsig_type(sig->ret) == 0 || vsig_type(sig->ret) == V_RE)
		return vfail(v, pc, "no such value or function in the module");
	n = (size_t)snprintf(letters, sizeof(letters), "%s%s", sig->idx != NULL ? sig->idx : "",
			     op == COND_MOD_CALL && sig->args != NULL ? sig->args : "");
	if (n >= sizeof(letters))
		return vfail(v, pc, "a module signature too long");
	while (n-- > 0)
		if ((r = vpop(v, base, vsig_type(letters[n]), pc)) != 0)
			return r;
	return vpush(v, vsig_type(sig->ret), pc);
}

/* One instruction at pc (opcode already read). */
static int
vinsn(struct vstate *v, uint8_t op, size_t pc, size_t end, int base)
{
	const uint8_t *bytes;
	size_t n;
	uint32_t u;
	uint8_t k, q;
	int64_t i;
	int r = 0;

	switch (op) {
	case COND_PUSH_INT:
		if (rbuf_i64(&v->b, &i) != 0)
			return vfail(v, pc, "truncated instruction");
		return vpush(v, V_INT, pc);
	case COND_PUSH_UNDEF:
	case COND_FILESIZE:
		return vpush(v, V_INT, pc);
	case COND_PUSH_STR:
		if (rbuf_lenbytes(&v->b, WARD_MAX_STRING_BYTES, &bytes, &n) != 0)
			return vfail(v, pc, "string literal extends past the code");
		return vpush(v, V_STR, pc);
	case COND_PUSH_EXT:
		if (rbuf_u32(&v->b, &u) != 0)
			return vfail(v, pc, "truncated instruction");
		if (u >= v->rs->next)
			return vfail(v, pc, "external variable index out of range");
		if (v->ext_used != NULL)
			v->ext_used[u] = 1;
		return vpush(v, v->rs->ext[u].type == RS_STR ? V_STR : V_INT, pc);
	case COND_PUSH_RULE:
		if (rbuf_u32(&v->b, &u) != 0)
			return vfail(v, pc, "truncated instruction");
		if (u >= v->rule)
			return vfail(v, pc, "rule index does not name an earlier rule");
		return vpush(v, V_INT, pc);
	case COND_PUSH_VAR:
		if (rbuf_u8(&v->b, &k) != 0)
			return vfail(v, pc, "truncated instruction");
		if (k >= v->nloops || v->loop_is_of[k])
			return vfail(v, pc,
				     "loop variable slot does not name an enclosing range or items "
				     "loop");
		return vpush(v, V_INT, pc);
	case COND_READ:
		if (rbuf_u8(&v->b, &k) != 0)
			return vfail(v, pc, "truncated instruction");
		if (k >= COND_RD_MAX_)
			return vfail(v, pc, "bad read kind");
		if ((r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_FOUND:
	case COND_COUNT:
		if ((r = vstring(v, pc, 1)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_AT:
	case COND_OFFSET:
	case COND_LENGTH:
		if ((r = vstring(v, pc, 1)) != 0 || (r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_IN:
	case COND_COUNT_IN:
		if ((r = vstring(v, pc, 1)) != 0)
			return r;
		return vbinary(v, base, V_INT, pc);
	case COND_OF:
		if ((r = vset(v, pc, &q)) != 0)
			return r;
		if (q == COND_Q_EXPR && (r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_LOOP_OF:
		if ((r = vset(v, pc, &q)) != 0)
			return r;
		if (q == COND_Q_EXPR && (r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vbody(v, pc, end, 1);
	case COND_LOOP_RANGE:
	case COND_LOOP_ITEMS:
		if (rbuf_u8(&v->b, &q) != 0 || rbuf_u8(&v->b, &k) != 0)
			return vfail(v, pc, "truncated instruction");
		if (q < COND_Q_ALL || q > COND_Q_EXPR)
			return vfail(v, pc, "bad quantifier");
		if (k != v->nloops)
			return vfail(v, pc, "loop variable slot is not the loop's depth");
		/* RANGE pops hi and lo, ITEMS the count; then N. */
		if ((r = vpop(v, base, V_INT, pc)) != 0 ||
		    (op == COND_LOOP_RANGE && (r = vpop(v, base, V_INT, pc)) != 0))
			return r;
		if (q == COND_Q_EXPR && (r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vbody(v, pc, end, 0);
	case COND_ADD:
	case COND_SUB:
	case COND_MUL:
	case COND_DIV:
	case COND_MOD:
	case COND_BAND:
	case COND_BOR:
	case COND_BXOR:
	case COND_SHL:
	case COND_SHR:
	case COND_LT:
	case COND_LE:
	case COND_GT:
	case COND_GE:
	case COND_EQ:
	case COND_NE:
	case COND_AND:
	case COND_OR:
		return vbinary(v, base, V_INT, pc);
	case COND_NEG:
	case COND_BNOT:
	case COND_NOT:
		if ((r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_SEQ:
	case COND_SNE:
	case COND_SLT:
	case COND_SLE:
	case COND_SGT:
	case COND_SGE:
	case COND_CONTAINS:
	case COND_ICONTAINS:
	case COND_STARTSWITH:
	case COND_ISTARTSWITH:
	case COND_ENDSWITH:
	case COND_IENDSWITH:
	case COND_IEQUALS:
		return vbinary(v, base, V_STR, pc);
	case COND_MATCHES:
		if (rbuf_u32(&v->b, &u) != 0)
			return vfail(v, pc, "truncated instruction");
		if (u >= v->rs->nregexes)
			return vfail(v, pc, "regular expression index out of range");
		/* fall through */
	case COND_STR_TO_BOOL:
		if ((r = vpop(v, base, V_STR, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_DEFINED:
		if ((r = vpop(v, base, 0, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_PUSH_FLOAT:
		if (rbuf_i64(&v->b, &i) != 0)
			return vfail(v, pc, "truncated instruction");
		return vpush(v, V_FLT, pc);
	case COND_ITOF:
		if ((r = vpop(v, base, V_INT, pc)) != 0)
			return r;
		return vpush(v, V_FLT, pc);
	case COND_F_ADD:
	case COND_F_SUB:
	case COND_F_MUL:
	case COND_F_DIV:
		if ((r = vpop(v, base, V_FLT, pc)) != 0 || (r = vpop(v, base, V_FLT, pc)) != 0)
			return r;
		return vpush(v, V_FLT, pc);
	case COND_F_LT:
	case COND_F_LE:
	case COND_F_GT:
	case COND_F_GE:
	case COND_F_EQ:
	case COND_F_NE:
		return vbinary(v, base, V_FLT, pc);
	case COND_F_NEG:
		if ((r = vpop(v, base, V_FLT, pc)) != 0)
			return r;
		return vpush(v, V_FLT, pc);
	case COND_F_TO_BOOL:
		if ((r = vpop(v, base, V_FLT, pc)) != 0)
			return r;
		return vpush(v, V_INT, pc);
	case COND_PUSH_REGEX:
		if (rbuf_u32(&v->b, &u) != 0)
			return vfail(v, pc, "truncated instruction");
		if (u >= v->rs->nregexes)
			return vfail(v, pc, "regular expression index out of range");
		return vpush(v, V_RE, pc);
	case COND_MOD_VALUE:
	case COND_MOD_CALL:
		return vmodule(v, op, pc, base);
	default:
		return vfail(v, pc, "unknown opcode");
	}
}

/* Verifies [start, end) as a program that leaves one value above v->sp. */
static int
vrange(struct vstate *v, size_t start, size_t end)
{
	int base = v->sp, pbase = v->npend, r = 0, k;
	size_t pc;
	uint32_t off;
	uint8_t op;

	v->b.len = end;
	v->b.off = start;
	for (;;) {
		pc = v->b.off;
		while (v->npend > pbase && v->pend[v->npend - 1].target == pc) {
			if (v->sp != v->pend[v->npend - 1].depth || v->types[v->sp - 1] != V_INT)
				return vfail(v, pc, "stack differs at a jump target");
			v->npend--;
		}
		if (v->npend > pbase && v->pend[v->npend - 1].target < pc)
			return vfail(v, pc, "jump into the middle of an instruction or loop body");
		if (pc >= end)
			break;
		if (rbuf_u8(&v->b, &op) != 0)
			return vfail(v, pc, "truncated instruction");
		if (op == COND_JFALSE || op == COND_JTRUE) {
			if (rbuf_u32(&v->b, &off) != 0)
				return vfail(v, pc, "truncated instruction");
			if (v->sp <= base || v->types[v->sp - 1] != V_INT)
				return vfail(v, pc,
					     "conditional jump without a boolean on the stack");
			if (off > end - v->b.off)
				return vfail(v, pc, "jump leaves its enclosing code");
			if (v->npend > pbase && v->b.off + off > v->pend[v->npend - 1].target)
				return vfail(v, pc, "jumps do not nest");
			if (v->npend >= WARD_MAX_STACK)
				return vfail(v, pc, "too many pending jumps");
			v->pend[v->npend].target = v->b.off + off;
			v->pend[v->npend].depth = v->sp;
			v->npend++;
			continue;
		}
		if ((r = vinsn(v, op, pc, end, base)) != 0)
			return r;
		v->b.len = end;
		/* A pending jump keeps its value: nothing below it may be touched. */
		for (k = pbase; k < v->npend; k++)
			if (v->sp < v->pend[k].depth - 1)
				return vfail(v, pc,
					     "code between a jump and its target pops "
					     "below the jump's value");
	}
	if (v->npend != pbase)
		return vfail(v, end, "unresolved jump");
	if (v->sp != base + 1 || v->types[v->sp - 1] != V_INT)
		return vfail(v, end, "code must leave exactly one boolean value");
	return r;
}

static int
verify(const struct ruleset *rs, uint32_t rule, int *needs_strings, uint8_t *ext_used,
       uint8_t *mods_used, struct ward_diag *d)
{
	struct vstate *v = NULL;
	const struct rs_rule *rl;
	int r;

	if (needs_strings != NULL)
		*needs_strings = 0;
	if (rs == NULL || rule >= rs->nrules) {
		r = diag_set(d, WARD_EVERIFY, NULL, 0, 0, "bytecode rejected: no rule %u", rule);
		goto out;
	}
	rl = &rs->rules[rule];
	if (rl->code == NULL || rl->code_len == 0 || rl->code_len > WARD_MAX_CODE_BYTES) {
		r = diag_set(d, WARD_EVERIFY, NULL, 0, 0, "bytecode rejected: bad code size");
		goto out;
	}
	if ((uint64_t)rl->str_first + rl->str_count > rs->nstrings) {
		r = diag_set(d, WARD_EVERIFY, NULL, 0, 0,
			     "bytecode rejected: rule strings out of range");
		goto out;
	}
	if ((v = ward_calloc(1, sizeof(*v))) == NULL) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	v->rs = rs;
	v->rule = rule;
	v->r = rl;
	v->ext_used = ext_used;
	v->mods_used = mods_used;
	v->d = d;
	snprintf(v->name, sizeof(v->name), "%s", rl->name != NULL ? rl->name : "?");
	rbuf_init(&v->b, rl->code, rl->code_len);
	r = vrange(v, 0, rl->code_len);
	if (r == 0 && needs_strings != NULL)
		*needs_strings = v->needs_strings;
out:
	ward_free(v);
	return r;
}

int
cond_verify_ex(const struct ruleset *rs, uint32_t rule, int *needs_strings, struct ward_diag *d)
{
	return verify(rs, rule, needs_strings, NULL, NULL, d);
}

int
cond_verify(const struct ruleset *rs, uint32_t rule, struct ward_diag *d)
{
	return verify(rs, rule, NULL, NULL, NULL, d);
}

int
cond_externals_used(const struct ruleset *rs, uint32_t rule, uint8_t *ext_used, struct ward_diag *d)
{
	return verify(rs, rule, NULL, ext_used, NULL, d);
}

int
cond_modules_used(const struct ruleset *rs, uint32_t rule, uint8_t *mods_used, struct ward_diag *d)
{
	return verify(rs, rule, NULL, NULL, mods_used, d);
}

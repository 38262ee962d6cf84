/*
 * compile_expr: condition syntax trees -> condition bytecode.
 *
 * What must hold: names resolve as in YARA 4.2 (loop variables, then
 * earlier rules, then externals given with -d; an unknown name is
 * `undefined identifier`); string references resolve to the rule's own
 * strings only and mark them referenced; operand types are checked here so
 * that the verifier never sees ill-typed code from the compiler; constant
 * integer arithmetic is folded with overflow checks and a constant zero
 * divisor is an error, as yara does.
 */
#include "rules/compile_int.h"
#include "rules/cond.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int
cc_err(struct cc_ctx *cx, const struct ast *n, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_set(cx->d, err, cx->file, n->line, n->col, "%s", msg);
}

static const char *
cc_opname(int tok)
{
	return lexer_tokname((enum tok_type)tok);
}

/* 1 if loop lp has a variable named name. */
static int
cc_loop_has(const struct cc_loop *lp, const char *name)
{
	return name != NULL && ((lp->var != NULL && strcmp(lp->var, name) == 0) ||
				(lp->var2 != NULL && strcmp(lp->var2, name) == 0));
}

static int
cc_loop_visible(const struct cc_ctx *cx, int k)
{
	return k < cx->hide_lo || k >= cx->hide_hi;
}

int
cc_loop_find(const struct cc_ctx *cx, const char *name, int *value)
{
	int k;

	for (k = cx->nloops - 1; k >= 0; k--) {
		if (!cc_loop_visible(cx, k) || !cc_loop_has(&cx->loops[k], name))
			continue;
		if (value != NULL)
			*value = cx->loops[k].var2 != NULL && strcmp(cx->loops[k].var2, name) == 0;
		return k;
	}
	return -1;
}

/* Resolves a string reference ("$a", "#a", "@a", "!a", or anonymous). */
static int
cc_string(struct cc_ctx *cx, const struct ast *n, uint32_t *idx)
{
	const struct ruleset *rs = cx->c->rs;
	const char *name = n->name + 1;
	uint32_t i;
	int k;

	if (*name == '\0') {
		for (k = 0; k < cx->nloops; k++)
			if (cx->loops[k].is_of && cc_loop_visible(cx, k)) {
				*idx = COND_STR_CURRENT;
				return 0;
			}
		return cc_err(cx, n, WARD_ESEMANTIC, "wrong use of anonymous string%s", "");
	}
	for (i = 0; i < cx->str_count; i++) {
		if (strcmp(rs->strings[cx->str_first + i].id + 1, name) == 0) {
			*idx = cx->str_first + i;
			cx->referenced[i] = 1;
			return 0;
		}
	}
	return diag_set(cx->d, WARD_EUNDEFINED, cx->file, n->line, n->col,
			"undefined string \"$%s\"", name);
}

/* Resolves a string set into a list of string indices (owned by caller). */
static int
cc_set(struct cc_ctx *cx, const struct ast *n, uint32_t **out, uint32_t *nout)
{
	const struct ruleset *rs = cx->c->rs;
	uint32_t *v = NULL, nv = 0, i, k;
	size_t cap = 0, plen;
	int r = 0, any, wild;

	if (n->them) {
		if (cx->str_count == 0) {
			r = cc_err(cx, n, WARD_EUNDEFINED, "undefined string \"$*\"%s", "");
			goto out;
		}
		if ((v = ward_calloc(cx->str_count, sizeof(*v))) == NULL)
			goto nomem;
		for (i = 0; i < cx->str_count; i++) {
			v[i] = cx->str_first + i;
			cx->referenced[i] = 1;
		}
		nv = cx->str_count;
		goto out;
	}
	for (k = 0; k < n->nset; k++) {
		const char *id = n->set[k].id;

		plen = strlen(id);
		wild = id[plen - 1] == '*';
		if (wild)
			plen--;
		any = 0;
		for (i = 0; i < cx->str_count; i++) {
			const char *sid = rs->strings[cx->str_first + i].id;

			if (wild ? strncmp(sid, id, plen) != 0 : strcmp(sid, id) != 0)
				continue;
			if (ward_grow(&v, &cap, nv + 1, sizeof(*v)) != 0)
				goto nomem;
			v[nv++] = cx->str_first + i;
			cx->referenced[i] = 1;
			any = 1;
		}
		if (!any) {
			r = diag_set(cx->d, WARD_EUNDEFINED, cx->file, n->set[k].line,
				     n->set[k].col, "undefined string \"%s\"", id);
			goto out;
		}
	}
	if (nv > WARD_MAX_STRINGS_PER_RULE) {
		r = cc_err(cx, n, WARD_ELIMIT, "string set too large%s", "");
		goto out;
	}
	goto out;
nomem:
	r = cc_err(cx, n, WARD_ENOMEM, "out of memory%s", "");
out:
	if (r != 0) {
		ward_free(v);
		v = NULL;
		nv = 0;
	}
	*out = v;
	*nout = nv;
	return r;
}

int
cc_want(struct cc_ctx *cx, const struct ast *n, enum cc_type want)
{
	enum cc_type t;
	int r;

	if ((r = cc_expr(cx, n, &t)) != 0)
		return r;
	if (t == want || (want == CC_INT && t == CC_INT))
		return 0;
	return cc_err(cx, n, WARD_ESEMANTIC,
		      want == CC_INT ? "wrong type for operand: integer expected%s"
				     : "wrong type for operand: string expected%s",
		      "");
}

/* Emits n coerced to a boolean (integers as-is, strings: non-empty). */
int
cc_bool(struct cc_ctx *cx, const struct ast *n)
{
	enum cc_type t;
	int r;

	if ((r = cc_expr(cx, n, &t)) != 0)
		return r;
	if (t == CC_STR)
		cond_emit_op(&cx->w, COND_STR_TO_BOOL);
	else if (t == CC_FLOAT)
		cond_emit_op(&cx->w, COND_F_TO_BOOL);
	return 0;
}

static void
cc_emit_set(struct cc_ctx *cx, enum cond_op op, int quant, const uint32_t *v, uint32_t nv)
{
	uint32_t i;

	wbuf_u8(&cx->w, (uint8_t)op);
	wbuf_u8(&cx->w, (uint8_t)quant);
	wbuf_u32(&cx->w, nv);
	for (i = 0; i < nv; i++)
		wbuf_u32(&cx->w, v[i]);
}

int
cc_loop_enter(struct cc_ctx *cx, const struct ast *n, const struct cc_loop *lp)
{
	int k;

	if (cx->nloops >= WARD_MAX_LOOP_DEPTH)
		return cc_err(cx, n, WARD_ELIMIT, "loop nesting limit exceeded%s", "");
	if (lp->var != NULL && lp->var2 != NULL && strcmp(lp->var, lp->var2) == 0)
		return cc_err(cx, n, WARD_EDUPLICATE, "duplicated loop identifier \"%s\"",
			      lp->var2);
	for (k = 0; k < cx->nloops; k++) {
		if (lp->is_of && cx->loops[k].is_of)
			return cc_err(cx, n, WARD_ESEMANTIC,
				      "'for <quantifier> of <string set>' loops can't be nested%s",
				      "");
		if (!cc_loop_visible(cx, k))
			continue;
		if (cc_loop_has(&cx->loops[k], lp->var))
			return cc_err(cx, n, WARD_EDUPLICATE, "duplicated loop identifier \"%s\"",
				      lp->var);
		if (cc_loop_has(&cx->loops[k], lp->var2))
			return cc_err(cx, n, WARD_EDUPLICATE, "duplicated loop identifier \"%s\"",
				      lp->var2);
	}
	cx->loops[cx->nloops++] = *lp;
	return 0;
}

static int
cc_of(struct cc_ctx *cx, const struct ast *n)
{
	const struct cc_loop of = {.is_of = 1};
	uint32_t *v = NULL, nv = 0;
	size_t lenoff;
	int r;

	if (n->quant == COND_Q_EXPR && (r = cc_want(cx, n->a, CC_INT)) != 0)
		goto out;
	if ((r = cc_set(cx, n, &v, &nv)) != 0)
		goto out;
	if (n->op == AST_OF) {
		cc_emit_set(cx, COND_OF, n->quant, v, nv);
		goto out;
	}
	if ((r = cc_loop_enter(cx, n, &of)) != 0)
		goto out;
	cc_emit_set(cx, COND_LOOP_OF, n->quant, v, nv);
	lenoff = cx->w.len;
	wbuf_u32(&cx->w, 0);
	r = cc_bool(cx, n->b);
	cx->nloops--;
	if (r != 0)
		goto out;
	if (cx->w.len - lenoff - 4 > UINT32_MAX) {
		r = cc_err(cx, n, WARD_ELIMIT, "condition too long%s", "");
		goto out;
	}
	wbuf_patch_u32(&cx->w, lenoff, (uint32_t)(cx->w.len - lenoff - 4));
out:
	ward_free(v);
	return r;
}

static int
cc_range_loop(struct cc_ctx *cx, const struct ast *n)
{
	const struct cc_loop range = {.var = n->name};
	size_t lenoff;
	int r, slot;

	if (n->quant == COND_Q_EXPR && (r = cc_want(cx, n->a, CC_INT)) != 0)
		return r;
	if ((r = cc_want(cx, n->b, CC_INT)) != 0 || (r = cc_want(cx, n->c, CC_INT)) != 0)
		return r;
	slot = cx->nloops;
	if ((r = cc_loop_enter(cx, n, &range)) != 0)
		return r;
	wbuf_u8(&cx->w, COND_LOOP_RANGE);
	wbuf_u8(&cx->w, (uint8_t)n->quant);
	wbuf_u8(&cx->w, (uint8_t)slot);
	lenoff = cx->w.len;
	wbuf_u32(&cx->w, 0);
	r = cc_bool(cx, n->d);
	cx->nloops--;
	if (r == 0)
		wbuf_patch_u32(&cx->w, lenoff, (uint32_t)(cx->w.len - lenoff - 4));
	return r;
}

static int
cc_ident(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	const struct ruleset *rs = cx->c->rs;
	int64_t ri;
	uint32_t i;
	int k, value;

	if ((k = cc_loop_find(cx, n->name, &value)) >= 0) {
		if (cx->loops[k].mb != NULL)
			return cc_item_var(cx, n, k, value, t);
		wbuf_u8(&cx->w, COND_PUSH_VAR);
		wbuf_u8(&cx->w, (uint8_t)k);
		*t = CC_INT;
		return 0;
	}
	if ((ri = cc_find_rule(cx->c, n->name)) >= 0) {
		cond_emit_op_u32(&cx->w, COND_PUSH_RULE, (uint32_t)ri);
		*t = CC_BOOL;
		return 0;
	}
	for (i = 0; i < rs->next; i++) {
		if (strcmp(rs->ext[i].name, n->name) == 0) {
			cond_emit_op_u32(&cx->w, COND_PUSH_EXT, i);
			*t = rs->ext[i].type == RS_STR	  ? CC_STR
			     : rs->ext[i].type == RS_BOOL ? CC_BOOL
							  : CC_INT;
			return 0;
		}
	}
	if ((ri = cc_find_skipped(cx->c, n->name)) >= 0) {
		/* It names a rule that was left out: this one goes too, and says why. */
		cx->uses = cx->c->skipped[ri].rule;
		return cc_err(cx, n, WARD_EUNSUPPORTED, "uses rule \"%s\", which is skipped",
			      n->name);
	}
	return cc_err(cx, n, WARD_EUNDEFINED, "undefined identifier \"%s\"", n->name);
}

/* Folds constant integer arithmetic; *folded = 1 and *v set when it did. */
static int
cc_fold(struct cc_ctx *cx, const struct ast *n, int *folded, int64_t *v)
{
	int64_t a, b;
	int fa = 0, fb = 0, r = 0;

	*folded = 0;
	if (n->op == AST_INT) {
		*folded = 1;
		*v = n->i;
		return 0;
	}
	if (n->op != AST_BIN)
		return 0;
	if (n->tok != TOK_PLUS && n->tok != TOK_MINUS && n->tok != TOK_STAR &&
	    n->tok != TOK_BSLASH && n->tok != TOK_PERCENT)
		return 0;
	if ((r = cc_fold(cx, n->b, &fb, &b)) != 0)
		return r;
	/* A constant zero divisor: an error if the dividend is an integer,
	 * an infinity if it is a float (as yara); cc_bin decides, knowing
	 * the dividend's type. */
	if (fb && b == 0 && (n->tok == TOK_BSLASH || n->tok == TOK_PERCENT))
		return 0;
	if ((r = cc_fold(cx, n->a, &fa, &a)) != 0 || !fa || !fb)
		return r;
	switch (n->tok) {
	case TOK_PLUS:
		r = __builtin_add_overflow(a, b, v);
		break;
	case TOK_MINUS:
		r = __builtin_sub_overflow(a, b, v);
		break;
	case TOK_STAR:
		r = __builtin_mul_overflow(a, b, v);
		break;
	case TOK_BSLASH:
		r = a == INT64_MIN && b == -1;
		*v = r ? 0 : a / b;
		break;
	default:
		r = a == INT64_MIN && b == -1;
		*v = r ? 0 : a % b;
		break;
	}
	if (r)
		return diag_set(cx->d, WARD_ESEMANTIC, cx->file, n->line, n->col,
				"integer overflow in \"%lld %s %lld\"", (long long)a,
				n->tok == TOK_PLUS     ? "+"
				: n->tok == TOK_MINUS  ? "-"
				: n->tok == TOK_STAR   ? "*"
				: n->tok == TOK_BSLASH ? "\\"
						       : "%",
				(long long)b);
	*folded = 1;
	return 0;
}

/* The float form of an arithmetic or comparison operator, or
 * COND_OP_MAX_ when floats do not take it (%, bitwise, shifts). */
static enum cond_op
cc_fbinop(int tok)
{
	switch (tok) {
	case TOK_PLUS:
		return COND_F_ADD;
	case TOK_MINUS:
		return COND_F_SUB;
	case TOK_STAR:
		return COND_F_MUL;
	case TOK_BSLASH:
		return COND_F_DIV;
	case TOK_LT:
		return COND_F_LT;
	case TOK_LE:
		return COND_F_LE;
	case TOK_GT:
		return COND_F_GT;
	case TOK_GE:
		return COND_F_GE;
	case TOK_EQ:
		return COND_F_EQ;
	case TOK_NEQ:
		return COND_F_NE;
	default:
		return COND_OP_MAX_;
	}
}

/*
 * Converts the integer whose code starts at mark (and ends where the code
 * after it begins, at end) to a float: COND_ITOF goes right after it.  No
 * position after mark is held by anyone (the operands' own jumps and loop
 * lengths are relative and already patched), so the bytes can move.
 */
static void
cc_itof_at(struct cc_ctx *cx, size_t end)
{
	size_t len = cx->w.len;

	wbuf_u8(&cx->w, COND_ITOF);
	if (cx->w.err != 0 || end > len)
		return;
	memmove(cx->w.p + end + 1, cx->w.p + end, len - end);
	cx->w.p[end] = COND_ITOF;
}

/* 1 if n is a constant integer zero (it compiled already: folding it
 * again cannot fail). */
static int
cc_const_zero(struct cc_ctx *cx, const struct ast *n)
{
	int64_t v = 1;
	int folded = 0;

	return cc_fold(cx, n, &folded, &v) == 0 && folded && v == 0;
}

static enum cond_op
cc_binop(int tok, int str)
{
	switch (tok) {
	case TOK_PLUS:
		return COND_ADD;
	case TOK_MINUS:
		return COND_SUB;
	case TOK_STAR:
		return COND_MUL;
	case TOK_BSLASH:
		return COND_DIV;
	case TOK_PERCENT:
		return COND_MOD;
	case TOK_AMP:
		return COND_BAND;
	case TOK_PIPE:
		return COND_BOR;
	case TOK_CARET:
		return COND_BXOR;
	case TOK_SHL:
		return COND_SHL;
	case TOK_SHR:
		return COND_SHR;
	case TOK_LT:
		return str ? COND_SLT : COND_LT;
	case TOK_LE:
		return str ? COND_SLE : COND_LE;
	case TOK_GT:
		return str ? COND_SGT : COND_GT;
	case TOK_GE:
		return str ? COND_SGE : COND_GE;
	case TOK_EQ:
		return str ? COND_SEQ : COND_EQ;
	case TOK_NEQ:
		return str ? COND_SNE : COND_NE;
	case TOK_CONTAINS:
		return COND_CONTAINS;
	case TOK_ICONTAINS:
		return COND_ICONTAINS;
	case TOK_STARTSWITH:
		return COND_STARTSWITH;
	case TOK_ISTARTSWITH:
		return COND_ISTARTSWITH;
	case TOK_ENDSWITH:
		return COND_ENDSWITH;
	case TOK_IENDSWITH:
		return COND_IENDSWITH;
	case TOK_IEQUALS:
		return COND_IEQUALS;
	default:
		return COND_OP_MAX_;
	}
}

static int
cc_bin(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	enum cc_type ta, tb;
	enum cond_op op;
	int r, folded, cmp, strop, zero = 0;
	int64_t v;
	size_t mid;

	if ((r = cc_fold(cx, n, &folded, &v)) != 0)
		return r;
	if (folded) {
		cond_emit_int(&cx->w, v);
		*t = CC_INT;
		return 0;
	}
	if ((r = cc_expr(cx, n->a, &ta)) != 0)
		return r;
	mid = cx->w.len;
	if ((r = cc_expr(cx, n->b, &tb)) != 0)
		return r;
	cmp = n->tok == TOK_EQ || n->tok == TOK_NEQ || n->tok == TOK_LT || n->tok == TOK_LE ||
	      n->tok == TOK_GT || n->tok == TOK_GE;
	strop = n->tok == TOK_CONTAINS || n->tok == TOK_ICONTAINS || n->tok == TOK_STARTSWITH ||
		n->tok == TOK_ISTARTSWITH || n->tok == TOK_ENDSWITH || n->tok == TOK_IENDSWITH ||
		n->tok == TOK_IEQUALS;
	if (strop) {
		if (ta != CC_STR || tb != CC_STR)
			return cc_err(cx, n, WARD_ESEMANTIC, "wrong type for %s operator",
				      cc_opname(n->tok));
		op = cc_binop(n->tok, 1);
		*t = CC_BOOL;
	} else if ((ta == CC_FLOAT || tb == CC_FLOAT) &&
		   (cmp || cc_fbinop(n->tok) != COND_OP_MAX_)) {
		/* An int beside a float is converted, as yara does. */
		if ((ta != CC_INT && ta != CC_FLOAT) || (tb != CC_INT && tb != CC_FLOAT))
			return cc_err(cx, n, WARD_ESEMANTIC,
				      cmp ? "mismatching types for %s operator"
					  : "wrong type for %s operator",
				      cc_opname(n->tok));
		if (ta == CC_INT)
			cc_itof_at(cx, mid);
		if (tb == CC_INT)
			cond_emit_op(&cx->w, COND_ITOF);
		op = cc_fbinop(n->tok);
		*t = cmp ? CC_BOOL : CC_FLOAT;
	} else if (ta == CC_FLOAT || tb == CC_FLOAT) {
		return cc_err(cx, n, WARD_ESEMANTIC, "wrong type \"float\" for %s operator",
			      cc_opname(n->tok));
	} else if (cmp) {
		if (ta != tb || ta == CC_BOOL)
			return cc_err(cx, n, WARD_ESEMANTIC, "mismatching types for %s operator",
				      cc_opname(n->tok));
		op = cc_binop(n->tok, ta == CC_STR);
		*t = CC_BOOL;
	} else {
		if (ta != CC_INT || tb != CC_INT)
			return cc_err(cx, n, WARD_ESEMANTIC, "wrong type for %s operator",
				      cc_opname(n->tok));
		op = cc_binop(n->tok, 0);
		*t = CC_INT;
		zero = (n->tok == TOK_BSLASH || n->tok == TOK_PERCENT) && cc_const_zero(cx, n->b);
		if (zero)
			return diag_set(cx->d, WARD_ESEMANTIC, cx->file, n->line, n->col,
					"division by zero");
	}
	cond_emit_op(&cx->w, op);
	return 0;
}

/* Compiles the regexp source of n (AST_MATCHES, AST_REGEX) into the rule
 * set's regexps: *idx its index. */
int
cc_regex(struct cc_ctx *cx, const struct ast *n, uint32_t *idx)
{
	struct rules_compiler *c = cx->c;
	struct ruleset *rs = c->rs;
	struct pattern *pat = NULL;
	struct ward_diag pd;
	int r, line, col;

	diag_clear(&pd);
	if ((r = pattern_compile(PATTERN_REGEX, n->s, n->slen, (unsigned)n->i | PATTERN_SEARCH,
				 &pat, &pd)) != 0) {
		lexer_linecol(cx->lx, n->src_off + (pd.col > 0 ? (size_t)pd.col - 1 : 0), &line,
			      &col);
		r = diag_set(cx->d, r, cx->file, line, col, "%s", pd.msg);
		goto out;
	}
	if (rs->nregexes >= WARD_MAX_STRINGS) {
		r = cc_err(cx, n, WARD_ELIMIT, "too many regular expressions%s", "");
		goto out;
	}
	if (ward_grow(&rs->regexes, &c->regex_cap, rs->nregexes + 1, sizeof(*rs->regexes)) != 0) {
		r = cc_err(cx, n, WARD_ENOMEM, "out of memory%s", "");
		goto out;
	}
	rs->regexes[rs->nregexes] = pat;
	pat = NULL;
	*idx = rs->nregexes++;
out:
	pattern_free(pat);
	return r;
}

static int
cc_matches(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	uint32_t re;
	int r;

	if ((r = cc_want(cx, n->a, CC_STR)) != 0 || (r = cc_regex(cx, n, &re)) != 0)
		return r;
	cond_emit_op_u32(&cx->w, COND_MATCHES, re);
	*t = CC_BOOL;
	return 0;
}

static int
cc_strop(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	uint32_t s;
	int r;

	if ((r = cc_string(cx, n, &s)) != 0)
		return r;
	*t = CC_INT;
	switch (n->op) {
	case AST_FOUND:
		*t = CC_BOOL;
		cond_emit_op_u32(&cx->w, COND_FOUND, s);
		break;
	case AST_AT:
		*t = CC_BOOL;
		if ((r = cc_want(cx, n->a, CC_INT)) != 0)
			return r;
		cond_emit_op_u32(&cx->w, COND_AT, s);
		break;
	case AST_IN:
	case AST_COUNT_IN:
		if ((r = cc_want(cx, n->a, CC_INT)) != 0 || (r = cc_want(cx, n->b, CC_INT)) != 0)
			return r;
		*t = n->op == AST_IN ? CC_BOOL : CC_INT;
		cond_emit_op_u32(&cx->w, n->op == AST_IN ? COND_IN : COND_COUNT_IN, s);
		break;
	case AST_COUNT:
		cond_emit_op_u32(&cx->w, COND_COUNT, s);
		break;
	default: /* OFFSET, LENGTH */
		if (n->a != NULL) {
			if ((r = cc_want(cx, n->a, CC_INT)) != 0)
				return r;
		} else {
			cond_emit_int(&cx->w, 1);
		}
		cond_emit_op_u32(&cx->w, n->op == AST_OFFSET ? COND_OFFSET : COND_LENGTH, s);
		break;
	}
	return 0;
}

static int
cc_logic(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	size_t j;
	int r;

	*t = CC_BOOL;
	if ((r = cc_bool(cx, n->a)) != 0)
		return r;
	j = cond_emit_jump(&cx->w, n->op == AST_AND ? COND_JFALSE : COND_JTRUE);
	if ((r = cc_bool(cx, n->b)) != 0)
		return r;
	cond_emit_op(&cx->w, n->op == AST_AND ? COND_AND : COND_OR);
	cond_patch_jump(&cx->w, j);
	return 0;
}

int
cc_expr(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	enum cc_type ta;
	int r = 0;

	if (cx->w.err != 0)
		return diag_set(cx->d, cx->w.err, cx->file, n->line, n->col, "out of memory");
	*t = CC_INT;
	switch (n->op) {
	case AST_TRUE:
	case AST_FALSE:
		cond_emit_int(&cx->w, n->op == AST_TRUE);
		*t = CC_BOOL;
		break;
	case AST_INT:
		cond_emit_int(&cx->w, n->i);
		break;
	case AST_FLOAT:
		cond_emit_float(&cx->w, n->f);
		*t = CC_FLOAT;
		break;
	case AST_TEXT:
		if (n->slen > WARD_MAX_STRING_BYTES)
			return cc_err(cx, n, WARD_ELIMIT, "string too long%s", "");
		cond_emit_str(&cx->w, n->s, (uint32_t)n->slen);
		*t = CC_STR;
		break;
	case AST_FILESIZE:
		cond_emit_op(&cx->w, COND_FILESIZE);
		break;
	case AST_READ:
		if ((r = cc_want(cx, n->a, CC_INT)) != 0)
			return r;
		wbuf_u8(&cx->w, COND_READ);
		wbuf_u8(&cx->w, (uint8_t)n->i);
		break;
	case AST_IDENT:
		return cc_ident(cx, n, t);
	case AST_FOUND:
	case AST_AT:
	case AST_IN:
	case AST_COUNT:
	case AST_COUNT_IN:
	case AST_OFFSET:
	case AST_LENGTH:
		return cc_strop(cx, n, t);
	case AST_OF:
	case AST_FOR_OF:
		*t = CC_BOOL;
		return cc_of(cx, n);
	case AST_FOR_RANGE:
		*t = CC_BOOL;
		return cc_range_loop(cx, n);
	case AST_FOR_IN:
		*t = CC_BOOL;
		return cc_items_loop(cx, n);
	case AST_BIN:
		return cc_bin(cx, n, t);
	case AST_NEG:
	case AST_BNOT:
		if ((r = cc_expr(cx, n->a, &ta)) != 0)
			return r;
		if (ta == CC_FLOAT && n->op == AST_NEG) {
			cond_emit_op(&cx->w, COND_F_NEG);
			*t = CC_FLOAT;
			break;
		}
		if (ta != CC_INT)
			return cc_err(cx, n->a, WARD_ESEMANTIC,
				      ta == CC_FLOAT ? "wrong type \"float\" for ~ operator%s"
						     : "wrong type for operand: integer expected%s",
				      "");
		cond_emit_op(&cx->w, n->op == AST_NEG ? COND_NEG : COND_BNOT);
		break;
	case AST_MATCHES:
		return cc_matches(cx, n, t);
	case AST_MEMBER:
	case AST_INDEX:
	case AST_CALL:
		return cc_module(cx, n, t);
	case AST_REGEX:
		return cc_err(cx, n, WARD_ESYNTAX, "a regular expression is only an argument%s",
			      "");
	case AST_AND:
	case AST_OR:
		return cc_logic(cx, n, t);
	case AST_NOT:
		*t = CC_BOOL;
		if ((r = cc_bool(cx, n->a)) != 0)
			return r;
		cond_emit_op(&cx->w, COND_NOT);
		break;
	case AST_DEFINED:
		*t = CC_BOOL;
		if ((r = cc_expr(cx, n->a, &ta)) != 0)
			return r;
		cond_emit_op(&cx->w, COND_DEFINED);
		break;
	default:
		return cc_err(cx, n, WARD_ESEMANTIC, "internal error: unknown node%s", "");
	}
	return r;
}

int
cc_condition(struct cc_ctx *cx, const struct ast *n)
{
	int r = cc_bool(cx, n);

	if (r == 0 && cx->w.err != 0)
		r = diag_set(cx->d, cx->w.err, cx->file, n->line, n->col,
			     cx->w.err == WARD_ENOMEM ? "out of memory" : "condition too long");
	if (r == 0 && cx->w.len > WARD_MAX_CODE_BYTES)
		r = diag_set(cx->d, WARD_ELIMIT, cx->file, n->line, n->col,
			     "condition too long (limit WARD_MAX_CODE_BYTES)");
	return r;
}

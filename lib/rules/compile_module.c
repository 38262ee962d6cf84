/*
 * compile_module: module expressions -> condition bytecode.  A module's
 * values, constants and calls (`pe.sections[i].name`, `math.entropy(0,
 * filesize)`, `pe.MACHINE_I386`), loops over a module's arrays and
 * dictionaries (`for any s in pe.sections : (s.name == ".text")`, `for
 * any k, v in pe.version_info : (...)`), and what the variables of such
 * loops name.
 *
 * What must hold: every name resolves against the module's schema
 * (modules/module.h), from the module itself or from the item of a loop
 * variable, with YARA 4.2's errors; the module must have been imported.
 * A loop does not copy an item anywhere: its variable stands for the
 * array's expression with the item's position (the loop's slot) as one
 * more index, so every read of an item is an ordinary module value that
 * the verifier checks against the module's signatures.  That expression
 * is compiled again wherever the body reads an item, with the names of the
 * loops inside it hidden, so that it means there what it meant in the
 * loop's head.
 */
#include "rules/compile_int.h"
#include "rules/cond.h"

#include <stdio.h>
#include <string.h>

/* The longest chain of names, indexes and a call after a module's name. */
#define CC_MOD_STEPS 16

/* The cc_type of a signature letter. */
static enum cc_type
cc_sigtype(char c)
{
	return c == 'f' ? CC_FLOAT : c == 's' ? CC_STR : CC_INT;
}

static void
cc_emit_value(struct cc_ctx *cx, const struct module *m, uint16_t id)
{
	wbuf_u8(&cx->w, COND_MOD_VALUE);
	wbuf_u8(&cx->w, (uint8_t)m->id);
	wbuf_u16(&cx->w, id);
}

/* 1 if id names one of m's values. */
static int
cc_value_ok(const struct module *m, uint16_t id)
{
	return id != 0 && id < m->nvalues && m->values[id].ret != 0;
}

/*
 * The call of function mb (named at name) of module m (its indexes are on
 * the stack):
 * the overload whose arguments have the types of call's, as yara chooses
 * it; its arguments compiled in order.
 */
static int
cc_module_call(struct cc_ctx *cx, const struct module *m, const struct mod_member *mb,
	       const struct ast *name, const struct ast *call, enum cc_type *t)
{
	char have[MOD_MAX_ARGS + 1];
	enum cc_type at;
	uint32_t k, re = 0;
	const uint16_t *f;
	int r;

	/* The arguments' types decide the overload: compile them once, and
	 * keep the code when an overload takes them. */
	for (k = 0; k < call->nargs; k++) {
		if (call->args[k]->op == AST_REGEX) {
			if ((r = cc_regex(cx, call->args[k], &re)) != 0)
				return r;
			cond_emit_op_u32(&cx->w, COND_PUSH_REGEX, re);
			have[k] = 'r';
			continue;
		}
		if ((r = cc_expr(cx, call->args[k], &at)) != 0)
			return r;
		have[k] = at == CC_FLOAT ? 'f' : at == CC_STR ? 's' : at == CC_BOOL ? 'b' : 'i';
	}
	have[call->nargs] = '\0';
	for (f = mb->funcs; f != NULL && *f != 0; f++) {
		const struct mod_sig *sig;

		if (*f >= m->nfuncs)
			continue;
		sig = &m->funcs[*f];
		if (strcmp(sig->args != NULL ? sig->args : "", have) != 0)
			continue;
		wbuf_u8(&cx->w, COND_MOD_CALL);
		wbuf_u8(&cx->w, (uint8_t)m->id);
		wbuf_u16(&cx->w, *f);
		*t = cc_sigtype(sig->ret);
		return 0;
	}
	return cc_err(cx, name, WARD_ESEMANTIC, "wrong arguments for function \"%s\"", mb->name);
}

static int cc_chain(struct cc_ctx *cx, const struct ast *n, const struct cc_loop *iter,
		    struct cc_loop *it, enum cc_type *t);

/*
 * The code of the current item of loops[k]: the indexes on the way to its
 * array or dictionary (its expression compiled again, where the loops from
 * k inwards name nothing), then the item's position; for a dictionary's
 * value (key 1), then the key at that position.
 */
static int
cc_item(struct cc_ctx *cx, int k, int key)
{
	const struct cc_loop *lp = &cx->loops[k];
	struct cc_loop it;
	int lo = cx->hide_lo, hi = cx->hide_hi, r;

	cx->hide_lo = k;
	cx->hide_hi = cx->nloops;
	r = cc_chain(cx, lp->iter, lp, &it, NULL);
	cx->hide_lo = lo;
	cx->hide_hi = hi;
	if (r != 0)
		goto out;
	wbuf_u8(&cx->w, COND_PUSH_VAR);
	wbuf_u8(&cx->w, (uint8_t)k);
	if (key)
		cc_emit_value(cx, lp->m, lp->mb->key_id);
out:
	return r;
}

/*
 * The root of a chain: a module's names, or the fields of the item a loop
 * variable stands for (a structure in an array, or a dictionary's value
 * that is one), whose code is emitted.
 */
static int
cc_root(struct cc_ctx *cx, const struct ast *root, const struct module **m,
	const struct mod_member **members, char *path, size_t pathlen)
{
	const struct cc_loop *lp;
	int k, value, r = 0;

	snprintf(path, pathlen, "%s", root->name);
	if ((k = cc_loop_find(cx, root->name, &value)) >= 0) {
		lp = &cx->loops[k];
		if (lp->mb == NULL || lp->mb->elem != MOD_STRUCT ||
		    (lp->mb->kind == MOD_DICT && !value)) {
			r = cc_err(cx, root, WARD_ESEMANTIC, "\"%s\" is not a structure",
				   root->name);
			goto out;
		}
		*m = lp->m;
		*members = lp->mb->fields;
		r = cc_item(cx, k, value);
		goto out;
	}
	if ((*m = mod_find(root->name)) == NULL)
		r = cc_err(cx, root, WARD_ESEMANTIC, "invalid expression%s", "");
	else if (!cx->c->imported[(*m)->id])
		r = cc_err(cx, root, WARD_EUNDEFINED, "undefined identifier \"%s\"", root->name);
	else
		*members = (*m)->members;
out:
	return r;
}

static int
cc_not_iterable(struct cc_ctx *cx, const struct ast *root, const char *name)
{
	return cc_err(cx, root, WARD_ESEMANTIC, "identifier \"%s\" is not iterable", name);
}

/*
 * A chain of names, indexes and a call (n: AST_MEMBER, AST_INDEX or
 * AST_CALL), resolved from its root (cc_root); the indexes are compiled in
 * order, then the arguments, then the instruction (*t: its type).  With
 * iter (the loop whose head names n; its variables name nothing there),
 * n must be an array or a dictionary: the code of the indexes on its way
 * is emitted and *it gets the module and the member.
 */
static int
cc_chain(struct cc_ctx *cx, const struct ast *n, const struct cc_loop *iter, struct cc_loop *it,
	 enum cc_type *t)
{
	const struct ast *steps[CC_MOD_STEPS], *root = n;
	const struct mod_member *members = NULL, *mb = NULL;
	const struct module *m = NULL;
	char path[256];
	size_t nsteps = 0, k, plen;
	int r;

	while (root->op == AST_MEMBER || root->op == AST_INDEX || root->op == AST_CALL) {
		if (nsteps == CC_MOD_STEPS)
			return cc_err(cx, n, WARD_ELIMIT, "module expression too long%s", "");
		steps[nsteps++] = root;
		root = root->a;
	}
	if (root->op != AST_IDENT)
		return cc_err(cx, root, WARD_ESEMANTIC, "invalid expression%s", "");
	/* As in yara, a loop's own variables are declared before its
	 * iterable, where they stand for nothing. */
	if (iter != NULL && ((iter->var != NULL && strcmp(iter->var, root->name) == 0) ||
			     (iter->var2 != NULL && strcmp(iter->var2, root->name) == 0)))
		return nsteps == 0 ? cc_not_iterable(cx, root, root->name)
				   : cc_err(cx, root, WARD_ESEMANTIC, "\"%s\" is not a structure",
					    root->name);
	if ((r = cc_root(cx, root, &m, &members, path, sizeof(path))) != 0)
		return r;
	for (k = nsteps; k-- > 0;) {
		const struct ast *s = steps[k];

		plen = strlen(path);
		if (s->op != AST_MEMBER || members == NULL)
			return cc_err(cx, s, WARD_ESEMANTIC, "invalid use of \"%s\"", path);
		if ((mb = mod_member_find(members, s->name)) == NULL)
			return cc_err(cx, s, WARD_EUNDEFINED, "invalid field name \"%s\" in \"%s\"",
				      s->name, path);
		snprintf(path + plen, sizeof(path) - plen, ".%s", s->name);
		members = NULL;
		switch (mb->kind) {
		case MOD_CONST:
			if (k != 0)
				return cc_err(cx, steps[k - 1], WARD_ESEMANTIC,
					      "\"%s\" is a constant", path);
			if (iter != NULL)
				return cc_not_iterable(cx, root, mb->name);
			if (mb->elem == MOD_FLOAT) {
				cond_emit_float(&cx->w, mb->fvalue);
				*t = CC_FLOAT;
			} else {
				cond_emit_int(&cx->w, mb->value);
				*t = CC_INT;
			}
			return 0;
		case MOD_STRUCT:
			members = mb->fields;
			break;
		case MOD_ARRAY:
		case MOD_DICT:
			if (k == 0 && iter != NULL) {
				it->m = m;
				it->mb = mb;
				return 0;
			}
			if (k == 0 || steps[k - 1]->op != AST_INDEX)
				return cc_err(cx, s, WARD_ESEMANTIC,
					      "\"%s\" is %s: it needs an index", path,
					      mb->kind == MOD_ARRAY ? "an array" : "a dictionary");
			k--;
			if ((r = cc_want(cx, steps[k]->b,
					 mb->kind == MOD_ARRAY ? CC_INT : CC_STR)) != 0)
				return r;
			if (mb->elem == MOD_STRUCT)
				members = mb->fields;
			else if (k != 0)
				return cc_err(cx, steps[k - 1], WARD_ESEMANTIC,
					      "invalid use of \"%s\"", path);
			break;
		case MOD_FUNC:
			if (iter != NULL)
				return cc_not_iterable(cx, root, mb->name);
			if (k == 0 || steps[k - 1]->op != AST_CALL)
				return cc_err(cx, s, WARD_ESEMANTIC,
					      "\"%s\" is a function: call it", path);
			if (k != 1)
				return cc_err(cx, steps[k - 2], WARD_ESEMANTIC,
					      "invalid use of \"%s()\"", path);
			return cc_module_call(cx, m, mb, root, steps[0], t);
		default: /* a value */
			if (k != 0)
				return cc_err(cx, steps[k - 1], WARD_ESEMANTIC,
					      "invalid use of \"%s\"", path);
			break;
		}
	}
	if (iter != NULL)
		return cc_not_iterable(cx, root, mb != NULL ? mb->name : root->name);
	if (mb == NULL ||
	    (mb->kind != MOD_INT && mb->kind != MOD_FLOAT && mb->kind != MOD_STR &&
	     !((mb->kind == MOD_ARRAY || mb->kind == MOD_DICT) && mb->elem != MOD_STRUCT)))
		return cc_err(cx, n, WARD_ESEMANTIC, "\"%s\" is not a value", path);
	if (!cc_value_ok(m, mb->id))
		return cc_err(cx, n, WARD_ESEMANTIC, "internal error: no value for \"%s\"", path);
	cc_emit_value(cx, m, mb->id);
	*t = cc_sigtype(m->values[mb->id].ret);
	return 0;
}

int
cc_module(struct cc_ctx *cx, const struct ast *n, enum cc_type *t)
{
	return cc_chain(cx, n, NULL, NULL, t);
}

int
cc_item_var(struct cc_ctx *cx, const struct ast *n, int k, int value, enum cc_type *t)
{
	const struct cc_loop *lp = &cx->loops[k];
	const struct mod_member *mb = lp->mb;
	int r, key = mb->kind == MOD_DICT && !value;
	uint16_t id = key ? mb->key_id : mb->id;

	/* A structure is only ever used through its fields. */
	if (!key && mb->elem == MOD_STRUCT) {
		r = cc_err(cx, n, WARD_ESEMANTIC, "wrong usage of identifier \"%s\"", n->name);
		goto out;
	}
	if (!cc_value_ok(lp->m, id)) {
		r = cc_err(cx, n, WARD_ESEMANTIC, "internal error: no value for \"%s\"", n->name);
		goto out;
	}
	if ((r = cc_item(cx, k, mb->kind == MOD_DICT && value)) != 0)
		goto out;
	cc_emit_value(cx, lp->m, id);
	*t = cc_sigtype(lp->m->values[id].ret);
out:
	return r;
}

/* 1 when the bare name n, the iterable of loop lp, is neither a module nor
 * a loop's variable (lp's own included): a rule, an external, or nothing. */
static int
cc_plain_name(struct cc_ctx *cx, const struct ast *n, const struct cc_loop *lp)
{
	return n->op == AST_IDENT && strcmp(n->name, lp->var) != 0 &&
	       (lp->var2 == NULL || strcmp(n->name, lp->var2) != 0) &&
	       cc_loop_find(cx, n->name, NULL) < 0 && mod_find(n->name) == NULL;
}

/*
 * for Q VAR in ARRAY : (body) | for Q KEY, VALUE in DICTIONARY : (body):
 * N, then the number of items (the member's len_id value, with the
 * indexes on the array's way), then COND_LOOP_ITEMS with the body.
 */
int
cc_items_loop(struct cc_ctx *cx, const struct ast *n)
{
	struct cc_loop lp = {.var = n->name, .iter = n->b};
	const struct ast *root = n->b;
	enum cc_type t;
	size_t lenoff;
	int r, slot, nvars = 1;

	if (n->c != NULL) {
		lp.var2 = n->c->name;
		nvars = 2;
	}
	if (n->quant == COND_Q_EXPR && (r = cc_want(cx, n->a, CC_INT)) != 0)
		goto out;
	while (root->op == AST_MEMBER || root->op == AST_INDEX || root->op == AST_CALL)
		root = root->a;
	if (cc_plain_name(cx, n->b, &lp)) {
		/* Its own error if it names nothing; else it is no array. */
		if ((r = cc_expr(cx, root, &t)) == 0)
			r = cc_not_iterable(cx, root, root->name);
		goto out;
	}
	if ((r = cc_chain(cx, n->b, &lp, &lp, NULL)) != 0)
		goto out;
	if (lp.mb->kind == MOD_ARRAY && nvars != 1) {
		r = cc_err(cx, root, WARD_ESYNTAX,
			   "iterator for \"%s\" yields a single item on each iteration, but the "
			   "loop expects %d",
			   lp.mb->name, nvars);
		goto out;
	}
	if (lp.mb->kind == MOD_DICT && nvars != 2) {
		r = cc_err(cx, root, WARD_ESYNTAX,
			   "iterator for \"%s\" yields a key,value pair item on each iteration",
			   lp.mb->name);
		goto out;
	}
	if (!cc_value_ok(lp.m, lp.mb->len_id) ||
	    (lp.mb->kind == MOD_DICT && !cc_value_ok(lp.m, lp.mb->key_id))) {
		r = cc_err(cx, root, WARD_EUNSUPPORTED,
			   "iterating over \"%s\" is not supported by ward", lp.mb->name);
		goto out;
	}
	cc_emit_value(cx, lp.m, lp.mb->len_id);
	slot = cx->nloops;
	if ((r = cc_loop_enter(cx, n, &lp)) != 0)
		goto out;
	wbuf_u8(&cx->w, COND_LOOP_ITEMS);
	wbuf_u8(&cx->w, (uint8_t)n->quant);
	wbuf_u8(&cx->w, (uint8_t)slot);
	lenoff = cx->w.len;
	wbuf_u32(&cx->w, 0);
	r = cc_bool(cx, n->d);
	cx->nloops--;
	if (r == 0)
		wbuf_patch_u32(&cx->w, lenoff, (uint32_t)(cx->w.len - lenoff - 4));
out:
	return r;
}

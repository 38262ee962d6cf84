/*
 * parser_module: what follows an identifier in a condition — a module's
 * `.field`, `[index]` and `(arguments)` chain, built for the compiler to
 * resolve, or read past when the module is one ward does not implement.
 * See parser.h.
 */
#include "rules/parser_int.h"
#include "modules/module.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <string.h>

/*
 * Reads past what follows a module's name when recovering: `.field`,
 * `[index]` and `(arguments)` (expressions or regexps), in any sequence,
 * as yara's grammar has them.  The value is never computed: the rule is
 * left out.
 */
static int
parser_module_tail(struct parser *p)
{
	struct ast *tmp = NULL;
	int r = 0, chain = 0;

	for (;;) {
		if (++chain > WARD_MAX_EXPR_CHAIN) {
			r = parser_chain_limit(p);
			goto out;
		}
		switch (p->tok.type) {
		case TOK_DOT:
			if ((r = parser_next(p)) != 0)
				goto out;
			if (p->tok.type != TOK_IDENT) {
				r = parser_unexpected(p);
				goto out;
			}
			r = parser_next(p);
			break;
		case TOK_LBRACK:
			if ((r = parser_next(p)) != 0 || (r = parser_prim(p, &tmp, parser_or)) != 0)
				goto out;
			r = parser_expect(p, TOK_RBRACK);
			break;
		case TOK_LPAREN:
			if ((r = parser_next(p)) != 0)
				goto out;
			while (p->tok.type != TOK_RPAREN) {
				if (p->tok.type == TOK_REGEX)
					r = parser_next(p);
				else
					r = parser_prim(p, &tmp, parser_or);
				ast_free(tmp);
				tmp = NULL;
				if (r != 0)
					goto out;
				if (p->tok.type != TOK_COMMA)
					break;
				if ((r = parser_next(p)) != 0)
					goto out;
			}
			r = parser_expect(p, TOK_RPAREN);
			break;
		default:
			goto out;
		}
		ast_free(tmp);
		tmp = NULL;
		if (r != 0)
			goto out;
	}
out:
	ast_free(tmp);
	return r;
}

/* The arguments of a call, after its '(': expressions or regexps. */
static int
parser_args(struct parser *p, struct ast *call)
{
	struct ast *arg = NULL;
	int r = 0;

	while (p->tok.type != TOK_RPAREN) {
		if (call->nargs >= MOD_MAX_ARGS) {
			r = diag_set(p->d, WARD_ELIMIT, p->file, p->tok.line, p->tok.col,
				     "too many arguments (limit MOD_MAX_ARGS = %d)", MOD_MAX_ARGS);
			goto out;
		}
		if (p->tok.type == TOK_REGEX) {
			if ((arg = parser_node(p, AST_REGEX, AST_PRIM)) == NULL ||
			    (arg->s = ward_memdup(p->tok.buf, p->tok.blen)) == NULL) {
				r = parser_nomem(p);
				goto out;
			}
			arg->slen = p->tok.blen;
			arg->i = ((p->tok.ival & LEXER_RE_NOCASE) ? PATTERN_NOCASE : 0) |
				 ((p->tok.ival & LEXER_RE_DOTALL) ? PATTERN_DOTALL : 0);
			arg->src_off = p->tok.body_off;
			arg->height = 1;
			if ((r = parser_next(p)) != 0)
				goto out;
		} else if ((r = parser_or(p, &arg)) != 0) {
			/* any expression: a boolean one too (math.to_number) */
			goto out;
		}
		if (call->args == NULL &&
		    (call->args = ward_calloc(MOD_MAX_ARGS, sizeof(*call->args))) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		call->args[call->nargs++] = arg;
		arg = NULL;
		if (p->tok.type != TOK_COMMA)
			break;
		if ((r = parser_next(p)) != 0)
			goto out;
	}
	r = parser_expect(p, TOK_RPAREN);
out:
	ast_free(arg);
	return r;
}

/*
 * What follows a module's name: `.field`, `[index]` and `(arguments)` in
 * any sequence, as yara's grammar has them, each wrapping what came
 * before (*np).  The compiler resolves the names against the module.
 */
static int
parser_module_chain(struct parser *p, struct ast **np)
{
	struct ast *n;
	int r = 0, chain = 0;

	for (;;) {
		enum tok_type t = p->tok.type;

		if (t != TOK_DOT && t != TOK_LBRACK && t != TOK_LPAREN)
			return 0;
		if (++chain > WARD_MAX_EXPR_CHAIN)
			return parser_chain_limit(p);
		if ((n = parser_node(p,
				     t == TOK_DOT      ? AST_MEMBER
				     : t == TOK_LBRACK ? AST_INDEX
						       : AST_CALL,
				     AST_PRIM)) == NULL)
			return parser_nomem(p);
		n->a = *np;
		*np = n;
		if ((r = parser_next(p)) != 0)
			return r;
		if (t == TOK_DOT) {
			if (p->tok.type != TOK_IDENT)
				return parser_unexpected(p);
			if ((n->name = parser_tokstr(&p->tok)) == NULL)
				return parser_nomem(p);
			r = parser_next(p);
		} else if (t == TOK_LBRACK) {
			if ((r = parser_prim(p, &n->b, parser_or)) == 0)
				r = parser_expect(p, TOK_RBRACK);
		} else {
			r = parser_args(p, n);
		}
		if (r == 0)
			r = parser_height(p, n);
		if (r != 0)
			return r;
	}
}

int
parser_is_loopvar(const struct parser *p, const char *name)
{
	int k;

	for (k = 0; k < p->nloopvars; k++)
		if (strcmp(p->loopvars[k], name) == 0)
			return 1;
	return 0;
}

int
parser_ident(struct parser *p, struct ast **np)
{
	struct ast *n = *np;
	int r;

	if ((n->name = parser_tokstr(&p->tok)) == NULL)
		return parser_nomem(p);
	if ((r = parser_next(p)) != 0)
		return r;
	if (p->tok.type != TOK_DOT && p->tok.type != TOK_LPAREN && p->tok.type != TOK_LBRACK)
		return 0;
	/* A module ward implements, or a loop's variable (`s.name` in `for
	 * any s in pe.sections : (...)`): the names are the compiler's to
	 * resolve (and to refuse when the file does not import the module, or
	 * when the variable is no structure). */
	if (parser_is_loopvar(p, n->name) || mod_find(n->name) != NULL)
		return parser_module_chain(p, np);
	if (!mod_known(n->name))
		return diag_set(p->d, WARD_EUNDEFINED, p->file, n->line, n->col,
				"undefined identifier \"%s\"", n->name);
	if ((r = parser_unsupported(p, n->line, n->col, "\"%s\" module is not supported by ward",
				    n->name)) != 0)
		return r;
	return parser_module_tail(p);
}

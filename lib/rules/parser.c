/*
 * parser: recursive descent over the YARA 4.2 grammar.
 *
 * What must hold: the parser accepts what yara's grammar accepts in the
 * supported subset and refuses everything else with FILE:LINE:COL — a
 * syntax error, or WARD_EUNSUPPORTED naming the construct ward does not
 * implement (modules ward lacks, percent and "of ... in", enumerations in
 * for loops).  YARA splits expressions into
 * boolean expressions and primary (integer/string) expressions: comparisons
 * and arithmetic take primary operands only, so `1 == 1 == 1` and
 * `true + 1` are syntax errors; every node records its class (AST_PRIM or
 * AST_BOOL) to reproduce that.  Recursion is bounded by WARD_MAX_EXPR_DEPTH.
 */
#include "rules/parser_int.h"
#include "rules/cond.h"
#include "util/alloc.h"
#include "util/limits.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
ast_free(struct ast *a)
{
	uint32_t i;

	if (a == NULL)
		return;
	ast_free(a->a);
	ast_free(a->b);
	ast_free(a->c);
	ast_free(a->d);
	ward_free(a->name);
	ward_free(a->s);
	for (i = 0; i < a->nset; i++)
		ward_free(a->set[i].id);
	ward_free(a->set);
	for (i = 0; i < a->nargs; i++)
		ast_free(a->args[i]);
	ward_free(a->args);
	ward_free(a);
}

void
prule_free(struct prule *r)
{
	uint32_t i;

	if (r == NULL)
		return;
	ward_free(r->name);
	for (i = 0; i < r->ntags; i++)
		ward_free(r->tags[i]);
	ward_free(r->tags);
	for (i = 0; i < r->nmeta; i++) {
		ward_free(r->meta[i].key);
		ward_free(r->meta[i].s);
	}
	ward_free(r->meta);
	for (i = 0; i < r->nstrings; i++) {
		ward_free(r->strings[i].id);
		ward_free(r->strings[i].src);
		ward_free(r->strings[i].alphabet);
	}
	ward_free(r->strings);
	ast_free(r->cond);
	ward_free(r);
}

int
parser_next(struct parser *p)
{
	return lexer_next(p->lx, &p->tok, p->d);
}

int
parser_nomem(struct parser *p)
{
	return diag_set(p->d, WARD_ENOMEM, p->file, p->tok.line, p->tok.col, "out of memory");
}

/* "syntax error, unexpected X" at the current token. */
int
parser_unexpected(struct parser *p)
{
	const struct token *t = &p->tok;

	if (t->type == TOK_IDENT)
		return diag_set(p->d, WARD_ESYNTAX, p->file, t->line, t->col,
				"syntax error, unexpected identifier \"%.*s\"", (int)t->len,
				t->text);
	if (t->type == TOK_INT || t->type == TOK_STRID || t->type == TOK_STRCOUNT ||
	    t->type == TOK_STROFF || t->type == TOK_STRLEN)
		return diag_set(p->d, WARD_ESYNTAX, p->file, t->line, t->col,
				"syntax error, unexpected %s \"%.*s\"", lexer_tokname(t->type),
				(int)t->len, t->text);
	if (t->type >= TOK_ALL)
		return diag_set(p->d, WARD_ESYNTAX, p->file, t->line, t->col,
				"syntax error, unexpected keyword \"%s\"", lexer_tokname(t->type));
	return diag_set(p->d, WARD_ESYNTAX, p->file, t->line, t->col, "syntax error, unexpected %s",
			lexer_tokname(t->type));
}

int
parser_expect(struct parser *p, enum tok_type t)
{
	if (p->tok.type != t)
		return diag_set(p->d, WARD_ESYNTAX, p->file, p->tok.line, p->tok.col,
				"syntax error, unexpected %s, expecting %s",
				p->tok.type == TOK_IDENT ? "identifier"
							 : lexer_tokname(p->tok.type),
				lexer_tokname(t));
	return parser_next(p);
}

int
parser_unsupported(struct parser *p, int line, int col, const char *fmt, ...)
{
	char msg[sizeof(p->d->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!p->recover)
		return diag_set(p->d, WARD_EUNSUPPORTED, p->file, line, col, "%s", msg);
	if (!p->has_why) {
		diag_set(&p->why, WARD_EUNSUPPORTED, p->file, line, col, "%s", msg);
		p->has_why = 1;
	}
	return 0;
}

struct ast *
parser_node(struct parser *p, enum ast_op op, int cls)
{
	struct ast *a = ward_calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->op = op;
	a->cls = cls;
	a->line = p->tok.line;
	a->col = p->tok.col;
	a->tok = p->tok.type;
	return a;
}

char *
parser_tokstr(const struct token *t)
{
	return ward_strndup(t->text, t->len);
}

static int parser_bor(struct parser *p, struct ast **out);

/* A primary expression: parses an expression and requires class AST_PRIM. */
int
parser_prim(struct parser *p, struct ast **out, int (*fn)(struct parser *, struct ast **))
{
	int line = p->tok.line, col = p->tok.col, r;

	if ((r = fn(p, out)) != 0)
		goto out;
	if ((*out)->cls != AST_PRIM)
		r = diag_set(p->d, WARD_ESYNTAX, p->file, line, col,
			     "syntax error, a boolean expression is not allowed here "
			     "(expecting an integer or string expression)");
out:
	return r;
}

/* '(' lo '..' hi ')' into n->a, n->b. */
static int
parser_range(struct parser *p, struct ast *n)
{
	int r;

	if ((r = parser_expect(p, TOK_LPAREN)) != 0)
		goto out;
	if ((r = parser_prim(p, &n->a, parser_bor)) != 0)
		goto out;
	if ((r = parser_expect(p, TOK_DOTDOT)) != 0)
		goto out;
	if ((r = parser_prim(p, &n->b, parser_bor)) != 0)
		goto out;
	r = parser_expect(p, TOK_RPAREN);
out:
	return r;
}

/* them | '(' $a, $b*, ... ')' */
static int
parser_set(struct parser *p, struct ast *n)
{
	size_t cap = 0;
	int r = 0;

	if (p->tok.type == TOK_THEM) {
		n->them = 1;
		r = parser_next(p);
		goto out;
	}
	if ((r = parser_expect(p, TOK_LPAREN)) != 0)
		goto out;
	for (;;) {
		if (p->tok.type != TOK_STRID) {
			r = parser_unexpected(p);
			goto out;
		}
		if (ward_grow(&n->set, &cap, n->nset + 1, sizeof(*n->set)) != 0) {
			r = parser_nomem(p);
			goto out;
		}
		n->set[n->nset].line = p->tok.line;
		n->set[n->nset].col = p->tok.col;
		if ((n->set[n->nset].id = parser_tokstr(&p->tok)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		n->nset++;
		if ((r = parser_next(p)) != 0)
			goto out;
		if (p->tok.type == TOK_RPAREN)
			break;
		if ((r = parser_expect(p, TOK_COMMA)) != 0)
			goto out;
	}
	r = parser_next(p);
out:
	return r;
}

/* After `Q of set`: refuse the YARA 4.3 forms `of ... in (range)` and
 * `of ... at offset` (read past them when recovering). */
static int
parser_of_tail(struct parser *p)
{
	struct ast *tmp = NULL;
	enum tok_type t = p->tok.type;
	int r = 0;

	if (t != TOK_IN && t != TOK_AT)
		goto out;
	if ((r = parser_unsupported(p, p->tok.line, p->tok.col,
				    t == TOK_IN
					? "\"of ... in (range)\" is not supported by ward"
					: "\"of ... at offset\" is not supported by ward")) != 0 ||
	    (r = parser_next(p)) != 0)
		goto out;
	if (t == TOK_AT) {
		r = parser_prim(p, &tmp, parser_bor);
		goto out;
	}
	if ((tmp = parser_node(p, AST_IN, AST_BOOL)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	r = parser_range(p, tmp);
out:
	ast_free(tmp);
	return r;
}

/* Parses `:' '(' body ')'` into *body. */
static int
parser_body(struct parser *p, struct ast **body)
{
	int r;

	if ((r = parser_expect(p, TOK_COLON)) != 0)
		goto out;
	if (p->tok.type != TOK_LPAREN) {
		r = parser_unexpected(p);
		goto out;
	}
	if ((r = parser_next(p)) != 0)
		goto out;
	if ((r = parser_or(p, body)) != 0)
		goto out;
	r = parser_expect(p, TOK_RPAREN);
out:
	return r;
}

/* The variables of a for loop, as far as `in`: the first in n->name, a
 * second (a dictionary's value) in *var2; yara's limit on their number. */
static int
parser_for_vars(struct parser *p, struct ast *n, struct ast **var2)
{
	int r, nvars = 1;

	if (p->tok.type != TOK_IDENT) {
		r = parser_unexpected(p);
		goto out;
	}
	if ((n->name = parser_tokstr(&p->tok)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	if ((r = parser_next(p)) != 0)
		goto out;
	while (p->tok.type == TOK_COMMA) {
		if ((r = parser_next(p)) != 0)
			goto out;
		if (p->tok.type != TOK_IDENT) {
			r = parser_unexpected(p);
			goto out;
		}
		if (nvars == WARD_MAX_LOOP_VARS) {
			r = diag_set(p->d, WARD_ESYNTAX, p->file, p->tok.line, p->tok.col,
				     "too many loop variables");
			goto out;
		}
		if ((*var2 = parser_node(p, AST_IDENT, AST_PRIM)) == NULL ||
		    ((*var2)->name = parser_tokstr(&p->tok)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		nvars++;
		if ((r = parser_next(p)) != 0)
			goto out;
	}
	r = parser_expect(p, TOK_IN);
out:
	return r;
}

/* for Q v in (lo..hi) : (body), `in` read; var2 a second variable. */
static int
parser_for_range(struct parser *p, struct ast *n, const struct ast *var2)
{
	int r, line = p->tok.line, col = p->tok.col;

	if ((r = parser_next(p)) != 0)
		goto out;
	if ((r = parser_prim(p, &n->b, parser_bor)) != 0)
		goto out;
	if (p->tok.type == TOK_COMMA || p->tok.type == TOK_RPAREN) {
		if ((r = parser_unsupported(p, n->b->line, n->b->col,
					    "a for loop over an enumeration \"(a, b, ...)\" is not "
					    "supported by ward")) != 0)
			goto out;
		while (p->tok.type == TOK_COMMA) {
			ast_free(n->c);
			n->c = NULL;
			if ((r = parser_next(p)) != 0 ||
			    (r = parser_prim(p, &n->c, parser_bor)) != 0)
				goto out;
		}
	} else if ((r = parser_expect(p, TOK_DOTDOT)) != 0 ||
		   (r = parser_prim(p, &n->c, parser_bor)) != 0) {
		goto out;
	}
	if ((r = parser_expect(p, TOK_RPAREN)) != 0)
		goto out;
	if (var2 != NULL) {
		r = diag_set(p->d, WARD_ESYNTAX, p->file, line, col,
			     "iterator yields an integer on each iteration, but the loop "
			     "expects 2");
		goto out;
	}
	r = parser_body(p, &n->d);
out:
	return r;
}

/*
 * for Q of set : (body) | for Q v in (lo..hi) : (body) | for Q v in
 * module.array : (body) | for Q k, v in module.dictionary : (body); `for`
 * consumed.  The variables are in scope from `in` to the end of the body
 * (in the iterable too, as in yara, where they stand for nothing).
 */
static int
parser_for(struct parser *p, struct ast *n)
{
	struct ast *var2 = NULL;
	int r = 0, nvars0 = p->nloopvars;

	n->quant = p->tok.type == TOK_ALL    ? COND_Q_ALL
		   : p->tok.type == TOK_ANY  ? COND_Q_ANY
		   : p->tok.type == TOK_NONE ? COND_Q_NONE
					     : COND_Q_EXPR;
	if (n->quant != COND_Q_EXPR)
		r = parser_next(p);
	else
		r = parser_prim(p, &n->a, parser_bor);
	if (r != 0)
		goto out;
	if (p->tok.type == TOK_OF) {
		n->op = AST_FOR_OF;
		if ((r = parser_next(p)) != 0 || (r = parser_set(p, n)) != 0)
			goto out;
		if ((r = parser_of_tail(p)) != 0)
			goto out;
		r = parser_body(p, &n->b);
		goto out;
	}
	n->op = AST_FOR_RANGE;
	if ((r = parser_for_vars(p, n, &var2)) != 0)
		goto out;
	/* Bounded by the expression depth: each loop nests an expression. */
	if (p->nloopvars + WARD_MAX_LOOP_VARS >
	    (int)(sizeof(p->loopvars) / sizeof(p->loopvars[0]))) {
		r = diag_set(p->d, WARD_ELIMIT, p->file, n->line, n->col,
			     "loop nesting limit exceeded");
		goto out;
	}
	p->loopvars[p->nloopvars++] = n->name;
	if (var2 != NULL)
		p->loopvars[p->nloopvars++] = var2->name;
	if (p->tok.type == TOK_LPAREN) {
		r = parser_for_range(p, n, var2);
		goto out;
	}
	/* yara's iterator: an identifier, with what follows it. */
	n->op = AST_FOR_IN;
	n->c = var2;
	var2 = NULL;
	if (p->tok.type != TOK_IDENT) {
		r = parser_unexpected(p);
		goto out;
	}
	if ((n->b = parser_node(p, AST_IDENT, AST_PRIM)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	if ((r = parser_ident(p, &n->b)) != 0 || (r = parser_height(p, n->b)) != 0)
		goto out;
	r = parser_body(p, &n->d);
out:
	p->nloopvars = nvars0;
	ast_free(var2);
	return r;
}

static int
parser_readkind(enum tok_type t)
{
	switch (t) {
	case TOK_UINT8:
		return COND_RD_UINT8;
	case TOK_UINT16:
		return COND_RD_UINT16;
	case TOK_UINT32:
		return COND_RD_UINT32;
	case TOK_INT8:
		return COND_RD_INT8;
	case TOK_INT16:
		return COND_RD_INT16;
	case TOK_INT32:
		return COND_RD_INT32;
	case TOK_UINT8BE:
		return COND_RD_UINT8BE;
	case TOK_UINT16BE:
		return COND_RD_UINT16BE;
	case TOK_UINT32BE:
		return COND_RD_UINT32BE;
	case TOK_INT8BE:
		return COND_RD_INT8BE;
	case TOK_INT16BE:
		return COND_RD_INT16BE;
	case TOK_INT32BE:
		return COND_RD_INT32BE;
	default:
		return -1;
	}
}

/* The string reference forms: $a [at E | in R], #a [in R], @a[E], !a[E]. */
static int
parser_strref(struct parser *p, struct ast *n)
{
	enum tok_type t = p->tok.type;
	int r;

	if ((n->name = parser_tokstr(&p->tok)) == NULL)
		return parser_nomem(p);
	if (t == TOK_STRID && n->name[strlen(n->name) - 1] == '*')
		return parser_unexpected(p);
	if ((r = parser_next(p)) != 0)
		return r;
	switch (t) {
	case TOK_STRID:
		n->op = AST_FOUND;
		n->cls = AST_BOOL;
		if (p->tok.type == TOK_AT) {
			n->op = AST_AT;
			if ((r = parser_next(p)) != 0)
				return r;
			return parser_prim(p, &n->a, parser_bor);
		}
		if (p->tok.type == TOK_IN) {
			n->op = AST_IN;
			if ((r = parser_next(p)) != 0)
				return r;
			return parser_range(p, n);
		}
		return 0;
	case TOK_STRCOUNT:
		n->op = AST_COUNT;
		if (p->tok.type == TOK_IN) {
			n->op = AST_COUNT_IN;
			if ((r = parser_next(p)) != 0)
				return r;
			return parser_range(p, n);
		}
		return 0;
	default:
		n->op = t == TOK_STROFF ? AST_OFFSET : AST_LENGTH;
		if (p->tok.type != TOK_LBRACK)
			return 0;
		if ((r = parser_next(p)) != 0)
			return r;
		if ((r = parser_prim(p, &n->a, parser_or)) != 0)
			return r;
		return parser_expect(p, TOK_RBRACK);
	}
}

static int
parser_atom(struct parser *p, struct ast **out)
{
	struct ast *n;
	int r = 0, k;

	*out = NULL;
	if ((n = parser_node(p, AST_INT, AST_PRIM)) == NULL)
		return parser_nomem(p);
	switch (p->tok.type) {
	case TOK_LPAREN:
		ward_free(n);
		n = NULL;
		if ((r = parser_next(p)) != 0)
			goto out;
		if ((r = parser_or(p, &n)) != 0)
			goto out;
		r = parser_expect(p, TOK_RPAREN);
		goto out;
	case TOK_TRUE:
	case TOK_FALSE:
		n->op = p->tok.type == TOK_TRUE ? AST_TRUE : AST_FALSE;
		n->cls = AST_BOOL;
		r = parser_next(p);
		goto out;
	case TOK_INT:
		n->i = p->tok.ival;
		r = parser_next(p);
		goto out;
	case TOK_DOUBLE:
		n->op = AST_FLOAT;
		n->f = p->tok.dval;
		r = parser_next(p);
		goto out;
	case TOK_TEXT:
		n->op = AST_TEXT;
		n->slen = p->tok.blen;
		if ((n->s = ward_memdup(p->tok.buf, p->tok.blen)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		r = parser_next(p);
		goto out;
	case TOK_FILESIZE:
		n->op = AST_FILESIZE;
		r = parser_next(p);
		goto out;
	case TOK_ENTRYPOINT:
		if ((r = parser_unsupported(p, p->tok.line, p->tok.col,
					    "\"entrypoint\" is not supported by ward")) != 0)
			goto out;
		r = parser_next(p);
		goto out;
	case TOK_IDENT:
		n->op = AST_IDENT;
		r = parser_ident(p, &n);
		goto out;
	case TOK_STRID:
	case TOK_STRCOUNT:
	case TOK_STROFF:
	case TOK_STRLEN:
		r = parser_strref(p, n);
		goto out;
	case TOK_FOR:
		n->cls = AST_BOOL;
		if ((r = parser_next(p)) != 0)
			goto out;
		r = parser_for(p, n);
		goto out;
	case TOK_ALL:
	case TOK_ANY:
	case TOK_NONE:
		n->op = AST_OF;
		n->cls = AST_BOOL;
		n->quant = p->tok.type == TOK_ALL   ? COND_Q_ALL
			   : p->tok.type == TOK_ANY ? COND_Q_ANY
						    : COND_Q_NONE;
		if ((r = parser_next(p)) != 0 || (r = parser_expect(p, TOK_OF)) != 0 ||
		    (r = parser_set(p, n)) != 0)
			goto out;
		r = parser_of_tail(p);
		goto out;
	default:
		break;
	}
	if ((k = parser_readkind(p->tok.type)) >= 0) {
		n->op = AST_READ;
		n->i = k;
		if ((r = parser_next(p)) != 0 || (r = parser_expect(p, TOK_LPAREN)) != 0)
			goto out;
		if ((r = parser_prim(p, &n->a, parser_or)) != 0)
			goto out;
		r = parser_expect(p, TOK_RPAREN);
		goto out;
	}
	r = parser_unexpected(p);
out:
	if (r == 0)
		r = parser_height(p, n);
	if (r != 0) {
		ast_free(n);
		n = NULL;
	}
	*out = n;
	return r;
}

static int
parser_enter(struct parser *p)
{
	if (++p->depth > WARD_MAX_EXPR_DEPTH)
		return diag_set(p->d, WARD_ELIMIT, p->file, p->tok.line, p->tok.col,
				"expression nested too deeply (limit WARD_MAX_EXPR_DEPTH = %d)",
				WARD_MAX_EXPR_DEPTH);
	return 0;
}

/* Sets n->height from its children; refuses trees deeper than the limit, so
 * that every later recursion over the tree (compiler, ast_free) is bounded. */
int
parser_height(struct parser *p, struct ast *n)
{
	const struct ast *ch[4] = {n->a, n->b, n->c, n->d};
	uint32_t k;
	int i, h = 0;

	for (i = 0; i < 4; i++)
		if (ch[i] != NULL && ch[i]->height > h)
			h = ch[i]->height;
	for (k = 0; k < n->nargs; k++)
		if (n->args[k]->height > h)
			h = n->args[k]->height;
	n->height = h + 1;
	if (n->height > WARD_MAX_EXPR_CHAIN)
		return diag_set(p->d, WARD_ELIMIT, p->file, n->line, n->col,
				"expression too deep (limit WARD_MAX_EXPR_CHAIN = %d)",
				WARD_MAX_EXPR_CHAIN);
	return 0;
}

int
parser_chain_limit(struct parser *p)
{
	return diag_set(p->d, WARD_ELIMIT, p->file, p->tok.line, p->tok.col,
			"too many operands in one expression (limit WARD_MAX_EXPR_CHAIN = %d)",
			WARD_MAX_EXPR_CHAIN);
}

static int
parser_unary(struct parser *p, struct ast **out)
{
	struct ast *n = NULL;
	int r;

	*out = NULL;
	if ((r = parser_enter(p)) != 0)
		goto out;
	if (p->tok.type != TOK_MINUS && p->tok.type != TOK_TILDE) {
		r = parser_atom(p, out);
		goto out;
	}
	if ((n = parser_node(p, p->tok.type == TOK_MINUS ? AST_NEG : AST_BNOT, AST_PRIM)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	if ((r = parser_next(p)) != 0)
		goto out;
	if ((r = parser_prim(p, &n->a, parser_unary)) != 0)
		goto out;
	if (n->op == AST_NEG && n->a->op == AST_INT && n->a->i != INT64_MIN) {
		/* Fold -N so that literals like -5 stay constants. */
		n->a->i = -n->a->i;
		*out = n->a;
		n->a = NULL;
		ast_free(n);
		n = NULL;
		goto out;
	}
	if ((r = parser_height(p, n)) != 0)
		goto out;
	*out = n;
	n = NULL;
out:
	ast_free(n);
	p->depth--;
	return r;
}

/* One level of left-associative binary integer operators. */
static int
parser_binlevel(struct parser *p, struct ast **out, int (*sub)(struct parser *, struct ast **),
		const enum tok_type *ops, size_t nops)
{
	struct ast *l = NULL, *n;
	size_t i;
	int r, chain = 0;

	*out = NULL;
	if ((r = parser_enter(p)) != 0)
		goto out;
	if ((r = sub(p, &l)) != 0)
		goto out;
	for (;;) {
		for (i = 0; i < nops && ops[i] != p->tok.type; i++)
			;
		if (i == nops)
			break;
		if (++chain > WARD_MAX_EXPR_CHAIN) {
			r = parser_chain_limit(p);
			goto out;
		}
		if (l->cls != AST_PRIM) {
			r = parser_unexpected(p);
			goto out;
		}
		if ((n = parser_node(p, AST_BIN, AST_PRIM)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		n->a = l;
		l = n;
		if ((r = parser_next(p)) != 0)
			goto out;
		if (n->tok == TOK_PERCENT && p->tok.type == TOK_OF) {
			/* `N% of set` is a boolean: no operator may follow it here. */
			if ((r = parser_unsupported(p, n->line, n->col,
						    "\"N%% of\" (percentage) is not supported by "
						    "ward")) != 0 ||
			    (r = parser_next(p)) != 0 || (r = parser_set(p, n)) != 0 ||
			    (r = parser_of_tail(p)) != 0)
				goto out;
			n->cls = AST_BOOL;
			continue;
		}
		if ((r = parser_prim(p, &n->b, sub)) != 0 || (r = parser_height(p, n)) != 0)
			goto out;
	}
	*out = l;
	l = NULL;
out:
	ast_free(l);
	p->depth--;
	return r;
}

static int
parser_mul(struct parser *p, struct ast **out)
{
	static const enum tok_type ops[] = {TOK_STAR, TOK_BSLASH, TOK_PERCENT};

	return parser_binlevel(p, out, parser_unary, ops, 3);
}

static int
parser_add(struct parser *p, struct ast **out)
{
	static const enum tok_type ops[] = {TOK_PLUS, TOK_MINUS};

	return parser_binlevel(p, out, parser_mul, ops, 2);
}

static int
parser_shift(struct parser *p, struct ast **out)
{
	static const enum tok_type ops[] = {TOK_SHL, TOK_SHR};

	return parser_binlevel(p, out, parser_add, ops, 2);
}

static int
parser_band(struct parser *p, struct ast **out)
{
	static const enum tok_type ops[] = {TOK_AMP};

	return parser_binlevel(p, out, parser_shift, ops, 1);
}

static int
parser_bxor(struct parser *p, struct ast **out)
{
	static const enum tok_type ops[] = {TOK_CARET};

	return parser_binlevel(p, out, parser_band, ops, 1);
}

static int
parser_bor(struct parser *p, struct ast **out)
{
	static const enum tok_type ops[] = {TOK_PIPE};

	return parser_binlevel(p, out, parser_bxor, ops, 1);
}

static int
parser_iscmp(enum tok_type t)
{
	switch (t) {
	case TOK_EQ:
	case TOK_NEQ:
	case TOK_LT:
	case TOK_LE:
	case TOK_GT:
	case TOK_GE:
	case TOK_CONTAINS:
	case TOK_ICONTAINS:
	case TOK_STARTSWITH:
	case TOK_ISTARTSWITH:
	case TOK_ENDSWITH:
	case TOK_IENDSWITH:
	case TOK_IEQUALS:
	case TOK_MATCHES:
		return 1;
	default:
		return 0;
	}
}

/* primary [cmp primary] | primary of set | primary matches /re/ */
static int
parser_cmp(struct parser *p, struct ast **out)
{
	struct ast *l = NULL, *n = NULL;
	int r;

	*out = NULL;
	if ((r = parser_bor(p, &l)) != 0)
		goto out;
	if (p->tok.type == TOK_OF && l->cls == AST_PRIM) {
		if ((n = parser_node(p, AST_OF, AST_BOOL)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		n->line = l->line;
		n->col = l->col;
		n->quant = COND_Q_EXPR;
		n->a = l;
		l = NULL;
		if ((r = parser_next(p)) != 0 || (r = parser_set(p, n)) != 0)
			goto out;
		r = parser_of_tail(p);
		goto out;
	}
	if (!parser_iscmp(p->tok.type)) {
		n = l;
		l = NULL;
		goto out;
	}
	if (l->cls != AST_PRIM) {
		r = parser_unexpected(p);
		goto out;
	}
	if ((n = parser_node(p, AST_BIN, AST_BOOL)) == NULL) {
		r = parser_nomem(p);
		goto out;
	}
	n->a = l;
	l = NULL;
	if ((r = parser_next(p)) != 0)
		goto out;
	if (n->tok == TOK_MATCHES) {
		n->op = AST_MATCHES;
		if (p->tok.type != TOK_REGEX) {
			r = parser_unexpected(p);
			goto out;
		}
		n->slen = p->tok.blen;
		n->i = ((p->tok.ival & LEXER_RE_NOCASE) ? PATTERN_NOCASE : 0) |
		       ((p->tok.ival & LEXER_RE_DOTALL) ? PATTERN_DOTALL : 0);
		n->src_off = p->tok.body_off;
		if ((n->s = ward_memdup(p->tok.buf, p->tok.blen)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		r = parser_next(p);
		goto out;
	}
	r = parser_prim(p, &n->b, parser_bor);
out:
	ast_free(l);
	if (r == 0 && n != NULL)
		r = parser_height(p, n);
	if (r != 0) {
		ast_free(n);
		n = NULL;
	}
	*out = n;
	return r;
}

static int
parser_not(struct parser *p, struct ast **out)
{
	struct ast *n = NULL;
	int r;

	*out = NULL;
	if ((r = parser_enter(p)) != 0)
		goto out;
	if (p->tok.type != TOK_NOT && p->tok.type != TOK_DEFINED) {
		r = parser_cmp(p, out);
		goto out;
	}
	if ((n = parser_node(p, p->tok.type == TOK_NOT ? AST_NOT : AST_DEFINED, AST_BOOL)) ==
	    NULL) {
		r = parser_nomem(p);
		goto out;
	}
	if ((r = parser_next(p)) != 0 || (r = parser_not(p, &n->a)) != 0 ||
	    (r = parser_height(p, n)) != 0)
		goto out;
	*out = n;
	n = NULL;
out:
	ast_free(n);
	p->depth--;
	return r;
}

static int
parser_logic(struct parser *p, struct ast **out, enum tok_type op,
	     int (*sub)(struct parser *, struct ast **))
{
	struct ast *l = NULL, *n;
	int r, chain = 0;

	*out = NULL;
	if ((r = parser_enter(p)) != 0)
		goto out;
	if ((r = sub(p, &l)) != 0)
		goto out;
	while (p->tok.type == op) {
		if (++chain > WARD_MAX_EXPR_CHAIN) {
			r = parser_chain_limit(p);
			goto out;
		}
		if ((n = parser_node(p, op == TOK_AND ? AST_AND : AST_OR, AST_BOOL)) == NULL) {
			r = parser_nomem(p);
			goto out;
		}
		n->a = l;
		l = n;
		if ((r = parser_next(p)) != 0)
			goto out;
		if ((r = sub(p, &n->b)) != 0 || (r = parser_height(p, n)) != 0)
			goto out;
	}
	*out = l;
	l = NULL;
out:
	ast_free(l);
	p->depth--;
	return r;
}

static int
parser_and(struct parser *p, struct ast **out)
{
	return parser_logic(p, out, TOK_AND, parser_not);
}

int
parser_or(struct parser *p, struct ast **out)
{
	return parser_logic(p, out, TOK_OR, parser_and);
}

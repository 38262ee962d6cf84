/*
 * parser_int: what parser.c (expressions) and parser_rule.c (rule
 * structure) share; not part of the parser's contract.
 */
#ifndef WARD_RULES_PARSER_INT_H
#define WARD_RULES_PARSER_INT_H

#include "rules/parser.h"
#include "util/limits.h"

struct parser {
	struct lexer *lx;
	struct token tok;
	const struct parser_cb *cb;
	struct ward_diag *d;
	const char *file;
	int depth;
	/* cb->unsupported is set: a construct outside ward's subset is noted
	 * (the first one of the rule, in why) and parsing goes on, so that the
	 * rest of the rule is still held to the grammar. */
	int recover;
	int has_why;
	struct ward_diag why;
	/* The variables of the for loops being parsed (from their `in` to the
	 * end of their body): `s.name` is a chain to resolve when s is one. */
	const char *loopvars[WARD_MAX_EXPR_DEPTH * WARD_MAX_LOOP_VARS];
	int nloopvars;
};

/* Reads the next token into p->tok. */
int parser_next(struct parser *p);
/* WARD_ENOMEM with the current position. */
int parser_nomem(struct parser *p);
/* "syntax error, unexpected X" at the current token. */
int parser_unexpected(struct parser *p);
/* Requires token t and reads past it. */
int parser_expect(struct parser *p, enum tok_type t);
/* A copy of an identifier token's text (NULL on allocation failure). */
char *parser_tokstr(const struct token *t);
/* A whole condition expression. */
int parser_or(struct parser *p, struct ast **out);
/* A new node at the current token (NULL: out of memory). */
struct ast *parser_node(struct parser *p, enum ast_op op, int cls);
/* A primary expression parsed by fn (a boolean one is refused). */
int parser_prim(struct parser *p, struct ast **out, int (*fn)(struct parser *, struct ast **));
/* Sets n->height from its children; refuses trees deeper than the limit. */
int parser_height(struct parser *p, struct ast *n);
/* The error of a chain of operands past WARD_MAX_EXPR_CHAIN. */
int parser_chain_limit(struct parser *p);
/* An identifier (the current token) into *np, with what follows it when
 * it names a module (parser_module.c). */
int parser_ident(struct parser *p, struct ast **np);
/* 1 if name is the variable of a for loop being parsed around the token. */
int parser_is_loopvar(const struct parser *p, const char *name);
/*
 * A construct outside ward's subset at line:col ("... is not supported by
 * ward").  Without recovery it is the error (returned); with it, it is
 * noted for the rule and 0 is returned: the caller then reads the
 * construct's grammar and goes on.
 */
int parser_unsupported(struct parser *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif

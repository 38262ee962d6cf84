/*
 * parser_int: what parser.c (expressions) and parser_rule.c (rule
 * structure) share; not part of the parser's contract.
 */
#ifndef WARD_RULES_PARSER_INT_H
#define WARD_RULES_PARSER_INT_H

#include "rules/parser.h"

struct parser {
	struct lexer *lx;
	struct token tok;
	const struct parser_cb *cb;
	struct ward_diag *d;
	const char *file;
	int depth;
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

#endif

/*
 * lexer: the tokens of the YARA rule language, read from one source buffer.
 *
 * The lexer borrows the source (it must outlive the lexer) and never reads
 * past its length.  Identifiers and string identifiers point into the
 * source; the bytes of text strings, hex strings and regexps (after escape
 * processing) live in a buffer owned by the lexer that the next call to
 * lexer_next overwrites, so the parser copies what it keeps.
 */
#ifndef WARD_RULES_LEXER_H
#define WARD_RULES_LEXER_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

enum tok_type {
	TOK_EOF = 0,
	TOK_IDENT,    /* identifier: text/len */
	TOK_STRID,    /* $name, $name*, $, $*: text/len include '$' and '*' */
	TOK_STRCOUNT, /* #name or # */
	TOK_STROFF,   /* @name or @ */
	TOK_STRLEN,   /* !name or ! */
	TOK_INT,      /* ival */
	TOK_DOUBLE,   /* a floating point literal: dval */
	TOK_TEXT,     /* "..." after escapes: buf/blen */
	TOK_HEX,      /* { ... }: raw text between the braces in buf/blen */
	TOK_REGEX,    /* /.../flags: raw text in buf/blen, flags in ival */
	/* punctuation */
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_LPAREN,
	TOK_RPAREN,
	TOK_LBRACK,
	TOK_RBRACK,
	TOK_COLON,
	TOK_ASSIGN,
	TOK_COMMA,
	TOK_DOT,
	TOK_DOTDOT,
	TOK_PLUS,
	TOK_MINUS,
	TOK_STAR,
	TOK_BSLASH,
	TOK_PERCENT,
	TOK_AMP,
	TOK_PIPE,
	TOK_CARET,
	TOK_TILDE,
	TOK_SHL,
	TOK_SHR,
	TOK_LT,
	TOK_LE,
	TOK_GT,
	TOK_GE,
	TOK_EQ,
	TOK_NEQ,
	/* keywords */
	TOK_ALL,
	TOK_AND,
	TOK_ANY,
	TOK_ASCII,
	TOK_AT,
	TOK_BASE64,
	TOK_BASE64WIDE,
	TOK_CONDITION,
	TOK_CONTAINS,
	TOK_DEFINED,
	TOK_ENDSWITH,
	TOK_ENTRYPOINT,
	TOK_FALSE,
	TOK_FILESIZE,
	TOK_FOR,
	TOK_FULLWORD,
	TOK_GLOBAL,
	TOK_ICONTAINS,
	TOK_IENDSWITH,
	TOK_IEQUALS,
	TOK_IMPORT,
	TOK_IN,
	TOK_INCLUDE,
	TOK_INT8,
	TOK_INT16,
	TOK_INT32,
	TOK_INT8BE,
	TOK_INT16BE,
	TOK_INT32BE,
	TOK_ISTARTSWITH,
	TOK_MATCHES,
	TOK_META,
	TOK_NOCASE,
	TOK_NONE,
	TOK_NOT,
	TOK_OF,
	TOK_OR,
	TOK_PRIVATE,
	TOK_RULE,
	TOK_STARTSWITH,
	TOK_STRINGS,
	TOK_THEM,
	TOK_TRUE,
	TOK_UINT8,
	TOK_UINT16,
	TOK_UINT32,
	TOK_UINT8BE,
	TOK_UINT16BE,
	TOK_UINT32BE,
	TOK_WIDE,
	TOK_XOR,
	TOK_COUNT_
};

/* Regexp flags in tok.ival for TOK_REGEX. */
#define LEXER_RE_NOCASE 0x1
#define LEXER_RE_DOTALL 0x2

struct token {
	enum tok_type type;
	int line, col;	  /* 1-based position of the first character */
	size_t off;	  /* byte offset of the first character in the source */
	const char *text; /* identifiers: borrowed from the source */
	size_t len;
	int64_t ival;
	double dval;	    /* TOK_DOUBLE */
	const uint8_t *buf; /* TEXT/HEX/REGEX bytes, owned by the lexer */
	size_t blen;
	size_t body_off; /* HEX/REGEX: source offset of the first byte of buf */
};

struct lexer;

/* Creates a lexer over src (len bytes, borrowed).  file names diagnostics. */
int lexer_new(const char *file, const char *src, size_t len, struct lexer **out);
void lexer_free(struct lexer *lx);

/*
 * Reads the next token into *t (valid until the next call).  Returns 0 or a
 * negative WARD_E* with d filled (FILE:LINE:COL and a message).
 */
int lexer_next(struct lexer *lx, struct token *t, struct ward_diag *d);

/* The 1-based line and column of source offset off. */
void lexer_linecol(const struct lexer *lx, size_t off, int *line, int *col);

/* A printable description of a token type for "unexpected ..." messages. */
const char *lexer_tokname(enum tok_type t);

/* The file name given to lexer_new. */
const char *lexer_file(const struct lexer *lx);

#endif

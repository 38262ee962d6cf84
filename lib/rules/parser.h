/*
 * parser: YARA rule source -> parsed rules (header, meta, strings and the
 * condition as a syntax tree).  The parser knows the grammar (YARA 4.2's,
 * with its split between boolean expressions and primary expressions) but
 * not the meaning of names: the compiler resolves identifiers, types and
 * string references.  Each parsed rule is handed to a callback as soon as
 * it is complete; `include` is handed to another callback.
 */
#ifndef WARD_RULES_PARSER_H
#define WARD_RULES_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "pattern/pattern.h"
#include "rules/lexer.h"
#include "rules/ruleset.h"
#include "util/err.h"

enum ast_op {
	AST_TRUE = 1,
	AST_FALSE,
	AST_INT,   /* i */
	AST_FLOAT, /* f */
	AST_TEXT,  /* s/slen */
	AST_FILESIZE,
	AST_READ,      /* i = COND_RD_*, a = offset */
	AST_IDENT,     /* name: rule, external or loop variable */
	AST_FOUND,     /* name ("$a" or "$") */
	AST_AT,	       /* name, a */
	AST_IN,	       /* name, a..b */
	AST_COUNT,     /* name ("#a" or "#") */
	AST_COUNT_IN,  /* name, a..b */
	AST_OFFSET,    /* name ("@a"), a = index or NULL */
	AST_LENGTH,    /* name ("!a"), a = index or NULL */
	AST_OF,	       /* quant, a = N (COND_Q_EXPR), set */
	AST_FOR_OF,    /* quant, a = N, set, b = body */
	AST_FOR_RANGE, /* quant, a = N, name = variable, b..c range, d = body */
	AST_FOR_IN,    /* quant, a = N, name = variable (a dictionary's key),
			* c = AST_IDENT of a dictionary's value variable or NULL,
			* b = the module's array or dictionary, d = body */
	AST_BIN,       /* tok = operator token, a, b */
	AST_NEG,       /* a */
	AST_BNOT,      /* a */
	AST_MATCHES,   /* a, s/slen = regexp source, i = PATTERN_NOCASE|PATTERN_DOTALL */
	AST_AND,
	AST_OR,
	AST_NOT,
	AST_DEFINED,
	AST_MEMBER, /* a = what it is a member of (AST_IDENT of a module, ...), name */
	AST_INDEX,  /* a = the array or dictionary, b = the index */
	AST_CALL,   /* a = the function (AST_MEMBER), args/nargs */
	AST_REGEX,  /* an argument of a call: s/slen = source, i = flags, src_off */
};

/* Syntactic class: YARA's primary_expression vs boolean expression. */
#define AST_PRIM 1
#define AST_BOOL 2

struct ast_setitem {
	char *id; /* "$a", "$a*", "$*" */
	int line, col;
};

struct ast {
	enum ast_op op;
	int cls;
	int tok;
	int line, col;
	int height; /* 1 + the height of the deepest child */
	struct ast *a, *b, *c, *d;
	int64_t i;
	double f;
	char *name;
	uint8_t *s;
	size_t slen;
	size_t src_off; /* MATCHES: source offset of the regexp body */
	int quant;	/* COND_Q_* */
	int them;	/* set is `them` */
	struct ast_setitem *set;
	uint32_t nset;
	struct ast **args; /* AST_CALL */
	uint32_t nargs;
};

struct pstring {
	char *id;
	int line, col;
	enum pattern_kind kind;
	uint8_t *src;
	size_t len;
	size_t src_off;		  /* HEX/REGEX: source offset of the body */
	unsigned flags;		  /* PATTERN_* */
	uint8_t xor_min, xor_max; /* PATTERN_XOR: the keys */
	uint8_t *alphabet;	  /* base64/base64wide("..."): 64 bytes, or NULL */
};

struct prule {
	char *name;
	int line, col;
	size_t off, end; /* the rule's text in the source: [off, end) */
	uint32_t flags;	 /* RS_RULE_* */
	char **tags;
	uint32_t ntags;
	struct rs_meta *meta;
	uint32_t nmeta;
	struct pstring *strings;
	uint32_t nstrings;
	struct ast *cond;
};

/* A rule or an import that uses what ward does not implement. */
struct parser_skip {
	const struct prule *rule;    /* the whole rule, parsed; NULL for an import */
	const char *module;	     /* an import: the module's name */
	size_t off, end;	     /* its text in the source: [off, end) */
	const struct ward_diag *why; /* FILE:LINE:COL of the first such construct */
};

struct parser_cb {
	void *arg;
	/* Called per rule; borrows r and lx (for positions) during the call. */
	int (*rule)(void *arg, struct prule *r, const struct lexer *lx, struct ward_diag *d);
	/* Called per include "path" (path as written). */
	int (*include)(void *arg, const char *path, int line, int col, struct ward_diag *d);
	/*
	 * NULL: a construct outside ward's subset is an error (WARD_EUNSUPPORTED)
	 * at the construct.  Otherwise the parser reads past it by yara's
	 * grammar and calls this, instead of rule, once the rule is complete
	 * (and once per import); syntax errors stay errors.  Borrows s.
	 */
	int (*unsupported)(void *arg, const struct parser_skip *s, struct ward_diag *d);
	/* Called per `import "name"` of a module ward implements (NULL: the
	 * import is accepted and nothing else is done). */
	int (*import)(void *arg, const char *module, int line, int col, struct ward_diag *d);
};

/* Parses src (len bytes, borrowed); file names diagnostics. */
int parser_parse(const char *file, const char *src, size_t len, const struct parser_cb *cb,
		 struct ward_diag *d);

void ast_free(struct ast *a);
void prule_free(struct prule *r);

#endif

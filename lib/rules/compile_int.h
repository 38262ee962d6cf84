/*
 * compile_int: what compile.c and compile_expr.c share (not public).
 */
#ifndef WARD_RULES_COMPILE_INT_H
#define WARD_RULES_COMPILE_INT_H

#include "rules/compile.h"
#include "rules/lexer.h"
#include "modules/module.h"
#include "rules/parser.h"
#include "util/buf.h"
#include "util/limits.h"

struct rules_compiler {
	struct ruleset *rs;
	size_t rules_cap, strings_cap, ext_cap, regex_cap;
	uint32_t *names; /* open addressing: rule index + 1, 0 = empty */
	size_t names_cap;
	int failed;
	int started; /* a file was added: no more -d */
	int depth;   /* include depth */
	const char *cur_file;
	int cur_is_mem;	 /* cur_file names in-memory source: includes are cwd-relative */
	int no_includes; /* rules_compiler_forbid_includes */
	int skip;	 /* rules_compiler_skip_unsupported */
	struct rules_skipped *skipped;
	size_t nskipped, skipped_cap;
	uint32_t *skip_names; /* like names, over skipped[] (imports have no name) */
	size_t skip_names_cap;
	uint8_t imported[MOD_ID_MAX_]; /* by module id: `import`ed, its names resolve */
};

/* Loop scopes while compiling one condition. */
struct cc_loop {
	int is_of;
	const char *var;  /* range and items loops (a dictionary's key) */
	const char *var2; /* items loops over a dictionary: the value */
	/* Items loops (COND_LOOP_ITEMS): the module, its array or dictionary,
	 * and the expression that names it (compiled again, in the scope the
	 * loop started in, wherever the body reads an item). */
	const struct module *m;
	const struct mod_member *mb;
	const struct ast *iter;
};

/* Expression types of the compiler (the machine has int, float and
 * string; booleans are ints). */
enum cc_type {
	CC_INT = 1,
	CC_BOOL = 2,
	CC_STR = 3,
	CC_FLOAT = 4,
};

struct cc_ctx {
	struct rules_compiler *c;
	uint32_t rule;	    /* index the rule will get */
	uint32_t str_first; /* its strings in rs->strings */
	uint32_t str_count;
	uint8_t *referenced; /* per string of the rule */
	struct cc_loop loops[WARD_MAX_LOOP_DEPTH];
	int nloops;
	/* loops[hide_lo .. hide_hi) name nothing: an items loop's iterable is
	 * being compiled again inside them (compile_module.c). */
	int hide_lo, hide_hi;
	struct wbuf w;
	const struct lexer *lx;
	const char *file;
	struct ward_diag *d;
	const char *uses; /* the skipped rule the condition names, if any */
};

/* Looks up an earlier rule by name; returns its index or -1. */
int64_t cc_find_rule(const struct rules_compiler *c, const char *name);
/* Looks up a skipped rule by name; returns its index in c->skipped or -1. */
int64_t cc_find_skipped(const struct rules_compiler *c, const char *name);

/* Emits code for the condition n (coerced to a boolean) into cx->w. */
int cc_condition(struct cc_ctx *cx, const struct ast *n);

/* compile_expr.c, for compile_module.c: an expression (its type in *t),
 * one of the wanted type, one coerced to a boolean; the error at n; a
 * regexp of n added to the rule set (*idx); a loop scope entered (lp
 * copied; its variables checked against those in scope). */
int cc_expr(struct cc_ctx *cx, const struct ast *n, enum cc_type *t);
int cc_want(struct cc_ctx *cx, const struct ast *n, enum cc_type want);
int cc_bool(struct cc_ctx *cx, const struct ast *n);
int cc_err(struct cc_ctx *cx, const struct ast *n, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int cc_regex(struct cc_ctx *cx, const struct ast *n, uint32_t *idx);
int cc_loop_enter(struct cc_ctx *cx, const struct ast *n, const struct cc_loop *lp);
/* The innermost loop in scope with a variable named name, or -1; *value
 * (may be NULL) is 1 when it is the loop's second variable. */
int cc_loop_find(const struct cc_ctx *cx, const char *name, int *value);

/* compile_module.c: a module's value, constant or call, or an item's
 * (AST_MEMBER, AST_INDEX, AST_CALL); a loop over a module's array or
 * dictionary (AST_FOR_IN); the variable of an enclosing items loop
 * (loops[k], its value variable when value is 1) used as a value. */
int cc_module(struct cc_ctx *cx, const struct ast *n, enum cc_type *t);
int cc_items_loop(struct cc_ctx *cx, const struct ast *n);
int cc_item_var(struct cc_ctx *cx, const struct ast *n, int k, int value, enum cc_type *t);

#endif

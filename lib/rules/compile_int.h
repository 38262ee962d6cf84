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
	const char *var; /* range loops */
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

#endif

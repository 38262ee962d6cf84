/*
 * compile: YARA rule sources -> struct ruleset.
 *
 * Usage: rules_compiler_new, any number of rules_compiler_define (-d), any
 * number of rules_compiler_add_file / rules_compiler_add_string, then
 * rules_compiler_finish, then rules_compiler_free.  After an error the
 * compiler only accepts rules_compiler_free (unless it skips unsupported
 * rules: see rules_compiler_skip_unsupported).
 */
#ifndef WARD_RULES_COMPILE_H
#define WARD_RULES_COMPILE_H

#include <stddef.h>

#include "rules/ruleset.h"
#include "util/err.h"

struct rules_compiler;

/* Returns 0 or WARD_ENOMEM; *out owned by the caller (rules_compiler_free). */
int rules_compiler_new(struct rules_compiler **out);
/* NULL is a no-op. */
void rules_compiler_free(struct rules_compiler *c);
/* -d NAME=VALUE: integer, true/false, or string (quotes optional). Must come before add_file. */
int rules_compiler_define(struct rules_compiler *c, const char *def, struct ward_diag *d);
/* Makes every later include an error (content bundles: sources never name
 * files outside the bundle). */
void rules_compiler_forbid_includes(struct rules_compiler *c);
/* Parses and compiles one rule file into namespace "default"; include "x" is relative to the
 * including file, depth <= WARD_MAX_INCLUDE_DEPTH. */
int rules_compiler_add_file(struct rules_compiler *c, const char *path, struct ward_diag *d);
/* Same for in-memory source (name is used in diagnostics and as the base for includes = cwd). */
int rules_compiler_add_string(struct rules_compiler *c, const char *name, const char *src,
			      size_t len, struct ward_diag *d);
/*
 * From now on (call it before the first add), a rule that uses what ward
 * does not implement (WARD_EUNSUPPORTED: modules, xor, floats, ...) is left
 * out instead of failing the file, and so is every later rule whose
 * condition names a rule left out; an import is left out too.  Syntax and
 * other errors stay errors, and so does a global rule that would have to
 * be left out (it decides every rule of its namespace).  After an error in
 * one add_file/add_string, what that call added is taken out again and the
 * compiler stays usable (so a checker can go on with the next file).
 */
void rules_compiler_skip_unsupported(struct rules_compiler *c);

/* A rule, or an import, left out by rules_compiler_skip_unsupported. */
struct rules_skipped {
	char *rule;	      /* its name; NULL for an import */
	char *module;	      /* an import: the module's name */
	char *uses;	      /* left out because its condition names this skipped rule */
	int line, col;	      /* where the rule (the import) starts */
	size_t off, end;      /* its text in its file's source: [off, end) */
	struct ward_diag why; /* FILE:LINE:COL: what is not supported */
};

/* What was left out so far, in source order (borrowed from c: valid until
 * the next call on c). */
const struct rules_skipped *rules_compiler_skipped(const struct rules_compiler *c, size_t *n);

/* The number of rules compiled so far. */
uint32_t rules_compiler_count(const struct rules_compiler *c);

/* Produces the rule set; the compiler can't be used afterwards except for _free. */
int rules_compiler_finish(struct rules_compiler *c, struct ruleset **out, struct ward_diag *d);

/*
 * Parses a -d definition "NAME=VALUE" into an external (name and string
 * owned by e; free with ruleset_external_clear).  Shared with
 * ruleset_set_external.
 */
int rules_parse_define(const char *def, struct rs_external *e, struct ward_diag *d);

#endif

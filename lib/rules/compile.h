/*
 * compile: YARA rule sources -> struct ruleset.
 *
 * Usage: rules_compiler_new, any number of rules_compiler_define (-d), any
 * number of rules_compiler_add_file / rules_compiler_add_string, then
 * rules_compiler_finish, then rules_compiler_free.  After an error the
 * compiler only accepts rules_compiler_free.
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
/* Produces the rule set; the compiler can't be used afterwards except for _free. */
int rules_compiler_finish(struct rules_compiler *c, struct ruleset **out, struct ward_diag *d);

/*
 * Parses a -d definition "NAME=VALUE" into an external (name and string
 * owned by e; free with ruleset_external_clear).  Shared with
 * ruleset_set_external.
 */
int rules_parse_define(const char *def, struct rs_external *e, struct ward_diag *d);

#endif

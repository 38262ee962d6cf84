/*
 * Helpers shared by the lib/rules unit tests (header-only, static): a
 * compile-error case, and compiling a source with the externals the cases
 * use.
 */
#ifndef WARD_TEST_RULES_HELPERS_H
#define WARD_TEST_RULES_HELPERS_H

#include <string.h>

#include "rules/compile.h"

/* A source, the error it gives (0: none), and where and what it says. */
struct ccase {
	const char *src;
	int err;
	int line, col;
	const char *msg;
};

/* src compiled with the externals ei=5, es="abc" and eb=true. */
static int
compile_src(const char *src, struct ruleset **out, struct ward_diag *d)
{
	struct rules_compiler *c = NULL;
	struct ruleset *rs = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = rules_compiler_new(&c)) != 0)
		goto out;
	if ((r = rules_compiler_define(c, "ei=5", d)) != 0 ||
	    (r = rules_compiler_define(c, "es=abc", d)) != 0 ||
	    (r = rules_compiler_define(c, "eb=true", d)) != 0)
		goto out;
	if ((r = rules_compiler_add_string(c, "t.yar", src, strlen(src), d)) != 0)
		goto out;
	r = rules_compiler_finish(c, &rs, d);
out:
	rules_compiler_free(c);
	if (out != NULL)
		*out = rs;
	else
		ruleset_free(rs);
	return r;
}

#endif

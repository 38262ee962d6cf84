/*
 * fuzz_rules: the rules compiler on arbitrary source, then the compiled set
 * through ruleset_save -> ruleset_load (which re-verifies every rule) and a
 * comparison of the two serializations; then the same with unsupported
 * rules left out (rules_compiler_skip_unsupported: the recovering parser).
 * Must never crash, leak or read out of bounds; any input may be refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/compile.h"
#include "rules/ruleset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
one(const uint8_t *data, size_t size, int skip)
{
	struct rules_compiler *c = NULL;
	struct ruleset *rs = NULL, *rs2 = NULL;
	struct ward_diag d;
	struct wbuf w, w2;
	struct rbuf r;

	wbuf_init(&w);
	wbuf_init(&w2);
	if (rules_compiler_new(&c) != 0)
		goto out;
	if (skip)
		rules_compiler_skip_unsupported(c);
	/* Externals every input may use. */
	rules_compiler_define(c, "ei=5", &d);
	rules_compiler_define(c, "es=abc", &d);
	rules_compiler_define(c, "eb=true", &d);
	if (rules_compiler_add_string(c, "fuzz.yar", (const char *)data, size, &d) != 0)
		goto out;
	if (rules_compiler_finish(c, &rs, &d) != 0)
		goto out;
	ruleset_save(rs, &w);
	if (w.err != 0)
		goto out;
	rbuf_init(&r, w.p, w.len);
	if (ruleset_load(&r, &rs2, &d) != 0)
		abort(); /* what the compiler produced must load */
	ruleset_save(rs2, &w2);
	if (w2.err != 0 || w2.len != w.len || memcmp(w.p, w2.p, w.len) != 0)
		abort();
out:
	wbuf_free(&w);
	wbuf_free(&w2);
	ruleset_free(rs);
	ruleset_free(rs2);
	rules_compiler_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 0);
	one(data, size, 1);
	return 0;
}

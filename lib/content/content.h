/*
 * content: what a validated bundle's members compile to, and the bundle's
 * own tests.  The same code runs in `ward content build`, in the agent's
 * validator child and in `ward content verify`, so content that passes one
 * passes all of them.
 */
#ifndef WARD_CONTENT_CONTENT_H
#define WARD_CONTENT_CONTENT_H

#include "content/bundle.h"
#include "rules/ruleset.h"
#include "scan/hashsig.h"
#include "scan/except.h"
#include "scan/matcher.h"
#include "fim/watch.h"
#include "sigma/sigma.h"
#include "util/err.h"

/* The compiled content of a bundle (any part may be NULL when empty). */
struct content_set {
	struct ruleset *rs;
	struct hashsig_set *hs;
	struct matcher *m;
	struct sigma_set *sigma; /* process rules */
	struct fim_watch fim;	 /* what real-time FIM watches (may be empty) */
	struct except_list exc;	 /* exceptions to verdicts (may be empty) */
};

/* Parses b's process rule members (type sigma) into *out (NULL when there
 * are none). */
int content_sigma(const struct bundle *b, struct sigma_set **out, struct ward_diag *d);

/* Adds b's FIM policy members (type fim) to *w. */
int content_fim(const struct bundle *b, struct fim_watch *w, struct ward_diag *d);

/* Adds b's exceptions members (type exceptions) to *l: at most
 * WARD_MAX_EXCEPTIONS in all, each numbered by its place (1-based). */
int content_exceptions(const struct bundle *b, struct except_list *l, struct ward_diag *d);

/*
 * Compiles every rule and hash member of b (rule files may not include
 * other files).  Returns 0, or the compiler's error with d naming the
 * member, line and column.
 */
int content_compile(const struct bundle *b, struct content_set *out, struct ward_diag *d);

/* One rule source of a bundle being built (ward content build). */
struct content_src {
	const char *name; /* the member's name */
	uint8_t *data;	  /* ward_malloc'd */
	size_t size;
};

struct rules_skipped;

/*
 * For `ward content build --skip-unsupported`: compiles the rule sources
 * srcs[0..n) together as content_compile will (no includes), leaving out
 * each rule that uses what ward does not implement, each rule that names
 * one, and each import; then rewrites each source in place (data replaced,
 * the old buffer freed) with the text of each item left out replaced by a
 * comment that names it and says why, keeping every line where it was.
 * The members then compile on every agent, without skipping, to exactly
 * the rules kept, and say which were not: a signed bundle never means less
 * than it shows.  report (may be NULL) is called for each item left out;
 * *ndropped counts the rules.  Returns 0, or the compiler's error (syntax,
 * a global rule that would be left out) with d naming member, line and
 * column: the build stops there (a source may have been rewritten).
 */
int content_drop_unsupported(struct content_src *srcs, uint32_t n,
			     void (*report)(void *arg, const struct rules_skipped *s), void *arg,
			     size_t *ndropped, struct ward_diag *d);

/*
 * Runs b's tests against cs: each sample must match exactly the rule (or
 * hash signature) names its test expects.  Returns 0, or WARD_EVERIFY with
 * d naming the first failing sample and what it matched.
 */
int content_run_tests(const struct bundle *b, const struct content_set *cs, struct ward_diag *d);

/* Frees what cs holds and clears it. */
void content_set_free(struct content_set *cs);

#endif

/*
 * matcher_int: what the matcher's files share (matcher.c scans,
 * matcher_db.c plans the expressions and builds, loads and saves the
 * Vectorscan databases).  Not for use outside lib/scan/matcher*.c.
 */
#ifndef WARD_SCAN_MATCHER_INT_H
#define WARD_SCAN_MATCHER_INT_H

#include <hs/hs.h>
#include <stdint.h>

#include "rules/ruleset.h"
#include "scan/hashsig.h"
#include "util/err.h"

struct expr_info {
	uint32_t str;
	uint32_t variant;
	uint32_t minlen, maxlen;   /* of a true match */
	uint32_t end_min, end_max; /* of a reported end after the match's start */
	int exact;
	int delta;	    /* in the delta database (pattern_hs.xor_delta) */
	uint32_t anchor;    /* the run it looks for (pattern_choose_anchors) */
	uint32_t next_same; /* the next one with the same expression, or NO_EXPR */
	int lead;	    /* first of those: the one given to Vectorscan */
	uint32_t first;	    /* its first characters: m->first[first], or NO_EXPR */
	/* its anchor's neighbours (pattern_hs.ctx), borrowed from the pattern */
	const struct pattern_ctx *ctx;
	uint32_t nctx;
	/* An earlier expression of the same group whose string is the same
	 * (another rule's): its matches are this one's (NO_EXPR: none). */
	uint32_t twin;
	int has_twins; /* a later one names this one as its twin */
};

#define NO_EXPR UINT32_MAX

struct matcher {
	const struct ruleset *rs;
	const struct hashsig_set *hs;
	hs_database_t *db;  /* NULL when there are no strings */
	hs_database_t *ddb; /* the delta expressions, NULL when none */
	struct expr_info *expr;
	uint32_t nexpr;
	/* The characters a match can begin with, for the expressions whose
	 * hits leave several starts to verify (set_first_chars). */
	uint8_t (*first)[32];
	uint32_t nfirst;
	uint32_t overlap; /* longest possible match, bytes */
	size_t window;
	/* Per rule: false on any file where none of its strings matched, so
	 * it is not evaluated there (cond_false_without_matches). */
	uint8_t *quiet;
	/* The rules evaluated on every file: not quiet, or global. */
	uint32_t *always;
	uint32_t nalways;
	int uses_modules; /* some rule reads a module: scratches get a mod_file */
};

/*
 * After m->expr is filled from the patterns: chooses the run each
 * expression looks for, links the expressions Vectorscan would be given
 * twice, and notes the first characters of those with several starts per
 * hit.  0 or WARD_ENOMEM.
 */
int matcher_exprs_plan(struct matcher *m);

/* Compiles m's databases (m->db, m->ddb): 0, or an error in d. */
int matcher_compile_db(struct matcher *m, struct ward_diag *d);

/* Loads the databases matcher_db_save wrote: 0, or -1 when db is not of
 * m's shape (the caller compiles instead). */
int matcher_load_dbs(struct matcher *m, const uint8_t *db, size_t dblen);

#endif

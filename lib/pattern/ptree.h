/*
 * ptree: the syntax tree shared by the hex string and regexp parsers of
 * lib/pattern.  Nodes live in one array and refer to each other by index;
 * every byte-consuming node is a 256-bit class (literals, nocase letters,
 * `.`, `??`, nibble masks and [...] all become classes), so the code
 * generator in pattern_cg.c handles one kind of leaf.
 *
 * Internal to lib/pattern: not part of libward's public API.
 */
#ifndef WARD_PATTERN_PTREE_H
#define WARD_PATTERN_PTREE_H

#include <stddef.h>
#include <stdint.h>

#define PTREE_NONE UINT32_MAX
#define PTREE_INF UINT32_MAX /* unbounded repeat maximum */
/* A jump longer than this splits a hex string or regexp into chained
 * pieces, as YARA's YR_STRING_CHAINING_THRESHOLD (in hex alternatives such
 * jumps are refused). */
#define PTREE_CHAIN_THRESHOLD 200

enum ptree_type {
	PT_EMPTY = 1,  /* matches the empty string */
	PT_CLASS = 2,  /* one byte (one character when wide) out of bm */
	PT_CAT = 3,    /* children in sequence */
	PT_ALT = 4,    /* children in priority order */
	PT_REPEAT = 5, /* child repeated min..max times (max PTREE_INF) */
	PT_BOL = 6,    /* ^: offset 0 of the data */
	PT_EOL = 7,    /* $: end of the data */
	PT_WORDB = 8,  /* \b */
	PT_NWORDB = 9, /* \B */
};

/* What a regexp node was in YARA's syntax tree (for atoms.c). */
enum ptree_lit {
	PL_CLASS = 0,	/* PT_CLASS: [...], \w \s \d and their negations */
	PL_LITERAL = 1, /* PT_CLASS: one character as written (val) */
	PL_ANY = 2,	/* PT_CLASS: `.` */
};

struct ptree_node {
	uint8_t type;
	uint8_t greedy; /* PT_REPEAT: 1 greedy, 0 lazy */
	uint8_t jump;	/* PT_REPEAT: a hex jump [n-m], or a chain point of a regexp */
	uint8_t lit;	/* PT_CLASS of a regexp: enum ptree_lit */
	uint8_t val;	/* PL_LITERAL: the character before nocase folding */
	uint8_t quant;	/* PT_REPEAT of a regexp: '*', '+', '?' or '{' */
	uint32_t child; /* first child (PT_CAT, PT_ALT, PT_REPEAT) */
	uint32_t last;	/* last child, for appending */
	uint32_t next;	/* next sibling */
	uint32_t min, max;
	uint32_t col; /* 1-based source column, for messages */
	uint8_t bm[32];
};

struct ptree {
	struct ptree_node *n;
	size_t nn, cap;
	uint32_t root;
	int has_greedy, has_lazy; /* quantifier kinds seen (regexps) */
	int has_alt;		  /* an alternation was parsed */
};

void ptree_init(struct ptree *t);
void ptree_fini(struct ptree *t);

/*
 * Appends a node of the given type and returns 0 with *idx set, or
 * WARD_ELIMIT past WARD_MAX_PATTERN_NODES, or WARD_ENOMEM.
 */
int ptree_add(struct ptree *t, enum ptree_type type, uint32_t col, uint32_t *idx);

/* Makes node c the last child of node p. */
void ptree_append(struct ptree *t, uint32_t p, uint32_t c);

/* Class bitmap helpers. */
void ptree_bm_set(uint8_t *bm, unsigned c);
static inline int
ptree_bm_has(const uint8_t *bm, unsigned c)
{
	return (bm[(c & 0xffu) >> 3] >> (c & 7u)) & 1u;
}
/* The smallest member, or -1 for an empty class. */
int ptree_bm_first(const uint8_t *bm);
void ptree_bm_range(uint8_t *bm, unsigned lo, unsigned hi);
void ptree_bm_not(uint8_t *bm);
void ptree_bm_fold(uint8_t *bm); /* adds the other ASCII case of each member */
unsigned ptree_bm_count(const uint8_t *bm);

#endif

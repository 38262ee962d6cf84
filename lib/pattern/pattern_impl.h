/*
 * pattern_impl: the layout of a compiled pattern, shared by pattern.c
 * (entry points, serializer), pattern_cg.c (code generator), pattern_text.c
 * (text strings), pattern_expr.c (Vectorscan expressions) and
 * pattern_exec.c (verifier).  Internal to lib/pattern.
 *
 * The verifier program is a Pike-VM program: consuming instructions
 * (BYTE, CLASS, ANY, ANYNL) read one character (one byte, or one byte and a
 * 0x00 when running the wide variant), SPLIT x,y forks with x preferred,
 * JMP, zero-width assertions, and MATCH.  A hex string with long jumps is
 * compiled into several pieces (YARA's chained strings), each a program
 * ending in MATCH.
 */
#ifndef WARD_PATTERN_PATTERN_IMPL_H
#define WARD_PATTERN_PATTERN_IMPL_H

#include <stdint.h>

#include "pattern/atoms.h"
#include "pattern/pattern.h"

enum pattern_op {
	POP_MATCH = 0,
	POP_BYTE = 1,  /* x = the byte */
	POP_CLASS = 2, /* x = class index */
	POP_ANY = 3,
	POP_SPLIT = 4, /* x preferred, y */
	POP_JMP = 5,   /* x */
	POP_BOL = 6,
	POP_EOL = 7,
	POP_WORDB = 8,
	POP_NWORDB = 9,
};

struct pattern_insn {
	uint8_t op;
	/* 1 + the index of the atom whose first character this reads, 0 for
	 * none (see struct pattern's atom) */
	uint8_t atom;
	/*
	 * SPLIT: YARA's split id.  YARA runs one piece of code for every
	 * iteration of x+ and of the middle of x{n,m}, and kills a thread that
	 * meets a split it has already taken since it last read a character;
	 * where the program has a copy per iteration, the copies' splits share
	 * the id of the first copy's (pattern_cg.c), else it is the pc.
	 */
	uint16_t sid;
	uint32_t x, y;
};

/* One piece of a chained hex string; piece 0 has gaps 0. */
struct pattern_piece {
	uint32_t pc;	  /* first instruction */
	uint32_t gap_min; /* bytes between the previous piece's end and this one */
	uint32_t gap_max; /* UINT32_MAX: unbounded */
};

#define PATTERN_MAX_PIECES 64 /* a chain longer than this is refused */

/* An atom of a regexp (atoms.h) in the program. */
struct pattern_atom {
	uint32_t pc; /* the instruction where the forward part starts */
	uint8_t len; /* characters */
	uint8_t byte[ATOMS_LEN], mask[ATOMS_LEN];
};
/* Alternatives of a base64 regexp: 3 alignments x base64, base64wide x
 * the string, its wide form. */
#define PATTERN_B64_ALTS 12

/*
 * Most runs of exact characters a variant keeps besides its anchor
 * (pattern_use_anchor), for the matcher to look for instead when many
 * strings of a rule set share the anchor (pattern_expr_anchor).
 */
#define PATTERN_MAX_ALTS 3

struct pattern_alt {
	char *expr;
	uint32_t end_min, end_max;
};

struct pattern_variant {
	struct pattern_alt alt[PATTERN_MAX_ALTS];
	uint32_t nalt;
	char *expr;
	unsigned hs_flags;
	uint32_t minlen, maxlen;
	uint32_t end_min, end_max; /* see struct pattern_hs */
	int exact;
	int wide;
	int xor_delta; /* see struct pattern_hs */
	/* The neighbour checks of run k (0: the anchor, k: alt[k - 1]) are
	 * ctx[k * PATTERN_MAX_CTX ...], nctx[k] of them; ctx is NULL when the
	 * variant looks for the whole string. */
	struct pattern_ctx *ctx;
	uint8_t nctx[1 + PATTERN_MAX_ALTS];
};

enum pattern_mode {
	PMODE_SHORTEST = 1, /* first match found wins (hex without alternatives) */
	PMODE_PRIORITY = 2, /* the highest-priority thread's match wins (YARA's yr_re_exec) */
};

struct pattern {
	enum pattern_kind kind; /* as given to pattern_compile, kept for pattern_save */
	/* How the pattern runs: its kind, except that a base64 string runs as
	 * the regexp of its encodings (PATTERN_REGEX). */
	enum pattern_kind ekind;
	unsigned flags;
	uint8_t xor_min, xor_max; /* PATTERN_XOR: the keys */
	int has_alphabet;	  /* PATTERN_BASE64*: alphabet given, else standard */
	uint8_t alphabet[64];
	uint8_t *src; /* the source as given to pattern_compile, kept for pattern_save */
	size_t srclen;
	size_t nvar;
	struct pattern_variant var[2];
	enum pattern_mode mode;
	struct pattern_insn *prog;
	uint32_t nprog;
	uint8_t (*cls)[32];
	uint32_t ncls;
	struct pattern_piece *piece; /* npieces (sized to fit once compiled) */
	uint32_t npieces;
	/*
	 * A hex or base64 string that starts with an alternation also gets
	 * one program per alternative (YARA extracts atoms per alternative and
	 * verifies each from its own atom): the shortest of their matches
	 * wins (base64: see b64_found).  A regexp does without: it is
	 * verified from its atoms (atom, below).  greedy: the regexp has a
	 * greedy quantifier.
	 */
	uint32_t *branch; /* nbranch */
	uint32_t nbranch;
	int greedy;
	/*
	 * A base64 string: its alternatives are literals, and where several
	 * match at one offset YARA keeps the one it verifies first, the one
	 * whose atom ends first (b64_found[k] bytes after the start), the
	 * first listed among equals.  nb64 = 0: not a base64 string.
	 */
	uint32_t b64_found[PATTERN_B64_ALTS];
	uint32_t nb64;
	/*
	 * A regexp: YARA's atoms (see atoms.h), natom = 0 when YARA verifies
	 * the regexp from its start (no atoms, or one at the very start).
	 * YARA verifies a regexp from every place where one of its atoms is
	 * found: the rest of the regexp from there, and the part before it
	 * backwards; pattern_exec.c reproduces which of these verifications
	 * gives the match at a start.  pre_atom (bit per instruction): an
	 * atom's start can be reached from the instruction.
	 */
	struct pattern_atom *atom; /* natom */
	uint32_t natom;
	uint8_t *pre_atom;
	int shared_sid; /* some SPLITs share a sid: the verifier tracks them */
	/*
	 * An `ascii wide` text string (or literal regexp) of at most two
	 * characters: YARA's atoms are the whole string in each form, so the
	 * wide form is verified on its own and only an ascii match that is
	 * reported (passes fullword) at the same offset hides it.
	 */
	int whole_atom;
};

/* pattern_expr.c: the Vectorscan expression of a pattern tree.  Appends
 * node n (wide: every character followed by 0x00) or a class to w. */
struct ptree;
struct ptree_node;
void pattern_ex_byte(struct wbuf *w, unsigned c);
void pattern_ex_class(struct wbuf *w, const uint8_t *bm, int wide);
void pattern_ex_node(struct wbuf *w, const struct ptree *t, uint32_t n, int wide);
#define PATTERN_SIZE_CAP ((uint64_t)1 << 40) /* saturation for size arithmetic */

/* pattern_len.c: saturating arithmetic; the instructions node n compiles
 * to; its shortest and longest match in characters (the longest saturates). */
uint64_t pattern_sat_add(uint64_t a, uint64_t b);
uint64_t pattern_sat_mul(uint64_t a, uint64_t b);
uint64_t pattern_tree_size(const struct ptree *t, uint32_t n);
void pattern_tree_len(const struct ptree *t, uint32_t n, uint64_t *mn, uint64_t *mx);
/* pattern_len.c: chained strings.  Whether nd is a jump where YARA cuts the
 * string; whether p is cut at its jumps (a condition's regexp is not); the
 * instructions p's program takes (the jumps take none); the shortest and
 * longest match in bytes of p cut into pieces, in characters of cs bytes. */
int pattern_is_chain_jump(const struct ptree_node *nd);
int pattern_cuts_chains(const struct pattern *p, const struct ptree *t);
uint64_t pattern_prog_size(const struct pattern *p, const struct ptree *t);
void pattern_chain_len(const struct pattern *p, const struct ptree *t, unsigned cs, uint64_t *tmin,
		       uint64_t *tmax);
/* pattern_expr.c: makes variant v of p look for its anchor (a run of exact
 * characters) instead of the whole string, when it has one. */
int pattern_use_anchor(struct pattern *p, const struct ptree *t, size_t v);
/* Moves w's text into v as its NUL-terminated expression; 0 or WARD_ENOMEM. */
int pattern_ex_finish(struct wbuf *w, struct pattern_variant *v);

/* pattern_cg.c: compiles the tree t (hex, regexp) into p's program and
 * variants; 0 or a WARD_E* with d filled. */
int pattern_compile_tree(struct pattern *p, const struct ptree *t, struct ward_diag *d);

/* pattern_text.c: text strings, xor and base64. */
/* A base64 string: the regexp of its encodings, parsed into t (which the
 * caller frees) and compiled as a regexp. */
int pattern_compile_b64(struct pattern *p, struct ptree *t, struct ward_diag *d);
/* Refuses the modifier combinations YARA refuses (see pattern_compile_mods). */
int pattern_check_mods(enum pattern_kind kind, const struct pattern_mods *m, struct ward_diag *d);
/* Compiles a text string (plain or xor) into p's variants. */
int pattern_compile_text(struct pattern *p, struct ward_diag *d);
/* Appends to w the regexp of a base64 string's encodings, and sets found
 * (see struct pattern's b64_found); 0 or WARD_ENOMEM. */
int pattern_b64_source(const struct pattern *p, struct wbuf *w, uint32_t found[PATTERN_B64_ALTS]);
/* The xor string's match at d (avail bytes, character size cs), 0 if none. */
uint32_t pattern_xor_match(const struct pattern *p, const uint8_t *d, size_t avail, unsigned cs);

#endif

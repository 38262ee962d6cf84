/*
 * pattern: one YARA string ($a = "..." / { ... } / /.../) compiled into
 *   - one Vectorscan expression per variant (ascii, wide), whose matches are
 *     candidate END offsets: every true match of the string ends where its
 *     expression reports a match (the expression's language may be a
 *     superset of the string's, never a subset);
 *   - an exact verifier that decides, for one start offset, whether the
 *     string matches there and with which length, with YARA 4.x semantics.
 *
 * YARA semantics implemented by pattern_match_at (checked against yara):
 *   - a string matches at start S if some non-empty match [S, E) exists,
 *     E - S <= WARD_RE_SCAN_LIMIT bytes (wide too; a regexp verified from
 *     an atom: that much on each side of the atom), that passes fullword;
 *   - a hex string or regexp is cut into chained pieces at its long
 *     jumps (hex [n-m], regexp lazy .{n,m}?, n or m above 200): the bytes
 *     between pieces are not checked, fullword holds for each piece;
 *   - a regexp is verified as YARA verifies it: from every place where
 *     one of its atoms (atoms.h) is found, the rest of the regexp in
 *     priority order as in PCRE, and the part before the atom back to each
 *     start it leads to; at one start the first of these matches (in the
 *     order the atoms are found) stays, the last one for a greedy regexp
 *     (one with a greedy quantifier), and one that fails fullword does not
 *     count.  A regexp without atoms is run once from the start.  \b
 *     holds at both ends of the file, \B at neither;
 *   - hex strings take the shortest match; a leading alternation is tried
 *     alternative by alternative and the shortest match kept;
 *   - fullword: the byte before S and the byte at E are not isalnum()
 *     (wide: checks the character before/after, as yara does);
 *   - nocase is ASCII-only; `.` excludes '\n' unless /s; `^` is offset 0
 *     of the file, `$` is the end of the file;
 *   - ascii wide: YARA runs the ascii form first and the wide form only
 *     where the ascii one does not match, from the place it verifies from
 *     (an atom, or the start); a literal of at most two characters is the
 *     exception, only a reported ascii match hides the wide one.
 *
 * A pattern is immutable after pattern_compile/pattern_load and may be used
 * by many threads at once.
 */
#ifndef WARD_PATTERN_PATTERN_H
#define WARD_PATTERN_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

enum pattern_kind {
	PATTERN_TEXT = 1,  /* src = the string's bytes, escapes already resolved */
	PATTERN_HEX = 2,   /* src = source text between { and } */
	PATTERN_REGEX = 3, /* src = source text between the slashes, unescaped */
};

/* Modifier flags (a string's modifiers, and regexp flags /i /s). */
#define PATTERN_NOCASE 0x01u	  /* nocase, or regexp /i */
#define PATTERN_WIDE 0x02u	  /* wide */
#define PATTERN_ASCII 0x04u	  /* ascii (implied when wide is absent) */
#define PATTERN_FULLWORD 0x08u	  /* fullword */
#define PATTERN_PRIVATE 0x10u	  /* private: no effect on matching */
#define PATTERN_DOTALL 0x20u	  /* regexp /s */
#define PATTERN_XOR 0x40u	  /* xor, xor(N), xor(N-M): keys in struct pattern_mods */
#define PATTERN_BASE64 0x80u	  /* base64: the string's base64 encodings */
#define PATTERN_BASE64WIDE 0x100u /* base64wide: those encodings, widened */
/* A regexp of a condition (`matches`, a module function's argument), run
 * only by pattern_search: compiled as YARA compiles those, without atoms. */
#define PATTERN_SEARCH 0x200u

/*
 * The modifiers of a text string, with the arguments of xor and base64.
 *
 * xor: the string XORed with every key in [xor_min, xor_max] (key 0 is the
 * string itself); the wide form is XORed whole, its zero bytes included
 * (so each character is followed by the key).  A match is reported at the
 * XORed bytes, with the string's length (twice it when wide).
 *
 * base64/base64wide: YARA's encodings of the string at the three byte
 * alignments, without the leading and trailing characters that depend on
 * the neighbouring bytes, searched as literals (base64wide: each followed
 * by 0x00).  ascii/wide choose which strings are encoded (the string, its
 * wide form, or both); the encodings are searched as they are.  A match
 * has the length of the encoding found.  alphabet: 64 bytes, or NULL for
 * the standard one.
 */
struct pattern_mods {
	unsigned flags; /* PATTERN_* */
	uint8_t xor_min, xor_max;
	const uint8_t *alphabet;
};

struct pattern;

/*
 * Compiles one string.  flags is a set of PATTERN_* bits.  On error returns
 * a negative WARD_E* and fills d->msg and d->col (d->col = 1-based column
 * of the offending character within src, 0 if unknown; d->file and d->line
 * are left for the caller).  Refuses what YARA refuses (e.g. nocase on a hex
 * string, greedy and lazy quantifiers mixed, an empty regexp) and what ward
 * does not support, with a message that says which.  *out is owned by the
 * caller and freed with pattern_free.
 */
int pattern_compile(enum pattern_kind kind, const uint8_t *src, size_t len, unsigned flags,
		    struct pattern **out, struct ward_diag *d);

/*
 * pattern_compile with the arguments of xor and base64 (m->flags is the
 * flags argument).  Refuses the combinations YARA refuses, with its words
 * ("invalid modifier combination: xor nocase", base64 or base64wide with
 * nocase, fullword or xor; xor or base64 on a hex string or a regexp) and
 * xor_min > xor_max.
 */
int pattern_compile_mods(enum pattern_kind kind, const uint8_t *src, size_t len,
			 const struct pattern_mods *m, struct pattern **out, struct ward_diag *d);

/* Frees p; NULL is a no-op. */
void pattern_free(struct pattern *p);

/* The flags p was compiled with. */
unsigned pattern_flags(const struct pattern *p);

/* Are a and b the same string: kind, modifiers and source?  Then they
 * match at the same places with the same lengths. */
int pattern_same(const struct pattern *a, const struct pattern *b);

/* Number of variants (1 or 2: ascii and/or wide; a base64 string has one,
 * its encodings); variant indices 0..n-1. */
size_t pattern_nvariants(const struct pattern *p);

/*
 * What Vectorscan looks for to find the matches of one variant.  A true
 * match starting at S makes Vectorscan report some end E with
 * S + end_min <= E <= S + end_max, so the candidate starts for a reported
 * end E lie in [E - end_max, E - end_min].  The expression is the whole
 * string (end_min/end_max = minlen/maxlen) or, for hex strings with
 * wildcards or jumps, only its anchor (a run of exact bytes inside it).
 */
/*
 * A byte at a fixed distance from an anchor's end that every match has:
 * (data[end + off] & mask) == val.  A hit whose neighbours fail these
 * checks is no part of a match, and its starts need no verification.
 */
struct pattern_ctx {
	int16_t off;
	uint8_t mask, val;
};

/* Most neighbour checks an anchor keeps (the most selective ones). */
#define PATTERN_MAX_CTX 6

struct pattern_hs {
	const char *expr;  /* NUL-terminated, borrowed: lives as long as p */
	unsigned hs_flags; /* HS_FLAG_* */
	/* Shortest and longest true match in bytes (maxlen is UINT32_MAX when
	 * unbounded: chained hex jumps). */
	uint32_t minlen, maxlen;
	uint32_t end_min, end_max;
	/* Every reported end E is a true match of length minlen == maxlen
	 * starting at E - minlen with nothing left to check (no fullword, no
	 * anchors): the matcher may skip pattern_match_at then. */
	int exact;
	/* The expression is looked for in the XOR of neighbouring bytes,
	 * D[i] = data[i] ^ data[i + 1], where an xor string is the same for
	 * every key: a match ending at E in D stands for an end at E + 1 in the
	 * data, to be handled like any other end (exact is 0 then). */
	int xor_delta;
	/* The anchor's neighbours at fixed distances (none when the
	 * expression is the whole string), most selective first; borrowed. */
	const struct pattern_ctx *ctx;
	uint32_t nctx;
};

void pattern_expr(const struct pattern *p, size_t v, struct pattern_hs *out);

/*
 * A variant whose expression is an anchor (a run of exact characters that
 * every match contains) may have other such runs: how many runs in all (1
 * when it has only its anchor, or none), and run k's expression, as
 * pattern_expr gives run 0's: the same but for expr, end_min and end_max.
 * A matcher whose strings share an anchor with many others looks for a
 * rarer run instead, so that a hit is verified for fewer strings.
 */
size_t pattern_nanchors(const struct pattern *p, size_t v);
void pattern_expr_anchor(const struct pattern *p, size_t v, size_t k, struct pattern_hs *out);

/*
 * For n expressions (variant vars[i] of pats[i]), the run each looks for:
 * choice[i] in [0, pattern_nanchors) (pattern_pick.c says how).  The
 * choice depends only on the patterns and their order.  0 or WARD_ENOMEM
 * (choice is then all 0).
 */
int pattern_choose_anchors(const struct pattern *const *pats, const uint32_t *vars, size_t n,
			   uint32_t *choice);

/*
 * The verifier's scratch for one thread: reused from call to call, so that
 * a verification costs what its program does and never a clearing of its
 * state (a candidate start is verified in a few steps, and a file can have
 * millions of them).
 */
struct pattern_vm;

/* A new scratch (free with pattern_vm_free), or NULL when out of memory. */
struct pattern_vm *pattern_vm_new(void);
void pattern_vm_free(struct pattern_vm *vm);

/*
 * The scratch also keeps the verifications a regexp's atoms gave in the
 * data last verified.  YARA verifies each place where an atom is found
 * once; the verifier, asked start by start, would verify the places every
 * start reaches again, which data made for it can make quadratic
 * ([a-z](ab)+?c fullword over ababab...).  The memo trusts that data at
 * the same address, of the same length and base, is the same data: call
 * pattern_vm_new_data when a buffer is filled again.  It holds the last
 * PATTERN_MEMO_SLOTS verifications of one pattern.
 */
#define PATTERN_MEMO_SLOTS 4096
void pattern_vm_new_data(struct pattern_vm *vm);

/*
 * Verifies variant v at start offset pos of data (data_len bytes; data[0] is
 * file offset base; at_eof: data ends where the file ends).  Bytes before
 * data[0] are unknown (treated as absent for fullword and \b).  Returns the
 * match length (> 0), or 0 if the string does not match there.  vm: the
 * calling thread's scratch, or NULL for one on the stack (cleared for each
 * call: for tests and single checks).  Does not allocate; thread-safe
 * with a scratch per thread.
 */
uint32_t pattern_match_at(const struct pattern *p, struct pattern_vm *vm, size_t v,
			  const uint8_t *data, size_t data_len, size_t pos, uint64_t base,
			  int at_eof);

/*
 * The characters a match of p can begin with (a wide match: its first
 * byte), as 256 bits in set: 1 when they are fewer than all, 0 when any
 * character may begin one or p is a text string (its anchor is itself).
 * A matcher that verifies many starts per hit skips those whose byte is
 * not in the set.
 */
int pattern_first_chars(const struct pattern *p, uint8_t set[32]);


/*
 * Searches s (len bytes) as YARA's yr_re_exec does for `matches` and for
 * the regexp arguments of module functions (RE_FLAGS_SCAN): a thread
 * starts at each offset of the first WARD_RE_SCAN_LIMIT bytes, in
 * priority after the earlier ones, and one that matches ends those of
 * lower priority.  Returns -1 if nothing matched, else the offset from s
 * where the last match to be found ended (YARA's answer: an empty match
 * at offset 0 gives 0).  Meant for a PATTERN_SEARCH regexp.
 */
int pattern_search(const struct pattern *p, const uint8_t *s, size_t len);

/* Serializes p into w (sticky errors in w->err). */
void pattern_save(const struct pattern *p, struct wbuf *w);

/*
 * Reads a pattern written by pattern_save from r, validating every field
 * (the bytes are untrusted: a damaged or hostile file must give
 * WARD_EFORMAT, never a crash or an out-of-bounds read later in
 * pattern_match_at).  *out owned by the caller.
 */
int pattern_load(struct rbuf *r, struct pattern **out);

#endif

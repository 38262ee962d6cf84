/*
 * clamdb_hex.h: the tokens of a ClamAV body signature, shared by its
 * parser (clamdb_hex.c) and its writer of YARA strings (clamdb_hexemit.c).
 * Private to lib/clamav.
 */
#ifndef WARD_CLAMDB_HEX_H
#define WARD_CLAMDB_HEX_H

#include "clamav/clamdb_int.h"
#include "util/limits.h"

enum tk_type {
	TK_BYTE,   /* v under mask: 0xff exact, 0xf0 `a?`, 0x0f `?a`, 0x00 `??` */
	TK_JUMP,   /* min..max bytes; max == TK_INF for `*` and `{n-}` */
	TK_ALT,	   /* (a|b|...): alternatives [alt_first, alt_first + alt_n) */
	TK_NALT,   /* !(a|b|...): fixed-length alternatives, none of which is there */
	TK_ANCHOR, /* (B), (L), (W) inside a part: v is the letter */
};

#define TK_INF UINT32_MAX
/* Tokens of one signature: a line is at most WARD_MAX_CLAMDB_LINE bytes,
 * and each token takes at least one. */
#define TK_MAX WARD_MAX_CLAMDB_LINE

struct tk {
	enum tk_type t;
	uint8_t v, mask;
	uint32_t min, max;
	int bracket;		   /* TK_JUMP written [n-m]: ClamAV does not split there */
	int neg;		   /* TK_ANCHOR written !(X): not of the class */
	int edge;		   /* TK_ANCHOR: the check after the match, folded in */
	uint32_t alt_first, alt_n; /* TK_ALT/TK_NALT: indexes into hx.alts */
};

/* One alternative: a run of TK_BYTE tokens [first, first + n) of hx.abytes. */
struct alt {
	uint32_t first, n;
};

struct hx {
	struct rbuf b;
	struct tk *tk;
	uint32_t ntk;
	struct alt *alts;
	uint32_t nalts;
	struct tk *abytes;
	uint32_t nabytes;
	char *why;
	size_t whylen;
	struct clamdb_hexinfo *hi;
};

/* Sets x->why (errors, refusals) and returns err. */
int clamdb_hex_fail(struct hx *x, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The YARA string for the tokens of x into w, with ClamAV's modifiers
 * mods (CLAMDB_MOD_*): a hex string where one can say it, else a regexp. */
int clamdb_hex_emit(struct hx *x, unsigned mods, struct wbuf *w);

#endif

/*
 * clamdb_int: what the files of the clamdb module share (not public).
 */
#ifndef WARD_CLAMAV_CLAMDB_INT_H
#define WARD_CLAMAV_CLAMDB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "clamav/clamdb.h"
#include "util/buf.h"

/* Subsignature modifiers of a logical signature (`::iwfa`). */
#define CLAMDB_MOD_NOCASE 0x1u
#define CLAMDB_MOD_WIDE 0x2u
#define CLAMDB_MOD_FULLWORD 0x4u
#define CLAMDB_MOD_ASCII 0x8u

/* What a hex signature checks beyond its string (clamdb_hex_convert). */
struct clamdb_hexinfo {
	uint8_t left;  /* 'B' 'L' 'W': the byte before the match (or the file's start) */
	uint8_t right; /* the byte after the match, folded into the string */
	int rneg;      /* right check negated */
	int eof;       /* the right check passes at the file's end: a second string */
	int lead_gap;  /* starts XX[n-m] or !(X): no stable meaning with an offset */
};

/*
 * Writes the YARA string that matches what ClamAV's hex signature (p, n)
 * matches, with mods (CLAMDB_MOD_*): a hex string `{ ... }`, a text string
 * with modifiers, or a regexp `/.../s` where hex cannot say it.  Returns 0,
 * or WARD_ESYNTAX (malformed: ClamAV refuses the database too) or
 * WARD_EUNSUPPORTED (ward cannot say it exactly), with why filled (a
 * sentence without the signature's name).  hi tells the checks at the
 * ends that the string cannot hold; with hi->eof, wz gets the string of a
 * match at the file's end.  A pure function: no I/O.
 */
int clamdb_hex_convert(const uint8_t *p, size_t n, unsigned mods, struct wbuf *w, struct wbuf *wz,
		       struct clamdb_hexinfo *hi, char *why, size_t whylen);
/* libclamav's boundary[] table (matcher-ac.c) for byte c: 1 may precede a
 * match ((B) on the left), 2 may follow one (on the right), 3 both, 0
 * neither (clamdb_hex.c; also used by clamdb_off.c's left checks). */
unsigned clamdb_anchor_bnd(unsigned c);

/*
 * The condition that string $name (from clamdb_hex_convert with hi, and
 * $namez when hi->eof) matches at ClamAV offset off with hi's checks.
 * Returns as clamdb_offset_convert.
 */
int clamdb_match_cond(const uint8_t *off, size_t offn, const char *name, unsigned target,
		      const struct clamdb_hexinfo *hi, struct wbuf *w, int *pe, int *elf, char *why,
		      size_t whylen);

/*
 * Writes the YARA condition for ClamAV offset (p, n) of string id (e.g.
 * "$a"; or a position, "@a[i]", for a condition on one match; or a count,
 * "#a", for the integer count of matches at that offset) for target type target, and sets *uses_pe
 * / *uses_elf when it reads that module.  Returns 0, WARD_ESYNTAX or WARD_EUNSUPPORTED with why, as
 * clamdb_hex_convert.
 */
int clamdb_offset_convert(const uint8_t *p, size_t n, const char *id, unsigned target,
			  struct wbuf *w, int *uses_pe, int *uses_elf, char *why, size_t whylen);

/* Writes s (NUL-terminated) to w. */
void clamdb_puts(struct wbuf *w, const char *s);
/* printf to w; output longer than 1 KiB is an error of w (EINVAL). */
void clamdb_printf(struct wbuf *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- the database reader's state (clamdb.c), shared with clamdb_ldb.c --- */

enum rec_kind {
	REC_RULE,
	REC_HASH,
	REC_ALLOW, /* a false positive (.fp/.sfp): "alg:hex:size" */
};

/* One converted signature. */
struct rec {
	enum rec_kind kind;
	char *name;
	char *file;
	int line;
	char *text; /* a rule, or a hash line without its newline */
};

struct clamdb {
	struct rec *recs;
	size_t nrecs, caprecs;
	uint64_t text; /* bytes of the rule texts kept in recs */
	struct clamdb_skip *skips;
	size_t nskips, capskips;
	char **ign;
	size_t nign, capign;
	struct clamdb_stats st;
	uint64_t seq; /* rules named so far */
	struct wbuf rules, hashes, allow;
	size_t nallow;
	size_t nfp; /* false positives in the private rule (clamdb_finish) */
	int finished;
};

/* A field of a line: [p, p + n), borrowed from the line. */
struct clamdb_fld {
	const uint8_t *p;
	size_t n;
};

/* Splits (p, n) into at most max fields at sep; returns how many (the last
 * keeps any further separators). */
size_t clamdb_split(const uint8_t *p, size_t n, uint8_t sep, struct clamdb_fld *f, size_t max);
int clamdb_fld_eq(const struct clamdb_fld *f, const char *s);
/* A decimal number of 1 to 9 digits: 0, or -1. */
int clamdb_fld_num(const struct clamdb_fld *f, uint32_t *v);
/* A name ward can report (printable ASCII, 1 to WARD_MAX_SIG_NAME). */
int clamdb_name_ok(const struct clamdb_fld *f);
/* 1: inside WARD_CLAMDB_FLEVEL; 0: outside (why says so); -1: malformed. */
int clamdb_flevel_ok(const struct clamdb_fld *min, const struct clamdb_fld *max, char *why,
		     size_t whylen);
/* Records a signature left out (counted in st.skipped). */
int clamdb_skip_add(struct clamdb *c, const char *name, size_t nlen, const char *file, int line,
		    const char *why);
/* Takes text (ward_malloc'd, also on error) into a new record. */
int clamdb_rec_add(struct clamdb *c, enum rec_kind kind, const char *name, size_t nlen,
		   const char *file, int line, char *text);
/* Imports, the rule's identifier and its report name, up to its meta. */
void clamdb_rule_begin(struct clamdb *c, struct wbuf *w, const struct clamdb_fld *name, int pe,
		       int elf, int hash);
/* The condition for ClamAV target type t, or NULL with why. */
const char *clamdb_target_cond(uint32_t t, char *why, size_t whylen);
/* w's bytes as a NUL-terminated ward_malloc'd string (w emptied); NULL on error. */
char *clamdb_take_str(struct wbuf *w);
/* A logical signature line (clamdb_ldb.c). */
int clamdb_ldb_add(struct clamdb *c, const char *file, int line, const uint8_t *p, size_t n,
		   struct ward_diag *d);

#endif

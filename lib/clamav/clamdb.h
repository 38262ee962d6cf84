/*
 * clamdb: ClamAV signature databases turned into ward content: YARA-subset
 * rules (each carrying the ClamAV name as its report name, the meta key
 * RS_REPORT_NAME_KEY) and hash-list lines (lib/scan/hashsig.h).
 *
 * Usage: clamdb_new; clamdb_add for each database (loose .hdb .hsb .mdb
 * .msb .ndb .ldb .fp .sfp .ign2 files; clamdb_add_cvd for .cvd .cld .cud
 * containers); clamdb_finish, which drops the names of .ign2 lists and
 * compiles every converted rule (into a caller's compiler, or one of its
 * own) so that only rules ward's compiler takes are kept; then read the
 * results; clamdb_free.
 *
 * Signatures ward cannot convert exactly are left out and listed with the
 * reason (clamdb_skipped); a malformed database is refused as a whole, as
 * ClamAV refuses it (WARD_ESYNTAX with FILE:LINE).  Pure functions of the
 * bytes given: no I/O.
 */
#ifndef WARD_CLAMAV_CLAMDB_H
#define WARD_CLAMAV_CLAMDB_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

struct rules_compiler;

enum clamdb_kind {
	CLAMDB_HDB,  /* MD5:size:name (any hash by its length) */
	CLAMDB_HSB,  /* SHA-1/SHA-256:size:name */
	CLAMDB_MDB,  /* PE section size:MD5:name */
	CLAMDB_MSB,  /* PE section size:SHA-1/SHA-256:name */
	CLAMDB_NDB,  /* name:target:offset:hex[:min_fl[:max_fl]] */
	CLAMDB_LDB,  /* name;TDB;expression;subsig0;... */
	CLAMDB_FP,   /* false positives, as .hdb: SHA-256 ones become exceptions */
	CLAMDB_SFP,  /* false positives, as .hsb: likewise */
	CLAMDB_IGN2, /* signature names to drop */
	CLAMDB_CVD,  /* .cvd, .cld, .cud: a header and a tar(.gz) of the above */
};

/*
 * The kind of a database by its file name's extension.  Returns 0, or
 * WARD_EINVAL for a name ClamAV would not load as one of these.
 */
int clamdb_kind_of(const char *name, enum clamdb_kind *kind);

/* A signature left out, and why. */
struct clamdb_skip {
	char *name; /* as in the database */
	char *file; /* the database (a .cvd member: CVD/MEMBER) */
	int line;
	char *why;
};

struct clamdb_stats {
	size_t read;	  /* signatures read (every line that is one) */
	size_t converted; /* rules and hash lines kept */
	size_t skipped;	  /* left out: listed by clamdb_skipped */
	size_t flevel;	  /* of those, outside WARD_CLAMDB_FLEVEL */
	size_t ignored;	  /* dropped by name by a .ign2 list */
};

struct clamdb;

/* Returns 0 and *out (free with clamdb_free), or WARD_ENOMEM. */
int clamdb_new(struct clamdb **out);
/* NULL is a no-op. */
void clamdb_free(struct clamdb *c);

/*
 * Converts one loose database (bytes p, n, of kind; file names it in
 * diagnostics and in the skipped list).  Returns 0; WARD_ESYNTAX for a
 * malformed line (d: FILE:LINE: why); WARD_ELIMIT past a WARD_MAX_CLAMDB_*
 * limit; WARD_ENOMEM.  After an error c holds what earlier calls added.
 */
int clamdb_add(struct clamdb *c, enum clamdb_kind kind, const char *file, const uint8_t *p,
	       size_t n, struct ward_diag *d);

/* What a .cvd header says. */
struct clamdb_cvd_info {
	char name[32]; /* "daily", from the file name given */
	uint32_t version;
	uint32_t sigs;	 /* signatures the header announces */
	uint32_t flevel; /* functionality level the header asks for */
	char built[64];	 /* build time as written */
	int verified;	 /* 1: the digital signature verified with ClamAV's key */
	int signed_kind; /* 1: a .cvd (signed); 0: .cld/.cud (no signature to check) */
};

/*
 * Reads a .cvd/.cld/.cud container (header, then a tar or tar.gz body)
 * and adds each known database in it as clamdb_add does.  A .cvd whose
 * MD5 or digital signature does not verify is refused (WARD_EVERIFY)
 * unless allow_unsigned; info says what was found.  Returns as clamdb_add,
 * or WARD_EFORMAT for a damaged container.
 */
int clamdb_add_cvd(struct clamdb *c, const char *file, const uint8_t *p, size_t n,
		   int allow_unsigned, struct clamdb_cvd_info *info, struct ward_diag *d);

/*
 * Drops the signatures named in .ign2 lists, and compiles every converted
 * rule with rc (a compiler in skip-unsupported mode, which then holds
 * them) or, when rc is NULL, with a compiler of its own that is thrown
 * away: a rule the compiler refuses is left out with its message.
 * Returns 0 or WARD_ENOMEM.  Call once, after the last add.
 */
int clamdb_finish(struct clamdb *c, struct rules_compiler *rc);

/* The rule source of every kept rule (NUL-terminated, *len bytes; owned by
 * c); "" when there are none.  After clamdb_finish. */
const char *clamdb_rules(const struct clamdb *c, size_t *len);
/* The hash list (ALG:HEX:SIZE:NAME lines), likewise. */
const char *clamdb_hashes(const struct clamdb *c, size_t *len);
/* *count: the false positives of .fp/.sfp lists (MD5, SHA-1, SHA-256),
 * which are a condition of every rule converted from ClamAV (a private
 * rule in clamdb_rules) and drop the hash signatures of the same hash;
 * they are no longer a bundle's exceptions (those would silence ward's own
 * rules too): returns "", an empty exceptions file, after clamdb_finish. */
const char *clamdb_allow(const struct clamdb *c, size_t *count);
/* What was left out, in input order (owned by c). */
const struct clamdb_skip *clamdb_skipped(const struct clamdb *c, size_t *n);
void clamdb_get_stats(const struct clamdb *c, struct clamdb_stats *st);

#endif

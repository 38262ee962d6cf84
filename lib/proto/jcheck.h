/*
 * jcheck: checked reads of fields of JSON objects that came from outside
 * (an agent, a server, a client).  jansson has already checked the syntax
 * and that strings are UTF-8; these getters check what each field must be —
 * its type, its range, its size and its characters — and say which field
 * failed in d, so that a parser built on them refuses a malformed message
 * with a reason instead of using a default.
 */
#ifndef WARD_PROTO_JCHECK_H
#define WARD_PROTO_JCHECK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Which characters a string field may hold. */
enum jcheck_chars {
	JCHECK_TEXT,  /* any UTF-8 but control characters (and no NUL) */
	JCHECK_TOKEN, /* [A-Za-z0-9._:+~-], as in ids, versions, modes */
	JCHECK_HEX,   /* [0-9a-f] only (digests, secrets, ids) */
};

/*
 * The string field key of o, copied into out (outlen bytes with the NUL):
 * at most outlen - 1 bytes, at least min bytes, of the characters chars
 * allows.  An absent (or null) field is "" when optional, an error
 * otherwise.  0, or WARD_EFORMAT with d naming the field.
 */
int jcheck_string(json_t *o, const char *key, int optional, enum jcheck_chars chars, size_t min,
		  char *out, size_t outlen, struct ward_diag *d);

/* The integer field key of o in [lo, hi]; *out = dflt when absent and
 * optional.  0, or WARD_EFORMAT with d. */
int jcheck_int(json_t *o, const char *key, int optional, int64_t lo, int64_t hi, int64_t dflt,
	       int64_t *out, struct ward_diag *d);

/* 1 if s (n bytes) holds only characters chars allows. */
int jcheck_chars_ok(const char *s, size_t n, enum jcheck_chars chars);

/* in with every byte that is not printable ASCII (and the backslash)
 * written as \xHH, cut to fit out (outlen > 4, "..." marks a cut): text
 * from outside made safe for a log line or a terminal. */
void jcheck_escape(const char *in, char *out, size_t outlen);

/* 1 if s is exactly n lowercase hexadecimal digits (an id, a secret). */
int jcheck_hex(const char *s, size_t n);

/*
 * A copy of v (a new reference in *out) with its size bounded, for parts of
 * a message that are kept only to be shown: nesting at most depth, objects
 * and arrays of at most items members, strings of at most strmax bytes
 * (JCHECK_TEXT), numbers, booleans and null.  WARD_ELIMIT or WARD_EFORMAT
 * with d naming where; *out is NULL then.
 */
int jcheck_bounded(json_t *v, const char *where, unsigned depth, size_t items, size_t strmax,
		   json_t **out, struct ward_diag *d);

#endif

/*
 * except: exceptions to scan verdicts — what an operator says is not
 * malware (a false positive), so that a detection of it is not acted on:
 *
 *   by SHA-256    {"sha256": "<64 hex digits>"}: the file with these bytes,
 *                 whatever matched it;
 *   by path       {"path": "/opt/vendor/lib[a-z]*.so"}: any detection of a
 *                 file at a path the glob matches;
 *   by rule name  {"rule": "Suspicious_Packer"}: detections by that rule
 *                 (or hash signature) only, anywhere — or, with "path"
 *                 too, only at the paths the glob matches.
 *
 * Each may carry "reason" (text for people).  Lists that a program keeps
 * (the agent's own, the fleet's) also carry "id" (a positive integer,
 * distinct in the list), "added" (Unix seconds) and "by" (who).
 *
 * The same exceptions have a one-line text form, for wardd.yaml:
 * "sha256:HEX", "path:GLOB", "rule:NAME", "rule:NAME path:GLOB".
 *
 * Globs are anchored (they match the whole absolute path) and are
 * matched component by component: `*` is any run of characters but `/`,
 * `?` one character (byte) but `/`, `[abc]` `[a-z]` `[!a-z]` a class
 * (never `/`), `\x` the character x, and `**` — only as a whole
 * component — any number of whole directories (none too); a last `**`
 * is everything below, at least one component (so "/opt/" followed by
 * `**` is every file under /opt, but not /opt itself).  A glob is
 * absolute, without empty, "." or ".." components (the paths it is
 * matched against have none).  docs/agent.md has examples.
 *
 * Everything here is a pure function of its input (no I/O, no globals):
 * exceptions come from root's configuration, from signed content and from
 * the fleet server, and each source is checked by the same parser.
 */
#ifndef WARD_SCAN_EXCEPT_H
#define WARD_SCAN_EXCEPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/limits.h"

enum except_kind {
	EXCEPT_SHA256 = 1, /* sha256 set; nothing else matters */
	EXCEPT_PATH,	   /* glob set, any rule */
	EXCEPT_RULE,	   /* rule set, glob optional */
};

struct except {
	enum except_kind kind;
	uint8_t sha256[32];
	char *glob;    /* owned; NULL when none */
	char *rule;    /* owned; NULL when none */
	char *reason;  /* owned; NULL when none */
	char *by;      /* owned; NULL when none */
	int64_t id;    /* 0 when the list has no ids */
	int64_t added; /* Unix seconds; 0 when unknown */
};

/* A list; its entries are owned.  All zero is an empty list. */
struct except_list {
	struct except *v;
	unsigned n;
	size_t cap;
};

/* Parser flags. */
#define EXCEPT_IDS 0x1 /* entries carry "id" (required) and may carry "added", "by" */

/*
 * Checks a glob (n bytes, NUL-terminated) against the syntax above and
 * WARD_MAX_EXCEPT_GLOB.  0, or WARD_ESYNTAX / WARD_ELIMIT with d saying
 * what is wrong.
 */
int except_glob_check(const char *glob, size_t n, struct ward_diag *d);

/* 1 if the (checked) glob matches the whole absolute path, else 0. */
int except_glob_match(const char *glob, const char *path);

/*
 * One exception from a JSON object: exactly one of "sha256", "path",
 * "rule" (or "rule" with "path"), optional "reason"; with EXCEPT_IDS,
 * "id" and optionally "added" and "by".  No other key.  Fills *e (cleared
 * on entry; its strings are owned, free with except_clear).  0, or
 * WARD_EFORMAT / WARD_ESYNTAX / WARD_ELIMIT / WARD_ENOMEM with d naming
 * the field; *e is then empty.
 */
int except_from_json(const json_t *o, unsigned flags, struct except *e, struct ward_diag *d);

/* e as a JSON object of the form except_from_json reads (with EXCEPT_IDS,
 * "id", "added" and "by" too); a new reference, NULL when out of memory. */
json_t *except_to_json(const struct except *e, unsigned flags);

/* One exception from its text form ("sha256:HEX", "path:GLOB",
 * "rule:NAME", "rule:NAME path:GLOB").  As except_from_json. */
int except_parse_text(const char *s, struct except *e, struct ward_diag *d);

/* The text form of e into out (outlen >= WARD_MAX_EXCEPT_TEXT holds any). */
void except_format(const struct except *e, char *out, size_t outlen);

/* Frees e's strings and clears it (NULL: no-op). */
void except_clear(struct except *e);

/* Copies src into dst (its own strings).  0 or WARD_ENOMEM. */
int except_copy(struct except *dst, const struct except *src);

/*
 * Appends e to l, taking its strings (e is cleared).  WARD_ELIMIT past
 * WARD_MAX_EXCEPTIONS, WARD_ENOMEM; e is cleared either way.
 */
int except_list_add(struct except_list *l, struct except *e, struct ward_diag *d);

/*
 * Appends the exceptions of a JSON array (as except_from_json reads each;
 * with EXCEPT_IDS the ids must be distinct, within arr and with what l
 * holds).  On failure l is as it was, and d names the entry
 * ("exceptions[3]: ...").
 */
int except_list_from_json(struct except_list *l, const json_t *arr, unsigned flags,
			  struct ward_diag *d);

/*
 * Appends the exceptions of a content bundle member named name: the JSON
 * object {"exceptions": [...]} in text[0..len) (entries without ids; each
 * gets its place in l, 1-based, as its id).  As except_list_from_json,
 * with d->file set to name.
 */
int except_member_parse(struct except_list *l, const char *name, const char *text, size_t len,
			struct ward_diag *d);

/* l as a JSON array (except_to_json of each); NULL when out of memory. */
json_t *except_list_to_json(const struct except_list *l, unsigned flags);

/* The index of the entry with the same text form as e, or -1. */
int except_list_find(const struct except_list *l, const struct except *e);

/* The index of the entry with id, or -1. */
int except_list_find_id(const struct except_list *l, int64_t id);

/* Removes entry i (the others keep their order). */
void except_list_remove(struct except_list *l, unsigned i);

/* Copies src into dst (emptied first).  0 or WARD_ENOMEM (dst empty). */
int except_list_copy(struct except_list *dst, const struct except_list *src);

void except_list_free(struct except_list *l);

/*
 * The first exception of l that applies to a detection by rule (a rule
 * or hash signature name) of the file at path (absolute, or NULL when
 * unknown) whose SHA-256 is sha256 (NULL when not computed: exceptions by
 * SHA-256 then do not apply).  NULL when none does.
 */
const struct except *except_match(const struct except_list *l, const char *path, const char *rule,
				  const uint8_t *sha256);

/* 1 if l holds an exception by SHA-256 (a file must be hashed to apply it). */
int except_list_has_sha256(const struct except_list *l);

/*
 * The compiled form of l, as the agent's validator hands it to the worker
 * (no JSON): a u32 count, then per entry its kind, SHA-256, which strings
 * follow, the strings, id and added.  Appends to out; returns out->err.
 */
int except_list_encode(const struct except_list *l, struct wbuf *out);

/*
 * Reads the compiled form from b into *l (cleared on entry): the count
 * bounded by WARD_MAX_EXCEPTIONS and by what remains, every string
 * length-checked and NUL-free, and each entry checked as
 * except_from_json checks one (kind and fields agree, glob, rule name,
 * reason and by).  0, or a WARD_E* code with d saying why and *l empty.
 */
int except_list_decode(struct rbuf *b, struct except_list *l, struct ward_diag *d);

/*
 * The fleet server's list, as a check-in answer (and the agent's copy of
 * it) holds it: {"revision": R, "list": [...]} — R an integer from 0 to
 * EXCEPT_MAX_REVISION, the list as except_list_from_json reads it with
 * EXCEPT_IDS, no other key.  0 with *revision and *all (cleared on entry);
 * else WARD_EFORMAT (or the list's code) with d saying why, *all empty and
 * *revision the revision if it could be read, else -1.
 */
#define EXCEPT_MAX_REVISION ((int64_t)1 << 53)

/*
 * What EXCEPT_IDS asks of a list read from JSON, asked of a decoded one
 * (except_list_decode checks each entry's kind, fields and strings but
 * not these): every id from 1 to 2^53 and distinct, "added" at most 2^53,
 * no SHA-256 bytes beside a path or rule.  0, or WARD_EFORMAT with d
 * naming the entry.
 */
int except_list_check_ids(const struct except_list *l, struct ward_diag *d);
int except_fleet_parse(const json_t *o, int64_t *revision, struct except_list *all,
		       struct ward_diag *d);

/* "sha256", "path" or "rule". */
const char *except_kind_name(enum except_kind k);

#endif

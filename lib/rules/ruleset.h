/*
 * ruleset: a compiled YARA rule set, the product of the rules compiler and
 * the input of the scanner.  Plain arrays indexed by number, so that the
 * condition bytecode refers to strings and rules by index and the bytecode
 * verifier can check every index against these counts.
 *
 * Strings of a rule are contiguous: rule r owns strings
 * [rules[r].str_first, rules[r].str_first + rules[r].str_count).
 * Rules appear in source order; a rule can only refer to earlier rules.
 *
 * A ruleset is immutable after it is built or loaded, and may be shared by
 * many scanning threads.
 */
#ifndef WARD_RULES_RULESET_H
#define WARD_RULES_RULESET_H

#include <stddef.h>
#include <stdint.h>

#include "pattern/pattern.h"

struct mod_file;
#include "util/buf.h"
#include "util/err.h"

#define RS_RULE_PRIVATE 0x1u
#define RS_RULE_GLOBAL 0x2u

enum rs_value_type {
	RS_INT = 1,
	RS_BOOL = 2,
	RS_STR = 3,
};

struct rs_meta {
	char *key;
	enum rs_value_type type;
	int64_t i; /* RS_INT, RS_BOOL */
	char *s;   /* RS_STR */
};

struct rs_string {
	char *id;	     /* "$a"; anonymous strings are "$" */
	uint32_t rule;	     /* owning rule */
	struct pattern *pat; /* owned; pattern_flags() gives the modifiers */
};

struct rs_rule {
	char *name;
	char *ns; /* namespace, "default" unless given */
	char **tags;
	uint32_t ntags;
	struct rs_meta *meta;
	uint32_t nmeta;
	uint32_t flags; /* RS_RULE_* */
	uint32_t str_first, str_count;
	uint8_t *code; /* condition bytecode, verified by cond_verify */
	uint32_t code_len;
	int needs_strings; /* 0: the condition reads no string, evaluate always */
};

struct rs_external {
	char *name;
	enum rs_value_type type;
	int64_t i;
	char *s;
	size_t slen;
};

struct ruleset {
	struct rs_rule *rules;
	uint32_t nrules;
	struct rs_string *strings;
	uint32_t nstrings;
	struct rs_external *ext;
	uint32_t next;
	/* Regexps used by `matches` in conditions, referenced by index. */
	struct pattern **regexes;
	uint32_t nregexes;
};

/*
 * The meta key whose string value is the name a match of the rule is
 * reported under, where its identifier cannot be that name: ClamAV's
 * signature names ("Win.Trojan.Agent-123", "Eicar-Test-Signature") are not
 * identifiers (lib/clamav/clamdb.h writes them here).
 */
#define RS_REPORT_NAME_KEY "ward_report_name"

/* The name a match of r is reported under: the last non-empty string meta
 * RS_REPORT_NAME_KEY, else r->name.  Borrowed from r. */
const char *ruleset_report_name(const struct rs_rule *r);

/* Frees rs and everything it owns; NULL is a no-op. */
void ruleset_free(struct ruleset *rs);

/* Frees what one rule / one external owns (not the struct itself). */
void ruleset_rule_clear(struct rs_rule *r);
void ruleset_external_clear(struct rs_external *e);

/*
 * Sets an external's value from "NAME=VALUE" (yara -d syntax: integer,
 * true/false, or a string, optionally in double quotes).  The name must be
 * one the rule set was compiled with and the type must agree.
 */
int ruleset_set_external(struct ruleset *rs, const char *def, struct ward_diag *d);

/*
 * Sets used[i] (rs->next bytes, caller-owned, cleared here) to 1 for each
 * external i that the condition of some rule reads.  Returns 0, or
 * WARD_EVERIFY / WARD_ENOMEM when a rule's code does not verify (a rule set
 * from the compiler or ruleset_load always does).
 */
int ruleset_externals_used(const struct ruleset *rs, uint8_t *used);

/* Serializes rs (rules, strings with their patterns, externals, bytecode). */
void ruleset_save(const struct ruleset *rs, struct wbuf *w);

/*
 * Reads a rule set written by ruleset_save; the bytes are untrusted.  Every
 * count is checked against limits.h, every pattern through pattern_load and
 * every rule's bytecode through cond_verify before *out is returned.
 */
int ruleset_load(struct rbuf *r, struct ruleset **out, struct ward_diag *d);

/* One match of one string in the scanned data. */
struct rs_match {
	uint64_t off;
	uint32_t len;
};

/* The matches of one string, sorted by offset, no two at the same offset. */
struct rs_matches {
	struct rs_match *m;
	uint32_t n;
	uint32_t cap;
};

/*
 * What a condition can see of the scanned file.  read() copies n bytes at
 * file offset off into buf and returns 0, or -1 if they are not all inside
 * the file.
 */
struct rs_scan_env {
	const struct rs_matches *matches; /* indexed by string index */
	uint64_t filesize;
	int (*read)(void *arg, uint64_t off, void *buf, size_t n);
	void *read_arg;
	/*
	 * The externals' values for this file: rs->next entries of the types
	 * rs->ext has (borrowed), or NULL for rs->ext's own.  This is how a
	 * scanner gives each file its own filename, filepath, ... without
	 * changing the shared rule set.
	 */
	const struct rs_external *ext;
	/*
	 * The file as the modules see it (modules/module.h): what a module
	 * parsed of it, at most once, when a rule first asked.  NULL: every
	 * module value is undefined.  Used by one evaluation at a time.
	 */
	struct mod_file *mods;
};

/*
 * Evaluates every rule of rs, in order, with YARA's semantics (rule
 * references, global rules: a false global rule makes every rule of its
 * namespace false).  results[r] is set to 1 or 0 for each rule (nrules
 * bytes, caller-owned).  Returns 0 or a negative WARD_E* (WARD_ELIMIT when
 * a condition exceeded WARD_MAX_EVAL_STEPS).  Thread-safe.
 */
int ruleset_eval(const struct ruleset *rs, const struct rs_scan_env *env, uint8_t *results);

/*
 * Like ruleset_eval, but evaluates only the n rules listed in which (in
 * increasing order); the caller has set results[] of every other rule to 0
 * because it knows them to be false (cond_false_without_matches).  Every
 * global rule must be listed.
 */
int ruleset_eval_some(const struct ruleset *rs, const struct rs_scan_env *env, uint8_t *results,
		      const uint32_t *which, uint32_t n);

#endif

/*
 * sigma: process rules in the Sigma format, the subset for Linux
 * `process_creation` (docs/process-rules.md).
 *
 * Fields: Image, CommandLine, ParentImage, ParentCommandLine, User,
 * CurrentDirectory.  Modifiers: contains, startswith, endswith, all, re,
 * cased.  Values may hold the wildcards * and ? (\* \? \\ escape them) and
 * match case-insensitively unless `cased`.  Selections are mappings (all
 * fields must match; a list of values matches if one does, or all of them
 * with `all`) or lists of mappings (one must match).  Conditions: names,
 * `and`, `or`, `not`, parentheses, `1 of NAME*`, `all of NAME*`,
 * `1 of them`, `all of them`.  A rule may say `action: kill` (ward's
 * extension; default alert).  Anything else is refused with the file, the
 * line and the reason — a rule is never loaded half-understood.
 */
#ifndef WARD_SIGMA_SIGMA_H
#define WARD_SIGMA_SIGMA_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

#define SIGMA_MAX_RULES 100000
#define SIGMA_MAX_SOURCE (1u << 20)
/* Operators nested in one condition: matching recurses once per level. */
#define SIGMA_MAX_DEPTH 256

enum sigma_field {
	SF_IMAGE = 0,
	SF_COMMANDLINE,
	SF_PARENTIMAGE,
	SF_PARENTCOMMANDLINE,
	SF_USER,
	SF_CURRENTDIRECTORY,
	SF_COUNT
};

/* What a rule is matched against: the fields of one process creation
 * (NULL when unknown: nothing matches an unknown field). */
struct sigma_event {
	const char *field[SF_COUNT];
};

enum sigma_action { SIGMA_ALERT = 0, SIGMA_KILL = 1 };

struct sigma_set;

int sigma_set_new(struct sigma_set **out);
void sigma_set_free(struct sigma_set *s);

/*
 * Parses one rule file (YAML; one rule) named name.  Returns 0, or an
 * error with d naming the file, line and reason (WARD_EUNSUPPORTED for
 * valid Sigma outside the subset, WARD_ESYNTAX for broken YAML or Sigma).
 */
int sigma_set_add(struct sigma_set *s, const char *name, const char *yaml, size_t len,
		  struct ward_diag *d);

size_t sigma_set_count(const struct sigma_set *s);

/* The fields any rule of s looks at: bit (1u << f) for each enum
 * sigma_field f (an event needs only those to be judged). */
unsigned sigma_set_fields(const struct sigma_set *s);

/* Rule i's title, id (may be ""), level (may be "") and action. */
const char *sigma_rule_title(const struct sigma_set *s, size_t i);
const char *sigma_rule_id(const struct sigma_set *s, size_t i);
const char *sigma_rule_level(const struct sigma_set *s, size_t i);
enum sigma_action sigma_rule_action(const struct sigma_set *s, size_t i);

/* 1 if rule i matches ev. */
int sigma_match(const struct sigma_set *s, size_t i, const struct sigma_event *ev);

/*
 * 0 if rule i cannot match ev whatever the fields in unknown (bits (1u <<
 * enum sigma_field)) hold, else 1: what an exec sensor asks before it
 * reads the fields it has not read yet (most execs are decided by their
 * image alone).  With unknown 0 it is sigma_match.
 */
int sigma_may_match(const struct sigma_set *s, size_t i, const struct sigma_event *ev,
		    unsigned unknown);

/*
 * The compiled form of s (NULL: an empty set), as the agent's validator
 * hands process rules to the worker (no YAML): per rule its strings, its
 * selections (mappings of field, modifiers and values; a regexp as its
 * source) and its condition as nodes.  Appends to out; returns out->err.
 */
int sigma_set_encode(const struct sigma_set *s, struct wbuf *out);

/*
 * Reads the compiled form from b into *out (NULL when it holds no rule):
 * counts bounded by SIGMA_MAX_RULES and by what remains, strings
 * length-checked and NUL-free, fields, modifiers, actions and condition
 * indices in range, a node's children before it, each regexp through the
 * same cost check as a rule file's.  0, or WARD_EFORMAT / WARD_ENOMEM
 * with d saying which rule; *out is then NULL.
 */
int sigma_set_decode(struct rbuf *b, struct sigma_set **out, struct ward_diag *d);

/* The name of field f ("Image", ...). */
const char *sigma_field_name(enum sigma_field f);

#endif

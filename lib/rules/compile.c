/*
 * compile: the rules compiler — files, includes, -d externals, rules and
 * their strings; conditions are compiled by compile_expr.c.
 *
 * What must hold: a rule enters the rule set only when all of it compiled
 * and its bytecode passed cond_verify (the compiler's output is checked by
 * the same verifier as a loaded file); rule names are unique in the
 * namespace; every string of a rule is referenced by its condition (YARA's
 * `unreferenced string`); includes resolve relative to the including file
 * and nest at most WARD_MAX_INCLUDE_DEPTH deep; after the first error the
 * compiler refuses further input.
 *
 * Skipping unsupported rules (rules_compiler_skip_unsupported): a rule is
 * either wholly in the set or wholly out of it (its strings and regexps
 * are taken out again); a rule left out keeps its name, so a later rule of
 * the same name is still a duplicate and a later rule that names it is left
 * out too, with the reason; a global rule is never left out, since it
 * would change the meaning of every other rule.  A file that fails is
 * taken out whole.
 */
#include "rules/compile_int.h"
#include "modules/module.h"
#include "rules/cond.h"
#include "util/alloc.h"
#include "util/strmap.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Name tables: open addressing over indices + 1 (0 = empty), keyed by the
 * name key() gives for an index (NULL: not in the table).  names holds
 * rs->rules, skip_names the skipped rules.
 */
typedef const char *(*cc_key_fn)(const struct rules_compiler *c, uint32_t i);

static const char *
cc_rule_key(const struct rules_compiler *c, uint32_t i)
{
	return c->rs->rules[i].name;
}

static const char *
cc_skip_key(const struct rules_compiler *c, uint32_t i)
{
	return c->skipped[i].rule;
}

static int64_t
cc_tab_find(const struct rules_compiler *c, const uint32_t *t, size_t cap, cc_key_fn key,
	    const char *name)
{
	size_t i, mask;

	if (cap == 0)
		return -1;
	mask = cap - 1;
	for (i = strmap_hash(name) & mask; t[i] != 0; i = (i + 1) & mask)
		if (strcmp(key(c, t[i] - 1), name) == 0)
			return t[i] - 1;
	return -1;
}

static void
cc_tab_put(const struct rules_compiler *c, uint32_t *t, size_t cap, cc_key_fn key, uint32_t idx)
{
	size_t i, mask = cap - 1;

	if (key(c, idx) == NULL)
		return;
	for (i = strmap_hash(key(c, idx)) & mask; t[i] != 0; i = (i + 1) & mask)
		;
	t[i] = idx + 1;
}

/* Builds the table anew for indices [0, n); at most half full. */
static int
cc_tab_rebuild(const struct rules_compiler *c, uint32_t **t, size_t *cap, cc_key_fn key, uint32_t n)
{
	size_t ncap = 64;
	uint32_t *nt, k;

	while ((size_t)(n + 1) * 2 > ncap)
		ncap *= 2;
	if ((nt = ward_calloc(ncap, sizeof(*nt))) == NULL)
		return WARD_ENOMEM;
	for (k = 0; k < n; k++)
		cc_tab_put(c, nt, ncap, key, k);
	ward_free(*t);
	*t = nt;
	*cap = ncap;
	return 0;
}

/* Adds index n - 1, the newest of n entries. */
static int
cc_tab_add(const struct rules_compiler *c, uint32_t **t, size_t *cap, cc_key_fn key, uint32_t n)
{
	if ((size_t)(n + 1) * 2 > *cap)
		return cc_tab_rebuild(c, t, cap, key, n);
	cc_tab_put(c, *t, *cap, key, n - 1);
	return 0;
}

int64_t
cc_find_rule(const struct rules_compiler *c, const char *name)
{
	return cc_tab_find(c, c->names, c->names_cap, cc_rule_key, name);
}

int64_t
cc_find_skipped(const struct rules_compiler *c, const char *name)
{
	return cc_tab_find(c, c->skip_names, c->skip_names_cap, cc_skip_key, name);
}

/* Adds rule idx (the last in rs->rules) to the name table. */
static int
cc_add_name(struct rules_compiler *c, uint32_t idx)
{
	return cc_tab_add(c, &c->names, &c->names_cap, cc_rule_key, idx + 1);
}

static void
cc_skipped_clear(struct rules_skipped *s)
{
	ward_free(s->rule);
	ward_free(s->module);
	ward_free(s->uses);
	memset(s, 0, sizeof(*s));
}

/* How far the rule set had got: what an add_file that fails gives back. */
struct cc_mark {
	uint32_t nrules, nstrings, nregexes;
	size_t nskipped;
};

static void
cc_mark(const struct rules_compiler *c, struct cc_mark *m)
{
	m->nrules = c->rs->nrules;
	m->nstrings = c->rs->nstrings;
	m->nregexes = c->rs->nregexes;
	m->nskipped = c->nskipped;
}

/* Takes out every string and regexp added since m (a rule's, or a file's). */
static void
cc_truncate_patterns(struct rules_compiler *c, const struct cc_mark *m)
{
	struct ruleset *rs = c->rs;

	while (rs->nstrings > m->nstrings) {
		rs->nstrings--;
		ward_free(rs->strings[rs->nstrings].id);
		pattern_free(rs->strings[rs->nstrings].pat);
	}
	while (rs->nregexes > m->nregexes)
		pattern_free(rs->regexes[--rs->nregexes]);
}

/* Takes out everything added since m and rebuilds the name tables. */
static int
cc_truncate(struct rules_compiler *c, const struct cc_mark *m)
{
	struct ruleset *rs = c->rs;

	cc_truncate_patterns(c, m);
	while (rs->nrules > m->nrules)
		ruleset_rule_clear(&rs->rules[--rs->nrules]);
	while (c->nskipped > m->nskipped)
		cc_skipped_clear(&c->skipped[--c->nskipped]);
	if (cc_tab_rebuild(c, &c->names, &c->names_cap, cc_rule_key, rs->nrules) != 0 ||
	    cc_tab_rebuild(c, &c->skip_names, &c->skip_names_cap, cc_skip_key,
			   (uint32_t)c->nskipped) != 0) {
		c->failed = 1;
		return WARD_ENOMEM;
	}
	return 0;
}

/* Is name taken (a rule, a skipped rule, an external)? */
static int
cc_name_taken(const struct rules_compiler *c, const char *name)
{
	uint32_t i;

	if (cc_find_rule(c, name) >= 0 || cc_find_skipped(c, name) >= 0)
		return 1;
	for (i = 0; i < c->rs->next; i++)
		if (strcmp(c->rs->ext[i].name, name) == 0)
			return 1;
	return 0;
}

/*
 * Leaves out rule pr (or, with pr NULL, the import of module) for why;
 * uses names the skipped rule its condition named.  A global rule is
 * refused: leaving it out would make every rule of its namespace match
 * where it would not.
 */
static int
cc_skip(struct rules_compiler *c, const struct prule *pr, const char *module, size_t off,
	size_t end, const char *uses, const struct ward_diag *why, struct ward_diag *d)
{
	struct rules_skipped *sk;
	struct ward_diag w = *why;
	int r = 0;

	if (pr != NULL && (pr->flags & RS_RULE_GLOBAL)) {
		r = diag_set(d, WARD_EUNSUPPORTED, w.file, w.line, w.col,
			     "%s (global rule \"%s\" cannot be skipped: it decides whether any "
			     "rule of its namespace matches)",
			     w.msg, pr->name);
		goto out;
	}
	if (pr != NULL && cc_name_taken(c, pr->name)) {
		r = diag_set(d, WARD_EDUPLICATE, w.file, pr->line, pr->col,
			     "duplicated identifier \"%s\"", pr->name);
		goto out;
	}
	if (c->nskipped >= WARD_MAX_RULES) {
		r = diag_set(d, WARD_ELIMIT, w.file, w.line, w.col,
			     "too many rules skipped (limit WARD_MAX_RULES = %d)", WARD_MAX_RULES);
		goto out;
	}
	if (ward_grow(&c->skipped, &c->skipped_cap, c->nskipped + 1, sizeof(*c->skipped)) != 0)
		goto nomem;
	sk = &c->skipped[c->nskipped];
	memset(sk, 0, sizeof(*sk));
	sk->why = w;
	sk->off = off;
	sk->end = end;
	sk->line = pr != NULL ? pr->line : w.line;
	sk->col = pr != NULL ? pr->col : w.col;
	if ((pr != NULL && (sk->rule = ward_strdup(pr->name)) == NULL) ||
	    (module != NULL && (sk->module = ward_strdup(module)) == NULL) ||
	    (uses != NULL && (sk->uses = ward_strdup(uses)) == NULL)) {
		cc_skipped_clear(sk);
		goto nomem;
	}
	c->nskipped++;
	if (cc_tab_add(c, &c->skip_names, &c->skip_names_cap, cc_skip_key, (uint32_t)c->nskipped) !=
	    0) {
		cc_skipped_clear(&c->skipped[--c->nskipped]);
		goto nomem;
	}
	diag_clear(d);
	goto out;
nomem:
	r = diag_set(d, WARD_ENOMEM, w.file, w.line, w.col, "out of memory");
out:
	return r;
}

/* The parser's callback for a rule or an import it read past. */
static int
cc_unsupported(void *arg, const struct parser_skip *s, struct ward_diag *d)
{
	return cc_skip(arg, s->rule, s->module, s->off, s->end, NULL, s->why, d);
}

void
rules_compiler_skip_unsupported(struct rules_compiler *c)
{
	c->skip = 1;
}

const struct rules_skipped *
rules_compiler_skipped(const struct rules_compiler *c, size_t *n)
{
	*n = c->nskipped;
	return c->skipped;
}

uint32_t
rules_compiler_count(const struct rules_compiler *c)
{
	return c->rs != NULL ? c->rs->nrules : 0;
}

int
rules_compiler_new(struct rules_compiler **out)
{
	struct rules_compiler *c;
	int r = 0;

	*out = NULL;
	if ((c = ward_calloc(1, sizeof(*c))) == NULL ||
	    (c->rs = ward_calloc(1, sizeof(*c->rs))) == NULL) {
		ward_free(c);
		r = WARD_ENOMEM;
		goto out;
	}
	*out = c;
out:
	return r;
}

void
rules_compiler_free(struct rules_compiler *c)
{
	if (c == NULL)
		return;
	ruleset_free(c->rs);
	ward_free(c->names);
	while (c->nskipped > 0)
		cc_skipped_clear(&c->skipped[--c->nskipped]);
	ward_free(c->skipped);
	ward_free(c->skip_names);
	ward_free(c);
}

/* Does s read as [-]digits (point == 0) or [-]digits.digits (point == 1)? */
static int
define_is_number(const char *s, int point)
{
	int digits = 0, points = 0;

	if (*s == '-')
		s++;
	for (; *s != '\0'; s++) {
		if (*s >= '0' && *s <= '9')
			digits++;
		else if (*s == '.' && point && points == 0 && digits > 0)
			points++;
		else
			return 0;
	}
	return digits > 0 && points == point && s[-1] != '.';
}

int
rules_parse_define(const char *def, struct rs_external *e, struct ward_diag *d)
{
	const char *eq = strchr(def, '=');
	const char *val;
	size_t nlen, vlen, i;
	int r = 0;

	memset(e, 0, sizeof(*e));
	if (eq == NULL || eq == def) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
			     "bad external definition \"%s\": expected NAME=VALUE", def);
		goto out;
	}
	nlen = (size_t)(eq - def);
	for (i = 0; i < nlen; i++) {
		char ch = def[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
		      (i > 0 && ch >= '0' && ch <= '9'))) {
			r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
				     "bad external definition \"%s\": invalid name", def);
			goto out;
		}
	}
	if (nlen > WARD_MAX_IDENTIFIER) {
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "external name too long (limit WARD_MAX_IDENTIFIER = %d)",
			     WARD_MAX_IDENTIFIER);
		goto out;
	}
	if ((e->name = ward_strndup(def, nlen)) == NULL)
		goto nomem;
	val = eq + 1;
	vlen = strlen(val);
	/* The forms yara's -d takes: true/false, a decimal integer, a decimal
	 * number with a point (a float, which ward refuses), else a string
	 * taken as written. */
	if (strcmp(val, "true") == 0 || strcmp(val, "false") == 0) {
		e->type = RS_BOOL;
		e->i = val[0] == 't';
	} else if (define_is_number(val, 0)) {
		char *end;

		errno = 0;
		e->type = RS_INT;
		e->i = strtoll(val, &end, 10);
		if (errno != 0) {
			r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				     "bad external definition \"%s\": integer out of range", def);
			goto out;
		}
	} else if (define_is_number(val, 1)) {
		r = diag_set(d, WARD_EUNSUPPORTED, NULL, 0, 0,
			     "bad external definition \"%s\": floating-point externals are not "
			     "supported by ward",
			     def);
		goto out;
	} else {
		e->type = RS_STR;
		if (vlen > WARD_MAX_EXTERNAL_STRING) {
			r = diag_set(
			    d, WARD_ELIMIT, NULL, 0, 0,
			    "external string too long (limit WARD_MAX_EXTERNAL_STRING = %d)",
			    WARD_MAX_EXTERNAL_STRING);
			goto out;
		}
		if ((e->s = ward_strndup(val, vlen)) == NULL)
			goto nomem;
		e->slen = vlen;
	}
	goto out;
nomem:
	r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
out:
	if (r != 0)
		ruleset_external_clear(e);
	return r;
}

int
rules_compiler_define(struct rules_compiler *c, const char *def, struct ward_diag *d)
{
	struct ruleset *rs = c->rs;
	struct rs_external e;
	uint32_t i;
	int r;

	if (c->failed || c->started || rs == NULL) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0,
			     "external variables must be defined before rules are added");
		goto out;
	}
	if ((r = rules_parse_define(def, &e, d)) != 0)
		goto out;
	for (i = 0; i < rs->next; i++) {
		if (strcmp(rs->ext[i].name, e.name) == 0) {
			ruleset_external_clear(&rs->ext[i]);
			rs->ext[i] = e;
			goto out;
		}
	}
	if (rs->next >= WARD_MAX_EXTERNALS) {
		ruleset_external_clear(&e);
		r = diag_set(d, WARD_ELIMIT, NULL, 0, 0,
			     "too many external variables (limit WARD_MAX_EXTERNALS = %d)",
			     WARD_MAX_EXTERNALS);
		goto out;
	}
	if (ward_grow(&rs->ext, &c->ext_cap, rs->next + 1, sizeof(*rs->ext)) != 0) {
		ruleset_external_clear(&e);
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	rs->ext[rs->next++] = e;
out:
	return r;
}

/* Compiles the strings of pr into rs->strings (owned by rs from then on). */
static int
cc_strings(struct cc_ctx *cx, const struct prule *pr)
{
	struct rules_compiler *c = cx->c;
	struct ruleset *rs = c->rs;
	struct ward_diag pd;
	struct pattern_mods mods;
	uint32_t i, k;
	int r = 0, line, col;

	if (pr->nstrings > WARD_MAX_STRINGS - rs->nstrings) {
		r = diag_set(cx->d, WARD_ELIMIT, cx->file, pr->line, pr->col,
			     "too many strings (limit WARD_MAX_STRINGS = %u)",
			     (unsigned)WARD_MAX_STRINGS);
		goto out;
	}
	if (ward_grow(&rs->strings, &c->strings_cap, rs->nstrings + pr->nstrings,
		      sizeof(*rs->strings)) != 0)
		goto nomem;
	for (i = 0; i < pr->nstrings; i++) {
		const struct pstring *ps = &pr->strings[i];
		struct rs_string *s = &rs->strings[rs->nstrings];

		if (strcmp(ps->id, "$") != 0) {
			for (k = 0; k < i; k++) {
				if (strcmp(pr->strings[k].id, ps->id) == 0) {
					r = diag_set(cx->d, WARD_EDUPLICATE, cx->file, ps->line,
						     ps->col, "duplicated string identifier \"%s\"",
						     ps->id);
					goto out;
				}
			}
		}
		memset(s, 0, sizeof(*s));
		s->rule = cx->rule;
		if ((s->id = ward_strdup(ps->id)) == NULL)
			goto nomem;
		rs->nstrings++;
		diag_clear(&pd);
		mods.flags = ps->flags;
		mods.xor_min = ps->xor_min;
		mods.xor_max = ps->xor_max;
		mods.alphabet = ps->alphabet;
		r = pattern_compile_mods(ps->kind, ps->src, ps->len, &mods, &s->pat, &pd);
		if (r != 0) {
			if (ps->kind == PATTERN_TEXT || pd.col <= 0) {
				line = ps->line;
				col = ps->col;
			} else {
				lexer_linecol(cx->lx, ps->src_off + (size_t)pd.col - 1, &line,
					      &col);
			}
			r = diag_set(cx->d, r, cx->file, line, col, "%s",
				     pd.msg[0] != '\0' ? pd.msg : ward_strerror(r));
			goto out;
		}
		cx->str_count++;
	}
	goto out;
nomem:
	r = diag_set(cx->d, WARD_ENOMEM, cx->file, pr->line, pr->col, "out of memory");
out:
	return r;
}

/* Moves the header fields of pr into rule (pr keeps nothing it gave). */
static int
cc_header(struct prule *pr, struct rs_rule *rule)
{
	rule->name = pr->name;
	pr->name = NULL;
	rule->tags = pr->tags;
	rule->ntags = pr->ntags;
	pr->tags = NULL;
	pr->ntags = 0;
	rule->meta = pr->meta;
	rule->nmeta = pr->nmeta;
	pr->meta = NULL;
	pr->nmeta = 0;
	rule->flags = pr->flags;
	rule->ns = ward_strdup("default");
	return rule->ns == NULL ? WARD_ENOMEM : 0;
}

static int
cc_rule(void *arg, struct prule *pr, const struct lexer *lx, struct ward_diag *d)
{
	struct rules_compiler *c = arg;
	struct ruleset *rs = c->rs;
	struct cc_ctx cx;
	struct cc_mark mark;
	struct rs_rule rule;
	struct ward_diag why;
	uint32_t i;
	int r = 0, needs = 0;

	memset(&cx, 0, sizeof(cx));
	memset(&rule, 0, sizeof(rule));
	wbuf_init(&cx.w);
	cx.c = c;
	cx.lx = lx;
	cx.file = lexer_file(lx);
	cx.d = d;
	cx.rule = rs->nrules;
	cx.str_first = rs->nstrings;
	cc_mark(c, &mark);
	if (cc_name_taken(c, pr->name)) {
		r = diag_set(d, WARD_EDUPLICATE, cx.file, pr->line, pr->col,
			     "duplicated identifier \"%s\"", pr->name);
		goto out;
	}
	if (rs->nrules >= WARD_MAX_RULES) {
		r = diag_set(d, WARD_ELIMIT, cx.file, pr->line, pr->col,
			     "too many rules (limit WARD_MAX_RULES = %d)", WARD_MAX_RULES);
		goto out;
	}
	if ((cx.referenced = ward_calloc(pr->nstrings + 1, 1)) == NULL) {
		r = diag_set(d, WARD_ENOMEM, cx.file, pr->line, pr->col, "out of memory");
		goto out;
	}
	if ((r = cc_strings(&cx, pr)) != 0)
		goto out;
	if ((r = cc_condition(&cx, pr->cond)) != 0)
		goto out;
	for (i = 0; i < cx.str_count; i++) {
		if (!cx.referenced[i]) {
			r = diag_set(d, WARD_ESEMANTIC, cx.file, pr->strings[i].line,
				     pr->strings[i].col, "unreferenced string \"%s\"",
				     pr->strings[i].id);
			goto out;
		}
	}
	if (ward_grow(&rs->rules, &c->rules_cap, rs->nrules + 1, sizeof(*rs->rules)) != 0 ||
	    cc_header(pr, &rule) != 0) {
		r = diag_set(d, WARD_ENOMEM, cx.file, pr->line, pr->col, "out of memory");
		goto out;
	}
	rule.str_first = cx.str_first;
	rule.str_count = cx.str_count;
	rule.code_len = (uint32_t)cx.w.len;
	rule.code = cx.w.p;
	cx.w.p = NULL;
	wbuf_free(&cx.w);
	rs->rules[rs->nrules] = rule;
	memset(&rule, 0, sizeof(rule));
	rs->nrules++;
	if ((r = cc_add_name(c, rs->nrules - 1)) != 0) {
		r = diag_set(d, r, cx.file, pr->line, pr->col, "out of memory");
		goto undo;
	}
	if ((r = cond_verify_ex(rs, rs->nrules - 1, &needs, d)) != 0)
		goto undo;
	rs->rules[rs->nrules - 1].needs_strings = needs;
	goto out;
undo:
	/* The rule never became visible: take it out again. */
	rs->nrules--;
	ruleset_rule_clear(&rs->rules[rs->nrules]);
	ward_free(c->names);
	c->names = NULL;
	c->names_cap = 0;
out:
	if (r == WARD_EUNSUPPORTED && c->skip) {
		/* Its strings may be in: the rule goes whole. */
		cc_truncate_patterns(c, &mark);
		why = *d;
		r = cc_skip(c, pr, NULL, pr->off, pr->end, cx.uses, &why, d);
	}
	ruleset_rule_clear(&rule);
	wbuf_free(&cx.w);
	ward_free(cx.referenced);
	return r;
}

static int cc_source(struct rules_compiler *c, const char *name, const char *src, size_t len,
		     int is_mem, struct ward_diag *d);

static int
cc_read_file(const char *path, char **buf, size_t *len, struct ward_diag *d, const char *what)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd = -1, r = 0;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "can't open %s: %s", what, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = diag_set(d, WARD_EIO, path, 0, 0, "can't open %s: not a regular file", what);
		goto out;
	}
	if ((uint64_t)st.st_size > WARD_MAX_RULE_FILE_SIZE) {
		r = diag_set(d, WARD_ELIMIT, path, 0, 0,
			     "%s too large (limit WARD_MAX_RULE_FILE_SIZE = %u bytes)", what,
			     (unsigned)WARD_MAX_RULE_FILE_SIZE);
		goto out;
	}
	if ((*buf = ward_malloc((size_t)st.st_size + 1)) == NULL) {
		r = diag_set(d, WARD_ENOMEM, path, 0, 0, "out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, *buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = diag_set(d, WARD_EIO, path, 0, 0, "can't read %s: %s", what,
				     strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	(*buf)[got] = '\0';
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	if (r != 0) {
		ward_free(*buf);
		*buf = NULL;
	}
	return r;
}

static int
cc_file(struct rules_compiler *c, const char *path, struct ward_diag *d, const char *what)
{
	char *buf = NULL;
	size_t len;
	int r;

	if ((r = cc_read_file(path, &buf, &len, d, what)) != 0)
		goto out;
	r = cc_source(c, path, buf, len, 0, d);
out:
	ward_free(buf);
	return r;
}

static int
cc_include(void *arg, const char *path, int line, int col, struct ward_diag *d)
{
	struct rules_compiler *c = arg;
	const char *cur = c->cur_file, *slash;
	char *full = NULL;
	size_t dlen;
	int r;

	if (c->no_includes) {
		r = diag_set(d, WARD_EUNSUPPORTED, cur, line, col,
			     "include is not allowed here: list every rule file instead");
		goto out;
	}
	if (c->depth >= WARD_MAX_INCLUDE_DEPTH) {
		r = diag_set(
		    d, WARD_ELIMIT, cur, line, col,
		    "too many levels of included rules (limit WARD_MAX_INCLUDE_DEPTH = %d)",
		    WARD_MAX_INCLUDE_DEPTH);
		goto out;
	}
	slash = cur != NULL && !c->cur_is_mem ? strrchr(cur, '/') : NULL;
	if (path[0] == '/' || slash == NULL) {
		full = ward_strdup(path);
	} else {
		dlen = (size_t)(slash - cur) + 1;
		if ((full = ward_malloc(dlen + strlen(path) + 1)) != NULL) {
			memcpy(full, cur, dlen);
			strcpy(full + dlen, path);
		}
	}
	if (full == NULL) {
		r = diag_set(d, WARD_ENOMEM, cur, line, col, "out of memory");
		goto out;
	}
	c->depth++;
	r = cc_file(c, full, d, "include file");
	c->depth--;
	c->cur_file = cur;
	if (r == WARD_EIO && d != NULL && d->line == 0) {
		/* Point at the include statement, as yara does. */
		r = diag_set(d, r, cur, line, col, "can't open include file: %s", path);
	}
out:
	ward_free(full);
	return r;
}

/* `import "name"` of a module ward implements: its names resolve from now
 * on (in every later file, as in yara). */
static int
cc_import(void *arg, const char *module, int line, int col, struct ward_diag *d)
{
	struct rules_compiler *c = arg;
	const struct module *m = mod_find(module);

	(void)line;
	(void)col;
	(void)d;
	if (m != NULL)
		c->imported[m->id] = 1;
	return 0;
}

static int
cc_source(struct rules_compiler *c, const char *name, const char *src, size_t len, int is_mem,
	  struct ward_diag *d)
{
	struct parser_cb cb = {c, cc_rule, cc_include, c->skip ? cc_unsupported : NULL, cc_import};
	const char *saved = c->cur_file;
	int saved_mem = c->cur_is_mem, r;

	c->cur_file = name;
	c->cur_is_mem = is_mem;
	r = parser_parse(name, src, len, &cb, d);
	c->cur_file = saved;
	c->cur_is_mem = saved_mem;
	return r;
}

static int
cc_begin(struct rules_compiler *c, struct ward_diag *d)
{
	if (c->failed || c->rs == NULL)
		return diag_set(d, WARD_EINVAL, NULL, 0, 0,
				"the rules compiler can't be used after an error or after finish");
	c->started = 1;
	return 0;
}

void
rules_compiler_forbid_includes(struct rules_compiler *c)
{
	c->no_includes = 1;
}

/* After an error: skipping, take the file out and go on; else stop. */
static void
cc_failed(struct rules_compiler *c, const struct cc_mark *m)
{
	if (!c->skip || cc_truncate(c, m) != 0)
		c->failed = 1;
}

int
rules_compiler_add_file(struct rules_compiler *c, const char *path, struct ward_diag *d)
{
	struct ward_diag own;
	struct cc_mark m;
	int r;

	/* A rule left out keeps its reason from d. */
	if (d == NULL)
		d = &own;
	diag_clear(d);
	if ((r = cc_begin(c, d)) != 0)
		goto out;
	cc_mark(c, &m);
	c->depth = 0;
	if ((r = cc_file(c, path, d, "rule file")) != 0)
		cc_failed(c, &m);
out:
	return r;
}

int
rules_compiler_add_string(struct rules_compiler *c, const char *name, const char *src, size_t len,
			  struct ward_diag *d)
{
	struct ward_diag own;
	struct cc_mark m;
	int r;

	/* A rule left out keeps its reason from d. */
	if (d == NULL)
		d = &own;
	diag_clear(d);
	if ((r = cc_begin(c, d)) != 0)
		goto out;
	cc_mark(c, &m);
	if (len > WARD_MAX_RULE_FILE_SIZE) {
		r = diag_set(d, WARD_ELIMIT, name, 0, 0,
			     "rule source too large (limit WARD_MAX_RULE_FILE_SIZE)");
		cc_failed(c, &m);
		goto out;
	}
	c->depth = 0;
	if ((r = cc_source(c, name != NULL ? name : "", src, len, 1, d)) != 0)
		cc_failed(c, &m);
out:
	return r;
}

int
rules_compiler_finish(struct rules_compiler *c, struct ruleset **out, struct ward_diag *d)
{
	int r;

	*out = NULL;
	if ((r = cc_begin(c, d)) != 0)
		goto out;
	*out = c->rs;
	c->rs = NULL;
out:
	return r;
}

/*
 * sigma: the Linux process_creation subset of Sigma.  See sigma.h.
 *
 * Must hold: every construct is either understood exactly or refused with
 * its line; matching allocates nothing and terminates in time linear in
 * the rule (globs backtrack only to the last star), except for `re`
 * values, which run POSIX regexec.
 */
#include "sigma/sigma.h"
#include "sigma/sigma_int.h"
#include "util/alloc.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

static const char *const field_names[SF_COUNT] = {
    "Image", "CommandLine", "ParentImage", "ParentCommandLine", "User", "CurrentDirectory",
};

const char *
sigma_field_name(enum sigma_field f)
{
	return (unsigned)f < SF_COUNT ? field_names[f] : "?";
}

int
sigma_set_new(struct sigma_set **out)
{
	*out = ward_calloc(1, sizeof(**out));
	return *out != NULL ? 0 : WARD_ENOMEM;
}

void
sigma_rule_clear(struct srule *r)
{
	unsigned i, j, k;

	for (i = 0; i < r->nsel; i++) {
		for (j = 0; j < r->sel[i].nm; j++) {
			for (k = 0; k < r->sel[i].m[j].nt; k++) {
				struct sterm *t = &r->sel[i].m[j].t[k];
				unsigned v;

				for (v = 0; v < t->nv; v++) {
					if (t->v[v].is_re)
						regfree(&t->v[v].re);
					ward_free(t->v[v].pat);
				}
				ward_free(t->v);
			}
			ward_free(r->sel[i].m[j].t);
		}
		ward_free(r->sel[i].m);
		ward_free(r->sel[i].name);
	}
	for (i = 0; i < r->nn; i++)
		ward_free(r->n[i].sels);
	ward_free(r->n);
	ward_free(r->sel);
	ward_free(r->title);
	ward_free(r->id);
	ward_free(r->level);
}

void
sigma_set_free(struct sigma_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		sigma_rule_clear(&s->r[i]);
	ward_free(s->r);
	ward_free(s);
}

size_t
sigma_set_count(const struct sigma_set *s)
{
	return s->n;
}

unsigned
sigma_set_fields(const struct sigma_set *s)
{
	unsigned mask = 0, i, j, k;
	size_t r;

	for (r = 0; r < s->n; r++)
		for (i = 0; i < s->r[r].nsel; i++)
			for (j = 0; j < s->r[r].sel[i].nm; j++)
				for (k = 0; k < s->r[r].sel[i].m[j].nt; k++)
					mask |= 1u << s->r[r].sel[i].m[j].t[k].f;
	return mask;
}

const char *
sigma_rule_title(const struct sigma_set *s, size_t i)
{
	return s->r[i].title;
}

const char *
sigma_rule_id(const struct sigma_set *s, size_t i)
{
	return s->r[i].id;
}

const char *
sigma_rule_level(const struct sigma_set *s, size_t i)
{
	return s->r[i].level;
}

enum sigma_action
sigma_rule_action(const struct sigma_set *s, size_t i)
{
	return s->r[i].action;
}

/* --- parsing ------------------------------------------------------------ */

struct sp {
	yaml_document_t doc;
	const char *name;
	struct ward_diag *d;
	struct srule *r;
};

static int perr(struct sp *p, const yaml_node_t *n, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
perr(struct sp *p, const yaml_node_t *n, int err, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return diag_set(p->d, err, p->name, n != NULL ? (int)n->start_mark.line + 1 : 0,
			n != NULL ? (int)n->start_mark.column + 1 : 0, "%s", msg);
}

static const char *
scalar(const yaml_node_t *n)
{
	return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static yaml_node_t *
node(struct sp *p, int idx)
{
	return yaml_document_get_node(&p->doc, idx);
}

/*
 * Whether a regexp is safe to hand to regcomp: glibc copies a subexpression
 * once per count of a counted repeat and accepts stacked quantifiers
 * (`a++++`), so a small rule could make the agent allocate gigabytes.  The
 * bound: at most 512 characters, no quantifier on a quantifier, counts of
 * at most 100, and the product of all counts at most 10 000.
 */
const char *
sigma_re_unsafe(const char *v)
{
	uint64_t product = 1;
	int in_class = 0, prev_quant = 0;
	const char *c;

	if (strlen(v) > 512)
		return "longer than 512 characters";
	for (c = v; *c != '\0'; c++) {
		int quant = 0;

		if (*c == '\\' && c[1] != '\0') {
			c++;
			prev_quant = 0;
			continue;
		}
		if (in_class) {
			if (*c == ']')
				in_class = 0;
			continue;
		}
		if (*c == '[') {
			in_class = 1;
			if (c[1] == '^')
				c++;
			if (c[1] == ']')
				c++;
			prev_quant = 0;
			continue;
		}
		if (*c == '*' || *c == '+' || *c == '?') {
			quant = 1;
		} else if (*c == '{') {
			unsigned long lo = 0, hi;
			char *end;

			lo = strtoul(c + 1, &end, 10);
			hi = lo;
			if (*end == ',')
				hi = end[1] == '}' ? 100 : strtoul(end + 1, &end, 10);
			else if (*end != '}')
				return "a malformed count";
			if (hi > 100 || lo > 100)
				return "a count above 100";
			product *= hi > 0 ? hi : 1;
			if (product > 10000)
				return "counted repeats whose product is above 10 000";
			c = strchr(c, '}');
			if (c == NULL)
				return "a malformed count";
			quant = 1;
		}
		if (quant && prev_quant)
			return "a quantifier on a quantifier";
		prev_quant = quant;
	}
	return NULL;
}

static int
add_value(struct sp *p, struct sterm *t, const yaml_node_t *n)
{
	const char *v = scalar(n);
	struct svalue *sv;
	size_t len;

	if (v == NULL)
		return perr(p, n, WARD_EUNSUPPORTED, "a value must be a string or a number");
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    (strcmp(v, "null") == 0 || strcmp(v, "~") == 0 || v[0] == '\0'))
		return perr(p, n, WARD_EUNSUPPORTED, "null values are not supported");
	sv = &t->v[t->nv];
	memset(sv, 0, sizeof(*sv));
	if (t->mods & M_RE) {
		const char *why = sigma_re_unsafe(v);
		int e;

		if (why != NULL)
			return perr(p, n, WARD_EUNSUPPORTED, "regular expression refused: %s", why);
		e = regcomp(&sv->re, v, REG_EXTENDED | REG_NOSUB); /* re is case-sensitive */

		if (e != 0)
			return perr(p, n, WARD_EUNSUPPORTED,
				    "regular expression '%s' is not a POSIX extended regexp", v);
		sv->is_re = 1;
		/* The source goes into the compiled form (sigma_set_encode). */
		if ((sv->pat = ward_strdup(v)) == NULL) {
			regfree(&sv->re);
			sv->is_re = 0;
			return perr(p, n, WARD_ENOMEM, "out of memory");
		}
		t->nv++;
		return 0;
	}
	len = strlen(v);
	sv->pat = ward_malloc(len + 3);
	if (sv->pat == NULL)
		return perr(p, n, WARD_ENOMEM, "out of memory");
	snprintf(sv->pat, len + 3, "%s%s%s", (t->mods & (M_CONTAINS | M_ENDS)) ? "*" : "", v,
		 (t->mods & (M_CONTAINS | M_STARTS)) ? "*" : "");
	t->nv++;
	return 0;
}

/* One "Field|mod|mod: value(s)" pair. */
static int
parse_term(struct sp *p, const yaml_node_t *k, const yaml_node_t *v, struct sterm *t)
{
	char key[256], *mod, *save = NULL;
	const char *ks = scalar(k);
	unsigned f, n;
	yaml_node_item_t *it;
	int r;

	memset(t, 0, sizeof(*t));
	if (ks == NULL || strlen(ks) >= sizeof(key))
		return perr(p, k, WARD_ESYNTAX, "a field name must be a string");
	snprintf(key, sizeof(key), "%s", ks);
	mod = strchr(key, '|');
	if (mod != NULL)
		*mod++ = '\0';
	for (f = 0; f < SF_COUNT && strcmp(field_names[f], key) != 0; f++)
		;
	if (f == SF_COUNT)
		return perr(p, k, WARD_EUNSUPPORTED,
			    "field '%s' is not supported (Image, CommandLine, ParentImage, "
			    "ParentCommandLine, User, CurrentDirectory are)",
			    key);
	t->f = (enum sigma_field)f;
	for (mod = mod != NULL ? strtok_r(mod, "|", &save) : NULL; mod != NULL;
	     mod = strtok_r(NULL, "|", &save)) {
		unsigned m = strcmp(mod, "contains") == 0     ? M_CONTAINS
			     : strcmp(mod, "startswith") == 0 ? M_STARTS
			     : strcmp(mod, "endswith") == 0   ? M_ENDS
			     : strcmp(mod, "all") == 0	      ? M_ALL
			     : strcmp(mod, "re") == 0	      ? M_RE
			     : strcmp(mod, "cased") == 0      ? M_CASED
							      : 0;

		if (m == 0)
			return perr(p, k, WARD_EUNSUPPORTED, "modifier '%s' is not supported", mod);
		t->mods |= m;
	}
	if ((t->mods & M_RE) && (t->mods & (M_CONTAINS | M_STARTS | M_ENDS)))
		return perr(p, k, WARD_EUNSUPPORTED,
			    "re cannot be combined with contains, "
			    "startswith or endswith");
	if (__builtin_popcount(t->mods & (M_CONTAINS | M_STARTS | M_ENDS)) > 1)
		return perr(p, k, WARD_ESYNTAX,
			    "contains, startswith and endswith exclude each other");
	n = v->type == YAML_SEQUENCE_NODE
		? (unsigned)(v->data.sequence.items.top - v->data.sequence.items.start)
		: 1;
	if (n == 0)
		return perr(p, v, WARD_ESYNTAX, "an empty list of values");
	t->v = ward_calloc(n, sizeof(*t->v));
	if (t->v == NULL)
		return perr(p, v, WARD_ENOMEM, "out of memory");
	if (v->type != YAML_SEQUENCE_NODE)
		return add_value(p, t, v);
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
		if ((r = add_value(p, t, node(p, *it))) != 0)
			return r;
	return 0;
}

static int
parse_map(struct sp *p, const yaml_node_t *m, struct smap *out)
{
	yaml_node_pair_t *pr;
	unsigned n = (unsigned)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	int r;

	out->t = ward_calloc(n ? n : 1, sizeof(*out->t));
	if (out->t == NULL)
		return perr(p, m, WARD_ENOMEM, "out of memory");
	for (pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		r = parse_term(p, node(p, pr->key), node(p, pr->value), &out->t[out->nt]);
		out->nt++;
		if (r != 0)
			return r;
	}
	return 0;
}

static int
parse_selection(struct sp *p, const char *name, const yaml_node_t *v, struct ssel *sel)
{
	yaml_node_item_t *it;
	int r;

	sel->name = ward_strdup(name);
	if (sel->name == NULL)
		return perr(p, v, WARD_ENOMEM, "out of memory");
	if (v->type == YAML_MAPPING_NODE) {
		sel->m = ward_calloc(1, sizeof(*sel->m));
		if (sel->m == NULL)
			return perr(p, v, WARD_ENOMEM, "out of memory");
		sel->nm = 1;
		return parse_map(p, v, &sel->m[0]);
	}
	if (v->type == YAML_SEQUENCE_NODE) {
		unsigned n = (unsigned)(v->data.sequence.items.top - v->data.sequence.items.start);

		sel->m = ward_calloc(n ? n : 1, sizeof(*sel->m));
		if (sel->m == NULL)
			return perr(p, v, WARD_ENOMEM, "out of memory");
		for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			const yaml_node_t *m = node(p, *it);

			if (m == NULL || m->type != YAML_MAPPING_NODE)
				return perr(p, m, WARD_EUNSUPPORTED,
					    "keyword lists (plain values without a field) are not "
					    "supported in selection '%s'",
					    name);
			r = parse_map(p, m, &sel->m[sel->nm]);
			sel->nm++;
			if (r != 0)
				return r;
		}
		return 0;
	}
	return perr(p, v, WARD_EUNSUPPORTED, "selection '%s' must be a mapping or a list of them",
		    name);
}

/* --- conditions ----------------------------------------------------------- */

struct cp {
	struct sp *p;
	const yaml_node_t *at;
	const char *s;
	char tok[128];
	unsigned depth; /* of the descent: bounded before the stack is */
};

/* 0 if one more level of nesting is allowed, else -1 (said). */
static int
deeper(struct cp *c)
{
	if (++c->depth <= SIGMA_MAX_DEPTH)
		return 0;
	perr(c->p, c->at, WARD_ELIMIT, "condition: nested deeper than %u", SIGMA_MAX_DEPTH);
	return -1;
}

static void
next_tok(struct cp *c)
{
	size_t n = 0;

	while (isspace((unsigned char)*c->s))
		c->s++;
	if (*c->s == '(' || *c->s == ')') {
		c->tok[0] = *c->s++;
		c->tok[1] = '\0';
		return;
	}
	while (*c->s != '\0' && !isspace((unsigned char)*c->s) && *c->s != '(' && *c->s != ')') {
		if (n + 1 < sizeof(c->tok))
			c->tok[n++] = *c->s;
		c->s++;
	}
	c->tok[n] = '\0';
}

static int
new_node(struct cp *c, int op)
{
	struct srule *r = c->p->r;

	if (ward_grow(&r->n, &r->capn, r->nn + 1, sizeof(*r->n)) != 0)
		return -1;
	memset(&r->n[r->nn], 0, sizeof(r->n[r->nn]));
	r->n[r->nn].op = op;
	return (int)r->nn++;
}

static int c_or(struct cp *c);

static int
c_primary(struct cp *c)
{
	struct srule *r = c->p->r;
	int n;
	unsigned i;

	if (strcmp(c->tok, "(") == 0) {
		if (deeper(c) != 0)
			return -1;
		next_tok(c);
		n = c_or(c);
		c->depth--;
		if (n < 0)
			return n;
		if (strcmp(c->tok, ")") != 0) {
			perr(c->p, c->at, WARD_ESYNTAX, "condition: ')' expected");
			return -1;
		}
		next_tok(c);
		return n;
	}
	if (strcmp(c->tok, "1") == 0 || strcmp(c->tok, "all") == 0) {
		int all = strcmp(c->tok, "all") == 0;
		char pat[128];

		next_tok(c);
		if (strcmp(c->tok, "of") != 0) {
			perr(c->p, c->at, WARD_EUNSUPPORTED, "condition: '%s of' is not supported",
			     all ? "all" : "1");
			return -1;
		}
		next_tok(c);
		snprintf(pat, sizeof(pat), "%s", strcmp(c->tok, "them") == 0 ? "*" : c->tok);
		if ((n = new_node(c, all ? N_ALL : N_ONE)) < 0 ||
		    (r->n[n].sels = ward_calloc(r->nsel ? r->nsel : 1, sizeof(unsigned))) == NULL) {
			perr(c->p, c->at, WARD_ENOMEM, "out of memory");
			return -1;
		}
		for (i = 0; i < r->nsel; i++)
			if (sigma_glob_match(pat, r->sel[i].name, 0) &&
			    !(strcmp(c->tok, "them") == 0 && r->sel[i].name[0] == '_'))
				r->n[n].sels[r->n[n].nsels++] = i;
		if (r->n[n].nsels == 0) {
			perr(c->p, c->at, WARD_ESYNTAX, "condition: no selection matches '%s'",
			     c->tok);
			return -1;
		}
		next_tok(c);
		return n;
	}
	for (i = 0; i < r->nsel; i++)
		if (strcmp(r->sel[i].name, c->tok) == 0)
			break;
	if (c->tok[0] == '\0' || i == r->nsel) {
		perr(c->p, c->at, c->tok[0] == '\0' ? WARD_ESYNTAX : WARD_EUNSUPPORTED,
		     c->tok[0] == '\0'
			 ? "condition: unexpected end"
			 : "condition: '%s' is not a selection of this rule (aggregations "
			   "and other operators are not supported)",
		     c->tok);
		return -1;
	}
	if ((n = new_node(c, N_SEL)) < 0)
		return -1;
	r->n[n].sel = i;
	next_tok(c);
	return n;
}

static int
c_not(struct cp *c)
{
	int n, a;

	if (strcmp(c->tok, "not") != 0)
		return c_primary(c);
	if (deeper(c) != 0)
		return -1;
	next_tok(c);
	a = c_not(c);
	c->depth--;
	if (a < 0 || (n = new_node(c, N_NOT)) < 0)
		return -1;
	c->p->r->n[n].a = a;
	return n;
}

/* A left-associative chain of `word` (and/or) over operands of next. */
static int
c_chain(struct cp *c, const char *word, int op, int (*next)(struct cp *))
{
	int a = next(c), b, n;

	while (a >= 0 && strcmp(c->tok, word) == 0) {
		next_tok(c);
		if ((b = next(c)) < 0 || (n = new_node(c, op)) < 0)
			return -1;
		c->p->r->n[n].a = a;
		c->p->r->n[n].b = b;
		a = n;
	}
	return a;
}

static int
c_and(struct cp *c)
{
	return c_chain(c, "and", N_AND, c_not);
}

static int
c_or(struct cp *c)
{
	return c_chain(c, "or", N_OR, c_and);
}

static int
parse_condition(struct sp *p, const yaml_node_t *v)
{
	struct cp c;
	const char *s = scalar(v);
	int r;

	if (s == NULL)
		return perr(p, v, WARD_EUNSUPPORTED, "condition must be one string");
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.at = v;
	c.s = s;
	next_tok(&c);
	p->r->root = c_or(&c);
	if (p->r->root < 0)
		return p->d != NULL && p->d->msg[0] ? WARD_ESYNTAX : WARD_ENOMEM;
	if ((r = sigma_rule_depth_check(p->r)) != 0)
		return perr(p, v, r == WARD_ENOMEM ? r : WARD_EUNSUPPORTED,
			    r == WARD_ENOMEM ? "out of memory" : "condition: nested deeper than %d",
			    SIGMA_MAX_DEPTH);
	if (c.tok[0] != '\0')
		return perr(p, v, c.tok[0] == '|' ? WARD_EUNSUPPORTED : WARD_ESYNTAX,
			    "condition: unexpected '%s'%s", c.tok,
			    c.tok[0] == '|' ? " (aggregations are not supported)" : "");
	return 0;
}

static int
parse_detection(struct sp *p, const yaml_node_t *det)
{
	yaml_node_pair_t *pr;
	const yaml_node_t *cond = NULL;
	unsigned n;
	int r;

	if (det->type != YAML_MAPPING_NODE)
		return perr(p, det, WARD_ESYNTAX, "detection must be a mapping");
	n = (unsigned)(det->data.mapping.pairs.top - det->data.mapping.pairs.start);
	p->r->sel = ward_calloc(n ? n : 1, sizeof(*p->r->sel));
	if (p->r->sel == NULL)
		return perr(p, det, WARD_ENOMEM, "out of memory");
	for (pr = det->data.mapping.pairs.start; pr < det->data.mapping.pairs.top; pr++) {
		const char *k = scalar(node(p, pr->key));

		if (k == NULL)
			return perr(p, node(p, pr->key), WARD_ESYNTAX, "bad key in detection");
		if (strcmp(k, "condition") == 0) {
			cond = node(p, pr->value);
			continue;
		}
		if (strcmp(k, "timeframe") == 0)
			return perr(p, node(p, pr->key), WARD_EUNSUPPORTED,
				    "timeframe (correlation) is not supported");
		r = parse_selection(p, k, node(p, pr->value), &p->r->sel[p->r->nsel]);
		p->r->nsel++;
		if (r != 0)
			return r;
	}
	if (cond == NULL)
		return perr(p, det, WARD_ESYNTAX, "detection has no condition");
	return parse_condition(p, cond);
}

static int
check_logsource(struct sp *p, const yaml_node_t *ls)
{
	yaml_node_pair_t *pr;
	int category = 0;

	if (ls == NULL || ls->type != YAML_MAPPING_NODE)
		return perr(p, ls, WARD_ESYNTAX, "logsource must be a mapping");
	for (pr = ls->data.mapping.pairs.start; pr < ls->data.mapping.pairs.top; pr++) {
		const char *k = scalar(node(p, pr->key)), *v = scalar(node(p, pr->value));

		if (k != NULL && strcmp(k, "category") == 0) {
			if (v == NULL || strcmp(v, "process_creation") != 0)
				return perr(p, node(p, pr->value), WARD_EUNSUPPORTED,
					    "only process_creation rules are supported (this is "
					    "'%s')",
					    v != NULL ? v : "?");
			category = 1;
		} else if (k != NULL && strcmp(k, "product") == 0) {
			if (v == NULL || strcmp(v, "linux") != 0)
				return perr(p, node(p, pr->value), WARD_EUNSUPPORTED,
					    "only Linux rules are supported (product '%s')",
					    v != NULL ? v : "?");
		} else if (k != NULL && strcmp(k, "service") == 0) {
			return perr(p, node(p, pr->key), WARD_EUNSUPPORTED,
				    "log sources with a service are not supported");
		}
	}
	if (!category)
		return perr(p, ls, WARD_EUNSUPPORTED, "logsource needs category: process_creation");
	return 0;
}

int
sigma_set_add(struct sigma_set *s, const char *name, const char *yaml, size_t len,
	      struct ward_diag *d)
{
	yaml_parser_t parser;
	struct sp p;
	struct srule r;
	yaml_node_t *root;
	yaml_node_pair_t *pr;
	const yaml_node_t *det = NULL, *ls = NULL;
	int rc = 0;

	diag_clear(d);
	if (len > SIGMA_MAX_SOURCE)
		return diag_set(d, WARD_ELIMIT, name, 0, 0,
				"rule file larger than SIGMA_MAX_SOURCE");
	if (s->n >= SIGMA_MAX_RULES)
		return diag_set(d, WARD_ELIMIT, name, 0, 0, "more than SIGMA_MAX_RULES rules");
	memset(&p, 0, sizeof(p));
	memset(&r, 0, sizeof(r));
	p.name = name;
	p.d = d;
	p.r = &r;
	if (!yaml_parser_initialize(&parser))
		return diag_set(d, WARD_ENOMEM, name, 0, 0, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, len);
	if (!yaml_parser_load(&parser, &p.doc)) {
		rc = diag_set(d, WARD_ESYNTAX, name, (int)parser.problem_mark.line + 1,
			      (int)parser.problem_mark.column + 1, "%s",
			      parser.problem != NULL ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		return rc;
	}
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&p.doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		rc = perr(&p, root, WARD_ESYNTAX, "a rule file holds one mapping");
		goto out;
	}
	for (pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		const char *k = scalar(node(&p, pr->key));
		const yaml_node_t *v = node(&p, pr->value);

		if (k == NULL)
			continue;
		if (((strcmp(k, "title") == 0 && r.title != NULL) ||
		     (strcmp(k, "id") == 0 && r.id != NULL) ||
		     (strcmp(k, "level") == 0 && r.level != NULL) ||
		     (strcmp(k, "logsource") == 0 && ls != NULL) ||
		     (strcmp(k, "detection") == 0 && det != NULL))) {
			rc = perr(&p, node(&p, pr->key), WARD_ESYNTAX, "duplicate key '%s'", k);
			goto out;
		}
		if (strcmp(k, "title") == 0 && scalar(v) != NULL)
			r.title = ward_strdup(scalar(v));
		else if (strcmp(k, "id") == 0 && scalar(v) != NULL)
			r.id = ward_strdup(scalar(v));
		else if (strcmp(k, "level") == 0 && scalar(v) != NULL)
			r.level = ward_strdup(scalar(v));
		else if (strcmp(k, "logsource") == 0)
			ls = v;
		else if (strcmp(k, "detection") == 0)
			det = v;
		else if (strcmp(k, "action") == 0) {
			const char *a = scalar(v);

			if (a != NULL && strcmp(a, "kill") == 0)
				r.action = SIGMA_KILL;
			else if (a == NULL || strcmp(a, "alert") != 0) {
				rc = perr(&p, v, WARD_ESYNTAX, "action must be alert or kill");
				goto out;
			}
		}
	}
	if (r.title == NULL) {
		rc = perr(&p, root, WARD_ESYNTAX, "the rule has no title");
		goto out;
	}
	if (det == NULL) {
		rc = perr(&p, root, WARD_ESYNTAX, "the rule has no detection");
		goto out;
	}
	if ((rc = check_logsource(&p, ls)) != 0 || (rc = parse_detection(&p, det)) != 0)
		goto out;
	if (r.id == NULL)
		r.id = ward_strdup("");
	if (r.level == NULL)
		r.level = ward_strdup("");
	if (r.id == NULL || r.level == NULL ||
	    ward_grow(&s->r, &s->cap, s->n + 1, sizeof(*s->r)) != 0) {
		rc = diag_set(d, WARD_ENOMEM, name, 0, 0, "out of memory");
		goto out;
	}
	s->r[s->n++] = r;
	memset(&r, 0, sizeof(r));
out:
	if (rc != 0)
		sigma_rule_clear(&r);
	yaml_document_delete(&p.doc);
	return rc;
}

/*
 * sigma_int: the compiled form of process rules, shared by the YAML
 * parser (sigma.c) and the binary codec (sigma_code.c).  Private to
 * lib/sigma.
 *
 * Must hold: a node's children have smaller indices than the node (the
 * parser builds them first; the decoder requires it), so evaluation ends.
 */
#ifndef WARD_SIGMA_SIGMA_INT_H
#define WARD_SIGMA_SIGMA_INT_H

#include <regex.h>

#include "sigma/sigma.h"

enum { M_CONTAINS = 1, M_STARTS = 2, M_ENDS = 4, M_ALL = 8, M_RE = 16, M_CASED = 32 };

struct svalue {
	char *pat; /* glob (with * and ?) built from the value and the modifiers,
		    * or with is_re, the regexp's source */
	regex_t re;
	int is_re;
};

struct sterm {
	enum sigma_field f;
	unsigned mods;
	struct svalue *v;
	unsigned nv;
};

struct smap {
	struct sterm *t;
	unsigned nt;
};

struct ssel {
	char *name;
	struct smap *m;
	unsigned nm;
};

enum { N_SEL, N_ONE, N_ALL, N_NOT, N_AND, N_OR };

struct snode {
	int op;
	int a, b;	/* children (N_NOT: a; N_AND/N_OR: a, b) */
	unsigned sel;	/* N_SEL */
	unsigned *sels; /* N_ONE, N_ALL */
	unsigned nsels;
};

struct srule {
	char *title, *id, *level;
	enum sigma_action action;
	struct ssel *sel;
	unsigned nsel;
	struct snode *n;
	unsigned nn;
	size_t capn;
	int root;
};

struct sigma_set {
	struct srule *r;
	size_t n, cap;
};

/* 0 if no path through r's condition nodes is longer than SIGMA_MAX_DEPTH
 * (children must already come before their parents), else WARD_ELIMIT, or
 * WARD_ENOMEM. */
int sigma_rule_depth_check(const struct srule *r);

/* Frees what r holds (not r). */
void sigma_rule_clear(struct srule *r);

/* Why regexp v is refused (too costly for regcomp), or NULL if it is not. */
const char *sigma_re_unsafe(const char *v);

/* Glob match of s against p: * any run, ? one character, \* \? \\ literal. */
int sigma_glob_match(const char *p, const char *s, int icase);

#endif

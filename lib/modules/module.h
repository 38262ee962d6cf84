/*
 * module: YARA's modules (`import "math"` ...) as ward implements them —
 * what names each one has (its schema), how the condition bytecode refers
 * to a value or a function of it (stable numbers), and how a value is got
 * for one file (lazily: a module's parse runs at most once per file, when
 * a rule that uses it is evaluated, and never for files no rule asks
 * about).
 *
 * Numbers are part of compiled content: a module's number (MOD_ID_*) and
 * the id of each of its values and functions never change meaning; new
 * ones are appended.  The verifier checks every number against these
 * tables, so a compiled rule set cannot name what does not exist.
 *
 * A module parses hostile bytes: through the freader only, and a file it
 * does not understand leaves its values undefined — never an error for
 * the scan.
 */
#ifndef WARD_MODULES_MODULE_H
#define WARD_MODULES_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "modules/freader.h"
#include "util/limits.h"

struct pattern;

/* The modules' numbers in compiled content. */
enum mod_id {
	MOD_ID_PE = 1,
	MOD_ID_ELF = 2,
	MOD_ID_MATH = 3,
	MOD_ID_HASH = 4,
	MOD_ID_TIME = 5,
	MOD_ID_MAX_ = 6
};

/* Types of values, indexes and arguments, as letters in signatures:
 * 'i' integer, 'f' float, 's' string; arguments only: 'b' boolean, 'r'
 * regular expression. */
enum mod_kind {
	MOD_INT = 1,
	MOD_FLOAT,
	MOD_STR,
	MOD_STRUCT, /* fields */
	MOD_ARRAY,  /* of elem, indexed by integer */
	MOD_DICT,   /* of elem, indexed by string */
	MOD_FUNC,   /* overloads */
	MOD_CONST,  /* a constant: integer (pe.MACHINE_I386), or float if elem is MOD_FLOAT */
};

/* A value's or a function's signature: what it returns, the indexes on
 * its way ("" for none, "i" for sections[i], "s" for a dictionary) and
 * (functions) its arguments. */
struct mod_sig {
	char ret;	  /* 'i', 'f' or 's' */
	const char *idx;  /* at most MOD_MAX_ARGS letters of 'i' and 's' */
	const char *args; /* functions: letters of 'i', 'f', 's', 'r'; values: NULL */
};

/* The most indexes plus arguments of one value or call. */
#define MOD_MAX_ARGS 8

/* One name under a module or a structure; arrays end with a NULL name. */
struct mod_member {
	const char *name;
	enum mod_kind kind;
	enum mod_kind elem; /* ARRAY, DICT: MOD_INT, MOD_FLOAT, MOD_STR or MOD_STRUCT */
	const struct mod_member *fields; /* STRUCT, or ARRAY/DICT of STRUCT */
	uint16_t id;			 /* a value (INT, FLOAT, STR, or ARRAY/DICT of those) */
	/* ARRAY, DICT: the value (an integer, with the indexes on the way to
	 * it) that is its number of items as YARA counts them — its highest
	 * index plus one, for an array — for `for ... in` loops over it;
	 * undefined when the array itself is (an index on its way is out of
	 * range, the file is not the module's format). */
	uint16_t len_id;
	/* DICT: the value (a string, with the indexes on the way and then a
	 * position below len_id's) that is the key at that position, in the
	 * order YARA keeps them (where each key was first set). */
	uint16_t key_id;
	const uint16_t *funcs; /* FUNC: ids of its overloads, 0-terminated */
	int64_t value;	       /* CONST */
	double fvalue;	       /* CONST with elem MOD_FLOAT (math.MEAN_BYTES) */
};

/* A value for one file, as the interpreter takes it. */
struct mod_value {
	int defined;
	int64_t i;	  /* 'i' */
	double d;	  /* 'f' */
	const uint8_t *s; /* 's': borrowed from the module's data, or from buf */
	uint32_t slen;
	uint8_t *buf; /* MOD_STR_BUF bytes where the module may make the string */
};

/* An index or an argument of a call. */
struct mod_arg {
	int64_t i;
	double d;
	const uint8_t *s;
	uint32_t slen;
	const struct pattern *re; /* 'r' */
};

/* Bytes of a string a module makes for one value (a hex digest). */
#define MOD_STR_BUF 136

/* A file as the modules see it, with what they parsed of it. */
struct mod_file {
	struct freader f;
	/* Strings the modules made, one per slot of the interpreter's stack
	 * (a value lives in the slot it was pushed to until it is popped). */
	uint8_t sbuf[WARD_MAX_STACK][MOD_STR_BUF];
	void *data[MOD_ID_MAX_];     /* what load gave (NULL: not the module's format) */
	uint8_t loaded[MOD_ID_MAX_]; /* load ran for this file */
};

struct module {
	enum mod_id id;
	const char *name;
	const struct mod_member *members; /* NULL-name-terminated */
	const struct mod_sig *values;	  /* by id; [0] unused */
	uint16_t nvalues;
	const struct mod_sig *funcs; /* by id; [0] unused */
	uint16_t nfuncs;
	/* Parses the file once (NULL: the module keeps nothing per file):
	 * 0 with *data (NULL: not its format: every value undefined), or a
	 * negative WARD_E* (out of memory: the values are undefined). */
	int (*load)(struct freader *f, void **data);
	void (*unload)(void *data);
	/* Value id with its indexes (idx, as its signature says): fills out
	 * (out->defined 0: undefined).  data is what load gave (never NULL
	 * when load exists). */
	void (*value)(void *data, uint16_t id, const struct mod_arg *idx, struct mod_value *out);
	/* Function id with its indexes then arguments, as value. */
	void (*call)(void *data, struct freader *f, uint16_t id, const struct mod_arg *args,
		     struct mod_value *out);
};

/* The module named name, or NULL (not one ward implements). */
const struct module *mod_find(const char *name);
/* The module numbered id, or NULL. */
const struct module *mod_get(unsigned id);
/* 1 if name is a module YARA has (implemented by ward or not). */
int mod_known(const char *name);

/* The member named name among members (NULL-name-terminated), or NULL. */
const struct mod_member *mod_member_find(const struct mod_member *members, const char *name);

/* Starts a file of size bytes read by fn (see freader_init_fn), or held
 * whole at p (fn NULL). */
void mod_file_init(struct mod_file *mf, const uint8_t *p, uint64_t size,
		   int (*fn)(void *arg, uint64_t off, void *buf, size_t n), void *arg,
		   uint8_t *win);
/* Frees what the modules parsed of the file. */
void mod_file_done(struct mod_file *mf);

/* What module m parsed of the file (parsing it now if it has not yet),
 * or NULL when the file is not its format. */
void *mod_file_data(struct mod_file *mf, const struct module *m);

#endif

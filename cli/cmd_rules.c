/*
 * cmd_rules: `ward rules compile`, and the rule loading that `ward scan`
 * shares with it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "rules/compile.h"
#include "scan/rulefile.h"
#include "util/alloc.h"

void
cli_push(const char ***list, size_t *n, const char *v)
{
	const char **nl = realloc(*list, (*n + 1) * sizeof(**list));

	if (nl == NULL) {
		fprintf(stderr, "ward: out of memory\n");
		exit(EXIT_ERROR);
	}
	nl[(*n)++] = v;
	*list = nl;
}

void
cli_diag(const struct ward_diag *d)
{
	char buf[2048];

	diag_format(d, buf, sizeof(buf));
	fprintf(stderr, "ward: %s\n", buf);
}

void
loaded_free(struct loaded *l)
{
	matcher_free(l->m);
	ruleset_free(l->rs);
	hashsig_free(l->hs);
	memset(l, 0, sizeof(*l));
}

static int
load_compiled(const struct rule_opts *o, struct loaded *l, struct ward_diag *d)
{
	int rebuilt = 0, r;
	size_t i;

	if ((r = rulefile_read(o->compiled, &l->rs, &l->hs, &l->m, &rebuilt, d)) != 0)
		return r;
	if (rebuilt)
		fprintf(stderr, "ward: %s: the pattern database did not fit this CPU and was "
				"rebuilt; compile the rules on this host to load faster\n",
			o->compiled);
	for (i = 0; i < o->ndefines; i++) {
		if (l->rs == NULL)
			return diag_set(d, WARD_EUNDEFINED, o->compiled, 0, 0,
					"-d %s: the compiled file has no rules", o->defines[i]);
		if ((r = ruleset_set_external(l->rs, o->defines[i], d)) != 0)
			return r;
	}
	return 0;
}

static int
load_sources(const struct rule_opts *o, struct loaded *l, struct ward_diag *d)
{
	struct rules_compiler *c = NULL;
	size_t i;
	int r = 0;

	if (o->nrules > 0) {
		if ((r = rules_compiler_new(&c)) != 0)
			goto out;
		for (i = 0; i < o->ndefines; i++)
			if ((r = rules_compiler_define(c, o->defines[i], d)) != 0)
				goto out;
		for (i = 0; i < o->nrules; i++)
			if ((r = rules_compiler_add_file(c, o->rules[i], d)) != 0)
				goto out;
		if ((r = rules_compiler_finish(c, &l->rs, d)) != 0)
			goto out;
	} else if (o->ndefines > 0) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "-d needs --rules or --compiled");
		goto out;
	}
	if (o->nhashes > 0) {
		if ((r = hashsig_new(&l->hs)) != 0)
			goto out;
		for (i = 0; i < o->nhashes; i++)
			if ((r = hashsig_add_file(l->hs, o->hashes[i], d)) != 0)
				goto out;
		if ((r = hashsig_finish(l->hs)) != 0)
			goto out;
	}
	r = matcher_new(l->rs, l->hs, &l->m, d);
out:
	rules_compiler_free(c);
	return r;
}

int
cli_load(const struct rule_opts *o, struct loaded *l)
{
	struct ward_diag d;
	int r;

	memset(l, 0, sizeof(*l));
	diag_clear(&d);
	if (o->compiled != NULL && (o->nrules > 0 || o->nhashes > 0)) {
		fprintf(stderr, "ward: --compiled cannot be combined with --rules or --hashes\n");
		return EXIT_ERROR;
	}
	if (o->compiled == NULL && o->nrules == 0 && o->nhashes == 0) {
		fprintf(stderr, "ward: no rules given (use --rules, --hashes or --compiled)\n");
		return EXIT_ERROR;
	}
	r = o->compiled != NULL ? load_compiled(o, l, &d) : load_sources(o, l, &d);
	if (r != 0) {
		if (d.msg[0] == '\0')
			snprintf(d.msg, sizeof(d.msg), "%s", ward_strerror(r));
		cli_diag(&d);
		loaded_free(l);
		return EXIT_ERROR;
	}
	return 0;
}

static void
rules_usage(FILE *f)
{
	fprintf(f, "usage: ward rules compile RULES... [--hashes FILE]... [-d NAME=VALUE]... -o FILE\n"
		   "\n"
		   "Compiles YARA rule files (and hash signature lists) into one compiled rule\n"
		   "set, which 'ward scan --compiled FILE' loads without compiling again.\n"
		   "The file is tied to this ward version and CPU family and carries a checksum.\n"
		   "\n"
		   "  -o, --output FILE      where to write the compiled rule set (required)\n"
		   "      --hashes FILE      add hash signatures (ALG:HEX:SIZE:NAME lines)\n"
		   "  -d NAME=VALUE          define an external variable (int, true/false, string)\n"
		   "  -h, --help             show this help\n");
}

int
cmd_rules(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"hashes", required_argument, NULL, 'H'},
		{"define", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct rule_opts o;
	struct loaded l;
	struct ward_diag d;
	const char *output = NULL;
	int c, r;

	memset(&o, 0, sizeof(o));
	if (argc < 2 || strcmp(argv[1], "compile") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			rules_usage(stdout);
			return 0;
		}
		rules_usage(stderr);
		return EXIT_ERROR;
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "o:d:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'H':
			cli_push(&o.hashes, &o.nhashes, optarg);
			break;
		case 'd':
			cli_push(&o.defines, &o.ndefines, optarg);
			break;
		case 'h':
			rules_usage(stdout);
			return 0;
		default:
			rules_usage(stderr);
			return EXIT_ERROR;
		}
	}
	for (; optind < argc; optind++)
		cli_push(&o.rules, &o.nrules, argv[optind]);
	if (output == NULL) {
		fprintf(stderr, "ward: rules compile: -o FILE is required\n");
		return EXIT_ERROR;
	}
	if ((r = cli_load(&o, &l)) != 0)
		goto out;
	diag_clear(&d);
	if (rulefile_write(output, l.rs, l.hs, l.m, &d) != 0) {
		cli_diag(&d);
		r = EXIT_ERROR;
	}
	loaded_free(&l);
out:
	free(o.rules);
	free(o.hashes);
	free(o.defines);
	return r;
}

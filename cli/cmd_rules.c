/*
 * cmd_rules: `ward rules compile` and `ward rules check`, and the rule
 * loading that `ward scan` shares with them.
 *
 * With --skip-unsupported, every rule left out is named on stderr: a rule
 * set never loads smaller than its files without saying which rules are
 * missing.
 */
#include <ctype.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clamav.h"
#include "content/image.h"
#include "rules/compile.h"
#include "scan/filevars.h"
#include "scan/rulefile.h"
#include "scan/walker.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/limits.h"

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

/* A compiled rule file (ward rules compile), or the rules section of a
 * compiled content image (an agent's content store, v<N>.wrs). */
static int
read_compiled(const char *path, struct loaded *l, int *rebuilt, struct ward_diag *d)
{
	const uint8_t *rp;
	uint8_t *p = NULL;
	size_t n = 0, rn;
	int r;

	if ((r = file_read_all(path, WARD_MAX_COMPILED_SIZE, &p, &n, d)) != 0)
		goto out;
	if (n >= 8 && memcmp(p, CONTENT_IMAGE_MAGIC, 8) == 0)
		r = content_image_rules(p, n, &rp, &rn, d);
	else
		rp = p, rn = n;
	if (r == 0)
		r = rulefile_parse(rp, rn, &l->rs, &l->hs, &l->m, rebuilt, d);
out:
	if (r != 0 && d != NULL && d->file[0] == '\0')
		snprintf(d->file, sizeof(d->file), "%s", path);
	ward_free(p);
	return r;
}

static int
load_compiled(const struct rule_opts *o, struct loaded *l, struct ward_diag *d)
{
	int rebuilt = 0, r;
	size_t i;

	if ((r = read_compiled(o->compiled, l, &rebuilt, d)) != 0)
		return r;
	if (rebuilt)
		fprintf(stderr,
			"ward: %s: the pattern database did not fit this CPU and was "
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

void
cli_print_skipped(const struct rules_skipped *s)
{
	if (s->rule != NULL)
		fprintf(stderr, "ward: skipped rule %s (%s:%d): %s\n", s->rule, s->why.file,
			s->line, s->why.msg);
	else
		fprintf(stderr, "ward: skipped import \"%s\" (%s:%d): %s\n", s->module, s->why.file,
			s->line, s->why.msg);
}

/* Adds every line of the hash list text (NUL-terminated) to hs. */
static int
add_hash_text(struct hashsig_set *hs, const char *text, struct ward_diag *d)
{
	const char *nl;
	int line = 1, r = 0;

	for (; *text != '\0' && r == 0; text = nl + 1, line++) {
		if ((nl = strchr(text, '\n')) == NULL)
			nl = text + strlen(text) - 1;
		r = hashsig_add_line(hs, "clamav", line, text, (size_t)(nl - text), d);
	}
	return r;
}

/*
 * The ClamAV databases, converted and compiled into c (which skips
 * unsupported rules: a converted signature ward's compiler refuses is
 * left out and listed).
 */
static int
load_clamav(const struct rule_opts *o, struct rules_compiler *c, struct loaded *l,
	    struct ward_diag *d)
{
	struct clamdb *db = NULL;
	struct clamdb_stats st;
	const char *h;
	size_t hn;
	int r;

	if ((r = clamdb_new(&db)) != 0)
		goto out;
	if (cli_clamdb_read(db, o->clamdbs, o->nclamdbs, o->allow_unsigned, 1) != 0) {
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "cannot use the ClamAV databases");
		goto out;
	}
	if ((r = clamdb_finish(db, c)) != 0)
		goto out;
	h = clamdb_hashes(db, &hn);
	if (hn > 0) {
		if (l->hs == NULL && (r = hashsig_new(&l->hs)) != 0)
			goto out;
		if ((r = add_hash_text(l->hs, h, d)) != 0)
			goto out;
	}
	clamdb_get_stats(db, &st);
	l->nclam_skipped = st.skipped;
	if (st.skipped > 0 || st.ignored > 0 || o->clamav_report)
		cli_clamdb_summary(db, o->clamav_report, "--clamav-report", stderr);
out:
	clamdb_free(db);
	return r;
}

static int
load_sources(const struct rule_opts *o, struct loaded *l, struct ward_diag *d)
{
	struct rules_compiler *c = NULL;
	const struct rules_skipped *sk;
	size_t i, nsk, before;
	int r = 0;

	if (o->nrules > 0 || o->nclamdbs > 0) {
		if ((r = rules_compiler_new(&c)) != 0)
			goto out;
		/* ClamAV's signatures are compiled one by one, so that one ward
		 * refuses is left out; the rule files keep their own rule. */
		if (o->skip_unsupported || o->nclamdbs > 0)
			rules_compiler_skip_unsupported(c);
		for (i = 0; i < o->ndefines; i++)
			if ((r = rules_compiler_define(c, o->defines[i], d)) != 0)
				goto out;
		for (i = 0; i < o->nrules; i++) {
			rules_compiler_skipped(c, &before);
			if ((r = rules_compiler_add_file(c, o->rules[i], d)) != 0)
				goto out;
			sk = rules_compiler_skipped(c, &nsk);
			if (!o->skip_unsupported && nsk > before) {
				*d = sk[before].why;
				r = WARD_EUNSUPPORTED;
				goto out;
			}
		}
		sk = rules_compiler_skipped(c, &nsk);
		for (i = 0; i < nsk; i++) {
			cli_print_skipped(&sk[i]);
			l->nskipped += sk[i].rule != NULL;
		}
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
	}
	if (o->nclamdbs > 0 && (r = load_clamav(o, c, l, d)) != 0)
		goto out;
	if (c != NULL && (r = rules_compiler_finish(c, &l->rs, d)) != 0)
		goto out;
	if (l->hs != NULL && (r = hashsig_finish(l->hs)) != 0)
		goto out;
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
	if (o->compiled != NULL && (o->nrules > 0 || o->nhashes > 0 || o->nclamdbs > 0)) {
		fprintf(stderr, "ward: --compiled cannot be combined with --rules, --hashes or "
				"--clamav-db\n");
		return EXIT_ERROR;
	}
	if (o->compiled == NULL && o->nrules == 0 && o->nhashes == 0 && o->nclamdbs == 0) {
		fprintf(stderr, "ward: no rules given (use --rules, --hashes, --clamav-db or "
				"--compiled)\n");
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
	fprintf(f,
		"usage: ward rules compile RULES... [--hashes FILE]... [-d NAME=VALUE]...\n"
		"                          [--skip-unsupported] -o FILE\n"
		"       ward rules check [--format text|json] [-d NAME=VALUE]... DIR|FILE...\n"
		"\n"
		"compile  compiles YARA rule files (and hash signature lists) into one compiled\n"
		"         rule set, which 'ward scan --compiled FILE' loads without compiling\n"
		"         again.  The file is tied to this ward version and CPU family and\n"
		"         carries a checksum.\n"
		"check    compiles every rule file given, and every *.yar and *.yara file\n"
		"         under each DIR (recursively, in name order), together as one set,\n"
		"         and lists every problem in one pass: FILE:LINE:COL: rule NAME: why\n"
		"         for each rule --skip-unsupported would leave out (and each rule that\n"
		"         names one), FILE:LINE:COL: error: why for each file that cannot be\n"
		"         used at all, then counts by kind of problem.  Rules are judged as\n"
		"         'ward scan' compiles them: filename, filepath, extension, filetype\n"
		"         and owner are declared (ward scan sets them per file); 'ward rules\n"
		"         compile', 'ward content build' and the agent need -d for them.\n"
		"\n"
		"  -o, --output FILE      where to write the compiled rule set (required)\n"
		"      --hashes FILE      add hash signatures (ALG:HEX:SIZE:NAME lines)\n"
		"  -d NAME=VALUE          define an external variable (int, true/false, string)\n"
		"      --skip-unsupported leave out each rule that uses what ward does not\n"
		"                         implement (modules other than pe, elf, math, hash\n"
		"                         and time; \"of ... in (range)\", ...), and\n"
		"                         each rule that names one, instead of refusing the\n"
		"                         file; each is named on stderr.  Syntax errors and\n"
		"                         global rules are never skipped.\n"
		"  -f, --format text|json check's output (default: text)\n"
		"  -h, --help             show this help\n"
		"\n"
		"Exit status of compile: 0 written, 2 error.\n"
		"Exit status of check: 0 every file compiles as it is; 1 some rules or\n"
		"imports would be left out with --skip-unsupported, the rest compiles;\n"
		"2 some file cannot be used even with --skip-unsupported (syntax error,\n"
		"unsupported global rule, duplicate name, unreadable file), or bad arguments.\n");
}

static int
rules_compile(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'}, {"hashes", required_argument, NULL, 'H'},
	    {"define", required_argument, NULL, 'd'}, {"skip-unsupported", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	struct rule_opts o;
	struct loaded l;
	struct ward_diag d;
	const char *output = NULL;
	int c, r;

	memset(&o, 0, sizeof(o));
	optind = 1;
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
		case 'S':
			o.skip_unsupported = 1;
			break;
		case 'h':
			rules_usage(stdout);
			r = 0;
			goto out;
		default:
			rules_usage(stderr);
			r = EXIT_ERROR;
			goto out;
		}
	}
	for (; optind < argc; optind++)
		cli_push(&o.rules, &o.nrules, argv[optind]);
	if (output == NULL) {
		fprintf(stderr, "ward: rules compile: -o FILE is required\n");
		r = EXIT_ERROR;
		goto out;
	}
	if ((r = cli_load(&o, &l)) != 0)
		goto out;
	diag_clear(&d);
	if (rulefile_write(output, l.rs, l.hs, l.m, &d) != 0) {
		cli_diag(&d);
		r = EXIT_ERROR;
	} else if (l.nskipped > 0) {
		fprintf(stderr, "ward: %s: %u rules, %zu skipped\n", output,
			l.rs != NULL ? l.rs->nrules : 0, l.nskipped);
	}
	loaded_free(&l);
out:
	free(o.rules);
	free(o.hashes);
	free(o.defines);
	return r;
}

/* --- check ------------------------------------------------------------- */

/* One rule file's outcome. */
struct chk_file {
	char *path;
	uint32_t rules;	       /* compiled */
	size_t sk_first, sk_n; /* its records in the compiler's skipped list */
	int failed;	       /* unusable: err says why */
	struct ward_diag err;
};

/* One kind of problem and how often it was met. */
struct chk_kind {
	char *kind;
	size_t n;
};

struct chk {
	struct chk_file *f;
	size_t nf, capf;
	struct chk_kind *k;
	size_t nk, capk;
	int walk_errors;
};

static int
chk_has_ext(const char *name)
{
	size_t n = strlen(name);

	return (n > 4 && strcmp(name + n - 4, ".yar") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".yara") == 0);
}

static int
chk_add_path(struct chk *ck, const char *path)
{
	if (ward_grow(&ck->f, &ck->capf, ck->nf + 1, sizeof(*ck->f)) != 0)
		return WARD_ENOMEM;
	memset(&ck->f[ck->nf], 0, sizeof(ck->f[ck->nf]));
	if ((ck->f[ck->nf].path = strdup(path)) == NULL)
		return WARD_ENOMEM;
	ck->nf++;
	return 0;
}

/* A file named on the command line is checked whatever its name; under a
 * directory, only *.yar and *.yara. */
static int
chk_walk_file(void *ctx, const struct walker_entry *e)
{
	if (e->depth > 0 && !chk_has_ext(e->name))
		return 0;
	return chk_add_path(ctx, e->path);
}

static void
chk_walk_error(void *ctx, const char *path, const char *what, int errnum, unsigned depth)
{
	struct chk *ck = ctx;

	fprintf(stderr, "ward: %s: %s: %s\n", path, what, strerror(errnum));
	ck->walk_errors++;
}

/* The kind of a problem, for the counts: the message with numbers made N,
 * "uses a skipped rule" for a rule that names one, `import "M"` for an
 * import, "error: ..." for a file that cannot be used. */
static void
chk_kind_of(const char *prefix, const char *msg, char *out, size_t outlen)
{
	size_t n = 0;
	int k = snprintf(out, outlen, "%s", prefix);

	n = k > 0 && (size_t)k < outlen ? (size_t)k : 0;
	for (; *msg != '\0' && n + 1 < outlen; msg++) {
		/* A number, not the digits of a word ("base64"). */
		if (*msg >= '0' && *msg <= '9' &&
		    (n == 0 || !(isalnum((unsigned char)out[n - 1]) || out[n - 1] == '_'))) {
			while (msg[1] >= '0' && msg[1] <= '9')
				msg++;
			out[n++] = 'N';
		} else {
			out[n++] = *msg;
		}
	}
	out[n] = '\0';
}

static void
chk_skip_kind(const struct rules_skipped *s, char *out, size_t outlen)
{
	char pre[300];

	if (s->uses != NULL) {
		snprintf(out, outlen, "uses a skipped rule");
	} else if (s->rule == NULL) {
		snprintf(pre, sizeof(pre), "import \"%s\"", s->module);
		chk_kind_of(pre, "", out, outlen);
	} else {
		chk_kind_of("", s->why.msg, out, outlen);
	}
}

static int
chk_count(struct chk *ck, const char *kind)
{
	size_t i;

	for (i = 0; i < ck->nk; i++)
		if (strcmp(ck->k[i].kind, kind) == 0) {
			ck->k[i].n++;
			return 0;
		}
	if (ward_grow(&ck->k, &ck->capk, ck->nk + 1, sizeof(*ck->k)) != 0 ||
	    (ck->k[ck->nk].kind = strdup(kind)) == NULL)
		return WARD_ENOMEM;
	ck->k[ck->nk++].n = 1;
	return 0;
}

static int
chk_kind_cmp(const void *a, const void *b)
{
	const struct chk_kind *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

/* Totals over the files. */
struct chk_sum {
	size_t ok, skip, failed, rules, rules_skipped, dependent, imports;
};

static json_t *
chk_json(const struct chk *ck, const struct rules_skipped *sk, const struct chk_sum *t, int status)
{
	json_t *root = json_object(), *files = json_array(), *kinds = json_array();
	char kind[600];
	size_t i, j;

	for (i = 0; i < ck->nf; i++) {
		const struct chk_file *f = &ck->f[i];
		json_t *jf = json_object(), *js = json_array();

		json_object_set_new(jf, "path", json_string(f->path));
		json_object_set_new(jf, "status",
				    json_string(f->failed     ? "error"
						: f->sk_n > 0 ? "skip"
							      : "ok"));
		json_object_set_new(jf, "rules", json_integer(f->rules));
		for (j = f->sk_first; j < f->sk_first + f->sk_n; j++) {
			const struct rules_skipped *s = &sk[j];

			chk_skip_kind(s, kind, sizeof(kind));
			json_array_append_new(
			    js, json_pack("{s:s?, s:s?, s:s?, s:s, s:i, s:i, s:s, s:s}", "rule",
					  s->rule, "import", s->module, "uses", s->uses, "file",
					  s->why.file, "line", s->why.line, "col", s->why.col,
					  "message", s->why.msg, "kind", kind));
		}
		json_object_set_new(jf, "skipped", js);
		if (f->failed)
			json_object_set_new(jf, "error",
					    json_pack("{s:s, s:i, s:i, s:s}", "file", f->err.file,
						      "line", f->err.line, "col", f->err.col,
						      "message", f->err.msg));
		json_array_append_new(files, jf);
	}
	for (i = 0; i < ck->nk; i++)
		json_array_append_new(kinds, json_pack("{s:s, s:I}", "kind", ck->k[i].kind, "count",
						       (json_int_t)ck->k[i].n));
	json_object_set_new(root, "files", files);
	json_object_set_new(root, "summary",
			    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "files",
				      (json_int_t)ck->nf, "ok", (json_int_t)t->ok, "skip",
				      (json_int_t)t->skip, "error", (json_int_t)t->failed, "rules",
				      (json_int_t)t->rules, "rules_skipped",
				      (json_int_t)t->rules_skipped, "rules_skipped_dependent",
				      (json_int_t)t->dependent, "imports_skipped",
				      (json_int_t)t->imports, "kinds", kinds));
	json_object_set_new(root, "status", json_integer(status));
	return root;
}

/* Compiles every file into c, one at a time, noting what each gave. */
static int
chk_compile(struct chk *ck, struct rules_compiler *c)
{
	struct ward_diag d;
	size_t i, nsk, before;
	uint32_t n0;
	int r;

	for (i = 0; i < ck->nf; i++) {
		struct chk_file *f = &ck->f[i];

		(void)rules_compiler_skipped(c, &before);
		n0 = rules_compiler_count(c);
		diag_clear(&d);
		r = rules_compiler_add_file(c, f->path, &d);
		if (r == WARD_ENOMEM)
			return r;
		(void)rules_compiler_skipped(c, &nsk);
		f->sk_first = before;
		f->sk_n = nsk - before;
		f->rules = rules_compiler_count(c) - n0;
		if (r != 0) {
			f->failed = 1;
			f->err = d;
			if (f->err.file[0] == '\0')
				snprintf(f->err.file, sizeof(f->err.file), "%s", f->path);
			if (f->err.msg[0] == '\0')
				snprintf(f->err.msg, sizeof(f->err.msg), "%s", ward_strerror(r));
		}
	}
	return 0;
}

static int
rules_check(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"define", required_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rules_compiler *c = NULL;
	const struct rules_skipped *sk = NULL;
	const char **defines = NULL;
	struct walker_opts wo;
	struct ward_diag d;
	struct chk ck;
	struct chk_sum t;
	char kind[600];
	size_t ndefines = 0, nsk = 0, i, j;
	int opt, json = 0, r = EXIT_ERROR, status;
	json_t *root;

	memset(&ck, 0, sizeof(ck));
	memset(&t, 0, sizeof(t));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "f:d:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'f':
			if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0) {
				fprintf(stderr, "ward: rules check: --format is text or json\n");
				goto out;
			}
			json = strcmp(optarg, "json") == 0;
			break;
		case 'd':
			cli_push(&defines, &ndefines, optarg);
			break;
		case 'h':
			rules_usage(stdout);
			r = 0;
			goto out;
		default:
			rules_usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ward: rules check: no DIR or FILE given\n");
		goto out;
	}
	memset(&wo, 0, sizeof(wo));
	wo.file = chk_walk_file;
	wo.error = chk_walk_error;
	wo.ctx = &ck;
	if (walker_run(&wo, (const char *const *)(argv + optind), (size_t)(argc - optind), NULL) !=
	    0) {
		fprintf(stderr, "ward: rules check: out of memory\n");
		goto out;
	}
	if (rules_compiler_new(&c) != 0)
		goto nomem;
	rules_compiler_skip_unsupported(c);
	diag_clear(&d);
	/* As ward scan compiles them: the per-file externals are declared,
	 * and a -d of the same name replaces the declaration. */
	for (i = 0; i < FILEVARS_COUNT; i++)
		if (rules_compiler_define(c, filevars_decl((enum filevars_var)i), &d) != 0) {
			cli_diag(&d);
			goto out;
		}
	for (i = 0; i < ndefines; i++)
		if (rules_compiler_define(c, defines[i], &d) != 0) {
			cli_diag(&d);
			goto out;
		}
	if (chk_compile(&ck, c) != 0)
		goto nomem;
	sk = rules_compiler_skipped(c, &nsk);
	for (i = 0; i < ck.nf; i++) {
		const struct chk_file *f = &ck.f[i];

		t.ok += !f->failed && f->sk_n == 0;
		t.skip += !f->failed && f->sk_n > 0;
		t.failed += f->failed;
		t.rules += f->rules;
		for (j = f->sk_first; j < f->sk_first + f->sk_n; j++) {
			t.rules_skipped += sk[j].rule != NULL;
			t.dependent += sk[j].uses != NULL;
			t.imports += sk[j].rule == NULL;
			chk_skip_kind(&sk[j], kind, sizeof(kind));
			if (chk_count(&ck, kind) != 0)
				goto nomem;
			if (json)
				continue;
			if (sk[j].rule != NULL)
				printf("%s:%d:%d: rule %s: %s\n", sk[j].why.file, sk[j].why.line,
				       sk[j].why.col, sk[j].rule, sk[j].why.msg);
			else
				printf("%s:%d:%d: import \"%s\": %s\n", sk[j].why.file,
				       sk[j].why.line, sk[j].why.col, sk[j].module, sk[j].why.msg);
		}
		if (f->failed) {
			chk_kind_of("error: ", f->err.msg, kind, sizeof(kind));
			if (chk_count(&ck, kind) != 0)
				goto nomem;
			if (!json)
				printf("%s:%d:%d: error: %s\n", f->err.file, f->err.line,
				       f->err.col, f->err.msg);
		}
	}
	if (ck.nk > 1)
		qsort(ck.k, ck.nk, sizeof(*ck.k), chk_kind_cmp);
	status = t.failed > 0 || ck.walk_errors > 0 ? EXIT_ERROR : t.skip > 0 ? 1 : 0;
	if (json) {
		if ((root = chk_json(&ck, sk, &t, status)) == NULL)
			goto nomem;
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(root);
	} else {
		printf("%sfiles: %zu (%zu compile as they are, %zu only with --skip-unsupported, "
		       "%zu cannot be used)\n",
		       ck.nf - t.ok > 0 ? "\n" : "", ck.nf, t.ok, t.skip, t.failed);
		printf("rules: %zu compile, %zu left out by --skip-unsupported (%zu because they "
		       "name a rule left out)\nimports left out: %zu\n",
		       t.rules, t.rules_skipped, t.dependent, t.imports);
		if (ck.nk > 0)
			printf("problems by kind:\n");
		for (i = 0; i < ck.nk; i++)
			printf("%6zu  %s\n", ck.k[i].n, ck.k[i].kind);
	}
	r = status;
	goto out;
nomem:
	fprintf(stderr, "ward: out of memory\n");
	r = EXIT_ERROR;
out:
	rules_compiler_free(c);
	for (i = 0; i < ck.nf; i++)
		free(ck.f[i].path);
	ward_free(ck.f);
	for (i = 0; i < ck.nk; i++)
		free(ck.k[i].kind);
	ward_free(ck.k);
	free(defines);
	return r;
}

int
cmd_rules(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "compile") == 0)
		return rules_compile(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return rules_check(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		rules_usage(stdout);
		return 0;
	}
	rules_usage(stderr);
	return EXIT_ERROR;
}

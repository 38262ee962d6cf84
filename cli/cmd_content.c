/*
 * ward content: build, sign, verify and inspect content bundles
 * (docs/bundle-format.md, docs/content.md).
 *
 * build never writes a bundle that the agent would refuse: the image it
 * makes goes through the same validator, compiler and self-tests as on the
 * agent, then the false-positive corpus and the performance budget; any
 * failure exits 2 with the reason and writes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clamav.h"
#include "content/admit.h"
#include "content/bundle.h"
#include "content/content.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "scan/walker.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/file.h"

static void
content_usage(FILE *f)
{
	fprintf(f, "usage: ward content build SRC_DIR -o FILE [--clean-corpus DIR]\n"
		   "                          [--previous FILE [--max-slowdown X]]\n"
		   "                          [--reference-corpus DIR] [--skip-unsupported]\n"
		   "       ward content sign FILE --key KEY... [-o OUT]\n"
		   "       ward content verify FILE --trust PUB... [--threshold N]\n"
		   "       ward content inspect FILE [--json]\n"
		   "       ward content import-clamav DB... -o DIR [--report] [--allow-unsigned]\n"
		   "\n"
		   "build   reads SRC_DIR/bundle.json and the files it names, compiles the rules\n"
		   "        and hash lists, runs the bundle's tests, scans --clean-corpus (any\n"
		   "        match fails the build), refuses strings that match almost anywhere,\n"
		   "        and with --previous enforces --max-slowdown (default 2.0): scanning\n"
		   "        the reference corpus (default: built-in mixed data) may not be\n"
		   "        slower than X times the previous bundle.  The bundle is unsigned.\n"
		   "        --skip-unsupported (or \"skip_unsupported\": true in bundle.json)\n"
		   "        leaves out each rule that uses what ward does not implement, and\n"
		   "        each rule that names one: each is named on stderr, and its text in\n"
		   "        the bundle's rule file is replaced by a comment that names it.\n"
		   "sign    adds a signature by each private KEY (ward key gen) to FILE\n"
		   "        (or writes the signed bundle to OUT).\n"
		   "verify  checks the signatures against the trusted public keys (at least\n"
		   "        N distinct valid ones, default 1), then compiles the content and\n"
		   "        runs its tests, as the agent does.\n"
		   "inspect shows the manifest, members and signatures (no checks beyond the\n"
		   "        format's).\n"
		   "import-clamav  converts ClamAV databases into a source directory for build\n"
		   "        (see 'ward content import-clamav --help').\n"
		   "\n"
		   "Exit status: 0 success, 2 failure (the reason is printed).\n");
}

/* Prints d as "ward: PREFIX: FILE:LINE:COL: message". */
/* "ward: PREFIX: FILE:LINE:COL: message", PREFIX left out when it is FILE. */
static int
fail(const char *prefix, const struct ward_diag *d)
{
	char buf[1200];

	diag_format(d, buf, sizeof(buf));
	if (strcmp(prefix, d->file) == 0)
		fprintf(stderr, "ward: %s\n", buf);
	else
		fprintf(stderr, "ward: %s: %s\n", prefix, buf);
	return EXIT_ERROR;
}

/* --- build ------------------------------------------------------------- */

struct src_member {
	char *name;
	enum bundle_member_type type;
	uint8_t *data;
	size_t size;
};

struct build {
	const char *src;
	struct src_member m[BUNDLE_MAX_MEMBERS];
	uint32_t n;
};

static void
build_free(struct build *b)
{
	uint32_t i;

	for (i = 0; i < b->n; i++) {
		free(b->m[i].name);
		ward_free(b->m[i].data);
	}
	b->n = 0;
}

/* Adds SRC/name as a member (once: a sample used by two tests is one member). */
static int
add_member(struct build *b, const char *name, enum bundle_member_type type)
{
	struct ward_diag d;
	char path[4096];
	uint32_t i;

	for (i = 0; i < b->n; i++)
		if (strcmp(b->m[i].name, name) == 0) {
			if (b->m[i].type == type)
				return 0;
			fprintf(stderr, "ward: bundle.json: %s is listed as two kinds of file\n",
				name);
			return EXIT_ERROR;
		}
	if (b->n == BUNDLE_MAX_MEMBERS) {
		fprintf(stderr, "ward: bundle.json: more than %u files\n", BUNDLE_MAX_MEMBERS);
		return EXIT_ERROR;
	}
	snprintf(path, sizeof(path), "%s/%s", b->src, name);
	diag_clear(&d);
	if (file_read_all(path, (size_t)BUNDLE_MAX_MEMBER_SIZE, &b->m[b->n].data, &b->m[b->n].size,
			  &d) != 0)
		return fail("bundle.json", &d);
	b->m[b->n].name = strdup(name);
	b->m[b->n].type = type;
	if (b->m[b->n].name == NULL) {
		ward_free(b->m[b->n].data);
		return EXIT_ERROR;
	}
	b->n++;
	return 0;
}

static int src_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
src_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ward: bundle.json: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return EXIT_ERROR;
}

/* Adds the files of a list of paths ("rules", "hashes") from bundle.json. */
static int
add_list(struct build *b, json_t *src, const char *key, enum bundle_member_type type)
{
	json_t *arr = json_object_get(src, key), *v;
	size_t i;
	int r;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return src_error("\"%s\" must be a list of file names", key);
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return src_error("\"%s\" must be a list of file names", key);
		if ((r = add_member(b, json_string_value(v), type)) != 0)
			return r;
	}
	return 0;
}

static void
print_dropped(void *arg, const struct rules_skipped *s)
{
	(void)arg;
	cli_print_skipped(s);
}

/* --skip-unsupported: rewrites the rule members without the rules ward
 * cannot compile (content_drop_unsupported), before the manifest is made. */
static int
build_drop_unsupported(struct build *b, size_t *ndropped)
{
	struct content_src srcs[BUNDLE_MAX_MEMBERS];
	struct ward_diag d;
	uint32_t i, n = 0;
	int r;

	for (i = 0; i < b->n; i++) {
		if (b->m[i].type != BM_YARA)
			continue;
		srcs[n].name = b->m[i].name;
		srcs[n].data = b->m[i].data;
		srcs[n].size = b->m[i].size;
		n++;
	}
	r = content_drop_unsupported(srcs, n, print_dropped, NULL, ndropped, &d);
	/* Sources are rewritten in place even on failure: take them back. */
	for (i = 0, n = 0; i < b->n; i++) {
		if (b->m[i].type != BM_YARA)
			continue;
		b->m[i].data = srcs[n].data;
		b->m[i].size = srcs[n].size;
		n++;
	}
	return r != 0 ? fail("compile", &d) : 0;
}

/* The manifest for the source description and the members read. */
static char *
make_manifest(json_t *src, const struct build *b, json_t **tests_out)
{
	json_t *man = json_object(), *members = json_array(), *tests, *v;
	char created[21], hex[65];
	uint8_t md[32];
	uint32_t i;
	char *out;

	bundle_format_time((int64_t)time(NULL), created);
	json_object_set_new(man, "format", json_integer(BUNDLE_FORMAT));
	json_object_set(man, "name", json_object_get(src, "name"));
	json_object_set(man, "version", json_object_get(src, "version"));
	json_object_set_new(man, "created", json_string(created));
	json_object_set(man, "expires", json_object_get(src, "expires"));
	v = json_object_get(src, "min_agent_version");
	json_object_set_new(man, "min_agent_version",
			    v != NULL ? json_incref(v) : json_string(WARD_VERSION));
	for (i = 0; i < b->n; i++) {
		digest_buf(DIGEST_SHA256, b->m[i].data, b->m[i].size, md, sizeof(md));
		digest_to_hex(md, 32, hex, sizeof(hex));
		json_array_append_new(members,
				      json_pack("{s:s, s:s, s:I, s:s}", "name", b->m[i].name,
						"type", bundle_member_type_name(b->m[i].type),
						"size", (json_int_t)b->m[i].size, "sha256", hex));
	}
	json_object_set_new(man, "members", members);
	tests = json_object_get(src, "tests");
	json_object_set_new(man, "tests", tests != NULL ? json_deep_copy(tests) : json_array());
	*tests_out = json_object_get(man, "tests");
	/* Missing keys (a NULL value is not set) are caught by the validator,
	 * with its message. */
	out = json_dumps(man, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(man);
	return out;
}

/* Deterministic mixed data (zeros, random bytes, text, 0xff) for the cost
 * checks when no reference corpus is given: 4 MiB. */
static uint8_t *
synthetic_reference(size_t *len)
{
	static const char words[] =
	    "the of and to in is was for on that with as by at from this be or are an "
	    "function return include static void int char data error file path user ";
	size_t n = (size_t)4 << 20, q = n / 4, i, w = 0;
	uint8_t *p = ward_malloc(n);
	uint32_t x = 2463534242u;

	if (p == NULL)
		return NULL;
	memset(p, 0, q);
	for (i = q; i < 2 * q; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	for (i = 2 * q; i < 3 * q; i++) {
		p[i] = (uint8_t)words[w];
		w = (w + 1) % (sizeof(words) - 1);
		if (words[w] == ' ' && (x = x * 1103515245u + 12345u) % 7 == 0)
			w = (x >> 8) % (sizeof(words) - 1);
	}
	memset(p + 3 * q, 0xff, n - 3 * q);
	*len = n;
	return p;
}

/* What the clean corpus and the timing runs need. */
struct corpus_run {
	const struct content_set *cs;
	struct matcher_scratch *s;
	const char *hit_path; /* first file with a match */
	char hit[512];
	uint64_t files;
};

static int
corpus_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct corpus_run *c = arg;

	(void)s;
	if (c->hit[0] == '\0')
		snprintf(c->hit, sizeof(c->hit), "%s",
			 rule == UINT32_MAX ? hash_name
					    : ruleset_report_name(&c->cs->rs->rules[rule]));
	return 0;
}

static int
corpus_file(void *ctx, const struct walker_entry *e)
{
	struct corpus_run *c = ctx;
	int fd = openat(e->dirfd, e->name, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return 0;
	c->hit[0] = '\0';
	r = matcher_scan_fd(c->cs->m, c->s, fd, (uint64_t)e->st->st_size, corpus_report, c, NULL);
	close(fd);
	c->files++;
	if (r == 0 && c->hit[0] != '\0') {
		fprintf(stderr, "ward: false positive: %s: %s\n", e->path, c->hit);
		c->hit_path = "yes";
	}
	return 0;
}

/* Scans dir (or the synthetic data) with cs; returns seconds, or < 0. */
static double
corpus_scan(const struct content_set *cs, const char *dir, const uint8_t *syn, size_t synlen,
	    struct corpus_run *c)
{
	struct walker_opts wo;
	struct timespec t0, t1;
	const char *paths[1] = {dir};
	int r;

	memset(c, 0, sizeof(*c));
	c->cs = cs;
	if (matcher_scratch_new(cs->m, &c->s) != 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (dir != NULL) {
		memset(&wo, 0, sizeof(wo));
		wo.file = corpus_file;
		wo.ctx = c;
		r = walker_run(&wo, paths, 1, NULL);
	} else {
		r = matcher_scan_buf(cs->m, c->s, syn, synlen, NULL, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	matcher_scratch_free(c->s);
	c->s = NULL;
	if (r != 0)
		return -1;
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* Best of three scans of the reference data (seconds). */
static double
corpus_time(const struct content_set *cs, const char *dir, const uint8_t *syn, size_t synlen)
{
	struct corpus_run c;
	double best = -1, t;
	int i;

	for (i = 0; i < 3; i++) {
		t = corpus_scan(cs, dir, syn, synlen, &c);
		if (t < 0)
			return -1;
		if (best < 0 || t < best)
			best = t;
	}
	return best;
}

/*
 * Refuses strings that match almost anywhere: more than one match per
 * 64 bytes of the synthetic data makes every scan slow for no signal.
 */
static int
check_costs(const struct content_set *cs, const uint8_t *syn, size_t synlen)
{
	struct matcher_scratch *s = NULL;
	uint32_t i, bad = 0;

	if (cs->rs == NULL || cs->rs->nstrings == 0)
		return 0;
	if (matcher_scratch_new(cs->m, &s) != 0 ||
	    matcher_scan_buf(cs->m, s, syn, synlen, NULL, NULL) != 0) {
		matcher_scratch_free(s);
		fprintf(stderr, "ward: cannot run the cost check\n");
		return EXIT_ERROR;
	}
	for (i = 0; i < cs->rs->nstrings; i++) {
		const struct rs_string *st = &cs->rs->strings[i];
		uint32_t n = matcher_matches(s, i)->n;

		if ((uint64_t)n * 64 > synlen) {
			fprintf(stderr,
				"ward: rule \"%s\": string %s matches %u times in %zu KiB of "
				"reference data; a string that matches almost anywhere slows every "
				"scan: make it longer or more specific\n",
				cs->rs->rules[st->rule].name, st->id, n, synlen >> 10);
			bad++;
		}
	}
	matcher_scratch_free(s);
	return bad ? EXIT_ERROR : 0;
}

/*
 * The build's self-check: the built, unsigned image w through the one
 * admission path, newer than the --previous bundle's version (0: none).
 * 0 with the bundle and its compiled content moved to *bun and *cs, or
 * EXIT_ERROR having said why.
 */
static int
build_admit(const struct wbuf *w, int64_t prev_version, struct bundle **bun, struct content_set *cs)
{
	struct admit_policy pol;
	struct admit_verdict v;
	int r = EXIT_ERROR;

	memset(&pol, 0, sizeof(pol));
	pol.unsigned_ok = 1;
	pol.newer_than = prev_version;
	pol.compile = admit_compile_here;
	pol.run_tests = 1;
	if (content_admit(w->p, w->len, &pol, &v) != 0) {
		if (v.cause == ADMIT_VERSION)
			fprintf(stderr,
				"ward: version %lld is not greater than the previous bundle's "
				"(%lld): agents would refuse it\n",
				(long long)v.bundle->version, (long long)prev_version);
		else
			fail(v.cause == ADMIT_FORMAT ? "bundle.json" : v.check, &v.diag);
		goto out;
	}
	*bun = v.bundle;
	v.bundle = NULL;
	*cs = v.cs;
	memset(&v.cs, 0, sizeof(v.cs));
	r = 0;
out:
	admit_verdict_free(&v);
	return r;
}

static int
content_build(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"clean-corpus", required_argument, NULL, 'c'},
	    {"previous", required_argument, NULL, 'p'},
	    {"max-slowdown", required_argument, NULL, 'x'},
	    {"reference-corpus", required_argument, NULL, 'r'},
	    {"skip-unsupported", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const src_keys[] = {
	    "name",	  "version", "expires",		 "min_agent_version",
	    "rules",	  "hashes",  "process_rules",	 "fim",
	    "exceptions", "tests",   "skip_unsupported", NULL};
	const char *out = NULL, *clean = NULL, *prev_path = NULL, *ref = NULL;
	double max_slowdown = 2.0;
	struct build *b = calloc(1, sizeof(*b));
	struct content_set cs, pcs;
	struct bundle *bun = NULL, *prev = NULL;
	struct corpus_run cr;
	struct ward_diag d;
	json_error_t je;
	FILE *fp;
	json_t *src = NULL, *tests = NULL, *v;
	char path[4096], *man = NULL, *endp;
	uint8_t *syn = NULL;
	size_t synlen = 0, i, k, ndropped = 0;
	int skip = 0;
	struct wbuf w;
	const char *key;
	int c, r = EXIT_ERROR;

	memset(&cs, 0, sizeof(cs));
	memset(&pcs, 0, sizeof(pcs));
	wbuf_init(&w);
	if (b == NULL)
		return EXIT_ERROR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			clean = optarg;
			break;
		case 'p':
			prev_path = optarg;
			break;
		case 'r':
			ref = optarg;
			break;
		case 'S':
			skip = 1;
			break;
		case 'x':
			max_slowdown = strtod(optarg, &endp);
			if (*endp != '\0' || !(max_slowdown >= 1.0)) {
				fprintf(stderr, "ward: --max-slowdown must be a number >= 1\n");
				goto out;
			}
			break;
		case 'h':
			content_usage(stdout);
			r = 0;
			goto out;
		default:
			content_usage(stderr);
			goto out;
		}
	}
	if (out == NULL || optind != argc - 1) {
		content_usage(stderr);
		goto out;
	}
	b->src = argv[optind];
	snprintf(path, sizeof(path), "%s/bundle.json", b->src);
	if ((fp = fopen(path, "re")) == NULL) {
		fprintf(stderr, "ward: %s: %s\n", path, strerror(errno));
		goto out;
	}
	src = json_loadf(fp, JSON_REJECT_DUPLICATES, &je);
	fclose(fp);
	if (src == NULL) {
		fprintf(stderr, "ward: %s:%d:%d: %s\n", path, je.line, je.column, je.text);
		goto out;
	}
	if (!json_is_object(src)) {
		src_error("%s must hold a JSON object", path);
		goto out;
	}
	json_object_foreach(src, key, v)
	{
		for (k = 0; src_keys[k] != NULL && strcmp(src_keys[k], key) != 0; k++)
			;
		if (src_keys[k] == NULL) {
			src_error("unknown key \"%s\"", key);
			goto out;
		}
	}
	if (add_list(b, src, "rules", BM_YARA) != 0 || add_list(b, src, "hashes", BM_HASHES) != 0 ||
	    add_list(b, src, "process_rules", BM_SIGMA) != 0 ||
	    add_list(b, src, "fim", BM_FIM) != 0 ||
	    add_list(b, src, "exceptions", BM_EXCEPTIONS) != 0)
		goto out;
	v = json_object_get(src, "skip_unsupported");
	if (v != NULL && !json_is_boolean(v)) {
		src_error("\"skip_unsupported\" must be true or false");
		goto out;
	}
	if (v != NULL && json_is_true(v))
		skip = 1;
	if (skip && build_drop_unsupported(b, &ndropped) != 0)
		goto out;
	tests = json_object_get(src, "tests");
	if (tests != NULL && !json_is_array(tests)) {
		src_error("\"tests\" must be a list of {\"sample\", \"expect\"}");
		goto out;
	}
	json_array_foreach(tests, i, v)
	{
		json_t *s = json_is_object(v) ? json_object_get(v, "sample") : NULL;

		if (!json_is_string(s)) {
			src_error("each test needs a \"sample\" file name");
			goto out;
		}
		if (add_member(b, json_string_value(s), BM_SAMPLE) != 0)
			goto out;
	}
	man = make_manifest(src, b, &tests);
	if (man == NULL)
		goto out;
	{
		struct bundle_member *mem = calloc(b->n + 1, sizeof(*mem));

		if (mem == NULL)
			goto out;
		for (i = 0; i < b->n; i++) {
			mem[i].data = b->m[i].data;
			mem[i].size = b->m[i].size;
		}
		k = (size_t)bundle_serialize((const uint8_t *)man, strlen(man), NULL, 0, mem, b->n,
					     &w);
		free(mem);
		if (k != 0) {
			fprintf(stderr, "ward: the manifest is too large\n");
			goto out;
		}
	}
	if (prev_path != NULL && bundle_read(prev_path, &prev, &d) != 0) {
		fail(prev_path, &d);
		goto out;
	}
	/* From here on, exactly what an agent does with the file (but for the
	 * signatures it does not have yet, and the agent's time and version). */
	if (build_admit(&w, prev != NULL ? prev->version : 0, &bun, &cs) != 0)
		goto out;
	fprintf(stderr,
		"ward: %u rules, %zu hash signatures, %zu process rules, %u FIM paths, %u "
		"exceptions; %u tests passed\n",
		cs.rs != NULL ? cs.rs->nrules : 0, cs.hs != NULL ? hashsig_count(cs.hs) : 0,
		cs.sigma != NULL ? sigma_set_count(cs.sigma) : 0, cs.fim.npaths, cs.exc.n,
		bun->ntests);
	if (skip)
		fprintf(stderr,
			"ward: %zu rules left out (--skip-unsupported), each named above and in a "
			"comment in its rule file\n",
			ndropped);
	if ((syn = synthetic_reference(&synlen)) == NULL || check_costs(&cs, syn, synlen) != 0)
		goto out;
	if (clean != NULL) {
		if (corpus_scan(&cs, clean, NULL, 0, &cr) < 0) {
			fprintf(stderr, "ward: %s: cannot scan the clean corpus\n", clean);
			goto out;
		}
		if (cr.hit_path != NULL) {
			fprintf(stderr, "ward: the clean corpus has matches: build refused\n");
			goto out;
		}
		fprintf(stderr, "ward: clean corpus: %llu files, no match\n",
			(unsigned long long)cr.files);
	}
	if (prev_path != NULL) {
		double tp, tn;

		if (content_compile(prev, &pcs, &d) != 0) {
			fail(prev_path, &d);
			goto out;
		}
		tp = corpus_time(&pcs, ref, syn, synlen);
		tn = corpus_time(&cs, ref, syn, synlen);
		if (tp < 0 || tn < 0) {
			fprintf(stderr, "ward: cannot scan the reference corpus\n");
			goto out;
		}
		fprintf(stderr,
			"ward: reference scan: previous %.3f s, new %.3f s (%.2fx, limit %.2fx)\n",
			tp, tn, tp > 0 ? tn / tp : 1.0, max_slowdown);
		/* Below a millisecond, timer noise decides: not a verdict. */
		if (tn > 0.001 && tn > tp * max_slowdown) {
			fprintf(stderr,
				"ward: the new content scans %.2fx slower than the previous "
				"one (limit %.2fx): build refused\n",
				tn / tp, max_slowdown);
			goto out;
		}
	}
	diag_clear(&d);
	if (file_replace(out, w.p, w.len, 0644, &d) != 0) {
		fail(out, &d);
		goto out;
	}
	fprintf(stderr, "ward: wrote %s: %s version %lld, %u files, %zu bytes (unsigned)\n", out,
		bun->name, (long long)bun->version, bun->nmembers, w.len);
	r = 0;
out:
	content_set_free(&cs);
	content_set_free(&pcs);
	bundle_free(bun);
	bundle_free(prev);
	ward_free(syn);
	free(man);
	json_decref(src);
	wbuf_free(&w);
	build_free(b);
	free(b);
	return r;
}

/* --- sign, verify, inspect -------------------------------------------- */

static int
content_sign(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char **keys = NULL, *out = NULL, *file;
	size_t nkeys = 0, i;
	struct bundle *b = NULL;
	struct sign_key *k;
	struct ward_diag d;
	struct wbuf w;
	char id[2 * SIGN_KEY_ID_SIZE + 1];
	int c, r = EXIT_ERROR;

	wbuf_init(&w);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		if (c == 'k')
			cli_push(&keys, &nkeys, optarg);
		else if (c == 'o')
			out = optarg;
		else if (c == 'h') {
			content_usage(stdout);
			r = 0;
			goto out;
		} else {
			content_usage(stderr);
			goto out;
		}
	}
	if (nkeys == 0 || optind != argc - 1) {
		content_usage(stderr);
		goto out;
	}
	file = argv[optind];
	if (bundle_read(file, &b, &d) != 0) {
		fail(file, &d);
		goto out;
	}
	for (i = 0; i < nkeys; i++) {
		if ((k = cli_load_key(keys[i], 1)) == NULL)
			goto out;
		diag_clear(&d);
		if (bundle_sign(b, k, &d) != 0) {
			sign_key_free(k);
			fail(keys[i], &d);
			goto out;
		}
		sign_key_id_hex(k, id);
		fprintf(stderr, "ward: signed with %s key %s\n", sign_alg_name(sign_key_alg(k)),
			id);
		sign_key_free(k);
	}
	if (bundle_image(b, &w) != 0 ||
	    file_replace(out != NULL ? out : file, w.p, w.len, 0644, &d) != 0) {
		fail(out != NULL ? out : file, &d);
		goto out;
	}
	r = 0;
out:
	wbuf_free(&w);
	bundle_free(b);
	free(keys);
	return r;
}

static int
content_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"trust", required_argument, NULL, 't'},
	    {"threshold", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char **trust = NULL, *file;
	struct sign_key **keys = NULL;
	size_t ntrust = 0, i;
	unsigned threshold = 1;
	struct admit_policy pol;
	struct admit_verdict av;
	uint8_t *data = NULL;
	size_t len = 0;
	struct ward_diag d;
	char *endp;
	long v;
	int c, r = EXIT_ERROR;

	memset(&av, 0, sizeof(av));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 't') {
			cli_push(&trust, &ntrust, optarg);
		} else if (c == 'n') {
			v = strtol(optarg, &endp, 10);
			if (*endp != '\0' || v < 1 || v > (long)BUNDLE_MAX_SIGNATURES) {
				fprintf(stderr, "ward: --threshold must be 1..%u\n",
					BUNDLE_MAX_SIGNATURES);
				goto out;
			}
			threshold = (unsigned)v;
		} else if (c == 'h') {
			content_usage(stdout);
			r = 0;
			goto out;
		} else {
			content_usage(stderr);
			goto out;
		}
	}
	if (ntrust == 0 || optind != argc - 1) {
		content_usage(stderr);
		goto out;
	}
	file = argv[optind];
	keys = calloc(ntrust, sizeof(*keys));
	for (i = 0; keys != NULL && i < ntrust; i++)
		if ((keys[i] = cli_load_key(trust[i], 0)) == NULL)
			goto out;
	if (file_read_all(file, (size_t)BUNDLE_MAX_SIZE, &data, &len, &d) != 0) {
		fail(file, &d);
		goto out;
	}
	memset(&pol, 0, sizeof(pol));
	pol.trusted = keys;
	pol.ntrusted = ntrust;
	pol.threshold = threshold;
	pol.compile = admit_compile_here;
	pol.run_tests = 1;
	if (content_admit(data, len, &pol, &av) != 0) {
		fail(av.cause == ADMIT_FORMAT || av.cause == ADMIT_SIGNATURE ? file : av.check,
		     &av.diag);
		goto out;
	}
	printf("%s: %s version %lld: %u valid signature%s (threshold %u), %u tests passed\n", file,
	       av.bundle->name, (long long)av.bundle->version, av.valid, av.valid == 1 ? "" : "s",
	       threshold, av.bundle->ntests);
	r = 0;
out:
	admit_verdict_free(&av);
	ward_free(data);
	for (i = 0; keys != NULL && i < ntrust; i++)
		sign_key_free(keys[i]);
	free(keys);
	free(trust);
	return r;
}

static int
content_inspect(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bundle *b = NULL;
	struct ward_diag d;
	char t1[21], t2[21], hex[65], id[33];
	json_t *o, *arr;
	uint32_t i, j;
	int c, json = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			content_usage(stdout);
			return 0;
		} else {
			content_usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind != argc - 1) {
		content_usage(stderr);
		return EXIT_ERROR;
	}
	if (bundle_read(argv[optind], &b, &d) != 0)
		return fail(argv[optind], &d);
	bundle_format_time(b->created, t1);
	bundle_format_time(b->expires, t2);
	if (json) {
		o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I}", "name", b->name, "version",
			      (json_int_t)b->version, "created", t1, "expires", t2,
			      "min_agent_version", b->min_agent_version, "size",
			      (json_int_t)b->rawlen);
		arr = json_array();
		for (i = 0; i < b->nmembers; i++) {
			digest_to_hex(b->members[i].sha256, 32, hex, sizeof(hex));
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:I, s:s}", "name", b->members[i].name,
					   "type", bundle_member_type_name(b->members[i].type),
					   "size", (json_int_t)b->members[i].size, "sha256", hex));
		}
		json_object_set_new(o, "members", arr);
		arr = json_array();
		for (i = 0; i < b->ntests; i++) {
			json_t *ex = json_array();

			for (j = 0; j < b->tests[i].nexpect; j++)
				json_array_append_new(ex, json_string(b->tests[i].expect[j]));
			json_array_append_new(arr, json_pack("{s:s, s:o}", "sample",
							     b->members[b->tests[i].sample].name,
							     "expect", ex));
		}
		json_object_set_new(o, "tests", arr);
		arr = json_array();
		for (i = 0; i < b->nsigs; i++) {
			digest_to_hex(b->sigs[i].key_id, SIGN_KEY_ID_SIZE, id, sizeof(id));
			json_array_append_new(arr, json_pack("{s:s, s:s}", "alg",
							     sign_alg_name(b->sigs[i].alg),
							     "key_id", id));
		}
		json_object_set_new(o, "signatures", arr);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	} else {
		printf(
		    "name:              %s\nversion:           %lld\ncreated:           %s\n"
		    "expires:           %s\nmin_agent_version: %s\nsize:              %zu bytes\n",
		    b->name, (long long)b->version, t1, t2, b->min_agent_version, b->rawlen);
		printf("members:\n");
		for (i = 0; i < b->nmembers; i++) {
			digest_to_hex(b->members[i].sha256, 32, hex, sizeof(hex));
			printf("  %-7s %10llu  %.16s…  %s\n",
			       bundle_member_type_name(b->members[i].type),
			       (unsigned long long)b->members[i].size, hex, b->members[i].name);
		}
		printf("tests:\n");
		for (i = 0; i < b->ntests; i++) {
			printf("  %s:", b->members[b->tests[i].sample].name);
			for (j = 0; j < b->tests[i].nexpect; j++)
				printf(" %s", b->tests[i].expect[j]);
			printf("%s\n", b->tests[i].nexpect == 0 ? " (must match nothing)" : "");
		}
		printf("signatures:%s\n", b->nsigs == 0 ? " none" : "");
		for (i = 0; i < b->nsigs; i++) {
			digest_to_hex(b->sigs[i].key_id, SIGN_KEY_ID_SIZE, id, sizeof(id));
			printf("  %-7s key %s\n", sign_alg_name(b->sigs[i].alg), id);
		}
	}
	bundle_free(b);
	return 0;
}

int
cmd_content(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "build") == 0)
		return content_build(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "import-clamav") == 0)
		return cli_import_clamav(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "sign") == 0)
		return content_sign(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "verify") == 0)
		return content_verify(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "inspect") == 0)
		return content_inspect(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		content_usage(stdout);
		return 0;
	}
	content_usage(stderr);
	return EXIT_ERROR;
}

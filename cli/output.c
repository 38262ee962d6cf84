/*
 * output: reporting for `ward scan`.  Every line is written under one lock
 * so that lines from different threads never interleave.  A rule's meta is
 * shown with its types (string, integer, boolean) as the rule has them:
 * typed JSON values, and yara -m's KEY="STRING",KEY=INT,KEY=true in text.
 */
#include "output.h"

#include "util/alloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Matches listed per string in JSON output; the count is always exact. */
#define OUT_MAX_JSON_MATCHES 1000

double
out_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
out_init(struct out *o, enum out_format format, int quiet, const struct ruleset *rs)
{
	memset(o, 0, sizeof(*o));
	o->format = format;
	o->quiet = quiet;
	o->rs = rs;
	o->rules_skipped = -1;
	pthread_mutex_init(&o->lock, NULL);
	o->start = out_now();
}

void
out_fini(struct out *o)
{
	pthread_mutex_destroy(&o->lock);
}

/* Clears the progress line before other output is written (lock held). */
static void
out_clear_progress(struct out *o)
{
	if (o->progress)
		fputs("\r\033[K", stderr);
}

/*
 * A JSON string for text that may not be UTF-8 (file names are bytes):
 * each byte that is not part of valid UTF-8 is written as the four
 * characters \xHH, so nothing is dropped and the output stays valid JSON.
 */
static json_t *
out_json_text(const char *t)
{
	json_t *j = json_string(t);
	size_t n, i, o = 0;
	char *buf;

	if (j != NULL)
		return j;
	n = strlen(t);
	buf = malloc(n * 4 + 1);
	if (buf == NULL)
		return json_string("");
	for (i = 0; i < n;) {
		const unsigned char *u = (const unsigned char *)t + i;
		size_t len = u[0] < 0x80	     ? 1
			     : (u[0] & 0xe0) == 0xc0 ? 2
			     : (u[0] & 0xf0) == 0xe0 ? 3
			     : (u[0] & 0xf8) == 0xf0 ? 4
						     : 0;
		json_t *probe = NULL;

		if (len > 0 && i + len <= n) {
			probe = json_stringn(t + i, len);
			json_decref(probe);
		}
		if (probe != NULL) {
			memcpy(buf + o, t + i, len);
			o += len;
			i += len;
		} else {
			o += (size_t)sprintf(buf + o, "\\x%02x", u[0]);
			i++;
		}
	}
	buf[o] = '\0';
	j = json_string(buf);
	free(buf);
	return j != NULL ? j : json_string("");
}

static void
out_json_line(json_t *obj)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (s != NULL) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

/*
 * The rule's meta as one object of typed values.  A key given twice keeps
 * its last value, as yara-python's match.meta does.
 */
static json_t *
out_meta_json(const struct rs_rule *r)
{
	json_t *meta = json_object();
	uint32_t i;

	for (i = 0; i < r->nmeta; i++) {
		const struct rs_meta *m = &r->meta[i];
		json_t *v = m->type == RS_STR	 ? out_json_text(m->s != NULL ? m->s : "")
			    : m->type == RS_BOOL ? json_boolean(m->i != 0)
						 : json_integer((json_int_t)m->i);

		json_object_set_new(meta, m->key, v);
	}
	return meta;
}

/*
 * The meta as yara -m prints it: [KEY="STRING",KEY=INT,KEY=true], with
 * yara's escapes in strings (\" \' \\, \a \b \t \n \v \f \r, other bytes
 * outside printable ASCII as \ooo), so that the line stays one line (lock
 * held).  yara 4.2 writes "KEY =INT"; ward leaves the space out.
 */
static void
out_meta_text(const struct rs_rule *r)
{
	uint32_t i;

	fputc('[', stdout);
	for (i = 0; i < r->nmeta; i++) {
		const struct rs_meta *m = &r->meta[i];
		const unsigned char *c;

		printf("%s%s=", i > 0 ? "," : "", m->key);
		if (m->type == RS_BOOL) {
			fputs(m->i ? "true" : "false", stdout);
			continue;
		}
		if (m->type == RS_INT) {
			printf("%lld", (long long)m->i);
			continue;
		}
		fputc('"', stdout);
		for (c = (const unsigned char *)(m->s != NULL ? m->s : ""); *c != '\0'; c++) {
			const char *named = *c >= '\a' && *c <= '\r' ? &"abtnvfr"[*c - '\a'] : NULL;

			if (*c == '"' || *c == '\'' || *c == '\\')
				printf("\\%c", *c);
			else if (named != NULL)
				printf("\\%c", *named);
			else if (*c < 0x20 || *c > 0x7e)
				printf("\\%03o", *c);
			else
				fputc(*c, stdout);
		}
		fputc('"', stdout);
	}
	fputc(']', stdout);
}

static json_t *
out_rule_json(const struct out_file *f, const struct matcher_scratch *s, uint32_t rule)
{
	const struct rs_rule *r = &f->o->rs->rules[rule];
	json_t *obj = json_object(), *tags = json_array(), *strs = json_array();
	uint32_t i, j;

	json_object_set_new(obj, "path", out_json_text(f->path));
	json_object_set_new(obj, "rule", json_string(ruleset_report_name(r)));
	for (i = 0; i < r->ntags; i++)
		json_array_append_new(tags, json_string(r->tags[i]));
	json_object_set_new(obj, "tags", tags);
	json_object_set_new(obj, "namespace", json_string(r->ns));
	for (i = r->str_first; i < r->str_first + r->str_count; i++) {
		const struct rs_string *st = &f->o->rs->strings[i];
		const struct rs_matches *l = matcher_matches(s, i);

		if (pattern_flags(st->pat) & PATTERN_PRIVATE)
			continue;
		for (j = 0; j < l->n && j < OUT_MAX_JSON_MATCHES; j++) {
			json_t *m = json_object();

			json_object_set_new(m, "id", json_string(st->id));
			json_object_set_new(m, "offset", json_integer((json_int_t)l->m[j].off));
			json_object_set_new(m, "length", json_integer(l->m[j].len));
			json_array_append_new(strs, m);
		}
	}
	json_object_set_new(obj, "strings", strs);
	json_object_set_new(obj, "meta", out_meta_json(r));
	return obj;
}

char *
out_member_path(const char *path, const struct container_where *where, int escape)
{
	size_t len = strlen(path) + 1, o;
	unsigned i;
	char *p;

	for (i = 0; where != NULL && i < where->n; i++)
		len += 2 + strlen(where->chain[i]) * (escape ? 4 : 1);
	if ((p = ward_malloc(len)) == NULL)
		return NULL;
	o = (size_t)sprintf(p, "%s", path);
	for (i = 0; where != NULL && i < where->n; i++) {
		const unsigned char *c;

		p[o++] = '/';
		p[o++] = '/';
		for (c = (const unsigned char *)where->chain[i]; *c != '\0'; c++) {
			if (escape && (*c < 0x20 || *c == 0x7f))
				o += (size_t)sprintf(p + o, "\\x%02x", *c);
			else
				p[o++] = (char)*c;
		}
	}
	p[o] = '\0';
	return p;
}

static json_t *
out_member_json(const struct container_where *where)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < where->n; i++)
		json_array_append_new(a, out_json_text(where->chain[i]));
	return a;
}

int
out_report_member(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name,
		  const struct container_where *where)
{
	struct out_file *f = arg;
	struct out *o = f->o;
	json_t *obj = NULL;
	char *mpath = NULL;
	const char *path = f->path;

	f->matched = 1;
	f->nmatches++;
	atomic_fetch_add(&o->matches, 1);
	if (o->format == OUT_JSON) {
		if (hash_name != NULL) {
			obj = json_object();
			json_object_set_new(obj, "path", out_json_text(f->path));
			json_object_set_new(obj, "rule", json_string(hash_name));
			json_object_set_new(obj, "tags", json_array());
			json_object_set_new(obj, "namespace", json_string("hash"));
			json_object_set_new(obj, "strings", json_array());
			json_object_set_new(obj, "meta", json_object());
		} else {
			obj = out_rule_json(f, s, rule);
		}
		if (where != NULL && where->n > 0)
			json_object_set_new(obj, "member", out_member_json(where));
	} else if (where != NULL && where->n > 0) {
		if ((mpath = out_member_path(f->path, where, 1)) != NULL)
			path = mpath;
	}
	pthread_mutex_lock(&o->lock);
	out_clear_progress(o);
	if (obj != NULL) {
		out_json_line(obj);
	} else if (o->print_meta) {
		printf("%s: %s ", path,
		       hash_name != NULL ? hash_name : ruleset_report_name(&o->rs->rules[rule]));
		if (hash_name != NULL)
			fputs("[]", stdout);
		else
			out_meta_text(&o->rs->rules[rule]);
		fputs(" FOUND\n", stdout);
	} else {
		printf("%s: %s FOUND\n", path,
		       hash_name != NULL ? hash_name : ruleset_report_name(&o->rs->rules[rule]));
	}
	pthread_mutex_unlock(&o->lock);
	json_decref(obj);
	ward_free(mpath);
	return 0;
}

int
out_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	return out_report_member(arg, s, rule, hash_name, NULL);
}

/* What a note is called on stderr. */
static const char *const out_note_text[CONTAINER_NOTE_COUNT] = {
    [CONTAINER_TOTAL] = "archive limit reached: bytes extracted (--max-scansize)",
    [CONTAINER_MEMBER] = "archive member not scanned: larger than --max-membersize",
    [CONTAINER_FILES] = "archive limit reached: members (--max-files)",
    [CONTAINER_RATIO] = "archive limit reached: compression ratio (--max-ratio)",
    [CONTAINER_DEPTH] = "archive not opened: nested deeper than --max-depth",
    [CONTAINER_TIME] = "archive limit reached: time (--max-scantime)",
    [CONTAINER_MEMORY] = "archive not read further: its decompressor ran out of memory",
    [CONTAINER_ENCRYPTED] = "archive member not scanned: encrypted",
    [CONTAINER_DAMAGED] = "archive not read further: damaged",
};

void
out_note(void *arg, enum container_note n, const struct container_where *where, const char *format)
{
	struct out_file *f = arg;
	struct out *o = f->o;
	const char *heur = container_note_heuristic(n, format);
	int alert = heur != NULL && ((n < CONTAINER_NLIMITS && o->alert_exceeds) ||
				     (n == CONTAINER_ENCRYPTED && o->alert_encrypted));
	json_t *obj = NULL, *match = NULL;
	char *mpath = NULL;

	if ((unsigned)n >= CONTAINER_NOTE_COUNT)
		return;
	atomic_fetch_add(&o->notes[n], 1);
	if (alert) {
		f->matched = 1;
		f->nmatches++;
		atomic_fetch_add(&o->matches, 1);
	}
	if (o->format == OUT_JSON) {
		obj = json_object();
		json_object_set_new(obj, "path", out_json_text(f->path));
		json_object_set_new(obj, "member", out_member_json(where));
		json_object_set_new(obj, n < CONTAINER_NLIMITS ? "limit" : "notice",
				    json_string(container_note_word(n)));
		if (alert) {
			match = json_pack("{s:o, s:s, s:[], s:s, s:[], s:{}}", "path",
					  out_json_text(f->path), "rule", heur, "tags", "namespace",
					  "heuristics", "strings", "meta");
			if (match != NULL && where->n > 0)
				json_object_set_new(match, "member", out_member_json(where));
		}
	} else {
		mpath = out_member_path(f->path, where, 1);
	}
	pthread_mutex_lock(&o->lock);
	out_clear_progress(o);
	if (obj != NULL) {
		out_json_line(obj);
		if (match != NULL)
			out_json_line(match);
	} else {
		if (!o->quiet)
			fprintf(stderr, "ward: %s: %s\n", mpath != NULL ? mpath : f->path,
				out_note_text[n]);
		/* clamscan names the file on disk. */
		if (alert)
			printf("%s: %s FOUND\n", f->path, heur);
	}
	pthread_mutex_unlock(&o->lock);
	json_decref(obj);
	json_decref(match);
	ward_free(mpath);
}

void
out_error(struct out *o, const char *path, const char *msg, int is_operand)
{
	json_t *obj = NULL;

	atomic_fetch_add(is_operand ? &o->path_errors : &o->file_errors, 1);
	if (o->format == OUT_JSON) {
		obj = json_object();
		json_object_set_new(obj, "path", out_json_text(path));
		json_object_set_new(obj, "error", out_json_text(msg));
	}
	pthread_mutex_lock(&o->lock);
	out_clear_progress(o);
	if (obj != NULL)
		out_json_line(obj);
	else
		fprintf(stderr, "ward: %s: %s\n", path, msg);
	pthread_mutex_unlock(&o->lock);
	json_decref(obj);
}

void
out_skip(struct out *o, enum out_skip why)
{
	if ((unsigned)why < OUT_SKIP_COUNT)
		atomic_fetch_add(&o->skipped[why], 1);
}

static void
out_human_bytes(unsigned long long b, char *buf, size_t n)
{
	if (b >= 1024ull * 1024 * 1024)
		snprintf(buf, n, "%.2f GiB", (double)b / (1024.0 * 1024 * 1024));
	else if (b >= 1024ull * 1024)
		snprintf(buf, n, "%.2f MiB", (double)b / (1024.0 * 1024));
	else
		snprintf(buf, n, "%llu bytes", b);
}

void
out_progress(struct out *o, const char *current)
{
	double secs = out_now() - o->start;
	unsigned long long bytes = atomic_load(&o->bytes);
	char hb[64];

	if (!o->progress)
		return;
	/* The end of a long path says more than its beginning. */
	if (current != NULL && strlen(current) > 40)
		current += strlen(current) - 40;
	out_human_bytes(bytes, hb, sizeof(hb));
	pthread_mutex_lock(&o->lock);
	fprintf(stderr, "\r\033[K%llu files, %s, %.1f MB/s, %llu matches%s%.40s",
		(unsigned long long)atomic_load(&o->files), hb,
		secs > 0 ? (double)bytes / 1e6 / secs : 0.0,
		(unsigned long long)atomic_load(&o->matches), current != NULL ? "  " : "",
		current != NULL ? current : "");
	fflush(stderr);
	pthread_mutex_unlock(&o->lock);
}

/* How the summary names each kind of skipped entry: text, JSON key. */
static const char *const out_skip_text[OUT_SKIP_COUNT][2] = {
    [OUT_SKIP_SYMLINK] = {"symbolic links not followed", "symlink"},
    [OUT_SKIP_DUPLICATE] = {"hard links (or paths) to what was already scanned", "duplicate"},
    [OUT_SKIP_SPECIAL] = {"special files (FIFOs, sockets, devices)", "special"},
    [OUT_SKIP_TOO_LARGE] = {"larger than --max-filesize", "too_large"},
    [OUT_SKIP_EXCLUDED] = {"excluded by --exclude", "excluded"},
    [OUT_SKIP_VIRTUAL] = {"virtual filesystems not entered", "virtual"},
    [OUT_SKIP_DANGLING] = {"symbolic links to nothing", "dangling"},
    [OUT_SKIP_LOOP] = {"directory loops", "loop"},
};

void
out_summary(struct out *o, int interrupted)
{
	double secs = out_now() - o->start;
	unsigned long long bytes = atomic_load(&o->bytes), skipped[OUT_SKIP_COUNT], nskipped = 0;
	unsigned long long path_errors = atomic_load(&o->path_errors);
	unsigned long long file_errors = atomic_load(&o->file_errors);
	json_t *sum = NULL, *by = NULL, *nby = NULL;
	unsigned long long notes[CONTAINER_NOTE_COUNT], nlimits = 0;
	char hb[64];
	int k;

	for (k = 0; k < CONTAINER_NOTE_COUNT; k++) {
		notes[k] = atomic_load(&o->notes[k]);
		if (k < CONTAINER_NLIMITS)
			nlimits += notes[k];
	}

	for (k = 0; k < OUT_SKIP_COUNT; k++) {
		skipped[k] = atomic_load(&o->skipped[k]);
		nskipped += skipped[k];
	}
	if (o->format == OUT_JSON && !o->quiet) {
		by = json_object();
		for (k = 0; k < OUT_SKIP_COUNT; k++)
			json_object_set_new(by, out_skip_text[k][1],
					    json_integer((json_int_t)skipped[k]));
		sum = json_pack("{s:{s:I, s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:f, s:b}}", "summary",
				"files", (json_int_t)atomic_load(&o->files), "bytes",
				(json_int_t)bytes, "skipped", (json_int_t)nskipped, "skipped_by",
				by, "matches", (json_int_t)atomic_load(&o->matches), "errors",
				(json_int_t)(path_errors + file_errors), "path_errors",
				(json_int_t)path_errors, "file_errors", (json_int_t)file_errors,
				"seconds", secs, "interrupted", interrupted != 0);
		nby = json_object();
		for (k = 0; k < CONTAINER_NLIMITS; k++)
			json_object_set_new(nby, container_note_word((enum container_note)k),
					    json_integer((json_int_t)notes[k]));
		if (sum != NULL) {
			json_t *in = json_object_get(sum, "summary");

			json_object_set_new(in, "limits", json_integer((json_int_t)nlimits));
			json_object_set_new(in, "limits_by", nby);
			json_object_set_new(in, "encrypted",
					    json_integer((json_int_t)notes[CONTAINER_ENCRYPTED]));
			json_object_set_new(in, "damaged",
					    json_integer((json_int_t)notes[CONTAINER_DAMAGED]));
		} else {
			json_decref(nby);
		}
		if (sum != NULL && o->rules_skipped >= 0)
			json_object_set_new(json_object_get(sum, "summary"), "rules_skipped",
					    json_integer(o->rules_skipped));
	}
	pthread_mutex_lock(&o->lock);
	out_clear_progress(o);
	if (sum != NULL)
		out_json_line(sum);
	fflush(stdout);
	if (!o->quiet) {
		out_human_bytes(bytes, hb, sizeof(hb));
		fprintf(stderr,
			"\n----------- SCAN SUMMARY -----------\n"
			"%s"
			"Scanned files: %llu\n"
			"Skipped files: %llu\n",
			interrupted ? "Interrupted: the scan was stopped before it finished\n" : "",
			(unsigned long long)atomic_load(&o->files), nskipped);
		for (k = 0; k < OUT_SKIP_COUNT; k++)
			if (skipped[k] > 0)
				fprintf(stderr, "  %s: %llu\n", out_skip_text[k][0], skipped[k]);
		fprintf(stderr,
			"Data scanned: %s\n"
			"Matches: %llu\n"
			"Errors: %llu\n",
			hb, (unsigned long long)atomic_load(&o->matches),
			path_errors + file_errors);
		if (path_errors > 0)
			fprintf(stderr, "  paths given that could not be scanned: %llu\n",
				path_errors);
		if (file_errors > 0)
			fprintf(stderr, "  unreadable entries inside the trees: %llu\n",
				file_errors);
		if (nlimits + notes[CONTAINER_ENCRYPTED] + notes[CONTAINER_DAMAGED] > 0) {
			fprintf(stderr, "Archive limits reached: %llu\n", nlimits);
			for (k = 0; k < CONTAINER_NLIMITS; k++)
				if (notes[k] > 0)
					fprintf(stderr, "  %s: %llu\n",
						container_note_word((enum container_note)k),
						notes[k]);
			fprintf(stderr, "Encrypted members: %llu\nDamaged archives: %llu\n",
				notes[CONTAINER_ENCRYPTED], notes[CONTAINER_DAMAGED]);
		}
		fprintf(stderr,
			"Time: %.3f s\n"
			"Throughput: %.1f MB/s\n",
			secs, secs > 0 ? (double)bytes / 1e6 / secs : 0.0);
		if (o->rules_skipped >= 0)
			fprintf(stderr, "Skipped rules: %lld (unsupported, named above)\n",
				o->rules_skipped);
	}
	fflush(stderr);
	pthread_mutex_unlock(&o->lock);
	json_decref(sum);
}

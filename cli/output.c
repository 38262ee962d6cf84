/*
 * output: reporting for `ward scan`.  Every line is written under one lock
 * so that lines from different threads never interleave.
 */
#include "output.h"

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
		size_t len = u[0] < 0x80 ? 1 : (u[0] & 0xe0) == 0xc0 ? 2 : (u[0] & 0xf0) == 0xe0 ? 3
					 : (u[0] & 0xf8) == 0xf0 ? 4 : 0;
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

static json_t *
out_rule_json(const struct out_file *f, const struct matcher_scratch *s, uint32_t rule)
{
	const struct rs_rule *r = &f->o->rs->rules[rule];
	json_t *obj = json_object(), *tags = json_array(), *strs = json_array();
	uint32_t i, j;

	json_object_set_new(obj, "path", out_json_text(f->path));
	json_object_set_new(obj, "rule", json_string(r->name));
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
	return obj;
}

int
out_report(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct out_file *f = arg;
	struct out *o = f->o;
	json_t *obj = NULL;

	f->matched = 1;
	atomic_fetch_add(&o->matches, 1);
	if (o->format == OUT_JSON) {
		if (hash_name != NULL) {
			obj = json_object();
			json_object_set_new(obj, "path", out_json_text(f->path));
			json_object_set_new(obj, "rule", json_string(hash_name));
			json_object_set_new(obj, "tags", json_array());
			json_object_set_new(obj, "namespace", json_string("hash"));
			json_object_set_new(obj, "strings", json_array());
		} else {
			obj = out_rule_json(f, s, rule);
		}
	}
	pthread_mutex_lock(&o->lock);
	out_clear_progress(o);
	if (obj != NULL)
		out_json_line(obj);
	else
		printf("%s: %s FOUND\n", f->path,
		       hash_name != NULL ? hash_name : o->rs->rules[rule].name);
	pthread_mutex_unlock(&o->lock);
	json_decref(obj);
	return 0;
}

void
out_error(struct out *o, const char *path, const char *msg)
{
	json_t *obj = NULL;

	atomic_fetch_add(&o->errors, 1);
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

void
out_summary(struct out *o, int interrupted)
{
	double secs = out_now() - o->start;
	unsigned long long bytes = atomic_load(&o->bytes);
	char hb[64];

	pthread_mutex_lock(&o->lock);
	out_clear_progress(o);
	fflush(stdout);
	if (!o->quiet) {
		out_human_bytes(bytes, hb, sizeof(hb));
		fprintf(stderr,
			"\n----------- SCAN SUMMARY -----------\n"
			"%s"
			"Scanned files: %llu\n"
			"Skipped files: %llu\n"
			"Data scanned: %s\n"
			"Matches: %llu\n"
			"Errors: %llu\n"
			"Time: %.3f s\n"
			"Throughput: %.1f MB/s\n",
			interrupted ? "Interrupted: the scan was stopped before it finished\n" : "",
			(unsigned long long)atomic_load(&o->files),
			(unsigned long long)atomic_load(&o->skipped), hb,
			(unsigned long long)atomic_load(&o->matches),
			(unsigned long long)atomic_load(&o->errors), secs,
			secs > 0 ? (double)bytes / 1e6 / secs : 0.0);
		if (o->rules_skipped >= 0)
			fprintf(stderr, "Skipped rules: %lld (unsupported, named above)\n",
				o->rules_skipped);
	}
	fflush(stderr);
	pthread_mutex_unlock(&o->lock);
}

/*
 * content: compile a bundle's members and run its tests.  See content.h.
 *
 * Must hold: only bytes of the (already validated) bundle are read — rule
 * members cannot include files, and nothing here opens a path; a test
 * passes only when the sample's matches equal the expected names exactly
 * (a missing detection and an extra one both fail); rules are left out only
 * at build time, by rewriting the member that holds them, never silently
 * where the content is used.
 */
#include "content/content.h"
#include "rules/compile.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

void
content_set_free(struct content_set *cs)
{
	matcher_free(cs->m);
	ruleset_free(cs->rs);
	hashsig_free(cs->hs);
	sigma_set_free(cs->sigma);
	fim_watch_free(&cs->fim);
	except_list_free(&cs->exc);
	memset(cs, 0, sizeof(*cs));
}

static int
add_hashes(struct hashsig_set *hs, const struct bundle_member *m, struct ward_diag *d)
{
	const char *p = (const char *)m->data, *end = p + m->size, *nl;
	int line = 0, r = 0;

	while (p < end && r == 0) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		line++;
		r = hashsig_add_line(hs, m->name, line, p, (size_t)(nl - p), d);
		p = nl + 1;
	}
	return r;
}

int
content_sigma(const struct bundle *b, struct sigma_set **out, struct ward_diag *d)
{
	struct sigma_set *s = NULL;
	uint32_t i;
	int r = 0;

	*out = NULL;
	for (i = 0; i < b->nmembers && r == 0; i++) {
		const struct bundle_member *m = &b->members[i];

		if (m->type != BM_SIGMA)
			continue;
		if (s == NULL && (r = sigma_set_new(&s)) != 0)
			break;
		r = sigma_set_add(s, m->name, (const char *)m->data, (size_t)m->size, d);
	}
	if (r != 0)
		sigma_set_free(s);
	else
		*out = s;
	return r;
}

int
content_fim(const struct bundle *b, struct fim_watch *w, struct ward_diag *d)
{
	uint32_t i;
	int r = 0;

	for (i = 0; i < b->nmembers && r == 0; i++)
		if (b->members[i].type == BM_FIM)
			r = fim_watch_add_json(w, b->members[i].name,
					       (const char *)b->members[i].data,
					       (size_t)b->members[i].size, d);
	return r;
}

int
content_exceptions(const struct bundle *b, struct except_list *l, struct ward_diag *d)
{
	uint32_t i;
	int r = 0;

	for (i = 0; i < b->nmembers && r == 0; i++)
		if (b->members[i].type == BM_EXCEPTIONS)
			r = except_member_parse(l, b->members[i].name,
						(const char *)b->members[i].data,
						(size_t)b->members[i].size, d);
	return r;
}

int
content_compile(const struct bundle *b, struct content_set *out, struct ward_diag *d)
{
	struct rules_compiler *c = NULL;
	uint32_t i, nyara = 0, nhash = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	diag_clear(d);
	for (i = 0; i < b->nmembers; i++) {
		nyara += b->members[i].type == BM_YARA;
		nhash += b->members[i].type == BM_HASHES;
	}
	if (nyara > 0) {
		if ((r = rules_compiler_new(&c)) != 0)
			goto out;
		rules_compiler_forbid_includes(c);
		for (i = 0; i < b->nmembers; i++) {
			const struct bundle_member *m = &b->members[i];

			if (m->type != BM_YARA)
				continue;
			r = rules_compiler_add_string(c, m->name, (const char *)m->data,
						      (size_t)m->size, d);
			if (r != 0)
				goto out;
		}
		if ((r = rules_compiler_finish(c, &out->rs, d)) != 0)
			goto out;
	}
	if (nhash > 0) {
		if ((r = hashsig_new(&out->hs)) != 0)
			goto out;
		for (i = 0; i < b->nmembers; i++)
			if (b->members[i].type == BM_HASHES &&
			    (r = add_hashes(out->hs, &b->members[i], d)) != 0)
				goto out;
		if ((r = hashsig_finish(out->hs)) != 0)
			goto out;
	}
	if ((r = content_sigma(b, &out->sigma, d)) != 0)
		goto out;
	if ((r = content_fim(b, &out->fim, d)) != 0)
		goto out;
	if ((r = content_exceptions(b, &out->exc, d)) != 0)
		goto out;
	r = matcher_new(out->rs, out->hs, &out->m, d);
out:
	rules_compiler_free(c);
	if (r != 0) {
		if (r == WARD_ENOMEM && d != NULL && d->msg[0] == '\0')
			diag_set(d, r, NULL, 0, 0, "out of memory");
		content_set_free(out);
	}
	return r;
}

/*
 * The comment that stands for an item left out: printable ASCII only, no
 * end of comment inside, then as many newlines as the text it replaces
 * had, so every later line keeps its number.
 */
static void
drop_comment(struct wbuf *w, const struct rules_skipped *s, const uint8_t *text, size_t len)
{
	char head[1400];
	size_t i;
	int k;

	if (s->rule != NULL)
		k = snprintf(head, sizeof(head),
			     "/* ward content build --skip-unsupported left out rule %.200s: %s "
			     "(line %d, column %d) */",
			     s->rule, s->why.msg, s->why.line, s->why.col);
	else
		k = snprintf(head, sizeof(head),
			     "/* ward content build --skip-unsupported left out import \"%.100s\": "
			     "%s */",
			     s->module, s->why.msg);
	if (k < 0)
		k = 0;
	if ((size_t)k >= sizeof(head))
		k = (int)sizeof(head) - 1;
	for (i = 3; i + 3 < (size_t)k; i++) {
		if (head[i] < 0x20 || head[i] > 0x7e)
			head[i] = '?';
		if (head[i] == '/' && head[i - 1] == '*')
			head[i] = '|';
	}
	wbuf_put(w, head, (size_t)k);
	for (i = 0; i < len; i++)
		if (text[i] == '\n')
			wbuf_u8(w, '\n');
}

/* Rewrites src with the items sk[0..n) (in source order) replaced. */
static int
drop_rewrite(struct content_src *src, const struct rules_skipped *sk, size_t n)
{
	struct wbuf w;
	size_t pos = 0, i;
	int r = 0;

	wbuf_init(&w);
	for (i = 0; i < n; i++) {
		if (sk[i].off < pos || sk[i].end < sk[i].off || sk[i].end > src->size) {
			r = WARD_EINVAL;
			goto out;
		}
		wbuf_put(&w, src->data + pos, sk[i].off - pos);
		drop_comment(&w, &sk[i], src->data + sk[i].off, sk[i].end - sk[i].off);
		pos = sk[i].end;
	}
	wbuf_put(&w, src->data + pos, src->size - pos);
	if (w.err != 0) {
		r = w.err;
		goto out;
	}
	ward_free(src->data);
	src->data = w.p;
	src->size = w.len;
	w.p = NULL;
out:
	wbuf_free(&w);
	return r;
}

int
content_drop_unsupported(struct content_src *srcs, uint32_t n,
			 void (*report)(void *arg, const struct rules_skipped *s), void *arg,
			 size_t *ndropped, struct ward_diag *d)
{
	struct rules_compiler *c = NULL;
	const struct rules_skipped *sk;
	size_t nsk = 0, i, first;
	uint32_t k;
	int r;

	*ndropped = 0;
	diag_clear(d);
	if ((r = rules_compiler_new(&c)) != 0)
		goto out;
	rules_compiler_forbid_includes(c);
	rules_compiler_skip_unsupported(c);
	for (k = 0; k < n; k++)
		if ((r = rules_compiler_add_string(c, srcs[k].name, (const char *)srcs[k].data,
						   srcs[k].size, d)) != 0)
			goto out;
	sk = rules_compiler_skipped(c, &nsk);
	for (i = 0; i < nsk; i++) {
		*ndropped += sk[i].rule != NULL;
		if (report != NULL)
			report(arg, &sk[i]);
	}
	/* Each source's items are together and in order: one add each. */
	for (k = 0, i = 0; k < n; k++) {
		for (first = i; i < nsk && strcmp(sk[i].why.file, srcs[k].name) == 0; i++)
			;
		if (i > first && (r = drop_rewrite(&srcs[k], sk + first, i - first)) != 0) {
			r = diag_set(d, r, srcs[k].name, 0, 0, "cannot leave out the rules: %s",
				     ward_strerror(r));
			goto out;
		}
	}
	if (i != nsk)
		r = diag_set(d, WARD_EINVAL, NULL, 0, 0, "cannot leave out the rules: %s",
			     "a rule was left out of an unknown file");
out:
	if (r == WARD_ENOMEM && d != NULL && d->msg[0] == '\0')
		diag_set(d, r, NULL, 0, 0, "out of memory");
	rules_compiler_free(c);
	return r;
}

/* What one sample matched. */
struct hits {
	const struct content_set *cs;
	const char *names[BUNDLE_MAX_EXPECT + 1];
	uint32_t n;
	int overflow;
};

static int
on_hit(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct hits *h = arg;

	(void)s;
	if (h->n == BUNDLE_MAX_EXPECT + 1) {
		h->overflow = 1;
		return 0;
	}
	h->names[h->n++] =
	    rule == UINT32_MAX ? hash_name : ruleset_report_name(&h->cs->rs->rules[rule]);
	return 0;
}

static int
has_name(const char *const *v, uint32_t n, const char *name)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return 1;
	return 0;
}

/* "a, b, c" (truncated to fit). */
static void
join(char *out, size_t outlen, const char *const *v, uint32_t n)
{
	size_t len = 0;
	uint32_t i;

	out[0] = '\0';
	for (i = 0; i < n && len + 1 < outlen; i++) {
		int k = snprintf(out + len, outlen - len, "%s%s", i ? ", " : "", v[i]);

		if (k < 0)
			break;
		len += (size_t)k;
	}
	if (n == 0)
		snprintf(out, outlen, "nothing");
}

int
content_run_tests(const struct bundle *b, const struct content_set *cs, struct ward_diag *d)
{
	struct matcher_scratch *s = NULL;
	struct hits *h = NULL;
	char want[200], got[200];
	uint32_t i, j;
	int r = 0, ok;

	diag_clear(d);
	if (b->ntests == 0)
		return 0;
	h = ward_calloc(1, sizeof(*h));
	if (h == NULL || matcher_scratch_new(cs->m, &s) != 0) {
		r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < b->ntests; i++) {
		const struct bundle_test *t = &b->tests[i];
		const struct bundle_member *sm = &b->members[t->sample];

		memset(h, 0, sizeof(*h));
		h->cs = cs;
		r = matcher_scan_buf(cs->m, s, sm->data, (size_t)sm->size, on_hit, h);
		if (r != 0) {
			r = diag_set(d, r, sm->name, 0, 0, "scanning the test sample failed: %s",
				     ward_strerror(r));
			goto out;
		}
		ok = !h->overflow && h->n == t->nexpect;
		for (j = 0; ok && j < t->nexpect; j++)
			ok = has_name(h->names, h->n, t->expect[j]);
		if (!ok) {
			join(want, sizeof(want), (const char *const *)t->expect, t->nexpect);
			join(got, sizeof(got), h->names, h->n);
			r = diag_set(d, WARD_EVERIFY, sm->name, 0, 0,
				     "test failed: expected %s, matched %s", want, got);
			goto out;
		}
	}
out:
	matcher_scratch_free(s);
	ward_free(h);
	return r;
}

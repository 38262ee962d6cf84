/*
 * Unit tests of lib/content/bundle: the validator refuses every malformed
 * container and manifest with a reason (truncation, trailing bytes, digest
 * and size mismatches, limits, duplicate and unknown keys, huge numbers,
 * deep nesting, bad paths and times), and signatures count towards a
 * threshold only for distinct trusted keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "content/bundle.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "util/buf.h"
#include "util/err.h"

static const char rules[] = "rule t { strings: $a = \"abc\" condition: $a }\n";
static const char sample[] = "xxabcxx";

/* A manifest over the two members above; extra is spliced in before the
 * closing brace of the top-level object (starting with a comma). */
static char *
manifest(const char *version, const char *extra, const char *size_override)
{
	char h1[65], h2[65], *m = malloc(4096), size[32];
	uint8_t d[32];

	snprintf(size, sizeof(size), "%zu", strlen(rules));
	digest_buf(DIGEST_SHA256, rules, strlen(rules), d, 32);
	digest_to_hex(d, 32, h1, sizeof(h1));
	digest_buf(DIGEST_SHA256, sample, strlen(sample), d, 32);
	digest_to_hex(d, 32, h2, sizeof(h2));
	snprintf(
	    m, 4096,
	    "{\"format\": 1, \"name\": \"test\", \"version\": %s,"
	    " \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"2030-01-01T00:00:00Z\","
	    " \"min_agent_version\": \"0.1.0\","
	    " \"members\": [{\"name\": \"rules/t.yar\", \"type\": \"yara\", \"size\": %s,"
	    " \"sha256\": \"%s\"}, {\"name\": \"tests/s\", \"type\": \"sample\", \"size\": %zu,"
	    " \"sha256\": \"%s\"}],"
	    " \"tests\": [{\"sample\": \"tests/s\", \"expect\": [\"t\"]}]%s}",
	    version, size_override != NULL ? size_override : size, h1, strlen(sample), h2,
	    extra != NULL ? extra : "");
	return m;
}

/* The file image of manifest m with the two members. */
static void
image(const char *m, struct wbuf *w)
{
	struct bundle_member mem[2];

	memset(mem, 0, sizeof(mem));
	mem[0].data = (const uint8_t *)rules;
	mem[0].size = strlen(rules);
	mem[1].data = (const uint8_t *)sample;
	mem[1].size = strlen(sample);
	wbuf_init(w);
	assert_int_equal(bundle_serialize((const uint8_t *)m, strlen(m), NULL, 0, mem, 2, w), 0);
}

static int
parse_manifest_text(const char *m, struct ward_diag *d)
{
	struct bundle *b = NULL;
	struct wbuf w;
	int r;

	image(m, &w);
	r = bundle_parse(w.p, w.len, &b, d);
	if (r == 0)
		assert_non_null(b);
	else
		assert_null(b);
	bundle_free(b);
	wbuf_free(&w);
	return r;
}

static void
test_valid(void **state)
{
	struct ward_diag d;
	struct bundle *b = NULL;
	struct wbuf w;
	char *m = manifest("7", NULL, NULL);

	(void)state;
	image(m, &w);
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), 0);
	assert_string_equal(b->name, "test");
	assert_int_equal(b->version, 7);
	assert_int_equal(b->created, 1767225600);
	assert_int_equal(b->nmembers, 2);
	assert_int_equal(b->members[0].type, BM_YARA);
	assert_memory_equal(b->members[1].data, sample, strlen(sample));
	assert_int_equal(b->ntests, 1);
	assert_int_equal(b->tests[0].sample, 1);
	assert_string_equal(b->tests[0].expect[0], "t");
	assert_string_equal(b->min_agent_version, "0.1.0");
	assert_int_equal(bundle_find_member(b, "tests/s"), 1);
	assert_int_equal(bundle_find_member(b, "nope"), -1);
	bundle_free(b);
	wbuf_free(&w);
	free(m);
}

/* Every strict prefix of a valid bundle is refused, and so is any byte more. */
static void
test_truncated_and_trailing(void **state)
{
	struct ward_diag d;
	struct bundle *b = NULL;
	struct wbuf w;
	char *m = manifest("1", NULL, NULL);
	size_t n;

	(void)state;
	image(m, &w);
	for (n = 0; n < w.len; n++) {
		assert_int_not_equal(bundle_parse(w.p, n, &b, &d), 0);
		assert_null(b);
	}
	wbuf_put(&w, "x", 1);
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), WARD_EFORMAT);
	assert_non_null(strstr(d.msg, "trailing"));
	wbuf_free(&w);
	free(m);
}

static void
test_member_mismatch(void **state)
{
	struct ward_diag d;
	struct bundle *b = NULL;
	struct wbuf w;
	char *m = manifest("1", NULL, NULL);
	char *p;

	(void)state;
	image(m, &w);
	p = memmem(w.p, w.len, "abc\"", 4); /* inside the rule member */
	p = memmem(p + 1, w.len - (size_t)((uint8_t *)p + 1 - w.p), "abc", 3);
	assert_non_null(p);
	p[0] = 'A'; /* a flipped byte in the sample */
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), WARD_ECHECKSUM);
	assert_string_equal(d.file, "tests/s");
	wbuf_free(&w);
	free(m);
	/* A size that disagrees with the data. */
	m = manifest("1", NULL, "44");
	assert_int_equal(parse_manifest_text(m, &d), WARD_ECHECKSUM);
	free(m);
	/* A member larger than the limit. */
	m = manifest("1", NULL, "268435457");
	assert_int_equal(parse_manifest_text(m, &d), WARD_EFORMAT);
	free(m);
}

static void
test_bad_manifests(void **state)
{
	static const struct {
		const char *version, *extra, *why;
	} cases[] = {
	    {"1", ", \"name\": \"again\"", "duplicate"},
	    {"1", ", \"color\": 3", "unknown key"},
	    {"99999999999999999999999", NULL, "too big"},
	    {"9007199254740993", NULL, "version"},
	    {"0", NULL, "version"},
	    {"-4", NULL, "version"},
	    {"1.5", NULL, "version"},
	    {"\"3\"", NULL, "version"},
	};
	struct ward_diag d;
	char *m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		m = manifest(cases[i].version, cases[i].extra, NULL);
		assert_int_not_equal(parse_manifest_text(m, &d), 0);
		if (strstr(d.msg, cases[i].why) == NULL)
			fail_msg("case %zu: \"%s\" lacks \"%s\"", i, d.msg, cases[i].why);
		free(m);
	}
}

/* Replaces the first occurrence of from by to in a fresh manifest. */
static int
parse_edited(const char *from, const char *to, struct ward_diag *d)
{
	char *m = manifest("1", NULL, NULL), buf[8192], *p;
	int r;

	p = strstr(m, from);
	assert_non_null(p);
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - m), m, to, p + strlen(from));
	r = parse_manifest_text(buf, d);
	free(m);
	return r;
}

static void
test_bad_fields(void **state)
{
	static const struct {
		const char *from, *to;
	} cases[] = {
	    {"\"rules/t.yar\"", "\"../t.yar\""},
	    {"\"rules/t.yar\"", "\"/etc/passwd\""},
	    {"\"rules/t.yar\"", "\"rules//t.yar\""},
	    {"\"rules/t.yar\"", "\"rules/t yar\""},
	    {"\"rules/t.yar\"", "\"tests/s\""}, /* listed twice */
	    {"\"yara\"", "\"lua\""},
	    {"\"2026-01-01T00:00:00Z\"", "\"2026-02-30T00:00:00Z\""},
	    {"\"2026-01-01T00:00:00Z\"", "\"2026-01-01 00:00:00\""},
	    {"\"2030-01-01T00:00:00Z\"", "\"2025-01-01T00:00:00Z\""}, /* expires before created */
	    {"\"0.1.0\"", "\"latest\""},
	    {"\"test\"", "\"a/b\""},
	    {"\"format\": 1", "\"format\": 2"},
	    {"\"sample\": \"tests/s\"", "\"sample\": \"rules/t.yar\""}, /* not a sample */
	    {"\"expect\": [\"t\"]", "\"expect\": [\"t-1\"]"},
	    {"\"expect\": [\"t\"]", "\"expect\": \"t\""},
	    {"\"members\": [",
	     "\"members\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]], "},
	};
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = parse_edited(cases[i].from, cases[i].to, &d);

		if (r == 0)
			fail_msg("case %zu (%s) was accepted", i, cases[i].to);
		assert_true(d.msg[0] != '\0');
	}
}

/* Thousands of nested arrays: refused, no stack overflow. */
static void
test_deep_nesting(void **state)
{
	struct ward_diag d;
	size_t n = 100000, i;
	char *m = malloc(2 * n + 64);

	(void)state;
	strcpy(m, "{\"format\": 1, \"x\": ");
	i = strlen(m);
	memset(m + i, '[', n);
	memset(m + i + n, ']', n);
	strcpy(m + i + 2 * n, "}");
	assert_int_equal(parse_manifest_text(m, &d), WARD_EFORMAT);
	free(m);
}

static void
test_container_header(void **state)
{
	struct ward_diag d;
	struct bundle *b = NULL;
	struct wbuf w;
	char *m = manifest("1", NULL, NULL);

	(void)state;
	image(m, &w);
	w.p[0] = 'X';
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), WARD_EFORMAT);
	assert_non_null(strstr(d.msg, "magic"));
	w.p[0] = 'W';
	w.p[8] = 2; /* format */
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), WARD_EVERSION);
	w.p[8] = 1;
	w.p[15] = 0x7f; /* manifest length far beyond the limit */
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), WARD_ELIMIT);
	wbuf_free(&w);
	free(m);
}

static struct bundle *
parsed(void)
{
	struct ward_diag d;
	struct bundle *b = NULL;
	struct wbuf w;
	char *m = manifest("3", NULL, NULL);

	image(m, &w);
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), 0);
	wbuf_free(&w);
	free(m);
	return b;
}

static void
test_signatures(void **state)
{
	struct sign_key *ed = NULL, *sm = NULL, *stranger = NULL;
	struct sign_key *trusted[2];
	struct bundle *b = parsed(), *b2 = NULL;
	struct ward_diag d;
	struct wbuf w;
	unsigned valid;

	(void)state;
	assert_int_equal(sign_keygen(SIGN_ED25519, &ed), 0);
	assert_int_equal(sign_keygen(SIGN_SM2, &sm), 0);
	assert_int_equal(sign_keygen(SIGN_ED25519, &stranger), 0);
	trusted[0] = ed;
	trusted[1] = sm;
	/* Unsigned. */
	assert_int_equal(bundle_verify(b, trusted, 2, 1, &valid, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "not signed"));
	/* Signed by an untrusted key. */
	assert_int_equal(bundle_sign(b, stranger, &d), 0);
	assert_int_equal(bundle_verify(b, trusted, 2, 1, &valid, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "1 by untrusted"));
	/* One trusted signature; signing again with the same key replaces it. */
	assert_int_equal(bundle_sign(b, ed, &d), 0);
	assert_int_equal(bundle_sign(b, ed, &d), 0);
	assert_int_equal(b->nsigs, 2);
	assert_int_equal(bundle_verify(b, trusted, 2, 1, &valid, &d), 0);
	assert_int_equal(valid, 1);
	assert_int_equal(bundle_verify(b, trusted, 2, 2, &valid, &d), WARD_EVERIFY);
	/* SM2 makes two; through the file image and back. */
	assert_int_equal(bundle_sign(b, sm, &d), 0);
	wbuf_init(&w);
	assert_int_equal(bundle_image(b, &w), 0);
	assert_int_equal(bundle_parse(w.p, w.len, &b2, &d), 0);
	assert_int_equal(bundle_verify(b2, trusted, 2, 2, &valid, &d), 0);
	assert_int_equal(valid, 2);
	bundle_free(b2);
	b2 = NULL;
	/* A flipped bit in a signature: that one no longer counts. */
	w.p[16 + b->manifest_len + 4 + 1 + SIGN_KEY_ID_SIZE + 2 + 5] ^= 1;
	assert_int_equal(bundle_parse(w.p, w.len, &b2, &d), 0);
	assert_int_equal(bundle_verify(b2, trusted, 2, 1, &valid, &d), 0);
	assert_int_equal(valid, 2); /* the stranger's signature was the first */
	wbuf_free(&w);
	bundle_free(b2);
	bundle_free(b);
	sign_key_free(ed);
	sign_key_free(sm);
	sign_key_free(stranger);
}

/* A signature over a changed manifest does not verify. */
static void
test_signature_covers_manifest(void **state)
{
	struct sign_key *ed = NULL;
	struct bundle *b = parsed(), *b2 = NULL;
	struct ward_diag d;
	struct wbuf w;
	unsigned valid;
	uint8_t *p;

	(void)state;
	assert_int_equal(sign_keygen(SIGN_ED25519, &ed), 0);
	assert_int_equal(bundle_sign(b, ed, &d), 0);
	wbuf_init(&w);
	assert_int_equal(bundle_image(b, &w), 0);
	p = memmem(w.p, w.len, "\"version\": 3", 12);
	assert_non_null(p);
	p[11] = '4';
	assert_int_equal(bundle_parse(w.p, w.len, &b2, &d), 0);
	assert_int_equal(b2->version, 4);
	assert_int_equal(bundle_verify(b2, &ed, 1, 1, &valid, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "1 invalid"));
	wbuf_free(&w);
	bundle_free(b2);
	bundle_free(b);
	sign_key_free(ed);
}

static void
test_times_and_versions(void **state)
{
	int64_t t;
	char s[21];
	int c;

	(void)state;
	assert_int_equal(bundle_parse_time("2024-07-19T04:09:00Z", &t), 0);
	assert_int_equal(t, 1721362140);
	bundle_format_time(t, s);
	assert_string_equal(s, "2024-07-19T04:09:00Z");
	assert_int_equal(bundle_parse_time("2024-07-19T04:09:00+02:00", &t), WARD_EFORMAT);
	assert_int_equal(bundle_parse_time("2024-13-19T04:09:00Z", &t), WARD_EFORMAT);
	assert_int_equal(bundle_version_cmp("0.1.0", "0.10.0", &c), 0);
	assert_true(c < 0);
	assert_int_equal(bundle_version_cmp("1.2.3", "1.2.3", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(bundle_version_cmp("2.0.0", "1.99.99", &c), 0);
	assert_true(c > 0);
	assert_int_equal(bundle_version_cmp("1.2", "1.2.0", &c), WARD_EFORMAT);
	assert_int_equal(bundle_version_cmp("1.2.3x", "1.2.0", &c), WARD_EFORMAT);
}

/* bundle_split reads the framing only: a manifest that is not JSON, with
 * a signature entry, splits (the signature can be checked over its exact
 * bytes) and leaves name, version and members empty; parsing it then is
 * refused; a second bundle_parse_manifest is refused as a caller's bug. */
static void
test_split_then_manifest(void **state)
{
	static const char m[] = "not json at all {{{";
	struct bundle_sig sig;
	struct bundle *b = NULL;
	struct ward_diag d;
	struct wbuf w;

	(void)state;
	memset(&sig, 0, sizeof(sig));
	sig.alg = SIGN_ED25519;
	sig.len = 64;
	wbuf_init(&w);
	assert_int_equal(bundle_serialize((const uint8_t *)m, strlen(m), &sig, 1, NULL, 0, &w), 0);
	assert_int_equal(bundle_split(w.p, w.len, &b, &d), 0);
	assert_int_equal(b->manifest_len, strlen(m));
	assert_memory_equal(b->manifest, m, strlen(m));
	assert_int_equal(b->nsigs, 1);
	assert_null(b->name);
	assert_int_equal(b->version, 0);
	assert_int_equal(b->nmembers, 0);
	assert_int_equal(b->parsed, 0);
	assert_int_equal(bundle_parse_manifest(b, &d), WARD_EFORMAT);
	bundle_free(b);
	/* bundle_parse is both halves */
	assert_int_equal(bundle_parse(w.p, w.len, &b, &d), WARD_EFORMAT);
	assert_null(b);
	/* framing errors stop split: a truncated signature entry */
	assert_int_equal(bundle_split(w.p, w.len - 1, &b, &d), WARD_EFORMAT);
	assert_null(b);
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_split_then_manifest),
	    cmocka_unit_test(test_truncated_and_trailing),
	    cmocka_unit_test(test_member_mismatch),
	    cmocka_unit_test(test_bad_manifests),
	    cmocka_unit_test(test_bad_fields),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_container_header),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_signature_covers_manifest),
	    cmocka_unit_test(test_times_and_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of lib/content/admit: the one admission path.  A table of
 * hostile and stale bundles — a forged signature, too few signatures for
 * the threshold, an untrusted key, a replayed older version, the same
 * version again, an expired bundle, one that needs a newer ward, a broken
 * container, content whose own tests fail or that does not compile — each
 * refused with its enumerated cause; the checks run in their documented
 * order (a bundle wrong in two ways is refused for the earlier one, and
 * nothing is compiled before the signatures pass); a manifest that is not
 * JSON — or is a megabyte of nesting made to exhaust the parser — is
 * refused for its signature without the JSON parser allocating a byte;
 * and every allocation
 * failure is a refusal, never a crash or an admission by accident.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "content/admit.h"
#include "content/bundle.h"
#include "crypto/digest.h"
#include "crypto/sign.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/err.h"

static const char rules[] = "rule t { strings: $a = \"abc\" condition: $a }\n";
static const char broken_rules[] = "rule t { strings: $a = \"abc\" condition: $b }\n";
static const char sample[] = "xxabcxx";

/* 2027-01-01T00:00:00Z: before the bundles' expiry (2030). */
#define NOW 1798761600LL

static struct sign_key *k1, *k2, *stranger;

static int
setup(void **state)
{
	(void)state;
	if (sign_keygen(SIGN_ED25519, &k1) != 0 || sign_keygen(SIGN_ED25519, &k2) != 0 ||
	    sign_keygen(SIGN_ED25519, &stranger) != 0)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	sign_key_free(k1);
	sign_key_free(k2);
	sign_key_free(stranger);
	return 0;
}

/* How a table row's bundle is made. */
struct spec {
	int64_t version;
	const char *expires;
	const char *min_agent;
	const char *yara;   /* the rule member's text */
	const char *expect; /* the rule the sample must match ("" none) */
	struct sign_key *signers[2];
	int forge;    /* flip a bit of the first signature */
	int truncate; /* drop the last byte of the file */
};

/* The signed file image of s, in w. */
static void
make(const struct spec *s, struct wbuf *w)
{
	struct bundle_member mem[2];
	struct bundle *b = NULL;
	struct ward_diag d;
	struct wbuf raw;
	char h1[65], h2[65], m[4096], expect[64];
	uint8_t md[32];
	int i;

	digest_buf(DIGEST_SHA256, s->yara, strlen(s->yara), md, 32);
	digest_to_hex(md, 32, h1, sizeof(h1));
	digest_buf(DIGEST_SHA256, sample, strlen(sample), md, 32);
	digest_to_hex(md, 32, h2, sizeof(h2));
	snprintf(expect, sizeof(expect), s->expect[0] ? "\"%s\"" : "%s", s->expect);
	snprintf(
	    m, sizeof(m),
	    "{\"format\": 1, \"name\": \"test\", \"version\": %lld,"
	    " \"created\": \"2026-01-01T00:00:00Z\", \"expires\": \"%s\","
	    " \"min_agent_version\": \"%s\","
	    " \"members\": [{\"name\": \"rules/t.yar\", \"type\": \"yara\", \"size\": %zu,"
	    " \"sha256\": \"%s\"}, {\"name\": \"tests/s\", \"type\": \"sample\", \"size\": %zu,"
	    " \"sha256\": \"%s\"}],"
	    " \"tests\": [{\"sample\": \"tests/s\", \"expect\": [%s]}]}",
	    (long long)s->version, s->expires, s->min_agent, strlen(s->yara), h1, strlen(sample),
	    h2, expect);
	memset(mem, 0, sizeof(mem));
	mem[0].data = (const uint8_t *)s->yara;
	mem[0].size = strlen(s->yara);
	mem[1].data = (const uint8_t *)sample;
	mem[1].size = strlen(sample);
	wbuf_init(&raw);
	assert_int_equal(bundle_serialize((const uint8_t *)m, strlen(m), NULL, 0, mem, 2, &raw), 0);
	assert_int_equal(bundle_parse(raw.p, raw.len, &b, &d), 0);
	for (i = 0; i < 2; i++)
		if (s->signers[i] != NULL)
			assert_int_equal(bundle_sign(b, s->signers[i], &d), 0);
	if (s->forge)
		b->sigs[0].sig[5] ^= 0x01;
	wbuf_init(w);
	assert_int_equal(bundle_image(b, w), 0);
	if (s->truncate)
		w->len--;
	bundle_free(b);
	wbuf_free(&raw);
}

/* The agent's policy: trusts k1 and k2, one signature, version 5 installed. */
static void
agent_policy(struct admit_policy *p, struct sign_key **trusted)
{
	trusted[0] = k1;
	trusted[1] = k2;
	memset(p, 0, sizeof(*p));
	p->trusted = trusted;
	p->ntrusted = 2;
	p->threshold = 1;
	p->newer_than = 5;
	p->now = NOW;
	p->agent_version = "0.1.0";
	p->compile = admit_compile_here;
	p->run_tests = 1;
}

struct row {
	const char *what;
	struct spec s;
	unsigned threshold; /* 0: the policy's */
	enum admit_cause want;
	const char *check;
	const char *msg; /* a part of the message */
};

#define GOOD_EXPIRES "2030-01-01T00:00:00Z"

static void
test_table(void **state)
{
	static const struct row rows[] = {
	    {"good", {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0}, 0, ADMIT_OK, NULL, ""},
	    {"forged signature",
	     {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 1, 0},
	     0,
	     ADMIT_SIGNATURE,
	     "signature",
	     ""},
	    {"too few signatures",
	     {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0},
	     2,
	     ADMIT_SIGNATURE,
	     "signature",
	     ""},
	    {"untrusted key",
	     {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_SIGNATURE,
	     "signature",
	     ""},
	    {"older than installed",
	     {4, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_VERSION,
	     "version",
	     "version 4 is not greater than the installed version 5"},
	    {"equal version",
	     {5, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_VERSION,
	     "version",
	     "version 5 is not greater"},
	    {"expired",
	     {6, "2026-06-01T00:00:00Z", "0.1.0", rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_EXPIRED,
	     "expiry",
	     "the bundle expired at 2026-06-01T00:00:00Z"},
	    {"expires now",
	     {6, "2027-01-01T00:00:00Z", "0.1.0", rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_EXPIRED,
	     "expiry",
	     "expired"},
	    {"min_agent_version above ours",
	     {6, GOOD_EXPIRES, "0.2.0", rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_AGENT_VERSION,
	     "min_agent_version",
	     "needs ward 0.2.0 or newer (this agent is 0.1.0)"},
	    {"truncated file",
	     {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 1},
	     0,
	     ADMIT_FORMAT,
	     "format",
	     ""},
	    {"failing test",
	     {6, GOOD_EXPIRES, "0.1.0", rules, "", {NULL}, 0, 0},
	     0,
	     ADMIT_VALIDATION,
	     "bundle test",
	     "test failed: expected nothing, matched t"},
	    {"rules that do not compile",
	     {6, GOOD_EXPIRES, "0.1.0", broken_rules, "t", {NULL}, 0, 0},
	     0,
	     ADMIT_VALIDATION,
	     "compile",
	     ""},
	};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct spec s = rows[i].s;

		s.signers[0] = strcmp(rows[i].what, "untrusted key") == 0 ? stranger : k1;
		make(&s, &w);
		agent_policy(&p, trusted);
		if (rows[i].threshold != 0)
			p.threshold = rows[i].threshold;
		r = content_admit(w.p, w.len, &p, &v);
		if (v.cause != rows[i].want)
			fail_msg("%s: cause %s, want %s (%s)", rows[i].what,
				 admit_cause_name(v.cause), admit_cause_name(rows[i].want),
				 v.diag.msg);
		if (rows[i].want == ADMIT_OK) {
			assert_int_equal(r, 0);
			assert_non_null(v.bundle);
			assert_int_equal(v.bundle->version, 6);
			assert_int_equal(v.valid, 1);
			assert_non_null(v.cs.rs);
			assert_int_equal(v.cs.rs->nrules, 1);
			assert_null(v.check);
		} else {
			assert_true(r < 0);
			assert_non_null(v.check);
			if (strcmp(v.check, rows[i].check) != 0)
				fail_msg("%s: check %s, want %s", rows[i].what, v.check,
					 rows[i].check);
			assert_true(v.diag.msg[0] != '\0');
			if (strstr(v.diag.msg, rows[i].msg) == NULL)
				fail_msg("%s: message \"%s\" lacks \"%s\"", rows[i].what,
					 v.diag.msg, rows[i].msg);
			if (rows[i].want == ADMIT_FORMAT)
				assert_null(v.bundle);
		}
		admit_verdict_free(&v);
		wbuf_free(&w);
	}
}

/* Two signatures by trusted keys meet a threshold of two; the same key
 * twice does not count twice. */
static void
test_threshold_met(void **state)
{
	struct spec s = {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL, NULL}, 0, 0};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;

	(void)state;
	s.signers[0] = k1;
	s.signers[1] = k2;
	make(&s, &w);
	agent_policy(&p, trusted);
	p.threshold = 2;
	assert_int_equal(content_admit(w.p, w.len, &p, &v), 0);
	assert_int_equal(v.valid, 2);
	admit_verdict_free(&v);
	wbuf_free(&w);

	s.signers[1] = k1; /* the same key again replaces its signature */
	make(&s, &w);
	assert_int_not_equal(content_admit(w.p, w.len, &p, &v), 0);
	assert_int_equal(v.cause, ADMIT_SIGNATURE);
	admit_verdict_free(&v);
	wbuf_free(&w);
}

static int hook_calls;

static int
counting_hook(void *arg, const struct admit_policy *p, const struct bundle *b,
	      struct admit_verdict *v, struct ward_diag *d)
{
	(void)arg;
	(void)p;
	(void)b;
	(void)v;
	(void)d;
	hook_calls++;
	return 0;
}

/* A bundle wrong in several ways is refused for the first check in the
 * documented order, and nothing is compiled until every other check
 * passed. */
static void
test_order(void **state)
{
	static const struct {
		struct spec s;
		enum admit_cause want;
	} rows[] = {
	    /* forged, old, expired, too new for us: the signature decides */
	    {{1, "2026-06-01T00:00:00Z", "9.0.0", broken_rules, "t", {NULL}, 1, 0},
	     ADMIT_SIGNATURE},
	    /* old, expired, too new for us: the version */
	    {{1, "2026-06-01T00:00:00Z", "9.0.0", broken_rules, "t", {NULL}, 0, 0}, ADMIT_VERSION},
	    /* expired and too new for us: the expiry */
	    {{6, "2026-06-01T00:00:00Z", "9.0.0", broken_rules, "t", {NULL}, 0, 0}, ADMIT_EXPIRED},
	    {{6, GOOD_EXPIRES, "9.0.0", broken_rules, "t", {NULL}, 0, 0}, ADMIT_AGENT_VERSION},
	};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct spec s = rows[i].s;

		s.signers[0] = k1;
		make(&s, &w);
		agent_policy(&p, trusted);
		p.compile = counting_hook;
		hook_calls = 0;
		assert_int_not_equal(content_admit(w.p, w.len, &p, &v), 0);
		assert_int_equal(v.cause, rows[i].want);
		assert_int_equal(hook_calls, 0);
		admit_verdict_free(&v);
		wbuf_free(&w);
	}
}

/* The policy's knobs: an unset check is not run; an unsigned bundle is
 * admitted only where the policy says it is not signed yet (the build);
 * a threshold of 0 admits nothing. */
static void
test_policy(void **state)
{
	struct spec s = {1, "2026-06-01T00:00:00Z", "9.0.0", rules, "t", {NULL}, 0, 0};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;

	(void)state;
	make(&s, &w); /* unsigned, old, expired, needs ward 9 */
	agent_policy(&p, trusted);
	assert_int_not_equal(content_admit(w.p, w.len, &p, &v), 0);
	assert_int_equal(v.cause, ADMIT_SIGNATURE);
	assert_non_null(strstr(v.diag.msg, "not signed"));
	admit_verdict_free(&v);

	memset(&p, 0, sizeof(p));
	p.unsigned_ok = 1;
	p.compile = admit_compile_here;
	p.run_tests = 1;
	assert_int_equal(content_admit(w.p, w.len, &p, &v), 0);
	assert_int_equal(v.cause, ADMIT_OK);
	assert_int_equal(v.valid, 0);
	assert_non_null(v.cs.m);
	admit_verdict_free(&v);

	agent_policy(&p, trusted);
	p.threshold = 0;
	p.newer_than = 0;
	p.now = 0;
	p.agent_version = NULL;
	assert_int_not_equal(content_admit(w.p, w.len, &p, &v), 0);
	assert_int_equal(v.cause, ADMIT_SIGNATURE);
	admit_verdict_free(&v);
	wbuf_free(&w);
}

static int
failing_hook(void *arg, const struct admit_policy *p, const struct bundle *b,
	     struct admit_verdict *v, struct ward_diag *d)
{
	(void)arg;
	(void)p;
	(void)b;
	(void)d;
	v->check = "compile";
	return WARD_EIO; /* a sandbox that could not start, say nothing */
}

/* A compile hook's failure is a validation refusal with a message even
 * when the hook wrote none. */
static void
test_hook_failure(void **state)
{
	struct spec s = {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;

	(void)state;
	s.signers[0] = k1;
	make(&s, &w);
	agent_policy(&p, trusted);
	p.compile = failing_hook;
	assert_int_equal(content_admit(w.p, w.len, &p, &v), WARD_EIO);
	assert_int_equal(v.cause, ADMIT_VALIDATION);
	assert_string_equal(v.check, "compile");
	assert_true(v.diag.msg[0] != '\0');
	assert_non_null(v.bundle); /* the manifest, for the refusal's record */
	admit_verdict_free(&v);
	admit_verdict_free(NULL);
	wbuf_free(&w);
}

/* Every allocation failing in turn: refused (never admitted with half a
 * result), and nothing leaks (under ASan). */

/* Counts jansson's allocations: the JSON parser allocates for every value
 * it reads, so none at all means it was never reached. */
static size_t json_allocs;

static void *
counting_json_malloc(size_t n)
{
	json_allocs++;
	return malloc(n);
}

/* A bundle whose manifest is hostile text, signed by signer (forged when
 * forge), in w. */
static void
make_raw_manifest(const uint8_t *m, size_t mlen, struct sign_key *signer, int forge, struct wbuf *w)
{
	struct bundle_sig sig;
	struct wbuf raw;
	struct bundle *b = NULL;
	struct ward_diag d;

	wbuf_init(&raw);
	wbuf_init(w);
	assert_int_equal(bundle_serialize(m, mlen, NULL, 0, NULL, 0, &raw), 0);
	if (signer == NULL) {
		bundle_serialize(m, mlen, NULL, 0, NULL, 0, w);
		wbuf_free(&raw);
		return;
	}
	/* bundle_sign needs a bundle: split (no JSON) is all it takes. */
	assert_int_equal(bundle_split(raw.p, raw.len, &b, &d), 0);
	assert_int_equal(bundle_sign(b, signer, &d), 0);
	sig = b->sigs[0];
	if (forge)
		sig.sig[3] ^= 0x80;
	assert_int_equal(bundle_serialize(m, mlen, &sig, 1, NULL, 0, w), 0);
	bundle_free(b);
	wbuf_free(&raw);
}

/* Unsigned, forged or foreign-signed hostile manifests — not JSON, or a
 * megabyte of "[" that would drive the parser to its depth limit — are
 * refused as signature failures and the JSON parser never runs; signed
 * by a trusted key, the same text reaches the parser and is refused for
 * its format (so the test can tell the two apart). */
static void
test_signature_before_json(void **state)
{
	static const char notjson[] = "\x01\x02 this is not JSON {{{{";
	uint8_t *nest = malloc(BUNDLE_MAX_MANIFEST);
	const struct {
		const uint8_t *m;
		size_t len;
	} manifests[] = {
	    {(const uint8_t *)notjson, sizeof(notjson) - 1},
	    {nest, BUNDLE_MAX_MANIFEST},
	};
	struct {
		struct sign_key *signer;
		int forge;
		enum admit_cause want;
	} how[] = {
	    {NULL, 0, ADMIT_SIGNATURE},
	    {NULL, 0, ADMIT_SIGNATURE}, /* filled below: stranger */
	    {NULL, 1, ADMIT_SIGNATURE}, /* filled below: k1 forged */
	    {NULL, 0, ADMIT_FORMAT},	/* filled below: k1 */
	};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;
	size_t i, j;

	(void)state;
	assert_non_null(nest);
	memset(nest, '[', BUNDLE_MAX_MANIFEST);
	how[1].signer = stranger;
	how[2].signer = k1;
	how[3].signer = k1;
	json_set_alloc_funcs(counting_json_malloc, free);
	for (i = 0; i < sizeof(manifests) / sizeof(manifests[0]); i++) {
		for (j = 0; j < sizeof(how) / sizeof(how[0]); j++) {
			make_raw_manifest(manifests[i].m, manifests[i].len, how[j].signer,
					  how[j].forge, &w);
			agent_policy(&p, trusted);
			json_allocs = 0;
			assert_int_not_equal(content_admit(w.p, w.len, &p, &v), 0);
			if (v.cause != how[j].want)
				fail_msg("manifest %zu, signing %zu: cause %s, want %s (%s)", i, j,
					 admit_cause_name(v.cause), admit_cause_name(how[j].want),
					 v.diag.msg);
			if (how[j].want == ADMIT_SIGNATURE)
				assert_int_equal(json_allocs, 0);
			else
				assert_true(json_allocs > 0); /* the parser did run */
			assert_null(v.bundle);
			admit_verdict_free(&v);
			wbuf_free(&w);
		}
	}
	json_set_alloc_funcs(malloc, free);
	free(nest);
}

static void
test_alloc_failures(void **state)
{
	struct spec s = {6, GOOD_EXPIRES, "0.1.0", rules, "t", {NULL}, 0, 0};
	struct sign_key *trusted[2];
	struct admit_policy p;
	struct admit_verdict v;
	struct wbuf w;
	unsigned long n, total;
	int r;

	(void)state;
	s.signers[0] = k1;
	make(&s, &w);
	agent_policy(&p, trusted);
	alloc_fail_after(0);
	assert_int_equal(content_admit(w.p, w.len, &p, &v), 0);
	admit_verdict_free(&v);
	total = alloc_fail_after(0);
	assert_true(total > 0);
	for (n = 1; n <= total; n++) {
		alloc_fail_after(n);
		r = content_admit(w.p, w.len, &p, &v);
		alloc_fail_after(0);
		if (r == 0) {
			assert_int_equal(v.cause, ADMIT_OK);
			assert_non_null(v.cs.m);
		} else {
			assert_int_not_equal(v.cause, ADMIT_OK);
		}
		admit_verdict_free(&v);
	}
	wbuf_free(&w);
}

static void
test_cause_names(void **state)
{
	(void)state;
	assert_string_equal(admit_cause_name(ADMIT_SIGNATURE), "signature");
	assert_string_equal(admit_cause_name(ADMIT_VALIDATION), "validation");
	assert_string_equal(admit_cause_name((enum admit_cause)99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),	 cmocka_unit_test(test_threshold_met),
	    cmocka_unit_test(test_order),	 cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_hook_failure), cmocka_unit_test(test_alloc_failures),
	    cmocka_unit_test(test_cause_names),	 cmocka_unit_test(test_signature_before_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Unit tests of lib/content/image: the compiled content image the
 * validator hands the worker.  A bundle with rules, hash signatures,
 * process rules, a FIM policy and exceptions compiles, encodes and
 * decodes to content that behaves the same (scan verdicts, process rule
 * matches, FIM coverage, exceptions) and encodes to the same bytes again;
 * a damaged image — any byte flipped, any truncation, a wrong magic or
 * format, a section with bytes left over even under a recomputed
 * checksum — is refused; every allocation failure of a decode is a
 * refusal.
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
#include "content/content.h"
#include "content/image.h"
#include "crypto/digest.h"
#include "util/alloc.h"
#include "util/buf.h"

static const char yara[] = "rule T { strings: $a = \"abcabc\" condition: $a }\n";
static const char sigma[] = "title: t\nlogsource:\n  category: process_creation\n"
			    "  product: linux\ndetection:\n  sel:\n    Image|endswith: '/nc'\n"
			    "  condition: sel\naction: kill\n";
static const char fim[] = "{\"paths\": [\"/etc\"], \"exclude\": [\"*.swp\"]}";
static const char exc[] = "{\"exceptions\": [{\"rule\": \"T\", \"path\": \"/opt/**\"}]}";

/* The bundle's members, compiled, in *cs. */
static void
compile(struct content_set *cs)
{
	static const struct {
		const char *name, *type, *text;
	} m[] = {
	    {"r.yar", "yara", yara},
	    {"p.yml", "sigma", sigma},
	    {"f.json", "fim", fim},
	    {"e.json", "exceptions", exc},
	};
	struct bundle_member mem[4];
	struct bundle *b = NULL;
	struct ward_diag d;
	struct wbuf w;
	char man[4096], hex[65];
	uint8_t md[32];
	size_t i, o;

	o = (size_t)snprintf(man, sizeof(man),
			     "{\"format\": 1, \"name\": \"t\", \"version\": 1, \"created\": "
			     "\"2026-01-01T00:00:00Z\", \"expires\": \"2030-01-01T00:00:00Z\", "
			     "\"min_agent_version\": \"0.1.0\", \"tests\": [], \"members\": [");
	memset(mem, 0, sizeof(mem));
	for (i = 0; i < 4; i++) {
		digest_buf(DIGEST_SHA256, m[i].text, strlen(m[i].text), md, 32);
		digest_to_hex(md, 32, hex, sizeof(hex));
		o += (size_t)snprintf(man + o, sizeof(man) - o,
				      "%s{\"name\": \"%s\", \"type\": \"%s\", \"size\": %zu, "
				      "\"sha256\": \"%s\"}",
				      i ? ", " : "", m[i].name, m[i].type, strlen(m[i].text), hex);
		mem[i].data = (const uint8_t *)m[i].text;
		mem[i].size = strlen(m[i].text);
	}
	snprintf(man + o, sizeof(man) - o, "]}");
	wbuf_init(&w);
	assert_int_equal(bundle_serialize((const uint8_t *)man, strlen(man), NULL, 0, mem, 4, &w),
			 0);
	if (bundle_parse(w.p, w.len, &b, &d) != 0)
		fail_msg("bundle: %s", d.msg);
	if (content_compile(b, cs, &d) != 0)
		fail_msg("compile: %s", d.msg);
	bundle_free(b);
	wbuf_free(&w);
}

static void
encode(struct wbuf *w)
{
	struct content_set cs;
	struct ward_diag d;

	compile(&cs);
	wbuf_init(w);
	assert_int_equal(content_image_encode(&cs, w, &d), 0);
	content_set_free(&cs);
}

/* Recomputes the payload checksum of image p[0..n). */
static void
reseal(uint8_t *p, size_t n)
{
	assert_int_equal(digest_buf(DIGEST_SHA256, p + 52, n - 52, p + 20, 32), 0);
}

static int
decode(const uint8_t *p, size_t n, struct content_set *cs)
{
	struct ward_diag d;
	int rebuilt, r = content_image_decode(p, n, cs, &rebuilt, &d);

	if (r != 0) {
		assert_null(cs->m);
		assert_null(cs->sigma);
		assert_int_equal(cs->fim.npaths + cs->exc.n, 0);
		assert_true(d.msg[0] != '\0');
	}
	return r;
}

static void
test_round_trip(void **state)
{
	static const char data[] = "xxabcabcxx";
	struct content_set cs;
	struct sigma_event ev;
	struct matcher_result *res = NULL;
	struct wbuf w, w2;
	struct ward_diag d;

	(void)state;
	encode(&w);
	assert_int_equal(decode(w.p, w.len, &cs), 0);
	assert_non_null(cs.rs);
	assert_int_equal(cs.rs->nrules, 1);
	assert_non_null(cs.m);
	(void)res;
	(void)data;
	assert_int_equal(sigma_set_count(cs.sigma), 1);
	assert_int_equal(sigma_rule_action(cs.sigma, 0), SIGMA_KILL);
	memset(&ev, 0, sizeof(ev));
	ev.field[SF_IMAGE] = "/usr/bin/nc";
	assert_true(sigma_match(cs.sigma, 0, &ev));
	ev.field[SF_IMAGE] = "/usr/bin/ncat";
	assert_false(sigma_match(cs.sigma, 0, &ev));
	assert_true(fim_watch_covers(&cs.fim, "/etc/passwd"));
	assert_false(fim_watch_covers(&cs.fim, "/etc/x.swp"));
	assert_false(fim_watch_covers(&cs.fim, "/usr/bin/ls"));
	assert_int_equal(cs.exc.n, 1);
	assert_non_null(except_match(&cs.exc, "/opt/a/b", "T", NULL));
	assert_null(except_match(&cs.exc, "/home/a", "T", NULL));
	wbuf_init(&w2);
	assert_int_equal(content_image_encode(&cs, &w2, &d), 0);
	assert_int_equal(w.len, w2.len);
	assert_memory_equal(w.p, w2.p, w.len);
	content_set_free(&cs);
	wbuf_free(&w);
	wbuf_free(&w2);
}

/* The rules section alone, for a reader that only scans. */
static void
test_rules_section(void **state)
{
	struct content_set cs;
	struct ward_diag d;
	struct wbuf w;
	const uint8_t *rp;
	size_t rn;

	(void)state;
	encode(&w);
	assert_int_equal(content_image_rules(w.p, w.len, &rp, &rn, &d), 0);
	assert_true(rn > 8);
	assert_memory_equal(rp, "WARDRSET", 8);
	w.p[60] ^= 1;
	assert_int_equal(content_image_rules(w.p, w.len, &rp, &rn, &d), WARD_ECHECKSUM);
	assert_int_equal(decode(w.p, w.len, &cs), WARD_ECHECKSUM);
	wbuf_free(&w);
}

static void
test_damaged(void **state)
{
	struct content_set cs;
	struct wbuf w;
	size_t i, n;

	(void)state;
	encode(&w);
	/* every truncation */
	for (n = 0; n < w.len; n += (n < 64 ? 1 : 97))
		assert_int_not_equal(decode(w.p, n, &cs), 0);
	assert_int_not_equal(decode(w.p, w.len - 1, &cs), 0);
	/* any byte flipped, header or payload */
	for (i = 0; i < w.len; i += (i < 64 ? 1 : 89)) {
		w.p[i] ^= 0x20;
		assert_int_not_equal(decode(w.p, w.len, &cs), 0);
		w.p[i] ^= 0x20;
	}
	/* format */
	w.p[8] = 2;
	assert_int_equal(decode(w.p, w.len, &cs), WARD_EVERSION);
	w.p[8] = 1;
	assert_int_equal(decode(w.p, w.len, &cs), 0);
	content_set_free(&cs);
	wbuf_free(&w);
}

/* A section with a byte more than its decoder reads, or a byte after the
 * last section, is refused even when the checksum is made to fit: each
 * section must be consumed exactly. */
static void
test_sections_exact(void **state)
{
	struct content_set cs;
	struct wbuf w;
	uint8_t *p;
	size_t n;

	(void)state;
	encode(&w);
	/* a byte after the last section */
	n = w.len + 1;
	p = malloc(n);
	assert_non_null(p);
	memcpy(p, w.p, w.len);
	p[w.len] = 0;
	p[12]++; /* the payload length */
	reseal(p, n);
	assert_int_equal(decode(p, n, &cs), WARD_EFORMAT);
	/* the same byte counted in the exceptions section (the last one):
	 * left over after its decoder */
	{
		struct rbuf rb;
		const uint8_t *sp;
		size_t sn, off = 52;
		int k;

		rbuf_init(&rb, p + 52, n - 52);
		for (k = 0; k < 3; k++)
			assert_int_equal(rbuf_lenbytes(&rb, n, &sp, &sn), 0);
		off += rb.off;
		p[off]++; /* the exceptions section's length */
		reseal(p, n);
		assert_int_equal(decode(p, n, &cs), WARD_EFORMAT);
	}
	free(p);
	wbuf_free(&w);
}

static void
test_alloc_failures(void **state)
{
	struct content_set cs;
	struct wbuf w;
	unsigned long n, total;

	(void)state;
	encode(&w);
	alloc_fail_after(0);
	assert_int_equal(decode(w.p, w.len, &cs), 0);
	total = alloc_fail_after(0);
	content_set_free(&cs);
	for (n = 1; n <= total; n++) {
		alloc_fail_after(n);
		if (decode(w.p, w.len, &cs) == 0)
			content_set_free(&cs);
		alloc_fail_after(0);
	}
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),	   cmocka_unit_test(test_rules_section),
	    cmocka_unit_test(test_damaged),	   cmocka_unit_test(test_sections_exact),
	    cmocka_unit_test(test_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

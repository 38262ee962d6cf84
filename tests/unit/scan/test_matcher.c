/*
 * Unit tests of the matcher: candidates from Vectorscan, exact verification,
 * windows over large files, hash signatures in the same read, per-file
 * values of externals, and the compiled rule file (rulefile) round trip and
 * refusals.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto/digest.h"
#include "rules/compile.h"
#include "scan/matcher.h"
#include "scan/rulefile.h"

struct fixture {
	struct ruleset *rs;
	struct hashsig_set *hs;
	struct matcher *m;
	struct matcher_scratch *s;
};

struct hits {
	char names[32][64];
	int n;
	const struct fixture *f;
	uint32_t count_of_first_string;
};

static int
collect(void *arg, const struct matcher_scratch *s, uint32_t rule, const char *hash_name)
{
	struct hits *h = arg;

	if (h->n < 32) {
		snprintf(h->names[h->n], sizeof(h->names[0]), "%s",
			 hash_name != NULL ? hash_name : h->f->rs->rules[rule].name);
		if (hash_name == NULL && h->f->rs->rules[rule].str_count > 0 && h->n == 0)
			h->count_of_first_string =
			    matcher_matches(s, h->f->rs->rules[rule].str_first)->n;
		h->n++;
	}
	return 0;
}

static void
fixture_load(struct fixture *f, const char *src, const char *hashes)
{
	struct rules_compiler *c = NULL;
	struct ward_diag d;

	memset(f, 0, sizeof(*f));
	diag_clear(&d);
	if (src != NULL) {
		assert_int_equal(rules_compiler_new(&c), 0);
		if (rules_compiler_add_string(c, "test.yar", src, strlen(src), &d) != 0)
			fail_msg("compile: %s:%d:%d: %s", d.file, d.line, d.col, d.msg);
		assert_int_equal(rules_compiler_finish(c, &f->rs, &d), 0);
		rules_compiler_free(c);
	}
	if (hashes != NULL) {
		const char *p = hashes;
		int line = 1;

		assert_int_equal(hashsig_new(&f->hs), 0);
		while (*p != '\0') {
			const char *e = strchr(p, '\n');
			size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

			assert_int_equal(hashsig_add_line(f->hs, "h", line++, p, n, &d), 0);
			p += n + (e != NULL);
		}
		assert_int_equal(hashsig_finish(f->hs), 0);
	}
	if (matcher_new(f->rs, f->hs, &f->m, &d) != 0)
		fail_msg("matcher: %s", d.msg);
	assert_int_equal(matcher_scratch_new(f->m, &f->s), 0);
}

static void
fixture_free(struct fixture *f)
{
	matcher_scratch_free(f->s);
	matcher_free(f->m);
	ruleset_free(f->rs);
	hashsig_free(f->hs);
}

static struct hits
scan_buf(const struct fixture *f, const char *data, size_t len)
{
	struct hits h;

	memset(&h, 0, sizeof(h));
	h.f = f;
	assert_int_equal(matcher_scan_buf(f->m, f->s, (const uint8_t *)data, len, collect, &h), 0);
	return h;
}

static void
test_text_and_hex(void **state)
{
	struct fixture f;
	struct hits h;
	static const char src[] =
	    "rule text { strings: $a = \"hello\" condition: #a == 2 }\n"
	    "rule hex { strings: $a = { 77 6F ?? 6C [0-2] 64 } condition: $a }\n"
	    "rule absent { strings: $a = \"absent\" condition: $a }\n"
	    "rule nostr { condition: filesize > 10 }\n";

	(void)state;
	fixture_load(&f, src, NULL);
	h = scan_buf(&f, "hello world, hello", 18);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.names[0], "text");
	assert_int_equal(h.count_of_first_string, 2);
	assert_string_equal(h.names[1], "hex");
	assert_string_equal(h.names[2], "nostr");
	h = scan_buf(&f, "hello", 5);
	assert_int_equal(h.n, 0);
	fixture_free(&f);
}

/*
 * A byte followed by a wildcard, far into the buffer: Debian 12's Vectorscan
 * 5.4.9 misses this on AVX-512 hosts (docs/dependencies.md).
 */
static void
test_engine_sanity(void **state)
{
	struct fixture f;
	struct hits h;
	char buf[300];
	static const char src[] =
	    "rule q { strings: $a = { 51 ?? } condition: #a == 2 }\n"
	    "rule c9 { strings: $a = { 3? C9 [6-15] 96 ?? } condition: $a }\n";

	(void)state;
	memset(buf, 'A', sizeof(buf));
	memcpy(buf + 100, "Qx", 2);
	memcpy(buf + 250, "Qy", 2);
	memcpy(buf + 200,
	       "7\xc9"
	       "AAAAAAAAAAAAAAA"
	       "\x96%",
	       19);
	fixture_load(&f, src, NULL);
	h = scan_buf(&f, buf, sizeof(buf));
	assert_int_equal(h.n, 2);
	assert_string_equal(h.names[0], "q");
	assert_string_equal(h.names[1], "c9");
	fixture_free(&f);
}

static void
test_overlapping_and_regex(void **state)
{
	struct fixture f;
	struct hits h;
	static const char src[] =
	    "rule aa { strings: $a = \"aa\" condition: #a == 3 }\n"
	    "rule re { strings: $a = /b+c/ condition: #a == 3 and !a[1] == 4 }\n";

	(void)state;
	fixture_load(&f, src, NULL);
	h = scan_buf(&f, "aaaa bbbc", 9);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.names[0], "aa");
	assert_string_equal(h.names[1], "re");
	fixture_free(&f);
}

/*
 * The same string in several rules is verified once and its matches
 * copied: each rule must still get every match at its own places, across
 * windows, and a string that differs only in a modifier is no twin.
 */
static void
test_same_string_in_several_rules(void **state)
{
	struct fixture f;
	struct hits h;
	static const char src[] =
	    "rule t1 { strings: $a = { 4D 5A [1-4] 50 45 ?? 00 } condition: #a == 3 and @a[2] == 12 "
	    "and !a[3] == 9 }\n"
	    "rule t2 { strings: $x = \"q\" $b = { 4D 5A [1-4] 50 45 ?? 00 } condition: #b == 3 and "
	    "@b[2] == 12 and !b[1] == 7 and not $x }\n"
	    "rule t3 { strings: $c = { 4D 5A [1-4] 50 45 ?? 00 } condition: #c == 3 }\n"
	    "rule n1 { strings: $d = \"MZ\" nocase condition: #d == 4 }\n"
	    "rule n2 { strings: $e = \"MZ\" condition: #e == 3 }\n";
	char data[] = "MZ.PE.\0.....MZ..PE.\0MZ...PE.\0mz";

	(void)state;
	fixture_load(&f, src, NULL);
	h = scan_buf(&f, data, sizeof(data) - 1);
	assert_int_equal(h.n, 5);
	assert_string_equal(h.names[0], "t1");
	assert_string_equal(h.names[1], "t2");
	assert_string_equal(h.names[2], "t3");
	assert_string_equal(h.names[3], "n1");
	assert_string_equal(h.names[4], "n2");
	fixture_free(&f);
}

static void
test_private_rule_not_reported(void **state)
{
	struct fixture f;
	struct hits h;
	static const char src[] = "private rule p { strings: $a = \"x\" condition: $a }\n"
				  "rule q { condition: p }\n";

	(void)state;
	fixture_load(&f, src, NULL);
	h = scan_buf(&f, "x", 1);
	assert_int_equal(h.n, 1);
	assert_string_equal(h.names[0], "q");
	fixture_free(&f);
}

static void
test_hash_signatures(void **state)
{
	struct fixture f;
	struct hits h;
	char line[256], hex[65];
	uint8_t md[32];

	(void)state;
	assert_int_equal(digest_buf(DIGEST_SHA256, "abc", 3, md, sizeof(md)), 0);
	assert_int_equal(digest_to_hex(md, 32, hex, sizeof(hex)), 0);
	snprintf(line, sizeof(line),
		 "sha256:%s:3:ABC.Sha\nmd5:900150983cd24fb0d6963f7d28e17f72:*:ABC.Md5", hex);
	fixture_load(&f, NULL, line);
	h = scan_buf(&f, "abc", 3);
	assert_int_equal(h.n, 2);
	h = scan_buf(&f, "abd", 3);
	assert_int_equal(h.n, 0);
	fixture_free(&f);
}

/* A file larger than one window, with matches on both sides of a boundary. */
static void
test_windows(void **state)
{
	struct fixture f;
	struct hits h;
	char path[] = "/tmp/ward-test-matcher-XXXXXX";
	char src[512];
	size_t w, size;
	uint8_t *buf;
	int fd;

	(void)state;
	fixture_load(&f, "rule hex { strings: $h = { 62 6F [1-4000] 79 } condition: #h >= 3 }",
		     NULL);
	w = matcher_window_size(f.m);
	fixture_free(&f);
	snprintf(src, sizeof(src),
		 "rule span { strings: $a = \"boundary-string\" "
		 "condition: #a == 3 and @a[3] == %zu }\n"
		 "rule hex { strings: $h = { 62 6F [1-4000] 79 } condition: #h >= 3 }\n"
		 "rule tail { condition: uint32be(filesize - 4) == 0x454e4421 }\n",
		 2 * w - 3);
	size = 2 * w + 4096;
	buf = calloc(1, size);
	assert_non_null(buf);
	memcpy(buf + w - 7, "boundary-string", 15);
	memcpy(buf + 10, "boundary-string", 15);
	memcpy(buf + 2 * w - 3, "boundary-string", 15);
	memcpy(buf + size - 4, "END!", 4);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	fixture_load(&f, src, NULL);
	memset(&h, 0, sizeof(h));
	h.f = &f;
	assert_int_equal(matcher_scan_fd(f.m, f.s, fd, size, collect, &h, NULL), 0);
	assert_int_equal(h.n, 3);
	assert_string_equal(h.names[0], "span");
	assert_string_equal(h.names[1], "hex");
	assert_string_equal(h.names[2], "tail");
	/* The same data in memory gives the same answer. */
	h = scan_buf(&f, (const char *)buf, size);
	assert_int_equal(h.n, 3);
	fixture_free(&f);
	close(fd);
	unlink(path);
	free(buf);
}

/* xor strings: found through the deltas of each window, across window
 * boundaries, with the key checked; a compiled rule file keeps both
 * databases and loads them without rebuilding. */
static void
test_xor_windows_and_rulefile(void **state)
{
	static const char str[] = "secret-xor-string";
	struct fixture f;
	struct hits h;
	struct ruleset *rs = NULL;
	struct hashsig_set *hs = NULL;
	struct matcher *m = NULL;
	struct matcher_scratch *ms = NULL;
	struct ward_diag d;
	char path[] = "/tmp/ward-test-matcher-XXXXXX";
	char rpath[] = "/tmp/ward-test-rulefile-XXXXXX";
	char src[512];
	size_t w, size, i, at[3], n = sizeof(str) - 1;
	uint8_t *buf;
	int fd, rebuilt = -1;

	(void)state;
	fixture_load(&f, "rule hex { strings: $h = { 62 6F [1-4000] 79 } condition: #h >= 3 }",
		     NULL);
	w = matcher_window_size(f.m);
	fixture_free(&f);
	at[0] = 10;
	at[1] = w - 7;
	at[2] = 2 * w - 3;
	snprintf(src, sizeof(src),
		 "rule x { strings: $x = \"%s\" xor condition: #x == 3 and @x[2] == %zu }\n"
		 "rule xr { strings: $x = \"%s\" xor(0x5a) condition: #x == 2 }\n"
		 "rule hex { strings: $h = { 62 6F [1-4000] 79 } condition: #h >= 3 }\n",
		 str, at[1], str);
	size = 2 * w + 4096;
	buf = calloc(1, size);
	assert_non_null(buf);
	for (i = 0; i < n; i++) {
		buf[at[0] + i] = (uint8_t)(str[i] ^ 0x5a);
		buf[at[1] + i] = (uint8_t)(str[i] ^ 0x01);
		buf[at[2] + i] = (uint8_t)(str[i] ^ 0x5a);
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	fixture_load(&f, src, NULL);
	memset(&h, 0, sizeof(h));
	h.f = &f;
	assert_int_equal(matcher_scan_fd(f.m, f.s, fd, size, collect, &h, NULL), 0);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.names[0], "x");
	assert_string_equal(h.names[1], "xr");
	h = scan_buf(&f, (const char *)buf, size);
	assert_int_equal(h.n, 2);
	close(fd);
	unlink(path);

	/* through a compiled rule file */
	fd = mkstemp(rpath);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rulefile_write(rpath, f.rs, f.hs, f.m, &d), 0);
	assert_int_equal(rulefile_read(rpath, &rs, &hs, &m, &rebuilt, &d), 0);
	assert_int_equal(rebuilt, 0);
	assert_int_equal(matcher_scratch_new(m, &ms), 0);
	memset(&h, 0, sizeof(h));
	h.f = &f;
	assert_int_equal(matcher_scan_buf(m, ms, buf, size, collect, &h), 0);
	assert_int_equal(h.n, 2);
	matcher_scratch_free(ms);
	matcher_free(m);
	ruleset_free(rs);
	hashsig_free(hs);
	unlink(rpath);
	fixture_free(&f);
	free(buf);
}

static void
test_rulefile_round_trip_and_damage(void **state)
{
	struct fixture f;
	struct ruleset *rs = NULL;
	struct hashsig_set *hs = NULL;
	struct matcher *m = NULL;
	struct ward_diag d;
	char path[] = "/tmp/ward-test-rulefile-XXXXXX";
	uint8_t *p;
	long len;
	int fd, rebuilt = -1;
	FILE *fp;
	static const char src[] = "rule r : t1 { meta: a = 1 strings: $a = \"needle\" nocase "
				  "condition: $a }\n";

	(void)state;
	fixture_load(&f, src, "md5:900150983cd24fb0d6963f7d28e17f72:3:ABC");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(rulefile_write(path, f.rs, f.hs, f.m, &d), 0);
	assert_int_equal(rulefile_read(path, &rs, &hs, &m, &rebuilt, &d), 0);
	assert_int_equal(rebuilt, 0);
	assert_int_equal(rs->nrules, 1);
	assert_string_equal(rs->rules[0].name, "r");
	matcher_free(m);
	ruleset_free(rs);
	hashsig_free(hs);

	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	p = malloc((size_t)len);
	assert_int_equal(fread(p, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);

	/* A flipped byte in the payload: checksum. */
	p[len / 2 + 40] ^= 0x40;
	assert_int_equal(rulefile_parse(p, (size_t)len, &rs, &hs, &m, &rebuilt, &d),
			 WARD_ECHECKSUM);
	p[len / 2 + 40] ^= 0x40;
	/* Another version. */
	p[12] = '9';
	assert_int_equal(rulefile_parse(p, (size_t)len, &rs, &hs, &m, &rebuilt, &d), WARD_EVERSION);
	assert_non_null(strstr(d.msg, "compiled by ward 9"));
	p[12] = WARD_VERSION[0];
	/* Another CPU family. */
	p[44] ^= 0x20;
	assert_int_equal(rulefile_parse(p, (size_t)len, &rs, &hs, &m, &rebuilt, &d), WARD_EVERSION);
	assert_non_null(strstr(d.msg, "CPU family"));
	p[44] ^= 0x20;
	/* Truncated. */
	assert_int_equal(rulefile_parse(p, (size_t)len - 1, &rs, &hs, &m, &rebuilt, &d),
			 WARD_ECHECKSUM);
	assert_int_equal(rulefile_parse(p, 20, &rs, &hs, &m, &rebuilt, &d), WARD_EFORMAT);
	/* Not a rule file at all. */
	assert_int_equal(rulefile_parse((const uint8_t *)"rule x { condition: true }", 26, &rs, &hs,
					&m, &rebuilt, &d),
			 WARD_EFORMAT);
	/* Intact again: loads. */
	assert_int_equal(rulefile_parse(p, (size_t)len, &rs, &hs, &m, &rebuilt, &d), 0);
	matcher_free(m);
	ruleset_free(rs);
	hashsig_free(hs);
	free(p);
	unlink(path);
	fixture_free(&f);
}

/*
 * One shared rule set, two scratches, each with its own externals for the
 * file: the results follow each scratch's values, the rule set's own stay
 * as they were, and NULL goes back to them.  A rule with strings (skipped
 * when none of them matched) still sees the file's value when one did.
 */
static void
test_per_file_externals(void **state)
{
	const char *src = "rule by_name { condition: filename == \"evil.exe\" }\n"
			  "rule by_name_and_string { strings: $a = \"MZ\" "
			  "condition: $a and filename iendswith \".exe\" }\n";
	struct rules_compiler *c = NULL;
	struct fixture f;
	struct matcher_scratch *s2 = NULL;
	struct rs_external *e1, *e2;
	struct ward_diag d;
	struct hits h;

	(void)state;
	memset(&f, 0, sizeof(f));
	diag_clear(&d);
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_define(c, "filename=", &d), 0);
	assert_int_equal(rules_compiler_add_string(c, "t.yar", src, strlen(src), &d), 0);
	assert_int_equal(rules_compiler_finish(c, &f.rs, &d), 0);
	rules_compiler_free(c);
	assert_int_equal(f.rs->next, 1);
	assert_int_equal(matcher_new(f.rs, NULL, &f.m, &d), 0);
	assert_int_equal(matcher_scratch_new(f.m, &f.s), 0);
	assert_int_equal(matcher_scratch_new(f.m, &s2), 0);
	e1 = calloc(1, sizeof(*e1));
	e2 = calloc(1, sizeof(*e2));
	assert_non_null(e1);
	assert_non_null(e2);
	*e1 = f.rs->ext[0];
	*e2 = f.rs->ext[0];
	e1->s = (char *)"evil.exe";
	e1->slen = 8;
	e2->s = (char *)"notes.txt";
	e2->slen = 9;

	/* the rule set's own value: "" */
	h = scan_buf(&f, "MZ..", 4);
	assert_int_equal(h.n, 0);
	matcher_scratch_externals(f.s, e1);
	matcher_scratch_externals(s2, e2);
	h = scan_buf(&f, "MZ..", 4);
	assert_int_equal(h.n, 2);
	assert_string_equal(h.names[0], "by_name");
	assert_string_equal(h.names[1], "by_name_and_string");
	h = scan_buf(&f, "....", 4); /* $a not found: only the rule without strings */
	assert_int_equal(h.n, 1);
	assert_string_equal(h.names[0], "by_name");
	{
		struct fixture f2 = f;

		f2.s = s2;
		h = scan_buf(&f2, "MZ..", 4);
		assert_int_equal(h.n, 0);
	}
	assert_int_equal(f.rs->ext[0].slen, 0);
	matcher_scratch_externals(f.s, NULL);
	h = scan_buf(&f, "MZ..", 4);
	assert_int_equal(h.n, 0);
	free(e1);
	free(e2);
	matcher_scratch_free(s2);
	fixture_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text_and_hex),
	    cmocka_unit_test(test_engine_sanity),
	    cmocka_unit_test(test_overlapping_and_regex),
	    cmocka_unit_test(test_same_string_in_several_rules),
	    cmocka_unit_test(test_private_rule_not_reported),
	    cmocka_unit_test(test_hash_signatures),
	    cmocka_unit_test(test_windows),
	    cmocka_unit_test(test_xor_windows_and_rulefile),
	    cmocka_unit_test(test_rulefile_round_trip_and_damage),
	    cmocka_unit_test(test_per_file_externals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

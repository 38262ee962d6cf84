/*
 * Unit tests of lib/rules/ruleset: save/load round trip, damaged and
 * truncated files refused, version and CPU checks, and a file whose
 * checksum is right but whose bytecode names a string that does not exist
 * (it must be refused by the verifier at load time); which externals the
 * rules read, and values of externals given per scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rules/compile.h"
#include "rules/cond.h"
#include "util/alloc.h"

static const char *const full_src =
    "rule a : t1 t2 { meta: k = \"v\" n = -3 b = true strings: $x = \"abc\" nocase "
    "$y = { 61 ?? 63 } $z = /b[cd]/ condition: $x and #y > 0 and $z }\n"
    "private rule b { condition: es matches /ab+c/ and ei == 5 }\n"
    "global rule c { strings: $w = \"X\" wide ascii condition: $w or b or true }\n"
    "rule d { strings: $ = \"q\" condition: for any of them : ($ at 0) or a }\n";

static struct ruleset *
compile(const char *src)
{
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;

	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_define(c, "ei=5", &d), 0);
	assert_int_equal(rules_compiler_define(c, "es=abbc", &d), 0);
	if (rules_compiler_add_string(c, "t", src, strlen(src), &d) != 0)
		fail_msg("%d:%d: %s", d.line, d.col, d.msg);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	return rs;
}

static uint32_t
crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		c ^= p[i];
		for (k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

/* Offset of the payload in a saved rule set (after the header). */
static size_t
payload_off(const uint8_t *p)
{
	size_t off = 12;
	uint32_t n;

	memcpy(&n, p + off, 4);
	off += 4 + n;
	memcpy(&n, p + off, 4);
	off += 4 + n;
	return off + 8;
}

static void
fix_crc(struct wbuf *w)
{
	size_t po = payload_off(w->p);
	uint32_t c = crc32(w->p + po, w->len - 4 - po);

	memcpy(w->p + w->len - 4, &c, 4);
}

static int
load(const uint8_t *p, size_t n, struct ruleset **out, struct ward_diag *d)
{
	struct rbuf r;

	rbuf_init(&r, p, n);
	memset(d, 0, sizeof(*d));
	return ruleset_load(&r, out, d);
}

static void
test_roundtrip(void **state)
{
	struct ruleset *rs = compile(full_src), *rs2;
	struct wbuf w, w2;
	struct ward_diag d;
	uint32_t i, k;

	(void)state;
	wbuf_init(&w);
	ruleset_save(rs, &w);
	assert_int_equal(w.err, 0);
	assert_int_equal(load(w.p, w.len, &rs2, &d), 0);
	assert_int_equal(rs2->nrules, rs->nrules);
	assert_int_equal(rs2->nstrings, rs->nstrings);
	assert_int_equal(rs2->next, rs->next);
	assert_int_equal(rs2->nregexes, rs->nregexes);
	for (i = 0; i < rs->nrules; i++) {
		assert_string_equal(rs2->rules[i].name, rs->rules[i].name);
		assert_string_equal(rs2->rules[i].ns, rs->rules[i].ns);
		assert_int_equal(rs2->rules[i].flags, rs->rules[i].flags);
		assert_int_equal(rs2->rules[i].ntags, rs->rules[i].ntags);
		for (k = 0; k < rs->rules[i].ntags; k++)
			assert_string_equal(rs2->rules[i].tags[k], rs->rules[i].tags[k]);
		assert_int_equal(rs2->rules[i].nmeta, rs->rules[i].nmeta);
		assert_int_equal(rs2->rules[i].code_len, rs->rules[i].code_len);
		assert_memory_equal(rs2->rules[i].code, rs->rules[i].code, rs->rules[i].code_len);
		assert_int_equal(rs2->rules[i].needs_strings, rs->rules[i].needs_strings);
	}
	assert_string_equal(rs2->rules[0].meta[0].s, "v");
	assert_int_equal(rs2->rules[0].meta[1].i, -3);
	for (i = 0; i < rs->nstrings; i++) {
		assert_string_equal(rs2->strings[i].id, rs->strings[i].id);
		assert_int_equal(pattern_flags(rs2->strings[i].pat),
				 pattern_flags(rs->strings[i].pat));
	}
	assert_string_equal(rs2->ext[1].s, "abbc");
	/* saving the loaded set gives the same bytes */
	wbuf_init(&w2);
	ruleset_save(rs2, &w2);
	assert_int_equal(w2.len, w.len);
	assert_memory_equal(w2.p, w.p, w.len);
	wbuf_free(&w2);
	ruleset_free(rs2);
	ruleset_free(rs);
	wbuf_free(&w);
}

static void
test_damage(void **state)
{
	struct ruleset *rs = compile(full_src), *rs2;
	struct ward_diag d;
	struct wbuf w;
	size_t i, po;
	int r;

	(void)state;
	wbuf_init(&w);
	ruleset_save(rs, &w);
	po = payload_off(w.p);
	/* every truncation is refused */
	for (i = 0; i < w.len; i++) {
		rs2 = NULL;
		assert_int_not_equal(load(w.p, i, &rs2, &d), 0);
		assert_null(rs2);
	}
	/* every flipped byte is refused (header checks or the checksum) */
	for (i = 0; i < w.len; i++) {
		w.p[i] ^= 0x41;
		rs2 = NULL;
		r = load(w.p, w.len, &rs2, &d);
		if (r == 0)
			fail_msg("flipped byte %zu accepted", i);
		assert_null(rs2);
		if (i >= po)
			assert_int_equal(r, WARD_ECHECKSUM);
		w.p[i] ^= 0x41;
	}
	assert_int_equal(load(w.p, w.len, &rs2, &d), 0);
	ruleset_free(rs2);
	/* not a rule set at all */
	assert_int_equal(load((const uint8_t *)"hello world, not rules", 22, &rs2, &d),
			 WARD_EFORMAT);
	assert_non_null(strstr(d.msg, "not a ward compiled rule set"));
	assert_int_equal(load(NULL, 0, &rs2, &d), WARD_EFORMAT);
	ruleset_free(rs);
	wbuf_free(&w);
}

static void
test_version(void **state)
{
	struct ruleset *rs = compile("rule a { condition: true }"), *rs2;
	struct ward_diag d;
	struct wbuf w;
	uint32_t n;

	(void)state;
	wbuf_init(&w);
	ruleset_save(rs, &w);
	/* another ward version (first byte of the version string) */
	w.p[16] ^= 1;
	assert_int_equal(load(w.p, w.len, &rs2, &d), WARD_EVERSION);
	assert_non_null(strstr(d.msg, "recompile"));
	w.p[16] ^= 1;
	/* another CPU family (first byte of the CPU string) */
	memcpy(&n, w.p + 12, 4);
	w.p[12 + 4 + n + 4] ^= 1;
	assert_int_equal(load(w.p, w.len, &rs2, &d), WARD_EVERSION);
	assert_non_null(strstr(d.msg, "built for"));
	w.p[12 + 4 + n + 4] ^= 1;
	/* another format number: format 1, from before loops over module
	 * arrays (COND_LOOP_ITEMS), is one an older ward wrote and read */
	assert_int_equal(w.p[8], 2);
	w.p[8] = 1;
	assert_int_equal(load(w.p, w.len, &rs2, &d), WARD_EVERSION);
	assert_non_null(strstr(d.msg, "(format 1)"));
	assert_non_null(strstr(d.msg, "(format 2): recompile"));
	w.p[8] = 2;
	assert_int_equal(load(w.p, w.len, &rs2, &d), 0);
	ruleset_free(rs2);
	ruleset_free(rs);
	wbuf_free(&w);
}

/* Finds the bytecode "FOUND <idx>" of a one-string rule in the saved file. */
static size_t
find_found(const struct wbuf *w, uint32_t idx)
{
	uint8_t pat[9] = {5, 0, 0, 0, COND_FOUND};
	size_t i;

	memcpy(pat + 5, &idx, 4);
	for (i = 0; i + sizeof(pat) <= w->len; i++)
		if (memcmp(w->p + i, pat, sizeof(pat)) == 0)
			return i + 5;
	fail_msg("bytecode not found");
	return 0;
}

/*
 * The analogue of the July 2024 incident: content whose checksum is fine but
 * whose logic refers to a field beyond those that exist.  The loader must
 * refuse it before anything can run it.
 */
static void
test_hostile_bytecode(void **state)
{
	struct ruleset *rs = compile("rule a { strings: $x = \"x\" condition: $x }\n"
				     "rule b { strings: $y = \"y\" condition: $y }\n"),
		       *rs2 = NULL;
	struct ward_diag d;
	struct wbuf w;
	size_t at;
	uint32_t v;

	(void)state;
	wbuf_init(&w);
	ruleset_save(rs, &w);
	/* rule b's FOUND 1 -> FOUND 2: a second string where b has one */
	at = find_found(&w, 1);
	v = 2;
	memcpy(w.p + at, &v, 4);
	fix_crc(&w);
	assert_int_equal(load(w.p, w.len, &rs2, &d), WARD_EVERIFY);
	assert_null(rs2);
	assert_non_null(strstr(d.msg, "string index out of range"));
	/* rule b's FOUND -> rule a's string */
	v = 0;
	memcpy(w.p + at, &v, 4);
	fix_crc(&w);
	assert_int_equal(load(w.p, w.len, &rs2, &d), WARD_EVERIFY);
	/* rule a's code -> PUSH_RULE 1 (a later rule) */
	at = find_found(&w, 0);
	w.p[at - 1] = COND_PUSH_RULE;
	v = 1;
	memcpy(w.p + at, &v, 4);
	fix_crc(&w);
	assert_int_equal(load(w.p, w.len, &rs2, &d), WARD_EVERIFY);
	assert_non_null(strstr(d.msg, "earlier rule"));
	ruleset_free(rs);
	wbuf_free(&w);
}

static void
test_eval_after_load(void **state)
{
	static const uint8_t data[] = "qabcXabc";
	struct rs_match mx[] = {{1, 3}, {5, 3}}, my[] = {{1, 3}}, mz[] = {{2, 2}}, mq[] = {{0, 1}};
	struct rs_matches m[5] = {{mx, 2, 2}, {my, 1, 1}, {mz, 1, 1}, {NULL, 0, 0}, {mq, 1, 1}};
	struct rs_scan_env env = {m, sizeof(data) - 1, NULL, NULL, NULL, NULL};
	struct ruleset *rs = compile(full_src), *rs2;
	struct ward_diag d;
	struct wbuf w;
	uint8_t r1[4], r2[4];

	(void)state;
	wbuf_init(&w);
	ruleset_save(rs, &w);
	assert_int_equal(load(w.p, w.len, &rs2, &d), 0);
	assert_int_equal(ruleset_eval(rs, &env, r1), 0);
	assert_int_equal(ruleset_eval(rs2, &env, r2), 0);
	assert_memory_equal(r1, r2, 4);
	assert_memory_equal(r1, "\1\1\1\1", 4);
	ruleset_free(rs2);
	ruleset_free(rs);
	wbuf_free(&w);
	ruleset_free(NULL);
}

/* Externals read by some rule, whatever the path to them, and not others. */
static void
test_externals_used(void **state)
{
	static const char src[] = "private rule p { condition: es contains \"b\" }\n"
				  "rule q { condition: p and for any i in (1..2) : (i == ei) }\n";
	struct rules_compiler *c;
	struct ruleset *rs;
	struct ward_diag d;
	struct rs_external *ext;
	struct rs_scan_env env = {NULL, 0, NULL, NULL, NULL, NULL};
	uint8_t used[4], res[2];

	(void)state;
	assert_int_equal(rules_compiler_new(&c), 0);
	assert_int_equal(rules_compiler_define(c, "unused=1", &d), 0);
	assert_int_equal(rules_compiler_define(c, "ei=5", &d), 0);
	assert_int_equal(rules_compiler_define(c, "es=abc", &d), 0);
	assert_int_equal(rules_compiler_define(c, "also_unused=x", &d), 0);
	assert_int_equal(rules_compiler_add_string(c, "t", src, sizeof(src) - 1, &d), 0);
	assert_int_equal(rules_compiler_finish(c, &rs, &d), 0);
	rules_compiler_free(c);
	assert_int_equal(rs->next, 4);
	memset(used, 7, sizeof(used));
	assert_int_equal(ruleset_externals_used(rs, used), 0);
	assert_memory_equal(used, "\0\1\1\0", 4);

	/* values per scan: the rule set's own, then others, without changing it */
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	assert_int_equal(res[1], 0); /* ei = 5 is not in 1..2 */
	ext = calloc(rs->next, sizeof(*ext));
	assert_non_null(ext);
	memcpy(ext, rs->ext, rs->next * sizeof(*ext));
	ext[1].i = 2;
	env.ext = ext;
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	assert_int_equal(res[1], 1);
	ext[2].s = (char *)"xyz";
	ext[2].slen = 3;
	assert_int_equal(ruleset_eval(rs, &env, res), 0);
	assert_int_equal(res[1], 0);
	assert_int_equal(rs->ext[1].i, 5);
	free(ext);

	/* a rule set with no externals */
	ruleset_free(rs);
	rs = compile("rule r { condition: true }");
	assert_int_equal(ruleset_externals_used(rs, used), 0);
	ruleset_free(rs);
}

/* The reserved meta ward_report_name: the last non-empty string one wins,
 * other types and empty strings are not names, and it survives save/load. */
static void
test_report_name(void **state)
{
	struct ruleset *rs, *back = NULL;
	struct ward_diag d;
	struct wbuf w;
	struct rbuf b;

	(void)state;
	rs = compile(
	    "rule plain { condition: true }\n"
	    "rule r1 { meta: ward_report_name = \"Win.Trojan.Agent-123\" condition: true }\n"
	    "rule r2 { meta: ward_report_name = \"A\" ward_report_name = \"B\" "
	    "condition: true }\n"
	    "rule r3 { meta: ward_report_name = 5 condition: true }\n"
	    "rule r4 { meta: ward_report_name = \"\" condition: true }\n");
	assert_string_equal(ruleset_report_name(&rs->rules[0]), "plain");
	assert_string_equal(ruleset_report_name(&rs->rules[1]), "Win.Trojan.Agent-123");
	assert_string_equal(ruleset_report_name(&rs->rules[2]), "B");
	assert_string_equal(ruleset_report_name(&rs->rules[3]), "r3");
	assert_string_equal(ruleset_report_name(&rs->rules[4]), "r4");
	wbuf_init(&w);
	ruleset_save(rs, &w);
	assert_int_equal(w.err, 0);
	rbuf_init(&b, w.p, w.len);
	assert_int_equal(ruleset_load(&b, &back, &d), 0);
	assert_string_equal(ruleset_report_name(&back->rules[1]), "Win.Trojan.Agent-123");
	ruleset_free(back);
	ruleset_free(rs);
	wbuf_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_version),	    cmocka_unit_test(test_hostile_bytecode),
	    cmocka_unit_test(test_eval_after_load), cmocka_unit_test(test_externals_used),
	    cmocka_unit_test(test_report_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of lib/scan/except: exceptions are parsed strictly from JSON
 * and from their text form (unknown keys, wrong types, malformed digests,
 * bad globs, control characters, overlong fields, duplicate ids and too
 * many entries are refused with a reason, and a failed parse leaves a list
 * as it was); globs match whole paths component by component, `**` only as
 * whole directories; hostile globs cost bounded time; every allocation
 * failure is survived.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crypto/digest.h"
#include "scan/except.h"
#include "util/alloc.h"
#include "util/buf.h"

#define EICAR_SHA "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

static int
check(const char *glob)
{
	return except_glob_check(glob, strlen(glob), NULL);
}

static void
test_glob_syntax(void **state)
{
	static const char *const good[] = {
	    "/opt/vendor/tool",	  "/opt/**",  "/**/x",	 "/a/**/b/**/c", "/a/*.so",
	    "/a/[a-z]?",	  "/a/[!.]*", "/a/[]x]", "/a/\\*",	 "/a/b c",
	    "/home/**/.cache/**", "/*",
	};
	static const char *const bad[] = {
	    "",	      "relative/path", "/",	 "//x",	   "/a//b",    "/a/",
	    "/a/./b", "/a/..",	       "/a**",	 "/a/**b", "/a/***",   "/a/b**c",
	    "/a/[x",  "/a/[x/y]",      "/a/b\\", "/a\\/b", "/a\x01/b", "/a/\t",
	};
	char big[WARD_MAX_EXCEPT_GLOB + 2];
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(check(good[i]), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_clear(&d);
		if (except_glob_check(bad[i], strlen(bad[i]), &d) == 0)
			fail_msg("glob \"%s\" was accepted", bad[i]);
		assert_true(d.msg[0] != '\0');
	}
	/* A class may not hold the separator: it is two components then. */
	assert_int_not_equal(check("/x[/]"), 0);
	/* An embedded NUL (the length says more than the string holds). */
	assert_int_not_equal(except_glob_check("/a\0b", 4, NULL), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(except_glob_check(big, strlen(big), NULL), WARD_ELIMIT);
	big[WARD_MAX_EXCEPT_GLOB] = '\0';
	assert_int_equal(except_glob_check(big, strlen(big), NULL), 0);
}

static void
test_glob_match(void **state)
{
	static const struct {
		const char *glob, *path;
		int want;
	} t[] = {
	    {"/opt/tool", "/opt/tool", 1},
	    {"/opt/tool", "/opt/tool2", 0},
	    {"/opt/tool", "/opt/tool/x", 0},
	    {"/opt/tool", "/x/opt/tool", 0}, /* anchored */
	    {"/opt/*", "/opt/a", 1},
	    {"/opt/*", "/opt/a/b", 0}, /* `*` stops at / */
	    {"/opt/*", "/opt", 0},
	    {"/opt/**", "/opt/a", 1},
	    {"/opt/**", "/opt/a/b/c", 1},
	    {"/opt/**", "/opt", 0}, /* a last ** is at least one component */
	    {"/opt/**", "/optx/a", 0},
	    {"/**/x", "/x", 1}, /* ** may be no directory at all */
	    {"/**/x", "/a/b/x", 1},
	    {"/**/x", "/a/b/xy", 0},
	    {"/a/**/b/**/c", "/a/b/c", 1},
	    {"/a/**/b/**/c", "/a/1/2/b/3/c", 1},
	    {"/a/**/b/**/c", "/a/1/2/b/3/d", 0},
	    {"/a/**/b/**/c", "/a/b/b/b/c", 1},
	    {"/home/**/.cache/**", "/home/u/.cache/x/y", 1},
	    {"/home/**/.cache/**", "/home/u/.cache", 0},
	    {"/home/**/.cache/**", "/home/.cachex/y", 0},
	    {"/a/*.so", "/a/lib.so", 1},
	    {"/a/*.so", "/a/.so", 1},
	    {"/a/*.so", "/a/lib.so.1", 0},
	    {"/a/*b*c", "/a/xbybzc", 1},
	    {"/a/*b*c", "/a/xbybzcd", 0},
	    {"/a/?", "/a/x", 1},
	    {"/a/?", "/a/xy", 0},
	    {"/a?b", "/a/b", 0}, /* ? is never / */
	    {"/a/[a-c]x", "/a/bx", 1},
	    {"/a/[a-c]x", "/a/dx", 0},
	    {"/a/[!a-c]x", "/a/dx", 1},
	    {"/a/[!a-c]x", "/a/ax", 0},
	    {"/a/[^.]*", "/a/.hidden", 0},
	    {"/a/[]x]", "/a/]", 1},
	    {"/a/[]x]", "/a/x", 1},
	    {"/a/\\*", "/a/*", 1},
	    {"/a/\\*", "/a/b", 0},
	    {"/a/[\\]]", "/a/]", 1},
	    {"/A/b", "/a/b", 0}, /* case counts */
	    {"/a/b", "a/b", 0},	 /* not an absolute path */
	    {"/a/b", "/a/b (deleted)", 0},
	    {"/*", "/", 0},
	    /* The examples of docs/agent.md. */
	    {"/opt/vendor/**", "/opt/vendor/bin/tool", 1},
	    {"/opt/vendor/**", "/opt/vendor/a/b/c", 1},
	    {"/opt/vendor/**", "/opt/vendor", 0},
	    {"/opt/vendor/**", "/opt/vendor2/x", 0},
	    {"/opt/vendor/*", "/opt/vendor/tool", 1},
	    {"/opt/vendor/*", "/opt/vendor/bin/tool", 0},
	    {"/home/**/.cache/**", "/home/ann/.cache/x", 1},
	    {"/home/**/.cache/**", "/home/.cache/a/b", 1},
	    {"/home/**/.cache/**", "/home/ann/.cachex/y", 0},
	    {"/srv/build/**/*.o", "/srv/build/a.o", 1},
	    {"/srv/build/**/*.o", "/srv/build/x/y/a.o", 1},
	    {"/srv/build/**/*.o", "/srv/build/a.c", 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(check(t[i].glob), 0);
		if (except_glob_match(t[i].glob, t[i].path) != t[i].want)
			fail_msg("%s against %s: want %d", t[i].glob, t[i].path, t[i].want);
	}
}

/* Globs made to backtrack as much as they can, against long paths: each
 * match must still be quick (bounded by glob x path). */
static void
test_glob_hostile_cost(void **state)
{
	char glob[WARD_MAX_EXCEPT_GLOB + 1], path[4096];
	struct timespec t0, t1;
	size_t i;
	double ms;

	(void)state;
	/* "/" "*a*a*a...*a" "b" against "/aaaa...a" (one component). */
	glob[0] = '/';
	for (i = 1; i + 3 < WARD_MAX_EXCEPT_GLOB; i += 2) {
		glob[i] = '*';
		glob[i + 1] = 'a';
	}
	glob[i++] = 'b';
	glob[i] = '\0';
	assert_int_equal(check(glob), 0);
	path[0] = '/';
	memset(path + 1, 'a', sizeof(path) - 2);
	path[sizeof(path) - 1] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(except_glob_match(glob, path), 0);
	/* "/" "**" "/a" repeated, then "/b", against "/a/a/a.../a". */
	glob[0] = '\0';
	while (strlen(glob) + 10 < WARD_MAX_EXCEPT_GLOB)
		strcat(glob, "/**/a");
	strcat(glob, "/b");
	assert_int_equal(check(glob), 0);
	for (i = 0; i + 2 < sizeof(path); i += 2) {
		path[i] = '/';
		path[i + 1] = 'a';
	}
	path[i] = '\0';
	assert_int_equal(except_glob_match(glob, path), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (ms > 500)
		fail_msg("two hostile globs took %.0f ms", ms);
}

static int
from(const char *text, unsigned flags, struct except *e, struct ward_diag *d)
{
	json_t *o = json_loads(text, JSON_ALLOW_NUL, NULL);
	int r;

	assert_non_null(o);
	diag_clear(d);
	r = except_from_json(o, flags, e, d);
	json_decref(o);
	return r;
}

static void
test_json_forms(void **state)
{
	struct except e;
	struct ward_diag d;
	char text[WARD_MAX_EXCEPT_TEXT];
	json_t *o;

	(void)state;
	assert_int_equal(
	    from("{\"sha256\": \"" EICAR_SHA "\", \"reason\": \"test file\"}", 0, &e, &d), 0);
	assert_int_equal(e.kind, EXCEPT_SHA256);
	assert_string_equal(e.reason, "test file");
	except_format(&e, text, sizeof(text));
	assert_string_equal(text, "sha256:" EICAR_SHA);
	except_clear(&e);
	/* Upper case is taken, and written back in lower case. */
	assert_int_equal(
	    from("{\"sha256\": "
		 "\"275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F\"}",
		 0, &e, &d),
	    0);
	except_format(&e, text, sizeof(text));
	assert_string_equal(text, "sha256:" EICAR_SHA);
	except_clear(&e);
	assert_int_equal(from("{\"path\": \"/opt/**\"}", 0, &e, &d), 0);
	assert_int_equal(e.kind, EXCEPT_PATH);
	except_clear(&e);
	assert_int_equal(from("{\"rule\": \"Packer X\", \"path\": \"/opt/**\"}", 0, &e, &d), 0);
	assert_int_equal(e.kind, EXCEPT_RULE);
	except_format(&e, text, sizeof(text));
	assert_string_equal(text, "rule:Packer X path:/opt/**");
	o = except_to_json(&e, 0);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "rule")), "Packer X");
	assert_string_equal(json_string_value(json_object_get(o, "path")), "/opt/**");
	assert_null(json_object_get(o, "id"));
	json_decref(o);
	except_clear(&e);
	/* With ids: required, and "added" and "by" allowed. */
	assert_int_equal(
	    from("{\"id\": 7, \"rule\": \"R\", \"added\": 1700000000, \"by\": \"ops\"}", EXCEPT_IDS,
		 &e, &d),
	    0);
	assert_int_equal(e.id, 7);
	assert_int_equal(e.added, 1700000000);
	assert_string_equal(e.by, "ops");
	o = except_to_json(&e, EXCEPT_IDS);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 7);
	json_decref(o);
	except_clear(&e);
	except_clear(NULL);
}

static void
test_json_refused(void **state)
{
	static const struct {
		const char *text;
		unsigned flags;
		const char *why;
	} t[] = {
	    {"[]", 0, "JSON object"},
	    {"{}", 0, "needs"},
	    {"{\"reason\": \"x\"}", 0, "needs"},
	    {"{\"sha256\": \"" EICAR_SHA "\", \"extra\": 1}", 0, "unknown key"},
	    {"{\"sha256\": \"" EICAR_SHA "\", \"path\": \"/a\"}", 0, "stands alone"},
	    {"{\"sha256\": \"" EICAR_SHA "\", \"rule\": \"R\"}", 0, "stands alone"},
	    {"{\"sha256\": \"275a021b\"}", 0, "64 hexadecimal"},
	    {"{\"sha256\": \"" EICAR_SHA "0\"}", 0, "64 hexadecimal"},
	    {"{\"sha256\": \"g75a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\"}",
	     0, "64 hexadecimal"},
	    {"{\"sha256\": 5}", 0, "strings"},
	    {"{\"path\": [\"/a\"]}", 0, "strings"},
	    {"{\"path\": \"a/b\"}", 0, "absolute"},
	    {"{\"path\": \"/a/../b\"}", 0, ".."},
	    {"{\"path\": \"/a\\u0000b\"}", 0, "non-empty string"},
	    {"{\"rule\": \"\"}", 0, "non-empty"},
	    {"{\"rule\": \"R\\n\"}", 0, "printable"},
	    {"{\"rule\": \" R\"}", 0, "space"},
	    {"{\"rule\": \"R path:/x\"}", 0, "path:"},
	    {"{\"rule\": \"caf\\u00e9\"}", 0, "printable"},
	    {"{\"rule\": \"R\", \"reason\": \"a\\u001bb\"}", 0, "control"},
	    {"{\"rule\": \"R\", \"reason\": 3}", 0, "strings"},
	    {"{\"rule\": \"R\", \"id\": 1}", 0, "unknown key"},
	    {"{\"rule\": \"R\", \"by\": \"x\"}", 0, "unknown key"},
	    {"{\"rule\": \"R\"}", EXCEPT_IDS, "\"id\""},
	    {"{\"rule\": \"R\", \"id\": 0}", EXCEPT_IDS, "\"id\""},
	    {"{\"rule\": \"R\", \"id\": -4}", EXCEPT_IDS, "\"id\""},
	    {"{\"rule\": \"R\", \"id\": 9007199254740993}", EXCEPT_IDS, "\"id\""},
	    {"{\"rule\": \"R\", \"id\": 1.0}", EXCEPT_IDS, "\"id\""},
	    {"{\"rule\": \"R\", \"id\": \"1\"}", EXCEPT_IDS, "\"id\""},
	    {"{\"rule\": \"R\", \"id\": 1, \"added\": -1}", EXCEPT_IDS, "\"added\""},
	    {"{\"rule\": \"R\", \"id\": 1, \"by\": \"a\\u0007\"}", EXCEPT_IDS, "control"},
	};
	struct except e;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (from(t[i].text, t[i].flags, &e, &d) == 0)
			fail_msg("accepted: %s", t[i].text);
		if (strstr(d.msg, t[i].why) == NULL)
			fail_msg("%s: said \"%s\", not \"%s\"", t[i].text, d.msg, t[i].why);
		assert_null(e.glob);
		assert_null(e.rule);
		assert_null(e.reason);
	}
}

static void
test_overlong_fields(void **state)
{
	char big[WARD_MAX_EXCEPT_GLOB + 64], text[sizeof(big) + 64];
	struct except e;
	struct ward_diag d;

	(void)state;
	memset(big, 'r', WARD_MAX_SIG_NAME + 1);
	big[WARD_MAX_SIG_NAME + 1] = '\0';
	snprintf(text, sizeof(text), "{\"rule\": \"%s\"}", big);
	assert_int_equal(from(text, 0, &e, &d), WARD_ELIMIT);
	big[WARD_MAX_SIG_NAME] = '\0';
	snprintf(text, sizeof(text), "{\"rule\": \"%s\"}", big);
	assert_int_equal(from(text, 0, &e, &d), 0);
	except_clear(&e);
	memset(big, 'x', WARD_MAX_EXCEPT_REASON + 1);
	big[WARD_MAX_EXCEPT_REASON + 1] = '\0';
	snprintf(text, sizeof(text), "{\"rule\": \"R\", \"reason\": \"%s\"}", big);
	assert_int_equal(from(text, 0, &e, &d), WARD_ELIMIT);
	/* The text form: a name past the limit is refused before it is copied. */
	memset(big, 'n', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(text, sizeof(text), "rule:%s", big);
	assert_int_equal(except_parse_text(text, &e, &d), WARD_ELIMIT);
}

static void
test_text_form(void **state)
{
	static const char *const good[] = {
	    "sha256:" EICAR_SHA,    "path:/opt/**",
	    "rule:EICAR_Test_File", "rule:Win.Test.EICAR_HDB-1 path:/srv/samples/**",
	    "path:/a b/c d",	    "rule:My Sig path:/x/y path:z",
	};
	static const char *const bad[] = {
	    "",	     "sha256:", "sha256:abc",	"md5:" EICAR_SHA,    "path:",  "path:relative",
	    "rule:", "rule: R", "rule:R path:", "rule:R path:/a//b", "Rule:R", "path /a",
	};
	char text[WARD_MAX_EXCEPT_TEXT];
	struct except e;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(except_parse_text(good[i], &e, &d), 0);
		except_format(&e, text, sizeof(text));
		assert_string_equal(text, good[i]);
		except_clear(&e);
	}
	assert_int_equal(except_parse_text("rule:My Sig path:/x/y path:z", &e, &d), 0);
	assert_string_equal(e.rule, "My Sig");
	assert_string_equal(e.glob, "/x/y path:z");
	except_clear(&e);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		diag_clear(&d);
		if (except_parse_text(bad[i], &e, &d) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_true(d.msg[0] != '\0');
		assert_null(e.rule);
		assert_null(e.glob);
	}
}

static int
member(struct except_list *l, const char *text, struct ward_diag *d)
{
	diag_clear(d);
	return except_member_parse(l, "exceptions/site.json", text, strlen(text), d);
}

static void
test_member(void **state)
{
	struct except_list l;
	struct ward_diag d;
	uint8_t sha[32];
	size_t n;

	(void)state;
	memset(&l, 0, sizeof(l));
	assert_int_equal(member(&l,
				"{\"exceptions\": [{\"sha256\": \"" EICAR_SHA "\"},"
				" {\"rule\": \"Packer\", \"path\": \"/opt/vendor/**\"},"
				" {\"path\": \"/srv/build/**\", \"reason\": \"CI\"}]}",
				&d),
			 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.v[2].id, 3);
	/* A second member goes on numbering. */
	assert_int_equal(member(&l, "{\"exceptions\": [{\"rule\": \"Other\"}]}", &d), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[3].id, 4);
	/* Refused members leave the list as it was, and name themselves. */
	assert_int_not_equal(
	    member(&l, "{\"exceptions\": [{\"rule\": \"A\"}, {\"rule\": \"A\"}]}", &d), 0);
	assert_string_equal(d.file, "exceptions/site.json");
	assert_non_null(strstr(d.msg, "same exception"));
	assert_int_not_equal(member(&l, "{\"exceptions\": [{\"rule\": \"B\"}, {\"rule\": 1}]}", &d),
			     0);
	assert_non_null(strstr(d.msg, "exceptions[1]"));
	assert_int_not_equal(member(&l, "{\"exceptions\": [], \"more\": 1}", &d), 0);
	assert_int_not_equal(member(&l, "[{\"rule\": \"B\"}]", &d), 0);
	assert_int_not_equal(member(&l, "{\"exceptions\": {}}", &d), 0);
	assert_int_not_equal(member(&l, "{\"exceptions\": [], \"exceptions\": []}", &d), 0);
	assert_int_not_equal(member(&l, "{\"exceptions\": [", &d), 0);
	assert_true(d.line >= 1);
	assert_int_not_equal(member(&l, "{\"exceptions\": [{\"id\": 1, \"rule\": \"B\"}]}", &d), 0);
	assert_int_equal(l.n, 4);
	/* Matching: first exception that applies. */
	assert_int_equal(digest_from_hex(EICAR_SHA, 64, sha, sizeof(sha), &n), 0);
	assert_null(except_match(&l, "/tmp/eicar", "EICAR", NULL));
	assert_int_equal(except_match(&l, "/tmp/eicar", "EICAR", sha)->id, 1);
	assert_int_equal(except_match(&l, "/opt/vendor/x/tool", "Packer", NULL)->id, 2);
	assert_null(except_match(&l, "/opt/other/tool", "Packer", NULL));
	assert_null(except_match(&l, NULL, "Packer", NULL));
	assert_int_equal(except_match(&l, "/srv/build/a.o", "Anything", NULL)->id, 3);
	assert_int_equal(except_match(&l, "/anywhere", "Other", NULL)->id, 4);
	assert_null(except_match(&l, "/anywhere", "other", NULL));
	assert_true(except_list_has_sha256(&l));
	except_list_remove(&l, 0);
	assert_false(except_list_has_sha256(&l));
	assert_int_equal(l.n, 3);
	assert_int_equal(except_list_find_id(&l, 2), 0);
	except_list_free(&l);
	assert_int_equal(l.n, 0);
	except_list_free(&l);
}

static void
test_list_limits_and_ids(void **state)
{
	struct except_list l, c;
	struct ward_diag d;
	json_t *arr = json_array(), *back;
	char name[32];
	unsigned i;

	(void)state;
	memset(&l, 0, sizeof(l));
	memset(&c, 0, sizeof(c));
	for (i = 0; i < WARD_MAX_EXCEPTIONS; i++) {
		snprintf(name, sizeof(name), "R%u", i);
		json_array_append_new(
		    arr, json_pack("{s:I, s:s}", "id", (json_int_t)i + 1, "rule", name));
	}
	assert_int_equal(except_list_from_json(&l, arr, EXCEPT_IDS, &d), 0);
	assert_int_equal(l.n, WARD_MAX_EXCEPTIONS);
	back = except_list_to_json(&l, EXCEPT_IDS);
	assert_true(json_equal(back, arr));
	json_decref(back);
	assert_int_equal(except_list_copy(&c, &l), 0);
	assert_int_equal(c.n, l.n);
	except_list_free(&c);
	/* One more is past the limit; the list stays as it was. */
	except_list_free(&l);
	json_array_append_new(arr, json_pack("{s:I, s:s}", "id", (json_int_t)5000, "rule", "X"));
	assert_int_equal(except_list_from_json(&l, arr, EXCEPT_IDS, &d), WARD_ELIMIT);
	assert_int_equal(l.n, 0);
	json_decref(arr);
	/* Ids are distinct, within the array and with what the list holds. */
	arr = json_loads("[{\"id\": 1, \"rule\": \"A\"}, {\"id\": 1, \"rule\": \"B\"}]", 0, NULL);
	assert_int_equal(except_list_from_json(&l, arr, EXCEPT_IDS, &d), WARD_EDUPLICATE);
	assert_non_null(strstr(d.msg, "exceptions[1]"));
	assert_int_equal(l.n, 0);
	json_decref(arr);
	arr = json_loads("[{\"id\": 1, \"rule\": \"A\"}]", 0, NULL);
	assert_int_equal(except_list_from_json(&l, arr, EXCEPT_IDS, &d), 0);
	assert_int_equal(except_list_from_json(&l, arr, EXCEPT_IDS, &d), WARD_EDUPLICATE);
	assert_int_equal(l.n, 1);
	assert_int_not_equal(except_list_from_json(&l, json_object_get(arr, "x"), 0, &d), 0);
	json_decref(arr);
	except_list_free(&l);
}

/* Every allocation of a parse fails in turn: an error, never a crash or a
 * leak (ASan), and the list as it was. */
static void
test_allocation_failures(void **state)
{
	static const char text[] =
	    "{\"exceptions\": [{\"sha256\": \"" EICAR_SHA "\", \"reason\": \"r\"},"
	    " {\"rule\": \"Packer\", \"path\": \"/opt/**\"}, {\"path\": \"/srv/**\"}]}";
	struct except_list l, c;
	struct except e;
	unsigned long n, i;
	struct ward_diag d;
	int r;

	(void)state;
	memset(&l, 0, sizeof(l));
	memset(&c, 0, sizeof(c));
	alloc_fail_after(0);
	assert_int_equal(except_member_parse(&l, "m", text, strlen(text), &d), 0);
	n = alloc_fail_after(0);
	except_list_free(&l);
	for (i = 1; i <= n + 1; i++) {
		alloc_fail_after(i);
		r = except_member_parse(&l, "m", text, strlen(text), &d);
		alloc_fail_after(0);
		assert_true(r == 0 || l.n == 0);
		if (r == 0)
			assert_int_equal(l.n, 3);
		except_list_free(&l);
	}
	assert_int_equal(except_parse_text("rule:R path:/a/**", &e, &d), 0);
	assert_int_equal(except_list_add(&l, &e, &d), 0);
	for (i = 1; i <= 4; i++) {
		alloc_fail_after(i);
		r = except_list_copy(&c, &l);
		alloc_fail_after(0);
		assert_true(r == 0 || c.n == 0);
		except_list_free(&c);
	}
	except_list_free(&l);
}

/* --- the compiled form (except_list_encode / except_list_decode) --------- */

static const char codec_member[] =
    "{\"exceptions\": ["
    "{\"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
    " \"reason\": \"empty file\"},"
    "{\"path\": \"/opt/vendor/lib[a-z]*.so\"},"
    "{\"rule\": \"Suspicious_Packer\", \"path\": \"/opt/**\", \"reason\": \"our packer\"},"
    "{\"rule\": \"EICAR\"}]}";

static void
codec_list(struct except_list *l)
{
	struct ward_diag d;

	memset(l, 0, sizeof(*l));
	assert_int_equal(except_member_parse(l, "x.json", codec_member, strlen(codec_member), &d),
			 0);
	assert_int_equal(l->n, 4);
}

/* A decoded list equals the original: same entries, same verdicts on a
 * table of detections, and it encodes to the same bytes again. */
static void
test_codec_round_trip(void **state)
{
	static const struct {
		const char *path, *rule;
		int with_sha;
	} cases[] = {
	    {"/x/empty", "Any", 1},
	    {"/x/empty", "Any", 0},
	    {"/opt/vendor/libz.so", "R", 0},
	    {"/opt/vendor/lib1.so", "R", 0},
	    {"/opt/a/b", "Suspicious_Packer", 0},
	    {"/home/a", "Suspicious_Packer", 0},
	    {"/home/a", "EICAR", 0},
	    {NULL, "EICAR", 0},
	};
	static const uint8_t empty_sha[32] = {0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
					      0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
					      0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
					      0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
	struct except_list l, back;
	struct ward_diag d;
	struct wbuf w, w2;
	struct rbuf rb;
	size_t i;

	(void)state;
	codec_list(&l);
	wbuf_init(&w);
	wbuf_init(&w2);
	assert_int_equal(except_list_encode(&l, &w), 0);
	rbuf_init(&rb, w.p, w.len);
	assert_int_equal(except_list_decode(&rb, &back, &d), 0);
	assert_int_equal(rbuf_left(&rb), 0);
	assert_int_equal(back.n, l.n);
	for (i = 0; i < l.n; i++) {
		char a[WARD_MAX_EXCEPT_TEXT], b[WARD_MAX_EXCEPT_TEXT];

		except_format(&l.v[i], a, sizeof(a));
		except_format(&back.v[i], b, sizeof(b));
		assert_string_equal(a, b);
		assert_int_equal(l.v[i].id, back.v[i].id);
		assert_true((l.v[i].reason == NULL) == (back.v[i].reason == NULL));
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *sha = cases[i].with_sha ? empty_sha : NULL;
		const struct except *x = except_match(&l, cases[i].path, cases[i].rule, sha);
		const struct except *y = except_match(&back, cases[i].path, cases[i].rule, sha);

		assert_true((x == NULL) == (y == NULL));
		if (x != NULL)
			assert_int_equal(x - l.v, y - back.v);
	}
	assert_int_equal(except_list_encode(&back, &w2), 0);
	assert_int_equal(w.len, w2.len);
	assert_memory_equal(w.p, w2.p, w.len);
	except_list_free(&l);
	except_list_free(&back);
	wbuf_free(&w);
	wbuf_free(&w2);
}

static int
codec_decode(const uint8_t *p, size_t n)
{
	struct except_list l;
	struct ward_diag d;
	struct rbuf rb;
	int r;

	rbuf_init(&rb, p, n);
	r = except_list_decode(&rb, &l, &d);
	if (r != 0) {
		assert_int_equal(l.n, 0);
		assert_null(l.v);
		assert_true(d.msg[0] != '\0');
	}
	except_list_free(&l);
	return r;
}

/* Every truncation of an encoded list, a count past the limit or past
 * what remains, a bad kind or flag, a string with a NUL or too long, a
 * kind whose fields disagree, a glob, rule name or reason that the JSON
 * parser would refuse, a negative id: each is refused, and no entry is
 * left half made. */
static void
test_codec_refused(void **state)
{
	struct except_list l;
	struct except e;
	struct wbuf w;
	size_t n;

	(void)state;
	codec_list(&l);
	wbuf_init(&w);
	assert_int_equal(except_list_encode(&l, &w), 0);
	for (n = 0; n < w.len; n++)
		assert_int_not_equal(codec_decode(w.p, n), 0);
	assert_int_equal(codec_decode(w.p, w.len), 0);
	/* counts: above WARD_MAX_EXCEPTIONS, above what remains */
	w.p[0] = 0xff, w.p[1] = 0xff;
	assert_int_equal(codec_decode(w.p, w.len), WARD_EFORMAT);
	w.p[0] = 5, w.p[1] = 0;
	assert_int_not_equal(codec_decode(w.p, w.len), 0);
	w.p[0] = 4;
	/* the first entry: kind at 4, sha at 5, flags at 37, then reason */
	w.p[4] = 0;
	assert_int_equal(codec_decode(w.p, w.len), WARD_EFORMAT);
	w.p[4] = 4;
	assert_int_equal(codec_decode(w.p, w.len), WARD_EFORMAT);
	w.p[4] = EXCEPT_SHA256;
	w.p[37] |= 0x10; /* an unknown flag */
	assert_int_equal(codec_decode(w.p, w.len), WARD_EFORMAT);
	w.p[37] &= 0x0f;
	w.p[42] = '\0'; /* a NUL inside the reason */
	assert_int_equal(codec_decode(w.p, w.len), WARD_EFORMAT);
	w.p[42] = '\n'; /* a control character in a reason */
	assert_int_not_equal(codec_decode(w.p, w.len), 0);
	w.p[42] = 'y';
	w.p[41] = 0x7f; /* a reason longer than the limit (and than the input) */
	assert_int_equal(codec_decode(w.p, w.len), WARD_EFORMAT);
	w.p[41] = 0;
	assert_int_equal(codec_decode(w.p, w.len), 0);
	wbuf_free(&w);
	except_list_free(&l);

	/* Entries the JSON parser would never make, encoded directly. */
	{
		static const struct {
			enum except_kind kind;
			const char *glob, *rule, *reason;
			int64_t id;
		} bad[] = {
		    {EXCEPT_SHA256, "/x", NULL, NULL, 1},	/* sha with a glob */
		    {EXCEPT_PATH, NULL, NULL, NULL, 1},		/* path without a glob */
		    {EXCEPT_PATH, "/x", "R", NULL, 1},		/* path with a rule */
		    {EXCEPT_RULE, NULL, NULL, NULL, 1},		/* rule without a rule */
		    {EXCEPT_PATH, "relative/*", NULL, NULL, 1}, /* not absolute */
		    {EXCEPT_PATH, "/a/../b", NULL, NULL, 1},	/* a .. component */
		    {EXCEPT_RULE, NULL, "R path:/x", NULL, 1},	/* the separator */
		    {EXCEPT_RULE, NULL, " R", NULL, 1},		/* a leading space */
		    {EXCEPT_RULE, NULL, "R", "a\x01", 1},	/* a control char */
		    {EXCEPT_RULE, NULL, "R", NULL, -1},		/* a negative id */
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct except_list one = {&e, 1, 1};

			memset(&e, 0, sizeof(e));
			e.kind = bad[i].kind;
			e.glob = (char *)bad[i].glob;
			e.rule = (char *)bad[i].rule;
			e.reason = (char *)bad[i].reason;
			e.id = bad[i].id;
			wbuf_init(&w);
			assert_int_equal(except_list_encode(&one, &w), 0);
			if (codec_decode(w.p, w.len) == 0)
				fail_msg("bad entry %zu was decoded", i);
			wbuf_free(&w);
		}
	}
}

/* Every allocation of a decode failed in turn: refused, nothing leaks. */
static void
test_codec_alloc_failures(void **state)
{
	struct except_list l;
	struct wbuf w;
	unsigned long n, total;

	(void)state;
	codec_list(&l);
	wbuf_init(&w);
	assert_int_equal(except_list_encode(&l, &w), 0);
	alloc_fail_after(0);
	assert_int_equal(codec_decode(w.p, w.len), 0);
	total = alloc_fail_after(0);
	for (n = 1; n <= total; n++) {
		alloc_fail_after(n);
		(void)codec_decode(w.p, w.len);
		alloc_fail_after(0);
	}
	wbuf_free(&w);
	except_list_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_glob_syntax),
	    cmocka_unit_test(test_glob_match),
	    cmocka_unit_test(test_glob_hostile_cost),
	    cmocka_unit_test(test_json_forms),
	    cmocka_unit_test(test_json_refused),
	    cmocka_unit_test(test_overlong_fields),
	    cmocka_unit_test(test_text_form),
	    cmocka_unit_test(test_member),
	    cmocka_unit_test(test_list_limits_and_ids),
	    cmocka_unit_test(test_allocation_failures),
	    cmocka_unit_test(test_codec_round_trip),
	    cmocka_unit_test(test_codec_refused),
	    cmocka_unit_test(test_codec_alloc_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

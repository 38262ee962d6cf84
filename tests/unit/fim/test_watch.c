/*
 * Unit tests of lib/fim/watch: a FIM policy from a bundle is parsed
 * strictly (unknown keys, non-strings, relative paths, "..", too many
 * entries are refused with the member's name), duplicates are kept once,
 * and coverage follows path components, not string prefixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fim/watch.h"

static int
parse(struct fim_watch *w, const char *text, struct ward_diag *d)
{
	diag_clear(d);
	return fim_watch_add_json(w, "fim/policy.json", text, strlen(text), d);
}

static void
test_valid_policy(void **state)
{
	struct fim_watch w;
	struct ward_diag d;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(parse(&w,
			       "{\"paths\": [\"/etc\", \"/root/.ssh/authorized_keys\", \"/etc\"],"
			       " \"exclude\": [\"*.swp\"]}",
			       &d),
			 0);
	assert_int_equal(w.npaths, 2);
	assert_int_equal(w.nexcludes, 1);
	assert_true(fim_watch_covers(&w, "/etc"));
	assert_true(fim_watch_covers(&w, "/etc/passwd"));
	assert_false(fim_watch_covers(&w, "/etcetera/passwd"));
	assert_false(fim_watch_covers(&w, "/etc/.passwd.swp"));
	assert_true(fim_watch_covers(&w, "/root/.ssh/authorized_keys"));
	assert_false(fim_watch_covers(&w, "/root/.ssh/id_rsa"));
	assert_true(fim_watch_excluded(&w, "/anything/x.swp"));
	/* A second member adds to the first. */
	assert_int_equal(parse(&w, "{\"paths\": [\"/usr/bin\"]}", &d), 0);
	assert_int_equal(w.npaths, 3);
	fim_watch_free(&w);
	assert_int_equal(w.npaths, 0);
}

static void
test_root_covers_everything(void **state)
{
	struct fim_watch w;
	struct ward_diag d;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(fim_watch_add_path(&w, "/", &d), 0);
	assert_true(fim_watch_covers(&w, "/etc/passwd"));
	fim_watch_free(&w);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "[\"/etc\"]",
	    "{\"paths\": [\"etc\"]}",
	    "{\"paths\": [\"/etc/../root\"]}",
	    "{\"paths\": [\"/etc/..\"]}",
	    "{\"paths\": [\"/etc/.\"]}",
	    "{\"paths\": \"/etc\"}",
	    "{\"paths\": [1]}",
	    "{\"paths\": [\"/etc\\u0000x\"]}",
	    "{\"exclude\": [\"\"]}",
	    "{\"watch\": [\"/etc\"]}",
	    "{\"paths\": [\"/etc\"], \"paths\": [\"/usr\"]}",
	    "{\"paths\": [\"/etc\"]",
	};
	struct fim_watch w;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&w, 0, sizeof(w));
		assert_int_not_equal(parse(&w, bad[i], &d), 0);
		assert_string_equal(d.file, "fim/policy.json");
		assert_true(d.msg[0] != '\0');
		fim_watch_free(&w);
	}
}

static void
test_limit(void **state)
{
	struct fim_watch w;
	struct ward_diag d;
	char path[32];
	int i;

	(void)state;
	memset(&w, 0, sizeof(w));
	for (i = 0; i < FIM_MAX_PATHS; i++) {
		snprintf(path, sizeof(path), "/p%d", i);
		assert_int_equal(fim_watch_add_path(&w, path, &d), 0);
	}
	assert_int_equal(fim_watch_add_path(&w, "/one-more", &d), WARD_ELIMIT);
	fim_watch_free(&w);
}

/* --- the compiled form (fim_watch_encode / fim_watch_decode) ------------ */

static int
codec_decode(const uint8_t *p, size_t n, struct fim_watch *w)
{
	struct ward_diag d;
	struct rbuf rb;
	int r;

	rbuf_init(&rb, p, n);
	r = fim_watch_decode(&rb, w, &d);
	if (r != 0) {
		assert_int_equal(w->npaths + w->nexcludes, 0);
		assert_true(d.msg[0] != '\0');
	} else if (rbuf_left(&rb) != 0) {
		r = -100; /* not consumed exactly */
	}
	return r;
}

/* A decoded policy covers exactly the paths the original covers, and
 * encodes to the same bytes again. */
static void
test_codec_round_trip(void **state)
{
	static const char *const paths[] = {
	    "/etc",
	    "/etc/passwd",
	    "/etc/x.swp",
	    "/etcetera",
	    "/usr/bin/ls",
	    "/usr/lib",
	    "/root/.ssh/authorized_keys",
	    "/root/.ssh/id_rsa",
	    "/",
	    "/etc/mtab",
	};
	struct fim_watch w, back;
	struct ward_diag d;
	struct wbuf a, b;
	size_t i;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(
	    parse(&w,
		  "{\"paths\": [\"/etc\", \"/usr/bin\", \"/root/.ssh/authorized_keys\"],"
		  " \"exclude\": [\"*.swp\", \"/etc/mtab\"]}",
		  &d),
	    0);
	wbuf_init(&a);
	wbuf_init(&b);
	assert_int_equal(fim_watch_encode(&w, &a), 0);
	assert_int_equal(codec_decode(a.p, a.len, &back), 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(fim_watch_covers(&w, paths[i]), fim_watch_covers(&back, paths[i]));
	assert_int_equal(fim_watch_encode(&back, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	fim_watch_free(&w);
	fim_watch_free(&back);
	wbuf_free(&a);
	wbuf_free(&b);
}

/* Every truncation, a count above FIM_MAX_PATHS, a string longer than
 * what remains or holding a NUL, a relative path or one with "..", an
 * empty exclusion: each refused, the policy left empty. */
static void
test_codec_refused(void **state)
{
	struct fim_watch w, back;
	struct ward_diag d;
	struct wbuf a;
	size_t n;

	(void)state;
	memset(&w, 0, sizeof(w));
	assert_int_equal(parse(&w, "{\"paths\": [\"/etc\"], \"exclude\": [\"*.swp\"]}", &d), 0);
	wbuf_init(&a);
	assert_int_equal(fim_watch_encode(&w, &a), 0);
	/* 1 path: count 0..3, len 4..7, "/etc" 8..11; count 12..15, len 16..19, "*.swp" */
	for (n = 0; n < a.len; n++)
		assert_int_not_equal(codec_decode(a.p, n, &back), 0);
	a.p[0] = FIM_MAX_PATHS + 1;
	assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EFORMAT);
	a.p[0] = 1;
	a.p[4] = 0xff;
	assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EFORMAT);
	a.p[4] = 4;
	a.p[10] = '\0';
	assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EFORMAT);
	a.p[10] = 'c';
	a.p[8] = 'e'; /* "eetc": relative */
	assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EINVAL);
	memcpy(a.p + 8, "/../", 4);
	assert_int_equal(codec_decode(a.p, a.len, &back), WARD_EINVAL);
	memcpy(a.p + 8, "/etc", 4);
	a.p[16] = 0; /* an empty exclusion, then five bytes left over */
	assert_int_not_equal(codec_decode(a.p, a.len, &back), 0);
	a.p[16] = 5;
	assert_int_equal(codec_decode(a.p, a.len, &back), 0);
	fim_watch_free(&back);
	fim_watch_free(&w);
	wbuf_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_policy),     cmocka_unit_test(test_root_covers_everything),
	    cmocka_unit_test(test_refused),	     cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_codec_round_trip), cmocka_unit_test(test_codec_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

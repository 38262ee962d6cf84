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
	assert_int_equal(parse(&w, "{\"paths\": [\"/etc\", \"/root/.ssh/authorized_keys\", \"/etc\"],"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_policy),
	    cmocka_unit_test(test_root_covers_everything),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

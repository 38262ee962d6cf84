/*
 * Unit tests of lib/util/conf: every type of key through a small table;
 * strings and list entries never overflow the field they go into; lists
 * stop at their capacity; errors name the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/conf.h"

struct t {
	char name[8];
	char dir[32];
	unsigned n;
	uint64_t size;
	int on, mode;
	char list[2][16];
	unsigned nlist;
	char guard[8];
};

static const char *const modes[] = {"off", "soft", "hard", NULL};

#define T struct t
static const struct conf_key keys[] = {
    {"name", CONF_NAME, offsetof(T, name), sizeof(((T *)0)->name), 0, 0, 0, NULL},
    {"a.dir", CONF_PATH, offsetof(T, dir), sizeof(((T *)0)->dir), 0, 0, 0, NULL},
    {"a.b.n", CONF_UINT, offsetof(T, n), sizeof(unsigned), 1, 10, 0, NULL},
    {"size", CONF_SIZE, offsetof(T, size), sizeof(uint64_t), 0, UINT64_MAX, 0, NULL},
    {"on", CONF_BOOL, offsetof(T, on), sizeof(int), 0, 0, 0, NULL},
    {"mode", CONF_CHOICE, offsetof(T, mode), sizeof(int), 0, 0, 0, modes},
    {"list", CONF_GLOBS, offsetof(T, list), sizeof(((T *)0)->list[0]), 0, 2, offsetof(T, nlist),
     NULL},
};

static int
load(const char *text, struct t *t, struct ward_diag *d)
{
	char path[] = "/tmp/ward-test-conf-XXXXXX";
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	memset(t, 0, sizeof(*t));
	memcpy(t->guard, "guard!!", 8);
	r = conf_load(path, keys, sizeof(keys) / sizeof(keys[0]), t, d);
	unlink(path);
	assert_memory_equal(t->guard, "guard!!", 8);
	return r;
}

static void
test_all_types(void **state)
{
	struct t t;
	struct ward_diag d;

	(void)state;
	assert_int_equal(load("name: web\na:\n  dir: /srv\n  b:\n    n: 7\nsize: 2M\non: yes\n"
			      "mode: hard\nlist: ['*.log', x]\n",
			      &t, &d),
			 0);
	assert_string_equal(t.name, "web");
	assert_string_equal(t.dir, "/srv");
	assert_int_equal(t.n, 7);
	assert_int_equal(t.size, 2u << 20);
	assert_int_equal(t.on, 1);
	assert_int_equal(t.mode, 2);
	assert_int_equal(t.nlist, 2);
	assert_string_equal(t.list[0], "*.log");
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text, *msg;
		int line;
	} cases[] = {
	    {"name: abcdefgh\n", "at most 7 characters", 1},
	    {"a:\n  dir: /0123456789012345678901234567890123456789\n", "absolute path", 2},
	    {"list: [a, b, c]\n", "too many entries", 1},
	    {"list: [0123456789abcdefXYZ]\n", "longer than 15 characters", 1},
	    {"a:\n  b:\n    n: 11\n", "out of range", 3},
	    {"a:\n  b:\n    c:\n      n: 1\n", "unknown key \"a.b.c\"", 3},
	    {"mode: medium\n", "mode must be off, soft or hard", 1},
	    {"on: maybe\n", "true or false", 1},
	    {"size: lots\n", "must be a number", 1},
	    {"name: [a]\n", "wrong kind of value", 1},
	    {"- a\n", "one mapping", 1},
	};
	struct t t;
	struct ward_diag d;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_clear(&d);
		assert_int_not_equal(load(cases[i].text, &t, &d), 0);
		if (strstr(d.msg, cases[i].msg) == NULL || d.line != cases[i].line)
			fail_msg("case %zu: got line %d \"%s\"", i, d.line, d.msg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_all_types),
	    cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of agent/onaccess_cache: a verdict is answered only for the
 * same file with the same times and size, decided with the same content
 * version and exceptions generation; a write drops it whatever its times;
 * a collision replaces; a long rule name is cut, never overflows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/onaccess_cache.h"
#include "util/alloc.h"

static struct stat
file(dev_t dev, ino_t ino, off_t size, time_t mtime)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_dev = dev;
	st.st_ino = ino;
	st.st_size = size;
	st.st_mtim.tv_sec = mtime;
	st.st_ctim.tv_sec = mtime;
	return st;
}

static void
test_hit_and_key(void **state)
{
	struct onaccess_cache *c = onaccess_cache_new(64);
	struct stat st = file(8, 1234, 100, 1000), other;
	char rule[64];
	int v = -1;

	(void)state;
	assert_non_null(c);
	assert_false(onaccess_cache_get(c, &st, 7, 3, &v, rule, sizeof(rule)));
	onaccess_cache_put(c, &st, 7, 3, 1, "EICAR");
	assert_true(onaccess_cache_get(c, &st, 7, 3, &v, rule, sizeof(rule)));
	assert_int_equal(v, 1);
	assert_string_equal(rule, "EICAR");
	/* new content, new exceptions: a miss, never the old verdict */
	assert_false(onaccess_cache_get(c, &st, 8, 3, &v, rule, sizeof(rule)));
	assert_false(onaccess_cache_get(c, &st, 7, 4, &v, rule, sizeof(rule)));
	/* the file changed in any way stat can see */
	other = st;
	other.st_size++;
	assert_false(onaccess_cache_get(c, &other, 7, 3, &v, rule, sizeof(rule)));
	other = st;
	other.st_mtim.tv_nsec = 1;
	assert_false(onaccess_cache_get(c, &other, 7, 3, &v, rule, sizeof(rule)));
	other = st;
	other.st_ctim.tv_nsec = 1; /* mtime put back with touch: ctime still moved */
	assert_false(onaccess_cache_get(c, &other, 7, 3, &v, rule, sizeof(rule)));
	other = st;
	other.st_dev = 9; /* the same inode number on another filesystem */
	assert_false(onaccess_cache_get(c, &other, 7, 3, &v, rule, sizeof(rule)));
	assert_false(onaccess_cache_same(&st, &other));
	assert_true(onaccess_cache_same(&st, &st));
	onaccess_cache_free(c);
}

static void
test_drop_on_write(void **state)
{
	struct onaccess_cache *c = onaccess_cache_new(16);
	struct stat st = file(8, 42, 10, 1000), now = st;
	int v;

	(void)state;
	onaccess_cache_put(c, &st, 1, 0, 0, NULL);
	assert_true(onaccess_cache_get(c, &st, 1, 0, &v, NULL, 0));
	assert_int_equal(v, 0);
	/* written with its times put back: the write event drops it anyway */
	now.st_mtim.tv_sec = 2000;
	onaccess_cache_drop(c, &now);
	assert_false(onaccess_cache_get(c, &st, 1, 0, &v, NULL, 0));
	onaccess_cache_free(c);
}

static void
test_collision_and_long_rule(void **state)
{
	struct onaccess_cache *c = onaccess_cache_new(1); /* every file in one slot */
	struct stat a = file(1, 1, 1, 1), b = file(1, 2, 1, 1);
	char longname[300], rule[64];
	int v;

	(void)state;
	memset(longname, 'R', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	onaccess_cache_put(c, &a, 1, 0, 1, longname);
	assert_true(onaccess_cache_get(c, &a, 1, 0, &v, rule, sizeof(rule)));
	assert_int_equal(strlen(rule), 63);
	onaccess_cache_put(c, &b, 1, 0, 0, "");
	assert_false(onaccess_cache_get(c, &a, 1, 0, &v, rule, sizeof(rule)));
	assert_true(onaccess_cache_get(c, &b, 1, 0, &v, rule, sizeof(rule)));
	/* dropping a, no longer there, leaves b */
	onaccess_cache_drop(c, &a);
	assert_true(onaccess_cache_get(c, &b, 1, 0, &v, rule, sizeof(rule)));
	onaccess_cache_free(c);
}

static void
test_new_fails(void **state)
{
	(void)state;
	assert_null(onaccess_cache_new(0));
	onaccess_cache_free(NULL);
	alloc_fail_after(1); /* the cache itself */
	assert_null(onaccess_cache_new(8));
	alloc_fail_after(2); /* its entries: nothing leaks (ASan) */
	assert_null(onaccess_cache_new(8));
	alloc_fail_after(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hit_and_key),
	    cmocka_unit_test(test_drop_on_write),
	    cmocka_unit_test(test_collision_and_long_rule),
	    cmocka_unit_test(test_new_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

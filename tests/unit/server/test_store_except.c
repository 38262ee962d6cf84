/*
 * Unit tests of server/store_except on an in-memory SQLite database: the
 * fleet's exceptions — ids that are revisions and never come back, the
 * same exception twice per group refused, the bound on how many, what an
 * agent of a group gets (the fleet's and its group's, in order, with who
 * and when), removal, and that every change wakes held check-ins (the
 * rollout generation moves).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/store.h"
#include "util/limits.h"

#define NOW 1700000000

static int
setup(void **state)
{
	struct db *db = NULL;
	struct ward_diag d;

	if (db_open("sqlite::memory:", &db, &d) != 0)
		return -1;
	if (store_migrate(db, &d) != 0) {
		db_close(db);
		return -1;
	}
	*state = db;
	return 0;
}

static int
teardown(void **state)
{
	db_close(*state);
	return 0;
}

static long long
generation(struct db *db)
{
	struct ward_diag d;
	char v[24];

	assert_int_equal(db_scalar(db, "SELECT value FROM settings WHERE name = 'generation'", NULL,
				   0, v, sizeof(v), &d),
			 0);
	return atoll(v);
}

static long long
add(struct db *db, const char *group, const char *spec, int want)
{
	char entry[300];
	struct ward_diag d;
	long long id = -1;

	snprintf(entry, sizeof(entry), "{\"path\": \"%s\"}", spec + 5);
	assert_int_equal(store_except_add(db, group, spec, entry, "ops", NOW, &id, &d), want);
	return id;
}

static void
test_add_list_remove(void **state)
{
	struct db *db = *state;
	struct ward_diag d;
	json_t *out = NULL, *removed = NULL;
	long long rev, g0;

	assert_int_equal(store_except_revision(db), 0);
	g0 = generation(db);
	assert_int_equal(add(db, "", "path:/opt/a/**", 0), 1);
	assert_true(generation(db) > g0);
	assert_int_equal(add(db, "icu", "path:/opt/b/**", 0), 2);
	assert_int_equal(add(db, "lab", "path:/opt/c/**", 0), 3);
	/* The same for the same group: refused, and nothing moves. */
	assert_int_equal(add(db, "icu", "path:/opt/b/**", WARD_EDUPLICATE), 0);
	assert_int_equal(store_except_revision(db), 3);
	/* The same for another group is another exception. */
	assert_int_equal(add(db, "lab", "path:/opt/b/**", 0), 4);
	assert_int_equal(store_except_list(db, &out, &d), 0);
	assert_int_equal(json_array_size(out), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "group")),
			    "icu");
	assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "match")),
			    "path:/opt/b/**");
	assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "path")),
			    "/opt/b/**");
	json_decref(out);
	/* An icu agent gets the fleet's and icu's, oldest first. */
	assert_int_equal(store_except_for(db, "icu", &rev, &out, &d), 0);
	assert_int_equal(rev, 4);
	assert_int_equal(json_array_size(out), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "id")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "id")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "added")), NOW);
	assert_string_equal(json_string_value(json_object_get(json_array_get(out, 1), "by")),
			    "ops");
	assert_null(json_object_get(json_array_get(out, 1), "group"));
	json_decref(out);
	/* Removed: the revision moves on; the id never comes back. */
	g0 = generation(db);
	assert_int_equal(store_except_remove(db, 2, &removed, &d), 0);
	assert_string_equal(json_string_value(json_object_get(removed, "match")), "path:/opt/b/**");
	json_decref(removed);
	assert_true(generation(db) > g0);
	assert_int_equal(store_except_revision(db), 5);
	assert_int_equal(store_except_remove(db, 2, &removed, &d), WARD_EUNDEFINED);
	assert_null(removed);
	assert_int_equal(add(db, "icu", "path:/opt/b/**", 0), 6);
	assert_int_equal(store_except_for(db, "nobody", &rev, &out, &d), 0);
	assert_int_equal(json_array_size(out), 1);
	json_decref(out);
}

static void
test_bound(void **state)
{
	struct db *db = *state;
	char spec[64];
	int i;

	for (i = 0; i < WARD_MAX_EXCEPTIONS; i++) {
		snprintf(spec, sizeof(spec), "path:/p/%d", i);
		add(db, i % 2 ? "g" : "", spec, 0);
	}
	assert_int_equal(add(db, "", "path:/one/more", WARD_ELIMIT), 0);
	assert_int_equal(store_except_revision(db), WARD_MAX_EXCEPTIONS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_add_list_remove, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

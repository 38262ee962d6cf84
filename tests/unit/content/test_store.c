/*
 * Unit tests of lib/content/store: install moves current to
 * last-known-good, state survives a reopen, rollback, bounded rejection
 * and crash lists, crash counting by time, a damaged state file, and the
 * removal of files no state names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "content/store.h"

static char dir[] = "/tmp/ward-test-store-XXXXXX";

static int
exists(const char *name)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/content/%s", dir, name);
	return access(p, F_OK) == 0;
}

static void
install(struct store_state *st, int64_t v, int64_t now)
{
	struct ward_diag d;

	assert_int_equal(store_install(dir, st, "test", v, now + 1000, (const uint8_t *)"B", 1,
				       (const uint8_t *)"C", 1, now, NULL, &d),
			 0);
}

static void
test_store(void **state)
{
	struct store_state st, again;
	struct ward_diag d;
	char p[512];
	FILE *f;
	unsigned i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(store_open(dir, &st, &d), 0);
	assert_false(st.current.present);
	install(&st, 3, 1000);
	install(&st, 5, 2000);
	assert_int_equal(st.current.version, 5);
	assert_int_equal(st.lkg.version, 3);
	assert_int_equal(st.highest, 5);
	assert_true(exists("v3.wrs") && exists("v5.wbundle"));
	install(&st, 6, 3000);
	/* Version 3 is neither current nor last-known-good any more. */
	assert_false(exists("v3.wrs") || exists("v3.wbundle"));
	/* Crashes and rejections persist. */
	store_crash(&st, 6, 3100);
	store_crash(&st, 6, 3200);
	store_crash(&st, 5, 3300);
	assert_int_equal(store_crashes_since(&st, 6, 3150), 1);
	assert_int_equal(store_crashes_since(&st, 6, 0), 2);
	for (i = 0; i < STORE_MAX_REJECTED + 5; i++)
		store_reject(&st, 100 + i, i % 2 ? CAUSE_SIGNATURE : CAUSE_VALIDATION, "bad",
			     4000 + i);
	assert_int_equal(st.nrejected, STORE_MAX_REJECTED);
	assert_int_equal(st.rejected[0].version, 105);
	assert_int_equal(store_save(dir, &st, &d), 0);
	assert_int_equal(store_open(dir, &again, &d), 0);
	assert_int_equal(again.current.version, 6);
	assert_int_equal(again.lkg.version, 5);
	assert_int_equal(again.ncrashes, 3);
	assert_int_equal(again.nrejected, STORE_MAX_REJECTED);
	assert_string_equal(again.rejected[STORE_MAX_REJECTED - 1].reason, "bad");
	/* A reason that quotes a bundle in another script, cut to the field
	 * inside a character, is saved and read back (whole characters). */
	{
		char longr[2 * sizeof(st.rejected[0].reason)];
		struct store_state third, copy = again;

		memset(longr, 0, sizeof(longr));
		for (i = 0; i + 2 < sizeof(longr) - 1; i += 2)
			memcpy(longr + i, "\xd0\xbe", 2);
		store_reject(&copy, 999, CAUSE_FORMAT, longr, 4999);
		assert_int_equal(store_save(dir, &copy, &d), 0);
		assert_int_equal(store_open(dir, &third, &d), 0);
		assert_int_equal(third.rejected[third.nrejected - 1].version, 999);
		assert_int_equal(strlen(third.rejected[third.nrejected - 1].reason) % 2, 0);
		assert_true(strlen(third.rejected[third.nrejected - 1].reason) > 200);
		assert_int_equal(store_save(dir, &again, &d), 0); /* as it was */
	}
	/* The cause survives a reopen. */
	assert_int_equal(again.rejected[0].cause, CAUSE_SIGNATURE); /* 105 */
	assert_int_equal(again.rejected[1].cause, CAUSE_VALIDATION);
	/* Rollback: 5 current again, 6 rejected, no last-known-good left. */
	assert_int_equal(
	    store_rollback(dir, &again, CAUSE_CRASH_GUARD, "the worker crashed", 5000, &d), 0);
	assert_int_equal(again.current.version, 5);
	assert_false(again.lkg.present);
	assert_int_equal(again.highest, 6);
	assert_string_equal(again.rejected[STORE_MAX_REJECTED - 1].reason, "the worker crashed");
	assert_int_equal(again.rejected[STORE_MAX_REJECTED - 1].cause, CAUSE_CRASH_GUARD);
	assert_false(exists("v6.wrs"));
	assert_int_equal(store_rollback(dir, &again, CAUSE_OPERATOR_ROLLBACK, "again", 5001, &d),
			 WARD_EINVAL);
	/* A leftover temporary file goes at the next collection. */
	snprintf(p, sizeof(p), "%s/content/v9.wrs.tmp.123", dir);
	f = fopen(p, "w");
	fclose(f);
	store_gc(dir, &again);
	assert_false(exists("v9.wrs.tmp.123"));
	/* A state file written before causes: its refusals are plain ones,
	 * whatever their reasons say; a cause this build does not know too. */
	snprintf(p, sizeof(p), "%s/content/state.json", dir);
	f = fopen(p, "w");
	fputs("{\"highest_version\": 6, \"current\": null, \"last_known_good\": null,"
	      " \"rejected\": [{\"version\": 6, \"reason\": \"crash guard: the worker crashed 3"
	      " times\", \"at\": \"2026-12-01T10:00:00Z\"}, {\"version\": 7, \"reason\": \"r\","
	      " \"cause\": \"from-the-future\", \"at\": \"2026-12-01T10:00:00Z\"}, {\"version\":"
	      " 8, \"reason\": \"r\", \"cause\": \"fleet-rollback\", \"at\":"
	      " \"2026-12-01T10:00:00Z\"}]}",
	      f);
	fclose(f);
	assert_int_equal(store_open(dir, &again, &d), 0);
	assert_int_equal(again.nrejected, 3);
	assert_int_equal(again.rejected[0].cause, CAUSE_REFUSED);
	assert_int_equal(again.rejected[1].cause, CAUSE_REFUSED);
	assert_int_equal(again.rejected[2].cause, CAUSE_FLEET_ROLLBACK);
	/* A damaged state file is reported, not half-read. */
	snprintf(p, sizeof(p), "%s/content/state.json", dir);
	f = fopen(p, "w");
	fputs("{\"highest_version\": 3, \"current\": {\"name\": 5}}", f);
	fclose(f);
	assert_int_equal(store_open(dir, &again, &d), WARD_EFORMAT);
	assert_false(again.current.present);
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	assert_int_equal(system(p), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_store),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

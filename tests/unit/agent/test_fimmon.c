/*
 * Unit tests of agent/fimmon without fanotify: the sensor's context (made
 * idle with no catch-up begun, freed, each out-of-memory failure of it
 * survived), and a reload that keeps fim.realtime off leaving it off
 * without a thread or a word.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/config.h"
#include "agent/fimmon.h"
#include "util/alloc.h"

/* The fake host: counts what the sensor emitted and logged. */
static unsigned said;

static void
host_emit(void *arg, json_t *ev)
{
	(void)arg;
	said++;
	json_decref(ev);
}

static void
host_log(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	said++;
}

static const struct sensor_host host = {.emit = host_emit, .log = host_log};

/* A new sensor is off, counts nothing, has begun no catch-up (and no
 * time runs for one); new content reaches nothing in it. */
static void
new_is_idle(void **state)
{
	struct fimmon_ctx *f = fimmon_new();
	struct fimmon_stats st, zst;
	struct fimmon_catchup cu, zcu;
	char partial[64] = "x";

	(void)state;
	assert_non_null(f);
	assert_false(fimmon_running(f));
	memset(&st, 0xff, sizeof(st));
	memset(&cu, 0xff, sizeof(cu));
	memset(&zst, 0, sizeof(zst));
	memset(&zcu, 0, sizeof(zcu));
	fimmon_get_stats(f, &st, &cu, partial, sizeof(partial));
	assert_memory_equal(&st, &zst, sizeof(st));
	assert_int_equal(cu.state, FIMMON_CATCHUP_IDLE);
	assert_memory_equal(&cu, &zcu, sizeof(cu));
	assert_string_equal(partial, "");
	fimmon_content_changed(f);
	assert_false(fimmon_running(f));
	fimmon_free(f);
	fimmon_free(NULL);
}

/* A reload with fim.realtime false reaches a sensor that never started:
 * it stays off, and nothing is said. */
static void
reload_keeps_it_off(void **state)
{
	struct agent_config *c = calloc(1, sizeof(*c)); /* 200 KiB: not on the stack */
	struct fimmon_ctx *f = fimmon_new();
	struct fimmon_stats st;
	struct fimmon_catchup cu;
	char why[256] = "x", partial[8];

	(void)state;
	assert_non_null(c);
	assert_non_null(f);
	config_defaults(c);
	c->fim_realtime = 0;
	said = 0;
	assert_int_equal(fimmon_reconfigure(f, &host, c, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_false(fimmon_running(f));
	fimmon_get_stats(f, &st, &cu, partial, sizeof(partial));
	assert_int_equal(cu.state, FIMMON_CATCHUP_IDLE);
	assert_int_equal(said, 0);
	fimmon_free(f);
	free(c);
}

/* Every allocation of a new sensor failing in turn: NULL, nothing leaked
 * (ASan's leak check says). */
static void
new_out_of_memory(void **state)
{
	unsigned long n, total;
	struct fimmon_ctx *f;

	(void)state;
	(void)alloc_fail_after(0);
	fimmon_free(fimmon_new());
	total = alloc_fail_after(0);
	assert_true(total >= 1);
	for (n = 1; n <= total; n++) {
		(void)alloc_fail_after(n);
		f = fimmon_new();
		(void)alloc_fail_after(0);
		assert_null(f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(new_is_idle),
	    cmocka_unit_test(reload_keeps_it_off),
	    cmocka_unit_test(new_out_of_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of agent/sensors: the three sensors' tables over their own
 * contexts, not started — what each wants of the configuration, the
 * status of one that is off (its usual reason, or the set's), and the FIM
 * paths' part of the status.
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
#include "agent/onaccess.h"
#include "agent/procmon.h"
#include "agent/sensors.h"

/* ops's status of ctx with the set's reason off: off, and why. */
static void
off_says(const struct sensor_ops *ops, void *ctx, const char *off, const char *want)
{
	json_t *o = ops->stats(ctx, off);

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "off");
	assert_string_equal(json_string_value(json_object_get(o, "reason")), want);
	/* No counters of a sensor that is not running, nor a catch-up. */
	assert_null(json_object_get(o, "counters"));
	assert_null(json_object_get(o, "catch_up"));
	json_decref(o);
}

static void
idle_sensors_say_why_they_are_off(void **state)
{
	struct onaccess *o = onaccess_new();
	struct fimmon_ctx *f = fimmon_new();
	struct procmon *pm = procmon_new();

	(void)state;
	assert_non_null(o);
	assert_non_null(f);
	assert_non_null(pm);
	off_says(&sensors_onaccess, o, "", "no onaccess.paths configured");
	off_says(&sensors_onaccess, o, "safe mode", "safe mode");
	off_says(&sensors_fim, f, "", "fim.realtime is false");
	off_says(&sensors_fim, f, "fanotify is not available", "fanotify is not available");
	off_says(&sensors_procmon, pm, "", "disabled");
	off_says(&sensors_procmon, pm, "safe mode", "safe mode");
	/* New content and names: each table says what it is. */
	sensors_onaccess.content_changed(o);
	sensors_fim.content_changed(f);
	assert_string_equal(sensors_onaccess.name, "onaccess");
	assert_string_equal(sensors_fim.name, "fim");
	assert_string_equal(sensors_procmon.name, "procmon");
	assert_int_equal(sensors_onaccess.reload, CONFIG_ONACCESS);
	assert_int_equal(sensors_fim.reload, CONFIG_FIM);
	onaccess_free(o);
	fimmon_free(f);
	procmon_free(pm);
}

static void
what_each_wants(void **state)
{
	struct agent_config *c = calloc(1, sizeof(*c)); /* 200 KiB: not on the stack */

	(void)state;
	assert_non_null(c);
	config_defaults(c);
	c->onaccess_npaths = c->onaccess_nblock_open = 0;
	c->fim_realtime = 0;
	assert_false(sensors_onaccess.wanted(c));
	assert_false(sensors_fim.wanted(c));
	assert_null(sensors_procmon.wanted); /* always */
	c->onaccess_npaths = 1;
	assert_true(sensors_onaccess.wanted(c));
	c->onaccess_npaths = 0;
	c->onaccess_nblock_open = 1;
	assert_true(sensors_onaccess.wanted(c));
	c->fim_realtime = 1;
	assert_true(sensors_fim.wanted(c));
	free(c);
}

static void
fim_paths(void **state)
{
	json_t *fim = json_object(), *paths;

	(void)state;
	sensors_fim_paths(fim, json_pack("[s]", "/srv/www"), json_pack("[s, s]", "/etc", "/bin"),
			  0);
	paths = json_object_get(fim, "paths");
	assert_true(json_is_object(paths));
	assert_string_equal(json_string_value(json_array_get(json_object_get(paths, "config"), 0)),
			    "/srv/www");
	assert_int_equal(json_array_size(json_object_get(paths, "content")), 2);
	assert_true(json_is_false(json_object_get(fim, "content_paths")));
	json_decref(fim);
	/* No FIM object (the sensor's status failed): the lists are dropped
	 * (ASan's leak check says). */
	sensors_fim_paths(NULL, json_pack("[s]", "/a"), json_pack("[]"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(idle_sensors_say_why_they_are_off),
	    cmocka_unit_test(what_each_wants),
	    cmocka_unit_test(fim_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

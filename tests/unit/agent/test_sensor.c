/*
 * Unit tests of agent/sensor: the worker's wiring of its sensors, driven
 * with fake sensors and a fake host — start order, a sensor that wants
 * nothing is not started, one that fails is reported off (log line,
 * sensor-off alert, status reason) while the others run, safe mode starts
 * none, reloads reach only the sensors that follow the group, content
 * changes reach all in order, stop runs in reverse over the started ones.
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
#include "agent/sensor.h"

/* What happened, in order: "start:a start:b stop:a ...". */
static char calls[2048];

static void
call(const char *what, const char *name)
{
	size_t n = strlen(calls);

	snprintf(calls + n, sizeof(calls) - n, "%s%s:%s", n ? " " : "", what, name);
}

/* A fake sensor's context: its name, what it wants and how it fails. */
struct fake {
	const char *name;
	int wanted;
	int fail_start;	      /* start returns this */
	int fail_reconfigure; /* reconfigure returns this */
	const char *why;      /* the reason it gives ("" gives none) */
};

static int
fake_wanted(const struct agent_config *c)
{
	(void)c;
	return 1;
}

static int
fake_start(void *ctx, const struct sensor_host *h, const struct agent_config *c, char *why,
	   size_t whylen)
{
	struct fake *f = ctx;

	(void)h;
	(void)c;
	call("start", f->name);
	if (f->fail_start != 0)
		snprintf(why, whylen, "%s", f->why);
	return f->fail_start;
}

static int
fake_reconfigure(void *ctx, const struct sensor_host *h, const struct agent_config *c, char *why,
		 size_t whylen)
{
	struct fake *f = ctx;

	(void)h;
	(void)c;
	call("reconfigure", f->name);
	if (f->fail_reconfigure != 0)
		snprintf(why, whylen, "%s", f->why);
	return f->fail_reconfigure;
}

static void
fake_content_changed(void *ctx)
{
	call("content", ((struct fake *)ctx)->name);
}

static void
fake_stop(void *ctx)
{
	call("stop", ((struct fake *)ctx)->name);
}

static json_t *
fake_stats(void *ctx, const char *off)
{
	return json_pack("{s:s, s:s}", "name", ((struct fake *)ctx)->name, "off", off);
}

/* Each fake gets its own ops, so that "wanted" can differ per sensor. */
static int
fake_not_wanted(const struct agent_config *c)
{
	(void)c;
	return 0;
}

static struct sensor_ops
ops_of(const char *name, int wanted, unsigned reload)
{
	struct sensor_ops o = {
	    .name = name,
	    .what = name,
	    .reload = reload,
	    .wanted = wanted ? fake_wanted : fake_not_wanted,
	    .start = fake_start,
	    .reconfigure = fake_reconfigure,
	    .content_changed = fake_content_changed,
	    .stop = fake_stop,
	    .stats = fake_stats,
	};

	return o;
}

/* The fake host: what was logged and emitted. */
struct host_log {
	char lines[2048];
	json_t *events;
};

static void
host_emit(void *arg, json_t *ev)
{
	struct host_log *l = arg;

	assert_non_null(ev);
	json_array_append_new(l->events, ev);
}

static void
host_log(void *arg, const char *msg)
{
	struct host_log *l = arg;
	size_t n = strlen(l->lines);

	snprintf(l->lines + n, sizeof(l->lines) - n, "%s\n", msg);
}

struct rig {
	struct host_log log;
	struct sensor_host host;
	struct sensor_set set;
	struct sensor_ops ops[4];
	struct fake fake[4];
	struct agent_config cfg;
};

/* Four fakes a, b, c, d; b fails to start ("no kernel support"), c is not
 * wanted; a and b follow CONFIG_FIM, d follows CONFIG_ONACCESS. */
static struct rig *
rig_new(void)
{
	static const char *names[] = {"a", "b", "c", "d"};
	struct rig *r = calloc(1, sizeof(*r));
	unsigned i;

	assert_non_null(r);
	calls[0] = '\0';
	r->log.events = json_array();
	r->host.arg = &r->log;
	r->host.emit = host_emit;
	r->host.log = host_log;
	sensor_set_init(&r->set, &r->host);
	for (i = 0; i < 4; i++) {
		r->fake[i].name = names[i];
		r->fake[i].why = "no kernel support";
		r->ops[i] = ops_of(names[i], i != 2, i < 2 ? CONFIG_FIM : CONFIG_ONACCESS);
		assert_int_equal(sensor_set_add(&r->set, &r->ops[i], &r->fake[i]), 0);
	}
	r->fake[1].fail_start = -5;
	return r;
}

static void
rig_free(struct rig *r)
{
	sensor_set_fini(&r->set);
	json_decref(r->log.events);
	free(r);
}

static const char *
off_of(json_t *status, const char *name)
{
	return json_string_value(json_object_get(json_object_get(status, name), "off"));
}

static void
test_start_order_and_failure(void **state)
{
	struct rig *r = rig_new();
	json_t *st, *ev;
	char why[64];

	(void)state;
	assert_int_equal(sensor_set_start(&r->set, &r->cfg, 0), 1);
	/* in order; c not wanted; b's failure does not stop d */
	assert_string_equal(calls, "start:a start:b start:d");
	assert_string_equal(r->log.lines, "b is OFF: no kernel support\n");
	assert_int_equal(json_array_size(r->log.events), 1);
	ev = json_array_get(r->log.events, 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(ev, "event"), "action")),
	    "sensor-off");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(ev, "ward"), "sensor")), "b");
	assert_string_equal(json_string_value(json_object_get(ev, "message")), "no kernel support");
	st = sensor_set_status(&r->set);
	assert_int_equal(json_object_size(st), 4);
	assert_string_equal(off_of(st, "a"), "");
	assert_string_equal(off_of(st, "b"), "no kernel support");
	assert_string_equal(off_of(st, "c"), ""); /* its own usual reason */
	json_decref(st);
	assert_int_equal(sensor_set_off(&r->set, "b", why, sizeof(why)), 0);
	assert_string_equal(why, "no kernel support");
	assert_int_equal(sensor_set_off(&r->set, "nope", why, sizeof(why)), -1);
	/* stop: the started ones, in reverse */
	calls[0] = '\0';
	sensor_set_stop(&r->set);
	assert_string_equal(calls, "stop:d stop:a");
	calls[0] = '\0';
	sensor_set_stop(&r->set); /* twice: nothing more */
	assert_string_equal(calls, "");
	rig_free(r);
}

static void
test_failure_without_reason(void **state)
{
	struct rig *r = rig_new();
	char why[64];

	(void)state;
	r->fake[1].why = ""; /* a sensor that says nothing is still said to be off */
	sensor_set_start(&r->set, &r->cfg, 0);
	assert_int_equal(sensor_set_off(&r->set, "b", why, sizeof(why)), 0);
	assert_true(why[0] != '\0');
	rig_free(r);
}

static void
test_safe_mode(void **state)
{
	struct rig *r = rig_new();
	json_t *st;

	(void)state;
	assert_int_equal(sensor_set_start(&r->set, &r->cfg, 1), 0);
	assert_string_equal(calls, "");
	assert_int_equal(json_array_size(r->log.events), 0);
	st = sensor_set_status(&r->set);
	assert_string_equal(off_of(st, "a"), "safe mode");
	assert_string_equal(off_of(st, "c"), "safe mode");
	json_decref(st);
	/* a reload in safe mode starts nothing either */
	sensor_set_reconfigure(&r->set, &r->cfg, CONFIG_FIM | CONFIG_ONACCESS, 1);
	assert_string_equal(calls, "");
	sensor_set_stop(&r->set);
	assert_string_equal(calls, "");
	rig_free(r);
}

static void
test_reconfigure(void **state)
{
	struct rig *r = rig_new();
	char why[64];

	(void)state;
	sensor_set_start(&r->set, &r->cfg, 0);
	calls[0] = '\0';
	/* only the sensors that follow the group; b now comes up */
	r->fake[1].fail_start = 0;
	sensor_set_reconfigure(&r->set, &r->cfg, CONFIG_FIM, 0);
	assert_string_equal(calls, "reconfigure:a reconfigure:b");
	assert_int_equal(sensor_set_off(&r->set, "b", why, sizeof(why)), 0);
	assert_string_equal(why, "");
	/* a reload that fails turns it off, said once more */
	calls[0] = '\0';
	r->fake[3].fail_reconfigure = -1;
	r->fake[3].why = "path refused";
	sensor_set_reconfigure(&r->set, &r->cfg, CONFIG_ONACCESS, 0);
	/* c, not wanted, is asked too: a reload is how a sensor is turned on */
	assert_string_equal(calls, "reconfigure:c reconfigure:d");
	assert_int_equal(sensor_set_off(&r->set, "d", why, sizeof(why)), 0);
	assert_string_equal(why, "path refused");
	assert_int_equal(json_array_size(r->log.events), 2);
	assert_non_null(strstr(r->log.lines, "d is OFF: path refused\n"));
	/* b, started by the reload, is stopped too; c, still not wanted, not */
	calls[0] = '\0';
	sensor_set_stop(&r->set);
	assert_string_equal(calls, "stop:d stop:b stop:a");
	rig_free(r);
}

static void
test_content_changed(void **state)
{
	struct rig *r = rig_new();

	(void)state;
	r->ops[2].content_changed = NULL; /* a sensor with nothing to do */
	sensor_set_content_changed(&r->set);
	assert_string_equal(calls, "content:a content:b content:d");
	rig_free(r);
}

static void
test_full(void **state)
{
	struct sensor_host h = {0};
	struct sensor_set set;
	struct sensor_ops o = ops_of("x", 1, 0);
	struct fake f = {.name = "x"};
	unsigned i;

	(void)state;
	sensor_set_init(&set, &h);
	for (i = 0; i < SENSOR_MAX; i++)
		assert_int_equal(sensor_set_add(&set, &o, &f), 0);
	assert_int_equal(sensor_set_add(&set, &o, &f), -1);
	assert_int_equal(set.n, SENSOR_MAX);
	sensor_set_fini(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start_order_and_failure),
	    cmocka_unit_test(test_failure_without_reason),
	    cmocka_unit_test(test_safe_mode),
	    cmocka_unit_test(test_reconfigure),
	    cmocka_unit_test(test_content_changed),
	    cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

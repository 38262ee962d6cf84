/*
 * Unit tests of agent/sensor_event: what each sensor's events say, from
 * typed values — every on-access outcome's action, type, outcome and
 * words; a file name made to look like JSON or log lines stays one string
 * field and forges none; an enum out of range builds nothing; FIM's kind
 * by the package-manager policy, its metadata, who-data, hash and
 * suppressed count; a field not known is left out, never written empty;
 * a process rule's alert and kill.
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
#include "agent/sensor_event.h"
#include "event/event.h"

/* The value at a dotted path ("event.action"), or NULL. */
static json_t *
at(json_t *ev, const char *path)
{
	char buf[128], *save = NULL, *part;
	json_t *v = ev;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part != NULL && v != NULL;
	     part = strtok_r(NULL, ".", &save))
		v = json_object_get(v, part);
	return v;
}

static const char *
str(json_t *ev, const char *path)
{
	return json_string_value(at(ev, path));
}

static void
test_onaccess_outcomes(void **state)
{
	static const struct {
		enum sensor_oa_what what;
		const char *action, *type, *outcome, *message;
	} cases[] = {
	    {SENSOR_OA_WRITTEN, "file-written-detected", "info", NULL,
	     "a detected file was written"},
	    {SENSOR_OA_EXEC_DENIED, "file-execution-denied", "denied", "success",
	     "execution of a detected file was denied"},
	    {SENSOR_OA_EXEC_LATE, "file-execution-allowed-late", "info", "failure",
	     "a detected file was executed: its verdict came after the response deadline"},
	    {SENSOR_OA_OPEN_DENIED, "file-open-denied", "denied", "success",
	     "opening a detected file was denied"},
	    {SENSOR_OA_OPEN_LATE, "file-open-allowed-late", "info", NULL,
	     "a detected file was opened: its verdict came after the response deadline"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sensor_oa_detection d = {.what = cases[i].what,
						.path = "/srv/x",
						.size = 68,
						.inode = 12,
						.pid = 4242,
						.exe = "/usr/bin/sh",
						.rule = "EICAR",
						.version = 3};
		json_t *ev = sensor_event_onaccess(&d);

		assert_non_null(ev);
		assert_string_equal(str(ev, "event.kind"), "alert");
		assert_string_equal(str(ev, "event.action"), cases[i].action);
		assert_string_equal(json_string_value(json_array_get(at(ev, "event.type"), 0)),
				    cases[i].type);
		if (cases[i].outcome == NULL)
			assert_null(at(ev, "event.outcome"));
		else
			assert_string_equal(str(ev, "event.outcome"), cases[i].outcome);
		assert_string_equal(str(ev, "message"), cases[i].message);
		assert_string_equal(str(ev, "file.path"), "/srv/x");
		assert_int_equal(json_integer_value(at(ev, "file.size")), 68);
		assert_int_equal(json_integer_value(at(ev, "process.pid")), 4242);
		assert_string_equal(str(ev, "process.executable"), "/usr/bin/sh");
		assert_string_equal(str(ev, "rule.name"), "EICAR");
		assert_int_equal(json_integer_value(at(ev, "ward.content.version")), 3);
		json_decref(ev);
	}
}

static void
test_onaccess_hostile_and_range(void **state)
{
	/* A name written to look like the end of one event and another. */
	const char *evil = "/tmp/a\"},\"event\":{\"action\":\"agent-stopped\"}\n{\"x\":\"";
	struct sensor_oa_detection d = {
	    .what = SENSOR_OA_EXEC_DENIED, .path = evil, .pid = 1, .exe = "", .rule = "r"};
	json_t *ev = sensor_event_onaccess(&d), *back;
	char *text;

	(void)state;
	assert_non_null(ev);
	assert_null(at(ev, "process.executable")); /* unknown: left out */
	text = event_text(ev);
	assert_non_null(text);
	assert_null(strchr(text, '\n')); /* one line in the journal */
	back = json_loads(text, 0, NULL);
	assert_non_null(back);
	assert_string_equal(str(back, "file.path"), evil);
	assert_string_equal(str(back, "event.action"), "file-execution-denied");
	json_decref(back);
	free(text);
	json_decref(ev);
	d.what = SENSOR_OA_N;
	assert_null(sensor_event_onaccess(&d));
	d.what = (enum sensor_oa_what) - 1;
	assert_null(sensor_event_onaccess(&d));
}

static void
test_fim_kind_and_actions(void **state)
{
	(void)state;
	assert_string_equal(sensor_fim_kind(0, CONFIG_PKG_IGNORE), "alert");
	assert_string_equal(sensor_fim_kind(1, CONFIG_PKG_ALERT), "alert");
	assert_string_equal(sensor_fim_kind(1, CONFIG_PKG_INFO), "event");
	assert_null(sensor_fim_kind(1, CONFIG_PKG_IGNORE));
	assert_null(sensor_fim_kind(1, 99)); /* a policy not known: not reported */
	assert_string_equal(sensor_fim_action_name(SENSOR_FIM_CREATED), "file-created");
	assert_string_equal(sensor_fim_action_name(SENSOR_FIM_ATTRIBUTES),
			    "file-attributes-changed");
	assert_null(sensor_fim_action_name(SENSOR_FIM_N));
	assert_false(sensor_fim_looks(SENSOR_FIM_DELETED));
	assert_true(sensor_fim_looks(SENSOR_FIM_RENAMED));
	assert_true(sensor_fim_hashes(SENSOR_FIM_CREATED));
	assert_true(sensor_fim_hashes(SENSOR_FIM_MODIFIED));
	assert_false(sensor_fim_hashes(SENSOR_FIM_ATTRIBUTES));
	assert_false(sensor_fim_hashes(SENSOR_FIM_RENAMED));
}

static void
test_fim_event(void **state)
{
	struct stat st;
	struct sensor_fim_who who = {
	    .pid = 77, .exe = "/usr/bin/dpkg", .name = "dpkg", .pkg = "dpkg", .partial = 1};
	struct sensor_fim_change c = {.action = SENSOR_FIM_RENAMED,
				      .kind = "event",
				      .path = "/etc/new",
				      .previous = "/etc/old",
				      .st = &st,
				      .owner = "root",
				      .hash_field = "file.hash.sha256",
				      .hash = "",
				      .who = &who,
				      .suppressed = 4};
	json_t *ev;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | 04755;
	st.st_uid = 0;
	st.st_gid = 42;
	st.st_ino = 99;
	st.st_size = 1000;
	st.st_mtim.tv_sec = 86400;
	ev = sensor_event_fim(&c);
	assert_non_null(ev);
	assert_string_equal(str(ev, "event.kind"), "event");
	assert_string_equal(str(ev, "event.action"), "file-renamed");
	assert_string_equal(str(ev, "file.type"), "file");
	assert_string_equal(str(ev, "file.mode"), "4755");
	assert_string_equal(str(ev, "file.gid"), "42");
	assert_string_equal(str(ev, "file.owner"), "root");
	assert_int_equal(json_integer_value(at(ev, "file.size")), 1000);
	assert_string_equal(str(ev, "file.mtime"), "1970-01-02T00:00:00Z");
	assert_null(at(ev, "file.hash")); /* not hashed: no empty hash */
	assert_string_equal(str(ev, "ward.fim.previous_path"), "/etc/old");
	assert_int_equal(json_integer_value(at(ev, "process.pid")), 77);
	assert_string_equal(str(ev, "process.name"), "dpkg");
	assert_true(json_is_true(at(ev, "ward.process.partial")));
	assert_string_equal(str(ev, "ward.fim.package_manager"), "dpkg");
	assert_int_equal(json_integer_value(at(ev, "ward.fim.suppressed")), 4);
	json_decref(ev);

	/* a directory has no size; a hash goes under the named field */
	st.st_mode = S_IFDIR | 0700;
	c.hash = "ab12";
	c.hash_field = "file.hash.sm3";
	c.action = SENSOR_FIM_CREATED;
	ev = sensor_event_fim(&c);
	assert_string_equal(str(ev, "file.type"), "dir");
	assert_null(at(ev, "file.size"));
	assert_string_equal(str(ev, "file.hash.sm3"), "ab12");
	json_decref(ev);

	/* deleted: nothing looked at, the writer unknown, no package manager */
	who.pid = 0;
	who.pkg = "";
	c.action = SENSOR_FIM_DELETED;
	c.st = NULL;
	c.previous = NULL;
	c.suppressed = 0;
	c.kind = "alert";
	ev = sensor_event_fim(&c);
	assert_string_equal(str(ev, "file.path"), "/etc/new");
	assert_null(at(ev, "file.type"));
	assert_null(at(ev, "process"));
	assert_null(at(ev, "ward"));
	json_decref(ev);

	c.kind = NULL; /* the policy drops it: nothing to build */
	assert_null(sensor_event_fim(&c));
	c.kind = "alert";
	c.action = SENSOR_FIM_N;
	assert_null(sensor_event_fim(&c));
}

static void
test_process_events(void **state)
{
	struct sensor_proc p = {.pid = 500,
				.exe = "/tmp/miner",
				.cmdline = "miner --pool x",
				.cwd = "",
				.user = "alice",
				.uid = 1000,
				.ppid = 0,
				.pexe = "",
				.pcmdline = NULL,
				.partial = 0};
	json_t *ev;

	(void)state;
	ev = sensor_event_proc_match(&p, "Miner in /tmp", "id-1", "", 1, 9);
	assert_non_null(ev);
	assert_string_equal(str(ev, "event.action"), "process-rule-matched");
	assert_string_equal(str(ev, "event.kind"), "alert");
	assert_string_equal(str(ev, "process.executable"), "/tmp/miner");
	assert_string_equal(str(ev, "process.command_line"), "miner --pool x");
	assert_string_equal(str(ev, "user.name"), "alice");
	assert_int_equal(json_integer_value(at(ev, "user.id")), 1000);
	assert_null(at(ev, "process.working_directory"));
	assert_null(at(ev, "process.parent")); /* unknown parent: left out */
	assert_string_equal(str(ev, "rule.name"), "Miner in /tmp");
	assert_string_equal(str(ev, "rule.id"), "id-1");
	assert_null(at(ev, "ward.rule.level"));
	assert_string_equal(str(ev, "ward.rule.action"), "kill");
	assert_int_equal(json_integer_value(at(ev, "ward.content.version")), 9);
	assert_null(at(ev, "ward.process"));
	json_decref(ev);

	p.uid = -1;
	p.partial = 1;
	ev = sensor_event_proc_match(&p, "r", NULL, "high", 0, 9);
	assert_null(at(ev, "user.id"));
	assert_true(json_is_true(at(ev, "ward.process.partial")));
	assert_string_equal(str(ev, "ward.rule.action"), "alert");
	assert_string_equal(str(ev, "ward.rule.level"), "high");
	json_decref(ev);

	ev = sensor_event_proc_killed(&p, "r", 1, "ignored");
	assert_string_equal(str(ev, "event.action"), "process-killed");
	assert_string_equal(str(ev, "event.outcome"), "success");
	assert_null(at(ev, "message"));
	json_decref(ev);
	ev = sensor_event_proc_killed(&p, "r", 0, "Operation not permitted");
	assert_string_equal(str(ev, "event.outcome"), "failure");
	assert_string_equal(str(ev, "message"), "Operation not permitted");
	json_decref(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_onaccess_outcomes),
	    cmocka_unit_test(test_onaccess_hostile_and_range),
	    cmocka_unit_test(test_fim_kind_and_actions),
	    cmocka_unit_test(test_fim_event),
	    cmocka_unit_test(test_process_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

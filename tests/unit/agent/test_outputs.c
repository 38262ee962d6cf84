/*
 * Unit tests of agent/outputs: the NDJSON output delivers the journal
 * from its cursor; a cursor beyond the journal's end (a journal lost or
 * restored) is moved back to it instead of delivering nothing until the
 * journal catches up; a reload moves the file and goes on from the same
 * cursor, neither repeating nor skipping an event.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/config.h"
#include "agent/outputs.h"
#include "event/journal.h"

static char dir[] = "/tmp/ward-test-outputs-XXXXXX";

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
append(struct journal *j, const char *text)
{
	uint64_t seq;

	assert_int_equal(journal_append(j, text, strlen(text), &seq), 0);
	outputs_kick();
}

/* The lines of file, waiting up to 5 s for want of them. */
static int
lines_of(const char *file, char *out, size_t outlen, int want)
{
	int n = 0, tries;

	for (tries = 0; tries < 500; tries++) {
		FILE *f = fopen(file, "r");
		size_t k = 0;

		out[0] = '\0';
		n = 0;
		if (f != NULL) {
			k = fread(out, 1, outlen - 1, f);
			fclose(f);
		}
		out[k] = '\0';
		for (size_t i = 0; i < k; i++)
			n += out[i] == '\n';
		if (n >= want)
			return n;
		usleep(10000);
	}
	return n;
}

/* outputs_delivered() once it is want, or what it is after 5 s: the pump
 * counts a record delivered just after it wrote the line a test reads. */
static uint64_t
delivered_by(uint64_t want)
{
	uint64_t got = outputs_delivered();
	int tries;

	for (tries = 0; tries < 500 && got != want; tries++) {
		usleep(10000);
		got = outputs_delivered();
	}
	return got;
}

static unsigned long long
cursor(void)
{
	char path[200];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/state/outputs/ndjson.seq", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%llu", &v), 1);
	fclose(f);
	return v;
}

static void
test_cursor_ahead_and_reload(void **state)
{
	static struct agent_config c, c2;
	struct journal *j = NULL;
	struct ward_diag d;
	char path[200], out[4096], why[700];
	FILE *f;

	(void)state;
	config_defaults(&c);
	snprintf(c.state_dir, sizeof(c.state_dir), "%s/state", dir);
	snprintf(c.ndjson_path, sizeof(c.ndjson_path), "%s/out/a.ndjson", dir);
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/out", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/state/journal", dir);
	assert_int_equal(journal_open(path, NULL, &j, &d), 0);
	append(j, "{\"n\":1}");
	append(j, "{\"n\":2}");
	/* A cursor far beyond the journal's end. */
	snprintf(path, sizeof(path), "%s/state/outputs", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/state/outputs/ndjson.seq", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "1000000\n");
	fclose(f);
	assert_int_equal(outputs_start(&c, j, why, sizeof(why)), 0);
	append(j, "{\"n\":3}");
	snprintf(path, sizeof(path), "%s/out/a.ndjson", dir);
	assert_int_equal(lines_of(path, out, sizeof(out), 1), 1);
	assert_string_equal(out, "{\"n\":3}\n"); /* from the journal's end on */
	assert_int_equal(delivered_by(3), 3);
	/* A reload to another file: the same cursor goes on there. */
	c2 = c;
	snprintf(c2.ndjson_path, sizeof(c2.ndjson_path), "%s/out/b.ndjson", dir);
	assert_int_equal(outputs_reconfigure(&c2, why, sizeof(why)), 0);
	append(j, "{\"n\":4}");
	snprintf(path, sizeof(path), "%s/out/b.ndjson", dir);
	assert_int_equal(lines_of(path, out, sizeof(out), 1), 1);
	assert_string_equal(out, "{\"n\":4}\n");
	snprintf(path, sizeof(path), "%s/out/a.ndjson", dir);
	assert_int_equal(lines_of(path, out, sizeof(out), 1), 1);
	/* Off by a reload: nothing holds the journal back any more. */
	c2.ndjson_path[0] = '\0';
	assert_int_equal(outputs_reconfigure(&c2, why, sizeof(why)), 0);
	assert_int_equal(outputs_delivered(), UINT64_MAX);
	outputs_stop();
	assert_int_equal(cursor(), 5);
	journal_close(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cursor_ahead_and_reload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

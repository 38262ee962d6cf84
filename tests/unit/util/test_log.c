/*
 * Unit tests of util/log: the RFC 3339 timestamp (UTC, milliseconds),
 * who speaks, one line per call whatever the message holds, and a line
 * too long cut and said.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

/* What log_line writes on fd 2, captured through a pipe. */
static void
capture(char *out, size_t outlen, void (*say)(void))
{
	int p[2], saved = dup(2);
	ssize_t n;

	assert_int_equal(pipe(p), 0);
	assert_true(saved >= 0);
	assert_int_equal(dup2(p[1], 2), 2);
	say();
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	close(p[1]);
	n = read(p[0], out, outlen - 1);
	assert_true(n >= 0);
	out[n] = '\0';
	close(p[0]);
}

static void
matches(const char *text, const char *re)
{
	regex_t rx;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&rx, text, 0, NULL, 0) != 0)
		fail_msg("%s does not match %s", text, re);
	regfree(&rx);
}

static void
say_three(void)
{
	log_program("wardd");
	log_line(42, "supervisor", "restarting the worker in %.2f s", 0.25);
	log_line(43, NULL, "ready: %s", "/run/ward/control.sock");
	log_line(0, NULL, "already running (pid %d)", 42);
}

static void
test_lines(void **state)
{
	char out[4096], *l2, *l3;

	(void)state;
	capture(out, sizeof(out), say_three);
	l2 = strchr(out, '\n');
	assert_non_null(l2);
	*l2++ = '\0';
	l3 = strchr(l2, '\n');
	assert_non_null(l3);
	*l3++ = '\0';
	matches(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
		     "wardd\\[42\\] supervisor: restarting the worker in 0\\.25 s$");
	matches(l2, "^[0-9T:.-]{23}Z wardd\\[43\\]: ready: /run/ward/control\\.sock$");
	matches(l3, "^[0-9T:.-]{23}Z wardd: already running \\(pid 42\\)\n$");
}

static void
say_lines_inside(void)
{
	log_program("ward-server");
	log_info("one\n2026-12-05T00:00:00.000Z ward-server: forged\r\n");
}

static void
test_one_line(void **state)
{
	char out[4096];

	(void)state;
	capture(out, sizeof(out), say_lines_inside);
	matches(out, "^[0-9T:.-]{23}Z ward-server: one 2026-12-05T00:00:00\\.000Z ward-server: "
		     "forged\n$");
}

static void
test_stamp(void **state)
{
	char s[LOG_STAMP_SIZE];

	(void)state;
	log_stamp(s);
	assert_int_equal(strlen(s), LOG_STAMP_SIZE - 1);
	matches(s,
		"^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z$");
}

static void
say_long(void)
{
	static char big[3 * LOG_LINE_MAX];

	memset(big, 'x', sizeof(big) - 1);
	log_line(7, NULL, "%s", big);
}

static void
test_cut(void **state)
{
	static char out[2 * LOG_LINE_MAX];
	size_t n;

	(void)state;
	capture(out, sizeof(out), say_long);
	n = strlen(out);
	assert_int_equal(n, LOG_LINE_MAX - 1);
	assert_memory_equal(out + n - 4, "...\n", 4);
	assert_null(strchr(out, '\n') == out + n - 1 ? NULL : out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_one_line),
	    cmocka_unit_test(test_stamp),
	    cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * unit_skip: cmocka tests that the environment says cannot run here.
 *
 * WARD_UNIT_SKIP holds PROGRAM:TEST names separated by spaces, e.g.
 * "test_util_sandbox:test_allowed test_util_path:test_without_openat2".
 * packaging/cross/in-chroot sets it to what qemu-user cannot emulate
 * (seccomp, statx's mount id, the comm of /proc/self/stat), with each
 * reason printed by the run and written in docs/arm64.md.  Unset (every
 * other run), every test runs.
 *
 * A skipped test is named on stdout; a program whose tests are all
 * skipped exits 77, which meson reports as SKIP, never as OK.
 *
 *	return unit_run_group(tests, setup, teardown);
 */
#ifndef WARD_TESTS_UNIT_SKIP_H
#define WARD_TESTS_UNIT_SKIP_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* 1 if WARD_UNIT_SKIP names this program's test name. */
static int
unit_skipped(const char *name)
{
	const char *list = getenv("WARD_UNIT_SKIP"), *p;
	size_t plen = strlen(program_invocation_short_name), nlen = strlen(name);

	for (p = list; p != NULL && *p != '\0';) {
		size_t len;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (len == plen + 1 + nlen &&
		    strncmp(p, program_invocation_short_name, plen) == 0 && p[plen] == ':' &&
		    strncmp(p + plen + 1, name, nlen) == 0)
			return 1;
		p += len;
	}
	return 0;
}

static int
unit_run(const char *group, const struct CMUnitTest *tests, size_t n, CMFixtureFunction setup,
	 CMFixtureFunction teardown)
{
	struct CMUnitTest *run;
	size_t i, m = 0;
	int r;

	run = calloc(n, sizeof(*run));
	if (run == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		if (unit_skipped(tests[i].name))
			printf("[ SKIPPED  ] %s: listed in WARD_UNIT_SKIP\n", tests[i].name);
		else
			run[m++] = tests[i];
	}
	r = m == 0 ? 77 : _cmocka_run_group_tests(group, run, m, setup, teardown);
	free(run);
	return r;
}

#define unit_run_group(tests, setup, teardown)                                                     \
	unit_run(#tests, (tests), sizeof(tests) / sizeof((tests)[0]), (setup), (teardown))

#endif

/*
 * Unit tests of agent/procmon, the part that needs no kernel: its state is
 * a context of its own (two are independent, none is shared through a
 * global), a fresh one is off with zero counters and remembers no exec,
 * a pid never seen (or not positive) is not answered from the table, and
 * a missing context answers "not seen" rather than crashing who-data;
 * an exec is read from only the files of /proc/PID its rules look at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/procmon.h"
#include "sigma/sigma.h"
#include "util/alloc.h"

static void
test_fresh_context(void **state)
{
	struct procmon *a = procmon_new(), *b = procmon_new();
	struct procmon_stats st;
	char exe[64] = "x", comm[16] = "y";
	pid_t ppid = 7;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(procmon_running(a), 0);
	memset(&st, 0xff, sizeof(st));
	procmon_get_stats(a, &st);
	assert_int_equal(st.execs, 0);
	assert_int_equal(st.lost, 0);
	assert_int_equal(procmon_recent(a, 1234, exe, sizeof(exe), comm, sizeof(comm), &ppid), -1);
	assert_int_equal(procmon_recent(a, 0, exe, sizeof(exe), comm, sizeof(comm), &ppid), -1);
	assert_int_equal(procmon_recent(a, -5, exe, sizeof(exe), comm, sizeof(comm), &ppid), -1);
	/* untouched when not seen */
	assert_string_equal(exe, "x");
	assert_int_equal(ppid, 7);
	assert_int_equal(procmon_recent(NULL, 1, exe, sizeof(exe), comm, sizeof(comm), &ppid), -1);
	procmon_free(a);
	procmon_free(b);
	procmon_free(NULL);
}

static void
test_new_fails(void **state)
{
	(void)state;
	alloc_fail_after(1);
	assert_null(procmon_new());
	alloc_fail_after(0);
}

static void
test_reads(void **state)
{
	const unsigned base = PROCMON_READ_EXE | PROCMON_READ_STAT;
	const unsigned image = 1u << SF_IMAGE, cmd = 1u << SF_COMMANDLINE;
	const unsigned all = (1u << SF_COUNT) - 1;

	(void)state;
	/* Who-data alone (no rules): the executable and stat, never status. */
	assert_int_equal(procmon_reads(0, 0, 0), base);
	assert_int_equal(procmon_reads(image, 0, 0), base);
	/* The default content's rule: image and command line, no status. */
	assert_int_equal(procmon_reads(image | cmd, 0, 0), base | PROCMON_READ_CMDLINE);
	/* The user needs status; each field its own file. */
	assert_int_equal(procmon_reads(1u << SF_USER, 0, 0), base | PROCMON_READ_STATUS);
	assert_int_equal(procmon_reads(1u << SF_CURRENTDIRECTORY, 0, 1), PROCMON_READ_CWD);
	assert_int_equal(procmon_reads(1u << SF_PARENTIMAGE, 0, 1), PROCMON_READ_PARENT_EXE);
	assert_int_equal(procmon_reads(1u << SF_PARENTCOMMANDLINE, 0, 1),
			 PROCMON_READ_PARENT_CMDLINE);
	/* What is read already is not read again (an alert's enrichment). */
	assert_int_equal(procmon_reads(all, image | cmd, 1),
			 PROCMON_READ_STATUS | PROCMON_READ_CWD | PROCMON_READ_PARENT_EXE |
			     PROCMON_READ_PARENT_CMDLINE);
	assert_int_equal(procmon_reads(all, all, 1), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fresh_context),
	    cmocka_unit_test(test_new_fails),
	    cmocka_unit_test(test_reads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of agent/procfs: this process and a child are read right; a
 * process that is gone gives an error and empty strings, never stale
 * ones; a name with spaces and parentheses is read whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/procfs.h"

static void
test_self(void **state)
{
	char exe[4096], comm[32];
	pid_t ppid;

	(void)state;
	assert_int_equal(procfs_link(0, "exe", exe, sizeof(exe)), 0);
	assert_non_null(strstr(exe, "test_agent_procfs"));
	assert_int_equal(procfs_link(getpid(), "exe", exe, sizeof(exe)), 0);
	assert_non_null(strstr(exe, "test_agent_procfs"));
	assert_int_equal(procfs_stat(getpid(), &ppid, comm, sizeof(comm)), 0);
	assert_int_equal(ppid, getppid());
	assert_string_equal(comm, "test_agent_proc"); /* comm: 15 characters */
}

static void
test_odd_name(void **state)
{
	char comm[32];
	pid_t ppid;

	(void)state;
	assert_int_equal(prctl(PR_SET_NAME, "a (b) c", 0, 0, 0), 0);
	assert_int_equal(procfs_stat(getpid(), &ppid, comm, sizeof(comm)), 0);
	assert_string_equal(comm, "a (b) c");
	assert_int_equal(ppid, getppid());
}

static void
test_gone(void **state)
{
	char exe[4096] = "stale", comm[32] = "stale";
	pid_t pid = fork(), ppid;

	(void)state;
	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_int_equal(procfs_link(pid, "exe", exe, sizeof(exe)), -1);
	assert_string_equal(exe, "");
	assert_int_equal(procfs_stat(pid, &ppid, comm, sizeof(comm)), -1);
	assert_string_equal(comm, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self),
	    cmocka_unit_test(test_odd_name),
	    cmocka_unit_test(test_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

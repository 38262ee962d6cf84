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
#include "../unit_skip.h"

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

static void
test_status_text(void **state)
{
	static const char text[] = "Name:\tsshd\nUmask:\t0022\nState:\tS (sleeping)\n"
				   "Tgid:\t812\nNgid:\t0\nPid:\t812\nPPid:\t1\n"
				   "TracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
	static const char odd_key[] = "Name:\tx\nPPidx:\t5\nUid:\t7\n";
	static const char bad_numbers[] = "Name:\tx\nPPid:\t99999999999999999999999\nUid:\tz\n";
	struct procfs_status st;

	(void)state;
	assert_int_equal(procfs_parse_status(text, sizeof(text) - 1, &st), 0);
	assert_string_equal(st.name, "sshd");
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.uid, 1000); /* the real user id, not the effective one */
	/* cut before Uid: what was found is kept, the rest is not made up */
	assert_int_equal(procfs_parse_status(text, (size_t)(strstr(text, "Uid") - text), &st), -1);
	assert_string_equal(st.name, "sshd");
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.uid, -1);
	/* a key is a whole key: "TracerPid" is not "Pid", "PPidx" is nothing */
	assert_int_equal(procfs_parse_status(odd_key, strlen(odd_key), &st), -1);
	assert_int_equal(st.ppid, -1);
	/* numbers that do not fit, or are not numbers */
	assert_int_equal(procfs_parse_status(bad_numbers, strlen(bad_numbers), &st), -1);
	assert_int_equal(st.ppid, -1);
	assert_int_equal(st.uid, -1);
	assert_int_equal(procfs_parse_status("", 0, &st), -1);
	assert_string_equal(st.name, "");
}

static void
test_status_self(void **state)
{
	struct procfs_status st;
	char comm[64];
	pid_t pp;

	(void)state;
	assert_int_equal(procfs_stat(getpid(), &pp, comm, sizeof(comm)), 0);
	assert_int_equal(procfs_status(getpid(), &st), 0);
	assert_string_equal(st.name, comm);
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.uid, getuid());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_self),	cmocka_unit_test(test_odd_name),
	    cmocka_unit_test(test_gone),	cmocka_unit_test(test_status_text),
	    cmocka_unit_test(test_status_self),
	};

	return unit_run_group(tests, NULL, NULL);
}

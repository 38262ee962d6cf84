/*
 * Unit tests of proctab: the table names every role once, with its flag,
 * and every role that runs as an unprivileged user has a seccomp list, no
 * core files and no new processes, every root role says why it has no
 * list; proctab_spawn refuses the supervisor, too many channels or
 * arguments; and a spawned child (this test binary, run again as
 * "wardd --scanner ...") finds its role and arguments in argv, its
 * channels at fds 3 and 4 — even when they were given in the other order
 * — and nothing else open above 4, and its signals unblocked when asked.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/proctab.h"
#include "util/err.h"

static void
test_table(void **state)
{
	const struct proctab_row *rows;
	size_t n, i, j;

	(void)state;
	rows = proctab_rows(&n);
	assert_int_equal(n, PROC_NROLES);
	for (i = 0; i < n; i++) {
		assert_int_equal(rows[i].role, i);
		assert_ptr_equal(proctab_row(rows[i].role), &rows[i]);
		assert_non_null(rows[i].name);
		assert_non_null(rows[i].user);
		assert_non_null(rows[i].receives);
		assert_non_null(rows[i].channels);
		assert_true((rows[i].flag == NULL) == (rows[i].role == PROC_SUPERVISOR));
		if (rows[i].flag != NULL)
			assert_memory_equal(rows[i].flag, "--", 2);
		if (strcmp(rows[i].user, "root") == 0) {
			assert_null(rows[i].seccomp);
			assert_non_null(rows[i].why_none);
		} else if (rows[i].spawned) {
			assert_non_null(rows[i].seccomp);
			assert_int_equal(rows[i].rlimit_core, 0);
			/* the uplink's resolver makes threads: its seccomp
			 * filter allows clone of threads only */
			if (rows[i].role != PROC_UPLINK)
				assert_int_equal(rows[i].rlimit_nproc, 0);
			assert_true(rows[i].rlimit_nofile > 0);
		}
		for (j = 0; j < i; j++)
			assert_string_not_equal(rows[i].name, rows[j].name);
	}
	assert_null(proctab_row((enum proctab_role)PROC_NROLES));
}

static void
test_spawn_refuses(void **state)
{
	const char *many[PROCTAB_MAX_ARGS + 2];
	int fds[PROCTAB_MAX_FDS + 1] = {0};
	pid_t pid = 1;
	size_t i;

	(void)state;
	assert_int_equal(proctab_spawn(PROC_SUPERVISOR, NULL, NULL, 0, 0, &pid), WARD_EINVAL);
	assert_int_equal(pid, -1);
	assert_int_equal(proctab_spawn(PROC_SCANNER, NULL, fds, PROCTAB_MAX_FDS + 1, 0, &pid),
			 WARD_EINVAL);
	for (i = 0; i < PROCTAB_MAX_ARGS + 1; i++)
		many[i] = "x";
	many[PROCTAB_MAX_ARGS + 1] = NULL;
	assert_int_equal(proctab_spawn(PROC_SCANNER, many, NULL, 0, 0, &pid), WARD_EINVAL);
}

/* The child's side: argv "wardd --scanner a b"; writes 'A' on fd 3 and
 * 'B' on fd 4; exits 0 only if nothing else is open above 4 and
 * SIGTERM is unblocked (the parent blocked it). */
static int
child_main(int argc, char **argv)
{
	sigset_t cur;
	int fd;

	if (argc != 4 || strcmp(argv[0], "wardd") != 0 || strcmp(argv[2], "a") != 0 ||
	    strcmp(argv[3], "b") != 0)
		return 10;
	for (fd = 5; fd < 64; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			return 11;
	if (fcntl(3, F_GETFD) != 0 || fcntl(4, F_GETFD) != 0)
		return 12;
	if (write(3, "A", 1) != 1 || write(4, "B", 1) != 1)
		return 13;
	if (sigprocmask(SIG_SETMASK, NULL, &cur) != 0 || sigismember(&cur, SIGTERM))
		return 14;
	return 0;
}

static void
test_spawn_places_channels(void **state)
{
	const char *args[] = {"a", "b", NULL};
	int p1[2], p2[2], extra, fds[2], status = 0;
	sigset_t set, old;
	pid_t pid;
	char c1 = 0, c2 = 0;

	(void)state;
	assert_int_equal(pipe2(p1, O_CLOEXEC), 0);
	assert_int_equal(pipe2(p2, O_CLOEXEC), 0);
	extra = open("/dev/null", O_RDONLY); /* not close-on-exec: must not reach the child */
	assert_true(extra >= 0);
	/* The second channel given first, at fd 3 if it can be: the child
	 * must still find each at its place. */
	fds[0] = p2[1];
	fds[1] = p1[1];
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	assert_int_equal(proctab_spawn(PROC_SCANNER, args, fds, 2, PROCTAB_F_UNBLOCK, &pid), 0);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p1[1]);
	close(p2[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(read(p2[0], &c1, 1), 1); /* fd 3 */
	assert_int_equal(read(p1[0], &c2, 1), 1); /* fd 4 */
	assert_int_equal(c1, 'A');
	assert_int_equal(c2, 'B');
	close(p1[0]);
	close(p2[0]);
	close(extra);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_spawn_refuses),
	    cmocka_unit_test(test_spawn_places_channels),
	};

	if (argc > 1 && strcmp(argv[1], "--scanner") == 0)
		return child_main(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

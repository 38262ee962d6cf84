/*
 * Unit tests of agent/pidlock: the lock is exclusive across processes,
 * says who holds it, is shared with a forked child, goes with its last
 * holder (kill -9 included), and is never taken through a symbolic link
 * or on something that is not a regular file.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/pidlock.h"

static char dir[] = "/tmp/ward-test-pidlock-XXXXXX";
static int dfd = -1;

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/ward-test-pidlock-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd >= 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* In a child: 0 took it, 1 held by *holder, 2 error (exit status). */
static int
try_in_child(pid_t *holder)
{
	int p[2], st;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ward_diag d;
		pid_t h = 0;
		int fd, r = pidlock_take(dfd, PIDLOCK_NAME, &fd, &h, &d);

		if (write(p[1], &h, sizeof(h)) != (ssize_t)sizeof(h))
			_exit(3);
		_exit(r == 0 ? 0 : r == 1 ? 1 : 2);
	}
	close(p[1]);
	assert_int_equal(read(p[0], holder, sizeof(*holder)), (ssize_t)sizeof(*holder));
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
test_exclusive_with_holder_pid(void **state)
{
	struct ward_diag d;
	pid_t holder = -1;
	int fd;

	(void)state;
	assert_int_equal(pidlock_take(dfd, PIDLOCK_NAME, &fd, &holder, &d), 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	/* Taken, no pid written yet: held, by someone unknown. */
	assert_int_equal(try_in_child(&holder), 1);
	assert_int_equal(holder, 0);
	assert_int_equal(pidlock_write(fd, 4242), 0);
	assert_int_equal(try_in_child(&holder), 1);
	assert_int_equal(holder, 4242);
	assert_int_equal(pidlock_write(fd, getpid()), 0);
	assert_int_equal(try_in_child(&holder), 1);
	assert_int_equal(holder, getpid());
	close(fd);
	/* Released with the descriptor: taken again at once. */
	assert_int_equal(try_in_child(&holder), 0);
}

static void
test_shared_with_child_until_last_holder(void **state)
{
	struct ward_diag d;
	pid_t holder, child;
	int fd, st;

	(void)state;
	assert_int_equal(pidlock_take(dfd, PIDLOCK_NAME, &fd, &holder, &d), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) { /* the worker: holds the same lock */
		pause();
		_exit(0);
	}
	close(fd); /* the supervisor is gone; its worker is not */
	assert_int_equal(try_in_child(&holder), 1);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_int_equal(try_in_child(&holder), 0);
}

static void
test_refuses_links_and_non_files(void **state)
{
	struct ward_diag d;
	pid_t holder;
	char target[300];
	int fd;

	(void)state;
	snprintf(target, sizeof(target), "%s/elsewhere", dir);
	assert_int_equal(symlinkat(target, dfd, "link.lock"), 0);
	assert_int_equal(pidlock_take(dfd, "link.lock", &fd, &holder, &d), WARD_EIO);
	assert_int_equal(fd, -1);
	assert_int_equal(access(target, F_OK), -1); /* not created through it */
	assert_int_equal(mkfifoat(dfd, "fifo.lock", 0600), 0);
	assert_int_equal(pidlock_take(dfd, "fifo.lock", &fd, &holder, &d), WARD_EIO);
	assert_non_null(strstr(d.msg, "not a regular file"));
	/* A pid file that is not a number reads as unknown. */
	assert_int_equal(pidlock_take(dfd, "junk.lock", &fd, &holder, &d), 0);
	assert_int_equal(pwrite(fd, "12ab\n", 5, 0), 5);
	{
		int p[2], st;
		pid_t pid;

		assert_int_equal(pipe(p), 0);
		pid = fork();
		if (pid == 0) {
			int f2;
			pid_t h = -1;
			int r = pidlock_take(dfd, "junk.lock", &f2, &h, &d);

			_exit(r == 1 && h == 0 ? 0 : 1);
		}
		close(p[0]);
		close(p[1]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exclusive_with_holder_pid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_with_child_until_last_holder, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_links_and_non_files, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

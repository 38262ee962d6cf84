/*
 * Unit tests of proctab: the table names every role once, with its flag,
 * and every role that runs as an unprivileged user has a seccomp list, no
 * core files and no new processes, every root role says why it has no
 * list; proctab_spawn refuses the supervisor, too many channels or
 * arguments; and a spawned child (this test binary, run again as
 * "wardd --scanner ...") finds its role and arguments in argv, its
 * channels at fds 3 and 4 — even when they were given in the other order
 * — and nothing else open above 4, and its signals unblocked when asked.
 *
 * The environment: a child started with a secret and a proxy setting in
 * its parent's environment sees PATH and nothing else (a scanner), or
 * PATH and the proxy (the worker, whose uplink reads it) — never the
 * secret.  Where close_range fails (an old kernel; here a seccomp filter
 * makes it fail), a stray descriptor is still closed, and a child that
 * cannot close it either exits PROCTAB_EXIT_FDS before it runs.
 *
 * The limits: proctab_limits gives each unprivileged row's numbers
 * (written out here, so that a changed row fails), the configuration's
 * where the row says so; and a process that entered the scanner's or the
 * validator's sandbox runs under exactly its row's limits (read back with
 * getrlimit inside the sandbox), so that the table and the processes
 * cannot drift apart.
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
#include <errno.h>
#include <seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include "../unit_skip.h"

#include "agent/config.h"
#include "agent/proctab.h"
#include "util/sandbox.h"
#include "agent/scanner.h"
#include "agent/validator.h"
#include "util/err.h"

extern char **environ;

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
			/* Set, or said to be unset: a CPU limit of 0 kills. */
			assert_true(rows[i].rlimit_cpu_s > 0 ||
				    rows[i].rlimit_cpu_s == PROCTAB_UNLIMITED ||
				    rows[i].rlimit_cpu_s == PROCTAB_FROM_CONFIG);
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

/* The child's side of the environment tests: "wardd ROLE clean": exits 0
 * only if nothing is open above 2 and its environment is PATH and, for
 * the worker, the proxy (beside a sanitizer's options). */
static int
child_clean(const char *role)
{
	int worker = strcmp(role, "--worker") == 0, path = 0, proxy = 0, fd;
	char **e;

	for (fd = 3; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			return 20;
	for (e = environ; *e != NULL; e++) {
		if (strcmp(*e, PROCTAB_PATH) == 0)
			path++;
		else if (worker && strcmp(*e, "https_proxy=http://127.0.0.1:3128") == 0)
			proxy++;
		else if (strncmp(*e, "ASAN_OPTIONS=", 13) != 0 &&
			 strncmp(*e, "UBSAN_OPTIONS=", 14) != 0 &&
			 strncmp(*e, "LSAN_OPTIONS=", 13) != 0)
			return 21; /* WARD_TEST_SECRET, or anything else */
	}
	if (path != 1 || proxy != worker)
		return 22;
	return 0;
}

/* How close_range fails in the spawning process (a seccomp filter): not at
 * all, ENOSYS (a kernel before 5.9), or ENOSYS with /proc unreadable. */
enum no_close_range { CR_WORKS, CR_ENOSYS, CR_ENOSYS_NO_PROC };

/*
 * From a process of its own (the filter stays with it): a stray
 * descriptor, a secret and a proxy in the environment, then role spawned
 * with no channel as "wardd ROLE clean".  The child's wait status.
 */
static int
spawn_clean(enum proctab_role role, enum no_close_range how)
{
	const char *args[] = {"clean", NULL};
	int status = 0;
	pid_t mid, pid;

	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

		if (ctx == NULL || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(90);
		if (how != CR_WORKS &&
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(close_range), 0) != 0)
			_exit(91);
		if (how == CR_ENOSYS_NO_PROC &&
		    (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0) != 0 ||
		     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0) != 0))
			_exit(92);
		/* Not close-on-exec, above what a channel would take. */
		if (dup2(2, 40) != 40 || dup2(2, 700) != 700)
			_exit(93);
		if (setenv("WARD_TEST_SECRET", "s3cret", 1) != 0 ||
		    setenv("https_proxy", "http://127.0.0.1:3128", 1) != 0)
			_exit(94);
		if (seccomp_load(ctx) != 0)
			_exit(95);
		if (proctab_spawn(role, args, NULL, 0, 0, &pid) != 0)
			_exit(96);
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				_exit(97);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 98);
	}
	assert_int_equal(waitpid(mid, &status, 0), mid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_spawn_environment_and_fds(void **state)
{
	(void)state;
	assert_int_equal(spawn_clean(PROC_SCANNER, CR_WORKS), 0);
	assert_int_equal(spawn_clean(PROC_VALIDATOR, CR_WORKS), 0);
	assert_int_equal(spawn_clean(PROC_WORKER, CR_WORKS), 0);
	/* No close_range: closed one by one, as /proc/self/fd lists them. */
	assert_int_equal(spawn_clean(PROC_SCANNER, CR_ENOSYS), 0);
	assert_int_equal(spawn_clean(PROC_WORKER, CR_ENOSYS), 0);
	/* Neither: the child never runs as its role. */
	assert_int_equal(spawn_clean(PROC_SCANNER, CR_ENOSYS_NO_PROC), PROCTAB_EXIT_FDS);
}

/* The limit of resource in lim[0..n) (1), or 0 when it is not set. */
static int
find_limit(const struct proctab_limit *lim, size_t n, int resource, rlim_t *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lim[i].resource == resource) {
			*v = lim[i].value;
			return 1;
		}
	return 0;
}

/* Row role has resource at want, or not set (want RLIM_INFINITY). */
static void
expect_limit(enum proctab_role role, const struct agent_config *c, int resource, rlim_t want)
{
	struct proctab_limit lim[PROCTAB_MAX_LIMITS];
	size_t n = proctab_limits(role, c, lim);
	rlim_t v = 0;
	int set = find_limit(lim, n, resource, &v);

#ifdef SANDBOX_NO_AS_LIMIT
	if (resource == RLIMIT_AS)
		want = RLIM_INFINITY;
#endif
	if (want == RLIM_INFINITY) {
		if (set)
			fail_msg("%s: resource %d set to %llu", proctab_row(role)->name, resource,
				 (unsigned long long)v);
	} else if (!set || v != want) {
		fail_msg("%s: resource %d is %llu (set %d), wanted %llu", proctab_row(role)->name,
			 resource, (unsigned long long)v, set, (unsigned long long)want);
	}
}

static void
test_limits_of_rows(void **state)
{
	struct proctab_limit lim[PROCTAB_MAX_LIMITS];
	struct agent_config c;

	(void)state;
	config_defaults(&c);
	c.validator_memory_mb = 300;
	c.validator_cpu_s = 7;
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_AS, 300ull << 20);
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_CPU, 7);
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_FSIZE, 300ull << 20);
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_NOFILE, 8);
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_CORE, 0);
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_NPROC, 0);
	expect_limit(PROC_SCANNER, &c, RLIMIT_AS, 300ull << 20);
	expect_limit(PROC_SCANNER, &c, RLIMIT_CPU, RLIM_INFINITY);
	expect_limit(PROC_SCANNER, &c, RLIMIT_FSIZE, WARD_CONTAINER_AGENT_MEMBER);
	c.archive_enabled = 0;
	expect_limit(PROC_SCANNER, &c, RLIMIT_FSIZE, 0);
	c.archive_enabled = 1;
	expect_limit(PROC_SCANNER, &c, RLIMIT_NOFILE, 32);
	expect_limit(PROC_SCANNER, &c, RLIMIT_CORE, 0);
	expect_limit(PROC_SCANNER, &c, RLIMIT_NPROC, 0);
	/* A validator's file is its image: never more than an image may be. */
	c.validator_memory_mb = 1u << 20;
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_FSIZE, WARD_MAX_COMPILED_SIZE);
	expect_limit(PROC_VALIDATOR, &c, RLIMIT_AS, 1ull << 40);
	/* The root roles are not limited. */
	assert_int_equal(proctab_limits(PROC_WORKER, &c, lim), 0);
	assert_int_equal(proctab_limits(PROC_SUPERVISOR, &c, lim), 0);
	assert_int_equal(proctab_limits((enum proctab_role)PROC_NROLES, &c, lim), 0);
}

/* In a process of its own: role's sandbox entered (its real entry, the
 * one wardd --scanner or --validator runs), then every limit of its row
 * read back with getrlimit, which both allow-lists permit.  Its exit
 * status: 0, or 10 + the index of the first limit that differs. */
static int
sandboxed_limits(enum proctab_role role)
{
	struct proctab_limit lim[PROCTAB_MAX_LIMITS];
	struct agent_config c;
	struct rlimit rl;
	int status = 0;
	size_t n, i;
	pid_t pid;

	config_defaults(&c);
	c.validator_memory_mb = 333;
	c.validator_cpu_s = 9;
	n = proctab_limits(role, &c, lim);
	assert_true(n > 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if ((role == PROC_SCANNER ? scanner_sandbox(&c) : validator_sandbox(&c)) != 0)
			_exit(2);
		for (i = 0; i < n; i++)
			if (getrlimit(lim[i].resource, &rl) != 0 || rl.rlim_cur != lim[i].value ||
			    rl.rlim_max != lim[i].value)
				_exit(10 + (int)i);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void
test_sandbox_runs_under_its_row(void **state)
{
	(void)state;
	assert_int_equal(sandboxed_limits(PROC_SCANNER), 0);
	assert_int_equal(sandboxed_limits(PROC_VALIDATOR), 0);
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
	    cmocka_unit_test(test_spawn_environment_and_fds),
	    cmocka_unit_test(test_limits_of_rows),
	    cmocka_unit_test(test_sandbox_runs_under_its_row),
	};

	if (argc == 3 && strcmp(argv[2], "clean") == 0)
		return child_clean(argv[1]);
	if (argc > 1 && strcmp(argv[1], "--scanner") == 0)
		return child_main(argc, argv);
	return unit_run_group(tests, NULL, NULL);
}

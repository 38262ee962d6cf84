/*
 * Unit tests of sandbox, run in forked children (the filter cannot be
 * taken off): the user is looked up beforehand and refused when root or
 * unknown; a confined child is that user with no groups, no_new_privs and
 * the filter; open fails with EACCES; write goes to the descriptors given
 * and kills on any other; a thread started before the filter has it too
 * (a forbidden call there kills the process); glibc's qsort of a large
 * array (which asks sysinfo) still works; anything unlisted kills with
 * SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <seccomp.h>
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
#include "../unit_skip.h"

#include "util/sandbox.h"

/* What the confined child may call beyond the base. */
static const int allowed[] = {SCMP_SYS(read), SCMP_SYS(close)};
static const int out_fds[] = {STDOUT_FILENO};

static int
enter(void)
{
	struct sandbox_spec s = {
	    .allowed = allowed,
	    .n = sizeof(allowed) / sizeof(allowed[0]),
	    .write_fds = out_fds,
	    .nwrite_fds = 1,
	    .all_threads = 1,
	};

	if (geteuid() == 0 && sandbox_user("nobody", &s.uid, &s.gid) != 0)
		return -1;
	return sandbox_enter_spec(&s);
}

/* Runs fn in a forked child with its stdout on a pipe (readable by the
 * test through *out, the child's pid in *pid); returns the wait status. */
static int
in_child(int (*fn)(int arg), int arg, char *out, size_t outlen)
{
	int p[2], st = 0;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], STDOUT_FILENO) != STDOUT_FILENO)
			_exit(100);
		close(p[1]);
		_exit(fn(arg));
	}
	close(p[1]);
	while (out != NULL && got + 1 < (ssize_t)outlen &&
	       (n = read(p[0], out + got, outlen - 1 - (size_t)got)) > 0)
		got += n;
	if (out != NULL)
		out[got] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Confined: what it may do works, and it says so on stdout. */
static int
child_allowed(int arg)
{
	char line[64];
	int *v, i, fd;

	(void)arg;
	if (enter() != 0)
		return 1;
	fd = open("/etc/passwd", O_RDONLY);
	if (fd >= 0 || errno != EACCES)
		return 2;
	/* a large array: glibc's qsort asks sysinfo for the memory size */
	if ((v = malloc(200000 * sizeof(*v))) == NULL)
		return 3;
	for (i = 0; i < 200000; i++)
		v[i] = (i * 7919) % 200003;
	qsort(v, 200000, sizeof(*v), cmp_int);
	for (i = 1; i < 200000; i++)
		if (v[i - 1] > v[i])
			return 4;
	free(v);
	snprintf(line, sizeof(line), "confined %d\n", getpid());
	if (write(STDOUT_FILENO, line, strlen(line)) != (ssize_t)strlen(line))
		return 5;
	return 0;
}

static void
test_allowed(void **state)
{
	char out[128];
	int st;

	(void)state;
	st = in_child(child_allowed, 0, out, sizeof(out));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_memory_equal(out, "confined ", 9);
}

/* Confined, then a call it may not make, in this thread or another. */
static void *
thread_socket(void *arg)
{
	(void)arg;
	(void)socket(AF_INET, SOCK_STREAM, 0);
	return NULL;
}

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go;
};

/* A thread started before the filter, which waits for the word to make a
 * call the filter forbids. */
static void *
thread_waits(void *arg)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->mu);
	while (!w->go)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return thread_socket(NULL);
}

static int
child_forbidden(int how)
{
	static struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	pthread_t t;
	int p[2];

	if (how == 2 && pthread_create(&t, NULL, thread_waits, &w) != 0)
		return 1;
	if (how == 1 && pipe(p) != 0)
		return 1;
	if (enter() != 0)
		return 2;
	switch (how) {
	case 0: /* a socket */
		thread_socket(NULL);
		break;
	case 1: /* a write to another descriptor than stdout */
		(void)write(p[1], "x", 1);
		break;
	case 2: /* the other thread, confined too */
		pthread_mutex_lock(&w.mu);
		w.go = 1;
		pthread_cond_signal(&w.cv);
		pthread_mutex_unlock(&w.mu);
		pthread_join(t, NULL);
		break;
	case 3: /* a new thread: no clone */
		if (pthread_create(&t, NULL, thread_socket, NULL) == 0)
			pthread_join(t, NULL);
		break;
	}
	return 3; /* still alive: the filter let it through */
}

static void
test_forbidden_kills(void **state)
{
	int how, st;

	(void)state;
	for (how = 0; how <= 3; how++) {
		st = in_child(child_forbidden, how, NULL, 0);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), SIGSYS);
	}
}

/* The user it became, as the kernel says: looked at while it waits. */
static int
child_waits(int arg)
{
	char c;

	(void)arg;
	if (enter() != 0)
		return 1;
	if (write(STDOUT_FILENO, "r", 1) != 1)
		return 2;
	/* stdin: the test closes its end when it has looked */
	return read(STDIN_FILENO, &c, 1) == 0 ? 0 : 3;
}

static void
test_user_and_no_new_privs(void **state)
{
	struct passwd *pw = getpwnam("nobody");
	char path[64], line[256], want[64];
	int out[2], in[2], st, uid_ok = 0, nnp = 0, sec = 0, groups = 0;
	pid_t pid;
	FILE *f;

	(void)state;
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(in), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(in[1]);
		if (dup2(out[1], STDOUT_FILENO) < 0 || dup2(in[0], STDIN_FILENO) < 0)
			_exit(100);
		_exit(child_waits(0));
	}
	close(out[1]);
	close(in[0]);
	assert_int_equal(read(out[0], line, 1), 1);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	snprintf(want, sizeof(want), "Uid:\t%u\t%u\t%u\t%u", pw != NULL ? pw->pw_uid : 0,
		 pw != NULL ? pw->pw_uid : 0, pw != NULL ? pw->pw_uid : 0,
		 pw != NULL ? pw->pw_uid : 0);
	while (fgets(line, sizeof(line), f) != NULL) {
		uid_ok |= strncmp(line, want, strlen(want)) == 0;
		nnp |= strcmp(line, "NoNewPrivs:\t1\n") == 0;
		sec |= strcmp(line, "Seccomp:\t2\n") == 0;
		groups |= strncmp(line, "Groups:", 7) == 0 &&
			  strspn(line + 7, " \t\n") == strlen(line + 7);
	}
	fclose(f);
	close(in[1]);
	close(out[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(nnp);
	assert_true(sec);
	if (geteuid() == 0) {
		assert_true(uid_ok);
		assert_true(groups);
	}
}

static void
test_user_lookup(void **state)
{
	uid_t uid = 1;
	gid_t gid = 1;

	(void)state;
	assert_int_equal(sandbox_user("root", &uid, &gid), -EPERM);
	assert_int_equal(uid, 0);
	assert_int_equal(sandbox_user("no-such-user-ward-test", &uid, &gid), -EPERM);
	assert_int_equal(sandbox_user("nobody", &uid, &gid), 0);
	assert_true(uid != 0);
}

/* Root to uid 0 is refused: a spec must name an unprivileged user. */
static int
child_uid0(int arg)
{
	struct sandbox_spec s = {.uid = 0, .gid = 0};

	(void)arg;
	return sandbox_enter_spec(&s) == -EPERM ? 0 : 1;
}

static void
test_uid0_refused(void **state)
{
	int st;

	(void)state;
	if (geteuid() != 0)
		skip();
	st = in_child(child_uid0, 0, NULL, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_user_lookup),	    cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_forbidden_kills), cmocka_unit_test(test_user_and_no_new_privs),
	    cmocka_unit_test(test_uid0_refused),
	};

	return unit_run_group(tests, NULL, NULL);
}

/*
 * Unit tests of agent/validator's sandbox: in a child that entered it,
 * opening files fails, starting processes fails, a forbidden system call
 * (socket) kills the process, the CPU limit kills a spinning process, and
 * the privileges are dropped (when run as root); the child can still
 * answer on its ipc channel (a sealed memory file beside a frame), and
 * fcntl serves nothing but sealing.
 */
#include <errno.h>
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
#include "../unit_skip.h"

#include "agent/config.h"
#include "agent/validator.h"
#include "content/valmsg.h"
#include "util/clock.h"

/* Runs what in a sandboxed child; returns its wait status. */
static int
sandboxed(int what)
{
	struct agent_config c;
	int status = 0;
	pid_t pid;

	struct ipc *ch = NULL, *parent = NULL;
	struct ipc_msg m;
	struct valmsg_ok ok;
	struct wbuf w;
	int sv[2], img = -1;

	config_defaults(&c);
	c.validator_cpu_s = 1;
	c.validator_memory_mb = 256;
	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &valmsg_to_worker, &valmsg_to_validator, &parent), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		ipc_free(parent);
		/* what validator_main makes before the sandbox */
		if (ipc_new(sv[1], &valmsg_to_validator, &valmsg_to_worker, &ch) != 0 ||
		    ipc_memfd_open("image", &img) != 0)
			_exit(98);
		if (validator_sandbox(&c) != 0)
			_exit(100);
		switch (what) {
		case 0: /* allowed work: memory, time, write to an open fd */
			free(malloc(1 << 20));
			_exit(write(1, "", 0) == 0 ? 0 : 101);
		case 1: /* no files */
			_exit(open("/etc/hostname", O_RDONLY) < 0 && errno == EACCES ? 0 : 102);
		case 2: /* no network: killed */
			(void)socket(AF_INET, SOCK_STREAM, 0);
			_exit(103);
		case 3: /* no processes: killed */
			(void)fork();
			_exit(104);
		case 4: /* CPU limit */
			for (;;)
				;
		case 5: /* not root any more */
			_exit(geteuid() != 0 && getuid() != 0 && getegid() != 0 ? 0 : 105);
		case 6: /* the answer: a sealed memory file beside a frame */
			ok.size = 5;
			wbuf_init(&w);
			valmsg_ok_encode(&w, &ok);
			if (ipc_memfd_seal(img, "image", 5) != 0)
				_exit(106);
			_exit(ipc_send(ch, VALMSG_OK, w.p, w.len, img, clock_mono() + 10, NULL) == 0
				  ? 0
				  : 107);
		case 7: /* fcntl for anything but sealing: killed */
			(void)fcntl(img, F_SETFL, O_NONBLOCK);
			_exit(108);
		}
		_exit(99);
	}
	close(sv[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (what == 6 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		assert_int_equal(ipc_recv(parent, clock_mono() + 10, &m, NULL), 0);
		assert_int_equal(valmsg_ok_decode(&m, &ok, NULL), 0);
		assert_int_equal(ok.size, 5);
		ipc_msg_close(&m);
	}
	ipc_free(parent);
	return status;
}

static void
test_sandbox(void **state)
{
	int st;

	(void)state;
	st = sandboxed(0);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("allowed work: status %#x", st);
	st = sandboxed(1);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = sandboxed(2);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = sandboxed(3);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = sandboxed(4);
	assert_true(WIFSIGNALED(st) && (WTERMSIG(st) == SIGXCPU || WTERMSIG(st) == SIGKILL));
	st = sandboxed(6);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("answer: status %#x", st);
	st = sandboxed(7);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	if (geteuid() == 0) {
		st = sandboxed(5);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			fail_msg("status %#x", st);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sandbox),
	};

	return unit_run_group(tests, NULL, NULL);
}

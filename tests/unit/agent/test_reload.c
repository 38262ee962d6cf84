/*
 * Unit tests of agent/reload: a configuration goes from the supervisor to
 * the worker whole, with its groups; a message of the wrong size, without
 * a descriptor, with two, or with an unsealed or resized memory file is
 * refused (and its descriptors closed); a closed peer is said.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/reload.h"
#include "util/alloc.h"

static int sv[2];

static int
setup(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv);
}

static int
teardown(void **state)
{
	(void)state;
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

/* How many descriptors this process has open. */
static int
open_fds(void)
{
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void
test_round_trip(void **state)
{
	struct agent_config *c = calloc(1, sizeof(*c)), *got = NULL;
	unsigned groups = 0;

	(void)state;
	config_defaults(c);
	snprintf(c->ndjson_path, sizeof(c->ndjson_path), "/var/log/ward/events.ndjson");
	c->fim_npaths = 1;
	snprintf(c->fim_paths[0], sizeof(c->fim_paths[0]), "/etc");
	assert_int_equal(reload_send(sv[0], c, CONFIG_OUTPUTS | CONFIG_FIM), 0);
	assert_int_equal(reload_recv(sv[1], &got, &groups), 0);
	assert_non_null(got);
	assert_int_equal(groups, CONFIG_OUTPUTS | CONFIG_FIM);
	assert_memory_equal(got, c, sizeof(*c));
	ward_free(got);
	/* Nothing more: EAGAIN, not a message. */
	assert_int_equal(reload_recv(sv[1], &got, &groups), -1);
	assert_int_equal(errno, EAGAIN);
	free(c);
}

/* Sends a header of n bytes and the descriptors fds[0..nfds). */
static void
send_raw(const void *p, size_t n, const int *fds, int nfds)
{
	char buf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {(void *)p, n};
	struct msghdr mh;
	struct cmsghdr *ch;

	memset(&mh, 0, sizeof(mh));
	memset(buf, 0, sizeof(buf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		ch = CMSG_FIRSTHDR(&mh);
		ch->cmsg_level = SOL_SOCKET;
		ch->cmsg_type = SCM_RIGHTS;
		ch->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(ch), fds, sizeof(int) * (size_t)nfds);
	}
	assert_int_equal(sendmsg(sv[0], &mh, 0), (ssize_t)n);
}

static int
config_memfd(size_t size, int seal)
{
	struct agent_config *c = calloc(1, size);
	int fd = memfd_create("t", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, c, size), (ssize_t)size);
	if (seal)
		assert_int_equal(fcntl(fd, F_ADD_SEALS,
				       F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
				 0);
	free(c);
	return fd;
}

static void
expect_refused(void)
{
	struct agent_config *got = NULL;
	unsigned groups = 7;

	assert_int_equal(reload_recv(sv[1], &got, &groups), -1);
	assert_int_equal(errno, EPROTO);
	assert_null(got);
	assert_int_equal(groups, 0);
}

static void
test_malformed(void **state)
{
	struct {
		uint32_t magic, groups;
		uint64_t size;
	} m = {0x444c5257u, CONFIG_FIM, sizeof(struct agent_config)};
	int before = open_fds(), fds[2];

	(void)state;
	/* No descriptor. */
	send_raw(&m, sizeof(m), NULL, 0);
	expect_refused();
	/* A short header. */
	fds[0] = config_memfd(sizeof(struct agent_config), 1);
	send_raw(&m, sizeof(m) - 1, fds, 1);
	close(fds[0]);
	expect_refused();
	/* Another magic. */
	m.magic = 0x41414141u;
	fds[0] = config_memfd(sizeof(struct agent_config), 1);
	send_raw(&m, sizeof(m), fds, 1);
	close(fds[0]);
	expect_refused();
	m.magic = 0x444c5257u;
	/* Two descriptors. */
	fds[0] = config_memfd(sizeof(struct agent_config), 1);
	fds[1] = config_memfd(sizeof(struct agent_config), 1);
	send_raw(&m, sizeof(m), fds, 2);
	close(fds[0]);
	close(fds[1]);
	expect_refused();
	/* Not sealed: its sender could still change it. */
	fds[0] = config_memfd(sizeof(struct agent_config), 0);
	send_raw(&m, sizeof(m), fds, 1);
	close(fds[0]);
	expect_refused();
	/* A file of another size than it says. */
	fds[0] = config_memfd(sizeof(struct agent_config) / 2, 1);
	send_raw(&m, sizeof(m), fds, 1);
	close(fds[0]);
	expect_refused();
	/* A size other than a configuration's. */
	m.size = 1u << 30;
	fds[0] = config_memfd(sizeof(struct agent_config), 1);
	send_raw(&m, sizeof(m), fds, 1);
	close(fds[0]);
	expect_refused();
	/* Every descriptor that came was closed. */
	assert_int_equal(open_fds(), before);
}

static void
test_strings_end_in_their_arrays(void **state)
{
	struct agent_config *c = calloc(1, sizeof(*c)), *got = NULL;
	unsigned groups;

	(void)state;
	memset(c, 'A', sizeof(*c));
	assert_int_equal(reload_send(sv[0], c, CONFIG_OUTPUTS), 0);
	assert_int_equal(reload_recv(sv[1], &got, &groups), 0);
	assert_int_equal(strlen(got->ndjson_path), sizeof(got->ndjson_path) - 1);
	assert_int_equal(strlen(got->fim_paths[31]), CONFIG_MAX_PATH - 1);
	assert_true(got->fim_npaths <= CONFIG_MAX_KEYS);
	ward_free(got);
	free(c);
}

static void
test_peer_closed(void **state)
{
	struct agent_config *got = NULL;
	unsigned groups;

	(void)state;
	close(sv[0]);
	sv[0] = socket(AF_UNIX, SOCK_SEQPACKET, 0); /* for teardown */
	assert_int_equal(reload_recv(sv[1], &got, &groups), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_strings_end_in_their_arrays, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_closed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of ipc: every message kind round-trips (no descriptor, a
 * file, a sealed memory file; exact and ranged sizes); a peer that sends
 * anything else — each kind of malformed frame, an unsealed or writable
 * memory file, a descriptor too many or too few — is refused with
 * WARD_EPROTO, the channel is closed and no received descriptor stays
 * open; a silent or stuck peer ends in WARD_ETIMEDOUT by the deadline.
 * Frames sent many at a time and read ahead arrive in order, each checked
 * as it is handed out: a bad one among them still closes the channel,
 * after the good ones before it, and no descriptor read ahead leaks.
 */
#include <dirent.h>
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

#include "util/alloc.h"
#include "util/clock.h"
#include "util/ipc.h"
#include "util/limits.h"

enum { T_PING = 1, T_TEXT = 2, T_FILE = 3, T_BLOB = 4, T_BACK = 9 };

/* What the receiving end (b) may receive. */
static const struct ipc_msgdef to_b_msgs[] = {
    {T_PING, "ping", 4, 4, IPC_FD_NONE, 0},
    {T_TEXT, "text", 0, 100, IPC_FD_NONE, 0},
    {T_FILE, "file", 8, 8, IPC_FD_FILE, 0},
    {T_BLOB, "blob", 8, 8, IPC_FD_MEMFD, 1 << 20},
};
static const struct ipc_proto to_b = {"test", to_b_msgs, 4};
/* What the sending end (a) may receive: only T_BACK. */
static const struct ipc_msgdef to_a_msgs[] = {
    {T_BACK, "back", 1, 1, IPC_FD_NONE, 0},
};
static const struct ipc_proto to_a = {"test", to_a_msgs, 1};

static unsigned
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

/* a: an ipc end that sends to_b; b: the receiving end. */
static void
pair(struct ipc **a, struct ipc **b)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[0], &to_a, &to_b, a), 0);
	assert_int_equal(ipc_new(sv[1], &to_b, &to_a, b), 0);
}

/* A raw end for hand-made frames, and the receiving ipc end. */
static int
raw_pair(struct ipc **b)
{
	int sv[2];

	assert_int_equal(ipc_pair(sv), 0);
	assert_int_equal(ipc_new(sv[1], &to_b, &to_a, b), 0);
	return sv[0];
}

static size_t
header(uint8_t *h, uint16_t magic, uint8_t ver, uint8_t flags, uint16_t type, uint16_t res,
       uint32_t len, uint32_t seq)
{
	h[0] = (uint8_t)magic;
	h[1] = (uint8_t)(magic >> 8);
	h[2] = ver;
	h[3] = flags;
	h[4] = (uint8_t)type;
	h[5] = (uint8_t)(type >> 8);
	h[6] = (uint8_t)res;
	h[7] = (uint8_t)(res >> 8);
	memcpy(h + 8, &len, 4); /* little-endian hosts only: the tests' own frames */
	memcpy(h + 12, &seq, 4);
	return IPC_HEADER;
}

static void
raw_send(int s, const void *p, size_t n, const int *fds, unsigned nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} ctl;
	struct iovec iov = {(void *)p, n};
	struct msghdr mh;

	memset(&mh, 0, sizeof(mh));
	memset(&ctl, 0, sizeof(ctl));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)n);
}

static int
sealed_memfd(const char *text)
{
	int fd = -1;

	assert_int_equal(ipc_memfd_new("t", text, strlen(text), &fd), 0);
	return fd;
}

static void
test_round_trips(void **state)
{
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	char text[100], path[] = "/tmp/ward-ipc-XXXXXX";
	const uint8_t *p;
	uint64_t eight = 0x0102030405060708ull;
	int mfd, ffd, before;

	(void)state;
	before = (int)open_fds();
	pair(&a, &b);
	/* exact size, no descriptor */
	assert_int_equal(ipc_send(a, T_PING, "ping", 4, -1, clock_mono() + 5, &d), 0);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.type, T_PING);
	assert_int_equal(m.seq, 1);
	assert_int_equal(m.len, 4);
	assert_memory_equal(m.p, "ping", 4);
	assert_int_equal(m.fd, -1);
	/* a range: its two ends */
	assert_int_equal(ipc_send(a, T_TEXT, NULL, 0, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(b, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.type, T_TEXT);
	assert_int_equal(m.len, 0);
	assert_int_equal(m.seq, 2);
	memset(text, 'x', sizeof(text));
	assert_int_equal(ipc_send(a, T_TEXT, text, 100, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(b, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.len, 100);
	assert_memory_equal(m.p, text, 100);
	/* a regular file: the receiver gets its own descriptor, close-on-exec */
	ffd = mkstemp(path);
	assert_true(ffd >= 0);
	unlink(path);
	assert_int_equal(write(ffd, "content", 7), 7);
	assert_int_equal(ipc_send(a, T_FILE, &eight, 8, ffd, IPC_FOREVER, &d), 0);
	close(ffd);
	assert_int_equal(ipc_recv(b, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.type, T_FILE);
	assert_true(m.fd >= 0);
	assert_true((fcntl(m.fd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(pread(m.fd, text, 7, 0), 7);
	assert_memory_equal(text, "content", 7);
	ipc_msg_close(&m);
	assert_int_equal(m.fd, -1);
	/* a sealed memory file, mapped by the receiver */
	mfd = sealed_memfd("a compiled image");
	assert_int_equal(ipc_send(a, T_BLOB, &eight, 8, mfd, IPC_FOREVER, &d), 0);
	close(mfd);
	assert_int_equal(ipc_recv(b, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.type, T_BLOB);
	assert_int_equal(m.fd_size, 16);
	assert_true((fcntl(m.fd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(ipc_memfd_map(m.fd, 16, &p), 0);
	assert_memory_equal(p, "a compiled image", 16);
	ipc_memfd_unmap(p, 16);
	mfd = ipc_msg_take_fd(&m);
	assert_int_equal(m.fd, -1);
	close(mfd);
	/* and back the other way */
	assert_int_equal(ipc_send(b, T_BACK, "!", 1, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(a, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.type, T_BACK);
	assert_int_equal(m.seq, 1);
	/* the peer's end closed: ECLOSED, and again after */
	ipc_free(a);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	assert_int_equal(ipc_fd(b), -1);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	assert_int_equal(ipc_send(b, T_BACK, "!", 1, -1, clock_mono() + 5, &d), WARD_ECLOSED);
	ipc_free(b);
	assert_int_equal(open_fds(), before);
}

/* The sender checks its own frames against its tx table: a bug of the
 * caller, the channel stays open. */
static void
test_send_checks_table(void **state)
{
	struct ipc *a, *b;
	struct ward_diag d;
	uint64_t eight = 0;
	int mfd = sealed_memfd("x");

	(void)state;
	pair(&a, &b);
	assert_int_equal(ipc_send(a, T_BACK, "!", 1, -1, IPC_FOREVER, &d), WARD_EINVAL);
	assert_int_equal(ipc_send(a, T_PING, "pin", 3, -1, IPC_FOREVER, &d), WARD_EINVAL);
	assert_int_equal(ipc_send(a, T_PING, "ping", 4, mfd, IPC_FOREVER, &d), WARD_EINVAL);
	assert_int_equal(ipc_send(a, T_BLOB, &eight, 8, -1, IPC_FOREVER, &d), WARD_EINVAL);
	assert_true(ipc_fd(a) >= 0);
	assert_int_equal(ipc_send(a, T_PING, "ping", 4, -1, IPC_FOREVER, &d), 0);
	close(mfd);
	ipc_free(a);
	ipc_free(b);
}

/* Sends one hand-made frame and expects it refused as an attack, the
 * channel closed, and every descriptor that came with it closed. */
static void
expect_refused(const void *frame, size_t n, const int *fds, unsigned nfds, const char *why)
{
	struct ipc *b;
	struct ipc_msg m;
	struct ward_diag d;
	char text[1200];
	unsigned before;
	int s = raw_pair(&b);

	before = open_fds();
	raw_send(s, frame, n, fds, nfds);
	diag_clear(&d);
	if (ipc_recv(b, clock_mono() + 5, &m, &d) != WARD_EPROTO)
		fail_msg("%s: not refused (%s)", why, d.msg);
	assert_int_equal(m.fd, -1);
	assert_int_equal(ipc_fd(b), -1);
	/* the refused frame's descriptors, and the channel's socket, closed */
	if (open_fds() != before - 1)
		fail_msg("%s: %u descriptors open, %u before", why, open_fds(), before);
	assert_string_equal(d.file, "test");
	ipc_attack_text(&d, text, sizeof(text));
	assert_non_null(strstr(text, "ipc: test: protocol violation by the peer ("));
	assert_non_null(strstr(text, "treated as an attack"));
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	ipc_free(b);
	close(s);
}

static void
test_malformed_frames(void **state)
{
	uint8_t f[IPC_HEADER + 200];
	uint64_t eight = 0;
	int mfd = sealed_memfd("x"), fds[3];
	char path[] = "/tmp/ward-ipc-XXXXXX";
	int ffd = mkstemp(path);

	(void)state;
	assert_true(ffd >= 0);
	unlink(path);
	memset(f, 0, sizeof(f));
	memcpy(f + IPC_HEADER, "ping", 4);
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 4, 1);
	expect_refused(f, 10, NULL, 0, "shorter than a header");
	header(f, 0x4957, 1, 0, T_PING, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "bad magic");
	header(f, IPC_MAGIC, 2, 0, T_PING, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "bad version");
	header(f, IPC_MAGIC, 1, 0x80, T_PING, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "unknown flag");
	header(f, IPC_MAGIC, 1, 0, T_PING, 1, 4, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "reserved bits");
	header(f, IPC_MAGIC, 1, 0, 77, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "unknown type");
	header(f, IPC_MAGIC, 1, 0, 0, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "type 0");
	header(f, IPC_MAGIC, 1, 0, T_BACK, 0, 1, 1);
	expect_refused(f, IPC_HEADER + 1, NULL, 0, "a type of the other direction");
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 5, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "header length above the frame's");
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 3, 1);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "header length below the frame's");
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 3, 1);
	expect_refused(f, IPC_HEADER + 3, NULL, 0, "exact size: one byte short");
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 5, 1);
	expect_refused(f, IPC_HEADER + 5, NULL, 0, "exact size: one byte over");
	header(f, IPC_MAGIC, 1, 0, T_TEXT, 0, 101, 1);
	expect_refused(f, IPC_HEADER + 101, NULL, 0, "range: one byte over");
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 4, 0);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "sequence number 0");
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 4, 2);
	expect_refused(f, IPC_HEADER + 4, NULL, 0, "sequence number skipped");
	/* descriptors */
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, &ffd, 1, "an unexpected descriptor, flag clear");
	header(f, IPC_MAGIC, 1, IPC_F_FD, T_PING, 0, 4, 1);
	expect_refused(f, IPC_HEADER + 4, &ffd, 1, "an unexpected descriptor, flag set");
	memcpy(f + IPC_HEADER, &eight, 8);
	header(f, IPC_MAGIC, 1, IPC_F_FD, T_FILE, 0, 8, 1);
	expect_refused(f, IPC_HEADER + 8, NULL, 0, "a missing descriptor, flag set");
	header(f, IPC_MAGIC, 1, 0, T_FILE, 0, 8, 1);
	expect_refused(f, IPC_HEADER + 8, NULL, 0, "a missing descriptor, flag clear");
	header(f, IPC_MAGIC, 1, 0, T_FILE, 0, 8, 1);
	expect_refused(f, IPC_HEADER + 8, &ffd, 1, "a descriptor, flag clear");
	fds[0] = ffd;
	fds[1] = ffd;
	fds[2] = mfd;
	header(f, IPC_MAGIC, 1, IPC_F_FD, T_FILE, 0, 8, 1);
	expect_refused(f, IPC_HEADER + 8, fds, 2, "two descriptors");
	expect_refused(f, IPC_HEADER + 8, fds, 3, "three descriptors");
	fds[0] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	expect_refused(f, IPC_HEADER + 8, fds, 1, "a socket where a file is expected");
	close(fds[0]);
	header(f, IPC_MAGIC, 1, IPC_F_FD, T_BLOB, 0, 8, 1);
	expect_refused(f, IPC_HEADER + 8, &ffd, 1, "a file where a sealed memory file is due");
	close(mfd);
	close(ffd);
}

/* A frame larger than any the receiver takes: MSG_TRUNC, never a part. */
static void
test_oversized_frame(void **state)
{
	size_t n = IPC_HEADER + 4096;
	uint8_t *f = calloc(1, n);

	(void)state;
	assert_non_null(f);
	header(f, IPC_MAGIC, 1, 0, T_TEXT, 0, 4096, 1);
	expect_refused(f, n, NULL, 0, "a frame larger than the receiver's buffer");
	free(f);
}

/* Sends a memory file in a well-formed T_BLOB frame. */
static void
memfd_refused(int fd, const char *why)
{
	uint8_t f[IPC_HEADER + 8];

	memset(f, 0, sizeof(f));
	header(f, IPC_MAGIC, 1, IPC_F_FD, T_BLOB, 0, 8, 1);
	expect_refused(f, sizeof(f), &fd, 1, why);
	close(fd);
}

static void
test_memfd_seals_enforced(void **state)
{
	static const int partial[] = {
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL,	/* writable */
	    F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL,	/* can shrink */
	    F_SEAL_SHRINK | F_SEAL_WRITE | F_SEAL_SEAL, /* can grow */
	    F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE, /* can be unsealed */
	};
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	uint64_t eight = 0, size;
	size_t i;
	int fd;

	(void)state;
	/* unsealed */
	assert_int_equal(ipc_memfd_open("t", &fd), 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	memfd_refused(fd, "an unsealed memory file");
	/* each seal missing in turn */
	for (i = 0; i < sizeof(partial) / sizeof(partial[0]); i++) {
		assert_int_equal(ipc_memfd_open("t", &fd), 0);
		assert_int_equal(write(fd, "abc", 3), 3);
		assert_int_equal(fcntl(fd, F_ADD_SEALS, partial[i]), 0);
		memfd_refused(fd, "a memory file missing a seal");
	}
	/* a memory file that cannot be sealed at all */
	fd = memfd_create("t", MFD_CLOEXEC);
	assert_true(fd >= 0);
	memfd_refused(fd, "a memory file made without sealing");
	/* sealed, but larger than the table's bound */
	assert_int_equal(ipc_memfd_open("t", &fd), 0);
	assert_int_equal(ftruncate(fd, (1 << 20) + 1), 0);
	assert_int_equal(
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL), 0);
	memfd_refused(fd, "a sealed memory file above fd_max");
	/* the check itself, and the seals hold against the sender */
	fd = sealed_memfd("abc");
	assert_int_equal(ipc_memfd_check(fd, 3, &size, &d), 0);
	assert_int_equal(size, 3);
	assert_int_equal(ipc_memfd_check(fd, 2, &size, &d), WARD_EPROTO);
	assert_true(write(fd, "x", 1) < 0);
	assert_true(ftruncate(fd, 0) != 0);
	assert_true(mmap(NULL, 3, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED);
	/* a sealed one through the API passes */
	pair(&a, &b);
	assert_int_equal(ipc_send(a, T_BLOB, &eight, 8, fd, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(b, IPC_FOREVER, &m, &d), 0);
	assert_int_equal(m.fd_size, 3);
	ipc_msg_close(&m);
	/* one the sender did not seal does not */
	close(fd);
	assert_int_equal(ipc_memfd_open("t", &fd), 0);
	assert_int_equal(ipc_send(a, T_BLOB, &eight, 8, fd, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(b, IPC_FOREVER, &m, &d), WARD_EPROTO);
	close(fd);
	ipc_free(a);
	ipc_free(b);
}

static void
test_timeouts(void **state)
{
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	char text[100];
	double t0;
	int r = 0, sent = 0;

	(void)state;
	/* a silent peer */
	pair(&a, &b);
	t0 = clock_mono();
	assert_int_equal(ipc_recv(b, t0 + 0.2, &m, &d), WARD_ETIMEDOUT);
	assert_true(clock_mono() - t0 >= 0.19 && clock_mono() - t0 < 2);
	assert_int_equal(ipc_fd(b), -1); /* a late answer is never taken for the next */
	/* a deadline already past */
	assert_int_equal(ipc_recv(a, clock_mono() - 1, &m, &d), WARD_ETIMEDOUT);
	ipc_free(a);
	ipc_free(b);
	/* a peer that takes nothing: the socket fills, the sender gives up */
	pair(&a, &b);
	memset(text, 'x', sizeof(text));
	t0 = clock_mono();
	while (sent < 1000000 &&
	       (r = ipc_send(a, T_TEXT, text, 100, -1, clock_mono() + 0.2, &d)) == 0)
		sent++;
	assert_int_equal(r, WARD_ETIMEDOUT);
	assert_true(sent > 0);
	assert_true(clock_mono() - t0 < 10);
	assert_int_equal(ipc_fd(a), -1);
	ipc_free(a);
	ipc_free(b);
}

static void
test_bad_tables(void **state)
{
	static const struct ipc_msgdef dup[] = {
	    {1, "a", 0, 0, IPC_FD_NONE, 0},
	    {1, "b", 0, 0, IPC_FD_NONE, 0},
	};
	static const struct ipc_msgdef zero[] = {{0, "a", 0, 0, IPC_FD_NONE, 0}};
	static const struct ipc_msgdef big[] = {
	    {1, "a", 0, WARD_MAX_IPC_PAYLOAD + 1, IPC_FD_NONE, 0}};
	static const struct ipc_msgdef inverted[] = {{1, "a", 5, 4, IPC_FD_NONE, 0}};
	const struct ipc_proto bad[] = {
	    {"t", dup, 2}, {"t", zero, 1}, {"t", big, 1}, {"t", inverted, 1}, {NULL, NULL, 0}};
	struct ipc *c;
	unsigned before = open_fds();
	size_t i;
	int sv[2];

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ipc_pair(sv), 0);
		assert_int_equal(ipc_new(sv[0], &bad[i], &to_b, &c), WARD_EINVAL);
		assert_null(c);
		assert_int_equal(ipc_new(sv[1], &to_a, &bad[i], &c), WARD_EINVAL);
		assert_int_equal(open_fds(), before); /* taken, and closed */
	}
	/* out of memory: the descriptor is closed too */
	assert_int_equal(ipc_pair(sv), 0);
	close(sv[1]);
	alloc_fail_after(1);
	assert_int_equal(ipc_new(sv[0], &to_a, &to_b, &c), WARD_ENOMEM);
	alloc_fail_after(0);
	assert_int_equal(open_fds(), before);
	ipc_free(NULL);
}

/* Every allocation of a round trip failed in turn: each call fails
 * cleanly with WARD_ENOMEM, and no descriptor is left open. */
static void
test_alloc_failures(void **state)
{
	unsigned before = open_fds();
	unsigned long n, total = 0;
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	int sv[2], r, done = 0;

	(void)state;
	for (n = 1; !done && n < 100; n++) {
		a = b = NULL;
		assert_int_equal(ipc_pair(sv), 0);
		alloc_fail_after(n);
		r = ipc_new(sv[0], &to_a, &to_b, &a);
		if (r == 0)
			r = ipc_new(sv[1], &to_b, &to_a, &b);
		else
			close(sv[1]);
		if (r == 0)
			r = ipc_send(a, T_PING, "ping", 4, -1, clock_mono() + 5, &d);
		if (r == 0)
			r = ipc_recv(b, clock_mono() + 5, &m, &d);
		total = alloc_fail_after(0);
		if (r == 0)
			done = 1;
		else
			assert_int_equal(r, WARD_ENOMEM);
		ipc_free(a);
		ipc_free(b);
		assert_int_equal(open_fds(), before);
	}
	assert_true(done);
	assert_true(total > 0);
}

/* The pure frame check, without a socket. */
static void
test_frame_decode(void **state)
{
	uint8_t f[IPC_HEADER + 4];
	struct ipc_msg m;
	struct ward_diag d;

	(void)state;
	header(f, IPC_MAGIC, 1, 0, T_PING, 0, 4, 7);
	memcpy(f + IPC_HEADER, "ping", 4);
	assert_int_equal(ipc_frame_decode(&to_b, f, sizeof(f), 0, 7, &m, &d), 0);
	assert_int_equal(m.type, T_PING);
	assert_ptr_equal(m.p, f + IPC_HEADER);
	assert_int_equal(m.fd, -1);
	assert_int_equal(ipc_frame_decode(&to_b, f, sizeof(f), 0, 8, &m, &d), WARD_EPROTO);
	assert_null(m.def);
	assert_int_equal(ipc_frame_decode(&to_b, f, sizeof(f), 1, 7, &m, &d), WARD_EPROTO);
	assert_int_equal(ipc_frame_decode(&to_b, f, 0, 0, 7, &m, &d), WARD_EPROTO);
}

/* A peer that answers one request and closes with others unread (a
 * scanner that dies on the second file of a batch): its answer still
 * arrives, then the end — the kernel's reset does not hide it. */
static void
test_answer_before_a_reset(void **state)
{
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	uint8_t ping[4] = {1, 2, 3, 4}, back = 7;
	int i;

	(void)state;
	pair(&a, &b);
	for (i = 0; i < 3; i++)
		assert_int_equal(ipc_send(a, T_PING, ping, 4, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(ipc_send(b, T_BACK, &back, 1, -1, IPC_FOREVER, &d), 0);
	ipc_free(b); /* two requests unread */
	assert_int_equal(ipc_recv(a, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.type, T_BACK);
	assert_int_equal(m.p[0], 7);
	assert_int_equal(ipc_recv(a, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	ipc_free(a);
	/* the same when the sender finds the peer gone while it still sends */
	pair(&a, &b);
	assert_int_equal(ipc_send(a, T_PING, ping, 4, -1, IPC_FOREVER, &d), 0);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(ipc_send(b, T_BACK, &back, 1, -1, IPC_FOREVER, &d), 0);
	ipc_free(b);
	assert_int_equal(ipc_send(a, T_PING, ping, 4, -1, IPC_FOREVER, &d), WARD_ECLOSED);
	assert_int_equal(ipc_recv(a, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.type, T_BACK);
	assert_int_equal(ipc_recv(a, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	assert_int_equal(ipc_fd(a), -1);
	ipc_free(a);
}

/* An unlinked temporary file holding text: a descriptor to send. */
static int
temp_file(const char *text)
{
	char path[] = "/tmp/ward-ipc-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;
}

/* Frames sent many at a time, read ahead four at a time: in order, each
 * with its own descriptor; the count pending says what is buffered. */
static void
test_send_many_read_ahead(void **state)
{
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	struct ipc_out f[6];
	uint64_t eight[6];
	char got[8];
	unsigned before = open_fds(), sent, i;
	int fds[6];

	(void)state;
	pair(&a, &b);
	assert_int_equal(ipc_set_readahead(b, 4), 0);
	for (i = 0; i < 6; i++) {
		char text[8];

		snprintf(text, sizeof(text), "file%u", i);
		fds[i] = temp_file(text);
		eight[i] = i;
		f[i] = (struct ipc_out){.type = T_FILE, .p = &eight[i], .len = 8, .fd = fds[i]};
	}
	f[2] = (struct ipc_out){.type = T_PING, .p = "ping", .len = 4, .fd = -1};
	assert_int_equal(ipc_send_many(a, f, 6, clock_mono() + 5, &sent, &d), 0);
	assert_int_equal(sent, 6);
	for (i = 0; i < 6; i++)
		close(fds[i]);
	assert_int_equal(ipc_pending(b), 0);
	for (i = 0; i < 6; i++) {
		assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
		assert_int_equal(m.seq, i + 1);
		if (i == 0)
			assert_int_equal(ipc_pending(b), 3); /* four read with the first */
		if (i == 2) {
			assert_int_equal(m.type, T_PING);
			assert_int_equal(m.fd, -1);
			assert_memory_equal(m.p, "ping", 4);
			continue;
		}
		assert_int_equal(m.type, T_FILE);
		assert_memory_equal(m.p, &eight[i], 8);
		assert_int_equal(pread(m.fd, got, 5, 0), 5);
		assert_int_equal(got[4], '0' + (int)i);
		ipc_msg_close(&m);
	}
	assert_int_equal(ipc_pending(b), 0);
	/* reading ahead without waiting: nothing, then what came */
	assert_int_equal(ipc_read_ahead(b, &d), 0);
	assert_int_equal(ipc_send_many(a, f + 2, 1, clock_mono() + 5, &sent, &d), 0);
	assert_int_equal(ipc_send_many(a, f + 2, 1, clock_mono() + 5, &sent, &d), 0);
	assert_int_equal(ipc_read_ahead(b, &d), 2);
	assert_int_equal(ipc_read_ahead(b, &d), 2);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.seq, 7);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.seq, 8);
	assert_int_equal(ipc_read_ahead(b, &d), 0);
	assert_int_not_equal(ipc_fd(b), -1);
	/* and singly after, by either end */
	assert_int_equal(ipc_send(a, T_PING, "pong", 4, -1, clock_mono() + 5, &d), 0);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.seq, 9);
	assert_memory_equal(m.p, "pong", 4);
	/* the peer gone: what it sent is read, then the end */
	assert_int_equal(ipc_send_many(a, f + 2, 1, clock_mono() + 5, &sent, &d), 0);
	ipc_free(a);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_true(ipc_read_ahead(b, &d) >= 1); /* the end, read ahead */
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	assert_int_equal(ipc_read_ahead(b, &d), WARD_ECLOSED);
	ipc_free(b);
	assert_int_equal(open_fds(), before);
}

/* IPC_NOWAIT: a full socket sends what it takes and says how many, the
 * channel stays open, and the rest goes once the peer read; a file's size
 * comes with it. */
static void
test_send_nowait_and_file_size(void **state)
{
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	struct ipc_out f[4];
	uint64_t eight = 8;
	char text[100];
	unsigned sent = 0, total = 0, got = 0, i;
	int r, fd;

	(void)state;
	pair(&a, &b);
	memset(text, 'x', sizeof(text));
	for (i = 0; i < 4; i++)
		f[i] = (struct ipc_out){.type = T_TEXT, .p = text, .len = 100, .fd = -1};
	do {
		r = ipc_send_many(a, f, 4, IPC_NOWAIT, &sent, &d);
		assert_int_equal(r, 0);
		total += sent;
	} while (sent == 4 && total < 1000000);
	assert_true(sent < 4 && total > 0);
	assert_int_not_equal(ipc_fd(a), -1); /* no room is not a failure */
	assert_int_equal(ipc_send_many(a, f, 4, IPC_NOWAIT, &sent, &d), 0);
	assert_int_equal(sent, 0);
	while (got < total) {
		assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
		got++;
	}
	assert_int_equal(ipc_send_many(a, f, 4, IPC_NOWAIT, &sent, &d), 0);
	assert_int_equal(sent, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	/* a regular file: its size as the receiver's check found it */
	fd = temp_file("twelve bytes");
	assert_int_equal(ipc_send(a, T_FILE, &eight, 8, fd, clock_mono() + 5, &d), 0);
	close(fd);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.fd_size, 12);
	ipc_msg_close(&m);
	ipc_free(a);
	ipc_free(b);
}

/* ipc_send_many checks every frame before it sends the first; bounds. */
static void
test_send_many_checks_all(void **state)
{
	struct ipc *a, *b;
	struct ipc_msg m;
	struct ward_diag d;
	struct ipc_out f[IPC_MAX_SEND + 1];
	unsigned sent = 99, i;

	(void)state;
	pair(&a, &b);
	for (i = 0; i < IPC_MAX_SEND + 1; i++)
		f[i] = (struct ipc_out){.type = T_PING, .p = "ping", .len = 4, .fd = -1};
	f[2].len = 3;
	assert_int_equal(ipc_send_many(a, f, 3, clock_mono() + 5, &sent, &d), WARD_EINVAL);
	assert_int_equal(sent, 0);
	f[2].len = 4;
	assert_int_equal(ipc_send_many(a, f, 0, clock_mono() + 5, &sent, &d), WARD_EINVAL);
	assert_int_equal(ipc_send_many(a, f, IPC_MAX_SEND + 1, clock_mono() + 5, &sent, &d),
			 WARD_EINVAL);
	assert_int_equal(sent, 0);
	/* nothing went: the first frame to arrive is number 1 of the next send */
	assert_int_equal(ipc_send_many(a, f, IPC_MAX_SEND, clock_mono() + 5, &sent, &d), 0);
	assert_int_equal(sent, IPC_MAX_SEND);
	assert_int_equal(ipc_set_readahead(b, IPC_MAX_READAHEAD), 0);
	for (i = 0; i < IPC_MAX_SEND; i++) {
		assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
		assert_int_equal(m.seq, i + 1);
	}
	assert_int_equal(ipc_recv(b, clock_mono() + 0.05, &m, &d), WARD_ETIMEDOUT);
	ipc_free(a);
	ipc_free(b);
}

/* Read-ahead bounds; a bad frame among frames read ahead closes the
 * channel once reached, and the descriptors of the frames behind it are
 * closed; freeing a channel closes those still pending. */
static void
test_read_ahead_bad_frame(void **state)
{
	struct ipc *b, *a;
	struct ipc_msg m;
	struct ward_diag d;
	struct ipc_out f[3];
	uint8_t fr[IPC_HEADER + 8];
	uint64_t eight = 0;
	unsigned before = open_fds(), sent;
	int s, fd;

	(void)state;
	s = raw_pair(&b);
	assert_int_equal(ipc_set_readahead(b, 0), WARD_EINVAL);
	assert_int_equal(ipc_set_readahead(b, IPC_MAX_READAHEAD + 1), WARD_EINVAL);
	/* out of memory: the channel unchanged, still reading one at a time */
	alloc_fail_after(1);
	assert_int_equal(ipc_set_readahead(b, 8), WARD_ENOMEM);
	alloc_fail_after(2);
	assert_int_equal(ipc_set_readahead(b, 8), WARD_ENOMEM);
	alloc_fail_after(0);
	assert_int_equal(ipc_set_readahead(b, 1), 0);
	assert_int_equal(ipc_set_readahead(b, 8), 0);
	fd = temp_file("x");
	header(fr, IPC_MAGIC, 1, 0, T_PING, 0, 4, 1);
	memcpy(fr + IPC_HEADER, "ping", 4);
	raw_send(s, fr, IPC_HEADER + 4, NULL, 0);
	header(fr, IPC_MAGIC, 1, IPC_F_FD, T_FILE, 0, 8, 3); /* number 3 where 2 is due */
	memset(fr + IPC_HEADER, 0, 8);
	raw_send(s, fr, IPC_HEADER + 8, &fd, 1);
	header(fr, IPC_MAGIC, 1, IPC_F_FD, T_FILE, 0, 8, 3);
	raw_send(s, fr, IPC_HEADER + 8, &fd, 1);
	close(fd);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	assert_int_equal(m.type, T_PING);
	assert_int_equal(ipc_pending(b), 2);
	assert_int_equal(ipc_set_readahead(b, 4), WARD_EINVAL); /* frames pending */
	diag_clear(&d);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), WARD_EPROTO);
	assert_non_null(strstr(d.msg, "frame number 3 where 2 was due"));
	assert_int_equal(m.fd, -1);
	assert_int_equal(ipc_fd(b), -1);
	assert_int_equal(ipc_pending(b), 0);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), WARD_ECLOSED);
	/* both descriptors closed, and the socket: the raw end alone is left */
	assert_int_equal(open_fds(), before + 1);
	ipc_free(b);
	close(s);
	/* pending frames' descriptors closed by ipc_free */
	pair(&a, &b);
	assert_int_equal(ipc_set_readahead(b, 4), 0);
	fd = temp_file("y");
	f[0] = f[1] = f[2] = (struct ipc_out){.type = T_FILE, .p = &eight, .len = 8, .fd = fd};
	assert_int_equal(ipc_send_many(a, f, 3, clock_mono() + 5, &sent, &d), 0);
	close(fd);
	assert_int_equal(ipc_recv(b, clock_mono() + 5, &m, &d), 0);
	ipc_msg_close(&m);
	assert_int_equal(ipc_pending(b), 2);
	ipc_free(b);
	ipc_free(a);
	assert_int_equal(open_fds(), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trips),
	    cmocka_unit_test(test_send_checks_table),
	    cmocka_unit_test(test_malformed_frames),
	    cmocka_unit_test(test_oversized_frame),
	    cmocka_unit_test(test_memfd_seals_enforced),
	    cmocka_unit_test(test_timeouts),
	    cmocka_unit_test(test_answer_before_a_reset),
	    cmocka_unit_test(test_bad_tables),
	    cmocka_unit_test(test_frame_decode),
	    cmocka_unit_test(test_alloc_failures),
	    cmocka_unit_test(test_send_many_read_ahead),
	    cmocka_unit_test(test_send_many_checks_all),
	    cmocka_unit_test(test_read_ahead_bad_frame),
	    cmocka_unit_test(test_send_nowait_and_file_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fuzz_ipc: libFuzzer target over the frame decoder of lib/util/ipc and
 * every message decoder of a channel built on it (lib/content/valmsg).
 *
 * Input: one mode byte, 8 bytes of a memory file's size (little-endian),
 * then a frame.  Mode bit 0 picks the side (what the worker may receive,
 * or the validator); bits 1-2 how many descriptors the frame claims to
 * have come with.  With bit 3 the frame goes through a real socketpair
 * instead, with bits 4-5 picking what rides beside it (nothing, a sealed
 * memory file of the size, an unsealed one, two descriptors), so that
 * ipc_recv's own checks and descriptor handling run too: every refused
 * frame must close the channel and leave no descriptor open.  A frame
 * that passes is given to every decoder (each must refuse the kinds it
 * does not decode).  Seeds: fuzz/corpus/ipc/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "content/valmsg.h"
#include "fuzz_ipcmsg.h"
#include "util/clock.h"
#include "util/ipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
decode_all(const struct ipc_msg *m)
{
	struct valmsg_request rq;
	struct valmsg_ok ok;
	struct valmsg_refused *no = malloc(sizeof(*no));
	struct ward_diag d;
	int a, b, c;

	if (no == NULL)
		return;
	a = valmsg_request_decode(m, &rq, &d);
	b = valmsg_ok_decode(m, &ok, &d);
	c = valmsg_refused_decode(m, no, &d);
	/* At most one decoder takes a frame, and only of its type. */
	if ((a == 0) + (b == 0) + (c == 0) > 1 || (a == 0 && m->type != VALMSG_REQUEST) ||
	    (b == 0 && m->type != VALMSG_OK) || (c == 0 && m->type != VALMSG_REFUSED))
		abort();
	if (c == 0 && strlen(no->reason) > VALMSG_MAX_REASON)
		abort();
	if ((a != 0 && a != WARD_EPROTO) || (b != 0 && b != WARD_EPROTO) ||
	    (c != 0 && c != WARD_EPROTO))
		abort();
	free(no);
}

/* The frame through a real channel, with what the mode puts beside it. */
static void
through_socket(const struct ipc_proto *rx, unsigned kind, uint64_t fd_size, const uint8_t *p,
	       size_t n)
{
	static const uint8_t zeros[4096];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2)];
	} ctl;
	struct ipc *c = NULL;
	struct ipc_msg m;
	struct ward_diag d;
	struct iovec iov = {(void *)p, n};
	struct msghdr mh;
	int sv[2], fds[2] = {-1, -1}, nfds = 0, r;

	if (n == 0 || ipc_pair(sv) != 0)
		return;
	if (ipc_new(sv[1], rx, rx, &c) != 0) {
		close(sv[0]);
		return;
	}
	fd_size %= sizeof(zeros);
	if (kind == 1 && ipc_memfd_new("f", zeros, (size_t)fd_size, &fds[0]) == 0)
		nfds = 1;
	if ((kind == 2 || kind == 3) && ipc_memfd_open("f", &fds[0]) == 0)
		nfds = 1;
	if (kind == 3 && nfds == 1 && (fds[1] = dup(fds[0])) >= 0)
		nfds = 2;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(sv[0], &mh, MSG_DONTWAIT) == (ssize_t)n) {
		r = ipc_recv(c, clock_mono() + 1, &m, &d);
		if (r == 0) {
			decode_all(&m);
			ipc_msg_close(&m);
		} else if (ipc_fd(c) != -1 || m.fd != -1) {
			abort(); /* a refused frame closes the channel */
		}
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	close(sv[0]);
	ipc_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ipc_proto *rx;
	uint64_t fd_size;
	uint8_t mode;

	if (!fuzz_ipcmsg_input(&data, &size, &mode, &fd_size))
		return 0;
	rx = (mode & 1) != 0 ? &valmsg_to_validator : &valmsg_to_worker;
	if ((mode & 8) != 0)
		through_socket(rx, (mode >> 4) & 3, fd_size, data, size);
	else
		fuzz_ipcmsg_frame(rx, data, size, (mode >> 1) & 3, fd_size, decode_all);
	return 0;
}

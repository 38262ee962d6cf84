/*
 * ipc: typed frames between wardd's processes.  See ipc.h.
 *
 * Must hold: a frame is returned to the caller only after the header, the
 * rx table (type, size, descriptor) and the descriptor itself (a sealed
 * memory file's seals and size, a file's type) were checked; any failure
 * closes every descriptor that came with the frame and closes the
 * channel, so a peer that broke the protocol once is not read again; no
 * call waits past its deadline.
 */
#include "util/ipc.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Descriptors one frame's receive has room for: one is allowed, the
 * others are received only to be closed (the kernel drops what does not
 * fit). */
#define RX_FDS 4
#define ALL_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)

/* One frame as the kernel handed it over, not yet checked. */
struct rx_slot {
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * RX_FDS)];
	} ctl;
	size_t len;
	int flags;     /* its msg_flags: MSG_TRUNC, MSG_CTRUNC */
	int odd;       /* ancillary data other than descriptors */
	unsigned nfds; /* descriptors it brought, owned by the slot */
	int fds[RX_FDS];
};

struct ipc {
	int fd;
	const struct ipc_proto *rx, *tx;
	uint32_t rx_seq, tx_seq; /* the last sequence number received, sent */
	uint8_t *buf;		 /* nslots frames of bufsize bytes */
	size_t bufsize;		 /* the largest rx message's frame, and one byte */
	struct rx_slot *slot;	 /* nslots */
	unsigned nslots;	 /* frames one receive reads (ipc_set_readahead) */
	unsigned head, count;	 /* the frames read ahead: slot[head..head+count) */
};

static const struct ipc_msgdef *
proto_find(const struct ipc_proto *t, uint16_t type)
{
	size_t i;

	for (i = 0; i < t->nmsgs; i++)
		if (t->msgs[i].type == type)
			return &t->msgs[i];
	return NULL;
}

static int
proto_check(const struct ipc_proto *t, size_t *maxframe)
{
	size_t i, j;

	*maxframe = IPC_HEADER;
	if (t == NULL || t->name == NULL || (t->nmsgs > 0 && t->msgs == NULL))
		return WARD_EINVAL;
	for (i = 0; i < t->nmsgs; i++) {
		const struct ipc_msgdef *m = &t->msgs[i];

		if (m->type == 0 || m->name == NULL || m->min_len > m->max_len ||
		    m->max_len > WARD_MAX_IPC_PAYLOAD || m->fd > IPC_FD_MEMFD)
			return WARD_EINVAL;
		for (j = 0; j < i; j++)
			if (t->msgs[j].type == m->type)
				return WARD_EINVAL;
		if (IPC_HEADER + (size_t)m->max_len > *maxframe)
			*maxframe = IPC_HEADER + m->max_len;
	}
	return 0;
}

int
ipc_pair(int sv[2])
{
	sv[0] = sv[1] = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return WARD_EIO;
	return 0;
}

int
ipc_new(int fd, const struct ipc_proto *rx, const struct ipc_proto *tx, struct ipc **out)
{
	struct ipc *c = NULL;
	size_t maxframe, unused;
	int r;

	*out = NULL;
	if (fd < 0 || (r = proto_check(rx, &maxframe)) != 0 ||
	    (r = proto_check(tx, &unused)) != 0) {
		r = WARD_EINVAL;
		goto out;
	}
	if ((c = ward_calloc(1, sizeof(*c))) == NULL ||
	    (c->buf = ward_malloc(maxframe + 1)) == NULL ||
	    (c->slot = ward_calloc(1, sizeof(*c->slot))) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	c->nslots = 1;
	c->fd = fd;
	c->rx = rx;
	c->tx = tx;
	c->bufsize = maxframe + 1;
	*out = c;
	c = NULL;
	fd = -1;
	r = 0;
out:
	if (c != NULL) {
		ward_free(c->buf);
		ward_free(c->slot);
	}
	ward_free(c);
	if (fd >= 0)
		close(fd);
	return r;
}

int
ipc_set_readahead(struct ipc *c, unsigned n)
{
	struct rx_slot *slot;
	uint8_t *buf;

	if (n < 1 || n > IPC_MAX_READAHEAD || c->count > 0)
		return WARD_EINVAL;
	if (n == c->nslots)
		return 0;
	if ((buf = ward_malloc(c->bufsize * n)) == NULL)
		return WARD_ENOMEM;
	if ((slot = ward_calloc(n, sizeof(*slot))) == NULL) {
		ward_free(buf);
		return WARD_ENOMEM;
	}
	ward_free(c->buf);
	ward_free(c->slot);
	c->buf = buf;
	c->slot = slot;
	c->nslots = n;
	c->head = 0;
	return 0;
}

unsigned
ipc_pending(const struct ipc *c)
{
	return c->count;
}

/* Closes the descriptors of the frames read ahead and forgets them. */
static void
drop_pending(struct ipc *c)
{
	unsigned i, j;

	for (i = 0; i < c->count; i++) {
		struct rx_slot *s = &c->slot[(c->head + i) % c->nslots];

		for (j = 0; j < s->nfds; j++)
			close(s->fds[j]);
		s->nfds = 0;
	}
	c->count = 0;
	c->head = 0;
}

/* close alone: the socket is this process's only copy (close-on-exec),
 * and a sandboxed peer may be allowed no more (the validator's is not).
 * Frames read ahead are never returned once the channel is closed. */
static void
ipc_close(struct ipc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	drop_pending(c);
}

void
ipc_free(struct ipc *c)
{
	if (c == NULL)
		return;
	ipc_close(c);
	ward_free(c->buf);
	ward_free(c->slot);
	ward_free(c);
}

int
ipc_fd(const struct ipc *c)
{
	return c->fd;
}

/* Waits until fd is ready for events or deadline: 0, WARD_ETIMEDOUT or
 * WARD_EIO. */
static int
wait_ready(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p = {fd, events, 0};
		int ms = -1, k;

		if (deadline >= 0) {
			double left = deadline - clock_mono();

			if (left <= 0)
				return WARD_ETIMEDOUT;
			ms = left > 86400 ? 86400000 : (int)(left * 1000) + 1;
		}
		k = poll(&p, 1, ms);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return WARD_EIO;
		/* An error or hang-up is ready too: the call that follows says which. */
		if (k > 0)
			return 0;
	}
}

/* Whether the tx table lets this end send the frame: 0 or WARD_EINVAL
 * (a bug of the caller). */
static int
tx_check(const struct ipc *c, const struct ipc_out *f, const struct ipc_msgdef **def,
	 struct ward_diag *d)
{
	*def = proto_find(c->tx, f->type);
	if (*def == NULL || f->len < (*def)->min_len || f->len > (*def)->max_len ||
	    ((*def)->fd != IPC_FD_NONE) != (f->fd >= 0) || (f->len > 0 && f->p == NULL))
		return diag_set(d, WARD_EINVAL, c->tx->name, 0, 0,
				"message type %u of %zu bytes%s is not one this end may send",
				(unsigned)f->type, f->len, f->fd >= 0 ? " with a descriptor" : "");
	return 0;
}

/* The frames' headers, one after another in w, numbered from seq. */
static void
tx_headers(struct wbuf *w, const struct ipc_out *f, unsigned n, uint32_t seq)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		wbuf_u16(w, IPC_MAGIC);
		wbuf_u8(w, IPC_VERSION);
		wbuf_u8(w, f[i].fd >= 0 ? IPC_F_FD : 0);
		wbuf_u16(w, f[i].type);
		wbuf_u16(w, 0);
		wbuf_u32(w, (uint32_t)f[i].len);
		wbuf_u32(w, seq + i);
	}
}

/* One frame's message: its header hdr, its payload, its descriptor. */
struct tx_frame {
	struct iovec iov[2];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
};

static void
tx_message(struct msghdr *mh, struct tx_frame *t, const uint8_t *hdr, const struct ipc_out *f)
{
	memset(mh, 0, sizeof(*mh));
	t->iov[0].iov_base = (void *)hdr;
	t->iov[0].iov_len = IPC_HEADER;
	t->iov[1].iov_base = (void *)f->p;
	t->iov[1].iov_len = f->len;
	mh->msg_iov = t->iov;
	mh->msg_iovlen = f->len > 0 ? 2 : 1;
	if (f->fd >= 0) {
		memset(&t->ctl, 0, sizeof(t->ctl));
		mh->msg_control = t->ctl.b;
		mh->msg_controllen = sizeof(t->ctl.b);
		CMSG_FIRSTHDR(mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(mh)), &f->fd, sizeof(int));
	}
}

int
ipc_send_many(struct ipc *c, const struct ipc_out *f, unsigned n, double deadline, unsigned *nsent,
	      struct ward_diag *d)
{
	const struct ipc_msgdef *def = NULL;
	struct tx_frame t[IPC_MAX_SEND];
	struct mmsghdr mm[IPC_MAX_SEND];
	struct wbuf w;
	unsigned i, done = 0;
	int r, k;
	const char *chan = c->tx->name;

	*nsent = 0;
	wbuf_init(&w);
	if (c->fd < 0) {
		r = diag_set(d, WARD_ECLOSED, chan, 0, 0, "the channel is closed");
		goto out;
	}
	if (n < 1 || n > IPC_MAX_SEND) {
		r = diag_set(d, WARD_EINVAL, chan, 0, 0, "%u frames in one send (1 to %u)", n,
			     IPC_MAX_SEND);
		goto out;
	}
	/* Every frame is checked before the first is sent. */
	for (i = 0; i < n; i++)
		if ((r = tx_check(c, &f[i], &def, d)) != 0)
			goto out;
	tx_headers(&w, f, n, c->tx_seq + 1);
	if (w.err != 0 || w.len != (size_t)n * IPC_HEADER) {
		r = diag_set(d, WARD_ENOMEM, chan, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		tx_message(&mm[i].msg_hdr, &t[i], w.p + (size_t)i * IPC_HEADER, &f[i]);
		mm[i].msg_len = 0;
	}
	/* The socket almost always has room: try first, wait only when it
	 * has none (one system call for all the frames, not two a frame).
	 * One frame goes by sendmsg, which every sandbox allows. */
	for (int tries = 0; done < n; tries++) {
		if (tries > 0 && deadline == IPC_NOWAIT)
			break; /* no room now: *nsent says how many went */
		if (tries > 0 && (r = wait_ready(c->fd, POLLOUT, deadline)) != 0) {
			if (r == WARD_ETIMEDOUT)
				diag_set(d, r, chan, 0, 0,
					 "the peer took no frame by the deadline");
			else
				diag_set(d, r, chan, 0, 0, "poll: %s", strerror(errno));
			ipc_close(c);
			goto out;
		}
		if (n - done == 1)
			k = sendmsg(c->fd, &mm[done].msg_hdr, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0
				? 1
				: -1;
		else
			k = sendmmsg(c->fd, &mm[done], n - done, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k > 0) {
			/* A record is sent whole or not at all. */
			done += (unsigned)k;
			c->tx_seq += (uint32_t)k;
			*nsent = done;
			continue;
		}
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			continue;
		r = diag_set(d, errno == EPIPE || errno == ECONNRESET ? WARD_ECLOSED : WARD_EIO,
			     chan, 0, 0, "cannot send %s: %s",
			     proto_find(c->tx, f[done].type)->name, strerror(errno));
		/* A peer gone may have sent frames before it went (a
		 * scanner's verdicts): they can still be received, and then
		 * the end closes the channel. */
		if (r != WARD_ECLOSED)
			ipc_close(c);
		goto out;
	}
	r = 0;
out:
	wbuf_free(&w);
	return r;
}

int
ipc_send(struct ipc *c, uint16_t type, const void *p, size_t len, int fd, double deadline,
	 struct ward_diag *d)
{
	const struct ipc_out f = {.type = type, .p = p, .len = len, .fd = fd};
	unsigned sent;

	return ipc_send_many(c, &f, 1, deadline, &sent, d);
}

int
ipc_frame_decode(const struct ipc_proto *rx, const uint8_t *p, size_t n, unsigned nfds,
		 uint32_t seq, struct ipc_msg *m, struct ward_diag *d)
{
	const struct ipc_msgdef *def;
	uint16_t magic, type, reserved;
	uint8_t version, flags;
	uint32_t len, fseq;
	struct rbuf b;
	const char *chan = rx->name;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	rbuf_init(&b, p, n);
	if (rbuf_u16(&b, &magic) != 0 || rbuf_u8(&b, &version) != 0 || rbuf_u8(&b, &flags) != 0 ||
	    rbuf_u16(&b, &type) != 0 || rbuf_u16(&b, &reserved) != 0 || rbuf_u32(&b, &len) != 0 ||
	    rbuf_u32(&b, &fseq) != 0)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"a frame of %zu bytes is shorter than the header (%d)", n,
				IPC_HEADER);
	if (magic != IPC_MAGIC || version != IPC_VERSION)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"a frame of magic %#x, version %u (expected %#x, %u)", magic,
				version, IPC_MAGIC, IPC_VERSION);
	if ((flags & ~IPC_F_FD) != 0 || reserved != 0)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"a frame with unknown flags %#x or reserved bits %#x", flags,
				reserved);
	if (fseq != seq)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"frame number %u where %u was due (replayed, lost or forged)", fseq,
				seq);
	def = proto_find(rx, type);
	if (def == NULL)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"a frame of type %u, not one this end may receive", type);
	if (len != rbuf_left(&b) || len < def->min_len || len > def->max_len)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"%s of %zu payload bytes (header says %u; %u to %u expected)",
				def->name, rbuf_left(&b), len, def->min_len, def->max_len);
	if (nfds > 1 || ((flags & IPC_F_FD) != 0) != (nfds == 1) ||
	    (def->fd != IPC_FD_NONE) != (nfds == 1))
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"%s with %u descriptor%s (flag %s; %s expected)", def->name, nfds,
				nfds == 1 ? "" : "s", (flags & IPC_F_FD) != 0 ? "set" : "clear",
				def->fd != IPC_FD_NONE ? "one" : "none");
	m->def = def;
	m->type = type;
	m->seq = fseq;
	m->len = len;
	(void)rbuf_bytes(&b, len, &m->p);
	return 0;
}

int
ipc_memfd_check(int fd, uint64_t max, uint64_t *size, struct ward_diag *d)
{
	struct stat st;
	int seals;

	*size = 0;
	seals = fcntl(fd, F_GET_SEALS);
	/* EINVAL: not a file that can be sealed, so not a memory file. */
	if (seals < 0 && errno != EINVAL)
		return diag_set(d, WARD_EIO, NULL, 0, 0, "F_GET_SEALS: %s", strerror(errno));
	if (seals < 0 || (seals & ALL_SEALS) != ALL_SEALS)
		return diag_set(d, WARD_EPROTO, NULL, 0, 0,
				"a memory file that is not sealed against change (seals %#x)",
				seals < 0 ? 0 : seals);
	if (fstat(fd, &st) != 0)
		return diag_set(d, WARD_EIO, NULL, 0, 0, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 0 || (uint64_t)st.st_size > max)
		return diag_set(d, WARD_EPROTO, NULL, 0, 0,
				"a memory file of %lld bytes (at most %llu accepted)",
				(long long)st.st_size, (unsigned long long)max);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The descriptor's checks of ipc_recv. */
static int
check_fd(const char *chan, const struct ipc_msgdef *def, int fd, uint64_t *size,
	 struct ward_diag *d)
{
	struct stat st;
	int r;

	if (def->fd == IPC_FD_MEMFD) {
		if ((r = ipc_memfd_check(fd, def->fd_max, size, d)) != 0 && d != NULL)
			snprintf(d->file, sizeof(d->file), "%s", chan);
		return r;
	}
	if (fstat(fd, &st) != 0)
		return diag_set(d, WARD_EIO, chan, 0, 0, "fstat: %s", strerror(errno));
	if (!S_ISREG(st.st_mode) || st.st_size < 0)
		return diag_set(d, WARD_EPROTO, chan, 0, 0,
				"%s with a descriptor that is not a regular file (mode %#o)",
				def->name, (unsigned)st.st_mode);
	/* The receiver need not look again (a scanner's file: one system
	 * call a file fewer). */
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Takes one slot's descriptors out of the kernel's ancillary data. */
static void
rx_collect(struct rx_slot *s, struct msghdr *mh, size_t len)
{
	struct cmsghdr *cm;
	size_t nb, i;

	s->len = len;
	s->flags = mh->msg_flags;
	s->odd = 0;
	s->nfds = 0;
	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0)) {
			s->odd = 1;
			continue;
		}
		nb = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nb && s->nfds < RX_FDS; i++, s->nfds++)
			memcpy(&s->fds[s->nfds], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		/* More than the buffer holds cannot come (MSG_CTRUNC); any
		 * left over would be a kernel's bug, closed all the same. */
		for (; i < nb; i++) {
			int extra;

			memcpy(&extra, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			close(extra);
			s->odd = 1;
		}
	}
}

/*
 * Reads at least one frame (none when !wait and none is waiting), and as
 * many more as are waiting up to c->nslots, into the slots (unchecked:
 * ipc_recv checks each as it hands it out).  0, or WARD_ETIMEDOUT,
 * WARD_ECLOSED, WARD_EIO with d set.
 */
static int
rx_fill(struct ipc *c, double deadline, int wait, struct ward_diag *d)
{
	struct mmsghdr mm[IPC_MAX_READAHEAD];
	struct iovec iov[IPC_MAX_READAHEAD];
	unsigned i;
	int r, k, reset = 0;
	const char *chan = c->rx->name;

	/* A frame is often waiting already (a scanner's verdicts, sent
	 * ahead): try first, wait only when there is none.  A deadline
	 * already past is a timeout all the same. */
	for (int tries = 0;; tries++) {
		if (wait && (tries > 0 || (deadline >= 0 && deadline <= clock_mono())) &&
		    (r = wait_ready(c->fd, POLLIN, deadline)) != 0) {
			if (r == WARD_ETIMEDOUT)
				diag_set(d, r, chan, 0, 0,
					 "no frame from the peer by the deadline");
			else
				diag_set(d, r, chan, 0, 0, "poll: %s", strerror(errno));
			return r;
		}
		for (i = 0; i < c->nslots; i++) {
			memset(&mm[i], 0, sizeof(mm[i]));
			memset(&c->slot[i].ctl, 0, sizeof(c->slot[i].ctl));
			iov[i].iov_base = c->buf + (size_t)i * c->bufsize;
			iov[i].iov_len = c->bufsize;
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = c->slot[i].ctl.b;
			mm[i].msg_hdr.msg_controllen = sizeof(c->slot[i].ctl.b);
		}
		/* One frame at a time by recvmsg, which every sandbox allows;
		 * more by recvmmsg, which a channel asks for (and allows). */
		if (c->nslots == 1) {
			ssize_t n = recvmsg(c->fd, &mm[0].msg_hdr, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

			mm[0].msg_len = n >= 0 ? (unsigned)n : 0;
			k = n >= 0 ? 1 : -1;
		} else {
			k = recvmmsg(c->fd, mm, c->nslots, MSG_DONTWAIT | MSG_CMSG_CLOEXEC, NULL);
		}
		if (k > 0)
			break;
		if (!wait && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			continue;
		/* A peer that closed with frames of ours unread resets the
		 * socket, and the reset is reported before the frames it sent
		 * first (a scanner's verdicts before it died): once, the error
		 * read clears it, and those frames still come; then the end. */
		if (errno == ECONNRESET && !reset) {
			reset = 1;
			continue;
		}
		return diag_set(d, errno == ECONNRESET ? WARD_ECLOSED : WARD_EIO, chan, 0, 0,
				"recvmsg: %s", strerror(errno));
	}
	for (i = 0; i < (unsigned)k; i++)
		rx_collect(&c->slot[i], &mm[i].msg_hdr, mm[i].msg_len);
	c->head = 0;
	c->count = (unsigned)k;
	return 0;
}

int
ipc_read_ahead(struct ipc *c, struct ward_diag *d)
{
	int r;

	if (c->fd < 0)
		return diag_set(d, WARD_ECLOSED, c->rx->name, 0, 0, "the channel is closed");
	if (c->count > 0)
		return (int)c->count;
	if ((r = rx_fill(c, IPC_FOREVER, 0, d)) != 0) {
		ipc_close(c);
		return r;
	}
	return (int)c->count;
}

int
ipc_recv(struct ipc *c, double deadline, struct ipc_msg *m, struct ward_diag *d)
{
	struct rx_slot *s;
	const uint8_t *frame;
	int fds[RX_FDS];
	unsigned nfds = 0, i;
	int r;
	const char *chan = c->rx->name;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (c->fd < 0) {
		r = diag_set(d, WARD_ECLOSED, chan, 0, 0, "the channel is closed");
		goto out;
	}
	/* A frame read ahead is handed out even past the deadline: it came
	 * in time. */
	if (c->count == 0 && (r = rx_fill(c, deadline, 1, d)) != 0)
		goto out;
	/* The slot's descriptors are this call's now, so that every path
	 * below closes them. */
	s = &c->slot[c->head];
	frame = c->buf + (size_t)c->head * c->bufsize;
	c->head++;
	c->count--;
	nfds = s->nfds;
	memcpy(fds, s->fds, sizeof(int) * nfds);
	s->nfds = 0;
	if (s->len == 0 && nfds == 0 && !s->odd) {
		r = diag_set(d, WARD_ECLOSED, chan, 0, 0, "the peer closed the channel");
		goto out;
	}
	if ((s->flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || s->odd) {
		r = diag_set(d, WARD_EPROTO, chan, 0, 0,
			     "a frame larger than any this end may receive, or with ancillary "
			     "data beyond one descriptor");
		goto out;
	}
	if ((r = ipc_frame_decode(c->rx, frame, s->len, nfds, c->rx_seq + 1, m, d)) != 0)
		goto out;
	if (nfds == 1 && (r = check_fd(chan, m->def, fds[0], &m->fd_size, d)) != 0)
		goto out;
	c->rx_seq++;
	if (nfds == 1) {
		m->fd = fds[0];
		nfds = 0;
	}
	r = 0;
out:
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	if (r != 0) {
		memset(m, 0, sizeof(*m));
		m->fd = -1;
		ipc_close(c);
	}
	return r;
}

void
ipc_msg_close(struct ipc_msg *m)
{
	if (m != NULL && m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
}

int
ipc_msg_take_fd(struct ipc_msg *m)
{
	int fd = m->fd;

	m->fd = -1;
	return fd;
}

void
ipc_attack_text(const struct ward_diag *d, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "ipc: %s: protocol violation by the peer (%s): channel closed, treated as an "
		 "attack",
		 d != NULL && d->file[0] != '\0' ? d->file : "?",
		 d != NULL && d->msg[0] != '\0' ? d->msg : "no detail");
}

int
ipc_memfd_open(const char *name, int *fd)
{
	*fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return *fd >= 0 ? 0 : WARD_EIO;
}

int
ipc_memfd_seal(int fd, const void *p, size_t n)
{
	const uint8_t *q = p;
	size_t done = 0;

	/* write, not pwrite: the validator's sandbox allows no more. */
	if (lseek(fd, 0, SEEK_SET) != 0)
		return WARD_EIO;
	while (done < n) {
		ssize_t k = write(fd, q + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return WARD_EIO;
		done += (size_t)k;
	}
	if (fcntl(fd, F_ADD_SEALS, ALL_SEALS) != 0)
		return WARD_EIO;
	return 0;
}

int
ipc_memfd_new(const char *name, const void *p, size_t n, int *fd)
{
	int r;

	if ((r = ipc_memfd_open(name, fd)) != 0)
		return r;
	if ((r = ipc_memfd_seal(*fd, p, n)) != 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

int
ipc_memfd_map(int fd, size_t n, const uint8_t **p)
{
	static const uint8_t empty[1];
	void *m;

	*p = NULL;
	if (n == 0) {
		*p = empty;
		return 0;
	}
	m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED)
		return WARD_EIO;
	*p = m;
	return 0;
}

void
ipc_memfd_unmap(const uint8_t *p, size_t n)
{
	if (p != NULL && n > 0)
		munmap((void *)p, n);
}

void
ipc_msg_wipe(struct ipc_msg *m)
{
	/* The payload lies in the channel's own receive buffer (m->p borrows
	 * it): writable memory, handed out read-only. */
	if (m != NULL && m->p != NULL && m->len > 0)
		explicit_bzero((void *)(uintptr_t)m->p, m->len);
}

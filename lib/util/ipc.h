/*
 * ipc: typed frames of exact size between wardd's processes.
 *
 * A channel is one end of an AF_UNIX SOCK_SEQPACKET socketpair: the kernel
 * keeps each frame a record of its own, read whole by one recvmsg with the
 * descriptor that came with it, so a reader never reassembles a frame from
 * a byte stream nor guesses which frame a descriptor belongs to; a frame
 * larger than the reader's buffer shows as MSG_TRUNC and is refused.
 *
 * A frame is a 16-byte header and a payload (all little-endian):
 *
 *     u16 magic 0x5749 ("WI")   u8 version (1)   u8 flags (bit 0: a descriptor)
 *     u16 type                  u16 reserved (0)
 *     u32 payload length        u32 sequence number (1, 2, ... per direction)
 *
 * with at most one descriptor beside it (SCM_RIGHTS).  Each end names the
 * messages it may receive (rx) and send (tx) in a table: per type, the
 * payload's size (exact, or a bounded range) and whether a descriptor comes
 * with it — none, a regular file, or a memory file sealed against any
 * change (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL), which
 * is how anything larger than a frame travels (a compiled rule image).
 *
 * A received frame that breaks the table — bad magic, version, flags or
 * sequence number, an unknown type, a wrong size, a missing or unexpected
 * descriptor, an unsealed memory file — closes the channel and returns
 * WARD_EPROTO; the caller logs it as an attack (ipc_attack_text), from the
 * less privileged side in particular.  Payloads are decoded only through
 * the sized reader (rbuf) by each channel's decode functions, which return
 * WARD_EPROTO too for a value out of range: never a partial decode.
 * Every descriptor here is close-on-exec; a received descriptor is closed
 * on every error path.
 */
#ifndef WARD_UTIL_IPC_H
#define WARD_UTIL_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

#define IPC_MAGIC 0x5749
#define IPC_VERSION 1
#define IPC_HEADER 16
#define IPC_F_FD 0x01 /* a descriptor comes with the frame */

/* ipc_send/ipc_recv's deadline meaning "wait as long as it takes". */
#define IPC_FOREVER (-1.0)
/* ipc_send_many's deadline meaning "send what the socket takes now, and
 * say how many": for a sender that must keep reading its peer while it
 * waits for room (its own poll), or the two could wait on each other. */
#define IPC_NOWAIT (-2.0)

/* Frames one receive reads ahead (ipc_set_readahead), and one
 * ipc_send_many sends: a scanner's batch of requests, or of verdicts. */
#define IPC_MAX_READAHEAD 32
#define IPC_MAX_SEND 32

/* What may come beside a frame. */
enum ipc_fdkind {
	IPC_FD_NONE = 0,
	IPC_FD_FILE,  /* an open regular file (read by the receiver) */
	IPC_FD_MEMFD, /* a sealed memory file of at most fd_max bytes */
};

/* One message of a channel. */
struct ipc_msgdef {
	uint16_t type;	  /* nonzero, unique in its table */
	const char *name; /* for messages: "answer-ok" */
	uint32_t min_len; /* payload bytes: min_len == max_len for an exact size */
	uint32_t max_len; /* <= WARD_MAX_IPC_PAYLOAD */
	enum ipc_fdkind fd;
	uint64_t fd_max; /* IPC_FD_MEMFD: the largest size accepted */
};

/* What one end of a channel may receive, or send. */
struct ipc_proto {
	const char *name; /* the channel: "validator" */
	const struct ipc_msgdef *msgs;
	size_t nmsgs;
};

/* A received frame. */
struct ipc_msg {
	const struct ipc_msgdef *def; /* its row of the rx table */
	uint16_t type;
	uint32_t seq;
	const uint8_t *p; /* payload, borrowed from the channel until its next ipc_recv */
	size_t len;
	int fd;		  /* the descriptor beside it, or -1: owned by the message */
	uint64_t fd_size; /* IPC_FD_MEMFD: its sealed size; IPC_FD_FILE: its size when received */
};

struct ipc;

/*
 * Makes a SOCK_SEQPACKET socketpair, both ends close-on-exec.  0 or
 * WARD_EIO (errno kept).
 */
int ipc_pair(int sv[2]);

/*
 * Makes a channel on fd (taken: closed by ipc_free, also on failure) that
 * receives what rx lists and sends what tx lists (both borrowed: static
 * tables).  WARD_EINVAL for a table that breaks the rules above,
 * WARD_ENOMEM.  *out is NULL on failure.
 */
int ipc_new(int fd, const struct ipc_proto *rx, const struct ipc_proto *tx, struct ipc **out);

/* Closes the channel's socket and frees it; NULL is a no-op. */
void ipc_free(struct ipc *c);

/* The socket (to poll on), or -1 once the channel is closed. */
int ipc_fd(const struct ipc *c);

/* One frame to send: type, payload p[0..len), a descriptor or -1. */
struct ipc_out {
	uint16_t type;
	const void *p;
	size_t len;
	int fd; /* borrowed: the caller still closes it */
};

/*
 * Sends the frames f[0..n) (1 <= n <= IPC_MAX_SEND) in order, as n
 * ipc_send calls would, with one system call (sendmmsg) when the socket
 * has room for all: for a channel that carries many small frames (a
 * scanner's requests).  Every frame is checked against the tx table before
 * the first is sent (WARD_EINVAL: none sent).  *nsent says how many were
 * sent, in order, also on failure; the failures are ipc_send's.  n > 1
 * needs sendmmsg (a sandbox must allow it); n == 1 uses sendmsg.  With
 * deadline IPC_NOWAIT it never waits: 0 with *nsent < n when the socket
 * had no room for the rest (the channel stays open).
 */
int ipc_send_many(struct ipc *c, const struct ipc_out *f, unsigned n, double deadline,
		  unsigned *nsent, struct ward_diag *d);

/*
 * Sends one frame of type with payload p[0..len) and, when the tx table
 * says so, the descriptor fd (borrowed: the caller still closes it; -1
 * otherwise).  Waits for room until deadline (clock_mono() seconds, or
 * IPC_FOREVER).  Returns 0; WARD_EINVAL when the frame breaks the tx table
 * (a bug of the caller: nothing is sent, the channel stays open);
 * WARD_ECLOSED when the peer is gone (what it sent before can still be
 * received; then ipc_recv says WARD_ECLOSED and closes the channel);
 * WARD_ETIMEDOUT or WARD_EIO, which close the channel.  d (may be NULL) says why, its file naming
 * the channel.
 */
int ipc_send(struct ipc *c, uint16_t type, const void *p, size_t len, int fd, double deadline,
	     struct ward_diag *d);

/*
 * Receives one frame into *m (cleared on entry; m->fd -1) by deadline.
 * Returns 0 with a frame that passed the rx table; or WARD_EPROTO (it
 * broke the table: an attack, see ipc_attack_text), WARD_ETIMEDOUT,
 * WARD_ECLOSED (the peer closed its end, or the channel was closed by an
 * earlier error) or WARD_EIO — every failure closes the channel, and any
 * descriptor that came with a refused frame is closed.  A frame is
 * checked whole before it is returned: a memory file's seals and size, a
 * file's type.  d (may be NULL) says why, its file naming the channel.
 */
int ipc_recv(struct ipc *c, double deadline, struct ipc_msg *m, struct ward_diag *d);

/*
 * Lets each receive read up to n frames (1 <= n <= IPC_MAX_READAHEAD)
 * with one system call (recvmmsg, which a sandbox must then allow) and
 * ipc_recv hand them out one by one, each checked as ipc_recv checks any
 * frame when it is handed out: a frame that breaks the table still closes
 * the channel, after the good frames before it were returned.  Frames
 * read ahead, and their descriptors, are the channel's until returned
 * (ipc_free and every failure close them): a process must have room for
 * n descriptors more.  A frame read ahead is returned even once its
 * deadline has passed.  Only when none is pending.  0, WARD_EINVAL or
 * WARD_ENOMEM (the channel unchanged).
 */
int ipc_set_readahead(struct ipc *c, unsigned n);

/* Frames read ahead and not yet returned by ipc_recv (no system call):
 * 0 means the next ipc_recv asks the kernel, and may wait. */
unsigned ipc_pending(const struct ipc *c);

/*
 * Reads ahead the frames waiting, if none is pending, without waiting:
 * how many are pending then (0: the next ipc_recv would wait), or
 * WARD_ECLOSED or WARD_EIO (the channel closed).  For a process that
 * must do something before it waits (send what it held back).
 */
int ipc_read_ahead(struct ipc *c, struct ward_diag *d);

/*
 * The header and table checks of ipc_recv on one frame p[0..n) that came
 * with nfds descriptors, expecting sequence number seq: a pure function,
 * for tests and fuzzing.  Fills *m (m->p borrows p; m->fd is -1, the
 * caller owns the descriptors).  0 or WARD_EPROTO with d saying why.
 */
int ipc_frame_decode(const struct ipc_proto *rx, const uint8_t *p, size_t n, unsigned nfds,
		     uint32_t seq, struct ipc_msg *m, struct ward_diag *d);

/* Wipes m's payload in its channel's buffer: a frame that carried a
 * secret (a credential) leaves no copy of it behind. */
void ipc_msg_wipe(struct ipc_msg *m);

/* Closes m's descriptor if it still owns one; m may be NULL. */
void ipc_msg_close(struct ipc_msg *m);

/* Takes m's descriptor (the caller closes it then); -1 if none. */
int ipc_msg_take_fd(struct ipc_msg *m);

/*
 * The log line for a WARD_EPROTO from ipc_recv or a decode function, from
 * its diagnostic: "ipc: CHANNEL: protocol violation by the peer (WHY):
 * channel closed, treated as an attack".
 */
void ipc_attack_text(const struct ward_diag *d, char *out, size_t outlen);

/*
 * Makes a memory file (close-on-exec, sealable) for a frame: *fd, or -1
 * with WARD_EIO.  name shows in /proc (debugging only).
 */
int ipc_memfd_open(const char *name, int *fd);

/*
 * Writes p[0..n) at the start of the memory file fd (empty, from
 * ipc_memfd_open) and seals it against any change: then it can go beside
 * a frame.  0 or WARD_EIO.
 */
int ipc_memfd_seal(int fd, const void *p, size_t n);

/* ipc_memfd_open and ipc_memfd_seal in one: *fd (the caller closes it). */
int ipc_memfd_new(const char *name, const void *p, size_t n, int *fd);

/*
 * Checks that fd is a memory file sealed against any change, of at most
 * max bytes: 0 with *size, WARD_EPROTO (not sealed, not a memory file, too
 * large: d says which) or WARD_EIO.
 */
int ipc_memfd_check(int fd, uint64_t max, uint64_t *size, struct ward_diag *d);

/*
 * Maps the sealed memory file fd (n bytes, as ipc_memfd_check found)
 * read-only: *p until ipc_memfd_unmap(*p, n).  The seals make the bytes
 * stable: no one can change them under the reader.  0 or WARD_EIO.
 */
int ipc_memfd_map(int fd, size_t n, const uint8_t **p);
void ipc_memfd_unmap(const uint8_t *p, size_t n);

#endif

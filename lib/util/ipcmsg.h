/*
 * ipcmsg: what the decoders and encoders of every ipc channel's messages
 * (lib/util/ipc.h; content/valmsg, scan/scanmsg) share, so that each
 * channel states only its own fields.
 *
 *   - a message's type checked before its payload is read;
 *   - text (u32 length, then that many bytes) of one of two alphabets:
 *     no control characters (a reason), or printable ASCII (a rule name);
 *     a sender writes '?' for a byte outside it, a receiver refuses it;
 *   - a refusal: u16 cause, then text without control characters.
 */
#ifndef WARD_UTIL_IPCMSG_H
#define WARD_UTIL_IPCMSG_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/ipc.h"

/* The number of rows of a message table (an array, not a pointer). */
#define IPCMSG_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/* The bytes text of a message may hold. */
enum ipcmsg_text {
	IPCMSG_TEXT_NOCTL,     /* anything but C0 controls and DEL (0x7f) */
	IPCMSG_TEXT_PRINTABLE, /* printable ASCII: 0x20 to 0x7e */
};

/*
 * m is a message of type (received on channel chan, a name for messages),
 * else WARD_EPROTO with d saying so; on success b reads its payload
 * (borrowing m->p).
 */
int ipcmsg_start(const struct ipc_msg *m, const char *chan, uint16_t type, struct rbuf *b,
		 struct ward_diag *d);

/* The index of the first of p[0..n) not of alphabet a; n if none. */
size_t ipcmsg_text_bad(const uint8_t *p, size_t n, enum ipcmsg_text a);

/* Writes s (at most max bytes of it) as text of alphabet a: a u32 length,
 * then the bytes, each byte outside a as '?'. */
void ipcmsg_text_put(struct wbuf *w, const char *s, size_t max, enum ipcmsg_text a);

/* Writes a refusal: cause, then reason as text without control characters
 * (at most max bytes). */
void ipcmsg_refusal_encode(struct wbuf *w, uint16_t cause, const char *reason, size_t max);

/*
 * Decodes a refusal of message type on channel chan: a cause from cmin to
 * cmax and a reason of at most max bytes without control characters, then
 * nothing more.  Fills *cause and reason (max + 1 bytes, NUL-terminated)
 * only on success; else WARD_EPROTO with d saying why, *cause 0 and
 * reason "".
 */
int ipcmsg_refusal_decode(const struct ipc_msg *m, const char *chan, uint16_t type, uint16_t cmin,
			  uint16_t cmax, size_t max, uint16_t *cause, char *reason,
			  struct ward_diag *d);

#endif

/*
 * ipcmsg: the pieces every ipc channel's messages share.  See ipcmsg.h.
 *
 * Must hold: a decoder fills its outputs only when the whole payload was
 * read, every value is in range and nothing is left over; a sender never
 * writes a byte its receiver would refuse (it writes '?' instead).
 */
#include "util/ipcmsg.h"

#include <string.h>

int
ipcmsg_start(const struct ipc_msg *m, const char *chan, uint16_t type, struct rbuf *b,
	     struct ward_diag *d)
{
	if (m->def == NULL || m->type != type)
		return diag_set(d, WARD_EPROTO, chan, 0, 0, "message type %u decoded as %u",
				m->type, type);
	rbuf_init(b, m->p, m->len);
	return 0;
}

static int
text_ok(uint8_t c, enum ipcmsg_text a)
{
	if (a == IPCMSG_TEXT_PRINTABLE)
		return c >= 0x20 && c <= 0x7e;
	return c >= 0x20 && c != 0x7f;
}

size_t
ipcmsg_text_bad(const uint8_t *p, size_t n, enum ipcmsg_text a)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!text_ok(p[i], a))
			break;
	return i;
}

void
ipcmsg_text_put(struct wbuf *w, const char *s, size_t max, enum ipcmsg_text a)
{
	size_t n = strnlen(s, max), i;

	if (n > UINT32_MAX) {
		wbuf_lenbytes(w, s, n); /* sets the writer's error */
		return;
	}
	wbuf_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++)
		wbuf_u8(w, text_ok((uint8_t)s[i], a) ? (uint8_t)s[i] : '?');
}

void
ipcmsg_refusal_encode(struct wbuf *w, uint16_t cause, const char *reason, size_t max)
{
	wbuf_u16(w, cause);
	ipcmsg_text_put(w, reason, max, IPCMSG_TEXT_NOCTL);
}

int
ipcmsg_refusal_decode(const struct ipc_msg *m, const char *chan, uint16_t type, uint16_t cmin,
		      uint16_t cmax, size_t max, uint16_t *cause, char *reason, struct ward_diag *d)
{
	const uint8_t *p = NULL;
	struct rbuf b;
	uint16_t c = 0;
	size_t n = 0, i;
	int r;

	*cause = 0;
	reason[0] = '\0';
	if ((r = ipcmsg_start(m, chan, type, &b, d)) != 0)
		goto out;
	r = WARD_EPROTO;
	if (rbuf_u16(&b, &c) != 0 || c < cmin || c > cmax) {
		diag_set(d, r, chan, 0, 0, "a refusal of unknown cause %u", c);
		goto out;
	}
	if (rbuf_lenbytes(&b, max, &p, &n) != 0 || rbuf_left(&b) != 0) {
		diag_set(d, r, chan, 0, 0, "a refusal whose reason is not of its length");
		goto out;
	}
	if ((i = ipcmsg_text_bad(p, n, IPCMSG_TEXT_NOCTL)) < n) {
		diag_set(d, r, chan, 0, 0,
			 "a refusal's reason with control character %#x at byte %zu", p[i], i);
		goto out;
	}
	*cause = c;
	memcpy(reason, p, n);
	reason[n] = '\0';
	r = 0;
out:
	return r;
}

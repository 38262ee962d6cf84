/*
 * buf: the sized buffers through which untrusted bytes are read (rbuf) and
 * binary formats are written (wbuf).  No other module does pointer
 * arithmetic on untrusted bytes: it asks an rbuf for them, and every getter
 * checks what remains before it reads (STYLE 14, 15).
 *
 * Integers are little-endian on the wire.
 */
#ifndef WARD_UTIL_BUF_H
#define WARD_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* A read cursor over borrowed bytes. */
struct rbuf {
	const uint8_t *p;
	size_t len;
	size_t off;
};

void rbuf_init(struct rbuf *b, const void *p, size_t len);

static inline size_t
rbuf_left(const struct rbuf *b)
{
	return b->len - b->off;
}

/* Each getter returns 0, or WARD_EFORMAT if fewer bytes remain than needed
 * (the cursor does not move then, and *v is 0).  The one- and four-byte
 * getters are inline: condition bytecode and compiled rules are read
 * through them a few bytes at a time. */
static inline int
rbuf_u8(struct rbuf *b, uint8_t *v)
{
	if (rbuf_left(b) < 1) {
		*v = 0;
		return WARD_EFORMAT;
	}
	*v = b->p[b->off++];
	return 0;
}

static inline int
rbuf_u32(struct rbuf *b, uint32_t *v)
{
	const uint8_t *q;

	if (rbuf_left(b) < 4) {
		*v = 0;
		return WARD_EFORMAT;
	}
	q = b->p + b->off;
	*v = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 | (uint32_t)q[3] << 24;
	b->off += 4;
	return 0;
}

int rbuf_u16(struct rbuf *b, uint16_t *v);
int rbuf_u64(struct rbuf *b, uint64_t *v);
int rbuf_i64(struct rbuf *b, int64_t *v);
/* Points *p at the next n bytes (borrowed from the buffer) and skips them. */
int rbuf_bytes(struct rbuf *b, size_t n, const uint8_t **p);
/* Reads a u32 length, checks it against max and what remains, then the bytes. */
int rbuf_lenbytes(struct rbuf *b, size_t max, const uint8_t **p, size_t *n);
/*
 * Text formats: points *p at the bytes before the next delim (*n of them,
 * at most max) and skips them and the delim.  0 when delim was there; 1
 * when the buffer ended first (the rest taken: a last line without its
 * newline); WARD_ELIMIT when more than max bytes come before it, or
 * WARD_EFORMAT when nothing remains (the cursor does not move then).
 */
int rbuf_until(struct rbuf *b, uint8_t delim, size_t max, const uint8_t **p, size_t *n);

/*
 * Reads a u32 length (at most max) and that many bytes as a string: none
 * may be NUL.  *out is a ward_malloc'd NUL-terminated copy (the caller
 * frees it), NULL on error: WARD_EFORMAT (short, too long, a NUL inside)
 * or WARD_ENOMEM; the cursor does not move then.
 */
int rbuf_strdup(struct rbuf *b, size_t max, char **out);

/* A growable write buffer; owns its bytes until wbuf_steal/wbuf_free. */
struct wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int err; /* sticky: the first failure; later puts are no-ops */
};

void wbuf_init(struct wbuf *b);
void wbuf_free(struct wbuf *b);
void wbuf_put(struct wbuf *b, const void *p, size_t n);
void wbuf_u8(struct wbuf *b, uint8_t v);
void wbuf_u16(struct wbuf *b, uint16_t v);
void wbuf_u32(struct wbuf *b, uint32_t v);
void wbuf_u64(struct wbuf *b, uint64_t v);
void wbuf_i64(struct wbuf *b, int64_t v);
/* A u32 length followed by the bytes. */
void wbuf_lenbytes(struct wbuf *b, const void *p, size_t n);
/* A string as rbuf_strdup reads it (a u32 length, the bytes, no NUL). */
void wbuf_str(struct wbuf *b, const char *s);
/* Overwrites 4 bytes at off (which must be already written). */
void wbuf_patch_u32(struct wbuf *b, size_t off, uint32_t v);

#endif

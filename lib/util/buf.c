/*
 * buf: bounds-checked readers and sticky-error writers.  See buf.h.
 */
#include "util/buf.h"
#include "util/alloc.h"
#include "util/err.h"

#include <string.h>

void
rbuf_init(struct rbuf *b, const void *p, size_t len)
{
	b->p = p;
	b->len = p != NULL ? len : 0;
	b->off = 0;
}

static int
rbuf_le(struct rbuf *b, size_t n, uint64_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (rbuf_left(b) < n)
		return WARD_EFORMAT;
	for (i = 0; i < n; i++)
		x |= (uint64_t)b->p[b->off + i] << (8 * i);
	b->off += n;
	*v = x;
	return 0;
}

int
rbuf_u16(struct rbuf *b, uint16_t *v)
{
	uint64_t x = 0;
	int r = rbuf_le(b, 2, &x);

	*v = (uint16_t)x;
	return r;
}

int
rbuf_u64(struct rbuf *b, uint64_t *v)
{
	*v = 0;
	return rbuf_le(b, 8, v);
}

int
rbuf_i64(struct rbuf *b, int64_t *v)
{
	uint64_t x = 0;
	int r = rbuf_le(b, 8, &x);

	*v = (int64_t)x;
	return r;
}

int
rbuf_bytes(struct rbuf *b, size_t n, const uint8_t **p)
{
	*p = NULL;
	if (rbuf_left(b) < n)
		return WARD_EFORMAT;
	*p = b->p + b->off;
	b->off += n;
	return 0;
}

int
rbuf_lenbytes(struct rbuf *b, size_t max, const uint8_t **p, size_t *n)
{
	size_t save = b->off;
	uint32_t len;
	int r;

	*p = NULL;
	*n = 0;
	if ((r = rbuf_u32(b, &len)) != 0)
		return r;
	if (len > max || len > rbuf_left(b)) {
		b->off = save;
		return WARD_EFORMAT;
	}
	*n = len;
	return rbuf_bytes(b, len, p);
}

int
rbuf_until(struct rbuf *b, uint8_t delim, size_t max, const uint8_t **p, size_t *n)
{
	size_t left = rbuf_left(b), k;
	const uint8_t *q;

	*p = NULL;
	*n = 0;
	if (left == 0)
		return WARD_EFORMAT;
	q = memchr(b->p + b->off, delim, left);
	k = q != NULL ? (size_t)(q - (b->p + b->off)) : left;
	if (k > max)
		return WARD_ELIMIT;
	*p = b->p + b->off;
	*n = k;
	b->off += k + (q != NULL);
	return q != NULL ? 0 : 1;
}

int
rbuf_strdup(struct rbuf *b, size_t max, char **out)
{
	size_t save = b->off, n;
	const uint8_t *p;
	int r;

	*out = NULL;
	if ((r = rbuf_lenbytes(b, max, &p, &n)) != 0)
		goto out;
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		r = WARD_EFORMAT;
		goto out;
	}
	if ((*out = ward_malloc(n + 1)) == NULL) {
		r = WARD_ENOMEM;
		goto out;
	}
	memcpy(*out, p, n);
	(*out)[n] = '\0';
out:
	if (r != 0)
		b->off = save;
	return r;
}

void
wbuf_init(struct wbuf *b)
{
	memset(b, 0, sizeof(*b));
}

void
wbuf_free(struct wbuf *b)
{
	ward_free(b->p);
	wbuf_init(b);
}

void
wbuf_put(struct wbuf *b, const void *p, size_t n)
{
	if (b->err != 0 || n == 0)
		return;
	if (b->len + n < b->len) {
		b->err = WARD_ENOMEM;
		return;
	}
	if (ward_grow(&b->p, &b->cap, b->len + n, 1) != 0) {
		b->err = WARD_ENOMEM;
		return;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
wbuf_le(struct wbuf *b, uint64_t v, size_t n)
{
	uint8_t t[8];
	size_t i;

	for (i = 0; i < n; i++)
		t[i] = (uint8_t)(v >> (8 * i));
	wbuf_put(b, t, n);
}

void
wbuf_u8(struct wbuf *b, uint8_t v)
{
	wbuf_le(b, v, 1);
}

void
wbuf_u16(struct wbuf *b, uint16_t v)
{
	wbuf_le(b, v, 2);
}

void
wbuf_u32(struct wbuf *b, uint32_t v)
{
	wbuf_le(b, v, 4);
}

void
wbuf_u64(struct wbuf *b, uint64_t v)
{
	wbuf_le(b, v, 8);
}

void
wbuf_i64(struct wbuf *b, int64_t v)
{
	wbuf_le(b, (uint64_t)v, 8);
}

void
wbuf_lenbytes(struct wbuf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX) {
		b->err = WARD_ELIMIT;
		return;
	}
	wbuf_u32(b, (uint32_t)n);
	wbuf_put(b, p, n);
}

void
wbuf_patch_u32(struct wbuf *b, size_t off, uint32_t v)
{
	size_t i;

	if (b->err != 0 || off + 4 > b->len)
		return;
	for (i = 0; i < 4; i++)
		b->p[off + i] = (uint8_t)(v >> (8 * i));
}

void
wbuf_str(struct wbuf *b, const char *s)
{
	wbuf_lenbytes(b, s, strlen(s));
}

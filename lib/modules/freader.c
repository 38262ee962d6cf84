/*
 * freader: bounds-checked reads of the scanned file for the rule modules.
 * See freader.h.
 *
 * Must hold: no byte outside [0, size) is ever returned; an offset and a
 * size from the file cannot wrap the check (off + n is never computed
 * before off <= size is known).
 */
#include "modules/freader.h"
#include "util/err.h"

#include <string.h>

void
freader_init_mem(struct freader *f, const uint8_t *p, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	f->whole = p;
	f->size = size;
}

void
freader_init_fn(struct freader *f, uint64_t size,
		int (*fn)(void *arg, uint64_t off, void *buf, size_t n), void *arg, uint8_t *win)
{
	memset(f, 0, sizeof(*f));
	f->size = size;
	f->fn = fn;
	f->arg = arg;
	f->win = win;
}

int
freader_has(const struct freader *f, uint64_t off, uint64_t n)
{
	return off <= f->size && n <= f->size - off;
}

/* Makes the window hold [off, off + n) (n <= FREADER_WINDOW, inside the
 * file): 0 or -1. */
static int
window(struct freader *f, uint64_t off, size_t n)
{
	uint64_t start = off, len;

	if (f->win_len > 0 && off >= f->win_off && off - f->win_off <= f->win_len &&
	    n <= f->win_len - (off - f->win_off))
		return 0;
	len = f->size - start < FREADER_WINDOW ? f->size - start : FREADER_WINDOW;
	f->win_len = 0;
	if (f->fn == NULL || f->win == NULL || f->fn(f->arg, start, f->win, (size_t)len) != 0)
		return -1;
	f->win_off = start;
	f->win_len = (size_t)len;
	return 0;
}

int
freader_peek(struct freader *f, uint64_t off, size_t n, const uint8_t **p)
{
	if (n > FREADER_WINDOW)
		return WARD_EINVAL;
	if (!freader_has(f, off, n))
		return WARD_EFORMAT;
	if (f->whole != NULL) {
		*p = f->whole + off;
		return 0;
	}
	if (window(f, off, n) != 0)
		return WARD_EFORMAT;
	*p = f->win + (off - f->win_off);
	return 0;
}

int
freader_read(struct freader *f, uint64_t off, void *buf, size_t n)
{
	const uint8_t *p;
	uint8_t *out = buf;

	if (!freader_has(f, off, n))
		return WARD_EFORMAT;
	if (f->whole != NULL) {
		memcpy(buf, f->whole + off, n);
		return 0;
	}
	if (n > FREADER_WINDOW) /* large reads straight from the file */
		return f->fn != NULL && f->fn(f->arg, off, buf, n) == 0 ? 0 : WARD_EFORMAT;
	if (freader_peek(f, off, n, &p) != 0)
		return WARD_EFORMAT;
	memcpy(out, p, n);
	return 0;
}

int
freader_u8(struct freader *f, uint64_t off, uint8_t *v)
{
	return freader_read(f, off, v, 1);
}

/* The n-byte integer at off, little- or big-endian. */
static int
get_uint(struct freader *f, uint64_t off, unsigned n, int be, uint64_t *v)
{
	const uint8_t *p;
	uint64_t x = 0;
	unsigned i;
	int r;

	if ((r = freader_peek(f, off, n, &p)) != 0)
		return r;
	for (i = 0; i < n; i++)
		x |= (uint64_t)p[be ? i : n - 1 - i] << (8 * (n - 1 - i));
	*v = x;
	return 0;
}

int
freader_u16(struct freader *f, uint64_t off, uint16_t *v)
{
	uint64_t x;
	int r = get_uint(f, off, 2, 0, &x);

	if (r == 0)
		*v = (uint16_t)x;
	return r;
}

int
freader_u32(struct freader *f, uint64_t off, uint32_t *v)
{
	uint64_t x;
	int r = get_uint(f, off, 4, 0, &x);

	if (r == 0)
		*v = (uint32_t)x;
	return r;
}

int
freader_u64(struct freader *f, uint64_t off, uint64_t *v)
{
	return get_uint(f, off, 8, 0, v);
}

int
freader_u16_be(struct freader *f, uint64_t off, uint16_t *v)
{
	uint64_t x;
	int r = get_uint(f, off, 2, 1, &x);

	if (r == 0)
		*v = (uint16_t)x;
	return r;
}

int
freader_u32_be(struct freader *f, uint64_t off, uint32_t *v)
{
	uint64_t x;
	int r = get_uint(f, off, 4, 1, &x);

	if (r == 0)
		*v = (uint32_t)x;
	return r;
}

int
freader_u64_be(struct freader *f, uint64_t off, uint64_t *v)
{
	return get_uint(f, off, 8, 1, v);
}

int
freader_cstr(struct freader *f, uint64_t off, size_t max, char *out, size_t outlen, size_t *len)
{
	const uint8_t *p, *nul;
	size_t n = 0, chunk, take;

	*len = 0;
	if (outlen == 0)
		return WARD_EINVAL;
	out[0] = '\0';
	if (off > f->size)
		return WARD_EFORMAT;
	while (n < max && off + n < f->size) {
		chunk = max - n;
		if (chunk > f->size - off - n)
			chunk = (size_t)(f->size - off - n);
		if (chunk > 4096)
			chunk = 4096;
		if (freader_peek(f, off + n, chunk, &p) != 0)
			return WARD_EFORMAT;
		nul = memchr(p, '\0', chunk);
		take = nul != NULL ? (size_t)(nul - p) : chunk;
		if (n < outlen - 1) {
			size_t c = take < outlen - 1 - n ? take : outlen - 1 - n;

			memcpy(out + n, p, c);
			out[n + c] = '\0';
		}
		n += take;
		if (nul != NULL) {
			*len = n;
			return 0;
		}
	}
	*len = n;
	return WARD_ELIMIT;
}

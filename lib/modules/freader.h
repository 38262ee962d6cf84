/*
 * freader: the one reader through which the rule modules (pe, elf, math,
 * hash) read the scanned file.  The file is hostile: every read names an
 * offset and a size, and the reader answers only when all of those bytes
 * are inside the file, so that no module does pointer arithmetic on file
 * bytes or trusts an offset it found in them (STYLE 14, 15).
 *
 * The bytes come either from memory (the file held whole) or through the
 * scanner's read function (a file scanned in windows, read again with
 * pread); the latter through a window cache of FREADER_WINDOW bytes, since
 * parsers read many small fields close together.
 *
 * Integers are little-endian unless the getter says _be.  A reader is used
 * by one thread at a time.
 */
#ifndef WARD_MODULES_FREADER_H
#define WARD_MODULES_FREADER_H

#include <stddef.h>
#include <stdint.h>

/* The window cache (and the most freader_peek gives at once). */
#define FREADER_WINDOW 65536

struct freader {
	uint64_t size;
	const uint8_t *whole; /* the whole file, or NULL: read through fn */
	int (*fn)(void *arg, uint64_t off, void *buf, size_t n);
	void *arg;
	uint8_t *win; /* FREADER_WINDOW bytes, caller-owned (fn only) */
	uint64_t win_off;
	size_t win_len;
};

/* A reader over size bytes at p (borrowed). */
void freader_init_mem(struct freader *f, const uint8_t *p, uint64_t size);

/* A reader over a file of size bytes read by fn (0, or -1 when not all n
 * bytes at off could be read), caching in win (FREADER_WINDOW bytes,
 * borrowed). */
void freader_init_fn(struct freader *f, uint64_t size,
		     int (*fn)(void *arg, uint64_t off, void *buf, size_t n), void *arg,
		     uint8_t *win);

/* 1 if the n bytes at off are all inside the file. */
int freader_has(const struct freader *f, uint64_t off, uint64_t n);

/* Each returns 0, or WARD_EFORMAT when the bytes are not all inside the
 * file (or could not be read); *v / buf are not set then. */
int freader_read(struct freader *f, uint64_t off, void *buf, size_t n);
int freader_u8(struct freader *f, uint64_t off, uint8_t *v);
int freader_u16(struct freader *f, uint64_t off, uint16_t *v);
int freader_u32(struct freader *f, uint64_t off, uint32_t *v);
int freader_u64(struct freader *f, uint64_t off, uint64_t *v);
int freader_u16_be(struct freader *f, uint64_t off, uint16_t *v);
int freader_u32_be(struct freader *f, uint64_t off, uint32_t *v);
int freader_u64_be(struct freader *f, uint64_t off, uint64_t *v);

/*
 * Points *p at the n bytes at off (n <= FREADER_WINDOW), valid until the
 * next call on f: for a parser that looks at a whole header at once.
 * 0, or WARD_EFORMAT (WARD_EINVAL when n is too large).
 */
int freader_peek(struct freader *f, uint64_t off, size_t n, const uint8_t **p);

/*
 * Copies the NUL-terminated string at off into out (outlen bytes, always
 * terminated), reading at most max bytes for it: *len its length.  0;
 * WARD_EFORMAT when off is outside the file, WARD_ELIMIT when no NUL comes
 * within max bytes or before the end (out then holds what was read, cut to
 * outlen - 1); WARD_EINVAL when outlen is 0.
 */
int freader_cstr(struct freader *f, uint64_t off, size_t max, char *out, size_t outlen,
		 size_t *len);

#endif

/*
 * fuzz_pattern: libFuzzer target for lib/pattern.  The first byte picks the
 * kind (low 2 bits) and the modifier flags (high bits); the rest is the
 * source.  Kind 3 is a text string with xor and base64: then three more
 * bytes give xor (bit 0), base64 (1), base64wide (2), a custom alphabet
 * (3: the 64 bytes after them), and the lowest and highest xor keys.  Each input is compiled,
 * saved, loaded back, and both patterns are run with pattern_match_at at every offset of a fixed
 * buffer and with pattern_search: nothing may crash, leak or read out of bounds, and the loaded
 * pattern must give the same answers, and so must a scratch (with its memo) shared by
 * all the offsets.  A regexp is also compiled as a condition's
 * (PATTERN_SEARCH) and searched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pattern/pattern.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_buf[] = "ab abc\nABC a\0b\0c\0 x_1 0123 \xff\x00\x01 aaaa bbbb cccc abcabc "
				"\x61\x62\x63 the end";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum pattern_kind kinds[4] = {PATTERN_TEXT, PATTERN_HEX, PATTERN_REGEX,
						   PATTERN_TEXT};
	struct pattern_mods m = {0, 0, 255, NULL};
	struct pattern *p = NULL, *q = NULL;
	struct pattern_vm *vm = NULL;
	struct ward_diag d;
	struct wbuf w;
	struct rbuf r;
	unsigned flags;
	const uint8_t *src;
	size_t srclen;
	size_t i, v, n = sizeof(fz_buf) - 1;
	uint32_t a, b;

	if (size < 1)
		return 0;
	flags = (unsigned)(data[0] >> 2) & 0x3fu;
	m.flags = flags;
	src = data + 1;
	srclen = size - 1;
	if ((data[0] & 3) == 3) {
		if (size < 4)
			return 0;
		m.flags |= ((data[1] & 1) ? PATTERN_XOR : 0) |
			   ((data[1] & 2) ? PATTERN_BASE64 : 0) |
			   ((data[1] & 4) ? PATTERN_BASE64WIDE : 0);
		m.xor_min = data[2];
		m.xor_max = data[3];
		src = data + 4;
		srclen = size - 4;
		if ((data[1] & 8) && srclen >= 64) {
			m.alphabet = src;
			src += 64;
			srclen -= 64;
		}
	}
	if (pattern_compile_mods(kinds[data[0] & 3], src, srclen, &m, &p, &d) != 0)
		return 0;
	wbuf_init(&w);
	pattern_save(p, &w);
	rbuf_init(&r, w.p, w.len);
	if (w.err != 0 || pattern_load(&r, &q) != 0)
		abort();
	vm = pattern_vm_new();
	if (vm == NULL)
		abort();
	for (v = 0; v < pattern_nvariants(p); v++) {
		for (i = 0; i < n; i++) {
			a = pattern_match_at(p, NULL, v, fz_buf, n, i, 0, 1);
			b = pattern_match_at(q, NULL, v, fz_buf, n, i, 0, (int)(i & 1));
			if (a > n - i || b > n - i)
				abort();
			if ((i & 1) && a != b)
				abort();
			/* the memo shares verifications, never changes an answer */
			if (pattern_match_at(p, vm, v, fz_buf, n, i, 0, 1) != a)
				abort();
		}
	}
	pattern_vm_free(vm);
	if (pattern_search(p, fz_buf, n) != pattern_search(q, fz_buf, n))
		abort();
	/* the same source as a condition's regexp (`matches`): its answer is
	 * where a match ended, inside the buffer */
	pattern_free(q);
	q = NULL;
	if (kinds[data[0] & 3] == PATTERN_REGEX &&
	    pattern_compile(PATTERN_REGEX, src, srclen,
			    PATTERN_SEARCH | (flags & (PATTERN_NOCASE | PATTERN_DOTALL)), &q,
			    &d) == 0) {
		int e = pattern_search(q, fz_buf, n);

		if (e < -1 || e > (int)n)
			abort();
	}
	/* damaged saved forms must load cleanly or fail cleanly */
	if (w.len > 2) {
		w.p[w.len / 2] ^= 0x55;
		pattern_free(q);
		q = NULL;
		rbuf_init(&r, w.p, w.len);
		if (pattern_load(&r, &q) == 0)
			(void)pattern_match_at(q, NULL, 0, fz_buf, n, 0, 0, 1);
	}
	pattern_free(q);
	pattern_free(p);
	wbuf_free(&w);
	return 0;
}

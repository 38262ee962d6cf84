/*
 * fuzz_hashsig: libFuzzer target over the hash list line parser and the
 * binary loader of lib/scan/hashsig.
 *
 * The first byte picks the mode: even = the input after it is a hash list
 * (split into lines, parsed, finished, saved, reloaded: the reload must
 * succeed and give the same bytes when saved again); odd = the input after
 * it is a compiled set for hashsig_load.  Seeds: fuzz/corpus/hashsig/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/hashsig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_lines(const uint8_t *p, size_t n)
{
	struct hashsig_set *s = NULL, *t = NULL;
	struct wbuf w, w2;
	struct rbuf b;
	size_t i = 0;
	int lineno = 0;
	unsigned m;

	if (hashsig_new(&s) != 0)
		return;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t len = nl != NULL ? (size_t)(nl - (p + i)) : n - i;
		struct ward_diag d;

		/* errors are expected; the set must stay usable after them */
		(void)hashsig_add_line(s, "fuzz", ++lineno, (const char *)p + i, len, &d);
		i += len + 1;
	}
	if (hashsig_finish(s) != 0)
		goto out;
	(void)hashsig_wants_size(s, 3, &m);
	wbuf_init(&w);
	wbuf_init(&w2);
	if (hashsig_save(s, &w) == 0) {
		rbuf_init(&b, w.p, w.len);
		if (hashsig_load(&b, &t) != 0 || rbuf_left(&b) != 0)
			abort();
		if (hashsig_save(t, &w2) != 0 || w2.len != w.len || memcmp(w.p, w2.p, w.len) != 0)
			abort();
		if (hashsig_count(t) != hashsig_count(s))
			abort();
	}
	wbuf_free(&w);
	wbuf_free(&w2);
out:
	hashsig_free(t);
	hashsig_free(s);
}

static void
fuzz_load(const uint8_t *p, size_t n)
{
	struct hashsig_set *s = NULL;
	uint8_t d[DIGEST_MAX_SIZE] = {0};
	struct rbuf b;
	unsigned m;

	rbuf_init(&b, p, n);
	if (hashsig_load(&b, &s) != 0)
		return;
	(void)hashsig_wants_size(s, 0, &m);
	(void)hashsig_lookup(s, DIGEST_SHA256, d, 0);
	(void)hashsig_lookup(s, DIGEST_MD5, d, HASHSIG_ANY_SIZE);
	hashsig_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0)
		fuzz_lines(data + 1, size - 1);
	else
		fuzz_load(data + 1, size - 1);
	return 0;
}

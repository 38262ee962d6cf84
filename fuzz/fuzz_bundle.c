/*
 * fuzz_bundle: the content bundle validator (container, manifest, members,
 * signatures), and the compile and self-test steps it guards.
 *
 * The first input byte picks the mode: even, the rest is a whole bundle
 * file; odd, the rest is a manifest, wrapped into a container with no
 * signatures and no member bytes, so the fuzzer reaches the manifest
 * checks without having to forge a container (members of size 0 with the
 * SHA-256 of the empty string pass).  Bundles that pass are compiled, their
 * tests run, and their signatures checked against a fixed key.
 */
#include <stdint.h>
#include <string.h>

#include "content/bundle.h"
#include "content/content.h"
#include "crypto/sign.h"
#include "util/buf.h"

static void
try_bundle(const uint8_t *p, size_t n)
{
	static struct sign_key *key;
	struct bundle *b = NULL;
	struct content_set cs;
	struct ward_diag d;
	unsigned valid;

	if (key == NULL && sign_keygen(SIGN_ED25519, &key) != 0)
		return;
	if (bundle_parse(p, n, &b, &d) != 0)
		return;
	(void)bundle_verify(b, &key, 1, 1, &valid, &d);
	if (content_compile(b, &cs, &d) == 0) {
		(void)content_run_tests(b, &cs, &d);
		content_set_free(&cs);
	}
	bundle_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wbuf w;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		try_bundle(data + 1, size - 1);
		return 0;
	}
	wbuf_init(&w);
	if (bundle_serialize(data + 1, size - 1, NULL, 0, NULL, 0, &w) == 0)
		try_bundle(w.p, w.len);
	wbuf_free(&w);
	return 0;
}

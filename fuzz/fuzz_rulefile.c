/*
 * fuzz_rulefile: the compiled rule set loader.  Inputs are whole compiled
 * files; since a damaged file is refused by its checksum before parsing,
 * the target also re-seals the payload (recomputes the checksum) so the
 * fuzzer reaches the section parsers and the bytecode verifier.
 */
#include <stdint.h>
#include <string.h>

#include "crypto/digest.h"
#include "scan/rulefile.h"
#include "util/alloc.h"

/* magic + format + version + arch + payload length; then the checksum. */
#define SUM_OFF (8 + 4 + 32 + 16 + 8)
#define HDR_LEN (SUM_OFF + 32)

static void
try_parse(const uint8_t *p, size_t n)
{
	struct ruleset *rs = NULL;
	struct hashsig_set *hs = NULL;
	struct matcher *m = NULL;
	struct ward_diag d;
	int rebuilt;

	if (rulefile_parse(p, n, &rs, &hs, &m, &rebuilt, &d) == 0) {
		struct matcher_scratch *s = NULL;

		if (matcher_scratch_new(m, &s) == 0) {
			static const uint8_t data[] = "MZ\x90\x00 hello world abc 0123456789";

			(void)matcher_scan_buf(m, s, data, sizeof(data) - 1, NULL, NULL);
		}
		matcher_scratch_free(s);
		matcher_free(m);
		ruleset_free(rs);
		hashsig_free(hs);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	uint64_t plen;
	size_t i;

	try_parse(data, size);
	if (size < HDR_LEN)
		return 0;
	copy = ward_memdup(data, size);
	if (copy == NULL)
		return 0;
	plen = size - HDR_LEN;
	for (i = 0; i < 8; i++)
		copy[SUM_OFF - 8 + i] = (uint8_t)(plen >> (8 * i));
	if (rulefile_checksum(copy, size, copy + SUM_OFF) == 0)
		try_parse(copy, size);
	ward_free(copy);
	return 0;
}

/*
 * fuzz_clamdb: libFuzzer target over lib/clamav's database reader.
 *
 * The first byte picks the kind of database (its value modulo the number
 * of kinds: .hdb ... .ign2, then a .cvd/.cld container); the rest is the
 * database.  Whatever clamdb_add accepts goes through clamdb_finish, which
 * compiles every converted rule with ward's compiler, so the generated
 * rule text is fuzzed through the compiler too.  Seeds: fuzz/corpus/clamdb/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clamav/clamdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum clamdb_kind kinds[] = {
	    CLAMDB_HDB, CLAMDB_HSB, CLAMDB_MDB, CLAMDB_MSB, CLAMDB_NDB,
	    CLAMDB_LDB, CLAMDB_FP,  CLAMDB_SFP, CLAMDB_IGN2, CLAMDB_CVD,
	};
	struct clamdb *c = NULL;
	struct clamdb_cvd_info info;
	struct ward_diag d;
	enum clamdb_kind k;
	int r;

	if (size < 1 || clamdb_new(&c) != 0)
		return 0;
	k = kinds[data[0] % (sizeof(kinds) / sizeof(kinds[0]))];
	if (k == CLAMDB_CVD)
		r = clamdb_add_cvd(c, (data[0] & 0x80) ? "f.cvd" : "f.cld", data + 1, size - 1, 1,
				   &info, &d);
	else
		r = clamdb_add(c, k, "f", data + 1, size - 1, &d);
	if (r == 0)
		(void)clamdb_finish(c, NULL);
	clamdb_free(c);
	return 0;
}

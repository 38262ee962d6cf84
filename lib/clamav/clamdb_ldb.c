/*
 * clamdb_ldb: ClamAV logical signatures (.ldb) -> YARA rules.
 */
#include <stdio.h>
#include <string.h>

#include "clamav/clamdb_int.h"

int
clamdb_ldb_add(struct clamdb *c, const char *file, int line, const uint8_t *p, size_t n,
	       struct ward_diag *d)
{
	struct clamdb_fld f[2];
	size_t k = clamdb_split(p, n, ';', f, 2);

	(void)d;
	(void)k;
	c->st.read++;
	return clamdb_skip_add(c, (const char *)f[0].p, f[0].n, file, line,
			       "logical signatures are not converted yet");
}

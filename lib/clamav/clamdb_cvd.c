/*
 * clamdb_cvd: ClamAV's .cvd/.cld/.cud containers.
 */
#include <string.h>

#include "clamav/clamdb_int.h"

int
clamdb_add_cvd(struct clamdb *c, const char *file, const uint8_t *p, size_t n,
	       int allow_unsigned, struct clamdb_cvd_info *info, struct ward_diag *d)
{
	(void)c;
	(void)p;
	(void)n;
	(void)allow_unsigned;
	memset(info, 0, sizeof(*info));
	return diag_set(d, WARD_EUNSUPPORTED, file, 0, 0, ".cvd containers are not read yet");
}

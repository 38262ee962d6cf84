/*
 * fuzz_enroll: the fleet server's parser of enrollment requests, which
 * come from clients that have proven nothing yet.  A request that parses
 * has every field within its bounds and of its characters.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/enroll.h"
#include "proto/jcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enroll_msg m;
	struct ward_diag d;

	if (enroll_parse((const char *)data, size, &m, &d) != 0)
		return 0;
	if (strlen(m.token) != ENROLL_TOKEN_LEN ||
	    !jcheck_chars_ok(m.token, strlen(m.token), JCHECK_HEX) ||
	    !jcheck_chars_ok(m.hostname, strlen(m.hostname), JCHECK_TEXT) ||
	    !jcheck_chars_ok(m.machine_id, strlen(m.machine_id), JCHECK_TEXT) ||
	    (m.agent_id[0] != '\0') != (m.secret[0] != '\0'))
		abort();
	enroll_wipe(&m);
	return 0;
}

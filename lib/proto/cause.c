/*
 * cause: the names of refusal causes.  See cause.h.
 *
 * Must hold: names never change once released (they are in agents' state
 * files and in the fleet's database), and every value has one.
 */
#include "proto/cause.h"

#include <string.h>

static const char *const names[CAUSE_N] = {
    [CAUSE_REFUSED] = "refused",
    [CAUSE_FORMAT] = "format",
    [CAUSE_SIGNATURE] = "signature",
    [CAUSE_VERSION] = "version",
    [CAUSE_EXPIRED] = "expired",
    [CAUSE_AGENT_VERSION] = "agent-version",
    [CAUSE_VALIDATION] = "validation",
    [CAUSE_RESOURCES] = "resources",
    [CAUSE_INSTALL] = "install",
    [CAUSE_DAMAGED] = "damaged",
    [CAUSE_CRASH_GUARD] = "crash-guard",
    [CAUSE_OPERATOR_ROLLBACK] = "operator-rollback",
    [CAUSE_FLEET_ROLLBACK] = "fleet-rollback",
};

const char *
cause_name(enum refusal_cause c)
{
	return (unsigned)c < CAUSE_N ? names[c] : names[CAUSE_REFUSED];
}

enum refusal_cause
cause_from_name(const char *name, size_t len)
{
	unsigned i;

	for (i = 0; name != NULL && i < CAUSE_N; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return (enum refusal_cause)i;
	return CAUSE_REFUSED;
}

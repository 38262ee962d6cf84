/*
 * cause: why an agent does not run a content version it was given — one
 * enumerated cause, shared by the agent (which records it where it
 * decides, from the check that failed) and the fleet server (whose health
 * gate counts causes, never the words of a reason).  The reason's text
 * stays beside the cause, for people only.
 *
 * On the wire and in the agent's state the cause is its name (the table
 * below).  A name this build does not know (a newer agent's) reads as
 * CAUSE_REFUSED: a plain refusal, never an error.
 */
#ifndef WARD_PROTO_CAUSE_H
#define WARD_PROTO_CAUSE_H

#include <stddef.h>

enum refusal_cause {
	CAUSE_REFUSED,		 /* "refused": no more is known (an agent or a record older
				    than typed causes, or a cause newer than this build) */
	CAUSE_FORMAT,		 /* "format": the bundle does not parse (bundle_parse) */
	CAUSE_SIGNATURE,	 /* "signature": too few valid signatures of trusted keys */
	CAUSE_VERSION,		 /* "version": not above the installed version (anti-rollback) */
	CAUSE_EXPIRED,		 /* "expired": the bundle's expiry has passed */
	CAUSE_AGENT_VERSION,	 /* "agent-version": it needs a newer agent (min_agent_version) */
	CAUSE_VALIDATION,	 /* "validation": it does not compile, a self-test fails, the
				    validator crashed on it, or what it compiled to was refused */
	CAUSE_RESOURCES,	 /* "resources": the validator hit a limit (CPU, memory, wall
				    clock) or could not start */
	CAUSE_INSTALL,		 /* "install": the content store could not write it */
	CAUSE_DAMAGED,		 /* "damaged": its installed files no longer load (rolled back) */
	CAUSE_CRASH_GUARD,	 /* "crash-guard": it crashed the agent's worker too often and was
				    rolled back (or safe mode was entered) */
	CAUSE_OPERATOR_ROLLBACK, /* "operator-rollback": a local operator rolled it back */
	CAUSE_FLEET_ROLLBACK,	 /* "fleet-rollback": the fleet server stopped its release */
	CAUSE_N
};

/* The cause's name ("refused" for a value out of range). */
const char *cause_name(enum refusal_cause c);

/* The cause named by name[0..len) (exact match); CAUSE_REFUSED for any
 * other bytes, of any length — an unknown name is not an error. */
enum refusal_cause cause_from_name(const char *name, size_t len);

#endif

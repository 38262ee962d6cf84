/*
 * admit: the one path by which a content bundle is admitted — the same
 * checks, in the same order, in the agent's worker, in ward-server's
 * publish, in `ward content verify` and in `ward content build`'s
 * self-check.  Callers differ only in their policy (which keys, which
 * version to beat, what time it is, where to compile), never in the checks.
 *
 * The order (docs/content.md): format (the container's framing),
 * signatures (over the exact manifest bytes, before its JSON is parsed),
 * the manifest and members' digests (format again), anti-rollback, expiry,
 * min_agent_version, then compile and the bundle's tests through the
 * policy's compile hook.  The first check that fails decides the cause.
 */
#ifndef WARD_CONTENT_ADMIT_H
#define WARD_CONTENT_ADMIT_H

#include <stddef.h>
#include <stdint.h>

#include "content/bundle.h"
#include "content/content.h"
#include "crypto/sign.h"
#include "util/buf.h"
#include "util/err.h"

/*
 * Why a bundle was refused.  Maps 1:1 onto the refusal cause of the agent's
 * check-in report (lib/proto), so the server's health gate counts these
 * values, never message text; keep the two lists joined.
 */
enum admit_cause {
	ADMIT_OK = 0,
	ADMIT_FORMAT,	     /* container or manifest malformed, a member's digest */
	ADMIT_SIGNATURE,     /* fewer valid trusted signatures than the threshold */
	ADMIT_VERSION,	     /* not newer than the installed version (anti-rollback) */
	ADMIT_EXPIRED,	     /* expires at or before now */
	ADMIT_AGENT_VERSION, /* min_agent_version above this program's version */
	ADMIT_VALIDATION,    /* does not compile, a test fails, the sandbox failed */
};

/* A stable lower-case name of c ("signature", ...), for logs and JSON. */
const char *admit_cause_name(enum admit_cause c);

struct admit_policy;
struct admit_verdict;

/*
 * Where to compile and test: called once the bundle passed every other
 * check, with b (parsed, signatures checked) and its file bytes
 * b->raw[0..b->rawlen).  Fills what it compiled into v (v->cs in process,
 * v->image from a sandbox) and returns 0, or a WARD_E* code with d saying
 * why (the cause is then ADMIT_VALIDATION) and v->check naming the step.
 */
typedef int (*admit_compile_fn)(void *arg, const struct admit_policy *p, const struct bundle *b,
				struct admit_verdict *v, struct ward_diag *d);

struct admit_policy {
	struct sign_key *const *trusted; /* borrowed */
	size_t ntrusted;
	unsigned threshold; /* distinct trusted keys that must have signed, >= 1 */
	/* Only for `ward content build`, whose output is not signed yet. */
	int unsigned_ok;
	int64_t newer_than;	   /* the version must be greater; 0: any */
	int64_t now;		   /* Unix seconds for expiry; 0: not checked */
	const char *agent_version; /* "MAJOR.MINOR.PATCH"; NULL: not checked */
	admit_compile_fn compile;  /* NULL: neither compiled nor tested */
	void *compile_arg;
	/* Run the bundle's tests after compiling (admit_compile_here honours
	 * it; the agent's validator always runs them). */
	int run_tests;
};

/* The verdict: admitted (cause ADMIT_OK) with what was parsed and compiled,
 * or refused with the cause and diag saying why. */
struct admit_verdict {
	enum admit_cause cause;
	struct ward_diag diag;
	/* The check that refused, for messages only ("format", "signature",
	 * "version", "min_agent_version", "expiry", "compile", "bundle test"). */
	const char *check;
	/* owned; NULL when the format or the signatures were refused (a
	 * bundle is kept only once its signed manifest was parsed) */
	struct bundle *bundle;
	unsigned valid;	       /* valid trusted signatures counted */
	struct content_set cs; /* compiled in process (admit_compile_here) */
	struct wbuf image;     /* compiled image from a sandbox (hook's choice) */
};

/*
 * Runs the checks on data[0..len) under p.  Returns 0 when admitted, or a
 * negative WARD_E* code when refused (WARD_ENOMEM and the like included:
 * a bundle that cannot be checked is not admitted); either way v is
 * filled (cleared on entry) and the caller frees it with
 * admit_verdict_free.
 */
int content_admit(const uint8_t *data, size_t len, const struct admit_policy *p,
		  struct admit_verdict *v);

/* The in-process compile hook (the CLI, the server): content_compile into
 * v->cs, then content_run_tests if p->run_tests; arg is unused. */
int admit_compile_here(void *arg, const struct admit_policy *p, const struct bundle *b,
		       struct admit_verdict *v, struct ward_diag *d);

/* Frees what v holds and clears it; a NULL v is a no-op. */
void admit_verdict_free(struct admit_verdict *v);

#endif

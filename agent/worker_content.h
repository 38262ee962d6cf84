/*
 * worker_content: the content in use, for the worker's own files
 * (worker.c, worker_content.c) and their tests; other modules see it only
 * through the accessors of worker.h.
 */
#ifndef WARD_AGENT_WORKER_CONTENT_H
#define WARD_AGENT_WORKER_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "content/admit.h"
#include "content/content.h"
#include "content/store.h"
#include "proto/cause.h"
#include "util/err.h"

/* Content in use, shared by the scans that hold it.  The rules are not
 * here: the scanners load them from the image. */
struct active {
	struct sigma_set *sigma; /* process rules, or NULL */
	struct fim_watch fim;	 /* the content's FIM policy */
	struct except_list exc;	 /* the content's exceptions to verdicts */
	char name[65];
	int64_t version;
	unsigned long long serial;
	unsigned refs;
	int image_fd; /* the compiled image, sealed: what scanners load */
	uint64_t image_len;
};

/* Frees a (NULL: nothing), whatever its references say: the caller
 * holds the last one. */
void worker_content_free(struct active *a);

/*
 * Content from the compiled image p[0..n) (verified whole before any part
 * is used), named name at version: 0 with *out (one reference, the
 * caller's), or an error with d.  The rules section is parsed too, and
 * then freed: the scanners hold the rules.
 */
int worker_content_from_image(const uint8_t *p, size_t n, const char *name, int64_t version,
			      struct active **out, struct ward_diag *d);

/* The installed content of e, from the image the store keeps beside the
 * bundle in state_dir: as worker_content_from_image. */
int worker_content_from_store(const char *state_dir, const struct store_entry *e,
			      struct active **out, struct ward_diag *d);

/*
 * The typed cause of a refusal, as the check-in report carries it: from
 * the admission's cause and, when the validator refused, its typed result
 * (validator_r; 0 if it did not run): a validator that hit a host limit
 * (or could not start) is not the content's own error.
 */
enum refusal_cause worker_refusal_cause(enum admit_cause cause, int validator_r);

/* The refusal of v as the agent words it (store, events, status), in
 * reason (rlen bytes); compile_why (or NULL) is the validator's own
 * account, used for a validation refusal. */
void worker_refusal_text(const struct admit_verdict *v, const char *compile_why, char *reason,
			 size_t rlen);

#ifdef WARD_FAULT_INJECTION
/* Test builds: the worker (or the supervisor) is killed at step, as
 * WARD_FAULT_KILL_AT / WARD_FAULT_KILL_SUPERVISOR_AT say; content marked
 * to crash the worker (a rule WARD_FAULT_CRASH_WORKER, a version listed in
 * WARD_FAULT_CRASH_FILE) aborts it. */
void worker_fault_point(const char *step);
void worker_fault_content(const struct active *a);
#else
#define worker_fault_point(step) ((void)0)
#define worker_fault_content(a) ((void)0)
#endif

#endif

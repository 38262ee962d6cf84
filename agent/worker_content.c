/*
 * worker_content: the content the worker uses, as it is built and let go
 * (from a verified compiled image, from the store), what the sensors and
 * the control socket read of it, and how a refusal is classified and
 * worded.  See worker_content.h.
 *
 * Must hold: content is built only from a compiled image that
 * content_image_decode verified whole (checksum, bytecode, database, each
 * section's checked decoder) — the worker parses no bundle text; a
 * refusal's cause is decided on the admission's typed cause and the
 * validator's typed result, never on the words of a message.
 */
#include "agent/worker_content.h"
#include "agent/worker.h"
#include "content/image.h"
#include "scan/matcher.h"
#include "scan/rulefile.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/ipc.h"
#include "util/limits.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- fault injection (test builds only) -------------------------------- */

#ifdef WARD_FAULT_INJECTION
/*
 * WARD_FAULT_KILL_AT=STEP: the worker is killed (SIGKILL) at that step;
 * WARD_FAULT_KILL_SUPERVISOR_AT=STEP: the supervisor is, and the worker
 * with it.
 */
void
worker_fault_point(const char *step)
{
	const char *at = getenv("WARD_FAULT_KILL_AT");
	const char *sup = getenv("WARD_FAULT_KILL_SUPERVISOR_AT");

	if (at != NULL && strcmp(at, step) == 0) {
		worker_log("fault injection: killed at %s", step);
		raise(SIGKILL);
	}
	if (sup != NULL && strcmp(sup, step) == 0) {
		worker_log("fault injection: supervisor killed at %s", step);
		kill(getppid(), SIGKILL);
		for (;;)
			pause(); /* PR_SET_PDEATHSIG ends the worker */
	}
}

/*
 * Content that crashes the worker once active: a rule named
 * WARD_FAULT_CRASH_WORKER, or a version listed in the file named by
 * WARD_FAULT_CRASH_FILE (read each time, so a test can make the
 * last-known-good crash too).
 */
void
worker_fault_content(const struct active *a)
{
	const char *path = getenv("WARD_FAULT_CRASH_FILE");
	int crash = 0;

	{ /* The rule's name is in the compiled rules the scanners get. */
		const uint8_t *p = NULL;

		if (a->image_fd >= 0 && ipc_memfd_map(a->image_fd, a->image_len, &p) == 0) {
			crash |= memmem(p, a->image_len, "WARD_FAULT_CRASH_WORKER", 23) != NULL;
			ipc_memfd_unmap(p, a->image_len);
		}
	}
	if (path != NULL) {
		FILE *f = fopen(path, "r");
		long long v;

		while (f != NULL && fscanf(f, "%lld", &v) == 1)
			crash |= v == (long long)a->version;
		if (f != NULL)
			fclose(f);
	}
	if (crash) {
		worker_log("fault injection: content version %lld crashes the worker",
			   (long long)a->version);
		abort();
	}
}
#endif

/* --- building and freeing ------------------------------------------------ */

void
worker_content_free(struct active *a)
{
	if (a == NULL)
		return;
	sigma_set_free(a->sigma);
	fim_watch_free(&a->fim);
	except_list_free(&a->exc);
	if (a->image_fd >= 0)
		close(a->image_fd);
	ward_free(a);
	/* Content is large and replaced rarely: give its memory back now, so
	 * the agent does not keep two rule sets' worth after a swap. */
	malloc_trim(0);
}

/*
 * Builds the content to use from a compiled image alone (verified:
 * checksum, bytecode, database, and each section's checked decoder): the
 * rules, process rules, FIM policy and exceptions come compiled from the
 * sandboxed validator, so the worker parses no bundle text.  The rules
 * stay in the scanners: the worker holds no copy of them (it would be the
 * largest part of its memory).  The image is parsed whole all the same,
 * and the rules freed, so that what a subverted validator forged, or a
 * stored image this agent no longer loads, is refused here — before it is
 * installed, or as damaged (rolled back) — rather than by every scanner.
 */
int
worker_content_from_image(const uint8_t *p, size_t n, const char *name, int64_t version,
			  struct active **out, struct ward_diag *d)
{
	struct active *a = ward_calloc(1, sizeof(*a));
	struct content_set cs;
	int rebuilt, r;

	*out = NULL;
	if (a == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	a->image_fd = -1;
	r = content_image_decode(p, n, &cs, &rebuilt, d);
	if (r == 0) {
		matcher_free(cs.m);
		ruleset_free(cs.rs);
		hashsig_free(cs.hs);
		cs.m = NULL;
		cs.rs = NULL;
		cs.hs = NULL;
		malloc_trim(0); /* give the parse's memory back */
	}
	if (r != 0) {
		worker_content_free(a);
		return r;
	}
	a->sigma = cs.sigma;
	a->fim = cs.fim;
	a->exc = cs.exc;
	{ /* The scanners load only the rules section, sealed in a memory file. */
		const uint8_t *rp;
		size_t rn;

		if ((r = content_image_rules(p, n, &rp, &rn, d)) == 0 &&
		    ipc_memfd_new("ward-image", rp, rn, &a->image_fd) != 0)
			r = diag_set(d, WARD_EIO, NULL, 0, 0,
				     "cannot keep the image for the scanners: %s", strerror(errno));
		if (r != 0) {
			worker_content_free(a);
			return r;
		}
		a->image_len = rn;
	}
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->version = version;
	{
		static unsigned long long serials;

		a->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	}
	a->refs = 1;
	*out = a;
	return 0;
}

/*
 * The installed content of e, from the compiled image the store keeps
 * beside the bundle (what the validator produced when it was admitted):
 * at start and on rollback the worker neither parses the bundle nor waits
 * for a validator, so protection starts as fast as the image loads.
 */
int
worker_content_from_store(const char *state_dir, const struct store_entry *e, struct active **out,
			  struct ward_diag *d)
{
	char path[CONFIG_MAX_PATH + 64];
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	store_path(state_dir, e->version, "wrs", path, sizeof(path));
	r = file_read_all(path, WARD_MAX_COMPILED_SIZE, &buf, &len, d);
	if (r == 0)
		r = worker_content_from_image(buf, len, e->name, e->version, out, d);
	ward_free(buf);
	return r;
}

/* --- what is read of it ------------------------------------------------ */

const struct sigma_set *
worker_content_sigma(const struct active *a)
{
	return a->sigma;
}

const struct fim_watch *
worker_content_fim(const struct active *a)
{
	return &a->fim;
}

const struct except_list *
worker_content_exceptions(const struct active *a)
{
	return &a->exc;
}

long long
worker_content_version(const struct active *a)
{
	return (long long)a->version;
}

unsigned long long
worker_content_serial(const struct active *a)
{
	return a->serial;
}

const char *
worker_content_name(const struct active *a)
{
	return a->name;
}

void
worker_content_image(const struct active *a, int *fd, uint64_t *size)
{
	*fd = a->image_fd;
	*size = a->image_len;
}

/* --- refusals ----------------------------------------------------------- */

/* The typed cause of v's refusal, as the check-in report carries it: a
 * validator that hit a host limit (or could not start) is not the
 * content's own error. */
enum refusal_cause
worker_refusal_cause(enum admit_cause cause, int validator_r)
{
	switch (cause) {
	case ADMIT_FORMAT:
		return CAUSE_FORMAT;
	case ADMIT_SIGNATURE:
		return CAUSE_SIGNATURE;
	case ADMIT_VERSION:
		return CAUSE_VERSION;
	case ADMIT_EXPIRED:
		return CAUSE_EXPIRED;
	case ADMIT_AGENT_VERSION:
		return CAUSE_AGENT_VERSION;
	case ADMIT_OK:
	case ADMIT_VALIDATION:
		break;
	}
	return validator_r == WARD_ELIMIT || validator_r == WARD_ENOMEM || validator_r == WARD_EIO
		   ? CAUSE_RESOURCES
		   : CAUSE_VALIDATION;
}

/* The refusal of v as the agent words it (store, events, ward agent status). */
void
worker_refusal_text(const struct admit_verdict *v, const char *compile_why, char *reason,
		    size_t rlen)
{
	char why[1200];

	diag_format(&v->diag, why, sizeof(why));
	switch (v->cause) {
	case ADMIT_FORMAT:
		snprintf(reason, rlen, "invalid bundle: %s", why);
		break;
	case ADMIT_SIGNATURE:
		snprintf(reason, rlen, "signature check failed: %s", v->diag.msg);
		break;
	case ADMIT_VALIDATION:
		snprintf(reason, rlen, "%s",
			 compile_why != NULL && compile_why[0] != '\0' ? compile_why : why);
		break;
	default:
		snprintf(reason, rlen, "%s", why);
		break;
	}
}

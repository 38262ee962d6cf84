/*
 * admit: the one content admission path.  See admit.h.
 *
 * Must hold: nothing reads the bundle before bundle_split has checked its
 * framing, and nothing parses the manifest's JSON (nor reads a member)
 * before the signatures over the exact manifest bytes are checked; the checks run in one fixed
 * order and the first refusal ends the admission, so a cheap check (a signature) always runs before
 * an expensive or exposed one (compiling hostile rule text); a refusal is decided on typed values
 * (versions, times, counts), and its message is only for people; whatever the compile hook produced
 * is freed with the verdict, admitted or not.
 */
#include "content/admit.h"

#include <stdio.h>
#include <string.h>

const char *
admit_cause_name(enum admit_cause c)
{
	switch (c) {
	case ADMIT_OK:
		return "admitted";
	case ADMIT_FORMAT:
		return "format";
	case ADMIT_SIGNATURE:
		return "signature";
	case ADMIT_VERSION:
		return "version";
	case ADMIT_EXPIRED:
		return "expired";
	case ADMIT_AGENT_VERSION:
		return "min_agent_version";
	case ADMIT_VALIDATION:
		return "validation";
	}
	return "unknown";
}

void
admit_verdict_free(struct admit_verdict *v)
{
	if (v == NULL)
		return;
	bundle_free(v->bundle);
	content_set_free(&v->cs);
	wbuf_free(&v->image);
	memset(v, 0, sizeof(*v));
}

int
admit_compile_here(void *arg, const struct admit_policy *p, const struct bundle *b,
		   struct admit_verdict *v, struct ward_diag *d)
{
	int r;

	(void)arg;
	v->check = "compile";
	if ((r = content_compile(b, &v->cs, d)) != 0)
		goto out;
	if (p->run_tests) {
		v->check = "bundle test";
		r = content_run_tests(b, &v->cs, d);
	}
out:
	return r;
}

/* Refuses v with cause c and error r (WARD_EVERIFY when the check itself
 * had no error code), keeping the diag the failed check wrote. */
static int
refuse(struct admit_verdict *v, enum admit_cause c, const char *check, int r)
{
	v->cause = c;
	v->check = check;
	return r != 0 ? r : WARD_EVERIFY;
}

int
content_admit(const uint8_t *data, size_t len, const struct admit_policy *p,
	      struct admit_verdict *v)
{
	struct bundle *b = NULL;
	struct ward_diag *d = &v->diag;
	char ex[21];
	int cmp, r;

	memset(v, 0, sizeof(*v));
	wbuf_init(&v->image);
	/* 1. The container's framing: no other code reads a byte before this
	 * passes.  The manifest's JSON is not parsed yet. */
	if ((r = bundle_split(data, len, &v->bundle, d)) != 0) {
		r = refuse(v, ADMIT_FORMAT, "format", r);
		goto out;
	}
	b = v->bundle;
	/* 2. Signatures over the exact manifest bytes: who vouches for the
	 * rest.  Unsigned or badly signed text goes no further — not even to
	 * the JSON parser. */
	if (!p->unsigned_ok &&
	    (p->threshold == 0 ||
	     (r = bundle_verify(b, p->trusted, p->ntrusted, p->threshold, &v->valid, d)) != 0)) {
		/* A threshold of 0 would admit anything: a caller's bug, refused. */
		if (r == 0)
			diag_set(d, WARD_EVERIFY, NULL, 0, 0, "no signature threshold set");
		r = refuse(v, ADMIT_SIGNATURE, "signature", r);
		goto drop;
	}
	/* 2b. The manifest (strict JSON) and every member's digest: signed
	 * text can still be malformed. */
	if ((r = bundle_parse_manifest(b, d)) != 0) {
		r = refuse(v, ADMIT_FORMAT, "format", r);
		goto drop;
	}
	/* 3. Anti-rollback: an old signed bundle replayed is still refused. */
	if (p->newer_than > 0 && b->version <= p->newer_than) {
		diag_set(d, WARD_EVERIFY, NULL, 0, 0,
			 "version %lld is not greater than the installed version %lld (to roll "
			 "content back, publish it under a new version)",
			 (long long)b->version, (long long)p->newer_than);
		r = refuse(v, ADMIT_VERSION, "version", 0);
		goto out;
	}
	/* 4. Expiry: a captured bundle cannot freeze a host on old content. */
	if (p->now != 0 && b->expires <= p->now) {
		bundle_format_time(b->expires, ex);
		diag_set(d, WARD_EVERIFY, NULL, 0, 0, "the bundle expired at %s", ex);
		r = refuse(v, ADMIT_EXPIRED, "expiry", 0);
		goto out;
	}
	/* 5. The program's version: content it cannot read as meant is refused
	 * (an unreadable min_agent_version too). */
	if (p->agent_version != NULL &&
	    (bundle_version_cmp(b->min_agent_version, p->agent_version, &cmp) != 0 || cmp > 0)) {
		diag_set(d, WARD_EVERIFY, NULL, 0, 0,
			 "the bundle needs ward %s or newer (this agent is %s)",
			 b->min_agent_version, p->agent_version);
		r = refuse(v, ADMIT_AGENT_VERSION, "min_agent_version", 0);
		goto out;
	}
	/* 6. Compile and test, where the caller says (a sandbox on the agent). */
	if (p->compile != NULL && (r = p->compile(p->compile_arg, p, b, v, d)) != 0) {
		if (d->msg[0] == '\0')
			diag_set(d, r, NULL, 0, 0, "%s", ward_strerror(r));
		r = refuse(v, ADMIT_VALIDATION, v->check != NULL ? v->check : "compile", r);
		goto out;
	}
	v->cause = ADMIT_OK;
	v->check = NULL;
	r = 0;
	goto out;
drop:
	/* A verdict holds a bundle only once its manifest was parsed: no
	 * caller reads a name or version that nobody vouched for. */
	bundle_free(v->bundle);
	v->bundle = NULL;
out:
	return r;
}

/*
 * uplink_report: wardd's check-in report.  See uplink_report.h.
 *
 * Must hold: what the server decides on is written from typed values only
 * (struct report, through report_encode); the display-only parts are the
 * ones report_display_key names and never overwrite a typed field; nothing
 * the agent recorded (a reason quoting a refused bundle) can make the
 * report one the server refuses.
 */
#include "agent/uplink_report.h"
#include "content/bundle.h"
#include "content/store.h"
#include "proto/jcheck.h"
#include "proto/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The agent keeps no more refusals and crashes than a report carries:
 * none is left out for want of room. */
_Static_assert(STORE_MAX_REJECTED <= WARD_MAX_REPORT_REFUSALS, "a report holds every refusal");
_Static_assert(STORE_MAX_CRASHES <= WARD_MAX_REPORT_CRASHES, "a report holds every crash");
_Static_assert(STORE_MAX_REASON <= WARD_MAX_REPORT_REASON + 1, "a reason fits a report's");

/* 1 if a refusal's reason can go as it is: UTF-8 without control
 * characters (what the server's parser takes). */
static int
reason_ok(const char *reason)
{
	json_t *t;
	int ok;

	if (!jcheck_chars_ok(reason, strlen(reason), JCHECK_TEXT))
		return 0;
	t = json_string(reason); /* NULL: not UTF-8 */
	ok = t != NULL;
	json_decref(t);
	return ok;
}

/* A content entry of the store as the report has it: its version (0:
 * none) and what is shown of it. */
static void
report_entry(const struct store_entry *e, int64_t *version, struct report_content *c)
{
	if (!e->present)
		return;
	*version = e->version;
	snprintf(c->name, sizeof(c->name), "%s", e->name);
	c->activated_at = e->activated_at;
	c->expires = e->expires;
}

/* The typed part of the check-in report (r zeroed): the worker's mode,
 * content versions with their names and times, refusals with their typed
 * causes, crashes — from its state st, not from its status text. */
static void
report_fill(struct report *r, const struct store_state *st, const char *mode)
{
	unsigned i;

	snprintf(r->mode, sizeof(r->mode), "%s", mode);
	report_entry(&st->current, &r->current, &r->current_shown);
	report_entry(&st->lkg, &r->lkg, &r->lkg_shown);
	for (i = 0; i < st->nrejected; i++) {
		const struct store_reject *s = &st->rejected[i];
		struct report_refusal *f = &r->refusals[r->nrefusals];

		/* A refusal of a bundle whose version could not be trusted (it
		 * came with no valid signature, e.g. applied by hand) names no
		 * release: the server would refuse a report holding version 0. */
		if (s->version < 1)
			continue;
		f->version = s->version;
		f->cause = s->cause;
		/* A reason may quote the refused bundle (a member's name), and
		 * the store cuts it at a byte count, maybe inside a UTF-8
		 * character: one control character would make the server
		 * refuse every report from now on, and bytes that are not UTF-8
		 * would leave none to send, so such a reason goes escaped. */
		if (reason_ok(s->reason))
			snprintf(f->reason, sizeof(f->reason), "%s", s->reason);
		else
			jcheck_escape(s->reason, f->reason, sizeof(f->reason));
		bundle_format_time(s->at, f->at);
		r->nrefusals++;
	}
	for (i = 0; i < st->ncrashes; i++) {
		r->crashes[i].version = st->crashes[i].version;
		bundle_format_time(st->crashes[i].at, r->crashes[i].at);
	}
	r->ncrashes = st->ncrashes;
}

/* Adds to body (report_encode's) the display-only parts of the worker's
 * status — the keys report_display_key names, as `ward agent status` shows
 * them — and the process's CPU and memory (cpu, rss).  Where body has a typed
 * part under the same key (exceptions), the status adds only what it lacks.
 * status is not changed. */
static int
report_display(json_t *body, json_t *status, double cpu, long long rss)
{
	const char *key;
	json_t *v, *paths, *typed;
	int bad = 0;

	json_object_foreach(status, key, v)
	{
		if (!report_display_key(key))
			continue;
		typed = json_object_get(body, key);
		if (json_is_object(typed) && json_is_object(v))
			bad |= json_object_update_missing(typed, v) != 0;
		else /* a copy: the FIM path lists below are changed */
			bad |= json_object_set_new(body, key, json_deep_copy(v)) != 0;
	}
	bad |= json_object_set_new(
		   body, "resources",
		   json_pack("{s:f, s:I}", "cpu_pct", cpu, "rss_kb", (json_int_t)rss)) != 0;
	/* The FIM path lists are for the local status (a path may be longer
	 * than a report's strings): the server gets how many there are. */
	paths = json_object_get(json_object_get(json_object_get(body, "sensors"), "fim"), "paths");
	if (json_is_object(paths)) {
		json_object_set_new(
		    paths, "config",
		    json_integer((json_int_t)json_array_size(json_object_get(paths, "config"))));
		json_object_set_new(
		    paths, "content",
		    json_integer((json_int_t)json_array_size(json_object_get(paths, "content"))));
	}
	return bad ? -1 : 0;
}

json_t *
uplink_report_encode(const struct uplink_report_in *in)
{
	struct report *r = calloc(1, sizeof(*r)); /* some 20 KiB: not on a thread's stack */
	json_t *body = NULL;

	if (r == NULL)
		goto out;
	report_fill(r, in->st, in->mode);
	r->exceptions = in->exceptions;
	r->exceptions_revision = in->exceptions_revision;
	r->exceptions_refused = in->exceptions_refused;
	snprintf(r->journal_id, sizeof(r->journal_id), "%s", in->journal_id);
	r->wait_s = in->wait_s;
	if ((body = report_encode(r)) != NULL &&
	    report_display(body, in->status, in->cpu_pct, in->rss_kb) != 0) {
		json_decref(body);
		body = NULL;
	}
out:
	free(r);
	return body;
}

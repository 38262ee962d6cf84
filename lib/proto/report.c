/*
 * report: parsing an agent's check-in report.  See report.h.
 *
 * Must hold: every list and string has a bound checked before it is
 * copied; r->normal holds only what was checked (so what the server
 * stores and shows is bounded too); the text of a reason is kept for
 * people, and its cause is an enum for the gate.
 */
#include "proto/report.h"
#include "proto/jcheck.h"
#include "content/bundle.h"

#include <stdio.h>
#include <string.h>

/* Keys kept for display only, each bounded by jcheck_bounded. */
static const char *const detail_keys[] = {
    "pid",    "supervisor_pid", "uptime_s",  "agent_version", "warnings", "safe_reason",
    "uplink", "sensors",	"resources", "exceptions",    NULL};

int
report_display_key(const char *key)
{
	size_t i;

	for (i = 0; detail_keys[i] != NULL; i++)
		if (strcmp(detail_keys[i], key) == 0)
			return 1;
	return 0;
}

void
report_free(struct report *r)
{
	json_decref(r->normal);
	memset(r, 0, sizeof(*r));
}

/* The refusal's "cause": a name (any string: one this build does not know
 * is a plain refusal, so that a newer agent's causes still count), or
 * absent (an agent older than typed causes: a plain refusal too — its
 * reason's words are never read). */
static int
cause_field(json_t *e, size_t i, enum refusal_cause *c, struct ward_diag *d)
{
	json_t *v = json_object_get(e, "cause");

	*c = CAUSE_REFUSED;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"content.rejected[%zu].cause must be a string", i);
	*c = cause_from_name(json_string_value(v), json_string_length(v));
	return 0;
}

/* The latest time a report carries: 9999-12-31T23:59:59Z, the last one
 * clock_utc_parse reads and clock_utc writes. */
#define REPORT_MAX_TIME ((int64_t)253402300799)

/* A bundle's name as bundle_parse admits it: [A-Za-z0-9._-], or "" (not
 * sent).  jcheck's tokens allow more (":+~"), which no bundle is named. */
static int
name_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-'))
			return 0;
	return 1;
}

/* The time field key of e ("YYYY-MM-DDTHH:MM:SSZ", or absent: 0) into Unix
 * seconds: a string that is not such a time is refused, not kept. */
static int
time_field(json_t *e, const char *what, const char *key, int64_t *t, struct ward_diag *d)
{
	char s[32];
	int r;

	*t = 0;
	if ((r = jcheck_string(e, key, 1, JCHECK_TOKEN, 0, s, sizeof(s), d)) != 0)
		return r;
	if (s[0] != '\0' && bundle_parse_time(s, t) != 0)
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				"content.%s.%s must be a UTC time (YYYY-MM-DDTHH:MM:SSZ)", what,
				key);
	return 0;
}

/* A content entry ({name, version, activated_at, expires} or null) into
 * its typed fields: a version (1 or more: no content is null) and what is
 * shown of it. */
static int
entry(json_t *e, const char *what, int64_t *version, struct report_content *c, struct ward_diag *d)
{
	int r;

	*version = 0;
	memset(c, 0, sizeof(*c));
	if (e == NULL || json_is_null(e))
		return 0;
	if (!json_is_object(e))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "content.%s must be an object or null",
				what);
	if ((r = jcheck_int(e, "version", 0, 1, BUNDLE_MAX_VERSION, 0, version, d)) != 0 ||
	    (r = jcheck_string(e, "name", 1, JCHECK_TOKEN, 0, c->name, sizeof(c->name), d)) != 0 ||
	    (r = time_field(e, what, "activated_at", &c->activated_at, d)) != 0 ||
	    (r = time_field(e, what, "expires", &c->expires, d)) != 0)
		goto out;
	if (!name_ok(c->name))
		r = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
			     "content.%s.name must be a bundle name ([A-Za-z0-9._-])", what);
out:
	/* jcheck names the key alone: say whose it is */
	if (r != 0 && d != NULL && strncmp(d->msg, "content.", 8) != 0) {
		char msg[sizeof(d->msg)];

		snprintf(msg, sizeof(msg), "content.%s: %.400s", what, d->msg);
		snprintf(d->msg, sizeof(d->msg), "%s", msg);
	}
	return r;
}

/* A time as stored and shown: "" for 0 (not sent). */
static void
time_text(int64_t t, char out[21])
{
	if (t > 0)
		bundle_format_time(t, out);
	else
		out[0] = '\0';
}

/* What is stored of a content entry: null, or every field (strings empty
 * when not sent), so that what `ward fleet agents --json` shows has one
 * shape. */
static json_t *
entry_normal(int64_t version, const struct report_content *c)
{
	char act[21], exp[21];

	if (version <= 0)
		return json_null();
	time_text(c->activated_at, act);
	time_text(c->expires, exp);
	return json_pack("{s:s, s:I, s:s, s:s}", "name", c->name, "version", (json_int_t)version,
			 "activated_at", act, "expires", exp);
}

static int
refusals(json_t *arr, struct report *r, json_t *out, struct ward_diag *d)
{
	json_t *e;
	size_t i;
	int rc = 0;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "content.rejected must be a list");
	if (json_array_size(arr) > WARD_MAX_REPORT_REFUSALS)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0,
				"content.rejected lists more than %d versions",
				WARD_MAX_REPORT_REFUSALS);
	json_array_foreach(arr, i, e)
	{
		struct report_refusal *f = &r->refusals[r->nrefusals];

		if (!json_is_object(e))
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
					"content.rejected[%zu] must be an object", i);
		if ((rc = jcheck_int(e, "version", 0, 1, BUNDLE_MAX_VERSION, 0, &f->version, d)) !=
			0 ||
		    (rc = jcheck_string(e, "reason", 1, JCHECK_TEXT, 0, f->reason,
					sizeof(f->reason), d)) != 0 ||
		    (rc = cause_field(e, i, &f->cause, d)) != 0 ||
		    (rc = jcheck_string(e, "at", 1, JCHECK_TOKEN, 0, f->at, sizeof(f->at), d)) != 0)
			return rc;
		json_array_append_new(out, json_pack("{s:I, s:s, s:s, s:s}", "version",
						     (json_int_t)f->version, "cause",
						     cause_name(f->cause), "reason", f->reason,
						     "at", f->at));
		r->nrefusals++;
	}
	return 0;
}

static int
crashes(json_t *arr, struct report *r, json_t *out, struct ward_diag *d)
{
	json_t *e;
	size_t i;
	int rc;

	if (arr == NULL)
		return 0;
	if (!json_is_array(arr))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "crashes must be a list");
	if (json_array_size(arr) > WARD_MAX_REPORT_CRASHES)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0, "crashes lists more than %d crashes",
				WARD_MAX_REPORT_CRASHES);
	json_array_foreach(arr, i, e)
	{
		struct report_crash *c = &r->crashes[r->ncrashes];

		if (!json_is_object(e))
			return diag_set(d, WARD_EFORMAT, NULL, 0, 0,
					"crashes[%zu] must be an object", i);
		if ((rc = jcheck_int(e, "version", 0, 0, BUNDLE_MAX_VERSION, 0, &c->version, d)) !=
			0 ||
		    (rc = jcheck_string(e, "at", 1, JCHECK_TOKEN, 0, c->at, sizeof(c->at), d)) != 0)
			return rc;
		json_array_append_new(
		    out, json_pack("{s:I, s:s}", "version", (json_int_t)c->version, "at", c->at));
		r->ncrashes++;
	}
	return 0;
}

int
report_parse(const char *text, size_t len, struct report *r, struct ward_diag *d)
{
	json_error_t je;
	json_t *o = NULL, *content, *rej = json_array(), *crs = json_array(), *v, *copy;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len > WARD_MAX_CHECKIN_BYTES) {
		rc = diag_set(d, WARD_ELIMIT, NULL, 0, 0, "a report is at most %u bytes",
			      WARD_MAX_CHECKIN_BYTES);
		goto out;
	}
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		rc = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "a report is a JSON object%s%s",
			      o == NULL ? ": " : "", o == NULL ? je.text : "");
		goto out;
	}
	content = json_object_get(o, "content");
	if (content != NULL && !json_is_object(content)) {
		rc = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"content\" must be an object");
		goto out;
	}
	if ((rc = jcheck_string(o, "mode", 1, JCHECK_TOKEN, 0, r->mode, sizeof(r->mode), d)) != 0 ||
	    (rc = jcheck_string(o, "journal_id", 1, JCHECK_TOKEN, 0, r->journal_id,
				sizeof(r->journal_id), d)) != 0 ||
	    (rc = jcheck_int(o, "wait_s", 1, 0, 3600, 0, &r->wait_s, d)) != 0 ||
	    (rc = entry(json_object_get(content, "current"), "current", &r->current,
			&r->current_shown, d)) != 0 ||
	    (rc = entry(json_object_get(content, "last_known_good"), "last_known_good", &r->lkg,
			&r->lkg_shown, d)) != 0 ||
	    (rc = refusals(json_object_get(content, "rejected"), r, rej, d)) != 0 ||
	    (rc = crashes(json_object_get(o, "crashes"), r, crs, d)) != 0)
		goto out;
	if ((v = json_object_get(o, "exceptions")) != NULL) { /* the fleet's list it runs */
		r->exceptions = 1;
		if (!json_is_object(v)) {
			rc = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				      "\"exceptions\" must be an object");
			goto out;
		}
		if ((rc = jcheck_int(v, "fleet_revision", 1, 0, BUNDLE_MAX_VERSION, 0,
				     &r->exceptions_revision, d)) != 0 ||
		    (rc = jcheck_int(v, "fleet_refused_revision", 1, 0, BUNDLE_MAX_VERSION, 0,
				     &r->exceptions_refused, d)) != 0)
			goto out;
	}
	/* What is stored and shown of the content is written from the typed
	 * fields, not copied from the agent's text. */
	r->normal =
	    json_pack("{s:s, s:{s:o, s:o, s:O}, s:O}", "mode", r->mode, "content", "current",
		      entry_normal(r->current, &r->current_shown), "last_known_good",
		      entry_normal(r->lkg, &r->lkg_shown), "rejected", rej, "crashes", crs);
	if (r->normal == NULL) {
		rc = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
		goto out;
	}
	for (i = 0; detail_keys[i] != NULL; i++) {
		if ((v = json_object_get(o, detail_keys[i])) == NULL)
			continue;
		if ((rc = jcheck_bounded(v, detail_keys[i], WARD_MAX_REPORT_DEPTH,
					 WARD_MAX_REPORT_ITEMS, WARD_MAX_REPORT_REASON, &copy,
					 d)) != 0)
			goto out;
		json_object_set_new(r->normal, detail_keys[i], copy);
	}
out:
	json_decref(o);
	json_decref(rej);
	json_decref(crs);
	if (rc != 0)
		report_free(r);
	return rc;
}

/* Sets key to s in o unless s is empty (the parser's "absent"). */
static int
set_text(json_t *o, const char *key, const char *s)
{
	return s[0] == '\0' ? 0 : json_object_set_new(o, key, json_string(s));
}

/* Sets key to the time t in o unless t is 0 (not sent) or out of what a
 * report carries (the parser would refuse the whole report). */
static int
set_time(json_t *o, const char *key, int64_t t)
{
	char at[21];

	if (t <= 0 || t > REPORT_MAX_TIME)
		return 0;
	bundle_format_time(t, at);
	return json_object_set_new(o, key, json_string(at));
}

/* A content entry of the encoding: {"version": v, "name", "activated_at",
 * "expires"} (what is not known left out), or null for none. */
static json_t *
entry_encode(int64_t version, const struct report_content *c)
{
	json_t *e;

	if (version <= 0)
		return json_null();
	e = json_pack("{s:I}", "version", (json_int_t)version);
	/* a name no bundle has would make the server refuse the whole report */
	if (e != NULL && ((name_ok(c->name) && set_text(e, "name", c->name) != 0) ||
			  set_time(e, "activated_at", c->activated_at) != 0 ||
			  set_time(e, "expires", c->expires) != 0)) {
		json_decref(e);
		e = NULL;
	}
	return e;
}

json_t *
report_encode(const struct report *r)
{
	json_t *o = json_object(), *rej = json_array(), *crs = json_array(), *e, *x;
	unsigned i;
	int bad = o == NULL || rej == NULL || crs == NULL;

	for (i = 0; !bad && i < r->nrefusals && i < WARD_MAX_REPORT_REFUSALS; i++) {
		const struct report_refusal *f = &r->refusals[i];

		e = json_pack("{s:I, s:s}", "version", (json_int_t)f->version, "cause",
			      cause_name(f->cause));
		bad = e == NULL || set_text(e, "reason", f->reason) != 0 ||
		      set_text(e, "at", f->at) != 0 || json_array_append_new(rej, e) != 0;
	}
	for (i = 0; !bad && i < r->ncrashes && i < WARD_MAX_REPORT_CRASHES; i++) {
		e = json_pack("{s:I}", "version", (json_int_t)r->crashes[i].version);
		bad = e == NULL || set_text(e, "at", r->crashes[i].at) != 0 ||
		      json_array_append_new(crs, e) != 0;
	}
	if (!bad)
		bad = set_text(o, "mode", r->mode) != 0 ||
		      set_text(o, "journal_id", r->journal_id) != 0 ||
		      json_object_set_new(
			  o, "content",
			  json_pack("{s:o, s:o, s:O}", "current",
				    entry_encode(r->current, &r->current_shown), "last_known_good",
				    entry_encode(r->lkg, &r->lkg_shown), "rejected", rej)) != 0 ||
		      json_object_set(o, "crashes", crs) != 0;
	if (!bad && r->wait_s > 0)
		bad = json_object_set_new(o, "wait_s", json_integer(r->wait_s)) != 0;
	if (!bad && r->exceptions) {
		x = json_pack("{s:I, s:I}", "fleet_revision", (json_int_t)r->exceptions_revision,
			      "fleet_refused_revision", (json_int_t)r->exceptions_refused);
		bad = json_object_set_new(o, "exceptions", x) != 0;
	}
	json_decref(rej);
	json_decref(crs);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

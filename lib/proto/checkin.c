/*
 * checkin: the fleet server's answer to a check-in.  See checkin.h.
 *
 * Must hold: no field is used unchecked; a bad "desired" refuses only the
 * content offered, never the rest of the answer; the encoding holds only
 * what the struct says, so the server cannot send what it did not mean.
 */
#include "proto/checkin.h"
#include "proto/jcheck.h"

#include <stdio.h>
#include <string.h>

void
checkin_answer_free(struct checkin_answer *a)
{
	json_decref(a->exceptions);
	memset(a, 0, sizeof(*a));
}

/* "desired": none, a checked target, or refused with a reason. */
static void
desired_field(const json_t *o, struct checkin_answer *a)
{
	const json_t *v = json_object_get(o, "desired");
	struct ward_diag d;

	if (v == NULL || json_is_null(v))
		return;
	if (download_target_parse(v, &a->desired, &d) != 0) {
		a->desired_state = CHECKIN_DESIRED_BAD;
		snprintf(a->desired_why, sizeof(a->desired_why), "%s", d.msg);
		memset(&a->desired, 0, sizeof(a->desired));
		return;
	}
	a->desired_state = CHECKIN_DESIRED_OK;
}

int
checkin_answer_check(const json_t *o, struct checkin_answer *a, struct ward_diag *d)
{
	json_t *obj = (json_t *)o, *cfg, *x;
	int rc = 0;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(obj))
		return diag_set(d, WARD_EFORMAT, NULL, 0, 0, "a check-in answer is a JSON object");
	cfg = json_object_get(obj, "config");
	if (cfg != NULL && !json_is_null(cfg) && !json_is_object(cfg)) {
		rc = diag_set(d, WARD_EFORMAT, NULL, 0, 0, "\"config\" must be an object");
		goto out;
	}
	if ((rc = jcheck_int(obj, "next_checkin_s", 0, 0, CHECKIN_MAX_INTERVAL_S, 0,
			     &a->next_checkin_s, d)) != 0 ||
	    (rc = jcheck_int(obj, "events_acked", 1, 0, INT64_MAX, 0, &a->events_acked, d)) != 0)
		goto out;
	if (json_is_object(cfg) &&
	    ((rc = jcheck_int(cfg, "checkin_interval_s", 1, 1, CHECKIN_MAX_INTERVAL_S, 0,
			      &a->checkin_interval_s, d)) != 0 ||
	     (rc = jcheck_int(cfg, "events_batch_max", 1, 1, CHECKIN_MAX_BATCH, 0,
			      &a->events_batch_max, d)) != 0))
		goto out;
	if ((x = json_object_get(obj, "exceptions")) != NULL && !json_is_null(x)) {
		if (!json_is_object(x)) {
			rc = diag_set(d, WARD_EFORMAT, NULL, 0, 0,
				      "\"exceptions\" must be an object");
			goto out;
		}
		a->exceptions = json_incref(x);
	}
	desired_field(obj, a);
out:
	if (rc != 0)
		checkin_answer_free(a);
	return rc;
}

int
checkin_answer_parse(const char *text, size_t len, struct checkin_answer *a, struct ward_diag *d)
{
	json_error_t je;
	json_t *o;
	int rc;

	memset(a, 0, sizeof(*a));
	if (len > CHECKIN_MAX_BYTES)
		return diag_set(d, WARD_ELIMIT, NULL, 0, 0, "a check-in answer is at most %u bytes",
				(unsigned)CHECKIN_MAX_BYTES);
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (o == NULL || !json_is_object(o)) {
		rc = diag_set(d, WARD_ESYNTAX, NULL, 0, 0, "a check-in answer is a JSON object%s%s",
			      o == NULL ? ": " : "", o == NULL ? je.text : "");
		json_decref(o);
		return rc;
	}
	rc = checkin_answer_check(o, a, d);
	json_decref(o);
	return rc;
}

/* "desired" of the encoding: null, a rollback, or a target. */
static json_t *
desired_encode(const struct checkin_answer *a)
{
	const struct download_target *t = &a->desired;
	json_t *o;

	if (a->desired_state != CHECKIN_DESIRED_OK)
		return json_null();
	o = json_object();
	if (o == NULL)
		return NULL;
	if ((t->rollback_from > 0 &&
	     json_object_set_new(o, "rollback_from", json_integer(t->rollback_from)) != 0) ||
	    (t->version > 0 && json_object_set_new(o, "version", json_integer(t->version)) != 0) ||
	    (t->version > 0 && json_object_set_new(o, "sha256", json_string(t->sha256)) != 0) ||
	    (t->version > 0 &&
	     json_object_set_new(o, "size", json_integer((json_int_t)t->size)) != 0) ||
	    (t->version > 0 && json_object_set_new(o, "url", json_string(t->url)) != 0)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
checkin_answer_encode(const struct checkin_answer *a)
{
	json_t *o = json_pack("{s:I, s:I, s:o}", "next_checkin_s", (json_int_t)a->next_checkin_s,
			      "events_acked", (json_int_t)a->events_acked, "desired",
			      desired_encode(a)),
	       *cfg;

	if (o == NULL)
		return NULL;
	if (a->checkin_interval_s > 0 || a->events_batch_max > 0) {
		cfg = json_object();
		if (cfg == NULL || json_object_set_new(o, "config", cfg) != 0 ||
		    (a->checkin_interval_s > 0 &&
		     json_object_set_new(cfg, "checkin_interval_s",
					 json_integer(a->checkin_interval_s)) != 0) ||
		    (a->events_batch_max > 0 &&
		     json_object_set_new(cfg, "events_batch_max",
					 json_integer(a->events_batch_max)) != 0)) {
			json_decref(o);
			return NULL;
		}
	}
	if (a->exceptions != NULL && json_object_set(o, "exceptions", a->exceptions) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

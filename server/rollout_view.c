/*
 * rollout_view: plans (parsing, defaults, JSON) and what operators see of
 * releases — the list, one release ring by ring with its incidents.  See
 * rollout.h.
 *
 * Must hold: a plan is checked key by key (an unknown key is an error,
 * never ignored); views only read.
 */
#include "server/rollout_int.h"
#include "util/utf8.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- plans --------------------------------------------------------------- */

void
rollout_default_plan(struct plan *p)
{
	static const struct {
		const char *name;
		double pct;
		long long min, max, soak;
	} rings[] = {
	    {"canary", 1, 1, 50, 900},
	    {"early", 10, 0, 0, 1800},
	    {"broad", 50, 0, 0, 3600},
	    {"all", 100, 0, 0, 0},
	};
	unsigned i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < 4; i++) {
		snprintf(p->rings[i].name, sizeof(p->rings[i].name), "%s", rings[i].name);
		p->rings[i].percent = rings[i].pct;
		p->rings[i].min = rings[i].min;
		p->rings[i].max = rings[i].max;
		p->rings[i].soak_s = rings[i].soak;
	}
	p->nrings = 4;
	gate_defaults(&p->gate);
}

static int
num(json_t *o, const char *key, double lo, double hi, double *out, struct ward_diag *d)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
		return diag_set(d, WARD_EINVAL, "plan", 0, 0,
				"\"%s\" must be a number from %g to %g", key, lo, hi);
	*out = json_number_value(v);
	return 0;
}

static int
check_keys(json_t *o, const char *const *allowed, const char *where, struct ward_diag *d)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(o, key, v)
	{
		for (i = 0; allowed[i] != NULL && strcmp(allowed[i], key) != 0; i++)
			;
		if (allowed[i] == NULL)
			return diag_set(d, WARD_EINVAL, "plan", 0, 0, "%s: unknown key \"%.60s\"",
					where, key);
	}
	return 0;
}

/* The gate's keys of a plan (those absent keep their defaults). */
static int
gate_parse(json_t *g, struct gate *gt, struct ward_diag *d)
{
	char key[48];
	double v;
	int k, rc;

	if ((rc = num(g, "min_active_pct", 0, 100, &gt->min_active_pct, d)) != 0)
		return rc;
	for (k = 0; k < GATE_NKINDS; k++) {
		snprintf(key, sizeof(key), "max_%s", gate_kind_name(k));
		v = (double)gt->max[k];
		if ((rc = num(g, key, 0, 1e9, &v, d)) != 0)
			return rc;
		gt->max[k] = (long long)v;
		snprintf(key, sizeof(key), "max_%s_pct", gate_kind_name(k));
		if ((rc = num(g, key, 0, 100, &gt->max_pct[k], d)) != 0)
			return rc;
	}
	v = (double)gt->silent_checkins;
	if ((rc = num(g, "silent_checkins", 1, 1000, &v, d)) != 0)
		return rc;
	gt->silent_checkins = (long long)v;
	if ((rc = num(g, "alert_factor", 1, 1e6, &gt->alert_factor, d)) != 0)
		return rc;
	v = (double)gt->alert_min;
	if ((rc = num(g, "alert_min", 1, 1e9, &v, d)) != 0)
		return rc;
	gt->alert_min = (long long)v;
	v = (double)gt->stall_s;
	if ((rc = num(g, "stall_s", 0, 30 * 86400, &v, d)) != 0)
		return rc;
	gt->stall_s = (long long)v;
	if (json_object_get(g, "on_stall") != NULL) {
		const char *os = json_string_value(json_object_get(g, "on_stall"));

		if (os == NULL || (strcmp(os, "halt") != 0 && strcmp(os, "continue") != 0))
			return diag_set(d, WARD_EINVAL, "plan", 0, 0,
					"\"on_stall\" is \"halt\" or \"continue\"");
		gt->on_stall_continue = strcmp(os, "continue") == 0;
	}
	return 0;
}

int
rollout_parse_plan(const char *text, size_t len, struct plan *p, struct ward_diag *d)
{
	static const char *const top_keys[] = {"rings", "gate", NULL};
	static const char *const ring_keys[] = {"name", "groups", "percent", "min",
						"max",	"soak_s", NULL};
	static const char *const gate_keys[] = {"min_active_pct",
						"max_crash_rollbacks",
						"max_crash_rollbacks_pct",
						"max_rejections",
						"max_rejections_pct",
						"max_silent",
						"max_silent_pct",
						"max_alert_storms",
						"max_alert_storms_pct",
						"silent_checkins",
						"alert_factor",
						"alert_min",
						"stall_s",
						"on_stall",
						NULL};
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *rings, *r, *g;
	size_t i, k;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	gate_defaults(&p->gate);
	if (o == NULL)
		return diag_set(d, WARD_ESYNTAX, "plan", je.line, je.column, "%s", je.text);
	rings = json_object_get(o, "rings");
	if (!json_is_object(o) || (rc = check_keys(o, top_keys, "plan", d)) != 0 ||
	    !json_is_array(rings) || json_array_size(rings) == 0 ||
	    json_array_size(rings) > ROLLOUT_MAX_RINGS) {
		json_decref(o);
		return rc != 0 ? rc
			       : diag_set(d, WARD_EINVAL, "plan", 0, 0,
					  "a plan is {\"rings\": [1 to %d rings], \"gate\": {...}}",
					  ROLLOUT_MAX_RINGS);
	}
	json_array_foreach(rings, i, r)
	{
		struct ring_plan *rp = &p->rings[i];
		json_t *groups = json_object_get(r, "groups"), *gv;
		double v;

		if (!json_is_object(r)) {
			rc = diag_set(d, WARD_EINVAL, "plan", 0, 0, "ring %zu is not an object", i);
			break;
		}
		if ((rc = check_keys(r, ring_keys, "ring", d)) != 0)
			break;
		snprintf(rp->name, sizeof(rp->name), "%s",
			 json_is_string(json_object_get(r, "name"))
			     ? json_string_value(json_object_get(r, "name"))
			     : "");
		utf8_cut(rp->name); /* the stored plan must hold it, or lose the ring */
		if (rp->name[0] == '\0')
			snprintf(rp->name, sizeof(rp->name), "ring%zu", i);
		if (groups != NULL) {
			if (!json_is_array(groups) || json_array_size(groups) > 8) {
				rc = diag_set(d, WARD_EINVAL, "plan", 0, 0,
					      "ring %s: \"groups\" is a list of at most 8 names",
					      rp->name);
				break;
			}
			json_array_foreach(groups, k, gv)
			{
				if (!json_is_string(gv) || json_string_length(gv) >= 64) {
					rc = diag_set(d, WARD_EINVAL, "plan", 0, 0,
						      "ring %s: group names are strings", rp->name);
					break;
				}
				snprintf(rp->groups[rp->ngroups++], 64, "%s",
					 json_string_value(gv));
			}
		}
		v = groups != NULL ? 0 : 100;
		if (rc != 0 || (rc = num(r, "percent", 0, 100, &v, d)) != 0)
			break;
		rp->percent = v;
		v = 0;
		if ((rc = num(r, "min", 0, 1e9, &v, d)) != 0)
			break;
		rp->min = (long long)v;
		v = 0;
		if ((rc = num(r, "max", 0, 1e9, &v, d)) != 0)
			break;
		rp->max = (long long)v;
		v = 0;
		if ((rc = num(r, "soak_s", 0, 30 * 86400, &v, d)) != 0)
			break;
		rp->soak_s = (long long)v;
		p->nrings++;
	}
	g = json_object_get(o, "gate");
	if (rc == 0 && g != NULL) {
		if (!json_is_object(g) || (rc = check_keys(g, gate_keys, "gate", d)) != 0) {
			if (rc == 0)
				rc =
				    diag_set(d, WARD_EINVAL, "plan", 0, 0, "\"gate\" is an object");
		} else {
			rc = gate_parse(g, &p->gate, d);
		}
	}
	json_decref(o);
	return rc;
}

json_t *
rollout_plan_json(const struct plan *p)
{
	json_t *rings = json_array(), *gate;
	unsigned i, k;

	for (i = 0; i < p->nrings; i++) {
		const struct ring_plan *r = &p->rings[i];
		json_t *o =
		    json_pack("{s:s, s:I}", "name", r->name, "soak_s", (json_int_t)r->soak_s);

		if (r->ngroups > 0) {
			json_t *g = json_array();

			for (k = 0; k < r->ngroups; k++)
				json_array_append_new(g, json_string(r->groups[k]));
			json_object_set_new(o, "groups", g);
		} else {
			json_object_set_new(o, "percent", json_real(r->percent));
		}
		if (r->min > 0)
			json_object_set_new(o, "min", json_integer(r->min));
		if (r->max > 0)
			json_object_set_new(o, "max", json_integer(r->max));
		json_array_append_new(rings, o);
	}
	gate = json_pack("{s:f, s:I, s:f, s:I, s:I, s:s}", "min_active_pct", p->gate.min_active_pct,
			 "silent_checkins", (json_int_t)p->gate.silent_checkins, "alert_factor",
			 p->gate.alert_factor, "alert_min", (json_int_t)p->gate.alert_min,
			 "stall_s", (json_int_t)p->gate.stall_s, "on_stall",
			 p->gate.on_stall_continue ? "continue" : "halt");
	for (k = 0; k < GATE_NKINDS; k++) {
		char key[48];

		snprintf(key, sizeof(key), "max_%s", gate_kind_name(k));
		json_object_set_new(gate, key, json_integer(p->gate.max[k]));
		snprintf(key, sizeof(key), "max_%s_pct", gate_kind_name(k));
		json_object_set_new(gate, key, json_real(p->gate.max_pct[k]));
	}
	return json_pack("{s:o, s:o}", "rings", rings, "gate", gate);
}

/* --- views ----------------------------------------------------------------------- */

/* Unix seconds as RFC 3339. */
static json_t *
utc(long long secs)
{
	char t[21];

	clock_utc((int64_t)secs, t);
	return json_string(t);
}

static json_t *
release_json(const struct store_release *r)
{
	json_t *plan = json_loads(r->plan, 0, NULL);
	json_t *o = json_pack(
	    "{s:I, s:s, s:I, s:s, s:I, s:o, s:o, s:o, s:s, s:s, s:o}", "id", (json_int_t)r->id,
	    "bundle", r->bundle, "version", (json_int_t)r->version, "state", r->state, "ring",
	    (json_int_t)r->ring, "ring_started", r->ring >= 0 ? utc(r->ring_started) : json_null(),
	    "created", utc(r->created), "updated", utc(r->updated), "reason", r->reason, "waiting",
	    r->waiting, "plan", plan != NULL ? plan : json_object());

	if (o == NULL)
		return NULL;
	if (r->ring >= 0 && r->ring < (long long)json_array_size(json_object_get(plan, "rings")))
		json_object_set(
		    o, "ring_name",
		    json_object_get(json_array_get(json_object_get(plan, "rings"), (size_t)r->ring),
				    "name"));
	return o;
}

int
rollout_releases(struct db *db, json_t **out, struct ward_diag *d)
{
	struct store_release *rs = NULL;
	size_t i, n = 0;
	int r;

	*out = NULL;
	if ((r = store_release_list(db, &rs, &n, d)) != 0)
		return r;
	*out = json_array();
	for (i = 0; i < n && r == 0; i++) {
		json_t *o = release_json(&rs[i]);

		if (o == NULL || json_array_append_new(*out, o) != 0)
			r = diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	}
	store_releases_free(rs, n);
	if (r != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return r;
}

/* Each ring of the plan says how many agents it holds and how many run
 * the version. */
static int
add_ring_counts(struct db *db, long long id, json_t *rings, struct ward_diag *d)
{
	struct store_ring_count *c = NULL;
	size_t i, n = 0;
	int r;

	if ((r = store_ring_counts(db, id, &c, &n, d)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		json_t *ring = c[i].ring >= 0 ? json_array_get(rings, (size_t)c[i].ring) : NULL;

		if (ring != NULL)
			json_object_set_new(ring, "agents",
					    json_pack("{s:I, s:I}", "assigned",
						      (json_int_t)c[i].assigned, "active",
						      (json_int_t)c[i].active));
	}
	ward_free(c);
	return 0;
}

static int
incidents_json(struct db *db, long long id, json_t **out, struct ward_diag *d)
{
	struct store_incident *in = NULL;
	size_t i, n = 0;
	int r;

	*out = json_array();
	if ((r = store_incidents(db, id, &in, &n, d)) != 0)
		return r;
	for (i = 0; i < n; i++) {
		json_t *ev = json_loads(in[i].evidence, 0, NULL);

		json_array_append_new(*out,
				      json_pack("{s:o, s:I, s:s, s:o}", "at", utc(in[i].ts), "ring",
						(json_int_t)in[i].ring, "reason", in[i].reason,
						"evidence", ev != NULL ? ev : json_object()));
	}
	store_incidents_free(in, n);
	return 0;
}

static int
timeline_json(struct db *db, long long id, json_t **out, struct ward_diag *d)
{
	struct store_timeline_line *l = NULL;
	size_t i, n = 0;
	int r;

	*out = json_array();
	if ((r = store_timeline(db, id, &l, &n, d)) != 0)
		return r;
	for (i = 0; i < n; i++)
		json_array_append_new(*out, json_pack("{s:o, s:I, s:s}", "at", utc(l[i].ts), "ring",
						      (json_int_t)l[i].ring, "text", l[i].text));
	ward_free(l);
	return 0;
}

int
rollout_release(struct db *db, long long id, json_t **out, struct ward_diag *d)
{
	struct store_release row;
	json_t *rel, *inc = NULL, *tl = NULL;
	int found = 0, r;

	*out = NULL;
	if ((r = store_release_get(db, id, &row, &found, d)) != 0)
		return r;
	if (!found)
		return diag_set(d, WARD_EUNDEFINED, NULL, 0, 0, "no release %lld", id);
	rel = release_json(&row);
	store_release_free(&row);
	if (rel == NULL)
		return diag_set(d, WARD_ENOMEM, NULL, 0, 0, "out of memory");
	r = add_ring_counts(db, id, json_object_get(json_object_get(rel, "plan"), "rings"), d);
	if (r == 0)
		r = incidents_json(db, id, &inc, d);
	json_object_set_new(rel, "incidents", inc != NULL ? inc : json_array());
	if (r == 0) {
		r = timeline_json(db, id, &tl, d);
		json_object_set_new(rel, "timeline", tl);
	}
	if (r != 0) {
		json_decref(rel);
		return r;
	}
	*out = rel;
	return 0;
}

int
rollout_pins(struct db *db, json_t **out, struct ward_diag *d)
{
	struct store_pin *p = NULL;
	size_t i, n = 0;
	int r;

	*out = NULL;
	if ((r = store_pin_list(db, &p, &n, d)) != 0)
		return r;
	*out = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(*out, json_pack("{s:s, s:I, s:s, s:o}", "group", p[i].group,
						      "version", (json_int_t)p[i].version, "sha256",
						      p[i].sha256, "since", utc(p[i].since)));
	ward_free(p);
	return 0;
}

/*
 * gate: the health gate.  See gate.h.
 *
 * Must hold: a fault counts against the ring of the agent that showed it,
 * once per agent and kind; a refusal counts by its cause only; a fault
 * claimed before the version reached the agent, or of a cause that is no
 * fault of the content, is shown but never counted; an agent that has not
 * checked in since the assignment neither passes nor blocks a ring (it is
 * offline).
 */
#include "server/gate.h"
#include "util/alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RINGS 16 /* ROLLOUT_MAX_RINGS */
#define CLAIMED 0x80 /* a member claimed a fault before the version reached it */
_Static_assert(GATE_NKINDS < 8, "a member's counted kinds are bits below CLAIMED");

void
gate_defaults(struct gate *g)
{
	int k;

	memset(g, 0, sizeof(*g));
	g->min_active_pct = 95;
	for (k = 0; k < GATE_NKINDS; k++) {
		g->max[k] = 0;
		g->max_pct[k] = 1;
	}
	g->silent_checkins = 3;
	g->alert_factor = 10;
	g->alert_min = 20;
	g->stall_s = 1800;
	g->on_stall_continue = 0;
}

const char *
gate_kind_name(enum gate_fault_kind k)
{
	static const char *const names[] = {"crash_rollbacks", "rejections", "silent",
					    "alert_storms"};

	return k < GATE_NKINDS ? names[k] : "?";
}

/* What each refusal cause counts as.  Only what is provably not the
 * content's doing is left out; any other refusal means the version does
 * not run where it was sent, and the safe side is to stop and look. */
static const struct {
	enum gate_fault_kind kind; /* GATE_NKINDS: not counted */
	const char *why_not;
} cause_kinds[CAUSE_N] = {
    [CAUSE_REFUSED] = {GATE_REFUSED, NULL},
    [CAUSE_FORMAT] = {GATE_REFUSED, NULL},
    [CAUSE_SIGNATURE] = {GATE_REFUSED, NULL},
    [CAUSE_VERSION] = {GATE_REFUSED, NULL},
    [CAUSE_EXPIRED] = {GATE_REFUSED, NULL},
    [CAUSE_AGENT_VERSION] = {GATE_REFUSED, NULL},
    [CAUSE_VALIDATION] = {GATE_REFUSED, NULL},
    /* A validator's limit may be the host's (a small machine) or the
     * content's (rules that blow up): the version will not run there
     * either way, so it counts, as the plan's max_rejections allows. */
    [CAUSE_RESOURCES] = {GATE_REFUSED, NULL},
    [CAUSE_INSTALL] = {GATE_REFUSED, NULL},
    [CAUSE_DAMAGED] = {GATE_REFUSED, NULL},
    [CAUSE_CRASH_GUARD] = {GATE_CRASH, NULL},
    [CAUSE_OPERATOR_ROLLBACK] = {GATE_NKINDS, "rolled back by an operator on the agent"},
    [CAUSE_FLEET_ROLLBACK] = {GATE_NKINDS, "rolled back by the fleet server's own halt"},
};

int
gate_refusal_kind(enum refusal_cause c, enum gate_fault_kind *k, const char **why_not)
{
	if ((unsigned)c >= CAUSE_N)
		c = CAUSE_REFUSED;
	*k = cause_kinds[c].kind;
	*why_not = cause_kinds[c].why_not;
	return *k != GATE_NKINDS;
}

/* What fault f counts as: 1 with *k, or 0 with *why_not. */
static int
fault_kind(const struct gate_fault *f, enum gate_fault_kind *k, const char **why_not)
{
	*why_not = NULL;
	*k = f->kind;
	if (f->kind == GATE_REFUSED)
		return gate_refusal_kind(f->cause, k, why_not);
	return 1;
}

static int
member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gate_member *)a)->agent_id,
		      ((const struct gate_member *)b)->agent_id);
}

static const struct gate_member *
member(const struct gate_input *in, const char *agent_id)
{
	struct gate_member key;

	if (in->nm == 0)
		return NULL;
	snprintf(key.agent_id, sizeof(key.agent_id), "%s", agent_id);
	return bsearch(&key, in->m, in->nm, sizeof(*in->m), member_cmp);
}

/* What one ring showed. */
struct ring {
	long long agents, online, active, offline;
	long long ahead, newest;  /* online agents on a newer version, the newest */
	long long sent_idle;	  /* online, sent the version, neither running nor refusing it */
	long long unsent;	  /* online, not sent the version yet (frozen, pinned...) */
	long long refused_before; /* refused it before it was sent (not counted) */
	long long faults[GATE_NKINDS];
};

static void
iso_ms(long long ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* f: the refusal whose cause is shown, or NULL. */
static json_t *
agent_json(const struct gate_member *mb, enum gate_fault_kind k, long long ms, const char *detail,
	   const struct gate_fault *f, const char *why_not)
{
	char at[32];
	json_t *o;

	iso_ms(ms, at);
	o = json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "agent_id", mb->agent_id, "hostname",
		      mb->hostname, "ring", (json_int_t)mb->ring, "fault",
		      k < GATE_NKINDS ? gate_kind_name(k) : "none", "reported", at, "detail",
		      detail);
	if (o != NULL && f != NULL && f->kind == GATE_REFUSED)
		json_object_set_new(o, "cause", json_string(cause_name(f->cause)));
	if (o != NULL && why_not != NULL)
		json_object_set_new(o, "not_counted", json_string(why_not));
	return o;
}

/* The faults a ring of n agents tolerates of kind k. */
static long long
tolerated(const struct gate *g, enum gate_fault_kind k, long long n)
{
	long long by_pct = (long long)floor(g->max_pct[k] / 100.0 * (double)n + 1e-9);

	return by_pct > g->max[k] ? by_pct : g->max[k];
}

/* How a halt's reason says each kind. */
static const char *const what[GATE_NKINDS] = {"crash-guard rollback(s) of", "agent(s) refused",
					      "agent(s) went silent after receiving",
					      "alert storm(s) with"};

/* Appends ", " and the formatted text to out. */
static void part(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
part(char *out, size_t outlen, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;

	if (n > 0 && n + 2 < outlen) {
		memcpy(out + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(out + n, outlen - n, fmt, ap);
	va_end(ap);
}

/* Why ring rg cannot pass yet: its agents' states, in words. */
static void
explain(const struct gate_input *in, const struct ring *rg, long long needed, char *out,
	size_t outlen)
{
	out[0] = '\0';
	if (rg->online == 0) {
		part(out, outlen, "none of its %lld agent(s) has checked in since the ring started",
		     rg->agents);
		return;
	}
	part(out, outlen, "%lld of %lld agent(s) run version %lld, %lld needed (%g %%)", rg->active,
	     rg->online - rg->ahead, in->version, needed, in->g->min_active_pct);
	if (rg->offline > 0)
		part(out, outlen, "%lld agent(s) have not checked in since the ring started",
		     rg->offline);
	if (rg->sent_idle > 0)
		part(out, outlen, "%lld agent(s) received it but do not run it", rg->sent_idle);
	if (rg->refused_before > 0)
		part(
		    out, outlen,
		    "%lld agent(s) refused it before it was sent (not counted): they will not take "
		    "it",
		    rg->refused_before);
	if (rg->unsent > 0)
		part(out, outlen, "%lld agent(s) have not been sent it (frozen or pinned?)",
		     rg->unsent);
	if (rg->ahead > 0)
		part(out, outlen, "%lld agent(s) run a newer version %lld: they will not take %lld",
		     rg->ahead, rg->newest, in->version);
}

enum gate_verdict
gate_decide(struct gate_input *in, struct gate_result *res)
{
	struct ring rings[MAX_RINGS];
	json_t *lists[GATE_NKINDS], *agents = json_array(), *not_counted = json_array(),
				    *per_ring = json_array();
	enum gate_verdict v = GATE_WAIT;
	const struct gate_member *mb;
	long long cur = in->ring >= 0 && in->ring < MAX_RINGS ? in->ring : 0, needed;
	struct ring *rg;
	enum gate_fault_kind fk;
	const char *why_not;
	unsigned char *claimed; /* per member: CLAIMED, and a bit per kind counted */
	size_t i;
	int k;

	memset(res, 0, sizeof(*res));
	memset(rings, 0, sizeof(rings));
	for (k = 0; k < GATE_NKINDS; k++)
		lists[k] = json_array();
	if (in->nm > 0) /* (qsort and bsearch want an array, even of nothing) */
		qsort(in->m, in->nm, sizeof(*in->m), member_cmp);
	/* Members that claimed a fault before the version reached them: why
	 * they will not take it (they refused it already). */
	claimed = in->nm > 0 ? ward_calloc(in->nm, 1) : NULL;
	for (i = 0; claimed != NULL && i < in->nf; i++)
		if (!in->f[i].counted && fault_kind(&in->f[i], &fk, &why_not) &&
		    (mb = member(in, in->f[i].agent_id)) != NULL)
			claimed[mb - in->m] |= CLAIMED;
	for (i = 0; i < in->nm; i++) {
		const struct gate_member *x = &in->m[i];
		long long last;

		if (x->ring < 0 || x->ring >= MAX_RINGS)
			continue;
		rg = &rings[x->ring];
		rg->agents++;
		if (x->seen_ms <= x->assigned_ms) {
			rg->offline++;
		} else {
			rg->online++;
			if (x->version == in->version)
				rg->active++;
			else if (x->version > in->version) {
				rg->ahead++;
				if (x->version > rg->newest)
					rg->newest = x->version;
			} else if (claimed != NULL && (claimed[i] & CLAIMED))
				rg->refused_before++;
			else if (x->delivered_ms == 0)
				rg->unsent++;
			else
				rg->sent_idle++;
		}
		/* Silent: it received the version (an answer to a check-in, so
		 * a sign of life too), then stopped calling in. */
		last = x->seen_ms > x->delivered_ms ? x->seen_ms : x->delivered_ms;
		if (x->delivered_ms > 0 && in->now_ms - last > in->silent_after_ms) {
			char det[64];

			snprintf(det, sizeof(det), "no check-in for %lld s",
				 (in->now_ms - last) / 1000);
			rg->faults[GATE_SILENT]++;
			json_array_append_new(lists[GATE_SILENT], json_string(x->agent_id));
			json_array_append_new(agents,
					      agent_json(x, GATE_SILENT, last, det, NULL, NULL));
		}
	}
	for (i = 0; i < in->nf; i++) {
		const struct gate_fault *f = &in->f[i];

		if (f->kind == GATE_SILENT || f->kind >= GATE_NKINDS ||
		    (mb = member(in, f->agent_id)) == NULL || mb->ring < 0 || mb->ring >= MAX_RINGS)
			continue; /* not (or no longer) one of the release's agents */
		if (!fault_kind(f, &fk, &why_not) || !f->counted) {
			json_array_append_new(
			    not_counted,
			    agent_json(mb, fk, f->reported_ms, f->detail, f,
				       why_not != NULL
					   ? why_not
					   : "claimed before the version reached the agent"));
			continue;
		}
		if (claimed != NULL && (claimed[mb - in->m] & (1u << fk)))
			continue; /* once per agent and kind (a crash and its rollback) */
		if (claimed != NULL)
			claimed[mb - in->m] |= (unsigned char)(1u << fk);
		rings[mb->ring].faults[fk]++;
		json_array_append_new(lists[fk], json_string(f->agent_id));
		json_array_append_new(agents,
				      agent_json(mb, fk, f->reported_ms, f->detail, f, NULL));
	}
	/* Any ring started so far may halt the release, the worst kind first. */
	for (i = 0; i <= (size_t)cur && v == GATE_WAIT; i++) {
		for (k = 0; k < GATE_NKINDS; k++) {
			long long n = rings[i].faults[k],
				  tol = tolerated(in->g, k, rings[i].agents);

			if (n > tol) {
				snprintf(res->reason, sizeof(res->reason),
					 "%lld %s version %lld in ring %zu (%lld agents; %lld "
					 "tolerated)",
					 n, what[k], in->version, i, rings[i].agents, tol);
				v = GATE_HALT;
				res->why = GATE_WHY_FAULTS;
				res->kind = (enum gate_fault_kind)k;
				res->halt_ring = (long long)i;
				break;
			}
		}
	}
	rg = &rings[cur];
	needed = (long long)ceil(in->g->min_active_pct / 100.0 * (double)(rg->online - rg->ahead) -
				 1e-9);
	if (needed < 1)
		needed = 1;
	if (v == GATE_WAIT && rg->agents == 0) {
		v = GATE_SKIP;
		res->why = GATE_WHY_NO_AGENTS;
		snprintf(res->note, sizeof(res->note), "ring %lld has no agents: skipped", cur);
	} else if (v == GATE_WAIT && in->soak_over && rg->online > 0 && rg->online == rg->ahead) {
		v = GATE_PASS;
		res->why = GATE_WHY_AHEAD;
		snprintf(res->note, sizeof(res->note),
			 "ring %lld passed: its %lld agent(s) that checked in run a newer version "
			 "%lld (nothing to take)",
			 cur, rg->online, rg->newest);
	} else if (v == GATE_WAIT && in->soak_over && rg->active >= needed) {
		v = GATE_PASS;
		res->why = GATE_WHY_ACTIVE;
		snprintf(res->note, sizeof(res->note),
			 "ring %lld passed: %lld of %lld agent(s) that checked in run version %lld",
			 cur, rg->active, rg->online - rg->ahead, in->version);
		if (rg->offline > 0)
			part(res->note, sizeof(res->note), "%lld offline", rg->offline);
	} else if (v == GATE_WAIT && in->soak_over) {
		char why[500];

		explain(in, rg, needed, why, sizeof(why));
		res->why = rg->online == 0 ? GATE_WHY_UNSEEN : GATE_WHY_TOO_FEW;
		if (in->g->stall_s > 0 && in->stalled_s >= in->g->stall_s &&
		    in->g->on_stall_continue) {
			v = GATE_PASS;
			res->why = GATE_WHY_MOVED_ON;
			snprintf(res->note, sizeof(res->note),
				 "ring %lld moved on, stalled %lld s after its soak: %s", cur,
				 in->stalled_s, why);
		} else if (in->g->stall_s > 0 && in->stalled_s >= in->g->stall_s) {
			v = GATE_HALT;
			res->why = GATE_WHY_STALLED;
			snprintf(res->reason, sizeof(res->reason),
				 "ring %lld stalled %lld s after its soak: %.200s", cur,
				 in->stalled_s, why);
		} else {
			snprintf(res->note, sizeof(res->note), "ring %lld waits: %s", cur, why);
		}
	}
	for (i = 0; i <= (size_t)cur; i++) {
		json_t *o =
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "ring", (json_int_t)i, "agents",
			      (json_int_t)rings[i].agents, "online", (json_int_t)rings[i].online,
			      "active", (json_int_t)rings[i].active, "offline",
			      (json_int_t)rings[i].offline, "ahead", (json_int_t)rings[i].ahead);

		for (k = 0; k < GATE_NKINDS; k++) {
			char key[40];

			json_object_set_new(o, gate_kind_name(k), json_integer(rings[i].faults[k]));
			snprintf(key, sizeof(key), "%s_tolerated", gate_kind_name(k));
			json_object_set_new(o, key,
					    json_integer(tolerated(in->g, k, rings[i].agents)));
		}
		json_array_append_new(per_ring, o);
	}
	res->evidence =
	    json_pack("{s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "ring", (json_int_t)cur,
		      "ring_agents", (json_int_t)rg->agents, "online", (json_int_t)rg->online,
		      "active", (json_int_t)rg->active, "offline", (json_int_t)rg->offline, "rings",
		      per_ring, "agents", agents, "not_counted", not_counted);
	for (k = 0; k < GATE_NKINDS; k++)
		json_object_set_new(res->evidence, gate_kind_name(k), lists[k]);
	ward_free(claimed);
	return v;
}

/*
 * api_agent: the calls agents make — enroll, check in, upload events,
 * fetch a bundle.  See api.h.
 *
 * Must hold: every byte an agent sends goes through a checked parser
 * (enroll_parse, report_parse, the event checks here) before it is stored
 * or counted; what is stored of an agent is bounded (report size, event
 * size, a rate per agent); event batches are acknowledged only once
 * committed; secrets are wiped after use.
 */
#include "server/api_int.h"
#include "server/ratelimit.h"
#include "server/rollout.h"
#include "proto/checkin.h"
#include "proto/enroll.h"
#include "proto/report.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/file.h"
#include "util/limits.h"
#include "util/log.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
api_enroll(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	struct enroll_msg m;
	struct enroll_res res;
	struct ward_diag d;
	int rc, pending;

	(void)c;
	if (enroll_parse(q->body, q->len, &m, &d) != 0) {
		http_error(r, 400, "enroll: %s", d.msg);
		return;
	}
	db_lock(a->db);
	rc = store_enroll(a->db, &m, q->peer, api_now(), &res, &d);
	pending = rc == 0 && strcmp(res.how, "pending") == 0;
	if (rc == 0) {
		struct who w;

		memset(&w, 0, sizeof(w));
		snprintf(w.name, sizeof(w.name), "agent:%s", res.agent_id);
		api_audit(a, &w, pending ? "agent-enrollment-pending" : "agent-enrolled",
			  json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "agent_id", res.agent_id,
				    "hostname", m.hostname, "group", res.group, "how", res.how,
				    "clone_of", res.clone_of, "peer",
				    q->peer != NULL ? q->peer : ""));
	}
	db_unlock(a->db);
	enroll_wipe(&m);
	if (rc == WARD_EVERIFY) {
		http_error(r, 403, "%s", d.msg);
		return;
	}
	if (rc != 0) {
		http_error(r, 500, "%s", d.msg);
		return;
	}
	snprintf(r->who, sizeof(r->who), "agent:%s", res.agent_id);
	r->status = pending ? 202 : 200;
	r->json = json_pack("{s:s, s:s, s:s, s:s, s:i}", "agent_id", res.agent_id, "secret",
			    res.secret, "group", res.group, "how", res.how, "checkin_interval_s",
			    (int)a->cfg->checkin_interval_s);
	if (pending)
		json_object_set_new(
		    r->json, "message",
		    json_string("this host's agent is already enrolled: the new credentials work "
				"once an operator approves them (ward fleet approve ID)"));
	OPENSSL_cleanse(res.secret, sizeof(res.secret));
}

/* The next check-in in interval +- jitter seconds. */
static int
next_checkin(const struct server_config *c)
{
	double j = c->checkin_interval_s * c->checkin_jitter_pct / 100.0;
	double v = c->checkin_interval_s - j + 2 * j * ((double)rand() / RAND_MAX);

	return v < 1 ? 1 : (int)(v + 0.5);
}

/* 1 if the agent that reported rep has nothing to do about desired: then
 * its check-in may be held. */
static int
nothing_to_do(json_t *desired, const struct report *rep)
{
	json_int_t want = json_integer_value(json_object_get(desired, "version"));
	json_int_t back = json_integer_value(json_object_get(desired, "rollback_from"));
	unsigned i;

	if (desired == NULL || (back > 0 && back == rep->current))
		return desired == NULL;
	if (want <= rep->current)
		return 1;
	for (i = 0; i < rep->nrefusals; i++)
		if (rep->refusals[i].version == want)
			return 1; /* it refused that version: asking again changes nothing */
	return 0;
}

/* The check-in answer, written through the typed protocol the agent
 * parses (checkin_answer_encode): the rollout's desired object goes
 * through the same check as on the agent, so the server never sends what
 * its agents would refuse.  Takes desired and xlist. */
static void
answer_of(struct api *a, struct http_resp *r, int next_s, long long acked, json_t *desired,
	  json_t *xlist, long long xrev)
{
	struct checkin_answer ans;
	struct ward_diag d;

	memset(&ans, 0, sizeof(ans));
	/* jitter on a day's interval must not make an answer agents refuse */
	ans.next_checkin_s = next_s < CHECKIN_MAX_INTERVAL_S ? next_s : CHECKIN_MAX_INTERVAL_S;
	ans.events_acked = acked;
	ans.checkin_interval_s = (int64_t)a->cfg->checkin_interval_s;
	ans.events_batch_max = (int64_t)a->cfg->event_batch_max;
	if (desired != NULL) {
		if (download_target_parse(desired, &ans.desired, &d) != 0) {
			json_decref(desired);
			json_decref(xlist);
			http_error(r, 500, "the release's target: %s", d.msg);
			return;
		}
		ans.desired_state = CHECKIN_DESIRED_OK;
		json_decref(desired);
	}
	if (xlist != NULL)
		ans.exceptions =
		    json_pack("{s:I, s:o}", "revision", (json_int_t)xrev, "list", xlist);
	r->json = checkin_answer_encode(&ans);
	checkin_answer_free(&ans);
	if (r->json == NULL)
		http_error(r, 500, "out of memory");
}

/*
 * POST /api/v1/checkin.  With "wait_s", a long poll: when the agent has
 * nothing to do, the answer is held (no thread kept) until what it
 * should run changes or the time is up (at most checkin.interval_s, so
 * that silence is still seen in time), and it calls again at once.  The
 * fleet's exceptions go with the answer when the agent takes them and
 * reports another revision than the list's (and not that one refused).
 */
void
api_checkin(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	const struct who *w = &c->who;
	struct report rep;
	struct ward_diag d;
	char *text = NULL;
	long long acked = 0, wait_ms = 0, deliver = 0, xrev = 0;
	json_t *desired = NULL, *xlist = NULL;
	int rc, xsend = 0;

	if (report_parse(q->body, q->len, &rep, &d) != 0) {
		http_error(r, 400, "check-in report: %s", d.msg);
		return;
	}
	if (rep.wait_s > 0) {
		long long s = rep.wait_s < a->cfg->checkin_interval_s ? rep.wait_s
								      : a->cfg->checkin_interval_s;

		wait_ms =
		    s * 1000 * (100 - (long long)(rand() % (a->cfg->checkin_jitter_pct + 1))) / 100;
	}
	db_lock(a->db);
	if (!q->resumed) {
		text = json_dumps(rep.normal, JSON_COMPACT);
		rc = store_checkin(a->db, w->name, api_now(), text != NULL ? text : "{}",
				   rep.current, rep.mode, rep.journal_id, (wait_ms + 999) / 1000,
				   &acked, &d);
		if (rc == 0)
			rc = rollout_observe(a->db, w->name, &rep, &d);
	} else {
		/* Held: it may have been revoked meanwhile (which woke it). */
		int revoked = 0;

		rc = store_agent_held(a->db, w->name, rep.journal_id, &revoked, &acked, &d);
		if (rc == 0 && revoked) {
			db_unlock(a->db);
			report_free(&rep);
			http_error(r, 403, "this agent has been revoked");
			return;
		}
	}
	if (rc == 0)
		rc = rollout_desired(a->db, w->name, w->group, &desired, &deliver, &d);
	if (rc == 0 && rep.exceptions) {
		xrev = store_except_revision(a->db);
		xsend =
		    xrev >= 0 && xrev != rep.exceptions_revision && xrev != rep.exceptions_refused;
		if (xsend)
			rc = store_except_for(a->db, w->group, &xrev, &xlist, &d);
	}
	db_unlock(a->db);
	free(text);
	if (rc == 0 && wait_ms > 0 && (!q->resumed || q->remaining_ms > 0) &&
	    nothing_to_do(desired, &rep) && !xsend) {
		r->hold_ms = q->resumed ? q->remaining_ms : wait_ms;
		json_decref(desired);
		report_free(&rep);
		return;
	}
	report_free(&rep);
	if (rc == 0 && desired != NULL) {
		/* What the agent would refuse is not sent, nor counted as
		 * delivered (its silence would then count against the
		 * release), and the rest of the answer still goes. */
		struct download_target t;

		if (download_target_parse(desired, &t, &d) != 0) {
			log_info("agent %s: not offering release content it would refuse: %s",
				 w->name, d.msg);
			json_decref(desired);
			desired = NULL;
			deliver = 0;
		}
	}
	if (rc == 0 && deliver > 0) { /* this answer hands the agent a release's version */
		db_lock(a->db);
		rc = rollout_delivered(a->db, deliver, w->name, &d);
		db_unlock(a->db);
	}
	if (rc != 0) {
		json_decref(desired);
		json_decref(xlist);
		http_error(r, 500, "%s", d.msg);
		return;
	}
	answer_of(a, r, wait_ms > 0 ? 0 : next_checkin(a->cfg), acked, desired, xlist, xrev);
}

/* An event's text as stored: itself, or — past WARD_MAX_EVENT_BYTES — a
 * stub that says what it was and how large (nothing vanishes silently,
 * and the agent's journal is never stuck on one event). */
static char *
event_text(json_t *ev, const char *kind)
{
	char *text = json_dumps(ev, JSON_COMPACT);
	json_t *stub;
	size_t n;

	if (text == NULL || (n = strlen(text)) <= WARD_MAX_EVENT_BYTES)
		return text;
	free(text);
	stub = json_pack("{s:{s:s}, s:{s:{s:I, s:I}}}", "event", "kind", kind, "ward", "oversize",
			 "bytes", (json_int_t)n, "limit", (json_int_t)WARD_MAX_EVENT_BYTES);
	if (json_is_string(json_object_get(ev, "@timestamp")) &&
	    json_string_length(json_object_get(ev, "@timestamp")) < 40)
		json_object_set(stub, "@timestamp", json_object_get(ev, "@timestamp"));
	text = stub != NULL ? json_dumps(stub, JSON_COMPACT) : NULL;
	json_decref(stub);
	return text;
}

void
api_events(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	const struct who *w = &c->who;
	json_t *b, *arr, *e;
	long long *seqs = NULL, acked = 0;
	char **bodies = NULL;
	const char **kinds = NULL;
	const char *jid;
	struct ward_diag d;
	size_t i, n;
	int rc = 0, wait;

	/* What one agent may store: the bytes it sends, at a rate. */
	if ((wait = ratelimit_take(a->events_rate, w->name, (double)q->len, clock_mono())) > 0) {
		http_error(r, 429,
			   "this agent sends more events than events.agent_kb_per_minute allows: "
			   "try again in %d s (nothing is lost: it keeps them until then)",
			   wait);
		r->retry_after_s = wait;
		return;
	}
	if ((b = api_body_json(q, r)) == NULL)
		return;
	arr = json_object_get(b, "events");
	n = json_array_size(arr);
	jid = api_field(b, "journal_id", WARD_MAX_JOURNAL_ID);
	if (!json_is_array(arr) || n > a->cfg->event_batch_max || jid == NULL) {
		http_error(
		    r, 400,
		    "events needs \"journal_id\" (a string) and \"events\", a list of at most "
		    "%u {seq, event}",
		    a->cfg->event_batch_max);
		json_decref(b);
		return;
	}
	seqs = calloc(n + 1, sizeof(*seqs));
	bodies = calloc(n + 1, sizeof(*bodies));
	kinds = calloc(n + 1, sizeof(*kinds));
	for (i = 0; seqs != NULL && bodies != NULL && kinds != NULL && i < n; i++) {
		json_t *s;

		e = json_array_get(arr, i);
		s = json_object_get(e, "seq");
		if (!json_is_integer(s) || json_integer_value(s) <= 0 ||
		    !json_is_object(json_object_get(e, "event"))) {
			rc = 1;
			break;
		}
		seqs[i] = (long long)json_integer_value(s);
		kinds[i] = json_string_value(
		    json_object_get(json_object_get(json_object_get(e, "event"), "event"), "kind"));
		if (kinds[i] == NULL || strlen(kinds[i]) > 16)
			kinds[i] = "";
		bodies[i] = event_text(json_object_get(e, "event"), kinds[i]);
		if (bodies[i] == NULL) {
			rc = 1;
			break;
		}
	}
	if (seqs == NULL || bodies == NULL || kinds == NULL) {
		http_error(r, 500, "out of memory");
	} else if (rc != 0) {
		http_error(r, 400,
			   "events[%zu]: needs a positive integer \"seq\" and an object "
			   "\"event\"",
			   i);
	} else {
		db_lock(a->db);
		rc = store_events_commit(a->db, w->name, jid, seqs, (const char *const *)bodies,
					 kinds, n, api_now(), &acked, &d);
		db_unlock(a->db);
		if (rc != 0)
			http_error(r, 503, "not committed: %s", d.msg);
		else
			r->json = json_pack("{s:I, s:I}", "acked", (json_int_t)acked, "received",
					    (json_int_t)n);
	}
	for (i = 0; bodies != NULL && i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(kinds);
	free(seqs);
	json_decref(b);
}

/* GET /api/v1/bundles/SHA: for agents (and viewers), with Range. */
void
api_bundle_get(struct api *a, const struct http_req *q, struct http_resp *r, const struct call *c)
{
	const char *sha = c->arg;
	struct ward_diag d;
	char path[SCONF_MAX_PATH + 100];
	void *data = NULL;
	size_t len = 0;
	unsigned long long from = 0;
	struct stat st;
	struct db *db;
	int fd, rc;

	/* Served from a file cache of the database's copy. */
	snprintf(path, sizeof(path), "%s/bundles/%s.wbundle", a->cfg->data_dir, sha);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		db = api_reader(a);
		rc = store_bundle_get(db, sha, &data, &len, &d);
		api_reader_done(a, db);
		if (rc == WARD_EUNDEFINED) {
			http_error(r, 404, "no such bundle");
			return;
		}
		if (rc != 0) {
			http_error(r, 500, "%s", d.msg);
			return;
		}
		snprintf(path, sizeof(path), "%s/bundles", a->cfg->data_dir);
		(void)mkdir(path, 0700);
		snprintf(path, sizeof(path), "%s/bundles/%s.wbundle", a->cfg->data_dir, sha);
		if (file_replace(path, data, len, 0600, &d) != 0) {
			ward_free(data);
			http_error(r, 500, "%s", d.msg);
			return;
		}
		ward_free(data);
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			http_error(r, 500, "cannot read the bundle");
			return;
		}
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		http_error(r, 500, "cannot read the bundle");
		return;
	}
	if (q->range != NULL && (sscanf(q->range, "bytes=%llu-", &from) != 1 ||
				 from >= (unsigned long long)st.st_size)) {
		close(fd);
		http_error(r, 416, "range not satisfiable");
		return;
	}
	r->fd = fd;
	r->off = from;
	r->len = (uint64_t)st.st_size - from;
	r->total = (uint64_t)st.st_size;
	r->status = q->range != NULL ? 206 : 200;
}
